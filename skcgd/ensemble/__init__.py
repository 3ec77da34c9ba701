"""Stacking meta-learners: regularized meta-learning, ridge stacking, greedy ensemble selection.

:class:`RegularizedMetaLearner`, :class:`RegularizedMetaClassifier` and
:class:`GreedyEnsembleSelection` work on a matrix of base-model out-of-fold predictions (one
column per model; log-odds, one per class, for the classifier); :class:`RidgeStackingRegressor`
and :class:`RidgeStackingClassifier` compute that matrix from base estimators first and fit the
first two on it (or any ``final_estimator``), with scikit-learn's ``StackingRegressor`` /
``StackingClassifier`` API.
"""

from skcgd._registry import register_warm_up
from skcgd.ensemble import _specs  # noqa: F401  (registers the test specs)
from skcgd.ensemble._greedy import GreedyEnsembleSelection
from skcgd.ensemble._meta_classifier import RegularizedMetaClassifier
from skcgd.ensemble._meta_learner import RegularizedMetaLearner
from skcgd.ensemble._stacking import RidgeStackingRegressor
from skcgd.ensemble._stacking_classifier import RidgeStackingClassifier

__all__ = [
    "RegularizedMetaLearner",
    "RegularizedMetaClassifier",
    "RidgeStackingRegressor",
    "RidgeStackingClassifier",
    "GreedyEnsembleSelection",
]


def _warm_up():
    """Fit each estimator once on a tiny problem, compiling the kernels they use.

    Runs on Dask worker threads too: nothing here may touch process-wide state (no warning
    filters, no global configuration). Registered as three parts, which
    :func:`skcgd.utils.warm_up` runs in parallel.
    """
    _warm_up_meta_learner()
    _warm_up_greedy()
    _warm_up_classifiers()


def _regression_problem():
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = X @ np.array([1.0, -1.0, 0.5]) + 0.1 * rng.standard_normal(40)
    P = np.column_stack([y + 0.1 * rng.standard_normal(40) for _ in range(4)])
    return rng, X, y, P


@register_warm_up
def _warm_up_meta_learner():
    """The meta-learner's kernels (elastic-net paths, redundancy pass, CG ridge) and the
    regressor stack."""
    import numpy as np
    from sklearn.linear_model import LinearRegression, Ridge
    from sklearn.tree import DecisionTreeRegressor

    rng, X, y, P = _regression_problem()
    RegularizedMetaLearner(solver="direct", cv=3).fit(P, y).predict(P)
    # more columns than rows: the rows path (n x n kernels, the row-form elastic net), and
    # enough models for the compiled redundancy pass (KERNEL_MIN_MODELS)
    wide = np.repeat(P, 64, axis=1) + 0.1 * rng.standard_normal((P.shape[0], 256))
    RegularizedMetaLearner(cv=3, stages="paper", lasso_alphas=5, l1_ratio=(0.5,)).fit(wide, y)
    # the CG ridge path is the only compiled part of that solver: Lasso and elastic net (from
    # scikit-learn, hundreds of small fits) would cost seconds on every warm-up, e.g. in
    # every Dask worker, and compile nothing
    RegularizedMetaLearner(solver="cg", cv=3, meta_models=("ridge",)).fit(P, y).predict(P)
    regressors = [
        ("lr", LinearRegression()),
        ("ridge", Ridge(1.0)),
        ("tree", DecisionTreeRegressor(max_depth=2, random_state=0)),
    ]
    RidgeStackingRegressor(regressors, cv=3).fit(X, y).predict(X)


@register_warm_up
def _warm_up_greedy():
    """Greedy selection's kernels, float64 and float32 predictions (selected as they are)."""
    import numpy as np

    _, _, y, P = _regression_problem()
    for Pd in (P, P.astype(np.float32)):
        GreedyEnsembleSelection(ensemble_size=5, n_init=1).fit(Pd, y).predict(Pd)
        GreedyEnsembleSelection(ensemble_size=5, metric="mae").fit(Pd, y).predict(Pd)


@register_warm_up
def _warm_up_classifiers():
    """The meta-classifier (skcgd's Newton logistic regression on log-odds, binary and
    multiclass) and the classifier stack."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    rng, X, y, _ = _regression_problem()
    labels = (y > np.median(y)).astype(int)
    L = np.column_stack([y + 0.5 * rng.standard_normal(40) for _ in range(3)])
    RegularizedMetaClassifier(Cs=(0.1, 1.0), cv=2, inner_cv=2).fit(L, labels).predict_proba(L)
    thirds = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))
    L3 = np.hstack([np.column_stack([L[:, j], -L[:, j], 0.5 * L[:, j]]) for j in range(3)])
    RegularizedMetaClassifier(Cs=(1.0,), cv=2).fit(L3, thirds).predict_proba(L3)
    classifiers = [
        ("lr", LogisticRegression()),
        ("tree", DecisionTreeClassifier(max_depth=2, random_state=0)),
    ]
    RidgeStackingClassifier(classifiers, cv=3, meta_cv=3).fit(X, labels).predict(X)
