"""scikit-learn's own stacking tests, run against RidgeStackingClassifier / RidgeStackingRegressor.

The cases of ``sklearn/ensemble/tests/test_stacking.py`` (scikit-learn 1.9), rewritten for our
stackers: same data, same base and final estimators, same assertions, ``StackingClassifier``
-> ``RidgeStackingClassifier`` and ``StackingRegressor`` -> ``RidgeStackingRegressor`` with
their defaults (the regularized meta stage where scikit-learn has LogisticRegression /
RidgeCV). All 82 parametrizations apply. Where our documented behaviour differs, the
assertion states ours (one line each):

- test_get_feature_names_out: our columns are named ``<estimator><k>``, without scikit-learn's
  ``stackingclassifier_`` prefix (RegularizedMetaClassifier reports its dropped models by
  these names), and the default meta stage also gets ``<estimator>_proba<k>``.
- test_stacking_classifier_iris, test_stacking_classifier_drop_column_binary_classification,
  test_stacking_classifier_drop_binary_prob: the default meta stage gets log-odds, then the
  probabilities as extra columns (``stack_representation="both"``): the counts add those.
- test_stacking_randomness: the columns compared are picked by name (the extra probability
  columns of "first" follow those of "second").
- test_stacking_classifier_error / test_stacking_regressor_error: our error messages contain
  scikit-learn's ("does not support sample weight", "does not implement the method").
- test_metadata_routing_for_stacking_estimators: as scikit-learn, the final estimator's fit gets
  ``sample_weight`` unrouted; our router also sends ``groups`` to a ``cv`` splitter.
- test_stacking_without_n_features_in: scikit-learn's message, "object has no attribute
  n_features_in_".

Tolerances: the assertions are scikit-learn's (exact equality of fitted objects where it has
them, score thresholds 0.8); ``assert_allclose`` uses its default rtol=1e-7.
"""

import re
from unittest.mock import Mock

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn import config_context
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_iris,
    make_classification,
    make_multilabel_classification,
    make_regression,
)
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge, RidgeClassifier
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import scale
from sklearn.svm import SVC, LinearSVC, LinearSVR
from sklearn.tests.metadata_routing_common import (
    ConsumingClassifier,
    ConsumingRegressor,
    _Registry,
    check_recorded_metadata,
)
from sklearn.utils._mocking import CheckingClassifier
from sklearn.utils.fixes import COO_CONTAINERS, CSC_CONTAINERS, CSR_CONTAINERS

from skcgd.ensemble import RidgeStackingClassifier, RidgeStackingRegressor

# scikit-learn's fits of LinearSVC / LinearSVR / MLP on these data warn about convergence, as
# in its own tests
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

diabetes = load_diabetes()
X_diabetes, y_diabetes = diabetes.data, diabetes.target
iris = load_iris()
X_iris, y_iris = iris.data, iris.target
X_multilabel, y_multilabel = make_multilabel_classification(n_classes=3, random_state=42)
X_binary, y_binary = make_classification(n_classes=2, random_state=42)


@pytest.mark.parametrize("cv", [3, StratifiedKFold(n_splits=3, shuffle=True, random_state=42)])
@pytest.mark.parametrize("final_estimator", [None, RandomForestClassifier(random_state=42)])
@pytest.mark.parametrize("passthrough", [False, True])
def test_stacking_classifier_iris(cv, final_estimator, passthrough):
    X_train, X_test, y_train, y_test = train_test_split(
        scale(X_iris), y_iris, stratify=y_iris, random_state=42
    )
    estimators = [("lr", LogisticRegression()), ("svc", LinearSVC())]
    clf = RidgeStackingClassifier(
        estimators=estimators, final_estimator=final_estimator, cv=cv, passthrough=passthrough
    )
    clf.fit(X_train, y_train)
    clf.predict(X_test)
    clf.predict_proba(X_test)
    assert clf.score(X_test, y_test) > 0.8

    X_trans = clf.transform(X_test)
    # 3 log-odds + 3 decision values, and for the default meta stage lr's 3 probabilities
    n_proba = 3 if final_estimator is None else 0
    assert X_trans.shape[1] == (10 if passthrough else 6) + n_proba
    if passthrough:
        assert_allclose(X_test, X_trans[:, -4:])

    clf.set_params(lr="drop")
    clf.fit(X_train, y_train)
    clf.predict(X_test)
    clf.predict_proba(X_test)
    if final_estimator is None:
        clf.decision_function(X_test)  # (ours: from the default meta stage's probabilities)

    X_trans = clf.transform(X_test)
    assert X_trans.shape[1] == (7 if passthrough else 3)
    if passthrough:
        assert_allclose(X_test, X_trans[:, -4:])


