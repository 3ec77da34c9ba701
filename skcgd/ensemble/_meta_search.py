"""The regression meta stage with its stages chosen by nested cross-validation (private).

:func:`fit_searched` is :meth:`RegularizedMetaLearner.fit` for ``stages="auto"`` (or a list
of configurations, :func:`~skcgd.ensemble._stage_search.candidate_stages`). Every candidate
runs the four stages within each outer training fold, and is scored on that fold's test rows:

1. stage 1 on the fold's training rows: the moments of the prediction columns over those rows
   only (:func:`~skcgd.ensemble._redundancy.prediction_moments` with the other rows weighted
   0) decide which columns each pruning level keeps;
2. the meta design of those columns (a row's meta-features are functions of its own row);
3. the meta-models, their penalties chosen by inner CV on the training rows, as always;
4. the blend weights (or the best single meta-model) from the meta-models' inner-CV errors
   on the training rows: the outer test rows are not used to weigh the models they score.

So no choice of a candidate sees the rows it is scored on; the choice *between* candidates
is the one that does (it is what the outer folds are for). Candidates whose pruning keeps the
same columns in a fold share that fold's fits (one :class:`MetaDesign` per distinct set of
columns). A candidate's loss on a fold is ``w^T E w``: ``E`` the weighted cross-products of
the meta-models' errors on the fold's test rows, ``w`` the candidate's weights, so the blend
and the best single model cost nothing more. The chosen candidate is refitted on all rows
(its stage 1 on all rows), and its out-of-fold meta predictions are those of its folds' fits,
so ``meta_oof_predictions_`` is nested too.

The design of every fit is shifted and scaled by its own global transform (of X alone, no
y); each fit centres (and standardises) again on its own rows, so the fits do not depend on it
beyond rounding.
"""

import time

import numpy as np
from joblib import Parallel, delayed

from skcgd.ensemble._blending import oof_error_sums
from skcgd.ensemble._design import global_transform
from skcgd.ensemble._meta_features import MIN_MODELS_FOR_META_FEATURES, MetaDesign
from skcgd.ensemble._penalized_cv import (
    design_condition_number,
    direct_cache,
    fit_models_on_rows,
    predict_rows,
)
from skcgd.ensemble._redundancy import prediction_moments, redundancy_from_moments
from skcgd.ensemble._splits import (
    ReplayedSplits,
    check_fold_weights,
    check_partition,
    given_groups,
    kfold_splitter,
    outer_splits,
    train_rows,
)
from skcgd.ensemble._stage_search import (
    candidate_stages,
    describe_stages,
    final_weights,
    search_results,
)

__all__ = [
    "design_key",
    "fit_fixed",
    "fit_searched",
    "fixed_results",
    "products_results",
    "fold_losses",
    "prune",
    "score_candidates",
]


def prune(moments, n_pred, params):
    """Stage 1 with the thresholds of ``params``: ``(kept, dropped)`` from the moments."""
    return redundancy_from_moments(
        moments.cov,
        moments.mean,
        moments.cov,
        np.sqrt(moments.sse / moments.N),
        n_blocks=n_pred,
        corr_threshold=params["corr_threshold"],
        mse_threshold=params["mse_threshold"],
        var_threshold=params["var_threshold"],
        target_var=moments.target_var,
    )


def design_key(kept, meta_names):
    """The identity of a meta design: its kept columns and meta-features (if used)."""
    use_meta = bool(meta_names) and len(kept) >= MIN_MODELS_FOR_META_FEATURES
    return tuple(int(j) for j in kept), tuple(meta_names) if use_meta else ()


def _level(params):
    return params["corr_threshold"], params["mse_threshold"], params["var_threshold"]


def plan_designs(candidates, moments, n_pred):
    """Every fit's design for every candidate: ``(keys, design_of, n_kept)``.

    ``moments`` yields the moments of every fit's rows in turn (an iterable: each is needed
    only while its fit is planned, and with thousands of columns its ``p x p`` covariance is
    hundreds of megabytes); ``keys`` lists the distinct designs (:func:`design_key`),
    ``design_of[f, i]`` is candidate ``i``'s in fit ``f``, and ``n_kept[i]`` the mean number
    of kept columns over the outer fits (all but the last).
    """
    from skcgd.ensemble._meta_features import meta_feature_names

    keys, index = [], {}
    design_of, kept_count = [], []
    for mom in moments:
        by_level = {}
        design_of.append(np.empty(len(candidates), dtype=np.intp))
        kept_count.append(np.zeros(len(candidates)))
        for i, params in enumerate(candidates):
            level = _level(params)
            if level not in by_level:
                by_level[level] = prune(mom, n_pred, params)[0]
            kept = by_level[level]
            key = design_key(kept, meta_feature_names(params["meta_features"]))
            if key not in index:
                index[key] = len(keys)
                keys.append(key)
            design_of[-1][i] = index[key]
            kept_count[-1][i] = len(kept)
        del mom  # (before the next fit's moments are computed)
    design_of, kept_count = np.array(design_of), np.array(kept_count)
    n_outer = max(design_of.shape[0] - 1, 1)
    return keys, design_of, kept_count[:-1].sum(axis=0) / n_outer


