"""RegularizedMetaLearner's stage search (``stages="auto"``) on Dask arrays (private).

The in-memory search (:mod:`skcgd.ensemble._meta_search`) runs stage 1 on every outer
training fold, fits the meta-models of every distinct design of every fit, and scores each
candidate from the cross-products of its meta-models' errors on the test folds. On Dask
arrays the same quantities are sums over the chunks, so the search takes the passes of the
fixed fit (:mod:`skcgd._chunked._meta_learner`), each bringing back the numbers of every
fold and design at once:

1. two passes for the moments of the prediction columns on every outer *segment* (a test
   fold: contiguous rows): weighted sums, then the scatter about each segment's mean. A
   fit's moments (all segments but its own) follow by the parallel-variance formula
   (Chan, Golub and LeVeque), so stage 1 of every fit runs in this process;
2. two passes for the global transform of every distinct design;
3. one pass for the Gram statistics of every design on every fold segment, as the fixed fit
   (:func:`~skcgd._chunked._meta_learner._fold_plan`), and one more for the exact
   leave-one-out of ridge of every (fit, design) pair;
4. one pass for the cross-products ``E`` of the meta-models' errors of every (outer fold,
   design) pair on the fold's rows, which score every candidate (``w^T E w``).

The meta-models are solved from the statistics by the in-memory fit's code, and the
attributes are those of the in-memory search up to rounding (the sums are added in another
order). ``meta_oof_predictions_`` stays a lazy Dask array.
"""

from typing import NamedTuple

import numpy as np

from skcgd._chunked._meta_learner import (
    _caches,
    _fit_models,
    _float_block,
    _fold_plan,
    _local,
    _rows,
    _shared,
)
from skcgd.ensemble._design import (
    column_scales,
    condition_number_of_stats,
    design_centred_squares,
    design_stats,
    design_sums,
)
from skcgd.ensemble._meta_features import MetaDesign
from skcgd.ensemble._meta_search import inner_mse, plan_designs, score_candidates
from skcgd.ensemble._penalized_cv import (
    DIRECT_MAX_FEATURES,
    predict_rows,
    ridge_loo_setup,
    ridge_loo_sse,
)
from skcgd.ensemble._redundancy import (
    PredictionMoments,
    prediction_scatter,
    prediction_sums,
)
from skcgd.ensemble._splits import check_train_weights, kfold_bounds
from skcgd.ensemble._stage_search import candidate_stages

__all__ = ["Layout", "fit_searched_dask", "fold_products"]


class Layout(NamedTuple):
    """One meta design: its kept columns, meta-features and global transform."""

    kept: np.ndarray
    meta_names: tuple
    mu: object = None
    sigma: object = None


def _make(X, ctx, layout):
    design = MetaDesign(X, ctx.n_pred, layout.kept, layout.meta_names)
    design.mu, design.sigma = layout.mu, layout.sigma
    return design


# ----------------------------------------------------------------------------- stage 1


def _segment_sums(chunk, state, ctx, bounds):
    """``(sum s, sum s y, sum s p)`` of the chunk's rows in every segment."""
    X, y, sw = _rows(chunk, ctx)
    out = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        r = _local(chunk["start"], chunk["rows"], a, b)
        out.append(tuple(prediction_sums(X[r], y[r], sw[r], ctx.n_pred)[:3]))
    return out


def _segment_scatter(chunk, state, ctx, bounds, means, ybars):
    """The scatter of the chunk's rows in every segment about that segment's means."""
    X, y, sw = _rows(chunk, ctx)
    out = []
    for s, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        r = _local(chunk["start"], chunk["rows"], a, b)
        out.append(prediction_scatter(X[r], y[r], sw[r], ctx.n_pred, means[s], ybars[s]))
    return out


def _fit_moments(sums, scatters, segments):
    """:class:`PredictionMoments` of the union of ``segments`` (parallel-variance formula)."""
    N = sum(sums[s][0] for s in segments)
    ybar = sum(sums[s][1] for s in segments) / N
    mean = sum(sums[s][2] for s in segments) / N
    p = mean.shape[0]
    cov, yy, sse = np.zeros((p, p)), 0.0, np.zeros(p)
    for s in segments:
        n_s = sums[s][0]
        if n_s <= 0:
            continue
        gap = sums[s][2] / n_s - mean
        ygap = sums[s][1] / n_s - ybar
        yy_s, cov_s, sse_s = scatters[s]
        cov += cov_s + n_s * np.outer(gap, gap)
        yy += yy_s + n_s * ygap * ygap
        sse += sse_s
    cov /= N
    return PredictionMoments(N, ybar, yy / N, mean, 0.5 * (cov + cov.T), sse)