def test_stacking_classifier_drop_column_binary_classification():
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, _ = train_test_split(scale(X), y, stratify=y, random_state=42)
    # both give probabilities: one log-odds column each for two classes
    estimators = [("lr", LogisticRegression()), ("rf", RandomForestClassifier(random_state=42))]
    clf = RidgeStackingClassifier(estimators=estimators, cv=3)
    clf.fit(X_train, y_train)
    assert clf.transform(X_test).shape[1] == 2 + 2  # (and one probability column each)
    # LinearSVC gives one decision value
    clf.set_params(estimators=[("lr", LogisticRegression()), ("svc", LinearSVC())])
    clf.fit(X_train, y_train)
    assert clf.transform(X_test).shape[1] == 2 + 1


def test_stacking_classifier_drop_estimator():
    X_train, X_test, y_train, _ = train_test_split(
        scale(X_iris), y_iris, stratify=y_iris, random_state=42
    )
    estimators = [("lr", "drop"), ("svc", LinearSVC(random_state=0))]
    rf = RandomForestClassifier(n_estimators=10, random_state=42)
    clf = RidgeStackingClassifier(
        estimators=[("svc", LinearSVC(random_state=0))], final_estimator=rf, cv=5
    )
    clf_drop = RidgeStackingClassifier(estimators=estimators, final_estimator=rf, cv=5)
    clf.fit(X_train, y_train)
    clf_drop.fit(X_train, y_train)
    assert_allclose(clf.predict(X_test), clf_drop.predict(X_test))
    assert_allclose(clf.predict_proba(X_test), clf_drop.predict_proba(X_test))
    assert_allclose(clf.transform(X_test), clf_drop.transform(X_test))


def test_stacking_regressor_drop_estimator():
    X_train, X_test, y_train, _ = train_test_split(scale(X_diabetes), y_diabetes, random_state=42)
    estimators = [("lr", "drop"), ("ridge", Ridge(alpha=1.0))]
    rf = RandomForestRegressor(n_estimators=10, random_state=42)
    reg = RidgeStackingRegressor(estimators=[("ridge", Ridge(alpha=1.0))], final_estimator=rf, cv=5)
    reg_drop = RidgeStackingRegressor(estimators=estimators, final_estimator=rf, cv=5)
    reg.fit(X_train, y_train)
    reg_drop.fit(X_train, y_train)
    assert_allclose(reg.predict(X_test), reg_drop.predict(X_test))
    assert_allclose(reg.transform(X_test), reg_drop.transform(X_test))


@pytest.mark.parametrize("cv", [3, KFold(n_splits=3, shuffle=True, random_state=42)])
@pytest.mark.parametrize(
    "final_estimator, predict_params",
    [
        (None, {}),
        (RandomForestRegressor(random_state=42), {}),
        (DummyRegressor(), {"return_std": True}),
    ],
)
@pytest.mark.parametrize("passthrough", [False, True])
def test_stacking_regressor_diabetes(cv, final_estimator, predict_params, passthrough):
    X_train, X_test, y_train, _ = train_test_split(scale(X_diabetes), y_diabetes, random_state=42)
    estimators = [("lr", LinearRegression()), ("svr", LinearSVR())]
    reg = RidgeStackingRegressor(
        estimators=estimators, final_estimator=final_estimator, cv=cv, passthrough=passthrough
    )
    reg.fit(X_train, y_train)
    result = reg.predict(X_test, **predict_params)
    if predict_params:
        assert len(result) == 2  # (mean, std) of the final estimator

    X_trans = reg.transform(X_test)
    assert X_trans.shape[1] == (12 if passthrough else 2)
    if passthrough:
        assert_allclose(X_test, X_trans[:, -10:])

    reg.set_params(lr="drop")
    reg.fit(X_train, y_train)
    reg.predict(X_test)
    X_trans = reg.transform(X_test)
    assert X_trans.shape[1] == (11 if passthrough else 1)
    if passthrough:
        assert_allclose(X_test, X_trans[:, -10:])


