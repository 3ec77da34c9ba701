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


def prediction_sums(X, y, sw, n_pred):
    """``(sum s, sum s y, sum s p)`` over the rows of X (prediction columns), block by block."""
    cols = np.arange(n_pred)
    total = np.zeros(n_pred)
    for b in row_blocks(np.arange(X.shape[0]), n_pred):
        total += sw[b] @ prediction_block(X, b, cols)
    return float(sw.sum()), float(sw @ y), total


def prediction_scatter(X, y, sw, n_pred, mean, ybar):
    """``(sum s (y - ybar)^2, sum s (p - mean)(p - mean)^T, sum s (p - y)^2)``, block by block."""
    cols = np.arange(n_pred)
    cov = np.zeros((n_pred, n_pred))
    sse = np.zeros(n_pred)
    for b in row_blocks(np.arange(X.shape[0]), n_pred):
        P = prediction_block(X, b, cols)
        swb = sw[b]
        sse += swb @ (P - y[b, None]) ** 2
        P -= mean
        cov += (P * swb[:, None]).T @ P
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
    N, sy, total = reduce(prediction_sums, n_pred)
    mean = total / N
    ybar = sy / N
    yy, cov, sse = reduce(prediction_scatter, n_pred, mean, ybar)
    cov = cov / N
    return PredictionMoments(N, ybar, yy / N, mean, 0.5 * (cov + cov.T), sse)


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


def redundancy_from_moments(
    Cp, mu_q, Cq, errors, *, n_blocks, corr_threshold, mse_threshold, var_threshold, target_var
):
    """:func:`redundancy_projection` from the weighted moments of ``P`` and ``Q``.

    ``Cp`` and ``Cq`` are the weighted covariance matrices of the columns of ``P`` and ``Q``,
    ``mu_q`` the weighted means of ``Q``; the other parameters and the result are those of
    :func:`redundancy_projection`.
    """
    k = Cp.shape[0] // n_blocks
    blocks = [slice(b * k, (b + 1) * k) for b in range(n_blocks)]
    # block covariances: sum over the k outputs of a model of the per-output covariances
    diag_k = np.arange(k)
    cov_p = np.empty((n_blocks, n_blocks))
    cov_q = np.empty((n_blocks, n_blocks))
    for a, sa in enumerate(blocks):
        for b, sb in enumerate(blocks):
            cov_p[a, b] = Cp[sa, sb][diag_k, diag_k].sum()
            cov_q[a, b] = Cq[sa, sb][diag_k, diag_k].sum()
    var_p = np.diag(cov_p)
    var_q = np.diag(cov_q)
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = cov_p / np.sqrt(np.outer(var_p, var_p))
    corr = np.where(np.isfinite(corr), corr, 0.0)
    mu_blocks = mu_q.reshape(n_blocks, k)
    mean_gap = ((mu_blocks[:, None, :] - mu_blocks[None, :, :]) ** 2).sum(axis=2)
    msd = np.clip(var_q[:, None] + var_q[None, :] - 2.0 * cov_q + mean_gap, 0.0, None)
    scale = target_var if target_var > 0 else 1.0

    order = np.argsort(errors, kind="stable")
    kept, dropped = [], []
    for i in order:
        twin = None
        if corr_threshold is not None:
            for j in kept:
                if corr[i, j] >= corr_threshold and msd[i, j] <= mse_threshold * target_var:
                    twin = j
                    break
        if twin is None:
            kept.append(i)
        else:
            dropped.append(
                {
                    "column": int(i),
                    "reason": "redundant",
                    "kept_instead": int(twin),
                    "correlation": float(corr[i, twin]),
                    "relative_msd": float(msd[i, twin] / scale),
                    "relative_variance": float(var_q[i] / scale),
                }
            )
    still = []
    for i in kept:
        if var_q[i] <= var_threshold * target_var:
            dropped.append(
                {
                    "column": int(i),
                    "reason": "near_constant",
                    "kept_instead": None,
                    "correlation": np.nan,
                    "relative_msd": np.nan,
                    "relative_variance": float(var_q[i] / scale),
                }
            )
        else:
            still.append(i)
    if not still:  # everything near-constant: keep the best model rather than nothing
        best = int(order[0])
        still = [best]
        dropped = [r for r in dropped if r["column"] != best]
    return np.array(sorted(still), dtype=np.intp), dropped
