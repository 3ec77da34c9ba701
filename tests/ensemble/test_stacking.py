"""RidgeStackingRegressor / RidgeStackingClassifier, and scikit-learn's checks for all four classes.

The regression oracle is scikit-learn's StackingRegressor with a RidgeCV final estimator
(same splits, same alphas): with de-duplication, meta-features and blending off and ridge as
the only meta-model, the predictions must agree to 1e-8.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.datasets import load_iris, make_classification, make_friedman1
from sklearn.ensemble import StackingRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge, RidgeCV
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    KFold,
    StratifiedKFold,
    TimeSeriesSplit,
    cross_val_predict,
)
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from skcgd.ensemble import (
    RegularizedMetaLearner,
    RidgeStackingClassifier,
    RidgeStackingRegressor,
    _warm_up,
)
from skcgd.linear_model import MinimaxLogisticRegression

RTOL_EQUIVALENCE = 1e-8


def regression_data(n=240, seed=0):
    X, y = make_friedman1(n_samples=n, noise=0.5, random_state=seed)
    return X, y


def regressors():
    return [
        ("ols", LinearRegression()),
        ("ridge", Ridge(1e-3)),
        ("knn", KNeighborsRegressor(10)),
        ("tree", DecisionTreeRegressor(max_depth=4, random_state=0)),
    ]


def sklearn_like_meta(alphas=(0.1, 1.0, 10.0)):
    """The meta-learner configured as scikit-learn's RidgeCV on the raw OOF columns."""
    return RegularizedMetaLearner(
        corr_threshold=None,
        var_threshold=0.0,
        meta_features=False,
        meta_models=("ridge",),
        ridge_alphas=alphas,
        standardize=False,
    )


# ----------------------------------------------------------------------------- equivalence


@pytest.mark.parametrize("cv", [5, KFold(4, shuffle=True, random_state=0)])
def test_equals_scikit_learn_stacking_with_ridgecv(cv):
    X, y = regression_data()
    alphas = (0.1, 1.0, 10.0)
    ref = StackingRegressor(regressors(), final_estimator=RidgeCV(alphas=alphas), cv=cv).fit(X, y)
    ours = RidgeStackingRegressor(regressors(), meta_learner=sklearn_like_meta(alphas), cv=cv).fit(
        X, y
    )
    X_new, _ = regression_data(n=50, seed=1)
    assert ours.meta_learner_.alpha_["ridge"] == ref.final_estimator_.alpha_
    assert_allclose(ours.transform(X_new), ref.transform(X_new))
    assert_allclose(ours.predict(X_new), ref.predict(X_new), rtol=RTOL_EQUIVALENCE)


def test_precomputed_oof_gives_the_same_model():
    X, y = regression_data()
    stack = RidgeStackingRegressor(regressors()).fit(X, y)
    meta = RegularizedMetaLearner().fit(stack.oof_predictions_, y)
    X_new, _ = regression_data(n=50, seed=1)
    assert_allclose(meta.predict(stack.transform(X_new)), stack.predict(X_new), rtol=1e-12)
    expected = cross_val_predict(LinearRegression(), X, y, cv=5)
    assert_allclose(stack.oof_predictions_[:, 0], expected)
    assert [d["name"] for d in stack.meta_learner_.dropped_columns_] == ["ols"]


def test_any_meta_learner_and_prefit():
    X, y = regression_data()
    ours = RidgeStackingRegressor(regressors(), meta_learner=RidgeCV()).fit(X, y)
    ref = StackingRegressor(regressors(), final_estimator=RidgeCV(), cv=5).fit(X, y)
    assert_allclose(ours.predict(X), ref.predict(X), rtol=RTOL_EQUIVALENCE)
    fitted = [(name, clone(est).fit(X[:120], y[:120])) for name, est in regressors()]
    prefit = RidgeStackingRegressor(fitted, cv="prefit").fit(X[120:], y[120:])
    assert all(a is b for a, b in zip(prefit.estimators_, [est for _, est in fitted]))
    assert_allclose(prefit.oof_predictions_[:, 2], fitted[2][1].predict(X[120:]))


