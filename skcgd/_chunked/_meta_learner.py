"""RegularizedMetaLearner on Dask arrays: its four stages as passes over row chunks.

The fit runs the in-memory stages' own functions on every chunk, where the chunk lives, and
brings back only their sums (:mod:`skcgd.ensemble._design` describes the *reducers* that the
stages take):

0. a check of the chunks (finite values, weights, groups) and the largest weight, which
   scales the weights exactly as the in-memory fit does;
1. stage 1, :func:`~skcgd.ensemble._redundancy.prediction_moments`: two passes (sums, then
   the scatter about the means), ``O(n_predictions^2)`` numbers back;
2. stage 2, :func:`~skcgd.ensemble._design.global_transform` of the meta design, whose
   meta-features are row-wise functions of a chunk's own rows: one or two passes, ``O(p)``;
3. stage 3 on the direct solver: the weighted sums (:class:`~skcgd.ensemble._design.Stats`,
   ``O(p^2)``) of every *segment* of rows between two fold boundaries, in one pass. With an
   unshuffled K-fold every fold, outer or inner, is a range of row indices (a chunk knows
   the global index of its first row), so every fit's training statistics and every inner
   fold's are sums of segments, and the meta-models are solved from them in this process,
   by the code of the in-memory fit. The exact leave-one-out of ridge takes one more pass:
   its leverages are per row, from each fit's factorization, sent to the chunks;
4. the out-of-fold RMSEs of stage 4: one pass that predicts each chunk's rows with its
   outer fold's models and returns the weighted squared errors.

With ``stages="auto"`` (the default) the candidate configurations are scored in the same
kind of passes, each returning the numbers of every outer fold and design at once
(:mod:`skcgd._chunked._stage_search`); the steps above are those of ``stages="paper"``.

``meta_oof_predictions_`` is the same per-chunk prediction as a lazy Dask array (recomputed
from X when it is computed, never held by the fit). Every pass adds up in another order
than the in-memory loops over row blocks, so the fitted numbers agree to rounding, not bit
for bit.

Refused on Dask input (a ValueError that says what works): ``solver="cg"`` (and ``"auto"``
when it picks CG for a design of more than ``DIRECT_MAX_FEATURES`` columns), any ``cv`` or
``inner_cv`` other than an integer, None or an unshuffled ``KFold`` (shuffled and group
splitters decide a row's fold from all the rows at once), and chunks that are sparse
matrices.
"""

import functools
import numbers
from numbers import Integral
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.model_selection import KFold
from sklearn.utils.validation import assert_all_finite

from skcgd._chunked import is_dask_collection, require_dask
from skcgd._chunked._engine import (
    RowChunks,
    as_row_array,
    check_predict_input,
    feature_info,
    map_rows,
    set_feature_info,
)
from skcgd._validation import (
    check_groups,
    check_sample_weight,
    check_squares_magnitudes,
)
from skcgd.ensemble._blending import oof_error_sums
from skcgd.ensemble._design import (
    add_stats,
    condition_number_of_stats,
    design_stats,
    global_transform,
)
from skcgd.ensemble._meta_features import MetaDesign, predict_design, transform_design
from skcgd.ensemble._meta_search import products_results
from skcgd.ensemble._penalized_cv import (
    DIRECT_MAX_FEATURES,
    fit_linear_cv,
    predict_rows,
    ridge_loo_fit,
    ridge_loo_setup,
    ridge_loo_sse,
)
from skcgd.ensemble._redundancy import prediction_moments
from skcgd.ensemble._splits import check_train_weights, kfold_bounds
from skcgd.ensemble._stage_search import Progress

__all__ = ["fit_dask", "predict_dask", "transform_dask"]

# the splitters whose folds are ranges of row indices, as the refusals name them
_CONTIGUOUS = "an integer or KFold(n_splits) without shuffling"


# ----------------------------------------------------------------------------- what is supported


