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
from scipy.sparse.linalg import LinearOperator

from skcgd._chunked._engine import RowChunks, feature_info
from skcgd._chunked._rules import (
    _RULES,
    _chunk_rows,
    _combine_first,
    _first_reduction,
    _gradient_terms,
    _GroupRule,
    _hessian_matrix,
    _hessian_product,
    _losses,
    _merge_validation,
    _PlainRule,
    _reduce_losses,
    _row_weights,
    _validate_chunk,
    supported_adversaries,
)
from skcgd._validation import check_classification_labels, check_problem_scale, check_vector
from skcgd.games import PlainLogisticGame, get_adversary

__all__ = ["ChunkedLogisticGame", "prepare_chunked_fit", "supported_adversaries"]

_FORMED_HESSIAN_SIZE = 300


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
