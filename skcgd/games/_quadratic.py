"""Games with constant second derivatives: bilinear, quadratic, general-sum quadratic."""

import numpy as np

from skcgd._linalg import DenseMixedOperator
from skcgd.games._base import BaseGame

__all__ = ["BilinearGame", "QuadraticGame", "GeneralSumQuadraticGame"]


# squares and products of entries (curvatures, B B^T in CGD's system, times step sizes)
# must stay well inside float64
_MAX_ENTRY = 1e100


def _matrix(A, name, shape=None, symmetric=False):
    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got shape {A.shape}.")
    if shape is not None and A.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {A.shape}.")
    if A.size == 0:
        raise ValueError(
            f"{name} is empty (shape {A.shape}): each player needs at least one variable."
        )
    if not np.isfinite(A).all():
        raise ValueError(f"{name} contains NaN or infinity.")
    if np.abs(A).max() > _MAX_ENTRY:
        raise ValueError(
            f"{name} has entries up to {np.abs(A).max():.3g}, too large (above "
            f"{_MAX_ENTRY:g}): the solvers' products of entries would overflow "
            "float64. Rescale the game (the saddle point scales with it)."
        )
    if symmetric:
        if A.shape[0] != A.shape[1] or not np.allclose(A, A.T, rtol=1e-12, atol=1e-12):
            raise ValueError(f"{name} must be a symmetric matrix.")
        if A.size and np.linalg.eigvalsh(A)[0] < -1e-12 * max(1.0, np.abs(A).max()):
            raise ValueError(f"{name} must be positive semi-definite.")
    return np.ascontiguousarray(A)


def _vector(v, size, name):
    if v is None:
        return np.zeros(size)
    v = np.asarray(v, dtype=np.float64).reshape(-1)
    if v.shape[0] != size:
        raise ValueError(f"{name} must have length {size}, got {v.shape[0]}.")
    if not np.isfinite(v).all():
        raise ValueError(f"{name} contains NaN or infinity.")
    if v.size and np.abs(v).max() > _MAX_ENTRY:
        raise ValueError(
            f"{name} has entries up to {np.abs(v).max():.3g}, too large (above "
            f"{_MAX_ENTRY:g}). Rescale the game."
        )
    return v


def _spectral_norm(A):
    return float(np.linalg.norm(A, 2)) if A.size else 0.0


class BilinearGame(BaseGame):
    r"""The bilinear zero-sum game :math:`\min_x \max_y\; x^T A y + b^T x + c^T y`.

    Parameters
    ----------
    A : array-like of shape (m, n)
        Interaction matrix (the constant mixed Hessian).
    b : array-like of shape (m,), default=None
        Linear term of the min player (zeros if None).
    c : array-like of shape (n,), default=None
        Linear term of the max player (zeros if None).
    simplex : bool, default=False
        If True both players choose mixed strategies on the probability simplex (a matrix
        game); play it with :class:`~skcgd.solvers.CompetitiveMirrorDescent`.

    Notes
    -----
    Neither player has own curvature (:math:`D^2_{xx} f = D^2_{yy} f = 0`), so simultaneous
    gradient descent-ascent spirals outwards for every step size, while CGD contracts each
    singular direction by :math:`(1 + \eta^2\sigma^2)^{-1/2}` per step. On R^n the saddle
    point is :math:`x^* = -A^{-T} c`, :math:`y^* = -A^{-1} b` for a square invertible ``A``.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.games import BilinearGame
    >>> game = BilinearGame(np.eye(2))
    >>> game.value(np.ones(2), np.ones(2))
    2.0
    >>> game.grads(np.ones(2), np.zeros(2))
    (array([0., 0.]), array([1., 1.]))
    """

    def __init__(self, A, b=None, c=None, *, simplex=False):
        self.A = _matrix(A, "A")
        self.n_x, self.n_y = self.A.shape
        self.b = _vector(b, self.n_x, "b")
        self.c = _vector(c, self.n_y, "c")
        self.simplex = bool(simplex)
        if self.simplex:
            self.domain_x = self.domain_y = "simplex"
        self._op = DenseMixedOperator(self.A)

    def value(self, x, y):
        """:math:`f(x, y) = x^T A y + b^T x + c^T y`."""
        return float(x @ self.A @ y + self.b @ x + self.c @ y)

    def grads(self, x, y):
        """``(A y + b, A^T x + c)``."""
        return self._op.matvec(y) + self.b, self._op.rmatvec(x) + self.c

    def mixed(self, x, y):
        """The constant mixed Hessian ``A``."""
        return self._op

    def curvature_x(self, x, y):
        """0: the min player has no own curvature."""
        return 0.0

    def curvature_y(self, x, y):
        """0: the max player has no own curvature."""
        return 0.0

    def duality_gap(self, x, y):
        r"""Duality gap of the mixed strategies ``x / sum(x)``, ``y / sum(y)`` (simplex games).

        :math:`\max_{y'} f(\hat x, y') - \min_{x'} f(x', \hat y) \ge 0`, zero exactly at a Nash
        equilibrium of the matrix game.
        """
        xh = np.asarray(x, dtype=float) / np.sum(x)
        yh = np.asarray(y, dtype=float) / np.sum(y)
        best_y = np.max(self.A.T @ xh + self.c) + self.b @ xh
        best_x = np.min(self.A @ yh + self.b) + self.c @ yh
        return float(best_y - best_x)


