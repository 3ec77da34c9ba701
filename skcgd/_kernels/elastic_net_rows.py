"""Elastic-net coordinate descent on the rows of a wide design, warm-started along a path.

The Gram kernel (:mod:`skcgd._kernels.elastic_net`) costs ``O(p^2)`` per sweep after an
``O(n p^2)`` Gram matrix: right when there are more rows than columns. With more columns than
rows (a meta-learner on thousands of base models, a few hundred rows) this kernel works on
the rows instead: ``O(n p)`` per sweep, nothing of size ``p^2``. With the design centred (and
scaled) on the rows of the fit and the residual ``r = y - Z w`` kept up to date, it
minimises

    P(w) = 1/2 ||y - Z w||^2 + a1 ||w||_1 + a2/2 ||w||^2,

coordinate j moving to ``soft(z_j.r + h_j w_j, a1) / (h_j + a2)`` with ``h_j = ||z_j||^2``.
The Gram kernel's weighted objective, ``1/(2N) sum_i s_i (y_i - z_i.w)^2 + ...``, is this one
on the rows and the target multiplied by ``sqrt(s_i / N)``: the caller folds the weights
in, so that every inner loop is a plain dot product or ``axpy``. The design is passed
transposed (``Zt``, p x n, C order) so that a column is contiguous.

Active set and strong rules (as glmnet does): the coordinates that the sequential strong
rule keeps for a penalty are swept; then sweeps run over the non-zero ones only until they
settle, then the kept ones again. Along a decreasing path most coordinates stay at zero, so
most sweeps cost ``O(n |active|)``, and only the duality-gap checks visit every column
(``Z^T r``, which also brings back any screened-out coordinate that violates its optimality
condition). The
stopping rule is the Gram kernel's (and scikit-learn's): when a full sweep's largest move is
small against the largest coefficient, the duality gap is computed and compared with
``tol * ||y||^2``; only the sweeps over the kept coordinates count against ``max_iter``, as
full sweeps do in scikit-learn.
"""

import numpy as np

from skcgd._numba import njit_kernel

# reassociation and fused multiply-adds (nothing assumed about NaN or inf): the dot products
# vectorise only when their sums may be reordered (at 200 x 2000: 14.9 s -> 10.7 s)
_FAST = {"reassoc", "contract"}

# Copies of the Gram kernel's helpers (skcgd._kernels.elastic_net): Numba's cache index
# hashes only the file of the function it compiles, so a jitted helper imported from another
# kernel file would be served stale after an edit there (tests/kernels/test_kernel_rules.py).
_ANDERSON = 5


@njit_kernel(entry=False, fastmath=_FAST)
def _anderson_weights(buf):
    """Extrapolation weights c (summing to 1) for the iterates ``buf[1:]``; empty if singular.

    Solves (U U^T) z = 1, U[k] = buf[k + 1] - buf[k], by Gaussian elimination with partial
    pivoting; a pivot below 1e-14 times the largest diagonal entry means no extrapolation.
    """
    K = buf.shape[0] - 1
    p = buf.shape[1]
    C = np.zeros((K, K + 1))
    for a in range(K):
        for b in range(a, K):
            s = 0.0
            for j in range(p):
                s += (buf[a + 1, j] - buf[a, j]) * (buf[b + 1, j] - buf[b, j])
            C[a, b] = s
            C[b, a] = s
        C[a, K] = 1.0
    scale = 0.0
    for a in range(K):
        scale = max(scale, C[a, a])
    if not scale > 0.0:
        return np.zeros(0)
    for col in range(K):
        piv = col
        for r in range(col + 1, K):
            if abs(C[r, col]) > abs(C[piv, col]):
                piv = r
        if abs(C[piv, col]) <= 1e-14 * scale:
            return np.zeros(0)
        if piv != col:
            for k in range(K + 1):
                tmp = C[col, k]
                C[col, k] = C[piv, k]
                C[piv, k] = tmp
        for r in range(col + 1, K):
            f = C[r, col] / C[col, col]
            for k in range(col, K + 1):
                C[r, k] -= f * C[col, k]
    z = np.zeros(K)
    for r in range(K - 1, -1, -1):
        s = C[r, K]
        for k in range(r + 1, K):
            s -= C[r, k] * z[k]
        z[r] = s / C[r, r]
    total = 0.0
    for r in range(K):
        total += z[r]
    if total == 0.0 or not np.isfinite(total):
        return np.zeros(0)
    return z / total


