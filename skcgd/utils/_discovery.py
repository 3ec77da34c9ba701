"""Find skcgd's public estimators (for the common tests and the docs)."""

import importlib
import inspect
import pkgutil

from sklearn.base import BaseEstimator

__all__ = ["all_estimators"]

_SKIP = {"tests", "_kernels", "utils", "datasets"}


def all_estimators():
    """List skcgd's public scikit-learn estimators.

    Returns
    -------
    estimators : list of (str, type)
        ``(name, class)`` pairs, sorted by name, of every public, non-abstract subclass of
        :class:`sklearn.base.BaseEstimator` defined in skcgd.

    Examples
    --------
    >>> from skcgd.utils import all_estimators
    >>> all(isinstance(name, str) for name, _ in all_estimators())
    True
    """
    import skcgd

    found = {}
    for info in pkgutil.walk_packages(skcgd.__path__, prefix="skcgd."):
        parts = info.name.split(".")
        if any(part in _SKIP for part in parts) or parts[-1] == "__main__":
            continue
        module = importlib.import_module(info.name)
        for name, obj in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(obj, BaseEstimator)
                and obj.__module__.startswith("skcgd")
                and not name.startswith("_")
                and not inspect.isabstract(obj)
            ):
                found[name] = obj
    return sorted(found.items())
