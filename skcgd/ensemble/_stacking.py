"""Ridge stacking of base estimators: out-of-fold predictions, then a regularized meta stage.

:class:`RidgeStackingRegressor` is here; :class:`RidgeStackingClassifier` in
:mod:`skcgd.ensemble._stacking_classifier`. Both follow scikit-learn's ``StackingRegressor`` /
``StackingClassifier`` API (``final_estimator``, ``stack_method_``, ``predict`` parameters
passed to the final estimator, metadata routing), with a regularized meta stage by default.
"""

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d

from skcgd._compat import _fit_context
from skcgd.ensemble._base import DEPRECATED, _BaseStacking, _final_has
from skcgd.ensemble._fitting import fit_atomically
from skcgd.ensemble._meta_learner import RegularizedMetaLearner

__all__ = ["RidgeStackingClassifier", "RidgeStackingRegressor"]


class RidgeStackingRegressor(RegressorMixin, _BaseStacking):
    r"""Stacked generalization with a regularized, de-duplicating meta-learner.

    Every base estimator is fitted ``cv`` times to produce out-of-fold predictions on the
    training rows (all ``(estimator, fold)`` fits run in one joblib ``Parallel``), then refitted
    on all rows for prediction; a meta-learner is fitted on the out-of-fold matrix
    (``oof_predictions_``). The default meta-learner is
    :class:`~skcgd.ensemble.RegularizedMetaLearner`: redundancy-aware de-duplication of the
    base models, row-wise meta-features, cross-validated ridge, Lasso and elastic net, blended
    by inverse out-of-fold RMSE. With ``final_estimator=sklearn.linear_model.RidgeCV()`` it is
    scikit-learn's :class:`~sklearn.ensemble.StackingRegressor`.

    Parameters
    ----------
    estimators : list of (str, estimator)
        Base regressors, each with a unique name; ``"drop"`` disables one.

    final_estimator : regressor, default=None
        The meta stage, fitted (a clone of it) on the out-of-fold predictions. None means
        ``RegularizedMetaLearner(n_jobs=n_jobs, verbose=verbose)``. A
        :class:`RegularizedMetaLearner` is told which columns are predictions (the others
        come from ``passthrough``), and gets the ``groups`` of :meth:`fit`.

        .. versionchanged:: 0.2
           Renamed from ``meta_learner`` (scikit-learn's name).

    meta_learner : regressor or None
        Deprecated name of ``final_estimator``: still accepted, with a ``FutureWarning``.

        .. deprecated:: 0.2
           Use ``final_estimator``; ``meta_learner`` will be removed in 0.4.

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
        1 prints one line per base model and fold, per refit on all rows and for the final
        estimator (name and seconds), and makes the default meta stage report its stages;
        2 and more also joblib's progress. 0 prints nothing.

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

    final_estimator_ : regressor
        The fitted meta stage (also ``meta_learner_``, its name before 0.2).

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
    >>> from skcgd.ensemble import RegularizedMetaLearner, RidgeStackingRegressor
    >>> X, y = make_friedman1(n_samples=300, random_state=0)
    >>> estimators = [("ols", LinearRegression()), ("ridge", Ridge(1e-3)),
    ...               ("knn", KNeighborsRegressor(10)),
    ...               ("tree", DecisionTreeRegressor(max_depth=5, random_state=0))]
    >>> paper = RegularizedMetaLearner(stages="paper")  # the seed paper's fixed stages
    >>> stack = RidgeStackingRegressor(estimators, final_estimator=paper).fit(X, y)
    >>> stack.oof_predictions_.shape
    (300, 4)
    >>> [d["name"] for d in stack.final_estimator_.dropped_columns_]
    ['ols']
    >>> stack.predict(X[:2]).shape
    (2,)
    """

    _accepted_types = ("regressor",)

    def __init__(
        self,
        estimators,
        *,
        final_estimator=None,
        cv=5,
        n_jobs=None,
        passthrough=False,
        verbose=0,
        meta_learner=DEPRECATED,
    ):
        self.estimators = estimators
        self.final_estimator = final_estimator
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

    def _raw_block(self, out, method, classes=None):
        out = np.asarray(out, dtype=np.float64)
        if out.ndim == 2 and out.shape[1] != 1:
            raise ValueError(
                "RidgeStackingRegressor supports single-output base regressors "
                f"only, got predictions of shape {out.shape}."
            )
        return out.reshape(-1, 1), "score"

    def _blocks(self, raw_blocks, fit=False):
        if fit:
            self._meta_blocks = [(m, "") for m in range(len(raw_blocks))]
        return raw_blocks  # predictions enter the meta stage as they are

    def _default_final_estimator(self):
        return RegularizedMetaLearner(n_jobs=self.n_jobs)

    def _final_estimator(self, final, n_columns, y):
        meta = super()._final_estimator(final, n_columns, y)
        if isinstance(meta, RegularizedMetaLearner) and self.passthrough:
            meta.set_params(n_predictions=n_columns)
        return meta

    @_fit_context(prefer_skip_nested_validation=False)
    @fit_atomically
    def fit(self, X, y, sample_weight=None, groups=None, **fit_params):
        """Fit the base estimators out of fold and on all rows, then the final estimator.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training input (anything the base estimators accept).

        y : array-like of shape (n_samples,)
            Target values.

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

    @available_if(_final_has("predict"))
    def predict(self, X, **predict_params):
        """The final estimator's prediction on the base estimators' predictions.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        **predict_params : dict
            Passed to the final estimator's ``predict`` (e.g. ``return_std=True`` of a
            Gaussian process or ``BayesianRidge``: the uncertainty of the final stage only);
            with metadata routing, routed as it requests.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,), or tuple
            Predicted values (and what ``predict_params`` ask for).
        """
        check_is_fitted(self)
        params = self._predict_params(predict_params)
        return self.final_estimator_.predict(self.transform(X), **params)


# the classifier lives in its own module; this name stays importable from here
from skcgd.ensemble._stacking_classifier import RidgeStackingClassifier  # noqa: E402
