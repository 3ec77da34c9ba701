"""The direct path of the penalised CV engine on wide designs: n x n kernels and row sweeps.

The direct path of :mod:`skcgd.ensemble._penalized_cv` solves from the weighted sums of the
rows (``p x p`` Gram matrices): ``O(n p^2)`` to form them and ``O(p^3)`` per factorization,
which is what a tall design wants. A fit with more columns than rows (thousands of base
models, a few hundred rows) would pay ``p^3`` per inner fold for a Gram matrix of rank below
``n``; this module solves the same problems on the rows instead, never forming anything of
size ``p x p``:

* ridge from the eigendecomposition of the ``n_T x n_T`` kernel ``K = M M^T`` of the
  weighted, centred, scaled training rows ``M = S^(1/2) (Z - m) / d``. With
  ``K = Q diag(lam) Q^T`` and ``c = Q^T S^(1/2) (y - ybar)``, every alpha is

      u(alpha) = M^T Q diag(1 / (lam + alpha)) c,

  the same vector as the primal ``(M^T M + alpha I)^(-1) M^T S^(1/2) y`` (push-through
  identity): ``O(n_T^2 p)`` per fold, then ``O(n_T n_te)`` per alpha for the held-out rows.
  The exact leave-one-out of a fit needs, per row, its prediction and its leverage
  ``h_i = s_i / N + sum_k Q_ik^2 lam_k / (lam_k + alpha)``, both from the same factors;
* Lasso and elastic net by coordinate descent on the rows
  (:mod:`skcgd._kernels.elastic_net_rows`, ``O(n_T p)`` per sweep, mostly over the active
  set), warm-started along the alpha path, on the scikit-learn objective the Gram kernel
  solves.

Each fit materialises its rows once (``n x p`` float64, less than the ``p x p`` Gram matrix
the other path would hold), and each inner fold its centred, scaled training rows; the
penalty selection, grids and scores are those of the Gram path, so a fit chooses the same
penalty either way (up to rounding). Used for dense designs whose fit has fewer rows than
columns (:func:`use_dual`).
"""

from typing import NamedTuple

import numpy as np

from skcgd._validation import readonly
from skcgd.ensemble._penalized_solvers import FitScaling, fit_scales

__all__ = [
    "DualFold",
    "dual_cache",
    "fit_dual",
    "use_dual",
]


def use_dual(design, n_rows):
    """Whether a fit of ``n_rows`` rows of ``design`` is solved on its rows (this module).

    Dense designs with more columns than rows: there the kernel (``n^2 p``) and the row
    sweeps (``n p``) cost less than the Gram matrix (``n p^2``) and its factorization
    (``p^3``), whose rank is below ``n`` anyway.
    """
    return not design.sparse and design.shape[1] > n_rows


class DualFold(NamedTuple):
    """The training rows of one fold (or of the whole fit), centred and scaled on themselves.

    ``Mt`` is ``S^(1/2) (Z - m) / d`` transposed (p x n_T, C order); ``Zt`` the same rows
    without the weights, kept for the whole fit only (the leave-one-out predictions of rows
    of zero weight need them); ``test`` the held-out rows in the same units, with their
    targets and weights (None for the whole fit).
    """

    N: float
    m: np.ndarray
    ybar: float
    d: np.ndarray
    Zt: np.ndarray
    yc: np.ndarray
    sw: np.ndarray
    Mt: np.ndarray
    test: tuple


def _fold(Z, y, sw, train, test, standardize):
    """The :class:`DualFold` of the rows ``train`` of ``Z``, scoring the rows ``test``."""
    Zr, yr, sr = Z[train], y[train], sw[train]
    N = float(sr.sum())
    m = sr @ Zr / N
    ybar = float(sr @ yr / N)
    Zr -= m
    d = fit_scales(sr @ (Zr * Zr) / N, standardize)
    Zr /= d
    Zt = np.ascontiguousarray(Zr.T)
    del Zr
    Mt = Zt * np.sqrt(sr)
    held = None
    if test is not None:  # (a fold: its unweighted rows are not needed, half the memory)
        held = ((Z[test] - m) / d, y[test] - ybar, sw[test])
        Zt = None
    return DualFold(N, m, ybar, d, Zt, yr - ybar, sr, Mt, held)


