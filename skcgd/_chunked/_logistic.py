r"""Minimax logistic regression on Dask arrays: the primal of each adversary, chunk by chunk.

:class:`ChunkedLogisticGame` offers what :class:`skcgd.solvers.Newton` needs of a game (the
primal :math:`P(W) = \max_q f(W, q)`, its gradient, its Hessian as a matrix and as products)
computed by passes over the row chunks of X (:class:`~skcgd._chunked._engine.RowChunks`),
so that the same Newton iterations as in memory run on data that never leave the workers.

Each pass runs the in-memory games' data layer (:class:`~skcgd.games.PlainLogisticGame` on
one chunk: margins, losses, weighted row sums, row-Gram matrices) and sums vectors of
``K q`` numbers (``(K q)^2`` for a Hessian). An evaluation at ``W`` is

1. one pass over X for the losses ``l_i`` and their derivatives, kept with the chunks
   (persisted, never gathered);
2. the adversary's response from reductions of the losses alone (no pass over X): the
   normaliser of the KL weights, the threshold ``eta`` of the chi-square weights (Newton's
   method on the piecewise-linear mass, exact once its active set settles), the group means;
3. when the solver asks for them, one pass over X for the gradient (and the adversary's
   low-rank Hessian terms) and one for the Hessian or per Hessian-vector product.

What each adversary contributes is a :class:`_Rule` (how its weights follow from the losses
and a few global numbers), found by the adversary's game class: a new adversary with a
closed-form response supports Dask input with one more rule.
"""

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from skcgd._chunked._engine import RowChunks, add, feature_info
from skcgd._validation import (
    as_csr,
    check_classification_labels,
    check_data,
    check_problem_scale,
    check_sample_weight,
    check_vector,
)
from skcgd.games import (
    Chi2LogisticGame,
    GroupKLLogisticGame,
    KLLogisticGame,
    PlainLogisticGame,
    get_adversary,
)
from skcgd.games._design import row_gram, weighted_sum_rows
from skcgd.games._reweighted import soft_mean

__all__ = ["ChunkedLogisticGame", "prepare_chunked_fit", "supported_adversaries"]

_FORMED_HESSIAN_SIZE = 300


# -- on the workers: one chunk ------------------------------------------------------------
def _chunk_rows(chunk, spec):
    """The chunk's game labels, weights (class weights applied) and group indices, as the
    in-memory fit encodes them; reads the 1-D companions only, never X."""
    index = np.searchsorted(spec["classes"], np.asarray(chunk["y"]))
    labels = index if spec["multinomial"] else np.where(index == 1, 1, -1)
    s = chunk["sample_weight"]
    s = np.ones(chunk["rows"]) if s is None else np.asarray(s, dtype=np.float64)
    s = s * spec["class_factor"][index]
    g = None
    if spec["group_labels"] is not None:
        g = spec["group_index"][np.searchsorted(spec["group_labels"], np.asarray(chunk["groups"]))]
    return labels.astype(np.int64), s, g


def _chunk_game(chunk, spec):
    """The in-memory plain game on one chunk (its data layer only), weights and groups."""
    X = chunk["X"]
    if sp.issparse(X):
        X = as_csr(X, "X", check_finite=False)
    elif X.dtype not in (np.float32, np.float64):
        X = np.ascontiguousarray(X, dtype=np.float64)
    else:
        X = np.ascontiguousarray(X)
    labels, s, g = _chunk_rows(chunk, spec)
    if X.shape[0] == 0:
        return None, s, g
    game = PlainLogisticGame(
        X,
        labels,
        C=spec["C"],
        sample_weight=s,
        fit_intercept=spec["fit_intercept"],
        multinomial=spec["multinomial"],
        n_classes=spec["K"] if spec["multinomial"] else None,
        check_input=False,
    )
    return game, s, g


