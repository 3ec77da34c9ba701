r"""The base of the reweighted logistic games: the data layer and the primal machinery.

A reweighted logistic game pits the classifier ``W`` (the min player, a ``(K, q)`` matrix
flattened, see :mod:`skcgd.games._design`) against an adversary that re-weights the
per-sample logistic losses. Each adversary is one subclass (registered by name in
:mod:`skcgd.games._registry`) that gives

* the game: ``value``, ``grads``, ``curvature_y`` and the weights of the data term in
  ``grad_W f`` and in the mixed Hessian (``_data_weights``, ``_mixed_weights``);
* the adversary: ``best_response(x)`` and ``equilibrium_weights(x)``;
* where the best response is closed-form, the **primal** ``P(W) = max_y f(W, y)``:
  ``_primal_value`` and ``_primal_terms``, the structure of its gradient and Hessian

  .. math::

      \nabla^2 P = \sum_i \omega_i \nabla^2 l_i + \sum_i c_i \nabla l_i \nabla l_i^T
                   + \sum_k \gamma_k U_k U_k^T + I_{\text{pen}},

  per-sample weights :math:`\omega_i` (the adversary's weights), a Gauss-Newton term from
  the adversary's response (:math:`c_i`), low-rank terms and the penalty (no curvature on
  the intercepts).

From these the base class derives ``primal``, ``primal_evaluate`` (value, gradient and the
terms above), ``primal_hessian_operator`` (matrix-free, one or two passes over X per product)
and ``primal_hessian_matrix`` (accumulated from row blocks of X): what
:class:`skcgd.solvers.Newton` needs. The game solvers need only the game protocol.
"""

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, eigsh

from skcgd._linalg import RowGramOperator
from skcgd._validation import (
    check_data,
    check_game_labels,
    check_positive,
    check_problem_scale,
    check_sample_weight,
    check_vector,
)
from skcgd.games._base import BaseGame
from skcgd.games._design import LogisticMixedOperator, margins, row_gram, weighted_sum_rows

__all__ = ["PrimalTerms", "ReweightedLogisticGame", "soft_mean"]

# curvature_x forms the loss Hessian up to this many unknowns (exact eigenvalue), above it
# runs Lanczos on Hessian-vector products.
_DENSE_CURVATURE_SIZE = 256
SMALLEST = np.nextafter(0.0, 1.0)  # 5e-324: log(SMALLEST) = -744.4


class PrimalTerms:
    """The structure of the primal's gradient and Hessian at one point (see the module doc).

    Attributes
    ----------
    G : ndarray of shape (n, K)
        Derivatives ``dl_i / dz_i`` of the losses in the margins.
    omega : ndarray of shape (n,)
        Weights of the loss Hessians (and of the data gradient).
    gauss_newton : ndarray of shape (n,) or None
        Weights ``c_i`` of the Gauss-Newton term.
    low_rank : list of (float, ndarray of shape (K q, r))
        Terms ``coefficient * U U^T``.
    data_grad : ndarray of shape (K q,) or None
        The data part of the gradient when the game computed it on the way (else it is
        ``sum_i omega_i (g_i kron xt_i)``).
    adversary : ndarray
        The adversary's best response at the point.
    """

    __slots__ = ("G", "omega", "gauss_newton", "low_rank", "data_grad", "adversary")

    def __init__(self, G, omega, gauss_newton=None, low_rank=(), data_grad=None, adversary=None):
        self.G, self.omega, self.gauss_newton = G, omega, gauss_newton
        self.low_rank, self.data_grad, self.adversary = list(low_rank), data_grad, adversary


def check_rho(rho, max_rho, name):
    """``float(rho)`` if it is positive, finite and at most ``max_rho``."""
    rho = check_positive(
        rho,
        "rho",
        " rho = 0 is plain L2 logistic regression (no adversary): use "
        "PlainLogisticGame, or make_logistic_game, which does so.",
    )
    if rho > max_rho:
        raise ValueError(
            f"rho={rho:g} is above the largest strength {name} accepts ({max_rho:g}): there "
            "the adversary is its worst case to rounding and the problem is numerically "
            "singular. For the worst case itself use adversary='cvar' (rho = N - 1 puts all "
            "the weight on the worst sample) or a smaller rho."
        )
    return rho


