"""The layout in which the kernels receive their data: one compiled specialisation each.

Numba compiles a kernel once per combination of argument types, and an array's type includes
its dtype, its memory order, its alignment and whether it is writeable. Data that reach the
kernels in several layouts compile the kernels several times (a second or so each), in every
process that meets a new one: a read-only X (joblib hands arrays over 1 MB to its workers as
read-only memory maps), a CSR matrix with int64 indices, a Fortran-ordered or misaligned
array. The estimators convert their input once, with :func:`as_aligned`; the games, operators
and solvers hand what a kernel only reads over through :func:`readonly`. Both return views
wherever they can: no copy of X, and the caller's arrays are untouched.

It sits at the bottom of the package with :mod:`skcgd._validation` (which re-exports it) and
imports only numpy and scipy.
"""

import numpy as np
import scipy.sparse as sp

__all__ = ["aligned", "as_aligned", "readonly"]


def readonly(a):
    """A read-only view of the ndarray ``a`` (no copy; ``a``'s own flags are untouched).

    How every kernel receives the arrays it only reads. Numba compiles one specialisation
    per writeable flag, and joblib hands arrays over 1 MB to its workers as read-only memory
    maps: were kernels given writeable arrays elsewhere, each would compile twice (about a
    second each). A plain ``ndarray`` view also drops subclasses such as ``np.memmap``.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd._validation import readonly
    >>> a = np.ones(3)
    >>> readonly(a).flags.writeable, a.flags.writeable
    (False, True)
    """
    view = a.view(np.ndarray)
    view.flags.writeable = False
    return view


def aligned(a):
    """``a`` itself if its data are aligned for their dtype, else an aligned copy.

    Arrays deserialized from a byte stream (Dask sends them so) can start at any byte.
    NumPy's and BLAS's kernels then take other code paths whose rounding differs, and a fit
    on a Dask worker would not give the bits of the same fit in the client.
    """
    if sp.issparse(a):
        parts = [getattr(a, name, None) for name in ("data", "indices", "indptr")]
        if all(part is None or part.flags.aligned for part in parts):
            return a
        return a.copy()
    if a.flags.aligned:
        return a
    return np.array(a, order="K")


def as_aligned(X):
    """``X`` in the layout the kernels read: aligned, read-only, CSR with int32 indices.

    * Misaligned data are copied once (see :func:`aligned`).
    * The result is a read-only view (see :func:`readonly`; the caller's array is not
      touched), so a read-only X (a joblib memory map) and a writeable one compile the same
      kernels.
    * CSR index arrays are int32 whenever the matrix fits (scipy's own choice for all but
      huge matrices): int64 indices would be another specialisation of the sparse kernels.

    Parameters
    ----------
    X : ndarray or sparse matrix

    Returns
    -------
    X : ndarray or sparse matrix
    """
    if sp.issparse(X):
        return _kernel_csr(aligned(X))
    return readonly(aligned(X))


def _kernel_csr(X):
    """A CSR matrix sharing ``X``'s (aligned) arrays, read-only, with int32 indices when they
    fit; other sparse formats are returned as they are."""
    if X.format != "csr":
        return X
    data, indices, indptr = X.data, X.indices, X.indptr
    if indices.dtype != np.int32 and max(X.shape[1], X.nnz) < np.iinfo(np.int32).max:
        indices, indptr = indices.astype(np.int32), indptr.astype(np.int32)
    if (
        not data.flags.writeable
        and not indices.flags.writeable
        and not indptr.flags.writeable
        and indices is X.indices
    ):
        return X
    sorted_indices = X.has_sorted_indices
    out = type(X)((readonly(data), readonly(indices), readonly(indptr)), shape=X.shape, copy=False)
    out.has_sorted_indices = sorted_indices
    return out
