r"""The parametric adversary on Dask arrays: the game CGD plays, chunk by chunk.

:class:`ChunkedParametricGame` offers what the game solvers need of
:class:`~skcgd.games.ParametricLogisticGame` (value, both gradients, the mixed Hessian, the
players' own-curvature bounds) from passes over the row chunks of X and of the adversary
features Z. Its mixed Hessian :math:`B = D^2_{W\psi} f` has ``K q x k`` entries, so it is
formed (one pass) and the CGD systems are solved on this side, without a round trip per CG
iteration. One evaluation at :math:`(W, \psi)`:

1. a pass over X and Z for the losses ``l_i``, derivatives and ``a_i = z_i^T psi`` (kept on
   the workers) with, in the same round trip, the shifted sums that give the normaliser
   :math:`\log \sum_i s_i e^{a_i}`, :math:`q^T l`, :math:`q^T a` (hence the value) and
   :math:`q^T r` (``r = l - tau a``, the centring of the adversary's gradient);
2. a pass for :math:`\nabla_W f`, :math:`\nabla_\psi f` and :math:`B`.

Every solver step evaluates one point, so a step costs two round trips and two reads of
each chunk.
"""

import numpy as np
import scipy.sparse as sp

from skcgd._linalg import DenseMixedOperator
from skcgd._validation import check_vector
from skcgd.games import default_adversary_features
from skcgd.games._design import weighted_sum_rows

__all__ = ["ChunkedParametricGame"]

_DENSE_CURVATURE_SIZE = 256  # as the in-memory game: form the adversary's Hessian up to it


# -- on the workers ---------------------------------------------------------------------------
def _features(chunk, spec, game, labels):
    """The chunk's adversary features: the user's, or the default ones from X and y."""
    Z = chunk.get("adversary_X")
    if Z is not None:
        if sp.issparse(Z):
            return sp.csr_matrix(Z, dtype=np.float64)
        return np.ascontiguousarray(Z, dtype=np.float64)
    if spec["multinomial"]:
        classes, n_classes = labels, spec["K"]
    else:
        classes, n_classes = (labels > 0).astype(np.int64), 2
    return default_adversary_features(game.X, classes, n_classes)


def _tilt(chunk, state, x, psi, spec):
    """Losses, derivatives and ``a = Z psi`` of one chunk (kept on the worker)."""
    from skcgd._chunked._rules import _chunk_game, _chunk_rows

    game, s, _ = _chunk_game(chunk, spec)
    if game is None:
        K = spec["K"] if spec["multinomial"] else 1
        return np.zeros(0), np.zeros((0, K)), np.zeros(0)
    labels = _chunk_rows(chunk, spec)[0]
    loss, G = game._loss(x)
    Z = _features(chunk, spec, game, labels)
    a = np.asarray(Z @ psi, dtype=np.float64).ravel()
    return loss, G, a


def _shifted_sums(chunk, state, spec):
    """``(m, sum e^{u-m}, sum e^{u-m} l, sum e^{u-m} a)`` over the support, ``u = log s + a``."""
    from skcgd._chunked._rules import _chunk_rows

    loss, _, a = state
    s = _chunk_rows(chunk, spec)[1]
    pos = s > 0
    if not pos.any():
        return np.array([-np.inf, 0.0, 0.0, 0.0])
    u = np.log(s[pos]) + a[pos]
    m = float(u.max())
    e = np.exp(u - m)
    return np.array([m, e.sum(), e @ loss[pos], e @ a[pos]])


def _merge_shifted(A, B):
    m = max(A[0], B[0])
    if m == -np.inf:
        return A
    return np.concatenate([[m], A[1:] * np.exp(A[0] - m) + B[1:] * np.exp(B[0] - m)])


def _weights(chunk, state, spec, theta):
    """``q`` (the adversary's distribution), ``centred = r - q^T r`` and the rows' arrays."""
    from skcgd._chunked._rules import _chunk_game, _chunk_rows

    loss, G, a = state
    game, s, _ = _chunk_game(chunk, spec)
    labels = _chunk_rows(chunk, spec)[0]
    log_z, qr = theta
    pos = s > 0
    q = np.zeros(loss.shape[0])
    q[pos] = np.exp(np.log(s[pos]) + a[pos] - log_z)
    r = loss - spec["tau"] * a
    centred = np.where(pos, r - qr, 0.0)
    return game, labels, q, centred, G


