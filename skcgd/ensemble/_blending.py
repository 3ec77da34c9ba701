"""Stage 4 of the meta stage: blend weights from out-of-fold errors, and the losses behind them.

The meta-models are averaged with weights proportional to the inverse of their out-of-fold
error (RMSE for regression, log-loss for classification), or uniformly.
"""

import numpy as np

__all__ = [
    "aligned_proba",
    "blend_weights",
    "oof_error_sums",
    "rmse_from_sums",
    "weighted_log_loss",
]


def blend_weights(scores, blend):
    """Weights proportional to ``1 / scores`` (or uniform), summing to one.

    ``blend`` is ``"uniform"`` or any other value for the inverse-error weights. Non-finite
    scores give uniform weights; models with a zero error share all the weight.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.ensemble._blending import blend_weights
    >>> blend_weights(np.array([1.0, 2.0, 4.0]), "inverse").tolist()
    [0.5714285714285714, 0.2857142857142857, 0.14285714285714285]
    """
    m = scores.shape[0]
    if blend == "uniform" or m == 1 or not np.all(np.isfinite(scores)):
        return np.full(m, 1.0 / m)
    if np.any(scores <= 0):
        w = (scores <= 0).astype(float)
    else:
        w = 1.0 / scores
    return w / w.sum()


def oof_error_sums(oof, y, sw, predicted=None):
    """``(sum s, sum s (oof - y)^2 per model)`` over the rows with a finite prediction.

    ``oof`` (n, k) holds out-of-fold predictions; only the rows in ``predicted`` (a mask;
    None: all) whose predictions are all finite count. Sums, so that the rows can be
    summed a piece at a time (:func:`rmse_from_sums` finishes).
    """
    rows = np.all(np.isfinite(oof), axis=1)
    if predicted is not None:
        rows &= predicted
    w_rows = sw[rows]
    y_rows = y[rows]
    # one column at a time: no (n_samples, n_models) temporaries
    sse = np.array([w_rows @ (oof[rows, m] - y_rows) ** 2 for m in range(oof.shape[1])])
    return float(w_rows.sum()), sse.reshape(oof.shape[1])


def rmse_from_sums(w_sum, sse):
    """The weighted RMSE of every model from :func:`oof_error_sums` (NaN without weight)."""
    if w_sum > 0:
        return np.sqrt(sse / w_sum)
    return np.full(sse.shape[0], np.nan)


def weighted_log_loss(Y, proba, sw):
    """Weighted multiclass log-loss of ``proba`` (n, K) for one-hot ``Y`` (n, K)."""
    p = np.clip(np.sum(Y * proba, axis=1), 1e-15, None)
    return float(-(sw @ np.log(p)) / sw.sum())


def aligned_proba(clf, X, n_classes):
    """``clf.predict_proba(X)`` with one column per class 0..n_classes-1 (0 if unseen).

    ``clf`` was fitted on labels encoded as ``0..n_classes-1``, possibly not all of them.
    """
    proba = clf.predict_proba(X)
    classes = np.asarray(clf.classes_)
    if classes.shape[0] == n_classes and np.array_equal(classes, np.arange(n_classes)):
        return proba
    out = np.zeros((proba.shape[0], n_classes))
    out[:, classes.astype(np.intp)] = proba
    return out
