"""Logistic regression against an adversary that re-weights groups of samples (group DRO)."""

import numpy as np

from skcgd._linalg import DenseMixedOperator
from skcgd._validation import check_vector
from skcgd.games._design import weighted_sum_rows
from skcgd.games._registry import register_adversary
from skcgd.games._reweighted import SMALLEST, PrimalTerms, ReweightedLogisticGame, soft_mean

__all__ = ["GroupKLLogisticGame"]


@register_adversary(
    "group",
    needs_groups=True,
    summary="each group of samples, on the simplex, with a KL penalty",
    max_rho=1e8,
)
class GroupKLLogisticGame(ReweightedLogisticGame):
    r"""Logistic regression against an adversary that re-weights groups, with a KL penalty.

    .. math::

        \min_W \max_{q \in \Delta_G}\; f(W, q) = C N \Big[\sum_g q_g L_g(W)
            - \tau\, \mathrm{KL}(q \,\|\, \pi)\Big] + \tfrac12 \|W\|^2,
        \qquad L_g = \frac{1}{N_g}\sum_{i \in g} s_i l_i(W),\; \pi_g = \frac{N_g}{N}

    with :math:`N_g = \sum_{i \in g} s_i`, :math:`N = \sum_i s_i`, :math:`\tau = 1/\rho` and the
    intercept column of ``W`` not penalised. The max player ``q`` lives on the simplex of the
    ``G`` groups (``domain_y = "simplex"``).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Labels in {-1, +1} (binary) or class indices ``0..K-1`` (``multinomial=True``).
    groups : array-like of shape (n_samples,)
        Group index of each sample, integers in ``0..G-1``; every group needs positive weight.
    C, rho, sample_weight, fit_intercept, multinomial, n_classes, check_input
        As in :class:`~skcgd.games.KLLogisticGame`.

    Notes
    -----
    The best response is :math:`q^* = \operatorname{softmax}(L / \tau + \log \pi)` and the
    primal objective :math:`P(W) = C N \tau \log \sum_g \pi_g e^{L_g / \tau} + \|W\|^2/2`.
    The mixed Hessian has one column per group, :math:`C N \nabla_W L_g`; with few groups it
    is formed explicitly (one pass over X) and CGD's systems are solved directly.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.games import GroupKLLogisticGame
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 0.0]])
    >>> game = GroupKLLogisticGame(X, [1, -1, 1, -1], groups=[0, 0, 1, 1], rho=1.0)
    >>> w = np.array([1.0, 0.0])
    >>> q = game.best_response(w)            # the group with the larger loss weighs more
    >>> np.round(q, 4)
    array([0.3281, 0.6719])
    >>> bool(np.isclose(game.value(w, q), game.primal(w)))
    True
    """

    domain_y = "simplex"

    def __init__(
        self,
        X,
        y,
        groups,
        *,
        C=1.0,
        rho=1.0,
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
            rho=rho,
        )
        self.groups, self.group_weight = _check_group_index(groups, self.sample_weight)
        self.n_groups = self.group_weight.shape[0]
        self.log_prior = np.log(self.group_weight / self.N)
        self.n_y = self.n_groups

    @staticmethod
    def weights_at_rho_zero(game, groups):
        """The limit of the equilibrium weights as ``rho -> 0``: the prior ``N_g / N``."""
        _, group_weight = _check_group_index(groups, game.sample_weight)
        return group_weight / group_weight.sum()

    def _check_q(self, y):
        q = check_vector(y, self.n_y, "y")
        if (q < 0).any():
            raise ValueError("The adversary's group weights q must be non-negative.")
        return q

    def group_losses(self, x):
        """The weighted mean loss :math:`L_g` of each group, shape (G,)."""
        loss, _ = self._loss(x)
        return (
            np.bincount(self.groups, weights=self.sample_weight * loss, minlength=self.n_groups)
            / self.group_weight
        )

    def _sample_weights(self, q):
        """Per-sample weight of ``l_i`` in ``f``: ``C N q_g s_i / N_g``."""
        return self.C * self.N * (q / self.group_weight)[self.groups] * self.sample_weight

    def group_gradients(self, x):
        r"""The matrix of :math:`\nabla_W L_g`, shape (K q, G)."""
        _, G = self._loss(x)
        scale = self.sample_weight / self.group_weight[self.groups]
        M = np.zeros((self.n_samples, self.n_groups * self.K))
        cols = self.groups[:, None] * self.K + np.arange(self.K)[None, :]
        np.put_along_axis(M, cols, G * scale[:, None], axis=1)
        sums = weighted_sum_rows(self.X, M, self.fit_intercept)  # (G K, q)
        return sums.reshape(self.n_groups, self.K * self.q).T

    def value(self, x, y):
        """:math:`f(W, q)`."""
        q = self._check_q(y)
        L = self.group_losses(x)
        pos = q > 0
        kl = float(q[pos] @ (np.log(q[pos]) - self.log_prior[pos]))
        return float(self.C * self.N * (q @ L - self.tau * kl) + self._penalty(self.coef_matrix(x)))

    def grads(self, x, y):
        """``(grad_W f, grad_q f)``."""
        q = self._check_q(y)
        gx = self._grad_W(x, self._sample_weights(q))
        # a weight that underflowed to 0 (a group far easier than the others) keeps a finite
        # gradient, as in the per-sample KL game
        log_q = np.log(np.maximum(q, SMALLEST))
        gy = self.C * self.N * (self.group_losses(x) - self.tau * (log_q - self.log_prior + 1.0))
        return gx, gy

    def mixed(self, x, y):
        """The mixed Hessian, one column :math:`C N \\nabla_W L_g` per group (formed)."""
        return DenseMixedOperator(self.C * self.N * self.group_gradients(x))

    def curvature_x(self, x, y):
        """Estimate of :math:`\\|D^2_{WW} f\\|_2` by power iteration."""
        return self._curvature_x(x, self._sample_weights(self._check_q(y)))

    def adversary_step_size(self):
        """The entropy scale ``rho / (C N)`` (see :class:`~skcgd.games.KLLogisticGame`)."""
        return self.rho / (self.C * self.N)

    def curvature_y(self, x, y):
        """:math:`C N \\tau / \\min_g q_g`."""
        q = self._check_q(y)
        return np.inf if (q <= 0).all() else self.C * self.N * self.tau / float(q[q > 0].min())

    def best_response(self, x):
        """:math:`q^* = \\operatorname{softmax}(L / \\tau + \\log \\pi)`."""
        a = self.group_losses(x) / self.tau + self.log_prior
        e = np.exp(a - a.max())
        return e / e.sum()

    # -- the primal ----------------------------------------------------------------------
    def _primal_value(self, x):
        # max_q f(W, q) = C N tau log sum_g pi_g e^{L_g / tau} + ||W||^2 / 2
        prior = self.group_weight / self.N
        return float(
            self.C * self.N * soft_mean(self.group_losses(x), prior, self.tau)
            + self._penalty(self.coef_matrix(x))
        )

    def _primal_terms(self, x):
        # with M the columns grad L_g and q* the best response: data gradient C N M q*, and
        # from the adversary's response (C N / tau) (M diag(q*) M^T - (M q*)(M q*)^T)
        _, G = self._loss(x)
        q = self.best_response(x)
        M = self.group_gradients(x)
        Mq = M @ q
        scale = self.C * self.N / self.tau
        return PrimalTerms(
            G,
            self._sample_weights(q),
            low_rank=[(scale, M * np.sqrt(q)[None, :]), (-scale, Mq[:, None])],
            data_grad=self.C * self.N * Mq,
            adversary=q,
        )


def _check_group_index(groups, sample_weight):
    """``(groups as int64 indices 0..G-1, weight N_g of each group)``; every group weighs."""
    g = np.asarray(groups)
    n = sample_weight.shape[0]
    if g.ndim != 1 or g.shape[0] != n:
        raise ValueError(f"groups must have length {n} (one per sample), got shape {g.shape}.")
    if g.dtype.kind not in "iu" or (g.size and g.min() < 0):
        raise ValueError("groups must hold group indices 0..G-1 (encode labels first).")
    g = g.astype(np.int64)
    n_groups = int(g.max()) + 1 if g.size else 0
    group_weight = np.bincount(g, weights=sample_weight, minlength=n_groups)
    if (group_weight <= 0).any():
        empty = np.flatnonzero(group_weight <= 0)[:5].tolist()
        raise ValueError(
            f"Groups {empty} have no sample with positive weight: every group "
            "of the adversary needs data."
        )
    return g, group_weight
