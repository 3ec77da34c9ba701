"""Stages of the meta stage chosen by nested cross-validation: what the meta-learners share.

The seed paper fixes the stages of a meta stage: redundancy pruning at fixed thresholds,
meta-features, and an inverse-error blend of the meta-models. On tables where a fixed stage
hurts (pruning columns that ridge stacking would have used), the meta-learners choose them
instead (``stages="auto"``): a small set of candidate configurations is scored on the outer
folds that the fit makes anyway, and the best is refitted. This module holds

* :func:`candidate_stages`: the candidates of a ``stages`` parameter;
* :func:`final_weights`: how a candidate's meta-models are combined (blend or best single);
* :func:`search_results`: the table ``cv_results_`` of the candidates' scores;
* :class:`Progress`: the lines that ``verbose`` prints.

The engines that score the candidates are :mod:`skcgd.ensemble._meta_search` (regression,
in memory), :mod:`skcgd._chunked._stage_search` (regression on Dask arrays) and
:mod:`skcgd.ensemble._meta_classifier_search` (classification).
"""

import time
from numbers import Real

import numpy as np
from scipy.stats import rankdata

from skcgd.ensemble._blending import blend_weights
from skcgd.ensemble._meta_features import meta_feature_names

__all__ = [
    "STAGE_KEYS",
    "Progress",
    "candidate_stages",
    "describe_stages",
    "final_weights",
    "paper_stages",
    "search_results",
]

# the keys of a candidate configuration (a dict), as cv_results_["params"] lists them
STAGE_KEYS = ("corr_threshold", "mse_threshold", "var_threshold", "meta_features", "final")

# the pruning thresholds that stages="auto" tries besides "off" and the estimator's own
# (the paper's by default, 0.95 and 1e-3): one stricter, which drops only near-identical
# twins, and one looser, which also drops distinct but strongly correlated models
EXTRA_PRUNE_LEVELS = ((0.99, 1e-4), (0.9, 1e-2))


def paper_stages(est):
    """The fixed configuration that the estimator's parameters set (the seed paper's)."""
    return {
        "corr_threshold": est.corr_threshold,
        "mse_threshold": est.mse_threshold,
        "var_threshold": est.var_threshold,
        "meta_features": est.meta_features,
        "final": "blend",
    }


def _key(params):
    """A hashable identity of a configuration (``meta_features`` by the statistics named)."""
    return (
        params["corr_threshold"],
        params["mse_threshold"],
        params["var_threshold"],
        meta_feature_names(params["meta_features"]),
        params["final"],
    )


def _checked(params, base):
    """A user's candidate (a dict) completed from ``base`` and checked."""
    if not isinstance(params, dict):
        raise ValueError(
            f"stages must be 'auto', 'paper' or a list of dicts, got an item {params!r}."
        )
    unknown = set(params) - set(STAGE_KEYS)
    if unknown:
        raise ValueError(
            f"stages: unknown keys {sorted(unknown)} in {params!r}; the keys are {STAGE_KEYS}."
        )
    out = {**base, **params}
    corr = out["corr_threshold"]
    if corr is not None and not (isinstance(corr, Real) and 0 <= corr <= 1):
        raise ValueError(f"stages: corr_threshold must be in [0, 1] or None, got {corr!r}.")
    for name in ("mse_threshold", "var_threshold"):
        if not (isinstance(out[name], Real) and out[name] >= 0):
            raise ValueError(f"stages: {name} must be a number >= 0, got {out[name]!r}.")
    meta_feature_names(out["meta_features"])  # (raises, naming meta_features)
    if out["final"] not in ("blend", "best"):
        raise ValueError(f"stages: final must be 'blend' or 'best', got {out['final']!r}.")
    return out


def candidate_stages(est, n_models):
    """The candidate configurations of ``est.stages``, each a dict of :data:`STAGE_KEYS`.

    ``"paper"``: the estimator's own configuration alone. ``"auto"``: redundancy pruning at
    the estimator's thresholds, off (``corr_threshold=None`` and ``var_threshold=0``: only
    exactly constant columns go), and at :data:`EXTRA_PRUNE_LEVELS`; the estimator's
    meta-features, and none; the blend of the meta-models, and the best single one (with
    more than one meta-model). The estimator's own configuration comes first, so that it
    wins a tie. A list of dicts: those candidates, each completed from the estimator's
    configuration.

    Examples
    --------
    >>> from skcgd.ensemble import RegularizedMetaLearner
    >>> from skcgd.ensemble._stage_search import candidate_stages
    >>> grid = candidate_stages(RegularizedMetaLearner(), n_models=3)
    >>> len(grid), grid[0]["corr_threshold"], grid[0]["final"]
    (16, 0.95, 'blend')
    >>> candidate_stages(RegularizedMetaLearner(stages=[{"corr_threshold": None}]), 3)[0]
    {'corr_threshold': None, 'mse_threshold': 0.001, 'var_threshold': 0.0001, \
'meta_features': True, 'final': 'blend'}
    """
    paper = paper_stages(est)
    stages = est.stages
    if isinstance(stages, str):
        if stages == "paper":
            return [paper]
        prune = [
            (est.corr_threshold, est.mse_threshold, est.var_threshold),
            (None, est.mse_threshold, 0.0),
            *((c, m, est.var_threshold) for c, m in EXTRA_PRUNE_LEVELS),
        ]
        metas = [est.meta_features]
        if meta_feature_names(est.meta_features):
            metas.append(False)
        finals = ["blend", "best"] if n_models > 1 else ["blend"]
        grid = [
            dict(zip(STAGE_KEYS, (corr, mse, var, meta, final)))
            for corr, mse, var in prune
            for meta in metas
            for final in finals
        ]
    else:
        grid = [_checked(params, paper) for params in stages]
        if not grid:
            raise ValueError("stages must hold at least one configuration, got an empty list.")
        if n_models == 1:
            grid = [{**params, "final": "blend"} for params in grid]
    out, seen = [], set()
    for params in grid:
        if _key(params) not in seen:
            seen.add(_key(params))
            out.append(params)
    return out


