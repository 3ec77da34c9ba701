"""Compile every Numba kernel of skcgd on tiny inputs: in worker processes, one per core,
that share the disk cache, then load them in the calling process."""

import hashlib
import importlib
import os
import pkgutil
import sys
import time

from skcgd._registry import warm_up_hooks

__all__ = ["warm_up"]


def warm_up(verbose=False, *, n_jobs=None, progress=None):
    """Compile every Numba kernel of skcgd now, on tiny problems, and load them here.

    The first call of a kernel in a fresh environment compiles it (about half a second to two
    seconds each on a small machine); later processes load it from Numba's disk cache. Call
    this before timing anything, and in the parent process before spawning parallel workers
    so that they only load from the cache.

    The subpackages' warm-ups (see :mod:`skcgd._registry`) run first in ``n_jobs`` worker
    processes (joblib's loky backend: spawned, never forked) that compile into the shared
    disk cache, a kernel wanted by two of them being compiled once; then they run here, where
    every kernel is a cache hit. Once a full warm-up has succeeded for the current kernels,
    Numba and Python, later calls skip the workers.

    Parameters
    ----------
    verbose : bool, default=False
        Print the time spent per part.
    n_jobs : int, default=None
        Worker processes that compile in parallel; ``None``: one per available core. With 1,
        or without a disk cache (``SKCGD_NUMBA_CACHE=0``, nowhere writable), everything is
        compiled in this process.
    progress : bool, default=None
        Show a progress bar on stderr (parts done, kernels compiled, elapsed and estimated
        remaining seconds); ``None``: only when stderr is a terminal.

    Returns
    -------
    timings : dict
        Seconds spent per part (compilation, in the workers and here, or cache loading).

    Examples
    --------
    >>> from skcgd.utils import warm_up
    >>> timings = warm_up()
    >>> sorted(timings)[0]
    'kernels'
    """
    from skcgd import _numba

    t_start = time.perf_counter()
    # the caller asked for the compilation: no "compiling on first use" notice (the progress
    # bar, when shown, says what happens)
    noticed, _numba._LISTENER.noticed = _numba._LISTENER.noticed, True
    try:
        return _warm_up(verbose, n_jobs, progress, t_start)
    finally:
        _numba._LISTENER.noticed = noticed


def _warm_up(verbose, n_jobs, progress, t_start):
    import skcgd._kernels
    from skcgd import _numba

    timings = {}
    t0 = time.perf_counter()
    for info in pkgutil.iter_modules(skcgd._kernels.__path__):
        importlib.import_module(f"skcgd._kernels.{info.name}")
    timings["kernels"] = time.perf_counter() - t0
    # every subpackage registers the warm-up of its own kernels (skcgd._registry)
    hooks = warm_up_hooks()
    show = _show_progress(progress)
    marker = _marker_path(hooks)
    n_workers = _n_workers(n_jobs, len(hooks))
    cached = marker is not None and os.path.exists(marker)
    in_workers = n_workers > 1 and marker is not None and not cached
    bar = _Progress(len(hooks), enabled=show, label="loading" if cached else "compiling")
    if in_workers:
        for name, seconds, compiled in _compile_in_workers(list(hooks), n_workers):
            part = _part(name)
            timings[part] = timings.get(part, 0.0) + seconds
            bar.advance(compiled)
        bar.phase("loading")
    for name, hook in hooks.items():
        t0 = time.perf_counter()
        before = _numba.compile_stats()[0]
        hook()
        part = _part(name)
        timings[part] = timings.get(part, 0.0) + time.perf_counter() - t0
        bar.advance(_numba.compile_stats()[0] - before)
    bar.close(time.perf_counter() - t_start)
    if marker is not None:
        _write_marker(marker)
    if verbose:
        for part, seconds in timings.items():
            print(f"warm_up: {part:28s} {seconds:7.2f} s")
    return timings


def _part(hook_name):
    """The part a hook's time is reported under: its module (``skcgd.ensemble``)."""
    return hook_name.rsplit("._warm_up", 1)[0]


def _n_workers(n_jobs, n_tasks):
    import multiprocessing

    if n_jobs is None:
        try:
            n_jobs = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            n_jobs = os.cpu_count() or 1
    n_jobs = int(n_jobs)
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be None or an integer >= 1, got {n_jobs}.")
    # a daemonic process (a multiprocessing or Dask worker) may not start processes
    if multiprocessing.current_process().daemon:
        return 1
    return min(n_jobs, n_tasks)


