"""The solvers of one penalised fit: ridge, Lasso and elastic net along a path of penalties.

One *fit* is a set of rows of a design (see :mod:`skcgd.ensemble._penalized_cv`), centred on
those rows and, with ``standardize``, scaled by the weighted standard deviations of its
columns (:func:`fit_scales`), so that the penalty acts on ``u = d * w``. Coefficients ``U``
(one column per penalty) are in those units; :func:`to_z_units` and :meth:`CGProblem.to_z`
bring them back to the design's.

* direct: from the weighted sums of the rows (:class:`~skcgd.ensemble._design.Stats`),
  ridge for every penalty from one eigendecomposition (:func:`ridge_direct`), elastic net by
  coordinate descent on the Gram matrix (:func:`enet_direct`, a Numba kernel);
* on the rows: ridge by the conjugate gradient on the row-Gram operator (:func:`ridge_cg`,
  warm-started along the path), elastic net by scikit-learn's coordinate descent
  (:func:`enet_rows`).

Each returns whether its solver converged; none touches process-wide state (these run in
joblib threads).
"""

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator
from sklearn.linear_model import ElasticNet

from skcgd._validation import readonly
from skcgd.ensemble._design import CONSTANT_SCALE, column_scales, scale_columns, weighted_mean_var
from skcgd.solvers import RowGramOperator, conjugate_gradient

__all__ = [
    "CGProblem",
    "FitScaling",
    "enet_direct",
    "enet_duality_gap",
    "enet_rows",
    "fit_from_stats",
    "fit_scales",
    "ridge_cg",
    "ridge_direct",
    "to_z_units",
]


# ----------------------------------------------------------------------------- per-fit setup


class FitScaling(NamedTuple):
    """Centring and scaling of one fit (its rows), in ``Z`` units, and its centred sums."""

    N: float
    m: np.ndarray  # weighted mean of the rows of Z
    ybar: float
    d: np.ndarray  # column scales: the penalty acts on u = d * w
    Gu: np.ndarray  # (Z - m)^T S (Z - m) / (d d^T), or None on the CG path
    bu: np.ndarray  # (Z - m)^T S (y - ybar) / d
    yyc: float  # (y - ybar)^T S (y - ybar)


def fit_from_stats(S, standardize):
    """The :class:`FitScaling` of the rows whose weighted sums are ``S`` (with ``Gu``)."""
    N = S.n
    m = S.zs / N
    ybar = S.ys / N
    Gc = S.G - N * np.outer(m, m)
    bc = S.zy - N * m * ybar
    yyc = max(S.yy - N * ybar * ybar, 0.0)
    d = fit_scales(np.diag(Gc) / N, standardize)
    Gu = Gc / np.outer(d, d)
    return FitScaling(N, m, ybar, d, 0.5 * (Gu + Gu.T), bc / d, yyc)


def fit_scales(var, standardize):
    """Column scales of one fit: standard deviations (constant columns: 1), or ones."""
    return column_scales(var, CONSTANT_SCALE) if standardize else np.ones(var.shape[0])


def to_z_units(F, U):
    """Coefficients ``u`` (p, k) on the standardised fit -> ``(W, c0)`` in ``Z`` units."""
    W = U / F.d[:, None]
    c0 = F.ybar - F.m @ W
    return W, c0


# ----------------------------------------------------------------------------- direct solvers


def ridge_direct(F, alphas):
    s, V = np.linalg.eigh(F.Gu)
    s = np.clip(s, 0.0, None)
    Vb = V.T @ F.bu
    return V @ (Vb[:, None] / (s[:, None] + alphas[None, :]))


def enet_direct(F, alphas, l1_ratio, tol, max_iter, w0=None, n_iter_out=None):
    """Elastic-net path (``alphas`` decreasing) on the Gram of the fit; returns U (p, k)."""
    from skcgd._kernels.elastic_net import _enet_gram_path  # Numba loads on first use

    p = F.Gu.shape[0]
    G = np.ascontiguousarray(F.Gu / F.N)
    c = np.ascontiguousarray(F.bu / F.N)
    order = np.argsort(-alphas, kind="stable")
    w0 = np.zeros(p) if w0 is None else np.ascontiguousarray(w0, dtype=float)
    W, n_iter, converged = _enet_gram_path(
        readonly(G),
        readonly(c),
        float(F.yyc / F.N),
        readonly(np.ascontiguousarray(alphas[order], dtype=np.float64)),
        float(l1_ratio),
        readonly(w0),
        float(tol),
        int(max_iter),
    )
    U = np.empty((p, alphas.shape[0]))
    U[:, order] = W.T
    if n_iter_out is not None:
        n_iter_out.append(int(n_iter[-1]))
    return U, bool(converged.all())


