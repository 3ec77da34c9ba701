"""How the shared test suites and the docs build small instances of this subpackage's
estimators (see :mod:`skcgd._registry`)."""

from skcgd._registry import EstimatorSpec, register_estimator_spec


def _stacking_classifier_params():
    from skcgd.linear_model import MinimaxLogisticRegression

    return {
        "estimators": [
            ("chi2", MinimaxLogisticRegression()),
            ("kl", MinimaxLogisticRegression("kl", rho=0.5)),
        ],
        "cv": 3,
        "meta_cv": 2,
        "inner_cv": 2,
        "Cs": (1.0,),
    }


def _stacking_classifier_variants():
    from skcgd.linear_model import MinimaxLogisticRegression
    from skcgd.naive_bayes import GaussianNaiveBayes

    # a base model that refuses sparse input makes the stack refuse it
    return (
        {},
        {
            "estimators": [
                ("minimax", MinimaxLogisticRegression()),
                ("nb", GaussianNaiveBayes("shared")),
            ]
        },
    )


def _stacking_regressor_params():
    from sklearn.linear_model import Lasso, Ridge

    from skcgd.ensemble import RegularizedMetaLearner

    # base models whose types skops trusts, so that the persistence suite sees skcgd's own
    return {
        "estimators": [("ridge", Ridge(1.0)), ("lasso", Lasso(0.05))],
        "cv": 3,
        "meta_learner": RegularizedMetaLearner(lasso_alphas=5, cv=3),
    }


register_estimator_spec(
    "RegularizedMetaLearner",
    EstimatorSpec(
        task="regressor",
        params={"lasso_alphas": 5, "cv": 3},
        variants=({}, {"meta_features": False, "solver": "cg", "l1_ratio": (0.5,)}),
        sparse_densifies="the prediction columns (model outputs, dense by nature); extra "
        "passthrough columns stay sparse",
    ),
)
register_estimator_spec(
    "GreedyEnsembleSelection",
    EstimatorSpec(
        task="regressor",
        params={"ensemble_size": 10, "n_init": 2, "random_state": 0},
        variants=({}, {"metric": "mae", "n_bags": 3}),
    ),
)
register_estimator_spec(
    "RidgeStackingClassifier",
    EstimatorSpec(
        task="classifier",
        params=_stacking_classifier_params,
        variants=_stacking_classifier_variants,
    ),
)
register_estimator_spec(
    "RidgeStackingRegressor",
    EstimatorSpec(task="regressor", params=_stacking_regressor_params),
)
