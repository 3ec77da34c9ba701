"""The face step of the row-form elastic net: the minimiser on the current support and signs.

Coordinate descent on a support wider than the rows (or on nearly collinear columns) crawls;
the minimiser of the elastic-net objective with the support ``A`` and the signs of the
coefficients fixed is a linear solve,

    (Z_A^T Z_A + a2 I) x = Z_A^T y - a1 sign(w_A)

(the rows carry the square roots of the weights, see :mod:`~skcgd._kernels.elastic_net_rows`),

and once the sweeps have found the support and the signs it *is* the solution. Used by
:mod:`skcgd._kernels.elastic_net_rows` as the Gram kernel uses its ``_support_solve``:
step towards ``x``; where a coefficient would change sign, stop where the first one reaches
zero, drop it and repeat. The matrix is factored once per step, in the cheaper of two forms:

* primal (``m <= n``): the ``m x m`` matrix, from the rows in ``O(n m^2)``; a dropped
  coefficient leaves it by the ``O(m^2)`` deletion update of the Gram kernel;
* Woodbury (``m > n``, elastic net only: the matrix is singular without ``a2``):
  ``x = (b - Z_A^T K^(-1) Z_A b) / a2`` with ``K = a2 I + Z_A Z_A^T``, an ``n x n``
  matrix formed in ``O(m n^2)``; a dropped coefficient ``j`` is the rank-one downdate
  ``K - z_j z_j^T``, ``O(n^2)``.

The factorizations carry a relative jitter of 1e-12 (a collinear column still factors): the
solution would be off by about that times the condition number, which the sweeps would undo
and the next step redo, for ever at a tight tol; two rounds of iterative refinement against
the exact matrix (``O(n m)`` each) remove it.
"""

import numpy as np

from skcgd._kernels.elastic_net_support import _cholesky_delete
from skcgd._numba import njit_kernel


@njit_kernel(entry=False)
def _row_dot(L, a, b, k):
    """``sum_{t < k} L[a, t] L[b, t]`` with four partial sums (the loop's latency, not its
    flops, bounds a single running sum)."""
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    t = 0
    while t + 4 <= k:
        s0 += L[a, t] * L[b, t]
        s1 += L[a, t + 1] * L[b, t + 1]
        s2 += L[a, t + 2] * L[b, t + 2]
        s3 += L[a, t + 3] * L[b, t + 3]
        t += 4
    while t < k:
        s0 += L[a, t] * L[b, t]
        t += 1
    return (s0 + s1) + (s2 + s3)


@njit_kernel(entry=False)
def _cholesky_solve(L, rhs, m):
    """``x`` with ``L L^T x = rhs`` (the ``m x m`` corner of ``L``)."""
    x = np.empty(m)
    for a in range(m):  # L z = rhs
        v = rhs[a]
        for t in range(a):
            v -= L[a, t] * x[t]
        x[a] = v / L[a, a]
    for a in range(m - 1, -1, -1):  # L^T x = z
        v = x[a]
        for k in range(a + 1, m):
            v -= L[k, a] * x[k]
        x[a] = v / L[a, a]
    return x


@njit_kernel(entry=False)
def _chol_factor(S):
    """Cholesky of the symmetric positive definite ``S`` in place (lower triangle), with a
    relative jitter of 1e-12 on the diagonal; False when a pivot is not positive."""
    m = S.shape[0]
    scale = 0.0
    for a in range(m):
        scale = max(scale, S[a, a])
    if m == 0 or not scale > 0.0:
        return False
    for a in range(m):
        S[a, a] += 1e-12 * scale
    for a in range(m):
        for b in range(a):
            S[a, b] = (S[a, b] - _row_dot(S, a, b, b)) / S[b, b]
        d = S[a, a] - _row_dot(S, a, a, a)
        if not d > 1e-14 * scale:
            return False
        S[a, a] = np.sqrt(d)
    return True


@njit_kernel(entry=False)
def _chol_downdate(L, x):
    """``L L^T - x x^T`` refactored in place (LINPACK's ``dchdd``); False if not positive."""
    n = x.shape[0]
    for k in range(n):
        d = L[k, k] * L[k, k] - x[k] * x[k]
        if not d > 0.0:
            return False
        r = np.sqrt(d)
        c = r / L[k, k]
        s = x[k] / L[k, k]
        L[k, k] = r
        for i in range(k + 1, n):
            L[i, k] = (L[i, k] - s * x[i]) / c
            x[i] = c * x[i] - s * L[i, k]
    return True


@njit_kernel(entry=False)
def _factor(Zt, a2, idx, m, primal):
    """The factor of the face's matrix (primal ``m x m``, or Woodbury's ``n x n`` ``K``)."""
    n = Zt.shape[1]
    if primal:
        L = np.empty((m, m))
        for a in range(m):
            for c in range(a + 1):
                L[a, c] = _pair(Zt, idx[a], idx[c])
            L[a, a] += a2
    else:
        L = np.zeros((n, n))
        for a in range(m):
            col = Zt[idx[a]]
            for i in range(n):
                zi = col[i]
                for k in range(i + 1):
                    L[i, k] += zi * col[k]
        for i in range(n):
            L[i, i] += a2
    return L, _chol_factor(L)


