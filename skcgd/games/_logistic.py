# ruff: noqa: E402  (temporary: this module is being split by the architecture issue)
r"""The reweighted logistic games: a classifier against an adversary that re-weights samples.

Both games share the data layer below. The min player is the coefficient matrix ``W`` of shape
``(K, q)``, ``q = n_features + fit_intercept``, flattened row-major with the intercept last in
each row (``K = 1`` for the binary loss): the layout of :class:`skcgd.solvers.RowGramOperator`.
With ``xt_i`` row ``i`` of ``X`` followed by a 1 when ``fit_intercept``, the margins are
``z_i = W xt_i`` and every derivative of the data term has the form ``sum_i c_i (g_i kron xt_i)``,
``g_i = dl_i / dz_i``; so

* the gradient in ``W`` is one matrix product ``(c * G)^T X~``,
* column ``i`` of the mixed Hessian ``B = D2_W,adversary f`` is ``r_i kron xt_i`` for a row
  coefficient ``r_i`` proportional to ``g_i``, and CGD's system
  ``I + Hx^1/2 B Hy B^T Hx^1/2`` is a :class:`~skcgd.solvers.RowGramOperator`, applied by the
  fused conjugate-gradient kernel in one pass over ``X`` per iteration.

Margins and products run in BLAS (dense) or scipy.sparse (CSR, never densified); the per-sample
loss and its derivative come from the kernel :func:`skcgd._kernels.logistic._logistic_loss_deriv`.
A float32 ``X`` is kept as float32; it is read in row blocks converted to float64 (at most
``_CHUNK_ELEMENTS`` numbers at a time), so iterates, gradients and values are float64 and equal
those of the same data held in float64.
"""

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, eigsh

from skcgd._kernels.logistic import (
    _logistic_binary_grad_csr,
    _logistic_binary_grad_dense,
    _logistic_loss_deriv,
)
from skcgd._registry import register_warm_up
from skcgd.games._base import BaseGame, MixedOperator
from skcgd.solvers._cg import RowGramOperator, conjugate_gradient

__all__ = ["Chi2LogisticGame", "KLLogisticGame"]

# Row blocks of a float32 X are converted to float64 this many numbers at a time (and the
# dense system matrix is accumulated from blocks of this size): 8 MB of float64 temporaries.
_CHUNK_ELEMENTS = 1 << 20
# curvature_x forms the loss Hessian up to this many unknowns (exact eigenvalue), above it
# runs Lanczos on Hessian-vector products.
_DENSE_CURVATURE_SIZE = 256
_SMALLEST = np.nextafter(0.0, 1.0)  # 5e-324: log(_SMALLEST) = -744.4
# The games compute in float64 on C * s_i times the loss terms. Outside this range of
# C * sum(s) (and of C * sum(s) * max|X|^2, the scale of the Hessians) intermediate products
# overflow (curvatures, the chi2 adversary's squared losses) or lose all precision (the simplex
# adversaries' natural steps rho / (C N)): such problems are refused with a clear message.


from skcgd._validation import (
    check_data as _check_X,
)
from skcgd._validation import (
    check_game_labels as _check_labels,
)
from skcgd._validation import (
    check_positive as _check_positive,
)
from skcgd._validation import (
    check_problem_scale,
)
from skcgd._validation import (
    check_vector as _check_vector,
)


def _check_sample_weight(sample_weight, n):
    from skcgd._validation import check_sample_weight

    return check_sample_weight(sample_weight, n)


