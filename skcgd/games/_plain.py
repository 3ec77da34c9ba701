r"""Plain L2 logistic regression as a game whose adversary has no move (``"none"``, ``rho = 0``)."""

import numpy as np

from skcgd._linalg import DenseMixedOperator
from skcgd._validation import check_vector
from skcgd.games._registry import register_adversary
from skcgd.games._reweighted import PrimalTerms, ReweightedLogisticGame

__all__ = ["PlainLogisticGame"]


@register_adversary("none", summary="nothing: plain L2 logistic regression")
class PlainLogisticGame(ReweightedLogisticGame):
    r"""L2-regularised logistic regression, seen as a game with an empty max player.

    .. math::

        \min_W\; f(W) = C \sum_i s_i\, l_i(W) + \tfrac12 \|W\|^2

    (the intercept column of ``W`` is not penalised): scikit-learn's ``LogisticRegression``
    objective. The max player has no variables (``n_y = 0``), so the game solvers play plain
    gradient descent on ``f`` (CGD's step is a gradient step: the mixed Hessian is empty) and
    :class:`~skcgd.solvers.Newton` minimises it directly. It is what
    :class:`~skcgd.linear_model.MinimaxLogisticRegression` fits for ``adversary="none"`` and
    for any adversary at ``rho = 0``.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training data; float32 and float64 are kept as they are, CSR is never densified.
    y : array-like of shape (n_samples,)
        Labels in {-1, +1} (binary) or class indices ``0..K-1`` (``multinomial=True``).
    C : float, default=1.0
        Inverse regularisation strength (scikit-learn's convention).
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights ``s_i`` (ones if None).
    fit_intercept : bool, default=False
        Add an unpenalised intercept, stored last in each row of ``W``.
    multinomial : bool, default=False
        Softmax loss with ``K`` coefficient rows instead of the binary loss with one.
    n_classes : int, default=None
        ``K`` for the multinomial loss (``max(y) + 1`` if None).
    check_input : bool, default=True
        Validate the data; estimators that validated it already pass False.

    Attributes
    ----------
    null_weights : ndarray or None
        What :meth:`equilibrium_weights` reports: None, or, when the game stands for an
        adversary at ``rho = 0``, the limit of that adversary's weights (set by
        :func:`~skcgd.games.make_logistic_game`).

    See Also
    --------
    Chi2LogisticGame, KLLogisticGame, GroupKLLogisticGame : the games with an adversary.
    skcgd.solvers.Newton : minimises the objective in a handful of steps.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.games import PlainLogisticGame
    >>> from skcgd.solvers import Newton
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 1.0]])
    >>> game = PlainLogisticGame(X, [1, -1, 1, -1], fit_intercept=True)
    >>> game.n_x, game.n_y
    (3, 0)
    >>> result = Newton(tol=1e-10).run(game, np.zeros(game.n_x))
    >>> result.converged, bool(np.linalg.norm(game.primal_grad(result.x)) < 1e-10)
    (True, True)
    """

    null_weights = None

    def __init__(
        self,
        X,
        y,
        *,
        C=1.0,
        sample_weight=None,
        fit_intercept=False,
        multinomial=False,
        n_classes=None,
        check_input=True,
    ):
        super().__init__(
            X,
            y,
            C=C,
            sample_weight=sample_weight,
            fit_intercept=fit_intercept,
            multinomial=multinomial,
            n_classes=n_classes,
            check_input=check_input,
            rho=None,
        )
        self.n_y = 0

    @staticmethod
    def weights_at_rho_zero(game, **adversary_data):
        """No adversary, no weights: None."""
        return None

    def _mixed_weights(self):
        return np.zeros(self.n_samples)

    def value(self, x, y):
        """:math:`f(W)` (``y`` is empty)."""
        check_vector(y, 0, "y")
        return self.primal(x)

    def grads(self, x, y):
        """``(grad_W f, [])``."""
        check_vector(y, 0, "y")
        return self.primal_grad(x), np.zeros(0)

    def mixed(self, x, y):
        """The empty (K q, 0) mixed Hessian."""
        return DenseMixedOperator(np.zeros((self.n_x, 0)))

    def curvature_x(self, x, y):
        """:math:`1 + \\lambda_{\\max}` of the data Hessian at ``x``."""
        return self._curvature_x(x, self.C * self.sample_weight)

    def curvature_y(self, x, y):
        """0: the max player has no variables."""
        return 0.0

    def adversary_step_size(self):
        """1.0 (there is nothing to step)."""
        return 1.0

    def best_response(self, x):
        """The empty strategy."""
        return np.zeros(0)

    def equilibrium_weights(self, x):
        """``null_weights`` (None unless the game stands for an adversary at rho = 0)."""
        return self.null_weights

    # -- the primal is the objective itself ----------------------------------------------
    def _primal_value(self, x):
        loss, _ = self._loss(x)
        return float(self.C * (self.sample_weight @ loss) + self._penalty(self.coef_matrix(x)))

    def _fused_coefficients(self):
        c0 = self.C * self.sample_weight
        return c0, np.zeros_like(c0)

    def _primal_terms(self, x):
        _, G = self._loss(x)
        return PrimalTerms(G, self.C * self.sample_weight, adversary=np.zeros(0))
