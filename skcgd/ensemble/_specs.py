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
        "final_estimator": RegularizedMetaLearner(lasso_alphas=5, cv=3),
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


def _meta_classifier_variants():
    from sklearn.linear_model import LogisticRegression

    # the default: skcgd's Newton logistic regression, C chosen by inner CV; then two
    # scikit-learn meta-models without a warm start, blended uniformly, on the raw design with
    # chosen meta-features and a single C (no inner CV). On the suites' data (4 columns) the
    # log-odds layout applies to binary and 4-class problems; with 3 classes X is not a matrix
    # of log-odds, and stages 1-2 are skipped (see n_predictions)
    return (
        {},
        {
            "meta_models": [
                ("lr", LogisticRegression(max_iter=1000)),
                ("lr_strong", LogisticRegression(C=0.1, max_iter=1000)),
            ],
            "Cs": (1.0,),
            "standardize": False,
            "blend": "uniform",
            "meta_features": ("mean", "range"),
            "corr_threshold": None,
        },
    )


register_estimator_spec(
    "RegularizedMetaClassifier",
    EstimatorSpec(
        task="classifier",
        params={"cv": 3, "inner_cv": 2, "Cs": (0.1, 1.0)},
        variants=_meta_classifier_variants,
        sparse_densifies="the log-odds columns (model outputs, dense by nature); extra "
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