def fold_losses(candidates, design_of, results, blend):
    """``(losses, weights)`` of :func:`~._stage_search.search_results` from the fits.

    ``results[f, d]`` holds ``inner_mse`` (the meta-models' inner-CV errors on fit ``f``'s
    training rows), ``E`` (the cross-products of their errors on its test rows) and ``w``
    (the test rows' total weight).
    """
    n_outer = design_of.shape[0] - 1
    losses = np.zeros((len(candidates), n_outer))
    weights = np.zeros(n_outer)
    for k in range(n_outer):
        for i, params in enumerate(candidates):
            res = results[k, design_of[k, i]]
            w = final_weights(np.sqrt(res["inner_mse"]), params["final"], blend)
            with np.errstate(invalid="ignore", over="ignore"):
                losses[i, k] = w @ res["E"] @ w
            weights[k] = res["w"]
    return losses, weights


def score_candidates(est, candidates, design_of, results, n_kept, progress):
    """``cv_results_`` and the best candidate (printing one line per candidate, with the
    seconds of its outer folds' fits, which candidates of the same design share)."""
    losses, weights = fold_losses(candidates, design_of, results, est.blend)
    cv_results, best = search_results(candidates, losses, weights, n_kept, "rmse")
    for i, params in enumerate(candidates):
        seconds = sum(results[f, d]["seconds"] for f, d in enumerate(design_of[:-1, i]))
        progress.line(
            f"candidate {i + 1}/{len(candidates)} ({describe_stages(params)}): out-of-fold "
            f"RMSE {cv_results['mean_test_rmse'][i]:.6g}, its fits",
            seconds,
        )
    return cv_results, best


def inner_mse(specs, fitted, loo, n_rows, weight):
    """Every meta-model's inner-CV mean squared error at its chosen penalty (weighted).

    K-fold scores are weighted means already; the exact leave-one-out of ridge is summed
    over the rows and divided by their number, so it is brought to the weighted mean.
    """
    out = np.empty(len(specs))
    for m, (spec, fit) in enumerate(zip(specs, fitted)):
        score = float(np.min(fit.cv_scores))
        if spec.kind == "ridge" and loo:
            score *= n_rows / weight if weight > 0 else np.nan
        out[m] = score
    return out


def _fit_design(specs, design, y0, sw, train, test, inner, kfold, common):
    """The meta-models of one fit on one design, and what scores them (a joblib task)."""
    t0 = time.perf_counter()
    fitted, converged, pred = fit_models_on_rows(
        specs, design, y0, sw, train, test, inner, kfold, None, common
    )
    n = design.shape[0]
    rows = np.arange(n) if test is None else train_rows(n, train, test)
    out = {
        "fitted": fitted,
        "converged": converged,
        "inner_mse": inner_mse(specs, fitted, common["loo"], rows.shape[0], sw[rows].sum()),
        "E": None,
        "w": 0.0,
    }
    if test is not None:
        err = pred - y0[test, None]
        swt = sw[test]
        with np.errstate(invalid="ignore", over="ignore"):
            out["E"] = (err * swt[:, None]).T @ err
        out["w"] = float(swt.sum())
    out["seconds"] = time.perf_counter() - t0
    return out


