"""Game solvers and the conjugate-gradient method.

Zero-sum games (``min_x max_y f``): :class:`CGD`, :class:`ACGD`,
:class:`CompetitiveMirrorDescent` (players on the simplex), and the first-order baselines
:class:`GDA`, :class:`ExtraGradient`, :class:`OptimisticGDA`; :class:`Newton` on the primal of a
game whose adversary has a closed-form best response. General-sum games:
:class:`GeneralSumCGD`. Linear systems: :func:`conjugate_gradient`.
"""

from skcgd._linalg import CGDOperator, RowGramOperator, conjugate_gradient
from skcgd.solvers._base import BaseGameSolver, GameSolverResult, GameState, check_game
from skcgd.solvers._cgd import ACGD, CGD, CompetitiveMirrorDescent
from skcgd.solvers._first_order import GDA, ExtraGradient, OptimisticGDA
from skcgd.solvers._general_sum import GeneralSumCGD
from skcgd.solvers._newton import Newton

__all__ = [
    "conjugate_gradient",
    "CGDOperator",
    "RowGramOperator",
    "BaseGameSolver",
    "GameState",
    "GameSolverResult",
    "check_game",
    "CGD",
    "ACGD",
    "CompetitiveMirrorDescent",
    "GDA",
    "ExtraGradient",
    "OptimisticGDA",
    "GeneralSumCGD",
    "Newton",
]