def _moments_of_fits(rc, ctx, n, n_outer):
    """The moments of every fit: the outer training folds, then all rows (two passes)."""
    bounds = kfold_bounds(n, n_outer)
    sums = rc.map_reduce(_segment_sums, ctx, bounds)
    means = [t / N if N > 0 else np.zeros_like(t) for N, _, t in sums]
    ybars = [sy / N if N > 0 else 0.0 for N, sy, _ in sums]
    scatters = rc.map_reduce(_segment_scatter, ctx, bounds, means, ybars)
    fits = [[s for s in range(n_outer) if s != f] for f in range(n_outer)]
    fits.append(list(range(n_outer)))
    check_train_weights((sum(sums[s][0] for s in fit) for fit in fits[:-1]), "cv")
    return [_fit_moments(sums, scatters, fit) for fit in fits]


# ----------------------------------------------------------------------------- stage 2


def _design_sums(chunk, state, ctx, layouts, standardize):
    X, _, sw = _rows(chunk, ctx)
    return [design_sums(_make(X, ctx, lay), sw, False) for lay in layouts]


def _design_squares(chunk, state, ctx, layouts, means):
    X, _, sw = _rows(chunk, ctx)
    return [design_centred_squares(_make(X, ctx, lay), sw, m) for lay, m in zip(layouts, means)]


def _transforms(rc, ctx, layouts, standardize):
    """Every design's :func:`~skcgd.ensemble._design.global_transform` (two passes)."""
    sums = rc.map_reduce(_design_sums, ctx, layouts, standardize)
    means = [first / N for N, first, _ in sums]
    if not standardize:
        return [lay._replace(mu=m, sigma=np.ones(m.shape[0])) for lay, m in zip(layouts, means)]
    squares = rc.map_reduce(_design_squares, ctx, layouts, means)
    # the rule of global_transform for a dense design: weighted mean, standard deviation
    return [
        lay._replace(mu=mean, sigma=column_scales(second / N))
        for lay, (N, _, _), mean, second in zip(layouts, sums, means, squares)
    ]


# ----------------------------------------------------------------------------- stage 3


def _segment_stats_all(chunk, state, ctx, layouts, segments):
    """Every design's weighted sums on every segment of the chunk's rows."""
    X, y, sw = _rows(chunk, ctx)
    y0 = y - ctx.ybar
    out = []
    for lay in layouts:
        design = _make(X, ctx, lay)
        out.append(
            [
                design_stats(design, y0, sw, _local(chunk["start"], chunk["rows"], a, b))
                for a, b in segments
            ]
        )
    return out


def _loo_sse_all(chunk, state, ctx, layouts, jobs):
    """Ridge's leave-one-out squared residuals of every (fit, design) job on the chunk."""
    X, y, sw = _rows(chunk, ctx)
    y0 = y - ctx.ybar
    start, n = chunk["start"], chunk["rows"]
    out = []
    for d, (a, b), L in jobs:
        train = np.ones(n, dtype=bool)
        train[_local(start, n, a, b)] = False
        out.append(ridge_loo_sse(L, _make(X, ctx, layouts[d]), y0, sw, np.flatnonzero(train)))
    return out


# ----------------------------------------------------------------------------- stage 4


class _Scoring(NamedTuple):
    """The fitted meta-models of every outer fold's designs, to score them on its rows."""

    ctx: object
    layouts: list
    holes: list
    folds: list  # per outer fold: [(design, fitted), ...]


def fold_products(chunk, state, sc):
    """Per outer fold and design: ``(E, w)``, the weighted cross-products of the meta-models'
    errors on the chunk's rows of that fold, and their total weight."""
    X, y, sw = _rows(chunk, sc.ctx)
    y0 = y - sc.ctx.ybar
    out = []
    for (a, b), pairs in zip(sc.holes, sc.folds):
        rows = _local(chunk["start"], chunk["rows"], a, b)
        fold = []
        for d, fitted in pairs:
            m = len(fitted)
            E, w = np.zeros((m, m)), 0.0
            if rows.size:
                err = predict_rows(_make(X, sc.ctx, sc.layouts[d]), rows, fitted) - y0[rows, None]
                with np.errstate(invalid="ignore", over="ignore"):
                    E = (err * sw[rows, None]).T @ err
                w = float(sw[rows].sum())
            fold.append((E, w))
        out.append(fold)
    return out


class _OutOfFold(NamedTuple):
    """The chosen candidate's models of every outer fold, each on its fold's design."""

    ctx: object
    holes: list
    layouts: list  # per outer fold
    fitted: list  # per outer fold


def _oof_chunk(chunk, state, oof):
    X = _float_block(chunk["X"], check=False)
    out = np.full((X.shape[0], len(oof.fitted[0])), np.nan)
    for (a, b), lay, fitted in zip(oof.holes, oof.layouts, oof.fitted):
        rows = _local(chunk["start"], X.shape[0], a, b)
        if rows.size:
            out[rows] = predict_rows(_make(X, oof.ctx, lay), rows, fitted)
    return out + oof.ctx.ybar


# ----------------------------------------------------------------------------- the search