@njit_kernel(entry=False, fastmath=_FAST)
def _cholesky_delete(L, m, k):
    """Remove row and column ``k`` from the factored matrix, in place, in ``O(m^2)``.

    With the factor partitioned around ``k``, the trailing block of the smaller matrix is
    ``L33 L33^T + l32 l32^T``: a rank-one update of ``L33`` by the column ``l32`` below the
    removed pivot, after which the rows and columns past ``k`` move up and left by one.
    """
    s = m - k - 1
    u = np.empty(s)
    for t in range(s):
        u[t] = L[k + 1 + t, k]
    for i in range(s):
        a = k + 1 + i
        r = np.sqrt(L[a, a] * L[a, a] + u[i] * u[i])
        cs = r / L[a, a]
        sn = u[i] / L[a, a]
        L[a, a] = r
        for t in range(i + 1, s):
            b = k + 1 + t
            L[b, a] = (L[b, a] + sn * u[t]) / cs
            u[t] = cs * u[t] - sn * L[b, a]
    for a in range(k, m - 1):
        for b in range(a + 1):
            L[a, b] = L[a + 1, b if b < k else b + 1]


# The face step. Coordinate descent crawls on a support wider than the rows (or on nearly
# collinear columns); with the support ``A`` and the signs fixed, the minimiser solves
# ``(Z_A^T Z_A + a2 I) x = Z_A^T y - a1 sign(w_A)`` (rows scaled by the square roots of the
# weights), and once the sweeps have found the support and signs it *is* the solution. As in
# the Gram kernel: step towards ``x``, stop where the first coefficient reaches zero, drop it,
# repeat. The matrix is factored once per step, in the cheaper of two forms:
#
# * primal (``m <= n``): ``m x m`` from the rows in ``O(n m^2)``; a dropped coefficient leaves
#   by the ``O(m^2)`` deletion update;
# * Woodbury (``m > n``, elastic net only): ``x = (b - Z_A^T K^(-1) Z_A b) / a2`` with
#   ``K = a2 I + Z_A Z_A^T`` (``n x n``, ``O(m n^2)``); a drop is the downdate ``K - z_j z_j^T``.
# The factors carry a relative jitter of 1e-12 (a collinear column still factors); two rounds
# of iterative refinement against the exact matrix (``O(n m)`` each) remove its effect.


@njit_kernel(entry=False, fastmath=_FAST)
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


@njit_kernel(entry=False, fastmath=_FAST)
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


@njit_kernel(entry=False, fastmath=_FAST)
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


@njit_kernel(entry=False, fastmath=_FAST)
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


@njit_kernel(entry=False, fastmath=_FAST)
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


@njit_kernel(entry=False, fastmath=_FAST)
def _pair(Zt, j, k):
    """``Zt[j] . Zt[k]``."""
    s = 0.0
    for i in range(Zt.shape[1]):
        s += Zt[j, i] * Zt[k, i]
    return s


@njit_kernel(entry=False, fastmath=_FAST)
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


@njit_kernel(entry=False, fastmath=_FAST)
def _pair_vec(Zt, j, x):
    """``Zt[j] . x``."""
    s = 0.0
    for i in range(Zt.shape[1]):
        s += Zt[j, i] * x[i]
    return s


@njit_kernel(entry=False, fastmath=_FAST)
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


@njit_kernel(entry=False, fastmath=_FAST)
def face_cost(n, m):
    """Flops of one factorization of the face's matrix (the cheaper form)."""
    if m <= n:
        return 0.5 * n * m * m + m * m * m / 3.0
    return 0.5 * m * n * n + n * n * n / 3.0


@njit_kernel(entry=False, fastmath=_FAST)
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
    h_max = 0.0
    for a in range(n_active):
        if out[a] != 0.0:
            j = active[a]
            idx[k] = j
            pos[k] = a
            b[k] = _pair_vec(Zt, j, y) - (a1 if out[a] > 0.0 else -a1)
            h_max = max(h_max, _pair(Zt, j, j))
            k += 1
    # the Woodbury form divides by a2: its rounding grows as ||Z_A||^2 / a2, beyond what the
    # refinement recovers once that passes 1e12 (and a2 near the underflow overflows); the
    # sweeps alone then finish the path
    if not primal and not a2 > 1e-12 * h_max:
        return False
    L, ok = _factor(Zt, a2, idx, m, primal)
    if not ok:
        return False
    u = np.empty(n)
    while m > 0:
        x = _solve(L, Zt, a2, idx, m, b, primal)
        for k in range(m):
            if not np.isfinite(x[k]):  # (overflow): no step from here
                return False
        t = 1.0
        hit = -1
        for k in range(m):
            cur = out[pos[k]]
            if x[k] * cur <= 0.0:
                d = cur - x[k]  # (0 only at the underflow: then stop at once)
                t_k = cur / d if d != 0.0 else 0.0
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


