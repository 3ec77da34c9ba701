"""GaussianNaiveBayes on Dask arrays and dataframes (issue 11).

Oracle: the in-memory fit (or partial_fit) of the same estimator on the same data, computed
before entering the scheduler. Tolerances: the float64 moments and the float64 attributes
1e-12 relative (the chunks' moments are merged in another order than the in-memory kernel's
blocks, so they agree to rounding, not bit for bit); float32 attributes, rounded from those
float64 moments, to one float32 ulp (rtol 2**-23); probabilities 1e-10 absolute and
log-likelihoods 1e-10 relative, as in tests/naive_bayes; predicted labels exactly.

Every test runs under the threaded scheduler and on the session's LocalCluster
(``scheduler`` fixture, conftest.py).
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import DataConversionWarning

from skcgd.naive_bayes import GaussianNaiveBayes

da = pytest.importorskip("dask.array")

RTOL_MOMENTS = 1e-12
RTOL_FLOAT32 = 2.0**-23
ATOL_PROBA = 1e-10
RTOL_LOGLIK = 1e-10

# uneven chunkings of 300 rows, one with a one-row chunk, one with an empty chunk
CHUNKINGS = [(100, 100, 100), (1, 49, 150, 37, 63), (120, 0, 180)]
ATTRIBUTES = ("class_count_", "class_prior_", "theta_", "var_", "epsilon_")
MOMENTS = ("_class_count", "_class_mean", "_class_m2")


def _data(n=300, d=5, k=3, seed=0):
    """Offset, unequally scaled classes (means far from 0: relative errors are meaningful)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    scale = np.logspace(-1, 1, d)
    X = 3.0 + rng.standard_normal((k, d))[y] + rng.standard_normal((n, d)) * scale
    weight = rng.uniform(0.0, 2.0, n)
    return X, y, weight


def _dask(a, chunks):
    return da.from_array(a, chunks=(chunks,) + a.shape[1:])


def _assert_same_model(got, ref):
    """The attributes of a Dask fit equal those of the in-memory fit (see the tolerances)."""
    assert_array_equal(got.classes_, ref.classes_)
    assert got.classes_.dtype == ref.classes_.dtype
    assert got.n_features_in_ == ref.n_features_in_
    for name in MOMENTS:
        assert_allclose(getattr(got, name), getattr(ref, name), rtol=RTOL_MOMENTS, err_msg=name)
    for name in ATTRIBUTES + (("coef_", "intercept_") if ref.var_mode == "shared" else ()):
        value, expected = getattr(got, name), getattr(ref, name)
        assert np.asarray(value).dtype == np.asarray(expected).dtype, name
        rtol = RTOL_FLOAT32 if np.asarray(expected).dtype == np.float32 else RTOL_MOMENTS
        if name in ("coef_", "intercept_"):  # differences of rounded attributes
            rtol = max(rtol, 1e-10) if rtol == RTOL_MOMENTS else 1e-5
        assert_allclose(value, expected, rtol=rtol, err_msg=name)


# ---------------------------------------------------------------------------------- fit


