"""Regularized meta-learner on a matrix of base-model out-of-fold predictions."""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_feature_names_in,
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from skcgd.ensemble import _linear_path
from skcgd.ensemble._linear_path import (
    MetaModelSpec,
    block_stats,
    condition_number_of_cov,
    condition_number_of_stats,
    design_matvec,
    direct_cache,
    fit_linear_cv,
    global_transform,
    row_blocks,
)

__all__ = ["RegularizedMetaLearner"]

# the row-wise statistics available as meta-features; the default leaves out the seed paper's
# interactions mean*std and range*std (see the meta_features parameter)
META_FEATURES = ("mean", "std", "median", "range", "min", "max", "mean*std", "range*std")
DEFAULT_META_FEATURES = ("mean", "std", "median", "range")
_META_MODELS = ("ridge", "lasso", "elasticnet")
_DEFAULT_RIDGE_ALPHAS = np.logspace(-3, 5, 50)
_LASSO_EPS = 1e-5
_INNER_FOLDS_DEFAULT = 5


# ----------------------------------------------------------------------------- stage 1


def _weighted_moments(Q, sw):
    """Weighted means and covariance matrix of the columns of a dense ``Q`` (n, q)."""
    N = sw.sum()
    mu = sw @ Q / N
    Qc = Q - mu
    C = (Qc * sw[:, None]).T @ Qc / N
    return mu, 0.5 * (C + C.T)


def redundancy_projection(
    P, Q, errors, sw, *, n_blocks, corr_threshold, mse_threshold, var_threshold, target_var
):
    """Greedy de-duplication of base models, best first (stage 1).

    Parameters
    ----------
    P : ndarray of shape (n_samples, n_blocks * k)
        The model outputs whose correlation decides redundancy (predictions; log-odds for a
        classifier), ``k`` consecutive columns per model.
    Q : ndarray of shape (n_samples, n_blocks * k)
        The outputs whose mean squared difference and variance are compared with the target's
        variance (predictions; probabilities for a classifier).
    errors : ndarray of shape (n_blocks,)
        Each model's own out-of-fold error; models are visited from the smallest.
    sw : ndarray of shape (n_samples,)
        Sample weights.
    n_blocks : int
        Number of models.
    corr_threshold : float or None
        A model is redundant when an already kept one has correlation ``>= corr_threshold``
        with it and mean squared difference ``<= mse_threshold * target_var``; None disables
        the test.
    mse_threshold, var_threshold : float
        Relative to ``target_var``; a kept model whose output variance is
        ``<= var_threshold * target_var`` is dropped as near-constant.
    target_var : float
        Weighted variance of the target (summed over the indicator columns for a classifier).

    Returns
    -------
    kept : ndarray of int
        Indices of the kept models, ascending.
    dropped : list of dict
        One record per dropped model: ``column``, ``reason`` (``"redundant"`` or
        ``"near_constant"``), ``kept_instead``, ``correlation``, ``relative_msd``,
        ``relative_variance``.
    """
    _, Cp = _weighted_moments(P, sw)
    mu_q, Cq = _weighted_moments(Q, sw)
    return redundancy_from_moments(
        Cp,
        mu_q,
        Cq,
        errors,
        n_blocks=n_blocks,
        corr_threshold=corr_threshold,
        mse_threshold=mse_threshold,
        var_threshold=var_threshold,
        target_var=target_var,
    )


def redundancy_from_moments(
    Cp, mu_q, Cq, errors, *, n_blocks, corr_threshold, mse_threshold, var_threshold, target_var
):
    """:func:`redundancy_projection` from the weighted moments of ``P`` and ``Q``.

    ``Cp`` and ``Cq`` are the weighted covariance matrices of the columns of ``P`` and ``Q``,
    ``mu_q`` the weighted means of ``Q``; the other parameters and the result are those of
    :func:`redundancy_projection`.
    """
    k = Cp.shape[0] // n_blocks
    blocks = [slice(b * k, (b + 1) * k) for b in range(n_blocks)]
    # block covariances: sum over the k outputs of a model of the per-output covariances
    diag_k = np.arange(k)
    cov_p = np.empty((n_blocks, n_blocks))
    cov_q = np.empty((n_blocks, n_blocks))
    for a, sa in enumerate(blocks):
        for b, sb in enumerate(blocks):
            cov_p[a, b] = Cp[sa, sb][diag_k, diag_k].sum()
            cov_q[a, b] = Cq[sa, sb][diag_k, diag_k].sum()
    var_p = np.diag(cov_p)
    var_q = np.diag(cov_q)
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = cov_p / np.sqrt(np.outer(var_p, var_p))
    corr = np.where(np.isfinite(corr), corr, 0.0)
    mu_blocks = mu_q.reshape(n_blocks, k)
    mean_gap = ((mu_blocks[:, None, :] - mu_blocks[None, :, :]) ** 2).sum(axis=2)
    msd = np.clip(var_q[:, None] + var_q[None, :] - 2.0 * cov_q + mean_gap, 0.0, None)
    scale = target_var if target_var > 0 else 1.0

    order = np.argsort(errors, kind="stable")
    kept, dropped = [], []
    for i in order:
        twin = None
        if corr_threshold is not None:
            for j in kept:
                if corr[i, j] >= corr_threshold and msd[i, j] <= mse_threshold * target_var:
                    twin = j
                    break
        if twin is None:
            kept.append(i)
        else:
            dropped.append(
                {
                    "column": int(i),
                    "reason": "redundant",
                    "kept_instead": int(twin),
                    "correlation": float(corr[i, twin]),
                    "relative_msd": float(msd[i, twin] / scale),
                    "relative_variance": float(var_q[i] / scale),
                }
            )
    still = []
    for i in kept:
        if var_q[i] <= var_threshold * target_var:
            dropped.append(
                {
                    "column": int(i),
                    "reason": "near_constant",
                    "kept_instead": None,
                    "correlation": np.nan,
                    "relative_msd": np.nan,
                    "relative_variance": float(var_q[i] / scale),
                }
            )
        else:
            still.append(i)
    if not still:  # everything near-constant: keep the best model rather than nothing
        best = int(order[0])
        still = [best]
        dropped = [r for r in dropped if r["column"] != best]
    return np.array(sorted(still), dtype=np.intp), dropped


