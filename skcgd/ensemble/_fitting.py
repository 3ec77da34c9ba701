"""How the ensemble estimators fit: sub-estimators with their fit arguments, and atomically.

* :func:`fit_estimator` (:func:`fit_params`) is the one place that decides which of
  ``sample_weight`` and ``groups`` a base estimator or meta-model gets without metadata
  routing. An estimator whose ``fit`` has no ``sample_weight`` parameter (and no ``**kwargs``)
  is refused with a message that says so; any error the estimator raises itself is its own
  and reaches the user unchanged. :func:`params_of_rows` restricts fit parameters (routed or
  not) to the rows of one fold.
* :func:`fit_atomically` decorates the estimators' ``fit``: a fit that fails leaves the
  estimator exactly as it was (fitted by an earlier call, or unfitted), never half-updated,
  and a fit that succeeds leaves only its own fitted attributes.
"""

import functools
import inspect

import numpy as np
import scipy.sparse as sp

from skcgd._base import restore_on_failure

__all__ = [
    "accepts_fit_param",
    "fit_atomically",
    "fit_estimator",
    "fit_params",
    "params_of_rows",
    "take_rows",
]


def accepts_fit_param(estimator, name):
    """Whether ``estimator.fit`` takes ``name``: as a named parameter, or via ``**kwargs``.

    Only a ``fit`` with neither genuinely lacks it; one with ``**kwargs`` (a ``Pipeline``,
    a ``TransformedTargetRegressor``) decides itself, and says so if it cannot use it.
    """
    try:
        params = inspect.signature(estimator.fit).parameters
    except (TypeError, ValueError):  # no introspectable signature: let fit decide
        return True
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def fit_params(estimator, sample_weight=None, groups=None):
    """The keyword arguments :func:`fit_estimator` gives ``estimator.fit`` (no routing).

    ``groups`` is passed only to an estimator whose ``fit`` names it (they are optional
    information, used by group-aware splitters); ``sample_weight`` is required information,
    so an estimator that cannot take it is refused.

    Raises
    ------
    TypeError
        ``sample_weight`` is given and ``estimator.fit`` has no parameter to take it.
    """
    kwargs = {}
    if sample_weight is not None:
        if not accepts_fit_param(estimator, "sample_weight"):
            # (scikit-learn's words first: its stacking tests match them)
            raise TypeError(
                f"{type(estimator).__name__} does not support sample weights: its fit method "
                "has no sample_weight parameter. Remove it from the estimators, or fit without "
                "weights."
            )
        kwargs["sample_weight"] = sample_weight
    if groups is not None:
        try:
            if "groups" in inspect.signature(estimator.fit).parameters:
                kwargs["groups"] = groups
        except (TypeError, ValueError):
            pass
    return kwargs


def fit_estimator(estimator, X, y, sample_weight=None, groups=None):
    """``estimator.fit(X, y)``, with ``sample_weight`` and ``groups`` when they are not None.

    See :func:`fit_params` for which of them the estimator gets.

    Raises
    ------
    TypeError
        ``sample_weight`` is given and ``estimator.fit`` has no parameter to take it.
    """
    return estimator.fit(X, y, **fit_params(estimator, sample_weight, groups))


def take_rows(X, rows):
    """The rows ``rows`` of X: an array or sparse matrix (a slice gives a view), a DataFrame,
    a list, or any container indexing rows with an index array."""
    if hasattr(X, "iloc"):
        return X.iloc[rows]
    if isinstance(X, np.ndarray) or sp.issparse(X):
        return X[rows]
    if isinstance(rows, slice):
        rows = np.arange(rows.start, rows.stop)
    if isinstance(X, (list, tuple)):
        return [X[i] for i in rows]
    return X[rows]


def params_of_rows(params, rows, n_samples):
    """The fit parameters of a fit on ``rows``: every per-sample value (a sequence of length
    ``n_samples``: weights, groups) restricted to them, anything else (a string, a scalar, a
    dict) as it is, as scikit-learn's ``cross_val_predict`` does with routed metadata.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.ensemble._fitting import params_of_rows
    >>> p = params_of_rows({"sample_weight": np.arange(4.0), "tag": "a"}, np.array([1, 3]), 4)
    >>> p["sample_weight"].tolist(), p["tag"]
    ([1.0, 3.0], 'a')
    """
    out = {}
    for key, value in params.items():
        per_sample = (
            value is not None
            and not isinstance(value, (str, bytes, dict))
            and (hasattr(value, "shape") or isinstance(value, (list, tuple)))
            and _length(value) == n_samples
        )
        out[key] = take_rows(value, rows) if per_sample else value
    return out


def _length(value):
    shape = getattr(value, "shape", None)
    if shape is not None:
        return shape[0] if len(shape) else None
    return len(value)


def _is_fitted_attribute(name):
    # scikit-learn's convention (check_is_fitted): fitted attributes end with "_"
    return name.endswith("_") and not name.startswith("__")


def fit_atomically(fit):
    """Decorate a ``fit``: all its fitted attributes are the new fit's, or all the old ones.

    The fit starts from no public fitted attribute (so none of an earlier fit survives a
    refit that does not set it again: ``feature_names_in_`` after a refit on an array), and
    :func:`skcgd._base.restore_on_failure` puts the previous state back if it raises, so a
    failed fit leaves the estimator exactly as it was (fitted earlier, or unfitted).
    """

    @restore_on_failure
    @functools.wraps(fit)
    def fresh(self, *args, **kwargs):
        for name in [name for name in vars(self) if _is_fitted_attribute(name)]:
            delattr(self, name)
        return fit(self, *args, **kwargs)

    return fresh