# full sweeps between two duality-gap checks when the moves alone do not call for one
_GAP_EVERY = 10


@njit_kernel(entry=False, fastmath=_FAST)
def _rows_duality_gap(Zt, y, w, r, a1, a2, noise, g):
    """Duality gap of the row-form elastic net at ``w`` (``r = y - Z w``); ``g = Z^T r``.

    The same formula as the Gram kernel's ``_enet_duality_gap``, from ``Z^T r`` instead of
    ``c - G w``. ``noise`` is the size of ``Z^T y``: below ``1e-12`` of it an L1 penalty
    cannot be told from zero. The correlations ``Z^T r`` are written to ``g`` (the
    screening of the next penalty and the check of the discarded coordinates read them).
    """
    p, n = Zt.shape
    r_norm2 = 0.0
    ry = 0.0
    for i in range(n):
        r_norm2 += r[i] * r[i]
        ry += r[i] * y[i]
    dual_norm = 0.0
    l1 = 0.0
    l2 = 0.0
    for j in range(p):
        g[j] = _dot(Zt, j, r, n)
        xta = abs(g[j] - a2 * w[j])
        if xta > dual_norm:
            dual_norm = xta
        l1 += abs(w[j])
        l2 += w[j] * w[j]
    if dual_norm > a1 + 1e-12 * noise:
        const = a1 / dual_norm
        gap = 0.5 * (r_norm2 + r_norm2 * const * const)
    else:
        const = 1.0
        gap = r_norm2
    return gap + a1 * l1 - const * ry + 0.5 * a2 * (1.0 + const * const) * l2


@njit_kernel(entry=False, fastmath=_FAST)
def _dot(Zt, j, x, n):
    """``Zt[j] . x`` with four partial sums (the loop's latency, not its flops, bounds a
    single running sum)."""
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    i = 0
    while i + 4 <= n:
        s0 += Zt[j, i] * x[i]
        s1 += Zt[j, i + 1] * x[i + 1]
        s2 += Zt[j, i + 2] * x[i + 2]
        s3 += Zt[j, i + 3] * x[i + 3]
        i += 4
    while i < n:
        s0 += Zt[j, i] * x[i]
        i += 1
    return (s0 + s1) + (s2 + s3)


@njit_kernel(entry=False, fastmath=_FAST)
def _residual(Zt, y, w, r):
    """``r = y - Z w`` computed afresh (in place)."""
    for i in range(y.shape[0]):
        r[i] = y[i]
    for j in range(w.shape[0]):
        if w[j] != 0.0:
            for i in range(y.shape[0]):
                r[i] -= Zt[j, i] * w[j]


@njit_kernel(entry=False, fastmath=_FAST)
def _sweep(Zt, h, w, r, a1, a2, idx, n_idx):
    """One coordinate sweep over ``idx[:n_idx]``; returns (largest move, largest |w_j|)."""
    n = Zt.shape[1]
    d_w_max = 0.0
    w_max = 0.0
    for a in range(n_idx):
        j = idx[a]
        denom = h[j] + a2
        if denom <= 0.0:
            continue
        old = w[j]
        rho = _dot(Zt, j, r, n) + h[j] * old
        if rho > a1:
            new = (rho - a1) / denom
        elif rho < -a1:
            new = (rho + a1) / denom
        else:
            new = 0.0
        delta = new - old
        if delta != 0.0:
            w[j] = new
            for i in range(n):
                r[i] -= Zt[j, i] * delta
        if abs(delta) > d_w_max:
            d_w_max = abs(delta)
        if abs(new) > w_max:
            w_max = abs(new)
    return d_w_max, w_max


