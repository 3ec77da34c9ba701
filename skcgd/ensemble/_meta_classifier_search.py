"""The classification meta stage: its fits, fixed or with stages chosen by nested CV (private).

:func:`fit_fixed` is :meth:`RegularizedMetaClassifier.fit` for ``stages="paper"`` (stage 1 on
all rows, as the seed paper), :func:`fit_searched` for ``stages="auto"`` or a list of
configurations (:func:`~skcgd.ensemble._stage_search.candidate_stages`). Both tune and refit
the meta-models by :func:`tune_and_refit`: for every *(fit, design)* pair (a fit being the
training rows of an outer fold, or all rows), every meta-model chooses its ``C`` by inner
stratified CV on the fit's rows and is refitted on them.

The search is nested as the regression one (:mod:`skcgd.ensemble._meta_search`): within each
outer training fold, stage 1 runs on that fold's rows (log-losses, correlations), ``C`` is
chosen by inner CV, and the blend weights (or the best single meta-model) come from the
meta-models' inner-CV log-losses at their chosen ``C``, so no choice of a candidate sees the
rows it is scored on. A meta-model without a grid of ``C`` has no inner-CV log-loss: a fold
then weighs its meta-models uniformly. Candidates that keep the same models in a fold share
its fits.
"""

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import clone

from skcgd.ensemble._blending import aligned_proba, weighted_log_loss
from skcgd.ensemble._design import column_scales, scale_columns, weighted_mean_var
from skcgd.ensemble._fitting import fit_estimator
from skcgd.ensemble._meta_features import (
    MIN_MODELS_FOR_META_FEATURES,
    MetaDesign,
    meta_feature_names,
)
from skcgd.ensemble._redundancy import log_odds_inputs, redundancy_projection
from skcgd.ensemble._splits import (
    check_fold_weights,
    check_partition,
    given_groups,
    inner_splits,
    outer_splits,
    stratified_inner_splitter,
    train_rows,
)
from skcgd.ensemble._stage_search import (
    candidate_stages,
    describe_stages,
    final_weights,
    search_results,
)

__all__ = ["fit_fixed", "fit_searched", "prune_models", "tune_and_refit"]


# ----------------------------------------------------------------------------- joblib tasks


def _standardized(D, sw, rows, standardize):
    """``D[rows]`` standardised on those rows, and the ``(mu, sd)`` that did it.

    Like a ``StandardScaler`` fitted on the rows of one fit (a sparse design is only scaled);
    a column whose spread is at rounding level of its values is left unscaled.
    """
    Dr = D[rows]
    if not standardize:
        return Dr, (np.zeros(D.shape[1]), np.ones(D.shape[1]))
    mean, var = weighted_mean_var(Dr, sw[rows])
    mu = np.zeros(D.shape[1]) if sp.issparse(D) else mean
    sd = column_scales(var, 1e-12 * max(1.0, float(np.max(np.abs(mu), initial=0.0))))
    return scale_columns(Dr, mu, sd), (mu, sd)


def _C_path_losses(template, Cs, D, y, sw, train, test, n_classes, standardize):
    """One inner fold of the choice of C: the weighted log-loss on ``test`` of the model fitted
    on ``train`` (standardised on ``train``, like a ``StandardScaler`` in a pipeline) for
    every C (a joblib task).

    A model with a ``warm_start`` parameter walks the grid from the smallest C up, each fit
    starting from the previous solution (the same solutions to the solver's tolerance, in
    about half the iterations: the coefficients grow smoothly with C).
    """
    Dtr, (mu, sd) = _standardized(D, sw, train, standardize)
    Dte = scale_columns(D[test], mu, sd)
    Y = np.eye(n_classes)[y[test]]
    losses = np.empty(len(Cs))
    warm = "warm_start" in template.get_params()
    clf = clone(template).set_params(warm_start=True) if warm else None
    for j in np.argsort(Cs, kind="stable"):
        clf = (clf if warm else clone(template)).set_params(C=Cs[j])
        clf = fit_estimator(clf, Dtr, y[train], sw[train])
        losses[j] = weighted_log_loss(Y, aligned_proba(clf, Dte, n_classes), sw[test])
    return losses


