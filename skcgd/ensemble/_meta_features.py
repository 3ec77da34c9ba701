"""Stage 2 of the meta stage: row-wise statistics of the kept predictions, and the meta design.

The meta design of a matrix ``X`` whose first ``n_pred`` columns are base-model outputs is

    [kept prediction columns, meta-features, extra columns of X],

the meta-features being row-wise statistics (mean, std, ...) of the kept columns: of every
kept column for a regressor, and per class for a multiclass classifier, whose models give one
column per class (``block_size`` consecutive columns per model; the statistics of class
``c`` are taken over the ``c``-th column of every kept model).
"""

import numpy as np
import scipy.sparse as sp

from skcgd.ensemble._design import design_matvec, prediction_block, row_blocks, scale_columns

__all__ = [
    "DEFAULT_META_FEATURES",
    "META_FEATURES",
    "MetaDesign",
    "meta_feature_names",
    "meta_features",
    "predict_design",
    "transform_design",
]

# the row-wise statistics available as meta-features; the default leaves out the seed paper's
# interactions mean*std and range*std (see RegularizedMetaLearner's meta_features parameter)
META_FEATURES = ("mean", "std", "median", "range", "min", "max", "mean*std", "range*std")
DEFAULT_META_FEATURES = ("mean", "std", "median", "range")

# with fewer kept models the statistics are (nearly) collinear with the columns themselves
MIN_MODELS_FOR_META_FEATURES = 3


def meta_features(P, names=DEFAULT_META_FEATURES):
    """Row-wise statistics of the prediction columns ``P`` (stage 2).

    Parameters
    ----------
    P : ndarray of shape (n_samples, n_models)
        Predictions of the kept models.
    names : tuple of str
        Statistics among ``META_FEATURES``, in the order wanted; the standard deviation is the
        population one (``ddof=0``) and the range is max - min.

    Returns
    -------
    F : ndarray of shape (n_samples, len(names))

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.ensemble._meta_features import meta_features
    >>> meta_features(np.array([[1.0, 2.0, 6.0]]), ("mean", "median", "range"))
    array([[3., 2., 5.]])
    """
    stats = {}
    columns = [_row_statistic(P, name, stats) for name in names]
    return np.column_stack(columns) if names else np.empty((P.shape[0], 0))


def _row_statistic(P, name, stats):
    """One statistic of :func:`meta_features`, memoised in ``stats``.

    A module-level function rather than a closure: a recursive closure is a reference cycle,
    which would keep every block's statistics (and ``P``) alive until the cyclic garbage
    collector runs.
    """
    if name not in stats:
        if name == "mean":
            stats[name] = P.mean(axis=1)
        elif name == "std":
            stats[name] = P.std(axis=1)
        elif name == "median":
            stats[name] = np.median(P, axis=1)
        elif name == "min":
            stats[name] = P.min(axis=1)
        elif name == "max":
            stats[name] = P.max(axis=1)
        elif name == "range":
            stats[name] = _row_statistic(P, "max", stats) - _row_statistic(P, "min", stats)
        else:
            a, b = name.split("*")
            stats[name] = _row_statistic(P, a, stats) * _row_statistic(P, b, stats)
    return stats[name]


def meta_feature_names(meta_features):
    """The statistics selected by a ``meta_features`` parameter (validated).

    True means :data:`DEFAULT_META_FEATURES`, False or None none; otherwise distinct names
    among :data:`META_FEATURES`.
    """
    if meta_features is True:
        return DEFAULT_META_FEATURES
    if meta_features is False or meta_features is None:
        return ()
    names = tuple(meta_features)
    unknown = [n for n in names if n not in META_FEATURES]
    if unknown or len(set(names)) != len(names):
        raise ValueError(
            f"meta_features must be a bool or distinct names among "
            f"{META_FEATURES}, got {meta_features!r}."
        )
    return names


def block_columns(kept, block_size):
    """The column indices of the kept models (``block_size`` consecutive columns each)."""
    kept = np.asarray(kept, dtype=np.intp)
    if block_size == 1:
        return kept
    return (kept[:, None] * block_size + np.arange(block_size)).reshape(-1)


