"""Exceptions and warnings raised by skcgd."""

from sklearn.exceptions import ConvergenceWarning

__all__ = ["DivergenceError", "ConvergenceWarning"]


class DivergenceError(FloatingPointError):
    """A game solver's iterates became non-finite or its gradient norm blew up.

    The message names the step sizes and each player's own-curvature bound, and says which
    change is likely to help.
    """

    def __init__(self, message, n_iter=None):
        super().__init__(message)
        #: the step at which the run was stopped (None when not from a solver run)
        self.n_iter = n_iter