def test_n_jobs_do_not_change_the_result():
    X, y = regression_data()
    one = RidgeStackingRegressor(regressors(), n_jobs=1).fit(X, y)
    two = RidgeStackingRegressor(regressors(), n_jobs=2).fit(X, y)
    assert_allclose(one.oof_predictions_, two.oof_predictions_)
    assert_allclose(one.predict(X), two.predict(X))


FIT_LOG = []


class WeightRecorder(RegressorMixin, BaseEstimator):
    """Ridge that records the sample weights of every fit (n_jobs=1: same process)."""

    def fit(self, X, y, sample_weight=None):
        FIT_LOG.append(None if sample_weight is None else np.asarray(sample_weight).copy())
        self.model_ = Ridge(1.0).fit(X, y, sample_weight=sample_weight)
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        return self.model_.predict(X)


def test_sample_weight_reaches_every_fit():
    X, y = regression_data()
    sw = np.random.default_rng(0).uniform(0.5, 2.0, y.shape[0])
    FIT_LOG.clear()
    stack = RidgeStackingRegressor([("a", WeightRecorder()), ("b", Ridge(1.0))], cv=4)
    stack.fit(X, y, sample_weight=sw)
    assert len(FIT_LOG) == 5  # 4 folds + the refit on all rows
    splits = list(KFold(4).split(X))
    for (train, _), logged in zip(splits, FIT_LOG[:4]):
        assert_allclose(logged, sw[train])
    assert_allclose(FIT_LOG[4], sw)
    # the meta-learner gets them too: zero weights equal dropped rows
    sw0 = np.ones(y.shape[0])
    sw0[::5] = 0.0
    stack = RidgeStackingRegressor(
        [("a", Ridge(1.0)), ("b", Ridge(10.0))], meta_learner=RidgeCV()
    ).fit(X, y, sample_weight=sw0)
    ref = RidgeCV().fit(stack.oof_predictions_[sw0 > 0], y[sw0 > 0])
    assert_allclose(stack.meta_learner_.coef_, ref.coef_, rtol=1e-8)
    # a Pipeline routes weights to its steps by name: its own error says how
    with pytest.raises(ValueError, match="Pipeline.fit does not accept the sample_weight"):
        RidgeStackingRegressor(
            [("knn", make_pipeline(StandardScaler(), KNeighborsRegressor()))]
        ).fit(X, y, sample_weight=sw)
    with pytest.raises(TypeError, match="KNeighborsRegressor does not accept sample_weight"):
        RidgeStackingRegressor([("knn", KNeighborsRegressor())]).fit(X, y, sample_weight=sw)


