"""The synthetic generators of skcgd.datasets.

The oracles are the inline generators the demo, tests and examples used before skcgd.datasets
existed, copied here verbatim: each generator must give their data bit for bit for the same
seed, so that every number those call sites print or assert stays the same.
"""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import make_blobs, make_classification

from skcgd.datasets import (
    flip_labels,
    make_group_shift,
    make_label_noise,
    make_naive_bayes_simulation,
)


def assert_identical(actual, expected):
    """Same values, shape and dtype, bit for bit."""
    assert_array_equal(actual, expected, strict=True)


# -- the old inline code (the oracles) --------------------------------------------------------
def _group_shift_demo(seed, n_major, n_minor):
    """skcgd/__main__.py ``_group_shift``; also examples/linear_model/plot_minimax_logistic_shift.py
    and plot_tuning_rho.py ``minority_task`` (the same lines)."""
    rng = np.random.default_rng(seed)
    Xa = rng.standard_normal((n_major, 2))
    ya = (Xa[:, 0] + 0.3 * rng.standard_normal(n_major) > 0).astype(int)
    Xb = rng.standard_normal((n_minor, 2))
    yb = (Xb[:, 1] + 0.3 * rng.standard_normal(n_minor) > 0).astype(int)
    X = np.vstack([Xa, Xb])
    g = np.r_[np.zeros(n_major, int), np.ones(n_minor, int)]
    return np.column_stack([X, g, X[:, 1] * g]), np.r_[ya, yb], g


def _minority_task_test(seed, n_major=900, n_minor=100):
    """tests/linear_model/test_minimax_logistic.py ``_minority_task``."""
    rng = np.random.default_rng(seed)
    Xa = rng.standard_normal((n_major, 2))
    ya = (Xa[:, 0] + 0.3 * rng.standard_normal(n_major) > 0).astype(int)
    Xb = rng.standard_normal((n_minor, 2)) + np.array([0.0, 0.0])
    yb = (Xb[:, 1] + 0.3 * rng.standard_normal(n_minor) > 0).astype(int)
    X = np.vstack([Xa, Xb])
    g = np.r_[np.zeros(n_major, int), np.ones(n_minor, int)]
    X = np.column_stack([X, g, X[:, 1] * g])
    return X, np.r_[ya, yb], g


def _label_noise_split(seed):
    """tests/linear_model/test_minimax_logistic.py ``test_label_noise_costs_little_clean_accuracy``
    and examples/linear_model/plot_minimax_logistic_shift.py (20% flipped labels)."""
    X, y = make_classification(n_samples=3000, n_features=20, n_informative=5, random_state=seed)
    Xt, yt = X[2000:], y[2000:]
    X, y = X[:2000], y[:2000].copy()
    rng = np.random.default_rng(seed)
    flip = rng.random(len(y)) < 0.2
    y[flip] = 1 - y[flip]
    return X, y, Xt, yt


def _noisy_blobs(seed):
    """examples/linear_model/plot_minimax_logistic_shift.py, first section."""
    rng = np.random.default_rng(seed)
    X2, y2 = make_blobs(
        n_samples=300, centers=[[-1.2, -0.6], [1.2, 0.6]], cluster_std=1.0, random_state=seed
    )
    flipped = rng.random(len(y2)) < 0.2
    y2_noisy = np.where(flipped, 1 - y2, y2)
    return y2, y2_noisy, flipped


