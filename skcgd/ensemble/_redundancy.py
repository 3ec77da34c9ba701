"""Stage 1 of the meta stage: redundancy-aware pruning of the base models.

Models are visited from the smallest out-of-fold error up; a model is dropped when an already
kept one has correlation ``>= corr_threshold`` with it *and* a mean squared difference
``<= mse_threshold`` times the target's variance; kept models whose variance is at most
``var_threshold`` times the target's are then dropped as near-constant. A model is a block of
``k`` consecutive columns (one for a regressor or a binary classifier, one per class for a
multiclass classifier); the block's covariances are the sums over its ``k`` outputs.

* Regressors compare predictions with predictions (:func:`prediction_moments` streams their
  moments over row blocks) and rank them by RMSE.
* Classifiers compare log-odds by correlation and probabilities by mean squared difference,
  against the variance of the class indicators, and rank models by log-loss
  (:func:`log_odds_inputs`).
"""

from typing import NamedTuple

import numpy as np

from skcgd._validation import readonly
from skcgd.ensemble._blending import weighted_log_loss
from skcgd.ensemble._design import in_memory, prediction_block, row_blocks

__all__ = [
    "PredictionMoments",
    "log_odds_inputs",
    "prediction_moments",
    "prediction_scatter",
    "prediction_sums",
    "redundancy_from_moments",
    "redundancy_projection",
    "weighted_moments",
]


def weighted_moments(Q, sw):
    """Weighted means and covariance matrix of the columns of a dense ``Q`` (n, q)."""
    N = sw.sum()
    mu = sw @ Q / N
    Qc = Q - mu
    C = (Qc * sw[:, None]).T @ Qc / N
    return mu, 0.5 * (C + C.T)


class PredictionMoments(NamedTuple):
    """Weighted moments of the target and of the prediction columns (stage 1's input)."""

    N: float  # sum of the weights
    ybar: float
    target_var: float  # sum_i s_i (y_i - ybar)^2 / N
    mean: np.ndarray  # (n_pred,)
    cov: np.ndarray  # (n_pred, n_pred): sum_i s_i (p_i - mean)(p_i - mean)^T / N
    sse: np.ndarray  # (n_pred,): sum_i s_i (p_ij - y_i)^2 per column
    n_rows: int = None  # rows of positive weight (bounds the rank of cov: at most n_rows - 1)


def _weighted_blocks(X, sw, n_pred):
    """The row blocks of X, each without its rows of zero weight (they add nothing).

    A fit on the training rows of a fold weighs its other rows 0: they are skipped rather
    than multiplied by 0, an ``O(n_pred^2)`` saving per row in :func:`prediction_scatter`.
    """
    for b in row_blocks(np.arange(X.shape[0]), n_pred):
        yield b[sw[b] > 0]


def prediction_sums(X, y, sw, n_pred):
    """``(sum s, sum s y, sum s p, rows with s > 0)`` over the rows of X (prediction columns),
    block by block."""
    cols = np.arange(n_pred)
    total = np.zeros(n_pred)
    for b in _weighted_blocks(X, sw, n_pred):
        total += sw[b] @ prediction_block(X, b, cols)
    return float(sw.sum()), float(sw @ y), total, int(np.count_nonzero(sw > 0))


def prediction_scatter(X, y, sw, n_pred, mean, ybar):
    """``(sum s (y - ybar)^2, sum s (p - mean)(p - mean)^T, sum s (p - y)^2)``, block by block.

    The scatter is ``A^T A`` with ``A = sqrt(s) (p - mean)``: the product of a matrix with
    its own transpose, which BLAS forms as a symmetric rank-k update (half the flops of a
    general product, and exactly symmetric, so no ``p x p`` copy symmetrises it).
    """
    cols = np.arange(n_pred)
    cov = None  # (the first block's product is the sum so far: no p x p zeros, no addition)
    sse = np.zeros(n_pred)
    for b in _weighted_blocks(X, sw, n_pred):
        P = prediction_block(X, b, cols)
        swb = sw[b]
        sse += swb @ (P - y[b, None]) ** 2
        P -= mean
        P *= np.sqrt(swb)[:, None]
        if cov is None:
            cov = P.T @ P
        else:
            cov += P.T @ P
    cov = np.zeros((n_pred, n_pred)) if cov is None else cov
    y0 = y - ybar
    return float(sw @ (y0 * y0)), cov, sse


