"""The design protocol of the meta stage: row blocks, weighted sums, standardisation (private).

A *design* is an object with ``shape``, ``sparse`` and ``rows(idx)``, which returns the rows
``idx`` as float64 (dense, or CSR). :class:`ArrayDesign` wraps an array held in memory; the
regression meta-learner builds its rows from the base-model predictions a block at a time
(:class:`skcgd.ensemble._meta_features.MetaDesign`), so nothing of the size of the data is
copied. Every pass over a design goes through :func:`row_blocks`.

Standardisation is defined once, here, and used by every stage and solver:

* :func:`weighted_mean_var` gives the weighted means and variances of the columns of rows
  held in memory: the variance about the mean (two passes) for dense rows, for accuracy when
  a column's mean is large against its spread; ``E[z^2] - mean^2`` (clipped at 0) for CSR
  rows, which are never centred or densified;
* :func:`column_scales` turns variances into the scales a column is divided by, 1 for a
  column whose standard deviation is at most ``floor`` (constant columns stay as they are);
* :func:`scale_columns` applies a shift and scales to rows (a sparse block is only scaled);
* :func:`global_transform` is the same mean and variance streamed over a design's blocks.

The passes over all the rows take a *reducer*: ``reduce(fn, *args)`` is the sum of
``fn(piece, *args)`` over pieces of the rows that together make all of them (``piece``
being what ``fn`` reads: a design and its weights, or X, y and the weights). The default,
:func:`in_memory`, calls ``fn`` once on the data held in memory; :mod:`skcgd._chunked`
passes one that runs ``fn`` on every chunk of a Dask array, where the chunk lives, and adds
the results. So the in-memory and the chunked fits run the same code, only summed
differently.
"""

import functools
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

__all__ = [
    "ArrayDesign",
    "CONSTANT_SCALE",
    "Stats",
    "add_stats",
    "block_stats",
    "column_scales",
    "condition_number",
    "condition_number_of_cov",
    "condition_number_of_stats",
    "design_matvec",
    "design_stats",
    "design_centred_squares",
    "design_sums",
    "global_transform",
    "in_memory",
    "prediction_block",
    "row_blocks",
    "scale_columns",
    "weighted_mean_var",
]

# rows per block of the passes over a design: about this many float64 entries (8 MB) per block
_BLOCK_ENTRIES = 1 << 20

# a column whose weighted standard deviation on the fit rows is below this (in the units of the
# globally standardised design, where columns have unit scale) is treated as constant
CONSTANT_SCALE = 1e-10


# ----------------------------------------------------------------------------- reducers


def _call_on(data, fn, *args):
    return fn(*data, *args)


def in_memory(*data):
    """The reducer of data held in memory: ``reduce(fn, *args)`` is ``fn(*data, *args)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.ensemble._design import in_memory
    >>> in_memory(np.arange(4.0))(np.sum)
    np.float64(6.0)
    """
    return functools.partial(_call_on, data)


# ----------------------------------------------------------------------------- standardisation


def weighted_mean_var(Z, sw):
    """Weighted means and variances of the columns of ``Z`` (dense or CSR, in memory).

    Parameters
    ----------
    Z : {ndarray, sparse matrix} of shape (n, p)
    sw : ndarray of shape (n,)
        Non-negative weights with a positive sum.

    Returns
    -------
    mean, var : ndarray of shape (p,)
        ``sum_i s_i z_i / N`` and ``sum_i s_i (z_i - mean)^2 / N`` (for CSR, the same from
        the raw second moment, clipped at 0).
    """
    N = sw.sum()
    if sp.issparse(Z):
        mean = np.asarray(Z.T @ sw).ravel() / N
        second = np.asarray(Z.multiply(Z).T @ sw).ravel() / N
        return mean, np.clip(second - mean**2, 0.0, None)
    mean = sw @ Z / N
    return mean, sw @ (Z - mean) ** 2 / N


def column_scales(var, floor=0.0):
    """Standard deviations ``sqrt(var)``, with 1 where they are at most ``floor``."""
    sd = np.sqrt(np.clip(var, 0.0, None))
    return np.where(sd > floor, sd, 1.0)


