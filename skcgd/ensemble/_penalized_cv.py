"""Penalised least squares with cross-validated penalties: ridge, Lasso and elastic net (private).

A general engine, independent of stacking: it fits linear models on a *design* (the protocol
of :mod:`skcgd.ensemble._design`: ``shape``, ``sparse``, ``rows(idx)`` of
``Z = (X - mu) / sigma``, transformed once for the whole data set) with a target ``y``
centred the same way and non-negative weights ``sw``. A *fit* uses a subset of the rows (the
training rows of an outer fold, or all rows) and

* centres ``Z`` and ``y`` on those rows (the intercept is never penalised);
* optionally standardises the columns on those rows (``d`` = their weighted standard
  deviations, :func:`~skcgd.ensemble._design.column_scales`), so the penalty acts on
  ``u = d * w``, as for a ``StandardScaler`` fitted in a pipeline before the model;
* chooses the penalty by inner cross-validation (K-fold, or the exact leave-one-out of ridge),
  and refits on all the rows of the fit.

Two ways to solve (the solvers are in :mod:`skcgd.ensemble._penalized_solvers`):

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
    Memory: one row block and ``O(p^2)`` per fit. A dense fit with fewer rows than columns
    is solved on its rows instead (:mod:`skcgd.ensemble._penalized_dual`: ``n x n``
    kernels for ridge and its leave-one-out, coordinate descent on the rows for Lasso and
    elastic net, the same grids and scores), ``O(n^2 p)`` per fold where the Gram matrix
    would cost ``O(n p^2 + p^3)``; its cache holds the fit's rows.

``cg`` (wider designs, dense or sparse)
    Ridge solves ``(I + G / alpha) u = b / alpha`` with skcgd's conjugate gradient on the
    fused row-Gram operator (``X^T S X`` never formed), from the largest alpha down, each
    solve warm-started at the previous solution. Centring a sparse design is applied as a
    rank-one correction. Lasso and elastic net use scikit-learn's coordinate descent on the
    rows (warm-started along the path). The rows of a fit are materialised (a copy of them).

Penalty selection: K-fold on both paths for every model; for ridge with ``loo`` the exact
leave-one-out, which only the direct path computes (it needs the leverages, i.e. the
factorization the CG path avoids), so the caller decides which rule applies to which solver.

The fits of one set of rows are independent of those of another, so callers run them as
joblib tasks (:func:`fit_models_on_rows`), possibly on threads: nothing here touches
process-wide state (no warning filters; a solver's convergence is read from its result).
"""

from numbers import Integral
from typing import NamedTuple

import numpy as np

from skcgd.ensemble._design import (
    add_stats,
    condition_number_of_stats,
    design_matvec,
    design_stats,
    row_blocks,
)
from skcgd.ensemble._penalized_dual import dual_cache, fit_dual, use_dual
from skcgd.ensemble._penalized_solvers import (
    CGProblem,
    FitScaling,
    enet_direct,
    enet_rows,
    fit_from_stats,
    ridge_cg,
    ridge_direct,
    to_z_units,
)
from skcgd.ensemble._splits import inner_splits, train_rows

