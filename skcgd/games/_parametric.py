r"""Logistic regression against a parametric likelihood-ratio adversary (no closed form)."""

import numpy as np
import scipy.sparse as sp
from scipy.special import logsumexp

from skcgd._linalg import MixedOperator
from skcgd._validation import as_csr, check_non_negative, check_vector, finite_max_abs
from skcgd.games._design import LogisticMixedOperator
from skcgd.games._registry import register_adversary
from skcgd.games._reweighted import ReweightedLogisticGame

__all__ = ["ParametricLogisticGame", "default_adversary_features"]

# curvature_y forms the adversary's Hessian up to this many features (exact norm)
_DENSE_CURVATURE_SIZE = 256
# the largest |z| accepted: C N |z|^2 stays far inside float64 for any sensible C N
_MAX_FEATURE_SCALE = 1e50


def default_adversary_features(X, class_index, n_classes):
    """The default adversary features: the rows of ``X`` interacted with the one-hot label,
    then the one-hot label, ``z_i = [e_{c_i} \\otimes x_i, e_{c_i}]``.

    With them the adversary can up-weight a region of feature space for one class (a
    log-linear tilt per class) and each class as a whole.

    Parameters
    ----------
    X : {ndarray, CSR matrix} of shape (n_samples, n_features)
    class_index : ndarray of shape (n_samples,) of int
        Class ``0..n_classes-1`` of each sample.
    n_classes : int

    Returns
    -------
    Z : {ndarray, CSR matrix} of shape (n_samples, n_classes * (n_features + 1)), float64
        CSR when ``X`` is sparse.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.games import default_adversary_features
    >>> default_adversary_features(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0, 1]), 2)
    array([[1., 2., 0., 0., 1., 0.],
           [0., 0., 3., 4., 0., 1.]])
    """
    n, p = X.shape
    c = np.asarray(class_index, dtype=np.int64)
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=np.float64)
        counts = np.diff(X.indptr)
        rows = np.repeat(np.arange(n), counts)
        cols = X.indices + p * c[rows]
        data = np.concatenate([X.data, np.ones(n)])
        rows = np.concatenate([rows, np.arange(n)])
        cols = np.concatenate([cols, n_classes * p + c])
        Z = sp.csr_matrix((data, (rows, cols)), shape=(n, n_classes * (p + 1)))
        Z.sort_indices()
        return Z
    Z = np.zeros((n, n_classes * (p + 1)))
    Xf = np.asarray(X, dtype=np.float64)
    for k in range(n_classes):
        mask = c == k
        Z[mask, k * p : (k + 1) * p] = Xf[mask]
    Z[np.arange(n), n_classes * p + c] = 1.0
    return Z


class _ParametricMixedOperator(MixedOperator):
    """``B = B_s D``: ``B_s`` the per-sample mixed Hessian (column ``i`` is ``grad l_i``) and
    ``D = C N diag(q) (Z - 1 zbar^T)`` the derivative of the weights ``C N q`` in ``psi``."""

    def __init__(self, sample_op, Z, q, zbar, scale):
        self.sample_op, self.Z, self.q, self.zbar, self.scale = sample_op, Z, q, zbar, scale
        self.shape = (sample_op.shape[0], Z.shape[1])

    def matvec(self, v):
        v = check_vector(v, self.shape[1], "v")
        d = self.scale * self.q * (self.Z @ v - self.zbar @ v)
        return self.sample_op.matvec(d)

    def rmatvec(self, u):
        t = self.sample_op.rmatvec(u)
        w = self.q * (t - self.q @ t)
        return self.scale * np.asarray(self.Z.T @ w).ravel()


