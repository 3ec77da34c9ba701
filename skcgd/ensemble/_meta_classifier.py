"""The classification meta stage: RegularizedMetaClassifier on out-of-fold log-odds."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.validation import check_is_fitted

from skcgd._compat import Interval, StrOptions, _fit_context, validate_data
from skcgd._validation import (
    check_classification_labels,
    check_groups,
    check_input_features,
    check_sample_weight,
)
from skcgd.ensemble._blending import aligned_proba
from skcgd.ensemble._design import condition_number, prediction_block, scale_columns
from skcgd.ensemble._fitting import fit_atomically
from skcgd.ensemble._meta_classifier_search import fit_fixed, fit_searched, prune_models
from skcgd.ensemble._meta_features import (
    MIN_MODELS_FOR_META_FEATURES,
    MetaDesign,
    block_columns,
    meta_feature_names,
)
from skcgd.ensemble._stage_search import Progress

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

    Which stages run is chosen by nested cross-validation (``stages="auto"``, the default),
    as in :class:`RegularizedMetaLearner`, scored by the out-of-fold log-loss
    (``cv_results_``); ``stages="paper"`` runs the fixed pipeline of the parameters.

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

    stages : {"auto", "paper"} or list of dict, default="auto"
        ``"paper"``: the stages as the parameters above set them (bit for bit the default of
        earlier releases). ``"auto"``: candidate configurations scored by the outer ``cv``
        (log-loss) and the best refitted: pruning at the thresholds given, off (``None`` and
        0), and with (``corr_threshold``, ``mse_threshold``) at (0.99, 1e-4) and (0.9,
        1e-2); ``meta_features`` as given, and False; ``final`` ``"blend"`` and, with several
        meta-models, ``"best"``: 8 candidates with the default single meta-model, the
        parameters' own first. A list of dicts with some of the keys ``corr_threshold``,
        ``mse_threshold``, ``var_threshold``, ``meta_features``, ``final`` (the others as
        the parameters set them, ``final`` ``"blend"``) gives the candidates. Duplicates are
        scored once; of equal scores the first wins. The choice is nested (see Notes).

    verbose : int, default=0
        1 prints one line per stage (and per candidate configuration) with its seconds,
        ``[RegularizedMetaClassifier] what (seconds s)``; 0 prints nothing.

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

    cv_results_ : dict of ndarray
        One entry per candidate configuration, as scikit-learn's searches: ``params``,
        ``param_<key>``, ``split<k>_test_score`` (minus the log-loss on outer test fold
        ``k``), ``mean_test_score`` (minus the log-loss pooled over every out-of-fold row:
        the criterion), ``std_test_score``, ``rank_test_score``, ``mean_test_log_loss`` and
        ``mean_n_kept``. With ``stages="paper"``, one row (its stage 1 on all rows).

    best_index_ : int
        The chosen candidate: the smallest ``mean_test_log_loss`` (the first of equals).

    best_params_ : dict
        Its configuration, which the other attributes describe.

    best_score_ : float
        Its ``mean_test_score``.

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
    n_design_features`` design. With ``stages="paper"`` stage 1 uses all rows, so the
    out-of-fold log-losses are slightly optimistic about the de-duplication only. With
    ``stages="auto"`` every candidate is nested in the outer folds: stage 1 on each outer
    training fold's rows, ``C`` by inner CV, and the blend weights (or the best single
    meta-model) from the inner-CV log-losses; candidates that keep the same models in a fold
    share its fits, so the search costs one set of fits per distinct design (usually 2-6 per
    fold).

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
    >>> meta = RegularizedMetaClassifier(Cs=(0.1, 1.0), stages="paper").fit(L, y)
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
        meta_models=None,
        Cs=DEFAULT_CS,
        cv=5,
        inner_cv=3,
        blend="inverse_log_loss",
        standardize=True,
        n_predictions=None,
        n_jobs=None,
        stages="auto",
        verbose=0,
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
        self.stages = stages
        self.verbose = verbose

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
            (e.g. ``GroupKFold``); other splitters ignore them. Both splitters also get the
            rows' ``y`` (e.g. ``StratifiedKFold``).

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

        progress = Progress(self)
        progress.done(f"input checks ({n} rows, {n_pred} log-odds columns)")
        fit = fit_fixed if self.stages == "paper" else fit_searched
        return fit(self, X, y, Y, sw, groups, models, Cs, k, n_pred, progress)

    # ------------------------------------------------------------------ the stages' results
    # (shared by the fixed and the searched fits, skcgd.ensemble._meta_classifier_search)

    def _log_odds(self, X, n_pred):
        """The log-odds columns of X, dense."""
        n = X.shape[0]
        return prediction_block(X, np.arange(n), np.arange(n_pred))

    def _stage_one(self, X, Y, sw, k, n_pred, stages):
        """Stage 1 on all rows with the configuration ``stages``, and its attributes."""
        L = self._log_odds(X, n_pred)
        kept, dropped, errors = prune_models(L, Y, sw, n_pred, k, stages)
        names = check_input_features(self)
        for record in dropped:
            b = record["column"]
            record["name"] = str(names[b]) if k == 1 else ", ".join(names[b * k : (b + 1) * k])
        self.model_log_loss_ = errors
        self.kept_columns_ = kept
        self.dropped_columns_ = dropped
        self.condition_number_before_ = condition_number(L, sw)
        self.condition_number_after_ = condition_number(L[:, block_columns(kept, k)], sw)
        self._meta_names = meta_feature_names(stages["meta_features"])
        self._use_meta = bool(self._meta_names) and kept.size >= MIN_MODELS_FOR_META_FEATURES

    def _set_condition_design(self, D, sw):
        self.condition_number_design_ = condition_number(D, sw) if not sp.issparse(D) else np.nan

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
