"""Utilities: :func:`warm_up` (compile every kernel), :func:`warm_up_workers` (the same on
the workers of a Dask cluster) and :func:`all_estimators`.

The Dask pieces load ``distributed`` (a third of a second) only when first used.
"""

from skcgd.utils._discovery import all_estimators
from skcgd.utils._warmup import warm_up

__all__ = ["warm_up", "warm_up_workers", "SkcgdWorkerPlugin", "all_estimators"]


def __getattr__(name):
    if name in ("warm_up_workers", "SkcgdWorkerPlugin"):
        from skcgd.utils import _dask

        return getattr(_dask, name)
    raise AttributeError(f"module 'skcgd.utils' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
