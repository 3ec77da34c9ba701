"""Two-player games for the solvers of :mod:`skcgd.solvers`.

See :class:`~skcgd.games.BaseGame` for the protocol a game implements.
"""

from skcgd.games._base import BaseGame, DenseMixedOperator, MixedOperator
from skcgd.games._group import GroupKLLogisticGame
from skcgd.games._logistic import Chi2LogisticGame, KLLogisticGame
from skcgd.games._quadratic import BilinearGame, GeneralSumQuadraticGame, QuadraticGame

__all__ = [
    "BaseGame",
    "MixedOperator",
    "DenseMixedOperator",
    "BilinearGame",
    "QuadraticGame",
    "GeneralSumQuadraticGame",
    "Chi2LogisticGame",
    "KLLogisticGame",
    "GroupKLLogisticGame",
]
