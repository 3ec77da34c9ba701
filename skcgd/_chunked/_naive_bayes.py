""":class:`~skcgd.naive_bayes.GaussianNaiveBayes` on Dask collections.

A fit is one pass over the row chunks: every chunk runs the in-memory validation and moment
kernel on its own rows, with its own labels (validated as in memory, encoded locally), and
returns ``(labels, count, mean, m2)``, the per-class weighted moments of the labels it holds.
The pairwise tree merges two such results by the union of their labels and Chan's formula
(:func:`~skcgd.naive_bayes._model.merge_moments`), so the class list is itself the result of
the reduction and no pass is spent finding it first; only ``n_classes x n_features`` numbers
per merge travel. The estimator then derives its model from the merged moments with the
in-memory code (``_fit_moments``, ``_merge_batch``), so the attributes, their dtype and the
error messages are those of the fit on the same data in memory.

Predictions map the in-memory prediction methods over the row chunks, lazily.
"""

import copy
import functools
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.validation import check_array, column_or_1d

from skcgd._chunked import is_dask_collection
from skcgd._chunked._engine import (
    RowChunks,
    as_row_array,
    check_predict_input,
    feature_info,
    map_rows,
    set_feature_info,
)
from skcgd._validation import check_classification_labels, check_sample_weight
from skcgd.naive_bayes._gaussian import _class_index, _refuse_sparse
from skcgd.naive_bayes._model import encode_labels, merge_moments

__all__ = ["fit", "partial_fit", "predict"]


# ------------------------------------------------------------------------------ fitting


def fit(estimator, X, y, sample_weight=None):
    """``estimator.fit(X, y, sample_weight)`` for Dask ``X`` (or Dask ``y``, weights).

    Parameters
    ----------
    estimator : GaussianNaiveBayes
        Its parameters already validated (``fit`` calls this inside its fit context, whose
        ``restore_on_failure`` puts the estimator back if anything here raises).
    X : dask.array.Array or dask.dataframe.DataFrame of shape (n_samples, n_features)
        Row-chunked training vectors (with known chunk sizes).
    y : dask.array.Array, dask.dataframe.Series or array-like of shape (n_samples,)
        Class labels.
    sample_weight : dask.array.Array, array-like of shape (n_samples,), float or None
        Non-negative sample weights.

    Returns
    -------
    estimator : GaussianNaiveBayes
        Fitted; ``dask_stats_`` holds the engine's pass counter.
    """
    if not is_dask_collection(X):
        return type(estimator).fit(estimator, X, *_gather(y, sample_weight))
    chunks, names, dtype = _row_chunks(estimator, X, y, sample_weight)
    classes, count, mean, m2 = _moments_by_label(estimator, chunks, sample_weight)
    estimator._fit_moments(classes, count, mean, m2, dtype)
    set_feature_info(estimator, chunks.n_features, names)
    estimator.dask_stats_ = chunks.stats()
    return estimator


def partial_fit(estimator, X, y, known, first_call, sample_weight=None):
    """``estimator.partial_fit`` for Dask ``X``: merge the moments of all of X's chunks.

    Parameters
    ----------
    estimator : GaussianNaiveBayes
        As for :func:`fit`.
    X, y, sample_weight
        As for :func:`fit`: one batch, which may be as large as the cluster holds.
    known : ndarray of shape (n_classes,)
        The sorted classes: those declared on the first call, else ``classes_``.
    first_call : bool
        Whether the estimator has no model yet (then the batch sets the feature names and
        the width; otherwise they are checked against the fitted ones).

    Returns
    -------
    estimator : GaussianNaiveBayes
        Updated; ``dask_stats_`` holds the pass counter of this call.
    """
    if not is_dask_collection(X):
        classes = known if first_call else None
        return type(estimator).partial_fit(
            estimator, X, *_gather(y), classes=classes, sample_weight=_gather(sample_weight)[0]
        )
    if not first_call:
        # width and names as fitted (validate_data(reset=False) in memory); a dataframe's
        # row counts are computed once, here
        X = check_predict_input(estimator, X)
    chunks, names, dtype = _row_chunks(estimator, X, y, sample_weight)
    labels, count, mean, m2 = _moments_by_label(estimator, chunks, sample_weight)
    # every label seen must be declared; the labels are the batch's distinct ones, so the
    # message lists the same unknown labels as the in-memory partial_fit's
    index = _class_index(known, labels)
    count, mean, m2 = _spread(known.size, index, count, mean, m2)
    estimator._merge_batch(first_call, known, count, mean, m2, dtype)
    if first_call:
        set_feature_info(estimator, chunks.n_features, names)
    estimator.dask_stats_ = chunks.stats()
    return estimator


def _gather(*rows):
    """The values of 1-D Dask companions of an in-memory X (X itself is already here)."""
    return tuple(v.compute() if is_dask_collection(v) else v for v in rows)


def _row_chunks(estimator, X, y, sample_weight):
    """``(RowChunks of X, y and the weights, feature names or None, dtype of the model)``."""
    arr, names = feature_info(X)
    # a Dask array declares its blocks' type in _meta: refuse sparse ones before any pass
    # (the chunks check again, in case the declared type was not the real one)
    _refuse_sparse(estimator, getattr(arr, "_meta", None))
    if y is None:
        raise ValueError(
            f"This {type(estimator).__name__} estimator requires y to be passed, but the "
            "target y is None."
        )
    weights = sample_weight if is_dask_collection(sample_weight) or np.ndim(sample_weight) else None
    chunks = RowChunks(arr, y=_labels_1d(y), sample_weight=weights)
    if chunks.n_samples == 0:
        # scikit-learn's own message for an empty X (the chunk code never sees any row)
        check_array(np.empty((0, chunks.n_features)), estimator=estimator)
    # the dtype validate_data gives each chunk: float32 kept, anything else float64
    dtype = np.dtype(np.float32 if arr.dtype == np.float32 else np.float64)
    return chunks, names, dtype


