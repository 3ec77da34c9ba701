"""What a base model's output becomes in the classifier stack's meta design.

A base classifier gives class probabilities (``predict_proba``), decision values
(``decision_function``) or labels (``predict``); a base regressor of a classifier stack gives
numbers (``predict``). :func:`output_block` puts any of them in one layout, one column per class
0..K-1 in the order of the stack's ``classes_`` (one per label for multilabel targets);
:func:`log_odds` and :func:`proba_columns` give the two representations of probabilities
(labels count as probabilities 0 and 1) that the stack can give its meta stage.

Why two: a linear meta-model adds log-odds, the scale on which independent evidence adds up,
but an overconfident base model (Gaussian naive Bayes, a vote of few neighbours) reaches the
clipping bound ``logit(1e-6) = -13.8`` on the rows it gets wrong, where it outweighs every
other model; probabilities are bounded, but cannot say "both models are sure". Given both, the
meta stage's penalised models weigh them per base model, with the penalty chosen by their
inner cross-validation (``stack_representation="both"``).
"""

import numpy as np

__all__ = [
    "PROBA_EPS",
    "log_odds",
    "output_block",
    "positive_proba",
    "proba_columns",
]

# probabilities are clipped to [eps, 1 - eps] before the log-odds (a tree's 0 and 1 would be
# infinite); logit(1e-6) = -13.8
PROBA_EPS = 1e-6


def _encoded(classes, all_classes, prefit):
    """A base estimator's ``classes_`` as indices 0..K-1 of the stack's classes."""
    classes = np.asarray(classes)
    if prefit:  # a prefitted estimator knows the labels, not their codes
        classes = np.searchsorted(all_classes, classes)
    return classes.astype(np.intp)


def positive_proba(p, classes):
    """The probability of label 1 from one output's ``(n, n_classes_seen)`` probabilities."""
    p = np.asarray(p, dtype=np.float64)
    if p.ndim == 1:
        return p
    seen = list(np.asarray(classes).tolist()) if classes is not None else [0, 1][-p.shape[1] :]
    if 1 in seen:
        return p[:, seen.index(1)]
    return np.zeros(p.shape[0])  # only label 0 in this fold's training rows


def output_block(out, method, classes, all_classes, *, multilabel=False, prefit=False):
    """``(block, kind)``: one base model's output in the stack's layout, and what it is.

    ``kind`` is ``"proba"`` (probabilities, one column per class 0..K-1, or per label for
    multilabel targets; labels from a classifier's ``predict`` are probabilities 0 and 1),
    ``"decision"`` (decision values: one column for two classes, one per class otherwise) or
    ``"score"`` (a regressor's single column of predictions).

    Parameters
    ----------
    out : ndarray or list of ndarray
        What ``method`` returned.
    method : {"predict_proba", "decision_function", "predict"}
        The method that gave it.
    classes : array-like or list of array-like or None
        The base estimator's ``classes_`` (None for a regressor).
    all_classes : ndarray
        The stack's classes (the labels of column ``k`` of a prefitted estimator).
    multilabel : bool, default=False
        Whether the target is a multilabel indicator matrix.
    prefit : bool, default=False
        Whether the estimator was fitted on the labels instead of their codes.

    Returns
    -------
    block : ndarray of shape (n_samples, n_columns)
    kind : str
    """
    if multilabel:
        if method == "predict_proba":
            if isinstance(out, list):  # one (n, n_classes) array per label
                cls = classes if isinstance(classes, list) else [None] * len(out)
                if prefit:
                    cls = [
                        None if c is None else _encoded(c, a, True)
                        for c, a in zip(cls, all_classes)
                    ]
                return np.column_stack([positive_proba(p, c) for p, c in zip(out, cls)]), "proba"
            return np.asarray(out, dtype=np.float64), "proba"  # (n, L): label 1 already
        block = np.asarray(out, dtype=np.float64)
        block = block.reshape(block.shape[0], -1)
        return block, ("proba" if method == "predict" else "decision")
    K = all_classes.shape[0]
    if classes is None:  # a regressor: its predictions of the class codes
        out = np.asarray(out, dtype=np.float64)
        if out.ndim == 2 and out.shape[1] != 1:
            raise ValueError(
                f"A base regressor of a classifier stack must give one column of predictions, "
                f"got shape {out.shape}."
            )
        return out.reshape(-1, 1), "score"
    codes = _encoded(classes, all_classes, prefit)
    complete = codes.shape[0] == K and np.array_equal(codes, np.arange(K))
    if method == "predict":  # labels: probabilities 0 and 1
        labels = np.asarray(out)
        if prefit:
            labels = np.searchsorted(all_classes, labels)
        return np.eye(K)[labels.astype(np.intp)], "proba"
    out = np.asarray(out, dtype=np.float64)
    if method == "predict_proba":
        if not complete:  # classes missing from a fold's training rows: probability 0
            full = np.zeros((out.shape[0], K))
            full[:, codes] = out
            out = full
        return out, "proba"
    if out.ndim == 1:
        out = out.reshape(-1, 1)
    if K > 2 and not complete:
        # a class missing from a fold's training rows scores below every seen one
        full = np.full((out.shape[0], K), out.min() - 1.0)
        full[:, codes] = out
        out = full
    return out, "decision"


def log_odds(P, n_classes, *, multilabel=False):
    """The log-odds columns of probabilities ``P``, clipped to ``[PROBA_EPS, 1 - PROBA_EPS]``:
    of the second class only for two classes (``P`` of shape ``(n, 2)``); a multilabel block
    (``multilabel=True``) holds the probability of label 1 per label, each column a
    two-class problem of its own.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.ensemble._representation import log_odds
    >>> log_odds(np.array([[1.0, 0.0], [0.5, 0.5]]), 2).round(2).ravel().tolist()
    [-13.82, 0.0]
    """
    p = np.clip(np.asarray(P, dtype=np.float64), PROBA_EPS, 1.0 - PROBA_EPS)
    logit = np.log(p) - np.log1p(-p)
    return logit[:, 1:] if (n_classes == 2 and not multilabel) else logit


def proba_columns(P, n_classes, *, multilabel=False):
    """The probability columns of ``P``: of the second class only for two classes (the first
    is its complement), every class otherwise, every label for multilabel targets."""
    P = np.asarray(P, dtype=np.float64)
    return P[:, 1:] if (n_classes == 2 and not multilabel) else P
