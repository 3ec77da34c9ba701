"""Exceptions and warnings raised by skcgd."""

from sklearn.exceptions import ConvergenceWarning

__all__ = ["DivergenceError", "ConvergenceWarning"]


class DivergenceError(FloatingPointError):
    """A game solver's iterates became non-finite or its gradient norm blew up.

    The message names the step sizes and each player's own-curvature bound, and says which
    change is likely to help. A subclass of :class:`FloatingPointError`.

    Parameters
    ----------
    message : str
        What diverged, and what to change.
    n_iter : int, default=None
        The step at which the run was stopped (None when not raised by a solver run).

    Examples
    --------
    Gradient descent-ascent spirals out on a bilinear game, whatever its step size:

    >>> import numpy as np
    >>> from skcgd.exceptions import DivergenceError
    >>> from skcgd.games import BilinearGame
    >>> from skcgd.solvers import GDA
    >>> try:
    ...     GDA(eta=0.5, max_iter=10_000).run(BilinearGame(np.eye(2)), np.ones(2), np.ones(2))
    ... except DivergenceError as exc:
    ...     error = exc
    >>> error.n_iter
    207
    >>> print(error)
    GDA diverged at step 207: the gradient norm grew from 2 to 2.14e+10. Step sizes
    eta_x=0.5, eta_y=0.5; ...
    """

    def __init__(self, message, n_iter=None):
        super().__init__(message)
        #: the step at which the run was stopped (None when not from a solver run)
        self.n_iter = n_iter
