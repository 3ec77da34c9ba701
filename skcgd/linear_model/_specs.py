"""How the shared test suites and the docs build small instances of this subpackage's
estimators (see :mod:`skcgd._registry`)."""

from skcgd._registry import EstimatorSpec, register_estimator_spec
from skcgd.games import ADVERSARIES, get_adversary

_GAME_SOLVERS = ("cgd", "acgd", "gda", "extragradient", "ogda")


def _variants():
    # every registered adversary (a new one is exercised without an edit here), rho = 0,
    # then the game solvers: a short run exercises every code path (convergence is the
    # business of tests/linear_model)
    return (
        tuple({"adversary": name} for name in ADVERSARIES)
        + ({"adversary": "chi2", "rho": 0.0},)
        + tuple({"solver": s, "max_iter": 30, "tol": 1e-4} for s in _GAME_SOLVERS)
        + tuple(
            {"adversary": name, "solver": solver, "max_iter": 30, "tol": 1e-4}
            for name, solver in (("kl", "cgd"), ("group", "acgd"), ("parametric", "gda"))
        )
    )


def _needs_groups(params):
    return get_adversary(params.get("adversary", "chi2")).needs_groups


register_estimator_spec(
    "MinimaxLogisticRegression",
    EstimatorSpec(
        task="classifier",
        variants=_variants,
        needs_groups=_needs_groups,
    ),
)
register_estimator_spec(
    "MinimaxLogisticRegressionCV",
    EstimatorSpec(
        task="classifier",
        params={"Cs": [0.1, 1.0], "rhos": (0.0, 1.0), "cv": 3},
        variants=({}, {"adversary": "kl", "refit": False}, {"adversary": "cvar"}),
    ),
)