class MetaDesign:
    """The meta design of X, ``[kept prediction columns, meta-features, extra columns]``,
    served a block of rows at a time (the design protocol of :mod:`~._design`).

    Nothing of the size of X is copied: a block is gathered from X when asked for, the
    meta-features of the fit are computed once (``n_samples x n_meta_features`` float64)
    by :meth:`store_meta_features`, and the global shift and scale (``mu``, ``sigma``) are
    applied to each block.

    Parameters
    ----------
    X : {ndarray, CSR matrix} of shape (n_samples, n_features)
        Validated input; float32 is read as it is.
    n_pred : int
        Number of leading prediction columns; the others are extra columns.
    kept : ndarray of int
        The kept models (``block_size`` consecutive prediction columns each).
    meta_names : tuple of str
        The meta-features (empty: none).
    block_size : int, default=1
        Columns per model; with more than one, the meta-features are computed per class.
    """

    def __init__(self, X, n_pred, kept, meta_names, block_size=1):
        self.X = X
        self.n_pred = n_pred
        self.kept = block_columns(kept, block_size)
        self.block_size = block_size
        self.meta_names = tuple(meta_names)
        self.n_extra = X.shape[1] - n_pred
        self.sparse = sp.issparse(X) and self.n_extra > 0
        n_meta = len(self.meta_names) * (block_size if self.meta_names else 0)
        self.shape = (X.shape[0], self.kept.size + n_meta + self.n_extra)
        self.M = None
        self.mu = None
        self.sigma = None

    def _meta(self, P):
        if self.block_size == 1:
            return meta_features(P, self.meta_names)
        k = self.block_size
        return np.hstack([meta_features(P[:, c::k], self.meta_names) for c in range(k)])

    def store_meta_features(self):
        """Compute the meta-features of all rows once (they are reused by every pass)."""
        if not self.meta_names:
            return
        n = self.X.shape[0]
        self.M = np.empty((n, len(self.meta_names) * self.block_size))
        for b in row_blocks(np.arange(n), self.kept.size):
            self.M[b] = self._meta(prediction_block(self.X, b, self.kept))

    def raw(self, rows):
        """Untransformed design rows (dense float64, or CSR when the extra columns are)."""
        if self.sparse:
            P = prediction_block(self.X, rows, self.kept)
            if self.meta_names:
                F = self.M[rows] if self.M is not None else self._meta(P)
                P = np.hstack([P, F])
            R = self.X[rows][:, self.n_pred :]
            return sp.hstack([sp.csr_matrix(P), R], format="csr", dtype=np.float64)
        # dense: every part is written straight into one block
        X, k = self.X, self.kept.size
        q = self.shape[1] - k - self.n_extra
        out = np.empty((rows.shape[0], self.shape[1]))
        out[:, :k] = (
            prediction_block(X, rows, self.kept) if sp.issparse(X) else X[np.ix_(rows, self.kept)]
        )
        if q:
            out[:, k : k + q] = self.M[rows] if self.M is not None else self._meta(out[:, :k])
        if self.n_extra:  # (a CSR X with extra columns takes the sparse branch above)
            out[:, k + q :] = X[rows, self.n_pred :]
        return out

    def rows(self, rows):
        """Rows of ``Z = (D - mu) / sigma`` (the raw design until a transform is set)."""
        D = self.raw(rows)
        if self.sigma is None:
            return D
        return scale_columns(D, self.mu, self.sigma, copy=False)

    def feature_names(self, input_names):
        """Names of the design columns, given the names of the input columns of X."""
        names = [str(input_names[j]) for j in self.kept]
        if self.meta_names:
            k = self.block_size
            for c in range(k):
                suffix = "" if k == 1 else f"[{c}]"
                names += [f"{f}{suffix}" for f in self.meta_names]
        return names + [str(x) for x in input_names[self.n_pred :]]


def transform_design(design):
    """All the rows of a meta design (untransformed), as a meta-learner's ``transform``.

    Raises
    ------
    ValueError
        A meta-feature overflows float64 (the design is refused rather than returned with
        infinities).
    """
    with np.errstate(over="ignore", invalid="ignore"):
        Z = design.raw(np.arange(design.shape[0]))
    _check_finite_output(Z, "meta design (meta-features)")
    return Z


def predict_design(design, coef, intercept):
    """``raw design @ coef + intercept`` on all the rows, a block at a time (``predict``)."""
    with np.errstate(over="ignore", invalid="ignore"):
        pred = design_matvec(design, np.arange(design.shape[0]), coef) + intercept
    _check_finite_output(pred, "prediction")
    return pred


def _check_finite_output(Z, what):
    values = Z.data if sp.issparse(Z) else Z
    if not np.all(np.isfinite(values)):
        raise ValueError(
            f"The {what} overflows float64 for this X: its values are too large "
            "for the fitted model; rescale X to the magnitudes seen in fit."
        )