def condition_number(Z, sw):
    """Condition number of the standardised columns of ``Z`` (of their correlation matrix)."""
    if Z.shape[1] == 0:
        return 1.0
    return condition_number_of_stats(block_stats(Z, np.zeros(Z.shape[0]), sw))


def _prediction_block(X, rows, cols):
    """Columns ``cols`` (prediction columns) of the rows ``rows`` of X, dense float64.

    Prediction columns are dense by nature; a CSR X is densified one block of rows and only
    these columns at a time (its extra columns stay sparse).
    """
    if sp.issparse(X):
        return np.asarray(X[rows][:, cols].toarray(), dtype=np.float64)
    return X[np.ix_(rows, cols)].astype(np.float64, copy=False)


def prediction_moments(X, n_pred, y, sw):
    """Weighted means, covariance matrix and squared errors of the prediction columns of X.

    Two passes over row blocks (the covariance about the means, which stays accurate for
    columns whose mean is large against their spread); no copy of X is made, so a float32 X
    stays float32 and the extra memory is one block.

    Returns
    -------
    mu : ndarray of shape (n_pred,)
    cov : ndarray of shape (n_pred, n_pred)
        ``sum_i s_i (p_i - mu)(p_i - mu)^T / N``.
    sse : ndarray of shape (n_pred,)
        ``sum_i s_i (p_ij - y_i)^2`` per column.
    """
    rows = np.arange(X.shape[0])
    cols = np.arange(n_pred)
    N = sw.sum()
    total = np.zeros(n_pred)
    for b in row_blocks(rows, n_pred):
        total += sw[b] @ _prediction_block(X, b, cols)
    mu = total / N
    cov = np.zeros((n_pred, n_pred))
    sse = np.zeros(n_pred)
    for b in row_blocks(rows, n_pred):
        P = _prediction_block(X, b, cols)
        swb = sw[b]
        sse += swb @ (P - y[b, None]) ** 2
        P -= mu
        cov += (P * swb[:, None]).T @ P
    cov /= N
    return mu, 0.5 * (cov + cov.T), sse


class _MetaDesign:
    """The meta design of X, ``[kept prediction columns, meta-features, extra columns]``,
    served a block of rows at a time (the design protocol of ``_linear_path``).

    Nothing of the size of X is copied: a block is gathered from X when asked for, the
    meta-features of the fit are computed once (``n_samples x n_meta_features`` float64),
    and the global shift and scale (``mu``, ``sigma``) are applied to each block.
    """

    def __init__(self, X, n_pred, kept, meta_names):
        self.X = X
        self.n_pred = n_pred
        self.kept = np.asarray(kept, dtype=np.intp)
        self.meta_names = tuple(meta_names)
        self.n_extra = X.shape[1] - n_pred
        self.sparse = sp.issparse(X) and self.n_extra > 0
        self.shape = (X.shape[0], self.kept.size + len(self.meta_names) + self.n_extra)
        self.M = None
        self.mu = None
        self.sigma = None

    def store_meta_features(self):
        """Compute the meta-features of all rows once (they are reused by every pass)."""
        if not self.meta_names:
            return
        n = self.X.shape[0]
        self.M = np.empty((n, len(self.meta_names)))
        rows = np.arange(n)
        for b in row_blocks(rows, self.kept.size):
            self.M[b] = meta_features(_prediction_block(self.X, b, self.kept), self.meta_names)

    def raw(self, rows):
        """Untransformed design rows (dense float64, or CSR when the extra columns are)."""
        if self.sparse:
            P = _prediction_block(self.X, rows, self.kept)
            if self.meta_names:
                F = self.M[rows] if self.M is not None else meta_features(P, self.meta_names)
                P = np.hstack([P, F])
            R = self.X[rows][:, self.n_pred :]
            return sp.hstack([sp.csr_matrix(P), R], format="csr", dtype=np.float64)
        # dense: every part is written straight into one block
        X, q, k = self.X, len(self.meta_names), self.kept.size
        out = np.empty((rows.shape[0], self.shape[1]))
        out[:, :k] = (
            _prediction_block(X, rows, self.kept) if sp.issparse(X) else X[np.ix_(rows, self.kept)]
        )
        if q:
            out[:, k : k + q] = (
                self.M[rows] if self.M is not None else meta_features(out[:, :k], self.meta_names)
            )
        if self.n_extra:
            out[:, k + q :] = X[rows, self.n_pred :]
        return out

    def rows(self, rows):
        """Rows of ``Z = (D - mu) / sigma`` (the raw design until a transform is set)."""
        D = self.raw(rows)
        if self.sigma is None:
            return D
        if sp.issparse(D):
            return sp.csr_matrix(D.multiply(1.0 / self.sigma[None, :]))
        D -= self.mu
        D /= self.sigma
        return D


# ----------------------------------------------------------------------------- stage 2


def meta_features(P, names=DEFAULT_META_FEATURES):
    """Row-wise statistics of the prediction columns ``P`` (stage 2).

    Parameters
    ----------
    P : ndarray of shape (n_samples, n_models)
        Predictions of the kept models.
    names : tuple of str
        Statistics among ``META_FEATURES``, in the order wanted; the standard deviation is the
        population one (``ddof=0``) and the range is max - min.

    Returns
    -------
    F : ndarray of shape (n_samples, len(names))
    """
    stats = {}
    columns = [_row_statistic(P, name, stats) for name in names]
    return np.column_stack(columns) if names else np.empty((P.shape[0], 0))


