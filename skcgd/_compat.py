"""The one module through which skcgd reaches scikit-learn names that are not public API.

* ``_fit_context`` (parameter validation around ``fit``, skipping the nested validation of
  sub-estimators) and ``validate_data`` come from ``sklearn-compat``, which keeps them
  working across the supported scikit-learn releases.
* ``Interval``, ``StrOptions`` and ``HasMethods`` (the vocabulary of
  ``_parameter_constraints``) and ``_BaseHeterogeneousEnsemble`` (the base of
  scikit-learn's own stacking and voting estimators) have no public or compat equivalent;
  they are imported here only, so a change in scikit-learn is mended in one place, and
  ``tests/test_packaging.py`` checks that no other module of skcgd imports a private
  scikit-learn name. The supported range is stated in ``pyproject.toml`` and its lower end
  is tested by ``.ci/check_min_deps``.
"""

from sklearn.ensemble._base import _BaseHeterogeneousEnsemble
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn_compat.base import _fit_context
from sklearn_compat.utils.validation import validate_data

__all__ = [
    "HasMethods",
    "Interval",
    "StrOptions",
    "_BaseHeterogeneousEnsemble",
    "_fit_context",
    "validate_data",
]
