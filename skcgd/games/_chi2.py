r"""The chi-square game: an adversary on the probability simplex with a chi-square divergence."""

import numpy as np

from skcgd._validation import check_vector
from skcgd.games._design import weighted_sum_rows
from skcgd.games._registry import register_adversary
from skcgd.games._reweighted import PrimalTerms, ReweightedLogisticGame
from skcgd.games._simplex_response import capped_quadratic_response

__all__ = ["Chi2LogisticGame", "SampleSimplexGame"]


class SampleSimplexGame(ReweightedLogisticGame):
    """Shared part of the games whose adversary is a distribution ``q`` over the samples.

    The prior is ``p = s / N``; samples of weight 0 are outside the adversary's support
    (``q_i = 0`` for them, their gradient entries and mixed-Hessian columns are 0).
    """

    domain_y = "simplex"

    def _init_adversary(self):
        self._support = self.sample_weight > 0
        self._prior = self.sample_weight / self.N

    @staticmethod
    def weights_at_rho_zero(game, **adversary_data):
        """The limit of the equilibrium weights as ``rho -> 0``: the prior ``s / N``."""
        return game.sample_weight / game.N

    def _check_q(self, y):
        q = check_vector(y, self.n_y, "y")
        if (q < 0).any():
            raise ValueError(
                "The adversary's weights q must be non-negative (q lives on the probability "
                "simplex)."
            )
        return q

    def _data_weights(self, q):
        return self.C * self.N * q

    def _mixed_weights(self):
        return self.C * self.N * self._support

    def curvature_x(self, x, y):
        """Bound on :math:`\\|D^2_{WW} f\\|_2`: :math:`1 + \\lambda_{\\max}` of the data Hessian."""
        return self._curvature_x(x, self._data_weights(self._check_q(y)))

    def adversary_step_size(self):
        """The scale ``rho / (C N)`` of the adversary's entropic mirror step."""
        return self.rho / (self.C * self.N)

    def _capped_response(self, loss, mu, cap, center=None):
        """``(q, free)`` of :func:`capped_quadratic_response` on the support, for these
        losses (the last call is cached: a Newton step asks for it several times)."""
        key = (mu, cap, id(center))
        cached = getattr(self, "_response_cache", None)
        if cached is not None and cached[0] == key and np.array_equal(cached[1], loss):
            return cached[2]
        sup = self._support
        q = np.zeros(self.n_samples)
        free = np.zeros(self.n_samples, dtype=bool)
        c = None if center is None else center[sup]
        q[sup], _, free[sup] = capped_quadratic_response(
            loss[sup], self._prior[sup], mu, cap, center=c
        )
        self._response_cache = (key, loss.copy(), (q, free))
        return q, free

    def _quadratic_terms(self, x, q, free, mu):
        """The primal's terms for a best response ``q`` that moves with ``l`` on ``free``
        with slope ``p / mu`` (see :mod:`skcgd.games._simplex_response`)."""
        _, G = self._loss(x)
        CN = self.C * self.N
        omega = CN * q
        pf = np.where(free, self._prior, 0.0)
        mass = float(pf.sum())
        # the data gradient sum_i omega_i grad l_i and m = sum_F p_i grad l_i in one pass
        both = weighted_sum_rows(
            self.X, np.hstack([G * omega[:, None], G * pf[:, None]]), self.fit_intercept
        )
        data_grad, m = both[: self.K].ravel(), both[self.K :].ravel()
        low_rank = [(-CN / (mu * mass), m[:, None])] if mass > 0 else []
        return PrimalTerms(
            G,
            omega,
            gauss_newton=CN * pf / mu,
            low_rank=low_rank,
            data_grad=data_grad,
            adversary=q,
        )


