"""Gaussian naive Bayes with per-class or shared (pooled) variances."""

from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from skcgd._base import restore_on_failure
from skcgd._chunked import is_dask_collection
from skcgd._compat import Interval, StrOptions, _fit_context, validate_data
from skcgd._registry import register_warm_up
from skcgd._validation import (
    as_aligned,
    check_classification_labels,
    check_sample_weight,
    readonly,
)
from skcgd.naive_bayes._model import (
    check_model_shapes,
    encode_labels,
    gaussian_model,
    gaussian_parameters,
    linear_parameters,
    merge_moments,
)

__all__ = ["GaussianNaiveBayes"]

_JOINT, _LOG_PROBA, _PROBA = 0, 1, 2


def _is_shared(estimator):
    return estimator.var_mode == "shared"


class GaussianNaiveBayes(ClassifierMixin, BaseEstimator):
    r"""Gaussian naive Bayes with per-class or shared (linear) variances.

    Every feature is modelled, given the class, as an independent Gaussian. With
    ``var_mode="class"`` each class has its own variances (the model of scikit-learn's
    :class:`~sklearn.naive_bayes.GaussianNB`, which it reproduces to rounding; the decision
    boundary is quadratic). With ``var_mode="shared"`` all classes share the pooled
    within-class variance, the decision boundary is linear and the estimator exposes
    ``coef_``, ``intercept_`` and ``decision_function`` like a linear classifier: it is the
    generative twin of (multinomial) logistic regression, and needs far fewer samples to
    reach its asymptotic error when its model holds.

    Fitting reads X once in a compiled kernel (weighted per-class moments; no copy of X, no
    pass per class); :meth:`partial_fit` merges the moments of each batch exactly, so any
    split of the data into batches gives the model of one :meth:`fit` on all of it.

    X, y and ``sample_weight`` may be Dask arrays (or dataframes and series): every pass then
    runs on the row chunks where they live and only the per-class moments travel back (see
    :mod:`skcgd._chunked`); the prediction methods return lazy Dask arrays.

    Parameters
    ----------
    var_mode : {"class", "shared"}, default="class"
        ``"class"``: one variance per class and feature. ``"shared"``: one variance per
        feature, the within-class variance pooled over the classes (weighted by the class
        priors: their frequencies, unless ``priors`` is given); the classifier is then linear
        in X.

    priors : array-like of shape (n_classes,), default=None
        Prior probabilities of the classes (non-negative, summing to one). If None, the
        priors are the (weighted) class frequencies of the training data.

    var_smoothing : float, default=1e-9
        Fraction of the largest feature variance of the training data added to every
        variance, for numerical stability (``epsilon_``). The variance used is that of all
        data seen so far, so it is the same for :meth:`fit` and for any sequence of
        :meth:`partial_fit` calls on the same data.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels known to the classifier.

    class_count_ : ndarray of shape (n_classes,)
        Sum of the sample weights (number of samples when unweighted) seen in each class.

    class_prior_ : ndarray of shape (n_classes,)
        Prior probability of each class: ``priors`` if given, else the class frequencies.

    theta_ : ndarray of shape (n_classes, n_features)
        Mean of each feature in each class.

    var_ : ndarray of shape (n_classes, n_features)
        Variance of each feature in each class used by the model, ``epsilon_`` included. With
        ``var_mode="shared"`` all rows are equal to the pooled within-class variance.

    epsilon_ : float
        The absolute value added to the variances, ``var_smoothing`` times the largest
        variance of a feature over all data seen.

    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Only with ``var_mode="shared"``: the weights of the linear decision function (one row
        for two classes: the log-odds of ``classes_[1]``).

    intercept_ : ndarray of shape (1,) or (n_classes,)
        Only with ``var_mode="shared"``: the intercepts of the linear decision function.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X` has feature names
        that are all strings.

    dask_stats_ : dict
        After a :meth:`fit` or :meth:`partial_fit` on a Dask X only (a call on in-memory
        data removes it): ``"passes"`` over the chunks of X (one), ``"reductions"``,
        ``"bytes_gathered"`` (bytes of the merged moments that came back to the client) and
        ``"max_bytes_per_pass"``, for the last call.

    See Also
    --------
    sklearn.naive_bayes.GaussianNB : The same model as ``var_mode="class"``.
    sklearn.discriminant_analysis.LinearDiscriminantAnalysis : Shared full covariance.
    sklearn.linear_model.LogisticRegression : The discriminative counterpart of
        ``var_mode="shared"``; ``coef_`` and ``intercept_`` can warm-start it.
    sklearn.naive_bayes.MultinomialNB : Naive Bayes for counts (sparse input).

    Notes
    -----
    With class weight sums :math:`N_c`, means :math:`\mu_{cj}` and variances
    :math:`\sigma^2_{cj}` (maximum likelihood, ``ddof=0``; weighted by ``sample_weight``),

    .. math::

        \log P(x, c) = \log \pi_c - \frac12 \sum_j \log(2\pi v_{cj})
                       - \frac12 \sum_j \frac{(x_j - \mu_{cj})^2}{v_{cj}},

    where :math:`v_{cj} = \sigma^2_{cj} + \epsilon` in the ``"class"`` mode and
    :math:`v_{cj} = v_j = \sum_c \pi_c \sigma^2_{cj} + \epsilon` in the ``"shared"``
    mode, :math:`\pi_c` the class priors (by default :math:`N_c / N`). In the shared mode the
    quadratic terms in :math:`x` cancel between classes and the posterior is a softmax of
    :math:`x \cdot w_c + b_c` with :math:`w_{cj} = (\mu_{cj} - m_j) / v_j` and
    :math:`b_c = \log \pi_c - \frac12 \sum_j (\mu_{cj} - m_j)^2 / v_j - m \cdot w_c`, for
    :math:`m` the weighted mean of the class means: any :math:`m` gives the same posterior, and
    this one keeps a feature far from zero compared with its spread, e.g. a constant one, from
    adding huge, cancelling terms to every class; for two classes ``coef_`` and ``intercept_``
    hold :math:`w_1 - w_0` and :math:`b_1 - b_0`).

    :math:`\epsilon` = ``var_smoothing`` times the largest total variance of a feature over
    all data seen, computed from the class moments (total = within + between classes), so it
    does not depend on how the data were split into :meth:`partial_fit` batches.
    scikit-learn's ``GaussianNB`` recomputes it from the last batch only, and, with
    ``sample_weight``, from the unweighted variance; here it is the weighted variance, the
    one of the data with every sample repeated as many times as its weight. A class that has
    received no data yet (possible with :meth:`partial_fit`) gets zero probability. If every
    feature is constant the scale of :math:`\epsilon` is taken as 1.

    The moments are computed in one pass by blocked Welford updates merged with the
    Chan-Golub-LeVeque formula, in float64 also for float32 input; fitted attributes and
    outputs keep the dtype of X (float32 or float64). Prediction computes
    :math:`\log P(x, c)` in the direct form above (log-variances hoisted out of the loop over
    samples), except that ``var_mode="shared"`` predicts (and gives ``decision_function``)
    with one matrix product :math:`X W^T + b`, which loses digits when the features' means are
    many standard deviations away from zero: standardise such data. The first fit in a fresh
    environment compiles the Numba kernels (a few seconds; later processes load them from the
    disk cache).

    References
    ----------
    T. F. Chan, G. H. Golub and R. J. LeVeque, "Updating formulae and a pairwise algorithm
    for computing sample variances", Stanford CS report STAN-CS-79-773, 1979.

    A. Y. Ng and M. I. Jordan, "On discriminative vs. generative classifiers: a comparison of
    logistic regression and naive Bayes", NeurIPS 2001.

    C. Zheng, G. Wu, F. Bao, Y. Cao, C. Li and J. Zhu, "Revisiting discriminative vs.
    generative classifiers: theory and implications", ICML 2023 (arXiv:2302.02334).

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.naive_bayes import GaussianNaiveBayes
    >>> X = np.array([[-1, -1], [-2, -1], [-3, -2], [1, 1], [2, 1], [3, 2]])
    >>> y = np.array([1, 1, 1, 2, 2, 2])
    >>> clf = GaussianNaiveBayes().fit(X, y)
    >>> clf.predict([[-0.8, -1]])
    array([1])
    >>> lin = GaussianNaiveBayes("shared").fit(X, y)
    >>> lin.coef_.shape, lin.intercept_.shape
    ((1, 2), (1,))
    >>> bool(lin.decision_function([[-0.8, -1]])[0] < 0)
    True
    >>> online = GaussianNaiveBayes()
    >>> online = online.partial_fit(X[:4], y[:4], classes=[1, 2]).partial_fit(X[4:], y[4:])
    >>> bool(np.allclose(online.var_, clf.var_, rtol=1e-12))
    True
    """

    _parameter_constraints: dict = {
        "var_mode": [StrOptions({"class", "shared"})],
        "priors": ["array-like", None],
        "var_smoothing": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, var_mode="class", *, priors=None, var_smoothing=1e-9):
        self.var_mode = var_mode
        self.priors = priors
        self.var_smoothing = var_smoothing

    # ------------------------------------------------------------------ fitting

    @restore_on_failure
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the class means and variances on X, y in one pass over X.

        Parameters
        ----------
        X : array-like or dask.array.Array of shape (n_samples, n_features)
            Training vectors (dense; float32 is kept as float32). A Dask array or dataframe
            (dense chunks along the rows, known chunk sizes) is read in one pass over its
            chunks, where they are: only the per-class moments come back
            (:ref:`larger_than_memory`).

        y : array-like or dask.array.Array of shape (n_samples,)
            Class labels; at least two classes must have positive weight. A Dask array (or
            series) goes with X's chunks.

        sample_weight : array-like or dask.array.Array of shape (n_samples,), default=None
            Non-negative weights of the samples (1 for unweighted), not all zero.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if _any_dask(X, y, sample_weight):
            return _dask_path().fit(self, X, y, sample_weight)
        X, y = self._validate_X_y(X, y, reset=True)
        check_classification_labels(y)
        classes, y_index = encode_labels(y)
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        count, mean, m2 = self._class_moments(X, y_index, sample_weight, classes.size)
        self._fit_moments(classes, count, mean, m2, X.dtype)
        return self

    def _fit_moments(self, classes, count, mean, m2, dtype):
        """The model of :meth:`fit` from the per-class moments of all of X (any X: Dask too)."""
        n_seen = int(np.count_nonzero(count > 0))
        if n_seen < 2:
            raise ValueError(
                f"{type(self).__name__}.fit needs at least 2 classes with positive weight; "
                f"got {n_seen} class (labels {classes.tolist()!r}). To build the model "
                "batch by batch, declare all classes with partial_fit(X, y, classes=...)."
            )
        priors = self._validate_priors(classes.size)
        self._publish(classes, priors, count, mean, m2, dtype)

    @restore_on_failure
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Update the model with one batch of samples.

        The batch's per-class moments are merged with those seen so far (Chan et al.), so
        that any sequence of batches gives, to rounding, the model of one :meth:`fit` on their
        concatenation (``epsilon_`` included).

        Parameters
        ----------
        X : array-like or dask.array.Array of shape (n_samples, n_features)
            Training vectors of this batch. A Dask array or dataframe is one batch, however
            large: its chunks' moments are merged in one pass, as :meth:`fit` does.

        y : array-like or dask.array.Array of shape (n_samples,)
            Class labels of this batch; each must be one of ``classes``.

        classes : array-like of shape (n_classes,), default=None
            All the classes that can appear in y. Required on the first call (unless the
            estimator was fitted with :meth:`fit`), optional afterwards, where it must not
            change.

        sample_weight : array-like or dask.array.Array of shape (n_samples,), default=None
            Non-negative weights of the samples (1 for unweighted), not all zero.

        Returns
        -------
        self : object
            The updated estimator.
        """
        first_call = not hasattr(self, "_class_count")
        if first_call and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit: the list of every "
                "class that can appear in y."
            )
        if classes is not None:
            all_classes = _check_declared_classes(classes)
            if not first_call and not np.array_equal(all_classes, self.classes_):
                raise ValueError(
                    f"classes={all_classes.tolist()!r} is not the same as on the first call "
                    f"to partial_fit or fit ({self.classes_.tolist()!r})."
                )
        known = all_classes if first_call else self.classes_
        if _any_dask(X, y, sample_weight):
            return _dask_path().partial_fit(self, X, y, known, first_call, sample_weight)
        X, y = self._validate_X_y(X, y, reset=first_call)
        check_classification_labels(y)
        y_index = _class_index(known, y)
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        count, mean, m2 = self._class_moments(X, y_index, sample_weight, known.size)
        self._merge_batch(first_call, known, count, mean, m2, X.dtype)
        return self

    def _merge_batch(self, first_call, known, count, mean, m2, dtype):
        """Merge a batch's moments (over ``known``) into the model: :meth:`partial_fit`'s end."""
        if first_call:
            priors = self._validate_priors(known.size)
        else:
            count, mean, m2 = merge_moments(
                self._class_count, self._class_mean, self._class_m2, count, mean, m2
            )
            priors, dtype = self._class_prior, self.theta_.dtype
        self._publish(known, priors, count, mean, m2, dtype)

    def _validate_X_y(self, X, y, reset):
        _refuse_sparse(self, X)
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            dtype=[np.float64, np.float32],
            order="C",
            ensure_all_finite=False,  # checked by the kernel, without an extra pass over X
        )
        return as_aligned(X), y

    def _validate_priors(self, n_classes):
        if self.priors is None:
            return None
        priors = np.asarray(self.priors, dtype=np.float64)
        if priors.ndim != 1 or priors.shape[0] != n_classes:
            raise ValueError(
                f"priors must have one entry per class: got shape {priors.shape} for "
                f"{n_classes} classes."
            )
        if not np.all(np.isfinite(priors)) or np.any(priors < 0):
            raise ValueError(f"priors must be non-negative and finite; got {priors.tolist()}.")
        if not np.isclose(priors.sum(), 1.0, rtol=0.0, atol=1e-8):
            raise ValueError(
                f"priors must sum to one; they sum to {priors.sum()!r}. Pass probabilities, "
                "e.g. priors / priors.sum()."
            )
        return priors

    def _class_moments(self, X, y_index, sample_weight, n_classes):
        y_index = np.ascontiguousarray(y_index, dtype=np.intp)
        if not (y_index.shape == sample_weight.shape == (X.shape[0],)):  # the kernel's reads
            raise ValueError(
                f"X has {X.shape[0]} rows, y {y_index.shape[0]} labels and sample_weight "
                f"{sample_weight.shape[0]} weights: they must have one per sample."
            )
        from skcgd._kernels.naive_bayes import _nb_class_moments  # Numba loads on first use

        # what the kernel only reads, read-only: one specialisation (see as_aligned)
        count, mean, m2 = _nb_class_moments(
            readonly(X), readonly(y_index), readonly(sample_weight), int(n_classes)
        )
        if not (
            np.all(np.isfinite(count)) and np.all(np.isfinite(mean)) and np.all(np.isfinite(m2))
        ):
            _raise_non_finite(self, X)
        return count, mean, m2

    def _publish(self, classes, priors, count, mean, m2, dtype):
        """Derive the whole model from the float64 moments, then store it (nothing on error)."""
        attributes = gaussian_model(
            count,
            mean,
            m2,
            priors=priors,
            var_mode=self.var_mode,
            var_smoothing=self.var_smoothing,
            dtype=dtype,
        )
        self.classes_ = classes
        self._class_prior = priors
        if hasattr(self, "dask_stats_"):  # a Dask fit's pass counter; this fit sets its own
            del self.dask_stats_
        if self.var_mode != "shared":
            for name in ("coef_", "intercept_"):
                if hasattr(self, name):
                    delattr(self, name)
        for name, value in attributes.items():
            setattr(self, name, value)

    # --------------------------------------------------------------- prediction

    def _gaussian_parameters(self):
        """Means, inverse variances and per-class offsets, from the fitted attributes."""
        return gaussian_parameters(
            self.theta_, self.var_, self.class_prior_, self._class_count, self.var_smoothing
        )

    def _linear_parameters(self, centred=False):
        """Per-class weights and intercepts of the shared-variance model, shape (K, d), (K,)."""
        theta, prec, _ = self._gaussian_parameters()
        return linear_parameters(theta, prec, self.class_prior_, self._class_count, centred)

    def _validate_X(self, X):
        check_is_fitted(self)
        _refuse_sparse(self, X)
        X = validate_data(
            self,
            X,
            reset=False,
            dtype=[np.float64, np.float32],
            order="C",
            ensure_all_finite=False,
        )
        # n_features_in_ was checked; so must the arrays the kernel reads be
        check_model_shapes(self, X.shape[1], type(self).__name__)
        return as_aligned(X)

    def _kernel_output(self, X, output):
        from skcgd._kernels.naive_bayes import _nb_joint_log_likelihood

        theta, prec, offset = self._gaussian_parameters()
        out, finite = _nb_joint_log_likelihood(
            readonly(X), readonly(theta), readonly(prec), readonly(offset), int(output)
        )
        if not finite:
            _raise_non_finite(self, X)
        if (
            output == _JOINT
            and out.dtype == np.float32
            and np.isneginf(out[:, offset > -np.inf]).any()
        ):
            # computed in float64, the joint log-likelihood of a possible class fell below
            # float32's range on rounding: -inf would lose which class is most likely
            raise ValueError(
                f"Input X contains values too large for float32 output: joint "
                f"log-likelihoods fall below {np.finfo(np.float32).min:.3g}. Pass X as "
                "float64 (X.astype(np.float64)) or rescale it."
            )
        return out

    def _linear_scores(self, X):
        """Per-class linear scores of the shared-variance model: one matrix product.

        They differ from the joint log-likelihood by a term that depends on the sample only.
        """
        coef, intercept = self._linear_parameters(centred=True)
        scores = X @ coef.T.astype(X.dtype)
        if not np.all(np.isfinite(scores)):
            _raise_non_finite(self, X)
        scores += intercept.astype(X.dtype)
        return scores

    def _linear_log_proba(self, X):
        """Log-posteriors of the shared-variance model: a log-softmax of the linear scores."""
        scores = self._linear_scores(X)
        scores -= scores.max(axis=1, keepdims=True)
        scores -= np.log(np.exp(scores).sum(axis=1, keepdims=True))
        return scores

    def predict_joint_log_proba(self, X):
        """Return the joint log-probabilities ``log P(x, c)`` of the samples and classes.

        Parameters
        ----------
        X : array-like or dask.array.Array of shape (n_samples, n_features)
            The input samples; for a Dask array the result is a lazy Dask array with X's
            row chunks.

        Returns
        -------
        jll : ndarray of shape (n_samples, n_classes)
            ``log P(c) + log P(x | c)``, columns in the order of ``classes_``; dtype of X.
        """
        if is_dask_collection(X):
            return _dask_path().predict(self, X, "predict_joint_log_proba")
        X = self._validate_X(X)
        return self._kernel_output(X, _JOINT)

    def predict_log_proba(self, X):
        """Return the log-posterior probabilities of the classes.

        Parameters
        ----------
        X : array-like or dask.array.Array of shape (n_samples, n_features)
            The input samples; for a Dask array the result is a lazy Dask array with X's
            row chunks.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            ``log P(c | x)``, columns in the order of ``classes_``; dtype of X.
        """
        if is_dask_collection(X):
            return _dask_path().predict(self, X, "predict_log_proba")
        X = self._validate_X(X)
        if self.var_mode == "shared":
            log_proba = self._linear_log_proba(X)
        else:
            log_proba = self._kernel_output(X, _LOG_PROBA)
        if log_proba.dtype == np.float32:
            # exp(v) rounds to 1 in float32 for v >= -2**-25: report log P = 0 there, so that
            # log_proba stays the log of the float32 probability predict_proba returns
            log_proba[log_proba >= -(2.0**-25)] = 0.0
        return log_proba

    def predict_proba(self, X):
        """Return the posterior probabilities of the classes.

        Parameters
        ----------
        X : array-like or dask.array.Array of shape (n_samples, n_features)
            The input samples; for a Dask array the result is a lazy Dask array with X's
            row chunks.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            ``P(c | x)``, columns in the order of ``classes_``; dtype of X.
        """
        if is_dask_collection(X):
            return _dask_path().predict(self, X, "predict_proba")
        X = self._validate_X(X)
        if self.var_mode == "shared":
            return np.exp(self._linear_log_proba(X))
        return self._kernel_output(X, _PROBA)

    def predict(self, X):
        """Predict the most probable class of each sample.

        Parameters
        ----------
        X : array-like or dask.array.Array of shape (n_samples, n_features)
            The input samples; for a Dask array the result is a lazy Dask array with X's
            row chunks.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted class labels.
        """
        if is_dask_collection(X):
            return _dask_path().predict(self, X, "predict")
        X = self._validate_X(X)
        if self.var_mode == "shared":
            scores = self._linear_scores(X)
        else:
            scores = self._kernel_output(X, _JOINT)
        return self.classes_[np.argmax(scores, axis=1)]

    @available_if(_is_shared)
    def decision_function(self, X):
        """Linear decision function ``X @ coef_.T + intercept_`` (``var_mode="shared"`` only).

        For two classes it is the log-odds of ``classes_[1]``; for more it differs from the
        joint log-likelihood by a term that depends on the sample only.

        Parameters
        ----------
        X : array-like or dask.array.Array of shape (n_samples, n_features)
            The input samples; for a Dask array the result is a lazy Dask array with X's
            row chunks.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Decision values; dtype of X.
        """
        if is_dask_collection(X):
            return _dask_path().predict(self, X, "decision_function")
        X = self._validate_X(X)
        scores = X @ self.coef_.T.astype(X.dtype)
        if not np.all(np.isfinite(scores)):
            _raise_non_finite(self, X)
        scores += self.intercept_.astype(X.dtype)
        return scores.ravel() if scores.shape[1] == 1 else scores

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags


def _any_dask(*arrays):
    """Whether any of ``arrays`` is a Dask collection (without importing Dask)."""
    return any(is_dask_collection(a) for a in arrays)


def _dask_path():
    """The code of fits on Dask collections, imported (with Dask) only when one is passed."""
    from skcgd._chunked import _naive_bayes

    return _naive_bayes


def _check_declared_classes(classes):
    """The sorted distinct ``classes`` of partial_fit: 1-D, one type, at least two."""
    check_classification_labels(classes, "classes")
    declared = np.asarray(classes)
    if declared.ndim != 1:
        raise ValueError(f"classes must be a 1-D list of labels, got shape {declared.shape}.")
    declared = np.unique(declared)
    if declared.size < 2:
        raise ValueError(
            (
                "classes is empty"
                if declared.size == 0
                else f"classes lists only one class ({declared.tolist()!r})"
            )
            + ": partial_fit needs every class that can appear in y, at least 2 of them."
        )
    return declared


def _class_index(known, y):
    """The index in ``known`` (sorted classes) of every label of y; unknown labels refused."""
    try:
        y_index = np.searchsorted(known, y)
        unseen = (y_index >= known.size) | (known[np.minimum(y_index, known.size - 1)] != y)
    except TypeError:  # labels that do not compare with the classes (str against int)
        unseen = np.ones(y.shape, dtype=bool)
    if np.any(unseen):
        raise ValueError(
            f"y contains labels {np.unique(y[unseen]).tolist()!r} that are not among the "
            f"classes declared on the first call to partial_fit ({known.tolist()!r}). Declare "
            "every class up front with classes=..."
        )
    return y_index


def _refuse_sparse(estimator, X):
    if sp.issparse(X):
        raise TypeError(
            f"{type(estimator).__name__} does not accept sparse input: a Gaussian likelihood "
            "is the wrong model for sparse count or binary features. Use "
            "sklearn.naive_bayes.MultinomialNB or ComplementNB for counts and tf-idf, "
            "BernoulliNB for binary features; if X is truly continuous, densify it "
            "(X.toarray())."
        )


def _raise_non_finite(estimator, X):
    name = type(estimator).__name__
    if np.isnan(X).any():
        raise ValueError(
            f"Input X contains NaN. {name} does not accept missing values: impute them first "
            "(e.g. sklearn.impute.SimpleImputer in a Pipeline)."
        )
    if np.isinf(X).any():
        raise ValueError(f"Input X contains infinity. {name} needs finite values.")
    raise ValueError(
        f"Input X contains values too large for {name}: their squares overflow float64 "
        "(inf). Rescale X (e.g. sklearn.preprocessing.StandardScaler)."
    )


@register_warm_up
def _warm_up():
    """Compile the naive Bayes kernels for float64 and float32 input, in both modes.

    A read-only X (joblib's memory maps in its workers) needs nothing more: the kernels
    receive every X read-only (``as_aligned``).
    """
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 3))
    y = np.arange(12) % 3
    for dtype in (np.float64, np.float32):
        Xd = X.astype(dtype)
        for var_mode in ("class", "shared"):
            clf = GaussianNaiveBayes(var_mode).fit(Xd, y)
            clf.partial_fit(Xd, y)
            clf.predict(Xd)
            clf.predict_proba(Xd)
            clf.predict_log_proba(Xd)
            clf.predict_joint_log_proba(Xd)
