"""RegularizedMetaLearner: de-duplication, meta-features, cross-validated meta-models, blending.

Oracles: scikit-learn's RidgeCV (exact leave-one-out), LassoCV and ElasticNetCV (K-fold
paths), hand-computed correlations and inverse-RMSE weights.
"""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, ElasticNetCV, LassoCV, Ridge, RidgeCV
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold, StratifiedKFold

from skcgd.ensemble import RegularizedMetaLearner, _design, _penalized_cv
from skcgd.ensemble._meta_features import META_FEATURES, meta_features

RTOL_RIDGE = 1e-8  # closed-form ridge against closed-form ridge
ATOL_ENET = 1e-6  # coordinate descent at tol=1e-12 against coordinate descent


def planted_oof(n=600, seed=0, scale=1.0):
    """OOF predictions of 8 distinct base models plus 3 planted near-duplicates.

    Columns 0-7 are y plus independent noise of increasing size (so their errors order them);
    column 8 duplicates column 1, column 9 column 4 and column 10 column 0 up to a relative
    noise of 1e-3 of y's scale, each slightly *worse* than its original.
    """
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    noise = np.array([0.30, 0.35, 0.40, 0.45, 0.50, 0.60, 0.70, 0.80])
    base = y[:, None] + rng.normal(size=(n, 8)) * noise
    twins = {8: 1, 9: 4, 10: 0}
    dup = np.column_stack([base[:, src] + 0.03 * rng.normal(size=n) for src in twins.values()])
    return scale * np.hstack([base, dup]), scale * y, twins


def test_planted_duplicates_are_exactly_the_dropped_columns():
    P, y, twins = planted_oof()
    meta = RegularizedMetaLearner(stages="paper").fit(P, y)
    dropped = {d["column"]: d for d in meta.dropped_columns_}
    assert set(dropped) == set(twins)
    for col, src in twins.items():
        assert dropped[col]["reason"] == "redundant"
        assert dropped[col]["kept_instead"] == src
        assert dropped[col]["correlation"] >= 0.95
        assert dropped[col]["relative_msd"] <= 1e-3
        assert dropped[col]["name"] == f"x{col}"
    assert_array_equal(meta.kept_columns_, np.arange(8))
    assert meta.condition_number_after_ < meta.condition_number_before_ / 10
    assert_allclose(meta.column_rmse_, np.sqrt(np.mean((P - y[:, None]) ** 2, axis=0)))


def test_condition_numbers_are_those_of_the_correlation_matrices():
    P, y, _ = planted_oof()
    meta = RegularizedMetaLearner(meta_features=False, stages="paper").fit(P, y)
    assert_allclose(meta.condition_number_before_, np.linalg.cond(np.corrcoef(P.T)), rtol=1e-6)
    kept = P[:, meta.kept_columns_]
    assert_allclose(meta.condition_number_after_, np.linalg.cond(np.corrcoef(kept.T)), rtol=1e-6)
    assert_allclose(meta.condition_number_design_, meta.condition_number_after_, rtol=1e-6)


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e4])
def test_thresholds_are_scale_free(scale):
    P, y, twins = planted_oof(scale=scale)
    meta = RegularizedMetaLearner(stages="paper").fit(P, y)
    assert {d["column"] for d in meta.dropped_columns_} == set(twins)


def test_mse_threshold_decides_between_correlated_columns():
    P, y, twins = planted_oof()
    # the twins differ by 0.03^2 = 9e-4 of Var(y): a smaller threshold keeps them all
    meta = RegularizedMetaLearner(mse_threshold=1e-4, stages="paper").fit(P, y)
    assert meta.dropped_columns_ == []
    assert_array_equal(meta.kept_columns_, np.arange(P.shape[1]))
    meta = RegularizedMetaLearner(corr_threshold=None, stages="paper").fit(P, y)
    assert meta.dropped_columns_ == []


