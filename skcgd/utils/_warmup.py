"""Compile every Numba kernel of skcgd on tiny inputs."""

import importlib
import pkgutil
import time

from skcgd._registry import warm_up_hooks

__all__ = ["warm_up"]


def warm_up(verbose=False):
    """Compile every Numba kernel of skcgd now, on tiny problems.

    The first call of a kernel in a fresh environment compiles it (a few seconds each on a
    small machine); later processes load it from Numba's disk cache. Call this before timing
    anything, and in the parent process before spawning parallel workers so that they only
    load from the cache.

    Parameters
    ----------
    verbose : bool, default=False
        Print the time spent per part.

    Returns
    -------
    timings : dict
        Seconds spent per part (compilation or cache loading).

    Examples
    --------
    >>> from skcgd.utils import warm_up
    >>> timings = warm_up()
    >>> sorted(timings)[0]
    'kernels'
    """
    import skcgd._kernels

    timings = {}
    t0 = time.perf_counter()
    for info in pkgutil.iter_modules(skcgd._kernels.__path__):
        importlib.import_module(f"skcgd._kernels.{info.name}")
    timings["kernels"] = time.perf_counter() - t0
    # every subpackage registers the warm-up of its own kernels (skcgd._registry)
    for name, hook in warm_up_hooks().items():
        t0 = time.perf_counter()
        hook()
        timings[name.rsplit("._warm_up", 1)[0]] = time.perf_counter() - t0
    if verbose:
        for part, seconds in timings.items():
            print(f"warm_up: {part:28s} {seconds:7.2f} s")
    return timings
