r"""The CVaR game: an adversary on the simplex with its weights capped at ``(1 + rho) s_i / N``."""

import numpy as np

from skcgd._validation import check_positive
from skcgd.games._chi2 import SampleSimplexGame
from skcgd.games._registry import register_adversary

__all__ = ["CVaRLogisticGame"]


@register_adversary(
    "cvar",
    summary="each sample, on the simplex, weights capped at (1 + rho) times the prior",
    game_solvers=False,
    max_rho=1e12,
)
class CVaRLogisticGame(SampleSimplexGame):
    r"""Logistic regression against the conditional value at risk of the losses (CVaR).

    .. math::

        \min_W \max_{q \in Q}\; f(W, q) = C N \sum_i q_i\, l_i(W) + \tfrac12 \|W\|^2,
        \qquad Q = \Big\{q : \sum_i q_i = 1,\; 0 \le q_i \le (1 + \rho)\, p_i\Big\},

    :math:`p = s / N`, the intercept column of ``W`` not penalised. The adversary puts as much
    weight as it may on the largest losses: the value after its best response is
    :math:`C N\, \mathrm{CVaR}_\alpha(l)`, the mean loss of the worst fraction
    :math:`\alpha = 1 / (1 + \rho)` of the samples [1]_ (``rho = 0``: the plain mean; ``rho =
    N - 1`` with unit weights: the largest loss).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training data; float32 and float64 are kept as they are, CSR is never densified.
    y : array-like of shape (n_samples,)
        Labels in {-1, +1} (binary) or class indices ``0..K-1`` (``multinomial=True``).
    C : float, default=1.0
        Inverse regularisation strength (scikit-learn's convention).
    rho : float, default=1.0
        The cap's excess, in (0, 1e12]: ``rho = 1 / alpha - 1`` for CVaR at level ``alpha``.
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

    Attributes
    ----------
    smoothing : float or None
        ``mu`` of the smoothed primal (see Notes); None for the exact one.
    smoothing_center : ndarray of shape (n_samples,) or None
        The center ``c`` of the smoothing (the prior ``p`` if None).

    See Also
    --------
    Chi2LogisticGame : a chi-square penalty instead of the cap.
    skcgd.solvers.Newton : solves it by the smoothing continuation below.

    Notes
    -----
    The primal :math:`P(W) = C N \max_{q \in Q} q^T l + \|W\|^2/2
    = C N \min_\eta [\eta + (1 + \rho) \sum_i p_i (l_i - \eta)_+] + \|W\|^2/2` is not
    differentiable where two losses tie at the cap's edge, which is where its minimum usually
    lies. Newton therefore minimises the smoothed primal

    .. math::

        P_\mu(W) = C N \max_{q \in Q} \Big[q^T l - \frac{\mu}{2} \sum_i
            \frac{(q_i - p_i)^2}{p_i}\Big] + \tfrac12 \|W\|^2,

    once differentiable, whose best response is a clipped linear function of the losses
    (:mod:`skcgd.games._simplex_response`), along stages of decreasing ``mu``, each warm-started
    from the last and centred at its best response instead of at ``p`` (a proximal point step
    of the adversary: the bias of the smoothing vanishes at the saddle point without ``mu``
    going to 0; ``mu`` stops at 1e-5 of its start). As the penalty is non-negative,
    :math:`P_\mu \le P` everywhere, so :math:`P(W) - P^* \le [P(W) - P_\mu(W)] +
    [P_\mu(W) - P_\mu^*]`: the exact gap (:meth:`smoothing_gap`) plus the stage's Newton
    decrement certifies :math:`P` itself, and the continuation stops when that bound is below
    the requested relative accuracy. We chose it over competitive mirror descent on the capped
    simplex (first order in the classifier: many steps) and over an epigraph reformulation
    (``n`` constraints); the tests compare it with the exact program solved by a conic solver
    (cvxpy with Clarabel).

    References
    ----------
    .. [1] R. T. Rockafellar and S. Uryasev, "Optimization of conditional value-at-risk",
       Journal of Risk, 2000.
    .. [2] D. Levy, Y. Carmon, J. Duchi and A. Sidford, "Large-scale methods for
       distributionally robust optimization", NeurIPS 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.games import CVaRLogisticGame
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 1.0]])
    >>> game = CVaRLogisticGame(X, [1, -1, 1, -1], rho=1.0)   # the worst half
    >>> w = np.array([1.0, 0.0])
    >>> q = game.best_response(w)
    >>> q                                           # the cap 2 * 1/4 on the two worst
    array([0. , 0.5, 0. , 0.5])
    >>> loss = game._loss(w)[0]
    >>> bool(np.isclose(game.primal(w), game.C * game.N * np.sort(loss)[-2:].mean() + 0.5))
    True
    """

    smoothing = None

    def _cap(self):
        # beyond 1 / p_i the cap no longer binds: q_i <= 1 anyway
        return 1.0 + self.rho

    def value(self, x, y):
        """:math:`f(W, q) = C N q^T l + \\|W\\|^2 / 2` (any non-negative ``q``)."""
        q = self._check_q(y)
        loss, _ = self._loss(x)
        return float(self.C * self.N * (q @ loss) + self._penalty(self.coef_matrix(x)))

    def grads(self, x, y):
        """``(grad_W f, grad_q f = C N l)`` (0 off the support)."""
        q = self._check_q(y)
        loss, _ = self._loss(x)
        gx = self._grad_W(x, self._data_weights(q))
        return gx, self.C * self.N * np.where(self._support, loss, 0.0)

    def curvature_y(self, x, y):
        """0: the game is linear in ``q``."""
        return 0.0

    def _exact_response(self, loss):
        """The greedy best response: the cap on the largest losses until the mass is 1."""
        q = np.zeros(self.n_samples)
        idx = np.flatnonzero(self._support)
        order = idx[np.argsort(-loss[idx], kind="stable")]
        caps = self._cap() * self._prior[order]
        before = np.concatenate([[0.0], np.cumsum(caps)[:-1]])
        q[order] = np.clip(1.0 - before, 0.0, caps)
        return q

    def best_response(self, x):
        """The adversary's best response (to the smoothed game when ``smoothing`` is
        set, whose weights tend to the saddle point's as ``mu -> 0``)."""
        return self._response(x)[0]

    # -- the primal and its smoothing ----------------------------------------------------
    smoothing_center = None

    def _penalty_q(self, q):
        """``(mu / 2) sum_i (q_i - c_i)^2 / p_i`` of the smoothing, ``c`` its center."""
        sup = self._support
        c = self._prior if self.smoothing_center is None else self.smoothing_center
        return 0.5 * self.smoothing * float(((q[sup] - c[sup]) ** 2 / self._prior[sup]).sum())

    def _primal_value(self, x):
        q = self.best_response(x)
        value = self.value(x, q)
        if self.smoothing is not None:
            value -= self.C * self.N * self._penalty_q(q)
        return value

    def _response(self, x):
        loss, _ = self._loss(x)
        if self.smoothing is None:
            return self._exact_response(loss), None
        return self._capped_response(loss, self.smoothing, self._cap(), self.smoothing_center)

    def _primal_terms(self, x):
        q, free = self._response(x)
        if self.smoothing is None:
            # the exact primal: a subgradient (the greedy weights) and the Hessian of the
            # weighted losses, without the adversary's response (it jumps at ties)
            free, mu = np.zeros(self.n_samples, dtype=bool), 1.0
        else:
            mu = self.smoothing
        return self._quadratic_terms(x, q, free, mu)

    def start_smoothing(self, x):
        """Start Newton's continuation at ``x``: ``mu`` at the scale of the losses, centred
        at the prior."""
        loss, _ = self._loss(x)
        self._mu0 = check_positive(float(np.abs(loss[self._support]).max()) + 1.0, "mu")
        self.smoothing, self.smoothing_center = self._mu0, None

    def smoothing_gap(self, x):
        """``P(x) - P_mu(x) >= 0``, exactly: with the gap of the smoothed problem it bounds
        ``P(x) - P*``, as ``P_mu <= P`` everywhere."""
        smoothed = self.primal(x)
        mu, center = self.smoothing, self.smoothing_center
        self.smoothing = None
        try:
            exact = self.primal(x)
        finally:
            self.smoothing = mu
        self.smoothing_center = center
        return exact - smoothed

    def update_smoothing(self, x):
        """The next stage: the center moves to the smoothed best response at ``x`` (a
        proximal point step of the adversary, so the bias vanishes at the saddle point with
        ``mu`` kept moderate) and ``mu`` shrinks tenfold down to 1e-5 of its start (measured:
        the fewest Newton steps)."""
        self.smoothing_center = self.best_response(x)
        self.smoothing = max(0.1 * self.smoothing, 1e-5 * self._mu0)
