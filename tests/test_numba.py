"""The Numba wrapper: cache switch, fallbacks when caching is impossible or the cache is
damaged, registry."""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import numba
import numpy as np
import pytest

import skcgd._numba as wrapper


def test_kernels_cache_and_nogil_by_default():
    from skcgd._kernels import cg  # noqa: F401

    kernels = wrapper.registered_kernels()
    assert "skcgd._kernels.cg._cg_solve_dense" in kernels
    for kernel in kernels.values():
        assert kernel.targetoptions.get("nogil") is True
        if wrapper.CACHE_ENABLED:
            assert type(kernel._cache).__name__ != "NullCache"


def test_environment_switch_turns_the_cache_off():
    code = textwrap.dedent("""
        import skcgd._kernels.cg as cg
        print(type(cg._cg_solve_dense._cache).__name__)
    """)
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "SKCGD_NUMBA_CACHE": "0"},
        check=True,
    )
    assert out.stdout.strip() == "NullCache"


def test_fallback_when_no_cache_location(monkeypatch):
    real_njit = numba.njit

    def njit_without_locator(*args, **options):
        if options.get("cache"):

            def fail(func):
                raise RuntimeError(
                    f"cannot cache function {func.__name__!r}: no locator "
                    "available for file '/read-only/module.py'"
                )

            return fail
        return real_njit(**options)

    monkeypatch.setattr(wrapper.numba, "njit", njit_without_locator)
    monkeypatch.setattr(wrapper, "_fallback_dir", "")  # no per-user directory either
    monkeypatch.setattr(wrapper, "_warned_no_cache", False)
    monkeypatch.setattr(wrapper, "CACHE_ENABLED", True)
    monkeypatch.setattr(wrapper, "_KERNELS", {})  # keep the test's kernel out of the registry

    def twice(x):
        return 2 * x

    with pytest.warns(RuntimeWarning, match="no writable location for Numba's kernel cache"):
        kernel = wrapper.njit_kernel(twice)
    assert kernel(21) == 42
    # other errors are not swallowed
    monkeypatch.setattr(
        wrapper.numba, "njit", lambda *a, **o: (_ for _ in ()).throw(RuntimeError("unrelated"))
    )
    with pytest.raises(RuntimeError, match="unrelated"):
        wrapper.njit_kernel(twice)


def test_fallback_to_a_per_user_cache_directory(monkeypatch, tmp_path):
    """Numba finds no cache location (read-only package, no writable home): the kernel is
    cached in the user's skcgd cache directory, and Numba's settings are left as they were."""
    import warnings

    real_njit = numba.njit

    def njit_locating_only_cache_dir(*args, **options):
        if options.get("cache") and not numba.core.config.CACHE_DIR:

            def fail(func):
                raise RuntimeError(
                    f"cannot cache function {func.__name__!r}: no locator available "
                    "for file '/read-only/module.py'"
                )

            return fail
        return real_njit(*args, **options)

    monkeypatch.setattr(wrapper.numba, "njit", njit_locating_only_cache_dir)
    monkeypatch.setattr(numba.core.config, "CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(wrapper, "_fallback_dir", None)
    monkeypatch.setattr(wrapper, "CACHE_ENABLED", True)
    monkeypatch.setattr(wrapper, "_KERNELS", {})

    def twice(x):
        return 2 * x

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "compiled in every process" warning
        kernel = wrapper.njit_kernel(twice)
    assert kernel(21) == 42
    assert kernel._cache.cache_path.startswith(str(tmp_path / "skcgd" / "numba"))
    assert numba.core.config.CACHE_DIR == ""
    assert wrapper.fallback_cache_dir() == str(tmp_path / "skcgd" / "numba")


# -- a damaged disk cache ----------------------------------------------------------------------
_KERNEL_SOURCE = textwrap.dedent("""
    from skcgd._numba import njit_kernel


    @njit_kernel
    def twice(x):
        return 2 * x
""")

# Calls the kernel for two signatures (two data files), records the warnings raised by the
# calls and prints what happened as JSON.
_CALLER = textwrap.dedent("""
    import json, sys, warnings

    sys.path.insert(0, sys.argv[1])
    from damaged_pkg.kern import twice

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = [twice(21), twice(1.5)]
    print(json.dumps({
        "results": results,
        "warnings": [f"{w.category.__name__}: {w.message}" for w in caught],
        "hits": sum(twice.stats.cache_hits.values()),
        "misses": sum(twice.stats.cache_misses.values()),
    }))
""")


def _call_kernel(package_root, cache_dir):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir), "SKCGD_NUMBA_CACHE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", _CALLER, str(package_root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def cached_kernel(tmp_path_factory):
    """A package with one cached kernel, and a cache directory holding its two signatures."""
    root = tmp_path_factory.mktemp("kernel_package")
    (root / "damaged_pkg").mkdir()
    (root / "damaged_pkg" / "__init__.py").write_text("")
    (root / "damaged_pkg" / "kern.py").write_text(_KERNEL_SOURCE)
    pristine = tmp_path_factory.mktemp("pristine_cache")
    first = _call_kernel(root, pristine)
    assert first["results"] == [42, 3.0] and first["misses"] == 2 and first["warnings"] == []
    return root, pristine


def _damage(path, how):
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    else:  # garbage of the same length
        path.write_bytes(np.random.default_rng(0).bytes(len(data)))


@pytest.mark.parametrize("how", ["truncated", "empty", "garbage"])
@pytest.mark.parametrize("suffix", [".nbi", ".nbc"], ids=["index", "data"])
def test_damaged_cache_is_recompiled_with_one_warning(cached_kernel, tmp_path, suffix, how):
    root, pristine = cached_kernel
    cache_dir = tmp_path / "numba_cache"
    shutil.copytree(pristine, cache_dir)
    damaged = sorted(cache_dir.rglob(f"*{suffix}"))
    assert len(damaged) == (1 if suffix == ".nbi" else 2)
    for path in damaged:
        _damage(path, how)

    repaired = _call_kernel(root, cache_dir)
    assert repaired["results"] == [42, 3.0]
    assert len(repaired["warnings"]) == 1, repaired["warnings"]
    message = repaired["warnings"][0]
    assert message.startswith("RuntimeWarning: skcgd found a damaged Numba cache entry")
    assert str(damaged[0].parent) in message  # the directory to delete if it recurs
    assert repaired["misses"] == 2

    # the entry was rewritten: the next process loads it, silently
    again = _call_kernel(root, cache_dir)
    assert again["results"] == [42, 3.0]
    assert again["warnings"] == []
    assert again["hits"] == 2 and again["misses"] == 0


def test_damaged_cache_fallback_is_off_the_call_path():
    """The fallback hooks Numba's cache, which only its compiler reaches: the kernel is still
    Numba's own dispatcher (its C dispatch serves compiled signatures), not a Python wrapper."""
    from numba.core.registry import CPUDispatcher

    from skcgd._kernels import cg  # noqa: F401

    for name, kernel in wrapper.registered_kernels().items():
        assert type(kernel) is CPUDispatcher, name
        if wrapper.CACHE_ENABLED:
            assert isinstance(kernel._cache, wrapper._SelfHealingCache), name