def _row_statistic(P, name, stats):
    """One statistic of :func:`meta_features`, memoised in ``stats``.

    A module-level function rather than a closure: a recursive closure is a reference cycle,
    which would keep every block's statistics (and ``P``) alive until the cyclic garbage
    collector runs.
    """
    if name not in stats:
        if name == "mean":
            stats[name] = P.mean(axis=1)
        elif name == "std":
            stats[name] = P.std(axis=1)
        elif name == "median":
            stats[name] = np.median(P, axis=1)
        elif name == "min":
            stats[name] = P.min(axis=1)
        elif name == "max":
            stats[name] = P.max(axis=1)
        elif name == "range":
            stats[name] = _row_statistic(P, "max", stats) - _row_statistic(P, "min", stats)
        else:
            a, b = name.split("*")
            stats[name] = _row_statistic(P, a, stats) * _row_statistic(P, b, stats)
    return stats[name]


def _meta_feature_names(meta_features):
    """The statistics selected by the ``meta_features`` parameter (validated)."""
    if meta_features is True:
        return DEFAULT_META_FEATURES
    if meta_features is False or meta_features is None:
        return ()
    names = tuple(meta_features)
    unknown = [n for n in names if n not in META_FEATURES]
    if unknown or len(set(names)) != len(names):
        raise ValueError(
            f"meta_features must be a bool or distinct names among "
            f"{META_FEATURES}, got {meta_features!r}."
        )
    return names


# ----------------------------------------------------------------------------- splits


def _outer_splits(cv, n):
    """The outer (train, test) splits; ``train`` is None when it is the complement of
    ``test`` (K-fold), and is rebuilt by :func:`_train_rows` in the task that needs it (so
    the list holds about one index per row, not one per row and fold)."""
    if cv is None:
        cv = 5
    if isinstance(cv, Integral):
        splitter = KFold(int(cv))
    else:
        splitter = cv
    splits = splitter.split(np.zeros((n, 1))) if hasattr(splitter, "split") else cv
    out = []
    for tr, te in splits:
        tr, te = np.asarray(tr, dtype=np.intp), np.asarray(te, dtype=np.intp)
        if tr.shape[0] + te.shape[0] == n:
            seen = np.zeros(n, dtype=bool)
            seen[tr] = True
            seen[te] = True
            if seen.all():
                tr = None
        out.append((tr, te))
    return out


def _train_rows(n, train, test):
    if train is not None:
        return train
    mask = np.ones(n, dtype=bool)
    mask[test] = False
    return np.flatnonzero(mask)


def _inner_splits(splitter, n_rows):
    """The inner (train, test) index arrays of a fit on ``n_rows`` rows, one at a time."""
    rows = np.zeros((n_rows, 1))
    # (splitters such as LeaveOneOut count their splits from the rows)
    n_splits = splitter.get_n_splits(rows) if hasattr(splitter, "get_n_splits") else None
    if n_splits is not None and n_splits > n_rows:
        raise ValueError(f"Cannot run {n_splits}-fold inner cross-validation on {n_rows} rows.")
    splits = splitter.split(rows) if hasattr(splitter, "split") else splitter
    return ((np.asarray(tr, dtype=np.intp), np.asarray(te, dtype=np.intp)) for tr, te in splits)


def _fit_meta_models(specs, design, y, sw, train, test, splitter, kfold, cache, common):
    """One joblib task: every meta-model fitted on the ``train`` rows (None: the complement
    of ``test``, or all rows when ``test`` is None too), predicting the ``test`` rows.

    Returns ``(fitted, converged, predictions)``: a FittedLinear per spec, whether every
    solver converged, and the predictions on ``test`` (one column per spec; None without
    ``test``), in the units of the centred target.
    """
    n = design.shape[0]
    rows = np.arange(n, dtype=np.intp) if test is None else _train_rows(n, train, test)
    splits = ()
    if common["solver"] == "cg":
        splits = list(_inner_splits(splitter, rows.shape[0]))
    elif cache is None:
        # the direct path reads each inner split once, into the statistics of its block
        cache = direct_cache(
            design, y, sw, rows, _inner_splits(splitter, rows.shape[0]) if kfold else (), kfold
        )
    fitted, converged = [], True
    for spec in specs:
        fit, ok = fit_linear_cv(spec, design, y, sw, rows, splits, cache=cache, **common)
        fitted.append(fit)
        converged &= ok
    if test is None:
        return fitted, converged, None
    W = np.column_stack([fit.coef for fit in fitted])
    b = np.array([fit.intercept for fit in fitted])
    return fitted, converged, design_matvec(design, test, W) + b


def _check_partition(splits, n, name):
    counts = np.zeros(n, dtype=np.intp)
    for _, te in splits:
        counts[te] += 1
    if np.any(counts > 1):
        raise ValueError(
            f"The test sets of {name} overlap: every row must be predicted at "
            "most once (use a partition such as KFold, or TimeSeriesSplit)."
        )
    return counts == 1


