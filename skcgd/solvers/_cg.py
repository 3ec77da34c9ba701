"""Public conjugate gradient and the structured SPD operators the game solvers need."""

import numbers

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from skcgd._kernels.cg import CSR, DENSE, ROWGRAM_CSR, ROWGRAM_DENSE, _apply_operator, _cg_solve
from skcgd._registry import register_warm_up

__all__ = ["conjugate_gradient", "RowGramOperator", "CGDOperator"]

_NO_MATRIX = np.zeros((0, 0))
_NO_VECTOR = np.zeros(0)
_NO_INDEX = np.zeros(0, dtype=np.int32)
_NO_WEIGHTS = np.zeros((0, 1))


def _as_float_array(a, name, ndim):
    a = np.asarray(a)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric array, got dtype {a.dtype}.")
    a = np.ascontiguousarray(a, dtype=np.float64)
    if not a.flags.writeable:
        # a read-only array (a broadcast view, a memory map) is another Numba specialisation
        # of the kernels; these arrays are small (vectors, the system matrix): copy them
        a = a.copy()
    if a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got an array of shape {a.shape}.")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinity.")
    return a


def _as_csr(X, name="X"):
    X = sp.csr_matrix(X) if not sp.isspmatrix_csr(X) else X
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if not X.has_sorted_indices:
        X = X.sorted_indices()
    if not np.isfinite(X.data).all():
        raise ValueError(f"{name} contains NaN or infinity.")
    return X


def _diag(value, size, name):
    """Broadcast a scalar or a vector of non-negative numbers to a float64 vector of ``size``."""
    if isinstance(value, numbers.Real):
        out = np.full(size, float(value))
    else:
        out = _as_float_array(value, name, 1)
        if out.shape[0] != size:
            raise ValueError(f"{name} must have length {size}, got {out.shape[0]}.")
    if not np.isfinite(out).all() or (out < 0).any():
        raise ValueError(f"{name} must be finite and non-negative.")
    return out


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
        if sp.issparse(X) and not check_input and X.format == "csr":
            self._X = X
            self._kind = ROWGRAM_CSR
        elif sp.issparse(X):
            self._X = _as_csr(X)
            self._kind = ROWGRAM_CSR
        else:
            X = np.asarray(X)
            if X.dtype not in (np.float32, np.float64):
                X = X.astype(np.float64)
            self._X = np.ascontiguousarray(X)
            if self._X.ndim != 2:
                raise ValueError(f"X must be 2-dimensional, got shape {self._X.shape}.")
            if check_input and not np.isfinite(self._X).all():
                raise ValueError("X contains NaN or infinity.")
            self._kind = ROWGRAM_DENSE
        n, p = self._X.shape
        self.R = np.ones((n, 1)) if R is None else _as_float_array(R, "R", 2)
        if self.R.shape[0] != n:
            raise ValueError(f"R must have {n} rows (one per row of X), got {self.R.shape[0]}.")
        self.fit_intercept = bool(fit_intercept)
        q = p + int(self.fit_intercept)
        m = self.R.shape[1] * q
        self.hy = _diag(hy, n, "hy")
        self.dx = _diag(dx, m, "dx")
        self.shape = (m, m)
        self.dtype = np.dtype(np.float64)

    def _kernel_args(self):
        X = self._X
        if self._kind == ROWGRAM_DENSE:
            return (
                self._kind,
                X,
                _NO_VECTOR,
                _NO_INDEX,
                _NO_INDEX,
                X.shape[1],
                self.R,
                self.hy,
                self.dx,
                self.fit_intercept,
            )
        return (
            self._kind,
            _NO_MATRIX,
            X.data,
            X.indices,
            X.indptr,
            X.shape[1],
            self.R,
            self.hy,
            self.dx,
            self.fit_intercept,
        )

    def matvec(self, v):
        """Return ``A @ v``."""
        v = np.ascontiguousarray(v, dtype=np.float64)
        out = np.empty(self.shape[0])
        _apply_operator(*self._kernel_args(), v, out)
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


