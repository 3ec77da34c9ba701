"""The first minute: what a fit compiles, what it says while compiling, where it caches.

Each test runs fresh Python processes with a cache directory of their own, so the counts and
messages are those of a new user's first fit (``benchmarks/bench_cold_start.py`` times them).
"""

import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import numba
import pytest

from skcgd.utils import all_estimators

# Specialisations of one fit and predict on float64 dense data, at most: entry kernels (what a
# new process compiles or loads from the cache) and, cold, all of them (helpers compiled inside
# the entries included). Measured: a change that compiles a kernel twice (a scalar typed
# differently, a read-only or Fortran-ordered X, int32 labels) or that reaches for kernels the
# fit does not need raises a count, and fails here.
MAX_SPECIALISATIONS = {  # name: (entry kernels, all when compiled from nothing)
    "GaussianNaiveBayes": (2, 3),
    "GreedyEnsembleSelection": (2, 2),
    "MinimaxLogisticRegression": (3, 5),
    "MinimaxLogisticRegressionCV": (4, 7),
    "RegularizedMetaClassifier": (3, 4),
    "RegularizedMetaLearner": (1, 6),
    "RidgeStackingClassifier": (4, 7),
    "RidgeStackingRegressor": (1, 6),
}

_CHILD = textwrap.dedent("""
    import json, sys
    import numpy as np
    from skcgd._numba import registered_kernels
    from skcgd._registry import estimator_specs
    from skcgd.utils import all_estimators

    name = sys.argv[1]
    cls, spec = dict(all_estimators())[name], estimator_specs()[name]
    rng = np.random.default_rng(0)
    X = rng.standard_normal((90, 4))
    t = X @ np.array([1.0, -1.0, 0.5, 0.0]) + 0.3 * rng.standard_normal(90)
    y = (t > 0).astype(np.int64) if spec.task == "classifier" else t


    def fit_predict(X, y):
        est = spec.build(cls)
        groups = {"groups": np.arange(len(y)) % 2} if spec.needs_groups(spec.base_params()) else {}
        est.fit(X, y, **groups)
        est.predict(X)
        if hasattr(est, "predict_proba"):
            est.predict_proba(X)


    def signatures():
        kernels = registered_kernels(entry_points_only=sys.argv[2] == "1")
        return {
            kernel: [str(sig) for sig in dispatcher.signatures]
            for kernel, dispatcher in kernels.items()
            if dispatcher.signatures
        }


    fit_predict(X, y)
    first = signatures()
    # the same data read-only (a joblib memory map), Fortran-ordered, with int32 labels
    frozen = X.copy()
    frozen.flags.writeable = False
    fit_predict(frozen, y)
    fit_predict(np.asfortranarray(X), y.astype(np.int32) if spec.task == "classifier" else y)
    print(json.dumps({"first": first, "again": signatures()}))
""")


def _env(cache_dir, **extra):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir), "OPENBLAS_NUM_THREADS": "1"}
    env.pop("SKCGD_NUMBA_CACHE", None)
    env.update(extra)
    return env


def _run(code, cache_dir, *args, **env):
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=_env(cache_dir, **env),
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out


def test_every_estimator_is_counted():
    assert sorted(MAX_SPECIALISATIONS) == sorted(name for name, _ in all_estimators())


def _count_specialisations(cache_dirs, entries_only):
    """``{estimator: {"first": {kernel: signatures}, "again": ...}}``, two processes at a
    time, each with the given cache directory (None: the test session's)."""
    names = sorted(MAX_SPECIALISATIONS)

    def count(name):
        env = {"SKCGD_COMPILE_NOTICE": "0"}
        if cache_dirs is not None:
            env["NUMBA_CACHE_DIR"] = str(cache_dirs / name)
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, name, "1" if entries_only else "0"],
            capture_output=True,
            text=True,
            env={**os.environ, "OPENBLAS_NUM_THREADS": "1", **env},
            timeout=600,
        )
        assert out.returncode == 0, out.stderr[-3000:]
        return name, json.loads(out.stdout.strip().splitlines()[-1])

    with ThreadPoolExecutor(2) as pool:
        return dict(pool.map(count, names))


def _check_counts(results, bound):
    totals = {name: sum(map(len, r["first"].values())) for name, r in results.items()}
    for name, result in results.items():
        twice = {k: sigs for k, sigs in result["first"].items() if len(sigs) > 1}
        assert not twice, f"{name}: kernels compiled more than once: {twice}"
        assert totals[name] <= MAX_SPECIALISATIONS[name][bound], (name, totals, result["first"])
        new = {
            kernel: sorted(set(sigs) - set(result["first"].get(kernel, ())))
            for kernel, sigs in result["again"].items()
        }
        new = {kernel: sigs for kernel, sigs in new.items() if sigs}
        assert not new, f"{name}: read-only / Fortran / int32 input compiled again: {new}"


