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

from skcgd._kernels.elastic_net import _ANDERSON, _anderson_weights
from skcgd._kernels.elastic_net_face import face_cost, face_descent
from skcgd._numba import njit_kernel

# full sweeps between two duality-gap checks when the moves alone do not call for one
_GAP_EVERY = 10


@njit_kernel(entry=False)
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


@njit_kernel(entry=False)
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


@njit_kernel(entry=False)
def _residual(Zt, y, w, r):
    """``r = y - Z w`` computed afresh (in place)."""
    for i in range(y.shape[0]):
        r[i] = y[i]
    for j in range(w.shape[0]):
        if w[j] != 0.0:
            for i in range(y.shape[0]):
                r[i] -= Zt[j, i] * w[j]


@njit_kernel(entry=False)
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


@njit_kernel(entry=False)
def _objective(w, r, a1, a2, idx, n_idx):
    """P(w) given ``r = y - Z w``, for a ``w`` that is zero outside ``idx[:n_idx]``."""
    val = 0.0
    for i in range(r.shape[0]):
        val += 0.5 * r[i] * r[i]
    for a in range(n_idx):
        j = idx[a]
        val += a1 * abs(w[j]) + 0.5 * a2 * w[j] * w[j]
    return val


@njit_kernel(entry=False)
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


@njit_kernel(entry=False)
def _active_sweeps(Zt, y, h, w, r, a1, a2, active, n_active, tol, max_sweeps):
    """Sweeps over the active coordinates until their largest move is below ``tol`` of the
    largest coefficient; returns the number of sweeps.

    Every ``_ANDERSON`` sweeps two jumps are tried, each kept only when it lowers P (as in the
    Gram kernel): the minimiser on the current face
    (:func:`~skcgd._kernels.elastic_net_face.face_descent`), which lands on the solution once
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


@njit_kernel
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
