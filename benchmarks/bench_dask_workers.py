"""What a Dask worker pays for skcgd's kernels: its first task against later ones.

Three scenarios, each on a fresh ``LocalCluster`` (2 worker processes x 1 thread, loopback):

* ``cold``: an empty Numba cache (``NUMBA_CACHE_DIR`` a new temporary directory), nothing
  warmed: each worker compiles the kernels its first task uses;
* ``warm cache``: the client process compiled them first (same machine, shared disk cache):
  workers load them;
* ``warm_up_workers``: :func:`skcgd.utils._dask.warm_up_workers` loaded every kernel on every
  worker before any task.

Per worker and task it prints the seconds the task took and how many kernels it compiled
(Numba cache misses) or loaded from disk (cache hits). The task fits MinimaxLogisticRegression
(Newton and CGD) and GaussianNaiveBayes on 2000 x 20 data.

Run: ``python benchmarks/bench_dask_workers.py``
"""

import os
import subprocess
import sys
import tempfile
import time

N_ROUNDS = 4


def task(X, y):
    import time

    from skcgd._numba import registered_kernels
    from skcgd.linear_model import MinimaxLogisticRegression
    from skcgd.naive_bayes import GaussianNaiveBayes

    def counts():
        hits = misses = 0
        for kernel in registered_kernels().values():
            hits += sum(kernel.stats.cache_hits.values())
            misses += sum(kernel.stats.cache_misses.values())
        return hits, misses

    h0, m0 = counts()
    t0 = time.perf_counter()
    MinimaxLogisticRegression().fit(X, y)
    MinimaxLogisticRegression(solver="cgd", max_iter=20).fit(X, y)
    GaussianNaiveBayes().fit(X, y).predict_proba(X)
    seconds = time.perf_counter() - t0
    h1, m1 = counts()
    return seconds, h1 - h0, m1 - m0


def scenario(name):
    import warnings

    import numpy as np
    from distributed import Client, LocalCluster

    from skcgd.utils._dask import warm_up_workers

    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 20))
    y = (X[:, 0] + 0.5 * rng.standard_normal(2000) > 0).astype(int)
    if name != "cold":
        task(X, y)  # compile in the client: fills the shared disk cache
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
        )
        client = Client(cluster)
        start = time.perf_counter() - t0
    extra = ""
    if name == "warm_up_workers":
        seconds = warm_up_workers(client)
        extra = f"  (warm_up_workers: {', '.join(f'{s:.1f}' for s in seconds.values())} s)"
    # the first task also imports skcgd on the worker: time that separately
    t0 = time.perf_counter()
    client.run(lambda: __import__("skcgd.linear_model") and __import__("skcgd.naive_bayes"))
    imports = time.perf_counter() - t0
    print(
        f"{name:16s} cluster start {start:5.1f} s, import skcgd on workers {imports:4.1f} s{extra}"
    )
    workers = sorted(client.scheduler_info()["workers"])
    for r in range(N_ROUNDS):
        futures = [client.submit(task, X, y, pure=False, workers=[w]) for w in workers]
        cells = [f"{s:6.3f} s ({c} compiled, {h} loaded)" for s, h, c in client.gather(futures)]
        print(f"    task {r + 1}: " + " | ".join(cells))
    client.close()
    cluster.close()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        scenario(sys.argv[1])
    else:
        for name in ("cold", "warm cache", "warm_up_workers"):
            env = dict(os.environ)
            if name == "cold":
                env["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="skcgd-numba-")
            subprocess.run(
                [sys.executable, __file__, name], env=env, check=True, stderr=subprocess.DEVNULL
            )
