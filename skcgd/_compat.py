"""The one module through which skcgd reaches scikit-learn names that are not public API.

* ``_fit_context`` (parameter validation around ``fit``, skipping the nested validation of
  sub-estimators) and ``validate_data`` are scikit-learn's own on every supported release
  (``>= 1.6``); ``sklearn-compat``, which keeps them working across releases, supplies them
  if a release moves them. It is not imported otherwise: it loads scikit-learn's test
  utilities (and pytest), a third of the import time of an estimator.
* ``Interval``, ``StrOptions``, ``HasMethods`` and ``Hidden`` (the vocabulary of
  ``_parameter_constraints``; ``Hidden`` keeps a deprecated value out of error messages) and
  ``_BaseHeterogeneousEnsemble`` (the base of
  scikit-learn's own stacking and voting estimators, loaded on first use: it imports all of
  ``sklearn.ensemble``) have no public or compat equivalent; they are imported here only, so
  a change in scikit-learn is mended in one place, and ``tests/test_packaging.py`` checks
  that no other module of skcgd imports a private scikit-learn name. The supported range is
  stated in ``pyproject.toml`` and its lower end is tested by ``.ci/check_min_deps``.
"""

from sklearn.utils._param_validation import HasMethods, Hidden, Interval, StrOptions

try:
    from sklearn.base import _fit_context
    from sklearn.utils.validation import validate_data
except ImportError:  # pragma: no cover - a scikit-learn release that moved them
    from sklearn_compat.base import _fit_context
    from sklearn_compat.utils.validation import validate_data

__all__ = [
    "HasMethods",
    "Hidden",
    "Interval",
    "StrOptions",
    "_fit_context",
    "validate_data",
]


def __getattr__(name):  # _BaseHeterogeneousEnsemble, on first use
    if name == "_BaseHeterogeneousEnsemble":
        from sklearn.ensemble._base import _BaseHeterogeneousEnsemble

        return _BaseHeterogeneousEnsemble
    raise AttributeError(f"module 'skcgd._compat' has no attribute {name!r}")