def fit_searched_dask(est, rc, ctx, names, specs, n, n_outer, n_inner, progress):
    """The chunked :func:`~skcgd.ensemble._meta_search.fit_searched` (see above)."""
    from joblib import Parallel, delayed

    n_pred = ctx.n_pred
    candidates = candidate_stages(est, len(specs))
    moments = _moments_of_fits(rc, ctx, n, n_outer)
    keys, design_of, n_kept = plan_designs(candidates, moments, n_pred)
    progress.done(f"stage 1: redundancy pruning of {n_outer + 1} fits ({len(keys)} designs)")

    ctx = ctx._replace(ybar=moments[-1].ybar)
    layouts = [Layout(np.array(kept, dtype=np.intp), names_) for kept, names_ in keys]
    layouts = _transforms(rc, ctx, layouts, est.standardize)
    progress.done(f"stage 2: meta-features and scaling of {len(layouts)} designs")

    width = max(layout.mu.shape[0] for layout in layouts)
    solver, loo, kfold, common = est._penalty_rules(
        names, specs, width, False, moments[-1].target_var
    )
    if solver != "direct":
        raise ValueError(
            f"solver='auto' picks 'cg' for a meta design of {width} columns (more than "
            f"{DIRECT_MAX_FEATURES}), which is not supported on Dask input: pass "
            "solver='direct', or fewer columns."
        )
    plan = _fold_plan(n, n_outer, n_inner if kfold else 0)
    stats = rc.map_reduce(_segment_stats_all, ctx, layouts, plan.segments)
    caches = [_caches(plan, stats_d, kfold) for stats_d in stats]
    pairs = [(f, d) for f in range(n_outer + 1) for d in sorted(set(design_of[f]))]
    loo_parts = {pair: None for pair in pairs}
    if loo and "ridge" in names:
        alphas = specs[names.index("ridge")].alphas
        setups = [ridge_loo_setup(alphas, caches[d][f]["total"], est.standardize) for f, d in pairs]
        jobs = [(d, plan.holes[f], L) for (f, d), L in zip(pairs, setups)]
        sse = rc.map_reduce(_loo_sse_all, ctx, layouts, _shared(jobs))
        for (f, d), L, s in zip(pairs, setups, sse):
            loo_parts[f, d] = (L, s, plan.n_rows[f])
    out = Parallel(n_jobs=est.n_jobs, prefer="threads")(
        delayed(_fit_models)(specs, caches[d][f], common, loo_parts[f, d]) for f, d in pairs
    )
    results = {}
    for (f, d), (fitted, ok) in zip(pairs, out):
        total = caches[d][f]["total"]
        mse = inner_mse(specs, fitted, loo, plan.n_rows[f], total.n)
        results[f, d] = {"fitted": fitted, "converged": ok, "inner_mse": mse, "seconds": 0.0}
    progress.done(f"stage 3: meta-models of {len(pairs)} (fit, design) pairs")

    folds = [
        [(d, results[f, d]["fitted"]) for d in sorted(set(design_of[f]))] for f in range(n_outer)
    ]
    sc = _Scoring(ctx, layouts, plan.holes[:-1], folds)
    products = rc.map_reduce(fold_products, _shared(sc))
    for f in range(n_outer):
        for (d, _), (E, w) in zip(folds[f], products[f]):
            results[f, d].update(E=E, w=w)
    cv_results, best = score_candidates(est, candidates, design_of, results, n_kept, progress)

    params = candidates[best]
    est._select_columns(moments[-1], n_pred, params)
    chosen = [design_of[f, best] for f in range(n_outer + 1)]
    layout = layouts[chosen[-1]]
    converged = all(results[f, d]["converged"] for f, d in enumerate(chosen))
    final = results[n_outer, chosen[-1]]["fitted"]
    est._set_meta_models(names, specs, final, converged, layout.mu, layout.sigma, ctx.ybar)
    total = caches[chosen[-1]][n_outer]["total"]
    est.condition_number_design_ = (
        condition_number_of_stats(total) if layout.mu.shape[0] <= DIRECT_MAX_FEATURES else np.nan
    )
    w_sum = sum(results[f, d]["w"] for f, d in enumerate(chosen[:-1]))
    sse = sum(np.diag(results[f, d]["E"]) for f, d in enumerate(chosen[:-1]))
    est._set_blend(w_sum, sse, final=params["final"])
    oof = _OutOfFold(
        ctx,
        plan.holes[:-1],
        [layouts[d] for d in chosen[:-1]],
        [results[f, d]["fitted"] for f, d in enumerate(chosen[:-1])],
    )
    est.meta_oof_predictions_ = rc.lazy_rows(_oof_chunk, _shared(oof), n_outputs=len(specs))
    est.cv_results_, est.best_index_ = cv_results, best
    est.best_params_ = dict(params)
    est.best_score_ = float(cv_results["mean_test_score"][best])
    progress.done(f"stage 4: {params['final']} of the chosen configuration {best + 1}")
    return est
