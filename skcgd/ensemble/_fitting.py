"""How the ensemble estimators fit: sub-estimators with their fit arguments, and atomically.

* :func:`fit_estimator` is the one place that passes ``sample_weight`` (and ``groups``) to a
  base estimator or meta-model. An estimator whose ``fit`` has no such parameter (and no
  ``**kwargs``) is refused with a message that says so; any error the estimator raises itself
  is its own and reaches the user unchanged.
* :func:`fit_atomically` decorates the estimators' ``fit``: a fit that fails leaves the
  estimator exactly as it was (fitted by an earlier call, or unfitted), never half-updated,
  and a fit that succeeds leaves only its own fitted attributes.
"""

import functools
import inspect

from skcgd._base import restore_on_failure

__all__ = ["accepts_fit_param", "fit_atomically", "fit_estimator"]


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


def fit_estimator(estimator, X, y, sample_weight=None, groups=None):
    """``estimator.fit(X, y)``, with ``sample_weight`` and ``groups`` when they are not None.

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
            raise TypeError(
                f"{type(estimator).__name__} does not accept sample_weight in fit (its fit "
                "method has no sample_weight parameter); remove it from the estimators, or "
                "fit without weights."
            )
        kwargs["sample_weight"] = sample_weight
    if groups is not None:
        try:
            if "groups" in inspect.signature(estimator.fit).parameters:
                kwargs["groups"] = groups
        except (TypeError, ValueError):
            pass
    return estimator.fit(X, y, **kwargs)


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
