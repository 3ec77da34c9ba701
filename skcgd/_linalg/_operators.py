"""Linear operators of the competitive step: the mixed Hessian of a game and the SPD systems.

* :class:`MixedOperator` is the protocol of a game's mixed Hessian ``B = D2_xy f`` (products
  ``B v``, ``B^T u`` and the two CGD systems, by CG or Cholesky); :class:`DenseMixedOperator`
  holds a constant dense ``B``.
* :class:`RowGramOperator` is the SPD operator ``I + Dx (sum_i h_i (r_i kron xt_i)(...)^T) Dx``
  of one competitive step on a design matrix, applied by a fused kernel in one pass over X;
  :class:`CGDOperator` is its special case ``I + eta_x eta_y B B^T``.

This module sits below :mod:`skcgd.games` and :mod:`skcgd.solvers`, which both import it
(a game returns these operators; a solver solves with them); it imports neither.
"""

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from skcgd._linalg._cg import conjugate_gradient
from skcgd._registry import register_warm_up
from skcgd._validation import (
    as_aligned,
    as_csr,
    as_float_array,
    check_data,
    check_diagonal,
    check_vector,
    readonly,
)

__all__ = ["MixedOperator", "DenseMixedOperator", "RowGramOperator", "CGDOperator"]


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
        if M.shape[0] == 0:  # a player without variables (scipy < 1.14 refuses 0 x 0)
            return np.zeros(0)
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
        B = np.asarray(B)
        if B.dtype.kind not in "biuf" or B.ndim != 2:
            raise ValueError(f"B must be a 2-D array of real numbers, got shape {B.shape}.")
        self.B = np.ascontiguousarray(B, dtype=np.float64)
        self._Bt = np.ascontiguousarray(self.B.T)
        self.shape = self.B.shape

    def matvec(self, v):
        return self.B @ check_vector(v, self.shape[1], "v")

    def rmatvec(self, u):
        return self._Bt @ check_vector(u, self.shape[0], "u")

    def toarray(self):
        return self.B.copy()

    def solve(self, side, hx, hy, rhs, z0, tol, atol, max_iter):
        if side == "x":  # B Hy B^T = sum_j hy_j b_j b_j^T over the columns of B (rows of B^T)
            op = RowGramOperator(self._Bt, hy=hy, dx=np.sqrt(hx))
        else:
            op = RowGramOperator(self.B, hy=hx, dx=np.sqrt(hy))
        return conjugate_gradient(op, rhs, x0=z0, tol=tol, atol=atol, max_iter=max_iter)


def _is_kernel_csr(X):
    return X.format == "csr" and X.dtype in (np.float32, np.float64) and X.has_sorted_indices


