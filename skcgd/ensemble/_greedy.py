"""Caruana's greedy ensemble selection on a matrix of out-of-fold predictions."""

from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from skcgd._compat import Interval, StrOptions, _fit_context, validate_data
from skcgd._validation import check_sample_weight, check_squares_fit, readonly
from skcgd.ensemble._fitting import fit_atomically

__all__ = ["GreedyEnsembleSelection"]

# the loss code of each built-in metric in skcgd._kernels.greedy (imported on first use, so
# that importing skcgd.ensemble does not load Numba)
_BUILTIN = {"rmse": "MSE", "mse": "MSE", "mae": "MAE"}


# rows per block of the float64 products in predict: a float32 X is promoted block by block
# (a few MB at a time) instead of as a whole
_PREDICT_BLOCK = 65536


def _builtin_loss(name, y, pred, sw):
    """Loss of one prediction vector (n,)."""
    err = pred - y
    if name == "mae":
        return float(sw @ np.abs(err) / sw.sum())
    mse = float(sw @ (err * err) / sw.sum())
    return np.sqrt(mse) if name == "rmse" else mse


def _finish(name, value):
    """The kernels' weighted mean squared error -> the requested loss."""
    return np.sqrt(value) if name == "rmse" else value


def blocked_matvec(X, w, block=_PREDICT_BLOCK):
    """``X @ w`` in float64 for a float32 or float64 ``X``, promoting a block of rows at a time
    (``X.astype(float64) @ w`` would copy the whole of a float32 X)."""
    if X.dtype == np.float64:
        return X @ w
    out = np.empty(X.shape[0])
    for start in range(0, X.shape[0], block):
        stop = min(start + block, X.shape[0])
        out[start:stop] = X[start:stop].astype(np.float64) @ w
    return out