def test_near_constant_columns_are_dropped_after_the_redundancy_test():
    P, y, _ = planted_oof()
    P = np.hstack([P, np.full((P.shape[0], 1), 3.0), 3.0 + 1e-4 * y[:, None]])
    meta = RegularizedMetaLearner(stages="paper").fit(P, y)
    constant = {d["column"] for d in meta.dropped_columns_ if d["reason"] == "near_constant"}
    assert constant == {11, 12}
    assert meta.condition_number_before_ == np.inf
    meta = RegularizedMetaLearner(var_threshold=0.0, stages="paper").fit(P, y)
    constant = {d["column"] for d in meta.dropped_columns_ if d["reason"] == "near_constant"}
    assert constant == {11}


def test_meta_features_and_feature_names():
    P, y, _ = planted_oof()
    meta = RegularizedMetaLearner(stages="paper").fit(P, y)
    Z = meta.transform(P)
    kept = P[:, meta.kept_columns_]
    assert_allclose(Z[:, :8], kept)
    basic = np.column_stack([kept.mean(1), kept.std(1), np.median(kept, 1), np.ptp(kept, 1)])
    assert_allclose(Z[:, 8:], basic)
    names = meta.get_feature_names_out()
    assert list(names) == [f"x{j}" for j in range(8)] + ["mean", "std", "median", "range"]
    assert Z.shape[1] == names.shape[0] == meta.coef_.shape[0]
    assert_allclose(meta.predict(P), Z @ meta.coef_ + meta.intercept_)
    # the seed paper's set, with the interactions
    paper = ("mean", "std", "median", "range", "mean*std", "range*std")
    meta = RegularizedMetaLearner(meta_features=paper, stages="paper").fit(P, y)
    expected = np.column_stack([basic, basic[:, 0] * basic[:, 1], basic[:, 3] * basic[:, 1]])
    assert_allclose(meta.transform(P)[:, 8:], expected)
    assert list(meta.get_feature_names_out()[8:]) == list(paper)
    # with two kept columns the statistics are collinear with the columns: not added
    two = RegularizedMetaLearner(stages="paper").fit(P[:, :2], y)
    assert two.transform(P[:, :2]).shape[1] == 2
    none = RegularizedMetaLearner(meta_features=False, stages="paper").fit(P, y)
    assert none.transform(P).shape[1] == 8


def test_meta_features_of_one_row():
    F = meta_features(np.array([[1.0, 2.0, 6.0]]), META_FEATURES)
    std = np.std([1, 2, 6])
    assert_allclose(F[0], [3.0, std, 2.0, 5.0, 1.0, 6.0, 3.0 * std, 5.0 * std])


def test_feature_names_from_dataframe():
    pd = pytest.importorskip("pandas")
    P, y, _ = planted_oof()
    df = pd.DataFrame(P, columns=[f"model_{j}" for j in range(P.shape[1])])
    meta = RegularizedMetaLearner(stages="paper").fit(df, y)
    assert meta.dropped_columns_[0]["name"].startswith("model_")
    assert meta.get_feature_names_out()[0] == "model_0"


# ----------------------------------------------------------------------------- meta-models


def ridge_only(**kw):
    # the meta-model engine alone: the fixed stages, nothing pruned or added
    return RegularizedMetaLearner(
        corr_threshold=None,
        var_threshold=0.0,
        meta_features=False,
        meta_models=("ridge",),
        stages="paper",
        **kw,
    )


@pytest.mark.parametrize("weighted", [False, True])
def test_ridge_loo_equals_ridgecv(weighted):
    P, y, _ = planted_oof(scale=100.0)
    sw = np.random.default_rng(1).uniform(0.2, 3.0, y.shape[0]) if weighted else None
    alphas = np.logspace(-2, 4, 13)
    ours = ridge_only(ridge_alphas=alphas, standardize=False).fit(P, y, sample_weight=sw)
    ref = RidgeCV(alphas=alphas).fit(P, y, sample_weight=sw)
    assert ours.alpha_["ridge"] == pytest.approx(ref.alpha_, rel=1e-12)
    assert_allclose(ours.coef_, ref.coef_, rtol=RTOL_RIDGE)
    assert_allclose(ours.predict(P), ref.predict(P), rtol=RTOL_RIDGE)