def _compile_in_workers(names, n_workers):
    """Run the named hooks in ``n_workers`` loky processes; yield ``(name, seconds,
    specialisations compiled)`` as they finish."""
    from joblib import Parallel, delayed

    options = {"n_jobs": n_workers, "backend": "loky", "batch_size": 1}
    try:  # joblib >= 1.4: results as they come, for the progress bar
        parallel = Parallel(return_as="generator_unordered", **options)
    except (TypeError, ValueError):
        parallel = Parallel(**options)
    yield from parallel(delayed(_run_hook)(name) for name in names)


def _run_hook(name):
    """In a worker: run one registered warm-up, quietly (the parent reports progress)."""
    from threadpoolctl import threadpool_limits

    from skcgd import _numba

    noticed, _numba._LISTENER.noticed = _numba._LISTENER.noticed, True
    try:
        before = _numba.compile_stats()[0]
        t0 = time.perf_counter()
        with threadpool_limits(limits=1):  # tiny problems: threads would only contend
            warm_up_hooks()[name]()
        return name, time.perf_counter() - t0, _numba.compile_stats()[0] - before
    finally:
        _numba._LISTENER.noticed = noticed


# -- "done" marker: skip the workers once the cache holds everything -------------------------
def _marker_path(hooks):
    """Where a full warm-up records that the cache holds every kernel; None without a cache.

    The name hashes what Numba's cache index depends on (the kernel files, Numba's and
    Python's versions, the CPU) and the warm-ups themselves, so any change starts a new one.
    """
    from numba.core.caching import Cache

    from skcgd import _numba

    caches = [k._cache for k in _numba.registered_kernels().values()]
    caches = [c for c in caches if isinstance(c, Cache)]
    if not caches:
        return None
    import llvmlite.binding
    import numba

    digest = hashlib.sha256()
    files = {c._impl.locator._py_file for c in caches}
    files |= {sys.modules[hook.__module__].__file__ for hook in hooks.values()}
    for path in sorted(files):
        try:
            with open(path, "rb") as f:
                digest.update(hashlib.sha256(f.read()).digest())
        except OSError:
            return None
    digest.update(numba.__version__.encode())
    digest.update(sys.version.encode())
    digest.update(llvmlite.binding.get_host_cpu_name().encode())
    return os.path.join(caches[0].cache_path, f"skcgd-warm-up-{digest.hexdigest()[:16]}.done")


def _write_marker(path):
    try:
        with open(path, "w") as f:
            f.write("skcgd.utils.warm_up() completed with this cache.\n")
    except OSError:
        pass


# -- progress bar -------------------------------------------------------------------------------
def _show_progress(progress):
    if progress is not None:
        return bool(progress)
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class _Progress:
    """One line on stderr, rewritten in place: parts done, kernels compiled, time."""

    width = 24

    def __init__(self, total, enabled, label):
        self.total = total
        self.enabled = enabled
        self.done = 0
        self.compiled = 0
        self.label = label
        self.t0 = time.perf_counter()
        self._draw()

    def phase(self, label):
        self.label = label
        self.done = 0
        self._draw()

    def advance(self, compiled):
        self.done += 1
        self.compiled += compiled
        self._draw()

    def _draw(self):
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.t0
        filled = int(self.width * self.done / max(self.total, 1))
        left = ""
        if 0 < self.done < self.total:
            left = f", ~{elapsed / self.done * (self.total - self.done):.0f} s left"
        line = (
            f"\rskcgd warm-up: {self.label} [{'#' * filled}{'.' * (self.width - filled)}] "
            f"{self.done}/{self.total} parts, {self.compiled} kernels compiled, "
            f"{elapsed:.0f} s elapsed{left}"
        )
        sys.stderr.write(line.ljust(110))
        sys.stderr.flush()

    def close(self, seconds):
        if not self.enabled:
            return
        sys.stderr.write(
            f"\rskcgd warm-up: done in {seconds:.1f} s, {self.compiled} kernel specialisations "
            "compiled".ljust(110)
            + "\n"
        )
        sys.stderr.flush()
