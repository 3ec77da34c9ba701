"""How the shared test suites and the docs build small instances of this subpackage's
estimators (see :mod:`skcgd._registry`)."""

from skcgd._registry import EstimatorSpec, register_estimator_spec

_GAME_SOLVERS = ("cgd", "acgd", "gda", "extragradient", "ogda")

register_estimator_spec(
    "MinimaxLogisticRegression",
    EstimatorSpec(
        task="classifier",
        variants=(
            (
                {"adversary": "chi2"},
                {"adversary": "kl"},
                {"adversary": "group"},
                {"adversary": "none"},
                {"adversary": "chi2", "rho": 0.0},
            )
            # the game solvers: a short run exercises every code path (convergence is the
            # business of tests/linear_model)
            + tuple({"solver": s, "max_iter": 30, "tol": 1e-4} for s in _GAME_SOLVERS)
            + (
                {"adversary": "kl", "solver": "cgd", "max_iter": 30, "tol": 1e-4},
                {"adversary": "group", "solver": "acgd", "max_iter": 30, "tol": 1e-4},
            )
        ),
        needs_groups=lambda params: params.get("adversary") == "group",
    ),
)
