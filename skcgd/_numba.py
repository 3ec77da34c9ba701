"""The one place where skcgd compiles Numba kernels.

Every ``@njit`` function of skcgd is decorated with :func:`njit_kernel`, which

* compiles lazily with ``cache=True`` and ``nogil=True`` (so joblib's threading backend can run
  kernels concurrently, and a new process loads them from the disk cache instead of compiling);
* honours the environment variable ``SKCGD_NUMBA_CACHE`` (``0``/``false``/``off`` switches the
  disk cache off, e.g. on a read-only install or when hunting a stale cache);
* keeps the cache where Numba puts it (``NUMBA_CACHE_DIR``, else the package's ``__pycache__``,
  else the user's ``~/.cache/numba``); when none of these is writable (a read-only system or
  container install with no home directory) it uses a per-user directory of its own
  (:func:`fallback_cache_dir`), and only when that fails too does it compile in memory, with
  one warning (otherwise ``import`` itself would fail with "no locator available");
* recompiles, with one warning per cache directory, a kernel whose cache entry is damaged, and
  rewrites the entry (see :class:`_SelfHealingCache`);
* records the kernel so :func:`skcgd.utils.warm_up` and the tests can check that all of them
  compile;
* says when it compiles: the first compilation of a kernel in a process writes one line to
  stderr naming what is being compiled and where the result is cached (a warm cache prints
  nothing; ``SKCGD_COMPILE_NOTICE=0`` silences it), and every compilation is logged on the
  ``skcgd`` logger (DEBUG) with its duration; :func:`compile_stats` sums them.

Kernels must take arrays, scalars and tuples of arrays only (no jitclasses, no functions as
arguments): Numba never serves those from its disk cache, so every new process would pay the
compilation again.
"""

import logging
import os
import sys
import tempfile
import threading
import time
import warnings

import numba
from numba.core import config as _numba_config
from numba.core import event as _numba_event
from numba.core.caching import Cache

__all__ = [
    "CACHE_ENABLED",
    "compile_stats",
    "fallback_cache_dir",
    "njit_kernel",
    "registered_kernels",
]

logger = logging.getLogger("skcgd")


def _env_flag(name, default=True):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() not in {"0", "false", "no", "off", ""}


CACHE_ENABLED = _env_flag("SKCGD_NUMBA_CACHE", default=True)

_KERNELS = {}
_warned_no_cache = False
_fallback_dir = None  # the per-user directory, once it has been needed
_warned_damaged_dirs = set()


def _warn_damaged_cache(directory, kernel, exc):
    """Warn, once per cache directory and process, that an entry in it could not be used."""
    if directory in _warned_damaged_dirs:
        return
    _warned_damaged_dirs.add(directory)
    warnings.warn(
        f"skcgd found a damaged Numba cache entry for the kernel {kernel} in the cache "
        f"directory {directory} ({type(exc).__name__}: {exc}); the kernel is compiled again "
        "and its entry rewritten. If this recurs, delete that directory (or set "
        "SKCGD_NUMBA_CACHE=0).",
        RuntimeWarning,
        stacklevel=2,
    )


