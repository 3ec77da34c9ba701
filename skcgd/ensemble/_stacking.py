"""Ridge stacking of base estimators: out-of-fold predictions, then a regularized meta stage."""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    TransformerMixin,
    _fit_context,
    clone,
    is_classifier,
)
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import StratifiedKFold, check_cv
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import _safe_indexing, get_tags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import (
    _check_feature_names_in,
    _check_sample_weight,
    _num_samples,
    check_array,
    check_is_fitted,
    column_or_1d,
    indexable,
)

from skcgd.ensemble._meta_learner import (
    RegularizedMetaLearner,
    _blend_weights,
    _check_partition,
    _meta_feature_names,
    condition_number,
    meta_features,
    redundancy_projection,
)
from skcgd.linear_model import MinimaxLogisticRegression
from skcgd.utils._validation import check_classification_labels

__all__ = ["RidgeStackingRegressor", "RidgeStackingClassifier"]

# probabilities are clipped to [eps, 1 - eps] before the log-odds (a tree's 0 and 1 would be
# infinite); logit(1e-6) = -13.8
_PROBA_EPS = 1e-6


def _default_logistic():
    """The ridge-penalised logistic meta-model of :class:`RidgeStackingClassifier`.

    skcgd's own L2 logistic regression: ``MinimaxLogisticRegression`` without adversary,
    Newton's method (the objective of scikit-learn's ``LogisticRegression``, binary or
    multinomial, solved to a relative gradient norm of 1e-6).
    """
    return MinimaxLogisticRegression(adversary="none", C=1.0)


# ----------------------------------------------------------------------------- fitting helpers


def _fit_estimator(estimator, X, y, sample_weight):
    if sample_weight is None:
        return estimator.fit(X, y)
    try:
        return estimator.fit(X, y, sample_weight=sample_weight)
    except (TypeError, ValueError) as exc:
        if "sample_weight" in str(exc):
            raise TypeError(
                f"{type(estimator).__name__} does not accept sample_weight in fit "
                f"({exc}); remove it from the estimators, or fit without weights "
                "(a Pipeline takes them only per step)."
            ) from exc
        raise


def _fit_and_predict(estimator, X, y, sample_weight, train, test, method):
    """Fit on ``train`` rows; return ``(method on test rows, classes_ or None)``.

    With ``train=None`` fit on all rows and return the fitted estimator.
    """
    if train is None:
        return _fit_estimator(estimator, X, y, sample_weight)
    rows = _as_slice(train)  # a contiguous fold is a view of X, not a copy
    X_train = _safe_indexing(X, train if rows is None else rows)
    sw = None if sample_weight is None else sample_weight[train]
    _fit_estimator(estimator, X_train, _safe_indexing(y, train), sw)
    del X_train  # before the test rows are gathered: the two copies are never held at once
    rows = _as_slice(test)
    out = getattr(estimator, method)(_safe_indexing(X, test if rows is None else rows))
    return out, getattr(estimator, "classes_", None)


def _as_slice(index):
    """``slice(a, b)`` if ``index`` is the increasing run ``a, a + 1, ..., b - 1``, else None."""
    index = np.asarray(index)
    if (
        index.ndim != 1
        or index.size == 0
        or index.dtype.kind not in "iu"
        or index[-1] - index[0] != index.size - 1
        or not (np.diff(index) == 1).all()
    ):
        return None
    return slice(int(index[0]), int(index[-1]) + 1)


