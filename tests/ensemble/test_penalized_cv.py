"""The penalised CV engine against scikit-learn's RidgeCV, LassoCV and ElasticNetCV (issue 14,
item 6), and the linear algebra its coordinate descent leans on.

Oracles: scikit-learn's CV estimators on the same design, grid and folds
(``precompute=True``, as the engine works from the Gram matrix), and NumPy's Cholesky.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.linear_model import ElasticNetCV, LassoCV, RidgeCV
from sklearn.model_selection import KFold

from skcgd._kernels.elastic_net_rows import _chol_downdate, _cholesky_delete, _cholesky_solve
from skcgd.ensemble import _penalized_cv
from skcgd.ensemble._design import ArrayDesign

RTOL_COEF = 1e-6  # max |ours - scikit-learn| relative to max |scikit-learn|, the bar
TOL = 1e-10  # coordinate descent on both sides: the gap rule they share


def oof_like(n=400, p=12, seed=0):
    """Correlated columns as out-of-fold predictions are: y plus shared and own errors."""
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    shared = rng.normal(size=(n, 2)) @ rng.uniform(0.1, 0.4, size=(2, p))
    X = y[:, None] + shared + rng.normal(size=(n, p)) * rng.uniform(0.2, 0.8, p)
    return (X - X.mean(0)) / X.std(0), y


def engine(kind, X, y, alphas, splits, l1_ratios=(), sw=None):
    n = X.shape[0]
    sw = np.ones(n) if sw is None else sw
    spec = _penalized_cv.LinearModelSpec(kind, alphas, alphas.size, 0.0, tuple(l1_ratios))
    ybar = sw @ y / sw.sum()
    fit, converged = _penalized_cv.fit_linear_cv(
        spec,
        ArrayDesign(X),
        y - ybar,
        sw,
        np.arange(n),
        splits,
        standardize=False,
        solver="direct",
        loo=kind == "ridge",
        tol=TOL,
        max_iter=100_000,
    )
    assert converged
    return fit, fit.intercept + ybar


def assert_same_coef(ours, ref):
    assert np.max(np.abs(ours - ref)) <= RTOL_COEF * np.max(np.abs(ref))


@pytest.mark.parametrize("weighted", [False, True])
def test_ridge_equals_ridgecv(weighted):
    X, y = oof_like()
    sw = np.random.default_rng(1).uniform(0.2, 3.0, y.shape[0]) if weighted else None
    alphas = np.logspace(-3, 5, 50)
    fit, b = engine("ridge", X, y, alphas, [], sw=sw)
    ref = RidgeCV(alphas=alphas).fit(X, y, sample_weight=sw)
    assert fit.alpha == pytest.approx(ref.alpha_, rel=1e-12)
    assert_same_coef(fit.coef, ref.coef_)
    assert b == pytest.approx(ref.intercept_, rel=RTOL_COEF)


@pytest.mark.parametrize("weighted", [False, True])
def test_lasso_equals_lassocv(weighted):
    X, y = oof_like()
    sw = np.random.default_rng(2).uniform(0.2, 3.0, y.shape[0]) if weighted else None
    alpha_max = np.max(np.abs(X.T @ (y - y.mean()))) / y.shape[0]
    alphas = alpha_max * np.logspace(0, -4, 20)
    cv = KFold(5)
    fit, b = engine("lasso", X, y, alphas, list(cv.split(X)), (1.0,), sw=sw)
    ref = LassoCV(alphas=alphas, cv=cv, precompute=True, tol=TOL, max_iter=100_000)
    ref.fit(X, y, sample_weight=sw)
    assert fit.alpha == pytest.approx(ref.alpha_, rel=1e-12)
    assert_same_coef(fit.coef, ref.coef_)
    assert b == pytest.approx(ref.intercept_, rel=RTOL_COEF, abs=1e-9)


def test_elastic_net_equals_elasticnetcv():
    X, y = oof_like(seed=3)
    alpha_max = np.max(np.abs(X.T @ (y - y.mean()))) / y.shape[0]
    alphas = alpha_max * np.logspace(0, -4, 20)
    cv = KFold(4)
    l1 = (0.1, 0.5, 0.9)
    fit, _ = engine("elasticnet", X, y, alphas, list(cv.split(X)), l1)
    ref = ElasticNetCV(
        alphas=alphas, l1_ratio=list(l1), cv=cv, precompute=True, tol=TOL, max_iter=100_000
    ).fit(X, y)
    assert (fit.alpha, fit.l1_ratio) == (pytest.approx(ref.alpha_, rel=1e-12), ref.l1_ratio_)
    assert_same_coef(fit.coef, ref.coef_)


# ----------------------------------------------------------------------------- linear algebra


def test_cholesky_delete_equals_the_factor_of_the_smaller_matrix():
    rng = np.random.default_rng(0)
    B = rng.normal(size=(12, 9))
    A = B.T @ B + 0.1 * np.eye(9)
    for k in (0, 4, 8):
        L = np.linalg.cholesky(A)
        _cholesky_delete(L, 9, k)
        keep = np.delete(np.arange(9), k)
        assert_allclose(np.tril(L[:8, :8]), np.linalg.cholesky(A[np.ix_(keep, keep)]), rtol=1e-12)
        b = rng.normal(size=8)
        assert_allclose(
            _cholesky_solve(L, b, 8), np.linalg.solve(A[np.ix_(keep, keep)], b), rtol=1e-10
        )


def test_cholesky_downdate_equals_the_factor_of_the_downdated_matrix():
    rng = np.random.default_rng(1)
    B = rng.normal(size=(15, 6))
    x = B[3].copy()
    A = B.T @ B + 0.5 * np.eye(6)
    L = np.linalg.cholesky(A)
    assert _chol_downdate(L, x.copy())
    assert_allclose(np.tril(L), np.linalg.cholesky(A - np.outer(x, x)), rtol=1e-12)
    # a downdate that would leave the matrix indefinite is refused
    assert not _chol_downdate(np.linalg.cholesky(np.eye(2)), np.array([2.0, 0.0]))
