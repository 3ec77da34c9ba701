"""The classification meta stage: RegularizedMetaClassifier on out-of-fold log-odds."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.validation import check_is_fitted

from skcgd._compat import Interval, StrOptions, _fit_context, validate_data
from skcgd._validation import (
    check_classification_labels,
    check_groups,
    check_input_features,
    check_sample_weight,
)
from skcgd.ensemble._blending import aligned_proba, blend_weights, weighted_log_loss
from skcgd.ensemble._design import (
    column_scales,
    condition_number,
    prediction_block,
    scale_columns,
    weighted_mean_var,
)
from skcgd.ensemble._fitting import fit_atomically, fit_estimator
from skcgd.ensemble._meta_features import (
    MIN_MODELS_FOR_META_FEATURES,
    MetaDesign,
    block_columns,
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

__all__ = ["RegularizedMetaClassifier", "check_Cs"]

DEFAULT_CS = (0.01, 0.1, 1.0, 10.0, 100.0)


def default_logistic():
    """The default meta-model: skcgd's L2-penalised logistic regression.

    ``MinimaxLogisticRegression`` without adversary, Newton's method (the objective of
    scikit-learn's ``LogisticRegression``, binary or multinomial, solved to a relative
    gradient norm of 1e-6).
    """
    from skcgd.linear_model import MinimaxLogisticRegression

    return MinimaxLogisticRegression(adversary="none", C=1.0)


def check_Cs(Cs):
    """``Cs`` as a tuple of positive finite floats; a ValueError naming it otherwise."""
    try:
        values = np.asarray(Cs, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        values = np.array([np.nan])
    if values.size == 0 or not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ValueError(
            f"Cs must hold at least one positive finite value (the inverse penalties the "
            f"inner cross-validation chooses from), got {Cs!r}."
        )
    return tuple(float(c) for c in values)


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


class RegularizedMetaClassifier(ClassifierMixin, TransformerMixin, BaseEstimator):
    r"""Stacking meta-classifier on out-of-fold log-odds: de-duplicate, augment, tune, blend.

    The classification counterpart of :class:`RegularizedMetaLearner`. ``X`` holds the
    out-of-fold log-odds of base classifiers, ``log(p / (1 - p))``: one column per model for
    two classes (of the second class), one per model and class otherwise (``n_classes``
    consecutive columns per model, in the order of the sorted labels), e.g. the
    ``oof_predictions_`` of :class:`RidgeStackingClassifier`, which fits this on them by
    default. Further columns (``n_predictions``) go to the meta-models as they are. Four
    stages:

    1. **Redundancy-aware pruning.** Base models are visited from the smallest out-of-fold
       log-loss up; one is dropped when an already kept one has log-odds correlation
       ``>= corr_threshold`` and a mean squared difference of probabilities
       ``<= mse_threshold`` times the variance of the class indicators (near-constant
       models are dropped too).
    2. **Meta-features.** Per class, row-wise statistics of the kept log-odds are appended
       (by default mean, std, median and range; with three kept models or more).
    3. **Cross-validated meta-models.** Each meta-model (default: skcgd's L2-penalised
       logistic regression, :class:`~skcgd.linear_model.MinimaxLogisticRegression` with
       ``adversary="none"``) is fitted on the standardised design with ``C`` chosen from
       ``Cs`` by inner stratified CV (log-loss), and evaluated out of fold by ``cv``. The
       choice of ``C`` is nested: every outer fold makes it again on its own training rows,
       so the out-of-fold log-losses (and the blend weights) are not tuned on the rows they
       judge.
    4. **Blending.** The meta-models' probabilities are averaged with weights proportional
       to the inverse of their out-of-fold log-loss (or uniformly).

    Parameters
    ----------
    corr_threshold : float in [0, 1] or None, default=0.95
        Stage 1 log-odds correlation from which a worse model can be a duplicate of a kept
        one. None turns the redundancy test off (near-constant models are still dropped).

    mse_threshold : float, default=1e-3
        Stage 1 largest mean squared difference of the probabilities, relative to the
        variance of the class indicators, for a model to count as a duplicate.

    var_threshold : float, default=1e-4
        Models whose probabilities vary less than this (relative to the same variance) are
        dropped as near-constant.

    meta_features : bool or tuple of str, default=True
        The per-class statistics of stage 2: True means ``("mean", "std", "median",
        "range")``, False none; a tuple picks among ``"mean", "std", "median", "range",
        "min", "max", "mean*std", "range*std"``.

    meta_models : list of (str, classifier), default=None
        The meta-models of stage 3, each with ``predict_proba`` and a ``sample_weight`` fit
        parameter; None means one L2-penalised logistic regression,
        ``MinimaxLogisticRegression(adversary="none")`` (Newton's method). Each gets its
        ``C`` from ``Cs`` by inner CV if it has a ``C`` parameter; one with a ``warm_start``
        parameter is warm-started along the grid of ``C`` inside an inner fold.

    Cs : array-like of float, default=(0.01, 0.1, 1.0, 10.0, 100.0)
        Inverse penalties tried for each meta-model (at least one; with one, no inner CV).

    cv : int, cross-validation generator or iterable, default=5
        Outer splits: out-of-fold meta predictions (``meta_oof_proba_``) and blend weights.
        An integer means ``StratifiedKFold`` (not shuffled). Test sets must not overlap;
        rows in no test set are not scored.

    inner_cv : int or cross-validation generator, default=3
        Splits choosing ``C``, made within the rows of each fit (each outer fold's training
        rows, then all rows); an integer means ``StratifiedKFold`` with at most that many
        folds (fewer when a class has fewer rows, but at least 2). Each inner training fold
        is standardised on its own rows.

    blend : {"inverse_log_loss", "uniform"}, default="inverse_log_loss"
        Weights of the meta-models.

    standardize : bool, default=True
        Scale every design column to unit variance (and centre it, when dense) on the rows of
        each fit, like a ``StandardScaler`` in front of each meta-model.

    n_predictions : int, default=None
        Number of leading columns of X that are base-model log-odds (a multiple of the
        columns per model: 1 for two classes, ``n_classes`` otherwise). Any further columns
        (e.g. the original features, with :class:`RidgeStackingClassifier` ``passthrough``)
        skip stages 1 and 2. None means all columns when their number is such a multiple,
        and none otherwise (then stages 1 and 2 are skipped: X is not a matrix of log-odds).

    n_jobs : int, default=None
        Number of joblib workers for the independent fits of stage 3 (every inner fold's C
        grid, every refit), in processes by default: the meta-models validate their input
        under ``warnings.catch_warnings`` (scikit-learn's ``check_array``), which is not
        thread-safe, and the design is small to copy. A
        ``joblib.parallel_config(backend=...)`` context overrides that. The result does not
        depend on it.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.

    model_log_loss_ : ndarray of shape (n_models,)
        Weighted out-of-fold log-loss of every base model (the order of stage 1).

    kept_columns_ : ndarray of int
        Indices of the base models kept by stage 1, ascending.

    dropped_columns_ : list of dict
        What stage 1 dropped and why: ``column`` (the model's index), ``name``, ``reason``
        (``"redundant"`` or ``"near_constant"``), ``kept_instead``, ``correlation``,
        ``relative_msd`` and ``relative_variance``.

    condition_number_before_, condition_number_after_ : float
        Condition number of the standardised log-odds columns of all models, and of the
        kept ones (``inf`` when a column is constant).

    condition_number_design_ : float
        The same for the whole design (NaN when it is sparse).

    meta_models_ : list of (str, classifier)
        The meta-models fitted on all rows with their chosen ``C``.

    C_ : dict
        ``C`` of every meta-model chosen on all rows (None for one without ``C``).

    meta_oof_C_ : dict
        Per meta-model, the ``C`` chosen in every outer fold (NaN without ``C``).

    meta_oof_proba_ : ndarray of shape (n_samples, n_meta_models, n_classes)
        Out-of-fold probabilities of every meta-model (NaN for rows in no test fold).

    meta_oof_log_loss_ : ndarray of shape (n_meta_models,)
        Their weighted log-loss.

    blend_weights_ : ndarray of shape (n_meta_models,)
        Weights of the meta-models (sum to one).

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X` has feature names
        that are all strings.

    See Also
    --------
    RidgeStackingClassifier : Computes the out-of-fold log-odds and fits this on them.
    RegularizedMetaLearner : The regression counterpart.
    sklearn.ensemble.StackingClassifier : Stacking with a single final estimator.

    Notes
    -----
    The blended probability is :math:`\sum_m w_m P_m(y \mid x)`,
    :math:`w_m \propto 1 / \mathrm{LogLoss}_m` on the out-of-fold meta predictions. Cost:
    with ``cv=5``, ``inner_cv=3`` and 5 values of ``Cs`` the nested choice of ``C`` fits each
    meta-model ``(5 + 1) * (3 * 5 + 1) = 96`` times on the small ``n_samples x
    n_design_features`` design. Stage 1 uses all rows, so the out-of-fold log-losses are
    slightly optimistic about the de-duplication only.

    References
    ----------
    N. Mohammad and M. Meherab, "Regularized meta-learning for improved generalization",
    arXiv:2602.12469, 2026.

    K. M. Ting and I. H. Witten, "Issues in stacked generalization", JAIR 10, 1999.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.ensemble import RegularizedMetaClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, size=300)
    >>> evidence = 2.0 * y - 1.0
    >>> good = evidence + rng.normal(size=300)  # (the best log-odds would be 2 * good)
    >>> L = np.column_stack([good, 0.97 * good, evidence + 2.0 * rng.normal(size=300)])
    >>> meta = RegularizedMetaClassifier(Cs=(0.1, 1.0)).fit(L, y)
    >>> meta.kept_columns_
    array([0, 2])
    >>> [(d["column"], d["reason"], d["kept_instead"]) for d in meta.dropped_columns_]
    [(1, 'redundant', 0)]
    >>> meta.predict_proba(L[:2]).shape
    (2, 2)
    """

    _parameter_constraints: dict = {
        "corr_threshold": [Interval(Real, 0, 1, closed="both"), None],
        "mse_threshold": [Interval(Real, 0, None, closed="left")],
        "var_threshold": [Interval(Real, 0, None, closed="left")],
        "meta_features": ["boolean", tuple, list],
        "meta_models": [list, tuple, None],
        "Cs": ["array-like"],
        "cv": ["cv_object"],
        "inner_cv": ["cv_object"],
        "blend": [StrOptions({"inverse_log_loss", "uniform"})],
        "standardize": ["boolean"],
        "n_predictions": [Interval(Integral, 1, None, closed="left"), None],
        "n_jobs": [None, Integral],
    }

    def __init__(
        self,
        corr_threshold=0.95,
        *,
        mse_threshold=1e-3,
        var_threshold=1e-4,
        meta_features=True,
        meta_models=None,
        Cs=DEFAULT_CS,
        cv=5,
        inner_cv=3,
        blend="inverse_log_loss",
        standardize=True,
        n_predictions=None,
        n_jobs=None,
    ):
        self.corr_threshold = corr_threshold
        self.mse_threshold = mse_threshold
        self.var_threshold = var_threshold
        self.meta_features = meta_features
        self.meta_models = meta_models
        self.Cs = Cs
        self.cv = cv
        self.inner_cv = inner_cv
        self.blend = blend
        self.standardize = standardize
        self.n_predictions = n_predictions
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ validation helpers

    def _models(self):
        if self.meta_models is None:
            return [("logistic", default_logistic())]
        models = list(self.meta_models)
        if len(models) == 2 and isinstance(models[0], str) and hasattr(models[1], "fit"):
            models = [tuple(models)]  # one (name, classifier) pair
        try:
            names = [name for name, _ in models]
        except (TypeError, ValueError) as exc:
            raise ValueError("meta_models must be a list of (name, classifier) pairs.") from exc
        if not models or len(set(names)) != len(names):
            raise ValueError(
                "meta_models must be a non-empty list of uniquely named (name, classifier) pairs."
            )
        for name, clf in models:
            if not hasattr(clf, "predict_proba"):
                raise ValueError(f"Meta-model {name!r} has no predict_proba.")
        return models

    def _n_pred(self, n_features, block_size):
        """The number of log-odds columns of X (see ``n_predictions``)."""
        if self.n_predictions is None:
            return n_features if n_features % block_size == 0 else 0
        n_pred = int(self.n_predictions)
        if n_pred > n_features:
            raise ValueError(f"n_predictions={n_pred} but X has only {n_features} columns.")
        if n_pred % block_size:
            raise ValueError(
                f"n_predictions={n_pred} is not a multiple of {block_size}, the number of "
                f"log-odds columns of a base model for {len(self.classes_)} classes."
            )
        return n_pred

    # ------------------------------------------------------------------ fit

    @_fit_context(prefer_skip_nested_validation=True)
    @fit_atomically
    def fit(self, X, y, sample_weight=None, groups=None):
        """Prune, augment, tune and fit the meta-models out of fold, and blend them.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Out-of-fold log-odds of the base models (the first ``n_predictions`` columns),
            then any extra features (which may be sparse).

        y : array-like of shape (n_samples,)
            Class labels (at least two classes).

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights for every stage (log-losses, correlations, fits).

        groups : array-like of shape (n_samples,), default=None
            Group labels of the samples, for group-aware ``cv`` and ``inner_cv`` splitters
            (e.g. ``GroupKFold``); other splitters ignore them.

        Returns
        -------
        self : object
            The fitted meta-classifier.
        """
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=np.float64, ensure_min_samples=2
        )
        check_classification_labels(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        K = self.classes_.shape[0]
        if K < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least two classes; "
                f"got one class ({self.classes_[0]!r})."
            )
        y = encoder.transform(y)
        n = y.shape[0]
        sw = check_sample_weight(sample_weight, n)
        groups = check_groups(groups, n)
        models = self._models()
        Cs = check_Cs(self.Cs)
        k = 1 if K == 2 else K
        self._block_size = k
        self._n_predictions = n_pred = self._n_pred(X.shape[1], k)
        Y = np.eye(K)[y]

        # stage 1: rank models by log-loss, compare log-odds (correlation) and probabilities
        # (mean squared difference) with the variance of the class indicators
        L = prediction_block(X, np.arange(n), np.arange(n_pred))
        if n_pred:
            Q, errors, target_var = log_odds_inputs(L, Y, sw, k)
            kept, dropped = redundancy_projection(
                L,
                Q,
                errors,
                sw,
                n_blocks=n_pred // k,
                corr_threshold=self.corr_threshold,
                mse_threshold=self.mse_threshold,
                var_threshold=self.var_threshold,
                target_var=target_var,
            )
        else:
            errors, kept, dropped = np.empty(0), np.empty(0, dtype=np.intp), []
        names = check_input_features(self)
        for record in dropped:
            b = record["column"]
            record["name"] = str(names[b]) if k == 1 else ", ".join(names[b * k : (b + 1) * k])
        self.model_log_loss_ = errors
        self.kept_columns_ = kept
        self.dropped_columns_ = dropped
        self.condition_number_before_ = condition_number(L, sw)
        self.condition_number_after_ = condition_number(L[:, block_columns(kept, k)], sw)

        # stage 2
        self._meta_names = meta_feature_names(self.meta_features)
        self._use_meta = bool(self._meta_names) and kept.size >= MIN_MODELS_FOR_META_FEATURES
        D = self._design(X).raw(np.arange(n))
        self.condition_number_design_ = condition_number(D, sw) if not sp.issparse(D) else np.nan

        # stage 3, nested: every fit set (the training rows of each outer fold, then all
        # rows) chooses C by inner stratified CV on its own rows only, so the out-of-fold
        # meta predictions, their log-losses and the blend weights are honest about the
        # choice of C; the final models are tuned on all rows
        outer = outer_splits(self.cv, n, y=y, groups=groups, classifier=True)
        predicted = check_partition(outer, n, "cv")
        check_fold_weights(outer, n, sw, "cv")
        fit_sets = [(train_rows(n, tr, te), te) for tr, te in outer]
        fit_sets.append((np.arange(n, dtype=np.intp), None))
        grids = [list(Cs) if "C" in template.get_params() else [] for _, template in models]
        # round 1: every (fit set, meta-model, inner fold) scores the whole C grid
        tasks = []
        for f, (rows, _) in enumerate(fit_sets):
            inner = None
            for m in range(len(models)):
                if len(grids[m]) < 2:
                    continue
                if inner is None:
                    splitter = stratified_inner_splitter(self.inner_cv, y[rows])
                    g = given_groups(self.inner_cv, None if groups is None else groups[rows])
                    inner = list(inner_splits(splitter, rows.shape[0], y[rows], g))
                tasks += [(f, m, rows[tr], rows[te]) for tr, te in inner]
        # processes, not threads: the meta-models validate their input under
        # warnings.catch_warnings (scikit-learn's check_array), which swaps the process-wide
        # warning filters and is not thread-safe; the design is small to copy
        parallel = Parallel(n_jobs=self.n_jobs)
        std = self.standardize
        losses = parallel(
            delayed(_C_path_losses)(models[m][1], grids[m], D, y, sw, tr, te, K, std)
            for f, m, tr, te in tasks
        )
        total = {}
        for (f, m, _, _), loss in zip(tasks, losses):
            total[f, m] = total.get((f, m), 0.0) + loss
        chosen = {}
        for f in range(len(fit_sets)):
            for m, grid in enumerate(grids):
                if len(grid) > 1:
                    chosen[f, m] = grid[int(np.argmin(total[f, m]))]
                else:
                    chosen[f, m] = grid[0] if grid else None
        # round 2: refit every (fit set, meta-model) with its C
        refits = parallel(
            delayed(_refit)(models[m][1], chosen[f, m], D, y, sw, rows, test, K, std)
            for f, (rows, test) in enumerate(fit_sets)
            for m in range(len(models))
        )
        final = len(fit_sets) - 1
        oof = np.full((n, len(models), K), np.nan)
        self.meta_models_, self._scalers = [], []
        for i, (model, scaler, proba) in enumerate(refits):
            f, m = divmod(i, len(models))
            if f == final:
                self.meta_models_.append((models[m][0], model))
                self._scalers.append(scaler)
            else:
                oof[fit_sets[f][1], m] = proba
        self.C_ = {
            name: None if chosen[final, m] is None else float(chosen[final, m])
            for m, (name, _) in enumerate(models)
        }
        self.meta_oof_C_ = {
            name: np.array([np.nan if chosen[f, m] is None else chosen[f, m] for f in range(final)])
            for m, (name, _) in enumerate(models)
        }
        self.meta_oof_proba_ = oof

        # stage 4
        if sw[predicted].sum() > 0:
            self.meta_oof_log_loss_ = np.array(
                [
                    weighted_log_loss(Y[predicted], oof[predicted, m], sw[predicted])
                    for m in range(len(models))
                ]
            )
        else:
            self.meta_oof_log_loss_ = np.full(len(models), np.nan)
        self.blend_weights_ = blend_weights(
            self.meta_oof_log_loss_, "uniform" if self.blend == "uniform" else "inverse"
        )
        return self

    # ------------------------------------------------------------------ predict / transform

    def _design(self, X):
        names = self._meta_names if self._use_meta else ()
        return MetaDesign(X, self._n_predictions, self.kept_columns_, names, self._block_size)

    def _validated_design(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, reset=False)
        return self._design(X).raw(np.arange(X.shape[0]))

    def predict_proba(self, X):
        """Class probabilities of the blended meta-models.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Base-model log-odds on new rows (and extra columns), as in :meth:`fit`.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, columns in the order of ``classes_``.
        """
        D = self._validated_design(X)
        K = self.classes_.shape[0]
        proba = 0.0
        for w, (_, model), (mu, sd) in zip(self.blend_weights_, self.meta_models_, self._scalers):
            proba = proba + w * aligned_proba(model, scale_columns(D, mu, sd), K)
        return proba

    def predict(self, X):
        """Most probable class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Base-model log-odds on new rows (and extra columns), as in :meth:`fit`.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted class labels.
        """
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def transform(self, X):
        """The meta design: kept log-odds columns, per-class meta-features, extra columns.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Base-model log-odds (and extra columns), as in :meth:`fit`.

        Returns
        -------
        Z : {ndarray, sparse matrix} of shape (n_samples, n_design_features)
            Not standardised; sparse only when the extra columns are.
        """
        return self._validated_design(X)

    def get_feature_names_out(self, input_features=None):
        """Names of the columns of :meth:`transform`.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input names; ``feature_names_in_`` or ``x0, x1, ...`` when None.

        Returns
        -------
        feature_names_out : ndarray of str objects
            Kept log-odds columns, the meta-features (``mean``, or ``mean[c]`` per class
            ``c`` for more than two classes), then the extra columns.
        """
        check_is_fitted(self)
        names = check_input_features(self, input_features)
        design = self._design(np.empty((0, self.n_features_in_)))
        return np.asarray(design.feature_names(names), dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
