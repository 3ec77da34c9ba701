"""Utilities: :func:`warm_up` (compile every kernel) and :func:`all_estimators`."""

from skcgd.utils._discovery import all_estimators
from skcgd.utils._warmup import warm_up

__all__ = ["warm_up", "all_estimators"]
