"""
=====================================================================
Larger than memory: fitting on Dask arrays
=====================================================================

:class:`~skcgd.linear_model.MinimaxLogisticRegression` and
:class:`~skcgd.naive_bayes.GaussianNaiveBayes` accept Dask arrays and fit them where the
chunks are: every pass over the data runs the in-memory code on each row chunk and adds up
the small results (a gradient, a Hessian, per-class moments) in a tree, so X itself never
travels. This example

- starts a :class:`distributed.LocalCluster` of two single-threaded worker processes,
- draws X on the workers with ``dask.array.random`` and keeps it there,
- fits the ``"kl"`` adversary and Gaussian naive Bayes on it, counts what came back to this
  process, and checks that the fit is the in-memory one,
- predicts lazily and scores on the cluster,
- and, without a cluster, fits the same model from ``.npy`` files on disk with Dask's
  threaded scheduler: the out-of-core case, where X never has to fit in memory.

The costs (passes per fit, bytes per pass) and the setup of a real cluster are in the user
guide, :ref:`larger_than_memory`. Dask is optional: install it with
``pip install "skcgd[dask]"``. Without it this example prints a message and stops.
"""

# %%
# Setup
# -----
# As in :ref:`sphx_glr_auto_examples_distributed_plot_dask_grid_search.py`, the work is under
# ``if __name__ == "__main__":``: Dask starts its workers with the *spawn* method, which
# imports this script again in each of them. Dask itself is imported only where it is used,
# so that the script runs (and says what is missing) without it.

import importlib.util
import pathlib
import tempfile
import time

import matplotlib.pyplot as plt
import numpy as np

from skcgd.linear_model import MinimaxLogisticRegression
from skcgd.naive_bayes import GaussianNaiveBayes
from skcgd.utils import warm_up_workers

HAVE_DASK = all(importlib.util.find_spec(name) is not None for name in ("dask", "distributed"))

N_SAMPLES, N_FEATURES, CHUNK_ROWS = 200_000, 20, 25_000
RHO = 1.0


def make_data(seed):
    """X, y and each row's group as lazy Dask arrays: nothing is drawn until computed.

    The label follows feature 0 in the majority and feature 1 in a minority of 10%; the
    other 18 features are noise. A model fitted to the average loss learns the majority's
    rule and gets the minority wrong about half the time.
    """
    import dask.array as da

    rng = da.random.default_rng(seed)
    X = rng.standard_normal((N_SAMPLES, N_FEATURES), chunks=(CHUNK_ROWS, N_FEATURES))
    minority = rng.random(N_SAMPLES, chunks=CHUNK_ROWS) < 0.1
    noise = 0.3 * rng.standard_normal(N_SAMPLES, chunks=CHUNK_ROWS)
    y = (da.where(minority, X[:, 1], X[:, 0]) + noise > 0).astype(np.int64)
    return X, y, minority.astype(np.int64)


def accuracy_by_group(model, X, y, groups):
    """Accuracy on the majority and on the minority, computed where the chunks are."""
    import dask
    import dask.array as da

    hits = (model.predict(X) == y).astype(np.float64)  # lazy, chunk by chunk
    right = da.bincount(groups, weights=hits, minlength=2)
    total = da.bincount(groups, minlength=2)
    right, total = dask.compute(right, total)  # two numbers each come back
    return right / total


def relative_difference(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


if __name__ == "__main__" and not HAVE_DASK:
    print(
        "dask and distributed are not installed: skipping this example.\n"
        'Install them with  pip install "skcgd[dask]"  to run it.'
    )

# %%
# A cluster, its workers warmed up
# --------------------------------
# Two worker processes with one thread each, on the loopback interface, without a
# dashboard. :func:`~skcgd.utils.warm_up_workers` compiles skcgd's Numba kernels in this
# process and registers a :class:`~skcgd.utils.SkcgdWorkerPlugin`, which loads them in
# every worker (also in workers that join later), so that the first pass of a fit does not
# pay for it.

if __name__ == "__main__" and HAVE_DASK:
    import dask
    import dask.array as da
    from distributed import Client, LocalCluster

    seconds = {}
    t_start = time.perf_counter()
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        env={"NUMBA_NUM_THREADS": "1"},
    )
    client = Client(cluster)
    seconds["cluster start"] = time.perf_counter() - t_start
    t0 = time.perf_counter()
    warm_up_workers(client)
    seconds["worker warm-up"] = time.perf_counter() - t0
    print(f"{len(client.scheduler_info()['workers'])} workers ready")

