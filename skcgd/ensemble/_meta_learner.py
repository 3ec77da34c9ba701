"""The regression meta stage: RegularizedMetaLearner on a matrix of out-of-fold predictions."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from skcgd._chunked import is_dask_collection
from skcgd._compat import Interval, StrOptions, _fit_context, validate_data
from skcgd._validation import (
    check_groups,
    check_input_features,
    check_sample_weight,
    check_squares_fit,
)
from skcgd.ensemble._blending import rmse_from_sums
from skcgd.ensemble._design import condition_number_of_cov
from skcgd.ensemble._fitting import fit_atomically
from skcgd.ensemble._meta_features import (
    MIN_MODELS_FOR_META_FEATURES,
    MetaDesign,
    meta_feature_names,
    predict_design,
    transform_design,
)
from skcgd.ensemble._meta_search import fit_fixed, fit_searched
from skcgd.ensemble._penalized_cv import (
    LINEAR_MODELS,
    linear_model_specs,
    reported_alphas,
    resolve_solver,
    ridge_weight_factor,
)
from skcgd.ensemble._redundancy import redundancy_from_moments
from skcgd.ensemble._splits import kfold_splitter, splitter_rule
from skcgd.ensemble._stage_search import Progress, final_weights, paper_stages

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

    Which stages run is chosen by nested cross-validation (``stages="auto"``, the default):
    pruning at the thresholds below, off, or at a stricter and a looser level; the
    meta-features, or none; the blend, or the best single meta-model. Every candidate is
    scored on the outer folds (``cv_results_``) and the best is refitted (``best_params_``).
    ``stages="paper"`` runs the seed paper's fixed pipeline with the parameters below.

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
        time, so no copy of the design is held. A dense fit with fewer rows than columns is
        solved on its rows instead (``n x n`` kernels for ridge, coordinate descent on the
        rows for Lasso and elastic net: nothing of size ``p x p``). ``"cg"``: ridge by
        skcgd's conjugate gradient on the design (never forming the Gram matrix),
        warm-started along the alpha path; Lasso/elastic net by scikit-learn's coordinate
        descent on the rows (each fit's rows are copied). ``"auto"``: ``"direct"`` for a
        dense design with fewer rows than columns; else ``"cg"`` for designs wider than
        4000 columns, or 1400 when sparse, else ``"direct"``; where
        ``benchmarks/bench_stacking.py --section solvers`` puts the crossover of the two as
        ``"auto"`` runs them (each with its own default ridge selection, see ``inner_cv``):
        dense, the direct path was faster at every measured width up to 4000; sparse, the
        two cross near 1400 columns.

    n_jobs : int, default=None
        Number of joblib workers for the fits of the outer folds and the final fit (each
        fits every meta-model on its rows; with ``stages="auto"``, one task per outer fold
        and distinct design). None means 1 unless in a ``joblib.parallel_config`` context;
        -1 means all processors. Threads are preferred (the design is shared rather than
        copied into worker processes, and the solvers run in BLAS and Numba kernels that
        release the GIL), except where the fits call scikit-learn (the ``"cg"`` solver's
        Lasso and elastic net), which validates its input under ``warnings.catch_warnings``:
        that is not thread-safe, so those fits run in processes. The inner splits are drawn
        before the tasks start, so no splitter runs in a worker. A
        ``joblib.parallel_config(backend=...)`` context overrides that, e.g. to run on Dask.
        The result does not depend on ``n_jobs``.

    tol : float, default=1e-4
        Tolerance of the iterative solvers: coordinate descent stops when the duality gap is
        at most ``tol`` times the target's (weighted, centred) sum of squares, as in
        scikit-learn's ``ElasticNet``; the conjugate gradient when its residual is at most
        ``tol`` times the right-hand side, as in scikit-learn's ``Ridge``.

    max_iter : int, default=10000
        Maximum iterations (sweeps, or CG iterations) per penalty.

    stages : {"auto", "paper"} or list of dict, default="auto"
        ``"paper"``: the stages as the parameters above set them (the seed paper's pipeline;
        bit for bit the default of earlier releases). ``"auto"``: candidate configurations,
        scored by the outer ``cv`` and the best refitted: ``corr_threshold``,
        ``mse_threshold``, ``var_threshold`` as given, pruning off (``None`` and 0), and
        (``corr_threshold``, ``mse_threshold``) at (0.99, 1e-4) and (0.9, 1e-2);
        ``meta_features`` as given, and False; ``final`` ``"blend"`` (by ``blend``) and, with
        several meta-models, ``"best"`` (the meta-model of the smallest error): 16 candidates
        with the defaults, the parameters' own first. A list of dicts with some of those keys
        (the others as the parameters set them, ``final`` ``"blend"``) gives the candidates.
        Duplicates are scored once; of equal scores the first wins. The choice is nested (see
        Notes).

    verbose : int, default=0
        1 prints one line per stage (and per candidate configuration) with its seconds,
        ``[RegularizedMetaLearner] what (seconds s)``; 0 prints nothing.

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
        matrix); ``inf`` when a column is constant, or when there are at least as many
        columns as rows of positive weight (the rank bound: not computed then). Otherwise
        one symmetric eigendecomposition of a matrix the fit holds, ``O(p^3)`` with
        ``p < n``: less than the ``O(n p^2)`` of forming it.

    condition_number_after_ : float
        The same for the kept columns.

    condition_number_design_ : float
        The same for the whole meta design (kept columns, meta-features, extra columns); NaN
        when it is sparse, or has fewer columns than rows but more than 4000.

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

    cv_results_ : dict of ndarray
        One entry per candidate configuration, as scikit-learn's searches: ``params``,
        ``param_<key>``, ``split<k>_test_score`` (minus the RMSE on outer test fold ``k``),
        ``mean_test_score`` (minus the RMSE pooled over every out-of-fold row: the
        criterion), ``std_test_score``, ``rank_test_score``, ``mean_test_rmse`` (the pooled
        RMSE) and ``mean_n_kept`` (columns kept by stage 1, mean over the outer folds).
        ``pandas.DataFrame(cv_results_)`` tabulates it. With ``stages="paper"``, one row
        (scored with its stage 1 on all rows).

    best_index_ : int
        The chosen candidate: the smallest ``mean_test_rmse`` (the first of equals).

    best_params_ : dict
        Its configuration (``corr_threshold``, ``mse_threshold``, ``var_threshold``,
        ``meta_features``, ``final``), which the other attributes describe.

    best_score_ : float
        Its ``mean_test_score``.

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
    them) are honest about the penalty choice. With ``stages="paper"`` stage 1 uses all rows
    (as the seed paper does), so they are slightly optimistic about the de-duplication.
    With ``stages="auto"`` every stage of every candidate is nested: within each outer
    training fold, stage 1 is decided on that fold's moments, the meta-models are tuned by
    inner CV, and the blend weights (or the best single model) come from the meta-models'
    inner-CV errors, so no choice of a candidate sees the rows it is scored on. Candidates
    that keep the same columns in a fold share its fits, and the blend and the best single
    model are scored from the same fits, so the search costs about as many fits as there are
    distinct designs (usually 2-6 per fold), not as many as candidates.

    A Dask X (array, or dataframe) is fitted where its chunks live, never gathered: each
    stage's statistics (moments, ``O(p^2)`` Gram sums per fold) are computed per chunk and
    added, and the meta-models are solved from them, so the fit equals the in-memory one up
    to rounding. That needs ``solver="direct"`` and folds that are ranges of rows (``cv``
    and ``inner_cv`` an integer, None or an unshuffled ``KFold``); anything else, and
    sparse chunks, are refused on Dask input. ``n_jobs`` then only runs the solvers in
    threads; the Dask scheduler in use runs the passes. The search of ``stages="auto"``
    takes the same number of passes (each brings back the statistics of every outer fold
    and candidate design at once; :mod:`skcgd._chunked._stage_search`).

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
    >>> meta = RegularizedMetaLearner(stages="paper").fit(P, y)
    >>> meta.kept_columns_
    array([0, 2, 3])
    >>> [(d["column"], d["reason"], d["kept_instead"]) for d in meta.dropped_columns_]
    [(1, 'redundant', 0)]
    >>> bool(meta.condition_number_after_ < meta.condition_number_before_)
    True
    >>> meta.predict(P[:2]).shape
    (2,)

    The default chooses its stages by nested cross-validation:

    >>> auto = RegularizedMetaLearner().fit(P, y)
    >>> len(auto.cv_results_["params"])
    16
    >>> bool(auto.best_index_ == np.argmin(auto.cv_results_["mean_test_rmse"]))
    True
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
        "stages": [StrOptions({"auto", "paper"}), list],
        "verbose": ["verbose"],
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
        stages="auto",
        verbose=0,
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
        self.stages = stages
        self.verbose = verbose

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
            (e.g. ``GroupKFold``); other splitters ignore them. Both splitters also get the
            rows' ``y``, as scikit-learn's searches pass it (a splitter may stratify on it).

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

        progress = Progress(self)
        progress.done(f"input checks ({n} rows, {n_pred} prediction columns)")
        if self.stages == "paper":
            return fit_fixed(self, X, y, sw, groups, names, specs, n_pred, progress)
        return fit_searched(self, X, y, sw, groups, names, specs, n_pred, progress)

    # ------------------------------------------------------------------ the stages' results
    # (shared with the fit on Dask arrays, skcgd._chunked._meta_learner, which computes the
    # same statistics by passes over the chunks)

    def _specs(self, weight_scale):
        """``(names, specs)`` of the meta-models for weights divided by ``weight_scale``."""
        factor = ridge_weight_factor(weight_scale)
        return linear_model_specs(
            self.meta_models, self.ridge_alphas, self.lasso_alphas, self.l1_ratio, factor
        )

    def _select_columns(self, moments, n_pred, stages=None):
        """Stage 1 from the :class:`PredictionMoments`: ``(kept columns, meta-features)``.

        ``stages``: the configuration whose thresholds and meta-features apply (a dict of
        :data:`~skcgd.ensemble._stage_search.STAGE_KEYS`); None: the parameters'.
        """
        stages = paper_stages(self) if stages is None else stages
        self.column_rmse_ = np.sqrt(moments.sse / moments.N)
        cov = moments.cov
        kept, dropped = redundancy_from_moments(
            cov,
            moments.mean,
            cov,
            self.column_rmse_,
            n_blocks=n_pred,
            corr_threshold=stages["corr_threshold"],
            mse_threshold=stages["mse_threshold"],
            var_threshold=stages["var_threshold"],
            target_var=moments.target_var,
        )
        pred_names = check_input_features(self)[:n_pred]
        for record in dropped:
            record["name"] = str(pred_names[record["column"]])
        self.kept_columns_, self.dropped_columns_ = kept, dropped
        # (infinite without arithmetic when there are no more rows than columns: rank)
        self.condition_number_before_ = condition_number_of_cov(cov, moments.n_rows)
        self.condition_number_after_ = condition_number_of_cov(cov, moments.n_rows, kept)
        self._meta_names = meta_feature_names(stages["meta_features"])
        self._use_meta = bool(self._meta_names) and kept.size >= MIN_MODELS_FOR_META_FEATURES
        return kept, (self._meta_names if self._use_meta else ())

    def _penalty_rules(self, names, specs, p, sparse, target_var, n_rows=None):
        """Stage 3's rules for a design of ``p`` columns (``n_rows`` rows): ``(solver, loo,
        kfold, common)``."""
        self.solver_ = solver = resolve_solver(self.solver, p, sparse, n_rows)
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

    def _set_blend(self, w_sum, sse, final="blend"):
        """Stage 4 from the sums of :func:`oof_error_sums` (``final``: ``"blend"`` or
        ``"best"``, the single meta-model of the smallest RMSE); returns the estimator."""
        self.meta_oof_rmse_ = rmse_from_sums(w_sum, sse)
        self.blend_weights_ = final_weights(self.meta_oof_rmse_, final, self.blend)
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
