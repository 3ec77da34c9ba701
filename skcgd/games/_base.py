"""The game protocol: what a solver asks of a two-player game.

A zero-sum game ``min_x max_y f(x, y)`` (``zero_sum = True``) implements

=====================================  ======================================================
``n_x``, ``n_y``                       the players' dimensions ``m`` and ``n``
``value(x, y)``                        ``f(x, y)``
``grads(x, y)``                        ``(grad_x f, grad_y f)``, computed together
``mixed(x, y)``                        a :class:`MixedOperator` for ``B = D2_xy f`` (m, n) at
                                       the point: ``B @ v``, ``B.T @ u`` and the CGD solves
``curvature_x(x, y)``                  an upper bound on ``||D2_xx f(x, y)||_2``
``curvature_y(x, y)``                  an upper bound on ``||D2_yy f(x, y)||_2``
``domain_x``, ``domain_y``             ``"real"`` or ``"simplex"`` (where the player lives)
=====================================  ======================================================

A general-sum game (``zero_sum = False``; x minimises f, y minimises g) returns pairs instead:
``value -> (f, g)``, ``grads -> (grad_x f, grad_y g)``, ``mixed -> (D2_xy f, D2_yx g)`` as two
:class:`MixedOperator` objects of shapes (m, n) and (n, m), and the curvature bounds are those
of ``D2_xx f`` and ``D2_yy g``.

Games hold arrays and call kernels; they import nothing from scikit-learn.
"""

import numpy as np
import scipy.linalg
from scipy.sparse.linalg import LinearOperator

from skcgd.solvers._cg import conjugate_gradient

__all__ = ["BaseGame", "MixedOperator", "DenseMixedOperator"]


class MixedOperator:
    r"""The mixed Hessian ``B = D2_xy f`` of a game at one point, shape (m, n).

    Subclasses implement :meth:`matvec` and :meth:`rmatvec`; the CGD systems

    * ``side="x"``: :math:`(I + H_x^{1/2} B H_y B^T H_x^{1/2}) z = b` (size m),
    * ``side="y"``: :math:`(I + H_y^{1/2} B^T H_x B H_y^{1/2}) z = b` (size n),

    for positive diagonal steps ``hx`` (m,) and ``hy`` (n,) are solved here by conjugate
    gradient in a Python loop over the two products, or directly through :meth:`system_matrix`.
    Operators with structure override :meth:`solve` with a fused compiled kernel.

    Examples
    --------
    A mixed Hessian known only through its products, here ``B = diag(d)``:

    >>> import numpy as np
    >>> from skcgd.games import MixedOperator
    >>> class Diagonal(MixedOperator):
    ...     def __init__(self, d):
    ...         self.d = np.asarray(d, dtype=float)
    ...         self.shape = (self.d.size, self.d.size)
    ...     def matvec(self, v):
    ...         return self.d * v
    ...     def rmatvec(self, u):
    ...         return self.d * u
    >>> op = Diagonal([1.0, 2.0])
    >>> op.toarray()
    array([[1., 0.],
           [0., 2.]])
    >>> hx, hy = np.full(2, 0.5), np.full(2, 2.0)
    >>> op.system_matrix("x", hx, hy)     # I + Hx^1/2 B Hy B^T Hx^1/2
    array([[2., 0.],
           [0., 5.]])
    >>> z, n_iter, converged = op.solve("x", hx, hy, np.array([2.0, 5.0]), np.zeros(2),
    ...                                 1e-12, 0.0, 10)
    >>> z, n_iter, converged
    (array([1., 1.]), 2, True)
    >>> op.solve_direct("x", hx, hy, np.array([2.0, 5.0]))
    array([1., 1.])
    """

    shape = (0, 0)

    def matvec(self, v):
        """Return ``B @ v`` for ``v`` of shape (n,)."""
        raise NotImplementedError

    def rmatvec(self, u):
        """Return ``B.T @ u`` for ``u`` of shape (m,)."""
        raise NotImplementedError

    def toarray(self):
        """``B`` as a dense (m, n) array, from min(m, n) products."""
        m, n = self.shape
        if m == 0 or n == 0:
            return np.zeros((m, n))
        if m <= n:
            return np.column_stack([self.rmatvec(e) for e in np.eye(m)]).T
        return np.column_stack([self.matvec(e) for e in np.eye(n)])

    def system_matrix(self, side, hx, hy):
        """The dense SPD matrix of the CGD system on ``side`` ("x" or "y")."""
        B = self.toarray()
        if side == "x":
            S = np.sqrt(hx)[:, None] * B
            return np.eye(B.shape[0]) + (S * hy[None, :]) @ S.T
        S = np.sqrt(hy)[:, None] * B.T
        return np.eye(B.shape[1]) + (S * hx[None, :]) @ S.T

    def solve(self, side, hx, hy, rhs, z0, tol, atol, max_iter):
        """Solve the CGD system on ``side`` by CG. Returns ``(z, n_iter, converged)``."""
        sx, sy = np.sqrt(hx), np.sqrt(hy)
        if side == "x":

            def matvec(v):
                return v + sx * self.matvec(hy * self.rmatvec(sx * v))

            size = self.shape[0]
        else:

            def matvec(v):
                return v + sy * self.rmatvec(hx * self.matvec(sy * v))

            size = self.shape[1]
        op = LinearOperator((size, size), matvec=matvec, dtype=np.float64)
        return conjugate_gradient(op, rhs, x0=z0, tol=tol, atol=atol, max_iter=max_iter)

    def solve_direct(self, side, hx, hy, rhs):
        """Solve the CGD system on ``side`` by a Cholesky factorisation of the dense matrix.

        A system that overflowed, or whose identity part was rounded away next to a huge,
        rank-deficient ``eta_x eta_y B B^T`` (steps far too large for the interaction: the
        factorisation then fails), has no representable solution: the result is then NaN, and
        the solver's run stops with a :class:`~skcgd.exceptions.DivergenceError` that names
        the step sizes.
        """
        M = self.system_matrix(side, hx, hy)
        if not (np.isfinite(M).all() and np.isfinite(rhs).all()):
            return np.full(M.shape[0], np.nan)
        try:
            factor = scipy.linalg.cho_factor(M, lower=True)
        except np.linalg.LinAlgError:  # SPD in exact arithmetic, not in float64
            return np.full(M.shape[0], np.nan)
        return scipy.linalg.cho_solve(factor, rhs)


