"""Two-player games for the solvers of :mod:`skcgd.solvers`.

See :class:`~skcgd.games.BaseGame` for the protocol a game implements.
"""

from skcgd.games._base import BaseGame, DenseMixedOperator, MixedOperator
from skcgd.games._quadratic import BilinearGame, GeneralSumQuadraticGame, QuadraticGame

__all__ = [
    "BaseGame",
    "MixedOperator",
    "DenseMixedOperator",
    "BilinearGame",
    "QuadraticGame",
    "GeneralSumQuadraticGame",
]
