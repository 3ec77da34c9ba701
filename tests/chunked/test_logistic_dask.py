"""MinimaxLogisticRegression on Dask arrays: the in-memory fit, without gathering X.

Oracle: the in-memory fit of the same estimator on the same data (itself checked against
L-BFGS, cvxpy and scikit-learn elsewhere). The Dask fit runs the same Newton iterations on
sums over chunks, so both agree to rounding: coefficients within 1e-8 relative at
``tol=1e-10`` (at the default tol each fit is only as accurate as the tolerance certifies,
about 1e-6 for some problems, and the two may stop at slightly different points).
"""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

from skcgd._chunked._logistic import supported_adversaries  # noqa: E402
from skcgd.linear_model import MinimaxLogisticRegression  # noqa: E402

RTOL = 1e-8


def _data(kind, n=600, p=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    margin = X[:, 0] - 0.7 * X[:, 1] + 0.5 * rng.standard_normal(n)
    if kind == "multinomial":
        y = np.digitize(margin, [-0.6, 0.6])
    else:
        y = (margin > 0).astype(int)
    if kind == "csr":
        X[np.abs(X) < 0.8] = 0.0
        X = sp.csr_matrix(X)
    if kind == "float32":
        X = X.astype(np.float32)
    s = rng.uniform(0.0, 2.0, n)
    s[:7] = 0.0  # samples outside the adversary's support
    groups = rng.integers(0, 3, n)
    return X, y, s, groups


def _to_dask(X, rows=(150, 1, 249, 200)):
    chunks = (rows, (X.shape[1],))
    if sp.issparse(X):
        return da.from_array(X, chunks=chunks, asarray=False)
    return da.from_array(X, chunks=chunks)


def _assert_same_fit(est, ref):
    scale = np.abs(ref.coef_).max()
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=0, atol=RTOL * scale)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, rtol=0, atol=RTOL * scale)
    assert est.coef_.dtype == ref.coef_.dtype
    np.testing.assert_array_equal(est.classes_, ref.classes_)
    w_ref = ref.adversary_weights_
    w = est.adversary_weights_
    if w_ref is None:
        assert w is None
    else:
        w = w.compute() if hasattr(w, "compute") else w
        # the weights follow the coefficients (a 1e-8 change moves exp(l / tau) by as much)
        np.testing.assert_allclose(w, w_ref, rtol=0, atol=1e-7 * np.abs(w_ref).max())


def _fit_both(adversary, X, y, s, groups, scheduler=None, rho=1.0, **params):
    kwargs = {"groups": groups} if adversary == "group" else {}
    ref = MinimaxLogisticRegression(adversary, rho=rho, tol=1e-10, **params)
    ref.fit(X, y, sample_weight=s, **kwargs)
    rows = (150, 1, 249, 200)
    dkwargs = {"groups": da.from_array(groups, chunks=200)} if adversary == "group" else {}
    est = MinimaxLogisticRegression(adversary, rho=rho, tol=1e-10, **params)
    with scheduler() if scheduler else dask.config.set(scheduler="threads"):
        est.fit(_to_dask(X, rows), da.from_array(y, chunks=300), sample_weight=s, **dkwargs)
    return est, ref


def test_supported_adversaries():
    assert supported_adversaries() == ("chi2", "group", "kl", "none", "parametric")


@pytest.mark.parametrize("adversary", ["none", "kl", "chi2", "group"])
@pytest.mark.parametrize("kind", ["binary", "multinomial", "csr", "float32"])
def test_equals_in_memory_threads(adversary, kind):
    X, y, s, groups = _data(kind)
    est, ref = _fit_both(adversary, X, y, s, groups)
    _assert_same_fit(est, ref)
    assert est.n_iter_[0] == ref.n_iter_[0]
    stats = est.dask_stats_
    # only Newton's vectors and Hessians came back: (K q)^2 numbers at most per pass
    n_x = ref.coef_.size + ref.intercept_.size
    assert stats["max_bytes_per_pass"] <= 8 * (n_x * n_x + 8 * n_x + 64)
    assert not hasattr(ref, "dask_stats_")


