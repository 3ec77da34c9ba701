"""MinimaxLogisticRegressionCV against GridSearchCV over the same grid, folds and scorer."""

import numpy as np
import pytest
from sklearn import config_context
from sklearn.datasets import make_classification
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    KFold,
    PredefinedSplit,
    StratifiedKFold,
)

from skcgd.linear_model import MinimaxLogisticRegression, MinimaxLogisticRegressionCV


def _data(multiclass, seed=0, n=240):
    X, y = make_classification(
        n_samples=n,
        n_features=6,
        n_informative=4,
        n_classes=3 if multiclass else 2,
        flip_y=0.15,
        random_state=seed,
    )
    groups = (X[:, 0] > 0.3).astype(int) + 2 * (np.arange(n) % 2)
    return X, y, groups


@pytest.mark.parametrize("multiclass", [False, True])
@pytest.mark.parametrize("scoring", [None, "neg_log_loss"])
@pytest.mark.parametrize("adversary", ["chi2", "kl"])
def test_picks_what_grid_search_picks(multiclass, scoring, adversary):
    X, y, _ = _data(multiclass)
    Cs, rhos = [0.01, 0.1, 1.0, 10.0], [0.0, 0.5, 2.0]
    folds = KFold(4, shuffle=True, random_state=0)
    cv = MinimaxLogisticRegressionCV(adversary, Cs=Cs, rhos=rhos, cv=folds, scoring=scoring)
    cv.fit(X, y)
    search = GridSearchCV(
        MinimaxLogisticRegression(adversary), {"C": Cs, "rho": rhos}, cv=folds, scoring=scoring
    ).fit(X, y)
    assert (cv.C_, cv.rho_) == (search.best_params_["C"], search.best_params_["rho"])
    # the same mean scores: warm starts change the cost of the path, not its solutions
    means = cv.scores_.mean(axis=0).T.ravel()  # GridSearchCV's order: C outer, rho inner
    np.testing.assert_allclose(means, search.cv_results_["mean_test_score"], rtol=1e-6, atol=1e-9)
    assert cv.best_score_ == pytest.approx(search.best_score_, rel=1e-6)
    np.testing.assert_allclose(cv.coef_, search.best_estimator_.coef_, rtol=1e-6, atol=1e-8)


def test_the_warm_path_costs_less_than_independent_fits():
    X, y, _ = _data(False, seed=1)
    Cs, rhos = np.logspace(-2, 2, 8), [0.0, 0.5, 1.0, 2.0]
    folds = StratifiedKFold(3)
    cv = MinimaxLogisticRegressionCV("kl", Cs=Cs, rhos=rhos, cv=folds).fit(X, y)
    cold = np.zeros_like(cv.n_iter_)
    for k, (train, _) in enumerate(folds.split(X, y)):
        for i, rho in enumerate(rhos):
            for j, C in enumerate(Cs):
                model = MinimaxLogisticRegression("kl", C=C, rho=rho).fit(X[train], y[train])
                cold[k, i, j] = model.n_iter_[0]
    # measured: the path takes about half the Newton steps of cold starts
    assert cv.n_iter_.sum() < 0.8 * cold.sum(), (cv.n_iter_.sum(), cold.sum())


def test_groups_go_to_the_splitter_and_to_the_group_adversary():
    X, y, groups = _data(False, seed=2)
    Cs, rhos = [0.1, 1.0], [0.0, 5.0]
    splitter = GroupKFold(4)
    cv = MinimaxLogisticRegressionCV("group", Cs=Cs, rhos=rhos, cv=splitter)
    cv.fit(X, y, groups=groups)
    with config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            MinimaxLogisticRegression("group").set_fit_request(groups=True),
            {"C": Cs, "rho": rhos},
            cv=splitter,
        ).fit(X, y, groups=groups)
    assert (cv.C_, cv.rho_) == (search.best_params_["C"], search.best_params_["rho"])
    np.testing.assert_array_equal(cv.groups_, [0, 1, 2, 3])


def test_a_scorer_that_takes_groups_scores_the_held_out_groups():
    X, y, groups = _data(False, seed=3)
    seen = []

    def worst_group_accuracy(estimator, X_test, y_test, groups):
        seen.append(len(groups))
        pred = estimator.predict(X_test)
        return min((pred[groups == g] == y_test[groups == g]).mean() for g in np.unique(groups))

    cv = MinimaxLogisticRegressionCV(
        "group", Cs=[0.1, 1.0], rhos=[0.0, 10.0], cv=GroupKFold(4), scoring=worst_group_accuracy
    ).fit(X, y, groups=groups)
    assert len(seen) == 4 * 2 * 2 and sum(seen) == 4 * len(y)
    assert 0 <= cv.best_score_ <= 1


def test_a_validation_tuned_probe_and_refit_false():
    # the seed's RAPTOR probe: C tuned on a validation split, the direction of coef_
    X, y, _ = _data(False, seed=4)
    fold = np.where(np.arange(len(y)) < 160, -1, 0)  # the last 80 rows validate
    probe = MinimaxLogisticRegressionCV(
        "none", Cs=np.logspace(-3, 2, 6), rhos=[0.0], cv=PredefinedSplit(fold), refit=False
    ).fit(X, y)
    train = MinimaxLogisticRegression("none", C=probe.C_).fit(X[:160], y[:160])
    np.testing.assert_allclose(probe.coef_, train.coef_, rtol=1e-12)
    direction = probe.coef_ / np.linalg.norm(probe.coef_)
    assert np.linalg.norm(direction) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"Cs": []}, "Cs is empty"),
        ({"rhos": []}, "rhos is empty"),
        ({"rhos": [-1.0]}, "rhos must hold non-negative numbers"),
        ({"Cs": [0.0, 1.0]}, "Cs must hold positive numbers"),
    ],
)
def test_bad_grids_are_refused_by_name(params, match):
    X, y, _ = _data(False)
    with pytest.raises(ValueError, match=match):
        MinimaxLogisticRegressionCV(**params).fit(X, y)