@register_adversary(
    "parametric",
    has_primal=False,
    needs_features=True,
    summary="each sample, through a log-linear model of adversary features, with a KL penalty",
    max_rho=1e8,
)
class ParametricLogisticGame(ReweightedLogisticGame):
    r"""Logistic regression against a parametric likelihood-ratio adversary.

    The adversary re-weights the samples through a log-linear model of features
    :math:`z_i` (adversary features) with coefficients :math:`\psi`:

    .. math::

        q_i(\psi) = \frac{s_i e^{\psi^T z_i}}{\sum_j s_j e^{\psi^T z_j}}, \qquad
        \min_W \max_\psi\; f(W, \psi) = C N \Big[\sum_i q_i(\psi)\, l_i(W)
            - \tau\, \mathrm{KL}(q(\psi) \,\|\, p)\Big] - \frac{\alpha}{2} \|\psi\|^2
            + \tfrac12 \|W\|^2,

    with :math:`p = s / N`, :math:`N = \sum_i s_i`, :math:`\tau = 1/\rho`, :math:`\alpha` the
    adversary's own penalty (``adversary_alpha``) and the intercept column of ``W`` not
    penalised. The max player :math:`\psi` lives on :math:`\mathbb{R}^k`. Its best response has
    no closed form and the game is convex in ``W`` but in general not concave in
    :math:`\psi`: the game solvers play it (CGD by default in the estimator), Newton does not.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Labels in {-1, +1} (binary) or class indices ``0..K-1`` (``multinomial=True``).
    adversary_X : {ndarray, sparse matrix} of shape (n_samples, k), default=None
        The adversary features :math:`z_i`; None for :func:`default_adversary_features`
        (the rows of X interacted with the one-hot label, then the one-hot label).
    adversary_alpha : float, default=1.0
        :math:`\alpha \ge 0`, the penalty on :math:`\psi`.
    C, rho, sample_weight, fit_intercept, multinomial, n_classes, check_input
        As in :class:`~skcgd.games.KLLogisticGame`.

    Attributes
    ----------
    Z : {ndarray, CSR matrix} of shape (n_samples, k)
        The adversary features (float64).

    See Also
    --------
    GroupKLLogisticGame : the special case of one-hot group features and ``alpha = 0``.
    KLLogisticGame : a free weight per sample, the closed-form limit of rich features.

    Notes
    -----
    With :math:`a = Z\psi` and :math:`r_i = l_i - \tau a_i`, the gradients are

    .. math::

        \nabla_W f = C N \sum_i q_i \nabla l_i + W_{\text{pen}}, \qquad
        \nabla_\psi f = C N\, Z^T\big(q \odot (r - q^T r)\big) - \alpha \psi,

    the mixed Hessian is :math:`B = C N \sum_i q_i \nabla l_i (z_i - \bar z)^T` with
    :math:`\bar z = Z^T q` (one pass over X and one over Z per product), and the adversary's
    own Hessian :math:`C N \sum_i q_i (r_i - q^T r - \tau)(z_i - \bar z)(z_i - \bar z)^T -
    \alpha I`, formed for up to 256 features (``curvature_y`` is then its exact norm); beyond,
    its norm is bounded by :math:`C N \max_i |r_i - q^T r - \tau| \sum_i q_i
    \|z_i - \bar z\|^2 + \alpha`.

    **The group adversary is a special case.** With :math:`z_i` the one-hot vector of sample
    :math:`i`'s group and :math:`\alpha = 0`, :math:`q` is uniform within each group (as
    :math:`p` is) and its group masses :math:`Q_g \propto \pi_g e^{\psi_g}` range over every
    distribution on the groups with positive entries; :math:`\mathrm{KL}(q\|p) =
    \mathrm{KL}(Q\|\pi)` and :math:`\sum_i q_i l_i = \sum_g Q_g L_g`, so the game's saddle
    point is :class:`GroupKLLogisticGame`'s (the tests check it).

    References
    ----------
    .. [1] P. Michel, T. Hashimoto and G. Neubig, "Distributionally robust models with
       parametric likelihood ratios", ICLR 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.games import ParametricLogisticGame
    >>> from skcgd.solvers import CGD
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0], [1.5], [0.5]])
    >>> y = np.array([-1, -1, 1, 1, -1, 1])
    >>> game = ParametricLogisticGame(X, y, rho=1.0, fit_intercept=True)
    >>> game.n_x, game.n_y                  # (w, b) against psi over [e_c x, e_c]
    (2, 4)
    >>> result = CGD(eta="auto", tol=1e-10, max_iter=5000).run(
    ...     game, np.zeros(game.n_x), np.zeros(game.n_y))
    >>> result.converged
    True
    >>> q = game.sample_distribution(result.y)
    >>> bool(np.isclose(q.sum(), 1.0)), bool(q[4] > q[0])    # the misfit weighs more
    (True, True)
    """

    def __init__(
        self,
        X,
        y,
        *,
        adversary_X=None,
        adversary_alpha=1.0,
        C=1.0,
        rho=1.0,
        sample_weight=None,
        fit_intercept=False,
        multinomial=False,
        n_classes=None,
        check_input=True,
    ):
        self._adversary_X = adversary_X
        self.adversary_alpha = check_non_negative(adversary_alpha, "adversary_alpha")
        super().__init__(
            X,
            y,
            C=C,
            rho=rho,
            sample_weight=sample_weight,
            fit_intercept=fit_intercept,
            multinomial=multinomial,
            n_classes=n_classes,
            check_input=check_input,
        )

    def _init_adversary(self):
        Z, self._adversary_X = self._adversary_X, None
        if Z is None:
            if self.multinomial:
                classes, n_classes = self.labels, self.K
            else:
                classes, n_classes = (self.labels > 0).astype(np.int64), 2
            Z = default_adversary_features(self.X, classes, n_classes)
        else:
            Z = check_adversary_features(Z, self.n_samples)
        self.Z = Z
        self.n_y = Z.shape[1]
        self._support = self.sample_weight > 0
        with np.errstate(divide="ignore"):
            self._log_prior = np.log(self.sample_weight / self.N)  # -inf off the support
        self._q_key = self._q_val = None

    @staticmethod
    def weights_at_rho_zero(game, **adversary_data):
        """The limit of the equilibrium weights as ``rho -> 0``: the prior ``s / N``."""
        return game.sample_weight / game.N

    # -- the adversary's distribution ----------------------------------------------------
    def _tilt(self, psi):
        """``(a, q)``: ``a = Z psi`` and the distribution ``q(psi)`` (cached for one psi)."""
        psi = check_vector(psi, self.n_y, "y")
        if self._q_key is not None and np.array_equal(psi, self._q_key):
            return self._q_val
        a = np.asarray(self.Z @ psi, dtype=np.float64).ravel()
        logits = np.where(self._support, self._log_prior + a, -np.inf)
        q = np.exp(logits - logsumexp(logits))
        self._q_key, self._q_val = psi.copy(), (a, q)
        return a, q

    def sample_distribution(self, y):
        """The adversary's distribution ``q(psi)`` over the samples at ``psi = y``."""
        return self._tilt(y)[1].copy()

    def _kl(self, a, q):
        sup = self._support & (q > 0)
        log_ratio = np.log(q[sup]) - self._log_prior[sup]
        return float(q[sup] @ log_ratio)

    def _residual(self, x, y):
        """``(a, q, r - q^T r)`` with ``r = l - tau a`` on the support (0 off it)."""
        loss, _ = self._loss(x)
        a, q = self._tilt(y)
        r = np.where(self._support, loss - self.tau * a, 0.0)
        return a, q, np.where(self._support, r - q @ r, 0.0)

    # -- the game ------------------------------------------------------------------------
    def value(self, x, y):
        """:math:`f(W, \\psi)`."""
        psi = check_vector(y, self.n_y, "y")
        loss, _ = self._loss(x)
        a, q = self._tilt(psi)
        CN = self.C * self.N
        data = CN * (float(q @ np.where(self._support, loss, 0.0)) - self.tau * self._kl(a, q))
        return (
            data
            - 0.5 * self.adversary_alpha * float(psi @ psi)
            + self._penalty(self.coef_matrix(x))
        )

    def grads(self, x, y):
        """``(grad_W f, grad_psi f)``."""
        psi = check_vector(y, self.n_y, "y")
        _, q, centred = self._residual(x, psi)
        CN = self.C * self.N
        gx = self._grad_W(x, CN * q)
        gy = CN * np.asarray(self.Z.T @ (q * centred)).ravel() - self.adversary_alpha * psi
        return gx, gy

    def mixed(self, x, y):
        """The mixed Hessian ``B = D2_{W psi} f`` (Kq, k), matrix-free."""
        _, G = self._loss(x)
        _, q = self._tilt(y)
        zbar = np.asarray(self.Z.T @ q).ravel()
        sample_op = LogisticMixedOperator(self.X, np.ascontiguousarray(G), self.fit_intercept)
        return _ParametricMixedOperator(sample_op, self.Z, q, zbar, self.C * self.N)

    def curvature_x(self, x, y):
        """Bound on :math:`\\|D^2_{WW} f\\|_2`: the weighted data Hessian plus the penalty."""
        _, q = self._tilt(y)
        return self._curvature_x(x, self.C * self.N * q)

    def curvature_y(self, x, y):
        """Bound on :math:`\\|D^2_{\\psi\\psi} f\\|_2`: exact for up to 256 adversary
        features (the Hessian is formed, one pass over Z), the bound of the Notes above."""
        psi = check_vector(y, self.n_y, "y")
        _, q, centred = self._residual(x, psi)
        zbar = np.asarray(self.Z.T @ q).ravel()
        if self.n_y <= _DENSE_CURVATURE_SIZE:
            c = np.where(self._support, q * (centred - self.tau), 0.0)
            # sum_i c_i (z_i - zbar)(z_i - zbar)^T without forming Z - zbar (Z may be CSR)
            if sp.issparse(self.Z):
                M = (self.Z.T @ self.Z.multiply(c[:, None]).tocsr()).toarray()
            else:
                M = self.Z.T @ (self.Z * c[:, None])
            w = np.asarray(self.Z.T @ c).ravel()
            M -= np.outer(zbar, w) + np.outer(w, zbar) - c.sum() * np.outer(zbar, zbar)
            H = self.C * self.N * M
            H[np.diag_indices_from(H)] -= self.adversary_alpha
            return float(np.abs(np.linalg.eigvalsh(H)).max())
        if sp.issparse(self.Z):
            sq = np.asarray(self.Z.multiply(self.Z).sum(axis=1)).ravel()
        else:
            sq = np.einsum("ij,ij->i", self.Z, self.Z)
        spread = max(float(q @ sq) - float(zbar @ zbar), 0.0)  # sum_i q_i ||z_i - zbar||^2
        top = float(np.abs(centred - self.tau)[self._support].max())
        return self.C * self.N * top * spread + self.adversary_alpha

    def natural_step_sizes(self, x, y):
        """``(1 / L_x, 1 / L_y)`` from both players' own-curvature bounds at ``(x, y)``."""
        Ly = float(self.curvature_y(x, y))
        return 1.0 / float(self.curvature_x(x, y)), (1.0 / Ly if Ly > 0 else 1.0)

    def adversary_start(self, x):
        """``psi = 0``: the adversary starts at the prior ``q = s / N``."""
        return np.zeros(self.n_y)

    def strategy_weights(self, y):
        """The distribution ``q(psi)`` over the samples at ``psi = y``."""
        return self.sample_distribution(y)

    def best_response(self, x):
        """Not available: the adversary has no closed-form best response."""
        raise NotImplementedError(
            "The parametric adversary has no closed-form best response: play the game with "
            "a game solver (skcgd.solvers.CGD) from psi = 0."
        )

    def equilibrium_weights(self, x, y=None):
        """The adversary's distribution over the samples at ``psi = y`` (prior if None)."""
        if y is None:
            return self.sample_weight / self.N
        return self.sample_distribution(y)

    def _primal_value(self, x):
        raise NotImplementedError(
            "The parametric adversary has no closed-form primal (no best response in closed "
            "form); solver='newton' does not apply."
        )

    def _primal_terms(self, x):
        self._primal_value(x)

    def _params_repr(self):
        return super()._params_repr() + f", adversary_alpha={self.adversary_alpha:g}"