def _refit(template, C, D, y, sw, rows, test, n_classes, standardize):
    """Fit on ``rows`` (standardised on them) with the chosen C and predict the ``test`` rows'
    probabilities (None without ``test``): ``(model, (mu, sd), proba)`` (a joblib task)."""
    Dr, scaler = _standardized(D, sw, rows, standardize)
    model = clone(template)
    if C is not None:
        model.set_params(C=C)
    model = fit_estimator(model, Dr, y[rows], sw[rows])
    if test is None:
        return model, scaler, None
    return model, scaler, aligned_proba(model, scale_columns(D[test], *scaler), n_classes)


# ----------------------------------------------------------------------------- shared stages


def prune_models(L, Y, sw, n_pred, k, params):
    """Stage 1 on the rows given: ``(kept, dropped, errors)`` at the thresholds of ``params``.

    Models are ranked by log-loss; log-odds are compared by correlation and probabilities by
    mean squared difference, against the variance of the class indicators.
    """
    if not n_pred:
        return np.empty(0, dtype=np.intp), [], np.empty(0)
    Q, errors, target_var = log_odds_inputs(L, Y, sw, k)
    kept, dropped = redundancy_projection(
        L,
        Q,
        errors,
        sw,
        n_blocks=n_pred // k,
        corr_threshold=params["corr_threshold"],
        mse_threshold=params["mse_threshold"],
        var_threshold=params["var_threshold"],
        target_var=target_var,
    )
    return kept, dropped, errors


def _fit_sets(est, n, y, sw, groups):
    """``(outer, predicted, fit_sets)``: the outer splits, the rows they test, and every
    fit's ``(rows, test)`` (the outer training folds, then all rows with test None)."""
    outer = outer_splits(est.cv, n, y=y, groups=groups, classifier=True)
    predicted = check_partition(outer, n, "cv")
    check_fold_weights(outer, n, sw, "cv")
    fit_sets = [(train_rows(n, tr, te), te) for tr, te in outer]
    fit_sets.append((np.arange(n, dtype=np.intp), None))
    return outer, predicted, fit_sets


def tune_and_refit(est, models, Cs, designs, pairs, fit_sets, y, sw, groups, n_classes):
    """Every meta-model of every ``(fit, design)`` pair: C by inner CV, then the refit.

    Returns
    -------
    chosen : dict
        ``chosen[f, d, m]``: the C of meta-model ``m`` (None without ``C``).
    inner_loss : dict
        ``inner_loss[f, d, m]``: its mean inner-CV log-loss at that C (NaN without a grid).
    refits : dict
        ``refits[f, d, m]``: ``(model, (mu, sd), proba on the fit's test rows or None)``.
    """
    grids = [list(Cs) if "C" in template.get_params() else [] for _, template in models]
    # round 1: every (fit, design, meta-model, inner fold) scores the whole C grid; the inner
    # folds of a fit are drawn once (with its rows' labels and groups) for all its designs
    inner = {}
    tasks = []
    for f, d in pairs:
        rows = fit_sets[f][0]
        for m in range(len(models)):
            if len(grids[m]) < 2:
                continue
            if f not in inner:
                splitter = stratified_inner_splitter(est.inner_cv, y[rows])
                g = given_groups(est.inner_cv, None if groups is None else groups[rows])
                inner[f] = list(inner_splits(splitter, rows.shape[0], y[rows], g))
            tasks += [(f, d, m, rows[tr], rows[te]) for tr, te in inner[f]]
    # processes, not threads: the meta-models validate their input under
    # warnings.catch_warnings (scikit-learn's check_array), which swaps the process-wide
    # warning filters and is not thread-safe; the design is small to copy
    parallel = Parallel(n_jobs=est.n_jobs)
    std = est.standardize
    losses = parallel(
        delayed(_C_path_losses)(models[m][1], grids[m], designs[d], y, sw, tr, te, n_classes, std)
        for f, d, m, tr, te in tasks
    )
    total = {}
    for (f, d, m, _, _), loss in zip(tasks, losses):
        total[f, d, m] = total.get((f, d, m), 0.0) + loss
    chosen, inner_loss = {}, {}
    for f, d in pairs:
        for m, grid in enumerate(grids):
            if len(grid) > 1:
                j = int(np.argmin(total[f, d, m]))
                chosen[f, d, m] = grid[j]
                inner_loss[f, d, m] = float(total[f, d, m][j]) / len(inner[f])
            else:
                chosen[f, d, m] = grid[0] if grid else None
                inner_loss[f, d, m] = np.nan
    # round 2: refit every (fit, design, meta-model) with its C
    keys = [(f, d, m) for f, d in pairs for m in range(len(models))]
    out = parallel(
        delayed(_refit)(
            models[m][1], chosen[f, d, m], designs[d], y, sw, *fit_sets[f], n_classes, std
        )
        for f, d, m in keys
    )
    return chosen, inner_loss, dict(zip(keys, out))