def describe_stages(params):
    """One line naming a configuration, e.g. for the lines of ``verbose``."""
    return ", ".join(f"{key}={params[key]!r}" for key in STAGE_KEYS)


def final_weights(scores, final, blend):
    """The weights of the meta-models from their estimated errors ``scores``.

    ``final="blend"``: :func:`~skcgd.ensemble._blending.blend_weights` (``blend`` its rule);
    ``"best"``: all the weight on the smallest score (uniform when none is finite).

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.ensemble._stage_search import final_weights
    >>> final_weights(np.array([2.0, 1.0, 4.0]), "best", "inverse_rmse").tolist()
    [0.0, 1.0, 0.0]
    """
    if final == "blend":
        return blend_weights(scores, blend)
    finite = np.where(np.isfinite(scores), scores, np.inf)
    if not np.isfinite(finite).any():
        return np.full(scores.shape[0], 1.0 / scores.shape[0])
    w = np.zeros(scores.shape[0])
    w[int(np.argmin(finite))] = 1.0
    return w


def search_results(candidates, losses, weights, n_kept, metric):
    """The table of the candidates' cross-validated scores: ``(cv_results_, best_index_)``.

    Parameters
    ----------
    candidates : list of dict
        The configurations.
    losses : ndarray of shape (n_candidates, n_splits)
        Weighted loss summed over each outer test fold: squared errors (``metric="rmse"``)
        or log-losses (``"log_loss"``); NaN counts as infinite.
    weights : ndarray of shape (n_splits,)
        The total sample weight of each test fold.
    n_kept : ndarray of shape (n_candidates,)
        Mean number of base models kept by stage 1 over the outer training folds.
    metric : {"rmse", "log_loss"}

    Returns
    -------
    cv_results : dict of arrays
        As scikit-learn's searches name them (scores are negated losses: higher is better):
        ``params``, ``param_<key>``, ``split<k>_test_score``, ``mean_test_score`` (the loss
        pooled over every test row: the criterion), ``std_test_score`` (over the splits),
        ``rank_test_score``, and ``mean_test_<metric>`` (the pooled loss itself) and
        ``mean_n_kept``.
    best_index : int
        The candidate of the smallest pooled loss (the first of equals).
    """
    losses = np.where(np.isnan(losses), np.inf, np.asarray(losses, dtype=float))
    weights = np.asarray(weights, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        split = losses / weights
        pooled = losses.sum(axis=1) / weights.sum()
    if metric == "rmse":
        split, pooled = np.sqrt(split), np.sqrt(pooled)
    pooled = np.where(np.isnan(pooled), np.inf, pooled)
    results = {"params": [dict(params) for params in candidates]}
    for key in STAGE_KEYS:
        results[f"param_{key}"] = np.array([params[key] for params in candidates], dtype=object)
    for k in range(split.shape[1]):
        results[f"split{k}_test_score"] = -split[:, k]
    results["mean_test_score"] = -pooled
    with np.errstate(invalid="ignore"):
        results["std_test_score"] = np.std(-split, axis=1)
    results["rank_test_score"] = rankdata(pooled, method="min").astype(np.int32)
    results[f"mean_test_{metric}"] = pooled
    results["mean_n_kept"] = np.asarray(n_kept, dtype=float)
    return results, int(np.argmin(pooled))


class Progress:
    """The lines of ``verbose``: ``[EstimatorName] what (seconds s)``, one per stage.

    Examples
    --------
    >>> from skcgd.ensemble import RegularizedMetaLearner
    >>> from skcgd.ensemble._stage_search import Progress
    >>> Progress(RegularizedMetaLearner(verbose=1)).line("stage 1: pruning", 0.5)
    [RegularizedMetaLearner] stage 1: pruning (0.50 s)
    """

    def __init__(self, est):
        self.name = type(est).__name__
        self.verbose = int(getattr(est, "verbose", 0) or 0)
        self.t0 = time.perf_counter()

    def line(self, what, seconds):
        """Print one line (if verbose)."""
        if self.verbose > 0:
            print(f"[{self.name}] {what} ({seconds:.2f} s)", flush=True)

    def done(self, what):
        """Print one line timed since the previous :meth:`done` (or the start)."""
        now = time.perf_counter()
        self.line(what, now - self.t0)
        self.t0 = now