class _Kernel(NamedTuple):
    lam: np.ndarray  # eigenvalues of K (clipped at 0)
    MQ: np.ndarray  # M^T Q, (p, n_T)
    c: np.ndarray  # Q^T S^(1/2) yc
    Q: np.ndarray


def _kernel(F):
    """The eigendecomposition of the fold's kernel ``K = M M^T`` and ``M^T Q``."""
    K = F.Mt.T @ F.Mt  # (a product of a matrix with its own transpose: exactly symmetric)
    lam, Q = np.linalg.eigh(K)
    lam = np.clip(lam, 0.0, None)
    c = Q.T @ (np.sqrt(F.sw) * F.yc)
    return _Kernel(lam, F.Mt @ Q, c, Q)


class DualCache(NamedTuple):
    """The rows of one fit and its inner folds, prepared once for all its models."""

    Z: np.ndarray
    y: np.ndarray
    sw: np.ndarray
    splits: list
    folds: dict  # standardize -> (whole-fit DualFold, [fold DualFold or None])


def dual_cache(design, y, sw, rows, splits):
    """The cache of a fit on its rows: ``{"dual": DualCache}`` (see :func:`fit_dual`)."""
    Z = np.asarray(design.rows(rows), dtype=np.float64)
    return {"dual": DualCache(Z, y[rows], sw[rows], list(splits), {})}


def _folds(C, standardize, need_folds):
    """``(whole fit, inner folds)`` of the cache, prepared on first use (per scaling)."""
    if standardize not in C.folds:
        n = C.Z.shape[0]
        whole = _fold(C.Z, C.y, C.sw, np.arange(n), None, standardize)
        C.folds[standardize] = [whole, None]
    entry = C.folds[standardize]
    if need_folds and entry[1] is None:
        folds = []
        for tr, te in C.splits:
            ok = C.sw[te].sum() > 0 and C.sw[tr].sum() > 0
            folds.append(_fold(C.Z, C.y, C.sw, tr, te, standardize) if ok else None)
        entry[1] = folds
    return entry[0], entry[1]


def _alpha_scaling(F):
    """What :func:`_alpha_grid` reads of a fit: ``N`` and ``bu = M^T S^(1/2) yc``."""
    bu = F.Mt @ (np.sqrt(F.sw) * F.yc)
    return FitScaling(F.N, F.m, F.ybar, F.d, None, bu, float(F.sw @ (F.yc * F.yc)))


def _ridge_path(F, alphas, kern=None):
    """``U`` (p, n_alphas): ridge for every alpha on the fold's rows."""
    kern = _kernel(F) if kern is None else kern
    return kern.MQ @ (kern.c[:, None] / (kern.lam[:, None] + alphas[None, :]))


def _enet_path(F, alphas, l1_ratio, tol, max_iter, n_iter_out=None):
    """``(U, converged)``: the elastic-net path (``alphas`` in any order) on the fold's rows."""
    from skcgd._kernels.elastic_net_rows import _enet_rows_path  # Numba loads on first use

    # the weighted objective, 1/(2N) ||S^(1/2) (yc - Zs u)||^2 + alpha (...), is 1/N times
    # the kernel's on M and S^(1/2) yc with the penalties times N: no copy of the rows
    order = np.argsort(-alphas, kind="stable")
    W, n_iter, converged = _enet_rows_path(
        readonly(F.Mt),
        readonly(np.sqrt(F.sw) * F.yc),
        readonly(np.ascontiguousarray(alphas[order] * F.N, dtype=np.float64)),
        float(l1_ratio),
        readonly(np.zeros(F.Mt.shape[0])),
        float(tol),
        int(max_iter),
    )
    U = np.empty((F.Mt.shape[0], alphas.shape[0]))
    U[:, order] = W.T
    if n_iter_out is not None:
        n_iter_out.append(int(n_iter[-1]))
    return U, bool(converged.all())


