"""The chunk side of :mod:`skcgd._chunked._logistic`: what runs on the workers, and the
adversaries' rules.

Every function here takes one chunk (a dict of its blocks, see
:class:`~skcgd._chunked._engine.RowChunks`) and returns a few numbers per feature, or the
chunk's row-level state (losses and their derivatives) to keep where it was computed. A
:class:`_Rule` says how an adversary's weights follow from the losses and a few global
numbers (``theta``) that reductions of the losses determine.
"""

import numpy as np
import scipy.sparse as sp

from skcgd._chunked._engine import add
from skcgd._validation import as_csr, check_data, check_sample_weight
from skcgd.games import Chi2LogisticGame, GroupKLLogisticGame, KLLogisticGame, PlainLogisticGame
from skcgd.games._design import row_gram, weighted_sum_rows
from skcgd.games._reweighted import soft_mean


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
    ``g`` weighs ``C N q_g s_i / N_g``.

    Its gradient's row weights need no global number (the columns are per group), but its
    Hessian's do: both come from the pass after the losses, which reads each chunk once
    for the two (summing the gradient with the losses would leave the Hessian to a pass of
    its own, or to one pass per Hessian-vector product)."""

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
