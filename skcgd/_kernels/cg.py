"""Conjugate-gradient kernels: a dense and a CSR matrix, and the fused "row-Gram" operator.

The row-Gram operator is the system matrix of one competitive-gradient step,

    A = I + Dx G Dx,   G = sum_i hy_i (r_i kron xt_i)(r_i kron xt_i)^T,

where xt_i is row i of X (followed by a 1 when ``intercept`` is true), r_i is row i of R
(shape (n, K)), hy the (diagonal) step of the other player and Dx = diag(dx) the symmetric
square root of this player's step. With K = 1 and R = 1 it is I + eta_x eta_y B B^T for
B = X^T (the bilinear game); with r_i = dl_i/dz_i it is the logistic games' operator. One
product with A reads X once: the two products with the mixed Hessian (B^T v, then B w) are
fused row by row, and B B^T is never formed.

Entry points (each compiles only its own operator): ``_cg_solve_dense``, ``_cg_solve_csr``,
``_cg_solve_rowgram_dense``, ``_cg_solve_rowgram_csr`` and the row-Gram products
``_matvec_rowgram_dense``, ``_matvec_rowgram_csr``. Callers hand over the arrays these only
read (the matrix or X, R, hy, dx) as read-only views, so that a read-only X (a joblib memory
map) and a writable one share one compiled specialisation.

The CG loop is the textbook one with two safeguards: the tolerance is checked on the *true*
residual b - A x before convergence is reported (a nearly singular system can drive the
recursive residual down while x is garbage), and a non-positive curvature p^T A p stops the
loop with ``converged=False``.
"""

import math

import numpy as np

from skcgd._numba import njit_kernel

# Reassociation lets LLVM vectorise the row dot products (a serial floating-point sum is
# latency-bound, 1.5-2x slower than one pass over memory); "contract" allows fused
# multiply-adds. No "nnan"/"ninf": NaN and infinity checks keep their meaning.
_FAST = {"reassoc", "contract"}


@njit_kernel(entry=False, fastmath=_FAST)
def _dot(a, b):
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i] * b[i]
    return s


@njit_kernel(entry=False, fastmath=_FAST, inline="always")
def _matvec_dense(A, v, out):
    """out = A v for a dense square matrix, in place in ``out``."""
    n = A.shape[0]
    for i in range(n):
        s = 0.0
        for j in range(A.shape[1]):
            s += A[i, j] * v[j]
        out[i] = s


@njit_kernel(entry=False, fastmath=_FAST, inline="always")
def _matvec_csr(data, indices, indptr, v, out):
    """out = A v for a square CSR matrix, in place in ``out``."""
    n = indptr.shape[0] - 1
    for i in range(n):
        s = 0.0
        for jj in range(indptr[i], indptr[i + 1]):
            s += data[jj] * v[indices[jj]]
        out[i] = s


@njit_kernel(fastmath=_FAST)
def _matvec_rowgram_dense(X, R, hy, dx, intercept, v, out):
    """out = (I + Dx G Dx) v for the row-Gram operator with dense X, in place in ``out``.

    Parameters
    ----------
    X : ndarray of shape (n, p), C-contiguous
    R : ndarray of shape (n, K)
    hy : ndarray of shape (n,)
        Non-negative weights (the other player's diagonal step).
    dx : ndarray of shape (K * q,), q = p + intercept
    intercept : bool
    v, out : ndarray of shape (K * q,)
    """
    n, p = X.shape
    K = R.shape[1]
    q = p + (1 if intercept else 0)
    m = K * q
    u = np.empty(m)
    acc = np.zeros(m)
    for j in range(m):
        u[j] = dx[j] * v[j]
    if K == 1:
        # four rows per sweep: u and acc are read (and acc written) once for four rows, and
        # four independent dot products keep the FMA units busy; the loop is bound by those
        # L1 accesses, not by reading X, once X's rows are short (10-15% faster than two rows
        # per sweep, measured on 200000 x 100 and 20000 x 1000)
        i = 0
        while i + 3 < n:
            s0 = 0.0
            s1 = 0.0
            s2 = 0.0
            s3 = 0.0
            for j in range(p):
                uj = u[j]
                s0 += X[i, j] * uj
                s1 += X[i + 1, j] * uj
                s2 += X[i + 2, j] * uj
                s3 += X[i + 3, j] * uj
            if intercept:
                s0 += u[p]
                s1 += u[p]
                s2 += u[p]
                s3 += u[p]
            s0 *= hy[i] * R[i, 0] * R[i, 0]
            s1 *= hy[i + 1] * R[i + 1, 0] * R[i + 1, 0]
            s2 *= hy[i + 2] * R[i + 2, 0] * R[i + 2, 0]
            s3 *= hy[i + 3] * R[i + 3, 0] * R[i + 3, 0]
            for j in range(p):
                acc[j] += s0 * X[i, j] + s1 * X[i + 1, j] + s2 * X[i + 2, j] + s3 * X[i + 3, j]
            if intercept:
                acc[p] += s0 + s1 + s2 + s3
            i += 4
        while i < n:
            s = 0.0
            for j in range(p):
                s += X[i, j] * u[j]
            if intercept:
                s += u[p]
            s *= hy[i] * R[i, 0] * R[i, 0]
            for j in range(p):
                acc[j] += s * X[i, j]
            if intercept:
                acc[p] += s
            i += 1
    else:
        z = np.empty(K)
        for i in range(n):
            for k in range(K):
                s = 0.0
                off = k * q
                for j in range(p):
                    s += X[i, j] * u[off + j]
                if intercept:
                    s += u[off + p]
                z[k] = s
            s = 0.0
            for k in range(K):
                s += R[i, k] * z[k]
            s *= hy[i]
            if s != 0.0:
                for k in range(K):
                    c = s * R[i, k]
                    off = k * q
                    for j in range(p):
                        acc[off + j] += c * X[i, j]
                    if intercept:
                        acc[off + p] += c
    for j in range(m):
        out[j] = v[j] + dx[j] * acc[j]