@pytest.mark.parametrize("adversary", ["none", "kl", "chi2", "group"])
def test_equals_in_memory_on_a_cluster(adversary, scheduler):
    # sparse chunks, three classes, sample weights and groups: the hardest input, once per
    # scheduler (threads and a LocalCluster of two worker processes)
    X, y, s, groups = _data("csr", seed=3)
    y = np.digitize(
        np.asarray(X[:, 0].todense()).ravel() + 0.3 * np.cos(np.arange(600)), [-0.3, 0.3]
    )
    est, ref = _fit_both(adversary, X, y, s, groups, scheduler=scheduler)
    _assert_same_fit(est, ref)


def test_rho_zero_and_class_weight():
    X, y, s, groups = _data("binary", seed=5)
    est, ref = _fit_both("kl", X, y, s, groups, rho=0.0)
    _assert_same_fit(est, ref)  # the rho -> 0 weights s / N, lazily
    est, ref = _fit_both("chi2", X, y, s, groups, class_weight="balanced")
    _assert_same_fit(est, ref)
    est, ref = _fit_both("group", X, y, s, groups, class_weight={0: 2.0, 1: 0.5})
    _assert_same_fit(est, ref)
    est, ref = _fit_both("none", X, y, s, groups, C=np.inf, fit_intercept=False)
    _assert_same_fit(est, ref)


def test_string_labels_groups_and_absent_group():
    X, y, s, groups = _data("multinomial", seed=7)
    labels = np.array(["cat", "dog", "emu"])[y]
    names = np.array(["north", "south", "west", "east"])[groups]
    names[:5] = "empty"
    s = s.copy()
    s[:5] = 0.0  # a group whose samples all weigh 0 is not in the game
    ref = MinimaxLogisticRegression("group", tol=1e-10).fit(
        X, labels, sample_weight=s, groups=names
    )
    with dask.config.set(scheduler="threads"):
        est = MinimaxLogisticRegression("group", tol=1e-10).fit(
            _to_dask(X), da.from_array(labels, chunks=200), sample_weight=s,
            groups=da.from_array(names, chunks=100),
        )  # fmt: skip
    _assert_same_fit(est, ref)
    np.testing.assert_array_equal(est.groups_, ref.groups_)


def test_dataframe_input_and_lazy_predictions():
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    X, y, s, _ = _data("multinomial", seed=9)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    ref = MinimaxLogisticRegression("kl", tol=1e-10).fit(frame, y)
    with dask.config.set(scheduler="threads"):
        dframe = dd.from_pandas(frame, npartitions=3)
        est = MinimaxLogisticRegression("kl", tol=1e-10).fit(
            dframe, dd.from_pandas(pd.Series(y), npartitions=3)
        )
        np.testing.assert_array_equal(est.feature_names_in_, ref.feature_names_in_)
        _assert_same_fit(est, ref)
        dX = _to_dask(X, rows=(300, 0, 300))  # an empty chunk too
        for method in ("predict", "predict_proba", "predict_log_proba", "decision_function"):
            out = getattr(est, method)(dframe)
            assert isinstance(out, da.Array)  # lazy, chunk by chunk
            expected = getattr(ref, method)(frame)
            np.testing.assert_allclose(np.asarray(out.compute()), expected, rtol=1e-8, atol=1e-10)
            out = getattr(est, method)(dX)
            assert out.chunks[0] == (300, 0, 300)
            if method == "predict":
                np.testing.assert_array_equal(out.compute(), expected)
    renamed = dframe.rename(columns={"f0": "other"})
    with pytest.raises(ValueError, match="feature names"):
        est.predict(renamed)
    with pytest.raises(ValueError, match="features"):
        est.predict(da.zeros((4, 3), chunks=2))