@njit_kernel(entry=False)
def _pair(Zt, j, k):
    """``Zt[j] . Zt[k]``."""
    s = 0.0
    for i in range(Zt.shape[1]):
        s += Zt[j, i] * Zt[k, i]
    return s


@njit_kernel(entry=False)
def _apply_inverse(L, Zt, a2, idx, m, rhs, primal):
    """The factored inverse of the face's matrix applied to ``rhs``."""
    if primal:
        return _cholesky_solve(L, rhs, m)
    n = Zt.shape[1]
    Mr = np.zeros(n)
    for a in range(m):
        for i in range(n):
            Mr[i] += Zt[idx[a], i] * rhs[a]
    z = _cholesky_solve(L, Mr, n)
    out = np.empty(m)
    for a in range(m):
        out[a] = (rhs[a] - _pair_vec(Zt, idx[a], z)) / a2
    return out


@njit_kernel(entry=False)
def _pair_vec(Zt, j, x):
    """``Zt[j] . x``."""
    s = 0.0
    for i in range(Zt.shape[1]):
        s += Zt[j, i] * x[i]
    return s


@njit_kernel(entry=False)
def _solve(L, Zt, a2, idx, m, b, primal):
    """``x`` with ``(Z_A^T Z_A + a2 I) x = b``: the factored solve, then two refinements."""
    n = Zt.shape[1]
    x = np.zeros(m)
    res = b[:m].copy()
    t = np.empty(n)
    for _ in range(3):
        dx = _apply_inverse(L, Zt, a2, idx, m, res, primal)
        for a in range(m):
            x[a] += dx[a]
        for i in range(n):  # the exact matrix: Z_A^T (Z_A x) + a2 x
            t[i] = 0.0
        for a in range(m):
            for i in range(n):
                t[i] += Zt[idx[a], i] * x[a]
        for a in range(m):
            res[a] = b[a] - _pair_vec(Zt, idx[a], t) - a2 * x[a]
    return x


@njit_kernel(entry=False)
def face_cost(n, m):
    """Flops of one factorization of the face's matrix (the cheaper form)."""
    if m <= n:
        return 0.5 * n * m * m + m * m * m / 3.0
    return 0.5 * m * n * n + n * n * n / 3.0


@njit_kernel(entry=False)
def face_descent(Zt, y, w, a1, a2, active, n_active, out):
    """Active-set descent from ``w`` (on ``active[:n_active]``) into ``out``.

    Returns False when no step was possible (empty support, a Lasso support wider than the
    rows, a failed factorization).
    """
    n = Zt.shape[1]
    m = np.int64(0)  # (not a literal 0: helpers would compile for it too)
    for a in range(n_active):
        out[a] = w[active[a]]
        if out[a] != 0.0:
            m += 1
    if m == 0:
        return False
    primal = m <= n
    if not primal and not a2 > 0.0:
        return False
    idx = np.empty(m, dtype=np.int64)
    pos = np.empty(m, dtype=np.int64)
    b = np.empty(m)
    k = 0
    for a in range(n_active):
        if out[a] != 0.0:
            j = active[a]
            idx[k] = j
            pos[k] = a
            b[k] = _pair_vec(Zt, j, y) - (a1 if out[a] > 0.0 else -a1)
            k += 1
    L, ok = _factor(Zt, a2, idx, m, primal)
    if not ok:
        return False
    u = np.empty(n)
    while m > 0:
        x = _solve(L, Zt, a2, idx, m, b, primal)
        t = 1.0
        hit = -1
        for k in range(m):
            cur = out[pos[k]]
            if x[k] * cur <= 0.0:
                t_k = cur / (cur - x[k])
                if t_k < t:
                    t = t_k
                    hit = k
        for k in range(m):
            cur = out[pos[k]]
            val = cur + t * (x[k] - cur)
            out[pos[k]] = val if (k != hit and val * cur > 0.0) else 0.0
        if hit < 0:
            break
        # drop every coefficient the step zeroed (the one hit, and any other at the same t)
        k = m - 1
        while k >= 0:
            if out[pos[k]] == 0.0:
                if primal:
                    _cholesky_delete(L, m, k)
                else:
                    for i in range(n):
                        u[i] = Zt[idx[k], i]
                    if not _chol_downdate(L, u):  # (rounding): refactor the rest
                        rest = np.empty(m - 1, dtype=np.int64)
                        for c in range(m - 1):
                            rest[c] = idx[c if c < k else c + 1]
                        L, ok = _factor(Zt, a2, rest, m - 1, primal)
                        if not ok:
                            return True
                for c in range(k, m - 1):
                    idx[c] = idx[c + 1]
                    pos[c] = pos[c + 1]
                    b[c] = b[c + 1]
                m -= 1
            k -= 1
    return True