def _python_cg(matvec, b, x0, tol, atol, max_iter, precond=None, confirm=True):
    """The CG loop of :func:`skcgd._kernels.cg._cg_solve` for operators given as callables,
    optionally preconditioned (``precond(r)`` applies the inverse of the preconditioner).

    ``confirm=False`` trusts the recursive residual instead of confirming convergence on
    ``b - A x`` (one product less): for inexact inner solves whose result is checked
    otherwise, such as Newton directions followed by a line search."""
    x = x0.copy()
    threshold = max(tol * np.linalg.norm(b), atol)
    r = b - matvec(x) if x.any() else b.copy()  # A 0 = 0: no product needed
    if r @ r > b @ b:  # a warm start worse than zero is dropped
        x[:] = 0.0
        r = b.copy()
    rr = r @ r
    if not np.isfinite(rr):
        return x, 0, False
    if np.sqrt(rr) <= threshold:
        return x, 0, True
    z = r if precond is None else precond(r)
    rz = r @ z
    p = z.copy()
    it = 0
    while it < max_iter:
        it += 1
        Ap = matvec(p)
        pAp = p @ Ap
        if not pAp > 0.0 or not rz > 0.0:
            return x, it, False
        alpha = rz / pAp
        with np.errstate(over="ignore", invalid="ignore"):  # checked on the next line
            step = x + alpha * p
        if not np.isfinite(step).all():  # no representable solution: the last finite iterate
            return x, it, False
        x = step
        r -= alpha * Ap
        rr = r @ r
        if not np.isfinite(rr):
            return x, it, False
        if np.sqrt(rr) <= threshold:
            if not confirm:
                return x, it, True
            r = b - matvec(x)
            if np.sqrt(r @ r) <= threshold:
                return x, it, True
            if not np.isfinite(r @ r):
                return x, it, False
            z = r if precond is None else precond(r)  # drifted: restart from the true residual
            rz = r @ z
            p = z.copy()
            continue
        z = r if precond is None else precond(r)
        rz_new = r @ z
        p = z + (rz_new / rz) * p
        rz = rz_new
    return x, it, False