def test_ridge_loo_standardized_equals_ridgecv_on_standardized_columns():
    P, y, _ = planted_oof()
    alphas = np.logspace(-3, 5, 50)
    ours = ridge_only().fit(P, y)
    Ps = (P - P.mean(0)) / P.std(0)
    ref = RidgeCV(alphas=alphas).fit(Ps, y)
    assert ours.alpha_["ridge"] == pytest.approx(ref.alpha_, rel=1e-12)
    assert_allclose(ours.coef_ * P.std(0), ref.coef_, rtol=RTOL_RIDGE)


def test_ridge_kfold_equals_grid_search():
    P, y, _ = planted_oof()
    alphas = np.logspace(-2, 3, 11)
    ours = ridge_only(ridge_alphas=alphas, standardize=False, inner_cv=3).fit(P, y)
    ref = GridSearchCV(
        Ridge(), {"alpha": alphas}, cv=KFold(3), scoring="neg_mean_squared_error"
    ).fit(P, y)
    assert ours.alpha_["ridge"] == pytest.approx(ref.best_params_["alpha"], rel=1e-12)
    assert_allclose(ours.coef_, ref.best_estimator_.coef_, rtol=RTOL_RIDGE)


def test_lasso_and_elastic_net_equal_scikit_learn_cv():
    P, y, _ = planted_oof()
    common = dict(
        corr_threshold=None,
        var_threshold=0.0,
        meta_features=False,
        standardize=False,
        inner_cv=3,
        tol=1e-10,
        max_iter=100000,
    )
    alphas = np.logspace(-4, -1, 12)
    lasso = RegularizedMetaLearner(meta_models=("lasso",), lasso_alphas=alphas, **common).fit(P, y)
    ref = LassoCV(alphas=alphas, cv=KFold(3), tol=1e-10, max_iter=100000).fit(P, y)
    assert_allclose(lasso.alpha_["lasso"], ref.alpha_)
    assert_allclose(lasso.coef_, ref.coef_, atol=ATOL_ENET)
    enet = RegularizedMetaLearner(
        meta_models=("elasticnet",), lasso_alphas=alphas, l1_ratio=(0.2, 0.7), **common
    ).fit(P, y)
    ref = ElasticNetCV(
        alphas=alphas, l1_ratio=[0.2, 0.7], cv=KFold(3), tol=1e-10, max_iter=100000
    ).fit(P, y)
    assert_allclose(enet.alpha_["elasticnet"], ref.alpha_)
    assert enet.l1_ratio_ == ref.l1_ratio_
    assert_allclose(enet.coef_, ref.coef_, atol=ATOL_ENET)


def test_lasso_gram_kernel_on_collinear_design_matches_scikit_learn():
    # the row mean is an exact combination of the columns: the hardest case for CD
    P, y, _ = planted_oof()
    Z = np.hstack([P, meta_features(P, ("mean", "std", "median", "range"))])
    Z = (Z - Z.mean(0)) / Z.std(0)
    yc = y - y.mean()
    from skcgd._kernels.elastic_net import _enet_gram_path

    G, c = Z.T @ Z / len(y), Z.T @ yc / len(y)
    for l1_ratio in (1.0, 0.5):
        alpha = 0.01
        W, _, converged = _enet_gram_path(
            G, c, yc @ yc / len(y), np.array([alpha]), l1_ratio, np.zeros(Z.shape[1]), 1e-12, 200000
        )
        ref = ElasticNet(
            alpha=alpha, l1_ratio=l1_ratio, tol=1e-12, max_iter=1000000, fit_intercept=False
        ).fit(Z, yc)

        def objective(w):
            r = yc - Z @ w
            return (
                r @ r / (2 * len(y))
                + alpha * l1_ratio * np.abs(w).sum()
                + 0.5 * alpha * (1 - l1_ratio) * w @ w
            )

        assert converged[0]
        assert objective(W[0]) <= objective(ref.coef_) + 1e-10