class _BaseRidgeStacking(TransformerMixin, BaseEstimator):
    """Out-of-fold predictions of heterogeneous estimators and a meta stage on them."""

    _parameter_constraints: dict = {
        "estimators": [list],
        "meta_learner": [None, HasMethods(["fit", "predict"])],
        "cv": ["cv_object", StrOptions({"prefit"})],
        "n_jobs": [None, Integral],
        "passthrough": ["boolean"],
        "verbose": ["verbose"],
    }

    # ------------------------------------------------------------------ nested parameters

    def get_params(self, deep=True):
        """Parameters of this estimator and, with ``deep``, of every named base estimator.

        Parameters
        ----------
        deep : bool, default=True
            Also return ``<name>`` and ``<name>__<param>`` for every base estimator, and the
            parameters of ``meta_learner``.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        out = super().get_params(deep=deep)
        if not deep:
            return out
        try:
            named = dict(self.estimators)
        except (TypeError, ValueError):
            return out
        out.update(named)
        for name, est in named.items():
            if hasattr(est, "get_params"):
                for key, value in est.get_params(deep=True).items():
                    out[f"{name}__{key}"] = value
        return out

    def set_params(self, **params):
        """Set parameters, including ``<name>=estimator`` and ``<name>__<param>=value``.

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self : object
            This estimator.
        """
        if "estimators" in params:
            self.estimators = params.pop("estimators")
        try:
            names = [name for name, _ in self.estimators]
        except (TypeError, ValueError):
            names = []
        for key in list(params):
            if "__" not in key and key in names:
                new = params.pop(key)
                self.estimators = [
                    (name, new if name == key else est) for name, est in self.estimators
                ]
        super().set_params(**params)
        return self

    # ------------------------------------------------------------------ validation

    def _validate_estimators(self):
        if not self.estimators:
            raise ValueError("estimators must be a non-empty list of (name, estimator) tuples.")
        try:
            names, ests = zip(*self.estimators)
        except (TypeError, ValueError) as exc:
            raise ValueError("estimators must be a list of (name, estimator) tuples.") from exc
        if len(set(names)) != len(names):
            raise ValueError(f"Estimator names must be unique, got {list(names)}.")
        bad = [n for n in names if not isinstance(n, str) or "__" in n]
        if bad:
            raise ValueError(f"Estimator names must be strings without '__', got {bad}.")
        clash = set(names) & set(self.get_params(deep=False))
        if clash:
            raise ValueError(f"Estimator names conflict with parameters: {sorted(clash)}.")
        kept = [(n, e) for n, e in zip(names, ests) if not (isinstance(e, str) and e == "drop")]
        if not kept:
            raise ValueError("All estimators are 'drop': at least one is needed.")
        for name, est in kept:
            if not hasattr(est, "fit"):
                raise TypeError(f"Estimator {name!r} has no fit method: {est!r}.")
            wanted = "classifier" if is_classifier(self) else "regressor"
            kind = get_tags(est).estimator_type
            if kind is not None and kind != wanted:
                raise ValueError(
                    f"Estimator {name!r} is a {kind}; {type(self).__name__} stacks {wanted}s."
                )
        return [n for n, _ in kept], [e for _, e in kept]

    # ------------------------------------------------------------------ fit

    def _fit_base(self, X, y, sample_weight):
        """Fit the base estimators and collect their out-of-fold outputs (meta columns)."""
        names, ests = self._validate_estimators()
        methods = [self._method(name, est) for name, est in zip(names, ests)]
        n = _num_samples(X)
        if self.cv == "prefit":
            for est in ests:
                check_is_fitted(est)
            self.estimators_ = list(ests)
            blocks = [
                self._to_meta(getattr(est, m)(X), m, getattr(est, "classes_", None))
                for est, m in zip(ests, methods)
            ]
            predicted = np.ones(n, dtype=bool)
        else:
            # the splits are drawn once and shared by every estimator (a shuffling splitter
            # without random_state still gives all of them the same folds)
            cv = check_cv(self.cv, y, classifier=is_classifier(self))
            splits = [(np.asarray(tr), np.asarray(te)) for tr, te in cv.split(X, y)]
            predicted = _check_partition(splits, n, "cv")
            tasks = [(m, tr, te) for m in range(len(ests)) for tr, te in splits]
            tasks += [(m, None, None) for m in range(len(ests))]
            results = Parallel(n_jobs=self.n_jobs, verbose=self.verbose)(
                delayed(_fit_and_predict)(clone(ests[m]), X, y, sample_weight, tr, te, methods[m])
                for m, tr, te in tasks
            )
            fold_out = results[: len(splits) * len(ests)]
            self.estimators_ = results[len(splits) * len(ests) :]
            blocks = []
            for m in range(len(ests)):
                block = None
                for f, (_, te) in enumerate(splits):
                    out, classes = fold_out[m * len(splits) + f]
                    out = self._to_meta(out, methods[m], classes)
                    if block is None:
                        block = np.full((n, out.shape[1]), np.nan)
                    block[te] = out
                blocks.append(block)
        self.stack_method_ = methods
        self.named_estimators_ = dict(zip(names, self.estimators_))
        self._names = names
        self._n_outputs = [b.shape[1] for b in blocks]
        for est in self.estimators_:
            if hasattr(est, "feature_names_in_"):
                self.feature_names_in_ = est.feature_names_in_
                break
        self.oof_predictions_ = np.hstack(blocks)
        for name, block in zip(names, blocks):
            bad = predicted & ~np.all(np.isfinite(block), axis=1)
            if bad.any():
                raise ValueError(
                    f"Estimator {name!r} gave non-finite (NaN or inf) predictions "
                    f"on {int(bad.sum())} rows: check its input for NaN, or "
                    "values too large in scale for it."
                )
        return predicted

    def _stack(self, X, P):
        """Append the original features to the meta columns when ``passthrough``."""
        if not self.passthrough:
            return P
        if sp.issparse(X):
            return sp.hstack([sp.csr_matrix(P), sp.csr_matrix(X, dtype=np.float64)], format="csr")
        Xa = check_array(X, dtype=np.float64, ensure_all_finite=False)
        return np.hstack([P, Xa])

    @property
    def n_features_in_(self):
        """Number of features seen during :term:`fit`."""
        try:
            check_is_fitted(self)
        except NotFittedError as exc:
            raise AttributeError(
                f"{type(self).__name__} object has no attribute 'n_features_in_'"
            ) from exc
        return self.estimators_[0].n_features_in_

    def transform(self, X):
        """Outputs of the fitted base estimators on X: the meta-learner's input columns.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        X_meta : {ndarray, sparse matrix} of shape (n_samples, n_meta_columns)
            One column per regressor (per class for a multiclass classifier; log-odds for a
            classifier), then X itself when ``passthrough``.
        """
        check_is_fitted(self)
        blocks = [
            self._to_meta(getattr(est, m)(X), m, getattr(est, "classes_", None))
            for est, m in zip(self.estimators_, self.stack_method_)
        ]
        for name, block in zip(self._names, blocks):
            bad = ~np.all(np.isfinite(block), axis=1)
            if bad.any():  # (the meta-learner would blame the user's X for them)
                raise ValueError(
                    f"Estimator {name!r} gave non-finite (NaN or inf) predictions "
                    f"on {int(bad.sum())} rows: check the input for NaN, or "
                    "values too large in scale for it."
                )
        return self._stack(X, np.hstack(blocks))

    def get_feature_names_out(self, input_features=None):
        """Names of the columns of :meth:`transform`.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Names of the input features, only used with ``passthrough``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``<estimator name>`` per regressor, ``<estimator name><k>`` per class of a
            multiclass classifier, then the input features with ``passthrough``.
        """
        check_is_fitted(self)
        names = []
        for name, k in zip(self._names, self._n_outputs):
            names += [name] if k == 1 else [f"{name}{j}" for j in range(k)]
        if self.passthrough:
            names += list(_check_feature_names_in(self, input_features))
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            ests = [
                est for _, est in self.estimators if not (isinstance(est, str) and est == "drop")
            ]
            tags.input_tags.allow_nan = all(get_tags(e).input_tags.allow_nan for e in ests)
            tags.input_tags.sparse = all(get_tags(e).input_tags.sparse for e in ests)
        except Exception:  # invalid estimators: fit raises a clear error
            pass
        return tags


class RidgeStackingRegressor(RegressorMixin, _BaseRidgeStacking):
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
        ``RegularizedMetaLearner()``. A :class:`RegularizedMetaLearner` is told which columns
        are predictions (the others come from ``passthrough``).

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
    full) and to the meta-learner.

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

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Fit the base estimators out of fold and on all rows, then the meta-learner.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training input (anything the base estimators accept).

        y : array-like of shape (n_samples,)
            Target values.

        sample_weight : array-like of shape (n_samples,), default=None
            Passed to every fit of every base estimator and to the meta-learner.

        Returns
        -------
        self : object
            The fitted stack.
        """
        if y is None:
            raise ValueError(
                "RidgeStackingRegressor requires y to be passed, but the target y is None."
            )
        y = column_or_1d(check_array(y, ensure_2d=False, dtype=np.float64), warn=True)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, np.empty((y.shape[0], 0)), dtype=np.float64, ensure_non_negative=True
            )
        if _num_samples(X) != y.shape[0]:
            raise ValueError(f"X has {_num_samples(X)} samples but y has {y.shape[0]}.")
        X, y = indexable(X, y)
        rows = self._fit_base(X, y, sample_weight)
        meta = (
            RegularizedMetaLearner(n_jobs=self.n_jobs)
            if self.meta_learner is None
            else clone(self.meta_learner)
        )
        if isinstance(meta, RegularizedMetaLearner) and self.passthrough:
            meta.set_params(n_predictions=self.oof_predictions_.shape[1])
        Z = self._stack(X, self.oof_predictions_)
        if not rows.all():
            Z = Z[rows]
        sw = None if sample_weight is None else sample_weight[rows]
        self.meta_learner_ = _fit_estimator(meta, Z, y[rows], sw)
        if isinstance(self.meta_learner_, RegularizedMetaLearner):
            for record in self.meta_learner_.dropped_columns_:
                record["name"] = self._names[record["column"]]
        return self

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