@njit_kernel(entry=False, fastmath=_FAST)
def _objective(w, r, a1, a2, idx, n_idx):
    """P(w) given ``r = y - Z w``, for a ``w`` that is zero outside ``idx[:n_idx]``."""
    val = 0.0
    for i in range(r.shape[0]):
        val += 0.5 * r[i] * r[i]
    for a in range(n_idx):
        j = idx[a]
        val += a1 * abs(w[j]) + 0.5 * a2 * w[j] * w[j]
    return val


@njit_kernel(entry=False, fastmath=_FAST)
def _accept_if_lower(Zt, y, w, r, a1, a2, active, n_active, w_new, r_new):
    """Replace ``w`` on the active set by ``w_new`` (and ``r``) if that lowers P."""
    n = Zt.shape[1]
    for i in range(n):
        r_new[i] = y[i]
    for a in range(n_active):
        if w_new[a] != 0.0:
            j = active[a]
            for i in range(n):
                r_new[i] -= Zt[j, i] * w_new[a]
    cand = 0.0
    for i in range(n):
        cand += 0.5 * r_new[i] * r_new[i]
    for a in range(n_active):
        cand += a1 * abs(w_new[a]) + 0.5 * a2 * w_new[a] * w_new[a]
    if not cand < _objective(w, r, a1, a2, active, n_active):
        return False
    for a in range(n_active):
        w[active[a]] = w_new[a]
    for i in range(n):
        r[i] = r_new[i]
    return True


@njit_kernel(entry=False, fastmath=_FAST)
def _active_sweeps(Zt, y, h, w, r, a1, a2, active, n_active, tol, max_sweeps):
    """Sweeps over the active coordinates until their largest move is below ``tol`` of the
    largest coefficient; returns the number of sweeps.

    Every ``_ANDERSON`` sweeps two jumps are tried, each kept only when it lowers P (as in the
    Gram kernel): the minimiser on the current face
    (:func:`face_descent`), which lands on the solution once
    the sweeps have found the support and signs, however ill-conditioned (a support wider
    than the rows); else Anderson extrapolation of the last iterates. A face step costs a
    factorization (``O(m n^2)`` or ``O(n m^2)``), a sweep ``O(n m)``: the step is tried only
    once the sweeps of this phase have cost as much, so that it never more than doubles the
    work (on 13 rows it comes after a few sweeps; on hundreds, after hundreds).
    """
    n = Zt.shape[1]
    buf = np.empty((_ANDERSON + 1, n_active))
    n_buf = 0
    w_new = np.empty(n_active)
    r_new = np.empty(n)
    last = np.inf
    spent = 0.0
    for sweep in range(max_sweeps):
        d_act, w_act = _sweep(Zt, h, w, r, a1, a2, active, n_active)
        spent += 2.0 * n * n_active
        # (all zero: a coordinate at the edge of its threshold may flip between 0 and a
        # rounding-sized value for ever; the full sweep decides)
        if w_act == 0.0 or not (d_act > tol * w_act):
            return sweep + 1
        for a in range(n_active):
            buf[n_buf, a] = w[active[a]]
        n_buf += 1
        if n_buf < _ANDERSON + 1:
            continue
        n_buf = 0
        # a cycle of sweeps that did not lower P moves by rounding only (a tol below the
        # rounding of the residual's updates would keep them going for ever): the full
        # sweep and the gap decide
        current = _objective(w, r, a1, a2, active, n_active)
        if not current < last:
            return sweep + 1
        last = current
        if spent >= face_cost(n, n_active):
            spent = 0.0
            if face_descent(Zt, y, w, a1, a2, active, n_active, w_new):
                if _accept_if_lower(Zt, y, w, r, a1, a2, active, n_active, w_new, r_new):
                    # the minimiser of the face: a full sweep checks the other coordinates
                    return sweep + 1
        coef = _anderson_weights(buf)
        if coef.shape[0] != _ANDERSON:
            continue
        for a in range(n_active):
            s = 0.0
            for k in range(_ANDERSON):
                s += coef[k] * buf[k + 1, a]
            w_new[a] = s
        _accept_if_lower(Zt, y, w, r, a1, a2, active, n_active, w_new, r_new)
    return max_sweeps