def test_paper_pipeline_fits_three_meta_models_and_blends_by_inverse_rmse():
    P, y, _ = planted_oof()
    meta = RegularizedMetaLearner(stages="paper").fit(P, y)
    assert meta.meta_models_ == ("ridge", "lasso", "elasticnet")
    assert set(meta.alpha_) == {"ridge", "lasso", "elasticnet"}
    assert meta.l1_ratio_ in (0.1, 0.5, 0.7, 0.9, 0.95, 0.99)
    rmse = np.sqrt(np.mean((meta.meta_oof_predictions_ - y[:, None]) ** 2, axis=0))
    assert_allclose(meta.meta_oof_rmse_, rmse)
    assert_allclose(meta.blend_weights_, (1 / rmse) / np.sum(1 / rmse))
    assert_allclose(meta.coef_, meta.blend_weights_ @ meta.meta_coef_)
    per_model = meta.transform(P) @ meta.meta_coef_.T + meta.meta_intercept_
    assert_allclose(meta.predict(P), per_model @ meta.blend_weights_)
    uniform = RegularizedMetaLearner(blend="uniform", stages="paper").fit(P, y)
    assert_allclose(uniform.blend_weights_, np.full(3, 1 / 3))


def test_meta_oof_predictions_are_out_of_fold():
    P, y, _ = planted_oof()
    cv = KFold(4, shuffle=True, random_state=0)
    alphas = np.logspace(-2, 3, 11)
    meta = ridge_only(ridge_alphas=alphas, standardize=False, cv=cv).fit(P, y)
    for train, test in cv.split(P):
        ref = RidgeCV(alphas=alphas).fit(P[train], y[train])
        assert_allclose(meta.meta_oof_predictions_[test, 0], ref.predict(P[test]), rtol=RTOL_RIDGE)


def test_rows_outside_every_test_fold_get_nan_and_overlaps_are_refused():
    P, y, _ = planted_oof(n=200)
    splits = [(np.arange(100, 200), np.arange(0, 50)), (np.arange(0, 100), np.arange(150, 200))]
    meta = ridge_only(cv=splits).fit(P, y)
    assert np.isnan(meta.meta_oof_predictions_[50:150]).all()
    assert np.isfinite(meta.meta_oof_predictions_[:50]).all()
    with pytest.raises(ValueError, match="overlap"):
        ridge_only(
            cv=[(np.arange(100), np.arange(100, 200)), (np.arange(50), np.arange(50, 200))]
        ).fit(P, y)


@pytest.mark.parametrize("sparse_extra", [False, True])
def test_cg_solver_matches_direct(sparse_extra):
    P, y, _ = planted_oof()
    rng = np.random.default_rng(3)
    extra = rng.normal(size=(P.shape[0], 5)) * (rng.random((P.shape[0], 5)) < 0.3)
    X = np.hstack([P, extra])
    if sparse_extra:
        X = sp.hstack([sp.csr_matrix(P), sp.csr_matrix(extra)], format="csr")
    common = dict(
        meta_models=("ridge",), n_predictions=P.shape[1], inner_cv=3, tol=1e-12, stages="paper"
    )
    direct = RegularizedMetaLearner(solver="direct", **common).fit(X, y)
    cg = RegularizedMetaLearner(solver="cg", **common).fit(X, y)
    assert cg.solver_ == "cg" and direct.solver_ == "direct"
    assert direct.alpha_ == cg.alpha_
    assert_allclose(cg.predict(X), direct.predict(X), rtol=1e-7, atol=1e-9)
    names = direct.get_feature_names_out()
    assert list(names[-5:]) == [f"x{j}" for j in range(P.shape[1], P.shape[1] + 5)]
    auto = RegularizedMetaLearner(**{**common, "tol": 1e-4}).fit(X, y)
    assert auto.solver_ == "direct"