class RegularizedMetaLearner(RegressorMixin, TransformerMixin, BaseEstimator):
    r"""Stacking meta-learner on out-of-fold predictions: de-duplicate, augment, regularise, blend.

    ``X`` is a matrix of base-model predictions (one column per model) that were made out of
    fold, e.g. ``cross_val_predict`` outputs, or the ``oof_predictions_`` of
    :class:`RidgeStackingRegressor`; at predict time ``X`` holds the same models' predictions
    on new rows. The meta-learner runs four stages:

    1. **Redundancy-aware projection.** Columns are visited from the smallest out-of-fold
       error up; a column is kept unless an already kept one has correlation
       ``>= corr_threshold`` with it *and* a mean squared difference
       ``<= mse_threshold * Var(y)``. Kept columns whose variance is
       ``<= var_threshold * Var(y)`` are then dropped as near-constant.
    2. **Meta-features.** Row-wise statistics of the kept columns are appended: by default
       their mean, standard deviation, median and range (with three kept columns or more;
       with two they are collinear with the columns themselves).
    3. **Regularised meta-models.** Ridge, Lasso and elastic net on the standardised design,
       each with its penalty chosen by inner cross-validation, and each evaluated out of fold
       (``meta_oof_predictions_``) by an outer cross-validation.
    4. **Blending.** The meta-models are averaged with weights proportional to the inverse of
       their out-of-fold RMSE (or uniformly). The blend of linear models is one linear model:
       ``coef_`` and ``intercept_``.

    Parameters
    ----------
    corr_threshold : float in [0, 1] or None, default=0.95
        Correlation from which a worse column can be a duplicate of a kept one. None turns the
        redundancy test off (near-constant columns are still dropped).

    mse_threshold : float, default=1e-3
        Largest mean squared difference between a column and a kept one, *relative to the
        weighted variance of y*, for the column to count as a duplicate; so it means the same
        on every scale of the target (the seed paper's absolute 0.01 only fires on
        near-identical columns of a target measured in large units).

    var_threshold : float, default=1e-4
        A kept column whose variance is at most ``var_threshold * Var(y)`` is dropped as
        near-constant. 0 drops only exactly constant columns.

    meta_features : bool or tuple of str, default=True
        The row-wise statistics of stage 2: True means ``("mean", "std", "median", "range")``,
        False none; a tuple picks among ``"mean", "std", "median", "range", "min", "max",
        "mean*std", "range*std"``. The seed paper also appends the interactions
        ``"mean*std"`` and ``"range*std"``; they are quadratic in the predictions, so one
        wild base prediction (a linear model extrapolating on an outlying row) becomes a
        huge design entry: on diamonds subsamples they raised the test RMSE of the stack by
        up to 4 % (once 2.5-fold), which is why the default leaves them out.

    meta_models : tuple of {"ridge", "lasso", "elasticnet"}, default=("ridge", "lasso", \
"elasticnet")
        The meta-models of stage 3, in the order of ``blend_weights_``.

    ridge_alphas : array-like of shape (n_alphas,), default=None
        Ridge penalties, positive, for the standardised design (or the raw one with
        ``standardize=False``). None means ``np.logspace(-3, 5, 50)``.

    lasso_alphas : int or array-like, default=30
        Lasso and elastic-net penalties (scikit-learn's per-sample scale). An integer gives
        that many values, log-spaced from the smallest penalty that zeroes every coefficient
        down to ``1e-4`` times it (computed on each fit's rows, per ``l1_ratio``).

    l1_ratio : tuple of float, default=(0.1, 0.5, 0.7, 0.9, 0.95, 0.99)
        Elastic-net mixing values tried by the inner cross-validation. The default leaves out
        1.0 so that the elastic net does not collapse into the Lasso.

    cv : int, cross-validation generator or iterable, default=5
        Outer splits that produce ``meta_oof_predictions_`` (and the blend weights). An integer
        means ``KFold`` without shuffling, as in scikit-learn's CV estimators (pass
        ``KFold(5, shuffle=True, random_state=0)`` for rows stored in a meaningful order).
        Test sets must not overlap; rows in no test set get NaN.

    inner_cv : int, cross-validation generator or None, default=None
        Splits that choose each meta-model's penalty, made within the rows of each fit (the
        training rows of every outer fold, then all rows), so that the out-of-fold meta
        predictions never see the penalty chosen on their own rows. None means what
        scikit-learn's ``RidgeCV``, ``LassoCV`` and ``ElasticNetCV`` do by default: exact
        leave-one-out for ridge, 5-fold for Lasso and elastic net; but exact leave-one-out
        needs the factorization that the ``"cg"`` solver avoids, so on that solver ridge is
        chosen by 5-fold too. With ``solver="auto"`` the ridge rule therefore changes where
        the solver does (``alpha_selection_`` records the rule used); pass an integer
        (``KFold``, not shuffled, for every meta-model) for one rule on both solvers.

    blend : {"inverse_rmse", "uniform"}, default="inverse_rmse"
        Weights of the meta-models in the final prediction.

    standardize : bool, default=True
        Scale every design column to unit variance on the rows of each fit before penalising
        (like a ``StandardScaler`` in front of each meta-model). The intercept is never
        penalised.

    n_predictions : int, default=None
        Number of leading columns of X that are base-model predictions. Any further columns
        (e.g. the original features, with :class:`RidgeStackingRegressor` ``passthrough``)
        skip stages 1 and 2 and go to the meta-models as they are. None means all columns.

    solver : {"auto", "direct", "cg"}, default="auto"
        ``"direct"``: one eigendecomposition of the standardised Gram matrix per fit solves
        ridge for every alpha (and gives its exact leave-one-out errors), and Lasso/elastic
        net run coordinate descent on that Gram matrix; the rows are visited a block at a
        time, so no copy of the design is held. ``"cg"``: ridge by skcgd's conjugate gradient
        on the design (never forming the Gram matrix), warm-started along the alpha path;
        Lasso/elastic net by scikit-learn's coordinate descent on the rows (each fit's rows
        are copied). ``"auto"``: ``"cg"`` for designs wider than 4000 columns, or 1400 when
        sparse, else ``"direct"``; where ``benchmarks/bench_stacking.py --section solvers``
        puts the crossover of the two as ``"auto"`` runs them (each with its own default
        ridge selection, see ``inner_cv``): dense, the direct path was faster at every
        measured width up to 4000; sparse, the two cross near 1400 columns.

    n_jobs : int, default=None
        Number of joblib workers for the fits of the outer folds and the final fit (each
        fits every meta-model on its rows). None means 1 unless in a
        ``joblib.parallel_config`` context; -1 means all processors. Threads are preferred
        (the design is shared rather than copied into worker processes, and the solvers run
        in BLAS and Numba kernels that release the GIL); a
        ``joblib.parallel_config(backend=...)`` context overrides that, e.g. to run on Dask.
        The result does not depend on ``n_jobs``.

    tol : float, default=1e-4
        Tolerance of the iterative solvers: coordinate descent stops when the duality gap is
        at most ``tol`` times the target's (weighted, centred) sum of squares, as in
        scikit-learn's ``ElasticNet``; the conjugate gradient when its residual is at most
        ``tol`` times the right-hand side, as in scikit-learn's ``Ridge``.

    max_iter : int, default=10000
        Maximum iterations (sweeps, or CG iterations) per penalty.

    Attributes
    ----------
    kept_columns_ : ndarray of int
        Indices (among the prediction columns) of the columns kept by stage 1, ascending.

    dropped_columns_ : list of dict
        What stage 1 dropped and why: ``column``, ``name``, ``reason`` (``"redundant"`` or
        ``"near_constant"``), ``kept_instead`` (the kept twin), ``correlation``,
        ``relative_msd`` (mean squared difference / Var(y)) and ``relative_variance``.
        ``pandas.DataFrame(dropped_columns_)`` tabulates it.

    column_rmse_ : ndarray of shape (n_predictions,)
        Weighted RMSE of every prediction column (the order of stage 1).

    condition_number_before_ : float
        Condition number of the standardised prediction columns (of their correlation
        matrix); ``inf`` when a column is constant.

    condition_number_after_ : float
        The same for the kept columns.

    condition_number_design_ : float
        The same for the whole meta design (kept columns, meta-features, extra columns); NaN
        when it is sparse or wider than 4000 columns.

    meta_coef_ : ndarray of shape (n_meta_models, n_design_features)
        Coefficients of every meta-model on the (unstandardised) design of :meth:`transform`.

    meta_intercept_ : ndarray of shape (n_meta_models,)
        Their intercepts.

    alpha_ : dict
        Penalty chosen for every meta-model (``{"ridge": ..., "lasso": ..., ...}``).

    l1_ratio_ : float or None
        ``l1_ratio`` chosen for the elastic net (None without it).

    meta_oof_predictions_ : ndarray of shape (n_samples, n_meta_models)
        Out-of-fold predictions of every meta-model (outer ``cv``).

    meta_oof_rmse_ : ndarray of shape (n_meta_models,)
        Their weighted RMSE.

    blend_weights_ : ndarray of shape (n_meta_models,)
        Weights of the meta-models (sum to one).

    coef_ : ndarray of shape (n_design_features,)
        The blended model: ``predict(X) = transform(X) @ coef_ + intercept_``.

    intercept_ : float
        Its intercept.

    solver_ : str
        The solver used (``"direct"`` or ``"cg"``).

    alpha_selection_ : dict
        How each meta-model's penalty was chosen: ``"leave-one-out"`` (ridge, ``inner_cv=None``
        on the direct solver), ``"<k>-fold"`` (unshuffled ``KFold``) or ``"inner_cv"`` (the
        given splitter).

    n_iter_ : int
        Largest number of iterations of a meta-model's final fit at its chosen penalty
        (coordinate-descent sweeps or conjugate-gradient iterations; 1 for a direct solve).

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X` has feature names
        that are all strings.

    See Also
    --------
    RidgeStackingRegressor : Computes the out-of-fold predictions and fits this on them.
    GreedyEnsembleSelection : Caruana's forward selection, the classic baseline.
    sklearn.ensemble.StackingRegressor : Stacking with a single final estimator.

    Notes
    -----
    With weights :math:`s_i`, :math:`N = \sum_i s_i` and the design :math:`Z` standardised on
    the rows of a fit, the meta-models minimise

    .. math::

        \text{ridge: } \sum_i s_i (y_i - b - z_i^T u)^2 + \alpha \|u\|_2^2, \qquad
        \text{elastic net: } \frac{1}{2N} \sum_i s_i (y_i - b - z_i^T u)^2
        + \alpha \rho \|u\|_1 + \frac{\alpha (1 - \rho)}{2} \|u\|_2^2,

    the Lasso being :math:`\rho = 1` (scikit-learn's conventions). With
    :math:`Z^T S Z = V \mathrm{diag}(\lambda) V^T` every ridge solution is
    :math:`u(\alpha) = V \mathrm{diag}(1 / (\lambda + \alpha)) V^T Z^T S y`, so the whole
    alpha grid, its leave-one-out errors and the K-fold errors (from per-fold sums of
    :math:`z z^T`, :math:`z y` and :math:`y^2`) cost one eigendecomposition per fold. The
    blend weights are :math:`w_m \propto 1 / \mathrm{RMSE}_m` on the out-of-fold meta
    predictions.

    Stage 3 is nested: every outer fold chooses its penalties by inner cross-validation on
    its own training rows, so ``meta_oof_predictions_`` (and the blend weights made from
    them) are honest about the penalty choice. Stage 1 uses all rows (as the seed paper
    does), so they are slightly optimistic about the de-duplication; which columns survive
    is decided by correlations and error ranks that one fold's rows barely move.

    References
    ----------
    N. Mohammad and M. Meherab, "Regularized meta-learning for improved generalization",
    arXiv:2602.12469, 2026 (code: github.com/nislam-sm/metal).

    D. H. Wolpert, "Stacked generalization", Neural Networks 5(2), 1992.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.ensemble import RegularizedMetaLearner
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=300)
    >>> good = y + 0.3 * rng.normal(size=300)
    >>> P = np.column_stack([good, good + 0.001 * rng.normal(size=300),
    ...                      y + 0.5 * rng.normal(size=300), y + 0.8 * rng.normal(size=300)])
    >>> meta = RegularizedMetaLearner().fit(P, y)
    >>> meta.kept_columns_
    array([0, 2, 3])
    >>> [(d["column"], d["reason"], d["kept_instead"]) for d in meta.dropped_columns_]
    [(1, 'redundant', 0)]
    >>> bool(meta.condition_number_after_ < meta.condition_number_before_)
    True
    >>> meta.predict(P[:2]).shape
    (2,)
    """

    _parameter_constraints: dict = {
        "corr_threshold": [Interval(Real, 0, 1, closed="both"), None],
        "mse_threshold": [Interval(Real, 0, None, closed="left")],
        "var_threshold": [Interval(Real, 0, None, closed="left")],
        "meta_features": ["boolean", tuple, list],
        "meta_models": [tuple, list],
        "ridge_alphas": ["array-like", None],
        "lasso_alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "l1_ratio": ["array-like"],
        "cv": ["cv_object"],
        "inner_cv": ["cv_object"],
        "blend": [StrOptions({"inverse_rmse", "uniform"})],
        "standardize": ["boolean"],
        "n_predictions": [Interval(Integral, 1, None, closed="left"), None],
        "solver": [StrOptions({"auto", "direct", "cg"})],
        "n_jobs": [None, Integral],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        corr_threshold=0.95,
        *,
        mse_threshold=1e-3,
        var_threshold=1e-4,
        meta_features=True,
        meta_models=_META_MODELS,
        ridge_alphas=None,
        lasso_alphas=30,
        l1_ratio=(0.1, 0.5, 0.7, 0.9, 0.95, 0.99),
        cv=5,
        inner_cv=None,
        blend="inverse_rmse",
        standardize=True,
        n_predictions=None,
        solver="auto",
        n_jobs=None,
        tol=1e-4,
        max_iter=10000,
    ):
        self.corr_threshold = corr_threshold
        self.mse_threshold = mse_threshold
        self.var_threshold = var_threshold
        self.meta_features = meta_features
        self.meta_models = meta_models
        self.ridge_alphas = ridge_alphas
        self.lasso_alphas = lasso_alphas
        self.l1_ratio = l1_ratio
        self.cv = cv
        self.inner_cv = inner_cv
        self.blend = blend
        self.standardize = standardize
        self.n_predictions = n_predictions
        self.solver = solver
        self.n_jobs = n_jobs
        self.tol = tol
        self.max_iter = max_iter

    # ------------------------------------------------------------------ validation helpers

    def _specs(self, ridge_factor=1.0):
        models = tuple(self.meta_models)
        unknown = [m for m in models if m not in _META_MODELS]
        if not models or unknown or len(set(models)) != len(models):
            raise ValueError(
                f"meta_models must be a non-empty tuple of distinct names among "
                f"{_META_MODELS}, got {self.meta_models!r}."
            )
        ridge_alphas = (
            _DEFAULT_RIDGE_ALPHAS
            if self.ridge_alphas is None
            else np.asarray(self.ridge_alphas, dtype=float).reshape(-1)
        )
        if (
            ridge_alphas.size == 0
            or not np.all(np.isfinite(ridge_alphas))
            or np.any(ridge_alphas <= 0)
        ):
            raise ValueError("ridge_alphas must be a non-empty array of positive numbers.")
        if isinstance(self.lasso_alphas, Integral):
            lasso_alphas, n_alphas = None, int(self.lasso_alphas)
        else:
            lasso_alphas = np.asarray(self.lasso_alphas, dtype=float).reshape(-1)
            n_alphas = lasso_alphas.size
            if n_alphas == 0 or not np.all(np.isfinite(lasso_alphas)) or np.any(lasso_alphas <= 0):
                raise ValueError(
                    "lasso_alphas must be a positive integer or a non-empty "
                    "array of positive numbers."
                )
        l1_ratios = tuple(np.asarray(self.l1_ratio, dtype=float).reshape(-1))
        if not l1_ratios or any(not (0 < r <= 1) for r in l1_ratios):
            raise ValueError(f"l1_ratio values must lie in (0, 1], got {self.l1_ratio!r}.")
        specs = []
        for name in models:
            if name == "ridge":
                specs.append(
                    MetaModelSpec("ridge", ridge_alphas * ridge_factor, ridge_alphas.size, 0.0, ())
                )
            elif name == "lasso":
                specs.append(MetaModelSpec("lasso", lasso_alphas, n_alphas, _LASSO_EPS, (1.0,)))
            else:
                specs.append(
                    MetaModelSpec("elasticnet", lasso_alphas, n_alphas, _LASSO_EPS, l1_ratios)
                )
        return models, specs

    def _n_pred(self, n_features):
        k = n_features if self.n_predictions is None else int(self.n_predictions)
        if k > n_features:
            raise ValueError(f"n_predictions={k} but X has only {n_features} columns.")
        return k

    def _inner_splitter(self):
        if self.inner_cv is None:
            return KFold(_INNER_FOLDS_DEFAULT)
        if isinstance(self.inner_cv, Integral):
            return KFold(int(self.inner_cv))
        return self.inner_cv

    def _selection_rules(self, names, loo):
        """How each meta-model's penalty is chosen (the ``alpha_selection_`` attribute)."""
        splitter = self._inner_splitter()
        if isinstance(splitter, KFold) and not splitter.shuffle:
            inner = f"{splitter.get_n_splits()}-fold"
        else:
            inner = "inner_cv"
        return {name: "leave-one-out" if (name == "ridge" and loo) else inner for name in names}

    # ------------------------------------------------------------------ fit

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Select, augment, fit the meta-models out of fold and blend them.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Out-of-fold base-model predictions (the first ``n_predictions`` columns), then any
            extra features. float32 is not copied to float64 (rows are promoted a block at a
            time), and a sparse X is never densified beyond its prediction columns.

        y : array-like of shape (n_samples,)
            Target values.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights for every stage (errors, correlations, fits, RMSEs).

        Returns
        -------
        self : object
            The fitted meta-learner.
        """
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            y_numeric=True,
            ensure_min_samples=2,
        )
        y = np.asarray(y, dtype=np.float64)
        sw = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        if sw.sum() <= 0:
            raise ValueError("The sample weights sum to zero: nothing to fit.")
        # Every stage depends on the weights only through their ratios, except the ridge
        # penalty, which scikit-learn does not divide by the total weight: work with weights
        # scaled to a maximum of 1 (tiny or huge weights would underflow or overflow the
        # sums) and scale the ridge alphas instead.
        weight_scale = float(sw.max())
        sw = sw / weight_scale
        ridge_factor = 1.0 / weight_scale
        if not np.isfinite(ridge_factor):
            raise ValueError(
                f"The sample weights are too small (largest {weight_scale:.3g}) "
                "for float64 precision; rescale them."
            )
        _check_magnitudes(X, y, sw)
        names, specs = self._specs(ridge_factor)

        N = sw.sum()
        ybar = float(sw @ y / N)
        y0 = y - ybar
        target_var = float(sw @ (y0 * y0) / N)
        n, n_pred = X.shape[0], self._n_pred(X.shape[1])

        # stage 1 ------------------------------------------------------------------------
        mean, cov, sse = prediction_moments(X, n_pred, y, sw)
        self.column_rmse_ = np.sqrt(sse / N)
        self.kept_columns_, dropped = redundancy_from_moments(
            cov,
            mean,
            cov,
            self.column_rmse_,
            n_blocks=n_pred,
            corr_threshold=self.corr_threshold,
            mse_threshold=self.mse_threshold,
            var_threshold=self.var_threshold,
            target_var=target_var,
        )
        pred_names = self._input_names()[:n_pred]
        for record in dropped:
            record["name"] = str(pred_names[record["column"]])
        self.dropped_columns_ = dropped
        kept = self.kept_columns_
        self.condition_number_before_ = condition_number_of_cov(cov)
        self.condition_number_after_ = condition_number_of_cov(cov[np.ix_(kept, kept)])

        # stage 2 ------------------------------------------------------------------------
        self._meta_names = _meta_feature_names(self.meta_features)
        self._use_meta = bool(self._meta_names) and kept.size >= 3
        design = _MetaDesign(X, n_pred, kept, self._meta_names if self._use_meta else ())
        design.store_meta_features()
        p = design.shape[1]
        solver = self.solver
        if solver == "auto":
            limit = (
                _linear_path.DIRECT_MAX_FEATURES_SPARSE
                if design.sparse
                else _linear_path.DIRECT_MAX_FEATURES
            )
            solver = "cg" if p > limit else "direct"
        self.solver_ = solver
        mu, sigma = global_transform(design, sw, self.standardize)
        design.mu, design.sigma = mu, sigma

        # stage 3 ------------------------------------------------------------------------
        outer = _outer_splits(self.cv, n)
        predicted = _check_partition(outer, n, "cv")
        # exact leave-one-out for ridge needs the factorization of the direct path; the CG
        # path chooses by K-fold (see inner_cv and alpha_selection_)
        loo = self.inner_cv is None and solver == "direct"
        self.alpha_selection_ = self._selection_rules(names, loo)
        kfold = solver == "direct" and any(spec.kind != "ridge" or not loo for spec in specs)
        common = dict(
            standardize=self.standardize,
            solver=solver,
            loo=loo,
            tol=self.tol,
            max_iter=self.max_iter,
            y_scale=np.sqrt(target_var),
        )
        all_rows = np.arange(n, dtype=np.intp)
        final_cache = None
        want_cond = not design.sparse and p <= _linear_path.DIRECT_MAX_FEATURES
        if solver == "direct":
            # the statistics of all rows serve the final fits and the condition number
            final_cache = direct_cache(
                design,
                y0,
                sw,
                all_rows,
                _inner_splits(self._inner_splitter(), n) if kfold else (),
                kfold,
            )
            self.condition_number_design_ = (
                condition_number_of_stats(final_cache["total"]) if want_cond else np.nan
            )
        else:
            self.condition_number_design_ = (
                condition_number_of_stats(_linear_path.design_stats(design, y0, sw, all_rows))
                if want_cond
                else np.nan
            )
        del all_rows
        # the fits of the outer folds and the final one are independent: one joblib task
        # each (threads preferred: the design is shared, not copied into worker processes,
        # and the solvers spend their time in BLAS and Numba kernels that release the GIL)
        tasks = [(train, test, None) for train, test in outer]
        tasks.append((None, None, final_cache))
        results = Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(_fit_meta_models)(
                specs, design, y0, sw, train, test, self._inner_splitter(), kfold, cache, common
            )
            for train, test, cache in tasks
        )
        converged = all(ok for _, ok, _ in results)
        oof = np.full((n, len(specs)), np.nan)
        for (_, test, _), (_, _, pred) in zip(tasks[:-1], results[:-1]):
            oof[test] = pred
        oof += ybar
        final = results[-1][0]
        if not converged:
            warnings.warn(
                f"The {solver!r} solver did not reach tol={self.tol} within "
                f"max_iter={self.max_iter} for every penalty; increase max_iter, or "
                "use a coarser grid of small penalties.",
                ConvergenceWarning,
                stacklevel=2,
            )

        # back to the units of the design
        self.meta_coef_ = np.array([fit.coef / sigma for fit in final])
        self.meta_intercept_ = np.array(
            [fit.intercept + ybar - mu @ (fit.coef / sigma) for fit in final]
        )
        self.alpha_ = {}
        for name, spec, fit in zip(names, specs, final):
            if name == "ridge":  # report the grid value itself, not its rescaled copy
                grid = (
                    _DEFAULT_RIDGE_ALPHAS
                    if self.ridge_alphas is None
                    else np.asarray(self.ridge_alphas, dtype=float).reshape(-1)
                )
                self.alpha_[name] = float(grid[np.argmin(np.abs(spec.alphas - fit.alpha))])
            else:
                self.alpha_[name] = fit.alpha
        self.l1_ratio_ = next(
            (fit.l1_ratio for name, fit in zip(names, final) if name == "elasticnet"), None
        )
        self.meta_models_ = names
        self.n_iter_ = max(fit.n_iter for fit in final)
        self.meta_oof_predictions_ = oof

        # stage 4 ------------------------------------------------------------------------
        rows = predicted & np.all(np.isfinite(oof), axis=1)
        w_rows = sw[rows]
        if w_rows.sum() > 0:
            y_rows = y[rows]
            # one column at a time: no (n_samples, n_meta_models) temporaries
            self.meta_oof_rmse_ = np.sqrt(
                np.array([w_rows @ (oof[rows, m] - y_rows) ** 2 for m in range(len(specs))])
                / w_rows.sum()
            )
        else:
            self.meta_oof_rmse_ = np.full(len(specs), np.nan)
        self.blend_weights_ = _blend_weights(self.meta_oof_rmse_, self.blend)
        self.coef_ = self.blend_weights_ @ self.meta_coef_
        self.intercept_ = float(self.blend_weights_ @ self.meta_intercept_)
        return self

    # ------------------------------------------------------------------ predict / transform

    def _input_names(self):
        if hasattr(self, "feature_names_in_"):
            return np.asarray(self.feature_names_in_, dtype=object)
        return np.asarray([f"x{i}" for i in range(self.n_features_in_)], dtype=object)

    def _predict_design(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32], reset=False)
        names = self._meta_names if self._use_meta else ()
        return _MetaDesign(X, self._n_pred(X.shape[1]), self.kept_columns_, names)

    def transform(self, X):
        """The meta design: kept prediction columns, meta-features, then any extra columns.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Base-model predictions (and extra columns), as in :meth:`fit`.

        Returns
        -------
        Z : {ndarray, sparse matrix} of shape (n_samples, n_design_features)
            Sparse only when the extra columns are.
        """
        design = self._predict_design(X)
        with np.errstate(over="ignore", invalid="ignore"):
            Z = design.raw(np.arange(design.shape[0]))
        _check_finite_output(Z, "meta design (meta-features)")
        return Z

    def predict(self, X):
        """Blended prediction of the meta-models.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Base-model predictions on new rows (same columns as in :meth:`fit`).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            ``transform(X) @ coef_ + intercept_``, computed a block of rows at a time.
        """
        design = self._predict_design(X)
        rows = np.arange(design.shape[0])
        with np.errstate(over="ignore", invalid="ignore"):
            pred = design_matvec(design, rows, self.coef_) + self.intercept_
        _check_finite_output(pred, "prediction")
        return pred

    def get_feature_names_out(self, input_features=None):
        """Names of the columns of :meth:`transform`.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input names; ``feature_names_in_`` or ``x0, x1, ...`` when None.

        Returns
        -------
        feature_names_out : ndarray of str objects
            Kept prediction columns, then the meta-features (``mean``, ``std``, ...) when
            used, then the extra columns.
        """
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        k = self._n_pred(self.n_features_in_)
        out = [str(names[j]) for j in self.kept_columns_]
        if self._use_meta:
            out += list(self._meta_names)
        out += [str(name) for name in names[k:]]
        return np.asarray(out, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _check_magnitudes(X, y, sw):
    """Refuse data whose weighted sums of squares would overflow float64 (a clear error rather
    than an inf deep in a Gram matrix or a failed eigendecomposition)."""
    data = X.data if sp.issparse(X) else X
    n = max(X.shape[0], 1)
    w = float(np.max(sw)) if sw.size else 1.0
    with np.errstate(divide="ignore"):
        budget = 300.0 - np.log10(n) - np.log10(max(w, 1e-300)) - np.log10(max(X.shape[1], 1))
        for name, values in (("X", data), ("y", y)):
            # max and min rather than max(abs(.)), which would allocate a copy of X
            top = max(abs(float(values.max())), abs(float(values.min()))) if values.size else 0.0
            if top > 0 and 2.0 * np.log10(top) > budget:
                raise ValueError(
                    f"{name} has values too large for float64 sums of squares (max |{name}| = "
                    f"{top:.3g}, with sample weights up to {w:.3g}): they overflow. Rescale "
                    f"{name} (and the weights) to moderate magnitudes."
                )


def _check_finite_output(Z, what):
    values = Z.data if sp.issparse(Z) else Z
    if not np.all(np.isfinite(values)):
        raise ValueError(
            f"The {what} overflows float64 for this X: its values are too large "
            "for the fitted model; rescale X to the magnitudes seen in fit."
        )


def _blend_weights(scores, blend):
    """Weights proportional to ``1 / scores`` (or uniform), summing to one."""
    m = scores.shape[0]
    if blend == "uniform" or m == 1 or not np.all(np.isfinite(scores)):
        return np.full(m, 1.0 / m)
    if np.any(scores <= 0):
        w = (scores <= 0).astype(float)
    else:
        w = 1.0 / scores
    return w / w.sum()
