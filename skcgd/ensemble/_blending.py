"""Stage 4 of the meta stage: blend weights from out-of-fold errors, and the losses behind them.

The meta-models are averaged with weights proportional to the inverse of their out-of-fold
error (RMSE for regression, log-loss for classification), or uniformly.
"""

import numpy as np

__all__ = ["aligned_proba", "blend_weights", "weighted_log_loss"]


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