def _labels_1d(y):
    """y as one label per row: a column vector is flattened with scikit-learn's warning."""
    if not is_dask_collection(y):
        return column_or_1d(y, warn=True)
    y = as_row_array(y, "y")
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please change the "
            "shape of y to (n_samples, ), for example using ravel().",
            DataConversionWarning,
            stacklevel=4,
        )
        return y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y should be a 1d array, got an array of shape {y.shape} instead.")
    return y


def _moments_by_label(estimator, chunks, sample_weight):
    """One pass: the sorted labels of all chunks and their merged moments (float64)."""
    # a number is every sample's weight (scikit-learn's convention): each chunk expands it
    scalar = None if is_dask_collection(sample_weight) or np.ndim(sample_weight) else sample_weight
    # an unfitted copy travels to the workers: parameters only, not a fitted model's arrays
    result = chunks.map_reduce(_chunk_moments, clone(estimator), scalar, combine=_merge_by_label)
    labels, count, mean, m2 = result
    # the class totals are sums of valid weights: checked as weights, a zero total is refused
    # with the in-memory message ("sample_weight sums to zero")
    check_sample_weight(count, count.size)
    check_classification_labels(labels)  # the type of target of all labels, as in memory
    return labels, count, mean, m2


def _chunk_moments(chunk, state, estimator, scalar_weight):
    """``(labels, count, mean, m2)`` of one chunk's rows, by the in-memory code; None if empty."""
    if chunk["rows"] == 0:
        return None  # validate_data refuses 0 rows; an empty chunk adds nothing
    # validate_data(reset=True) records the chunk's width on the estimator: on a copy, since
    # the threaded scheduler hands the same object to concurrent chunks
    worker = copy.copy(estimator)
    X, y = worker._validate_X_y(chunk["X"], chunk["y"], reset=True)
    check_classification_labels(y)
    labels, y_index = encode_labels(y)
    weights = chunk["sample_weight"] if scalar_weight is None else scalar_weight
    # a chunk may hold only zero weights; the total is checked after the reduction
    weights = check_sample_weight(weights, X.shape[0], allow_zero_sum=True)
    count, mean, m2 = worker._class_moments(X, y_index, weights, labels.size)
    return labels, count, mean, m2


def _merge_by_label(a, b):
    """Merge two chunk results over the union of their labels (Chan et al.'s formula)."""
    if a is None or b is None:
        return b if a is None else a
    labels_a, labels_b = a[0], b[0]
    # each chunk's labels passed the check, but two chunks' labels may still not compare
    # (object labels, str in one chunk, bytes in another): refuse them by name, as the
    # in-memory check of all of y does, before the sort fails with a bare TypeError
    check_classification_labels(np.concatenate([labels_a, labels_b]))
    labels = np.union1d(labels_a, labels_b)
    moments_a = _spread(labels.size, np.searchsorted(labels, labels_a), *a[1:])
    moments_b = _spread(labels.size, np.searchsorted(labels, labels_b), *b[1:])
    return (labels, *merge_moments(*moments_a, *moments_b))


def _spread(n_classes, index, count, mean, m2):
    """Moments of some classes placed at rows ``index`` of ``n_classes`` (others: empty)."""
    full_count = np.zeros(n_classes)
    full_mean = np.zeros((n_classes, mean.shape[1]))
    full_m2 = np.zeros((n_classes, m2.shape[1]))
    full_count[index], full_mean[index], full_m2[index] = count, mean, m2
    return full_count, full_mean, full_m2


# --------------------------------------------------------------------------- prediction


def predict(estimator, X, method):
    """``getattr(estimator, method)(X)`` for Dask ``X``: a lazy Dask array, chunk by chunk.

    Parameters
    ----------
    estimator : GaussianNaiveBayes
        Fitted.
    X : dask.array.Array or dask.dataframe.DataFrame of shape (n_samples, n_features)
        Row-chunked samples (known chunk sizes).
    method : {"predict", "predict_proba", "predict_log_proba", "predict_joint_log_proba", \
"decision_function"}
        The in-memory method run on every chunk.

    Returns
    -------
    out : dask.array.Array of shape (n_samples,) or (n_samples, n_outputs)
        With X's row chunks; nothing is computed.
    """
    arr = check_predict_input(estimator, X)
    _refuse_sparse(estimator, getattr(arr, "_meta", None))
    worker = copy.copy(estimator)
    # the names were checked above, and the chunks are bare ndarrays: validate_data would warn
    # on every chunk that X has no feature names
    vars(worker).pop("feature_names_in_", None)
    if method == "predict":
        n_outputs, dtype = None, np.asarray(estimator.classes_).dtype
    else:
        # the dtype of validated X: float32 kept, anything else float64
        dtype = np.dtype(np.float32 if arr.dtype == np.float32 else np.float64)
        n_outputs = len(estimator.classes_)
        if method == "decision_function" and np.shape(estimator.coef_)[0] == 1:
            n_outputs = None  # two classes: one column, raveled
    block_fn = functools.partial(_predict_block, worker, method, n_outputs, dtype)
    return map_rows(arr, block_fn, n_outputs=n_outputs, dtype=dtype)


def _predict_block(estimator, method, n_outputs, dtype, block):
    """The in-memory prediction ``method`` on one chunk (an empty chunk: an empty answer)."""
    if block.shape[0] == 0:  # validate_data refuses 0 rows
        return np.empty((0,) if n_outputs is None else (0, n_outputs), dtype=dtype)
    return getattr(estimator, method)(block)