def test_lasso_penalty_is_chosen_inside_every_outer_fold():
    # nested: each outer fold's Lasso is LassoCV on that fold's training rows alone
    P, y, _ = planted_oof(n=300)
    cv = KFold(4, shuffle=True, random_state=1)
    alphas = np.logspace(-4, -1, 30)
    meta = RegularizedMetaLearner(
        corr_threshold=None,
        var_threshold=0.0,
        meta_features=False,
        meta_models=("lasso",),
        lasso_alphas=alphas,
        standardize=False,
        inner_cv=3,
        cv=cv,
        tol=1e-10,
        max_iter=100000,
        stages="paper",
    ).fit(P, y)
    chosen = set()
    for train, test in cv.split(P):
        ref = LassoCV(alphas=alphas, cv=KFold(3), tol=1e-10, max_iter=100000).fit(
            P[train], y[train]
        )
        chosen.add(ref.alpha_)
        assert_allclose(meta.meta_oof_predictions_[test, 0], ref.predict(P[test]), atol=ATOL_ENET)
    assert len(chosen) > 1  # the folds did choose for themselves


def _ridge_oracles(P, y, alphas, n_folds):
    loo = RidgeCV(alphas=alphas).fit(P, y)
    kfold = GridSearchCV(
        Ridge(), {"alpha": alphas}, cv=KFold(n_folds), scoring="neg_mean_squared_error"
    ).fit(P, y)
    return loo, kfold.best_estimator_


def test_alpha_selection_rule_across_the_solver_switch(monkeypatch):
    # inner_cv=None: exact leave-one-out on the direct side of solver="auto", 5-fold on the
    # CG side (documented, recorded in alpha_selection_); an integer inner_cv: one rule on
    # both sides. Oracles: RidgeCV (LOO) and GridSearchCV over Ridge (K-fold).
    P, y, _ = planted_oof(n=300, scale=10.0)
    alphas = np.logspace(-2, 4, 25)
    loo, kfold5 = _ridge_oracles(P, y, alphas, 5)
    assert loo.alpha_ != kfold5.alpha  # the two rules differ on this problem
    common = dict(
        corr_threshold=None,
        var_threshold=0.0,
        meta_features=False,
        meta_models=("ridge",),
        ridge_alphas=alphas,
        standardize=False,
        tol=1e-12,
        stages="paper",
    )
    direct = RegularizedMetaLearner(**common).fit(P, y)
    assert direct.solver_ == "direct"
    assert direct.alpha_selection_ == {"ridge": "leave-one-out"}
    assert direct.alpha_["ridge"] == pytest.approx(loo.alpha_, rel=1e-12)
    assert_allclose(direct.coef_, loo.coef_, rtol=RTOL_RIDGE)
    monkeypatch.setattr(_penalized_cv, "DIRECT_MAX_FEATURES", P.shape[1] - 1)
    cg = RegularizedMetaLearner(**common).fit(P, y)
    assert cg.solver_ == "cg"
    assert cg.alpha_selection_ == {"ridge": "5-fold"}
    assert cg.alpha_["ridge"] == pytest.approx(kfold5.alpha, rel=1e-12)
    assert_allclose(cg.coef_, kfold5.coef_, rtol=1e-7)
    # an explicit inner_cv: the same rule, hence the same alpha, on both sides of the switch
    _, kfold3 = _ridge_oracles(P, y, alphas, 3)
    cg3 = RegularizedMetaLearner(inner_cv=3, **common).fit(P, y)
    monkeypatch.undo()
    direct3 = RegularizedMetaLearner(inner_cv=3, **common).fit(P, y)
    assert (cg3.solver_, direct3.solver_) == ("cg", "direct")
    assert cg3.alpha_selection_ == direct3.alpha_selection_ == {"ridge": "3-fold"}
    assert cg3.alpha_ == direct3.alpha_
    assert direct3.alpha_["ridge"] == pytest.approx(kfold3.alpha, rel=1e-12)
    assert_allclose(cg3.coef_, direct3.coef_, rtol=1e-7)
    with pytest.raises(ValueError, match="leave-one-out"):
        _penalized_cv.fit_linear_cv(
            _penalized_cv.LinearModelSpec("ridge", alphas, alphas.size, 0.0, ()),
            _design.ArrayDesign(P),
            y,
            np.ones(300),
            np.arange(300),
            [],
            standardize=False,
            solver="cg",
            loo=True,
            tol=1e-6,
            max_iter=10,
        )