@njit_kernel(fastmath=_FAST)
def _matvec_rowgram_csr(data, indices, indptr, p, R, hy, dx, intercept, v, out):
    """Sparse (CSR X with ``p`` columns) twin of :func:`_matvec_rowgram_dense`."""
    n = indptr.shape[0] - 1
    K = R.shape[1]
    q = p + (1 if intercept else 0)
    m = K * q
    u = np.empty(m)
    acc = np.zeros(m)
    for j in range(m):
        u[j] = dx[j] * v[j]
    z = np.empty(K)
    for i in range(n):
        start, end = indptr[i], indptr[i + 1]
        for k in range(K):
            off = k * q
            s = 0.0
            for jj in range(start, end):
                s += data[jj] * u[off + indices[jj]]
            if intercept:
                s += u[off + p]
            z[k] = s
        s = 0.0
        for k in range(K):
            s += R[i, k] * z[k]
        s *= hy[i]
        if s != 0.0:
            for k in range(K):
                c = s * R[i, k]
                off = k * q
                for jj in range(start, end):
                    acc[off + indices[jj]] += c * data[jj]
                if intercept:
                    acc[off + p] += c
    for j in range(m):
        out[j] = v[j] + dx[j] * acc[j]


DENSE, CSR, ROWGRAM_DENSE, ROWGRAM_CSR = 0, 1, 2, 3


# The operator kinds share one CG loop, inlined into one entry kernel per kind: ``kind`` is a
# constant there, so Numba prunes the other kinds' branches before typing, and an entry
# compiles (and loads from the cache) only its own operator. Arguments a kind does not read
# are passed as ``None``.
@njit_kernel(entry=False, inline="always")
def _apply_operator(kind, M, data, indices, indptr, p_cols, R, hy, dx, intercept, v, out):
    """out = A v for the operator ``kind``.

    ``M`` is the dense matrix (DENSE) or the dense X (ROWGRAM_DENSE); ``data, indices, indptr``
    the CSR matrix (CSR) or the CSR X with ``p_cols`` columns (ROWGRAM_CSR).
    """
    if kind == DENSE:
        _matvec_dense(M, v, out)
    elif kind == CSR:
        _matvec_csr(data, indices, indptr, v, out)
    elif kind == ROWGRAM_DENSE:
        _matvec_rowgram_dense(M, R, hy, dx, intercept, v, out)
    else:
        _matvec_rowgram_csr(data, indices, indptr, p_cols, R, hy, dx, intercept, v, out)