__all__ = [
    "DEFAULT_RIDGE_ALPHAS",
    "DIRECT_MAX_FEATURES",
    "DIRECT_MAX_FEATURES_SPARSE",
    "FittedLinear",
    "LINEAR_MODELS",
    "LinearModelSpec",
    "RidgeLoo",
    "design_condition_number",
    "direct_cache",
    "fit_linear_cv",
    "fit_models_on_rows",
    "linear_model_specs",
    "predict_rows",
    "reported_alphas",
    "resolve_solver",
    "ridge_loo_fit",
    "ridge_loo_setup",
    "ridge_loo_sse",
    "ridge_weight_factor",
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
#   p^3; CG's cost per iteration like the non-zeros. Those are tall designs: a dense one with
#   fewer rows than columns goes to the direct path at any width, which then solves on the
#   rows (see resolve_solver; benchmarks/bench_wide_meta.py times it against ElasticNetCV).
DIRECT_MAX_FEATURES = 4000
DIRECT_MAX_FEATURES_SPARSE = 1400


# the models this engine fits, and the default grids of a meta-learner
LINEAR_MODELS = ("ridge", "lasso", "elasticnet")
DEFAULT_RIDGE_ALPHAS = np.logspace(-3, 5, 50)
LASSO_EPS = 1e-5


class LinearModelSpec(NamedTuple):
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


def linear_model_specs(kinds, ridge_alphas, lasso_alphas, l1_ratio, ridge_factor=1.0):
    """The :class:`LinearModelSpec` of each model, from a meta-learner's parameters (checked).

    Parameters
    ----------
    kinds : tuple of str
        Distinct names among :data:`LINEAR_MODELS`.
    ridge_alphas : array-like or None
        Positive ridge penalties; None means :data:`DEFAULT_RIDGE_ALPHAS`.
    lasso_alphas : int or array-like
        Lasso and elastic-net penalties, or the number of them on an automatic grid.
    l1_ratio : array-like
        Elastic-net mixing values in (0, 1].
    ridge_factor : float, default=1.0
        Factor on the ridge penalties (the caller's rescaling of the sample weights).

    Returns
    -------
    names : tuple of str
    specs : list of LinearModelSpec
    """
    models = tuple(kinds)
    unknown = [m for m in models if m not in LINEAR_MODELS]
    if not models or unknown or len(set(models)) != len(models):
        raise ValueError(
            f"meta_models must be a non-empty tuple of distinct names among "
            f"{LINEAR_MODELS}, got {kinds!r}."
        )
    ridge_alphas = (
        DEFAULT_RIDGE_ALPHAS
        if ridge_alphas is None
        else np.asarray(ridge_alphas, dtype=float).reshape(-1)
    )
    if ridge_alphas.size == 0 or not np.all(np.isfinite(ridge_alphas)) or np.any(ridge_alphas <= 0):
        raise ValueError("ridge_alphas must be a non-empty array of positive numbers.")
    if isinstance(lasso_alphas, Integral):
        lasso_alphas, n_alphas = None, int(lasso_alphas)
    else:
        lasso_alphas = np.asarray(lasso_alphas, dtype=float).reshape(-1)
        n_alphas = lasso_alphas.size
        if n_alphas == 0 or not np.all(np.isfinite(lasso_alphas)) or np.any(lasso_alphas <= 0):
            raise ValueError(
                "lasso_alphas must be a positive integer or a non-empty array of positive numbers."
            )
    l1_ratios = tuple(np.asarray(l1_ratio, dtype=float).reshape(-1))
    if not l1_ratios or any(not (0 < r <= 1) for r in l1_ratios):
        raise ValueError(f"l1_ratio values must lie in (0, 1], got {l1_ratio!r}.")
    specs = []
    for name in models:
        if name == "ridge":
            specs.append(
                LinearModelSpec("ridge", ridge_alphas * ridge_factor, ridge_alphas.size, 0.0, ())
            )
        elif name == "lasso":
            specs.append(LinearModelSpec("lasso", lasso_alphas, n_alphas, LASSO_EPS, (1.0,)))
        else:
            specs.append(
                LinearModelSpec("elasticnet", lasso_alphas, n_alphas, LASSO_EPS, l1_ratios)
            )
    return models, specs


class FittedLinear(NamedTuple):
    """A fitted model in the units of ``Z``: ``Z @ coef + intercept`` predicts ``y``.

    ``n_iter`` counts the solver's iterations of the final fit at the chosen penalty (coordinate
    sweeps, CG iterations; 1 for a direct solve).
    """

    coef: np.ndarray
    intercept: float
    alpha: float
    l1_ratio: float
    cv_scores: np.ndarray
    n_iter: int


def _sse_from_stats(B, W, c0):
    """Weighted sum of squared errors on block ``B`` of ``Z @ W + c0`` (one column per model)."""
    quad = np.einsum("pa,pa->a", W, B.G @ W)
    return B.yy - 2.0 * c0 * B.ys - 2.0 * (B.zy @ W) + c0 * c0 * B.n + 2.0 * c0 * (B.zs @ W) + quad


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
    :func:`fit_linear_cv`. A dense fit with more columns than rows is solved on its rows
    (:mod:`skcgd.ensemble._penalized_dual`): its cache holds them (key ``"dual"``) and the
    inner splits, and no Gram matrix.
    """
    if use_dual(design, rows.shape[0]):
        return dual_cache(design, y, sw, rows, splits if kfold else ())
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
    spec : LinearModelSpec
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
    if not cache and use_dual(design, rows.shape[0]):
        cache.update(dual_cache(design, y, sw, rows, splits))
    if "dual" in cache:
        return fit_dual(
            spec, cache, standardize, loo, tol, max_iter, y_scale, _alpha_grid, FittedLinear
        )
    if spec.kind == "ridge" and loo:
        if "total" not in cache:
            cache["total"] = design_stats(design, y, sw, rows)
        return _ridge_loo(spec, design, y, sw, rows, standardize, cache["total"]), converged
    if "inner" not in cache:
        cache.update(direct_cache(design, y, sw, rows, splits, True))
    total, tests, trains = cache["inner"]
    F_all = fit_from_stats(total, standardize)
    best = None
    for l1 in _l1_ratios(spec):
        alphas = _alpha_grid(spec, F_all, l1, y_scale)
        scores = np.zeros(alphas.shape[0])
        n_folds = 0
        for B, T in zip(tests, trains):
            T = _train_stats(total, B, T)
            if B.n <= 0 or T.n <= 0:
                continue
            F = fit_from_stats(T, standardize)
            if spec.kind == "ridge":
                U = ridge_direct(F, alphas)
            else:
                U, ok = enet_direct(F, alphas, l1, tol, max_iter)
                converged &= ok
            W, c0 = to_z_units(F, U)
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
        U = ridge_direct(F_all, np.array([alpha]))
    else:
        path = _refit_order(alphas, k)
        U, ok = enet_direct(F_all, path, l1, tol, max_iter, n_iter_out=n_iter)
        converged &= ok
        U = U[:, -1:]
    W, c0 = to_z_units(F_all, U)
    return FittedLinear(W[:, 0], float(c0[0]), alpha, l1, scores, max(n_iter[-1], 1)), converged


class RidgeLoo(NamedTuple):
    """The factorization behind the exact leave-one-out of ridge on one fit's rows."""

    F: FitScaling
    s: np.ndarray  # eigenvalues of F.Gu (clipped at 0)
    V: np.ndarray  # its eigenvectors
    Vb: np.ndarray  # V^T b
    alphas: np.ndarray
    inv: np.ndarray  # 1 / (s + alpha), (p, n_alphas)
    coef_paths: np.ndarray  # Vb * inv
    Vd: np.ndarray  # V / d
    shift: np.ndarray  # m @ Vd


def ridge_loo_setup(alphas, total, standardize):
    """:class:`RidgeLoo` of the rows whose weighted sums are ``total``."""
    F = fit_from_stats(total, standardize)
    s, V = np.linalg.eigh(F.Gu)
    s = np.clip(s, 0.0, None)
    Vb = V.T @ F.bu
    alphas = np.asarray(alphas, dtype=float)
    inv = 1.0 / (s[:, None] + alphas[None, :])
    Vd = V / F.d[:, None]
    return RidgeLoo(F, s, V, Vb, alphas, inv, Vb[:, None] * inv, Vd, F.m @ Vd)


def ridge_loo_sse(L, design, y, sw, rows):
    """Weighted sums of the squared leave-one-out residuals of ``rows``, one per alpha.

    ``L`` is the :class:`RidgeLoo` of the whole fit (the leverages need its factorization,
    but each row's residual is its own): any split of a fit's rows can be summed apart.
    """
    F = L.F
    sse = np.zeros(L.alphas.shape[0])
    p = L.V.shape[0]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for b in row_blocks(rows, 2 * p + 3 * L.alphas.shape[0]):
            A = np.asarray(design.rows(b) @ L.Vd) - L.shift
            swb = sw[b]
            h = swb[:, None] * (1.0 / F.N + (A * A) @ L.inv)
            e = ((y[b] - F.ybar)[:, None] - A @ L.coef_paths) / (1.0 - h)
            sse += swb @ (e * e)
    return sse


def ridge_loo_fit(L, sse, n_rows):
    """The ridge of the alpha with the smallest mean leave-one-out score ``sse / n_rows``."""
    scores = sse / n_rows
    scores = np.where(np.isfinite(scores), scores, np.inf)
    k = int(np.argmin(scores))
    alpha = float(L.alphas[k])
    u = L.V @ (L.Vb / (L.s + alpha))
    w = u / L.F.d
    return FittedLinear(w, float(L.F.ybar - L.F.m @ w), alpha, 0.0, scores, 1)


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
    L = ridge_loo_setup(spec.alphas, total, standardize)
    return ridge_loo_fit(L, ridge_loo_sse(L, design, y, sw, rows), rows.shape[0])


def _fit_cg(spec, design, y, sw, rows, splits, standardize, tol, max_iter, y_scale):
    converged = True
    Zr, yr, swr = design.rows(rows), y[rows], sw[rows]
    full = CGProblem(Zr, yr, swr, standardize)
    F_grid = FitScaling(full.N, full.m, full.ybar, full.d, None, full.bu, full.yyc)
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
                prob = CGProblem(Zr[tr], yr[tr], swr[tr], standardize)
                U, ok = ridge_cg(prob, alphas, tol, max_iter)
                W, c0 = prob.to_z(U)
                fold_u.append(U)
            else:
                W, c0, ok = enet_rows(
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
        U, ok = ridge_cg(full, np.array([alpha]), tol, max_iter, u0=u0, n_iter_out=n_iter)
        W, c0 = full.to_z(U)
    else:
        W, c0, ok = enet_rows(
            Zr, yr, swr, standardize, _refit_order(alphas, k), l1, tol, max_iter, n_iter_out=n_iter
        )
        W, c0 = W[:, -1:], c0[-1:]
    converged &= ok
    return FittedLinear(W[:, 0], float(c0[0]), alpha, l1, scores, max(n_iter[-1], 1)), converged


def fit_models_on_rows(
    specs, design, y, sw, train, test, splitter, kfold, cache, common, groups=None
):
    """Every model of ``specs`` fitted on the ``train`` rows, predicting the ``test`` rows.

    One joblib task of an outer cross-validation: ``train`` None means the complement of
    ``test``, or all rows when ``test`` is None too (the final fit). ``splitter`` makes the
    inner folds on those rows; ``kfold`` says whether some model chooses its penalty by them
    (on the direct path; else only the statistics of all the rows are gathered); ``cache``
    holds :func:`direct_cache` when the caller computed it already; ``common`` holds the
    keyword arguments of :func:`fit_linear_cv`; ``groups`` (all rows, or None) go to the
    inner splitter.

    Returns
    -------
    fitted : list of FittedLinear
        One per spec.
    converged : bool
        Whether every solver converged.
    predictions : ndarray of shape (len(test), len(specs)) or None
        On the ``test`` rows, in the units of the centred target (None without ``test``).
    """
    n = design.shape[0]
    rows = np.arange(n, dtype=np.intp) if test is None else train_rows(n, train, test)
    g = None if groups is None else groups[rows]
    splits = ()
    if common["solver"] == "cg":
        splits = list(inner_splits(splitter, rows.shape[0], None, g))
    elif cache is None:
        # the direct path reads each inner split once, into the statistics of its block
        inner = inner_splits(splitter, rows.shape[0], None, g) if kfold else ()
        cache = direct_cache(design, y, sw, rows, inner, kfold)
    fitted, converged = [], True
    for spec in specs:
        fit, ok = fit_linear_cv(spec, design, y, sw, rows, splits, cache=cache, **common)
        fitted.append(fit)
        converged &= ok
    if test is None:
        return fitted, converged, None
    return fitted, converged, predict_rows(design, test, fitted)


def predict_rows(design, rows, fitted):
    """Predictions of the ``fitted`` models on the ``rows`` of ``design``, (len(rows), k)."""
    W = np.column_stack([fit.coef for fit in fitted])
    b = np.array([fit.intercept for fit in fitted])
    return design_matvec(design, rows, W) + b


def resolve_solver(solver, p, sparse, n_rows=None):
    """The solver of a design of ``p`` columns and ``n_rows`` rows: ``"auto"`` picks by shape.

    ``"direct"`` up to :data:`DIRECT_MAX_FEATURES` columns (:data:`DIRECT_MAX_FEATURES_SPARSE`
    when sparse), and for a dense design of any width with fewer rows than columns, whose
    fits the direct path solves on their rows (``O(n^2 p)``, see
    :mod:`skcgd.ensemble._penalized_dual`; the conjugate gradient would cost as much per
    penalty, and scikit-learn's coordinate descent a Python call per penalty); else ``"cg"``.
    ``n_rows`` None: by width only.
    """
    if solver != "auto":
        return solver
    if not sparse and n_rows is not None and n_rows < p:
        return "direct"
    limit = DIRECT_MAX_FEATURES_SPARSE if sparse else DIRECT_MAX_FEATURES
    return "cg" if p > limit else "direct"


def design_condition_number(design, sw, cache=None):
    """``condition_number_design_`` of a meta-learner: of the standardised meta design.

    ``inf`` without any arithmetic when the design has at least as many columns as rows of
    positive weight (its centred columns then have rank below their number); NaN when it is
    sparse or wider than :data:`DIRECT_MAX_FEATURES` (the ``p x p`` sums would cost more than
    the fit); else from the statistics of all the rows that the direct path's ``cache``
    holds (:func:`direct_cache`), or from one pass over the rows.
    """
    p = design.shape[1]
    if design.sparse:
        return np.nan
    if p >= np.count_nonzero(sw > 0):
        return np.inf
    if cache is not None and "total" in cache:
        return condition_number_of_stats(cache["total"])
    if p > DIRECT_MAX_FEATURES:
        return np.nan
    rows = np.arange(design.shape[0])
    return condition_number_of_stats(design_stats(design, np.zeros(rows.shape[0]), sw, rows))


def ridge_weight_factor(weight_scale):
    """The factor on the ridge penalties when the weights are divided by ``weight_scale``.

    Every stage of a meta-learner depends on the weights only through their ratios, except
    the ridge penalty, which scikit-learn does not divide by the total weight: the weights
    are scaled to a maximum of 1 (tiny or huge weights would underflow or overflow the
    sums) and the ridge alphas by this factor instead.
    """
    ridge_factor = 1.0 / weight_scale
    if not np.isfinite(ridge_factor):
        raise ValueError(
            f"The sample weights are too small (largest {weight_scale:.3g}) "
            "for float64 precision; rescale them."
        )
    return ridge_factor


def reported_alphas(names, specs, final, ridge_alphas):
    """``alpha_`` of a meta-learner: the chosen penalty of every model, by name.

    Ridge reports the value of the user's grid (``ridge_alphas``, or the default one), not
    its copy rescaled by :func:`ridge_weight_factor`.
    """
    grid = (
        DEFAULT_RIDGE_ALPHAS
        if ridge_alphas is None
        else np.asarray(ridge_alphas, dtype=float).reshape(-1)
    )
    out = {}
    for name, spec, fit in zip(names, specs, final):
        if name == "ridge":
            out[name] = float(grid[np.argmin(np.abs(spec.alphas - fit.alpha))])
        else:
            out[name] = fit.alpha
    return out
