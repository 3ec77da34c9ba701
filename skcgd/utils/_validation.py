"""Input checks shared by skcgd's estimators, beyond scikit-learn's own."""

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.utils.multiclass import check_classification_targets

__all__ = ["check_classification_labels", "as_aligned"]


def as_aligned(X):
    """``X`` itself if its data are aligned for their dtype, else an aligned copy.

    Arrays deserialized from a byte stream (Dask sends them so) can start at any byte.
    NumPy's and BLAS's kernels then take other code paths whose rounding differs, and a fit
    on a Dask worker would not give the bits of the same fit in the client.

    Parameters
    ----------
    X : ndarray or sparse matrix

    Returns
    -------
    X : ndarray or sparse matrix
    """
    if sp.issparse(X):
        parts = [getattr(X, name, None) for name in ("data", "indices", "indptr")]
        if all(part is None or part.flags.aligned for part in parts):
            return X
        return X.copy()
    if X.flags.aligned:
        return X
    return np.array(X, order="K")


def _label_family(value):
    # numbers of any kind compare with each other, so they sort into one set of classes
    if isinstance(value, (numbers.Real, np.bool_)):
        return "number"
    if isinstance(value, np.str_):
        return "str"
    return type(value).__name__


def check_classification_labels(y, name="y"):
    """Check class labels: one type, none missing, discrete (scikit-learn's classes).

    scikit-learn sorts the labels to find the classes; labels of mixed types (``[1, "a"]``)
    or with ``None`` then fail with "'<' not supported between instances of ..." or
    "Unknown label type: unknown", which do not say what is wrong with ``y``.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        The labels (already validated as a 1-D array by ``validate_data``).
    name : str, default="y"
        How to call them in messages.

    Raises
    ------
    ValueError
        If the labels mix types, contain None or NaN, or are continuous.
    """
    arr = np.asarray(y)
    if arr.dtype == object:
        values = arr.ravel()
        if any(v is None for v in values):
            raise ValueError(
                f"{name} contains missing labels (None): every sample needs a class label."
            )
        if any(
            isinstance(v, numbers.Real)
            and not isinstance(v, numbers.Integral)
            and not np.isfinite(v)
            for v in values
        ):
            raise ValueError(
                f"{name} contains NaN or infinite labels: every sample needs a class label."
            )
        families = {_label_family(v) for v in values}
        if len(families) > 1:
            raise ValueError(
                f"{name} mixes labels of different types ({', '.join(sorted(families))}); "
                f"class labels must all have one type: convert them first, e.g. "
                f"{name}.astype(str)."
            )
    check_classification_targets(arr)