# ----------------------------------------------------------------------------- classifier


def _log_loss(Y, proba, sw):
    """Weighted multiclass log-loss of ``proba`` (n, K) for one-hot ``Y``."""
    p = np.clip(np.sum(Y * proba, axis=1), 1e-15, None)
    return float(-(sw @ np.log(p)) / sw.sum())


def _aligned_proba(clf, X, n_classes):
    """``clf.predict_proba(X)`` with one column per class 0..n_classes-1 (0 if unseen)."""
    proba = clf.predict_proba(X)
    classes = np.asarray(clf.classes_)
    if classes.shape[0] == n_classes and np.array_equal(classes, np.arange(n_classes)):
        return proba
    out = np.zeros((proba.shape[0], n_classes))
    out[:, classes.astype(np.intp)] = proba
    return out


def _standardizer(D, sw):
    N = sw.sum()
    if sp.issparse(D):
        mu = np.zeros(D.shape[1])
        mean = np.asarray(D.T @ sw).ravel() / N
        var = np.asarray(D.multiply(D).T @ sw).ravel() / N - mean**2
    else:
        mu = sw @ D / N
        var = sw @ (D - mu) ** 2 / N
    sd = np.sqrt(np.clip(var, 0.0, None))
    return mu, np.where(sd > 1e-12 * max(1.0, float(np.max(np.abs(mu), initial=0.0))), sd, 1.0)