@njit_kernel(entry=False, inline="always")
def _cg_loop(
    kind, M, data, indices, indptr, p_cols, R, hy, dx, intercept, b, x0, tol, atol, max_iter
):
    """Solve A x = b by conjugate gradient for an SPD operator (see :func:`_apply_operator`).

    Stops when ||b - A x|| <= max(tol ||b||, atol), checked on the true residual.

    Returns
    -------
    x : ndarray of shape (m,)
    n_iter : int
        Number of products with A spent in iterations (0 when x0 already satisfies the
        tolerance or ``max_iter`` is 0).
    converged : bool
    """
    m = b.shape[0]
    x = x0.copy()
    Ap = np.empty(m)
    r = np.empty(m)
    threshold = max(tol * math.sqrt(_dot(b, b)), atol)
    cold = True
    for j in range(m):
        if x[j] != 0.0:
            cold = False
            break
    if cold:  # A 0 = 0: the residual is b, and a pass over the operator is saved
        for j in range(m):
            r[j] = b[j]
    else:
        _apply_operator(kind, M, data, indices, indptr, p_cols, R, hy, dx, intercept, x, Ap)
        for j in range(m):
            r[j] = b[j] - Ap[j]
    rr = _dot(r, r)
    bb = _dot(b, b)
    if rr > bb:  # a warm start worse than zero is dropped
        for j in range(m):
            x[j] = 0.0
            r[j] = b[j]
        rr = bb
    if not math.isfinite(rr):
        return x, 0, False
    if math.sqrt(rr) <= threshold:
        return x, 0, True
    p = r.copy()
    it = 0
    while it < max_iter:
        it += 1
        _apply_operator(kind, M, data, indices, indptr, p_cols, R, hy, dx, intercept, p, Ap)
        pAp = _dot(p, Ap)
        if not pAp > 0.0:  # not SPD (or NaN): CG has no meaning past this point
            return x, it, False
        alpha = rr / pAp
        for j in range(m):
            if not math.isfinite(x[j] + alpha * p[j]):
                # the solution is not representable (A nearly singular at the scale of b):
                # report non-convergence with the last finite iterate, not an inf or a NaN
                return x, it, False
        for j in range(m):
            x[j] += alpha * p[j]
            r[j] -= alpha * Ap[j]
        rr_new = _dot(r, r)
        if not math.isfinite(rr_new):
            return x, it, False
        if math.sqrt(rr_new) <= threshold:
            _apply_operator(kind, M, data, indices, indptr, p_cols, R, hy, dx, intercept, x, Ap)
            for j in range(m):
                r[j] = b[j] - Ap[j]
            rr_new = _dot(r, r)
            if math.sqrt(rr_new) <= threshold:
                return x, it, True
            if not math.isfinite(rr_new):
                return x, it, False
            # The recursive residual drifted from the true one (ill-conditioning):
            # restart from the true residual instead of reporting a false success.
            for j in range(m):
                p[j] = r[j]
            rr = rr_new
            continue
        beta = rr_new / rr
        for j in range(m):
            p[j] = r[j] + beta * p[j]
        rr = rr_new
    return x, it, False


@njit_kernel
def _cg_solve_dense(A, b, x0, tol, atol, max_iter):
    """CG on a dense SPD matrix ``A`` (m, m); returns ``(x, n_iter, converged)`` as
    :func:`_cg_loop`."""
    return _cg_loop(
        DENSE, A, None, None, None, 0, None, None, None, False, b, x0, tol, atol, max_iter
    )


@njit_kernel
def _cg_solve_csr(data, indices, indptr, b, x0, tol, atol, max_iter):
    """CG on a square SPD CSR matrix; returns ``(x, n_iter, converged)``."""
    return _cg_loop(
        CSR, None, data, indices, indptr, 0, None, None, None, False, b, x0, tol, atol, max_iter
    )


@njit_kernel
def _cg_solve_rowgram_dense(X, R, hy, dx, intercept, b, x0, tol, atol, max_iter):
    """CG on the row-Gram operator of a dense X; returns ``(x, n_iter, converged)``."""
    return _cg_loop(
        ROWGRAM_DENSE, X, None, None, None, 0, R, hy, dx, intercept, b, x0, tol, atol, max_iter
    )


@njit_kernel
def _cg_solve_rowgram_csr(
    data, indices, indptr, p, R, hy, dx, intercept, b, x0, tol, atol, max_iter
):
    """CG on the row-Gram operator of a CSR X with ``p`` columns; returns
    ``(x, n_iter, converged)``."""
    return _cg_loop(
        ROWGRAM_CSR,
        None,
        data,
        indices,
        indptr,
        p,
        R,
        hy,
        dx,
        intercept,
        b,
        x0,
        tol,
        atol,
        max_iter,
    )
