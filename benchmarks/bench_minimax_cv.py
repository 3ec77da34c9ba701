"""MinimaxLogisticRegressionCV (issue 13) against GridSearchCV over the same grid and folds.

Both choose (C, rho) among 10 C x 4 rho on 5 stratified folds of
``make_classification(n_samples=N, n_features=20, flip_y=0.1, random_state=0)``; the CV
estimator fits each fold's grid along a warm-started path, GridSearchCV fits every point
cold. Printed: wall time of each (median of 3, after a warm-up fit), the ratio, whether
they chose the same pair, and the Newton steps of the path against cold fits. One BLAS
thread; n_jobs=1 for both.

Run: ``python benchmarks/bench_minimax_cv.py [N ...]`` (default 2000 20000).
"""

import sys
import time
import warnings

import numpy as np
from _common import machine
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from threadpoolctl import threadpool_limits

from skcgd.linear_model import MinimaxLogisticRegression, MinimaxLogisticRegressionCV


def main(sizes):
    print(machine())
    Cs, rhos = np.logspace(-3, 2, 10), [0.0, 0.3, 1.0, 3.0]
    for adversary in ("chi2", "kl"):
        for n in sizes:
            X, y = make_classification(n, 20, flip_y=0.1, random_state=0)
            folds = StratifiedKFold(5, shuffle=True, random_state=0)
            cv = MinimaxLogisticRegressionCV(adversary, Cs=Cs, rhos=rhos, cv=folds)
            search = GridSearchCV(
                MinimaxLogisticRegression(adversary), {"C": Cs, "rho": rhos}, cv=folds
            )
            times = {"cv": [], "grid": []}
            with threadpool_limits(1, user_api="blas"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                MinimaxLogisticRegression(adversary).fit(X, y)  # compile / load the kernels
                for _ in range(3):
                    for name, est in (("cv", cv), ("grid", search)):
                        t0 = time.perf_counter()
                        est.fit(X, y)
                        times[name].append(time.perf_counter() - t0)
            t_cv, t_grid = np.median(times["cv"]), np.median(times["grid"])
            same = (cv.C_, cv.rho_) == (search.best_params_["C"], search.best_params_["rho"])
            cold = 0
            for train, _ in folds.split(X, y):
                for C in Cs:
                    for rho in rhos:
                        model = MinimaxLogisticRegression(adversary, C=C, rho=rho)
                        cold += model.fit(X[train], y[train]).n_iter_[0]
            print(
                f"{adversary:5s} n={n:6d}  CV {t_cv:7.2f} s  GridSearchCV {t_grid:7.2f} s  "
                f"ratio {t_grid / t_cv:5.2f}x  same choice: {same}  Newton steps: path "
                f"{int(cv.n_iter_.sum())} / cold {cold} = {cv.n_iter_.sum() / cold:.2f}"
            )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [2000, 20000])
