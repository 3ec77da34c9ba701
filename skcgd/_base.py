"""Shared pieces of skcgd's estimators: a fit that fails leaves no trace, and the prediction
methods of a linear classifier.

Both rely on public scikit-learn APIs only (and :mod:`skcgd._compat` for ``validate_data``).
"""

import functools

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import ClassifierMixin
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted

from skcgd._chunked import is_dask_collection
from skcgd._chunked._engine import lazy_method
from skcgd._compat import validate_data

__all__ = [
    "LinearClassifierMixin",
    "LogisticClassifierMixin",
    "SparseCoefMixin",
    "restore_on_failure",
]


def restore_on_failure(fit):
    """Decorate a ``fit``-like method so that a failure leaves the estimator as it was.

    scikit-learn's ``validate_data(reset=True)`` records ``n_features_in_`` and
    ``feature_names_in_`` before the fit proper runs, and a fit sets its attributes one after
    the other; if it then raises (one class, a diverging solver, NaN found late), the
    estimator would hold the new data's width beside the old coefficients, and its predict
    methods would combine the two. The decorator snapshots the instance's attributes and puts
    them back when ``fit`` raises, so every attribute is either the previous fit's or the new
    one's. The snapshot is shallow: a fit must replace its fitted arrays, not write into them.

    Examples
    --------
    >>> from skcgd._base import restore_on_failure
    >>> class Model:
    ...     @restore_on_failure
    ...     def fit(self, value):
    ...         self.n_features_in_ = value
    ...         if value < 0:
    ...             raise ValueError("negative")
    ...         self.coef_ = value
    ...         return self
    >>> model = Model().fit(3)
    >>> try:
    ...     model.fit(-1)
    ... except ValueError:
    ...     pass
    >>> model.n_features_in_, model.coef_
    (3, 3)
    """

    @functools.wraps(fit)
    def guarded(self, *args, **kwargs):
        before = dict(vars(self))
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            vars(self).clear()
            vars(self).update(before)
            raise

    return guarded


class LinearClassifierMixin(ClassifierMixin):
    """``decision_function`` and ``predict`` of a classifier with ``coef_`` and ``intercept_``.

    ``coef_`` has one row for a binary problem (the scores of ``classes_[1]``) and one per
    class otherwise. Scores keep the dtype of X and of the coefficients (float32 stays
    float32); a sparse X is multiplied as it is.
    """

    def decision_function(self, X):
        """Scores ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The log-odds of ``classes_[1]`` for binary problems.
        """
        if is_dask_collection(X):  # lazily, chunk by chunk
            return lazy_method(self, "decision_function", X)
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        scores = np.asarray(safe_sparse_dot(X, self.coef_.T, dense_output=True)) + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X):
        """The class of the highest score.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        if is_dask_collection(X):  # lazily, chunk by chunk
            return lazy_method(self, "predict", X)
        scores = self.decision_function(X)
        if scores.ndim == 1:
            index = (scores > 0).astype(np.intp)
        else:
            index = scores.argmax(axis=1)
        return self.classes_[index]


class LogisticClassifierMixin(LinearClassifierMixin):
    """The prediction methods of a logistic model: scores refused when they overflow, and
    probabilities by the sigmoid (binary) or the softmax of the scores."""

    def decision_function(self, X):
        """Scores ``X @ coef_.T + intercept_`` (the log-odds of ``classes_[1]`` if binary).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)

        Raises
        ------
        ValueError
            If the scores overflow their dtype (X far larger than the data seen in fit): NaN
            or infinite scores would give NaN probabilities and arbitrary classes.
        """
        if is_dask_collection(X):  # lazily, chunk by chunk
            return lazy_method(self, "decision_function", X)
        with np.errstate(over="ignore", invalid="ignore"):  # refused below, by name
            scores = super().decision_function(X)
        if not np.all(np.isfinite(scores)):
            raise ValueError(
                f"The decision function overflows {scores.dtype} for this X: its values are "
                "too large for the fitted coefficients. Rescale X to the magnitudes seen in "
                "fit."
            )
        return scores

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        if is_dask_collection(X):  # lazily, chunk by chunk
            return lazy_method(self, "predict_proba", X)
        check_is_fitted(self)
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p1 = expit(scores)
            return np.column_stack([1.0 - p1, p1])
        return softmax(scores, axis=1)

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities (computed stably from the scores).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        if is_dask_collection(X):  # lazily, chunk by chunk
            return lazy_method(self, "predict_log_proba", X)
        check_is_fitted(self)
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return np.column_stack([log_expit(-scores), log_expit(scores)])
        return log_softmax(scores, axis=1)


class SparseCoefMixin:
    """``sparsify`` and ``densify`` of a linear model's ``coef_`` (scikit-learn's API).

    A sparse ``coef_`` (CSR) saves memory and time in prediction when most coefficients
    are zero; the prediction methods accept either form.
    """

    def densify(self):
        """Convert ``coef_`` to a dense array (the default form after ``fit``).

        Returns
        -------
        self : object
        """
        check_is_fitted(self)
        if sp.issparse(self.coef_):
            self.coef_ = self.coef_.toarray()
        return self

    def sparsify(self):
        """Convert ``coef_`` to a CSR matrix.

        Returns
        -------
        self : object

        Examples
        --------
        >>> import numpy as np
        >>> from skcgd.linear_model import MinimaxLogisticRegression
        >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
        >>> clf = MinimaxLogisticRegression("none").fit(X, [0, 0, 1, 1])
        >>> dense = clf.predict_proba(X)
        >>> bool(np.allclose(clf.sparsify().predict_proba(X), dense)), clf.coef_.format
        (True, 'csr')
        >>> type(clf.densify().coef_).__name__
        'ndarray'
        """
        check_is_fitted(self)
        self.coef_ = sp.csr_matrix(self.coef_)
        return self
