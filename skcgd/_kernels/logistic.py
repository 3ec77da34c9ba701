"""Logistic-loss kernel of the reweighted logistic games.

The games split their work between BLAS and this module. Margins ``Z = X W^T`` and gradients
``G^T X`` are matrix products (NumPy BLAS for dense X, scipy.sparse for CSR); what is left is the
elementwise, numerically delicate part, done here in one fused pass over the margins: the
per-sample loss ``l_i`` and its derivative ``dl_i / dz_i``.

* Binary (``K == 1``), labels ``y_i`` in {-1, +1}: with the margin ``m_i = y_i z_i``,
  ``l_i = log(1 + exp(-m_i))`` and ``dl_i/dz_i = -y_i sigmoid(-m_i)``.
* Multinomial (``K >= 2``), labels ``y_i`` in {0, ..., K-1}:
  ``l_i = logsumexp(z_i) - z_{i, y_i}`` and ``dl_i/dz_ik = softmax(z_i)_k - [k == y_i]``.

Both stay finite and accurate for margins and logits of any size (+-1e4 and beyond): the
exponentials only ever see non-positive arguments, and a small loss is computed through
``log1p`` of the small terms, so it keeps its relative accuracy (``l = log1p(exp(-40))`` is
4.25e-18, not 0). Every entry is compiled for one signature only: float64 margins, int64 labels.
"""

import math

from skcgd._numba import njit_kernel


@njit_kernel(entry=False)
def _log1pexp(t):
    """``log(1 + exp(t))`` without overflow, accurate also when the result is tiny."""
    if t > 0.0:
        return t + math.log1p(math.exp(-t))
    return math.log1p(math.exp(t))


@njit_kernel(entry=False)
def _sigmoid(t):
    """``1 / (1 + exp(-t))`` without overflow."""
    if t >= 0.0:
        return 1.0 / (1.0 + math.exp(-t))
    e = math.exp(t)
    return e / (1.0 + e)


@njit_kernel
def _logistic_loss_deriv(Z, y, loss, G):
    """Per-sample logistic losses and their derivatives in the margins, in place.

    Parameters
    ----------
    Z : ndarray of shape (n, K), float64, C-contiguous
        Margins (``K == 1``, binary) or logits (``K >= 2``, multinomial).
    y : ndarray of shape (n,), int64
        Labels: -1 or +1 when ``K == 1``, class indices in ``0..K-1`` otherwise (not checked
        here: the games validate them once).
    loss : ndarray of shape (n,), float64
        Output, in place: ``l_i``.
    G : ndarray of shape (n, K), float64
        Output, in place: ``dl_i / dz_i``.
    """
    n, K = Z.shape
    if K == 1:
        for i in range(n):
            yi = 1.0 if y[i] > 0 else -1.0
            m = yi * Z[i, 0]
            loss[i] = _log1pexp(-m)
            G[i, 0] = -yi * _sigmoid(-m)
        return
    for i in range(n):
        # The largest logit contributes exp(0) = 1 exactly; T sums the others, so that
        # logsumexp(z) = M + log1p(T) and a near-zero loss keeps its relative accuracy.
        a = 0
        M = Z[i, 0]
        for k in range(1, K):
            if Z[i, k] > M:
                M = Z[i, k]
                a = k
        T = 0.0
        for k in range(K):
            if k != a:
                e = math.exp(Z[i, k] - M)
                G[i, k] = e
                T += e
        inv = 1.0 / (1.0 + T)
        for k in range(K):
            if k != a:
                G[i, k] *= inv
        G[i, a] = inv
        c = y[i]
        loss[i] = (M - Z[i, c]) + math.log1p(T)
        if c == a:
            G[i, c] = -T * inv  # softmax_a - 1 without cancellation
        else:
            G[i, c] -= 1.0


_FAST = {"reassoc", "contract"}  # vectorised row dot products; no "nnan": NaN checks hold