def _validate_chunk(chunk, state, needs_groups):
    """Checks of one chunk (the in-memory messages) and what the fit needs of all of them:
    ``max |X|``, the weight of each class and of each (group, class) pair."""
    X, top = check_data(chunk["X"])
    n = X.shape[0]
    y = np.asarray(chunk["y"])
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (one label per row of X), got shape {y.shape}.")
    if y.dtype == object:
        # mixed types, None or NaN among object labels (numeric ones are checked on the
        # client, on the distinct labels: continuous targets are refused there)
        from skcgd._validation import _check_discrete_values

        _check_discrete_values(y, "y", "a class label")
    s = check_sample_weight(chunk["sample_weight"], n, allow_zero_sum=True)
    labels, inverse = np.unique(y, return_inverse=True)
    per_label = {lab: w for lab, w in zip(labels.tolist(), np.bincount(inverse, weights=s))}
    pairs = {}
    if needs_groups:
        groups = chunk["groups"]
        if groups is None:
            raise ValueError("groups is required")  # caught on the client before this
        g = np.asarray(groups)
        if g.ndim != 1 or g.shape[0] != n:
            raise ValueError(f"groups must have one label per row of X, got shape {g.shape}.")
        from skcgd._validation import _check_discrete_values

        _check_discrete_values(g, "groups", "a group label")
        for lab in labels.tolist():
            rows = y == lab
            glabs, ginv = np.unique(g[rows], return_inverse=True)
            for gl, w in zip(glabs.tolist(), np.bincount(ginv, weights=s[rows])):
                pairs[(gl, lab)] = pairs.get((gl, lab), 0.0) + w
    Z = chunk.get("adversary_X")
    if Z is not None:
        from skcgd.games._parametric import check_adversary_features

        if getattr(Z, "ndim", 2) != 2:
            raise ValueError(
                f"adversary_X must be a 2-D array (n_samples, k), got shape {Z.shape}."
            )
        check_adversary_features(Z, n)
    return {"n": n, "max_abs": top, "labels": per_label, "pairs": pairs}


def _merge_validation(a, b):
    labels = dict(a["labels"])
    for k, w in b["labels"].items():
        labels[k] = labels.get(k, 0.0) + w
    pairs = dict(a["pairs"])
    for k, w in b["pairs"].items():
        pairs[k] = pairs.get(k, 0.0) + w
    return {
        "n": a["n"] + b["n"],
        "max_abs": max(a["max_abs"], b["max_abs"]),
        "labels": labels,
        "pairs": pairs,
    }


def _losses(chunk, state, x, spec, rule):
    """Per-row losses and their derivatives at ``x`` (kept on the worker); with them, where
    the adversary's gradient weights do not depend on its global numbers, the chunk's
    gradient sums (the chunk is at hand: no second pass for the gradient)."""
    game, s, g = _chunk_game(chunk, spec)
    if game is None:
        K = spec["K"] if spec["multinomial"] else 1
        loss, G = np.zeros(0), np.zeros((0, K))
    else:
        loss, G = game._loss(x)
    sums = None
    if rule.theta_free_gradient:
        sums = _gradient_sums(game, loss, G, s, g, spec, rule, None)
        if spec["hessian_with_gradient"]:
            H = _data_hessian(game, loss, G, s, g, spec, rule, None) if rule.theta_free else None
            sums = (sums, H)
    return loss, G, sums


def _reduce_losses(chunk, state, rule, theta):
    """The adversary's sums over the losses of one chunk (no pass over X)."""
    _, s, g = _chunk_rows(chunk, rule.spec)
    return rule.loss_sums(state[0], s, g, theta)


def _first_reduction(chunk, state, rule):
    """The reduction that follows the losses pass: the adversary's first sums, and the
    gradient sums when the losses pass computed them."""
    return _reduce_losses(chunk, state, rule, rule.first), state[2]


