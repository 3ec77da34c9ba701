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

from skcgd._linalg import DenseMixedOperator, MixedOperator

__all__ = ["BaseGame", "MixedOperator", "DenseMixedOperator"]


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
