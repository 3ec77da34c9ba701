"""Two-player games for the solvers of :mod:`skcgd.solvers`.

See :class:`~skcgd.games.BaseGame` for the protocol a game implements. The reweighted
logistic games (one class per adversary, registered by name: :func:`make_logistic_game`)
also offer the primal objective with the adversary eliminated, which
:class:`~skcgd.solvers.Newton` minimises.
"""

from skcgd._linalg import DenseMixedOperator, MixedOperator
from skcgd.games import _warm_up  # noqa: F401  (registers the warm-up of the game kernels)
from skcgd.games._base import BaseGame
from skcgd.games._chi2 import Chi2LogisticGame
from skcgd.games._cvar import CVaRLogisticGame
from skcgd.games._group import GroupKLLogisticGame
from skcgd.games._kl import KLLogisticGame
from skcgd.games._parametric import ParametricLogisticGame, default_adversary_features
from skcgd.games._plain import PlainLogisticGame
from skcgd.games._quadratic import BilinearGame, GeneralSumQuadraticGame, QuadraticGame
from skcgd.games._registry import ADVERSARIES as ADVERSARIES  # the live registry (a dict)
from skcgd.games._registry import (
    Adversary,
    adversary_names,
    get_adversary,
    make_logistic_game,
    register_adversary,
)
from skcgd.games._reweighted import ReweightedLogisticGame
from skcgd.games._second_moment import SecondMomentLogisticGame

__all__ = [
    "BaseGame",
    "MixedOperator",
    "DenseMixedOperator",
    "BilinearGame",
    "QuadraticGame",
    "GeneralSumQuadraticGame",
    "ReweightedLogisticGame",
    "PlainLogisticGame",
    "Chi2LogisticGame",
    "CVaRLogisticGame",
    "SecondMomentLogisticGame",
    "KLLogisticGame",
    "GroupKLLogisticGame",
    "ParametricLogisticGame",
    "default_adversary_features",
    "Adversary",
    "adversary_names",
    "get_adversary",
    "make_logistic_game",
    "register_adversary",
]
