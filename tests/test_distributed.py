"""skcgd on a real ``dask.distributed`` cluster through joblib.

One ``LocalCluster`` (2 worker processes, 1 thread each, loopback only, no dashboard) is
started for this module and closed at its end. Under ``joblib.parallel_backend("dask")``,
GridSearchCV over MinimaxLogisticRegression and every stacking fit (estimators with
``n_jobs``) must give bit-identical results to serial runs; workers must compile the kernels
at most once (Numba's per-kernel cache statistics count compilations), and after
``warm_up_workers`` not even load them during a task.
"""

import inspect
import time
import warnings

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")

from sklearn.model_selection import GridSearchCV  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from skcgd.linear_model import MinimaxLogisticRegression  # noqa: E402
from skcgd.utils import SkcgdWorkerPlugin, all_estimators, warm_up_workers  # noqa: E402
from skcgd.utils._input_kinds import (  # noqa: E402
    estimator_spec,
    fit_kwargs,
    make_data,
    prediction_outputs,
)

PARALLEL = [(n, c) for n, c in all_estimators() if "n_jobs" in inspect.signature(c).parameters]


@pytest.fixture(scope="module")
def client():
    # compile here what the tasks below use: the workers share this machine's disk cache,
    # so they only load the kernels
    _kernel_task(*make_data("classifier", n_samples=300, n_features=5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Port 8787 is already in use" and the like
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _kernel_task(X, y):
    """Fit the estimators on a worker; report time and Numba's cache statistics there."""
    import os
    import time

    from skcgd._numba import registered_kernels
    from skcgd.linear_model import MinimaxLogisticRegression
    from skcgd.naive_bayes import GaussianNaiveBayes

    def counts():
        hits = misses = 0
        for kernel in registered_kernels().values():
            stats = kernel.stats
            hits += sum(stats.cache_hits.values())
            misses += sum(stats.cache_misses.values())
        return hits, misses

    t0 = time.perf_counter()
    hits0, misses0 = counts()
    MinimaxLogisticRegression().fit(X, y)
    MinimaxLogisticRegression(solver="cgd", max_iter=20).fit(X, y)
    GaussianNaiveBayes().fit(X, y).predict_proba(X)
    hits1, misses1 = counts()
    return {
        "pid": os.getpid(),
        "seconds": time.perf_counter() - t0,
        "loaded": hits1 - hits0,
        "compiled": misses1 - misses0,
    }


def _run_on_each_worker(client, n_rounds):
    X, y = make_data("classifier", n_samples=300, n_features=5)
    workers = sorted(client.scheduler_info()["workers"])
    rounds = []
    for _ in range(n_rounds):
        futures = [client.submit(_kernel_task, X, y, pure=False, workers=[w]) for w in workers]
        rounds.append(client.gather(futures))
    return rounds


def test_workers_compile_kernels_at_most_once(client):
    # first in the module: the workers are fresh
    rounds = _run_on_each_worker(client, n_rounds=4)
    for later in rounds[1:]:
        for report in later:
            assert report["compiled"] == 0, rounds  # no compilation after a worker's first task
            assert report["loaded"] == 0, rounds  # nor loading from the disk cache
    # the parent filled the cache: even the first task on a fresh worker compiled nothing
    assert all(report["compiled"] == 0 for report in rounds[0]), rounds
    first = [r["seconds"] for r in rounds[0]]
    later = [r["seconds"] for rnd in rounds[1:] for r in rnd]
    print(
        f"\nDask worker task: first {np.round(first, 3)} s, later median "
        f"{np.median(later):.3f} s (loaded from cache in the first: "
        f"{[r['loaded'] for r in rounds[0]]} kernels)"
    )


def test_grid_search_on_dask_equals_serial(client):
    X, y = make_data("classifier", n_samples=120, n_features=4, n_classes=3)
    grid = {"rho": [0.0, 0.5, 2.0], "adversary": ["chi2", "kl"], "C": [0.1, 1.0]}
    # Dask workers run BLAS on one thread; so does the serial reference, so that BLAS's
    # threading cannot change the rounding (the arrays Dask deserializes may be unaligned:
    # the estimators copy those, as NumPy's kernels for them round differently)
    with threadpool_limits(limits=1):
        serial = GridSearchCV(MinimaxLogisticRegression(), grid, cv=3).fit(X, y)
    with joblib.parallel_backend("dask"):
        dask = GridSearchCV(MinimaxLogisticRegression(), grid, cv=3, n_jobs=-1).fit(X, y)
    for key in ("mean_test_score", "std_test_score", "rank_test_score"):
        np.testing.assert_array_equal(dask.cv_results_[key], serial.cv_results_[key])
    assert dask.best_params_ == serial.best_params_
    np.testing.assert_array_equal(dask.best_estimator_.coef_, serial.best_estimator_.coef_)
    np.testing.assert_array_equal(dask.predict_proba(X), serial.predict_proba(X))


@pytest.mark.parametrize("name, cls", PARALLEL, ids=[n for n, _ in PARALLEL])
def test_stacking_on_dask_equals_serial(client, name, cls):
    spec = estimator_spec(cls)
    X, y = make_data(spec.task, n_samples=90, n_features=4, n_classes=3)
    params = spec.base_params()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with threadpool_limits(limits=1):  # as on the workers: see the grid search test
            serial = cls(**params, n_jobs=1).fit(X, y, **fit_kwargs(spec, params, 90))
            expected = prediction_outputs(serial, X)
        with joblib.parallel_backend("dask"):
            dask = cls(**params, n_jobs=-1).fit(X, y, **fit_kwargs(spec, params, 90))
    with threadpool_limits(limits=1):
        got = prediction_outputs(dask, X)
    for method in expected:
        np.testing.assert_array_equal(got[method], expected[method], err_msg=method)


def test_a_stacking_estimator_is_covered():
    # the Dask test above runs over the estimators with n_jobs: stacking must be among them
    assert any("Stacking" in name for name, _ in PARALLEL), PARALLEL


@pytest.mark.slow  # restarts the workers and runs the whole warm_up() in each (~10-30 s)
def test_warm_up_workers_takes_loading_out_of_the_tasks(client):
    seconds = warm_up_workers(client)
    assert len(seconds) == 2
    client.restart()  # fresh worker processes: the registered plugin warms them up again
    t0 = time.perf_counter()
    rounds = _run_on_each_worker(client, n_rounds=2)
    for report in rounds[0]:
        assert report["compiled"] == 0 and report["loaded"] == 0, rounds
    print(
        f"\nwarm_up_workers: {seconds} s per worker; first task after it "
        f"{[round(r['seconds'], 3) for r in rounds[0]]} s, later "
        f"{[round(r['seconds'], 3) for r in rounds[1]]} s "
        f"({time.perf_counter() - t0:.1f} s for both rounds)"
    )
    client.unregister_worker_plugin(SkcgdWorkerPlugin.name)
