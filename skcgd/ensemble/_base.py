"""The base of the stacking estimators: out-of-fold outputs of base estimators, then a meta stage.

:class:`_BaseStacking` sits on scikit-learn's ``_BaseHeterogeneousEnsemble`` (the base of its
own stacking and voting estimators), which gives the ``estimators`` list its nested
``get_params``/``set_params`` (``<name>__<param>``, ``<name>="drop"``) and the validation of
the names. :meth:`_BaseStacking._fit_stack` is the one fit of both stacking estimators:

1. validate ``y`` (a subclass hook: numbers, or class labels), ``sample_weight`` and
   ``groups``, and find each base estimator's fit parameters: with metadata routing, those it
   requested (:meth:`get_metadata_routing`); without, ``sample_weight`` for all and ``groups``
   for those whose ``fit`` names it;
2. fit every base estimator on every training fold and predict its test fold, all
   ``(estimator, fold)`` fits and the refits on all rows in one joblib ``Parallel``, reporting
   each with ``verbose``;
3. turn each output into meta columns (subclass hooks: predictions, or log-odds);
4. fit the final estimator (the meta stage; a subclass hook builds the default one) on the
   out-of-fold columns, with the weights and groups of the rows that got a prediction.

``final_estimator`` is the final stage's name in scikit-learn's stacking estimators; its old
name here, ``meta_learner``, still works until 0.4, with a ``FutureWarning``.
"""

import inspect
import os
import time
import warnings
from abc import abstractmethod
from numbers import Integral

import numpy as np
import scipy.sparse as sp
import sklearn
from joblib import Parallel, delayed
from sklearn import get_config
from sklearn.base import TransformerMixin, clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.utils import get_tags
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    indexable,
)

import skcgd
from skcgd._compat import HasMethods, Hidden, StrOptions, _BaseHeterogeneousEnsemble
from skcgd._validation import check_groups, check_input_features, check_sample_weight
from skcgd.ensemble._fitting import fit_estimator, fit_params, params_of_rows, take_rows
from skcgd.ensemble._splits import base_splits, check_partition

__all__ = ["_BaseStacking"]

# the default of the deprecated ``meta_learner``: "not given" (None is a value it can take)
DEPRECATED = "deprecated"


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


def _fit_and_predict(estimator, X, y, params, train, test, method):
    """Fit on ``train`` rows and call ``method`` on the ``test`` rows (a joblib task).

    Returns ``((output, classes_ or None), seconds)``; with ``train=None`` fits on all rows
    and returns ``(estimator, seconds)``. ``params`` are the fit parameters for all rows.
    """
    start = time.perf_counter()
    if train is None:
        estimator.fit(X, y, **params)
        return estimator, time.perf_counter() - start
    rows = _as_slice(train)  # a contiguous fold is a view of X, not a copy
    X_train = take_rows(X, train if rows is None else rows)
    estimator.fit(X_train, y[train], **params_of_rows(params, train, y.shape[0]))
    del X_train  # before the test rows are gathered: the two copies are never held at once
    rows = _as_slice(test)
    out = getattr(estimator, method)(take_rows(X, test if rows is None else rows))
    return (out, getattr(estimator, "classes_", None)), time.perf_counter() - start


def _user_stacklevel():
    """The ``stacklevel`` of the caller's first frame outside skcgd and scikit-learn: a
    warning points at the user's line, however many decorators ``fit`` has."""
    skip = tuple(os.path.dirname(module.__file__) for module in (skcgd, sklearn))
    frame, level = inspect.currentframe().f_back, 1
    while frame is not None and frame.f_code.co_filename.startswith(skip):
        frame, level = frame.f_back, level + 1
    return level


def _routing_enabled():
    return bool(get_config().get("enable_metadata_routing", False))


def _final_has(method):
    """``available_if`` check: the (fitted, else given) final estimator has ``method``.

    Raises the final estimator's own AttributeError, which ``available_if`` chains as the
    cause of its "has no attribute" error (as scikit-learn's stacking does); the default meta
    stage (None) has what :meth:`_default_final_estimator` builds.
    """

    def check(self):
        final = getattr(self, "final_estimator_", None)
        if final is None:
            final = self._final_estimator_param()
        if final is None:
            final = self._default_final_estimator()
        getattr(final, method)
        return True

    return check