def _forbid_densifying(monkeypatch, n_pred):
    """Make toarray/todense fail on any tall sparse matrix wider than the prediction columns
    (the design or a block of its rows); the p x p Gram matrix and the prediction columns,
    dense by nature, may still be densified."""

    def guard(method):
        def guarded(self, *args, **kwargs):
            rows, cols = self.shape
            if rows > cols and cols > n_pred:
                raise AssertionError(f"densified a sparse {self.shape} design")
            return method(self, *args, **kwargs)

        return guarded

    for cls in (
        sp.csr_matrix,
        sp.csc_matrix,
        sp.coo_matrix,
        sp.csr_array,
        sp.csc_array,
        sp.coo_array,
    ):
        for name in ("toarray", "todense"):
            monkeypatch.setattr(cls, name, guard(getattr(cls, name)))


@pytest.mark.parametrize(
    "params",
    [
        {},  # direct path, exact leave-one-out
        {"inner_cv": 3},  # direct path, K-fold statistics
        {"solver": "cg", "inner_cv": 3, "tol": 1e-10, "stages": "paper"},  # conjugate gradient
    ],
)
def test_sparse_design_is_never_densified(monkeypatch, params):
    P, y, _ = planted_oof()
    rng = np.random.default_rng(5)
    extra = sp.random(P.shape[0], 40, density=0.05, random_state=rng, format="csr")
    X = sp.hstack([sp.csr_matrix(P), extra], format="csr")
    dense = np.hstack([P, extra.toarray()])
    common = dict(meta_models=("ridge", "lasso"), n_predictions=P.shape[1], **params)
    ref = RegularizedMetaLearner(**common).fit(dense, y)
    _forbid_densifying(monkeypatch, P.shape[1])
    with pytest.raises(AssertionError, match="densified"):
        extra.toarray()  # the guard is live
    meta = RegularizedMetaLearner(**common).fit(X, y)
    assert meta.solver_ == ref.solver_
    assert meta.alpha_ == pytest.approx(ref.alpha_, rel=1e-6)
    # the same model as on the dense copy (the sparse design is scaled, not centred)
    assert_allclose(meta.predict(X), ref.predict(dense), rtol=1e-6, atol=1e-8)
    assert_allclose(meta.meta_oof_predictions_, ref.meta_oof_predictions_, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("solver", ["direct", "cg"])
def test_n_jobs_is_bit_identical(solver):
    P, y, _ = planted_oof()
    fits = [
        RegularizedMetaLearner(
            solver=solver,
            n_jobs=n_jobs,
            l1_ratio=(0.5, 0.9),
            cv=KFold(4, shuffle=True, random_state=0),
            # the search's designs on CG (scikit-learn's coordinate descent) take a minute
            stages="auto" if solver == "direct" else "paper",
        ).fit(P, y)
        for n_jobs in (1, 2)
    ]
    assert fits[0].alpha_ == fits[1].alpha_
    for attr in ("meta_oof_predictions_", "meta_coef_", "blend_weights_", "coef_"):
        assert_array_equal(getattr(fits[0], attr), getattr(fits[1], attr))


def test_fit_holds_no_copy_of_the_design(monkeypatch):
    # float32 predictions: a float64 copy of them would be 2.0x their size, and the
    # meta-features, centring and per-fold row copies more; the blocked passes need the
    # meta-features (4 float64 columns), the out-of-fold predictions, O(n) vectors and one
    # block of rows (made small here, as it is next to the (2e6, 50) matrices of the memory
    # benchmark)
    monkeypatch.setattr(_design, "_BLOCK_ENTRIES", 1 << 15)
    rng = np.random.default_rng(0)
    y = rng.normal(size=50_000)
    P = (y[:, None] + rng.uniform(0.2, 1.0, 50) * rng.normal(size=(50_000, 50))).astype(np.float32)
    RegularizedMetaLearner(lasso_alphas=5, cv=3).fit(P[:500], y[:500])  # compile first
    tracemalloc.start()
    try:
        RegularizedMetaLearner(lasso_alphas=5, cv=3).fit(P, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1.0 * P.nbytes, f"fit allocated {peak / P.nbytes:.2f}x the predictions"


def test_cg_lasso_path_matches_direct():
    P, y, _ = planted_oof()
    P, y = P[:300], y[:300]
    common = dict(
        meta_models=("lasso", "elasticnet"),
        inner_cv=3,
        tol=1e-8,
        max_iter=100000,
        l1_ratio=(0.5,),
        lasso_alphas=10,
        stages="paper",
    )
    direct = RegularizedMetaLearner(solver="direct", **common).fit(P, y)
    cg = RegularizedMetaLearner(solver="cg", **common).fit(P, y)
    assert_allclose(cg.meta_coef_, direct.meta_coef_, atol=1e-5)


def test_zero_weights_equal_dropping_rows():
    P, y, _ = planted_oof()
    sw = np.ones(y.shape[0])
    sw[::7] = 0.0
    keep = sw > 0
    weighted = RegularizedMetaLearner(meta_models=("ridge",)).fit(P, y, sample_weight=sw)
    dropped = RegularizedMetaLearner(meta_models=("ridge",)).fit(P[keep], y[keep])
    assert_array_equal(weighted.kept_columns_, dropped.kept_columns_)
    assert weighted.alpha_ == dropped.alpha_
    assert_allclose(weighted.predict(P), dropped.predict(P), rtol=1e-8)


def test_float32_input_and_grid_search_over_corr_threshold():
    P, y, _ = planted_oof()
    meta = RegularizedMetaLearner().fit(P.astype(np.float32), y)
    assert meta.predict(P.astype(np.float32)).dtype == np.float64
    search = GridSearchCV(
        RegularizedMetaLearner(meta_models=("ridge",)), {"corr_threshold": [None, 0.9, 0.99]}, cv=3
    ).fit(P, y)
    assert search.best_params_["corr_threshold"] in (None, 0.9, 0.99)
    assert search.best_estimator_.predict(P).shape == y.shape


def test_convergence_warning_names_the_fix():
    P, y, _ = planted_oof()
    with pytest.warns(ConvergenceWarning, match="increase max_iter"):
        RegularizedMetaLearner(meta_models=("lasso",), max_iter=1, tol=1e-12).fit(P, y)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"meta_models": ("ridge", "svm")}, "meta_models"),
        ({"meta_models": ()}, "meta_models"),
        ({"ridge_alphas": [1.0, -1.0]}, "ridge_alphas"),
        ({"l1_ratio": (0.0,)}, "l1_ratio"),
        ({"meta_features": ("mean", "skew")}, "meta_features"),
        ({"n_predictions": 50}, "n_predictions"),
    ],
)
def test_bad_parameters_are_named(params, match):
    P, y, _ = planted_oof()
    with pytest.raises(ValueError, match=match):
        RegularizedMetaLearner(**params).fit(P, y)