# %%
# Data drawn on the workers
# -------------------------
# ``dask.array.random`` draws every chunk in the worker that will hold it; ``persist`` keeps
# the chunks in the workers' memory, so that the passes of the fits read them from there
# instead of drawing them again. This process holds only the task graph.

if __name__ == "__main__" and HAVE_DASK:
    X, y, groups = dask.persist(*make_data(seed=0))
    print(
        f"X: {X.shape[0]} x {X.shape[1]} float64, {X.nbytes / 1e6:.0f} MB "
        f"in {X.numblocks[0]} chunks of {CHUNK_ROWS} rows"
    )
    print(f"minority: {int(groups.sum().compute())} rows")

# %%
# Fits that never gather X
# ------------------------
# The ``"kl"`` adversary weighs each sample by the exponential of its loss (a soft maximum
# at temperature ``1 / rho``), so the badly fitted minority gets more weight than its share.
# On a Dask array every Newton step is two passes over the chunks (the losses, kept on the
# workers; then the gradient and the Hessian) and one reduction of the kept losses for the
# normaliser of the weights. ``dask_stats_`` counts them, with the bytes that came back to
# this process. Plain logistic regression (``"none"``) is fitted alongside for comparison;
# it needs one pass per Newton step. A tight ``tol`` makes the comparison with the in-memory
# fit below a test of the arithmetic, not of where two runs stop.

if __name__ == "__main__" and HAVE_DASK:
    models = {
        "plain": MinimaxLogisticRegression("none", tol=1e-10),
        "kl": MinimaxLogisticRegression("kl", rho=RHO, tol=1e-10),
        "naive Bayes": GaussianNaiveBayes(),
    }
    for name, model in models.items():
        t0 = time.perf_counter()
        model.fit(X, y)
        seconds[f"fit {name}"] = time.perf_counter() - t0
        stats = model.dask_stats_
        print(
            f"{name:12s} {seconds[f'fit {name}']:4.2f} s  passes {stats['passes']:2d}  "
            f"reductions {stats['reductions']}  bytes gathered {stats['bytes_gathered']:5d} "
            f"({stats['bytes_gathered'] / X.nbytes:.0e} of X), largest pass "
            f"{stats['max_bytes_per_pass']}"
        )
    clf, nb = models["kl"], models["naive Bayes"]

# %%
# The in-memory fit, to rounding
# ------------------------------
# The data are small enough here to bring them into this process and fit them the usual
# way. The Dask fit ran the same Newton iterations on sums over chunks, which add up in
# another order than the in-memory loops: the coefficients and the naive Bayes moments
# (merged chunk by chunk with Chan's formula) agree to rounding.

if __name__ == "__main__" and HAVE_DASK:
    X_mem, y_mem = dask.compute(X, y)
    ref = MinimaxLogisticRegression("kl", rho=RHO, tol=1e-10).fit(X_mem, y_mem)
    nb_ref = GaussianNaiveBayes().fit(X_mem, y_mem)
    print(f"Newton steps: {clf.n_iter_[0]} on Dask, {ref.n_iter_[0]} in memory")
    print(f"coef_, relative difference:      {relative_difference(clf.coef_, ref.coef_):.1e}")
    print(f"naive Bayes theta_, difference: {relative_difference(nb.theta_, nb_ref.theta_):.1e}")
    print(f"naive Bayes var_, difference:   {relative_difference(nb.var_, nb_ref.var_):.1e}")
    del X_mem, y_mem

# %%
# Lazy predictions, scored on the cluster
# ---------------------------------------
# On a Dask array ``predict``, ``predict_proba`` and ``decision_function`` return Dask
# arrays with the chunks of X; nothing runs until they are computed, and a score computed
# with Dask leaves only a number to bring back. After a Dask fit the ``"kl"`` adversary's
# weights (``adversary_weights_``, one per sample) are a lazy Dask array too.