def check_adversary_features(Z, n):
    """``adversary_X`` as float64 (dense C-ordered or CSR), finite, with ``n`` rows."""
    if sp.issparse(Z):
        Z = as_csr(Z, "adversary_X").astype(np.float64)
    else:
        Z = np.asarray(Z)
        if Z.dtype == object:  # e.g. a DataFrame of int and bool columns: numbers if it can
            try:
                Z = Z.astype(np.float64)
            except (TypeError, ValueError):
                pass
        if Z.dtype.kind not in "biuf":
            raise ValueError(f"adversary_X must be numeric, got dtype {Z.dtype}.")
        Z = np.ascontiguousarray(Z, dtype=np.float64)
        if Z.ndim != 2:
            raise ValueError(
                f"adversary_X must be a 2-D array (n_samples, k), got shape {Z.shape}."
            )
    if Z.shape[0] != n:
        raise ValueError(
            f"adversary_X has {Z.shape[0]} rows but X has {n}: one row of adversary features "
            "per sample."
        )
    if Z.shape[1] == 0:
        raise ValueError("adversary_X has no columns: the adversary needs at least one feature.")
    top = finite_max_abs(Z, "adversary_X")
    # exp(psi . z) and the adversary's curvature (~ max|z|^2) must stay finite in float64
    if not top <= _MAX_FEATURE_SCALE:
        raise ValueError(
            f"adversary_X's scale max|adversary_X| = {top:.3g} is too large (above "
            f"{_MAX_FEATURE_SCALE:g}): the adversary's curvature would overflow. Rescale "
            "adversary_X (e.g. sklearn.preprocessing.StandardScaler)."
        )
    return Z
