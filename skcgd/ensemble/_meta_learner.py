"""The regression meta stage: RegularizedMetaLearner on a matrix of out-of-fold predictions."""

import warnings
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold
from sklearn.utils.validation import check_is_fitted

from skcgd._chunked import is_dask_collection
from skcgd._compat import Interval, StrOptions, _fit_context, validate_data
from skcgd._validation import (
    check_groups,
    check_input_features,
    check_sample_weight,
    check_squares_fit,
)
from skcgd.ensemble import _penalized_cv
from skcgd.ensemble._blending import blend_weights, oof_error_sums, rmse_from_sums
from skcgd.ensemble._design import (
    condition_number_of_cov,
    condition_number_of_stats,
    design_stats,
    global_transform,
)
from skcgd.ensemble._fitting import fit_atomically
from skcgd.ensemble._meta_features import (
    MIN_MODELS_FOR_META_FEATURES,
    MetaDesign,
    meta_feature_names,
    predict_design,
    transform_design,
)
from skcgd.ensemble._penalized_cv import (
    LINEAR_MODELS,
    direct_cache,
    fit_models_on_rows,
    linear_model_specs,
    reported_alphas,
    resolve_solver,
    ridge_weight_factor,
)
from skcgd.ensemble._redundancy import prediction_moments, redundancy_from_moments
from skcgd.ensemble._splits import (
    check_fold_weights,
    check_partition,
    given_groups,
    inner_splits,
    kfold_splitter,
    outer_splits,
    splitter_rule,
)

