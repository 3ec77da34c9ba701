"""The second-moment game: an unnormalised weight ``1 + u_i`` per sample, quadratic penalty.

The robust logistic game of the CGD paper (Schäfer & Anandkumar, 2019). Its primal adds
``rho / 2`` times the squared loss: a second-moment penalty, not the chi-square divergence
ball of the DRO literature (that is :class:`~skcgd.games.Chi2LogisticGame`).
"""

import numpy as np

from skcgd._validation import check_vector
from skcgd.games._registry import register_adversary
from skcgd.games._reweighted import PrimalTerms, ReweightedLogisticGame

__all__ = ["SecondMomentLogisticGame"]


@register_adversary(
    "second_moment",
    summary="each sample, an unnormalised weight 1 + u_i with a quadratic penalty",
    max_rho=1e12,
)
class SecondMomentLogisticGame(ReweightedLogisticGame):
    r"""Logistic regression against an unnormalised per-sample adversary (second moment).

    The robust logistic game of the competitive gradient descent paper [1]_: the adversary
    gives sample ``i`` the weight ``1 + u_i``, ``u`` unconstrained, at a quadratic cost. After
    its best response the objective adds ``rho / 2`` times the squared losses: a penalty on
    their second moment. (It was ``adversary="chi2"`` before 0.2; the chi-square divergence
    ball is now :class:`Chi2LogisticGame`.)

    .. math::

        \min_W \max_{u \in \mathbb{R}^n}\; f(W, u) = C \sum_i s_i (1 + u_i)\, l_i(W)
            - \frac{C}{2\rho} \sum_i s_i u_i^2 + \tfrac12 \|W\|^2

    (the intercept column of ``W`` is not penalised). The min player is ``x = W`` flattened,
    the max player ``y = u``.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training data; float32 and float64 are kept as they are, CSR is never densified.
    y : array-like of shape (n_samples,)
        Labels in {-1, +1} (binary) or class indices ``0..K-1`` (``multinomial=True``).
    C : float, default=1.0
        Inverse regularisation strength (scikit-learn's convention).
    rho : float, default=1.0
        The adversary's strength, > 0 (``rho = 0`` is plain logistic regression).
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights ``s_i`` (ones if None).
    fit_intercept : bool, default=False
        Add an unpenalised intercept, stored last in each row of ``W``.
    multinomial : bool, default=False
        Softmax loss with ``K`` coefficient rows instead of the binary loss with one.
    n_classes : int, default=None
        ``K`` for the multinomial loss (``max(y) + 1`` if None).
    check_input : bool, default=True
        Validate the data (see :class:`~skcgd.games.ReweightedLogisticGame`); estimators that
        validated it already pass False.

    Attributes
    ----------
    n_x, n_y : int
        ``K * q`` (``q = n_features + fit_intercept``) and ``n_samples``.
    K, q : int
        Shape of the coefficient matrix ``W``.

    See Also
    --------
    KLLogisticGame : the adversary on the simplex with a KL penalty.
    Chi2LogisticGame : the chi-square divergence on the simplex.
    skcgd.solvers.CGD : the solver that plays it.

    Notes
    -----
    Binary: :math:`l_i = \log(1 + e^{-y_i z_i})`, :math:`z_i = w \cdot x_i + b`; multinomial:
    :math:`l_i = \operatorname{logsumexp}(z_i) - z_{i, y_i}`, :math:`z_i = W \tilde x_i`. The
    max over ``u`` is attained at :math:`u_i^* = \rho\, l_i(W)`, so the primal objective is

    .. math:: P(W) = C \sum_i s_i \big(l_i + \tfrac{\rho}{2} l_i^2\big) + \tfrac12 \|W\|^2 .

    Derivatives, with :math:`g_i = \partial l_i / \partial z_i` and
    :math:`\tilde x_i = (x_i, 1)` when fitting an intercept:
    :math:`\nabla_W f = C \sum_i s_i (1 + u_i)\, g_i \tilde x_i^T + W`,
    :math:`\partial_{u_i} f = C s_i (l_i - u_i / \rho)`, the mixed Hessian has the columns
    :math:`C s_i\, g_i \otimes \tilde x_i`, :math:`D^2_{uu} f = -\tfrac{C}{\rho}\,\mathrm{diag}(s)`
    (:meth:`curvature_y` is :math:`C \max_i s_i / \rho`), and
    :math:`D^2_{WW} f = C \sum_i s_i (1 + u_i)\, H_i \otimes \tilde x_i \tilde x_i^T + I`.
    Its weights are negative where :math:`u_i < -1`; :meth:`curvature_x` estimates
    :math:`1 + \lambda_{\max}` of the same sum with :math:`|1 + u_i|`, which bounds the norm.
    A sample with :math:`s_i = 0` does not enter ``f``; its best response is still
    :math:`\rho l_i`.

    References
    ----------
    .. [1] F. Schäfer and A. Anandkumar, "Competitive Gradient Descent", NeurIPS 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.games import SecondMomentLogisticGame
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> game = SecondMomentLogisticGame(X, [1, -1, 1], C=1.0, rho=0.5)
    >>> w = np.zeros(game.n_x)
    >>> u = game.best_response(w)              # rho * log(2) for every sample at w = 0
    >>> np.round(u, 4)
    array([0.3466, 0.3466, 0.3466])
    >>> bool(np.isclose(game.value(w, u), game.primal(w)))
    True
    >>> gx, gu = game.grads(w, u)
    >>> float(np.abs(gu).max())
    0.0
    """

    @staticmethod
    def weights_at_rho_zero(game, **adversary_data):
        """The limit of the equilibrium weights as ``rho -> 0`` on the data of ``game`` (the
        plain game that stands in at ``rho = 0``): ``u = 0``."""
        return np.zeros(game.n_samples)

    def _data_weights(self, u):
        return self.C * self.sample_weight * (1.0 + u)

    def _mixed_weights(self):
        return self.C * self.sample_weight

    def value(self, x, y):
        """:math:`f(W, u)`."""
        u = check_vector(y, self.n_y, "y")
        loss, _ = self._loss(x)
        s = self.sample_weight
        return float(
            self.C * (s @ ((1.0 + u) * loss))
            - self.C / (2.0 * self.rho) * (s @ (u * u))
            + self._penalty(self.coef_matrix(x))
        )

    def grads(self, x, y):
        """``(grad_W f, grad_u f)``, from one pass over X for the margins and one for the
        weighted sum of rows."""
        u = check_vector(y, self.n_y, "y")
        loss, _ = self._loss(x)
        gx = self._grad_W(x, self._data_weights(u))
        gy = self.C * self.sample_weight * (loss - u / self.rho)
        return gx, gy

    def curvature_x(self, x, y):
        """Bound on :math:`\\|D^2_{WW} f\\|_2` (see Notes)."""
        u = check_vector(y, self.n_y, "y")
        return self._curvature_x(x, self._data_weights(u))

    def curvature_y(self, x, y):
        """:math:`\\|D^2_{uu} f\\|_2 = C \\max_i s_i / \\rho` (exact, constant)."""
        return self.C * float(self.sample_weight.max()) / self.rho

    def adversary_step_size(self):
        """Per sample, the inverse of the adversary's curvature ``C s_i / rho`` (0 freezes the
        ``u_i`` of a zero-weight sample, which does not enter the game)."""
        s = self.sample_weight
        return np.where(s > 0, self.rho / (self.C * np.where(s > 0, s, 1.0)), 0.0)

    def best_response(self, x):
        """The adversary's best response :math:`u^*_i = \\rho\\, l_i(W)`."""
        loss, _ = self._loss(x)
        return self.rho * loss

    # -- the primal ----------------------------------------------------------------------
    def _primal_value(self, x):
        loss, _ = self._loss(x)
        return float(
            self.C * (self.sample_weight @ (loss + 0.5 * self.rho * loss * loss))
            + self._penalty(self.coef_matrix(x))
        )

    def _fused_coefficients(self):
        c0 = self.C * self.sample_weight
        return c0, c0 * self.rho

    def _primal_terms(self, x):
        # P = C sum s_i (l_i + rho l_i^2 / 2): weights C s_i (1 + u_i), u_i = rho l_i, and
        # the Gauss-Newton term C s_i rho (grad l_i)(grad l_i)^T
        _, G = self._loss(x)
        u = self.best_response(x)
        cs = self.C * self.sample_weight
        return PrimalTerms(G, cs * (1.0 + u), gauss_newton=cs * self.rho, adversary=u)