def _set_models(est, models, fit_sets, design_of_fit, chosen, refits, Y, sw, predicted, final):
    """Stage 3's and 4's attributes from the chosen design of every fit."""
    n, K = Y.shape
    last = len(fit_sets) - 1
    oof = np.full((n, len(models), K), np.nan)
    est.meta_models_, est._scalers = [], []
    for f, (_, test) in enumerate(fit_sets):
        for m, (name, _) in enumerate(models):
            model, scaler, proba = refits[f, design_of_fit[f], m]
            if f == last:
                est.meta_models_.append((name, model))
                est._scalers.append(scaler)
            else:
                oof[test, m] = proba
    at = {
        (f, m): chosen[f, design_of_fit[f], m] for f in range(last + 1) for m in range(len(models))
    }
    est.C_ = {
        name: None if at[last, m] is None else float(at[last, m])
        for m, (name, _) in enumerate(models)
    }
    est.meta_oof_C_ = {
        name: np.array([np.nan if at[f, m] is None else at[f, m] for f in range(last)])
        for m, (name, _) in enumerate(models)
    }
    est.meta_oof_proba_ = oof
    # stage 4
    if sw[predicted].sum() > 0:
        est.meta_oof_log_loss_ = np.array(
            [
                weighted_log_loss(Y[predicted], oof[predicted, m], sw[predicted])
                for m in range(len(models))
            ]
        )
    else:
        est.meta_oof_log_loss_ = np.full(len(models), np.nan)
    rule = "uniform" if est.blend == "uniform" else "inverse"
    est.blend_weights_ = final_weights(est.meta_oof_log_loss_, final, rule)


def _fold_loss(Y, proba, weights, sw):
    """The weighted log-loss summed over a test fold's rows of the weighted meta-models."""
    if sw.sum() <= 0:
        return 0.0
    blend = np.tensordot(proba, weights, axes=([1], [0]))
    return weighted_log_loss(Y, blend, sw) * sw.sum()


def _set_results(est, candidates, losses, weights, n_kept, best=None):
    est.cv_results_, best_index = search_results(candidates, losses, weights, n_kept, "log_loss")
    est.best_index_ = best_index if best is None else best
    est.best_params_ = dict(candidates[est.best_index_])
    est.best_score_ = float(est.cv_results_["mean_test_score"][est.best_index_])


# ----------------------------------------------------------------------------- the fits


def fit_fixed(est, X, y, Y, sw, groups, models, Cs, k, n_pred, progress):
    """The fit of ``stages="paper"``: stage 1 on all rows, then nested C and the blend."""
    n, K = Y.shape
    params = candidate_stages(est, 1)[0]
    est._stage_one(X, Y, sw, k, n_pred, params)
    progress.done(f"stage 1: redundancy pruning (kept {est.kept_columns_.size} models)")
    D = est._design(X).raw(np.arange(n))
    est._set_condition_design(D, sw)
    progress.done("stage 2: meta-features")
    # stage 3, nested: every fit set (the training rows of each outer fold, then all rows)
    # chooses C by inner stratified CV on its own rows only, so the out-of-fold meta
    # predictions, their log-losses and the blend weights are honest about the choice of C;
    # the final models are tuned on all rows
    outer, predicted, fit_sets = _fit_sets(est, n, y, sw, groups)
    pairs = [(f, 0) for f in range(len(fit_sets))]
    chosen, _, refits = tune_and_refit(est, models, Cs, [D], pairs, fit_sets, y, sw, groups, K)
    progress.done(f"stage 3: meta-models in {len(fit_sets)} fits")
    design_of_fit = [0] * len(fit_sets)
    _set_models(est, models, fit_sets, design_of_fit, chosen, refits, Y, sw, predicted, "blend")
    losses = np.zeros((1, len(outer)))
    weights = np.array([sw[te].sum() for _, te in outer])
    for f, (_, te) in enumerate(outer):
        losses[0, f] = _fold_loss(Y[te], est.meta_oof_proba_[te], est.blend_weights_, sw[te])
    _set_results(est, [params], losses, weights, [est.kept_columns_.size])
    progress.done(f"stage 4: {est.blend} blend")
    return est