def test_time_series_split_rows_without_prediction_are_left_out():
    X, y = regression_data()
    stack = RidgeStackingRegressor(regressors(), cv=TimeSeriesSplit(4)).fit(X, y)
    first = 240 - 4 * (240 // 5)
    assert np.isnan(stack.oof_predictions_[:first]).all()
    assert np.isfinite(stack.oof_predictions_[first:]).all()
    assert stack.predict(X).shape == y.shape


@pytest.mark.parametrize("sparse_input", [False, True])
def test_passthrough(sparse_input):
    X, y = regression_data()
    Xin = sp.csr_matrix(X) if sparse_input else X
    ests = [
        ("ridge", Ridge(1.0)),
        ("tree", DecisionTreeRegressor(max_depth=3, random_state=0)),
        ("ridge2", Ridge(100.0)),
    ]
    stack = RidgeStackingRegressor(ests, passthrough=True).fit(Xin, y)
    Z = stack.transform(Xin)
    assert sp.issparse(Z) == sparse_input
    assert Z.shape == (240, 3 + X.shape[1])
    assert stack.meta_learner_.n_predictions == 3
    assert stack.meta_learner_.solver_ == "direct"  # 13 columns: the Gram is tiny
    names = stack.get_feature_names_out()
    assert list(names) == ["ridge", "tree", "ridge2"] + [f"x{j}" for j in range(10)]
    meta_names = stack.meta_learner_.get_feature_names_out()
    assert list(meta_names[-10:]) == [f"x{j}" for j in range(3, 13)]  # its own input columns


def test_pipeline_and_grid_search():
    X, y = regression_data()
    stack = RidgeStackingRegressor(regressors(), meta_learner=RegularizedMetaLearner())
    params = stack.get_params()
    assert params["tree__max_depth"] == 4 and "meta_learner__corr_threshold" in params
    search = GridSearchCV(
        stack, {"meta_learner__corr_threshold": [0.9, 0.99], "tree__max_depth": [2, 4]}, cv=3
    ).fit(X, y)
    assert set(search.best_params_) == {"meta_learner__corr_threshold", "tree__max_depth"}
    stack.set_params(knn="drop", tree__max_depth=2)
    assert stack.get_params()["tree__max_depth"] == 2
    stack.fit(X, y)
    assert stack.oof_predictions_.shape == (240, 3)
    pipe = make_pipeline(StandardScaler(), RidgeStackingRegressor(regressors())).fit(X, y)
    assert pipe.predict(X).shape == y.shape


def test_dataframe_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = regression_data()
    df = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    stack = RidgeStackingRegressor(regressors(), passthrough=True).fit(df, y)
    assert list(stack.feature_names_in_) == list(df.columns)
    assert list(stack.get_feature_names_out()[-2:]) == ["f8", "f9"]


@pytest.mark.parametrize(
    "estimators, match",
    [
        ([], "non-empty"),
        ([("a", Ridge()), ("a", Ridge())], "unique"),
        ([("a__b", Ridge())], "__"),
        ([("a", "drop")], "drop"),
        ([("cv", Ridge())], "conflict"),
        ([("clf", LogisticRegression())], "classifier"),
    ],
)
def test_bad_estimators_are_named(estimators, match):
    X, y = regression_data()
    with pytest.raises(ValueError, match=match):
        RidgeStackingRegressor(estimators).fit(X, y)


# ----------------------------------------------------------------------------- classifier


def classifiers():
    return [
        ("nb", GaussianNB()),
        ("knn", KNeighborsClassifier(15)),
        ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
        ("lr", LogisticRegression(max_iter=1000)),
    ]


def test_classifier_binary_log_odds_and_blend():
    X, y = make_classification(n_samples=300, n_features=8, random_state=0)
    labels = np.where(y == 1, "yes", "no")
    clf = RidgeStackingClassifier(classifiers()).fit(X, labels)
    assert_array_equal(clf.classes_, ["no", "yes"])
    proba = cross_val_predict(GaussianNB(), X, y, cv=StratifiedKFold(5), method="predict_proba")[
        :, 1
    ]
    p = np.clip(proba, 1e-6, 1 - 1e-6)
    assert_allclose(clf.oof_predictions_[:, 0], np.log(p / (1 - p)))
    out = clf.predict_proba(X)
    assert out.shape == (300, 2) and np.allclose(out.sum(axis=1), 1.0)
    assert set(clf.predict(X)) <= {"yes", "no"}
    assert clf.score(X, labels) > 0.85
    meta = clf.meta_learner_
    assert meta.C_["logistic"] in (0.01, 0.1, 1.0, 10.0, 100.0)
    assert_allclose(meta.blend_weights_, [1.0])


def test_classifier_multiclass_blends_meta_models_by_inverse_log_loss():
    X, y = load_iris(return_X_y=True)
    models = [
        ("strong", LogisticRegression(max_iter=1000)),
        ("weak", LogisticRegression(C=0.05, max_iter=1000)),
    ]
    clf = RidgeStackingClassifier(
        classifiers(),
        meta_models=models,
        Cs=(1.0,),
        cv=StratifiedKFold(5, shuffle=True, random_state=0),
        meta_cv=StratifiedKFold(5, shuffle=True, random_state=0),
    )
    clf.fit(X, y)
    assert clf.oof_predictions_.shape == (150, 4 * 3)
    meta = clf.meta_learner_
    losses = meta.meta_oof_log_loss_
    assert_allclose(meta.blend_weights_, (1 / losses) / np.sum(1 / losses))
    assert clf.predict_proba(X).shape == (150, 3)
    assert clf.score(X, y) > 0.9
    names = clf.get_feature_names_out()
    assert list(names[:3]) == ["nb0", "nb1", "nb2"]


def test_classifier_drops_duplicate_models_and_accepts_decision_function():
    X, y = make_classification(n_samples=300, n_features=8, random_state=1)
    ests = [
        ("lr", LogisticRegression(max_iter=1000)),
        ("lr_twin", LogisticRegression(C=0.999, max_iter=1000)),
        ("svm", LinearSVC()),
        ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
    ]
    clf = RidgeStackingClassifier(ests).fit(X, y)
    assert clf.stack_method_ == [
        "predict_proba",
        "predict_proba",
        "decision_function",
        "predict_proba",
    ]
    dropped = {d["name"]: d for d in clf.meta_learner_.dropped_columns_}
    assert set(dropped) == {"lr_twin"} or set(dropped) == {"lr"}
    sk_like = RidgeStackingClassifier(ests, meta_learner=LogisticRegression()).fit(X, y)
    assert sk_like.predict(X).shape == y.shape


CLF_FIT_LOG = []


class WeightRecordingClassifier(ClassifierMixin, BaseEstimator):
    """Logistic regression that records the sample weights of every fit (same process)."""

    def __init__(self, C=1.0):
        self.C = C

    def fit(self, X, y, sample_weight=None):
        CLF_FIT_LOG.append(None if sample_weight is None else np.asarray(sample_weight).copy())
        self.model_ = LogisticRegression(C=self.C, max_iter=1000).fit(
            X, y, sample_weight=sample_weight
        )
        self.classes_ = self.model_.classes_
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


def _signature(weights):
    return np.round(np.sort(weights), 12).tobytes()


def test_classifier_sample_weight_reaches_every_fit():
    X, y = make_classification(n_samples=200, n_features=6, random_state=2)
    sw = np.random.default_rng(0).uniform(0.5, 2.0, 200)
    # base fits: 4 folds + the refit on all rows, each with its rows' weights
    CLF_FIT_LOG.clear()
    RidgeStackingClassifier([("rec", WeightRecordingClassifier()), ("nb", GaussianNB())], cv=4).fit(
        X, y, sample_weight=sw
    )
    assert len(CLF_FIT_LOG) == 5
    for (train, _), logged in zip(StratifiedKFold(4).split(X, y), CLF_FIT_LOG[:4]):
        assert_allclose(logged, sw[train])
    assert_allclose(CLF_FIT_LOG[4], sw)
    # meta stage: every fit of the nested tuning (outer meta_cv folds, inner folds, every C)
    # and every refit gets the weights of exactly its rows
    Cs = (0.1, 1.0)
    fitted = [(name, clone(est).fit(X[:100], y[:100])) for name, est in classifiers()]
    CLF_FIT_LOG.clear()
    clf = RidgeStackingClassifier(
        fitted,
        cv="prefit",
        meta_models=[("rec", WeightRecordingClassifier())],
        Cs=Cs,
        meta_cv=3,
        inner_cv=2,
    )
    Xm, ym, swm = X[100:], y[100:], sw[100:]
    clf.fit(Xm, ym, sample_weight=swm)
    expected = []
    fit_sets = [train for train, _ in StratifiedKFold(3).split(Xm, ym)] + [np.arange(100)]
    for rows in fit_sets:
        for tr, _ in StratifiedKFold(2).split(rows, ym[rows]):
            expected += [swm[rows[tr]]] * len(Cs)
        expected.append(swm[rows])
    assert all(logged is not None for logged in CLF_FIT_LOG)
    assert sorted(map(_signature, CLF_FIT_LOG)) == sorted(map(_signature, expected))


def test_classifier_sample_weight_and_errors():
    X, y = make_classification(n_samples=200, n_features=6, random_state=2)
    sw = np.random.default_rng(0).uniform(0.5, 2.0, 200)
    ests = [
        ("nb", GaussianNB()),
        ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
        ("lr", LogisticRegression(max_iter=1000)),
    ]
    clf = RidgeStackingClassifier(ests).fit(X, y, sample_weight=sw)
    assert clf.predict(X).shape == y.shape
    with pytest.raises(ValueError, match="two classes"):
        RidgeStackingClassifier(classifiers()).fit(X, np.zeros(200))
    with pytest.raises(ValueError, match="regressor"):
        RidgeStackingClassifier([("r", Ridge())]).fit(X, y)


# skcgd's Newton solver stops at a relative gradient norm of 1e-6; scikit-learn's lbfgs is run
# to 1e-12 as the oracle: probabilities agree to well below this (measured: ~1e-7)
ATOL_LOGISTIC_PROBA = 1e-5


@pytest.mark.parametrize("dataset", ["binary", "iris"])
def test_default_meta_model_is_skcgds_logistic_and_matches_scikit_learn(dataset):
    if dataset == "iris":
        X, y = load_iris(return_X_y=True)
    else:
        X, y = make_classification(n_samples=300, n_features=8, random_state=0)
    common = dict(cv=StratifiedKFold(5, shuffle=True, random_state=0), Cs=(0.1, 1.0, 10.0))
    ours = RidgeStackingClassifier(classifiers(), **common).fit(X, y)
    ((name, model),) = ours.meta_learner_.meta_models_
    assert isinstance(model, MinimaxLogisticRegression)
    # "auto" is Newton for every adversary with a closed-form best response, "none" included
    assert model.adversary == "none" and model.solver == "auto"
    oracle = LogisticRegression(tol=1e-12, max_iter=100000)
    ref = RidgeStackingClassifier(classifiers(), meta_models=[(name, oracle)], **common).fit(X, y)
    assert ours.meta_learner_.C_ == ref.meta_learner_.C_
    for key in ours.meta_learner_.meta_oof_C_:
        assert_array_equal(ours.meta_learner_.meta_oof_C_[key], ref.meta_learner_.meta_oof_C_[key])
    assert_allclose(
        ours.meta_learner_.meta_oof_proba_,
        ref.meta_learner_.meta_oof_proba_,
        atol=ATOL_LOGISTIC_PROBA,
    )
    assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=ATOL_LOGISTIC_PROBA)
    # the same objective: on the meta design, at the chosen C, the same coefficients
    ((_, sk_model),) = ref.meta_learner_.meta_models_
    assert_allclose(model.coef_, sk_model.coef_, rtol=1e-4, atol=1e-5)