@register_adversary(
    "chi2",
    summary="each sample, on the simplex, with a chi-square divergence penalty",
    max_rho=1e8,
)
class Chi2LogisticGame(SampleSimplexGame):
    r"""Logistic regression against the chi-square divergence adversary on the simplex.

    .. math::

        \min_W \max_{q \in \Delta_n}\; f(W, q) = C N \Big[\sum_i q_i\, l_i(W)
            - \frac{\tau}{2}\, D_{\chi^2}(q \,\|\, p)\Big] + \tfrac12 \|W\|^2,
        \quad D_{\chi^2}(q \| p) = \sum_i p_i \Big(\frac{q_i}{p_i} - 1\Big)^2,

    with :math:`p = s / N`, :math:`\tau = 1 / \rho` and the intercept column of ``W`` not
    penalised: the chi-square penalty of Namkoong & Duchi [1]_ (the Lagrangian form of their
    chi-square ball). The max player ``q`` lives on the probability simplex
    (``domain_y = "simplex"``).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training data; float32 and float64 are kept as they are, CSR is never densified.
    y : array-like of shape (n_samples,)
        Labels in {-1, +1} (binary) or class indices ``0..K-1`` (``multinomial=True``).
    C : float, default=1.0
        Inverse regularisation strength (scikit-learn's convention).
    rho : float, default=1.0
        The adversary's strength ``1 / tau``, in (0, 1e8] (``rho = 0`` is plain logistic
        regression).
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights ``s_i`` (ones if None); ``s / N`` is the adversary's prior.
    fit_intercept : bool, default=False
        Add an unpenalised intercept, stored last in each row of ``W``.
    multinomial : bool, default=False
        Softmax loss with ``K`` coefficient rows instead of the binary loss with one.
    n_classes : int, default=None
        ``K`` for the multinomial loss (``max(y) + 1`` if None).
    check_input : bool, default=True
        Validate the data; estimators that validated it already pass False.

    See Also
    --------
    KLLogisticGame : the KL divergence instead (weights exponential in the loss).
    CVaRLogisticGame : the weights capped, no penalty (the worst fraction of the samples).
    SecondMomentLogisticGame : the unnormalised game of the CGD paper (it was ``"chi2"``).

    Notes
    -----
    The best response is a clipped, shifted loss,
    :math:`q^*_i = p_i\,(1 + \rho\,(l_i - \eta))_+` with :math:`\eta` such that
    :math:`\sum_i q^*_i = 1`: samples whose loss is below :math:`\eta - \tau` get no weight.
    The primal, per unit of :math:`C N`,

    .. math::

        \min_\eta\; \eta + \frac{\tau}{2} \sum_i p_i
            \Big[\Big(1 + \frac{l_i - \eta}{\tau}\Big)_+^2 - 1\Big],

    equals :math:`\bar l + \tfrac{\rho}{2}\operatorname{Var}_p(l)` while no weight is clipped
    (mean plus variance). It is once differentiable, with :math:`\nabla P = C N \sum_i q^*_i
    \nabla l_i + W`; Newton uses its generalised Hessian
    :math:`C N [\sum_i q^*_i \nabla^2 l_i + \rho (\sum_F p_i \nabla l_i \nabla l_i^T -
    m m^T / p_F)] + I`, :math:`F` the samples with positive weight, :math:`m = \sum_F p_i
    \nabla l_i`, :math:`p_F = \sum_F p_i`.

    References
    ----------
    .. [1] H. Namkoong and J. Duchi, "Stochastic gradient methods for distributionally robust
       optimization with f-divergences", NeurIPS 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.games import Chi2LogisticGame
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> game = Chi2LogisticGame(X, [1, -1, 1], rho=2.0)
    >>> w = np.array([1.0, 0.0])
    >>> q = game.best_response(w)              # more weight on the larger losses
    >>> np.round(q, 4), bool(np.isclose(q.sum(), 1.0))
    (array([0.2489, 0.5022, 0.2489]), True)
    >>> bool(np.isclose(game.value(w, q), game.primal(w)))
    True
    """

    def value(self, x, y):
        """:math:`f(W, q)`; :math:`-\\infty` if :math:`q_i > 0` where :math:`s_i = 0`."""
        q = self._check_q(y)
        loss, _ = self._loss(x)
        if (q[~self._support] > 0).any():
            return -np.inf
        sup = self._support
        div = float(((q[sup] - self._prior[sup]) ** 2 / self._prior[sup]).sum())
        return float(
            self.C * self.N * (q @ loss - 0.5 * self.tau * div) + self._penalty(self.coef_matrix(x))
        )

    def grads(self, x, y):
        """``(grad_W f, grad_q f)``; ``grad_q f`` is 0 off the support."""
        q = self._check_q(y)
        loss, _ = self._loss(x)
        gx = self._grad_W(x, self._data_weights(q))
        gy = np.zeros(self.n_samples)
        sup = self._support
        gy[sup] = self.C * self.N * (loss[sup] - self.tau * (q[sup] / self._prior[sup] - 1.0))
        return gx, gy

    def adversary_step_size(self):
        """Half the entropy scale, ``rho / (2 C N)``: in the mirror metric the adversary's
        curvature is ``C N tau q_i / p_i``, which grows from ``C N tau`` at the prior to about
        twice that where the adversary concentrates (the first-order solvers need the step
        within their stability region there; competitive mirror descent caps each sample's
        step at the inverse of its curvature, :meth:`curvature_diag_y`)."""
        return 0.5 * self.rho / (self.C * self.N)

    def curvature_diag_y(self, x, y):
        """The adversary's own curvature per sample, :math:`C N \\tau / p_i` (0 off the
        support): the mirror solvers cap each sample's step at its inverse."""
        out = np.zeros(self.n_samples)
        sup = self._support
        out[sup] = self.C * self.N * self.tau / self._prior[sup]
        return out

    def curvature_y(self, x, y):
        """:math:`\\|D^2_{qq} f\\|_2 = C N \\tau / \\min_{s_i > 0} p_i` (exact, constant)."""
        return self.C * self.N * self.tau / float(self._prior[self._support].min())

    def _response(self, x):
        loss, _ = self._loss(x)
        return self._capped_response(loss, self.tau, np.inf)

    def best_response(self, x):
        """:math:`q^*_i = p_i (1 + \\rho (l_i - \\eta))_+`, :math:`\\sum_i q^*_i = 1`."""
        return self._response(x)[0]

    # -- the primal ----------------------------------------------------------------------
    def _primal_value(self, x):
        q = self.best_response(x)
        return self.value(x, q)

    def _primal_terms(self, x):
        q, free = self._response(x)
        return self._quadratic_terms(x, q, free, self.tau)