def scale_columns(D, shift, scale, *, copy=True):
    """``(D - shift) / scale`` column by column; a sparse ``D`` is only scaled (stays CSR).

    ``shift`` None skips the centring; ``copy=False`` overwrites a dense ``D``.
    """
    if sp.issparse(D):
        return sp.csr_matrix(D.multiply(1.0 / scale[None, :]))
    if copy:
        return (D if shift is None else D - shift) / scale
    if shift is not None:
        D -= shift
    D /= scale
    return D


# ----------------------------------------------------------------------------- designs


class ArrayDesign:
    """A design held in memory (dense ndarray or CSR) seen through the design protocol."""

    def __init__(self, Z):
        self.Z = Z
        self.shape = Z.shape
        self.sparse = sp.issparse(Z)

    def rows(self, idx):
        """The rows ``idx`` (index array or slice)."""
        return self.Z[idx]


def row_blocks(rows, width):
    """Consecutive pieces of the index array ``rows``, about ``_BLOCK_ENTRIES / width`` each."""
    size = max(256, _BLOCK_ENTRIES // max(int(width), 1))
    for start in range(0, rows.shape[0], size):
        yield rows[start : start + size]


def prediction_block(X, rows, cols):
    """Columns ``cols`` (prediction columns) of the rows ``rows`` of X, dense float64.

    Prediction columns are dense by nature; a CSR X is densified one block of rows and only
    these columns at a time (its extra columns stay sparse).
    """
    if sp.issparse(X):
        return np.asarray(X[rows][:, cols].toarray(), dtype=np.float64)
    return X[np.ix_(rows, cols)].astype(np.float64, copy=False)


def design_matvec(design, rows, coef):
    """``Z[rows] @ coef`` computed block by block (``coef`` of shape (p,) or (p, k))."""
    out = np.empty((rows.shape[0],) + coef.shape[1:])
    start = 0
    for b in row_blocks(rows, design.shape[1]):
        out[start : start + b.shape[0]] = np.asarray(design.rows(b) @ coef)
        start += b.shape[0]
    return out


def design_sums(design, sw, squares):
    """``(sum s, sum s z, sum s z^2 or None)`` over the rows of ``design``, block by block.

    ``squares``: also the raw second moments (for a sparse design, which is never centred).
    """
    p = design.shape[1]
    rows = np.arange(design.shape[0])
    first = np.zeros(p)
    second = np.zeros(p) if squares else None
    for b in row_blocks(rows, p):
        D = design.rows(b)
        first += np.asarray(D.T @ sw[b]).ravel()
        if squares:
            second += np.asarray(D.multiply(D).T @ sw[b]).ravel()
    return float(sw.sum()), first, second


def design_centred_squares(design, sw, mean):
    """``sum s (z - mean)^2`` over the rows of a dense ``design``, block by block."""
    second = np.zeros(design.shape[1])
    for b in row_blocks(np.arange(design.shape[0]), design.shape[1]):
        second += sw[b] @ (design.rows(b) - mean) ** 2
    return second


def global_transform(design, sw, standardize, *, reduce=None):
    """Shift and scale applied once to the whole design: ``Z = (X - mu) / sigma``.

    ``design`` gives the untransformed rows. :func:`weighted_mean_var` streamed over the
    blocks: dense designs are centred (weighted mean) and their variance taken about the
    mean (a second pass); sparse ones are only scaled (one pass). ``sigma`` is the weighted
    standard deviation of each column when ``standardize``, else 1. ``reduce`` sums a
    function of ``(design, sw)`` over the pieces of the rows (:func:`in_memory` by default:
    ``design`` and ``sw`` are all of them).
    """
    reduce = in_memory(design, sw) if reduce is None else reduce
    p = design.shape[1]
    N, first, second = reduce(design_sums, design.sparse and standardize)
    mean = first / N
    if not standardize:
        return (np.zeros(p) if design.sparse else mean), np.ones(p)
    if design.sparse:
        return np.zeros(p), column_scales(second / N - mean**2)
    return mean, column_scales(reduce(design_centred_squares, mean) / N)


# ----------------------------------------------------------------------------- weighted sums


class Stats(NamedTuple):
    """Weighted sums over a block of rows (sufficient statistics of a linear least squares).

    ``rows`` counts the rows of positive weight: the centred Gram matrix has rank at most
    ``rows - 1`` (see :func:`condition_number_of_stats`).
    """

    n: float
    zs: np.ndarray
    G: np.ndarray
    zy: np.ndarray
    ys: float
    yy: float
    rows: int = 0


def add_stats(a, b, sign=1.0):
    """``a + sign * b`` field by field."""
    return Stats(
        a.n + sign * b.n,
        a.zs + sign * b.zs,
        a.G + sign * b.G,
        a.zy + sign * b.zy,
        a.ys + sign * b.ys,
        a.yy + sign * b.yy,
        a.rows + int(sign) * b.rows,
    )


def block_stats(Z, y, sw):
    """Weighted sums of one block of rows (dense or CSR ``Z``, held in memory)."""
    if sp.issparse(Z):
        Zw = sp.csr_matrix(Z.multiply(sw[:, None]))
        G = (Z.T @ Zw).toarray()  # p x p: the Gram matrix is dense by nature, Z stays sparse
        zs = np.asarray(Zw.sum(axis=0)).ravel()
        zy = np.asarray(Zw.T @ y).ravel()
    else:
        Zw = Z * sw[:, None]
        G = Z.T @ Zw
        G = 0.5 * (G + G.T)
        zs = Zw.sum(axis=0)
        zy = Zw.T @ y
    rows = int(np.count_nonzero(sw > 0))
    return Stats(float(sw.sum()), zs, G, zy, float(sw @ y), float(sw @ (y * y)), rows)


def zero_stats(p):
    """The :class:`Stats` of no rows."""
    return Stats(0.0, np.zeros(p), np.zeros((p, p)), np.zeros(p), 0.0, 0.0, 0)


def design_stats(design, y, sw, rows):
    """:func:`block_stats` of the rows ``rows`` of a design, accumulated block by block."""
    total = None
    for b in row_blocks(rows, design.shape[1]):
        S = block_stats(design.rows(b), y[b], sw[b])
        total = S if total is None else add_stats(total, S)
    return zero_stats(design.shape[1]) if total is None else total


# ----------------------------------------------------------------------------- conditioning


def condition_number_of_cov(C, n_rows=None, cols=None):
    """2-norm condition number of the correlation matrix of a covariance matrix ``C``.

    ``inf`` when a column is constant, and, without any arithmetic, when ``C`` has at least
    ``n_rows`` columns: a weighted covariance of ``n_rows`` rows of positive weight has rank
    at most ``n_rows - 1`` (the rows are centred), so it is singular. Otherwise one symmetric
    eigenvalue decomposition (the correlation matrix is symmetric positive semi-definite: its
    singular values are its eigenvalues), a third of the cost of an SVD, and ``O(p^3)`` with
    ``p < n_rows``, so within the ``O(n p^2)`` that forming ``C`` costs. ``cols``: of the
    submatrix of these columns (taken only when it is needed).

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.ensemble._design import condition_number_of_cov
    >>> float(condition_number_of_cov(np.array([[4.0, 1.0], [1.0, 1.0]])))
    3.0
    >>> condition_number_of_cov(np.eye(3), n_rows=3)
    inf
    """
    p = C.shape[0] if cols is None else len(cols)
    if p == 0:
        return 1.0
    d = np.sqrt(np.clip(np.diag(C) if cols is None else np.diag(C)[cols], 0.0, None))
    if np.any(d <= CONSTANT_SCALE * max(d.max(), 1.0)):
        return np.inf
    if n_rows is not None and p >= n_rows:
        return np.inf
    if cols is not None:
        C = C[np.ix_(cols, cols)]
    s = np.abs(np.linalg.eigvalsh(C / np.outer(d, d)))
    smallest = s.min()
    return float(s.max() / smallest) if smallest > 0 else np.inf


def condition_number_of_stats(S):
    """2-norm condition number of the standardised design (its correlation matrix)."""
    m = S.zs / S.n
    return condition_number_of_cov(S.G / S.n - np.outer(m, m), S.rows or None)


def condition_number(Z, sw):
    """Condition number of the standardised columns of ``Z`` (of their correlation matrix).

    ``inf`` at once when ``Z`` has at least as many columns as rows of positive weight
    (:func:`condition_number_of_cov`): the ``O(n p^2)`` sums are not formed.
    """
    if Z.shape[1] == 0:
        return 1.0
    if Z.shape[1] >= np.count_nonzero(sw > 0):
        return np.inf
    return condition_number_of_stats(block_stats(Z, np.zeros(Z.shape[0]), sw))