def _held_out_sse(F, U):
    """Weighted mean squared error of ``U`` on the fold's held-out rows, per column."""
    Zte, yte, ste = F.test
    resid = yte[:, None] - Zte @ U
    return ste @ (resid * resid) / ste.sum()


def _to_z(F, U):
    W = U / F.d[:, None]
    return W, F.ybar - F.m @ W


def _ridge_loo(F, alphas):
    """Scores (mean weighted squared leave-one-out residual per alpha) and the kernel."""
    kern = _kernel(F)
    # predictions of the fit's own rows: (Z - m)/d @ u = Zs M^T Q diag(1/(lam+alpha)) c
    A = F.Zt.T @ kern.MQ  # (n, n)
    inv = 1.0 / (kern.lam[:, None] + alphas[None, :])
    fitted = A @ (kern.c[:, None] * inv)
    # leverage of the weighted ridge with an unpenalised intercept
    h = F.sw[:, None] / F.N + (kern.Q * kern.Q) @ (kern.lam[:, None] * inv)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        e = (F.yc[:, None] - fitted) / (1.0 - h)
        sse = F.sw @ (e * e)
    scores = sse / F.Zt.shape[1]
    return np.where(np.isfinite(scores), scores, np.inf), kern


def fit_dual(spec, cache, standardize, loo, tol, max_iter, y_scale, grid, fitted_cls):
    """One meta-model on a fit's rows with its penalty chosen by inner cross-validation.

    The rows path of :func:`skcgd.ensemble._penalized_cv.fit_linear_cv` (same arguments and
    result); ``grid(spec, F, l1_ratio, y_scale)`` is its penalty grid and ``fitted_cls`` its
    result type, passed in to keep one definition of each.
    """
    C = cache["dual"]
    converged = True
    if spec.kind == "ridge" and loo:
        whole, _ = _folds(C, standardize, False)
        alphas = np.asarray(spec.alphas, dtype=float)
        scores, kern = _ridge_loo(whole, alphas)
        k = int(np.argmin(scores))
        U = _ridge_path(whole, alphas[k : k + 1], kern)
        W, c0 = _to_z(whole, U)
        return fitted_cls(W[:, 0], float(c0[0]), float(alphas[k]), 0.0, scores, 1), converged
    whole, folds = _folds(C, standardize, True)
    F_all = _alpha_scaling(whole)
    if spec.kind == "elasticnet":
        l1_ratios = tuple(float(r) for r in spec.l1_ratios)
    else:
        l1_ratios = (0.0,) if spec.kind == "ridge" else (1.0,)
    kerns = {}
    best = None
    for l1 in l1_ratios:
        alphas = grid(spec, F_all, l1, y_scale)
        scores = np.zeros(alphas.shape[0])
        n_folds = 0
        for f, F in enumerate(folds):
            if F is None:
                continue
            if spec.kind == "ridge":
                if f not in kerns:
                    kerns[f] = _kernel(F)
                U = _ridge_path(F, alphas, kerns[f])
            else:
                U, ok = _enet_path(F, alphas, l1, tol, max_iter)
                converged &= ok
            scores += _held_out_sse(F, U)
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
        U = _ridge_path(whole, np.array([alpha]))
    else:
        # the decreasing path from the largest penalty down to the chosen one (warm starts)
        path = np.ascontiguousarray(np.sort(alphas[alphas >= alpha])[::-1])
        U, ok = _enet_path(whole, path, l1, tol, max_iter, n_iter_out=n_iter)
        converged &= ok
        U = U[:, -1:]
    W, c0 = _to_z(whole, U)
    fit = fitted_cls(W[:, 0], float(c0[0]), alpha, l1, scores, max(n_iter[-1], 1))
    return fit, converged