def _contiguous_folds(cv, name, default):
    """The number of folds of ``cv`` if its folds are ranges of row indices, else raise."""
    if cv is None:
        return default
    if isinstance(cv, Integral) and not isinstance(cv, bool):
        KFold(int(cv))  # scikit-learn's own check of the number
        return int(cv)
    # exactly KFold: a subclass may make its folds otherwise
    if type(cv) is KFold and not cv.shuffle:
        return int(cv.get_n_splits())
    # (an iterable of splits is named, not printed: its repr lists every index)
    shown = f"{name}={cv!r}" if hasattr(cv, "split") else f"{name} given as splits"
    raise ValueError(
        f"{shown} is not supported on Dask input: without gathering the rows, a row's "
        f"fold must follow from its index, so {name} must be {_CONTIGUOUS} (shuffle the "
        "rows of the Dask array beforehand if their order is meaningful), or fit on "
        "in-memory arrays (X.compute())."
    )


def _check_supported(est):
    """``(outer folds, inner folds)`` of a fit on Dask input, or the ValueError naming why not."""
    if est.solver == "cg":
        raise ValueError(
            "solver='cg' is not supported on Dask input: the chunked fit solves the "
            "meta-models from per-chunk Gram statistics. Use solver='direct' (or 'auto' for "
            f"a meta design of at most {DIRECT_MAX_FEATURES} columns)."
        )
    n_outer = _contiguous_folds(est.cv, "cv", 5)
    n_inner = _contiguous_folds(est.inner_cv, "inner_cv", 5)
    return n_outer, n_inner


def _check_dense(X):
    if sp.issparse(getattr(X, "_meta", None)):
        raise ValueError(
            "Dask arrays of sparse chunks are not supported by RegularizedMetaLearner: pass "
            "dense chunks (X.map_blocks(lambda b: b.toarray())), or fit on an in-memory "
            "sparse matrix."
        )
    if X.dtype.kind not in "biuf":
        raise ValueError(f"X must hold real numbers, got dtype {X.dtype}.")


# ----------------------------------------------------------------------------- chunk helpers


class _Context(NamedTuple):
    """What every chunk needs to rebuild the in-memory fit's view of its rows."""

    weight_scale: object  # the largest sample weight, or None for unit weights
    n_pred: int
    kept: object = None  # stage 1's kept columns (then the meta design exists)
    meta_names: tuple = ()
    mu: object = None  # stage 2's global transform
    sigma: object = None
    ybar: float = 0.0


def _float_block(X, check=True):
    """A block of X as the in-memory fit validates it: float32 kept, other reals float64.

    ``check``: refuse NaN and infinity (pass 0 checked the chunks of a fit once for all).
    """
    X = np.asarray(X)
    if X.dtype not in (np.float64, np.float32):
        X = X.astype(np.float64)
    if check:
        assert_all_finite(X, input_name="X")
    return X


def _rows(chunk, ctx):
    """``(X, y, sw)`` of a chunk, the weights divided by the largest (as in memory)."""
    X = _float_block(chunk["X"], check=False)
    y = np.asarray(chunk["y"], dtype=np.float64).reshape(-1)
    if ctx.weight_scale is None:
        sw = np.ones(chunk["rows"])
    else:
        sw = np.asarray(chunk["sample_weight"], dtype=np.float64) / ctx.weight_scale
    return X, y, sw


def _design(X, ctx):
    """The meta design of a chunk's rows, with the global transform once it is known."""
    design = MetaDesign(X, ctx.n_pred, ctx.kept, ctx.meta_names)
    design.mu, design.sigma = ctx.mu, ctx.sigma
    return design


def _on_rows(chunk, state, ctx, fn, *args):
    return fn(*_rows(chunk, ctx), *args)


def _on_design(chunk, state, ctx, fn, *args):
    X, _, sw = _rows(chunk, ctx)
    return fn(_design(X, ctx), sw, *args)


def _reduce(rc, on, ctx, fn, *args):
    return rc.map_reduce(on, ctx, fn, *args)


def _reducer(rc, on, ctx):
    """The reducer of the stages (:mod:`skcgd.ensemble._design`): one pass per call."""
    return functools.partial(_reduce, rc, on, ctx)