def test_default_meta_stage_fits_without_warnings():
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RidgeStackingClassifier(
            classifiers(), cv=StratifiedKFold(5, shuffle=True, random_state=0)
        ).fit(X, y)


def test_classifier_meta_stage_tunes_C_inside_every_outer_fold():
    # Oracle: scikit-learn's StandardScaler + LogisticRegression, C chosen by GridSearchCV on
    # the outer fold's training rows only (inner StratifiedKFold(3), log-loss), predicting the
    # fold's test rows; stages 1-2 off so that the meta design is the OOF matrix itself.
    X, y = make_classification(n_samples=400, n_features=8, flip_y=0.1, random_state=3)
    Cs = (0.001, 0.01, 0.1, 1.0, 10.0)
    clf = RidgeStackingClassifier(
        classifiers(), corr_threshold=None, var_threshold=0.0, meta_features=False, Cs=Cs
    ).fit(X, y)
    meta = clf.meta_learner_
    Z = clf.oof_predictions_
    for f, (train, test) in enumerate(StratifiedKFold(5).split(Z, y)):
        search = GridSearchCV(
            make_pipeline(StandardScaler(), LogisticRegression(tol=1e-12, max_iter=100000)),
            {"logisticregression__C": Cs},
            cv=StratifiedKFold(3),
            scoring="neg_log_loss",
        ).fit(Z[train], y[train])
        assert meta.meta_oof_C_["logistic"][f] == search.best_params_["logisticregression__C"]
        assert_allclose(
            meta.meta_oof_proba_[test, 0], search.predict_proba(Z[test]), atol=ATOL_LOGISTIC_PROBA
        )
    # the out-of-fold choices differ from the final one somewhere: they were made apart
    assert len(set(meta.meta_oof_C_["logistic"]) | {meta.C_["logistic"]}) > 1
    losses = meta.meta_oof_log_loss_
    expected = -np.mean(np.log(meta.meta_oof_proba_[np.arange(400), 0, y]))
    assert_allclose(losses[0], expected, rtol=1e-12)


