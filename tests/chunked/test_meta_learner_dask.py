"""RegularizedMetaLearner on Dask arrays and dataframes (issue 11).

Oracle: the in-memory fit of the same estimator on the same data, computed before entering
the scheduler. The chunked fit adds its statistics in another order than the in-memory
loops over row blocks, so the fitted numbers agree to rounding: coefficients, intercepts and
RMSEs to 1e-8 relative (the issue's tolerance; they agree to ~1e-13 here), the discrete
choices (kept columns, penalties on the grid, solver, selection rule) exactly, Lasso and
elastic-net penalties (a grid made from the data) to 1e-12 relative.

Every test that computes runs under the threaded scheduler and on the session's LocalCluster
(``scheduler`` fixture, conftest.py).
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.model_selection import GroupKFold, KFold

from skcgd.ensemble import RegularizedMetaLearner, _penalized_cv

da = pytest.importorskip("dask.array")

RTOL = 1e-8
RTOL_GRID = 1e-12

# small grids keep the many fits cheap; the stages are the same at any size
FAST = {"lasso_alphas": 5, "l1_ratio": (0.5, 0.9)}

# uneven chunkings of 240 rows: a one-row chunk, many small chunks, an empty chunk
CHUNKINGS = {
    "uneven": (100, 1, 90, 49),
    "one_row_first": (1, 119, 120),
    "many": (23,) * 10 + (10,),
    "empty": (120, 0, 120),
}

# parameter sets (and sample weights): the default (stages chosen by nested CV; exact
# leave-one-out for ridge, 5-fold for the others), inner K-fold for every model with a KFold
# as cv, the raw design with extra columns and no meta-features, and the fixed stages
CASES = {
    "default": ({}, None),
    "paper": ({"stages": "paper"}, "dask"),
    "kfold": ({"inner_cv": 3, "cv": KFold(4), "meta_models": ("ridge", "lasso")}, "dask"),
    "raw_extra": (
        {"standardize": False, "meta_features": False, "n_predictions": 6, "blend": "uniform"},
        "numpy",
    ),
    "weighted_default": ({}, "dask"),
}


def _data(n=240, seed=0):
    """OOF predictions of 5 models, a near-twin of model 0, then 2 extra feature columns."""
    rng = np.random.default_rng(seed)
    y = 3.0 + rng.normal(size=n)
    noise = np.array([0.3, 0.35, 0.45, 0.6, 0.8])
    P = y[:, None] + rng.normal(size=(n, 5)) * noise
    twin = P[:, 0] + 0.02 * rng.normal(size=n)
    extra = rng.normal(size=(n, 2))
    X = np.column_stack([P, twin, extra])
    weight = rng.uniform(0.2, 3.0, n)
    return X, y, weight


def _dask(a, chunks):
    return da.from_array(a, chunks=(chunks,) + a.shape[1:])


def _assert_same_fit(got, ref):
    """The attributes of a Dask fit equal those of the in-memory fit (see the tolerances)."""
    assert_array_equal(got.kept_columns_, ref.kept_columns_)
    assert [
        (d["column"], d["reason"], d["kept_instead"], d["name"]) for d in got.dropped_columns_
    ] == [(d["column"], d["reason"], d["kept_instead"], d["name"]) for d in ref.dropped_columns_]
    assert got.solver_ == ref.solver_ == "direct"
    assert got.alpha_selection_ == ref.alpha_selection_
    assert got.alpha_.keys() == ref.alpha_.keys()
    for name, alpha in ref.alpha_.items():
        assert_allclose(got.alpha_[name], alpha, rtol=0 if name == "ridge" else RTOL_GRID)
    assert got.l1_ratio_ == ref.l1_ratio_
    assert got.n_iter_ == ref.n_iter_
    for name in ("coef_", "meta_coef_"):
        value, expected = getattr(got, name), getattr(ref, name)
        # relative to the largest coefficient: a Lasso zero is zero in both
        assert_allclose(value, expected, rtol=RTOL, atol=RTOL * np.abs(expected).max())
    for name in (
        "intercept_",
        "meta_intercept_",
        "column_rmse_",
        "meta_oof_rmse_",
        "blend_weights_",
        "condition_number_before_",
        "condition_number_after_",
    ):
        assert_allclose(getattr(got, name), getattr(ref, name), rtol=RTOL, err_msg=name)
    # the stages chosen by nested CV (issue 14): the same table and choice
    assert got.best_index_ == ref.best_index_ and got.best_params_ == ref.best_params_
    assert got.cv_results_["params"] == ref.cv_results_["params"]
    for key, value in ref.cv_results_.items():
        if key.startswith(("split", "mean_test", "std_test")):
            assert_allclose(got.cv_results_[key], value, rtol=RTOL, err_msg=key)
    assert_array_equal(got.cv_results_["rank_test_score"], ref.cv_results_["rank_test_score"])
    if ref.condition_number_design_ < 1e8:  # (a singular design's is rounding noise)
        assert_allclose(got.condition_number_design_, ref.condition_number_design_, rtol=1e-6)
    assert got.n_features_in_ == ref.n_features_in_


@pytest.mark.parametrize(
    "case, chunking",
    [
        ("default", "uneven"),
        ("weighted_default", "one_row_first"),
        ("kfold", "many"),
        ("kfold", "empty"),
        ("raw_extra", "uneven"),
        ("paper", "many"),
    ],
)
def test_fit_equals_in_memory_fit(scheduler, case, chunking):
    params, weights = CASES[case]
    X, y, weight = _data()
    sw = None if weights is None else weight
    ref = RegularizedMetaLearner(**FAST, **params).fit(X, y, sample_weight=sw)
    chunks = CHUNKINGS[chunking]
    sw_in = _dask(weight, chunks[::-1]) if weights == "dask" else sw  # other chunks than X
    with scheduler():
        got = RegularizedMetaLearner(**FAST, **params).fit(
            _dask(X, chunks), _dask(y, chunks), sample_weight=sw_in
        )
        _assert_same_fit(got, ref)
        oof = got.meta_oof_predictions_
        assert isinstance(oof, da.Array)
        # X's row chunks (an empty one is dropped when the chunks are concatenated)
        assert oof.chunks == (tuple(c for c in chunks if c), (len(ref.meta_models_),))
        assert_allclose(oof.compute(), ref.meta_oof_predictions_, rtol=RTOL)
    assert set(got.dask_stats_) >= {"passes", "bytes_gathered", "max_bytes_per_pass"}
    assert not hasattr(ref, "dask_stats_")


def test_what_travels_back_does_not_grow_with_the_rows():
    """Only statistics of the columns and folds come back: the same bytes for 2x the rows."""
    stats = []
    for n in (240, 480):
        X, y, weight = _data(n)
        est = RegularizedMetaLearner(**FAST).fit(_dask(X, n // 4), y, sample_weight=weight)
        stats.append(est.dask_stats_)
    assert stats[0] == stats[1]
    assert stats[0]["passes"] <= 8


def test_predict_and_transform_are_lazy_dask_arrays(scheduler):
    X, y, _ = _data()
    ref = RegularizedMetaLearner(**FAST).fit(X, y)
    X_new = _data(seed=1)[0]
    chunks = CHUNKINGS["uneven"]
    with scheduler():
        got = RegularizedMetaLearner(**FAST).fit(_dask(X, chunks), y)
        pred = got.predict(_dask(X_new, chunks))
        Z = got.transform(_dask(X_new, chunks))
        assert isinstance(pred, da.Array) and isinstance(Z, da.Array)
        assert pred.chunks == (chunks,)
        assert Z.chunks == (chunks, (got.coef_.shape[0],))
        assert_allclose(pred.compute(), ref.predict(X_new), rtol=RTOL)
        assert_allclose(Z.compute(), ref.transform(X_new), rtol=1e-12)
    # the Dask-fitted model predicts in-memory rows as the in-memory one does
    assert_allclose(got.predict(X_new), ref.predict(X_new), rtol=RTOL)


def test_dask_dataframe_input(scheduler):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, y, weight = _data()
    columns = [f"model_{j}" for j in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=columns)
    # the fixed stages: the twin is dropped on all rows (the search may keep it)
    ref = RegularizedMetaLearner(**FAST, stages="paper").fit(frame, y, sample_weight=weight)
    ddf = dd.from_pandas(frame, npartitions=3)
    with scheduler():
        got = RegularizedMetaLearner(**FAST, stages="paper").fit(
            ddf, dd.from_pandas(pd.Series(y), npartitions=3), sample_weight=weight
        )
        _assert_same_fit(got, ref)
        assert_array_equal(got.feature_names_in_, columns)
        assert got.dropped_columns_[0]["name"] == "model_5"
        pred = got.predict(ddf)
        assert isinstance(pred, da.Array)
        assert_allclose(pred.compute(), ref.predict(frame), rtol=RTOL)
        with pytest.raises(ValueError, match="feature names should match"):
            got.predict(ddf[columns[::-1]])


def test_scalar_weight_groups_and_float32(scheduler):
    """A number as sample_weight scales ridge's penalty only; groups are checked, not used."""
    X, y, _ = _data()
    X32 = X.astype(np.float32)
    groups = np.repeat(np.arange(24), 10)
    ref = RegularizedMetaLearner(**FAST).fit(X32, y, sample_weight=2.5, groups=groups)
    with scheduler():
        got = RegularizedMetaLearner(**FAST).fit(
            _dask(X32, 60), y, sample_weight=2.5, groups=_dask(groups, 80)
        )
    _assert_same_fit(got, ref)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"solver": "cg"}, "solver='cg' is not supported on Dask input"),
        ({"cv": KFold(3, shuffle=True, random_state=0)}, "cv=KFold.* is not supported"),
        ({"cv": GroupKFold(3)}, "cv=GroupKFold.* is not supported"),
        ({"cv": [(np.arange(100, 240), np.arange(100))]}, "cv given as splits is not supported"),
        ({"inner_cv": KFold(3, shuffle=True, random_state=0)}, "inner_cv=KFold.* not supported"),
    ],
)
def test_unsupported_options_are_refused_by_name(params, match):
    X, y, _ = _data()
    est = RegularizedMetaLearner(**FAST).fit(X, y)
    before = dict(vars(est))
    with pytest.raises(ValueError, match=match):
        est.set_params(**params).fit(_dask(X, 80), y)
    # a failed fit leaves the earlier fit as it was
    after = vars(est)
    assert after.keys() == before.keys()
    assert all(after[k] is before[k] for k in before if k.endswith("_"))