def _shared(obj):
    """``obj`` as one node of the task graph, so that the chunks' tasks share one copy."""
    from dask import delayed as dask_delayed

    return dask_delayed(obj, traverse=False)


def _local(start, n_rows, a, b):
    """The local indices of a chunk's rows (``start``, ``n_rows``) in the range ``[a, b)``."""
    lo, hi = max(a, start), min(b, start + n_rows)
    return np.arange(lo - start, hi - start) if lo < hi else np.arange(0)


# ----------------------------------------------------------------------------- pass 0: checks

_MAXIMA = ("X_top", "y_top", "sw_max")


def _check_chunk(chunk, state):
    """The chunk's checks (raising as the in-memory validation does) and its magnitudes."""
    X, n = chunk["X"], chunk["rows"]
    if sp.issparse(X):
        raise ValueError("X has sparse chunks; RegularizedMetaLearner takes dense Dask chunks.")
    X = _float_block(X)
    y = np.asarray(chunk["y"])
    if y.dtype.kind not in "biuf":
        raise ValueError(f"y must hold real numbers, got dtype {y.dtype}.")
    y = y.astype(np.float64).reshape(-1)
    assert_all_finite(y, input_name="y")
    out = {"X_top": 0.0, "y_top": 0.0, "sw_max": 0.0, "sw_sum": 0.0}
    if n:
        # max and min rather than max(abs(.)), which would allocate a copy of the chunk
        out["X_top"] = max(abs(float(X.max())), abs(float(X.min()))) if X.size else 0.0
        out["y_top"] = max(abs(float(y.max())), abs(float(y.min())))
    if chunk["sample_weight"] is not None:
        sw = check_sample_weight(chunk["sample_weight"], n, allow_zero_sum=True)
        out["sw_max"] = float(sw.max()) if n else 0.0
        out["sw_sum"] = float(sw.sum())
    if chunk["groups"] is not None:
        check_groups(chunk["groups"], n)
    return out


def _merge_checks(a, b):
    return {k: max(a[k], b[k]) if k in _MAXIMA else a[k] + b[k] for k in a}


# ----------------------------------------------------------------------------- stage 3's folds


class _FoldPlan(NamedTuple):
    """The fits of stage 3 as ranges of row indices (unshuffled K-fold, outer and inner).

    Fit ``f`` trains on the rows outside ``holes[f]`` (the outer test fold; the final fit's
    hole is empty). ``blocks[f]`` lists its inner test blocks (its whole training set as one
    block without inner K-fold), each as the indices of the ``segments`` it is made of: the
    ranges between consecutive fold boundaries, whose statistics one pass computes.
    """

    holes: list
    n_rows: list
    segments: list
    blocks: list


def _positions_to_rows(c, d, a, b):
    """Global row ranges of the positions ``[c, d)`` of a training set with hole ``[a, b)``."""
    gap = b - a
    ranges = [(c, min(d, a)), (max(c, a) + gap, d + gap)]
    return [(u, v) for u, v in ranges if u < v]


def _fold_plan(n, n_outer, n_inner):
    """The :class:`_FoldPlan` of ``n`` rows (``n_inner`` 0: no inner K-fold)."""
    outer = kfold_bounds(n, n_outer)
    holes = [(int(outer[f]), int(outer[f + 1])) for f in range(n_outer)] + [(n, n)]
    fit_ranges, n_rows = [], []
    for a, b in holes:
        m = n - (b - a)
        n_rows.append(m)
        if n_inner:
            if n_inner > m:  # as skcgd.ensemble._splits.inner_splits refuses it
                raise ValueError(f"Cannot run {n_inner}-fold inner cross-validation on {m} rows.")
            inner = kfold_bounds(m, n_inner)
            fit_ranges.append(
                [_positions_to_rows(c, d, a, b) for c, d in zip(inner[:-1], inner[1:])]
            )
        else:
            fit_ranges.append([_positions_to_rows(0, m, a, b)])
    cuts = {0, n, *(int(c) for c in outer)}
    for blocks in fit_ranges:
        for ranges in blocks:
            for u, v in ranges:
                cuts.update((u, v))
    cuts = sorted(cuts)
    segments = [(u, v) for u, v in zip(cuts[:-1], cuts[1:]) if u < v]
    first = {u: i for i, (u, _) in enumerate(segments)}
    blocks = [
        [[i for u, v in ranges for i in _segments_of(segments, first[u], v)] for ranges in fit]
        for fit in fit_ranges
    ]
    return _FoldPlan(holes, n_rows, segments, blocks)