def test_classifier_meta_stage_n_jobs_is_bit_identical():
    X, y = load_iris(return_X_y=True)
    fitted = [(name, clone(est).fit(X[::2], y[::2])) for name, est in classifiers()]
    models = [
        ("minimax", MinimaxLogisticRegression(adversary="none")),
        ("sklearn", LogisticRegression(max_iter=1000)),
    ]
    fits = [
        RidgeStackingClassifier(fitted, cv="prefit", meta_models=models, n_jobs=n_jobs).fit(
            X[1::2], y[1::2]
        )
        for n_jobs in (1, 2)
    ]
    one, two = (f.meta_learner_ for f in fits)
    assert one.C_ == two.C_
    assert_array_equal(one.meta_oof_proba_, two.meta_oof_proba_)
    assert_array_equal(one.blend_weights_, two.blend_weights_)
    assert_array_equal(fits[0].predict_proba(X), fits[1].predict_proba(X))


def test_warm_up_runs():
    _warm_up()


# scikit-learn's estimator checks run once for every estimator in tests/test_common.py


# ----------------------------------------------------------------------------- groups


def test_groups_go_to_the_splitter_and_to_the_meta_learner():
    X, y = regression_data()
    groups = np.repeat(np.arange(24), 10)
    cv = GroupKFold(4)
    stack = RidgeStackingRegressor(regressors(), cv=cv).fit(X, y, groups=groups)
    expected = cross_val_predict(LinearRegression(), X, y, cv=cv, groups=groups)
    assert_allclose(stack.oof_predictions_[:, 0], expected)
    # the meta-learner's outer folds are grouped too when its cv is
    meta = RegularizedMetaLearner(cv=GroupKFold(3))
    stack = RidgeStackingRegressor(regressors(), cv=cv, meta_learner=meta)
    stack.fit(X, y, groups=groups)
    for train, test in GroupKFold(3).split(X, y, groups):
        assert not set(groups[train]) & set(groups[test])
    assert np.isfinite(stack.meta_learner_.meta_oof_predictions_).all()