SPARSE_CASES = [  # (stacker, base estimators, final estimator class, data)
    (
        RidgeStackingRegressor,
        [LinearRegression(), LinearSVR()],
        RandomForestRegressor,
        X_diabetes,
        y_diabetes,
    ),
    (
        RidgeStackingClassifier,
        [LogisticRegression(), LinearSVC()],
        RandomForestClassifier,
        X_iris,
        y_iris,
    ),
]


@pytest.mark.parametrize(
    "Stacker, bases, Final, X, y", SPARSE_CASES, ids=["regressor", "classifier"]
)
@pytest.mark.parametrize("sparse_container", COO_CONTAINERS + CSC_CONTAINERS + CSR_CONTAINERS)
def test_stacking_sparse_passthrough(sparse_container, Stacker, bases, Final, X, y):
    # (scikit-learn's test_stacking_regressor_sparse_passthrough and its classifier twin)
    X_train, X_test, y_train, _ = train_test_split(sparse_container(scale(X)), y, random_state=42)
    estimators = list(zip(["lr", "svr"], bases))
    final = Final(n_estimators=10, random_state=42)
    clf = Stacker(estimators=estimators, final_estimator=final, cv=5, passthrough=True)
    clf.fit(X_train, y_train)
    X_trans = clf.transform(X_test)
    assert_allclose(X_test.toarray(), X_trans.tocsc()[:, -X.shape[1] :].toarray())
    assert sparse.issparse(X_trans)
    assert X_test.format == X_trans.format


def test_stacking_classifier_drop_binary_prob():
    X_, y_ = scale(X_iris[:100]), y_iris[:100]
    estimators = [("lr", LogisticRegression()), ("rf", RandomForestClassifier())]
    clf = RidgeStackingClassifier(estimators=estimators)
    clf.fit(X_, y_)
    assert clf.transform(X_).shape[1] == 2 + 2  # one log-odds and one probability column each


class NoWeightRegressor(RegressorMixin, BaseEstimator):
    def fit(self, X, y):
        self.reg = DummyRegressor()
        return self.reg.fit(X, y)

    def predict(self, X):
        return np.ones(X.shape[0])