class QuadraticGame(BaseGame):
    r"""A convex-concave quadratic game with a closed-form saddle point.

    .. math::

        \min_x \max_y\; f(x, y) = \tfrac12 x^T P x + x^T B y - \tfrac12 y^T Q y + a^T x + b^T y

    Parameters
    ----------
    P : array-like of shape (m, m)
        Symmetric positive semi-definite curvature of the min player.
    B : array-like of shape (m, n)
        Interaction (the mixed Hessian).
    Q : array-like of shape (n, n)
        Symmetric positive semi-definite curvature of the max player.
    a : array-like of shape (m,), default=None
    b : array-like of shape (n,), default=None

    Notes
    -----
    The saddle point solves :math:`P x + B y + a = 0`, :math:`B^T x - Q y + b = 0`
    (:meth:`saddle_point`); it is unique when ``P`` and ``Q`` are positive definite. Each
    player's own-curvature bound is :math:`\|P\|_2` and :math:`\|Q\|_2`.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.games import QuadraticGame
    >>> game = QuadraticGame(np.eye(1), np.array([[2.0]]), np.eye(1), a=[1.0], b=[0.0])
    >>> x, y = game.saddle_point()
    >>> [bool(np.allclose(g, 0.0, atol=1e-12)) for g in game.grads(x, y)]
    [True, True]
    """

    def __init__(self, P, B, Q, a=None, b=None):
        self.B = _matrix(B, "B")
        self.n_x, self.n_y = self.B.shape
        self.P = _matrix(P, "P", (self.n_x, self.n_x), symmetric=True)
        self.Q = _matrix(Q, "Q", (self.n_y, self.n_y), symmetric=True)
        self.a = _vector(a, self.n_x, "a")
        self.b = _vector(b, self.n_y, "b")
        self._op = DenseMixedOperator(self.B)
        self._lx = _spectral_norm(self.P)
        self._ly = _spectral_norm(self.Q)

    def value(self, x, y):
        """The value f(x, y)."""
        return float(
            0.5 * x @ self.P @ x + x @ self.B @ y - 0.5 * y @ self.Q @ y + self.a @ x + self.b @ y
        )

    def grads(self, x, y):
        """``(P x + B y + a, B^T x - Q y + b)``."""
        return (self.P @ x + self._op.matvec(y) + self.a, self._op.rmatvec(x) - self.Q @ y + self.b)

    def mixed(self, x, y):
        """The constant mixed Hessian ``B``."""
        return self._op

    def curvature_x(self, x, y):
        """:math:`\\|P\\|_2`."""
        return self._lx

    def curvature_y(self, x, y):
        """:math:`\\|Q\\|_2`."""
        return self._ly

    def saddle_point(self):
        """The saddle point ``(x*, y*)`` from the block linear system."""
        m = self.n_x
        K = np.block([[self.P, self.B], [self.B.T, -self.Q]])
        z = np.linalg.solve(K, -np.concatenate([self.a, self.b]))
        return z[:m], z[m:]


