"""warm_up compiles every kernel; all_estimators finds the public estimators."""

import numpy as np

import skcgd._numba
from skcgd.utils import all_estimators, warm_up


def test_warm_up_compiles_every_registered_kernel():
    timings = warm_up()
    # every subpackage with kernels registered its own warm-up (no hard-coded list)
    for part in (
        "kernels",
        "skcgd._linalg",
        "skcgd.games",
        "skcgd.linear_model",
        "skcgd.naive_bayes",
        "skcgd.ensemble",
    ):
        assert any(name.startswith(part) for name in timings), (part, sorted(timings))
    kernels = skcgd._numba.registered_kernels(entry_points_only=True)
    assert kernels
    not_compiled = [name for name, k in kernels.items() if not k.signatures]
    assert not not_compiled, f"warm_up left kernels uncompiled: {not_compiled}"


def test_all_estimators_are_public_sklearn_estimators():
    from sklearn.base import BaseEstimator

    for name, cls in all_estimators():
        assert not name.startswith("_")
        assert issubclass(cls, BaseEstimator)
        assert cls.__module__.startswith("skcgd.")


def test_demo_prints_the_table(capsys):
    from skcgd.__main__ import main

    assert main(["games", "--size", "20", "--max-iter", "300"]) == 0
    out = capsys.readouterr().out
    for name in ("CGD", "GDA", "ExtraGradient", "OptimisticGDA"):
        assert name in out
    cgd_line = next(line for line in out.splitlines() if line.startswith("CGD "))
    assert "converged" in cgd_line
    assert np.isfinite(float(cgd_line.split()[3]))