class _SelfHealingCache:
    """Mixin over Numba's per-function disk cache: a damaged entry is recompiled, not fatal;
    processes sharing the cache compile a kernel once between them.

    Numba (0.68) unpickles the index file (``<kernel>-<line>.pyXY.nbi``) and then the data file
    (``...<n>.nbc``) of a kernel when it first needs a signature in a process, and lets any
    error escape: a truncated file raises ``EOFError`` ("Ran out of input") or
    ``pickle.UnpicklingError`` ("pickle data was truncated"), garbage raises
    ``UnpicklingError`` ("invalid load key", "could not find MARK") or, if it happens to
    unpickle, whatever rebuilding the wrong object raises. Numba then never reaches its
    compiler, so every later call of that kernel fails, in every process, until the file is
    deleted by hand.

    Here any error while loading counts as a cache miss: one warning names the cache directory,
    a damaged index is replaced by an empty one (Numba's own ``flush``, an atomic rename), and
    Numba compiles the kernel and saves it, which rewrites the index entry or overwrites the
    damaged data file; the next process loads the repaired entry. If the entry cannot be
    repaired or saved, the kernel stays uncached in this process. Only Numba's compile path
    calls these methods (when a signature is not yet compiled in the process): a call of a
    compiled signature never reaches them.

    On a miss, the process takes an exclusive lock on the kernel's index (a ``.lock`` file
    beside it, POSIX ``flock``) and looks again before compiling; the lock is released once the
    entry is saved. Processes that need the same kernel at the same time (the workers of
    :func:`skcgd.utils.warm_up`, a cold ``GridSearchCV(n_jobs=2)``) thus compile it once, the
    others loading the saved entry, and no process overwrites another's index entry (Numba
    rewrites the whole index on every save). A lock not obtained within two minutes is
    skipped (the kernel is then compiled anyway).
    """

    def _load(self, sig, target_context):
        try:
            return super().load_overload(sig, target_context)
        except Exception as exc:  # anything a damaged file can unpickle into
            try:
                self._cache_file._load_index()
            except Exception:
                try:
                    self.flush()
                except Exception:
                    self.disable()
            # after the repair: with warnings turned into errors, the next call still works
            _warn_damaged_cache(self.cache_path, self._skcgd_kernel, exc)
            return None  # a miss: Numba compiles, then calls save_overload

    def load_overload(self, sig, target_context):
        data = self._load(sig, target_context)
        if data is not None:
            return data
        # a miss: another process may be compiling this kernel; wait for it, look again
        path = self._cache_file._index_path
        _lock(path)
        data = self._load(sig, target_context)
        if data is not None:
            _unlock(path)
        return data  # None: Numba compiles (under the lock) and calls save_overload

    def save_overload(self, sig, data):
        try:
            super().save_overload(sig, data)
        except Exception as exc:
            _warn_damaged_cache(self.cache_path, self._skcgd_kernel, exc)
            self.disable()
        finally:
            _unlock(self._cache_file._index_path)


try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: processes may compile a kernel twice
    fcntl = None

_LOCK_TIMEOUT = 120.0
_HELD_LOCKS = {}  # index path -> descriptor of the lock this process holds while it compiles


