"""Fits on Dask arrays: passes over row chunks, run where the chunks live.

Every skcgd fit is a sequence of passes over the rows of X (moments, gradients, Hessian
products, Gram matrices); each pass here is a map of the in-memory code over the chunks of
a Dask array and a tree reduction of the small results (vectors of ``n_features`` numbers,
``n_features^2`` for Gram and Hessian terms), so X is never gathered. Row-level state (the
losses at the current coefficients, the adversary's weights) stays with the chunks, as
persisted Dask collections.

This package imports nothing of Dask itself: :mod:`skcgd._chunked._engine` does, and the
estimators import it only when they are handed a Dask collection
(:func:`is_dask_collection`), so that ``import skcgd`` never loads Dask.
"""

import sys

__all__ = ["is_dask_collection", "require_dask"]


def is_dask_collection(obj):
    """Whether ``obj`` is a Dask collection (array, dataframe, series).

    Without loading Dask: an object can only be a Dask collection if Dask is imported.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd._chunked import is_dask_collection
    >>> is_dask_collection(np.zeros(3))
    False
    """
    if "dask" not in sys.modules or obj is None:
        return False
    return type(obj).__module__.split(".")[0] in ("dask", "dask_expr")


def require_dask():
    """Import and return ``dask``, or raise an ImportError that names the extra."""
    try:
        import dask
        import dask.array  # noqa: F401
    except ImportError as exc:  # pragma: no cover - the test extra has Dask
        raise ImportError(
            "Fitting on Dask collections needs dask: pip install 'skcgd[dask]'."
        ) from exc
    return dask