def conjugate_gradient(A, b, *, x0=None, tol=1e-6, atol=0.0, max_iter=None, M=None):
    r"""Solve ``A x = b`` for a symmetric positive definite ``A`` by conjugate gradient.

    Parameters
    ----------
    A : ndarray, sparse matrix, RowGramOperator, CGDOperator, LinearOperator or callable
        The SPD operator, of shape (m, m). Dense and CSR matrices and skcgd's structured
        operators run in a compiled loop; a :class:`scipy.sparse.linalg.LinearOperator` or a
        callable ``v -> A @ v`` runs in a Python loop.
    b : array-like of shape (m,)
        Right-hand side.
    x0 : array-like of shape (m,), default=None
        Warm start (zeros if None). The first residual is the true one, ``b - A x0``; a warm
        start whose residual is larger than ``||b||`` is replaced by zero.
    tol : float, default=1e-6
        Relative tolerance: stop when ``||b - A x|| <= max(tol * ||b||, atol)``.
    atol : float, default=0.0
        Absolute tolerance.
    max_iter : int, default=None
        Maximum number of iterations; ``None`` means ``10 * m``. Never capped at ``m``: in
        floating point CG can need more than ``m`` iterations on ill-conditioned systems.
    M : callable or LinearOperator, default=None
        Preconditioner: applies the inverse of an SPD approximation of ``A`` to a vector
        (preconditioned CG, in a Python loop). Convergence is still tested on ``b - A x``.

    Returns
    -------
    x : ndarray of shape (m,)
        The approximate solution.
    n_iter : int
        Iterations performed (products with ``A`` inside the loop).
    converged : bool
        Whether the tolerance was met on the true residual. ``False`` also when ``A`` turned
        out not to be positive definite along a search direction.

    Notes
    -----
    CG minimises :math:`\tfrac12 x^T A x - b^T x` over growing Krylov spaces; after ``k``
    iterations the A-norm error has shrunk by at least
    :math:`2((\sqrt\kappa - 1)/(\sqrt\kappa + 1))^k`, :math:`\kappa` the condition number.
    Convergence is always confirmed on the true residual, so a nearly singular system reports
    ``converged=False`` rather than a solution that only the recursive residual believes in.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.solvers import conjugate_gradient
    >>> A = np.array([[4.0, 1.0], [1.0, 3.0]])
    >>> x, n_iter, converged = conjugate_gradient(A, np.array([1.0, 2.0]), tol=1e-12)
    >>> np.round(x, 6), n_iter, converged
    (array([0.090909, 0.636364]), 2, True)
    """
    b = _as_float_array(b, "b", 1)
    m = b.shape[0]
    if tol < 0 or atol < 0:
        raise ValueError(f"tol and atol must be non-negative, got tol={tol}, atol={atol}.")
    if max_iter is None:
        max_iter = 10 * max(m, 1)
    if not isinstance(max_iter, numbers.Integral) or max_iter < 0:
        raise ValueError(f"max_iter must be a non-negative integer, got {max_iter!r}.")
    x0 = np.zeros(m) if x0 is None else _as_float_array(x0, "x0", 1).copy()
    if x0.shape[0] != m:
        raise ValueError(f"x0 has length {x0.shape[0]} but b has length {m}.")

    if M is not None:
        apply_M = M.matvec if isinstance(M, LinearOperator) else M
        if isinstance(A, (RowGramOperator, LinearOperator)):
            matvec = A.matvec
        elif callable(A) and not isinstance(A, np.ndarray):
            matvec = A
        else:
            A_checked = A if sp.issparse(A) else _as_float_array(A, "A", 2)
            if A_checked.shape != (m, m):
                raise ValueError(f"A must have shape ({m}, {m}) to match b, got {A.shape}.")

            def matvec(v):
                return A_checked @ v

        return _python_cg(
            matvec,
            b,
            x0,
            tol,
            atol,
            max_iter,
            lambda r: np.asarray(apply_M(r), dtype=np.float64).reshape(-1),
        )
    if isinstance(A, RowGramOperator):
        if A.shape[0] != m:
            raise ValueError(f"A has shape {A.shape} but b has length {m}.")
        args = A._kernel_args()
    elif sp.issparse(A):
        if A.shape != (m, m):
            raise ValueError(f"A must have shape ({m}, {m}) to match b, got {A.shape}.")
        A = _as_csr(A, "A").astype(np.float64)
        args = (
            CSR,
            _NO_MATRIX,
            A.data,
            A.indices,
            A.indptr,
            m,
            _NO_WEIGHTS,
            _NO_VECTOR,
            _NO_VECTOR,
            False,
        )
    elif isinstance(A, LinearOperator) or (callable(A) and not isinstance(A, np.ndarray)):
        matvec = A.matvec if isinstance(A, LinearOperator) else A
        if isinstance(A, LinearOperator) and A.shape != (m, m):
            raise ValueError(f"A must have shape ({m}, {m}) to match b, got {A.shape}.")

        def checked(v):
            out = np.asarray(matvec(v), dtype=np.float64).reshape(-1)
            if out.shape[0] != m:
                raise ValueError(f"A @ v returned length {out.shape[0]}, expected {m}.")
            return out

        return _python_cg(checked, b, x0, tol, atol, max_iter)
    else:
        A = _as_float_array(A, "A", 2)
        if A.shape != (m, m):
            raise ValueError(f"A must have shape ({m}, {m}) to match b, got {A.shape}.")
        args = (
            DENSE,
            A,
            _NO_VECTOR,
            _NO_INDEX,
            _NO_INDEX,
            m,
            _NO_WEIGHTS,
            _NO_VECTOR,
            _NO_VECTOR,
            False,
        )
    x, n_iter, converged = _cg_solve(*args, b, x0, float(tol), float(atol), int(max_iter))
    return x, int(n_iter), bool(converged)


@register_warm_up
def _warm_up():
    """Compile the CG kernels: dense and CSR matrices, row-Gram operators of every kind."""
    rng = np.random.default_rng(0)
    A = np.eye(3) + 0.1
    b = np.ones(3)
    conjugate_gradient(A, b)
    conjugate_gradient(sp.csr_matrix(A), b)
    for dtype in (np.float64, np.float32):
        X = rng.standard_normal((5, 3)).astype(dtype)
        for Xin in (X, sp.csr_matrix(X)):
            for K in (1, 2):
                op = RowGramOperator(Xin, np.ones((5, K)), hy=1.0, dx=1.0, fit_intercept=True)
                conjugate_gradient(op, np.ones(op.shape[0]))
                op.matvec(np.ones(op.shape[0]))
