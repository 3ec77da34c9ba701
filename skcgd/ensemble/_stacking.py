"""Ridge stacking of base estimators: out-of-fold predictions, then a regularized meta stage."""

from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin, clone
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d

from skcgd._compat import HasMethods, Interval, StrOptions, _fit_context
from skcgd._validation import check_classification_labels
from skcgd.ensemble._base import _BaseStacking
from skcgd.ensemble._blending import aligned_proba
from skcgd.ensemble._fitting import fit_atomically
from skcgd.ensemble._meta_classifier import DEFAULT_CS, RegularizedMetaClassifier, check_Cs
from skcgd.ensemble._meta_learner import RegularizedMetaLearner

__all__ = ["RidgeStackingClassifier", "RidgeStackingRegressor"]

# probabilities are clipped to [eps, 1 - eps] before the log-odds (a tree's 0 and 1 would be
# infinite); logit(1e-6) = -13.8
_PROBA_EPS = 1e-6


class RidgeStackingRegressor(RegressorMixin, _BaseStacking):
    r"""Stacked generalization with a regularized, de-duplicating meta-learner.

    Every base estimator is fitted ``cv`` times to produce out-of-fold predictions on the
    training rows (all ``(estimator, fold)`` fits run in one joblib ``Parallel``), then refitted
    on all rows for prediction; a meta-learner is fitted on the out-of-fold matrix
    (``oof_predictions_``). The default meta-learner is
    :class:`~skcgd.ensemble.RegularizedMetaLearner`: redundancy-aware de-duplication of the
    base models, row-wise meta-features, cross-validated ridge, Lasso and elastic net, blended
    by inverse out-of-fold RMSE. With ``meta_learner=sklearn.linear_model.RidgeCV()`` it is
    scikit-learn's :class:`~sklearn.ensemble.StackingRegressor`.

    Parameters
    ----------
    estimators : list of (str, estimator)
        Base regressors, each with a unique name; ``"drop"`` disables one.

    meta_learner : regressor, default=None
        Fitted (a clone of it) on the out-of-fold predictions. None means
        ``RegularizedMetaLearner(n_jobs=n_jobs)``. A :class:`RegularizedMetaLearner` is told
        which columns are predictions (the others come from ``passthrough``), and gets the
        ``groups`` of :meth:`fit`.

    cv : int, cross-validation generator, iterable or "prefit", default=5
        Splits for the out-of-fold predictions; an integer means ``KFold`` (not shuffled),
        as in scikit-learn. The test sets must not overlap; rows in none of them (e.g. the first
        block of ``TimeSeriesSplit``) are left out of the meta-learner's fit. ``"prefit"``:
        the estimators are already fitted and their in-sample predictions are used (fit them
        on data disjoint from this fit's, or the meta-learner overfits).

    n_jobs : int, default=None
        Number of joblib workers for the base fits (None means 1 unless in a
        ``joblib.parallel_config`` context; -1 means all processors), also given to the
        default meta-learner's outer-fold fits.

    passthrough : bool, default=False
        Also give the original features to the meta-learner.

    verbose : int, default=0
        Verbosity of joblib.

    Attributes
    ----------
    estimators_ : list of estimators
        The base estimators fitted on all rows (or the prefitted ones).

    named_estimators_ : dict
        The same, by name (a plain dict, which skops loads without extra trust).

    stack_method_ : list of str
        The method called on every base estimator (``"predict"``).

    oof_predictions_ : ndarray of shape (n_samples, n_estimators)
        Out-of-fold predictions of every base estimator (NaN for rows in no test fold); the
        meta-learner's training input (before ``passthrough``).

    meta_learner_ : regressor
        The fitted meta-learner.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when the base estimators record them.

    See Also
    --------
    RegularizedMetaLearner : The default meta-learner, usable on precomputed predictions.
    RidgeStackingClassifier : The classification counterpart.
    sklearn.ensemble.StackingRegressor : Stacking with a single final estimator.

    Notes
    -----
    For rows :math:`i` in test fold :math:`F_k` and base model :math:`m` fitted without
    :math:`F_k`, ``oof_predictions_[i, m]`` :math:`= \hat f_m^{(-k)}(x_i)`; prediction is
    :math:`g(\hat f_1(x), \dots, \hat f_M(x))` with the meta-learner :math:`g` and the base
    models refitted on all rows. ``sample_weight`` is passed to every base fit (fold and
    full) and to the meta-learner; ``groups`` to the splitters (``cv=GroupKFold()`` keeps a
    group's rows in one fold) and to every fit that takes them.

    References
    ----------
    D. H. Wolpert, "Stacked generalization", Neural Networks 5(2), 1992.

    L. Breiman, "Stacked regressions", Machine Learning 24, 1996.

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from sklearn.linear_model import LinearRegression, Ridge
    >>> from sklearn.neighbors import KNeighborsRegressor
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> from skcgd.ensemble import RidgeStackingRegressor
    >>> X, y = make_friedman1(n_samples=300, random_state=0)
    >>> estimators = [("ols", LinearRegression()), ("ridge", Ridge(1e-3)),
    ...               ("knn", KNeighborsRegressor(10)),
    ...               ("tree", DecisionTreeRegressor(max_depth=5, random_state=0))]
    >>> stack = RidgeStackingRegressor(estimators).fit(X, y)
    >>> stack.oof_predictions_.shape
    (300, 4)
    >>> [d["name"] for d in stack.meta_learner_.dropped_columns_]
    ['ols']
    >>> stack.predict(X[:2]).shape
    (2,)
    """

    def __init__(
        self, estimators, *, meta_learner=None, cv=5, n_jobs=None, passthrough=False, verbose=0
    ):
        self.estimators = estimators
        self.meta_learner = meta_learner
        self.cv = cv
        self.n_jobs = n_jobs
        self.passthrough = passthrough
        self.verbose = verbose

    def _check_target(self, y):
        return column_or_1d(check_array(y, ensure_2d=False, dtype=np.float64), warn=True)

    def _method(self, name, est):
        if not hasattr(est, "predict"):
            raise ValueError(f"Estimator {name!r} has no predict method.")
        return "predict"

    def _to_meta(self, out, method, classes=None):
        out = np.asarray(out, dtype=np.float64)
        if out.ndim == 2 and out.shape[1] != 1:
            raise ValueError(
                "RidgeStackingRegressor supports single-output base regressors "
                f"only, got predictions of shape {out.shape}."
            )
        return out.reshape(-1, 1)

    def _meta_estimator(self, n_columns, y):
        if self.meta_learner is None:
            meta = RegularizedMetaLearner(n_jobs=self.n_jobs)
        else:
            meta = clone(self.meta_learner)
        if isinstance(meta, RegularizedMetaLearner) and self.passthrough:
            meta.set_params(n_predictions=n_columns)
        return meta

    @_fit_context(prefer_skip_nested_validation=False)
    @fit_atomically
    def fit(self, X, y, sample_weight=None, groups=None):
        """Fit the base estimators out of fold and on all rows, then the meta-learner.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training input (anything the base estimators accept).

        y : array-like of shape (n_samples,)
            Target values.

        sample_weight : array-like of shape (n_samples,), default=None
            Passed to every fit of every base estimator and to the meta-learner.

        groups : array-like of shape (n_samples,), default=None
            Group labels of the samples: passed to the ``cv`` splitter (e.g. ``GroupKFold``),
            to every base estimator whose ``fit`` takes ``groups`` and to the meta-learner.

        Returns
        -------
        self : object
            The fitted stack.
        """
        return self._fit_stack(X, y, sample_weight, groups)

    def predict(self, X):
        """Meta-learner's prediction on the base estimators' predictions.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted values.
        """
        check_is_fitted(self)
        return self.meta_learner_.predict(self.transform(X))