class DenseMixedOperator(MixedOperator):
    """A constant mixed Hessian given as a dense matrix; CGD solves use the fused CG kernel.

    What the games with a constant interaction (:class:`~skcgd.games.BilinearGame`,
    :class:`~skcgd.games.QuadraticGame`, :class:`~skcgd.games.GeneralSumQuadraticGame`)
    return from ``mixed``; return it from a game of your own whose ``B`` is a small dense
    matrix.

    Parameters
    ----------
    B : array-like of shape (m, n)
        The mixed Hessian :math:`D^2_{xy} f`, stored as a C-contiguous float64 copy.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.games import DenseMixedOperator
    >>> B = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 1.0]])
    >>> op = DenseMixedOperator(B)
    >>> op.shape, op.matvec(np.ones(3)), op.rmatvec(np.ones(2))
    ((2, 3), array([3., 2.]), array([1., 3., 1.]))
    >>> hx, hy = np.full(2, 0.5), np.full(3, 2.0)
    >>> z, n_iter, converged = op.solve("y", hx, hy, np.ones(3), np.zeros(3), 1e-12, 0.0, 50)
    >>> bool(np.allclose(op.system_matrix("y", hx, hy) @ z, 1.0)), n_iter, converged
    (True, 3, True)
    """

    def __init__(self, B):
        self.B = np.ascontiguousarray(B, dtype=np.float64)
        self._Bt = np.ascontiguousarray(self.B.T)
        self.shape = self.B.shape

    def matvec(self, v):
        return self.B @ v

    def rmatvec(self, u):
        return self._Bt @ u

    def toarray(self):
        return self.B.copy()

    def solve(self, side, hx, hy, rhs, z0, tol, atol, max_iter):
        from skcgd.solvers._cg import RowGramOperator

        if side == "x":  # B Hy B^T = sum_j hy_j b_j b_j^T over the columns of B (rows of B^T)
            op = RowGramOperator(self._Bt, hy=hy, dx=np.sqrt(hx))
        else:
            op = RowGramOperator(self.B, hy=hx, dx=np.sqrt(hy))
        return conjugate_gradient(op, rhs, x0=z0, tol=tol, atol=atol, max_iter=max_iter)