def _apply_standardizer(D, mu, sd):
    if sp.issparse(D):
        return sp.csr_matrix(D @ sp.diags(1.0 / sd))
    return (D - mu) / sd


def _standardized(D, sw, rows):
    """``D[rows]`` standardised on those rows, and the (mu, sd) that did it."""
    Dr = D[rows]
    mu, sd = _standardizer(Dr, sw[rows])
    return _apply_standardizer(Dr, mu, sd), (mu, sd)


def _C_path_losses(template, Cs, D, y, sw, train, test, n_classes):
    """One inner fold of the choice of C: the weighted log-loss on ``test`` of the model fitted
    on ``train`` (standardised on ``train``, like a ``StandardScaler`` in a pipeline) for
    every C (a joblib task).

    A model with a ``warm_start`` parameter walks the grid from the smallest C up, each fit
    starting from the previous solution (the same solutions to the solver's tolerance, in
    about half the iterations: the coefficients grow smoothly with C).
    """
    Dtr, (mu, sd) = _standardized(D, sw, train)
    Dte = _apply_standardizer(D[test], mu, sd)
    Y = np.eye(n_classes)[y[test]]
    losses = np.empty(len(Cs))
    warm = "warm_start" in template.get_params()
    clf = clone(template).set_params(warm_start=True) if warm else None
    for j in np.argsort(Cs, kind="stable"):
        clf = (clf if warm else clone(template)).set_params(C=Cs[j])
        clf = _fit_estimator(clf, Dtr, y[train], sw[train])
        losses[j] = _log_loss(Y, _aligned_proba(clf, Dte, n_classes), sw[test])
    return losses