def fit_searched(est, X, y, Y, sw, groups, models, Cs, k, n_pred, progress):
    """The fit of ``stages="auto"`` (or a list): every candidate nested in the outer folds."""
    n, K = Y.shape
    candidates = candidate_stages(est, len(models))
    outer, predicted, fit_sets = _fit_sets(est, n, y, sw, groups)
    L = est._log_odds(X, n_pred)

    # stage 1 in every fit, on its rows only; one design per distinct (kept models, features)
    keys, index = [], {}
    design_of = np.empty((len(fit_sets), len(candidates)), dtype=np.intp)
    kept_count = np.zeros((len(fit_sets), len(candidates)))
    for f, (rows, _) in enumerate(fit_sets):
        by_level = {}
        for i, params in enumerate(candidates):
            level = (params["corr_threshold"], params["mse_threshold"], params["var_threshold"])
            if level not in by_level:
                by_level[level] = prune_models(L[rows], Y[rows], sw[rows], n_pred, k, params)[0]
            kept = by_level[level]
            names = meta_feature_names(params["meta_features"])
            use = bool(names) and kept.size >= MIN_MODELS_FOR_META_FEATURES
            key = (tuple(int(j) for j in kept), names if use else ())
            if key not in index:
                index[key] = len(keys)
                keys.append(key)
            design_of[f, i] = index[key]
            kept_count[f, i] = kept.size
    n_kept = kept_count[:-1].mean(axis=0)
    progress.done(f"stage 1: redundancy pruning of {len(fit_sets)} fits ({len(keys)} designs)")
    designs = [
        MetaDesign(X, n_pred, np.array(kept, dtype=np.intp), names, k).raw(np.arange(n))
        for kept, names in keys
    ]
    progress.done(f"stage 2: meta-features of {len(designs)} designs")

    pairs = [(f, d) for f in range(len(fit_sets)) for d in sorted(set(design_of[f]))]
    chosen, inner_loss, refits = tune_and_refit(
        est, models, Cs, designs, pairs, fit_sets, y, sw, groups, K
    )
    progress.done(f"stage 3: meta-models of {len(pairs)} (fit, design) pairs")

    # every candidate's log-loss on every outer test fold
    rule = "uniform" if est.blend == "uniform" else "inverse"
    M = len(models)
    losses = np.zeros((len(candidates), len(outer)))
    weights = np.array([sw[te].sum() for _, te in outer])
    for f, (_, te) in enumerate(outer):
        for i, params in enumerate(candidates):
            d = design_of[f, i]
            proba = np.stack([refits[f, d, m][2] for m in range(M)], axis=1)
            scores = np.array([inner_loss[f, d, m] for m in range(M)])
            w = final_weights(scores, params["final"], rule)
            losses[i, f] = _fold_loss(Y[te], proba, w, sw[te])
    _set_results(est, candidates, losses, weights, n_kept)
    best = est.best_index_
    for i, params in enumerate(candidates):
        progress.line(
            f"candidate {i + 1}/{len(candidates)} ({describe_stages(params)}): out-of-fold "
            f"log-loss {est.cv_results_['mean_test_log_loss'][i]:.6g}",
            0.0,
        )

    # the chosen candidate, refitted on all rows (its fits are among the pairs)
    params = candidates[best]
    est._stage_one(X, Y, sw, k, n_pred, params)
    final = design_of[-1, best]
    est._set_condition_design(designs[final], sw)
    _set_models(
        est, models, fit_sets, design_of[:, best], chosen, refits, Y, sw, predicted, params["final"]
    )
    progress.done(f"stage 4: {params['final']} of the chosen configuration {best + 1}")
    return est