def test_auto_solver_that_picks_cg_is_refused(monkeypatch):
    X, y, _ = _data()
    monkeypatch.setattr(_penalized_cv, "DIRECT_MAX_FEATURES", 3)
    with pytest.raises(ValueError, match="solver='auto' picks 'cg'.*solver='direct'"):
        RegularizedMetaLearner(**FAST).fit(_dask(X, 80), y)


def test_sparse_chunks_are_refused():
    X, y, _ = _data()
    X_sparse = _dask(X, 80).map_blocks(sp.csr_matrix)
    with pytest.raises(ValueError, match="sparse chunks are not supported"):
        RegularizedMetaLearner(**FAST).fit(X_sparse, y)


def test_bad_data_fails_atomically(scheduler):
    X, y, weight = _data()
    est = RegularizedMetaLearner(**FAST).fit(_dask(X, 80), y)
    coef = est.coef_
    X_nan = X.copy()
    X_nan[200, 3] = np.nan
    with scheduler():
        with pytest.raises(ValueError, match="Input X contains NaN"):
            est.fit(_dask(X_nan, 80), y)
        assert est.coef_ is coef and hasattr(est, "dask_stats_")
        with pytest.raises(ValueError, match="sample_weight has negative values"):
            est.fit(_dask(X, 80), y, sample_weight=-weight)
        with pytest.raises(ValueError, match="sample_weight sums to zero"):
            est.fit(_dask(X, 80), y, sample_weight=np.zeros(X.shape[0]))
        with pytest.raises(ValueError, match="zero on every training row of fold 0"):
            est.fit(_dask(X, 80), y, sample_weight=np.r_[np.ones(48), np.zeros(192)])
    assert est.coef_ is coef
    # an in-memory refit leaves no trace of the Dask fit
    est.fit(X, y)
    assert not hasattr(est, "dask_stats_")
    assert isinstance(est.meta_oof_predictions_, np.ndarray)
