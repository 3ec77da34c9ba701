"""Cross-validated ridge, Lasso and elastic-net fits on one design (private).

Everything here works on a *design*: an object with ``shape``, ``sparse`` and ``rows(idx)``,
which returns the rows ``idx`` of ``Z = (X - mu) / sigma`` (float64; dense, or CSR), the
caller having chosen the shift and scale once for the whole data set (centring a sparse
design is skipped). :class:`ArrayDesign` wraps an array held in memory; the meta-learner
builds its rows from the base-model predictions block by block, so the direct path below never
holds a full copy of the design. With a target ``y`` centred the same way and non-negative
weights ``sw``, a *fit* uses a subset of the rows (the training rows of an outer fold, or all
rows) and

* centres ``Z`` and ``y`` on those rows (the intercept is never penalised);
* optionally standardises the columns on those rows (``d`` = their weighted standard
  deviations), so the penalty acts on ``u = d * w``, as for a ``StandardScaler`` fitted in a
  pipeline before the model;
* chooses the penalty by inner cross-validation (K-fold, or the exact leave-one-out of ridge),
  and refits on all the rows of the fit.

Two ways to solve:

``direct`` (designs up to ``DIRECT_MAX_FEATURES`` columns, ``DIRECT_MAX_FEATURES_SPARSE``
when sparse)
    Passes over row blocks accumulate, for every inner test block, the weighted sums
    ``n, sum z, sum z z^T, sum z y, sum y, sum y^2``; the training statistics of a fold are
    the total minus its block. Ridge then costs one symmetric eigendecomposition of the
    standardised Gram matrix per fold, after which every alpha is a diagonal rescaling
    (``u(alpha) = V diag(1 / (s + alpha)) V^T b``), and the held-out squared error of any
    coefficient vector follows from the block's statistics without touching its rows. The
    exact leave-one-out of ridge takes one more pass: the rows' coordinates in the
    eigenbasis, ``A = (Z - m) / d @ V``, a block at a time (a sparse block stays sparse:
    ``Z @ (V / d) - m @ (V / d)``). Lasso and elastic net run coordinate descent on the same
    Gram matrix (a Numba kernel, ``O(p^2)`` per sweep, warm-started along the alpha path).
    Memory: one row block and ``O(p^2)`` per fit.

``cg`` (wider designs, dense or sparse)
    Ridge solves ``(I + G / alpha) u = b / alpha`` with skcgd's conjugate gradient on the
    fused row-Gram operator (``X^T S X`` never formed), from the largest alpha down, each
    solve warm-started at the previous solution. Centring a sparse design is applied as a
    rank-one correction. Lasso and elastic net use scikit-learn's coordinate descent on the
    rows (warm-started along the path). The rows of a fit are materialised (a copy of them).

Penalty selection: K-fold on both paths for every model; for ridge with ``loo`` the exact
leave-one-out, which only the direct path computes (it needs the leverages, i.e. the
factorization the CG path avoids), so the caller decides which rule applies to which solver.
"""

import warnings
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet

from skcgd._kernels.stacking import _enet_gram_path
from skcgd.solvers import RowGramOperator, conjugate_gradient

__all__ = [
    "MetaModelSpec",
    "FittedLinear",
    "fit_linear_cv",
    "global_transform",
    "ArrayDesign",
    "DIRECT_MAX_FEATURES",
    "DIRECT_MAX_FEATURES_SPARSE",
    "condition_number_of_stats",
    "condition_number_of_cov",
    "block_stats",
    "design_stats",
    "design_matvec",
    "direct_cache",
    "add_stats",
    "row_blocks",
]