def test_in_memory_X_with_dask_companions():
    X, y, s, groups = _data("binary", seed=11)
    ref = MinimaxLogisticRegression("group").fit(X, y, sample_weight=s, groups=groups)
    est = MinimaxLogisticRegression("group").fit(
        X, da.from_array(y, chunks=100), sample_weight=da.from_array(s, chunks=100),
        groups=da.from_array(groups, chunks=100),
    )  # fmt: skip
    np.testing.assert_array_equal(est.coef_, ref.coef_)
    assert not hasattr(est, "dask_stats_")


def _dask_inputs(n=400, p=3, seed=0):
    X, y, s, groups = _data("binary", n=n, p=p, seed=seed)
    return da.from_array(X, chunks=(100, p)), da.from_array(y, chunks=100), s, groups


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda X, y: (X.map_blocks(lambda b: np.where(b > 2.5, np.nan, b)), y), "NaN"),
        (lambda X, y: (X, y * 0), "only one class"),
        (lambda X, y: (X, y[:-1]), "rows"),
        (lambda X, y: (X[X[:, 0] > 0], y[X[:, 0] > 0]), "unknown chunk sizes"),
        (lambda X, y: (X, y.astype(float) + 0.5), "continuous|Unknown label"),
    ],
)
def test_bad_input_is_named(make, match):
    X, y, _, _ = _dask_inputs()
    X, y = make(X, y)
    with dask.config.set(scheduler="threads"), pytest.raises(ValueError, match=match):
        MinimaxLogisticRegression("kl").fit(X, y)


def test_refusals_and_a_failed_fit_leaves_the_estimator():
    X, y, s, groups = _dask_inputs()
    with dask.config.set(scheduler="threads"):
        est = MinimaxLogisticRegression("kl").fit(X, y)
        before = {k: v for k, v in vars(est).items()}
        with pytest.raises(ValueError, match="negative"):
            est.fit(X, y, sample_weight=-np.ones(400))
        with pytest.raises(ValueError, match="groups"):
            MinimaxLogisticRegression("group").fit(X, y)
        with pytest.raises(ValueError, match="solver='newton'"):
            est.set_params(solver="cgd").fit(X, y)
        est.set_params(solver="auto")
        for adversary in ("cvar", "second_moment"):
            with pytest.raises(ValueError, match="cannot fit on Dask arrays"):
                MinimaxLogisticRegression(adversary).fit(X, y)
        assert vars(est).keys() == before.keys()
        for key, value in before.items():
            assert vars(est)[key] is value or key in ("solver",)


def _lazy_rows(block_info=None):
    # a deterministic, cheap function of the row index: X is never stored anywhere
    (start, stop), (_, p) = block_info[None]["array-location"]
    i = np.arange(start, stop, dtype=np.float64)[:, None]
    phi = np.sqrt(np.arange(2, p + 2, dtype=np.float64))[None, :]
    X = i * phi  # Weyl sequences: frac(i sqrt(k)) fills [0, 1) evenly, cheaply
    X -= np.floor(X)
    X -= 0.5
    return X


def _lazy_labels(block):
    return (block[:, 0] - 0.8 * block[:, 1] + 0.2 * np.sign(block[:, 2]) * block[:, 3] > 0).astype(
        int
    )


