"""scikit-learn's estimator checks on every public skcgd estimator (the one place they run)."""

import pytest
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from skcgd.utils import all_estimators

# Estimators that cannot be built without arguments: the smallest honest configuration.
CONSTRUCTORS = {
    # a small grid: the checks test the API, the grid's size only multiplies the fits
    "MinimaxLogisticRegressionCV": lambda cls: cls(Cs=3, rhos=(0.0, 1.0), cv=3),
    "RidgeStackingRegressor": lambda cls: cls(
        [
            ("est1", DecisionTreeRegressor(max_depth=3, random_state=0)),
            ("est2", DecisionTreeRegressor(max_depth=3, random_state=1)),
        ],
        cv=3,
    ),
    "RidgeStackingClassifier": lambda cls: cls(
        [
            ("est1", DecisionTreeClassifier(max_depth=3, random_state=0)),
            ("est2", DecisionTreeClassifier(max_depth=3, random_state=1)),
        ],
        cv=3,
    ),
}

_CV_WEIGHTS = "K-fold splits of repeated rows differ from splits of weighted rows."
# Checks an estimator is known to fail, with the reason; keep this as small as honesty allows.
EXPECTED_FAILED_CHECKS = {
    # Weights are not repetitions for a cross-validated fit: a row of weight 2 stays in one
    # fold while its two copies can land in two, so the folds, the chosen penalties and the
    # out-of-fold predictions differ (scikit-learn marks its own CV estimators alike). The
    # default stage search (issue 14) happens to pass on the check's data (XPASS: its chosen
    # stages come out equal either way); stages="paper" fails it, so the entry stays.
    "RidgeStackingRegressor": {
        "check_sample_weight_equivalence_on_dense_data": _CV_WEIGHTS,
        "check_sample_weight_equivalence_on_sparse_data": _CV_WEIGHTS,
    },
    "RegularizedMetaLearner": {
        "check_sample_weight_equivalence_on_dense_data": _CV_WEIGHTS,
        "check_sample_weight_equivalence_on_sparse_data": _CV_WEIGHTS,
    },
}


def _variants():
    """Configurations beside the defaults whose code paths differ enough to be checked too:
    every registered adversary (a new one is checked without an edit here), with its default
    solver (Newton where the best response is closed-form) and with CGD (competitive mirror
    descent for an adversary on the simplex). Adversaries that need ``groups`` in fit, which
    the checks do not pass, are exercised in tests/linear_model."""
    from skcgd.games import ADVERSARIES
    from skcgd.linear_model import MinimaxLogisticRegression

    # the game solvers are first-order in each player's own curvature: on the checks'
    # unscaled data they need thousands of steps, and the checks test the API, not the
    # convergence (tests/linear_model does), so their budget is small
    short = {"solver": "cgd", "max_iter": 50}
    variants = []
    for name, adversary in ADVERSARIES.items():
        if adversary.needs_groups:
            continue
        if name != MinimaxLogisticRegression().adversary:  # the default is checked already
            variants.append(
                MinimaxLogisticRegression(name, **({} if adversary.has_primal else short))
            )
        if adversary.game_solvers and adversary.has_primal:  # else checked just above
            variants.append(MinimaxLogisticRegression(name, **short))
    return variants


def _instances():
    # an estimator that needs arguments and has no entry fails here, loudly, not silently
    return [
        CONSTRUCTORS.get(name, lambda cls: cls())(cls) for name, cls in all_estimators()
    ] + _variants()


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(_instances(), expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