# ----------------------------------------------------------------------------- CG solvers


class CGProblem:
    """The rows of one fit for the conjugate-gradient path (centring explicit or rank-one)."""

    def __init__(self, Z, y, sw, standardize):
        self.sw = sw
        self.N = float(sw.sum())
        self.sparse = sp.issparse(Z)
        if self.sparse:
            Z = sp.csr_matrix(Z, dtype=np.float64)
        self.m, var = weighted_mean_var(Z, sw)
        # a sparse design stays uncentred (the operator corrects for its mean)
        self.Z = Z if self.sparse else np.ascontiguousarray(Z - self.m)
        self.ybar = float(sw @ y / self.N)
        yc = y - self.ybar
        self.d = fit_scales(var, standardize)
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


def ridge_cg(prob, alphas, tol, max_iter, u0=None, n_iter_out=None):
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


def enet_rows(Z, y, sw, standardize, alphas, l1_ratio, tol, max_iter, n_iter_out=None):
    """Elastic-net path on the rows with scikit-learn's coordinate descent; (W, c0) in Z units.

    Convergence is read from the fitted model, not from its warnings: this runs in joblib
    threads, where ``warnings.catch_warnings`` would swap the process-wide filters under the
    other threads' feet. scikit-learn's own ConvergenceWarning still reaches the user.
    """
    _, var = weighted_mean_var(Z, sw)
    d = fit_scales(var, standardize)
    Zs = scale_columns(Z, None, d)
    order = np.argsort(-alphas, kind="stable")
    W = np.empty((Z.shape[1], alphas.shape[0]))
    c0 = np.empty(alphas.shape[0])
    model = ElasticNet(l1_ratio=l1_ratio, tol=tol, max_iter=max_iter, warm_start=True)
    ok = True
    for k in order:
        alpha = float(alphas[k])
        model.set_params(alpha=alpha)
        model.fit(Zs, y, sample_weight=sw)
        # coordinate descent stops before max_iter only when its duality gap test passed; at
        # max_iter it may still have passed on the last sweep (small tol tests the gap only
        # then), so the gap is computed again
        if int(model.n_iter_) >= max_iter:
            gap, yy = enet_duality_gap(
                Zs, y, sw, model.coef_, alpha * l1_ratio, alpha * (1 - l1_ratio)
            )
            ok &= bool(gap <= tol * (yy if yy > 0 else 1.0))
        W[:, k] = model.coef_ / d
        c0[k] = model.intercept_
        if n_iter_out is not None:
            n_iter_out.append(int(model.n_iter_))
    return W, c0, ok


def enet_duality_gap(Z, y, sw, w, a1, a2):
    """Duality gap of the weighted elastic net at ``w`` (intercept optimal), and ``yy``.

    The objective is ``1/(2N) sum_i s_i (y_i - b - z_i.w)^2 + a1 ||w||_1 + a2/2 ||w||^2``
    (scikit-learn's ``ElasticNet`` with sample weights), ``yy`` the weighted variance of
    ``y``; both are normalised by ``N = sum(s)``, as in the Gram kernel's
    ``_enet_duality_gap``, so ``gap <= tol * yy`` is scikit-learn's stopping rule. ``Z`` is
    dense or CSR and is never centred: the centring enters through the means.
    """
    N = sw.sum()
    m = np.asarray(Z.T @ sw).ravel() / N
    yc = y - sw @ y / N
    u = np.asarray(Z @ w).ravel() - m @ w  # centred predictions
    r = yc - u
    # X^T r for the centred design, and the parts of the primal and dual objectives
    xtr = (np.asarray(Z.T @ (sw * r)).ravel() - m * (sw @ r)) / N
    xta = xtr - a2 * w
    r_norm2 = sw @ (r * r) / N
    yy = sw @ (yc * yc) / N
    cw = sw @ (yc * u) / N
    dual_norm = float(np.max(np.abs(xta), initial=0.0))
    if dual_norm > a1:
        const = a1 / dual_norm
        gap = 0.5 * (r_norm2 + r_norm2 * const * const)
    else:
        const = 1.0
        gap = r_norm2
    gap += a1 * np.abs(w).sum() - const * (yy - cw) + 0.5 * a2 * (1.0 + const * const) * (w @ w)
    return float(gap), float(yy)