def _gradient_sums(game, loss, G, s, g, spec, rule, theta):
    """``sum_i w_ij (g_i kron xt_i)`` for the adversary's weight columns ``w_j``."""
    cols = rule.gradient_columns(loss, G, s, g, theta)
    if game is None:
        K = G.shape[1]
        width = cols.shape[1] // K
        return np.zeros((width, K * (spec["n_features"] + spec["fit_intercept"])))
    out = weighted_sum_rows(game.X, cols, spec["fit_intercept"])
    return out.reshape(cols.shape[1] // G.shape[1], -1)


def _gradient_terms(chunk, state, x, spec, rule, theta):
    """The gradient sums of one chunk and, when the game forms its Hessian with the
    gradient, the data part of the Hessian (the chunk is read once for both)."""
    game, s, g = _chunk_game(chunk, spec)
    sums = _gradient_sums(game, state[0], state[1], s, g, spec, rule, theta)
    if not spec["hessian_with_gradient"]:
        return sums
    return sums, _data_hessian(game, state[0], state[1], s, g, spec, rule, theta)


def _data_hessian(game, loss, G, s, g, spec, rule, theta):
    """The data part of the primal's Hessian over one chunk (no penalty, no low rank)."""
    n_x = spec["n_x"]
    if game is None:
        return np.zeros((n_x, n_x))
    omega, c = rule.hessian_weights(loss, G, s, g, theta)
    fi = spec["fit_intercept"]
    if G.shape[1] == 1:
        h = np.abs(G[:, 0])
        w = omega * h * (1.0 - h)
        if c is not None:
            w = w + c * G[:, 0] ** 2
        return row_gram(game.X, np.sqrt(w)[:, None], fi)
    H = game._loss_hessian_matrix(G, omega)
    if c is not None:
        H += row_gram(game.X, G * np.sqrt(c)[:, None], fi)
    return H


def _hessian_matrix(chunk, state, x, spec, rule, theta):
    game, s, g = _chunk_game(chunk, spec)
    return _data_hessian(game, state[0], state[1], s, g, spec, rule, theta)


def _hessian_product(chunk, state, x, spec, rule, theta, v):
    """The data part of the primal's Hessian times ``v`` over one chunk."""
    game, s, g = _chunk_game(chunk, spec)
    if game is None:
        return np.zeros(spec["n_x"])
    G = state[1]
    omega, c = rule.hessian_weights(state[0], G, s, g, theta)
    out = game._loss_hessian_matvec(G, omega, v)
    if c is not None:
        from skcgd.games._design import margins

        K, q = G.shape[1], spec["n_x"] // G.shape[1]
        D = margins(game.X, v.reshape(K, q), spec["fit_intercept"])
        r = np.einsum("ik,ik->i", G, D) * c  # (B^T v)_i scaled by c_i
        out += weighted_sum_rows(game.X, G * r[:, None], spec["fit_intercept"]).ravel()
    return out


def _row_weights(chunk, spec, rule, x, theta):
    """The adversary's weight of every row of one chunk at ``x`` (a lazy output)."""
    game, s, g = _chunk_game(chunk, spec)
    if game is None:
        return np.zeros(0)
    loss, _ = game._loss(x)
    return rule.row_weights(loss, s, g, theta)


def _combine_first(combine):
    """Combine ``(first sums, gradient sums or None)`` pairs."""

    def both(a, b):
        return combine(a[0], b[0]), add(a[1], b[1])  # add(None, None) is None

    return both


def _max_and_sum(a, b):
    return np.array([max(a[0], b[0]), a[1] + b[1]])


# -- the adversaries' rules -----------------------------------------------------------------
class _Rule:
    """How an adversary's primal follows from the losses (see the module docstring).

    ``theta`` holds the global numbers of the response (set by :meth:`resolve` from
    reductions of the losses); the other methods work on one chunk's arrays.
    """

    # the global numbers of the first reduction after the losses pass
    first = None
    # whether the gradient's row weights need no global number (then the losses pass sums
    # the gradient on the way), and whether the Hessian's do not either
    theta_free_gradient = False
    theta_free = False

    def __init__(self, game_spec):
        self.spec = game_spec
        self.CN = game_spec["C"] * game_spec["N"]

    def resolve(self, reduce):
        """``(theta, data value)``; ``reduce(theta)`` sums :meth:`loss_sums` over chunks."""
        raise NotImplementedError

    def loss_sums(self, loss, s, g, theta):
        raise NotImplementedError

    def combiner(self, theta):
        """How the chunks' :meth:`loss_sums` combine (a sum unless overridden)."""
        return add

    def omega(self, loss, s, g, theta):
        raise NotImplementedError

    def gradient_columns(self, loss, G, s, g, theta):
        """Row weights of the data gradient (first K columns) and of the low-rank vectors."""
        return G * self.omega(loss, s, g, theta)[:, None]

    def hessian_weights(self, loss, G, s, g, theta):
        return self.omega(loss, s, g, theta), None

    def low_rank(self, sums, theta):
        """``(data gradient, [(coefficient, U), ...])`` from the summed gradient columns."""
        return sums[0].ravel(), []

    def row_weights(self, loss, s, g, theta):
        return self.omega(loss, s, g, theta) / self.CN


class _PlainRule(_Rule):
    theta_free_gradient = True
    theta_free = True

    def resolve(self, reduce):
        return None, self.spec["C"] * float(reduce(None))

    def loss_sums(self, loss, s, g, theta):
        return float(s @ loss)

    def omega(self, loss, s, g, theta):
        return self.spec["C"] * s


class _KLRule(_Rule):
    """``p_i = (s_i / N) e^{l_i / tau} / Z``; the value ``C N tau log Z`` as ``soft_mean``."""

    first = ("mean",)

    def resolve(self, reduce):
        N, tau = self.spec["N"], self.spec["tau"]
        mean = float(reduce(("mean",))) / N
        top, excess = reduce(("excess", mean))
        if top > 30.0:  # the shifted log-sum-exp, as soft_mean does
            excess = top + float(np.log(reduce(("shifted", mean, top))))
        else:
            excess = float(np.log1p(excess))
        return (mean, excess), self.CN * (mean + tau * excess)

    def loss_sums(self, loss, s, g, theta):
        N, tau = self.spec["N"], self.spec["tau"]
        pos = s > 0
        if theta[0] == "mean":
            return float(s @ loss)
        d = (loss[pos] - theta[1]) / tau
        prior = s[pos] / N
        if theta[0] == "excess":
            return np.array([d.max() if d.size else -np.inf, float(prior @ np.expm1(d))])
        return float(prior @ np.exp(d - theta[2]))

    def combiner(self, theta):
        return _max_and_sum if theta[0] == "excess" else add

    def omega(self, loss, s, g, theta):
        mean, excess = theta
        out = np.zeros(loss.shape[0])
        pos = s > 0
        # p_i = (s_i / N) exp((l_i - mean) / tau - log Z'), Z' = sum_j (s_j/N) e^{(l_j-mean)/tau}
        out[pos] = self.spec["C"] * s[pos] * np.exp((loss[pos] - mean) / self.spec["tau"] - excess)
        return out

    def hessian_weights(self, loss, G, s, g, theta):
        omega = self.omega(loss, s, g, theta)
        return omega, omega / self.spec["tau"]

    def low_rank(self, sums, theta):
        data_grad = sums[0].ravel()
        m = data_grad / np.sqrt(self.CN)
        return data_grad, [(-1.0 / self.spec["tau"], m[:, None])]


class _Chi2Rule(_Rule):
    """``q_i = p_i (b_i - t)_+``, ``b_i = 1 + l_i / tau``, ``sum_i q_i = 1`` (``p = s / N``).

    The threshold ``t`` is found by Newton's method on the convex, decreasing, piecewise
    linear ``S(t) = sum_i p_i (b_i - t)_+ - 1`` from ``t_0 = sum_i p_i b_i - 1`` (where
    ``S >= 0``): the iterates increase to the root and the step is exact once the set
    ``{b_i > t}`` stops changing. Each iterate is one reduction over the kept losses.
    """

    first = ("mean",)

    def resolve(self, reduce):
        tau = self.spec["tau"]
        t = float(reduce(("mean",))) / tau  # sum_i p_i b_i - 1, where S >= 0
        count, slope = -1, 0.0
        for _ in range(200):
            mass, slope, active = reduce(("mass", t))
            if slope <= 0.0:
                break
            t_new = (mass - 1.0) / slope  # the root of S on the current piece
            if active == count and t_new <= t:
                break  # the set {b_i > t} settled: t is the root
            count, t = active, max(t, t_new)
        total = float(reduce(("total", t)))
        value = float(reduce(("value", t, total)))
        # theta: the threshold, the normaliser of q (1 up to rounding) and sum_F p_i
        return (t, total, slope), self.CN * value

    def _b(self, loss):
        return 1.0 + loss / self.spec["tau"]

    def loss_sums(self, loss, s, g, theta):
        N = self.spec["N"]
        pos = s > 0
        prior, ls = s[pos] / N, loss[pos]
        kind = theta[0]
        if kind == "mean":
            return float(prior @ ls)
        b = self._b(ls)
        free = b > theta[1]
        if kind == "mass":  # sum_F p_i b_i, sum_F p_i, |F|
            return np.array([float(prior[free] @ b[free]), float(prior[free].sum()), free.sum()])
        q = prior * np.maximum(b - theta[1], 0.0)
        if kind == "total":
            return float(q.sum())
        q /= theta[2]
        div = (q - prior) ** 2 / prior
        return float(q @ ls - 0.5 * self.spec["tau"] * div.sum())

    def _q(self, loss, s, theta):
        t, total = theta[0], theta[1]
        out = np.zeros(loss.shape[0])
        pos = s > 0
        out[pos] = s[pos] / self.spec["N"] * np.maximum(self._b(loss[pos]) - t, 0.0) / total
        return out

    def omega(self, loss, s, g, theta):
        return self.CN * self._q(loss, s, theta)

    def _free_prior(self, loss, s, theta):
        pos = s > 0
        free = np.zeros(loss.shape[0], dtype=bool)
        free[pos] = self._b(loss[pos]) - theta[0] > 0.0
        return np.where(free, s / self.spec["N"], 0.0)

    def gradient_columns(self, loss, G, s, g, theta):
        omega = self.omega(loss, s, g, theta)
        pf = self._free_prior(loss, s, theta)
        return np.hstack([G * omega[:, None], G * pf[:, None]])

    def hessian_weights(self, loss, G, s, g, theta):
        pf = self._free_prior(loss, s, theta)
        return self.omega(loss, s, g, theta), self.CN * pf / self.spec["tau"]

    def low_rank(self, sums, theta):
        data_grad, m = sums[0].ravel(), sums[1].ravel()
        mass = theta[2]
        if mass <= 0:
            return data_grad, []
        return data_grad, [(-self.CN / (self.spec["tau"] * mass), m[:, None])]

    def row_weights(self, loss, s, g, theta):
        return self._q(loss, s, theta)


class _GroupRule(_Rule):
    """``q = softmax(L / tau + log pi)`` over the group means ``L_g``; sample ``i`` of group
    ``g`` weighs ``C N q_g s_i / N_g``."""

    theta_free_gradient = True

    def resolve(self, reduce):
        Ng = self.spec["group_weight"]
        L = reduce(None) / Ng
        prior = Ng / self.spec["N"]
        a = L / self.spec["tau"] + np.log(prior)
        e = np.exp(a - a.max())
        q = e / e.sum()
        return q, self.CN * soft_mean(L, prior, self.spec["tau"])

    def loss_sums(self, loss, s, g, theta):
        return np.bincount(g, weights=s * loss, minlength=self.spec["group_weight"].size)

    def omega(self, loss, s, g, theta):
        return self.CN * (theta / self.spec["group_weight"])[g] * s

    def gradient_columns(self, loss, G, s, g, theta):
        # the columns grad L_g: sample i contributes s_i / N_g g_i to its group's column
        n_groups, K = self.spec["group_weight"].size, G.shape[1]
        M = np.zeros((loss.shape[0], n_groups * K))
        cols = g[:, None] * K + np.arange(K)[None, :]
        np.put_along_axis(M, cols, G * (s / self.spec["group_weight"][g])[:, None], axis=1)
        return M

    def low_rank(self, sums, theta):
        M = sums.reshape(theta.size, -1).T  # (K q, G)
        Mq = M @ theta
        scale = self.CN / self.spec["tau"]
        return self.CN * Mq, [(scale, M * np.sqrt(theta)[None, :]), (-scale, Mq[:, None])]

    def row_weights(self, loss, s, g, theta):
        return theta  # the group weights themselves (not per row)


_RULES = {
    PlainLogisticGame: _PlainRule,
    KLLogisticGame: _KLRule,
    Chi2LogisticGame: _Chi2Rule,
    GroupKLLogisticGame: _GroupRule,
}


def supported_adversaries():
    """The adversaries a fit on Dask arrays supports, sorted: those with a closed-form
    response (a :class:`_Rule`, Newton) and the parametric one (the game solvers)."""
    from skcgd.games import ADVERSARIES

    return tuple(
        sorted(
            name
            for name, spec in ADVERSARIES.items()
            if spec.game in _RULES or spec.needs_features  # the parametric game: CGD
        )
    )


# -- on the client: the game Newton plays -------------------------------------------------
class _Terms:
    """What :meth:`ChunkedLogisticGame.primal_evaluate` leaves for the Hessian."""

    __slots__ = ("state", "theta", "low_rank", "hessian")

    def __init__(self, state, theta, low_rank, hessian=None):
        self.state, self.theta, self.low_rank = state, theta, low_rank
        self.hessian = hessian  # the data part, when it came with the gradient


class ChunkedLogisticGame:
    """The primal of a reweighted logistic game whose data are the row chunks of a Dask array.

    Offers what :class:`skcgd.solvers.Newton` needs (``n_x``, ``primal``,
    ``primal_evaluate``, ``primal_hessian_matrix``, ``primal_hessian_operator``,
    ``best_response``), each computed by passes over the chunks, with the same values as
    the in-memory game on the same data (to rounding). The last few evaluations are cached
    by point: a line search's accepted point is not evaluated twice.

    Parameters
    ----------
    chunks : RowChunks
        X, y, sample_weight and groups, row-aligned.
    spec : dict
        The validated problem (see :func:`prepare_chunked_fit`).
    rule : _Rule
        The adversary's rule.
    null_weights : callable or None
        The weights reported at rho = 0 (a function of the game), None for none.
    """

    # the iterate and a line-search trial
    _CACHE = 2

    def __init__(self, chunks, spec, rule, null_weights=None):
        self.chunks, self.spec, self.rule = chunks, spec, rule
        self.K = spec["K"] if spec["multinomial"] else 1
        self.q = spec["n_features"] + int(spec["fit_intercept"])
        self.n_x = spec["n_x"]
        self.n_features = spec["n_features"]
        self.fit_intercept = spec["fit_intercept"]
        self.l2 = spec["l2"]
        pen = np.full((self.K, self.q), self.l2)
        if self.fit_intercept:
            pen[:, -1] = 0.0
        self._pen = pen.ravel()
        self._flat = None
        if self.K > 1 and self.fit_intercept:  # as ReweightedLogisticGame: see there
            e = np.zeros((self.K, self.q))
            e[:, -1] = 1.0 / np.sqrt(self.K)
            self._flat = e.ravel()
        self._null_weights = null_weights
        self._evals = {}
        # the Hessian's data part is summed with the gradient (no extra pass over X), and
        # Newton's Hessian-vector products are then taken here: on chunks each product
        # would be a round trip to the workers
        self.hessian_comes_with_gradient = spec["hessian_with_gradient"]

    def _penalty(self, x):
        coef = x.reshape(self.K, self.q)[:, : self.n_features]
        return 0.5 * self.l2 * float(np.vdot(coef, coef))

    def _evaluate(self, x):
        """``(state, theta, value, gradient sums or None)`` at ``x``: one pass over X and
        reductions of the losses."""
        x = np.array(check_vector(x, self.n_x, "x"), dtype=np.float64)
        key = x.tobytes()
        if key in self._evals:
            return self._evals[key]
        rule = self.rule
        combine = _combine_first(rule.combiner(rule.first))
        state, (first, grad_sums) = self.chunks.map_persist_reduce(
            _losses, (x, self.spec, rule), _first_reduction, (rule,), combine
        )

        def reduce(theta):
            if theta == rule.first:  # came with the losses pass
                return first
            return self.chunks.map_reduce(
                _reduce_losses,
                rule,
                theta,
                state=state,
                combine=rule.combiner(theta),
                reads_x=False,
            )

        theta, data_value = self.rule.resolve(reduce)
        result = (state, theta, float(data_value + self._penalty(x)), grad_sums)
        if len(self._evals) >= self._CACHE:  # drop the oldest: its losses leave the workers
            self._evals.pop(next(iter(self._evals)))
        self._evals[key] = result
        return result

    def primal(self, x):
        """The primal objective :math:`P(W)`."""
        return self._evaluate(x)[2]

    def primal_evaluate(self, x):
        """``(P(W), grad P(W), terms)``: the gradient is one more pass over X."""
        state, theta, value, sums = self._evaluate(x)
        x = np.asarray(x, dtype=np.float64)
        if sums is None:
            sums = self.chunks.map_reduce(
                _gradient_terms, x, self.spec, self.rule, theta, state=state
            )
        hessian = None
        if self.hessian_comes_with_gradient:
            sums, hessian = sums
        data_grad, low_rank = self.rule.low_rank(sums, theta)
        return value, data_grad + self._pen * x, _Terms(state, theta, low_rank, hessian)

    def primal_grad(self, x):
        """:math:`\\nabla P(W)`."""
        return self.primal_evaluate(x)[1]

    def _add_structure(self, out, v=None):
        if v is None:  # the matrix
            for coef, U in self._terms.low_rank:
                out += coef * (U @ U.T)
            out[np.diag_indices_from(out)] += self._pen
            if self._flat is not None:
                out += np.outer(self._flat, self._flat)
            return out
        for coef, U in self._terms.low_rank:
            out += coef * (U @ (U.T @ v))
        out += self._pen * v
        if self._flat is not None:
            out += self._flat * (self._flat @ v)
        return out

    def primal_hessian_matrix(self, x, terms):
        """:math:`\\nabla^2 P(W)`, formed: one pass over X (row-Gram sums per chunk)."""
        x = np.asarray(x, dtype=np.float64)
        if terms.hessian is not None:
            H = terms.hessian.copy()
        else:
            H = self.chunks.map_reduce(
                _hessian_matrix, x, self.spec, self.rule, terms.theta, state=terms.state
            )
        self._terms = terms
        return self._add_structure(H)

    def primal_hessian_operator(self, x, terms):
        """:math:`\\nabla^2 P(W)` as a LinearOperator: one pass over X per product."""
        x = np.asarray(x, dtype=np.float64)
        if terms.hessian is not None:
            # formed with the gradient: products on this side, no round trip to the workers
            H = self.primal_hessian_matrix(x, terms)
            return LinearOperator((self.n_x, self.n_x), matvec=H.__matmul__, dtype=np.float64)

        def matvec(v):
            v = np.asarray(v, dtype=np.float64).ravel()
            out = self.chunks.map_reduce(
                _hessian_product, x, self.spec, self.rule, terms.theta, v, state=terms.state
            )
            self._terms = terms
            return self._add_structure(out, v)

        return LinearOperator((self.n_x, self.n_x), matvec=matvec, dtype=np.float64)

    def best_response(self, x):
        """The adversary's weights at ``x``: a lazy Dask array of one weight per row (the
        group weights themselves for a group adversary; None without adversary)."""
        if isinstance(self.rule, _PlainRule):
            return None if self._null_weights is None else self._null_weights(self)
        theta = self._evaluate(x)[1]
        if isinstance(self.rule, _GroupRule):
            return np.array(theta, dtype=float)
        x = np.asarray(x, dtype=np.float64)
        return self.chunks.lazy_rows(_row_weights_task, self.spec, self.rule, x, theta)

    equilibrium_weights = best_response

    def release(self):
        """Forget the cached evaluations (their losses leave the workers)."""
        self._evals.clear()
        self._terms = None


def _row_weights_task(chunk, state, spec, rule, x, theta):
    return _row_weights(chunk, spec, rule, x, theta)


def _prior_task(chunk, state, spec, N):
    return _chunk_rows(chunk, spec)[1] / N


def _sample_prior(game):
    """``s / N``, lazily: the rho -> 0 limit of the sample adversaries' weights."""
    return game.chunks.lazy_rows(_prior_task, game.spec, game.spec["N"])


def _group_prior(game):
    return game.spec["group_weight"] / game.spec["N"]


def prepare_chunked_fit(estimator, X, y, sample_weight, groups, adversary_X=None):
    """Validate Dask inputs for ``MinimaxLogisticRegression.fit`` and build the game.

    One pass over the chunks checks them (the in-memory messages: NaN/inf, labels, weights,
    groups) and counts the weight of every class and group; nothing of X comes back.

    Returns
    -------
    prepared : dict
        ``game``, ``classes``, ``dtype``, ``n_features``, ``feature_names``,
        ``group_labels``, ``present``.
    """
    import dask.array as da

    from skcgd._validation import _is_real, encode_groups

    adversary = get_adversary(estimator.adversary)
    rho = float(estimator.rho)
    game_cls = PlainLogisticGame if rho == 0 else adversary.game
    supported = ", ".join(supported_adversaries())
    parametric = rho > 0 and adversary.needs_features
    if game_cls not in _RULES and not parametric:
        raise ValueError(
            f"adversary={estimator.adversary!r} cannot fit on Dask arrays yet: its solver is "
            f"not a sequence of passes over the rows. Those that can: {supported}."
        )
    solver = estimator.solver
    if not parametric and solver not in ("auto", "newton"):
        raise ValueError(
            f"solver={solver!r} cannot fit on Dask arrays: the game solvers move one weight "
            "per sample, row-level state that would have to travel every step. Use "
            "solver='newton' (or 'auto'), which plays the adversary's best response."
        )
    X, names = feature_info(X)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array, got shape {X.shape}.")
    if X.shape[0] == 0:
        raise ValueError("X has no rows: found 0 sample(s), a minimum of 1 is required.")
    if adversary.needs_groups and groups is None:
        encode_groups(None, 0, np.zeros(0))  # raises the message that says how to pass them
    if sample_weight is not None and _is_real(sample_weight):
        sample_weight = da.full(X.shape[0], float(sample_weight), chunks=(X.chunks[0],))
    companions = {}
    if parametric and adversary_X is not None:
        companions["adversary_X"] = adversary_X
    chunks = RowChunks(
        X,
        y=y,
        sample_weight=sample_weight,
        groups=groups if adversary.needs_groups else None,
        **companions,
    )
    info = chunks.map_reduce(
        _validate_chunk, bool(adversary.needs_groups), combine=_merge_validation
    )
    y_dtype = getattr(y, "dtype", None)
    keys = list(info["labels"])
    classes = np.unique(np.array(keys, dtype=y_dtype if y_dtype is not None else None))
    check_classification_labels(classes)
    if len(classes) < 2:
        raise ValueError(
            "MinimaxLogisticRegression needs samples of at least two classes; the data "
            f"contains only one class: {classes[0]!r}."
        )
    counts = np.array([info["labels"][c] for c in classes.tolist()])
    if not counts.sum() > 0:
        raise ValueError("sample_weight sums to zero: at least one sample needs a positive weight.")
    factor = np.ones(len(classes))
    if estimator.class_weight is not None:
        from sklearn.utils.class_weight import compute_class_weight

        factor = compute_class_weight(
            estimator.class_weight, classes=classes, y=classes, sample_weight=counts
        )
    N = float(factor @ counts)
    if not N > 0:
        raise ValueError(
            "class_weight leaves no sample with positive weight: give at least one class a "
            "positive weight."
        )
    C = estimator.C
    unpenalised = C == np.inf
    check_problem_scale(None, np.array([N]), 1.0 if unpenalised else C, info["max_abs"])
    multinomial = len(classes) > 2
    K = len(classes) if multinomial else 1
    n_features = int(X.shape[1])
    spec = {
        "C": 1.0 if unpenalised else float(C),
        "l2": 0.0 if unpenalised else 1.0,
        "fit_intercept": bool(estimator.fit_intercept),
        "multinomial": multinomial,
        "K": len(classes),
        "n_features": n_features,
        "n_x": K * (n_features + int(estimator.fit_intercept)),
        "classes": classes,
        "class_factor": factor,
        "group_labels": None,
        "group_index": None,
        "N": N,
        "tau": 1.0 / rho if rho > 0 else np.inf,
    }
    # Newton forms Hessians up to this size (skcgd.solvers.Newton's "auto"); larger ones
    # are solved by CG on products, a pass each
    spec["hessian_with_gradient"] = spec["n_x"] <= _FORMED_HESSIAN_SIZE
    if spec["n_x"] == 0:
        raise ValueError(
            "X has no features and fit_intercept=False: the min player has no variables."
        )
    group_labels = present = None
    if adversary.needs_groups:
        group_labels = np.unique(
            np.array([g for g, _ in info["pairs"]], dtype=getattr(groups, "dtype", None))
        )
        position = {c: i for i, c in enumerate(classes.tolist())}
        weight = np.zeros(len(group_labels))
        where = {g: i for i, g in enumerate(group_labels.tolist())}
        for (g, lab), w in info["pairs"].items():
            weight[where[g]] += w * factor[position[lab]]
        present = weight > 0
        spec["group_labels"] = group_labels
        spec["group_index"] = np.where(present, np.cumsum(present) - 1, 0).astype(np.int64)
        spec["group_weight"] = weight[present]
    if parametric:
        from skcgd._chunked._parametric import ChunkedParametricGame

        spec["k"] = (
            int(adversary_X.shape[1])
            if adversary_X is not None
            else (len(classes) if multinomial else 2) * (n_features + 1)
        )
        spec["alpha"] = float(estimator.adversary_alpha)
        game = ChunkedParametricGame(chunks, spec)
        dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)
        return {
            "game": game,
            "classes": classes,
            "dtype": dtype,
            "n_features": n_features,
            "feature_names": names,
            "group_labels": None,
            "present": None,
            "adversary_X": adversary_X,
        }
    rule_cls = _RULES[game_cls]
    null = None
    if game_cls is PlainLogisticGame and adversary.game is not PlainLogisticGame:
        null = _group_prior if adversary.needs_groups else _sample_prior
    game = ChunkedLogisticGame(chunks, spec, rule_cls(spec), null_weights=null)
    dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    return {
        "game": game,
        "classes": classes,
        "dtype": dtype,
        "n_features": n_features,
        "feature_names": names,
        "group_labels": group_labels,
        "present": present,
    }
