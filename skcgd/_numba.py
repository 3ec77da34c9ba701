"""The one place where skcgd compiles Numba kernels.

Every ``@njit`` function of skcgd is decorated with :func:`njit_kernel`, which

* compiles lazily with ``cache=True`` and ``nogil=True`` (so joblib's threading backend can run
  kernels concurrently, and a new process loads them from the disk cache instead of compiling);
* honours the environment variable ``SKCGD_NUMBA_CACHE`` (``0``/``false``/``off`` switches the
  disk cache off, e.g. on a read-only install or when hunting a stale cache);
* falls back to an uncached kernel, with one warning, when Numba finds nowhere writable to keep
  its cache (otherwise ``import skcgd`` itself would fail with "no locator available");
* records the kernel so :func:`skcgd.utils.warm_up` and the tests can check that all of them
  compile.

Kernels must take arrays, scalars and tuples of arrays only (no jitclasses, no functions as
arguments): Numba never serves those from its disk cache, so every new process would pay the
compilation again.
"""

import os
import warnings

import numba

__all__ = ["njit_kernel", "registered_kernels", "CACHE_ENABLED"]


def _env_flag(name, default=True):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() not in {"0", "false", "no", "off", ""}


CACHE_ENABLED = _env_flag("SKCGD_NUMBA_CACHE", default=True)

_KERNELS = {}
_warned_no_cache = False


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
    _KERNELS[f"{func.__module__}.{func.__qualname__}"] = (kernel, entry)
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
