"""Bugs the input/persistence suites found in estimators still being written.

Each entry marks one (test, estimator) pair as an expected failure, with the bug as the
reason, until the estimator's author fixes it: the marks are not strict, so a fix shows up
as XPASS and the entry should then be deleted. Keep this table short and specific; never
add an estimator that is not under active development here.
"""

import pytest

KNOWN_BUGS = {
    ("test_hostile_fit", "RegularizedMetaLearner"):
        "values near 1e300 or sample weights near 1e-300 end in numpy's LinAlgError 'SVD did "
        "not converge' instead of a ValueError naming the problem",
    ("test_hostile_fit", "RidgeStackingRegressor"):
        "same as RegularizedMetaLearner (its default meta-learner)",
    ("test_hostile_fit", "RidgeStackingClassifier"):
        "labels of mixed types (1, 'a') give TypeError \"'<' not supported between instances "
        "of 'int' and 'str'\" (use skcgd.utils._validation.check_classification_labels)",
    ("test_hostile_predict", "RegularizedMetaLearner"):
        "predict on X with values near 1e300 returns -inf/NaN instead of refusing",
    ("test_skops_round_trip_trusts_only_skcgd_types", "RidgeStackingRegressor"):
        "named_estimators_ is stored as a sklearn Bunch, which skops does not trust",
    ("test_skops_round_trip_trusts_only_skcgd_types", "RidgeStackingClassifier"):
        "named_estimators_ is stored as a sklearn Bunch, which skops does not trust",
}


def marks(test, estimator_name, run=True):
    """The xfail marks of ``test`` for ``estimator_name`` (empty if no known bug).

    ``run=False`` for property tests whose failure is costly (hypothesis shrinks the failing
    example, fitting the estimator hundreds of times): the ``slow`` variants still run them.
    """
    reason = KNOWN_BUGS.get((test, estimator_name))
    if not reason:
        return []
    return [pytest.mark.xfail(reason=f"known bug, reported: {reason}", strict=False, run=run)]