def _seed_mixture(n_samples, n_features, n_classes, rng):
    """examples/naive_bayes/plot_two_regimes.py ``seed_mixture`` and
    tests/naive_bayes/test_gaussian.py ``_seed_mixture`` (the same lines)."""
    y = rng.integers(0, n_classes, n_samples)
    means = np.array([-1.0] + [2.0 ** (k - 1) for k in range(1, n_classes)])
    std = np.sqrt(
        np.r_[np.full(n_features // 2, float(n_features)), np.ones(n_features - n_features // 2)]
    )
    X = means[y][:, None] + rng.standard_normal((n_samples, n_features)) * std
    if n_classes > 2:
        shift = 2.0 ** (n_classes - 3)
        X = (X - shift) / shift
    return X, y


# -- bit for bit with the old code -----------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 3, 4, 12345])
@pytest.mark.parametrize("n_major, n_minor", [(900, 100), (9000, 1000), (45, 5)])
def test_group_shift_is_the_old_inline_generator(seed, n_major, n_minor):
    n = n_major + n_minor
    got = make_group_shift(n, minority_fraction=n_minor / n, return_groups=True, random_state=seed)
    for oracle in (
        _group_shift_demo(seed, n_major, n_minor),
        _minority_task_test(seed, n_major, n_minor),
    ):
        for actual, expected in zip(got, oracle):
            assert_identical(actual, expected)


def test_group_shift_call_sites_of_the_demo_examples_and_test():
    # the exact calls that replace _group_shift / minority_task / _minority_task
    for seed in (0, 3):
        train = make_group_shift(1000, return_groups=True, random_state=seed)
        test = make_group_shift(10_000, return_groups=True, random_state=seed + 1)
        for actual, expected in zip(
            train + test,
            _group_shift_demo(seed, 900, 100) + _group_shift_demo(seed + 1, 9000, 1000),
        ):
            assert_identical(actual, expected)


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_label_noise_is_the_old_inline_split(seed):
    X_old, y_old, Xt_old, yt_old = _label_noise_split(seed)
    X, y, y_clean = make_label_noise(
        3000, n_informative=5, noise_rate=0.2, return_clean=True, random_state=seed
    )
    assert_identical(X[:2000], X_old)
    assert_identical(y[:2000], y_old)
    assert_identical(X[2000:], Xt_old)
    assert_identical(y_clean[2000:], yt_old)
    # X and the clean labels are make_classification's, the flips only change y
    X_ref, y_ref = make_classification(3000, 20, n_informative=5, random_state=seed)
    assert_identical(X, X_ref)
    assert_identical(y_clean, y_ref)


@pytest.mark.parametrize("seed", [0, 2])
def test_flip_labels_is_the_old_inline_flip(seed):
    y2, y2_noisy_old, flipped_old = _noisy_blobs(seed)
    y2_noisy = flip_labels(y2, noise_rate=0.2, random_state=seed)
    assert_identical(y2_noisy, y2_noisy_old)
    assert_identical(y2_noisy != y2, flipped_old)


@pytest.mark.parametrize("seed", [0, 4])
@pytest.mark.parametrize("n_classes", [2, 3, 5, 7])
def test_naive_bayes_simulation_is_the_old_inline_mixture(seed, n_classes):
    # as the example and the test draw it: the pool, then the test set, from one stream
    d = 100
    rng_old = np.random.default_rng(seed)
    old = _seed_mixture(3000, d, n_classes, rng_old) + _seed_mixture(5000, d, n_classes, rng_old)
    rng = np.random.default_rng(seed)
    new = make_naive_bayes_simulation(3000, d, n_classes, random_state=rng)
    new += make_naive_bayes_simulation(5000, d, n_classes, random_state=rng)
    for actual, expected in zip(new, old):
        assert_identical(actual, expected)
    # the stream is left where the old code left it
    assert rng.random() == rng_old.random()


def test_naive_bayes_simulation_matches_the_test_suite_sizes():
    d = 100
    rng_old, rng = np.random.default_rng(3), np.random.default_rng(3)
    old = _seed_mixture(100 * d, d, 2, rng_old) + _seed_mixture(10_000, d, 2, rng_old)
    new = make_naive_bayes_simulation(100 * d, d, 2, random_state=rng)
    new += make_naive_bayes_simulation(10_000, d, 2, random_state=rng)
    for actual, expected in zip(new, old):
        assert_identical(actual, expected)


# -- shapes, dtypes, determinism --------------------------------------------------------------
@pytest.mark.parametrize(
    "make, kwargs, n_features",
    [
        (make_group_shift, {"n_samples": 50}, 4),
        (make_group_shift, {"n_samples": 50, "group_features": False}, 2),
        (make_label_noise, {"n_samples": 50, "n_features": 6, "n_informative": 3}, 6),
        (make_naive_bayes_simulation, {"n_samples": 50, "n_features": 7, "n_classes": 3}, 7),
    ],
)
def test_shapes_dtypes_and_determinism(make, kwargs, n_features):
    X, y = make(**kwargs, random_state=0)
    assert X.shape == (50, n_features) and X.dtype == np.float64
    assert y.shape == (50,) and y.dtype == np.int64
    assert np.all(np.isfinite(X))
    # an int fixes the data
    X2, y2 = make(**kwargs, random_state=0)
    assert_identical(X2, X)
    assert_identical(y2, y)
    # another seed changes it
    assert not np.array_equal(make(**kwargs, random_state=1)[0], X)
    # a Generator is used in place: two calls continue one stream
    rng = np.random.default_rng(0)
    first, second = make(**kwargs, random_state=rng)[0], make(**kwargs, random_state=rng)[0]
    assert not np.array_equal(first, second)
    # a legacy RandomState (scikit-learn's check_random_state) gives reproducible data
    a = make(**kwargs, random_state=np.random.RandomState(5))[0]
    b = make(**kwargs, random_state=np.random.RandomState(5))[0]
    assert_identical(a, b)
    # None: fresh entropy every call
    assert not np.array_equal(make(**kwargs)[0], make(**kwargs)[0])


def test_generators_accept_every_seed_kind_default_rng_accepts():
    for seed in (np.int64(3), [3, 1], np.random.SeedSequence(3), np.random.PCG64(3)):
        X, y = make_group_shift(20, random_state=seed)
        assert X.shape == (20, 4)
    assert_identical(
        make_group_shift(20, random_state=np.int64(3))[0], make_group_shift(20, random_state=3)[0]
    )


# -- the models the docstrings state ----------------------------------------------------------
@pytest.mark.parametrize(
    "n_samples, fraction, n_minor",
    [
        (1000, 0.1, 100),
        (10_000, 0.1, 1000),
        (10, 0.25, 3),
        (7, 0.5, 4),
        (2, 0.5, 1),
        (3, 0.6, 2),
    ],
)
def test_group_shift_group_sizes(n_samples, fraction, n_minor):
    X, y, g = make_group_shift(
        n_samples, minority_fraction=fraction, return_groups=True, random_state=0
    )
    assert_identical(np.bincount(g, minlength=2), np.array([n_samples - n_minor, n_minor]))
    # majority first, then minority
    assert np.all(np.diff(g) >= 0)
    assert_identical(X[:, 2], g.astype(float))
    assert_identical(X[:, 3], X[:, 1] * g)


def test_group_shift_labels_follow_their_group_feature():
    X, y, g = make_group_shift(
        2000, minority_fraction=0.3, noise=0.0, return_groups=True, random_state=1
    )
    major, minor = g == 0, g == 1
    assert_identical(y[major], (X[major, 0] > 0).astype(np.int64))
    assert_identical(y[minor], (X[minor, 1] > 0).astype(np.int64))
    # with noise, the rule holds on most samples only; noise is drawn after the features
    Xn, yn, _ = make_group_shift(
        2000, minority_fraction=0.3, noise=0.3, return_groups=True, random_state=1
    )
    assert_identical(Xn, X)
    agree = np.mean(yn[major] == (X[major, 0] > 0))
    assert 0.85 < agree < 1.0


def test_group_features_false_drops_the_two_indicator_columns():
    full = make_group_shift(100, random_state=2)
    plain = make_group_shift(100, group_features=False, random_state=2)
    assert_identical(plain[0], full[0][:, :2])
    assert_identical(plain[1], full[1])


def test_flip_labels_binary_multiclass_and_strings():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 20_000)
    y_noisy = flip_labels(y, noise_rate=0.3, random_state=0)
    flipped = y_noisy != y
    assert abs(flipped.mean() - 0.3) < 0.01
    # a flipped label is another class, each of the others about equally often
    offsets = (y_noisy[flipped] - y[flipped]) % 4
    assert set(np.unique(offsets)) == {1, 2, 3}
    assert np.all(np.abs(np.bincount(offsets)[1:] / flipped.sum() - 1 / 3) < 0.02)
    # the flip mask is the same uniform draws as in the binary case
    assert_identical(flipped, np.random.default_rng(0).random(20_000) < 0.3)

    words = np.array(["cat", "dog", "cat", "bird"])
    noisy = flip_labels(words, noise_rate=1.0, random_state=0)
    assert noisy.dtype == words.dtype and np.all(noisy != words)
    assert set(noisy) <= set(words)

    y_bin = np.array([-1, 1, 1, -1, 1])
    original = y_bin.copy()
    assert_identical(flip_labels(y_bin, noise_rate=1.0), -y_bin)
    assert_identical(flip_labels(y_bin, noise_rate=0.0), y_bin)
    assert_identical(y_bin, original)  # not modified


def test_label_noise_rate_and_classes():
    X, y, y_clean = make_label_noise(
        20_000, n_classes=3, n_informative=4, noise_rate=0.25, return_clean=True, random_state=0
    )
    assert abs(np.mean(y != y_clean) - 0.25) < 0.01
    assert set(np.unique(y)) == {0, 1, 2}
    assert_identical(
        make_label_noise(100, noise_rate=0.0, return_clean=True, random_state=0)[1],
        make_classification(100, random_state=0)[1],
    )


def test_naive_bayes_simulation_moments():
    d = 10
    X, y = make_naive_bayes_simulation(40_000, d, 2, random_state=0)
    assert abs(np.mean(y) - 0.5) < 0.01
    # class means -1 and 1; variances d on the first half of the features, 1 on the rest
    np.testing.assert_allclose(X[y == 0].mean(axis=0), -1.0, atol=0.1)
    np.testing.assert_allclose(X[y == 1].mean(axis=0), 1.0, atol=0.1)
    var = np.var(X[y == 0], axis=0)
    np.testing.assert_allclose(var[: d // 2], d, rtol=0.05)
    np.testing.assert_allclose(var[d // 2 :], 1.0, rtol=0.05)
    # K = 4: means -1, 1, 2, 4, then (x - 2) / 2
    X, y = make_naive_bayes_simulation(40_000, d, 4, random_state=0)
    means = np.array([X[y == k, d // 2 :].mean() for k in range(4)])
    np.testing.assert_allclose(means, (np.array([-1.0, 1.0, 2.0, 4.0]) - 2.0) / 2.0, atol=0.02)


# -- parameter errors -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make, kwargs, error, match",
    [
        (make_group_shift, {"n_samples": -1}, ValueError, "n_samples must be an integer >= 2"),
        (make_group_shift, {"n_samples": 1}, ValueError, "n_samples must be an integer >= 2"),
        (make_group_shift, {"n_samples": 10.0}, TypeError, "n_samples must be an integer"),
        (make_group_shift, {"n_samples": True}, TypeError, "n_samples must be an integer"),
        (make_group_shift, {"minority_fraction": 0}, ValueError, r"minority_fraction .* \(0, 1\)"),
        (make_group_shift, {"minority_fraction": 1.0}, ValueError, "minority_fraction"),
        (make_group_shift, {"minority_fraction": 1.5}, ValueError, "minority_fraction"),
        (make_group_shift, {"minority_fraction": np.nan}, ValueError, "minority_fraction"),
        (make_group_shift, {"minority_fraction": "0.1"}, ValueError, "minority_fraction"),
        (
            make_group_shift,
            {"n_samples": 10, "minority_fraction": 0.01},
            ValueError,
            "leaves the minority group empty",
        ),
        (
            make_group_shift,
            {"n_samples": 10, "minority_fraction": 0.99},
            ValueError,
            "leaves the majority group empty",
        ),
        (
            make_group_shift,
            {"noise": -0.1},
            ValueError,
            "noise must be a non-negative finite number",
        ),
        (make_group_shift, {"noise": np.inf}, ValueError, "noise"),
        (make_group_shift, {"random_state": -1}, ValueError, "random_state must be an int >= 0"),
        (make_group_shift, {"random_state": 1.5}, TypeError, "random_state must be None"),
        (make_group_shift, {"random_state": "0"}, TypeError, "random_state must be None"),
        (make_group_shift, {"random_state": True}, TypeError, "random_state"),
        (make_label_noise, {"n_samples": 0}, ValueError, "n_samples must be an integer >= 1"),
        (make_label_noise, {"n_classes": 1}, ValueError, "n_classes must be an integer >= 2"),
        (make_label_noise, {"noise_rate": -0.1}, ValueError, r"noise_rate .* \[0, 1\]"),
        (make_label_noise, {"noise_rate": 1.1}, ValueError, "noise_rate"),
        (make_label_noise, {"random_state": -3}, ValueError, "random_state must be an int >= 0"),
        (make_label_noise, {"n_informative": 30}, ValueError, "informative"),
        (make_naive_bayes_simulation, {"n_samples": -5}, ValueError, "n_samples"),
        (make_naive_bayes_simulation, {"n_features": 0}, ValueError, "n_features"),
        (make_naive_bayes_simulation, {"n_classes": 1}, ValueError, "n_classes"),
        (make_naive_bayes_simulation, {"n_classes": 2.0}, TypeError, "n_classes"),
    ],
)
def test_bad_parameters_are_refused_by_name(make, kwargs, error, match):
    with pytest.raises(error, match=match):
        make(**kwargs)


@pytest.mark.parametrize(
    "y, kwargs, match",
    [
        (np.zeros(5), {}, "at least two classes"),
        (np.zeros((5, 2)), {}, "one-dimensional"),
        (np.array([0, 1]), {"noise_rate": 2.0}, "noise_rate"),
        (np.array([0, 1]), {"noise_rate": np.nan}, "noise_rate"),
    ],
)
def test_flip_labels_refuses_bad_input(y, kwargs, match):
    with pytest.raises(ValueError, match=match):
        flip_labels(y, **kwargs)
