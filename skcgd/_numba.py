"""The one place where skcgd compiles Numba kernels.

Every ``@njit`` function of skcgd is decorated with :func:`njit_kernel`, which

* compiles lazily with ``cache=True`` and ``nogil=True`` (so joblib's threading backend can run
  kernels concurrently, and a new process loads them from the disk cache instead of compiling);
* honours the environment variable ``SKCGD_NUMBA_CACHE`` (``0``/``false``/``off`` switches the
  disk cache off, e.g. on a read-only install or when hunting a stale cache);
* falls back to an uncached kernel, with one warning, when Numba finds nowhere writable to keep
  its cache (otherwise ``import skcgd`` itself would fail with "no locator available");
* recompiles, with one warning per cache directory, a kernel whose cache entry is damaged, and
  rewrites the entry (see :class:`_SelfHealingCache`);
* records the kernel so :func:`skcgd.utils.warm_up` and the tests can check that all of them
  compile.

Kernels must take arrays, scalars and tuples of arrays only (no jitclasses, no functions as
arguments): Numba never serves those from its disk cache, so every new process would pay the
compilation again.
"""

import os
import warnings

import numba
from numba.core.caching import Cache

__all__ = ["njit_kernel", "registered_kernels", "CACHE_ENABLED"]


def _env_flag(name, default=True):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() not in {"0", "false", "no", "off", ""}


CACHE_ENABLED = _env_flag("SKCGD_NUMBA_CACHE", default=True)

_KERNELS = {}
_warned_no_cache = False
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
    """Mixin over Numba's per-function disk cache: a damaged entry is recompiled, not fatal.

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
    """

    def load_overload(self, sig, target_context):
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

    def save_overload(self, sig, data):
        try:
            super().save_overload(sig, data)
        except Exception as exc:
            _warn_damaged_cache(self.cache_path, self._skcgd_kernel, exc)
            self.disable()


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
        if not _warned_no_cache:
            warnings.warn(
                "skcgd found no writable location for Numba's kernel cache "
                f"({exc}); kernels will be compiled in every new process. Set NUMBA_CACHE_DIR "
                "to a writable directory to keep them, or SKCGD_NUMBA_CACHE=0 to silence this.",
                RuntimeWarning,
                stacklevel=2,
            )
            _warned_no_cache = True
        opts["cache"] = False
        kernel = numba.njit(**opts)(func)
    _make_self_healing(kernel, name)
    _KERNELS[name] = (kernel, entry)
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