class RowGramOperator:
    r"""The SPD operator ``I + Dx G Dx`` of one competitive step, applied without forming G.

    .. math::

        A = I + D_x \Big(\sum_{i=1}^n h_i\, (r_i \otimes \tilde x_i)
                          (r_i \otimes \tilde x_i)^T\Big) D_x

    where :math:`\tilde x_i` is row ``i`` of ``X`` (followed by a 1 when ``fit_intercept``),
    :math:`r_i` row ``i`` of ``R`` and :math:`D_x = \mathrm{diag}(d_x)`. The unknown has length
    ``K * q`` with ``q = n_features + fit_intercept``, laid out as a (K, q) matrix in row-major
    order. One product with ``A`` reads ``X`` once.

    This is :math:`I + H_x^{1/2} B H_y B^T H_x^{1/2}` for a mixed Hessian ``B`` whose columns
    are :math:`r_i \otimes \tilde x_i` (the zero-sum CGD system with diagonal steps ``hy`` and
    ``dx**2``); with ``R = 1`` it is :math:`I + \eta_x \eta_y X^T X`.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n, p)
        Rows of the factor; CSR is used as is (never densified).
    R : ndarray of shape (n, K), default=None
        Row coefficients; ``None`` means ``K = 1`` and all ones.
    hy : float or ndarray of shape (n,), default=1.0
        Non-negative row weights.
    dx : float or ndarray of shape (K * q,), default=1.0
        Non-negative symmetric scaling.
    fit_intercept : bool, default=False
        Append a constant 1 to every row of ``X``.
    check_input : bool, default=True
        Check ``X`` for NaN and infinity (a pass over X). Callers that build an operator per
        step from data they validated once pass False.

    See Also
    --------
    CGDOperator : the special case ``I + eta_x * eta_y * B @ B.T`` of a dense or sparse B.
    conjugate_gradient : solves systems with it (by the fused kernel, one pass over X).

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> from skcgd.solvers import RowGramOperator, conjugate_gradient
    >>> X = np.array([[1.0, 0.0], [1.0, 2.0], [0.0, 1.0]])
    >>> op = RowGramOperator(X, hy=0.5, fit_intercept=True)   # I + 0.5 X~^T X~, X~ = [X, 1]
    >>> Xt = np.hstack([X, np.ones((3, 1))])
    >>> op.shape, bool(np.allclose(op.toarray(), np.eye(3) + 0.5 * Xt.T @ Xt))
    ((3, 3), True)
    >>> b = np.ones(3)
    >>> z, n_iter, converged = conjugate_gradient(op, b, tol=1e-12)
    >>> bool(np.allclose(op.matvec(z), b)), n_iter, converged
    (True, 3, True)
    >>> sparse = RowGramOperator(sp.csr_matrix(X), hy=0.5, fit_intercept=True)
    >>> bool(np.allclose(sparse.matvec(z), b))
    True

    With row coefficients ``R`` (K = 2) the unknown is a (2, 2) matrix, flattened:

    >>> R = np.array([[1.0, 0.0], [0.5, -1.0], [0.0, 2.0]])
    >>> op = RowGramOperator(X, R=R, hy=[1.0, 0.0, 2.0])
    >>> F = (R[:, :, None] * X[:, None, :]).reshape(3, 4)    # row i: r_i kron x_i
    >>> op.shape, bool(np.allclose(op.toarray(), np.eye(4) + F.T @ np.diag([1.0, 0.0, 2.0]) @ F))
    ((4, 4), True)
    """

    def __init__(self, X, R=None, hy=1.0, dx=1.0, fit_intercept=False, check_input=True):
        if check_input:
            self._X, _ = check_data(X)
        elif sp.issparse(X):  # validated by the caller: only the layout the kernel reads
            self._X = as_aligned(X) if _is_kernel_csr(X) else as_csr(X, check_finite=False)
        else:
            self._X = np.ascontiguousarray(X)
            if self._X.dtype not in (np.float32, np.float64) or self._X.ndim != 2:
                self._X, _ = check_data(X)
        n, p = self._X.shape
        self.R = np.ones((n, 1)) if R is None else as_float_array(R, "R", 2)
        if self.R.shape[0] != n:
            raise ValueError(f"R must have {n} rows (one per row of X), got {self.R.shape[0]}.")
        self.fit_intercept = bool(fit_intercept)
        q = p + int(self.fit_intercept)
        m = self.R.shape[1] * q
        self.hy = check_diagonal(hy, n, "hy")
        self.dx = check_diagonal(dx, m, "dx")
        self.shape = (m, m)
        self.dtype = np.dtype(np.float64)

    def _kernel_args(self):
        """The operator's arrays as its kernels read them (read-only: one specialisation)."""
        X = self._X
        weights = (readonly(self.R), readonly(self.hy), readonly(self.dx), self.fit_intercept)
        if sp.issparse(X):
            return (readonly(X.data), readonly(X.indices), readonly(X.indptr), X.shape[1], *weights)
        return (readonly(X), *weights)

    def _cg_kernel(self):
        """``(kernel, args)``: the compiled CG solve of this operator's kind and its arrays."""
        from skcgd._kernels.cg import _cg_solve_rowgram_csr, _cg_solve_rowgram_dense

        kernel = _cg_solve_rowgram_csr if sp.issparse(self._X) else _cg_solve_rowgram_dense
        return kernel, self._kernel_args()

    def matvec(self, v):
        """Return ``A @ v`` for ``v`` of shape (m,)."""
        from skcgd._kernels.cg import _matvec_rowgram_csr, _matvec_rowgram_dense

        # the kernel reads shape[0] entries of v: a shorter vector is refused here, by name;
        # a writeable copy, as the CG kernel passes its own vectors (one specialisation)
        v = np.array(check_vector(v, self.shape[0], "v"), order="C")
        out = np.empty(self.shape[0])
        kernel = _matvec_rowgram_csr if sp.issparse(self._X) else _matvec_rowgram_dense
        kernel(*self._kernel_args(), v, out)
        return out

    def __matmul__(self, v):
        return self.matvec(v)

    def toarray(self):
        """The operator as a dense (m, m) array (for tests and small direct solves)."""
        X = self._X.toarray() if sp.issparse(self._X) else np.asarray(self._X, dtype=np.float64)
        if self.fit_intercept:
            X = np.hstack([X, np.ones((X.shape[0], 1))])
        n, q = X.shape
        K = self.R.shape[1]
        # columns of the factor: r_i kron xt_i, scaled by sqrt(hy_i)
        F = (self.R[:, :, None] * X[:, None, :]).reshape(n, K * q) * np.sqrt(self.hy)[:, None]
        F = F * self.dx[None, :]
        return np.eye(K * q) + F.T @ F


