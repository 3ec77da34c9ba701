"""Caruana's greedy ensemble selection on a matrix of out-of-fold predictions."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from skcgd._kernels.stacking import MAE, MSE, _greedy_select

__all__ = ["GreedyEnsembleSelection"]

_BUILTIN = {"rmse": MSE, "mse": MSE, "mae": MAE}


def _builtin_loss(name, y, pred, sw):
    err = pred - y if pred.ndim == 1 else pred - y[:, None]
    if name == "mae":
        return sw @ np.abs(err) / sw.sum()
    mse = sw @ (err * err) / sw.sum()
    return np.sqrt(mse) if name == "rmse" else mse


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
    the ``(n_samples, n_models)`` matrix for the built-in losses.

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
    }

    def __init__(self, ensemble_size=50, *, n_init=5, replacement=True, n_bags=None,
                 bag_fraction=0.5, metric="rmse", random_state=None):
        self.ensemble_size = ensemble_size
        self.n_init = n_init
        self.replacement = replacement
        self.n_bags = n_bags
        self.bag_fraction = bag_fraction
        self.metric = metric
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Select the ensemble on the out-of-fold predictions X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_models)
            Out-of-fold predictions, one column per model.

        y : array-like of shape (n_samples,)
            Target values.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the loss.

        Returns
        -------
        self : object
            The fitted selection.
        """
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True, order="C")
        y = np.asarray(y, dtype=np.float64)
        has_weights = sample_weight is not None
        sw = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        if sw.sum() <= 0:
            raise ValueError("The sample weights sum to zero: nothing to select on.")
        m = X.shape[1]
        if not self.n_bags:
            counts, order, traj = self._select(X, y, sw, np.ones(m, dtype=bool), has_weights)
            self.counts_ = counts
            self.weights_ = counts / counts.sum()
            self.indices_ = order
            self.trajectory_ = traj
            return self
        rng = check_random_state(self.random_state)
        size = max(1, int(round(self.bag_fraction * m)))
        weights = np.zeros(m)
        counts = np.zeros(m, dtype=np.int64)
        trajectories = np.full((self.n_bags, self.ensemble_size), np.nan)
        for b in range(self.n_bags):
            allowed = np.zeros(m, dtype=bool)
            allowed[rng.choice(m, size=size, replace=False)] = True
            c, _, traj = self._select(X, y, sw, allowed, has_weights)
            weights += c / c.sum()
            counts += c
            trajectories[b, :traj.shape[0]] = traj
        self.counts_ = counts
        self.weights_ = weights / self.n_bags
        self.trajectory_ = trajectories
        return self

    def _loss(self, y, pred, sw, has_weights):
        if isinstance(self.metric, str):
            return _builtin_loss(self.metric, y, pred, sw)
        if has_weights:
            return float(self.metric(y, pred, sample_weight=sw))
        return float(self.metric(y, pred))

    def _select(self, P, y, sw, allowed, has_weights):
        """One selection among the ``allowed`` columns: (counts, order, trajectory)."""
        m = P.shape[1]
        candidates = np.flatnonzero(allowed)
        if isinstance(self.metric, str):
            own = _builtin_loss(self.metric, y, P[:, candidates], sw)
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
        if isinstance(self.metric, str) and self.replacement:
            chosen, scores = _greedy_select(P, y, sw, counts, n_steps, allowed,
                                            _BUILTIN[self.metric])
            keep = chosen >= 0
            order.extend(chosen[keep].tolist())
            scores = scores[keep]
            traj.extend((np.sqrt(scores) if self.metric == "rmse" else scores).tolist())
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
        """The best column to add next (-1 if none is allowed)."""
        candidates = np.flatnonzero(allowed)
        if candidates.size == 0:
            return -1
        k = counts.sum() + 1
        if isinstance(self.metric, str):
            trial = (running[:, None] + P[:, candidates]) / k
            losses = _builtin_loss(self.metric, y, trial, sw)
        else:
            losses = np.array([self._loss(y, (running + P[:, j]) / k, sw, has_weights)
                               for j in candidates])
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
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X @ self.weights_