class GreedyEnsembleSelection(RegressorMixin, BaseEstimator):
    r"""Forward selection of models, with replacement, to minimise the loss of their average.

    The ensemble selection of Caruana et al. (2004) on a matrix of out-of-fold predictions
    (one column per model): start from the ``n_init`` individually best models, then add, one
    at a time, the model whose inclusion in the running average gives the smallest loss,
    until the ensemble has ``ensemble_size`` members. A model can be added several times, so
    the final weights are counts divided by the ensemble size: non-negative, summing to one.
    With ``n_bags``, the selection is repeated on random subsets of the models and the
    weights averaged (the paper's bagged selection, against overfitting the selection set).

    Parameters
    ----------
    ensemble_size : int, default=50
        Number of members (counting repetitions), the sorted initialisation included.

    n_init : int, default=5
        Sorted initialisation: the ensemble starts with each of the ``n_init`` best models
        once. 0 starts from the empty ensemble (the first step picks the best model).

    replacement : bool, default=True
        Allow a model to be added more than once. Without replacement the selection stops
        when every model is in (and its loss typically rises before that).

    n_bags : int or None, default=None
        Number of bags; None or 0 runs a single selection on all models.

    bag_fraction : float in (0, 1], default=0.5
        Fraction of the models drawn (without replacement) for each bag.

    metric : {"rmse", "mse", "mae"} or callable, default="rmse"
        The loss to minimise. A callable is called as ``metric(y_true, y_pred)`` (plus
        ``sample_weight=...`` when :meth:`fit` gets weights) and must return a number, lower
        being better (negate a score such as ``r2_score``). The built-in losses run in a
        compiled kernel, one pass over the predictions per step; a callable is called once
        per candidate and step.

    random_state : int, RandomState instance or None, default=None
        Draws of the bags.

    n_jobs : int, default=None
        Number of bags selected in parallel through joblib (None means 1 unless in a
        ``joblib.parallel_config`` context; -1 means all processors). The bags are drawn
        first, in order, so the result does not depend on ``n_jobs``. Threads are preferred
        for the built-in metrics (the selection kernel releases the GIL and the prediction
        matrix is shared, not copied into worker processes), processes for a callable
        metric (scikit-learn's metrics validate their input under
        ``warnings.catch_warnings``, which is not thread-safe); a
        ``joblib.parallel_config(backend=...)`` context overrides that, e.g. to run on Dask.
        Ignored without bagging.

    Attributes
    ----------
    weights_ : ndarray of shape (n_models,)
        Weight of every model (column of X): its count divided by the ensemble size, averaged
        over the bags.

    counts_ : ndarray of shape (n_models,)
        Number of times every model was selected (summed over the bags).

    indices_ : ndarray of int
        The models in the order they entered the ensemble (initialisation first); without
        bagging only.

    trajectory_ : ndarray of shape (n_members,) or (n_bags, n_members)
        The loss of the running ensemble after every addition.

    n_features_in_ : int
        Number of models (columns) seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X` has feature names
        that are all strings.

    See Also
    --------
    RegularizedMetaLearner : Regularised linear stacking of the same matrix.
    RidgeStackingRegressor : Builds the out-of-fold matrix from base estimators.

    Notes
    -----
    With prediction columns :math:`p_j` and counts :math:`c_j` after :math:`k` additions,
    step :math:`k + 1` adds

    .. math::

        j^\star = \arg\min_j \; L\Big(y, \frac{1}{k+1}\big(\textstyle\sum_l c_l p_l + p_j\big)
        \Big),

    the first index on ties; ``predict(X) = X @ weights_``. Each step costs one pass over
    the ``(n_samples, n_models)`` matrix for the built-in losses, which run in a compiled
    kernel keeping the running sum :math:`\sum_l c_l p_l` (one float64 vector) and one loss
    per candidate: float32 input stays float32 (each entry is promoted to float64 as it is
    read) and no copy of the matrix is made, so the fit needs memory for X plus
    ``O(n_samples + n_models)``.

    References
    ----------
    R. Caruana, A. Niculescu-Mizil, G. Crew and A. Ksikes, "Ensemble selection from libraries
    of models", ICML 2004.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.ensemble import GreedyEnsembleSelection
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=200)
    >>> P = y[:, None] + rng.normal(scale=[0.3, 0.5, 1.0, 2.0], size=(200, 4))
    >>> ges = GreedyEnsembleSelection(ensemble_size=20, n_init=2).fit(P, y)
    >>> bool(np.isclose(ges.weights_.sum(), 1.0))
    True
    >>> bool(ges.weights_[0] > ges.weights_[3])
    True
    >>> ges.predict(P[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        "ensemble_size": [Interval(Integral, 1, None, closed="left")],
        "n_init": [Interval(Integral, 0, None, closed="left")],
        "replacement": ["boolean"],
        "n_bags": [Interval(Integral, 0, None, closed="left"), None],
        "bag_fraction": [Interval(Real, 0, 1, closed="right")],
        "metric": [StrOptions(set(_BUILTIN)), callable],
        "random_state": ["random_state"],
        "n_jobs": [None, Integral],
    }

    def __init__(
        self,
        ensemble_size=50,
        *,
        n_init=5,
        replacement=True,
        n_bags=None,
        bag_fraction=0.5,
        metric="rmse",
        random_state=None,
        n_jobs=None,
    ):
        self.ensemble_size = ensemble_size
        self.n_init = n_init
        self.replacement = replacement
        self.n_bags = n_bags
        self.bag_fraction = bag_fraction
        self.metric = metric
        self.random_state = random_state
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    @fit_atomically
    def fit(self, X, y, sample_weight=None):
        """Select the ensemble on the out-of-fold predictions X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_models)
            Out-of-fold predictions, one column per model (float32 is kept as float32).

        y : array-like of shape (n_samples,)
            Target values.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the loss.

        Returns
        -------
        self : object
            The fitted selection.
        """
        # float32 is not promoted (a float64 copy of the matrix would triple the fit's
        # memory); the kernels accumulate in float64
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], y_numeric=True, order="C")
        y = np.asarray(y, dtype=np.float64)
        has_weights = sample_weight is not None
        sw = check_sample_weight(sample_weight, X.shape[0])
        if isinstance(self.metric, str) and self.metric != "mae":
            # squared errors summed in float64: magnitudes that overflow them would make every
            # loss inf and the selection arbitrary (the losses depend on the weights' ratios)
            check_squares_fit(X, y, sw / sw.max())
        m = X.shape[1]
        if not self.n_bags:
            counts, order, traj = self._select(X, y, sw, np.ones(m, dtype=bool), has_weights)
            self.counts_ = counts
            self.weights_ = counts / counts.sum()
            self.indices_ = order
            self.trajectory_ = traj
            return self
        # every bag is drawn here, in order, so that the selections (independent given their
        # bags) can run in any order and on any number of workers with the same result
        rng = check_random_state(self.random_state)
        size = max(1, int(round(self.bag_fraction * m)))
        bags = []
        for _ in range(self.n_bags):
            allowed = np.zeros(m, dtype=bool)
            allowed[rng.choice(m, size=size, replace=False)] = True
            bags.append(allowed)
        # a callable metric may validate its input under warnings.catch_warnings (scikit-learn's
        # metrics do), which is not thread-safe: it runs its bags in processes
        prefer = "threads" if isinstance(self.metric, str) else "processes"
        results = Parallel(n_jobs=self.n_jobs, prefer=prefer)(
            delayed(self._select)(X, y, sw, allowed, has_weights) for allowed in bags
        )
        weights = np.zeros(m)
        counts = np.zeros(m, dtype=np.int64)
        trajectories = np.full((self.n_bags, self.ensemble_size), np.nan)
        for b, (c, _, traj) in enumerate(results):
            weights += c / c.sum()
            counts += c
            trajectories[b, : traj.shape[0]] = traj
        self.counts_ = counts
        self.weights_ = weights / self.n_bags
        self.trajectory_ = trajectories
        return self

    def _loss(self, y, pred, sw, has_weights):
        if isinstance(self.metric, str):
            return _builtin_loss(self.metric, y, pred, sw)
        if has_weights:
            value = float(self.metric(y, pred, sample_weight=sw))
        else:
            value = float(self.metric(y, pred))
        if np.isnan(value):
            # NaN compares false with everything: argmin would take it as the best loss
            raise ValueError(
                f"metric returned NaN (for {self.metric!r}); it must return a number, lower "
                "being better, for every candidate ensemble."
            )
        return value

    def _select(self, P, y, sw, allowed, has_weights):
        """One selection among the ``allowed`` columns: (counts, order, trajectory)."""
        m = P.shape[1]
        candidates = np.flatnonzero(allowed)
        builtin = isinstance(self.metric, str)
        if builtin:
            from skcgd._kernels import greedy

            code = getattr(greedy, _BUILTIN[self.metric])
            # what the kernels only read, read-only: one specialisation (joblib's workers
            # receive large arrays as read-only memory maps)
            P, y, sw = readonly(P), readonly(y), readonly(sw)
            own = greedy._column_losses(P, y, sw, code)[candidates]
        else:
            own = np.array([self._loss(y, P[:, j], sw, has_weights) for j in candidates])
        n_init = min(self.n_init, self.ensemble_size, candidates.size)
        first = candidates[np.argsort(own, kind="stable")[:n_init]]
        counts = np.zeros(m, dtype=np.int64)
        order = list(first)
        traj = []
        running = np.zeros(P.shape[0])
        for j in first:
            counts[j] += 1
            running += P[:, j]
            traj.append(self._loss(y, running / counts.sum(), sw, has_weights))
        allowed = allowed.copy()
        if not self.replacement:
            allowed[first] = False
        n_steps = self.ensemble_size - n_init
        if builtin:
            # with replacement all steps run in one call; without, one step per call, the
            # chosen column leaving the candidates (the kernel rebuilds its running sum
            # from ``counts``, one pass over P like the step itself)
            calls = [n_steps] if self.replacement else [1] * n_steps
            for steps in calls:
                if not allowed.any():
                    break
                chosen, scores = greedy._greedy_select(
                    P, y, sw, counts, int(steps), readonly(allowed), code
                )
                keep = chosen >= 0
                order.extend(chosen[keep].tolist())
                traj.extend(_finish(self.metric, scores[keep]).tolist())
                if not self.replacement:
                    allowed[chosen[keep]] = False
        else:
            for _ in range(n_steps):
                j = self._step(P, y, sw, counts, running, allowed, has_weights)
                if j < 0:
                    break
                order.append(j)
                counts[j] += 1
                running += P[:, j]
                traj.append(self._loss(y, running / counts.sum(), sw, has_weights))
                if not self.replacement:
                    allowed[j] = False
        return counts, np.asarray(order, dtype=np.intp), np.asarray(traj)

    def _step(self, P, y, sw, counts, running, allowed, has_weights):
        """The best column to add next for a callable metric (-1 if none is allowed)."""
        candidates = np.flatnonzero(allowed)
        if candidates.size == 0:
            return -1
        k = counts.sum() + 1
        losses = np.array(
            [self._loss(y, (running + P[:, j]) / k, sw, has_weights) for j in candidates]
        )
        return int(candidates[int(np.argmin(losses))])

    def predict(self, X):
        """Weighted average of the model predictions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_models)
            Predictions of the same models on new rows.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            ``X @ weights_``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return blocked_matvec(X, self.weights_)