def _game_terms(chunk, state, x, psi, spec, theta):
    """The chunk's parts of both gradients and of the mixed Hessian (see the module doc)."""
    game, labels, q, centred, G = _weights(chunk, state, spec, theta)
    K, k = G.shape[1], spec["k"]
    nq = spec["n_x"]
    if game is None:
        return {"m": np.zeros(nq), "gy": np.zeros(k), "M1": np.zeros((nq, k)), "zbar": np.zeros(k)}
    Z = _features(chunk, spec, game, labels)
    fi = spec["fit_intercept"]
    m = weighted_sum_rows(game.X, G * q[:, None], fi).ravel()  # sum q_i grad l_i
    gy = np.asarray(Z.T @ (q * centred)).ravel()
    zbar = np.asarray(Z.T @ q).ravel()
    # M1 = sum_i q_i (grad l_i) z_i^T: the rows' gradients against Z, one product per class
    # of the K q x k matrix
    Zd = Z.toarray() if sp.issparse(Z) else Z
    M1 = np.empty((nq, k))
    q_x = nq // K
    for c in range(K):
        w = G[:, c] * q
        M1[c * q_x : c * q_x + spec["n_features"]] = np.asarray(game.X.T @ (Zd * w[:, None]))
        if fi:
            M1[c * q_x + spec["n_features"]] = w @ Zd
    return {"m": m, "gy": gy, "M1": M1, "zbar": zbar}


def _curvature_x_terms(chunk, state, x, psi, spec, theta):
    """The data Hessian of the classifier with weights ``C N q`` over one chunk."""
    game, _, q, _, G = _weights(chunk, state, spec, theta)
    if game is None:
        return np.zeros((spec["n_x"], spec["n_x"]))
    return game._loss_hessian_matrix(G, spec["C"] * spec["N"] * q)


def _curvature_y_terms(chunk, state, x, psi, spec, theta):
    """``sum c_i z_i z_i^T``, ``sum c_i z_i``, ``sum c_i`` (``c = q (centred - tau)``), and
    for the bound ``sum q_i ||z_i||^2``, ``max |centred - tau|``."""
    game, labels, q, centred, _ = _weights(chunk, state, spec, theta)
    k = spec["k"]
    if game is None:
        return (np.zeros((k, k)), np.zeros(k), 0.0, 0.0, -np.inf)
    Z = _features(chunk, spec, game, labels)
    s = _chunk_weight(chunk, spec)
    c = np.where(s > 0, q * (centred - spec["tau"]), 0.0)
    if k <= _DENSE_CURVATURE_SIZE:
        if sp.issparse(Z):
            M = (Z.T @ Z.multiply(c[:, None]).tocsr()).toarray()
        else:
            M = Z.T @ (Z * c[:, None])
        return (M, np.asarray(Z.T @ c).ravel(), float(c.sum()), 0.0, -np.inf)
    sq = np.asarray(Z.multiply(Z).sum(axis=1)).ravel() if sp.issparse(Z) else (Z * Z).sum(1)
    top = np.abs(centred - spec["tau"])[s > 0]
    return (None, None, 0.0, float(q @ sq), float(top.max()) if top.size else -np.inf)


def _chunk_weight(chunk, spec):
    from skcgd._chunked._rules import _chunk_rows

    return _chunk_rows(chunk, spec)[1]


def _merge_curvature_y(A, B):
    M = None if A[0] is None else A[0] + B[0]
    w = None if A[1] is None else A[1] + B[1]
    return (M, w, A[2] + B[2], A[3] + B[3], max(A[4], B[4]))


def _distribution(chunk, state, spec, x, psi, log_z):
    """The adversary's weight of every row of one chunk (a lazy output)."""
    st = _tilt(chunk, None, x, psi, spec)
    s = _chunk_weight(chunk, spec)
    out = np.zeros(st[0].shape[0])
    pos = s > 0
    out[pos] = np.exp(np.log(s[pos]) + st[2][pos] - log_z)
    return out


