"""The base of the stacking estimators: out-of-fold outputs of base estimators, then a meta stage.

:class:`_BaseStacking` sits on scikit-learn's ``_BaseHeterogeneousEnsemble`` (the base of its
own stacking and voting estimators), which gives the ``estimators`` list its nested
``get_params``/``set_params`` (``<name>__<param>``, ``<name>="drop"``) and the validation of
the names. :meth:`_BaseStacking._fit_stack` is the one fit of both stacking estimators:

1. validate ``y`` (a subclass hook: numbers, or class labels), ``sample_weight`` and
   ``groups``;
2. fit every base estimator on every training fold and predict its test fold, all
   ``(estimator, fold)`` fits and the refits on all rows in one joblib ``Parallel``;
3. turn each output into meta columns (a subclass hook: predictions, or log-odds);
4. fit the meta stage (a subclass hook builds it) on the out-of-fold columns, with the
   weights and groups of the rows that got a prediction.
"""

from abc import abstractmethod
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import TransformerMixin, clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.utils import get_tags
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    indexable,
)

from skcgd._compat import HasMethods, StrOptions, _BaseHeterogeneousEnsemble
from skcgd._validation import check_groups, check_input_features, check_sample_weight
from skcgd.ensemble._fitting import fit_estimator
from skcgd.ensemble._splits import base_splits, check_partition

__all__ = ["_BaseStacking"]


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


def _take_rows(X, rows):
    """The rows ``rows`` of X: an array or sparse matrix (a slice gives a view), a DataFrame,
    a list, or any container indexing rows with an index array."""
    if hasattr(X, "iloc"):
        return X.iloc[rows]
    if isinstance(X, np.ndarray) or sp.issparse(X):
        return X[rows]
    if isinstance(rows, slice):
        rows = np.arange(rows.start, rows.stop)
    if isinstance(X, (list, tuple)):
        return [X[i] for i in rows]
    return X[rows]


def _fit_and_predict(estimator, X, y, sample_weight, groups, train, test, method):
    """Fit on ``train`` rows; return ``(method on test rows, classes_ or None)``.

    With ``train=None`` fit on all rows and return the fitted estimator.
    """
    if train is None:
        return fit_estimator(estimator, X, y, sample_weight, groups)
    rows = _as_slice(train)  # a contiguous fold is a view of X, not a copy
    X_train = _take_rows(X, train if rows is None else rows)
    sw = None if sample_weight is None else sample_weight[train]
    g = None if groups is None else groups[train]
    fit_estimator(estimator, X_train, _take_rows(y, train), sw, g)
    del X_train  # before the test rows are gathered: the two copies are never held at once
    rows = _as_slice(test)
    out = getattr(estimator, method)(_take_rows(X, test if rows is None else rows))
    return out, getattr(estimator, "classes_", None)


