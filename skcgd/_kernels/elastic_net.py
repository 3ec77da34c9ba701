"""Elastic-net coordinate descent on a Gram matrix, warm-started along a path of penalties.

With a (weighted, centred) design Z, target y and weights s_i summing to N, the kernel
minimises

    P(w) = 1/(2N) sum_i s_i (y_i - z_i.w)^2 + a1 ||w||_1 + a2/2 ||w||^2
         = 1/2 w^T G w - c^T w + yy/2 + a1 ||w||_1 + a2/2 ||w||^2,

G = Z^T S Z / N, c = Z^T S y / N, yy = y^T S y / N: scikit-learn's ElasticNet objective with
a1 = alpha * l1_ratio and a2 = alpha * (1 - l1_ratio). Once G is formed (one pass over the
rows), a coordinate sweep costs O(p^2) whatever the number of rows: coordinate j moves to

    w_j = soft(c_j - (G w)_j + G_jj w_j, a1) / (G_jj + a2),

and q = G w is updated with column j of G. Along a decreasing alpha path each solution warm
starts the next. A sweep whose largest move is small relative to the largest coefficient
triggers the duality-gap test; the gap bounds P(w) - min P and is compared with tol * yy.

Compile time matters as much as run time here (the kernel is compiled on a user's first fit
of a stacking meta-learner): vectors are copied by explicit loops, because a NumPy slice
assignment compiles its shape-mismatch error message (unicode formatting: 1.6 s of a 5 s
compile), and ``G @ w`` is a loop rather than a BLAS call.

Stacking designs are nearly collinear (base models agree to a few percent, and the row mean of
the meta-features is an exact combination of the columns), where plain coordinate descent
crawls along a valley for thousands of sweeps at small penalties. Every ``_ANDERSON`` sweeps
the kernel therefore tries two jumps, kept only when they lower P:

* an active-set step: the minimiser on the current support and signs (a Cholesky solve of
  (G_AA + a2 I) w_A = c_A - a1 sign(w_A)), shrinking the support where a sign would flip;
  once coordinate descent has found the support this lands on the solution, however
  ill-conditioned G_AA is (near-duplicate base models);
* otherwise Anderson extrapolation of the last iterates (as skglm does): with U the matrix of
  successive differences, z = (U U^T)^-1 1 and c = z / sum(z), the candidate sum_k c_k w_k.
"""

import numpy as np

from skcgd._numba import njit_kernel

# iterates combined by one Anderson extrapolation
_ANDERSON = 5


@njit_kernel(entry=False)
def _enet_duality_gap(G, c, yy, w, q, a1, a2):
    """Duality gap of the Gram-form elastic net at ``w`` (``q = G w``), normalised by N."""
    p = w.shape[0]
    dual_norm = 0.0
    wq = 0.0
    cw = 0.0
    l1 = 0.0
    l2 = 0.0
    noise = 0.0
    for j in range(p):
        xta = c[j] - q[j] - a2 * w[j]
        if abs(xta) > dual_norm:
            dual_norm = abs(xta)
        noise = max(noise, abs(c[j]), abs(q[j]))
        wq += w[j] * q[j]
        cw += c[j] * w[j]
        l1 += abs(w[j])
        l2 += w[j] * w[j]
    r_norm2 = yy - 2.0 * cw + wq
    if r_norm2 < 0.0:
        r_norm2 = 0.0
    # X^T r is only known to rounding (~1e-12 of |c|); below that an L1 penalty a1 cannot be
    # told from zero, and rescaling the dual point by a1 / dual_norm would report a spurious gap
    if dual_norm > a1 + 1e-12 * noise:
        const = a1 / dual_norm
        gap = 0.5 * (r_norm2 + r_norm2 * const * const)
    else:
        const = 1.0
        gap = r_norm2
    gap += a1 * l1 - const * (yy - cw) + 0.5 * a2 * (1.0 + const * const) * l2
    return gap


@njit_kernel(entry=False)
def _enet_objective(c, yy, w, q, a1, a2):
    """P(w) of the Gram-form elastic net, given ``q = G w``."""
    val = 0.5 * yy
    for j in range(w.shape[0]):
        val += 0.5 * w[j] * q[j] - c[j] * w[j] + a1 * abs(w[j]) + 0.5 * a2 * w[j] * w[j]
    return val


@njit_kernel(entry=False)
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