@njit_kernel(fastmath=_FAST)
def _enet_rows_path(Zt, y, alphas, l1_ratio, w0, tol, max_iter):
    """Elastic-net solutions on the rows of a design along a path of penalties, warm-started.

    Parameters
    ----------
    Zt : ndarray of shape (p, n), float64
        The transposed design, centred (weighted) on its rows and each row multiplied by
        the square root of its weight over the total (not modified).
    y : ndarray of shape (n,), float64
        The centred target, multiplied by the same.
    alphas : ndarray of shape (n_alphas,), float64
        Penalties, solved in the given order (decreasing is the efficient order).
    l1_ratio : float
        Mix of the penalties, in (0, 1]; 1 is the Lasso.
    w0 : ndarray of shape (p,), float64
        Warm start for the first penalty (not modified).
    tol : float
        Stop when the duality gap is at most ``tol * ||y||^2``.
    max_iter : int
        Maximum number of full sweeps per penalty.

    Returns
    -------
    W : ndarray of shape (n_alphas, p)
    n_iter : ndarray of shape (n_alphas,), int64
        Full sweeps used per penalty.
    converged : ndarray of shape (n_alphas,), bool
    """
    p, n = Zt.shape
    n_alphas = alphas.shape[0]
    W = np.zeros((n_alphas, p))
    n_iter = np.zeros(n_alphas, dtype=np.int64)
    converged = np.zeros(n_alphas, dtype=np.bool_)
    h = np.zeros(p)
    noise = 0.0
    for j in range(p):
        h[j] = _dot(Zt, j, Zt[j], n)
        noise = max(noise, abs(_dot(Zt, j, y, n)))
    yy = 0.0
    for i in range(n):
        yy += y[i] * y[i]
    threshold = tol * yy if yy > 0.0 else tol
    w = w0.copy()
    r = np.empty(n)
    _residual(Zt, y, w, r)
    g = np.empty(p)  # Z^T r at the last gap check
    for j in range(p):
        g[j] = _dot(Zt, j, r, n)
    strong = np.empty(p, dtype=np.int64)
    in_strong = np.zeros(p, dtype=np.bool_)
    active = np.empty(p, dtype=np.int64)
    a1_prev = alphas[0] * l1_ratio if n_alphas else 0.0
    for a in range(n_alphas):
        a1 = alphas[a] * l1_ratio
        a2 = alphas[a] * (1.0 - l1_ratio)
        # sequential strong rule: a coordinate whose correlation with the residual of the
        # previous penalty is below 2 a1 - a1_prev is very likely zero at this one; the
        # sweeps skip those, and the gap check (which needs all of Z^T r anyway) brings
        # back any that violates its optimality condition
        n_strong = np.int64(0)  # (not a literal 0: helpers would compile for it too)
        cut = 2.0 * a1 - a1_prev
        for j in range(p):
            in_strong[j] = w[j] != 0.0 or abs(g[j]) >= cut
            if in_strong[j]:
                strong[n_strong] = j
                n_strong += 1
        a1_prev = a1
        it = 0
        while it < max_iter:
            it += 1
            d_w_max, w_max = _sweep(Zt, h, w, r, a1, a2, strong, n_strong)
            if not np.isfinite(d_w_max):
                break
            # sweeps over the non-zero coordinates until they settle; the gap is checked
            # right after them (along a warm-started path they usually end at the
            # solution, and the check is one pass where another sweep and a check are two),
            # else when a sweep moved little, and every _GAP_EVERY sweeps: a coordinate at
            # the edge of its threshold can flip between 0 and a rounding-sized value on
            # every sweep, which the relative-move test never accepts
            n_active = np.int64(0)
            for k in range(n_strong):
                if w[strong[k]] != 0.0:
                    active[n_active] = strong[k]
                    n_active += 1
            settled = False
            if 0 < n_active < n_strong:
                _active_sweeps(Zt, y, h, w, r, a1, a2, active, n_active, tol, max_iter)
                settled = True
            if (
                settled
                or w_max == 0.0
                or d_w_max <= tol * w_max
                or it % _GAP_EVERY == 0
                or it == max_iter
            ):
                # the residual afresh: its running updates drift by rounding, enough to
                # keep a gap of a tight tol out of reach
                _residual(Zt, y, w, r)
                gap = _rows_duality_gap(Zt, y, w, r, a1, a2, noise, g)
                if gap <= threshold:
                    converged[a] = True
                    break
                # the screened-out coordinates that violate their optimality condition
                for j in range(p):
                    if not in_strong[j] and abs(g[j]) > a1:
                        in_strong[j] = True
                        strong[n_strong] = j
                        n_strong += 1
        n_iter[a] = it
        for j in range(p):
            W[a, j] = w[j]
    return W, n_iter, converged