class _BaseStacking(TransformerMixin, _BaseHeterogeneousEnsemble):
    """Out-of-fold outputs of heterogeneous estimators and a final estimator on them.

    Subclasses give ``_accepted_types`` (the estimator types they stack),
    ``_check_target(y)`` (the ``y`` the base models are fitted on), ``_method(name,
    estimator)`` (which output to take), ``_raw_block(out, method, classes)`` (one output as
    a 2-D array, and its kind), ``_blocks(raw_blocks, fit=False)`` (the meta columns of every
    base model, in the order the meta stage takes them; with ``fit=True`` it records that
    order in ``_meta_blocks``, ``(model index, name suffix)`` per block) and
    ``_default_final_estimator()`` (the default meta stage, unfitted), and call
    :meth:`_fit_stack` from ``fit``.
    """

    _parameter_constraints: dict = {
        "estimators": [list],
        # (predict, predict_proba and decision_function exist when the final estimator has them)
        "final_estimator": [None, HasMethods(["fit"])],
        "meta_learner": [None, HasMethods(["fit"]), Hidden(StrOptions({DEPRECATED}))],
        "cv": ["cv_object", StrOptions({"prefit"})],
        "n_jobs": [None, Integral],
        "passthrough": ["boolean"],
        "verbose": ["verbose"],
    }

    @abstractmethod
    def __init__(self, estimators):
        self.estimators = estimators

    # ------------------------------------------------------------------ validation

    def _final_estimator_param(self, warn=False):
        """``final_estimator``, or the deprecated ``meta_learner`` if that was given."""
        old = self.meta_learner
        if isinstance(old, str) and old == DEPRECATED:
            return self.final_estimator
        if self.final_estimator is not None:
            raise ValueError(
                "final_estimator and meta_learner are the same parameter (meta_learner is its "
                "deprecated name): pass final_estimator only."
            )
        if warn:
            warnings.warn(
                f"The parameter meta_learner of {type(self).__name__} was renamed "
                "final_estimator in 0.2 (scikit-learn's name) and will be removed in 0.4; "
                "pass final_estimator instead.",
                FutureWarning,
                stacklevel=_user_stacklevel(),
            )
        return old

    def _validate_estimators(self):
        """``(names, estimators)`` of the estimators that are not ``"drop"``."""
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
            if kind is not None and kind not in self._accepted_types:
                raise ValueError(
                    f"Estimator {name!r} is a {kind}; {type(self).__name__} stacks "
                    f"{' and '.join(t + 's' for t in self._accepted_types)}."
                )
        names, ests = self._validated_pairs()
        kept = [(n, e) for n, e in zip(names, ests) if not (isinstance(e, str) and e == "drop")]
        return [n for n, _ in kept], [e for _, e in kept]

    def _validated_pairs(self):
        return super()._validate_estimators()

    # ------------------------------------------------------------------ routing

    def get_metadata_routing(self):
        """How :meth:`fit` and ``predict`` route metadata (with metadata routing enabled).

        ``fit`` routes to every base estimator's ``fit`` (every fold's fit and the refit) and
        to the ``split`` of a ``cv`` splitter what they request (``groups`` to a
        ``GroupKFold``, by its own default); ``predict`` routes to the final estimator's
        ``predict``. The final estimator's ``fit`` gets ``sample_weight`` (and ``groups`` if
        its ``fit`` names them) as it does without routing.

        Returns
        -------
        routing : MetadataRouter
            A :class:`~sklearn.utils.metadata_routing.MetadataRouter` encapsulating
            routing information.
        """
        router = MetadataRouter(owner=self).add_self_request(self)
        for item in self.estimators if isinstance(self.estimators, (list, tuple)) else ():
            if isinstance(item, (list, tuple)) and len(item) == 2 and not isinstance(item[1], str):
                router.add(
                    **{item[0]: item[1]},
                    method_mapping=MethodMapping().add(caller="fit", callee="fit"),
                )
        if hasattr(self.cv, "split"):
            router.add(
                splitter=self.cv, method_mapping=MethodMapping().add(caller="fit", callee="split")
            )
        final = getattr(self, "final_estimator_", None)
        if final is None:
            final = self._final_estimator_param()
        if final is not None:
            router.add(
                final_estimator_=final,
                method_mapping=MethodMapping().add(caller="predict", callee="predict"),
            )
        return router

    def _base_fit_params(self, names, ests, sample_weight, groups, extra):
        """Every base estimator's fit parameters, and the ``groups`` of the ``cv`` splitter."""
        if not _routing_enabled():
            if self.cv == "prefit":  # nothing is fitted: nothing to refuse
                return [{} for _ in ests], groups
            return [fit_params(est, sample_weight, groups) for est in ests], groups
        metadata = dict(extra)
        if sample_weight is not None:
            metadata["sample_weight"] = sample_weight
        if groups is not None:
            metadata["groups"] = groups
        routed = process_routing(self, "fit", **metadata)
        split = routed["splitter"]["split"] if "splitter" in routed else {}
        return [dict(routed[name]["fit"]) for name in names], split.get("groups")

    def _predict_params(self, params):
        """The final estimator's ``predict`` parameters: routed, or ``params`` as they are."""
        if not _routing_enabled():
            return params
        return dict(process_routing(self, "predict", **params)["final_estimator_"]["predict"])

    def _check_fit_params(self, params):
        # scikit-learn's words: its stacking tests match them
        if params and not _routing_enabled():
            raise ValueError(
                f"Passing extra keyword arguments to {type(self).__name__}.fit is only "
                "supported if enable_metadata_routing=True, which you can set using "
                "`sklearn.set_config`. See the Metadata Routing User Guide "
                "<https://scikit-learn.org/stable/metadata_routing.html> for more details. "
                f"Extra parameters passed are: {set(params)}"
            )

    # ------------------------------------------------------------------ fit

    def _say(self, what, seconds):
        if self.verbose:
            print(f"[{type(self).__name__}] {what} ({seconds:.2f} s)", flush=True)

    def _fit_stack(self, X, y, sample_weight=None, groups=None, extra_params=None):
        """The fit of both stacking estimators (on the copy that ``fit_atomically`` makes)."""
        final = self._final_estimator_param(warn=True)
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
        params, split_groups = self._base_fit_params(
            names, ests, sample_weight, groups, extra_params or {}
        )
        methods = [self._method(name, est) for name, est in zip(names, ests)]
        X, y = indexable(X, y)
        prefit = self.cv == "prefit"
        if prefit:
            for est in ests:
                check_is_fitted(est)
            self.estimators_ = list(ests)
            outputs = [
                [(getattr(est, m)(X), getattr(est, "classes_", None))]
                for est, m in zip(ests, methods)
            ]
            splits = [(None, np.arange(n))]
            predicted = np.ones(n, dtype=bool)
        else:
            splits = base_splits(self.cv, X, y, split_groups, is_classifier(self))
            predicted = check_partition(splits, n, "cv")
            tasks = [(m, f) for m in range(len(ests)) for f in range(len(splits))]
            tasks += [(m, None) for m in range(len(ests))]
            results = Parallel(
                n_jobs=self.n_jobs, verbose=max(0, self.verbose - 1), return_as="generator"
            )(
                delayed(_fit_and_predict)(
                    clone(ests[m]),
                    X,
                    y,
                    params[m],
                    None if f is None else splits[f][0],
                    None if f is None else splits[f][1],
                    methods[m],
                )
                for m, f in tasks
            )
            fold_out = [[None] * len(splits) for _ in ests]
            refits = [None] * len(ests)
            for (m, f), (result, seconds) in zip(tasks, results):
                if f is None:
                    refits[m] = result
                    self._say(f"{names[m]} refit on all rows", seconds)
                else:
                    fold_out[m][f] = result
                    self._say(f"{names[m]} fold {f + 1}/{len(splits)}", seconds)
            self.estimators_ = refits
            outputs = fold_out
        self.stack_method_ = methods
        self.named_estimators_ = dict(zip(names, self.estimators_))
        self._names = names
        for est in self.estimators_:
            if hasattr(est, "feature_names_in_"):
                self.feature_names_in_ = est.feature_names_in_
                break
        # the out-of-fold outputs of every model as one matrix per model (NaN: no test fold)
        full, self._kinds = [], []
        for m, per_fold in enumerate(outputs):
            block = None
            for (_, te), (out, classes) in zip(splits, per_fold):
                out, kind = self._raw_block(out, methods[m], classes)
                if block is None:
                    block = np.full((n, out.shape[1]), np.nan)
                block[te] = out
            full.append(block)
            self._kinds.append(kind)
        blocks = self._blocks(full, fit=True)
        self._n_outputs = [b.shape[1] for b in blocks]
        owners = [self._column_owner(b) for b in range(len(blocks))]
        _check_finite_outputs(owners, blocks, predicted, "its input")
        self.oof_predictions_ = np.hstack(blocks)

        Z = self._stack(X, self.oof_predictions_)
        rows = predicted
        if not rows.all():
            Z = Z[rows]
        meta = self._final_estimator(final, self.oof_predictions_.shape[1], y[rows])
        start = time.perf_counter()
        fit_estimator(
            meta,
            Z,
            y[rows],
            None if sample_weight is None else sample_weight[rows],
            None if groups is None else groups[rows],
        )
        self.final_estimator_ = meta  # (not what fit returned: some fits return None)
        self._say(f"final estimator {type(meta).__name__}", time.perf_counter() - start)
        # the meta stage numbers the base models it dropped; name them
        for record in getattr(self.final_estimator_, "dropped_columns_", ()):
            if isinstance(record, dict) and "column" in record:
                record["name"] = self._column_owner(record["column"])
        return self

    def _column_owner(self, block):
        """The name of the base model of meta block ``block`` (blocks in meta order; the
        meta stage numbers the base models by the blocks it reads)."""
        return self._names[self._meta_blocks[block][0]]

    def _final_estimator(self, final, n_columns, y):
        """The unfitted final estimator: a clone of the given one, or the default."""
        if final is None:
            meta = self._default_final_estimator()
            if "verbose" in meta.get_params():  # the meta stage reports its own stages
                meta.set_params(verbose=self.verbose)
            return meta
        return clone(final)

    def _stack(self, X, P):
        """Append the original features to the meta columns when ``passthrough``."""
        if not self.passthrough:
            return P
        if sp.issparse(X):  # in the format of X, as scikit-learn's stacking does
            return sp.hstack([sp.csr_matrix(P), X.astype(np.float64)], format=X.format)
        Xa = check_array(X, dtype=np.float64, ensure_all_finite=False)
        return np.hstack([P, Xa])

    # ------------------------------------------------------------------ predict side

    @property
    def meta_learner_(self):
        """The fitted final estimator (``final_estimator_``, under its name before 0.2)."""
        try:
            return self.final_estimator_
        except AttributeError:
            raise AttributeError(
                f"{type(self).__name__} object has no attribute 'meta_learner_'"
            ) from None

    @property
    def n_features_in_(self):
        """Number of features seen during :term:`fit`."""
        try:
            check_is_fitted(self)
        except NotFittedError as exc:
            raise AttributeError(
                f"{type(self).__name__} object has no attribute n_features_in_"
            ) from exc
        return self.estimators_[0].n_features_in_

    def _predict_blocks(self, X):
        """The meta columns of the fitted base estimators' outputs on X."""
        check_is_fitted(self)
        outputs = [
            self._raw_block(getattr(est, m)(X), m, getattr(est, "classes_", None))[0]
            for est, m in zip(self.estimators_, self.stack_method_)
        ]
        blocks = self._blocks(outputs)
        # (the meta stage would blame the user's X for them)
        owners = [self._column_owner(b) for b in range(len(blocks))]
        _check_finite_outputs(owners, blocks, None, "the input")
        return blocks

    def transform(self, X):
        """Outputs of the fitted base estimators on X: the final estimator's input columns.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        X_meta : {ndarray, sparse matrix} of shape (n_samples, n_meta_columns)
            One column per regressor (per class for a multiclass classifier; log-odds for a
            classifier's probabilities), then X itself when ``passthrough``.
        """
        return self._stack(X, np.hstack(self._predict_blocks(X)))

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
        for (m, suffix), k in zip(self._meta_blocks, self._n_outputs):
            name = self._names[m] + suffix
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
