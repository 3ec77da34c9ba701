"""The support step of the Gram elastic net, from a Cholesky factor kept between calls.

With the signs of the coefficients fixed on their support ``A``, the elastic-net objective
is a quadratic whose minimiser solves ``(G_AA + a2 I) x = c_A - a1 sign(w_A)``; once the
coordinate sweeps have found the support and the signs it is the solution, however
ill-conditioned ``G_AA`` (near-duplicate base models). The step (:func:`support_step`) moves
towards ``x``; where a coefficient would change sign it stops where the first one reaches
zero, drops it and repeats, P decreasing along every step.

Factoring ``G_AA`` costs ``O(m^3)``: 1000 coefficients, every few sweeps, were most of a
Lasso path on 1000 columns. Between two steps the support barely changes (along a
warm-started path it grows by a few coefficients per penalty, and for the Lasso ``a2 = 0``
the matrix is the same for every penalty), so the factor is kept between calls (by the
caller, as arrays) and brought to the new support by ``O(m^2)`` updates: a
coefficient that left is deleted (the rank-one update of LINPACK's ``dchud`` on the trailing
block), one that entered is appended (a triangular solve). A new ``a2`` (the elastic net's
next penalty) or many changes refactor from scratch, once the sweeps since the last
factorization have cost as much as one. The factor carries a relative jitter of
1e-12 on its diagonal (an exactly collinear column still factors); one round of iterative
refinement against the exact matrix (``O(m^2)``) removes its effect and the updates'
rounding from the solution.
"""

import numpy as np

from skcgd._numba import njit_kernel


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


@njit_kernel(entry=False)
def support_step(G, c, w, a1, a2, L, fidx, fpos, fm, fpar):
    """Active-set descent from ``w`` (see above); returns ``(point, L)``.

    The point is empty when no step was possible (or not yet worth a new factorization);
    ``L`` is the cache's factor array (grown if it had to be), to pass back next time with
    the rest of the state: ``fidx``/``fpos`` (factor position to coefficient and back),
    ``fm`` (its size) and ``fpar`` (its ``a2``, its jitter, and the flops of the sweeps
    since it was computed, which the caller adds). One function with the updates written
    out (only the deletion is a helper): every compiled helper adds to a cold start.
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
    removed = m - (nnz - added)
    if m == 0 or fpar[0] != a2 or removed + added > max(8, nnz // 4):
        # a factorization from scratch only once the sweeps since the last one have cost as
        # much (fpar[2] counts their flops): an elastic net's every penalty needs one (a2
        # changes), which on a wide support would cost more than the sweeps it saves
        if fpar[2] < nnz * nnz * nnz / 3.0:
            return np.zeros(0), L
        for k in range(m):
            fpos[fidx[k]] = -1
        fm[0] = 0
        m = 0
        scale = 0.0
        for j in range(p):
            if w[j] != 0.0:
                fidx[m] = j
                fpos[j] = m
                m += 1
                scale = max(scale, G[j, j] + a2)
        if L.shape[0] < m:
            L = np.empty((max(m, 2 * L.shape[0]), max(m, 2 * L.shape[0])))
        jitter = 1e-12 * scale
        ok = scale > 0.0
        for a in range(m):
            for b in range(a + 1):
                L[a, b] = G[fidx[a], fidx[b]]
            L[a, a] += a2 + jitter
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
        fpar[0] = a2
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
            d = G[j, j] + a2 + fpar[1] - s2
            if not d > 1e-14 * (G[j, j] + a2 + fpar[1]):
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
    while m > 0:
        # (G_AA + a2 I) x = rhs with the jittered factor, then one round of refinement
        for a in range(m):
            x[a] = 0.0
            res[a] = rhs[a]
        for _ in range(2):
            for a in range(m):  # L z = res, then L^T dx = z, in res
                v = res[a]
                for t in range(a):
                    v -= L[a, t] * res[t]
                res[a] = v / L[a, a]
            for a in range(m - 1, -1, -1):
                v = res[a]
                for t in range(a + 1, m):
                    v -= L[t, a] * res[t]
                res[a] = v / L[a, a]
            for a in range(m):
                x[a] += res[a]
            for a in range(m):
                v = rhs[a] - a2 * x[a]
                for b in range(m):
                    v -= G[fidx[a], fidx[b]] * x[b]
                res[a] = v
        t_step = 1.0
        hit = -1
        for a in range(m):
            v = cur[fidx[a]]
            if x[a] * v <= 0.0:
                t_a = v / (v - x[a])
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