def _segments_of(segments, i, v):
    """The indices of the consecutive segments from the ``i``-th up to the row ``v``.

    Every end of a range is a cut between segments, so a range is exactly such a run.
    """
    out = []
    while i < len(segments) and segments[i][1] <= v:
        out.append(i)
        i += 1
    return out


def _sum_stats(stats, indices):
    total = stats[indices[0]]
    for i in indices[1:]:
        total = add_stats(total, stats[i])
    return total


def _caches(plan, stats, kfold):
    """Every fit's :func:`~skcgd.ensemble._penalized_cv.direct_cache`, from the segments'."""
    caches = []
    for blocks in plan.blocks:
        tests = [_sum_stats(stats, idx) for idx in blocks]
        # the total is the sum of the inner test blocks, in their order (as in memory)
        total = tests[0]
        for B in tests[1:]:
            total = add_stats(total, B)
        if kfold:
            caches.append({"total": total, "inner": (total, tests, [None] * len(tests))})
        else:
            caches.append({"total": total})
    return caches


def _segment_stats(chunk, state, ctx, segments):
    """The weighted sums of the centred target and the design on every segment's rows."""
    X, y, sw = _rows(chunk, ctx)
    design = _design(X, ctx)
    y0 = y - ctx.ybar
    out = []
    for a, b in segments:
        rows = _local(chunk["start"], chunk["rows"], a, b)
        out.append(design_stats(design, y0, sw, rows))
    return out


def _loo_sse(chunk, state, ctx, setups, holes):
    """Every fit's leave-one-out squared residuals of ridge on the chunk's training rows."""
    X, y, sw = _rows(chunk, ctx)
    design = _design(X, ctx)
    y0 = y - ctx.ybar
    start, n = chunk["start"], chunk["rows"]
    out = []
    for L, (a, b) in zip(setups, holes):
        train = np.ones(n, dtype=bool)
        train[_local(start, n, a, b)] = False
        rows = np.flatnonzero(train)
        out.append(ridge_loo_sse(L, design, y0, sw, rows))
    return out


def _fit_models(specs, cache, common, loo_part):
    """Every meta-model of one fit from its statistics (the in-memory fit's solvers)."""
    fitted, converged = [], True
    for spec in specs:
        if spec.kind == "ridge" and common["loo"]:
            fit, ok = ridge_loo_fit(*loo_part), True
        else:
            # the direct path reads only the cache: no design, rows or splits
            fit, ok = fit_linear_cv(spec, None, None, None, None, (), cache=cache, **common)
        fitted.append(fit)
        converged &= ok
    return fitted, converged


# ----------------------------------------------------------------------------- stage 4


class _OutOfFold(NamedTuple):
    """The outer folds' models, to predict each row with the one that did not see it."""

    ctx: _Context
    holes: list
    fitted: list


def _oof_rows(oof, X, start):
    """Out-of-fold predictions of the rows of one chunk of X (``start``: its first row)."""
    design = _design(_float_block(X, check=False), oof.ctx)
    out = np.full((X.shape[0], len(oof.fitted[0])), np.nan)
    for (a, b), fitted in zip(oof.holes, oof.fitted):
        rows = _local(start, X.shape[0], a, b)
        if rows.size:
            out[rows] = predict_rows(design, rows, fitted)
    out += oof.ctx.ybar
    return out


def _oof_chunk(chunk, state, oof):
    return _oof_rows(oof, chunk["X"], chunk["start"])