class RidgeStackingClassifier(ClassifierMixin, _BaseStacking):
    r"""Stacking of classifiers on out-of-fold log-odds with regularised logistic meta-models.

    Every base classifier is fitted ``cv`` times to produce out-of-fold class probabilities
    (``predict_proba``; ``decision_function`` for classifiers without it), all
    ``(estimator, fold)`` fits in one joblib ``Parallel``, then refitted on all rows. The
    probabilities enter the meta stage as log-odds, ``log(p / (1 - p))`` (the positive class
    for binary problems, every class for multiclass ones), the scale on which a linear
    meta-model combines evidence. The default meta stage is a
    :class:`~skcgd.ensemble.RegularizedMetaClassifier` built from this estimator's
    parameters, the stages of :class:`~skcgd.ensemble.RegularizedMetaLearner` for
    classification:

    1. base models are visited from the smallest out-of-fold log-loss up; one is dropped when
       an already kept one has log-odds correlation ``>= corr_threshold`` and a mean squared
       difference of probabilities ``<= mse_threshold`` times the variance of the class
       indicators (near-constant models are dropped too);
    2. per class, row-wise statistics of the kept log-odds are appended (by default mean,
       std, median and range);
    3. each meta-model (default: skcgd's L2-penalised logistic regression,
       :class:`~skcgd.linear_model.MinimaxLogisticRegression` with ``adversary="none"``) is
       fitted on the standardised design with ``C`` chosen from ``Cs`` by inner stratified
       CV (log-loss), and evaluated out of fold by ``meta_cv``; the choice of ``C`` is
       nested: every outer fold makes it again on its own training rows, so the out-of-fold
       log-losses (and the blend weights) are not tuned on the rows they judge;
    4. the meta-models' probabilities are averaged with weights proportional to the inverse
       of their out-of-fold log-loss.

    With ``meta_learner`` given, that classifier replaces stages 1-4 and is fitted on the
    out-of-fold log-odds directly (scikit-learn's ``StackingClassifier`` on log-odds), and the
    parameters from ``corr_threshold`` to ``blend`` are not used: pass
    ``meta_learner=RegularizedMetaClassifier(...)`` to set the meta stage in one object (it
    is told which columns are log-odds, and gets the ``groups`` of :meth:`fit`).

    Parameters
    ----------
    estimators : list of (str, estimator)
        Base classifiers, each with a unique name; ``"drop"`` disables one.

    meta_learner : classifier, default=None
        If given, fitted (a clone) on the out-of-fold log-odds instead of the default meta
        stage, ``RegularizedMetaClassifier`` with the parameters below.

    cv : int, cross-validation generator, iterable or "prefit", default=5
        Splits for the out-of-fold predictions; an integer means ``StratifiedKFold`` (not
        shuffled). ``"prefit"`` uses already fitted estimators' in-sample outputs.

    n_jobs : int, default=None
        Number of joblib workers for the base fits, and for the meta stage's independent
        fits (every inner fold's C grid, every refit; threads preferred there, the design
        being small and shared). The result does not depend on it.

    passthrough : bool, default=False
        Also give the original features to the meta stage (they skip stages 1 and 2).

    stack_method : {"auto", "predict_proba", "decision_function"}, default="auto"
        Base-model output: ``"auto"`` takes ``predict_proba`` when available (then log-odds),
        else ``decision_function``.

    corr_threshold : float in [0, 1] or None, default=0.95
        Stage 1 correlation threshold (None: no redundancy test).

    mse_threshold : float, default=1e-3
        Stage 1 mean squared difference threshold, relative to the class indicators'
        variance.

    var_threshold : float, default=1e-4
        Models whose probabilities vary less than this (relative) are dropped.

    meta_features : bool or tuple of str, default=True
        The per-class row-wise statistics of stage 2 (with three kept models or more), as in
        :class:`RegularizedMetaLearner`: True means ``("mean", "std", "median", "range")``.

    meta_models : list of (str, classifier), default=None
        The meta-models of stage 3; None means one L2-penalised logistic regression,
        ``MinimaxLogisticRegression(adversary="none")`` (Newton's method; the objective of
        scikit-learn's ``LogisticRegression``). Each gets its ``C`` from ``Cs`` by inner CV
        if it has a ``C`` parameter; one with a ``warm_start`` parameter is warm-started
        along the grid of ``C`` inside an inner fold.

    Cs : tuple of float, default=(0.01, 0.1, 1.0, 10.0, 100.0)
        Inverse penalties tried for each meta-model (at least one).

    meta_cv : int or cross-validation generator, default=5
        Outer splits of the meta stage (out-of-fold meta predictions, blend weights); an
        integer means ``StratifiedKFold``. The ``cv`` of the ``RegularizedMetaClassifier``.

    inner_cv : int or cross-validation generator, default=3
        Splits choosing ``C``, made within the rows of each fit (each outer fold's training
        rows, then all rows); an integer means ``StratifiedKFold``. Each inner training fold
        is standardised on its own rows.

    blend : {"inverse_log_loss", "uniform"}, default="inverse_log_loss"
        Weights of the meta-models.

    verbose : int, default=0
        Verbosity of joblib.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.

    estimators_ : list of estimators
        The base classifiers fitted on all rows (or the prefitted ones).

    named_estimators_ : dict
        The same, by name (a plain dict, which skops loads without extra trust).

    stack_method_ : list of str
        ``"predict_proba"`` or ``"decision_function"`` per base classifier.

    oof_predictions_ : ndarray of shape (n_samples, n_meta_columns)
        Out-of-fold log-odds (or decision values) of every base classifier: one column each
        for binary problems, one per class for multiclass ones.

    meta_learner_ : classifier
        The fitted meta stage. By default a :class:`RegularizedMetaClassifier`, with
        ``kept_columns_`` (kept base models), ``dropped_columns_``,
        ``condition_number_before_``, ``condition_number_after_``,
        ``condition_number_design_``, ``C_`` (per meta-model, chosen on all rows),
        ``meta_oof_C_`` (per meta-model, the C chosen in every outer fold),
        ``meta_oof_proba_``, ``meta_oof_log_loss_`` and ``blend_weights_``.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when the base estimators record them.

    See Also
    --------
    RegularizedMetaClassifier : The default meta stage, usable on precomputed log-odds.
    RidgeStackingRegressor : The regression counterpart.
    sklearn.ensemble.StackingClassifier : Stacking with a single final estimator.

    Notes
    -----
    For a base model with out-of-fold probability :math:`p_{ik}` the meta columns are
    :math:`\operatorname{logit}(\min(\max(p_{ik}, \epsilon), 1 - \epsilon))`,
    :math:`\epsilon = 10^{-6}`. The blended probability is
    :math:`\sum_m w_m P_m(y \mid x)`, :math:`w_m \propto 1 / \mathrm{LogLoss}_m`.
    ``sample_weight`` is passed to every base fit and to the meta stage; ``groups`` to the
    splitters (``cv=GroupKFold()``) and to every fit that takes them.

    Cost of the meta stage: with ``meta_cv=5``, ``inner_cv=3`` and 5 values of ``Cs``, the
    nested choice of ``C`` fits each meta-model ``(5 + 1) * (3 * 5 + 1) = 96`` times (on
    the small ``n_samples x n_meta_columns`` design); ``n_jobs`` runs them in parallel.
    Stage 1 uses all rows, so the out-of-fold log-losses are slightly optimistic about the
    de-duplication only.

    References
    ----------
    D. H. Wolpert, "Stacked generalization", Neural Networks 5(2), 1992.

    K. M. Ting and I. H. Witten, "Issues in stacked generalization", JAIR 10, 1999.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from skcgd.ensemble import RidgeStackingClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> estimators = [("nb", GaussianNB()), ("knn", KNeighborsClassifier(15)),
    ...               ("tree", DecisionTreeClassifier(max_depth=4, random_state=0))]
    >>> clf = RidgeStackingClassifier(estimators).fit(X, y)
    >>> clf.oof_predictions_.shape
    (569, 3)
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    >>> bool(clf.score(X, y) > 0.9)
    True
    """

    _parameter_constraints: dict = {
        **_BaseStacking._parameter_constraints,
        "meta_learner": [None, HasMethods(["fit", "predict_proba"])],
        "stack_method": [StrOptions({"auto", "predict_proba", "decision_function"})],
        "corr_threshold": [Interval(Real, 0, 1, closed="both"), None],
        "mse_threshold": [Interval(Real, 0, None, closed="left")],
        "var_threshold": [Interval(Real, 0, None, closed="left")],
        "meta_features": ["boolean", tuple, list],
        "meta_models": [list, None],
        "Cs": ["array-like"],
        "meta_cv": ["cv_object"],
        "inner_cv": ["cv_object"],
        "blend": [StrOptions({"inverse_log_loss", "uniform"})],
    }

    def __init__(
        self,
        estimators,
        *,
        meta_learner=None,
        cv=5,
        n_jobs=None,
        passthrough=False,
        stack_method="auto",
        corr_threshold=0.95,
        mse_threshold=1e-3,
        var_threshold=1e-4,
        meta_features=True,
        meta_models=None,
        Cs=DEFAULT_CS,
        meta_cv=5,
        inner_cv=3,
        blend="inverse_log_loss",
        verbose=0,
    ):
        self.estimators = estimators
        self.meta_learner = meta_learner
        self.cv = cv
        self.n_jobs = n_jobs
        self.passthrough = passthrough
        self.stack_method = stack_method
        self.corr_threshold = corr_threshold
        self.mse_threshold = mse_threshold
        self.var_threshold = var_threshold
        self.meta_features = meta_features
        self.meta_models = meta_models
        self.Cs = Cs
        self.meta_cv = meta_cv
        self.inner_cv = inner_cv
        self.blend = blend
        self.verbose = verbose

    def _check_target(self, y):
        y = column_or_1d(
            check_array(y, ensure_2d=False, dtype=None, ensure_all_finite=False), warn=True
        )
        check_classification_labels(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if self.classes_.shape[0] < 2:
            raise ValueError(
                "RidgeStackingClassifier needs samples of at least two classes; "
                f"got one class ({self.classes_[0]!r})."
            )
        if self.meta_learner is None:
            check_Cs(self.Cs)  # before the base models are fitted, not after
        return encoder.transform(y)

    def _method(self, name, est):
        order = (
            ["predict_proba", "decision_function"]
            if self.stack_method == "auto"
            else [self.stack_method]
        )
        for method in order:
            if hasattr(est, method):
                return method
        raise ValueError(f"Estimator {name!r} implements none of {order}.")

    def _to_meta(self, out, method, classes=None):
        """Log-odds (or decision values) with one column per class 0..K-1 (one if binary)."""
        out = np.asarray(out, dtype=np.float64)
        K = self.classes_.shape[0]
        if classes is not None:
            classes = np.asarray(classes)
            if isinstance(self.cv, str) and self.cv == "prefit":  # fitted on the labels
                classes = np.searchsorted(self.classes_, classes)
            classes = classes.astype(np.intp)
        if method == "predict_proba":
            if classes is not None and not np.array_equal(classes, np.arange(K)):
                full = np.zeros((out.shape[0], K))
                full[:, classes] = out
                out = full
            p = np.clip(out, _PROBA_EPS, 1.0 - _PROBA_EPS)
            logit = np.log(p) - np.log1p(-p)
            return logit[:, 1:] if K == 2 else logit
        if out.ndim == 1:
            out = out.reshape(-1, 1)
        if K > 2 and classes is not None and not np.array_equal(classes, np.arange(K)):
            full = np.full((out.shape[0], K), out.min() - 1.0)
            full[:, classes] = out
            out = full
        return out

    def _meta_estimator(self, n_columns, y):
        if self.meta_learner is not None:
            meta = clone(self.meta_learner)
        else:
            meta = RegularizedMetaClassifier(
                corr_threshold=self.corr_threshold,
                mse_threshold=self.mse_threshold,
                var_threshold=self.var_threshold,
                meta_features=self.meta_features,
                meta_models=self.meta_models,
                Cs=self.Cs,
                cv=self.meta_cv,
                inner_cv=self.inner_cv,
                blend=self.blend,
                n_jobs=self.n_jobs,
            )
        if not isinstance(meta, RegularizedMetaClassifier):
            return meta
        # its log-odds layout (one column per class and model, or one per model for two
        # classes) must be that of the classes it sees
        if len(set(self._n_outputs)) != 1:
            raise ValueError(
                f"Every base classifier must give one output per class (got {self._n_outputs})."
            )
        missing = np.setdiff1d(np.arange(self.classes_.shape[0]), y)
        if missing.size:
            label = self.classes_[missing[0]]
            raise ValueError(
                f"No row with an out-of-fold prediction has the class "
                f"{getattr(label, 'item', lambda: label)()!r}: the test folds of cv must "
                "cover every class."
            )
        if self.passthrough:
            meta.set_params(n_predictions=n_columns)
        return meta

    @_fit_context(prefer_skip_nested_validation=False)
    @fit_atomically
    def fit(self, X, y, sample_weight=None, groups=None):
        """Fit the base classifiers out of fold and on all rows, then the meta stage.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training input (anything the base estimators accept).

        y : array-like of shape (n_samples,)
            Class labels (at least two classes).

        sample_weight : array-like of shape (n_samples,), default=None
            Passed to every fit of every base estimator and to the meta stage.

        groups : array-like of shape (n_samples,), default=None
            Group labels of the samples: passed to the ``cv`` splitter (e.g. ``GroupKFold``),
            to every base estimator whose ``fit`` takes ``groups`` and to the meta stage.

        Returns
        -------
        self : object
            The fitted stack.
        """
        return self._fit_stack(X, y, sample_weight, groups)

    def predict_proba(self, X):
        """Class probabilities of the blended meta-models.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, columns in the order of ``classes_``.
        """
        check_is_fitted(self)
        return aligned_proba(self.meta_learner_, self.transform(X), self.classes_.shape[0])

    def predict(self, X):
        """Most probable class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted class labels.
        """
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
