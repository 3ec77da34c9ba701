"""RidgeStackingClassifier: out-of-fold log-odds of base models, then a regularized meta stage.

The API is scikit-learn's ``StackingClassifier`` (``final_estimator``, ``stack_method`` with
its per-model ``"auto"`` fallback to ``predict``, base regressors, multilabel targets,
``decision_function``, ``predict`` parameters passed to the final estimator, metadata
routing); what differs is what enters the meta stage (log-odds of tempered probabilities,
:mod:`skcgd.ensemble._representation`) and the default meta stage
(:class:`~skcgd.ensemble.RegularizedMetaClassifier`).
"""

from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import ClassifierMixin
from sklearn.multioutput import MultiOutputClassifier
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d

from skcgd._compat import Interval, StrOptions, _fit_context
from skcgd._validation import _check_discrete_values, check_classification_labels
from skcgd.ensemble._base import DEPRECATED, _BaseStacking, _final_has, _routing_enabled
from skcgd.ensemble._blending import aligned_proba
from skcgd.ensemble._fitting import fit_atomically
from skcgd.ensemble._meta_classifier import DEFAULT_CS, RegularizedMetaClassifier, check_Cs
from skcgd.ensemble._representation import (
    log_odds,
    output_block,
    positive_proba,
    proba_columns,
)

__all__ = ["RidgeStackingClassifier"]


def _inner_meta(meta):
    """The RegularizedMetaClassifier of a meta stage (per label inside a multilabel one)."""
    if isinstance(meta, MultiOutputClassifier):
        meta = meta.estimator
    return meta if isinstance(meta, RegularizedMetaClassifier) else None


def _final_has_decision(self):
    """``available_if`` check of ``decision_function``: the final estimator's own, or one
    derived from the probabilities of the default meta stage."""
    final = getattr(self, "final_estimator_", None)
    if final is None:
        final = self._final_estimator_param()
    if final is None or _inner_meta(final) is not None:
        return True
    getattr(final, "decision_function")  # its AttributeError becomes the cause
    return True