# ``solver="auto"`` uses the direct path up to this many design columns, the conjugate
# gradient above; each side with its default penalty selection (direct: exact leave-one-out
# for ridge; CG: 5-fold), exactly as ``benchmarks/bench_stacking.py --section solvers`` times
# them (ridge meta-model, default alphas and tol, outer cv=2, one BLAS thread; seconds,
# direct against CG, load average 0.5):
#   dense, 10000 rows, p = 250 / 500 / 1000 / 2000 / 4000: 0.17 / 0.53 / 2.1 / 10.9 / 61
#   against 1.4 / 3.7 / 10.8 / 28.3 / 65 (CG/direct 8.2, 7.1, 5.1, 2.6, 1.08): the direct
#   path is faster at every measured width, so the switch is at the widest, 4000, where the
#   two tie (the ratio's trend crosses 1 near 4300; taller designs favour direct further);
#   sparse, 50000 rows, 20 non-zeros a row, p = 300 / 1000 / 2000 / 3000: 0.60 / 2.3 / 8.4
#   / 22.4 against 3.8 / 4.2 / 4.6 / 5.0 (CG/direct 6.3, 1.8, 0.55, 0.22): the two cross
#   near 1400 columns (log-linear between 1000 and 2000). The eigendecomposition grows like
#   p^3; CG's cost per iteration like the non-zeros.
DIRECT_MAX_FEATURES = 4000
DIRECT_MAX_FEATURES_SPARSE = 1400

# rows per block of the passes over a design: about this many float64 entries (8 MB) per block
_BLOCK_ENTRIES = 1 << 20

# a column whose weighted standard deviation on the fit rows is below this (in the units of the
# globally standardised design, where columns have unit scale) is treated as constant
_CONSTANT_SCALE = 1e-10


class MetaModelSpec(NamedTuple):
    """What to fit: ``kind`` in {"ridge", "lasso", "elasticnet"} and its penalty grid.

    ``alphas`` is an explicit array of penalties (for the design as the fit penalises it:
    standardised or raw) or None for an automatic grid of ``n_alphas`` values from
    ``alpha_max`` (all coefficients zero) down to ``eps * alpha_max``; ``l1_ratios`` only for
    elastic net.
    """

    kind: str
    alphas: object
    n_alphas: int
    eps: float
    l1_ratios: tuple


class FittedLinear(NamedTuple):
    """A fitted meta-model in the units of ``Z``: ``Z @ coef + intercept`` predicts ``y``.

    ``n_iter`` counts the solver's iterations of the final fit at the chosen penalty (coordinate
    sweeps, CG iterations; 1 for a direct solve).
    """

    coef: np.ndarray
    intercept: float
    alpha: float
    l1_ratio: float
    cv_scores: np.ndarray
    n_iter: int


class Stats(NamedTuple):
    """Weighted sums over a block of rows (sufficient statistics of a linear least squares)."""

    n: float
    zs: np.ndarray
    G: np.ndarray
    zy: np.ndarray
    ys: float
    yy: float