def test_bad_input_is_refused():
    P, y, _ = planted_oof()
    P_nan = P.copy()
    P_nan[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        RegularizedMetaLearner().fit(P_nan, y)
    with pytest.raises(ValueError, match="sample_weight sums to zero"):
        RegularizedMetaLearner().fit(P, y, sample_weight=np.zeros(y.shape[0]))
    with pytest.raises(ValueError, match="[Nn]egative"):
        RegularizedMetaLearner().fit(P, y, sample_weight=-np.ones(y.shape[0]))
    meta = RegularizedMetaLearner().fit(P, y)
    with pytest.raises(ValueError, match="features"):
        meta.predict(P[:, :5])


def test_no_warning_on_the_default_fit():
    P, y, _ = planted_oof()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RegularizedMetaLearner().fit(P, y)


@pytest.mark.parametrize("solver", ["direct", "cg"])
def test_all_but_one_zero_weight_is_a_named_error(solver):
    # regression: a ZeroDivisionError (direct) or "X contains NaN" (cg) from the outer fold
    # whose training rows all weigh 0
    P, y, _ = planted_oof(n=30)
    sw = np.zeros(30)
    sw[0] = 1.0
    with pytest.raises(ValueError, match="sample_weight is zero on every training row"):
        RegularizedMetaLearner(cv=3, solver=solver).fit(P, y, sample_weight=sw)


def test_groups_keep_a_group_in_one_fold_at_every_level():
    P, y, _ = planted_oof(n=240)
    groups = np.repeat(np.arange(24), 10)
    alphas = np.logspace(-2, 3, 11)
    meta = ridge_only(ridge_alphas=alphas, standardize=False, cv=GroupKFold(4))
    meta.set_params(inner_cv=GroupKFold(3)).fit(P, y, groups=groups)
    # oracle: the same outer splits given explicitly, and GridSearchCV(GroupKFold(3)) inside
    for train, test in GroupKFold(4).split(P, y, groups):
        ref = GridSearchCV(
            Ridge(),
            {"alpha": alphas},
            cv=GroupKFold(3),
            scoring="neg_mean_squared_error",
        ).fit(P[train], y[train], groups=groups[train])
        assert_allclose(meta.meta_oof_predictions_[test, 0], ref.predict(P[test]), rtol=1e-8)
    with pytest.raises(ValueError, match="groups mixes values of different types"):
        meta.fit(P, y, groups=[1, "a"] * 120)


@pytest.mark.parametrize("stages", ["paper", "auto"])
@pytest.mark.parametrize("kind", ["stratified", "group"])
def test_outer_and_inner_splitters_get_y_and_groups(stages, kind):
    # issue 14, item 4: StratifiedKFold (on an integer-valued target) and GroupKFold as
    # both cv and inner_cv. Oracle: each outer fold's training rows given to GridSearchCV
    # over Ridge with the same inner splitter (scikit-learn passes it y and groups). Five
    # distinct noisy columns (no pair is pruned at any level) and no meta-features, so every
    # candidate of stages="auto" is the same design: the choice does not matter here
    rng = np.random.default_rng(7)
    n = 240
    y = np.clip(rng.poisson(3.0, n), 0, 6).astype(float)  # every class in every fold
    P = y[:, None] + rng.normal(size=(n, 5)) * np.array([0.8, 1.0, 1.2, 1.5, 2.0])
    groups = np.repeat(np.arange(30), 8) if kind == "group" else None
    if kind == "stratified":
        outer, inner = StratifiedKFold(4, shuffle=True, random_state=0), StratifiedKFold(3)
    else:
        outer, inner = GroupKFold(4), GroupKFold(3)
    alphas = np.logspace(-2, 3, 11)
    meta = RegularizedMetaLearner(
        meta_models=("ridge",),
        ridge_alphas=alphas,
        standardize=False,
        meta_features=False,
        cv=outer,
        inner_cv=inner,
        stages=stages,
    ).fit(P, y, groups=groups)
    assert_array_equal(meta.kept_columns_, np.arange(5))
    for train, test in outer.split(P, y, groups):
        ref = GridSearchCV(
            Ridge(), {"alpha": alphas}, cv=inner, scoring="neg_mean_squared_error"
        ).fit(P[train], y[train], groups=None if groups is None else groups[train])
        assert_allclose(meta.meta_oof_predictions_[test, 0], ref.predict(P[test]), rtol=1e-8)