# -- on the client ----------------------------------------------------------------------------
class ChunkedParametricGame:
    """The parametric adversary's game on row chunks, for the game solvers (CGD and others).

    Parameters
    ----------
    chunks : RowChunks
        X, y, sample_weight and, if given, adversary_X, row-aligned.
    spec : dict
        The validated problem (see :func:`skcgd._chunked._logistic.prepare_chunked_fit`),
        with ``k`` (the number of adversary features) and ``alpha``.
    """

    domain_x = domain_y = "real"
    zero_sum = True

    def __init__(self, chunks, spec):
        self.chunks, self.spec = chunks, spec
        self.K = spec["K"] if spec["multinomial"] else 1
        self.q = spec["n_features"] + int(spec["fit_intercept"])
        self.n_x, self.n_y = spec["n_x"], spec["k"]
        self.n_features = spec["n_features"]
        self.l2 = spec["l2"]
        self.alpha = spec["alpha"]
        self.CN = spec["C"] * spec["N"]
        pen = np.full((self.K, self.q), self.l2)
        if spec["fit_intercept"]:
            pen[:, -1] = 0.0
        self._pen = pen.ravel()
        self._point = None
        self._terms = None

    def _evaluate(self, x, y):
        """``(state, theta, value)`` at ``(x, psi)``: one round trip (cached for one point)."""
        x = np.array(check_vector(x, self.n_x, "x"), dtype=np.float64)
        psi = np.array(check_vector(y, self.n_y, "y"), dtype=np.float64)
        key = (x.tobytes(), psi.tobytes())
        if self._point is not None and self._point[0] == key:
            return self._point[1]
        state, sums = self.chunks.map_persist_reduce(
            _tilt, (x, psi, self.spec), _shifted_sums, (self.spec,), _merge_shifted
        )
        m, total, el, ea = sums
        log_z = m + np.log(total)
        ql, qa = el / total, ea / total
        tau = self.spec["tau"]
        # KL(q || p) = sum_i q_i (a_i - log Z) + log N, with p = s / N
        kl = qa - log_z + np.log(self.spec["N"])
        W = x.reshape(self.K, self.q)[:, : self.n_features]
        value = (
            self.CN * (ql - tau * kl)
            - 0.5 * self.alpha * float(psi @ psi)
            + 0.5 * self.l2 * float(np.vdot(W, W))
        )
        theta = (log_z, ql - tau * qa)
        result = (state, theta, float(value), x, psi)
        self._point, self._terms = (key, result), None
        return result

    def _game_terms(self, x, y):
        state, theta, _, x, psi = self._evaluate(x, y)
        if self._terms is None:
            self._terms = self.chunks.map_reduce(_game_terms, x, psi, self.spec, theta, state=state)
        return self._terms

    def value(self, x, y):
        """:math:`f(W, \\psi)`."""
        return self._evaluate(x, y)[2]

    def grads(self, x, y):
        """``(grad_W f, grad_psi f)``."""
        t = self._game_terms(x, y)
        x = np.asarray(x, dtype=np.float64)
        psi = np.asarray(y, dtype=np.float64)
        return self.CN * t["m"] + self._pen * x, self.CN * t["gy"] - self.alpha * psi

    def mixed(self, x, y):
        """The mixed Hessian ``B = C N (M1 - m zbar^T)``, formed (``K q x k``)."""
        t = self._game_terms(x, y)
        return DenseMixedOperator(self.CN * (t["M1"] - np.outer(t["m"], t["zbar"])))

    def curvature_x(self, x, y):
        """:math:`\\lambda_{\\max}` of the classifier's data Hessian plus the penalty."""
        state, theta, _, x, psi = self._evaluate(x, y)
        H = self.chunks.map_reduce(_curvature_x_terms, x, psi, self.spec, theta, state=state)
        return self.l2 + max(float(np.linalg.eigvalsh(H)[-1]), 0.0)

    def curvature_y(self, x, y):
        """The adversary's own curvature: exact up to 256 features, a bound above."""
        state, theta, _, x, psi = self._evaluate(x, y)
        M, w, c_sum, qsq, top = self.chunks.map_reduce(
            _curvature_y_terms, x, psi, self.spec, theta, state=state, combine=_merge_curvature_y
        )
        zbar = self._game_terms(x, psi)["zbar"]
        if M is not None:
            M = M - np.outer(zbar, w) - np.outer(w, zbar) + c_sum * np.outer(zbar, zbar)
            H = self.CN * M
            H[np.diag_indices_from(H)] -= self.alpha
            return float(np.abs(np.linalg.eigvalsh(H)).max())
        spread = max(qsq - float(zbar @ zbar), 0.0)
        return self.CN * top * spread + self.alpha

    def natural_step_sizes(self, x, y):
        """``(1 / L_x, 1 / L_y)`` from both players' own-curvature bounds at ``(x, y)``."""
        Ly = float(self.curvature_y(x, y))
        return 1.0 / float(self.curvature_x(x, y)), (1.0 / Ly if Ly > 0 else 1.0)

    def adversary_start(self, x):
        """``psi = 0``: the adversary starts at the prior ``q = s / N``."""
        return np.zeros(self.n_y)

    def strategy_weights(self, y):
        """The adversary's distribution over the rows at ``psi = y``: a lazy Dask array."""
        x = np.zeros(self.n_x)
        psi = np.array(check_vector(y, self.n_y, "y"), dtype=np.float64)
        log_z = self._evaluate(x, psi)[1][0]
        return self.chunks.lazy_rows(_distribution, self.spec, x, psi, log_z)

    def release(self):
        """Forget the cached point (its row state leaves the workers)."""
        self._point = self._terms = None
