r"""Products with the design matrix ``X~ = [X, 1]`` of the reweighted logistic games.

The min player of a logistic game is the coefficient matrix ``W`` of shape ``(K, q)``,
``q = n_features + fit_intercept``, flattened row-major with the intercept last in each row:
the layout of :class:`skcgd.solvers.RowGramOperator`. With ``xt_i`` row ``i`` of ``X``
followed by a 1 when ``fit_intercept``, the margins are ``z_i = W xt_i`` and every derivative
of the data term has the form ``sum_i c_i (g_i kron xt_i)``; so the gradient is one matrix
product ``(c * G)^T X~``, the mixed Hessian's column ``i`` is ``r_i kron xt_i``, and Hessians
are row-Gram sums ``sum_i (r_i kron xt_i)(r_i kron xt_i)^T``.

Products run in BLAS (dense) or scipy.sparse (CSR, never densified). A float32 ``X`` is kept
as float32; it is read in row blocks converted to float64 (at most ``CHUNK_ELEMENTS`` numbers
at a time), so iterates, gradients and values are float64 and equal those of the same data
held in float64.
"""

import numpy as np
import scipy.sparse as sp
from scipy.linalg.blas import dsyrk

from skcgd._linalg import MixedOperator, RowGramOperator, conjugate_gradient
from skcgd._validation import check_vector

__all__ = [
    "CHUNK_ELEMENTS",
    "LogisticMixedOperator",
    "margins",
    "row_blocks",
    "row_gram",
    "weighted_sum_rows",
]

# Row blocks of a float32 X are converted to float64 this many numbers at a time (and the
# dense system matrix is accumulated from blocks of this size): 8 MB of float64 temporaries.
CHUNK_ELEMENTS = 1 << 20