def fit_searched(est, X, y, sw, groups, names, specs, n_pred, progress):
    """:meth:`RegularizedMetaLearner.fit` with the stages chosen by nested CV (see above)."""
    n = X.shape[0]
    candidates = candidate_stages(est, len(specs))
    outer = outer_splits(est.cv, n, y=y, groups=groups)
    predicted = check_partition(outer, n, "cv")
    check_fold_weights(outer, n, sw, "cv")
    fits = [*outer, (None, None)]  # the outer folds, then all rows

    # stage 1 in every fit, on its training rows only (the others weigh 0); one fit's moments
    # at a time (fresh p x p arrays for all of them at once cost their memory and, on a
    # first touch of that memory, seconds of page faults at p = 5000)
    def moments_of_fits():
        for train, test in outer:
            sw_fit = np.zeros(n)
            rows = train_rows(n, train, test)
            sw_fit[rows] = sw[rows]
            yield prediction_moments(X, n_pred, y, sw_fit)
        yield whole

    whole = prediction_moments(X, n_pred, y, sw)
    keys, design_of, n_kept = plan_designs(candidates, moments_of_fits(), n_pred)
    progress.done(
        f"stage 1: redundancy pruning of {len(fits)} fits at "
        f"{len({_level(c) for c in candidates})} thresholds ({len(keys)} designs)"
    )

    # stage 2: the designs, each with its global transform
    designs = []
    for kept, meta_names in keys:
        design = MetaDesign(X, n_pred, np.array(kept, dtype=np.intp), meta_names)
        design.mu, design.sigma = global_transform(design, sw, est.standardize)
        designs.append(design)
    progress.done(f"stage 2: meta-features and scaling of {len(designs)} designs")

    # stage 3: the meta-models of every (fit, design) pair, on the same inner folds
    ybar, target_var = whole.ybar, whole.target_var
    y0 = y - ybar
    width = max(design.shape[1] for design in designs)
    solver, loo, kfold, common = est._penalty_rules(
        names, specs, width, designs[0].sparse, target_var, n_rows=n
    )
    splitter = kfold_splitter(est.inner_cv)
    inner_groups = given_groups(est.inner_cv, groups)
    inner = []
    for train, test in fits:
        rows = np.arange(n) if test is None else train_rows(n, train, test)
        g = None if inner_groups is None else inner_groups[rows]
        need = kfold or solver == "cg"
        inner.append(ReplayedSplits(splitter, rows.shape[0], y[rows], g) if need else ())
    # the outer folds' fits score the candidates; then only the chosen one is fitted on all
    # rows (the choice never looks at the fits on all rows)
    final = len(fits) - 1
    tasks = [(f, d) for f in range(final) for d in sorted(set(design_of[f]))]
    # threads unless scikit-learn fits run in the tasks (see RegularizedMetaLearner.n_jobs);
    # the inner splits are drawn here, so no task calls a scikit-learn splitter
    own_code = solver == "direct" or all(spec.kind == "ridge" for spec in specs)
    parallel = Parallel(n_jobs=est.n_jobs, prefer="threads" if own_code else "processes")
    out = parallel(
        delayed(_fit_design)(specs, designs[d], y0, sw, *fits[f], inner[f], kfold, common)
        for f, d in tasks
    )
    results = dict(zip(tasks, out))
    progress.done(f"stage 3: meta-models of {len(tasks)} (outer fold, design) pairs")

    cv_results, best = score_candidates(est, candidates, design_of, results, n_kept, progress)
    params = candidates[best]

    # the chosen candidate, refitted on all rows
    est._select_columns(whole, n_pred, params)
    design = designs[design_of[final, best]]
    results[final, design_of[final, best]] = _fit_design(
        specs, design, y0, sw, *fits[final], inner[final], kfold, common
    )
    chosen = [results[f, design_of[f, best]] for f in range(len(fits))]
    converged = all(res["converged"] for res in chosen)
    est._set_meta_models(
        names, specs, chosen[-1]["fitted"], converged, design.mu, design.sigma, ybar
    )
    oof = np.full((n, len(specs)), np.nan)
    for k, (_, test) in enumerate(outer):
        oof[test] = predict_rows(designs[design_of[k, best]], test, chosen[k]["fitted"])
    oof += ybar
    est.meta_oof_predictions_ = oof
    est.condition_number_design_ = design_condition_number(design, sw)
    est._set_blend(*oof_error_sums(oof, y, sw, predicted), final=params["final"])
    est.cv_results_, est.best_index_ = cv_results, best
    est.best_params_ = dict(params)
    est.best_score_ = float(cv_results["mean_test_score"][best])
    progress.done(f"stage 4: {params['final']} of the chosen configuration {best + 1}")
    return est


# ----------------------------------------------------------------------------- stages="paper"


def _inner_of_fits(est, fits, n, y, groups):
    """Every fit's inner splits, drawn here from its rows' ``y`` and ``groups``."""
    splitter = kfold_splitter(est.inner_cv)
    inner_groups = given_groups(est.inner_cv, groups)
    out = []
    for train, test, *_ in fits:
        rows = np.arange(n) if test is None else train_rows(n, train, test)
        g = None if inner_groups is None else inner_groups[rows]
        out.append(ReplayedSplits(splitter, rows.shape[0], y[rows], g))
    return out