class GeneralSumQuadraticGame(BaseGame):
    r"""A general-sum quadratic game: x minimises f, y minimises g.

    .. math::

        f(x, y) = \tfrac12 x^T P x + x^T B y + a^T x, \qquad
        g(x, y) = \tfrac12 y^T Q y + y^T C x + b^T y

    Parameters
    ----------
    P : array-like of shape (m, m)
        Symmetric positive semi-definite curvature of f in x.
    B : array-like of shape (m, n)
        :math:`D^2_{xy} f`.
    Q : array-like of shape (n, n)
        Symmetric positive semi-definite curvature of g in y.
    C : array-like of shape (n, m)
        :math:`D^2_{yx} g`. With ``C = -B.T`` (and ``Q`` negated) the game is zero-sum.
    a : array-like of shape (m,), default=None
    b : array-like of shape (n,), default=None

    Notes
    -----
    The Nash equilibrium solves :math:`P x + B y + a = 0`, :math:`C x + Q y + b = 0`
    (:meth:`nash_equilibrium`). The mixed Hessians of the two players differ, so the CGD
    system is not symmetric: play it with :class:`~skcgd.solvers.GeneralSumCGD`.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.games import GeneralSumQuadraticGame
    >>> game = GeneralSumQuadraticGame(np.eye(1), [[1.0]], np.eye(1), [[-0.5]], a=[1.0])
    >>> x, y = game.nash_equilibrium()
    >>> [np.round(g, 12) for g in game.grads(x, y)]
    [array([0.]), array([0.])]
    """

    zero_sum = False

    def __init__(self, P, B, Q, C, a=None, b=None):
        self.B = _matrix(B, "B")
        self.n_x, self.n_y = self.B.shape
        self.C = _matrix(C, "C", (self.n_y, self.n_x))
        self.P = _matrix(P, "P", (self.n_x, self.n_x), symmetric=True)
        self.Q = _matrix(Q, "Q", (self.n_y, self.n_y), symmetric=True)
        self.a = _vector(a, self.n_x, "a")
        self.b = _vector(b, self.n_y, "b")
        self._ops = (DenseMixedOperator(self.B), DenseMixedOperator(self.C))
        self._lx = _spectral_norm(self.P)
        self._ly = _spectral_norm(self.Q)

    def value(self, x, y):
        """The pair ``(f(x, y), g(x, y))``."""
        f = 0.5 * x @ self.P @ x + x @ self.B @ y + self.a @ x
        g = 0.5 * y @ self.Q @ y + y @ self.C @ x + self.b @ y
        return float(f), float(g)

    def grads(self, x, y):
        """``(grad_x f, grad_y g) = (P x + B y + a, Q y + C x + b)``."""
        return self.P @ x + self.B @ y + self.a, self.Q @ y + self.C @ x + self.b

    def mixed(self, x, y):
        """``(D2_xy f, D2_yx g) = (B, C)`` as operators."""
        return self._ops

    def curvature_x(self, x, y):
        """:math:`\\|P\\|_2`."""
        return self._lx

    def curvature_y(self, x, y):
        """:math:`\\|Q\\|_2`."""
        return self._ly

    def nash_equilibrium(self):
        """The Nash equilibrium ``(x*, y*)`` from the block linear system."""
        K = np.block([[self.P, self.B], [self.C, self.Q]])
        z = np.linalg.solve(K, -np.concatenate([self.a, self.b]))
        return z[: self.n_x], z[self.n_x :]