def _oof_errors(chunk, state, oof):
    """The sums of :func:`oof_error_sums`, and per outer fold the weighted cross-products of
    the meta-models' errors on its rows with their total weight (``cv_results_``)."""
    X, y, sw = _rows(chunk, oof.ctx)
    pred = _oof_rows(oof, X, chunk["start"])
    products = []
    for a, b in oof.holes:
        rows = _local(chunk["start"], X.shape[0], a, b)
        err = pred[rows] - y[rows, None]
        with np.errstate(invalid="ignore", over="ignore"):
            products.append(((err * sw[rows, None]).T @ err, float(sw[rows].sum())))
    return oof_error_sums(pred, y, sw), products


# ----------------------------------------------------------------------------- fit


def _target(y):
    """y as a 1-D Dask or in-memory array (a single column is taken as the target)."""
    if y is None:
        raise ValueError(
            "RegularizedMetaLearner requires y to be passed, but the target y is None."
        )
    y = as_row_array(y, "y") if is_dask_collection(y) else np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (one target), got shape {y.shape}.")
    return y


def fit_dask(est, X, y, sample_weight=None, groups=None):
    """``est.fit(X, y, sample_weight, groups)`` for a Dask X, by passes over its chunks.

    ``y``, ``sample_weight`` and ``groups`` may be Dask arrays, dataframes' columns or
    in-memory arrays (split along X's row chunks); ``groups`` are checked and, as by every
    supported splitter, otherwise ignored. Sets the attributes of the in-memory fit
    (``meta_oof_predictions_`` a lazy Dask array) and ``dask_stats_``.
    """
    require_dask()
    n_outer, n_inner = _check_supported(est)
    X, names_in = feature_info(X)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array, got shape {X.shape}.")
    _check_dense(X)
    y = _target(y)
    weight_scale = None
    if sample_weight is not None and isinstance(sample_weight, numbers.Real):
        # a single weight for every row: unit weights once scaled (ridge's factor stays)
        weight_scale = float(check_sample_weight(sample_weight, 1)[0])
        sample_weight = None
    elif sample_weight is not None:
        if not is_dask_collection(sample_weight):
            sample_weight = np.asarray(sample_weight)
        if sample_weight.ndim != 1:
            raise ValueError(
                f"sample_weight has shape {sample_weight.shape}; expected ({X.shape[0]},), "
                "one weight per sample."
            )
    rc = RowChunks(X, y=y, sample_weight=sample_weight, groups=groups)
    n, p = rc.n_samples, rc.n_features
    set_feature_info(est, p, names_in)
    if n < 2:
        raise ValueError(
            f"Found array with {n} sample(s) (shape={(n, p)}) while a minimum of 2 is "
            "required by RegularizedMetaLearner."
        )

    checks = rc.map_reduce(_check_chunk, combine=_merge_checks)
    if sample_weight is not None:
        check_sample_weight(np.array([checks["sw_sum"]]), 1)  # the in-memory zero-sum error
        weight_scale = checks["sw_max"]
    names, specs = est._specs(1.0 if weight_scale is None else weight_scale)
    check_squares_magnitudes((n, p), 1.0, {"X": checks["X_top"], "y": checks["y_top"]})
    n_pred = est._n_pred(p)
    ctx = _Context(None if sample_weight is None else weight_scale, n_pred)
    progress = Progress(est)
    progress.done(f"input checks ({n} rows in {rc.n_chunks} chunks)")
    if est.stages != "paper":  # the stages chosen by nested CV, in the same kind of passes
        from skcgd._chunked._stage_search import fit_searched_dask

        fit_searched_dask(est, rc, ctx, names, specs, n, n_outer, n_inner, progress)
        est.dask_stats_ = rc.stats()
        return est

    # stage 1: the moments of the prediction columns and of y -----------------------------
    moments = prediction_moments(None, n_pred, None, None, reduce=_reducer(rc, _on_rows, ctx))
    kept, meta_names = est._select_columns(moments, n_pred)
    progress.done(f"stage 1: redundancy pruning (kept {kept.size} of {n_pred} columns)")

    # stage 2: the meta design's global transform -------------------------------------------
    ctx = ctx._replace(kept=kept, meta_names=meta_names)
    layout = MetaDesign(np.empty((0, p)), n_pred, kept, ctx.meta_names)  # its width only
    width = layout.shape[1]
    mu, sigma = global_transform(
        layout, None, est.standardize, reduce=_reducer(rc, _on_design, ctx)
    )
    ctx = ctx._replace(mu=mu, sigma=sigma, ybar=moments.ybar)
    progress.done("stage 2: meta-features and scaling")

    # stage 3: every fit's statistics from the segments', then the solvers -------------------
    solver, loo, kfold, common = est._penalty_rules(names, specs, width, False, moments.target_var)
    if solver != "direct":
        raise ValueError(
            f"solver='auto' picks 'cg' for this meta design of {width} columns (more than "
            f"{DIRECT_MAX_FEATURES}), which is not supported on Dask input: pass "
            "solver='direct' to solve from the Gram statistics anyway (p^2 numbers per fold "
            "segment come back from the chunks), or fewer columns."
        )
    plan = _fold_plan(n, n_outer, n_inner if kfold else 0)
    caches = _caches(plan, rc.map_reduce(_segment_stats, ctx, plan.segments), kfold)
    check_train_weights((cache["total"].n for cache in caches[:-1]), "cv")
    est.condition_number_design_ = (
        condition_number_of_stats(caches[-1]["total"]) if width <= DIRECT_MAX_FEATURES else np.nan
    )
    loo_parts = [None] * len(caches)
    if loo and "ridge" in names:
        alphas = specs[names.index("ridge")].alphas
        setups = [ridge_loo_setup(alphas, c["total"], est.standardize) for c in caches]
        sse = rc.map_reduce(_loo_sse, ctx, _shared(setups), plan.holes)
        loo_parts = list(zip(setups, sse, plan.n_rows))
    # one task per fit, as in memory (threads: the solvers run in BLAS and Numba kernels)
    results = Parallel(n_jobs=est.n_jobs, prefer="threads")(
        delayed(_fit_models)(specs, cache, common, part) for cache, part in zip(caches, loo_parts)
    )
    converged = all(ok for _, ok in results)
    est._set_meta_models(names, specs, results[-1][0], converged, mu, sigma, moments.ybar)
    progress.done(f"stage 3: meta-models in {len(caches)} fits")

    # stage 4: the out-of-fold errors by a pass; the predictions themselves stay lazy -------
    oof = _OutOfFold(ctx, plan.holes[:-1], [fitted for fitted, _ in results[:-1]])
    (w_sum, sse), products = rc.map_reduce(_oof_errors, _shared(oof))
    est.meta_oof_predictions_ = rc.lazy_rows(_oof_chunk, _shared(oof), n_outputs=len(specs))
    est._set_blend(w_sum, sse)
    products_results(est, products)
    progress.done(f"stage 4: {est.blend} blend")
    est.dask_stats_ = rc.stats()
    return est


# ----------------------------------------------------------------------------- predict


def _predict_block(n_pred, kept, meta_names, coef, intercept, block):
    design = MetaDesign(_float_block(block), n_pred, kept, meta_names)
    return predict_design(design, coef, intercept)


def _transform_block(n_pred, kept, meta_names, block):
    return transform_design(MetaDesign(_float_block(block), n_pred, kept, meta_names))


def _block_args(est, X):
    X = check_predict_input(est, X)
    _check_dense(X)
    meta_names = est._meta_names if est._use_meta else ()
    return X, (est._n_pred(X.shape[1]), est.kept_columns_, meta_names)


def predict_dask(est, X):
    """``est.predict(X)`` for a Dask X: a lazy Dask array with X's row chunks."""
    X, args = _block_args(est, X)
    fn = functools.partial(_predict_block, *args, est.coef_, est.intercept_)
    return map_rows(X, fn)


def transform_dask(est, X):
    """``est.transform(X)`` for a Dask X: a lazy Dask array with X's row chunks."""
    X, args = _block_args(est, X)
    return map_rows(X, functools.partial(_transform_block, *args), n_outputs=est.coef_.shape[0])