@pytest.mark.parametrize("var_mode", ["class", "shared"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fit_equals_in_memory_fit(scheduler, var_mode, dtype):
    X, y, w = _data()
    X = X.astype(dtype)
    cases = [  # (chunks, weights, priors)
        (CHUNKINGS[0], None, None),
        (CHUNKINGS[1], w, None),
        (CHUNKINGS[2], w, [0.2, 0.3, 0.5]),
    ]
    refs = [GaussianNaiveBayes(var_mode, priors=p).fit(X, y, sw) for _, sw, p in cases]
    with scheduler():
        for (chunks, sw, priors), ref in zip(cases, refs, strict=True):
            # weights as a Dask array with chunks of its own: re-chunked to X's
            weights = None if sw is None else da.from_array(sw, chunks=70)
            got = GaussianNaiveBayes(var_mode, priors=priors).fit(
                _dask(X, chunks), _dask(y, chunks), sample_weight=weights
            )
            _assert_same_model(got, ref)
            assert got.dask_stats_["passes"] == 1  # the class list comes with the moments
            assert not hasattr(got, "feature_names_in_")


def test_fit_with_string_labels_in_memory_companions_and_scalar_weight(scheduler):
    X, y, _ = _data()
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    ref = GaussianNaiveBayes().fit(X, labels, sample_weight=2.5)
    with scheduler():
        got = GaussianNaiveBayes().fit(_dask(X, CHUNKINGS[1]), labels, sample_weight=2.5)
    _assert_same_model(got, ref)
    # X in memory, y on the cluster: y comes back (X is here already), an in-memory fit
    with scheduler():
        got = GaussianNaiveBayes().fit(X, _dask(labels, 70), sample_weight=2.5)
    _assert_same_model(got, ref)
    assert not hasattr(got, "dask_stats_")


def test_dataframe_input_records_feature_names(scheduler):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    X, y, w = _data()
    columns = [f"f{j}" for j in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=columns)
    ref = GaussianNaiveBayes("shared").fit(frame, pd.Series(y), sample_weight=w)
    with scheduler():
        X_dd = dd.from_pandas(frame, npartitions=3)
        y_dd = dd.from_pandas(pd.Series(y), npartitions=3)
        got = GaussianNaiveBayes("shared").fit(X_dd, y_dd, sample_weight=w)
        _assert_same_model(got, ref)
        assert_array_equal(got.feature_names_in_, ref.feature_names_in_)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no "X does not have valid feature names"
            proba = got.predict_proba(X_dd)
            assert isinstance(proba, da.Array)
            assert_allclose(proba.compute(), ref.predict_proba(frame), atol=ATOL_PROBA)
        renamed = dd.from_pandas(frame.rename(columns={"f0": "other"}), npartitions=3)
        with pytest.raises(ValueError, match="feature names should match"):
            got.predict(renamed)
    # an in-memory fit afterwards drops what the Dask fit recorded
    got.fit(X, y)
    assert not hasattr(got, "feature_names_in_") and not hasattr(got, "dask_stats_")


# --------------------------------------------------------------------------- partial_fit


@pytest.mark.parametrize("var_mode", ["class", "shared"])
def test_partial_fit_over_dask_arrays_equals_in_memory(scheduler, var_mode):
    X, y, w = _data(n=450)
    parts = [slice(0, 100), slice(100, 101), slice(101, 450)]
    # the first batch holds no sample of class 2: declared classes keep it at zero weight
    y[parts[0]] = y[parts[0]] % 2
    ref = GaussianNaiveBayes(var_mode)
    for s in parts:
        ref.partial_fit(X[s], y[s], classes=[0, 1, 2], sample_weight=w[s])
    with scheduler():
        got = GaussianNaiveBayes(var_mode)
        for s, chunks in zip(parts, [(60, 40), (1,), (1, 100, 248)], strict=True):
            got.partial_fit(
                _dask(X[s], chunks), _dask(y[s], chunks), classes=[0, 1, 2],
                sample_weight=_dask(w[s], chunks),
            )  # fmt: skip
            assert got.dask_stats_["passes"] == 1  # this call's passes
    _assert_same_model(got, ref)
    # and the model of one fit on all of it
    _assert_same_model(got, GaussianNaiveBayes(var_mode).fit(X, y, w))
    # an in-memory batch after Dask ones: merged the same way, counter dropped
    got.partial_fit(X[:50], y[:50])
    ref.partial_fit(X[:50], y[:50])
    _assert_same_model(got, ref)
    assert not hasattr(got, "dask_stats_")


def test_partial_fit_on_dask_after_in_memory_fit(scheduler):
    X, y, _ = _data()
    ref = GaussianNaiveBayes().fit(X[:200], y[:200]).partial_fit(X[200:], y[200:])
    with scheduler():
        got = GaussianNaiveBayes().fit(X[:200], y[:200])
        got.partial_fit(_dask(X[200:], (30, 70)), _dask(y[200:], (30, 70)))
        with pytest.raises(ValueError, match="X has 4 features, but GaussianNaiveBayes is"):
            got.partial_fit(_dask(X[:, :4], 100), _dask(y, 100))
    _assert_same_model(got, ref)


# ---------------------------------------------------------------------------- prediction


@pytest.mark.parametrize("var_mode", ["class", "shared"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_predictions_are_lazy_dask_arrays_equal_to_in_memory(scheduler, var_mode, dtype):
    X, y, _ = _data()
    X = X.astype(dtype)
    y2 = np.where(y == 2, 1, y)  # two classes: decision_function is 1-D
    fitted = [GaussianNaiveBayes(var_mode).fit(X, labels) for labels in (y, y2)]
    methods = ["predict", "predict_proba", "predict_log_proba", "predict_joint_log_proba"]
    if var_mode == "shared":
        methods.append("decision_function")
    X_dask = _dask(X, CHUNKINGS[2])  # an empty chunk too
    with scheduler():
        for clf in fitted:
            for method in methods:
                out = getattr(clf, method)(X_dask)
                expected = getattr(clf, method)(X)
                assert isinstance(out, da.Array), method
                assert out.shape == expected.shape and out.dtype == expected.dtype, method
                assert out.chunks[0] == X_dask.chunks[0], method
                got = out.compute()
                if method == "predict":
                    assert_array_equal(got, expected)
                elif method == "predict_proba":
                    assert_allclose(got, expected, atol=ATOL_PROBA)
                else:
                    rtol = RTOL_LOGLIK if dtype == np.float64 else 1e-6
                    assert_allclose(got, expected, rtol=rtol, atol=ATOL_PROBA, err_msg=method)


# -------------------------------------------------------------------------------- errors


def _assert_unchanged(clf, before):
    assert set(vars(clf)) == set(before)
    for name, value in before.items():
        assert getattr(clf, name) is value, name


def test_errors_are_the_in_memory_ones_and_leave_the_estimator(scheduler):
    X, y, w = _data()
    chunks = (100, 100, 100)
    clf = GaussianNaiveBayes().fit(X, y)
    before = dict(vars(clf))
    X_nan, X_inf, w_neg = X.copy(), X.copy(), w.copy()
    X_nan[250, 2] = np.nan  # in the last chunk only
    X_inf[5, 0] = np.inf
    w_neg[150] = -1.0
    with scheduler():
        Xd, yd = _dask(X, chunks), _dask(y, chunks)
        cases = [
            ((_dask(X_nan, chunks), yd), {}, ValueError, "Input X contains NaN"),
            ((_dask(X_inf, chunks), yd), {}, ValueError, "Input X contains infinity"),
            ((Xd, yd), {"sample_weight": _dask(w_neg, chunks)}, ValueError,
             "sample_weight has negative values"),
            ((Xd, yd), {"sample_weight": np.zeros(300)}, ValueError, "sample_weight sums to zero"),
            ((Xd, _dask(np.zeros(300, int), chunks)), {}, ValueError, "at least 2 classes"),
            ((Xd, _dask(y[:-1], 100)), {}, ValueError, "y has 299 rows but X has 300"),
            ((Xd[Xd[:, 0] > -1e9], yd), {}, ValueError, "unknown chunk sizes"),
            ((Xd, _dask(y + 0.5, chunks)), {}, ValueError, "Unknown label type: continuous"),
            ((Xd, _dask(y.reshape(-1, 1).repeat(2, 1), chunks)), {}, ValueError,
             r"y should be a 1d array, got an array of shape \(300, 2\)"),
            ((Xd.map_blocks(sp.csr_matrix), yd), {}, TypeError, "does not accept sparse input"),
            ((Xd, None), {}, ValueError, "requires y to be passed"),
        ]  # fmt: skip
        for args, kwargs, error, message in cases:
            with pytest.raises(error, match=message):
                clf.fit(*args, **kwargs)
            _assert_unchanged(clf, before)
        # labels checked on the chunk as on all of y in memory: one chunk mixes types
        mixed = np.array(["b" if i < 280 else ("a", 1)[i % 2] for i in range(300)], dtype=object)
        with pytest.raises(ValueError, match="y mixes values of different types"):
            clf.fit(Xd, _dask(mixed, chunks))
        with pytest.raises(ValueError, match=r"labels \[7\] that are not among"):
            clf.partial_fit(Xd, _dask(np.where(np.arange(300) == 280, 7, y), chunks))
        _assert_unchanged(clf, before)
        with pytest.warns(DataConversionWarning, match="column-vector y"):
            clf.fit(Xd, _dask(y.reshape(-1, 1), chunks))
        with pytest.raises(TypeError, match="does not accept sparse input"):
            clf.predict(Xd.map_blocks(sp.csr_matrix))
