"""Utilities: :func:`warm_up` (compile every kernel), :func:`warm_up_workers` (the same on
the workers of a Dask cluster) and :func:`all_estimators`."""

from skcgd.utils._dask import SkcgdWorkerPlugin, warm_up_workers
from skcgd.utils._discovery import all_estimators
from skcgd.utils._warmup import warm_up

__all__ = ["warm_up", "warm_up_workers", "SkcgdWorkerPlugin", "all_estimators"]
