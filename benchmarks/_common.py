"""Timing helpers shared by the benchmark scripts (round-robin repeats, medians, machine info)."""

import os
import platform
import statistics
import time


def machine():
    """One line describing the machine and its load."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    try:
        import numba
        import numpy
        import scipy
        import sklearn

        versions = (
            f"numpy {numpy.__version__}, scipy {scipy.__version__}, "
            f"scikit-learn {sklearn.__version__}, numba {numba.__version__}"
        )
    except ImportError:  # pragma: no cover
        versions = ""
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {versions}; load average {load:.1f}"
    )


def round_robin(candidates, repeats):
    """Time each ``name -> callable`` ``repeats`` times, interleaved (A B C A B C ...).

    Interleaving spreads the noise of a shared machine over all candidates. Returns
    ``{name: (median seconds, best seconds, last return value)}``.
    """
    times = {name: [] for name in candidates}
    last = {}
    for _ in range(repeats):
        for name, fn in candidates.items():
            t0 = time.perf_counter()
            last[name] = fn()
            times[name].append(time.perf_counter() - t0)
    return {name: (statistics.median(ts), min(ts), last[name]) for name, ts in times.items()}
