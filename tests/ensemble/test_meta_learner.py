"""RegularizedMetaLearner: de-duplication, meta-features, cross-validated meta-models, blending.

Oracles: scikit-learn's RidgeCV (exact leave-one-out), LassoCV and ElasticNetCV (K-fold
paths), hand-computed correlations and inverse-RMSE weights.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, ElasticNetCV, LassoCV, Ridge, RidgeCV
from sklearn.model_selection import GridSearchCV, KFold

from skcgd.ensemble import RegularizedMetaLearner
from skcgd.ensemble._meta_learner import META_FEATURES, meta_features

RTOL_RIDGE = 1e-8  # closed-form ridge against closed-form ridge
ATOL_ENET = 1e-6   # coordinate descent at tol=1e-12 against coordinate descent


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
    meta = RegularizedMetaLearner().fit(P, y)
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
    meta = RegularizedMetaLearner(meta_features=False).fit(P, y)
    assert_allclose(meta.condition_number_before_, np.linalg.cond(np.corrcoef(P.T)), rtol=1e-6)
    kept = P[:, meta.kept_columns_]
    assert_allclose(meta.condition_number_after_, np.linalg.cond(np.corrcoef(kept.T)),
                    rtol=1e-6)
    assert_allclose(meta.condition_number_design_, meta.condition_number_after_, rtol=1e-6)


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e4])
def test_thresholds_are_scale_free(scale):
    P, y, twins = planted_oof(scale=scale)
    meta = RegularizedMetaLearner().fit(P, y)
    assert {d["column"] for d in meta.dropped_columns_} == set(twins)


def test_mse_threshold_decides_between_correlated_columns():
    P, y, twins = planted_oof()
    # the twins differ by 0.03^2 = 9e-4 of Var(y): a smaller threshold keeps them all
    meta = RegularizedMetaLearner(mse_threshold=1e-4).fit(P, y)
    assert meta.dropped_columns_ == []
    assert_array_equal(meta.kept_columns_, np.arange(P.shape[1]))
    meta = RegularizedMetaLearner(corr_threshold=None).fit(P, y)
    assert meta.dropped_columns_ == []


def test_near_constant_columns_are_dropped_after_the_redundancy_test():
    P, y, _ = planted_oof()
    P = np.hstack([P, np.full((P.shape[0], 1), 3.0), 3.0 + 1e-4 * y[:, None]])
    meta = RegularizedMetaLearner().fit(P, y)
    constant = {d["column"] for d in meta.dropped_columns_ if d["reason"] == "near_constant"}
    assert constant == {11, 12}
    assert meta.condition_number_before_ == np.inf
    meta = RegularizedMetaLearner(var_threshold=0.0).fit(P, y)
    constant = {d["column"] for d in meta.dropped_columns_ if d["reason"] == "near_constant"}
    assert constant == {11}


def test_meta_features_and_feature_names():
    P, y, _ = planted_oof()
    meta = RegularizedMetaLearner().fit(P, y)
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
    meta = RegularizedMetaLearner(meta_features=paper).fit(P, y)
    expected = np.column_stack([basic, basic[:, 0] * basic[:, 1], basic[:, 3] * basic[:, 1]])
    assert_allclose(meta.transform(P)[:, 8:], expected)
    assert list(meta.get_feature_names_out()[8:]) == list(paper)
    # with two kept columns the statistics are collinear with the columns: not added
    two = RegularizedMetaLearner().fit(P[:, :2], y)
    assert two.transform(P[:, :2]).shape[1] == 2
    none = RegularizedMetaLearner(meta_features=False).fit(P, y)
    assert none.transform(P).shape[1] == 8


def test_meta_features_of_one_row():
    F = meta_features(np.array([[1.0, 2.0, 6.0]]), META_FEATURES)
    std = np.std([1, 2, 6])
    assert_allclose(F[0], [3.0, std, 2.0, 5.0, 1.0, 6.0, 3.0 * std, 5.0 * std])


def test_feature_names_from_dataframe():
    pd = pytest.importorskip("pandas")
    P, y, _ = planted_oof()
    df = pd.DataFrame(P, columns=[f"model_{j}" for j in range(P.shape[1])])
    meta = RegularizedMetaLearner().fit(df, y)
    assert meta.dropped_columns_[0]["name"].startswith("model_")
    assert meta.get_feature_names_out()[0] == "model_0"


# ----------------------------------------------------------------------------- meta-models

def ridge_only(**kw):
    return RegularizedMetaLearner(corr_threshold=None, var_threshold=0.0, meta_features=False,
                                  meta_models=("ridge",), **kw)


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
    ref = GridSearchCV(Ridge(), {"alpha": alphas}, cv=KFold(3),
                       scoring="neg_mean_squared_error").fit(P, y)
    assert ours.alpha_["ridge"] == pytest.approx(ref.best_params_["alpha"], rel=1e-12)
    assert_allclose(ours.coef_, ref.best_estimator_.coef_, rtol=RTOL_RIDGE)


def test_lasso_and_elastic_net_equal_scikit_learn_cv():
    P, y, _ = planted_oof()
    common = dict(corr_threshold=None, var_threshold=0.0, meta_features=False,
                  standardize=False, inner_cv=3, tol=1e-10, max_iter=100000)
    alphas = np.logspace(-4, -1, 12)
    lasso = RegularizedMetaLearner(meta_models=("lasso",), lasso_alphas=alphas,
                                   **common).fit(P, y)
    ref = LassoCV(alphas=alphas, cv=KFold(3), tol=1e-10, max_iter=100000).fit(P, y)
    assert_allclose(lasso.alpha_["lasso"], ref.alpha_)
    assert_allclose(lasso.coef_, ref.coef_, atol=ATOL_ENET)
    enet = RegularizedMetaLearner(meta_models=("elasticnet",), lasso_alphas=alphas,
                                  l1_ratio=(0.2, 0.7), **common).fit(P, y)
    ref = ElasticNetCV(alphas=alphas, l1_ratio=[0.2, 0.7], cv=KFold(3), tol=1e-10,
                       max_iter=100000).fit(P, y)
    assert_allclose(enet.alpha_["elasticnet"], ref.alpha_)
    assert enet.l1_ratio_ == ref.l1_ratio_
    assert_allclose(enet.coef_, ref.coef_, atol=ATOL_ENET)


def test_lasso_gram_kernel_on_collinear_design_matches_scikit_learn():
    # the row mean is an exact combination of the columns: the hardest case for CD
    P, y, _ = planted_oof()
    Z = np.hstack([P, meta_features(P, ("mean", "std", "median", "range"))])
    Z = (Z - Z.mean(0)) / Z.std(0)
    yc = y - y.mean()
    from skcgd._kernels.stacking import _enet_gram_path
    G, c = Z.T @ Z / len(y), Z.T @ yc / len(y)
    for l1_ratio in (1.0, 0.5):
        alpha = 0.01
        W, _, converged = _enet_gram_path(G, c, yc @ yc / len(y), np.array([alpha]), l1_ratio,
                                          np.zeros(Z.shape[1]), 1e-12, 200000)
        ref = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-12, max_iter=1000000,
                         fit_intercept=False).fit(Z, yc)

        def objective(w):
            r = yc - Z @ w
            return (r @ r / (2 * len(y)) + alpha * l1_ratio * np.abs(w).sum()
                    + 0.5 * alpha * (1 - l1_ratio) * w @ w)

        assert converged[0]
        assert objective(W[0]) <= objective(ref.coef_) + 1e-10


def test_default_pipeline_fits_three_meta_models_and_blends_by_inverse_rmse():
    P, y, _ = planted_oof()
    meta = RegularizedMetaLearner().fit(P, y)
    assert meta.meta_models_ == ("ridge", "lasso", "elasticnet")
    assert set(meta.alpha_) == {"ridge", "lasso", "elasticnet"}
    assert meta.l1_ratio_ in (0.1, 0.5, 0.7, 0.9, 0.95, 0.99)
    rmse = np.sqrt(np.mean((meta.meta_oof_predictions_ - y[:, None]) ** 2, axis=0))
    assert_allclose(meta.meta_oof_rmse_, rmse)
    assert_allclose(meta.blend_weights_, (1 / rmse) / np.sum(1 / rmse))
    assert_allclose(meta.coef_, meta.blend_weights_ @ meta.meta_coef_)
    per_model = meta.transform(P) @ meta.meta_coef_.T + meta.meta_intercept_
    assert_allclose(meta.predict(P), per_model @ meta.blend_weights_)
    uniform = RegularizedMetaLearner(blend="uniform").fit(P, y)
    assert_allclose(uniform.blend_weights_, np.full(3, 1 / 3))


def test_meta_oof_predictions_are_out_of_fold():
    P, y, _ = planted_oof()
    cv = KFold(4, shuffle=True, random_state=0)
    alphas = np.logspace(-2, 3, 11)
    meta = ridge_only(ridge_alphas=alphas, standardize=False, cv=cv).fit(P, y)
    for train, test in cv.split(P):
        ref = RidgeCV(alphas=alphas).fit(P[train], y[train])
        assert_allclose(meta.meta_oof_predictions_[test, 0], ref.predict(P[test]),
                        rtol=RTOL_RIDGE)


def test_rows_outside_every_test_fold_get_nan_and_overlaps_are_refused():
    P, y, _ = planted_oof(n=200)
    splits = [(np.arange(100, 200), np.arange(0, 50)), (np.arange(0, 100), np.arange(150, 200))]
    meta = ridge_only(cv=splits).fit(P, y)
    assert np.isnan(meta.meta_oof_predictions_[50:150]).all()
    assert np.isfinite(meta.meta_oof_predictions_[:50]).all()
    with pytest.raises(ValueError, match="overlap"):
        ridge_only(cv=[(np.arange(100), np.arange(100, 200)),
                       (np.arange(50), np.arange(50, 200))]).fit(P, y)


@pytest.mark.parametrize("sparse_extra", [False, True])
def test_cg_solver_matches_direct(sparse_extra):
    P, y, _ = planted_oof()
    rng = np.random.default_rng(3)
    extra = rng.normal(size=(P.shape[0], 5)) * (rng.random((P.shape[0], 5)) < 0.3)
    X = np.hstack([P, extra])
    if sparse_extra:
        X = sp.hstack([sp.csr_matrix(P), sp.csr_matrix(extra)], format="csr")
    common = dict(meta_models=("ridge",), n_predictions=P.shape[1], inner_cv=3, tol=1e-12)
    direct = RegularizedMetaLearner(solver="direct", **common).fit(X, y)
    cg = RegularizedMetaLearner(solver="cg", **common).fit(X, y)
    assert cg.solver_ == "cg" and direct.solver_ == "direct"
    assert direct.alpha_ == cg.alpha_
    assert_allclose(cg.predict(X), direct.predict(X), rtol=1e-7, atol=1e-9)
    names = direct.get_feature_names_out()
    assert list(names[-5:]) == [f"x{j}" for j in range(P.shape[1], P.shape[1] + 5)]
    auto = RegularizedMetaLearner(**{**common, "tol": 1e-4}).fit(X, y)
    assert auto.solver_ == "direct"


def test_cg_lasso_path_matches_direct():
    P, y, _ = planted_oof()
    P, y = P[:300], y[:300]
    common = dict(meta_models=("lasso", "elasticnet"), inner_cv=3, tol=1e-8,
                  max_iter=100000, l1_ratio=(0.5,), lasso_alphas=10)
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
    search = GridSearchCV(RegularizedMetaLearner(meta_models=("ridge",)),
                          {"corr_threshold": [None, 0.9, 0.99]}, cv=3).fit(P, y)
    assert search.best_params_["corr_threshold"] in (None, 0.9, 0.99)
    assert search.best_estimator_.predict(P).shape == y.shape


def test_convergence_warning_names_the_fix():
    P, y, _ = planted_oof()
    with pytest.warns(ConvergenceWarning, match="increase max_iter"):
        RegularizedMetaLearner(meta_models=("lasso",), max_iter=1, tol=1e-12).fit(P, y)


@pytest.mark.parametrize("params, match", [
    ({"meta_models": ("ridge", "svm")}, "meta_models"),
    ({"meta_models": ()}, "meta_models"),
    ({"ridge_alphas": [1.0, -1.0]}, "ridge_alphas"),
    ({"l1_ratio": (0.0,)}, "l1_ratio"),
    ({"meta_features": ("mean", "skew")}, "meta_features"),
    ({"n_predictions": 50}, "n_predictions"),
])
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
    with pytest.raises(ValueError, match="non-zero"):
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