def _refit(template, C, D, y, sw, rows, test, n_classes):
    """Fit on ``rows`` (standardised on them) with the chosen C and predict the ``test`` rows'
    probabilities (None without ``test``): ``(model, (mu, sd), proba)`` (a joblib task)."""
    Dr, scaler = _standardized(D, sw, rows)
    model = clone(template)
    if C is not None:
        model.set_params(C=C)
    model = _fit_estimator(model, Dr, y[rows], sw[rows])
    if test is None:
        return model, scaler, None
    return model, scaler, _aligned_proba(model, _apply_standardizer(D[test], *scaler), n_classes)


class _RegularizedMetaClassifier(ClassifierMixin, BaseEstimator):
    """The meta stage of :class:`RidgeStackingClassifier` on out-of-fold log-odds (private).

    ``X`` holds ``n_blocks`` groups of ``block_size`` log-odds columns (one group per base
    model), then optional extra columns; ``y`` is encoded as 0..n_classes-1.
    """

    def __init__(
        self,
        *,
        n_blocks=1,
        block_size=1,
        corr_threshold=0.95,
        mse_threshold=1e-3,
        var_threshold=1e-4,
        meta_features=True,
        meta_models=None,
        Cs=(0.01, 0.1, 1.0, 10.0, 100.0),
        meta_cv=5,
        inner_cv=3,
        blend="inverse_log_loss",
        n_jobs=None,
    ):
        self.n_blocks = n_blocks
        self.block_size = block_size
        self.corr_threshold = corr_threshold
        self.mse_threshold = mse_threshold
        self.var_threshold = var_threshold
        self.meta_features = meta_features
        self.meta_models = meta_models
        self.Cs = Cs
        self.meta_cv = meta_cv
        self.inner_cv = inner_cv
        self.blend = blend
        self.n_jobs = n_jobs

    def _models(self):
        if self.meta_models is None:
            return [("logistic", _default_logistic())]
        models = list(self.meta_models)
        if (
            isinstance(self.meta_models, tuple)
            and len(models) == 2
            and isinstance(models[0], str)
            and hasattr(models[1], "fit")
        ):
            models = [tuple(models)]
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

    def _design(self, X, kept_cols, use_meta):
        k = self.block_size
        L = X[:, : self.n_blocks * k]
        L = L.toarray() if sp.issparse(L) else np.asarray(L, dtype=np.float64)
        parts = [L[:, kept_cols]]
        if use_meta:
            kept = L[:, kept_cols].reshape(X.shape[0], -1, k)
            parts += [meta_features(kept[:, :, c], self._meta_names) for c in range(k)]
        dense = np.hstack(parts)
        if X.shape[1] == self.n_blocks * k:
            return dense
        extra = X[:, self.n_blocks * k :]
        if sp.issparse(extra):
            return sp.hstack([sp.csr_matrix(dense), extra], format="csr")
        return np.hstack([dense, np.asarray(extra, dtype=np.float64)])

    def fit(self, X, y, sample_weight=None):
        y = np.asarray(y, dtype=np.intp)
        n = y.shape[0]
        sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        n_classes = int(y.max()) + 1
        self.classes_ = np.arange(n_classes)
        k, M = self.block_size, self.n_blocks
        models = self._models()
        L = X[:, : M * k]
        L = L.toarray() if sp.issparse(L) else np.asarray(L, dtype=np.float64)
        Y = np.eye(n_classes)[y]

        # stage 1: rank models by log-loss, compare log-odds (correlation) and probabilities
        # (mean squared difference) with the variance of the class indicators
        Q = 1.0 / (1.0 + np.exp(-L))
        Yk = Y[:, 1:] if k == 1 else Y
        N = sw.sum()
        pi = sw @ Yk / N
        target_var = float(np.sum(pi * (1.0 - pi)))
        errors = np.empty(M)
        for b in range(M):
            q = Q[:, b * k : (b + 1) * k]
            proba = (
                np.column_stack([1.0 - q[:, 0], q[:, 0]])
                if k == 1
                else (q / np.clip(q.sum(axis=1, keepdims=True), 1e-300, None))
            )
            errors[b] = _log_loss(Y, proba, sw)
        self.model_log_loss_ = errors
        kept, dropped = redundancy_projection(
            L,
            Q,
            errors,
            sw,
            n_blocks=M,
            corr_threshold=self.corr_threshold,
            mse_threshold=self.mse_threshold,
            var_threshold=self.var_threshold,
            target_var=target_var,
        )
        self.kept_columns_ = kept
        self.dropped_columns_ = dropped
        self._kept_cols = np.concatenate([np.arange(b * k, (b + 1) * k) for b in kept])
        self.condition_number_before_ = condition_number(L, sw)
        self.condition_number_after_ = condition_number(L[:, self._kept_cols], sw)

        # stage 2
        self._meta_names = _meta_feature_names(self.meta_features)
        self._use_meta = bool(self._meta_names) and kept.size >= 3
        D = self._design(X, self._kept_cols, self._use_meta)
        self.condition_number_design_ = condition_number(D, sw) if not sp.issparse(D) else np.nan

        # stage 3, nested: every fit set (the training rows of each outer meta_cv fold, then
        # all rows) chooses C by inner stratified CV on its own rows only, so the out-of-fold
        # meta predictions, their log-losses and the blend weights are honest about the
        # choice of C; the final models are tuned on all rows
        splitter = 5 if self.meta_cv is None else self.meta_cv
        if isinstance(splitter, Integral):
            splitter = StratifiedKFold(int(splitter))
        splits = splitter.split(np.zeros((n, 1)), y) if hasattr(splitter, "split") else splitter
        outer = [(np.asarray(a, dtype=np.intp), np.asarray(b, dtype=np.intp)) for a, b in splits]
        predicted = _check_partition(outer, n, "meta_cv")
        fit_sets = outer + [(np.arange(n, dtype=np.intp), None)]
        grids = [
            list(self.Cs) if "C" in template.get_params() and len(self.Cs) else []
            for _, template in models
        ]
        # round 1: every (fit set, meta-model, inner fold) scores the whole C grid
        tasks = []
        for f, (rows, _) in enumerate(fit_sets):
            inner = None
            for m, (_, template) in enumerate(models):
                if len(grids[m]) < 2:
                    continue
                if inner is None:
                    inner = _inner_splits(self.inner_cv, y[rows])
                tasks += [(f, m, rows[tr], rows[te]) for tr, te in inner]
        parallel = Parallel(n_jobs=self.n_jobs, prefer="threads")
        losses = parallel(
            delayed(_C_path_losses)(models[m][1], grids[m], D, y, sw, tr, te, n_classes)
            for f, m, tr, te in tasks
        )
        total = {}
        for (f, m, _, _), loss in zip(tasks, losses):
            total[f, m] = total.get((f, m), 0.0) + loss
        chosen = {}
        for f in range(len(fit_sets)):
            for m in range(len(models)):
                grid = grids[m]
                chosen[f, m] = (
                    grid[int(np.argmin(total[f, m]))]
                    if len(grid) > 1
                    else (grid[0] if grid else None)
                )
        # round 2: refit every (fit set, meta-model) with its C
        refits = parallel(
            delayed(_refit)(models[m][1], chosen[f, m], D, y, sw, rows, test, n_classes)
            for f, (rows, test) in enumerate(fit_sets)
            for m in range(len(models))
        )
        final = len(fit_sets) - 1
        oof = np.full((n, len(models), n_classes), np.nan)
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
        rows = predicted
        self.meta_oof_log_loss_ = np.array(
            [_log_loss(Y[rows], oof[rows, m], sw[rows]) for m in range(len(models))]
        )
        weights = _blend_weights(
            self.meta_oof_log_loss_, "uniform" if self.blend == "uniform" else "inverse"
        )
        self.blend_weights_ = weights
        return self

    def predict_proba(self, X):
        D = self._design(X, self._kept_cols, self._use_meta)
        proba = 0.0
        for w, (_, model), (mu, sd) in zip(self.blend_weights_, self.meta_models_, self._scalers):
            proba = proba + w * _aligned_proba(
                model, _apply_standardizer(D, mu, sd), self.classes_.shape[0]
            )
        return proba

    def predict(self, X):
        return np.argmax(self.predict_proba(X), axis=1)

    def get_feature_names(self, input_names):
        """Names of the design columns, given the names of the input columns."""
        k = self.block_size
        names = [str(input_names[j]) for j in self._kept_cols]
        if self._use_meta:
            for c in range(k):
                suffix = "" if k == 1 else f"[{c}]"
                names += [f"{f}{suffix}" for f in self._meta_names]
        names += [str(x) for x in input_names[self.n_blocks * k :]]
        return names