class ReweightedLogisticGame(BaseGame):
    """Data layer and primal machinery shared by the reweighted logistic games.

    Not a game by itself: subclass it (see the module docstring for what a subclass gives).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training data; float32 and float64 are kept as they are, CSR is never densified.
    y : array-like of shape (n_samples,)
        Labels in {-1, +1} (binary) or class indices ``0..K-1`` (``multinomial=True``).
    C : float, default=1.0
        Inverse regularisation strength (scikit-learn's convention); ``np.inf`` drops the
        penalty (the data term then has weight 1).
    rho : float or None, default=1.0
        The adversary's strength, > 0 (None for a game without an adversary).
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights ``s_i`` (ones if None).
    fit_intercept : bool, default=False
        Add an unpenalised intercept, stored last in each row of ``W``.
    multinomial : bool, default=False
        Softmax loss with ``K`` coefficient rows instead of the binary loss with one.
    n_classes : int, default=None
        ``K`` for the multinomial loss (``max(y) + 1`` if None).
    check_input : bool, default=True
        Validate X, y, C and sample_weight (passes over X for finiteness and scale). An
        estimator that validated them already passes False: X must then be a C-contiguous
        float32/float64 array or a CSR matrix with sorted indices, y int64 labels of the
        right kind, sample_weight a float64 vector.

    See Also
    --------
    register_adversary : makes a subclass an adversary of MinimaxLogisticRegression.

    Examples
    --------
    Every adversary's game shares the data layer and the primal machinery; its primal, the
    value after the adversary's best response, is what :class:`~skcgd.solvers.Newton`
    minimises:

    >>> import numpy as np
    >>> from skcgd.games import Chi2LogisticGame, ReweightedLogisticGame
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> game = Chi2LogisticGame(X, [1, -1, 1], rho=0.5)
    >>> isinstance(game, ReweightedLogisticGame)
    True
    >>> w = np.array([0.5, -0.5])
    >>> value, grad, terms = game.primal_evaluate(w)
    >>> bool(np.isclose(value, game.value(w, game.best_response(w))))
    True
    >>> H = game.primal_hessian_matrix(w, terms)       # formed; or matrix-free:
    >>> bool(np.allclose(H @ grad, game.primal_hessian_operator(w, terms) @ grad))
    True
    """

    max_rho = float("inf")  # set by register_adversary

    def __init__(
        self,
        X,
        y,
        *,
        C=1.0,
        rho=1.0,
        sample_weight=None,
        fit_intercept=False,
        multinomial=False,
        n_classes=None,
        check_input=True,
    ):
        multinomial = bool(multinomial)
        # C = inf is no penalty at all: the data term with weight 1 and no ||W||^2 (the
        # objective is then bounded only where the data are not separable)
        unpenalised = isinstance(C, float | int) and C == np.inf
        if unpenalised:
            C = 1.0
        if check_input:
            X, max_abs = check_data(X)
            n = X.shape[0]
            labels, K = check_game_labels(y, n, multinomial, n_classes)
            C = check_positive(C, "C")
            sample_weight = check_sample_weight(sample_weight, n)
            check_problem_scale(X, sample_weight, C, max_abs)
        else:
            labels = np.asarray(y, dtype=np.int64)
            K = (
                (int(n_classes) if n_classes is not None else int(labels.max()) + 1)
                if (multinomial)
                else 1
            )
            sample_weight = np.asarray(sample_weight, dtype=np.float64)
            C = float(C)
        n, p = X.shape
        if n == 0:
            raise ValueError("X has no rows: the game needs at least one sample.")
        self.X, self.labels, self.C, self.sample_weight = X, labels, C, sample_weight
        self.N = float(sample_weight.sum())
        self.fit_intercept = bool(fit_intercept)
        self.multinomial = multinomial
        self.n_samples, self.n_features = n, p
        self.K = K
        self.q = p + int(self.fit_intercept)
        if self.q == 0:
            raise ValueError(
                "X has no features and fit_intercept=False: the min player has no variables."
            )
        self.n_x = K * self.q
        self.n_y = n
        # the weight of ||W||^2 / 2 (0 for C = inf)
        self.l2 = 0.0 if unpenalised else 1.0
        pen = np.full((K, self.q), self.l2)
        if self.fit_intercept:
            pen[:, -1] = 0.0
        self._pen = pen.ravel()
        # softmax losses do not change when the same number is added to every intercept: a
        # flat direction of the objective. The gradient has no component along it, so adding
        # its projector to the Hessian makes the Newton step unique without moving along it.
        self._flat = None
        if K > 1 and self.fit_intercept:
            e = np.zeros((K, self.q))
            e[:, -1] = 1.0 / np.sqrt(K)
            self._flat = e.ravel()
        self._cache_x = self._cache = None
        self._fused_x = self._fused_grad = None
        self._curv_key = self._curv_vec = None
        if rho is not None:  # None: a game without an adversary
            self.rho = check_rho(rho, type(self).max_rho, type(self).__name__)
            self.tau = 1.0 / self.rho
        self._init_adversary()

    def _init_adversary(self):
        """Hook: derived attributes of the adversary, once the data are set."""

    # -- the data layer ------------------------------------------------------------------
    def coef_matrix(self, x):
        """``x`` as the (K, q) coefficient matrix (intercept in the last column if fitted)."""
        return check_vector(x, self.n_x, "x").reshape(self.K, self.q)

    def _penalty(self, W):
        if self.l2 == 0.0:
            return 0.0
        coef = W[:, : self.n_features]
        return 0.5 * float(np.vdot(coef, coef))

    def _loss(self, x):
        """Per-sample losses ``l`` (n,) and derivatives ``G = dl/dz`` (n, K) at ``x``.

        The last point is cached: a solver asks for the gradients and then the mixed Hessian
        at the same point, and both need the same pass over X.
        """
        x = check_vector(x, self.n_x, "x")
        if self._cache_x is not None and np.array_equal(x, self._cache_x):
            return self._cache
        from skcgd._kernels.logistic import _logistic_loss_deriv  # Numba loads on first use

        Z = margins(self.X, x.reshape(self.K, self.q), self.fit_intercept)
        loss = np.empty(self.n_samples)
        G = np.empty_like(Z)
        _logistic_loss_deriv(Z, self.labels, loss, G)
        self._cache_x, self._cache = x.copy(), (loss, G)
        return loss, G

    def _loss_grad_binary(self, x, c0, c1):
        """Losses, derivatives and ``sum_i (c0_i + c1_i l_i) g_i xt_i + W``, one pass over X.

        Binary games only (``K == 1``). The weights of a plain or chi-square reweighted
        primal are affine in the loss, so its gradient needs no second pass over X after the
        margins; the losses fill the cache of :meth:`_loss`.
        """
        x = check_vector(x, self.n_x, "x")
        p = self.n_features
        coef = np.ascontiguousarray(x[:p])
        b = float(x[p]) if self.fit_intercept else 0.0
        loss = np.empty(self.n_samples)
        g = np.empty(self.n_samples)
        grad = np.empty(self.q)
        from skcgd._kernels.logistic import _logistic_binary_grad_csr, _logistic_binary_grad_dense

        X = self.X
        if sp.issparse(X):
            _logistic_binary_grad_csr(
                X.data, X.indices, X.indptr, p, self.labels, coef, b, c0, c1,
                self.fit_intercept, loss, g, grad,
            )  # fmt: skip
        else:
            _logistic_binary_grad_dense(
                X, self.labels, coef, b, c0, c1, self.fit_intercept, loss, g, grad
            )
        self._cache_x, self._cache = x.copy(), (loss, g[:, None])
        grad[:p] += self.l2 * coef
        return loss, g[:, None], grad

    def _grad_W(self, x, c):
        """``sum_i c_i (g_i kron xt_i) + W`` (intercept not penalised), flattened."""
        _, G = self._loss(x)
        W = self.coef_matrix(x)
        gW = weighted_sum_rows(self.X, G * c[:, None], self.fit_intercept)
        gW[:, : self.n_features] += self.l2 * W[:, : self.n_features]
        return gW.ravel()

    def mixed(self, x, y):
        """The mixed Hessian ``B = D2_xy f`` at ``(x, y)`` (independent of ``y``)."""
        _, G = self._loss(x)
        R = np.ascontiguousarray(G * self._mixed_weights()[:, None])
        return LogisticMixedOperator(self.X, R, self.fit_intercept)

    def _loss_hessian_matvec(self, G, a, v):
        """``sum_i a_i (H_i kron xt_i xt_i^T) v``, ``H_i = d2 l_i / dz_i^2`` (PSD), flattened.

        ``G`` holds the derivatives ``dl_i / dz_i``, from which ``H_i`` follows.
        """
        V = v.reshape(self.K, self.q)
        D = margins(self.X, V, self.fit_intercept)
        if self.K == 1:
            s = np.abs(G[:, 0])  # sigmoid(-m_i); H_i = sigmoid(m_i) sigmoid(-m_i)
            T = D * (a * s * (1.0 - s))[:, None]
        else:
            P = self._softmax(G)
            T = P * (D - np.einsum("ik,ik->i", P, D)[:, None]) * a[:, None]
        return weighted_sum_rows(self.X, T, self.fit_intercept).ravel()

    def _softmax(self, G):
        """Softmax probabilities from the derivatives ``G = P - onehot(y)``."""
        P = G.copy()
        P[np.arange(self.n_samples), self.labels] += 1.0
        return P

    def _loss_hessian_matrix(self, G, a):
        """``sum_i a_i (H_i kron xt_i xt_i^T)`` as a dense (K q, K q) matrix, ``a >= 0``."""
        if self.K == 1:
            s = np.abs(G[:, 0])
            return row_gram(self.X, np.sqrt(a * s * (1.0 - s))[:, None], self.fit_intercept)
        P = self._softmax(G)
        # H_i = diag(p_i) - p_i p_i^T: block-diagonal part minus one row-Gram term
        A = -row_gram(self.X, np.sqrt(a)[:, None] * P, self.fit_intercept)
        q = self.q
        for k in range(self.K):
            A[k * q : (k + 1) * q, k * q : (k + 1) * q] += row_gram(
                self.X, np.sqrt(a * P[:, k])[:, None], self.fit_intercept
            )
        return A

    def _curvature_x(self, x, a):
        """``1 + lambda_max(sum_i |a_i| (H_i kron xt_i xt_i^T))``, cached for the last point.

        ``a_i`` are the weights of the loss Hessian; with signed ``a_i`` the data Hessian ``M``
        satisfies ``-A <= M <= A`` for ``A`` the operator with ``|a_i|``, so
        ``||M + l2 I_pen||_2 <= lambda_max(A) + l2``. Up to ``_DENSE_CURVATURE_SIZE`` unknowns ``A``
        is formed (blocked products, one pass over X per class) and its top eigenvalue is
        exact; above, Lanczos (:func:`scipy.sparse.linalg.eigsh`, relative accuracy 1e-6, from
        below) runs on Hessian-vector products, warm-started from the last eigenvector.
        """
        key = np.concatenate([check_vector(x, self.n_x, "x"), a])
        if self._curv_key is not None and np.array_equal(key, self._curv_key[0]):
            return self._curv_key[1]
        a = np.abs(a)
        _, G = self._loss(x)
        if self.n_x <= _DENSE_CURVATURE_SIZE:
            lam = float(np.linalg.eigvalsh(self._loss_hessian_matrix(G, a))[-1])
        else:
            op = LinearOperator(
                (self.n_x, self.n_x),
                dtype=np.float64,
                matvec=lambda v: self._loss_hessian_matvec(G, a, v.ravel()),
            )
            v0 = self._curv_vec
            if v0 is None:
                v0 = np.random.default_rng(0).standard_normal(self.n_x)
            vals, vecs = eigsh(op, k=1, which="LA", v0=v0, tol=1e-6)
            lam = float(vals[0])
            self._curv_vec = vecs[:, 0]
        value = self.l2 + max(lam, 0.0)
        self._curv_key = (key, value)
        return value

    # -- the adversary -------------------------------------------------------------------
    def equilibrium_weights(self, x):
        """The adversary's strategy at the classifier ``x`` (its best response), as exposed
        by ``MinimaxLogisticRegression.adversary_weights_``."""
        return self.best_response(x)

    def adversary_start(self, x):
        """Where a game solver starts the adversary against the classifier ``x``: its best
        response (a game without one in closed form overrides this)."""
        return self.best_response(x)

    def strategy_weights(self, y):
        """The weights the adversary's strategy ``y`` puts on the data, as exposed by
        ``MinimaxLogisticRegression.adversary_weights_`` when a game solver played it
        (``y`` itself for the adversaries that play the weights directly)."""
        return np.array(y, dtype=float)

    # -- the primal: the adversary eliminated --------------------------------------------
    def _fused_coefficients(self):
        """``(c0, c1)`` when the primal's data weights are ``c0 + c1 * l_i`` (else None)."""
        return None

    def _fused_gradient(self, x):
        """Gradient of a binary primal with affine weights, in one pass over X (cached).

        A line search that evaluates P at a point then leaves its gradient ready for the
        next Newton step.
        """
        if self._fused_x is not None and np.array_equal(x, self._fused_x):
            return self._fused_grad
        c0, c1 = self._fused_coefficients()
        _, _, grad = self._loss_grad_binary(x, c0, c1)
        self._fused_x, self._fused_grad = np.array(x, dtype=np.float64), grad
        return grad

    def _uses_fused(self):
        return self.K == 1 and self._fused_coefficients() is not None

    def primal(self, x):
        """The primal objective :math:`P(W) = \\max_y f(W, y)`."""
        if self._uses_fused():
            self._fused_gradient(x)  # fills the loss cache, keeps the gradient
        return self._primal_value(x)

    def primal_evaluate(self, x):
        """``(P(W), grad P(W), terms)``; ``terms`` (``PrimalTerms``) feeds the Hessian."""
        x = check_vector(x, self.n_x, "x")
        fused = self._fused_gradient(x) if self._uses_fused() else None
        terms = self._primal_terms(x)
        if fused is not None:
            grad = fused
        elif terms.data_grad is not None:
            grad = terms.data_grad + self._pen * x
        else:
            grad = self._grad_W(x, terms.omega)
        return self._primal_value(x), grad, terms

    def primal_grad(self, x):
        """:math:`\\nabla P(W)`, flattened."""
        return self.primal_evaluate(x)[1]

    def _binary_hessian_weights(self, terms):
        G, omega, c = terms.G, terms.omega, terms.gauss_newton
        s = np.abs(G[:, 0])  # sigmoid(-m_i); the loss curvature is s (1 - s)
        w = omega * s * (1.0 - s)
        if c is not None:
            w = w + c * G[:, 0] ** 2
        return w

    def primal_hessian_operator(self, x, terms):
        """:math:`\\nabla^2 P(W)` as a LinearOperator (fused one-pass products, binary loss).

        ``terms`` comes from :meth:`primal_evaluate` at the same ``x``. With a softmax loss
        and an intercept, the projector on the flat direction (the same shift of every
        intercept) is added, so the Hessian is positive definite.
        """
        G, omega, c = terms.G, terms.omega, terms.gauss_newton
        pen, flat = self._pen, self._flat
        if self.K == 1:
            op = RowGramOperator(
                self.X,
                None,
                hy=self._binary_hessian_weights(terms),
                dx=1.0,
                fit_intercept=self.fit_intercept,
                check_input=False,
            )
            base = op.matvec
            ident = 1.0 - pen  # RowGramOperator adds I; the intercept has no penalty

            def data_part(v):
                return base(v) - ident * v
        else:
            gn = None
            if c is not None:
                R = np.ascontiguousarray(G * np.sqrt(c)[:, None])
                gn = LogisticMixedOperator(self.X, R, self.fit_intercept)

            def data_part(v):
                out = self._loss_hessian_matvec(G, omega, v) + pen * v
                if gn is not None:
                    out += gn.matvec(gn.rmatvec(v))
                return out

        def matvec(v):
            out = data_part(v)
            for coef, U in terms.low_rank:
                out += coef * (U @ (U.T @ v))
            if flat is not None:
                out += flat * (flat @ v)
            return out

        return LinearOperator((self.n_x, self.n_x), matvec=matvec, dtype=np.float64)

    def primal_hessian_matrix(self, x, terms):
        """:math:`\\nabla^2 P(W)` as a dense matrix, accumulated from row blocks of X."""
        G, omega, c = terms.G, terms.omega, terms.gauss_newton
        fi = self.fit_intercept
        if self.K == 1:
            H = row_gram(self.X, np.sqrt(self._binary_hessian_weights(terms))[:, None], fi)
        else:
            H = self._loss_hessian_matrix(G, omega)
            if c is not None:
                H += row_gram(self.X, G * np.sqrt(c)[:, None], fi)
        for coef, U in terms.low_rank:
            H += coef * (U @ U.T)
        H[np.diag_indices_from(H)] += self._pen
        if self._flat is not None:
            H += np.outer(self._flat, self._flat)
        return H

    # -- the solvers' step sizes ---------------------------------------------------------
    def natural_step_sizes(self, x, y):
        """``(eta_x, eta_y)`` for a game solver: ``1 / L_x`` for the classifier (its
        own-curvature bound at ``(x, y)``) and the adversary's natural step
        (``adversary_step_size()`` of each adversary's game)."""
        return 1.0 / float(self.curvature_x(x, y)), self.adversary_step_size()

    def _params_repr(self):
        return (
            f"n_samples={self.n_samples}, n_features={self.n_features}, K={self.K}, "
            f"C={self.C:g}"
            + (f", rho={self.rho:g}" if hasattr(self, "rho") else "")
            + f", fit_intercept={self.fit_intercept}"
        )

    def __repr__(self):
        return f"{type(self).__name__}({self._params_repr()})"


def soft_mean(loss, prior, tau):
    r""":math:`\tau \log \sum_i \pi_i e^{l_i / \tau}`, accurate for every temperature.

    Written as :math:`\bar l + \tau \log \sum_i \pi_i e^{(l_i - \bar l)/\tau}` with
    :math:`\bar l = \sum_i \pi_i l_i`. At a high temperature (small ``rho``) the second term
    is tiny and the plain log-sum-exp would get it from the cancellation of numbers of the size
    of :math:`\log \pi_i`, losing digits that a Newton line search needs; ``log1p`` of
    :math:`\sum_i \pi_i\,\mathrm{expm1}(\cdot)` keeps them.
    """
    mean = float(prior @ loss)
    d = (loss - mean) / tau
    top = float(d.max())
    if top <= 30.0:
        excess = float(np.log1p(prior @ np.expm1(d)))
    else:
        with np.errstate(divide="ignore"):
            a = np.log(prior) + d
        excess = top + float(np.log(np.exp(a - top).sum()))  # the usual shifted form
    return mean + tau * excess
