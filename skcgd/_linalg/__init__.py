"""Linear algebra below the games and the solvers (private).

The mixed-Hessian operators a game returns, the SPD operators of the competitive step and
the conjugate-gradient method that solves them. :mod:`skcgd.games` and :mod:`skcgd.solvers`
both import from here and never from each other; the public names are re-exported by them
(``skcgd.games.MixedOperator``, ``skcgd.solvers.conjugate_gradient``, ...).
"""

from skcgd._linalg._cg import conjugate_gradient, python_cg
from skcgd._linalg._operators import (
    CGDOperator,
    DenseMixedOperator,
    MixedOperator,
    RowGramOperator,
)

__all__ = [
    "CGDOperator",
    "DenseMixedOperator",
    "MixedOperator",
    "RowGramOperator",
    "conjugate_gradient",
    "python_cg",
]