def fit_fixed(est, X, y, sw, groups, names, specs, n_pred, progress):
    """:meth:`RegularizedMetaLearner.fit` with the fixed stages of its parameters (the
    seed paper's): stage 1 on all rows, then the nested meta-models and the blend."""
    n = X.shape[0]
    # stage 1 ------------------------------------------------------------------------------
    moments = prediction_moments(X, n_pred, y, sw)
    ybar, target_var = moments.ybar, moments.target_var
    y0 = y - ybar
    kept, meta_names = est._select_columns(moments, n_pred)
    progress.done(f"stage 1: redundancy pruning (kept {kept.size} of {n_pred} columns)")

    # stage 2 ------------------------------------------------------------------------------
    design = MetaDesign(X, n_pred, kept, meta_names)
    design.store_meta_features()
    p = design.shape[1]
    mu, sigma = global_transform(design, sw, est.standardize)
    design.mu, design.sigma = mu, sigma
    progress.done(f"stage 2: meta-features ({len(meta_names)}) and scaling")

    # stage 3 ------------------------------------------------------------------------------
    outer = outer_splits(est.cv, n, y=y, groups=groups)
    predicted = check_partition(outer, n, "cv")
    check_fold_weights(outer, n, sw, "cv")
    solver, loo, kfold, common = est._penalty_rules(
        names, specs, p, design.sparse, target_var, n_rows=n
    )
    tasks = [(train, test, None) for train, test in outer]
    tasks.append((None, None, None))
    # the inner splits of every fit, drawn here with the fit's y and groups (stratified and
    # group splitters): the tasks then call no scikit-learn splitter
    inner = _inner_of_fits(est, tasks, n, y, groups) if kfold or solver == "cg" else None
    if solver == "direct":
        # the statistics of all rows serve the final fits and the condition number
        all_rows = np.arange(n, dtype=np.intp)
        final_cache = direct_cache(design, y0, sw, all_rows, inner[-1] if kfold else (), kfold)
        tasks[-1] = (None, None, final_cache)
    est.condition_number_design_ = design_condition_number(design, sw, tasks[-1][2])
    # the fits of the outer folds and the final one are independent: one joblib task each
    # (threads preferred: the design is shared, not copied into worker processes, and the
    # solvers spend their time in BLAS and Numba kernels that release the GIL).
    # scikit-learn validates inputs under warnings.catch_warnings, which swaps the
    # process-wide warning filters and is not thread-safe: tasks that call scikit-learn (the
    # "cg" path's Lasso and elastic net) go to processes, so that no fit changes the user's
    # filters
    own_code = solver == "direct" or all(spec.kind == "ridge" for spec in specs)
    results = Parallel(n_jobs=est.n_jobs, prefer="threads" if own_code else "processes")(
        delayed(fit_models_on_rows)(
            specs,
            design,
            y0,
            sw,
            train,
            test,
            () if inner is None else inner[f],
            kfold,
            cache,
            common,
        )
        for f, (train, test, cache) in enumerate(tasks)
    )
    oof = np.full((n, len(specs)), np.nan)
    for (_, test, _), (_, _, pred) in zip(tasks[:-1], results[:-1]):
        oof[test] = pred
    oof += ybar
    converged = all(ok for _, ok, _ in results)
    est._set_meta_models(names, specs, results[-1][0], converged, mu, sigma, ybar)
    est.meta_oof_predictions_ = oof
    progress.done(f"stage 3: meta-models {', '.join(names)} in {len(tasks)} fits")

    # stage 4 ------------------------------------------------------------------------------
    est._set_blend(*oof_error_sums(oof, y, sw, predicted))
    fixed_results(est, outer, y, sw)
    progress.done(f"stage 4: {est.blend} blend")
    return est


def fixed_results(est, outer, y, sw):
    """``cv_results_`` of the fixed configuration: one row, its blend scored out of fold.

    Its stage 1 saw all rows (as the seed paper's does), so this score is not nested in
    that stage; the penalties and the blend weights are those of the fit.
    """
    oof = est.meta_oof_predictions_
    w = est.blend_weights_
    losses = np.zeros((1, len(outer)))
    weights = np.zeros(len(outer))
    for k, (_, test) in enumerate(outer):
        err = oof[test] - y[test, None]
        swt = sw[test]
        with np.errstate(invalid="ignore", over="ignore"):
            losses[0, k] = w @ ((err * swt[:, None]).T @ err) @ w
        weights[k] = swt.sum()
    set_results(est, candidate_stages(est, 1), losses, weights, [est.kept_columns_.size])


def products_results(est, products):
    """``cv_results_`` of the fixed configuration from every outer fold's ``(E, w)``: the
    weighted cross-products of the meta-models' errors on its rows, and their weight."""
    w = est.blend_weights_
    with np.errstate(invalid="ignore", over="ignore"):
        losses = np.array([[w @ E @ w for E, _ in products]])
    weights = np.array([total for _, total in products])
    set_results(est, candidate_stages(est, 1), losses, weights, [est.kept_columns_.size])


def set_results(est, candidates, losses, weights, n_kept, best=None):
    """``cv_results_``, ``best_index_``, ``best_params_`` and ``best_score_``."""
    est.cv_results_, best_index = search_results(candidates, losses, weights, n_kept, "rmse")
    est.best_index_ = best_index if best is None else best
    est.best_params_ = dict(candidates[est.best_index_])
    est.best_score_ = float(est.cv_results_["mean_test_score"][est.best_index_])