class NoWeightClassifier(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.clf = DummyClassifier(strategy="stratified")
        return self.clf.fit(X, y)


NO_ESTIMATORS = ({"estimators": []}, ValueError, "Invalid 'estimators' attribute,")
NO_WEIGHT = "does not support sample weight"
LR, LSVC = LogisticRegression(), LinearSVC(max_iter=50_000)
CLASSIFIER_ERRORS = [
    NO_ESTIMATORS,
    (
        {
            "estimators": [("lr", LR), ("svm", SVC(max_iter=50_000))],
            "stack_method": "predict_proba",
        },
        ValueError,
        "does not implement the method predict_proba",
    ),
    ({"estimators": [("lr", LR), ("cor", NoWeightClassifier())]}, TypeError, NO_WEIGHT),
    (
        {"estimators": [("lr", LR), ("cor", LSVC)], "final_estimator": NoWeightClassifier()},
        TypeError,
        NO_WEIGHT,
    ),
]
REGRESSOR_ERRORS = [
    NO_ESTIMATORS,
    (
        {"estimators": [("lr", LinearRegression()), ("cor", NoWeightRegressor())]},
        TypeError,
        NO_WEIGHT,
    ),
    (
        {
            "estimators": [("lr", LinearRegression()), ("cor", LinearSVR())],
            "final_estimator": NoWeightRegressor(),
        },
        TypeError,
        NO_WEIGHT,
    ),
]


@pytest.mark.parametrize("params, type_err, msg_err", CLASSIFIER_ERRORS)
def test_stacking_classifier_error(params, type_err, msg_err):
    with pytest.raises(type_err, match=msg_err):
        clf = RidgeStackingClassifier(**params, cv=3)
        clf.fit(scale(X_iris), y_iris, sample_weight=np.ones(X_iris.shape[0]))


@pytest.mark.parametrize("params, type_err, msg_err", REGRESSOR_ERRORS)
def test_stacking_regressor_error(params, type_err, msg_err):
    with pytest.raises(type_err, match=msg_err):
        reg = RidgeStackingRegressor(**params, cv=3)
        reg.fit(scale(X_diabetes), y_diabetes, sample_weight=np.ones(X_diabetes.shape[0]))


IDS = ["RidgeStackingClassifier", "RidgeStackingRegressor"]
X_breast, y_breast = load_breast_cancer(return_X_y=True)


def _ridges(names=("first", "second")):
    return list(zip(names, [Ridge(alpha=1.0), Ridge(alpha=1e-6)]))


def _lr_svm(svm_seed=42):
    return [("lr", LogisticRegression()), ("svm", LinearSVC(random_state=svm_seed))]


RANDOMNESS_CASES = [
    (
        RidgeStackingClassifier(
            [("first", LogisticRegression(random_state=0)), ("second", LinearSVC(random_state=0))]
        ),
        X_iris[:100],
        y_iris[:100],
    ),
    (RidgeStackingRegressor(_ridges()), X_diabetes, y_diabetes),
]


@pytest.mark.parametrize("estimator, X, y", RANDOMNESS_CASES, ids=IDS)
def test_stacking_randomness(estimator, X, y):
    # a seeded shuffling cv gives the same folds to every base model and every fit
    estimator_full = clone(estimator)
    estimator_full.set_params(cv=KFold(shuffle=True, random_state=np.random.RandomState(0)))
    estimator_drop = clone(estimator)
    estimator_drop.set_params(first="drop")
    estimator_drop.set_params(cv=KFold(shuffle=True, random_state=np.random.RandomState(0)))
    full = estimator_full.fit(X, y)
    second = ~np.char.startswith(full.get_feature_names_out().astype(str), "first")
    assert_allclose(full.transform(X)[:, second], estimator_drop.fit(X, y).transform(X))


def test_stacking_classifier_stratify_default():
    # iris is sorted by class: an unstratified KFold would leave classes out of training folds
    clf = RidgeStackingClassifier(
        estimators=[
            ("lr", LogisticRegression(max_iter=10_000)),
            ("svm", LinearSVC(max_iter=10_000)),
        ]
    )
    clf.fit(X_iris, y_iris)


SHUFFLED = KFold(shuffle=True, random_state=42)
WEIGHT_CASES = [
    (
        RidgeStackingClassifier(_lr_svm(), final_estimator=LogisticRegression(), cv=SHUFFLED),
        X_breast,
        y_breast,
    ),
    (
        RidgeStackingRegressor(_ridges(), final_estimator=LinearRegression(), cv=SHUFFLED),
        X_diabetes,
        y_diabetes,
    ),
]


@pytest.mark.parametrize("stacker, X, y", WEIGHT_CASES, ids=IDS)
def test_stacking_with_sample_weight(stacker, X, y):
    n_half_samples = len(y) // 2
    total_sample_weight = np.array([0.1] * n_half_samples + [0.9] * (len(y) - n_half_samples))
    X_train, X_test, y_train, _, sample_weight_train, _ = train_test_split(
        X, y, total_sample_weight, random_state=42
    )
    stacker = clone(stacker)
    stacker.fit(X_train, y_train)
    y_pred_no_weight = stacker.predict(X_test)
    stacker.fit(X_train, y_train, sample_weight=np.ones(y_train.shape))
    y_pred_unit_weight = stacker.predict(X_test)
    assert_allclose(y_pred_no_weight, y_pred_unit_weight)
    stacker.fit(X_train, y_train, sample_weight=sample_weight_train)
    y_pred_biased = stacker.predict(X_test)
    assert np.abs(y_pred_no_weight - y_pred_biased).sum() > 0


def test_stacking_classifier_sample_weight_fit_param():
    # sample_weight reaches every fit: CheckingClassifier refuses a fit without it
    stacker = RidgeStackingClassifier(
        estimators=[("lr", CheckingClassifier(expected_sample_weight=True))],
        final_estimator=CheckingClassifier(expected_sample_weight=True),
    )
    stacker.fit(X_iris, y_iris, sample_weight=np.ones(X_iris.shape[0]))


CV_CASES = [
    (RidgeStackingClassifier(_lr_svm(), final_estimator=LogisticRegression()), X_breast, y_breast),
    (
        RidgeStackingRegressor(_ridges(("ridge1", "ridge2")), final_estimator=LinearRegression()),
        X_diabetes,
        y_diabetes,
    ),
]


@pytest.mark.parametrize("stacker, X, y", CV_CASES, ids=IDS)
def test_stacking_cv_influence(stacker, X, y):
    # cv changes the final estimator's fit, not the base estimators' (refitted on all rows)
    stacker_cv_3 = clone(stacker).set_params(cv=3)
    stacker_cv_5 = clone(stacker).set_params(cv=5)
    stacker_cv_3.fit(X, y)
    stacker_cv_5.fit(X, y)
    for est_cv_3, est_cv_5 in zip(stacker_cv_3.estimators_, stacker_cv_5.estimators_):
        assert_allclose(est_cv_3.coef_, est_cv_5.coef_)
    with pytest.raises(AssertionError, match="Not equal"):
        assert_allclose(stacker_cv_3.final_estimator_.coef_, stacker_cv_5.final_estimator_.coef_)


@pytest.mark.parametrize(
    "Stacker, Estimator, stack_method, final_estimator, X, y",
    (
        (
            RidgeStackingClassifier,
            DummyClassifier,
            "predict_proba",
            LogisticRegression(random_state=42),
            X_iris,
            y_iris,
        ),
        (
            RidgeStackingRegressor,
            DummyRegressor,
            "predict",
            LinearRegression(),
            X_diabetes,
            y_diabetes,
        ),
    ),
)
def test_stacking_prefit(Stacker, Estimator, stack_method, final_estimator, X, y):
    X_train1, X_train2, y_train1, y_train2 = train_test_split(X, y, random_state=42, test_size=0.5)
    estimators = [
        ("d0", Estimator().fit(X_train1, y_train1)),
        ("d1", Estimator().fit(X_train1, y_train1)),
    ]
    # mock fit and the stack method, to see what is called with what
    for _, estimator in estimators:
        estimator.fit = Mock(name="fit")
        stack_func = getattr(estimator, stack_method)
        predict_method_mocked = Mock(side_effect=stack_func)
        predict_method_mocked.__name__ = stack_method
        setattr(estimator, stack_method, predict_method_mocked)

    stacker = Stacker(estimators=estimators, cv="prefit", final_estimator=final_estimator)
    stacker.fit(X_train2, y_train2)

    assert stacker.estimators_ == [estimator for _, estimator in estimators]
    assert all(estimator.fit.call_count == 0 for estimator in stacker.estimators_)
    for estimator in stacker.estimators_:
        getattr(estimator, stack_method).assert_called_with(X_train2)


PREFIT_ERROR_CASES = [
    (
        RidgeStackingClassifier([("lr", LogisticRegression()), ("svm", SVC())], cv="prefit"),
        X_iris,
        y_iris,
    ),
    (
        RidgeStackingRegressor([("lr", LinearRegression()), ("svm", LinearSVR())], cv="prefit"),
        X_diabetes,
        y_diabetes,
    ),
]


@pytest.mark.parametrize("stacker, X, y", PREFIT_ERROR_CASES)
def test_stacking_prefit_error(stacker, X, y):
    with pytest.raises(NotFittedError):
        stacker.fit(X, y)


@pytest.mark.parametrize(
    "make_dataset, Stacking, Estimator",
    [
        (make_classification, RidgeStackingClassifier, LogisticRegression),
        (make_regression, RidgeStackingRegressor, LinearRegression),
    ],
)
def test_stacking_without_n_features_in(make_dataset, Stacking, Estimator):
    class MyEstimator(Estimator):
        """Estimator without n_features_in_"""

        def fit(self, X, y):
            super().fit(X, y)
            del self.n_features_in_

    X, y = make_dataset(random_state=0, n_samples=100)
    stacker = Stacking(estimators=[("lr", MyEstimator())])
    msg = f"{Stacking.__name__} object has no attribute n_features_in_"
    with pytest.raises(AttributeError, match=msg):
        stacker.n_features_in_
    stacker.fit(X, y)  # does not raise
    msg = "'MyEstimator' object has no attribute 'n_features_in_'"
    with pytest.raises(AttributeError, match=msg):
        stacker.n_features_in_


@pytest.mark.parametrize(
    "estimator",
    [
        MLPClassifier(random_state=42),  # (n, n_labels) probabilities of label 1
        RandomForestClassifier(random_state=42),  # one (n, 2) array per label
    ],
    ids=["MLPClassifier", "RandomForestClassifier"],
)
def test_stacking_classifier_multilabel_predict_proba(estimator):
    X_train, X_test, y_train, y_test = train_test_split(
        X_multilabel, y_multilabel, stratify=y_multilabel, random_state=42
    )
    stacker = RidgeStackingClassifier(
        estimators=[("est", estimator)],
        final_estimator=KNeighborsClassifier(),
        stack_method="predict_proba",
    ).fit(X_train, y_train)
    X_trans = stacker.transform(X_test)
    assert X_trans.shape == (X_test.shape[0], 3)
    # one column per label, none of them the collinear complement of another
    assert not any(np.isclose(X_trans.sum(axis=1), 1.0))
    assert stacker.predict(X_test).shape == y_test.shape


def test_stacking_classifier_multilabel_decision_function():
    X_train, X_test, y_train, y_test = train_test_split(
        X_multilabel, y_multilabel, stratify=y_multilabel, random_state=42
    )
    stacker = RidgeStackingClassifier(
        estimators=[("est", RidgeClassifier())],
        final_estimator=KNeighborsClassifier(),
        stack_method="decision_function",
    ).fit(X_train, y_train)
    assert stacker.transform(X_test).shape == (X_test.shape[0], 3)
    assert stacker.predict(X_test).shape == y_test.shape


@pytest.mark.parametrize("stack_method", ["auto", "predict"])
@pytest.mark.parametrize("passthrough", [False, True])
def test_stacking_classifier_multilabel_auto_predict(stack_method, passthrough):
    X_train, X_test, y_train, y_test = train_test_split(
        X_multilabel, y_multilabel, stratify=y_multilabel, random_state=42
    )
    y_train_before_fit = y_train.copy()
    estimators = [
        ("mlp", MLPClassifier(random_state=42)),
        ("rf", RandomForestClassifier(random_state=42)),
        ("ridge", RidgeClassifier()),
    ]
    clf = RidgeStackingClassifier(
        estimators=estimators,
        final_estimator=KNeighborsClassifier(),
        passthrough=passthrough,
        stack_method=stack_method,
    ).fit(X_train, y_train)
    assert_array_equal(y_train_before_fit, y_train)  # y is not changed in place
    assert clf.predict(X_test).shape == y_test.shape
    if stack_method == "auto":
        expected_stack_methods = ["predict_proba", "predict_proba", "decision_function"]
    else:
        expected_stack_methods = ["predict"] * len(estimators)
    assert clf.stack_method_ == expected_stack_methods
    n_features_X_trans = 3 * len(estimators) + (X_train.shape[1] if passthrough else 0)
    assert clf.transform(X_test).shape == (X_test.shape[0], n_features_X_trans)
    assert_array_equal(clf.classes_, [np.array([0, 1])] * 3)


@pytest.mark.parametrize(
    "stacker, feature_names, X, y, expected_names",
    [
        (
            RidgeStackingClassifier(_lr_svm(svm_seed=0)),
            iris.feature_names,
            X_iris,
            y_iris,
            ["lr0", "lr1", "lr2", "svm0", "svm1", "svm2", "lr_proba0", "lr_proba1", "lr_proba2"],
        ),
        (
            RidgeStackingClassifier(_lr_svm(svm_seed=0)[:1] + [("other", "drop")] + _lr_svm(0)[1:]),
            iris.feature_names,
            X_iris[:100],
            y_iris[:100],  # classes 0 and 1
            ["lr", "svm", "lr_proba"],
        ),
        (
            RidgeStackingRegressor(
                [("lr", LinearRegression()), ("svm", LinearSVR(random_state=0))]
            ),
            diabetes.feature_names,
            X_diabetes,
            y_diabetes,
            ["lr", "svm"],
        ),
    ],
    ids=["classifier_multiclass", "classifier_binary", "regressor"],
)
@pytest.mark.parametrize("passthrough", [True, False])
def test_get_feature_names_out(stacker, feature_names, X, y, expected_names, passthrough):
    stacker = clone(stacker)
    stacker.set_params(passthrough=passthrough)
    stacker.fit(scale(X), y)
    if passthrough:
        expected_names = np.concatenate((expected_names, feature_names))
    assert_array_equal(stacker.get_feature_names_out(feature_names), expected_names)


def test_stacking_classifier_base_regressor():
    # a regressor as a base model of the classifier (ordinal classes): its predict is stacked
    X_train, X_test, y_train, y_test = train_test_split(
        scale(X_iris), y_iris, stratify=y_iris, random_state=42
    )
    clf = RidgeStackingClassifier(estimators=[("ridge", Ridge())])
    clf.fit(X_train, y_train)
    clf.predict(X_test)
    clf.predict_proba(X_test)
    assert clf.score(X_test, y_test) > 0.8


def test_stacking_final_estimator_attribute_error():
    X, y = make_classification(random_state=42)
    estimators = [
        ("lr", LogisticRegression()),
        ("rf", RandomForestClassifier(n_estimators=2, random_state=42)),
    ]
    final_estimator = RandomForestClassifier(n_estimators=2, random_state=42)
    clf = RidgeStackingClassifier(estimators=estimators, final_estimator=final_estimator, cv=3)
    outer_msg = "This 'RidgeStackingClassifier' has no attribute 'decision_function'"
    inner_msg = "'RandomForestClassifier' object has no attribute 'decision_function'"
    with pytest.raises(AttributeError, match=outer_msg) as exec_info:
        clf.fit(X, y).decision_function(X)
    assert isinstance(exec_info.value.__cause__, AttributeError)
    assert inner_msg in str(exec_info.value.__cause__)


# ----------------------------------------------------------------------------- metadata routing

ROUTING_CASES = [
    (RidgeStackingClassifier, ConsumingClassifier),
    (RidgeStackingRegressor, ConsumingRegressor),
]


@pytest.mark.parametrize("Estimator, Child", ROUTING_CASES)
def test_routing_passed_metadata_not_supported(Estimator, Child):
    with pytest.raises(ValueError, match="is only supported if enable_metadata_routing=True"):
        Estimator(["clf", Child()]).fit(X_iris, y_iris, sample_weight=[1, 1, 1, 1, 1], metadata="a")


@pytest.mark.parametrize("Estimator, Child", ROUTING_CASES)
@config_context(enable_metadata_routing=True)
def test_get_metadata_routing_without_fit(Estimator, Child):
    Estimator([("sub_est", Child())]).get_metadata_routing()


@pytest.mark.parametrize("Estimator, Child", ROUTING_CASES)
@pytest.mark.parametrize(
    "prop, prop_value", [("sample_weight", np.ones(X_iris.shape[0])), ("metadata", "a")]
)
@config_context(enable_metadata_routing=True)
def test_metadata_routing_for_stacking_estimators(Estimator, Child, prop, prop_value):
    est = Estimator(
        [
            ("sub_est1", Child(registry=_Registry()).set_fit_request(**{prop: True})),
            ("sub_est2", Child(registry=_Registry()).set_fit_request(**{prop: True})),
        ],
        final_estimator=Child(registry=_Registry()).set_predict_request(**{prop: True}),
    )
    est.fit(X_iris, y_iris, **{prop: prop_value})
    for estimator in est.estimators_:
        assert len(estimator.registry)
        check_recorded_metadata(
            obj=estimator, method="fit", parent="fit", split_params=(prop,), **{prop: prop_value}
        )
    est.predict(X_iris, **{prop: prop_value})
    assert len(est.final_estimator_.registry)
    check_recorded_metadata(
        obj=est.final_estimator_,
        method="predict",
        parent="predict",
        split_params=(prop,),
        **{prop: prop_value},
    )


@pytest.mark.parametrize("Estimator, Child", ROUTING_CASES)
@config_context(enable_metadata_routing=True)
def test_metadata_routing_error_for_stacking_estimators(Estimator, Child):
    sample_weight, metadata = np.ones(X_iris.shape[0]), "a"
    est = Estimator([("sub_est", Child())])
    error_message = (
        "[sample_weight, metadata] are passed but are not explicitly set as requested"
        f" or not requested for {Child.__name__}.fit"
    )
    with pytest.raises(ValueError, match=re.escape(error_message)):
        est.fit(X_iris, y_iris, sample_weight=sample_weight, metadata=metadata)