def add_stats(a, b, sign=1.0):
    """``a + sign * b`` field by field."""
    return Stats(
        a.n + sign * b.n,
        a.zs + sign * b.zs,
        a.G + sign * b.G,
        a.zy + sign * b.zy,
        a.ys + sign * b.ys,
        a.yy + sign * b.yy,
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
    return Stats(float(sw.sum()), zs, G, zy, float(sw @ y), float(sw @ (y * y)))


def _zero_stats(p):
    return Stats(0.0, np.zeros(p), np.zeros((p, p)), np.zeros(p), 0.0, 0.0)


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


def design_stats(design, y, sw, rows):
    """:func:`block_stats` of the rows ``rows`` of a design, accumulated block by block."""
    total = None
    for b in row_blocks(rows, design.shape[1]):
        S = block_stats(design.rows(b), y[b], sw[b])
        total = S if total is None else add_stats(total, S)
    return _zero_stats(design.shape[1]) if total is None else total


def design_matvec(design, rows, coef):
    """``Z[rows] @ coef`` computed block by block (``coef`` of shape (p,) or (p, k))."""
    out = np.empty((rows.shape[0],) + coef.shape[1:])
    start = 0
    for b in row_blocks(rows, design.shape[1]):
        out[start : start + b.shape[0]] = np.asarray(design.rows(b) @ coef)
        start += b.shape[0]
    return out


def global_transform(design, sw, standardize):
    """Shift and scale applied once to the whole design: ``Z = (X - mu) / sigma``.

    ``design`` gives the untransformed rows. Dense designs are centred (weighted mean) for
    accuracy; sparse ones are only scaled. ``sigma`` is the weighted standard deviation of
    each column when ``standardize``, else 1. Two passes over the rows (the variance about
    the mean, not from the raw second moment) for dense designs, one for sparse ones.
    """
    n, p = design.shape
    N = sw.sum()
    rows = np.arange(n)
    first = np.zeros(p)
    second = np.zeros(p)
    for b in row_blocks(rows, p):
        D = design.rows(b)
        first += np.asarray(D.T @ sw[b]).ravel()
        if design.sparse and standardize:
            second += np.asarray(D.multiply(D).T @ sw[b]).ravel()
    mean = first / N
    if design.sparse:
        mu = np.zeros(p)
        sigma = np.sqrt(np.clip(second / N - mean**2, 0.0, None)) if standardize else np.ones(p)
    else:
        mu = mean
        if standardize:
            for b in row_blocks(rows, p):
                second += sw[b] @ (design.rows(b) - mu) ** 2
            sigma = np.sqrt(second / N)
        else:
            sigma = np.ones(p)
    sigma = np.where(sigma > 0, sigma, 1.0)
    return mu, sigma


def condition_number_of_cov(C):
    """2-norm condition number of the correlation matrix of a covariance matrix ``C``."""
    if C.shape[0] == 0:
        return 1.0
    d = np.sqrt(np.clip(np.diag(C), 0.0, None))
    if np.any(d <= _CONSTANT_SCALE * max(d.max(), 1.0)):
        return np.inf
    return float(np.linalg.cond(C / np.outer(d, d)))


def condition_number_of_stats(S):
    """2-norm condition number of the standardised design (its correlation matrix)."""
    m = S.zs / S.n
    return condition_number_of_cov(S.G / S.n - np.outer(m, m))


# ----------------------------------------------------------------------------- per-fit setup


class _Fit(NamedTuple):
    """Centring and scaling of one fit (its rows), in ``Z`` units."""

    N: float
    m: np.ndarray  # weighted mean of the rows of Z
    ybar: float
    d: np.ndarray  # column scales: the penalty acts on u = d * w
    Gu: np.ndarray  # (Z - m)^T S (Z - m) / (d d^T), or None on the CG path
    bu: np.ndarray  # (Z - m)^T S (y - ybar) / d
    yyc: float  # (y - ybar)^T S (y - ybar)


def _fit_from_stats(S, standardize):
    N = S.n
    m = S.zs / N
    ybar = S.ys / N
    Gc = S.G - N * np.outer(m, m)
    bc = S.zy - N * m * ybar
    yyc = max(S.yy - N * ybar * ybar, 0.0)
    d = _scales(np.diag(Gc) / N, standardize)
    Gu = Gc / np.outer(d, d)
    return _Fit(N, m, ybar, d, 0.5 * (Gu + Gu.T), bc / d, yyc)


def _scales(var, standardize):
    if not standardize:
        return np.ones(var.shape[0])
    d = np.sqrt(np.clip(var, 0.0, None))
    return np.where(d > _CONSTANT_SCALE, d, 1.0)


def _sse_from_stats(B, W, c0):
    """Weighted sum of squared errors on block ``B`` of ``Z @ W + c0`` (one column per model)."""
    quad = np.einsum("pa,pa->a", W, B.G @ W)
    return B.yy - 2.0 * c0 * B.ys - 2.0 * (B.zy @ W) + c0 * c0 * B.n + 2.0 * c0 * (B.zs @ W) + quad


def _to_z_units(F, U):
    """Coefficients ``u`` (p, k) on the standardised fit -> ``(W, c0)`` in ``Z`` units."""
    W = U / F.d[:, None]
    c0 = F.ybar - F.m @ W
    return W, c0


# ----------------------------------------------------------------------------- penalty grids


def _alpha_grid(spec, F, l1_ratio, y_scale):
    """Penalties in the units the solvers use (ridge: unnormalised, enet: per-sample)."""
    if spec.alphas is not None:
        return np.asarray(spec.alphas, dtype=float)
    if spec.kind == "ridge":  # pragma: no cover - ridge grids are always explicit
        raise ValueError("ridge needs explicit alphas")
    alpha_max = np.max(np.abs(F.bu)) / (F.N * l1_ratio) if F.bu.size else 0.0
    # a design (nearly) uncorrelated with y gives alpha_max ~ 0: keep the grid above rounding
    alpha_max = max(alpha_max, 1e-6 * y_scale, 1e-300)
    return alpha_max * np.logspace(0.0, np.log10(spec.eps), spec.n_alphas)


# ----------------------------------------------------------------------------- direct solvers


def _ridge_direct(F, alphas):
    s, V = np.linalg.eigh(F.Gu)
    s = np.clip(s, 0.0, None)
    Vb = V.T @ F.bu
    return V @ (Vb[:, None] / (s[:, None] + alphas[None, :]))


def _enet_direct(F, alphas, l1_ratio, tol, max_iter, w0=None, n_iter_out=None):
    """Elastic-net path (``alphas`` decreasing) on the Gram of the fit; returns U (p, k)."""
    p = F.Gu.shape[0]
    G = np.ascontiguousarray(F.Gu / F.N)
    c = np.ascontiguousarray(F.bu / F.N)
    order = np.argsort(-alphas, kind="stable")
    w0 = np.zeros(p) if w0 is None else np.ascontiguousarray(w0, dtype=float)
    W, n_iter, converged = _enet_gram_path(
        G,
        c,
        F.yyc / F.N,
        np.ascontiguousarray(alphas[order]),
        float(l1_ratio),
        w0,
        float(tol),
        int(max_iter),
    )
    U = np.empty((p, alphas.shape[0]))
    U[:, order] = W.T
    if n_iter_out is not None:
        n_iter_out.append(int(n_iter[-1]))
    return U, bool(converged.all())


# ----------------------------------------------------------------------------- CG solvers


class _CGProblem:
    """The rows of one fit for the conjugate-gradient path (centring explicit or rank-one)."""

    def __init__(self, Z, y, sw, standardize):
        self.sw = sw
        self.N = float(sw.sum())
        if sp.issparse(Z):
            self.m = np.asarray(Z.T @ sw).ravel() / self.N
            self.Z = sp.csr_matrix(Z, dtype=np.float64)
            self.sparse = True
            sq = np.asarray(self.Z.multiply(self.Z).T @ sw).ravel() / self.N
            var = np.clip(sq - self.m**2, 0.0, None)
        else:
            self.m = sw @ Z / self.N
            self.Z = np.ascontiguousarray(Z - self.m)
            self.sparse = False
            var = sw @ self.Z**2 / self.N
        self.ybar = float(sw @ y / self.N)
        yc = y - self.ybar
        self.d = _scales(var, standardize)
        self.bu = np.asarray(self.Z.T @ (sw * yc)).ravel() / self.d
        self.yyc = float(sw @ (yc * yc))
        self._op = RowGramOperator(self.Z, hy=sw.copy(), dx=1.0 / self.d)
        self._md = self.m / self.d

    def operator(self, alpha):
        """``I + G_u / alpha`` for the centred, scaled design."""
        op = self._op
        op.hy = self.sw / alpha
        if not self.sparse:
            return op
        md = self._md
        coef = self.N / alpha

        def matvec(v):
            v = np.asarray(v, dtype=float).reshape(-1)
            return op.matvec(v) - coef * md * (md @ v)

        p = self.d.shape[0]
        return LinearOperator((p, p), matvec=matvec, dtype=np.float64)

    def to_z(self, U):
        W = U / self.d[:, None]
        c0 = self.ybar - self.m @ W
        return W, c0


def _ridge_cg(prob, alphas, tol, max_iter, u0=None, n_iter_out=None):
    """Ridge along ``alphas`` (solved from the largest down, warm-started); U (p, k)."""
    p = prob.d.shape[0]
    order = np.argsort(-alphas, kind="stable")
    U = np.empty((p, alphas.shape[0]))
    u = np.zeros(p) if u0 is None else np.asarray(u0, dtype=float).copy()
    ok = True
    for k in order:
        alpha = float(alphas[k])
        u, n_iter, converged = conjugate_gradient(
            prob.operator(alpha), prob.bu / alpha, x0=u, tol=tol, max_iter=max_iter
        )
        ok &= converged
        U[:, k] = u
        if n_iter_out is not None:
            n_iter_out.append(int(n_iter))
    return U, ok


def _enet_rows(Z, y, sw, standardize, alphas, l1_ratio, tol, max_iter, n_iter_out=None):
    """Elastic-net path on the rows with scikit-learn's coordinate descent; (W, c0) in Z units."""
    N = sw.sum()
    if sp.issparse(Z):
        m = np.asarray(Z.T @ sw).ravel() / N
        sq = np.asarray(Z.multiply(Z).T @ sw).ravel() / N
        var = np.clip(sq - m**2, 0.0, None)
    else:
        m = sw @ Z / N
        var = sw @ (Z - m) ** 2 / N
    d = _scales(var, standardize)
    Zs = Z @ sp.diags(1.0 / d) if sp.issparse(Z) else Z / d
    Zs = sp.csr_matrix(Zs) if sp.issparse(Z) else Zs
    order = np.argsort(-alphas, kind="stable")
    W = np.empty((Z.shape[1], alphas.shape[0]))
    c0 = np.empty(alphas.shape[0])
    model = ElasticNet(l1_ratio=l1_ratio, tol=tol, max_iter=max_iter, warm_start=True)
    ok = True
    for k in order:
        model.set_params(alpha=float(alphas[k]))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model.fit(Zs, y, sample_weight=sw)
        ok &= not any(issubclass(w.category, ConvergenceWarning) for w in caught)
        W[:, k] = model.coef_ / d
        c0[k] = model.intercept_
        if n_iter_out is not None:
            n_iter_out.append(int(model.n_iter_))
    return W, c0, ok


# ----------------------------------------------------------------------------- the CV driver


def _inner_blocks(design, y, sw, rows, splits):
    """Statistics of all ``rows``, of every inner test block and of every inner training set.

    ``splits`` is read once, one split at a time (only the statistics are kept, not the
    index arrays). When the test blocks partition the rows (K-fold), the total is their
    sum, and a fold whose training set is the complement of its block gets the total minus
    the block (its entry of ``trains`` is None; see :func:`_train_stats`): one pass over the
    rows. Otherwise (any other splitter) the total and the training sets are summed directly.
    """
    tests, trains = [], []
    counts = np.zeros(rows.shape[0], dtype=np.intp)
    in_test = np.zeros(rows.shape[0], dtype=bool)
    for tr, te in splits:
        tests.append(design_stats(design, y, sw, rows[te]))
        counts[te] += 1
        in_test[:] = False
        in_test[te] = True
        complement = tr.shape[0] + te.shape[0] == rows.shape[0] and not in_test[tr].any()
        trains.append(None if complement else design_stats(design, y, sw, rows[tr]))
    if tests and np.all(counts == 1):
        total = tests[0]
        for B in tests[1:]:
            total = add_stats(total, B)
    else:
        total = design_stats(design, y, sw, rows)
    # a complement's statistics (total minus block) are formed when used, so that only the
    # blocks' Gram matrices are held (K + 1 of them, not 2K + 1)
    return total, tests, trains


def _train_stats(total, B, T):
    """A fold's training statistics: ``T``, or the total minus its test block ``B``."""
    return add_stats(total, B, -1.0) if T is None else T


def direct_cache(design, y, sw, rows, splits, kfold):
    """The statistics the direct path of one fit needs, computed once for all its models.

    ``kfold``: some model chooses its penalty by the inner ``splits`` (else only the total,
    for the exact leave-one-out of ridge). Pass the result as ``cache`` to
    :func:`fit_linear_cv`.
    """
    if kfold:
        total, tests, trains = _inner_blocks(design, y, sw, rows, splits)
        return {"total": total, "inner": (total, tests, trains)}
    return {"total": design_stats(design, y, sw, rows)}


def fit_linear_cv(
    spec,
    design,
    y,
    sw,
    rows,
    splits,
    *,
    standardize,
    solver,
    loo,
    tol,
    max_iter,
    y_scale=1.0,
    cache=None,
):
    """Fit one meta-model on ``rows`` with its penalty chosen by inner cross-validation.

    Parameters
    ----------
    spec : MetaModelSpec
    design : design
        The globally transformed design (all rows): :class:`ArrayDesign` or any object with
        ``shape``, ``sparse`` and ``rows(idx)``.
    y, sw : ndarray of shape (n,)
        Centred target and weights (all rows).
    rows : ndarray of int
        The rows of this fit.
    splits : iterable of (train, test) index arrays into ``rows``
        Inner folds (ignored for ridge when ``loo``, and on the direct path when ``cache``
        already holds their statistics). The CG path needs a list.
    standardize : bool
        Scale the columns on ``rows`` before penalising.
    solver : {"direct", "cg"}
    loo : bool
        Ridge only: choose alpha by exact leave-one-out instead of ``splits`` (direct path
        only).
    tol, max_iter : float, int
        Tolerances of the iterative solvers.
    y_scale : float
        Scale of the target (keeps automatic penalty grids above rounding).
    cache : dict or None
        Statistics shared by the models of one fit (:func:`direct_cache`); filled in when
        missing.

    Returns
    -------
    fitted : FittedLinear
    converged : bool
    """
    if solver == "direct":
        cache = {} if cache is None else cache
        return _fit_direct(
            spec, design, y, sw, rows, splits, standardize, loo, tol, max_iter, y_scale, cache
        )
    if loo and spec.kind == "ridge":
        raise ValueError("The exact leave-one-out of ridge needs the direct solver.")
    return _fit_cg(spec, design, y, sw, rows, splits, standardize, tol, max_iter, y_scale)


def _l1_ratios(spec):
    if spec.kind == "ridge":
        return (0.0,)
    if spec.kind == "lasso":
        return (1.0,)
    return tuple(float(r) for r in spec.l1_ratios)


def _refit_order(alphas, k):
    """The decreasing path from the largest penalty down to ``alphas[k]`` (warm starts)."""
    path = np.sort(alphas[alphas >= alphas[k]])[::-1]
    return np.ascontiguousarray(path)


def _fit_direct(spec, design, y, sw, rows, splits, standardize, loo, tol, max_iter, y_scale, cache):
    converged = True
    if spec.kind == "ridge" and loo:
        if "total" not in cache:
            cache["total"] = design_stats(design, y, sw, rows)
        return _ridge_loo(spec, design, y, sw, rows, standardize, cache["total"]), converged
    if "inner" not in cache:
        cache.update(direct_cache(design, y, sw, rows, splits, True))
    total, tests, trains = cache["inner"]
    F_all = _fit_from_stats(total, standardize)
    best = None
    for l1 in _l1_ratios(spec):
        alphas = _alpha_grid(spec, F_all, l1, y_scale)
        scores = np.zeros(alphas.shape[0])
        n_folds = 0
        for B, T in zip(tests, trains):
            T = _train_stats(total, B, T)
            if B.n <= 0 or T.n <= 0:
                continue
            F = _fit_from_stats(T, standardize)
            if spec.kind == "ridge":
                U = _ridge_direct(F, alphas)
            else:
                U, ok = _enet_direct(F, alphas, l1, tol, max_iter)
                converged &= ok
            W, c0 = _to_z_units(F, U)
            scores += _sse_from_stats(B, W, c0) / B.n
            n_folds += 1
        if n_folds == 0:
            raise ValueError("Every inner cross-validation fold has zero total sample weight.")
        scores /= n_folds
        k = int(np.argmin(scores))
        if best is None or scores[k] < best[3][best[2]]:
            best = (l1, alphas, k, scores)
    l1, alphas, k, scores = best
    alpha = float(alphas[k])
    n_iter = [1]
    if spec.kind == "ridge":
        U = _ridge_direct(F_all, np.array([alpha]))
    else:
        path = _refit_order(alphas, k)
        U, ok = _enet_direct(F_all, path, l1, tol, max_iter, n_iter_out=n_iter)
        converged &= ok
        U = U[:, -1:]
    W, c0 = _to_z_units(F_all, U)
    return FittedLinear(W[:, 0], float(c0[0]), alpha, l1, scores, max(n_iter[-1], 1)), converged


def _ridge_loo(spec, design, y, sw, rows, standardize, total):
    """Ridge with alpha chosen by exact (weighted) leave-one-out, as scikit-learn's RidgeCV.

    With ``Zs = (Z - m) / d`` the centred, scaled rows, ``Zs^T S Zs = V diag(s) V^T`` (from
    the statistics ``total`` of the rows) and ``A = Zs V``, the prediction and the leverage of
    row i for every alpha are

        yhat_i = ybar + sum_k A_ik (V^T b)_k / (s_k + alpha),
        h_i = s_i (1/N + sum_k A_ik^2 / (s_k + alpha)),

    (the 1/N is the unpenalised intercept) and its leave-one-out residual is
    ``(y_i - yhat_i) / (1 - h_i)``; the score is the mean over the rows of the weighted
    squares. ``A`` is formed a block of rows at a time as ``Z @ (V / d) - m @ (V / d)``, so a
    sparse design is never centred or densified.
    """
    F = _fit_from_stats(total, standardize)
    s, V = np.linalg.eigh(F.Gu)
    s = np.clip(s, 0.0, None)
    Vb = V.T @ F.bu
    alphas = np.asarray(spec.alphas, dtype=float)
    inv = 1.0 / (s[:, None] + alphas[None, :])
    coef_paths = Vb[:, None] * inv
    Vd = V / F.d[:, None]
    shift = F.m @ Vd
    scores = np.zeros(alphas.shape[0])
    p = V.shape[0]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for b in row_blocks(rows, 2 * p + 3 * alphas.shape[0]):
            A = np.asarray(design.rows(b) @ Vd) - shift
            swb = sw[b]
            h = swb[:, None] * (1.0 / F.N + (A * A) @ inv)
            e = ((y[b] - F.ybar)[:, None] - A @ coef_paths) / (1.0 - h)
            scores += swb @ (e * e)
    scores /= rows.shape[0]
    scores = np.where(np.isfinite(scores), scores, np.inf)
    k = int(np.argmin(scores))
    alpha = float(alphas[k])
    u = V @ (Vb / (s + alpha))
    w = u / F.d
    return FittedLinear(w, float(F.ybar - F.m @ w), alpha, 0.0, scores, 1)


def _fit_cg(spec, design, y, sw, rows, splits, standardize, tol, max_iter, y_scale):
    converged = True
    Zr, yr, swr = design.rows(rows), y[rows], sw[rows]
    full = _CGProblem(Zr, yr, swr, standardize)
    F_grid = _Fit(full.N, full.m, full.ybar, full.d, None, full.bu, full.yyc)
    best = None
    for l1 in _l1_ratios(spec):
        alphas = _alpha_grid(spec, F_grid, l1, y_scale)
        scores = np.zeros(alphas.shape[0])
        fold_u = []
        n_folds = 0
        for tr, te in splits:
            sw_te = swr[te]
            if sw_te.sum() <= 0 or swr[tr].sum() <= 0:
                continue
            if spec.kind == "ridge":
                prob = _CGProblem(Zr[tr], yr[tr], swr[tr], standardize)
                U, ok = _ridge_cg(prob, alphas, tol, max_iter)
                W, c0 = prob.to_z(U)
                fold_u.append(U)
            else:
                W, c0, ok = _enet_rows(
                    Zr[tr], yr[tr], swr[tr], standardize, alphas, l1, tol, max_iter
                )
            converged &= ok
            resid = yr[te][:, None] - (np.asarray(Zr[te] @ W) + c0)
            scores += sw_te @ (resid * resid) / sw_te.sum()
            n_folds += 1
        if n_folds == 0:
            raise ValueError("Every inner cross-validation fold has zero total sample weight.")
        scores /= n_folds
        k = int(np.argmin(scores))
        if best is None or scores[k] < best[3][best[2]]:
            best = (l1, alphas, k, scores, fold_u)
    l1, alphas, k, scores, fold_u = best
    alpha = float(alphas[k])
    n_iter = [1]
    if spec.kind == "ridge":
        u0 = np.mean([U[:, k] for U in fold_u], axis=0) if fold_u else None
        U, ok = _ridge_cg(full, np.array([alpha]), tol, max_iter, u0=u0, n_iter_out=n_iter)
        W, c0 = full.to_z(U)
    else:
        W, c0, ok = _enet_rows(
            Zr, yr, swr, standardize, _refit_order(alphas, k), l1, tol, max_iter, n_iter_out=n_iter
        )
        W, c0 = W[:, -1:], c0[-1:]
    converged &= ok
    return FittedLinear(W[:, 0], float(c0[0]), alpha, l1, scores, max(n_iter[-1], 1)), converged