def prediction_moments(X, n_pred, y, sw, *, reduce=None):
    """Weighted moments of y and of the prediction columns of X: :class:`PredictionMoments`.

    Two passes over the rows (the covariance about the means, which stays accurate for
    columns whose mean is large against their spread), a block at a time: no copy of X is
    made, so a float32 X stays float32 and the extra memory is one block. ``reduce`` sums a
    function of ``(X, y, sw)`` over the pieces of the rows (by default X, y and sw are all
    of them; see :mod:`skcgd.ensemble._design`).
    """
    reduce = in_memory(X, y, sw) if reduce is None else reduce
    N, sy, total, n_rows = reduce(prediction_sums, n_pred)
    mean = total / N
    ybar = sy / N
    yy, cov, sse = reduce(prediction_scatter, n_pred, mean, ybar)
    cov /= N  # (in place: with thousands of columns a p x p copy is hundreds of megabytes)
    return PredictionMoments(N, ybar, yy / N, mean, cov, sse, n_rows)


def log_odds_inputs(L, Y, sw, block_size):
    """What stage 1 compares for classifiers: ``(Q, errors, target_var)``.

    Parameters
    ----------
    L : ndarray of shape (n_samples, n_models * block_size)
        Out-of-fold log-odds (one column per model for two classes, one per class otherwise).
    Y : ndarray of shape (n_samples, n_classes)
        One-hot class indicators.
    sw : ndarray of shape (n_samples,)
        Sample weights.
    block_size : int
        Columns per model.

    Returns
    -------
    Q : ndarray of the shape of L
        The probabilities ``1 / (1 + exp(-L))``.
    errors : ndarray of shape (n_models,)
        Each model's weighted log-loss (its per-class probabilities normalised to sum to one).
    target_var : float
        Weighted variance of the class indicators, summed over the indicator columns (the
        positive class only for two classes).
    """
    k = block_size
    with np.errstate(over="ignore"):  # exp(-L) = inf for L < -709 gives Q = 0, as it should
        Q = 1.0 / (1.0 + np.exp(-L))
    Yk = Y[:, 1:] if k == 1 else Y
    pi = sw @ Yk / sw.sum()
    target_var = float(np.sum(pi * (1.0 - pi)))
    errors = np.empty(L.shape[1] // k)
    for b in range(errors.shape[0]):
        q = Q[:, b * k : (b + 1) * k]
        proba = (
            np.column_stack([1.0 - q[:, 0], q[:, 0]])
            if k == 1
            else (q / np.clip(q.sum(axis=1, keepdims=True), 1e-300, None))
        )
        errors[b] = weighted_log_loss(Y, proba, sw)
    return Q, errors, target_var


def redundancy_projection(
    P, Q, errors, sw, *, n_blocks, corr_threshold, mse_threshold, var_threshold, target_var
):
    """Greedy de-duplication of base models, best first (stage 1).

    Parameters
    ----------
    P : ndarray of shape (n_samples, n_blocks * k)
        The model outputs whose correlation decides redundancy (predictions; log-odds for a
        classifier), ``k`` consecutive columns per model.
    Q : ndarray of shape (n_samples, n_blocks * k)
        The outputs whose mean squared difference and variance are compared with the target's
        variance (predictions; probabilities for a classifier).
    errors : ndarray of shape (n_blocks,)
        Each model's own out-of-fold error; models are visited from the smallest.
    sw : ndarray of shape (n_samples,)
        Sample weights.
    n_blocks : int
        Number of models.
    corr_threshold : float or None
        A model is redundant when an already kept one has correlation ``>= corr_threshold``
        with it and mean squared difference ``<= mse_threshold * target_var``; None disables
        the test.
    mse_threshold, var_threshold : float
        Relative to ``target_var``; a kept model whose output variance is
        ``<= var_threshold * target_var`` is dropped as near-constant.
    target_var : float
        Weighted variance of the target (summed over the indicator columns for a classifier).

    Returns
    -------
    kept : ndarray of int
        Indices of the kept models, ascending.
    dropped : list of dict
        One record per dropped model: ``column``, ``reason`` (``"redundant"`` or
        ``"near_constant"``), ``kept_instead``, ``correlation``, ``relative_msd``,
        ``relative_variance``.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.ensemble._redundancy import redundancy_projection
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=200)
    >>> P = np.column_stack([y + 0.3 * rng.normal(size=200), y + 0.6 * rng.normal(size=200)])
    >>> P = np.column_stack([P, P[:, 0] + 0.01 * rng.normal(size=200)])  # a twin of model 0
    >>> errors = np.sqrt(((P - y[:, None]) ** 2).mean(axis=0))
    >>> kept, dropped = redundancy_projection(
    ...     P, P, errors, np.ones(200), n_blocks=3, corr_threshold=0.95, mse_threshold=1e-3,
    ...     var_threshold=1e-4, target_var=float(y.var()))
    >>> kept, [(d["column"], d["reason"], d["kept_instead"]) for d in dropped]
    (array([0, 1]), [(2, 'redundant', 0)])
    """
    _, Cp = weighted_moments(P, sw)
    mu_q, Cq = weighted_moments(Q, sw)
    return redundancy_from_moments(
        Cp,
        mu_q,
        Cq,
        errors,
        n_blocks=n_blocks,
        corr_threshold=corr_threshold,
        mse_threshold=mse_threshold,
        var_threshold=var_threshold,
        target_var=target_var,
    )


# from this many models on, the greedy pass runs in the compiled kernel (below it, the
# vectorised steps cost less than loading the kernel: about 20 microseconds a model)
KERNEL_MIN_MODELS = 256


def _twins(cov_p, cov_q, var_p, var_q, mu, gap, order, use_corr, corr_threshold, msd_limit):
    """The greedy pass of :func:`skcgd._kernels.redundancy._redundancy_pass`, one vectorised
    step per visited model (same arguments, same result, the same floating-point
    operations)."""
    m = order.shape[0]
    twin = np.full(m, -1, dtype=np.int64)
    corr_at = np.full(m, np.nan)
    msd_at = np.full(m, np.nan)
    kept = np.empty(m, dtype=np.intp)
    n_kept = 0
    for i in order:
        if use_corr and n_kept:
            J = kept[:n_kept]
            with np.errstate(divide="ignore", invalid="ignore"):
                c = cov_p[i, J] / np.sqrt(var_p[i] * var_p[J])
            c = np.where(np.isfinite(c), c, 0.0)
            g = (mu[i] - mu[J]) * (mu[i] - mu[J]) if gap.shape[0] == 0 else gap[i, J]
            d = var_q[i] + var_q[J] - 2.0 * cov_q[i, J] + g
            d = np.where(d < 0.0, 0.0, d)
            hits = np.flatnonzero((c >= corr_threshold) & (d <= msd_limit))
            if hits.size:
                a = hits[0]
                twin[i], corr_at[i], msd_at[i] = J[a], c[a], d[a]
                continue
        kept[n_kept] = i
        n_kept += 1
    return twin, corr_at, msd_at


def _block_covariance(C, n_blocks):
    """``(n_blocks, n_blocks)`` sums of the per-output covariances of every pair of models.

    Entry ``(a, b)`` is ``sum_c C[a k + c, b k + c]`` over the ``k`` outputs of a model. The
    ``k`` terms of an entry are laid out contiguously and summed along the last axis, which
    adds them in the order (and with the pairwise rounding) of a 1-D ``sum`` of those ``k``
    numbers: the result is bit for bit the loop over pairs this replaced.
    """
    k = C.shape[0] // n_blocks
    if k == 1:
        return C
    diag_k = np.arange(k)
    # C4[a, c, b, c'] = C[a k + c, b k + c']; the diagonal in (c, c') comes out first
    terms = C.reshape(n_blocks, k, n_blocks, k)[:, diag_k, :, diag_k]
    return np.ascontiguousarray(np.moveaxis(terms, 0, -1)).sum(axis=2)


def redundancy_from_moments(
    Cp, mu_q, Cq, errors, *, n_blocks, corr_threshold, mse_threshold, var_threshold, target_var
):
    """:func:`redundancy_projection` from the weighted moments of ``P`` and ``Q``.

    ``Cp`` and ``Cq`` are the weighted covariance matrices of the columns of ``P`` and ``Q``,
    ``mu_q`` the weighted means of ``Q``; the other parameters and the result are those of
    :func:`redundancy_projection`.

    Notes
    -----
    The greedy pass is sequential (whether a model is kept depends on the models kept before
    it). With at least :data:`KERNEL_MIN_MODELS` models it runs in a compiled kernel
    (:mod:`skcgd._kernels.redundancy`), a few flops per pair; with fewer, each visited model
    is compared with all the kept ones in one vectorised step (:func:`_twins`), which costs
    less than loading the kernel. Neither forms an ``n_blocks x n_blocks`` temporary beyond
    the block covariances. Every number compared is computed by the floating-point
    operations of the pairwise matrix formulas (correlation ``cov_ij / sqrt(var_i var_j)``,
    non-finite taken as 0; mean squared difference ``var_i + var_j - 2 cov_ij +
    |mu_i - mu_j|^2`` clipped at 0), so the decisions, ties included, are those formulas';
    a dropped model's twin is the first kept model (in visiting order) that passes both.
    """
    cov_p = _block_covariance(Cp, n_blocks)
    cov_q = cov_p if Cq is Cp else _block_covariance(Cq, n_blocks)
    var_p = np.ascontiguousarray(np.diag(cov_p))
    var_q = np.ascontiguousarray(np.diag(cov_q))
    mu_blocks = mu_q.reshape(n_blocks, -1)
    if mu_blocks.shape[1] == 1:
        mu, gap = np.ascontiguousarray(mu_blocks[:, 0], dtype=np.float64), np.zeros((0, 0))
    else:  # several outputs per model: the squared distances of the mean vectors, summed
        mu = np.zeros(n_blocks)
        gap = ((mu_blocks[:, None, :] - mu_blocks[None, :, :]) ** 2).sum(axis=2)
    scale = target_var if target_var > 0 else 1.0
    order = np.argsort(errors, kind="stable")
    args = (
        np.ascontiguousarray(cov_p, dtype=np.float64),
        np.ascontiguousarray(cov_q, dtype=np.float64),
        var_p,
        var_q,
        mu,
        gap,
        order.astype(np.int64),
        corr_threshold is not None,
        float(corr_threshold) if corr_threshold is not None else 0.0,
        float(mse_threshold * target_var),
    )
    if n_blocks >= KERNEL_MIN_MODELS:
        from skcgd._kernels.redundancy import _redundancy_pass  # Numba loads on first use

        twin, corr, msd = _redundancy_pass(
            *(readonly(a) if isinstance(a, np.ndarray) else a for a in args)
        )
    else:
        twin, corr, msd = _twins(*args)
    dropped = [
        {
            "column": int(i),
            "reason": "redundant",
            "kept_instead": int(twin[i]),
            "correlation": float(corr[i]),
            "relative_msd": float(msd[i] / scale),
            "relative_variance": float(var_q[i] / scale),
        }
        for i in order
        if twin[i] >= 0
    ]
    kept = order[twin[order] < 0]  # in visiting order
    flat = var_q[kept] <= var_threshold * target_var
    dropped += [
        {
            "column": int(i),
            "reason": "near_constant",
            "kept_instead": None,
            "correlation": np.nan,
            "relative_msd": np.nan,
            "relative_variance": float(var_q[i] / scale),
        }
        for i in kept[flat]
    ]
    still = kept[~flat]
    if not still.size:  # everything near-constant: keep the best model rather than nothing
        best = int(order[0])
        still = np.array([best])
        dropped = [r for r in dropped if r["column"] != best]
    return np.sort(still).astype(np.intp), dropped
