"""The KL game: an adversary on the probability simplex of the samples, with a KL penalty."""

import numpy as np

from skcgd._validation import check_vector
from skcgd.games._registry import register_adversary
from skcgd.games._reweighted import SMALLEST, PrimalTerms, ReweightedLogisticGame, soft_mean

__all__ = ["KLLogisticGame"]


@register_adversary("kl", summary="each sample, on the simplex, with a KL penalty", max_rho=1e8)
class KLLogisticGame(ReweightedLogisticGame):
    r"""Logistic regression against an adversary on the simplex with a KL penalty.

    .. math::

        \min_W \max_{p \in \Delta_n}\; f(W, p) = C N \Big[\sum_i p_i\, l_i(W)
            - \tau\, \mathrm{KL}(p \,\|\, s / N)\Big] + \tfrac12 \|W\|^2,
        \qquad \tau = 1 / \rho,\; N = \textstyle\sum_i s_i

    (the intercept column of ``W`` is not penalised). The min player is ``x = W`` flattened,
    the max player ``y = p`` on the probability simplex (``domain_y = "simplex"``: play it with
    :class:`~skcgd.solvers.CompetitiveMirrorDescent`).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training data; float32 and float64 are kept as they are, CSR is never densified.
    y : array-like of shape (n_samples,)
        Labels in {-1, +1} (binary) or class indices ``0..K-1`` (``multinomial=True``).
    C : float, default=1.0
        Inverse regularisation strength (scikit-learn's convention).
    rho : float, default=1.0
        The adversary's strength ``1 / tau``, > 0 (``rho = 0`` is plain logistic regression).
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights ``s_i`` (ones if None); ``s / N`` is the adversary's prior.
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
    tau : float
        ``1 / rho``.

    See Also
    --------
    Chi2LogisticGame : the adversary on R^n with a chi-square penalty.
    skcgd.solvers.CompetitiveMirrorDescent : the solver for a player on the simplex.

    Notes
    -----
    With :math:`\mathrm{KL}(p \| s/N) = \sum_i p_i \log(p_i N / s_i)` the max over the simplex
    is the Gibbs distribution :math:`p^* = \operatorname{softmax}(l / \tau + \log(s / N))` and
    the primal objective is

    .. math:: P(W) = C N \tau \log \sum_i \frac{s_i}{N} e^{l_i / \tau} + \tfrac12 \|W\|^2,

    computed with a stable log-sum-exp. Derivatives:
    :math:`\nabla_W f = C N \sum_i p_i\, g_i \tilde x_i^T + W`,
    :math:`\partial_{p_i} f = C N (l_i - \tau (\log(p_i N / s_i) + 1))`, mixed Hessian columns
    :math:`C N\, g_i \otimes \tilde x_i`, :math:`D^2_{pp} f = -C N \tau\,\mathrm{diag}(1/p)`
    (:meth:`curvature_y` is :math:`C N \tau / \min_{p_i > 0} p_i`: the true curvature, which
    the entropic mirror step of CMD absorbs). ``f`` is evaluated by the formula for any
    non-negative ``p`` (sums need not be 1), which is what the solvers and finite differences
    see; :math:`0 \log 0 = 0`. Where :math:`p_i = 0 < s_i` (a start on the boundary, or a
    best response :math:`e^{-l_i/\tau}` that underflowed, as for losses 1e4 apart) the
    derivative in :math:`p_i` is :math:`+\infty`; :meth:`grads` returns it at the smallest
    positive double instead (:math:`\log p_i = -744.4`), so it stays finite. Start the
    adversary inside the simplex, e.g. at ``s / N``.

    **Samples with** :math:`s_i = 0` are outside the adversary's support (the KL term is
    infinite unless :math:`p_i = 0`): they are not variables of the game. Their best response
    is exactly 0, their entries of :math:`\nabla_p f` and their columns of the mixed Hessian
    are 0, so CGD and CMD keep :math:`p_i = 0`; :meth:`value` returns :math:`-\infty` if such a
    :math:`p_i` is positive. No ``log(0)`` is ever evaluated for them.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.games import KLLogisticGame
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> game = KLLogisticGame(X, [1, -1, 1], rho=2.0, sample_weight=[1.0, 1.0, 0.0])
    >>> w = np.array([1.0, 0.0])
    >>> p = game.best_response(w)              # more weight on the harder sample
    >>> np.round(p, 4)
    array([0.3187, 0.6813, 0.    ])
    >>> bool(np.isclose(game.value(w, p), game.primal(w)))
    True
    >>> gx, gp = game.grads(w, p)              # stationary on the simplex: equal on the support
    >>> bool(np.isclose(gp[0], gp[1])), float(gp[2])
    (True, 0.0)
    """

    domain_y = "simplex"

    def _init_adversary(self):
        # samples of weight 0 are outside the adversary's support (see Notes)
        self._support = self.sample_weight > 0
        self._log_prior = np.full(self.n_samples, -np.inf)
        self._log_prior[self._support] = np.log(self.sample_weight[self._support] / self.N)

    @staticmethod
    def weights_at_rho_zero(game, **adversary_data):
        """The limit of the equilibrium weights as ``rho -> 0``: the prior ``s / N``."""
        return game.sample_weight / game.N

    def _check_p(self, y):
        p = check_vector(y, self.n_y, "y")
        if (p < 0).any():
            raise ValueError(
                "The adversary's weights p must be non-negative (p lives on the "
                "probability simplex)."
            )
        return p

    def _data_weights(self, p):
        return self.C * self.N * p

    def _mixed_weights(self):
        return self.C * self.N * self._support

    def _neg_entropy_terms(self, p):
        """``sum_i p_i log(p_i N / s_i)`` over the support (0 log 0 = 0)."""
        ps = p[self._support]
        pos = ps > 0
        return float(ps[pos] @ (np.log(ps[pos]) - self._log_prior[self._support][pos]))

    def value(self, x, y):
        """:math:`f(W, p)`; :math:`-\\infty` if :math:`p_i > 0` where :math:`s_i = 0`."""
        p = self._check_p(y)
        loss, _ = self._loss(x)
        if (p[~self._support] > 0).any():
            return -np.inf
        return float(
            self.C * self.N * (p @ loss - self.tau * self._neg_entropy_terms(p))
            + self._penalty(self.coef_matrix(x))
        )

    def grads(self, x, y):
        """``(grad_W f, grad_p f)``; ``grad_p f`` is 0 off the support (see Notes)."""
        p = self._check_p(y)
        loss, _ = self._loss(x)
        gx = self._grad_W(x, self._data_weights(p))
        gy = np.zeros(self.n_samples)
        sup = self._support
        # p_i = 0 < s_i (also a best response that underflowed) has derivative +inf; it is
        # taken at the smallest positive double instead, so gradients stay finite.
        log_p = np.log(np.maximum(p[sup], SMALLEST))
        gy[sup] = self.C * self.N * (loss[sup] - self.tau * (log_p - self._log_prior[sup] + 1.0))
        return gx, gy

    def curvature_x(self, x, y):
        """Bound on :math:`\\|D^2_{WW} f\\|_2`: :math:`1 + \\lambda_{\\max}` of the data Hessian."""
        p = self._check_p(y)
        return self._curvature_x(x, self._data_weights(p))

    def curvature_y(self, x, y):
        """:math:`\\|D^2_{pp} f\\|_2 = C N \\tau / \\min_{p_i > 0} p_i` (infinite if p = 0)."""
        p = self._check_p(y)
        pos = p[self._support]
        pos = pos[pos > 0]
        if pos.size == 0:
            return np.inf
        return self.C * self.N * self.tau / float(pos.min())

    def adversary_step_size(self):
        """The entropy scale ``rho / (C N)``: with it, a mirror step of the adversary is its
        exact best response to the current classifier."""
        return self.rho / (self.C * self.N)

    def _gibbs_logits(self, x):
        loss, _ = self._loss(x)
        return loss / self.tau + self._log_prior  # -inf off the support

    def best_response(self, x):
        """:math:`p^* = \\operatorname{softmax}(l / \\tau + \\log(s / N))` (0 where s = 0)."""
        a = self._gibbs_logits(x)
        e = np.exp(a - a[self._support].max())
        return e / e.sum()

    # -- the primal ----------------------------------------------------------------------
    def _primal_value(self, x):
        # max_p f(W, p) = C N tau log sum_i (s_i / N) e^{l_i / tau} + ||W||^2 / 2
        loss, _ = self._loss(x)
        sup = self._support
        prior = self.sample_weight[sup] / self.N
        return float(
            self.C * self.N * soft_mean(loss[sup], prior, self.tau)
            + self._penalty(self.coef_matrix(x))
        )

    def _primal_terms(self, x):
        # the adversary's weights p* and, from its response to W, the Gauss-Newton term
        # (C N / tau) p_i (grad l_i)(grad l_i)^T minus the rank-one (C N / tau) m m^T of the
        # weighted mean gradient m = sum_i p_i grad l_i
        _, G = self._loss(x)
        p = self.best_response(x)
        omega = self.C * self.N * p
        data_grad = self._grad_W(x, omega) - self._pen * check_vector(x, self.n_x, "x")
        m = data_grad / np.sqrt(self.C * self.N)
        return PrimalTerms(
            G,
            omega,
            gauss_newton=omega / self.tau,
            low_rank=[(-1.0 / self.tau, m[:, None])],
            data_grad=data_grad,
            adversary=p,
        )
