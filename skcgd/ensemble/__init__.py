"""Stacking meta-learners: regularized meta-learning, ridge stacking, greedy ensemble selection.

:class:`RegularizedMetaLearner` and :class:`GreedyEnsembleSelection` work on a matrix of
base-model out-of-fold predictions (one column per model); :class:`RidgeStackingRegressor` and
:class:`RidgeStackingClassifier` compute that matrix from base estimators first.
"""

from skcgd._registry import register_warm_up
from skcgd.ensemble import _specs  # noqa: F401  (registers the test specs)
from skcgd.ensemble._greedy import GreedyEnsembleSelection
from skcgd.ensemble._meta_learner import RegularizedMetaLearner
from skcgd.ensemble._stacking import RidgeStackingClassifier, RidgeStackingRegressor

__all__ = [
    "RegularizedMetaLearner",
    "RidgeStackingRegressor",
    "RidgeStackingClassifier",
    "GreedyEnsembleSelection",
]


@register_warm_up
def _warm_up():
    """Fit each estimator once on a tiny problem, compiling the kernels they use."""
    import numpy as np
    from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = X @ np.array([1.0, -1.0, 0.5]) + 0.1 * rng.standard_normal(40)
    P = np.column_stack([y + 0.1 * rng.standard_normal(40) for _ in range(4)])
    RegularizedMetaLearner(solver="direct", cv=3).fit(P, y).predict(P)
    # the CG ridge path is the only compiled part of that solver: Lasso and elastic net (from
    # scikit-learn, hundreds of small fits) would cost seconds on every warm-up, e.g. in
    # every Dask worker, and compile nothing
    RegularizedMetaLearner(solver="cg", cv=3, meta_models=("ridge",)).fit(P, y).predict(P)
    for Pd in (P, P.astype(np.float32)):  # float32 predictions are selected as they are
        GreedyEnsembleSelection(ensemble_size=5, n_init=1).fit(Pd, y).predict(Pd)
        GreedyEnsembleSelection(ensemble_size=5, metric="mae").fit(Pd, y).predict(Pd)
    regressors = [
        ("lr", LinearRegression()),
        ("ridge", Ridge(1.0)),
        ("tree", DecisionTreeRegressor(max_depth=2, random_state=0)),
    ]
    RidgeStackingRegressor(regressors, cv=3).fit(X, y).predict(X)
    labels = (y > np.median(y)).astype(int)
    classifiers = [
        ("lr", LogisticRegression()),
        ("tree", DecisionTreeClassifier(max_depth=2, random_state=0)),
    ]
    RidgeStackingClassifier(classifiers, cv=3, meta_cv=3).fit(X, labels).predict(X)