def test_a_fit_needs_each_entry_kernel_once():
    """In a new process (the session's cache, warm or cold): one specialisation per entry
    kernel, a bounded number in all, and none more for the same data read-only,
    Fortran-ordered or with other integer labels."""
    _check_counts(_count_specialisations(None, entries_only=True), bound=0)


@pytest.mark.slow  # every estimator compiled from nothing (~25 s on two cores)
def test_a_first_fit_compiles_each_kernel_once(tmp_path):
    """The same from an empty cache, counting the helpers compiled inside the entries."""
    _check_counts(_count_specialisations(tmp_path, entries_only=False), bound=1)


_NOTICE = textwrap.dedent("""
    import numpy as np
    from skcgd.naive_bayes import GaussianNaiveBayes

    X = np.random.default_rng(0).standard_normal((20, 3))
    y = np.arange(20) % 2
    GaussianNaiveBayes().fit(X, y).predict_proba(X)  # three kernels
""")


def test_the_first_compilation_says_so_once(tmp_path):
    cold = _run(_NOTICE, tmp_path).stderr
    lines = [line for line in cold.splitlines() if line.startswith("skcgd: compiling")]
    assert len(lines) == 1, cold
    assert "GaussianNaiveBayes.fit" in lines[0]
    assert str(tmp_path) in lines[0] and "once per environment" in lines[0]
    warm = _run(_NOTICE, tmp_path).stderr
    assert "skcgd: compiling" not in warm, warm


@pytest.mark.skipif(
    not hasattr(numba.core.config, "CACHE_LOCATOR_CLASSES"),
    reason="NUMBA_CACHE_LOCATOR_CLASSES needs Numba >= 0.61",
)
def test_no_writable_cache_location_falls_back_to_a_per_user_directory(tmp_path):
    """As in a read-only install without a writable home: Numba finds no cache location (its
    only locator here serves IPython cells); skcgd caches in the user's cache directory."""
    env = {
        "NUMBA_CACHE_DIR": "",
        "NUMBA_CACHE_LOCATOR_CLASSES": "IPythonCacheLocator",
        "XDG_CACHE_HOME": str(tmp_path / "xdg"),
    }
    first = _run(_NOTICE, tmp_path, **env).stderr
    expected = tmp_path / "xdg" / "skcgd" / "numba"
    assert f"cached in {expected}" in first, first
    assert "RuntimeWarning" not in first and expected.is_dir()
    second = _run(_NOTICE, tmp_path, **env).stderr
    assert "skcgd: compiling" not in second, second  # loaded from there


def test_warm_up_command_reports_and_draws_progress(capsys):
    from skcgd.__main__ import main

    assert main(["warm-up", "--jobs", "1", "--progress"]) == 0
    captured = capsys.readouterr()
    assert "compiled and cached in" in captured.out
    assert "skcgd warm-up" in captured.err and "done in" in captured.err
    with pytest.raises(SystemExit):
        main(["warm-up", "--jobs", "0"])


@pytest.mark.slow  # compiles every kernel from nothing (~20 s on two cores)
def test_parallel_warm_up_compiles_each_kernel_once(tmp_path):
    code = textwrap.dedent("""
        import json
        from skcgd import _numba
        from skcgd.utils import warm_up
        from skcgd.utils import _warmup

        results = []
        workers = _warmup._compile_in_workers


        def recording(names, n):
            for result in workers(names, n):
                results.append(result)
                yield result


        _warmup._compile_in_workers = recording
        warm_up(n_jobs=2)
        first = [r[2] for r in results], _numba.compile_stats()[0]
        results.clear()
        warm_up(n_jobs=2)  # the marker: no workers, everything loaded here
        print(json.dumps({"workers": first[0], "here": first[1], "again": len(results)}))
    """)
    out = _run(code, tmp_path, SKCGD_COMPILE_NOTICE="0")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["here"] == 0  # the parent only loaded
    assert result["again"] == 0  # second call: no workers
    # shared by the workers through the cache's locks: every specialisation compiled once
    # (one saved entry each; a second compilation would overwrite an entry, not add one)
    assert sum(result["workers"]) == len(list(tmp_path.rglob("*.nbc"))) > 0
    assert list(tmp_path.rglob("skcgd-warm-up-*.done"))