# The support step (:func:`support_step`), kept in this file: Numba's cache index hashes only
# the file of the function it compiles, so a jitted helper must live beside its caller.
# The support step of the Gram elastic net, from a Cholesky factor kept between calls.
#
# With the signs of the coefficients fixed on their support ``A``, the elastic-net objective
# is a quadratic whose minimiser solves ``(G_AA + a2 I) x = c_A - a1 sign(w_A)``; once the
# coordinate sweeps have found the support and the signs it is the solution, however
# ill-conditioned ``G_AA`` (near-duplicate base models). The step (:func:`support_step`) moves
# towards ``x``; where a coefficient would change sign it stops where the first one reaches
# zero, drops it and repeats, P decreasing along every step.
#
# Factoring ``G_AA`` costs ``O(m^3)``: 1000 coefficients, every few sweeps, were most of a
# Lasso path on 1000 columns. Between two steps the support barely changes (along a
# warm-started path it grows by a few coefficients per penalty, and for the Lasso ``a2 = 0``
# the matrix is the same for every penalty), so the factor is kept between calls (by the
# caller, as arrays) and brought to the new support by ``O(m^2)`` updates: a
# coefficient that left is deleted (the rank-one update of LINPACK's ``dchud`` on the trailing
# block), one that entered is appended (a triangular solve). Many changes refactor from
# scratch, once the sweeps since the last factorization have cost as much as one.
#
# The elastic net's ``a2`` changes with every penalty of the path. The factor of
# ``G_AA + b I`` is kept for a nearby ``a2`` too: it preconditions conjugate gradients on
# ``(G_AA + a2 I) x = rhs``, whose preconditioned eigenvalues ``(l + a2) / (l + b)`` (``l`` an
# eigenvalue of ``G_AA``) lie between ``a2 / b`` and 1, so that with the two within
# ``_SHIFT_RATIO`` of each other CG gains about a digit every two ``O(m^2)`` iterations; a
# factorization (``O(m^3)``, at ``b = a2 / _SHIFT_RATIO``) then serves the penalties from
# ``a2`` down to ``b / _SHIFT_RATIO`` (five of the default grid's, 1.5 apart) instead of
# one, and a step is possible at every penalty instead of waiting for the sweeps to pay for
# a new factor. The factor carries a relative jitter of
# 1e-12 on its diagonal (an exactly collinear column still factors); CG runs against the
# exact matrix, so neither the jitter nor the updates' rounding reach the solution (for
# ``a2 = b`` it is iterative refinement, converged in two or three iterations).

# reassociation and fused multiply-adds (no assumption about NaN or inf): the O(m^2) and
# O(m^3) loops of the support step (the Cholesky rows, CG's products and triangular solves)
# are dot products that LLVM vectorises only when it may reorder the sums
_FAST = {"reassoc", "contract"}

# A step costs O(m^2) per CG iteration (about 15 of them, 4 m^2 flops each) or per solve with
# the lasso's own factor (three, same cost), against sweeps that cost p flops per moved
# coordinate: on a wide support, a step every few sweeps would take most of the time. A step
# is therefore tried only once the sweeps since the last one have cost as much as it will
# (``fpar[3]`` counts their flops), unless it is cheap outright (below _STEP_FREE flops: a
# small support keeps its step every _ANDERSON sweeps, so an ill-conditioned stacking design
# converges in as few sweeps as before). On 2000 x 1000 (benchmarks/bench_cv_engine.py's
# factor design, a 30-penalty path on 5 folds) this took the elastic net from 8.3 s to 4.4 s
# (l1_ratio 0.1) and 5.5 s to 4.0 s (0.5), the lasso from 2.7 s to 2.3 s.
_STEP_GATE = 64.0
_STEP_FREE = 1048576.0

# the largest ratio between the factor's shift and the penalty's a2 that CG bridges
_SHIFT_RATIO = 3.0


@njit_kernel(entry=False)
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


@njit_kernel(entry=False, fastmath=_FAST, inline="always")
def _factor_solve(L, res, z, m):
    """``z`` with ``L L^T z = res`` (the ``m x m`` corner of L, read by rows both ways)."""
    for a in range(m):
        v = res[a]
        for t in range(a):
            v -= L[a, t] * z[t]
        z[a] = v / L[a, a]
    for a in range(m - 1, -1, -1):
        z[a] /= L[a, a]
        v = z[a]
        for t in range(a):
            z[t] -= L[a, t] * v


@njit_kernel(entry=False, fastmath=_FAST, inline="always")
def _residual(GA, a2, rhs, x, res, m):
    """``res = rhs - (GA + a2 I) x``."""
    for a in range(m):
        v = rhs[a] - a2 * x[a]
        for b in range(m):
            v -= GA[a, b] * x[b]
        res[a] = v


