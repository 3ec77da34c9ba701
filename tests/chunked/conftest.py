"""Fixtures of the Dask-input tests: the schedulers every fit on Dask arrays must work with.

``scheduler`` runs a test twice: under Dask's threaded scheduler (no cluster) and on one
``distributed.LocalCluster`` (2 worker processes, 1 thread each, loopback only, no
dashboard) shared by the whole session. The fixture yields a context-manager factory, so a
test computes its reference in memory first and then enters the scheduler.
"""

import contextlib
import warnings

import pytest

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="session")
def cluster_client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Port 8787 is already in use" and the like
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
    client = distributed.Client(cluster, set_as_default=False)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture(params=["threads", "cluster"])
def scheduler(request):
    """A factory of context managers that run Dask computations on one scheduler."""
    if request.param == "threads":
        return lambda: dask.config.set(scheduler="threads")
    client = request.getfixturevalue("cluster_client")

    @contextlib.contextmanager
    def on_cluster():
        with client.as_current(), dask.config.set(scheduler=client.get):
            yield client

    return on_cluster
