"""The meta-learner's penalised CV engine against scikit-learn's RidgeCV, LassoCV, ElasticNetCV.

Issue 14, item 6: the hand-written engine (``skcgd.ensemble._penalized_cv`` with its solvers
and the Gram coordinate-descent kernel) is kept only if it beats scikit-learn on the same
problem by at least 3x at equal coefficients. Each row fits one model with its penalty chosen
by cross-validation, on the same standardised design, the same grid and the same folds:

* ridge: 50 alphas (the meta-learner's default grid), exact leave-one-out, against
  ``RidgeCV(alphas)`` (its own efficient leave-one-out);
* Lasso: 30 alphas from ``alpha_max`` down to ``1e-5 alpha_max``, ``KFold(5)``, against
  ``LassoCV(alphas, cv, precompute=True)``;
* elastic net: the same alphas, ``l1_ratio = (0.1, 0.5, 0.7, 0.9, 0.95, 0.99)`` (the
  meta-learner's default), against ``ElasticNetCV(..., precompute=True)``.

Coordinate descent runs at ``tol=1e-10`` on both sides (scikit-learn's gap rule, which the
kernel shares), so the two coefficient vectors agree to about 1e-8 relative; ``coef diff``
is ``max |ours - scikit-learn| / max |scikit-learn|``. Shapes: 43000 x 23 (the diamonds
out-of-fold matrix: synthetic, 23 base models whose errors share factors, so the columns
correlate as out-of-fold predictions do) and 2000 x 1000 (columns from 40 latent factors
that carry half of each column's variance, plus noise). The same out-of-fold-like columns at
2000 x 1000 are left out of the table because scikit-learn cannot be timed on them: its
Lasso path on one fold (1600 rows, ``tol=1e-8``) did not reach tol in 100000 sweeps at 14 of
its 30 penalties, after 535 s, where the engine's took 1.3 s. Timings are medians of interleaved
repeats (A B A B ...), after a warm-up, with one BLAS thread for both sides (the machine is
shared).

Run: ``python benchmarks/bench_cv_engine.py`` (about 8 minutes at load 1, most of it
scikit-learn's elastic net on 2000 x 1000; ``--repeats``, ``--quick``).
"""

import argparse

import numpy as np
from _common import machine, round_robin
from sklearn.linear_model import ElasticNetCV, LassoCV, RidgeCV
from sklearn.model_selection import KFold
from threadpoolctl import threadpool_limits

from skcgd.ensemble._design import ArrayDesign
from skcgd.ensemble._penalized_cv import DEFAULT_RIDGE_ALPHAS, LinearModelSpec, fit_linear_cv
from skcgd.utils import warm_up

TOL = 1e-10
MAX_ITER = 100_000
L1_RATIOS = (0.1, 0.5, 0.7, 0.9, 0.95, 0.99)


def oof_like(n, p, seed=0):
    """Columns that correlate as out-of-fold predictions do: y plus shared and own errors."""
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    shared = rng.normal(size=(n, 3)) @ rng.uniform(0.1, 0.4, size=(3, p))
    own = rng.normal(size=(n, p)) * rng.uniform(0.1, 0.8, size=p)
    return y[:, None] + shared + own, y


def factors(n, p, k=40, seed=1):
    """Columns from ``k`` latent factors (half of each column's variance) plus noise; y from
    a sparse combination of the columns."""
    rng = np.random.default_rng(seed)
    F = rng.normal(size=(n, k))
    X = F @ rng.normal(size=(k, p)) / np.sqrt(k) + rng.normal(size=(n, p))
    coef = np.zeros(p)
    coef[rng.choice(p, 30, replace=False)] = rng.normal(size=30)
    return X, X @ coef + 5.0 * rng.normal(size=n)


def standardised(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


def lasso_grid(Z, y, n_alphas=30, eps=1e-5):
    alpha_max = np.max(np.abs(Z.T @ (y - y.mean()))) / Z.shape[0]
    return alpha_max * np.logspace(0.0, np.log10(eps), n_alphas)


def ours(kind, Z, y, alphas, splits, l1_ratios=()):
    """One call of the engine (all its passes over the rows included), coef and alpha."""
    spec = LinearModelSpec(kind, alphas, alphas.size, 0.0, tuple(l1_ratios))
    n = Z.shape[0]
    fit, _ = fit_linear_cv(
        spec,
        ArrayDesign(Z),
        y - y.mean(),
        np.ones(n),
        np.arange(n),
        splits,
        standardize=False,
        solver="direct",
        loo=kind == "ridge",
        tol=TOL,
        max_iter=MAX_ITER,
    )
    return fit.coef, fit.alpha


def theirs(kind, Z, y, alphas, cv, l1_ratios=()):
    common = dict(alphas=alphas, cv=cv, precompute=True, tol=TOL, max_iter=MAX_ITER)
    if kind == "ridge":
        model = RidgeCV(alphas=alphas).fit(Z, y)
    elif kind == "lasso":
        model = LassoCV(**common).fit(Z, y)
    else:
        model = ElasticNetCV(l1_ratio=list(l1_ratios), **common).fit(Z, y)
    return model.coef_, model.alpha_


def table(shapes, repeats):
    print(
        f"\n{'shape':>12s} {'model':>11s} {'ours s':>8s} {'sklearn s':>10s} {'ratio':>6s} "
        f"{'coef diff':>10s} {'same alpha':>10s}"
    )
    for name, (Z, y) in shapes.items():
        cv = KFold(5)
        splits = list(cv.split(Z))
        grids = {
            "ridge": (DEFAULT_RIDGE_ALPHAS, ()),
            "lasso": (lasso_grid(Z, y), (1.0,)),
            "elasticnet": (lasso_grid(Z, y), L1_RATIOS),
        }
        for kind, (alphas, l1) in grids.items():
            timed = round_robin(
                {
                    "ours": lambda: ours(kind, Z, y, alphas, splits, l1),
                    "sklearn": lambda: theirs(kind, Z, y, alphas, cv, l1),
                },
                repeats,
            )
            (t_ours, _, (c_ours, a_ours)), (t_sk, _, (c_sk, a_sk)) = (
                timed["ours"],
                timed["sklearn"],
            )
            diff = np.max(np.abs(c_ours - c_sk)) / max(np.max(np.abs(c_sk)), 1e-300)
            same = np.isclose(a_ours, a_sk, rtol=1e-12)
            print(
                f"{name:>12s} {kind:>11s} {t_ours:8.3f} {t_sk:10.3f} {t_sk / t_ours:6.1f} "
                f"{diff:10.1e} {str(bool(same)):>10s}",
                flush=True,
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="smaller shapes (a smoke run)")
    args = parser.parse_args()
    print(machine())
    warm_up()
    sizes = ((4300, 23), (400, 200)) if args.quick else ((43000, 23), (2000, 1000))
    shapes = {}
    for (n, p), make in zip(sizes, (oof_like, factors)):
        X, y = make(n, p)
        shapes[f"{n} x {p}"] = (standardised(X), y)
    with threadpool_limits(1):
        table(shapes, args.repeats)


if __name__ == "__main__":
    main()
