"""How every ensemble estimator fits: atomically, without touching the process's warning
filters, and passing sample weights to sub-estimators that can take them (regressions)."""

import ast
import pathlib
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.datasets import make_classification, make_friedman1
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
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
            dict(meta_learner=RegularizedMetaLearner(cv=OVERLAPPING)),
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
    with pytest.raises(TypeError, match="_NoWeights does not accept sample_weight"):
        stack.fit(X, y, sample_weight=np.ones(60))
    stack.fit(X, y)  # without weights it fits
