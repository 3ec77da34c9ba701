"""Gaussian naive Bayes kernels: one-pass class moments and the joint log-likelihood.

Fit reads X once, row by row, and keeps for every class c the weighted count, mean and sum of
squared deviations (``m2``) of every feature. Within a block of rows it runs West's weighted
Welford update,

    W <- W + w,   mu <- mu + (w / W) (x - mu),   m2 <- m2 + w (x - mu_old) (x - mu_new),

and at the end of the block it merges the block's moments into the running ones with the update
of Chan, Golub and LeVeque (a, b: the two groups, W = W_a + W_b, delta = mu_b - mu_a),

    mu = mu_a + delta W_b / W,   m2 = m2_a + m2_b + delta^2 W_a W_b / W.

The blocks bound the length of every Welford chain, so the rounding error grows like that of a
two-level (blocked) sum instead of a running one; no copy of X, no per-class pass. Moments are
accumulated in float64 whatever the dtype of X.

Prediction reads X once more and writes, for every row i and class c,

    jll[i, c] = offset[c] - 1/2 sum_j (x_ij - theta[c, j])^2 * prec[c, j],

with ``offset[c] = log prior_c - 1/2 sum_j log(2 pi var[c, j])`` and ``prec = 1 / var`` hoisted
out of the loop over samples by the caller. The reduction over features is compiled with the
``reassoc``/``contract`` fast-math flags only (3x faster here: the sum vectorises); ``nnan`` and
``ninf`` stay off, so NaN and infinity propagate and are detected.

Non-finite input is never checked element by element: a NaN or infinity in X (even on a row of
zero weight) propagates into the moments or the log-likelihoods, and the kernels report it (the
caller then names the problem).
"""

import math

import numpy as np

from skcgd._numba import njit_kernel

# Minimum number of rows per Welford block; blocks are also at least 8 rows per class, so the
# per-block merge costs at most 1/8 of the block's own work.
_MIN_BLOCK = 1024


@njit_kernel
def _nb_class_moments(X, y, sample_weight, n_classes):
    """Weighted per-class count, mean and sum of squared deviations in one pass over X.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float64 or float32, C-contiguous
        The samples (not modified).
    y : ndarray of shape (n_samples,), intp
        Class index of every sample, in ``[0, n_classes)``.
    sample_weight : ndarray of shape (n_samples,), float64
        Non-negative weights.
    n_classes : int
        Number of classes.

    Returns
    -------
    count : ndarray of shape (n_classes,), float64
        Sum of the weights of each class.
    mean : ndarray of shape (n_classes, n_features), float64
        Weighted mean of each feature in each class (0 for a class of zero weight).
    m2 : ndarray of shape (n_classes, n_features), float64
        Weighted sum of squared deviations from the class mean. NaN or infinity anywhere in the
        three outputs means X held a non-finite value (or overflowed float64).
    """
    n, d = X.shape
    count = np.zeros(n_classes)
    mean = np.zeros((n_classes, d))
    m2 = np.zeros((n_classes, d))
    b_count = np.zeros(n_classes)
    b_mean = np.zeros((n_classes, d))
    b_m2 = np.zeros((n_classes, d))
    touched = np.zeros(n_classes, dtype=np.bool_)
    block = max(_MIN_BLOCK, 8 * n_classes)
    for start in range(0, n, block):
        stop = min(start + block, n)
        for i in range(start, stop):
            c = y[i]
            w = sample_weight[i]
            if not touched[c]:
                touched[c] = True
                b_count[c] = 0.0
                b_mean[c, :] = 0.0
                b_m2[c, :] = 0.0
            total = b_count[c] + w
            # r = 0 for a zero weight: the row changes nothing, but a NaN in it still
            # propagates (NaN * 0 = NaN), so bad rows are caught whatever their weight.
            r = w / total if total > 0.0 else 0.0
            b_count[c] = total
            for j in range(d):
                x = np.float64(X[i, j])
                delta = x - b_mean[c, j]
                b_mean[c, j] += delta * r
                b_m2[c, j] += w * delta * (x - b_mean[c, j])
        for c in range(n_classes):
            if touched[c]:
                touched[c] = False
                total = count[c] + b_count[c]
                r = b_count[c] / total if total > 0.0 else 0.0
                f = count[c] * r
                for j in range(d):
                    delta = b_mean[c, j] - mean[c, j]
                    mean[c, j] += delta * r
                    m2[c, j] += b_m2[c, j] + delta * delta * f
                count[c] = total
    return count, mean, m2


@njit_kernel(fastmath={"reassoc", "contract"})
def _nb_joint_log_likelihood(X, theta, prec, offset, output):
    """Gaussian joint log-likelihoods, or the posterior (log-)probabilities they give.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float64 or float32, C-contiguous
        The samples (not modified).
    theta : ndarray of shape (n_classes, n_features), float64
        Class means.
    prec : ndarray of shape (n_classes, n_features), float64
        Inverse variances ``1 / var``.
    offset : ndarray of shape (n_classes,), float64
        ``log prior - 1/2 sum_j log(2 pi var_j)`` per class; ``-inf`` marks a class that can
        never be predicted (zero prior or no training data) and skips its computation.
    output : int
        0: the joint log-likelihood ``log P(x, c)``; 1: the log-posterior ``log P(c | x)`` (the
        joint log-likelihood minus its row log-sum-exp); 2: the posterior ``P(c | x)``.

    Returns
    -------
    out : ndarray of shape (n_samples, n_classes), dtype of X
        The requested quantity, computed in float64 and rounded once to the dtype of X.
    finite : bool
        False if a row of X held a NaN or an infinity.
    """
    n, d = X.shape
    n_classes = theta.shape[0]
    out = np.empty((n, n_classes), dtype=X.dtype)
    row = np.empty(n_classes)
    finite = True
    for i in range(n):
        top = -np.inf
        for c in range(n_classes):
            if offset[c] == -np.inf:
                row[c] = -np.inf
                continue
            q = 0.0
            for j in range(d):
                t = X[i, j] - theta[c, j]
                q += t * t * prec[c, j]
            if not math.isfinite(q):
                finite = False
            row[c] = offset[c] - 0.5 * q
            top = max(top, row[c])
        if output == 0:
            for c in range(n_classes):
                out[i, c] = row[c]
        else:
            _posterior_row(row, top, output, out[i])
    return out, finite


@njit_kernel(entry=False)
def _posterior_row(row, top, output, out):
    """The log-posterior (``output`` 1) or posterior (2) of one sample, written into ``out``.

    Parameters
    ----------
    row : ndarray of shape (n_classes,), float64
        Joint log-likelihoods (``-inf`` for a class that can never be predicted).
    top : float
        ``max(row)``.
    output : int
        1 or 2, as in :func:`_nb_joint_log_likelihood`.
    out : ndarray of shape (n_classes,)
        Filled in place.

    Notes
    -----
    Every term is shifted by the maximum before the normaliser is added: ``row - (top +
    log(s))`` would round ``log(s)`` away once ``|top|`` exceeds ~1e16 (joint log-likelihoods
    of samples many standard deviations from every class) and give tied classes a
    probability of 1 each. Compiled without fast-math, which may reassociate the shift.
    """
    s = 0.0
    for c in range(row.shape[0]):
        s += math.exp(row[c] - top)  # exp(-inf) = 0 for the skipped classes
    log_s = math.log(s)
    for c in range(row.shape[0]):
        shifted = row[c] - top
        if output == 1:
            out[c] = shifted - log_s
        else:
            out[c] = math.exp(shifted) / s
