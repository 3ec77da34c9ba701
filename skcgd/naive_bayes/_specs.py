"""How the shared test suites and the docs build small instances of this subpackage's
estimators (see :mod:`skcgd._registry`)."""

from skcgd._registry import EstimatorSpec, register_estimator_spec

register_estimator_spec(
    "GaussianNaiveBayes",
    EstimatorSpec(
        task="classifier",
        variants=({"var_mode": "class"}, {"var_mode": "shared"}),
    ),
)