# -- products with X~ = [X, 1] in float64 row blocks -----------------------------------------
def _row_blocks(X, width=None):
    """Yield ``(start, stop, block)``: row blocks of ``X`` in float64.

    With ``width=None`` a float64 ``X`` comes as one block (a view, no copy) and a float32 one
    in blocks of about ``_CHUNK_ELEMENTS`` numbers; with ``width`` given, blocks are sized so
    that a temporary of ``rows * width`` numbers stays within that budget too.
    """
    n = X.shape[0]
    if width is None and X.dtype == np.float64:
        yield 0, n, X
        return
    per_row = X.nnz / max(n, 1) if sp.issparse(X) else X.shape[1]
    per_row = max(per_row, 1.0, width or 1.0)
    rows = max(1, int(_CHUNK_ELEMENTS // per_row))
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        block = X[start:stop]
        if block.dtype != np.float64:
            block = block.astype(np.float64)
        yield start, stop, block


def _margins(X, W, fit_intercept):
    """``X~ @ W.T``: shape (n, K), float64, C-contiguous; ``W`` of shape (K, q)."""
    p = X.shape[1]
    coef = W[:, :p]
    Z = np.empty((X.shape[0], W.shape[0]))
    for start, stop, block in _row_blocks(X):
        Z[start:stop] = block @ coef.T
    if fit_intercept:
        Z += W[:, p]
    return Z


def _weighted_sum_rows(X, M, fit_intercept):
    """``M.T @ X~``: shape (K, q), float64; ``M`` of shape (n, K)."""
    p = X.shape[1]
    out = np.zeros((M.shape[1], p + int(fit_intercept)))
    for start, stop, block in _row_blocks(X):
        out[:, :p] += np.asarray(block.T @ M[start:stop]).T
    if fit_intercept:
        out[:, p] = M.sum(axis=0)
    return out


def _row_gram(X, R, fit_intercept):
    """``sum_i (r_i kron xt_i)(r_i kron xt_i)^T``: shape (K q, K q), float64.

    Accumulated over row blocks, so the (n, K q) factor is never held at once. With one
    coefficient row and dense X (the common case, and the Newton solver's Hessian) each block
    is scaled once and accumulated by a symmetric rank-k update (BLAS syrk); the intercept's
    row and column come from two cheap products instead of a column appended to X.
    """
    n, p = X.shape
    K = R.shape[1]
    q = p + int(fit_intercept)
    if K == 1 and not sp.issparse(X):
        return _row_gram_dense_single(X, R[:, 0], fit_intercept)
    G = np.zeros((K * q, K * q))
    for start, stop, block in _row_blocks(X, width=K * q):
        Rb = R[start:stop]
        if sp.issparse(block):
            Xt = (
                sp.hstack([block, np.ones((stop - start, 1))], format="csr")
                if fit_intercept
                else block
            )
            F = sp.hstack([sp.diags(Rb[:, k]) @ Xt for k in range(K)], format="csr")
            G += (F.T @ F).toarray()
        else:
            Xt = np.hstack([block, np.ones((stop - start, 1))]) if fit_intercept else block
            F = (Rb[:, :, None] * Xt[:, None, :]).reshape(stop - start, K * q)
            G += F.T @ F
    return G


def _row_gram_dense_single(X, r, fit_intercept):
    """``X~^T diag(r^2) X~`` for dense X by blocked syrk (upper triangle, then mirrored)."""
    from scipy.linalg.blas import dsyrk

    n, p = X.shape
    G = np.zeros((p, p), order="F")
    rows = max(1, min(n, 2048, _CHUNK_ELEMENTS // max(p, 1)))
    r2 = r * r
    cross = np.zeros(p)
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        S = X[start:stop] * r[start:stop, None]  # float64 block (also for a float32 X)
        # S is C-ordered, so S.T is Fortran-ordered: dsyrk(S.T) = S^T S without a copy
        # (BLAS refuses a 0 x 0 output, so a game without features skips it)
        if p:
            G = dsyrk(1.0, S.T, beta=1.0, c=G, trans=0, lower=0, overwrite_c=1)
        if fit_intercept:
            cross += S.T @ r[start:stop]  # sum_i r_i^2 x_i
    G = np.triu(G) + np.triu(G, 1).T
    if not fit_intercept:
        return np.ascontiguousarray(G)
    out = np.empty((p + 1, p + 1))
    out[:p, :p] = G
    out[:p, p] = cross
    out[p, :p] = cross
    out[p, p] = r2.sum()
    return out


# -- the mixed Hessian -----------------------------------------------------------------------
class _LogisticMixedOperator(MixedOperator):
    r"""Mixed Hessian ``B`` of a reweighted logistic game: column ``i`` is ``r_i kron xt_i``.

    Parameters
    ----------
    X : ndarray or CSR matrix of shape (n, p)
        The game's (validated) data.
    R : ndarray of shape (n, K)
        Row coefficients ``r_i``.
    fit_intercept : bool
        Whether ``xt_i`` ends with a 1.
    """

    def __init__(self, X, R, fit_intercept):
        self.X = X
        self.R = R
        self.fit_intercept = fit_intercept
        self.K = R.shape[1]
        self.q = X.shape[1] + int(fit_intercept)
        self.shape = (self.K * self.q, X.shape[0])

    def matvec(self, v):
        """``B @ v = vec(sum_i v_i r_i xt_i^T)`` for ``v`` of shape (n,)."""
        v = _check_vector(v, self.shape[1], "v")
        return _weighted_sum_rows(self.X, self.R * v[:, None], self.fit_intercept).ravel()

    def rmatvec(self, u):
        """``(B.T @ u)_i = r_i . (U xt_i)`` for ``u = vec(U)`` of shape (K q,)."""
        U = _check_vector(u, self.shape[0], "u").reshape(self.K, self.q)
        Z = _margins(self.X, U, self.fit_intercept)
        return np.einsum("ik,ik->i", self.R, Z)

    def solve(self, side, hx, hy, rhs, z0, tol, atol, max_iter):
        """Solve a CGD system; ``side="x"`` runs the fused row-Gram CG kernel (one pass over X
        per iteration), ``side="y"`` the generic CG of :class:`MixedOperator`."""
        if side != "x":
            return super().solve(side, hx, hy, rhs, z0, tol, atol, max_iter)
        op = RowGramOperator(
            self.X,
            self.R,
            hy=hy,
            dx=np.sqrt(hx),
            fit_intercept=self.fit_intercept,
            check_input=False,
        )
        return conjugate_gradient(op, rhs, x0=z0, tol=tol, atol=atol, max_iter=max_iter)

    def system_matrix(self, side, hx, hy):
        """The dense CGD system matrix; for ``side="x"`` built from row blocks of X
        (``I + Dx (sum_i hy_i (r_i kron xt_i)(r_i kron xt_i)^T) Dx``, ``Dx = diag(sqrt(hx))``)."""
        if side != "x":
            return super().system_matrix(side, hx, hy)
        hx = _check_vector(hx, self.shape[0], "hx")
        hy = _check_vector(hy, self.shape[1], "hy")
        A = _row_gram(self.X, self.R * np.sqrt(hy)[:, None], self.fit_intercept)
        d = np.sqrt(hx)
        A *= d[:, None]
        A *= d[None, :]
        A[np.diag_indices_from(A)] += 1.0
        return A


# -- the games -------------------------------------------------------------------------------
class _ReweightedLogisticGame(BaseGame):
    """Data layer shared by the reweighted logistic games (see the module docstring).

    Subclasses give ``_data_weights(y)`` (the coefficient ``c_i`` of ``g_i kron xt_i`` in
    ``grad_W f``), ``_mixed_weights()`` (``r_i = mixed_weight_i * g_i``) and the adversary's part.
    """

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
    ):
        self.X, max_abs = _check_X(X)
        n, p = self.X.shape
        if n == 0:
            raise ValueError("X has no rows: the game needs at least one sample.")
        self.labels, K = _check_labels(y, n, bool(multinomial), n_classes)
        self.C = _check_positive(C, "C")
        self.rho = _check_positive(
            rho,
            "rho",
            " rho = 0 is plain L2 logistic regression (no adversary), which is not "
            "a game: minimise the primal objective directly.",
        )
        self.tau = 1.0 / self.rho
        self.sample_weight = _check_sample_weight(sample_weight, n)
        check_problem_scale(self.X, self.sample_weight, self.C, max_abs)
        self.N = float(self.sample_weight.sum())
        self.fit_intercept = bool(fit_intercept)
        self.multinomial = bool(multinomial)
        self.n_samples, self.n_features = n, p
        self.K = K
        self.q = p + int(self.fit_intercept)
        if self.q == 0:
            raise ValueError(
                "X has no features and fit_intercept=False: the min player has no variables."
            )
        self.n_x = K * self.q
        self.n_y = n
        self._cache_x = None
        self._cache = None
        self._curv_key = None
        self._curv_vec = None

    # -- shared pieces ---------------------------------------------------------------------
    def coef_matrix(self, x):
        """``x`` as the (K, q) coefficient matrix (intercept in the last column if fitted)."""
        return _check_vector(x, self.n_x, "x").reshape(self.K, self.q)

    def _penalty(self, W):
        coef = W[:, : self.n_features]
        return 0.5 * float(np.vdot(coef, coef))

    def _loss(self, x):
        """Per-sample losses ``l`` (n,) and derivatives ``G = dl/dz`` (n, K) at ``x``.

        The last point is cached: a solver asks for the gradients and then the mixed Hessian
        at the same point, and both need the same pass over X.
        """
        x = _check_vector(x, self.n_x, "x")
        if self._cache_x is not None and np.array_equal(x, self._cache_x):
            return self._cache
        Z = _margins(self.X, x.reshape(self.K, self.q), self.fit_intercept)
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
        x = _check_vector(x, self.n_x, "x")
        p = self.n_features
        coef = np.ascontiguousarray(x[:p])
        b = float(x[p]) if self.fit_intercept else 0.0
        loss = np.empty(self.n_samples)
        g = np.empty(self.n_samples)
        grad = np.empty(self.q)
        X = self.X
        if sp.issparse(X):
            _logistic_binary_grad_csr(
                X.data,
                X.indices,
                X.indptr,
                p,
                self.labels,
                coef,
                b,
                c0,
                c1,
                self.fit_intercept,
                loss,
                g,
                grad,
            )
        else:
            _logistic_binary_grad_dense(
                X, self.labels, coef, b, c0, c1, self.fit_intercept, loss, g, grad
            )
        self._cache_x, self._cache = x.copy(), (loss, g[:, None])
        grad[:p] += coef
        return loss, g[:, None], grad

    def _grad_W(self, x, c):
        """``sum_i c_i (g_i kron xt_i) + W`` (intercept not penalised), flattened."""
        _, G = self._loss(x)
        W = self.coef_matrix(x)
        gW = _weighted_sum_rows(self.X, G * c[:, None], self.fit_intercept)
        gW[:, : self.n_features] += W[:, : self.n_features]
        return gW.ravel()

    def mixed(self, x, y):
        """The mixed Hessian ``B = D2_xy f`` at ``(x, y)`` (independent of ``y``)."""
        _, G = self._loss(x)
        R = np.ascontiguousarray(G * self._mixed_weights()[:, None])
        return _LogisticMixedOperator(self.X, R, self.fit_intercept)

    def _loss_hessian_matvec(self, G, a, v):
        """``sum_i a_i (H_i kron xt_i xt_i^T) v``, ``H_i = d2 l_i / dz_i^2`` (PSD), flattened.

        ``G`` holds the derivatives ``dl_i / dz_i``, from which ``H_i`` follows.
        """
        V = v.reshape(self.K, self.q)
        D = _margins(self.X, V, self.fit_intercept)
        if self.K == 1:
            s = np.abs(G[:, 0])  # sigmoid(-m_i); H_i = sigmoid(m_i) sigmoid(-m_i)
            T = D * (a * s * (1.0 - s))[:, None]
        else:
            P = G.copy()
            P[np.arange(self.n_samples), self.labels] += 1.0  # softmax probabilities
            T = P * (D - np.einsum("ik,ik->i", P, D)[:, None]) * a[:, None]
        return _weighted_sum_rows(self.X, T, self.fit_intercept).ravel()

    def _loss_hessian_matrix(self, G, a):
        """``sum_i a_i (H_i kron xt_i xt_i^T)`` as a dense (K q, K q) matrix, ``a >= 0``."""
        if self.K == 1:
            s = np.abs(G[:, 0])
            return _row_gram(self.X, np.sqrt(a * s * (1.0 - s))[:, None], self.fit_intercept)
        P = G.copy()
        P[np.arange(self.n_samples), self.labels] += 1.0
        # H_i = diag(p_i) - p_i p_i^T: block-diagonal part minus one row-Gram term
        A = -_row_gram(self.X, np.sqrt(a)[:, None] * P, self.fit_intercept)
        q = self.q
        for k in range(self.K):
            A[k * q : (k + 1) * q, k * q : (k + 1) * q] += _row_gram(
                self.X, np.sqrt(a * P[:, k])[:, None], self.fit_intercept
            )
        return A

    def _curvature_x(self, x, a):
        """``1 + lambda_max(sum_i |a_i| (H_i kron xt_i xt_i^T))``, cached for the last point.

        ``a_i`` are the weights of the loss Hessian; with signed ``a_i`` the data Hessian ``M``
        satisfies ``-A <= M <= A`` for ``A`` the operator with ``|a_i|``, so
        ``||M + I_pen||_2 <= lambda_max(A) + 1``. Up to ``_DENSE_CURVATURE_SIZE`` unknowns ``A``
        is formed (blocked products, one pass over X per class) and its top eigenvalue is
        exact; above, Lanczos (:func:`scipy.sparse.linalg.eigsh`, relative accuracy 1e-6, from
        below) runs on Hessian-vector products, warm-started from the last eigenvector.
        """
        key = np.concatenate([_check_vector(x, self.n_x, "x"), a])
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
        value = 1.0 + max(lam, 0.0)
        self._curv_key = (key, value)
        return value

    def _params_repr(self):
        return (
            f"n_samples={self.n_samples}, n_features={self.n_features}, K={self.K}, "
            f"C={self.C:g}, rho={self.rho:g}, fit_intercept={self.fit_intercept}"
        )

    def __repr__(self):
        return f"{type(self).__name__}({self._params_repr()})"


class Chi2LogisticGame(_ReweightedLogisticGame):
    r"""Logistic regression against an adversary that re-weights samples, chi-square penalty.

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

    Attributes
    ----------
    n_x, n_y : int
        ``K * q`` (``q = n_features + fit_intercept``) and ``n_samples``.
    K, q : int
        Shape of the coefficient matrix ``W``.

    See Also
    --------
    KLLogisticGame : the adversary on the simplex with a KL penalty.
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

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.games._logistic import Chi2LogisticGame
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> game = Chi2LogisticGame(X, [1, -1, 1], C=1.0, rho=0.5)
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

    def _data_weights(self, u):
        return self.C * self.sample_weight * (1.0 + u)

    def _mixed_weights(self):
        return self.C * self.sample_weight

    def value(self, x, y):
        """:math:`f(W, u)`."""
        u = _check_vector(y, self.n_y, "y")
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
        u = _check_vector(y, self.n_y, "y")
        loss, _ = self._loss(x)
        gx = self._grad_W(x, self._data_weights(u))
        gy = self.C * self.sample_weight * (loss - u / self.rho)
        return gx, gy

    def curvature_x(self, x, y):
        """Bound on :math:`\\|D^2_{WW} f\\|_2` (see Notes)."""
        u = _check_vector(y, self.n_y, "y")
        return self._curvature_x(x, self._data_weights(u))

    def curvature_y(self, x, y):
        """:math:`\\|D^2_{uu} f\\|_2 = C \\max_i s_i / \\rho` (exact, constant)."""
        return self.C * float(self.sample_weight.max()) / self.rho

    def best_response(self, x):
        """The adversary's best response :math:`u^*_i = \\rho\\, l_i(W)`."""
        loss, _ = self._loss(x)
        return self.rho * loss

    def primal(self, x):
        """:math:`\\max_u f(W, u) = C \\sum_i s_i (l_i + \\rho l_i^2 / 2) + \\|W\\|^2 / 2`."""
        loss, _ = self._loss(x)
        return float(
            self.C * (self.sample_weight @ (loss + 0.5 * self.rho * loss * loss))
            + self._penalty(self.coef_matrix(x))
        )


class KLLogisticGame(_ReweightedLogisticGame):
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
    adversary in the interior, e.g. at ``s / N``.

    **Samples with** :math:`s_i = 0` are outside the adversary's support (the KL term is
    infinite unless :math:`p_i = 0`): they are not variables of the game. Their best response
    is exactly 0, their entries of :math:`\nabla_p f` and their columns of the mixed Hessian
    are 0, so CGD and CMD keep :math:`p_i = 0`; :meth:`value` returns :math:`-\infty` if such a
    :math:`p_i` is positive. No ``log(0)`` is ever evaluated for them.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.games._logistic import KLLogisticGame
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
    ):
        super().__init__(
            X,
            y,
            C=C,
            rho=rho,
            sample_weight=sample_weight,
            fit_intercept=fit_intercept,
            multinomial=multinomial,
            n_classes=n_classes,
        )
        self._support = self.sample_weight > 0
        self._log_prior = np.full(self.n_samples, -np.inf)
        self._log_prior[self._support] = np.log(self.sample_weight[self._support] / self.N)

    def _check_p(self, y):
        p = _check_vector(y, self.n_y, "y")
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
        log_p = np.log(np.maximum(p[sup], _SMALLEST))
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

    def _gibbs_logits(self, x):
        loss, _ = self._loss(x)
        return loss / self.tau + self._log_prior  # -inf off the support

    def best_response(self, x):
        """:math:`p^* = \\operatorname{softmax}(l / \\tau + \\log(s / N))` (0 where s = 0)."""
        a = self._gibbs_logits(x)
        e = np.exp(a - a[self._support].max())
        return e / e.sum()

    def primal(self, x):
        """:math:`\\max_p f(W, p) = C N \\tau \\log \\sum_i (s_i / N) e^{l_i / \\tau}
        + \\|W\\|^2 / 2`."""
        loss, _ = self._loss(x)
        sup = self._support
        prior = self.sample_weight[sup] / self.N
        return float(
            self.C * self.N * _soft_mean(loss[sup], prior, self.tau)
            + self._penalty(self.coef_matrix(x))
        )


def _soft_mean(loss, prior, tau):
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


@register_warm_up
def _warm_up():
    """Compile every logistic kernel (and the CG kernels the games call) on tiny games."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 3))
    y_bin = np.array([1, -1, 1, -1, 1, -1])
    y_cls = np.array([0, 1, 2, 0, 1, 2])
    datas = [X, X.astype(np.float32), sp.csr_matrix(X)]
    # read-only X (joblib hands arrays over 1 MB to its workers as read-only memory maps) is
    # another specialisation of the CG kernels: compile it here too, so workers only load it
    for dtype in (np.float64, np.float32):
        frozen = X.astype(dtype)
        frozen.flags.writeable = False
        datas.append(frozen)
    frozen = sp.csr_matrix(X)
    for part in (frozen.data, frozen.indices, frozen.indptr):
        part.flags.writeable = False
    datas.append(frozen)
    for data in datas:
        for multinomial, labels in ((False, y_bin), (True, y_cls)):
            for cls in (Chi2LogisticGame, KLLogisticGame):
                game = cls(data, labels, multinomial=multinomial, fit_intercept=True)
                x = np.zeros(game.n_x)
                y = np.full(game.n_y, 1.0 / game.n_y)
                game.value(x, y)
                if not multinomial and cls is Chi2LogisticGame:
                    game._loss_grad_binary(x, game.sample_weight, game.sample_weight)
                gx, gy = game.grads(x, y)
                op = game.mixed(x, y)
                op.rmatvec(op.matvec(gy))
                op.solve("x", np.ones(game.n_x), np.ones(game.n_y), gx, x, 1e-6, 0.0, 20)
