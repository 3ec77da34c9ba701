"""Linear models: :class:`MinimaxLogisticRegression` and :class:`MinimaxLogisticRegressionCV`."""

from skcgd._registry import register_warm_up
from skcgd.linear_model import _specs  # noqa: F401  (registers the test specs)
from skcgd.linear_model._minimax_logistic import MinimaxLogisticRegression
from skcgd.linear_model._minimax_logistic_cv import MinimaxLogisticRegressionCV

__all__ = ["MinimaxLogisticRegression", "MinimaxLogisticRegressionCV"]


@register_warm_up
def _warm_up():
    """Fit tiny problems with every adversary and solver kind (compiles their kernels).

    The fits converge (no warning is raised, so none needs silencing: a warm-up may run on a
    Dask worker thread, where warning filters are not safe to touch).
    """
    import numpy as np

    from skcgd.games import ADVERSARIES

    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 3))
    y = np.arange(12) % 3
    groups = np.arange(12) % 2
    for name in ADVERSARIES:
        for labels in (y % 2, y):
            # the game solvers' budget: enough for tol=1e-3 on these 12 rows
            MinimaxLogisticRegression(name, tol=1e-3, max_iter=5000).fit(X, labels, groups=groups)
    MinimaxLogisticRegression(solver="cgd", tol=1e-2).fit(X, y % 2)