@njit_kernel(entry=False, fastmath=_FAST)
def support_step(G, c, w, a1, a2, L, fidx, fpos, fm, fpar):
    """Active-set descent from ``w`` (see above); returns ``(point, L)``.

    The point is empty when no step was possible (or not yet worth a new factorization);
    ``L`` is the cache's factor array (grown if it had to be), to pass back next time with
    the rest of the state: ``fidx``/``fpos`` (factor position to coefficient and back),
    ``fm`` (its size) and ``fpar`` (its shift, its jitter, the flops of the sweeps since it
    was computed and since the last step, which the caller adds). One function with the
    updates written out (only the deletion is a helper): every compiled helper adds to a
    cold start.
    """
    p = w.shape[0]
    m = fm[0]
    nnz = 0
    added = 0
    for j in range(p):
        if w[j] != 0.0:
            nnz += 1
            if fpos[j] < 0:
                added += 1
    if nnz == 0:
        return np.zeros(0), L
    # (a step with the lasso's own factor is a quarter of one by CG)
    step_cost = (_STEP_GATE if fpar[0] != a2 else 0.25 * _STEP_GATE) * nnz * nnz
    if step_cost > _STEP_FREE and fpar[3] < step_cost:
        return np.zeros(0), L
    fpar[3] = 0.0
    removed = m - (nnz - added)
    b_shift = fpar[0]
    near = b_shift == a2 or (
        a2 > 0.0 and b_shift > 0.0 and max(a2, b_shift) <= _SHIFT_RATIO * min(a2, b_shift)
    )
    if m == 0 or not near or removed + added > max(8, nnz // 4):
        # a factorization from scratch only once the sweeps since the last one have cost as
        # much (fpar[2] counts their flops): an elastic net's every penalty needs one (a2
        # changes), which on a wide support would cost more than the sweeps it saves
        if fpar[2] < nnz * nnz * nnz / 3.0:
            return np.zeros(0), L
        for k in range(m):
            fpos[fidx[k]] = -1
        fm[0] = 0
        m = 0
        # the shift: a2 / _SHIFT_RATIO, so that along a decreasing path (the efficient
        # order) the factor serves the penalties from a2 down to a2 / _SHIFT_RATIO^2
        b_shift = a2 / _SHIFT_RATIO
        scale = 0.0
        for j in range(p):
            if w[j] != 0.0:
                fidx[m] = j
                fpos[j] = m
                m += 1
                scale = max(scale, G[j, j] + b_shift)
        if L.shape[0] < m:
            L = np.empty((max(m, 2 * L.shape[0]), max(m, 2 * L.shape[0])))
        jitter = 1e-12 * scale
        ok = scale > 0.0
        for a in range(m):
            for b in range(a + 1):
                L[a, b] = G[fidx[a], fidx[b]]
            L[a, a] += b_shift + jitter
        for a in range(m):  # Cholesky, lower triangle in place, row by row
            if not ok:
                break
            for b in range(a + 1):
                v = L[a, b]
                for t in range(b):
                    v -= L[a, t] * L[b, t]
                if b < a:
                    L[a, b] = v / L[b, b]
                elif v > 1e-14 * scale:
                    L[a, a] = np.sqrt(v)
                else:
                    ok = False
        if not ok:
            for k in range(m):
                fpos[fidx[k]] = -1
            return np.zeros(0), L
        fpar[0] = b_shift
        fpar[1] = jitter
        fpar[2] = 0.0
    else:
        for k in range(m - 1, -1, -1):  # the coefficients that left
            if w[fidx[k]] == 0.0:
                _cholesky_delete(L, m, k)
                fpos[fidx[k]] = -1
                for b in range(k, m - 1):
                    fidx[b] = fidx[b + 1]
                    fpos[fidx[b]] = b
                m -= 1
        if L.shape[0] < m + added:
            size = max(m + added, 2 * L.shape[0])
            bigger = np.empty((size, size))
            for a in range(m):
                for b in range(a + 1):
                    bigger[a, b] = L[a, b]
            L = bigger
        for j in range(p):  # the coefficients that entered, appended
            if w[j] == 0.0 or fpos[j] >= 0:
                continue
            # L[m, :m] solves L l = G[A, j]; then the new pivot
            s2 = 0.0
            for a in range(m):
                v = G[fidx[a], j]
                for t in range(a):
                    v -= L[a, t] * L[m, t]
                L[m, a] = v / L[a, a]
                s2 += L[m, a] * L[m, a]
            d = G[j, j] + fpar[0] + fpar[1] - s2
            if not d > 1e-14 * (G[j, j] + fpar[0] + fpar[1]):
                # rounding: drop the cache, the next step refactors
                for k in range(m):
                    fpos[fidx[k]] = -1
                fm[0] = 0
                return np.zeros(0), L
            L[m, m] = np.sqrt(d)
            fidx[m] = j
            fpos[j] = m
            m += 1
    fm[0] = m
    rhs = np.empty(m)
    for a in range(m):
        rhs[a] = c[fidx[a]] - (a1 if w[fidx[a]] > 0.0 else -a1)
    cur = w.copy()
    x = np.empty(m)
    res = np.empty(m)
    z = np.empty(m)
    pdir = np.empty(m)
    apdir = np.empty(m)
    GA = np.empty((m, m))
    while m > 0:
        # (G_AA + a2 I) x = rhs with the factor of G_AA + (b + jitter) I (see above). G_AA is
        # gathered once per support (the products then read it contiguously), and both
        # triangular solves read L by rows.
        for a in range(m):
            for b in range(m):
                GA[a, b] = G[fidx[a], fidx[b]]
        if fpar[0] == a2:
            # the factor is the matrix's own (the lasso: a2 = 0 at every penalty): solve
            # with it from zero, then one round of refinement against the exact matrix.
            # CG is not used here: on a singular G_AA (a column that is a combination of
            # others) it has nothing to converge to, and its iterates would drift along
            # the null space by rounding, so that the step would depend on the summation
            # order of G (a Dask fit against an in-memory one).
            for a in range(m):
                x[a] = 0.0
                res[a] = rhs[a]
            for _ in range(2):
                _factor_solve(L, res, z, m)
                for a in range(m):
                    x[a] += z[a]
                _residual(GA, a2, rhs, x, res, m)
        else:
            # conjugate gradients preconditioned by the factor, started from the current
            # point (the sweeps have brought it close: a few digits fewer for CG to gain)
            rhs_norm = 0.0
            for a in range(m):
                x[a] = cur[fidx[a]]
                rhs_norm += rhs[a] * rhs[a]
            _residual(GA, a2, rhs, x, res, m)
            rz = 0.0
            for it in range(60):
                _factor_solve(L, res, z, m)
                rz_new = 0.0
                for a in range(m):
                    rz_new += res[a] * z[a]
                if it == 0:
                    for a in range(m):
                        pdir[a] = z[a]
                else:
                    beta = rz_new / rz if rz > 0.0 else 0.0
                    for a in range(m):
                        pdir[a] = z[a] + beta * pdir[a]
                rz = rz_new
                dapdir = 0.0
                for a in range(m):
                    v = a2 * pdir[a]
                    for b in range(m):
                        v += GA[a, b] * pdir[b]
                    apdir[a] = v
                    dapdir += pdir[a] * v
                if not dapdir > 0.0:
                    break
                step = rz / dapdir
                r_norm = 0.0
                for a in range(m):
                    x[a] += step * pdir[a]
                    res[a] -= step * apdir[a]
                    r_norm += res[a] * res[a]
                if not r_norm > 1e-28 * rhs_norm:
                    break
        t_step = 1.0
        hit = -1
        for a in range(m):
            v = cur[fidx[a]]
            if x[a] * v <= 0.0:
                d = v - x[a]  # (0 only at the underflow: then stop at once)
                t_a = v / d if d != 0.0 else 0.0
                if t_a < t_step:
                    t_step = t_a
                    hit = a
        for a in range(m):
            v = cur[fidx[a]]
            new = v + t_step * (x[a] - v)
            cur[fidx[a]] = new if (a != hit and new * v > 0.0) else 0.0
        if hit < 0:
            break
        # drop every coefficient the step zeroed (the one hit, and any other at the same t)
        for a in range(m - 1, -1, -1):
            if cur[fidx[a]] == 0.0:
                _cholesky_delete(L, m, a)
                fpos[fidx[a]] = -1
                for b in range(a, m - 1):
                    fidx[b] = fidx[b + 1]
                    fpos[fidx[b]] = b
                    rhs[b] = rhs[b + 1]
                m -= 1
        fm[0] = m
    return cur, L


@njit_kernel(entry=False, inline="always")
def _gram_product(G, w):
    """``G @ w`` as a loop: small p, and no BLAS call to compile. By rows of the symmetric
    G scaled by the non-zero ``w_j`` (an extrapolated point is sparse at large penalties, and
    the inner loop is an ``axpy``, which LLVM vectorises without reordering a sum)."""
    p = w.shape[0]
    out = np.zeros(p)
    for j in range(p):
        wj = w[j]
        if wj != 0.0:
            for k in range(p):
                out[k] += G[j, k] * wj
    return out


@njit_kernel
def _enet_gram_path(G, c, yy, alphas, l1_ratio, w0, tol, max_iter):
    """Elastic-net solutions on a Gram matrix along a path of penalties, warm-started.

    Parameters
    ----------
    G : ndarray of shape (p, p), float64
        Normalised Gram matrix ``Z^T S Z / N`` of the centred design (not modified).
    c : ndarray of shape (p,), float64
        ``Z^T S y / N`` for the centred target.
    yy : float
        ``y^T S y / N`` for the centred target (scales the tolerance).
    alphas : ndarray of shape (n_alphas,), float64
        Penalties, solved in the given order (decreasing is the efficient order).
    l1_ratio : float
        Mix of the penalties, in (0, 1]; 1 is the Lasso.
    w0 : ndarray of shape (p,), float64
        Warm start for the first penalty (not modified).
    tol : float
        Stop when the duality gap is at most ``tol * yy``.
    max_iter : int
        Maximum number of sweeps per penalty.

    Returns
    -------
    W : ndarray of shape (n_alphas, p)
        The solution for every penalty.
    n_iter : ndarray of shape (n_alphas,), int64
        Sweeps used per penalty.
    converged : ndarray of shape (n_alphas,), bool
        Whether the gap test passed (False also when the iterate became non-finite).
    """
    p = G.shape[0]
    n_alphas = alphas.shape[0]
    W = np.zeros((n_alphas, p))
    n_iter = np.zeros(n_alphas, dtype=np.int64)
    converged = np.zeros(n_alphas, dtype=np.bool_)
    w = w0.copy()
    q = np.zeros(p)
    for j in range(p):
        if w[j] != 0.0:
            for k in range(p):
                q[k] += G[j, k] * w[j]
    threshold = tol * yy if yy > 0.0 else tol
    buf = np.zeros((_ANDERSON + 1, p))
    # the support step's Cholesky factor, kept between steps (see elastic_net_support)
    L = np.empty((0, 0))
    fidx = np.empty(p, dtype=np.int64)
    fpos = np.full(p, -1, dtype=np.int64)
    fm = np.zeros(1, dtype=np.int64)
    fpar = np.zeros(4)
    fpar[2] = np.inf  # (the first factorization is not held back)
    fpar[3] = np.inf
    for a in range(n_alphas):
        a1 = alphas[a] * l1_ratio
        a2 = alphas[a] * (1.0 - l1_ratio)
        it = 0
        n_buf = 0
        while it < max_iter:
            it += 1
            w_max = 0.0
            d_w_max = 0.0
            for j in range(p):
                denom = G[j, j] + a2
                if denom <= 0.0:
                    continue
                old = w[j]
                rho = c[j] - q[j] + G[j, j] * old
                if rho > a1:
                    new = (rho - a1) / denom
                elif rho < -a1:
                    new = (rho + a1) / denom
                else:
                    new = 0.0
                delta = new - old
                if delta != 0.0:
                    w[j] = new
                    for k in range(p):
                        q[k] += G[j, k] * delta
                    fpar[2] += p  # (the flops the support step's factor is weighed against)
                    fpar[3] += p
                if abs(delta) > d_w_max:
                    d_w_max = abs(delta)
                if abs(new) > w_max:
                    w_max = abs(new)
            if not np.isfinite(d_w_max):
                break
            for j in range(p):
                buf[n_buf, j] = w[j]
            n_buf += 1
            if n_buf == _ANDERSON + 1:
                n_buf = 0
                current = _enet_objective(c, yy, w, q, a1, a2)
                w_acc, L = support_step(G, c, w, a1, a2, L, fidx, fpos, fm, fpar)
                if w_acc.shape[0] == p:
                    q_acc = _gram_product(G, w_acc)
                    if _enet_objective(c, yy, w_acc, q_acc, a1, a2) < current:
                        for j in range(p):
                            w[j] = w_acc[j]
                            q[j] = q_acc[j]
                        continue
                coef = _anderson_weights(buf)
                if coef.shape[0] == _ANDERSON:
                    w_acc = np.zeros(p)
                    for k in range(_ANDERSON):
                        for j in range(p):
                            w_acc[j] += coef[k] * buf[k + 1, j]
                    q_acc = _gram_product(G, w_acc)
                    if _enet_objective(c, yy, w_acc, q_acc, a1, a2) < current:
                        for j in range(p):
                            w[j] = w_acc[j]
                            q[j] = q_acc[j]
            if w_max == 0.0 or d_w_max <= tol * w_max or it == max_iter:
                gap = _enet_duality_gap(G, c, yy, w, q, a1, a2)
                if gap <= threshold:
                    converged[a] = True
                    break
        n_iter[a] = it
        for j in range(p):
            W[a, j] = w[j]
    return W, n_iter, converged
