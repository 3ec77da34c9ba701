"""Linear models: :class:`MinimaxLogisticRegression`."""

from skcgd._registry import register_warm_up
from skcgd.linear_model import _specs  # noqa: F401  (registers the test specs)
from skcgd.linear_model._minimax_logistic import MinimaxLogisticRegression

__all__ = ["MinimaxLogisticRegression"]


@register_warm_up
def _warm_up():
    """Fit tiny problems with every adversary (compiles the kernels they use)."""
    import warnings

    import numpy as np

    from skcgd.exceptions import ConvergenceWarning

    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 3))
    y = np.arange(12) % 3
    groups = np.arange(12) % 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the fits are deliberately short
        for adversary in ("chi2", "kl", "group"):
            for labels in (y % 2, y):
                MinimaxLogisticRegression(adversary, max_iter=5, tol=1e-3).fit(
                    X, labels, groups=groups
                )
        MinimaxLogisticRegression(solver="cgd", max_iter=3, tol=0.0).fit(X, y % 2)
