"""MinimaxLogisticRegressionCV: ``C`` and ``rho`` chosen by cross-validation along warm paths."""

import numbers
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils import indexable
from sklearn.utils.metadata_routing import get_routing_for_object

from skcgd._base import LogisticClassifierMixin, SparseCoefMixin, restore_on_failure
from skcgd._compat import Interval, StrOptions, _fit_context, validate_data
from skcgd._validation import check_classification_labels, check_sample_weight
from skcgd.games import ADVERSARIES, get_adversary
from skcgd.linear_model._minimax_logistic import MinimaxLogisticRegression

__all__ = ["MinimaxLogisticRegressionCV"]


def _grid(values, name, default_count=None):
    """The grid of ``C`` (an int: that many values log-spaced in [1e-4, 1e4]) or ``rho``."""
    if isinstance(values, numbers.Integral) and not isinstance(values, bool):
        if default_count is None or values < 1:
            raise ValueError(f"{name} must be a non-empty sequence of numbers, got {values!r}.")
        return np.logspace(-4, 4, int(values))
    grid = np.asarray(values, dtype=np.float64).reshape(-1)
    if grid.size == 0:
        raise ValueError(f"{name} is empty: give at least one value.")
    if not np.isfinite(grid).all() and name == "rhos":
        raise ValueError(f"{name} must be finite, got {values!r}.")
    low = 0.0 if name == "rhos" else np.nextafter(0.0, 1.0)
    if (grid < low).any() or np.isnan(grid).any():
        kind = "non-negative" if name == "rhos" else "positive"
        raise ValueError(f"{name} must hold {kind} numbers, got {values!r}.")
    return grid


def _split_uses_groups(cv):
    """Whether ``cv.split`` consumes ``groups`` (scikit-learn's metadata request of the
    splitter; a splitter without one, e.g. a list of folds, gets them)."""
    try:
        return bool(get_routing_for_object(cv).consumes("split", ["groups"]))
    except (AttributeError, TypeError):
        return True


def _snake(n_rhos, n_Cs, C_order, rho_order):
    """The order of the path: rho ascending, C ascending then descending then ascending...
    so that every fit starts from the solution of a neighbour on the grid."""
    path = []
    for k, i in enumerate(rho_order):
        cs = C_order if k % 2 == 0 else C_order[::-1]
        path.extend((i, j) for j in cs)
    return path


def _fold_path(template, X, y, sw, groups, train, test, path, scorer, n_rhos, n_Cs, rhos, Cs):
    """Fit the whole grid on one fold's training rows, along the warm path; score each."""
    scores = np.full((n_rhos, n_Cs), np.nan)
    n_iter = np.zeros((n_rhos, n_Cs), dtype=np.int64)
    model = clone(template).set_params(warm_start=True)
    g_train = None if groups is None else groups[train]
    for i, j in path:
        model.set_params(rho=rhos[i], C=Cs[j])
        model.fit(X[train], y[train], sample_weight=sw[train], groups=g_train)
        n_iter[i, j] = model.n_iter_[0]
        scores[i, j] = scorer(model, X[test], y[test])
    return scores, n_iter