class CGDOperator(RowGramOperator):
    r"""The zero-sum CGD system matrix ``I + eta_x * eta_y * B @ B.T`` of a mixed Hessian ``B``.

    Applied matrix-free with two products with ``B`` per application, fused into one pass
    over ``B`` (``B B^T`` is never formed).

    Parameters
    ----------
    B : {ndarray, sparse matrix} of shape (m, n)
        The mixed Hessian :math:`D^2_{xy} f`.
    eta_x, eta_y : float, default=1.0
        The players' step sizes.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.solvers import CGDOperator, conjugate_gradient
    >>> B = np.array([[1.0, 2.0], [0.0, 1.0], [1.0, 0.0]])
    >>> op = CGDOperator(B, eta_x=0.5, eta_y=2.0)
    >>> b = np.ones(3)
    >>> x, n_iter, converged = conjugate_gradient(op, b, tol=1e-12)
    >>> np.allclose((np.eye(3) + B @ B.T) @ x, b), converged
    (True, True)
    """

    def __init__(self, B, eta_x=1.0, eta_y=1.0):
        if eta_x < 0 or eta_y < 0:
            raise ValueError(f"Step sizes must be non-negative, got eta_x={eta_x}, eta_y={eta_y}.")
        # B B^T = sum_j b_j b_j^T over the columns b_j of B: the rows of B^T.
        Bt = B.T.tocsr() if sp.issparse(B) else np.ascontiguousarray(np.asarray(B).T)
        super().__init__(Bt, None, hy=float(eta_y), dx=float(np.sqrt(eta_x)))


@register_warm_up
def _warm_up_matrices():
    """Compile the CG kernels of dense and CSR matrices (float64: systems are converted)."""
    A = np.eye(3) + 0.1
    b = np.ones(3)
    conjugate_gradient(A, b)
    conjugate_gradient(sp.csr_matrix(A), b)


def _warm_up_row_gram(dtype):
    """The row-Gram CG solve and product for a dense and a CSR X of ``dtype``, K = 1 and 2."""
    X = np.random.default_rng(0).standard_normal((5, 3)).astype(dtype)
    for Xin in (X, sp.csr_matrix(X)):
        for K in (1, 2):
            op = RowGramOperator(Xin, np.ones((5, K)), hy=1.0, dx=1.0, fit_intercept=True)
            conjugate_gradient(op, np.ones(op.shape[0]))
            op.matvec(np.ones(op.shape[0]))


# one warm-up per data type: skcgd.utils.warm_up compiles them in parallel
@register_warm_up
def _warm_up_row_gram_float64():
    """Row-Gram kernels for float64 X."""
    _warm_up_row_gram(np.float64)


@register_warm_up
def _warm_up_row_gram_float32():
    """Row-Gram kernels for float32 X (kept float32 by the games)."""
    _warm_up_row_gram(np.float32)
