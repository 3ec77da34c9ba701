"""GreedyEnsembleSelection against a direct transcription of Caruana et al. (2004)."""

import tracemalloc

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.metrics import mean_absolute_error, r2_score

from skcgd.ensemble import GreedyEnsembleSelection


def library(n=400, m=9, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    bias = rng.normal(scale=0.3, size=m)
    noise = rng.uniform(0.3, 1.5, size=m)
    P = y[:, None] + bias + rng.normal(size=(n, m)) * noise
    return P, y


def transcription(P, y, ensemble_size, n_init, replacement=True, loss=None):
    """Caruana's forward selection written the slow, obvious way."""
    if loss is None:

        def loss(t, p):
            return np.sqrt(np.mean((t - p) ** 2))

    m = P.shape[1]
    order = sorted(range(m), key=lambda j: (loss(y, P[:, j]), j))
    members = list(order[:n_init])
    while len(members) < ensemble_size:
        best, best_loss = None, np.inf
        for j in range(m):
            if not replacement and j in members:
                continue
            value = loss(y, P[:, members + [j]].mean(axis=1))
            if value < best_loss:
                best, best_loss = j, value
        if best is None:
            break
        members.append(best)
    counts = np.bincount(members, minlength=m)
    return counts / counts.sum(), members


@pytest.mark.parametrize("ensemble_size, n_init", [(25, 5), (40, 0), (10, 3), (3, 5)])
def test_weights_equal_the_transcription(ensemble_size, n_init):
    P, y = library()
    ges = GreedyEnsembleSelection(ensemble_size, n_init=n_init).fit(P, y)
    weights, members = transcription(P, y, ensemble_size, min(n_init, ensemble_size))
    assert_allclose(ges.weights_, weights)
    assert_array_equal(ges.indices_, members)
    assert_array_equal(ges.counts_, np.bincount(members, minlength=P.shape[1]))
    final = np.sqrt(np.mean((P @ ges.weights_ - y) ** 2))
    assert_allclose(ges.trajectory_[-1], final, rtol=1e-10)
    assert ges.trajectory_.shape == (len(members),)
    assert_allclose(ges.predict(P), P @ weights)


def test_fixed_case_by_hand():
    y = np.array([0.0, 1.0, 2.0, 3.0])
    P = np.column_stack([y + 1.0, y - 1.0, y + 0.5, 2 * y])
    ges = GreedyEnsembleSelection(ensemble_size=4, n_init=1).fit(P, y)
    # best single model: column 2 (off by 0.5); then column 1 cancels it best (mean off by
    # -0.25), then column 2 again (mean of 2, 1, 2: off by 0), then column 2 once more
    assert_array_equal(ges.indices_, [2, 1, 2, 2])
    assert_allclose(ges.weights_, [0.0, 0.25, 0.75, 0.0])


def test_without_replacement_and_callable_metric():
    P, y = library()
    ges = GreedyEnsembleSelection(30, n_init=2, replacement=False).fit(P, y)
    weights, members = transcription(P, y, 30, 2, replacement=False)
    assert len(members) == P.shape[1]  # stops when every model is in
    assert_allclose(ges.weights_, weights)
    mae = GreedyEnsembleSelection(20, metric="mae").fit(P, y)
    ref, _ = transcription(P, y, 20, 5, loss=mean_absolute_error)
    assert_allclose(mae.weights_, ref)
    custom = GreedyEnsembleSelection(20, metric=mean_absolute_error).fit(P, y)
    assert_allclose(custom.weights_, ref)
    r2 = GreedyEnsembleSelection(20, metric=lambda t, p: -r2_score(t, p)).fit(P, y)
    rmse = GreedyEnsembleSelection(20).fit(P, y)
    assert_allclose(r2.weights_, rmse.weights_)  # the same ranking of candidates


def test_bagging_averages_selections_on_random_subsets():
    P, y = library(m=12)
    a = GreedyEnsembleSelection(15, n_bags=8, bag_fraction=0.5, random_state=0).fit(P, y)
    b = GreedyEnsembleSelection(15, n_bags=8, bag_fraction=0.5, random_state=0).fit(P, y)
    assert_allclose(a.weights_, b.weights_)
    assert_allclose(a.weights_.sum(), 1.0)
    assert a.trajectory_.shape == (8, 15)
    rng = np.random.RandomState(0)
    expected = np.zeros(12)
    for _ in range(8):
        subset = rng.choice(12, size=6, replace=False)
        w, _ = transcription(P[:, subset], y, 15, 5)
        expected[subset] += w / 8
    assert_allclose(a.weights_, expected)


def test_bagging_is_bit_identical_for_any_n_jobs():
    P, y = library(m=12)
    fits = [
        GreedyEnsembleSelection(15, n_bags=6, random_state=0, n_jobs=n_jobs).fit(P, y)
        for n_jobs in (1, 2)
    ]
    assert_array_equal(fits[0].weights_, fits[1].weights_)
    assert_array_equal(fits[0].counts_, fits[1].counts_)
    assert_array_equal(fits[0].trajectory_, fits[1].trajectory_)
    # a callable metric goes through the Python path, also per bag
    mae = [
        GreedyEnsembleSelection(
            10, n_bags=4, random_state=1, n_jobs=n_jobs, metric=mean_absolute_error
        ).fit(P, y)
        for n_jobs in (1, 2)
    ]
    assert_array_equal(mae[0].weights_, mae[1].weights_)


def test_float32_is_kept_and_gives_the_selection_of_its_values():
    P, y = library()
    P32 = P.astype(np.float32)
    ges32 = GreedyEnsembleSelection(25).fit(P32, y)
    ges64 = GreedyEnsembleSelection(25).fit(P32.astype(np.float64), y)
    assert_array_equal(ges32.indices_, ges64.indices_)
    assert_allclose(ges32.trajectory_, ges64.trajectory_, rtol=1e-12)
    assert_allclose(ges32.predict(P32), P32.astype(np.float64) @ ges32.weights_, rtol=1e-12)
    no_repl = GreedyEnsembleSelection(30, n_init=2, replacement=False).fit(P32, y)
    weights, _ = transcription(P32.astype(np.float64), y, 30, 2, replacement=False)
    assert_allclose(no_repl.weights_, weights)


@pytest.mark.parametrize("params", [{}, {"n_bags": 3, "random_state": 0}, {"replacement": False}])
def test_fit_makes_no_copy_of_the_prediction_matrix(params):
    # a float64 copy of this float32 matrix would be 2.0x its size; the fit needs O(n) vectors
    rng = np.random.default_rng(0)
    y = rng.normal(size=100_000)
    P = (y[:, None] + rng.normal(size=(100_000, 40))).astype(np.float32)
    GreedyEnsembleSelection(5, **params).fit(P[:100], y[:100])  # compile outside the count
    tracemalloc.start()
    try:
        GreedyEnsembleSelection(10, **params).fit(P, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.4 * P.nbytes, f"fit allocated {peak / P.nbytes:.2f}x the matrix"


def test_sample_weight_equals_repetition():
    P, y = library()
    sw = np.random.default_rng(2).integers(0, 3, size=y.shape[0])
    weighted = GreedyEnsembleSelection(20).fit(P, y, sample_weight=sw)
    repeated = GreedyEnsembleSelection(20).fit(np.repeat(P, sw, axis=0), np.repeat(y, sw))
    assert_allclose(weighted.weights_, repeated.weights_)


def test_weights_are_a_convex_combination_that_beats_the_best_model():
    P, y = library()
    ges = GreedyEnsembleSelection().fit(P, y)
    assert np.all(ges.weights_ >= 0) and np.isclose(ges.weights_.sum(), 1.0)
    best = np.min(np.sqrt(np.mean((P - y[:, None]) ** 2, axis=0)))
    assert np.sqrt(np.mean((ges.predict(P) - y) ** 2)) < best


def test_bad_input():
    P, y = library()
    with pytest.raises(ValueError, match="ensemble_size"):
        GreedyEnsembleSelection(0).fit(P, y)
    with pytest.raises(ValueError, match="metric"):
        GreedyEnsembleSelection(metric="accuracy").fit(P, y)
    ges = GreedyEnsembleSelection().fit(P, y)
    with pytest.raises(ValueError, match="features"):
        ges.predict(P[:, :3])


def test_a_metric_returning_nan_is_a_named_error():
    # regression: NaN compares false with every loss, so argmin took it as the best and the
    # selection silently followed it
    P, y = library()

    def broken(y_true, y_pred):
        return np.nan if y_pred[0] > y_true[0] else float(np.mean((y_true - y_pred) ** 2))

    with pytest.raises(ValueError, match="metric returned NaN"):
        GreedyEnsembleSelection(10, metric=broken).fit(P, y)