class MinimaxLogisticRegressionCV(SparseCoefMixin, LogisticClassifierMixin, BaseEstimator):
    r"""Minimax logistic regression with ``C`` and ``rho`` chosen by cross-validation.

    The shape of scikit-learn's ``LogisticRegressionCV``: on every fold the whole grid of
    ``(rho, C)`` is fitted along a path, each fit warm-started from its neighbour's solution
    (a path costs a fraction of independent fits), and scored on the fold's held-out rows;
    the pair with the best mean score is refitted on all the data.

    Read more in the :ref:`User Guide <minimax_cv>`.

    Parameters
    ----------
    adversary : str, default="chi2"
        As in :class:`MinimaxLogisticRegression`.
    Cs : int or array-like of float, default=10
        Inverse regularisation strengths; an int ``k`` gives ``k`` values log-spaced in
        ``[1e-4, 1e4]``.
    rhos : array-like of float, default=(0.0, 0.1, 1.0, 10.0)
        The adversary's strengths (``0`` is plain logistic regression).
    cv : int, cross-validation generator or iterable, default=None
        As in scikit-learn (``None``: 5-fold; an int: stratified K-fold for classifiers).
        ``groups`` are passed to its ``split``, so a group-aware splitter such as
        ``GroupKFold`` works.
    scoring : str, callable or None, default=None
        A scikit-learn scorer (``None``: accuracy). A callable ``scorer(estimator, X, y)``;
        one that also takes ``groups=`` receives the held-out rows' groups (e.g. a
        worst-group accuracy).
    refit : bool, default=True
        Refit the best ``(C, rho)`` on all the data. With False, the coefficients are the
        mean of the folds' at the best pair.
    class_weight : dict, "balanced" or None, default=None
        As in :class:`MinimaxLogisticRegression`.
    fit_intercept : bool, default=True
        Fit an (unpenalised) intercept.
    solver : str, default="auto"
        As in :class:`MinimaxLogisticRegression` (``"auto"``: Newton where the adversary's
        best response is closed-form, CGD for ``"parametric"``, whose default adversary
        features are then used).
    tol : float, default=1e-6
        As in :class:`MinimaxLogisticRegression`.
    max_iter : int, default=1000
        As in :class:`MinimaxLogisticRegression`, per fit.
    n_jobs : int, default=None
        Folds fitted in parallel through joblib.
    verbose : int, default=0
        Print one line per fold.

    Attributes
    ----------
    Cs_ : ndarray of shape (n_Cs,)
        The grid of ``C``.
    rhos_ : ndarray of shape (n_rhos,)
        The grid of ``rho``.
    scores_ : ndarray of shape (n_folds, n_rhos, n_Cs)
        Held-out score of every fold and pair.
    C_ : float
        The chosen ``C``.
    rho_ : float
        The chosen ``rho``.
    best_score_ : float
        Mean held-out score of the chosen pair.
    n_iter_ : ndarray of shape (n_folds, n_rhos, n_Cs)
        Solver iterations of every fold's fit (the refit's are in ``best_estimator_``).
    best_estimator_ : MinimaxLogisticRegression
        The refitted model (``refit=True``).
    classes_, coef_, intercept_, adversary_weights_ : ndarray
        Those of ``best_estimator_`` (``adversary_weights_`` only with ``refit=True``).
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen in fit, when X has string column names.

    See Also
    --------
    MinimaxLogisticRegression : one fit at given ``C`` and ``rho``.
    sklearn.linear_model.LogisticRegressionCV : the same for ``rho=0``.

    Notes
    -----
    The choice is the one :class:`~sklearn.model_selection.GridSearchCV` makes over the grid
    ``{"C": Cs, "rho": rhos}`` with the same folds and scorer: the best mean held-out score,
    ties going to the first pair in the grid's order (``C`` outer, ``rho`` inner). Warm
    starts change the path's cost, not its solutions (each fit meets the same tolerance).

    **A validation-tuned probe.** With ``adversary="none"``, ``rhos=[0]`` and ``cv`` a
    :class:`~sklearn.model_selection.PredefinedSplit` that marks a validation set, this is the
    ridge-regularised logistic probe tuned on validation data of the seed paper's RAPTOR
    analysis: ``coef_ / np.linalg.norm(coef_)`` is the probe's direction (refit on training
    and validation rows together; pass ``refit=False`` to keep the training fit's mean).

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skcgd.linear_model import MinimaxLogisticRegressionCV
    >>> X, y = make_classification(n_samples=200, n_features=5, flip_y=0.1, random_state=0)
    >>> clf = MinimaxLogisticRegressionCV("kl", Cs=[0.1, 1.0], rhos=[0.0, 1.0], cv=3).fit(X, y)
    >>> clf.scores_.shape
    (3, 2, 2)
    >>> float(clf.C_) in (0.1, 1.0), float(clf.rho_) in (0.0, 1.0)
    (True, True)
    """

    _parameter_constraints = {
        "adversary": [StrOptions(ADVERSARIES.keys())],
        "Cs": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "rhos": ["array-like"],
        "cv": ["cv_object"],
        "scoring": [str, callable, None],
        "refit": ["boolean"],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "fit_intercept": ["boolean"],
        "solver": [str],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "n_jobs": [None, Integral],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        adversary="chi2",
        *,
        Cs=10,
        rhos=(0.0, 0.1, 1.0, 10.0),
        cv=None,
        scoring=None,
        refit=True,
        class_weight=None,
        fit_intercept=True,
        solver="auto",
        tol=1e-6,
        max_iter=1000,
        n_jobs=None,
        verbose=0,
    ):
        self.adversary = adversary
        self.Cs = Cs
        self.rhos = rhos
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.class_weight = class_weight
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _template(self):
        return MinimaxLogisticRegression(
            self.adversary,
            class_weight=self.class_weight,
            fit_intercept=self.fit_intercept,
            solver=self.solver,
            tol=self.tol,
            max_iter=self.max_iter,
        )

    def _scorer(self, groups):
        """``scorer(estimator, X, y)``; a callable with a ``groups`` parameter, or a scorer
        whose score request asks for ``groups`` (``make_scorer(...).set_score_request(
        groups=True)``), gets the held-out rows' groups through a closure over the fold."""
        if callable(self.scoring) and groups is not None:
            import inspect

            from sklearn.utils.metadata_routing import get_routing_for_object

            try:
                takes_groups = "groups" in inspect.signature(self.scoring).parameters
            except (TypeError, ValueError):
                takes_groups = False
            if not takes_groups and hasattr(self.scoring, "get_metadata_routing"):
                routing = get_routing_for_object(self.scoring)
                takes_groups = bool(routing.consumes("score", ["groups"]))
            if takes_groups:
                return self.scoring, True
        return check_scoring(self._template(), scoring=self.scoring), False

    @restore_on_failure
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, groups=None):
        """Cross-validate the grid of ``(C, rho)`` and refit the best pair.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights.
        groups : array-like of shape (n_samples,), default=None
            Group labels: passed to the splitter's ``split`` and, for an adversary that
            needs them (``"group"``), to every fit.

        Returns
        -------
        self : object
        """
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32], order="C"
        )
        check_classification_labels(y)
        s = check_sample_weight(sample_weight, X.shape[0])
        if groups is not None:
            X, y, groups = indexable(X, y, groups)
            groups = np.asarray(groups)
        get_adversary(self.adversary)  # a named error for an unknown one
        Cs, rhos = _grid(self.Cs, "Cs", default_count=True), _grid(self.rhos, "rhos")
        cv = check_cv(self.cv, y, classifier=True)
        # only a splitter that uses groups gets them (scikit-learn warns otherwise)
        splits = list(cv.split(X, y, groups if _split_uses_groups(cv) else None))
        scorer, with_groups = self._scorer(groups)
        path = _snake(len(rhos), len(Cs), list(np.argsort(Cs)), list(np.argsort(rhos)))
        template = self._template()

        def fold_scorer(test):
            if not with_groups:
                return scorer
            return lambda est, Xt, yt: scorer(est, Xt, yt, groups=groups[test])

        results = Parallel(n_jobs=self.n_jobs, verbose=self.verbose)(
            delayed(_fold_path)(
                template,
                X,
                y,
                s,
                groups,
                train,
                test,
                path,
                fold_scorer(test),
                len(rhos),
                len(Cs),
                rhos,
                Cs,
            )  # fmt: skip
            for train, test in splits
        )
        scores = np.stack([r[0] for r in results])
        self.n_iter_ = np.stack([r[1] for r in results])
        # GridSearchCV's choice: the best mean score, ties to the first pair of the grid in
        # its order (C outer, rho inner)
        mean = scores.mean(axis=0).T  # (n_Cs, n_rhos): the grid's order, flattened C-major
        best = int(np.flatnonzero(mean.ravel() == np.nanmax(mean))[0])
        j, i = divmod(best, len(rhos))
        self.Cs_, self.rhos_, self.scores_ = Cs, rhos, scores
        self.C_, self.rho_ = float(Cs[j]), float(rhos[i])
        self.best_score_ = float(mean[j, i])
        model = clone(template).set_params(C=self.C_, rho=self.rho_)
        if self.refit:
            model.fit(X, y, sample_weight=s, groups=groups)
            self.best_estimator_ = model
            for name in ("classes_", "coef_", "intercept_", "adversary_weights_", "groups_"):
                if hasattr(model, name):
                    setattr(self, name, getattr(model, name))
        else:
            coefs, intercepts = [], []
            for train, _ in splits:
                fold = clone(model).fit(
                    X[train], y[train], sample_weight=s[train],
                    groups=None if groups is None else groups[train],
                )  # fmt: skip
                coefs.append(fold.coef_)
                intercepts.append(fold.intercept_)
                self.classes_ = fold.classes_
            self.coef_ = np.mean(coefs, axis=0)
            self.intercept_ = np.mean(intercepts, axis=0)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