def _lock(index_path):
    """Take the cross-process lock of one kernel's cache index (blocking, with a timeout).

    Numba compiles under its global compiler lock, so one thread at a time gets here."""
    if fcntl is None or index_path in _HELD_LOCKS:
        return
    try:
        fd = os.open(index_path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return
    deadline = time.monotonic() + _LOCK_TIMEOUT
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                return
            time.sleep(0.02)
        except OSError:  # a file system without locks
            os.close(fd)
            return
    _HELD_LOCKS[index_path] = fd


def _unlock(index_path):
    fd = _HELD_LOCKS.pop(index_path, None)
    if fd is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


_SELF_HEALING_CLASSES = {}


def _make_self_healing(kernel, name):
    """Give ``kernel``'s disk cache (if it has one) the :class:`_SelfHealingCache` methods."""
    cache = getattr(kernel, "_cache", None)
    if not isinstance(cache, Cache):  # NullCache: caching is off
        return
    base = type(cache)
    cls = _SELF_HEALING_CLASSES.get(base)
    if cls is None:
        cls = type(f"SelfHealing{base.__name__}", (_SelfHealingCache, base), {})
        _SELF_HEALING_CLASSES[base] = cls
    cache.__class__ = cls
    cache._skcgd_kernel = name


# -- saying what is compiled ------------------------------------------------------------------
class _CompileListener(_numba_event.Listener):
    """Numba broadcasts ``numba:compile`` only when it compiles (a cache hit is silent): the
    first compilation of one of skcgd's kernels in a process prints the notice; each one is
    timed (nested compilations of helpers are counted, their time only once)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._stack = []
        self.count = 0
        self.seconds = 0.0
        self.noticed = False

    def on_start(self, event):
        dispatcher = event.data["dispatcher"]
        name = _NAMES.get(id(dispatcher))
        with self._lock:
            self._stack.append((name, time.perf_counter()))
            if name is None or self.noticed:
                return
            self.noticed = True
        if _env_flag("SKCGD_COMPILE_NOTICE", default=True):
            _write_notice(dispatcher, name, event.data["args"])

    def on_end(self, event):
        if getattr(event, "_exc_details", None) is not None:
            # the compilation failed: Numba will not save, so the index lock is released here
            cache = getattr(event.data["dispatcher"], "_cache", None)
            if isinstance(cache, Cache):
                _unlock(cache._cache_file._index_path)
        with self._lock:
            name, start = self._stack.pop()
            if name is None:
                return
            seconds = time.perf_counter() - start
            self.count += 1
            if not any(outer is not None for outer, _ in self._stack):
                self.seconds += seconds
        logger.debug("compiled %s%s in %.2f s", name, tuple(event.data["args"]), seconds)


def _caller():
    """What the user called that needs the kernel: the outermost method of a skcgd estimator
    on the stack (``MinimaxLogisticRegression.fit``), else the outermost skcgd method or
    function (``CGD.run``, ``conjugate_gradient``)."""
    frame = sys._getframe(1)
    estimator = other = None
    while frame is not None:
        module = frame.f_globals.get("__name__") or ""
        if module.startswith("skcgd.") and not module.startswith(
            ("skcgd._numba", "skcgd._kernels")
        ):
            code = frame.f_code
            owner = frame.f_locals.get("self") if code.co_argcount else None
            cls = type(owner)
            if (
                owner is not None
                and cls.__module__.startswith("skcgd.")
                and callable(getattr(cls, code.co_name, None))  # not a decorator's wrapper
            ):
                other = f"{cls.__name__}.{code.co_name}"
                if hasattr(owner, "get_params"):
                    estimator = other
            else:
                other = getattr(code, "co_qualname", code.co_name)
        frame = frame.f_back
    return estimator or other


def _where(dispatcher):
    cache = getattr(dispatcher, "_cache", None)
    if isinstance(cache, Cache):
        return f"they are cached in {cache.cache_path}, so this happens once per environment"
    if not CACHE_ENABLED:
        return "the disk cache is off (SKCGD_NUMBA_CACHE=0): every new process compiles again"
    return "no writable cache location was found: every new process compiles again"


def _write_notice(dispatcher, name, args):
    what = _caller() or name.rsplit(".", 1)[-1]
    message = (
        f"skcgd: compiling the Numba kernels of {what} (first use, a few seconds); "
        f"{_where(dispatcher)}.\n"
    )
    try:
        sys.stderr.write(message)
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):  # no usable stderr (pythonw, closed)
        pass


_LISTENER = _CompileListener()
_NAMES = {}  # id(dispatcher) -> qualified name, for the listener
_numba_event.register("numba:compile", _LISTENER)


def compile_stats():
    """``(count, seconds)``: skcgd kernel specialisations compiled in this process so far
    (helpers included) and the seconds spent compiling them (a cache load counts nothing)."""
    return _LISTENER.count, _LISTENER.seconds


# -- where the cache lives ---------------------------------------------------------------------
def _private_dir(path):
    """``path`` created if needed; True if it is a writable directory that only we control."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        if hasattr(os, "getuid"):
            st = os.stat(path)
            # a directory someone else owns or can write into could hold planted cache files
            # (Numba unpickles them): refuse it
            if st.st_uid != os.getuid() or st.st_mode & 0o022:
                return False
        tempfile.TemporaryFile(dir=path).close()
    except OSError:
        return False
    return True


def fallback_cache_dir():
    """The per-user directory used for Numba's cache when Numba itself finds none.

    ``$XDG_CACHE_HOME/skcgd/numba`` (``~/.cache/skcgd/numba``) if it can be created and
    written, else ``<temporary directory>/skcgd-<user>/numba`` (private to the user); None if
    neither works. Numba's own chain is tried first: ``NUMBA_CACHE_DIR``, the package's
    ``__pycache__``, ``~/.cache/numba``.
    """
    candidates = []
    home_cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if os.path.isabs(home_cache):
        candidates.append(os.path.join(home_cache, "skcgd", "numba"))
    user = str(os.getuid()) if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    candidates.append(os.path.join(tempfile.gettempdir(), f"skcgd-{user}", "numba"))
    for path in candidates:
        if _private_dir(os.path.dirname(path)) and _private_dir(path):
            return path
    return None


def _njit_in_fallback_dir(func, opts):
    """``numba.njit(**opts)(func)`` caching in :func:`fallback_cache_dir`, or None."""
    global _fallback_dir
    if _fallback_dir is None:
        _fallback_dir = fallback_cache_dir() or ""
    if not _fallback_dir:
        return None
    # Numba reads these settings when it builds the function's cache locator, i.e. here; a
    # custom list of locators (NUMBA_CACHE_LOCATOR_CLASSES, Numba >= 0.61) found nothing, so
    # the default list, whose first entry is the CACHE_DIR locator, is used meanwhile
    names = [n for n in ("CACHE_DIR", "CACHE_LOCATOR_CLASSES") if hasattr(_numba_config, n)]
    saved = {name: getattr(_numba_config, name) for name in names}
    _numba_config.CACHE_DIR = _fallback_dir
    if "CACHE_LOCATOR_CLASSES" in saved:
        _numba_config.CACHE_LOCATOR_CLASSES = ""
    try:
        return numba.njit(**opts)(func)
    except RuntimeError:
        return None
    finally:
        for name, value in saved.items():
            setattr(_numba_config, name, value)


def njit_kernel(func=None, **options):
    """Compile ``func`` with skcgd's Numba defaults (usable as ``@njit_kernel`` or with options).

    Parameters
    ----------
    func : callable, optional
        The Python function to compile.
    **options
        Extra keyword arguments for :func:`numba.njit`; they override the defaults
        ``cache=CACHE_ENABLED, nogil=True``. ``entry=False`` marks a helper that is only
        called from other kernels (it is compiled inside its callers, so :func:`warm_up`
        need not call it directly).

    Returns
    -------
    dispatcher : numba dispatcher
        The lazily compiled kernel.
    """
    if func is None:
        return lambda f: njit_kernel(f, **options)

    global _warned_no_cache
    entry = options.pop("entry", True)
    opts = {"cache": CACHE_ENABLED, "nogil": True}
    opts.update(options)
    name = f"{func.__module__}.{func.__qualname__}"
    try:
        kernel = numba.njit(**opts)(func)
    except RuntimeError as exc:
        # Numba raises RuntimeError("cannot cache function ...: no locator available") at
        # decoration time when neither __pycache__ nor the user cache directory is writable.
        if not opts.get("cache") or "cache" not in str(exc):
            raise
        kernel = _njit_in_fallback_dir(func, opts)
        if kernel is None:
            if not _warned_no_cache:
                warnings.warn(
                    "skcgd found no writable location for Numba's kernel cache "
                    f"({exc}); kernels will be compiled in every new process. Set "
                    "NUMBA_CACHE_DIR to a writable directory to keep them, or "
                    "SKCGD_NUMBA_CACHE=0 to silence this.",
                    RuntimeWarning,
                    stacklevel=2,
                )
                _warned_no_cache = True
            opts["cache"] = False
            kernel = numba.njit(**opts)(func)
    _make_self_healing(kernel, name)
    _KERNELS[name] = (kernel, entry)
    _NAMES[id(kernel)] = name
    return kernel


def registered_kernels(entry_points_only=False):
    """Return a dict ``{qualified name: dispatcher}`` of the kernels compiled through skcgd.

    Parameters
    ----------
    entry_points_only : bool, default=False
        Leave out helpers declared with ``entry=False`` (called only from other kernels).
    """
    return {
        name: kernel for name, (kernel, entry) in _KERNELS.items() if entry or not entry_points_only
    }
