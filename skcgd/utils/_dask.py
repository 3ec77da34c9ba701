"""Prepare the workers of a ``dask.distributed`` cluster for skcgd's kernels.

``with joblib.parallel_backend("dask"):`` runs skcgd's parallel pieces (stacking's
estimator-by-fold fits, ``GridSearchCV`` over skcgd estimators) on a Dask cluster unchanged.
Every worker process then needs the compiled kernels: without preparation, its first task
loads them from Numba's disk cache (about 1 s, plus the import of skcgd), or compiles them
(several seconds per kernel) when that worker's machine has no cache yet. Later tasks on the
same worker pay nothing. :func:`warm_up_workers` moves that one-time cost out of the tasks:

* it compiles every kernel in the calling process first, so that workers on the same machine
  (a ``LocalCluster``) only load them from the shared disk cache;
* it registers a worker plugin that runs :func:`skcgd.utils.warm_up` on every worker, also
  on those that join or restart later.

Threads need no setting: skcgd's kernels are serial (its parallelism is joblib's, i.e. Dask's
tasks), and Dask's nanny already starts workers with ``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS`` and ``MKL_NUM_THREADS`` set to 1.
"""

__all__ = ["warm_up_workers", "SkcgdWorkerPlugin"]


def _worker_setup():
    """Load (or compile) every kernel in the current process; return the seconds it took."""
    import time

    from skcgd.utils import warm_up

    t0 = time.perf_counter()
    warm_up(n_jobs=1)  # in the worker itself: it may not start processes (daemonic)
    return time.perf_counter() - t0


try:  # the plugin base class exists only where distributed is installed
    from distributed.diagnostics.plugin import WorkerPlugin as _WorkerPlugin
except ImportError:  # pragma: no cover - distributed not installed
    _WorkerPlugin = object


class SkcgdWorkerPlugin(_WorkerPlugin):
    """Dask worker plugin that runs :func:`skcgd.utils.warm_up` when a worker starts.

    Register it with ``client.register_plugin(SkcgdWorkerPlugin())`` (or call
    :func:`warm_up_workers`). Each worker's copy records the seconds its warm-up took in
    ``seconds``.

    Examples
    --------
    What a worker runs when it starts (here, in this process):

    >>> from skcgd.utils import SkcgdWorkerPlugin
    >>> plugin = SkcgdWorkerPlugin()
    >>> plugin.name
    'skcgd-warm-up'
    >>> plugin.setup(worker=None)
    >>> plugin.seconds >= 0
    True
    """

    name = "skcgd-warm-up"

    def setup(self, worker):
        self.seconds = _worker_setup()


def warm_up_workers(client):
    """Compile skcgd's kernels here, then load them on every worker of ``client``.

    Parameters
    ----------
    client : distributed.Client
        The client whose workers will run skcgd's tasks.

    Returns
    -------
    seconds : dict
        Seconds each worker spent in its warm-up, by worker address.

    Examples
    --------
    With an in-process cluster (one worker thread):

    >>> from distributed import Client, LocalCluster
    >>> from skcgd.utils import warm_up_workers
    >>> cluster = LocalCluster(n_workers=1, processes=False, dashboard_address=None)
    >>> with cluster, Client(cluster) as client:
    ...     seconds = warm_up_workers(client)
    >>> len(seconds), all(value >= 0 for value in seconds.values())
    (1, True)

    In a script (under ``if __name__ == "__main__":``, as Dask starts worker processes)::

        import joblib
        from distributed import Client, LocalCluster
        from skcgd.utils import warm_up_workers

        client = Client(LocalCluster(n_workers=2, threads_per_worker=1))
        warm_up_workers(client)
        with joblib.parallel_backend("dask"):
            search.fit(X, y)   # e.g. a GridSearchCV over MinimaxLogisticRegression
    """
    from skcgd.utils import warm_up

    warm_up()  # fills the disk cache that workers on this machine share
    client.register_plugin(SkcgdWorkerPlugin())
    return client.run(lambda dask_worker: dask_worker.plugins[SkcgdWorkerPlugin.name].seconds)
