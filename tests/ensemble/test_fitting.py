"""How every ensemble estimator fits: atomically, without touching the process's warning
filters, passing sample weights and groups to sub-estimators that can take them (or, with
metadata routing, that request them), reporting its progress, and under which parameter names
(``final_estimator``, formerly ``meta_learner``)."""

import ast
import pathlib
import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import config_context
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.datasets import make_classification, make_friedman1
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge, RidgeCV
from sklearn.model_selection import GroupKFold, KFold, cross_val_predict
from sklearn.naive_bayes import GaussianNB
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import skcgd.ensemble
from skcgd.ensemble import (
    GreedyEnsembleSelection,
    RegularizedMetaClassifier,
    RegularizedMetaLearner,
    RidgeStackingClassifier,
    RidgeStackingRegressor,
)
from skcgd.linear_model import MinimaxLogisticRegression

# test sets that overlap (rows 40-59 twice): refused by every cross-validation of the wing,
# but only once the data have been validated (and, for a stack, the base models fitted)
OVERLAPPING = [(np.arange(60, 100), np.arange(0, 60)), (np.arange(0, 40), np.arange(40, 100))]


def _predictions(n=100, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    P = y[:, None] + rng.uniform(0.2, 1.0, 5) * rng.normal(size=(n, 5))
    return P, y


def _log_odds(n=100, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    L = (2.0 * y - 1.0)[:, None] + rng.uniform(0.5, 2.0, 4) * rng.normal(size=(n, 4))
    return L, y


def _nan_metric(y_true, y_pred):
    return np.nan


def _cases():
    """(first estimator and data, the failing refit): the refit gets data of another width
    (or without feature names), so that its validation resets n_features_in_ before it
    fails."""
    P, y = _predictions()
    L, labels = _log_odds()
    Xr, yr = make_friedman1(n_samples=100, random_state=0)
    Xc, yc = make_classification(n_samples=100, n_features=6, random_state=0)
    regressors = [
        ("ridge", Ridge(1.0)),
        ("tree", DecisionTreeRegressor(max_depth=3, random_state=0)),
    ]
    classifiers = [("nb", GaussianNB()), ("lr", LogisticRegression())]
    return {
        "RegularizedMetaLearner": (
            RegularizedMetaLearner(meta_models=("ridge",)),
            (P, y),
            dict(cv=OVERLAPPING),
            (P[:, :3], y),
        ),
        "RegularizedMetaClassifier": (
            RegularizedMetaClassifier(Cs=(0.1, 1.0)),
            (L, labels),
            dict(cv=OVERLAPPING),
            (L[:, :3], labels),
        ),
        "GreedyEnsembleSelection": (
            GreedyEnsembleSelection(10),
            (P, y),
            dict(metric=_nan_metric),
            (P[:, :3], y),
        ),
        "RidgeStackingRegressor": (
            RidgeStackingRegressor(regressors, cv=3),
            (Xr, yr),
            dict(final_estimator=RegularizedMetaLearner(cv=OVERLAPPING)),
            (Xr[:, :4], yr),
        ),
        "RidgeStackingClassifier": (
            RidgeStackingClassifier(classifiers, cv=3, Cs=(1.0,)),
            (Xc, yc),
            dict(meta_cv=OVERLAPPING),
            (Xc[:, :4], yc),
        ),
    }


CASES = _cases()


@pytest.mark.parametrize("name", list(CASES))
def test_a_failed_fit_leaves_the_estimator_as_it_was(name):
    # regression: attributes were set stage by stage, so a refit that failed late left the
    # new data's n_features_in_ (and kept columns, ...) beside the old model
    estimator, (X, y), failing_params, (X_bad, y_bad) = CASES[name]
    estimator.fit(X, y)
    before = dict(vars(estimator))
    predicted = estimator.predict(X)
    estimator.set_params(**failing_params)
    with pytest.raises(ValueError, match="overlap|NaN"):
        estimator.fit(X_bad, y_bad)
    params = set(estimator.get_params(deep=False))
    after = {k: v for k, v in vars(estimator).items() if k not in params}
    assert after.keys() == {k for k in before if k not in params}
    for key, value in after.items():
        assert value is before[key], key  # the very same fitted objects, not rebuilt ones
    assert_array_equal(estimator.predict(X), predicted)


def test_a_failed_first_fit_leaves_the_estimator_unfitted():
    P, y = _predictions()
    meta = RegularizedMetaLearner(cv=OVERLAPPING)
    with pytest.raises(ValueError, match="overlap"):
        meta.fit(P, y)
    assert not [k for k in vars(meta) if k.endswith("_")]


def test_a_refit_keeps_no_attribute_of_the_previous_fit():
    pd = pytest.importorskip("pandas")
    X, y = make_friedman1(n_samples=80, random_state=0)
    stack = RidgeStackingRegressor([("ridge", Ridge()), ("ols", LinearRegression())], cv=3)
    stack.fit(pd.DataFrame(X, columns=[f"f{j}" for j in range(10)]), y)
    assert hasattr(stack, "feature_names_in_")
    stack.fit(X, y)  # no names now: the old ones must not describe this fit
    assert not hasattr(stack, "feature_names_in_")
    P, y = _predictions()
    ges = GreedyEnsembleSelection(10).fit(P, y)
    assert hasattr(ges, "indices_")
    ges.set_params(n_bags=2, random_state=0).fit(P, y)
    assert not hasattr(ges, "indices_")  # (documented: without bagging only)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # max_iter=5
def test_fits_on_threads_leave_the_warning_filters_alone():
    # regression: RegularizedMetaLearner(solver="cg", n_jobs=4) ran warnings.catch_warnings in
    # joblib threads; it is not thread-safe, and the fit left ("always", ConvergenceWarning)
    # filters behind and swallowed later warnings
    P, y = _predictions(200)
    X, labels = make_classification(n_samples=120, n_features=5, random_state=0)
    before = list(warnings.filters)
    for _ in range(2):
        RegularizedMetaLearner(solver="cg", n_jobs=4, l1_ratio=(0.5,), max_iter=5).fit(P, y)
        RidgeStackingClassifier(
            [("nb", GaussianNB()), ("tree", DecisionTreeClassifier(max_depth=2))],
            n_jobs=4,
            Cs=(0.1, 1.0),
        ).fit(X, labels)
    assert warnings.filters == before
    with pytest.warns(UserWarning, match="still recorded"):
        warnings.warn("still recorded", UserWarning)


def test_no_warning_filters_in_the_ensemble_sources():
    # warnings.catch_warnings swaps the process-wide filter list: code that may run on joblib
    # or Dask worker threads (every fit, the warm-up) must handle conditions directly
    root = pathlib.Path(skcgd.ensemble.__file__).parent
    kernels = pathlib.Path(skcgd.__file__).parent / "_kernels"
    for path in [*root.glob("*.py"), kernels / "elastic_net.py", kernels / "greedy.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute):
                assert node.attr not in ("catch_warnings", "simplefilter", "filterwarnings"), (
                    f"{path.name}:{node.lineno} uses warnings.{node.attr}"
                )


class _RefusesLargeWeights(RegressorMixin, BaseEstimator):
    """A regressor with a sample_weight parameter that refuses some weights itself."""

    def fit(self, X, y, sample_weight=None):
        if sample_weight is not None and np.max(sample_weight) > 10:
            raise ValueError("sample_weight above 10 is not supported by this model.")
        self.mean_ = float(np.mean(y))
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict(self, X):
        return np.full(np.asarray(X).shape[0], self.mean_)


class _NoWeights(ClassifierMixin, BaseEstimator):
    """A classifier whose fit has no sample_weight parameter."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict_proba(self, X):
        return np.full((np.asarray(X).shape[0], self.classes_.size), 1.0 / self.classes_.size)


def test_a_base_estimators_own_sample_weight_error_reaches_the_user():
    # regression: any ValueError mentioning sample_weight became "does not accept
    # sample_weight", hiding what the base estimator said
    X, y = make_friedman1(n_samples=60, random_state=0)
    sw = np.ones(60)
    sw[0] = 50.0
    stack = RidgeStackingRegressor([("own", _RefusesLargeWeights()), ("ridge", Ridge())], cv=3)
    with pytest.raises(ValueError, match="sample_weight above 10 is not supported"):
        stack.fit(X, y, sample_weight=sw)


def test_a_genuine_lack_of_sample_weight_is_named():
    X, y = make_classification(n_samples=60, random_state=0)
    stack = RidgeStackingClassifier([("flat", _NoWeights()), ("nb", GaussianNB())], cv=3)
    with pytest.raises(TypeError, match="_NoWeights does not support sample weights"):
        stack.fit(X, y, sample_weight=np.ones(60))
    stack.fit(X, y)  # without weights it fits


def _stack_regressors():
    return [
        ("ols", LinearRegression()),
        ("ridge", Ridge(1e-3)),
        ("tree", DecisionTreeRegressor(max_depth=4, random_state=0)),
    ]


GROUP_LOG = []


# --------------------------------------------------------------- groups, routed or not


def test_groups_go_to_the_splitter_and_to_the_final_estimator():
    X, y = make_friedman1(n_samples=240, noise=0.5, random_state=0)
    groups = np.repeat(np.arange(24), 10)
    cv = GroupKFold(4)
    stack = RidgeStackingRegressor(_stack_regressors(), cv=cv).fit(X, y, groups=groups)
    expected = cross_val_predict(LinearRegression(), X, y, cv=cv, groups=groups)
    assert_allclose(stack.oof_predictions_[:, 0], expected)
    # the meta-learner's outer folds are grouped too when its cv is
    meta = RegularizedMetaLearner(cv=GroupKFold(3))
    stack = RidgeStackingRegressor(_stack_regressors(), cv=cv, final_estimator=meta)
    stack.fit(X, y, groups=groups)
    for train, test in GroupKFold(3).split(X, y, groups):
        assert not set(groups[train]) & set(groups[test])
    assert np.isfinite(stack.final_estimator_.meta_oof_predictions_).all()


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
        GROUP_LOG.append(None if groups is None else np.asarray(groups).copy())
        self.model_ = Ridge(1.0).fit(X, y)
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        return self.model_.predict(X)


def test_groups_reach_base_estimators_that_take_them():
    X, y = make_friedman1(n_samples=240, noise=0.5, random_state=0)
    groups = np.arange(240) % 7
    GROUP_LOG.clear()
    RidgeStackingRegressor([("rec", GroupRecorder()), ("ridge", Ridge())], cv=3).fit(
        X, y, groups=groups
    )
    for (train, _), logged in zip(KFold(3).split(X), GROUP_LOG[:3]):
        assert_array_equal(logged, groups[train])
    assert_array_equal(GROUP_LOG[3], groups)


def test_groups_are_routed_to_a_group_base_model_and_a_group_splitter():
    # oracle: scikit-learn's cross_val_predict with the same routing (groups to GroupKFold's
    # split and to the fits that request them), and the refit on all rows
    X, y = make_classification(n_samples=240, n_features=6, random_state=0)
    groups = np.repeat(np.arange(12), 20)
    sw = np.random.default_rng(0).uniform(0.5, 2.0, 240)
    with config_context(enable_metadata_routing=True):
        group_model = MinimaxLogisticRegression("group", rho=0.5).set_fit_request(
            groups=True, sample_weight=True
        )
        nb = GaussianNB().set_fit_request(sample_weight=True)
        stack = RidgeStackingClassifier(
            [("group", group_model), ("nb", nb)],
            cv=GroupKFold(4),
            stack_representation="log_odds",
            final_estimator=LogisticRegression(),
        ).fit(X, y, sample_weight=sw, groups=groups)
        params = {"groups": groups, "sample_weight": sw}
        oof = cross_val_predict(
            clone(group_model), X, y, cv=GroupKFold(4), method="predict_proba", params=params
        )
        full = clone(group_model).fit(X, y, groups=groups, sample_weight=sw)
        # a base model that did not say whether it wants them: scikit-learn's error
        with pytest.raises(ValueError, match="not explicitly set as requested"):
            RidgeStackingClassifier([("lr", LogisticRegression())], cv=GroupKFold(4)).fit(
                X, y, sample_weight=sw
            )
    p = np.clip(oof[:, 1], 1e-6, 1 - 1e-6)
    assert_allclose(stack.oof_predictions_[:, 0], np.log(p / (1 - p)), rtol=1e-10)
    assert_allclose(stack.named_estimators_["group"].coef_, full.coef_, rtol=1e-10)
    assert_allclose(stack.named_estimators_["group"].adversary_weights_, full.adversary_weights_)


def test_without_routing_extra_fit_parameters_are_refused():
    X, y = make_classification(n_samples=60, random_state=0)
    with pytest.raises(ValueError, match="only supported if enable_metadata_routing=True"):
        RidgeStackingClassifier([("nb", GaussianNB())]).fit(X, y, metadata="a")


# ----------------------------------------------------------------------------- final_estimator


@pytest.mark.parametrize("cls", [RidgeStackingRegressor, RidgeStackingClassifier])
def test_meta_learner_is_a_deprecated_alias_of_final_estimator(cls):
    X, y = make_classification(n_samples=120, n_features=5, random_state=0)
    if cls is RidgeStackingRegressor:
        ests, final = [("a", Ridge(1.0)), ("b", Ridge(10.0))], RidgeCV()
    else:
        ests, final = [("nb", GaussianNB()), ("lr", LogisticRegression())], LogisticRegression()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new name warns about nothing
        new = cls(ests, final_estimator=final).fit(X, y)
    with pytest.warns(FutureWarning, match="renamed final_estimator in 0.2.*removed in 0.4"):
        old = cls(ests, meta_learner=final).fit(X, y)
    assert_array_equal(old.predict(X), new.predict(X))
    assert old.meta_learner_ is old.final_estimator_  # the fitted attribute's old name
    # scikit-learn's convention for a renamed parameter: both in get_params, the old one a
    # sentinel by default; clone and set_params (nested too) keep working with either
    assert new.get_params()["meta_learner"] == "deprecated"
    assert "final_estimator__C" in new.get_params() or "final_estimator__alphas" in new.get_params()
    assert clone(old).meta_learner is not final and type(clone(old).meta_learner) is type(final)
    key = "meta_learner__fit_intercept"
    assert old.set_params(**{key: False}).get_params()[key] is False
    with pytest.raises(ValueError, match="pass final_estimator only"):
        cls(ests, final_estimator=final, meta_learner=final).fit(X, y)


# ----------------------------------------------------------------------------- verbose

LINE = re.compile(
    r"^\[RidgeStackingRegressor\] (\w+) (fold (\d)/3|refit on all rows) \((\d+\.\d\d) s\)$"
)


def test_verbose_prints_one_line_per_base_model_and_fold(capsys):
    X, y = make_friedman1(n_samples=90, random_state=0)
    ests = [("ridge", Ridge()), ("tree", DecisionTreeRegressor(max_depth=2, random_state=0))]
    RidgeStackingRegressor(ests, cv=3, final_estimator=RidgeCV()).fit(X, y)
    assert capsys.readouterr().out == ""  # verbose=0
    RidgeStackingRegressor(ests, cv=3, final_estimator=RidgeCV(), verbose=1).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    ours = [line for line in lines if LINE.match(line)]
    seen = {(LINE.match(line)[1], LINE.match(line)[2]) for line in ours}
    expected = {(n, f"fold {k}/3") for n, _ in ests for k in (1, 2, 3)}
    assert seen == expected | {(n, "refit on all rows") for n, _ in ests}
    assert len(ours) == 8
    assert lines[-1].startswith("[RidgeStackingRegressor] final estimator RidgeCV (")