class BaseGame:
    """Base class of skcgd's games: the protocol the solvers play.

    Subclasses set ``n_x``, ``n_y`` and implement ``value``, ``grads``, ``mixed``,
    ``curvature_x`` and ``curvature_y``. The helpers below derive the rest. For a zero-sum
    game ``min_x max_y f(x, y)`` (``zero_sum = True``, the default):

    - ``n_x``, ``n_y``: the players' dimensions ``m`` and ``n``;
    - ``value(x, y)``: ``f(x, y)``;
    - ``grads(x, y)``: ``(grad_x f, grad_y f)``, computed together;
    - ``mixed(x, y)``: a :class:`MixedOperator` for ``B = D2_xy f`` (m, n) at the point
      (``B @ v``, ``B.T @ u`` and the CGD solves);
    - ``curvature_x(x, y)``, ``curvature_y(x, y)``: upper bounds on ``||D2_xx f||_2`` and
      ``||D2_yy f||_2`` (``eta="auto"`` steps by their inverses);
    - ``domain_x``, ``domain_y``: ``"real"`` (default) or ``"simplex"``.

    A general-sum game (``zero_sum = False``; x minimises f, y minimises g) returns pairs:
    ``value -> (f, g)``, ``grads -> (grad_x f, grad_y g)``, ``mixed -> (D2_xy f, D2_yx g)``
    as two :class:`MixedOperator` objects of shapes (m, n) and (n, m), and the curvature
    bounds are those of ``D2_xx f`` and ``D2_yy g``; play it with
    :class:`~skcgd.solvers.GeneralSumCGD`. :func:`~skcgd.solvers.check_game` reports what a
    game lacks.

    See Also
    --------
    skcgd.solvers.check_game : what a solver checks before playing a game.
    DenseMixedOperator : the mixed Hessian of a game with a constant dense interaction.

    Examples
    --------
    The game :math:`f(x, y) = x^T A y + \\|x\\|^2/2 - \\|y\\|^2/2`, whose equilibrium is 0:

    >>> import numpy as np
    >>> from skcgd.games import BaseGame, DenseMixedOperator
    >>> from skcgd.solvers import CGD
    >>> class Saddle(BaseGame):
    ...     def __init__(self, A):
    ...         self.A = np.asarray(A, dtype=float)
    ...         self.n_x, self.n_y = self.A.shape
    ...     def value(self, x, y):
    ...         return float(x @ self.A @ y + (x @ x - y @ y) / 2)
    ...     def grads(self, x, y):
    ...         return self.A @ y + x, self.A.T @ x - y
    ...     def mixed(self, x, y):
    ...         return DenseMixedOperator(self.A)
    ...     def curvature_x(self, x, y):
    ...         return 1.0
    ...     def curvature_y(self, x, y):
    ...         return 1.0
    >>> game = Saddle([[2.0, 0.0], [1.0, 3.0]])
    >>> game
    Saddle(n_x=2, n_y=2)
    >>> game.mixed_matvec(np.zeros(2), np.zeros(2), np.array([1.0, 0.0]))   # B @ v
    array([2., 1.])
    >>> result = CGD(eta=0.5, tol=1e-10).run(game, np.ones(2), np.ones(2))
    >>> result
    GameSolverResult(n_iter=24, converged=True, error=...)
    >>> bool(np.allclose(result.x, 0.0)), bool(np.allclose(result.y, 0.0))
    (True, True)
    """

    zero_sum = True
    domain_x = "real"
    domain_y = "real"

    def grad_x(self, x, y):
        """Gradient of f with respect to x."""
        return self.grads(x, y)[0]

    def grad_y(self, x, y):
        """Gradient of f (zero-sum) or g (general-sum) with respect to y."""
        return self.grads(x, y)[1]

    def mixed_matvec(self, x, y, v):
        """``B @ v`` with ``B = D2_xy f(x, y)``."""
        op = self.mixed(x, y)
        return (op[0] if isinstance(op, tuple) else op).matvec(v)

    def mixed_rmatvec(self, x, y, u):
        """``B.T @ u`` with ``B = D2_xy f(x, y)``."""
        op = self.mixed(x, y)
        return (op[0] if isinstance(op, tuple) else op).rmatvec(u)

    def __repr__(self):
        return f"{type(self).__name__}(n_x={self.n_x}, n_y={self.n_y})"