class RidgeStackingClassifier(ClassifierMixin, _BaseStacking):
    r"""Stacking of classifiers on out-of-fold log-odds with regularised logistic meta-models.

    Every base estimator is fitted ``cv`` times to produce out-of-fold outputs (class
    probabilities by default), all ``(estimator, fold)`` fits in one joblib ``Parallel``,
    then refitted on all rows. Probabilities enter the default meta stage twice
    (``stack_representation="both"``): as log-odds, ``log(p / (1 - p))`` (the positive class
    for binary problems, every class for multiclass ones, every label for multilabel ones),
    the scale on which a linear meta-model adds evidence, and as themselves, bounded where the
    log-odds of an overconfident model (Gaussian naive Bayes) reach the clipping bound of
    :math:`\pm 13.8` on the rows it gets wrong; the penalised meta-models weigh the two per
    base model, with the penalty chosen by their inner cross-validation. The default meta
    stage is a
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
       nested: every outer fold makes it again on its own training rows;
    4. the meta-models' probabilities are averaged with weights proportional to the inverse
       of their out-of-fold log-loss.

    With ``final_estimator`` given, that classifier replaces stages 1-4 and is fitted on the
    out-of-fold columns directly (scikit-learn's ``StackingClassifier`` on log-odds), and the
    parameters from ``corr_threshold`` to ``stages`` are not used: pass
    ``final_estimator=RegularizedMetaClassifier(...)`` to set the meta stage in one object (it
    is told which columns are log-odds, and gets the ``groups`` of :meth:`fit`).

    Parameters
    ----------
    estimators : list of (str, estimator)
        Base estimators, each with a unique name; ``"drop"`` disables one. Usually
        classifiers; a regressor (e.g. for ordinal classes) is fitted on the class codes
        ``0..K-1`` and gives one column of predictions.

    final_estimator : classifier, default=None
        If given, fitted (a clone) on the out-of-fold columns instead of the default meta
        stage, ``RegularizedMetaClassifier`` with the parameters below. :meth:`predict`,
        :meth:`predict_proba` and :meth:`decision_function` exist when it has them
        (LinearSVC, RidgeClassifier: ``predict`` and ``decision_function`` only).

        .. versionchanged:: 0.2
           Renamed from ``meta_learner`` (scikit-learn's name).

    cv : int, cross-validation generator, iterable or "prefit", default=5
        Splits for the out-of-fold outputs; an integer means ``StratifiedKFold`` (``KFold``
        for multilabel targets), not shuffled. ``"prefit"`` uses already fitted estimators'
        in-sample outputs.

    n_jobs : int, default=None
        Number of joblib workers for the base fits, and for the meta stage's independent
        fits. The result does not depend on it.

    passthrough : bool, default=False
        Also give the original features to the meta stage (they skip stages 1 and 2).

    stack_method : {"auto", "predict_proba", "decision_function", "predict"}, default="auto"
        Base-model output: ``"auto"`` takes, per base model, the first of ``predict_proba``,
        ``decision_function`` and ``predict`` it has (``predict`` for a regressor); the
        others make every base model give that output. A classifier's labels count as
        probabilities 0 and 1.

    stack_representation : {"auto", "log_odds", "proba", "both"}, default="auto"
        What probabilities (and labels) become in the meta design: their log-odds, the
        probabilities themselves (scikit-learn's ``StackingClassifier``; only with a
        ``final_estimator`` other than ``RegularizedMetaClassifier``, which reads log-odds),
        or both (the log-odds first, the probabilities as extra columns named
        ``<estimator>_proba``). ``"auto"`` is ``"both"`` for the default meta stage (or a
        ``RegularizedMetaClassifier``), ``"log_odds"`` for any other final estimator.
        Decision values and a regressor's predictions are stacked as they are.

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
        ``MinimaxLogisticRegression(adversary="none")``. Each gets its ``C`` from ``Cs`` by
        inner CV if it has a ``C`` parameter.

    Cs : tuple of float, default=(0.01, 0.1, 1.0, 10.0, 100.0)
        Inverse penalties tried for each meta-model (at least one).

    meta_cv : int or cross-validation generator, default=5
        Outer splits of the meta stage (out-of-fold meta predictions, blend weights); an
        integer means ``StratifiedKFold``. The ``cv`` of the ``RegularizedMetaClassifier``.

    inner_cv : int or cross-validation generator, default=3
        Splits choosing ``C``, made within the rows of each fit; an integer means
        ``StratifiedKFold``.

    blend : {"inverse_log_loss", "uniform"}, default="inverse_log_loss"
        Weights of the meta-models.

    stages : {"auto", "paper"} or list of dict, default="auto"
        Which of stages 1-4 run: chosen by the meta stage's nested cross-validation, or
        ``"paper"``, the fixed pipeline of the parameters above (the ``stages`` of
        :class:`RegularizedMetaClassifier`).

    verbose : int, default=0
        1 prints one line per base model and fold, per refit on all rows and for the final
        estimator (name and seconds), and makes the default meta stage report its stages;
        2 and more also joblib's progress. 0 prints nothing.

    meta_learner : classifier or None
        Deprecated name of ``final_estimator``: still accepted, with a ``FutureWarning``.

        .. deprecated:: 0.2
           Use ``final_estimator``; ``meta_learner`` will be removed in 0.4.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,) or list of ndarray
        Class labels (one array per label for multilabel targets).

    estimators_ : list of estimators
        The base estimators fitted on all rows (or the prefitted ones).

    named_estimators_ : dict
        The same, by name (a plain dict, which skops loads without extra trust).

    stack_method_ : list of str
        The method called on every base estimator.

    stack_representation_ : str
        The representation used: ``"log_odds"``, ``"proba"`` or ``"both"``.

    oof_predictions_ : ndarray of shape (n_samples, n_meta_columns)
        Out-of-fold outputs of every base estimator in their stacked representation, the
        final estimator's input before ``passthrough``: one block per base model (one column
        for binary problems, one per class for multiclass ones, one per label for multilabel
        ones), then the extra blocks (a base regressor's column, the probabilities of
        ``"both"``).

    final_estimator_ : classifier
        The fitted meta stage (also ``meta_learner_``, its name before 0.2). By default a
        :class:`RegularizedMetaClassifier` (one per label, in a
        ``sklearn.multioutput.MultiOutputClassifier``, for multilabel targets).

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when the base estimators record them.

    See Also
    --------
    RegularizedMetaClassifier : The default meta stage, usable on precomputed log-odds.
    RidgeStackingRegressor : The regression counterpart.
    sklearn.ensemble.StackingClassifier : Stacking of probabilities with a single final
        estimator.

    Notes
    -----
    For a base model with out-of-fold probability :math:`p_{ik}` the log-odds columns are
    :math:`\operatorname{logit}(\min(\max(p_{ik}, \epsilon), 1 - \epsilon))`,
    :math:`\epsilon = 10^{-6}`. Log-odds alone make the stack fragile to an overconfident
    base model: with Gaussian naive Bayes among the base models, on digits, they cost 0.6
    accuracy points against scikit-learn's ``StackingClassifier``, which stacks
    probabilities; with both representations the stack is on par with it in accuracy and
    below it in log-loss (``benchmarks/bench_stacking_representation.py``).

    ``sample_weight`` is passed to every base fit and to the meta stage; ``groups`` to the
    splitters (``cv=GroupKFold()``) and to every fit that takes them. With
    ``sklearn.set_config(enable_metadata_routing=True)``, the base estimators and the ``cv``
    splitter get the metadata they request (``set_fit_request``), and ``predict``'s keyword
    arguments are routed to the final estimator.

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
    (569, 6)
    >>> list(clf.get_feature_names_out())  # log-odds, then the probabilities
    ['nb', 'knn', 'tree', 'nb_proba', 'knn_proba', 'tree_proba']
    >>> clf.predict_proba(X[:2]).shape, clf.decision_function(X[:2]).shape
    ((2, 2), (2,))
    >>> bool(clf.score(X, y) > 0.9)
    True
    """

    _parameter_constraints: dict = {
        **_BaseStacking._parameter_constraints,
        "stack_method": [StrOptions({"auto", "predict_proba", "decision_function", "predict"})],
        "stack_representation": [StrOptions({"auto", "log_odds", "proba", "both"})],
        "corr_threshold": [Interval(Real, 0, 1, closed="both"), None],
        "mse_threshold": [Interval(Real, 0, None, closed="left")],
        "var_threshold": [Interval(Real, 0, None, closed="left")],
        "meta_features": ["boolean", tuple, list],
        "meta_models": [list, None],
        "Cs": ["array-like"],
        "meta_cv": ["cv_object"],
        "inner_cv": ["cv_object"],
        "blend": [StrOptions({"inverse_log_loss", "uniform"})],
        "stages": [StrOptions({"auto", "paper"}), list],
    }

    # a regressor is fitted on the class codes (scikit-learn's StackingClassifier allows it)
    _accepted_types = ("classifier", "regressor")

    def __init__(
        self,
        estimators,
        *,
        final_estimator=None,
        cv=5,
        n_jobs=None,
        passthrough=False,
        stack_method="auto",
        stack_representation="auto",
        corr_threshold=0.95,
        mse_threshold=1e-3,
        var_threshold=1e-4,
        meta_features=True,
        meta_models=None,
        Cs=DEFAULT_CS,
        meta_cv=5,
        inner_cv=3,
        blend="inverse_log_loss",
        stages="auto",
        verbose=0,
        meta_learner=DEPRECATED,
    ):
        self.estimators = estimators
        self.final_estimator = final_estimator
        self.cv = cv
        self.n_jobs = n_jobs
        self.passthrough = passthrough
        self.stack_method = stack_method
        self.stack_representation = stack_representation
        self.corr_threshold = corr_threshold
        self.mse_threshold = mse_threshold
        self.var_threshold = var_threshold
        self.meta_features = meta_features
        self.meta_models = meta_models
        self.Cs = Cs
        self.meta_cv = meta_cv
        self.inner_cv = inner_cv
        self.blend = blend
        self.stages = stages
        self.verbose = verbose
        self.meta_learner = meta_learner

    # ------------------------------------------------------------------ fit hooks

    def _validated_pairs(self):
        """scikit-learn's checks of the list, without its refusal of regressors."""
        items = self.estimators
        if not items or not all(
            isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], str)
            for item in items
        ):
            raise ValueError(
                "Invalid 'estimators' attribute, 'estimators' should be a non-empty list of "
                "(string, estimator) tuples."
            )
        names, ests = zip(*items)
        self._validate_names(names)
        if all(isinstance(est, str) and est == "drop" for est in ests):
            raise ValueError(
                "All estimators are dropped. At least one is required to be an estimator."
            )
        return list(names), list(ests)

    def _check_target(self, y):
        # labels of mixed types or with None first: type_of_target sorts them, and would fail
        # with "'<' not supported between instances of ..." (found by tests/test_hostile_input)
        labels = None if sp.issparse(y) else np.asarray(y)
        if labels is not None and labels.dtype.kind == "O":
            _check_discrete_values(labels, "y", "a class label")
        self._multilabel = type_of_target(y) == "multilabel-indicator"
        if self._multilabel:
            Y = check_array(y, dtype=None, ensure_2d=True)
            encoders = [LabelEncoder().fit(column) for column in Y.T]
            self.classes_ = [encoder.classes_ for encoder in encoders]
            y = np.column_stack([e.transform(c) for e, c in zip(encoders, Y.T)])
        else:
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
            y = encoder.transform(y)
        final = self._final_estimator_param()
        if final is None:
            check_Cs(self.Cs)  # before the base models are fitted, not after
        ours = final is None or _inner_meta(final) is not None
        representation = self.stack_representation
        if representation == "auto":
            representation = "both" if ours else "log_odds"
        if representation == "proba" and ours:
            raise ValueError(
                "stack_representation='proba' gives the meta stage probabilities, which "
                "RegularizedMetaClassifier reads as log-odds: use 'both' (log-odds, then the "
                "probabilities as extra columns), or another final_estimator."
            )
        self.stack_representation_ = representation
        return y

    def _n_classes(self):
        return 2 if self._multilabel else self.classes_.shape[0]

    def _method(self, name, est):
        if self.stack_method == "auto":
            order = ["predict_proba", "decision_function", "predict"]
        else:
            order = [self.stack_method]
        for method in order:
            if hasattr(est, method):
                return method
        method = order[0] if len(order) == 1 else order
        raise ValueError(f"Underlying estimator {name} does not implement the method {method}.")

    def _raw_block(self, out, method, classes=None):
        return output_block(
            out,
            method,
            classes,
            self.classes_,
            multilabel=self._multilabel,
            prefit=isinstance(self.cv, str) and self.cv == "prefit",
        )

    def _blocks(self, raw_blocks, fit=False):
        """The meta blocks: first one per base model in the estimators' order (log-odds,
        probabilities with ``stack_representation="proba"``, decision values), then the
        extra ones (a base regressor's predictions; the probabilities with
        ``stack_representation="both"``), which are not log-odds."""
        K, ml = self._n_classes(), self._multilabel
        representation = self.stack_representation_
        lead, extra = [], []
        for m, (block, kind) in enumerate(zip(raw_blocks, self._kinds)):
            if kind == "score":
                extra.append((m, "", block))
            elif kind == "decision":
                lead.append((m, "", block))
            elif representation == "proba":
                lead.append((m, "", proba_columns(block, K, multilabel=ml)))
            else:
                lead.append((m, "", log_odds(block, K, multilabel=ml)))
                if representation == "both":
                    extra.append((m, "_proba", proba_columns(block, K, multilabel=ml)))
        if fit:
            self._meta_blocks = [(m, suffix) for m, suffix, _ in lead + extra]
            self._n_lead = len(lead)
        return [block for _, _, block in lead + extra]

    def _default_final_estimator(self):
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
            stages=self.stages,
        )
        if not getattr(self, "_multilabel", False):
            return meta
        if _routing_enabled():  # MultiOutputClassifier routes the weights to it
            meta.set_fit_request(sample_weight=True)
        return MultiOutputClassifier(meta)

    def _final_estimator(self, final, n_columns, y):
        meta = super()._final_estimator(final, n_columns, y)
        inner = _inner_meta(meta)
        if inner is None:
            return meta
        # its log-odds layout (one column per class and model, or one per model for two
        # classes) must be that of the classes it sees; the extra blocks follow it
        lead = self._n_outputs[: self._n_lead]
        if len(set(lead)) > 1:
            raise ValueError(f"Every base classifier must give one output per class (got {lead}).")
        if not self._multilabel:
            missing = np.setdiff1d(np.arange(self.classes_.shape[0]), y)
            if missing.size:
                label = self.classes_[missing[0]]
                raise ValueError(
                    f"No row with an out-of-fold prediction has the class "
                    f"{getattr(label, 'item', lambda: label)()!r}: the test folds of cv must "
                    "cover every class."
                )
        if lead and (self.passthrough or sum(lead) < n_columns):
            inner.set_params(n_predictions=sum(lead))
        return meta

    @_fit_context(prefer_skip_nested_validation=False)
    @fit_atomically
    def fit(self, X, y, sample_weight=None, groups=None, **fit_params):
        """Fit the base estimators out of fold and on all rows, then the final estimator.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training input (anything the base estimators accept).

        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels (at least two classes), or a multilabel indicator matrix.

        sample_weight : array-like of shape (n_samples,), default=None
            Passed to every fit of every base estimator and to the final estimator (with
            metadata routing: to the base estimators that request it).

        groups : array-like of shape (n_samples,), default=None
            Group labels of the samples: passed to the ``cv`` splitter (e.g. ``GroupKFold``),
            to every base estimator whose ``fit`` takes ``groups`` and to the final estimator
            (with metadata routing: to the splitter and base estimators that request them).

        **fit_params : dict
            Further metadata for the base estimators, routed as they request (only with
            ``sklearn.set_config(enable_metadata_routing=True)``).

        Returns
        -------
        self : object
            The fitted stack.
        """
        self._check_fit_params(fit_params)
        return self._fit_stack(X, y, sample_weight, groups, fit_params)

    # ------------------------------------------------------------------ predict side

    @available_if(_final_has("predict"))
    def predict(self, X, **predict_params):
        """The final estimator's class prediction.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        **predict_params : dict
            Passed to the final estimator's ``predict`` (with metadata routing: routed as it
            requests).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Predicted class labels: for the default meta stage, the most probable class.
        """
        check_is_fitted(self)
        params = self._predict_params(predict_params)
        codes = np.asarray(self.final_estimator_.predict(self.transform(X), **params))
        if self._multilabel:
            return np.column_stack(
                [c[codes[:, j].astype(np.intp)] for j, c in enumerate(self.classes_)]
            )
        return self.classes_[codes.astype(np.intp)]

    @available_if(_final_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities of the final estimator.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes) or (n_samples, n_labels)
            Probabilities, columns in the order of ``classes_``; for multilabel targets the
            probability of label 1 (``classes_[j][1]``) per label.
        """
        check_is_fitted(self)
        Z = self.transform(X)
        if not self._multilabel:
            return aligned_proba(self.final_estimator_, Z, self.classes_.shape[0])
        proba = self.final_estimator_.predict_proba(Z)
        if not isinstance(proba, list):
            return np.asarray(proba, dtype=np.float64)
        seen = getattr(self.final_estimator_, "classes_", [None] * len(proba))
        return np.column_stack([positive_proba(p, c) for p, c in zip(proba, seen)])

    @available_if(_final_has("predict_proba"))
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba` (``-inf`` where it is 0).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes) or (n_samples, n_labels)
            Log-probabilities, columns in the order of ``classes_``.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    @available_if(_final_has_decision)
    def decision_function(self, X):
        """Decision values: the final estimator's, or the log-odds of the default meta stage.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        decision : ndarray of shape (n_samples,), (n_samples, n_classes) or (n_samples, n_labels)
            For the default meta stage: ``log(p1 / p0)`` for two classes, ``log p`` per class
            otherwise (its argmax is :meth:`predict`), ``log(p / (1 - p))`` per label. A
            final estimator with ``decision_function`` gives its own.
        """
        check_is_fitted(self)
        if _inner_meta(self.final_estimator_) is None:
            return self.final_estimator_.decision_function(self.transform(X))
        proba = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            if self._multilabel:
                return np.log(proba) - np.log1p(-proba)
            if proba.shape[1] == 2:
                return np.log(proba[:, 1]) - np.log(proba[:, 0])
            return np.log(proba)