def row_blocks(X, width=None):
    """Yield ``(start, stop, block)``: row blocks of ``X`` in float64.

    With ``width=None`` a float64 ``X`` comes as one block (a view, no copy) and a float32 one
    in blocks of about ``CHUNK_ELEMENTS`` numbers; with ``width`` given, blocks are sized so
    that a temporary of ``rows * width`` numbers stays within that budget too.
    """
    n = X.shape[0]
    if width is None and X.dtype == np.float64:
        yield 0, n, X
        return
    per_row = X.nnz / max(n, 1) if sp.issparse(X) else X.shape[1]
    per_row = max(per_row, 1.0, width or 1.0)
    rows = max(1, int(CHUNK_ELEMENTS // per_row))
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        block = X[start:stop]
        if block.dtype != np.float64:
            block = block.astype(np.float64)
        yield start, stop, block


def margins(X, W, fit_intercept):
    """``X~ @ W.T``: shape (n, K), float64, C-contiguous; ``W`` of shape (K, q)."""
    p = X.shape[1]
    coef = W[:, :p]
    Z = np.empty((X.shape[0], W.shape[0]))
    for start, stop, block in row_blocks(X):
        Z[start:stop] = block @ coef.T
    if fit_intercept:
        Z += W[:, p]
    return Z


def weighted_sum_rows(X, M, fit_intercept):
    """``M.T @ X~``: shape (K, q), float64; ``M`` of shape (n, K)."""
    p = X.shape[1]
    out = np.zeros((M.shape[1], p + int(fit_intercept)))
    for start, stop, block in row_blocks(X):
        out[:, :p] += np.asarray(block.T @ M[start:stop]).T
    if fit_intercept:
        out[:, p] = M.sum(axis=0)
    return out


def row_gram(X, R, fit_intercept):
    """``sum_i (r_i kron xt_i)(r_i kron xt_i)^T``: shape (K q, K q), float64.

    Accumulated over row blocks, so the (n, K q) factor is never held at once. With one
    coefficient row and dense X (the common case, and the Newton solver's Hessian) each block
    is scaled once and accumulated by a symmetric rank-k update (BLAS syrk); the intercept's
    row and column come from two cheap products instead of a column appended to X.
    """
    n, p = X.shape
    K = R.shape[1]
    q = p + int(fit_intercept)
    if K == 1 and not sp.issparse(X):
        return _row_gram_dense_single(X, R[:, 0], fit_intercept)
    G = np.zeros((K * q, K * q))
    for start, stop, block in row_blocks(X, width=K * q):
        Rb = R[start:stop]
        if sp.issparse(block):
            Xt = (
                sp.hstack([block, np.ones((stop - start, 1))], format="csr")
                if fit_intercept
                else block
            )
            F = sp.hstack([sp.diags(Rb[:, k]) @ Xt for k in range(K)], format="csr")
            G += (F.T @ F).toarray()
        else:
            Xt = np.hstack([block, np.ones((stop - start, 1))]) if fit_intercept else block
            F = (Rb[:, :, None] * Xt[:, None, :]).reshape(stop - start, K * q)
            G += F.T @ F
    return G


def _row_gram_dense_single(X, r, fit_intercept):
    """``X~^T diag(r^2) X~`` for dense X by blocked syrk (upper triangle, then mirrored)."""
    n, p = X.shape
    G = np.zeros((p, p), order="F")
    rows = max(1, min(n, 2048, CHUNK_ELEMENTS // max(p, 1)))
    r2 = r * r
    cross = np.zeros(p)
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        S = X[start:stop] * r[start:stop, None]  # float64 block (also for a float32 X)
        # S is C-ordered, so S.T is Fortran-ordered: dsyrk(S.T) = S^T S without a copy
        # (BLAS refuses a 0 x 0 output, so a game without features skips it)
        if p:
            G = dsyrk(1.0, S.T, beta=1.0, c=G, trans=0, lower=0, overwrite_c=1)
        if fit_intercept:
            cross += S.T @ r[start:stop]  # sum_i r_i^2 x_i
    G = np.triu(G) + np.triu(G, 1).T
    if not fit_intercept:
        return np.ascontiguousarray(G)
    out = np.empty((p + 1, p + 1))
    out[:p, :p] = G
    out[:p, p] = cross
    out[p, :p] = cross
    out[p, p] = r2.sum()
    return out


class LogisticMixedOperator(MixedOperator):
    r"""Mixed Hessian ``B`` of a reweighted logistic game: column ``i`` is ``r_i kron xt_i``.

    Parameters
    ----------
    X : ndarray or CSR matrix of shape (n, p)
        The game's (validated) data.
    R : ndarray of shape (n, K)
        Row coefficients ``r_i``.
    fit_intercept : bool
        Whether ``xt_i`` ends with a 1.
    """

    def __init__(self, X, R, fit_intercept):
        self.X = X
        self.R = R
        self.fit_intercept = fit_intercept
        self.K = R.shape[1]
        self.q = X.shape[1] + int(fit_intercept)
        self.shape = (self.K * self.q, X.shape[0])

    def matvec(self, v):
        """``B @ v = vec(sum_i v_i r_i xt_i^T)`` for ``v`` of shape (n,)."""
        v = check_vector(v, self.shape[1], "v")
        return weighted_sum_rows(self.X, self.R * v[:, None], self.fit_intercept).ravel()

    def rmatvec(self, u):
        """``(B.T @ u)_i = r_i . (U xt_i)`` for ``u = vec(U)`` of shape (K q,)."""
        U = check_vector(u, self.shape[0], "u").reshape(self.K, self.q)
        Z = margins(self.X, U, self.fit_intercept)
        return np.einsum("ik,ik->i", self.R, Z)

    def solve(self, side, hx, hy, rhs, z0, tol, atol, max_iter):
        """Solve a CGD system; ``side="x"`` runs the fused row-Gram CG kernel (one pass over X
        per iteration), ``side="y"`` the generic CG of :class:`MixedOperator`."""
        if side != "x":
            return super().solve(side, hx, hy, rhs, z0, tol, atol, max_iter)
        op = RowGramOperator(
            self.X,
            self.R,
            hy=hy,
            dx=np.sqrt(hx),
            fit_intercept=self.fit_intercept,
            check_input=False,
        )
        return conjugate_gradient(op, rhs, x0=z0, tol=tol, atol=atol, max_iter=max_iter)

    def system_matrix(self, side, hx, hy):
        """The dense CGD system matrix; for ``side="x"`` built from row blocks of X
        (``I + Dx (sum_i hy_i (r_i kron xt_i)(r_i kron xt_i)^T) Dx``, ``Dx = diag(sqrt(hx))``)."""
        if side != "x":
            return super().system_matrix(side, hx, hy)
        hx = check_vector(hx, self.shape[0], "hx")
        hy = check_vector(hy, self.shape[1], "hy")
        A = row_gram(self.X, self.R * np.sqrt(hy)[:, None], self.fit_intercept)
        d = np.sqrt(hx)
        A *= d[:, None]
        A *= d[None, :]
        A[np.diag_indices_from(A)] += 1.0
        return A