def test_the_client_never_holds_X():
    # X (64 MB) is computed chunk by chunk on the workers (here: the threaded scheduler, in
    # this process) and never stored; the memory this process holds at its peak (chunks in
    # flight, their temporaries, the losses kept per row) stays under a third of X, and
    # what the passes gather is a few kilobytes each
    n, p, rows = 100_000, 80, 2_000
    X = da.map_blocks(
        _lazy_rows, chunks=((rows,) * (n // rows), (p,)), dtype=np.float64,
        meta=np.empty((0, 0)),
    )  # fmt: skip
    y = X.map_blocks(_lazy_labels, drop_axis=1, dtype=np.int64)
    cap = X.nbytes // 3
    with dask.config.set(scheduler="threads", num_workers=2):
        # load the kernels first: Numba's compiler objects are Python allocations too
        MinimaxLogisticRegression("kl", rho=2.0).fit(X[:4000], y[:4000])
        tracemalloc.start()
        try:
            est = MinimaxLogisticRegression("kl", rho=2.0).fit(X, y)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < cap, f"peak {peak / 1e6:.1f} MB, X is {X.nbytes / 1e6:.0f} MB"
    stats = est.dask_stats_
    n_x = p + 1
    print(f"peak {peak / 1e6:.1f} MB of X's {X.nbytes / 1e6:.0f} MB; {stats}")
    assert stats["max_bytes_per_pass"] <= 8 * (n_x * n_x + 8 * n_x + 64)
    assert est.converged_
    # the fit is the in-memory one on the same rows
    ref = MinimaxLogisticRegression("kl", rho=2.0).fit(X.compute(), y.compute())
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=0, atol=1e-8 * np.abs(ref.coef_).max())


def test_out_of_core_from_disk(tmp_path):
    # X written to disk as a stack of .npy chunks and read back lazily: each pass reads the
    # chunks from disk (mmap), the fit is the in-memory one
    X, y, s, groups = _data("binary", n=900, p=4, seed=13)
    da.to_npy_stack(str(tmp_path / "X"), da.from_array(X, chunks=(300, 4)))
    da.to_npy_stack(str(tmp_path / "y"), da.from_array(y, chunks=300))
    X_disk = da.from_npy_stack(str(tmp_path / "X"), mmap_mode="r")
    y_disk = da.from_npy_stack(str(tmp_path / "y"), mmap_mode="r")
    ref = MinimaxLogisticRegression("chi2", tol=1e-10).fit(X, y)
    with dask.config.set(scheduler="threads"):
        est = MinimaxLogisticRegression("chi2", tol=1e-10).fit(X_disk, y_disk)
        proba = est.predict_proba(X_disk).compute()
    _assert_same_fit(est, ref)
    np.testing.assert_allclose(proba, ref.predict_proba(X), rtol=0, atol=1e-10)


@pytest.mark.parametrize("kind", ["binary", "multinomial", "csr"])
@pytest.mark.parametrize("features", ["default", "given"])
def test_parametric_adversary_equals_in_memory(kind, features):
    # the game CGD plays, on chunks: same steps, same point (the mixed Hessian is formed, the
    # CGD systems are solved on the client)
    X, y, s, _ = _data(kind, n=400, p=4, seed=17)
    Z = None
    if features == "given":
        Z = np.column_stack([np.cos(np.arange(400)), (y == 1).astype(float), np.ones(400)])
    params = dict(rho=2.0, tol=1e-10, max_iter=5000)
    ref = MinimaxLogisticRegression("parametric", **params).fit(
        X, y, sample_weight=s, adversary_X=Z
    )
    with dask.config.set(scheduler="threads"):
        est = MinimaxLogisticRegression("parametric", **params).fit(
            _to_dask(X, rows=(150, 1, 149, 100)), y, sample_weight=s,
            adversary_X=None if Z is None else da.from_array(Z, chunks=(100, 3)),
        )  # fmt: skip
    _assert_same_fit(est, ref)
    np.testing.assert_allclose(
        est.adversary_coef_, ref.adversary_coef_, rtol=0,
        atol=RTOL * max(np.abs(ref.adversary_coef_).max(), 1.0),
    )  # fmt: skip
    assert est.n_iter_[0] == ref.n_iter_[0]
    assert est._default_adversary_features == ref._default_adversary_features


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_parametric_on_a_cluster(scheduler):
    # each CGD step is two round trips to the workers: 25 steps of the same path (both runs
    # stop unconverged at max_iter) show the cluster plays the same game
    X, y, s, _ = _data("binary", n=300, p=3, seed=19)
    params = dict(rho=1.0, max_iter=25)
    ref = MinimaxLogisticRegression("parametric", **params).fit(X, y)
    with scheduler():
        est = MinimaxLogisticRegression("parametric", **params).fit(_to_dask(X, (100, 200)), y)
    assert est.n_iter_[0] == ref.n_iter_[0] == 25
    _assert_same_fit(est, ref)