__all__ = ["RegularizedMetaLearner"]


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
        in BLAS and Numba kernels that release the GIL), except where the fits call
        scikit-learn (the ``"cg"`` solver's Lasso and elastic net, an ``inner_cv`` other than
        ``KFold``), which validates its input under ``warnings.catch_warnings``: that is not
        thread-safe, so those fits run in processes. A
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

    meta_oof_predictions_ : ndarray or dask.array.Array of shape (n_samples, n_meta_models)
        Out-of-fold predictions of every meta-model (outer ``cv``). After a fit on a Dask X,
        a lazy Dask array with X's row chunks, recomputed from X when computed.

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

    dask_stats_ : dict
        After a fit on a Dask X only: its passes over the chunks and the bytes they brought
        back (``skcgd._chunked._engine.RowChunks.stats``).

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X` has feature names
        that are all strings.

    See Also
    --------
    RidgeStackingRegressor : Computes the out-of-fold predictions and fits this on them.
    RegularizedMetaClassifier : The classification counterpart, on out-of-fold log-odds.
    GreedyEnsembleSelection : Caruana's forward selection, the classic baseline.

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

    A Dask X (array, or dataframe) is fitted where its chunks live, never gathered: each
    stage's statistics (moments, ``O(p^2)`` Gram sums per fold) are computed per chunk and
    added, and the meta-models are solved from them, so the fit equals the in-memory one up
    to rounding. That needs ``solver="direct"`` and folds that are ranges of rows (``cv``
    and ``inner_cv`` an integer, None or an unshuffled ``KFold``); anything else, and
    sparse chunks, are refused on Dask input. ``n_jobs`` then only runs the solvers in
    threads; the Dask scheduler in use runs the passes.

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
        meta_models=LINEAR_MODELS,
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

    def _n_pred(self, n_features):
        k = n_features if self.n_predictions is None else int(self.n_predictions)
        if k > n_features:
            raise ValueError(f"n_predictions={k} but X has only {n_features} columns.")
        return k

    def _inner_splitter(self):
        return kfold_splitter(self.inner_cv)

    # ------------------------------------------------------------------ fit

    @_fit_context(prefer_skip_nested_validation=True)
    @fit_atomically
    def fit(self, X, y, sample_weight=None, groups=None):
        """Select, augment, fit the meta-models out of fold and blend them.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask.array.Array} of shape (n_samples, n_features)
            Out-of-fold base-model predictions (the first ``n_predictions`` columns), then any
            extra features. float32 is not copied to float64 (rows are promoted a block at a
            time), and a sparse X is never densified beyond its prediction columns. A Dask
            array or dataframe is fitted chunk by chunk (see Notes; y, sample_weight and
            groups may then be Dask arrays too, and groups are ignored).

        y : array-like of shape (n_samples,)
            Target values.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights for every stage (errors, correlations, fits, RMSEs).

        groups : array-like of shape (n_samples,), default=None
            Group labels of the samples, for group-aware ``cv`` and ``inner_cv`` splitters
            (e.g. ``GroupKFold``); other splitters ignore them.

        Returns
        -------
        self : object
            The fitted meta-learner.
        """
        if is_dask_collection(X):  # chunk by chunk, where the chunks live (loads Dask)
            return _chunked("fit_dask")(self, X, y, sample_weight, groups)
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
        sw = check_sample_weight(sample_weight, X.shape[0])
        groups = check_groups(groups, X.shape[0])
        weight_scale = float(sw.max())
        names, specs = self._specs(weight_scale)  # (refuses weights too small to scale)
        sw = sw / weight_scale
        check_squares_fit(X, y, sw)
        n, n_pred = X.shape[0], self._n_pred(X.shape[1])

        # stage 1 ------------------------------------------------------------------------
        moments = prediction_moments(X, n_pred, y, sw)
        ybar, target_var = moments.ybar, moments.target_var
        y0 = y - ybar
        kept, meta_names = self._select_columns(moments, n_pred)

        # stage 2 ------------------------------------------------------------------------
        design = MetaDesign(X, n_pred, kept, meta_names)
        design.store_meta_features()
        p = design.shape[1]
        mu, sigma = global_transform(design, sw, self.standardize)
        design.mu, design.sigma = mu, sigma

        # stage 3 ------------------------------------------------------------------------
        outer = outer_splits(self.cv, n, y=y, groups=groups)
        inner_groups = given_groups(self.inner_cv, groups)
        predicted = check_partition(outer, n, "cv")
        check_fold_weights(outer, n, sw, "cv")
        solver, loo, kfold, common = self._penalty_rules(names, specs, p, design.sparse, target_var)
        all_rows = np.arange(n, dtype=np.intp)
        final_cache = None
        want_cond = not design.sparse and p <= _penalized_cv.DIRECT_MAX_FEATURES
        if solver == "direct":
            # the statistics of all rows serve the final fits and the condition number
            final_cache = direct_cache(
                design,
                y0,
                sw,
                all_rows,
                inner_splits(self._inner_splitter(), n, None, inner_groups) if kfold else (),
                kfold,
            )
            self.condition_number_design_ = (
                condition_number_of_stats(final_cache["total"]) if want_cond else np.nan
            )
        else:
            self.condition_number_design_ = (
                condition_number_of_stats(design_stats(design, y0, sw, all_rows))
                if want_cond
                else np.nan
            )
        del all_rows
        # the fits of the outer folds and the final one are independent: one joblib task
        # each (threads preferred: the design is shared, not copied into worker processes,
        # and the solvers spend their time in BLAS and Numba kernels that release the GIL).
        # scikit-learn validates inputs under warnings.catch_warnings, which swaps the
        # process-wide warning filters and is not thread-safe: tasks that call scikit-learn
        # (the "cg" path's Lasso and elastic net, an inner splitter other than KFold) go to
        # processes, so that no fit changes the user's filters
        own_code = solver == "direct" or all(spec.kind == "ridge" for spec in specs)
        own_code &= isinstance(self._inner_splitter(), KFold)
        tasks = [(train, test, None) for train, test in outer]
        tasks.append((None, None, final_cache))
        results = Parallel(n_jobs=self.n_jobs, prefer="threads" if own_code else "processes")(
            delayed(fit_models_on_rows)(
                specs,
                design,
                y0,
                sw,
                train,
                test,
                self._inner_splitter(),
                kfold,
                cache,
                common,
                inner_groups,
            )
            for train, test, cache in tasks
        )
        oof = np.full((n, len(specs)), np.nan)
        for (_, test, _), (_, _, pred) in zip(tasks[:-1], results[:-1]):
            oof[test] = pred
        oof += ybar
        converged = all(ok for _, ok, _ in results)
        self._set_meta_models(names, specs, results[-1][0], converged, mu, sigma, ybar)
        self.meta_oof_predictions_ = oof

        # stage 4 ------------------------------------------------------------------------
        return self._set_blend(*oof_error_sums(oof, y, sw, predicted))

    # ------------------------------------------------------------------ the stages' results
    # (shared with the fit on Dask arrays, skcgd._chunked._meta_learner, which computes the
    # same statistics by passes over the chunks)

    def _specs(self, weight_scale):
        """``(names, specs)`` of the meta-models for weights divided by ``weight_scale``."""
        factor = ridge_weight_factor(weight_scale)
        return linear_model_specs(
            self.meta_models, self.ridge_alphas, self.lasso_alphas, self.l1_ratio, factor
        )

    def _select_columns(self, moments, n_pred):
        """Stage 1 from the :class:`PredictionMoments`: ``(kept columns, meta-features)``."""
        self.column_rmse_ = np.sqrt(moments.sse / moments.N)
        cov = moments.cov
        kept, dropped = redundancy_from_moments(
            cov,
            moments.mean,
            cov,
            self.column_rmse_,
            n_blocks=n_pred,
            corr_threshold=self.corr_threshold,
            mse_threshold=self.mse_threshold,
            var_threshold=self.var_threshold,
            target_var=moments.target_var,
        )
        pred_names = check_input_features(self)[:n_pred]
        for record in dropped:
            record["name"] = str(pred_names[record["column"]])
        self.kept_columns_, self.dropped_columns_ = kept, dropped
        self.condition_number_before_ = condition_number_of_cov(cov)
        self.condition_number_after_ = condition_number_of_cov(cov[np.ix_(kept, kept)])
        self._meta_names = meta_feature_names(self.meta_features)
        self._use_meta = bool(self._meta_names) and kept.size >= MIN_MODELS_FOR_META_FEATURES
        return kept, (self._meta_names if self._use_meta else ())

    def _penalty_rules(self, names, specs, p, sparse, target_var):
        """Stage 3's rules for a design of ``p`` columns: ``(solver, loo, kfold, common)``."""
        self.solver_ = solver = resolve_solver(self.solver, p, sparse)
        # exact leave-one-out for ridge needs the factorization of the direct path; the CG
        # path chooses by K-fold (see inner_cv and alpha_selection_)
        loo = self.inner_cv is None and solver == "direct"
        inner = splitter_rule(self._inner_splitter())
        self.alpha_selection_ = {
            name: "leave-one-out" if (name == "ridge" and loo) else inner for name in names
        }
        # whether some model chooses its penalty by the inner folds (on the direct path)
        kfold = solver == "direct" and any(spec.kind != "ridge" or not loo for spec in specs)
        common = dict(
            standardize=self.standardize,
            solver=solver,
            loo=loo,
            tol=self.tol,
            max_iter=self.max_iter,
            y_scale=np.sqrt(target_var),
        )
        return solver, loo, kfold, common

    def _set_meta_models(self, names, specs, final, converged, mu, sigma, ybar):
        """Stage 3's attributes from the final fits (in the units of the global transform)."""
        if not converged:
            warnings.warn(
                f"The {self.solver_!r} solver did not reach tol={self.tol} within "
                f"max_iter={self.max_iter} for every penalty; increase max_iter, or "
                "use a coarser grid of small penalties.",
                ConvergenceWarning,
                stacklevel=4,
            )
        # back to the units of the design
        self.meta_coef_ = np.array([fit.coef / sigma for fit in final])
        self.meta_intercept_ = np.array(
            [fit.intercept + ybar - mu @ (fit.coef / sigma) for fit in final]
        )
        self.alpha_ = reported_alphas(names, specs, final, self.ridge_alphas)
        self.l1_ratio_ = next(
            (fit.l1_ratio for name, fit in zip(names, final) if name == "elasticnet"), None
        )
        self.meta_models_ = names
        self.n_iter_ = max(fit.n_iter for fit in final)

    def _set_blend(self, w_sum, sse):
        """Stage 4 from the sums of :func:`oof_error_sums`; returns the estimator."""
        self.meta_oof_rmse_ = rmse_from_sums(w_sum, sse)
        self.blend_weights_ = blend_weights(self.meta_oof_rmse_, self.blend)
        self.coef_ = self.blend_weights_ @ self.meta_coef_
        self.intercept_ = float(self.blend_weights_ @ self.meta_intercept_)
        return self

    # ------------------------------------------------------------------ predict / transform

    def _predict_design(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32], reset=False)
        names = self._meta_names if self._use_meta else ()
        return MetaDesign(X, self._n_pred(X.shape[1]), self.kept_columns_, names)

    def transform(self, X):
        """The meta design: kept prediction columns, meta-features, then any extra columns.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask.array.Array} of shape (n_samples, n_features)
            Base-model predictions (and extra columns), as in :meth:`fit`.

        Returns
        -------
        Z : {ndarray, sparse matrix, dask.array.Array} of shape (n_samples, n_design_features)
            Sparse only when the extra columns are; a lazy Dask array (X's row chunks) for a
            Dask X.
        """
        if is_dask_collection(X):
            return _chunked("transform_dask")(self, X)
        return transform_design(self._predict_design(X))

    def predict(self, X):
        """Blended prediction of the meta-models.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask.array.Array} of shape (n_samples, n_features)
            Base-model predictions on new rows (same columns as in :meth:`fit`).

        Returns
        -------
        y_pred : ndarray or dask.array.Array of shape (n_samples,)
            ``transform(X) @ coef_ + intercept_``, computed a block of rows at a time; a lazy
            Dask array (X's row chunks) for a Dask X.
        """
        if is_dask_collection(X):
            return _chunked("predict_dask")(self, X)
        return predict_design(self._predict_design(X), self.coef_, self.intercept_)

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
        names = check_input_features(self, input_features)
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


def _chunked(name):
    """A function of :mod:`skcgd._chunked._meta_learner` (imported, with Dask, on first use)."""
    from skcgd._chunked import _meta_learner

    return getattr(_meta_learner, name)
