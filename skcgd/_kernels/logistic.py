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
