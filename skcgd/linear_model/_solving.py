"""How MinimaxLogisticRegression runs its solvers: the game solvers by name, their step
factors, and the certificate that a game solver's point solves the primal."""

import numpy as np
import scipy.linalg

from skcgd.solvers import ACGD, CGD, GDA, ExtraGradient, OptimisticGDA, conjugate_gradient

__all__ = []


def _primal_certified(game, x, rtol):
    """Whether the Newton decrement at ``x`` certifies the primal to relative ``rtol``:
    ``lambda^2 / 2 <= rtol |P(x)|`` with ``lambda^2 = g^T H^-1 g`` (one Newton system)."""
    value, grad, terms = game.primal_evaluate(x)
    if game.n_x <= 300:
        H = game.primal_hessian_matrix(x, terms)
        try:
            step = scipy.linalg.cho_solve(scipy.linalg.cho_factor(H), grad)
        except np.linalg.LinAlgError:
            return False
    else:
        H = game.primal_hessian_operator(x, terms)
        step, _, _ = conjugate_gradient(H, grad, tol=1e-8)
    return float(grad @ step) / 2.0 <= rtol * max(abs(value), 1e-300)


# the game solvers by name; "cgd" plays competitive mirror descent against an adversary on
# the simplex
_GAME_SOLVERS = {
    "cgd": CGD,
    "acgd": ACGD,
    "gda": GDA,
    "extragradient": ExtraGradient,
    "ogda": OptimisticGDA,
}
# first-order players overshoot at 1 / L when both move at once: half the step keeps EG and
# OGDA inside their stability region (EG stalls at exactly eta * mu = 1 on a concave player)
_FIRST_ORDER_FACTOR = {"gda": 1.0, "extragradient": 0.5, "ogda": 0.5}