@njit_kernel(entry=False)
def _binary_loss_deriv(z, yi):
    """``(l, dl/dz)`` of the binary logistic loss at margin ``yi * z``, from one exponential."""
    m = yi * z
    e = math.exp(-abs(m))  # in (0, 1]: no overflow
    if m >= 0.0:
        return math.log1p(e), -yi * (e / (1.0 + e))
    return -m + math.log1p(e), -yi / (1.0 + e)


@njit_kernel(fastmath=_FAST)
def _logistic_binary_grad_dense(X, y, coef, b, c0, c1, intercept, loss, G, grad):
    """Binary losses, derivatives and the weighted gradient sum in one pass over dense X.

    For every row, the margin ``z_i = x_i . coef + b``, then ``l_i`` and ``G_i = dl_i/dz_i``
    as in :func:`_logistic_loss_deriv`, and ``grad += (c0_i + c1_i l_i) G_i [x_i, 1]``: the
    gradient of a sum of per-sample losses whose weights are affine in the loss (plain and
    chi-square reweighted logistic regression) without a second pass over X. Rows go in
    pairs: two independent dot products and losses keep the core busy, and ``grad`` is read
    and written once for both.

    Parameters
    ----------
    X : ndarray of shape (n, p), float64 or float32, C-contiguous
    y : ndarray of shape (n,), int64
        Labels in {-1, +1}.
    coef : ndarray of shape (p,), float64
    b : float
        Intercept (0 when there is none).
    c0, c1 : ndarray of shape (n,), float64
        The weight of sample ``i`` is ``c0_i + c1_i * l_i``.
    intercept : bool
        Whether ``grad`` has an intercept entry (its last one).
    loss, G : ndarray of shape (n,), float64
        Outputs, in place.
    grad : ndarray of shape (p + intercept,), float64
        Output, in place (overwritten).
    """
    n, p = X.shape
    for j in range(grad.shape[0]):
        grad[j] = 0.0
    gb = 0.0
    i = 0
    while i + 1 < n:
        z0 = b
        z1 = b
        for j in range(p):
            cj = coef[j]
            z0 += X[i, j] * cj
            z1 += X[i + 1, j] * cj
        l0, g0 = _binary_loss_deriv(z0, 1.0 if y[i] > 0 else -1.0)
        l1, g1 = _binary_loss_deriv(z1, 1.0 if y[i + 1] > 0 else -1.0)
        loss[i], G[i], loss[i + 1], G[i + 1] = l0, g0, l1, g1
        w0 = (c0[i] + c1[i] * l0) * g0
        w1 = (c0[i + 1] + c1[i + 1] * l1) * g1
        for j in range(p):
            grad[j] += w0 * X[i, j] + w1 * X[i + 1, j]
        gb += w0 + w1
        i += 2
    if i < n:
        z = b
        for j in range(p):
            z += X[i, j] * coef[j]
        li, gi = _binary_loss_deriv(z, 1.0 if y[i] > 0 else -1.0)
        loss[i], G[i] = li, gi
        w = (c0[i] + c1[i] * li) * gi
        for j in range(p):
            grad[j] += w * X[i, j]
        gb += w
    if intercept:
        grad[p] = gb


@njit_kernel(fastmath=_FAST)
def _logistic_binary_grad_csr(
    data, indices, indptr, p, y, coef, b, c0, c1, intercept, loss, G, grad
):
    """CSR twin of :func:`_logistic_binary_grad_dense` (``p`` columns)."""
    n = indptr.shape[0] - 1
    for j in range(grad.shape[0]):
        grad[j] = 0.0
    gb = 0.0
    for i in range(n):
        z = b
        for jj in range(indptr[i], indptr[i + 1]):
            z += data[jj] * coef[indices[jj]]
        li, gi = _binary_loss_deriv(z, 1.0 if y[i] > 0 else -1.0)
        loss[i] = li
        G[i] = gi
        w = (c0[i] + c1[i] * li) * gi
        if w != 0.0:
            for jj in range(indptr[i], indptr[i + 1]):
                grad[indices[jj]] += w * data[jj]
            gb += w
    if intercept:
        grad[p] = gb