class _BaseStacking(TransformerMixin, _BaseHeterogeneousEnsemble):
    """Out-of-fold outputs of heterogeneous estimators and a meta stage on them.

    Subclasses give ``_check_target(y)`` (the ``y`` the base models are fitted on),
    ``_method(name, estimator)`` (which output to take), ``_to_meta(out, method, classes)``
    (the meta columns of one output) and ``_meta_estimator(n_columns)`` (the unfitted meta
    stage), and call :meth:`_fit_stack` from ``fit``.
    """

    _parameter_constraints: dict = {
        "estimators": [list],
        "meta_learner": [None, HasMethods(["fit", "predict"])],
        "cv": ["cv_object", StrOptions({"prefit"})],
        "n_jobs": [None, Integral],
        "passthrough": ["boolean"],
        "verbose": ["verbose"],
    }

    @abstractmethod
    def __init__(self, estimators):
        self.estimators = estimators

    # ------------------------------------------------------------------ validation

    def _validate_estimators(self):
        """``(names, estimators)`` of the estimators that are not ``"drop"``."""
        wanted = "classifier" if is_classifier(self) else "regressor"
        for item in self.estimators if isinstance(self.estimators, (list, tuple)) else ():
            if not (isinstance(item, (list, tuple)) and len(item) == 2):
                continue
            name, est = item
            if isinstance(est, str):
                continue
            if not hasattr(est, "fit"):
                raise TypeError(f"Estimator {name!r} has no fit method: {est!r}.")
            # named here, before scikit-learn's check, which names neither the model nor
            # what it is
            kind = get_tags(est).estimator_type
            if kind is not None and kind != wanted:
                raise ValueError(
                    f"Estimator {name!r} is a {kind}; {type(self).__name__} stacks {wanted}s."
                )
        names, ests = super()._validate_estimators()
        kept = [(n, e) for n, e in zip(names, ests) if not (isinstance(e, str) and e == "drop")]
        return [n for n, _ in kept], [e for _, e in kept]

    # ------------------------------------------------------------------ fit

    def _fit_stack(self, X, y, sample_weight=None, groups=None):
        """The fit of both stacking estimators (on the copy that ``fit_atomically`` makes)."""
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        y = self._check_target(y)
        check_consistent_length(X, y)
        n = y.shape[0]
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, n)
        groups = check_groups(groups, n)
        names, ests = self._validate_estimators()
        methods = [self._method(name, est) for name, est in zip(names, ests)]
        X, y = indexable(X, y)
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
            splits = base_splits(self.cv, X, y, groups, is_classifier(self))
            predicted = check_partition(splits, n, "cv")
            tasks = [(m, tr, te) for m in range(len(ests)) for tr, te in splits]
            tasks += [(m, None, None) for m in range(len(ests))]
            results = Parallel(n_jobs=self.n_jobs, verbose=self.verbose)(
                delayed(_fit_and_predict)(
                    clone(ests[m]), X, y, sample_weight, groups, tr, te, methods[m]
                )
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
        _check_finite_outputs(names, blocks, predicted, "its input")
        self.oof_predictions_ = np.hstack(blocks)

        Z = self._stack(X, self.oof_predictions_)
        rows = predicted
        if not rows.all():
            Z = Z[rows]
        meta = self._meta_estimator(self.oof_predictions_.shape[1], y[rows])
        self.meta_learner_ = fit_estimator(
            meta,
            Z,
            y[rows],
            None if sample_weight is None else sample_weight[rows],
            None if groups is None else groups[rows],
        )
        # the meta stage numbers the base models it dropped; name them
        for record in getattr(self.meta_learner_, "dropped_columns_", ()):
            if isinstance(record, dict) and "column" in record:
                record["name"] = self._names[record["column"]]
        return self

    def _stack(self, X, P):
        """Append the original features to the meta columns when ``passthrough``."""
        if not self.passthrough:
            return P
        if sp.issparse(X):
            return sp.hstack([sp.csr_matrix(P), sp.csr_matrix(X, dtype=np.float64)], format="csr")
        Xa = check_array(X, dtype=np.float64, ensure_all_finite=False)
        return np.hstack([P, Xa])

    # ------------------------------------------------------------------ predict side

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
        """Outputs of the fitted base estimators on X: the meta stage's input columns.

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
        # (the meta stage would blame the user's X for them)
        _check_finite_outputs(self._names, blocks, None, "the input")
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
            names += list(check_input_features(self, input_features))
        return np.asarray(names, dtype=object)


def _check_finite_outputs(names, blocks, rows, where):
    """Name the base estimator whose outputs are NaN or infinite (on ``rows``; all if None)."""
    for name, block in zip(names, blocks):
        bad = ~np.all(np.isfinite(block), axis=1)
        if rows is not None:
            bad &= rows
        if bad.any():
            raise ValueError(
                f"Estimator {name!r} gave non-finite (NaN or inf) predictions "
                f"on {int(bad.sum())} rows: check {where} for NaN, or "
                "values too large in scale for it."
            )