if __name__ == "__main__" and HAVE_DASK:
    proba = clf.predict_proba(X)
    print(
        f"predict_proba: {type(proba).__name__} of shape {proba.shape}, {proba.numblocks[0]} chunks"
    )
    print(f"accuracy, computed on the cluster: {float((clf.predict(X) == y).mean().compute()):.4f}")
    for name in ("plain", "kl"):
        majority, minority = accuracy_by_group(models[name], X, y, groups)
        print(f"{name:5s} accuracy: majority {majority:.3f}, minority {minority:.3f}")
    weights = clf.adversary_weights_
    share = dask.compute(da.bincount(groups, weights=weights, minlength=2))[0]
    print(
        f"the kl adversary puts {share[1]:.3f} of its weight on the minority "
        f"({float(groups.mean().compute()):.3f} of the rows)"
    )

# %%
# Out of core: from disk, with the threaded scheduler
# ---------------------------------------------------
# Without a cluster, Dask's threaded scheduler runs the same passes in this process, a few
# chunks at a time: X can be a directory of files larger than the memory. Here the workers
# (which share this machine's disk) write X and y as stacks of ``.npy`` files, one file per
# chunk; then the cluster is closed, and :func:`dask.array.from_npy_stack` reads them back,
# lazily. Each pass of the fit maps every file in turn and reads it from disk (or from the
# operating system's page cache); only the row-level state (each row's loss and its
# derivative) is held in memory between passes. A zarr store works the same way
# (``dask.array.from_zarr``).

if __name__ == "__main__" and HAVE_DASK:
    tmp = tempfile.TemporaryDirectory()
    folder = pathlib.Path(tmp.name)
    for name, array in (("X", X), ("y", y)):
        da.to_npy_stack(folder / name, array, axis=0)
    client.close()
    cluster.close()
    print("cluster closed; on disk:", sorted(p.name for p in folder.iterdir()))

    with dask.config.set(scheduler="threads"):
        X_disk = da.from_npy_stack(folder / "X")
        y_disk = da.from_npy_stack(folder / "y")
        t0 = time.perf_counter()
        from_disk = MinimaxLogisticRegression("kl", rho=RHO, tol=1e-10).fit(X_disk, y_disk)
        seconds["fit kl from disk"] = time.perf_counter() - t0
        accuracy = float((from_disk.predict(X_disk) == y_disk).mean().compute())
    print(
        f"from disk: {from_disk.dask_stats_['passes']} passes over "
        f"{X_disk.numblocks[0]} files, accuracy {accuracy:.4f}"
    )
    print(
        "same coefficients as on the cluster:",
        f"{relative_difference(from_disk.coef_, clf.coef_):.1e} relative difference",
    )
    del X_disk, y_disk
    tmp.cleanup()

# %%
# What travelled, and how long it took
# ------------------------------------
# Left: the size of X against what each fit brought back to this process over all its
# passes (a few Hessians of 21 x 21 numbers, a few moment tables), on a logarithmic scale.
# Right: wall times; the grey bars are paid once per cluster.

if __name__ == "__main__" and HAVE_DASK:
    for name, value in seconds.items():
        print(f"{name:20s} {value:6.2f} s")
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    sizes = {"X": X.nbytes}
    sizes.update(
        {f"fit {name}": model.dask_stats_["bytes_gathered"] for name, model in models.items()}
    )
    left.barh(list(sizes)[::-1], list(sizes.values())[::-1], color=["C0"] * len(models) + ["C3"])
    left.set(xscale="log", xlabel="bytes", title="Bytes in X and bytes gathered by each fit")
    names = list(seconds)
    colors = ["C7" if n in ("cluster start", "worker warm-up") else "C0" for n in names]
    right.barh(names[::-1], [seconds[n] for n in names][::-1], color=colors[::-1])
    right.set(xlabel="wall time (s)", title="Wall times")
    fig.tight_layout()

# %%
# Conclusion
# ----------
# The fits on Dask arrays are the in-memory fits, computed by passes over chunks: a Newton
# step of the ``"kl"`` adversary costs two passes and a reduction, and brings back one
# Hessian and one gradient (a few kilobytes here, whatever the number of rows). The same
# code runs on a cluster, where X stays in the workers' memory, and on one machine from
# disk, where X never has to fit in memory. On a real cluster, install the same versions of
# skcgd, Numba and NumPy on every worker, give Numba a writable cache directory and register
# the warm-up plugin once: :ref:`larger_than_memory` says how.
