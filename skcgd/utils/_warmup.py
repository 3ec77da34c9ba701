"""Compile every Numba kernel of skcgd on tiny inputs."""

import importlib
import pkgutil
import time

import numpy as np
import scipy.sparse as sp

__all__ = ["warm_up"]

# subpackages that provide a private ``_warm_up()`` for their own kernels
_PROVIDERS = ("skcgd.games._logistic", "skcgd.naive_bayes", "skcgd.linear_model", "skcgd.ensemble")


def _warm_up_solvers():
    from skcgd.games import BilinearGame
    from skcgd.solvers import CGD, RowGramOperator, conjugate_gradient

    rng = np.random.default_rng(0)
    A = np.eye(3) + 0.1
    b = np.ones(3)
    conjugate_gradient(A, b)
    conjugate_gradient(sp.csr_matrix(A), b)
    for dtype in (np.float64, np.float32):
        X = rng.standard_normal((5, 3)).astype(dtype)
        for Xin in (X, sp.csr_matrix(X)):
            for K in (1, 2):
                op = RowGramOperator(Xin, np.ones((5, K)), hy=1.0, dx=1.0, fit_intercept=True)
                conjugate_gradient(op, np.ones(op.shape[0]))
                op.matvec(np.ones(op.shape[0]))
    CGD(eta=1.0, max_iter=2, tol=0, linear_solver="cg").run(BilinearGame(A), b, b)


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
    t0 = time.perf_counter()
    _warm_up_solvers()
    timings["solvers"] = time.perf_counter() - t0
    for name in _PROVIDERS:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        hook = getattr(module, "_warm_up", None)
        if hook is not None:
            t0 = time.perf_counter()
            hook()
            timings[name] = time.perf_counter() - t0
    if verbose:
        for part, seconds in timings.items():
            print(f"warm_up: {part:28s} {seconds:7.2f} s")
    return timings