@pytest.mark.parametrize("cls", [RidgeStackingRegressor, RidgeStackingClassifier])
def test_groups_of_mixed_types_are_a_named_error(cls):
    # regression: GroupKFold sorted the labels and failed with "'<' not supported between
    # instances of 'str' and 'int'"
    X, y = make_classification(n_samples=60, n_features=5, random_state=0)
    ests = [("lr", LogisticRegression())] if cls is RidgeStackingClassifier else [("r", Ridge())]
    groups = np.array([1, "a", 2, "b"] * 15, dtype=object)
    with pytest.raises(ValueError, match="groups mixes values of different types"):
        cls(ests, cv=GroupKFold(3)).fit(X, y, groups=groups)
    with pytest.raises(ValueError, match="groups mixes values of different types"):
        cls(ests, cv=GroupKFold(3)).fit(X, y, groups=[1, "a", 2, "b"] * 15)


class GroupRecorder(RegressorMixin, BaseEstimator):
    """Ridge that records the groups of every fit (n_jobs=1: same process)."""

    def fit(self, X, y, groups=None):
        FIT_LOG.append(None if groups is None else np.asarray(groups).copy())
        self.model_ = Ridge(1.0).fit(X, y)
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        return self.model_.predict(X)


def test_groups_reach_base_estimators_that_take_them():
    X, y = regression_data()
    groups = np.arange(240) % 7
    FIT_LOG.clear()
    RidgeStackingRegressor([("rec", GroupRecorder()), ("ridge", Ridge())], cv=3).fit(
        X, y, groups=groups
    )
    for (train, _), logged in zip(KFold(3).split(X), FIT_LOG[:3]):
        assert_array_equal(logged, groups[train])
    assert_array_equal(FIT_LOG[3], groups)


def test_a_class_without_out_of_fold_rows_is_a_named_error():
    X, y = make_classification(
        n_samples=90, n_features=5, n_classes=3, n_informative=3, random_state=0
    )
    others = np.flatnonzero(y != 0)
    train = np.concatenate([np.flatnonzero(y == 0), others[::2]])
    cv = [(train, others[1::2])]  # class 0 is never predicted out of fold
    with pytest.raises(ValueError, match="No row with an out-of-fold prediction has the class 0"):
        RidgeStackingClassifier([("lr", LogisticRegression())], cv=cv).fit(X, y)
