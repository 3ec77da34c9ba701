"""scikit-learn's estimator checks on every public skcgd estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skcgd.utils import all_estimators

# Checks an estimator is known to fail, with the reason; keep this as small as honesty allows.
EXPECTED_FAILED_CHECKS = {}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


@parametrize_with_checks([cls() for _, cls in all_estimators()],
                         expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
