"""Tests of skcgd.naive_bayes._model: the array side of GaussianNaiveBayes.

Oracles: ``np.unique`` for the label encoding; the two-pass numpy moments for the merge.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal

from skcgd.naive_bayes import GaussianNaiveBayes
from skcgd.naive_bayes._model import check_model_shapes, encode_labels, merge_moments

_INTEGER_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint64]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(_INTEGER_DTYPES).flatmap(
        lambda dtype: hnp.arrays(
            dtype, st.integers(1, 40), elements=hnp.from_dtype(np.dtype(dtype))
        )
    )
)
def test_encode_labels_is_np_unique(y):
    # any integer labels, their dtype's extremes included (int8 -128 and 127 overflowed)
    classes, index = encode_labels(y)
    ref_classes, ref_index = np.unique(y, return_inverse=True)
    assert classes.dtype == y.dtype
    assert_array_equal(classes, ref_classes)
    assert_array_equal(index, ref_index.reshape(-1))


@pytest.mark.parametrize("dtype", _INTEGER_DTYPES)
def test_encode_labels_at_the_ends_of_the_range(dtype):
    info = np.iinfo(dtype)
    y = np.array([info.max, info.min, info.max, info.min + 1], dtype=dtype)
    classes, index = encode_labels(y)
    assert_array_equal(classes, [info.min, info.min + 1, info.max])
    assert_array_equal(index, [2, 0, 2, 1])


def test_merge_moments_matches_two_pass_moments():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3)) * 10 + 100
    parts = (X[:20], X[20:])

    def moments(A):
        return (
            np.array([len(A)], float),
            A.mean(axis=0)[None],
            ((A - A.mean(axis=0)) ** 2).sum(0)[None],
        )

    count, mean, m2 = merge_moments(*moments(parts[0]), *moments(parts[1]))
    ref = moments(X)
    assert_allclose(count, ref[0])
    assert_allclose(mean, ref[1], rtol=1e-14)
    assert_allclose(m2, ref[2], rtol=1e-12)


def test_check_model_shapes_names_the_attribute_that_does_not_fit():
    X = np.random.default_rng(0).standard_normal((30, 4))
    y = np.arange(30) % 3
    for var_mode in ("class", "shared"):
        clf = GaussianNaiveBayes(var_mode).fit(X, y)
        check_model_shapes(clf, 4, "GaussianNaiveBayes")
        with pytest.raises(ValueError, match=r"X has 5 features.*theta_ has shape \(3, 4\)"):
            check_model_shapes(clf, 5, "GaussianNaiveBayes")
    clf.var_ = clf.var_[:2]
    with pytest.raises(ValueError, match=r"var_ has shape \(2, 4\), expected \(3, 4\)"):
        clf.predict(X)
