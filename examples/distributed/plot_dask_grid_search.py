"""
=====================================================================
Scaling out: a grid search on a Dask cluster
=====================================================================

skcgd never starts processes of its own: whatever runs in parallel (the fits of a grid search,
the cross-validated base models of a stacking ensemble) goes through joblib, so the code that
runs on a laptop runs unchanged on a Dask cluster under ``joblib.parallel_backend("dask")``.
This example fits the same :class:`~sklearn.model_selection.GridSearchCV` over
:class:`~skcgd.linear_model.MinimaxLogisticRegression` sequentially, with joblib's default
process pool (loky) and on a :class:`distributed.LocalCluster` of two single-threaded worker
processes, checks that all three give the same result and compares the wall times.

Dask is optional: install it with ``pip install "skcgd[dist]"``. Without it the Dask part is
skipped with a message.
"""

# %%
# Setup
# -----
# Two habits matter before any worker starts:
#
# - **Compile first.** :func:`skcgd.utils.warm_up` compiles every Numba kernel in this
#   process (or loads it from the disk cache); the workers then only load the cached
#   machine code instead of each compiling it again.
# - **One thread per worker.** Dask sets ``OMP_NUM_THREADS`` and friends in its workers but
#   not ``NUMBA_NUM_THREADS``; we set it through the workers' environment so that two
#   workers do not run four threads on two cores.
#
# Worker processes are started with the *spawn* method, which imports the script that started
# them again. The code that does the work is therefore under ``if __name__ == "__main__":``
# as in any Python script that starts processes (sphinx-gallery runs the example as
# ``__main__``, so the guard holds when the documentation is built too).

import importlib.util
import time

import joblib
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skcgd.linear_model import MinimaxLogisticRegression
from skcgd.utils import warm_up, warm_up_workers

HAVE_DASK = all(importlib.util.find_spec(name) is not None for name in ("dask", "distributed"))

X, y = make_classification(
    n_samples=6000, n_features=30, n_informative=10, flip_y=0.1, random_state=0
)
param_grid = {
    "minimaxlogisticregression__rho": [0.0, 0.25, 0.5, 1.0, 2.0],
    "minimaxlogisticregression__C": [0.01, 1.0],
}


def timed_search(n_jobs):
    """Fit the grid search (5 folds x 10 candidates) and return it with its wall time."""
    search = GridSearchCV(
        make_pipeline(StandardScaler(), MinimaxLogisticRegression("chi2")),
        param_grid,
        cv=5,
        n_jobs=n_jobs,
    )
    t0 = time.perf_counter()
    search.fit(X, y)
    return search, time.perf_counter() - t0


# %%
# Sequential and loky
# -------------------
# ``n_jobs=2`` runs the 50 fits on joblib's default backend, a pool of worker processes (the
# first call starts them; a second call reuses them).

if __name__ == "__main__":
    seconds = {"warm_up": sum(warm_up().values())}
    reference, seconds["sequential"] = timed_search(n_jobs=1)
    _, seconds["loky, first call"] = timed_search(n_jobs=2)
    loky, seconds["loky"] = timed_search(n_jobs=2)
    print("best parameters:", reference.best_params_)

# %%
# On a Dask cluster
# -----------------
# The cluster listens on the loopback interface only and has no dashboard. Inside
# ``joblib.parallel_backend("dask")`` every joblib call, here the grid search's, becomes a
# set of Dask tasks.

if __name__ == "__main__" and not HAVE_DASK:
    print(
        "dask and distributed are not installed: skipping the Dask part of this example.\n"
        'Install them with  pip install "skcgd[dist]"  to run it.'
    )

if __name__ == "__main__" and HAVE_DASK:
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            env={"NUMBA_NUM_THREADS": "1"},
        ) as cluster,
        Client(cluster) as client,
    ):
        seconds["dask cluster start"] = time.perf_counter() - t0
        print(
            "workers' NUMBA_NUM_THREADS:",
            sorted(client.run(lambda: __import__("os").environ["NUMBA_NUM_THREADS"]).values()),
        )
        # load the compiled kernels in every worker now (SkcgdWorkerPlugin does it for workers
        # that join later), so that the tasks below do not pay for it
        t0 = time.perf_counter()
        warm_up_workers(client)
        seconds["dask worker warm-up"] = time.perf_counter() - t0
        with joblib.parallel_backend("dask"):
            _, seconds["dask, first call"] = timed_search(n_jobs=-1)
            on_dask, seconds["dask"] = timed_search(n_jobs=-1)
    print(
        "same best parameters as the sequential search:",
        on_dask.best_params_ == reference.best_params_,
    )
    np.testing.assert_allclose(
        on_dask.cv_results_["mean_test_score"], reference.cv_results_["mean_test_score"], rtol=1e-10
    )

# %%
# Wall times
# ----------
# The first call on a fresh pool of workers pays for starting them and for loading the
# compiled kernels in each; later calls reuse them. On Dask that loading was moved out of the
# tasks by :func:`~skcgd.utils.warm_up_workers`, which registers a
# :class:`~skcgd.utils.SkcgdWorkerPlugin` on the cluster.

if __name__ == "__main__":
    np.testing.assert_allclose(
        loky.cv_results_["mean_test_score"], reference.cv_results_["mean_test_score"], rtol=1e-10
    )
    for name, value in seconds.items():
        print(f"{name:20s} {value:6.2f} s")
    names = [name for name in seconds if name != "warm_up"]
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(names) + 1))
    colors = ["C7" if "first" in n or "start" in n or "warm" in n else "C0" for n in names]
    ax.barh(names[::-1], [seconds[n] for n in names][::-1], color=colors[::-1])
    ax.set(
        xlabel="wall time (s)",
        title="GridSearchCV, 50 fits of MinimaxLogisticRegression (grey: one-off costs)",
    )
    fig.tight_layout()

# %%
# Conclusion
# ----------
# All three backends find the same model with the same cross-validation scores. On a
# two-core machine there is little to gain over the sequential run, and the start-up costs
# (processes, kernel loading) are paid once per pool; the point of the Dask backend is that
# the same code, unchanged, uses however many workers a real cluster has. Compile with
# :func:`~skcgd.utils.warm_up` before starting workers, and give each worker as many Numba
# threads as it has cores.