def _inner_splits(inner_cv, y):
    if isinstance(inner_cv, Integral):
        _, counts = np.unique(y, return_counts=True)
        n_splits = int(min(inner_cv, max(2, counts.min())))
        splitter = StratifiedKFold(n_splits)
    else:
        splitter = inner_cv
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "least populated class" on tiny data
        return [
            (np.asarray(a), np.asarray(b)) for a, b in splitter.split(np.zeros((y.shape[0], 1)), y)
        ]


class RidgeStackingClassifier(ClassifierMixin, _BaseRidgeStacking):
    r"""Stacking of classifiers on out-of-fold log-odds with regularised logistic meta-models.

    Every base classifier is fitted ``cv`` times to produce out-of-fold class probabilities
    (``predict_proba``; ``decision_function`` for classifiers without it), all
    ``(estimator, fold)`` fits in one joblib ``Parallel``, then refitted on all rows. The
    probabilities enter the meta stage as log-odds, ``log(p / (1 - p))`` (the positive class
    for binary problems, every class for multiclass ones), the scale on which a linear
    meta-model combines evidence. The meta stage mirrors
    :class:`~skcgd.ensemble.RegularizedMetaLearner`:

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
    out-of-fold log-odds directly (scikit-learn's ``StackingClassifier`` on log-odds).

    Parameters
    ----------
    estimators : list of (str, estimator)
        Base classifiers, each with a unique name; ``"drop"`` disables one.

    meta_learner : classifier, default=None
        If given, fitted (a clone) on the out-of-fold log-odds instead of the meta stage.

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
        Inverse penalties tried for each meta-model.

    meta_cv : int or cross-validation generator, default=5
        Outer splits of the meta stage (out-of-fold meta predictions, blend weights); an
        integer means ``StratifiedKFold``.

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
        The fitted meta stage. By default it carries ``kept_columns_`` (kept base models),
        ``dropped_columns_``, ``condition_number_before_``, ``condition_number_after_``,
        ``condition_number_design_``, ``C_`` (per meta-model, chosen on all rows),
        ``meta_oof_C_`` (per meta-model, the C chosen in every outer fold),
        ``meta_oof_proba_``, ``meta_oof_log_loss_`` and ``blend_weights_``.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when the base estimators record them.

    See Also
    --------
    RidgeStackingRegressor : The regression counterpart.
    sklearn.ensemble.StackingClassifier : Stacking with a single final estimator.

    Notes
    -----
    For a base model with out-of-fold probability :math:`p_{ik}` the meta columns are
    :math:`\operatorname{logit}(\min(\max(p_{ik}, \epsilon), 1 - \epsilon))`,
    :math:`\epsilon = 10^{-6}`. The blended probability is
    :math:`\sum_m w_m P_m(y \mid x)`, :math:`w_m \propto 1 / \mathrm{LogLoss}_m`.

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
        **_BaseRidgeStacking._parameter_constraints,
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
        Cs=(0.01, 0.1, 1.0, 10.0, 100.0),
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
            if self.cv == "prefit":
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

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Fit the base classifiers out of fold and on all rows, then the meta stage.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training input (anything the base estimators accept).

        y : array-like of shape (n_samples,)
            Class labels (at least two classes).

        sample_weight : array-like of shape (n_samples,), default=None
            Passed to every fit of every base estimator and to the meta stage.

        Returns
        -------
        self : object
            The fitted stack.
        """
        if y is None:
            raise ValueError(
                "RidgeStackingClassifier requires y to be passed, but the target y is None."
            )
        y = column_or_1d(
            check_array(y, ensure_2d=False, dtype=None, ensure_all_finite=False), warn=True
        )
        check_classification_labels(y)
        self._label_encoder = LabelEncoder().fit(y)
        self.classes_ = self._label_encoder.classes_
        if self.classes_.shape[0] < 2:
            raise ValueError(
                "RidgeStackingClassifier needs samples of at least two classes; "
                f"got one class ({self.classes_[0]!r})."
            )
        y_enc = self._label_encoder.transform(y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, np.empty((y.shape[0], 0)), dtype=np.float64, ensure_non_negative=True
            )
        if _num_samples(X) != y.shape[0]:
            raise ValueError(f"X has {_num_samples(X)} samples but y has {y.shape[0]}.")
        X, y_enc = indexable(X, y_enc)
        rows = self._fit_base(X, y_enc, sample_weight)
        Z = self._stack(X, self.oof_predictions_)
        if not rows.all():
            Z = Z[rows]
        sw = None if sample_weight is None else sample_weight[rows]
        if self.meta_learner is not None:
            meta = clone(self.meta_learner)
        else:
            meta = _RegularizedMetaClassifier(
                n_blocks=len(self.estimators_),
                block_size=self._n_outputs[0],
                corr_threshold=self.corr_threshold,
                mse_threshold=self.mse_threshold,
                var_threshold=self.var_threshold,
                meta_features=self.meta_features,
                meta_models=self.meta_models,
                Cs=tuple(np.atleast_1d(self.Cs)),
                meta_cv=self.meta_cv,
                inner_cv=self.inner_cv,
                blend=self.blend,
                n_jobs=self.n_jobs,
            )
            if len(set(self._n_outputs)) != 1:
                raise ValueError(
                    f"Every base classifier must give one output per class (got {self._n_outputs})."
                )
        self.meta_learner_ = _fit_estimator(meta, Z, y_enc[rows], sw)
        if isinstance(self.meta_learner_, _RegularizedMetaClassifier):
            for record in self.meta_learner_.dropped_columns_:
                record["name"] = self._names[record["column"]]
        return self

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
        return _aligned_proba(self.meta_learner_, self.transform(X), self.classes_.shape[0])

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
