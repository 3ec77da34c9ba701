"""The Numba wrapper: cache switch, fallback when caching is impossible, registry."""

import subprocess
import sys
import textwrap

import numba
import pytest

import skcgd._numba as wrapper


def test_kernels_cache_and_nogil_by_default():
    from skcgd._kernels import cg  # noqa: F401

    kernels = wrapper.registered_kernels()
    assert "skcgd._kernels.cg._cg_solve" in kernels
    for kernel in kernels.values():
        assert kernel.targetoptions.get("nogil") is True
        if wrapper.CACHE_ENABLED:
            assert type(kernel._cache).__name__ != "NullCache"


def test_environment_switch_turns_the_cache_off():
    code = textwrap.dedent("""
        import skcgd._kernels.cg as cg
        print(type(cg._cg_solve._cache).__name__)
    """)
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "SKCGD_NUMBA_CACHE": "0"},
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
