"""Stages chosen by nested cross-validation (issue 14): RegularizedMetaLearner's ``stages``.

Oracles: the meta-learner of commit 9778ea8 (the fixed pipeline before ``stages`` existed,
read from git) for the ``"paper"`` preset, bit for bit (``np.array_equal``); each candidate
refitted alone as a one-candidate search, and scikit-learn's ``RidgeCV`` / ``LassoCV`` on
the outer training rows by hand, for the nested scores (to 1e-10 relative: the same
arithmetic in another order); hand-computed pruning on each outer training fold.
"""

import subprocess
import types
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold

import skcgd
from skcgd.ensemble import RegularizedMetaLearner
from skcgd.ensemble._redundancy import prediction_moments
from skcgd.ensemble._stage_search import STAGE_KEYS, candidate_stages

# the commit whose default fit stages="paper" reproduces
OLD_COMMIT = "9778ea84cfe81c0870997bf0eff5b567070cdf7a"
RTOL = 1e-10  # the same fits summed in another order


def planted(n=400, seed=0):
    """OOF predictions of 6 models (y plus noise of growing size) and 2 near-twins."""
    rng = np.random.default_rng(seed)
    y = 2.0 + rng.normal(size=n)
    noise = np.array([0.3, 0.35, 0.45, 0.6, 0.8, 1.0])
    P = y[:, None] + rng.normal(size=(n, 6)) * noise
    twins = P[:, [0, 2]] + 0.02 * rng.normal(size=(n, 2))
    return np.hstack([P, twins]), y


@pytest.fixture(scope="module")
def old_meta_learner():
    root = Path(skcgd.__file__).resolve().parents[1]
    try:
        src = subprocess.run(
            ["git", "-C", str(root), "show", f"{OLD_COMMIT}:skcgd/ensemble/_meta_learner.py"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip(f"needs the git history (commit {OLD_COMMIT[:7]})")
    module = types.ModuleType("skcgd.ensemble._meta_learner_9778ea8")
    exec(compile(src, module.__name__, "exec"), module.__dict__)
    return module.RegularizedMetaLearner


def _assert_identical(new, old):
    # condition numbers are computed another way since (one symmetric eigendecomposition of
    # the correlation matrix instead of an SVD, inf without arithmetic for a rank-deficient
    # one, issue 14's wide inputs): equal to rounding, not bit for bit
    names = [k for k in vars(old) if k.endswith("_") and not k.startswith("condition_number")]
    assert names
    for name in [k for k in vars(old) if k.startswith("condition_number")]:
        assert_allclose(getattr(new, name), getattr(old, name), rtol=1e-8, err_msg=name)
    for name in names:
        a, b = getattr(new, name), getattr(old, name)
        if name == "dropped_columns_":
            assert len(a) == len(b)
            for ra, rb in zip(a, b):
                assert ra.keys() == rb.keys()
                for key in ra:
                    assert_array_equal(ra[key], rb[key], err_msg=f"{name}[{key}]")
        elif isinstance(b, dict):
            assert a == b, name
        else:
            a, b = np.asarray(a), np.asarray(b)
            assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), name


@pytest.mark.parametrize(
    "params, weighted, sparse_extra",
    [
        ({}, False, False),
        ({}, True, False),
        ({"inner_cv": 3, "cv": KFold(4, shuffle=True, random_state=0)}, False, False),
        ({"meta_models": ("ridge",), "meta_features": False}, True, False),
        ({"solver": "cg", "l1_ratio": (0.5,), "n_predictions": 8}, False, True),
    ],
)
def test_paper_preset_is_the_old_default_bit_for_bit(
    old_meta_learner, params, weighted, sparse_extra
):
    P, y = planted()
    X = P
    if sparse_extra:
        rng = np.random.default_rng(1)
        extra = sp.random(P.shape[0], 5, density=0.3, random_state=rng, format="csr")
        X = sp.hstack([sp.csr_matrix(P), extra], format="csr")
    sw = np.random.default_rng(2).uniform(0.2, 3.0, y.shape[0]) if weighted else None
    old = old_meta_learner(**params).fit(X, y, sample_weight=sw)
    new = RegularizedMetaLearner(stages="paper", **params).fit(X, y, sample_weight=sw)
    _assert_identical(new, old)
    assert np.array_equal(new.predict(X), old.predict(X))
    # the one row of its table is the blend's out-of-fold RMSE
    blend = new.meta_oof_predictions_ @ new.blend_weights_
    rmse = np.sqrt(np.average((blend - y) ** 2, weights=sw))
    assert new.cv_results_["mean_test_rmse"] == pytest.approx(rmse, rel=RTOL)
    assert new.best_index_ == 0 and new.best_params_["final"] == "blend"


def test_auto_lists_every_candidate_and_chooses_the_argmin():
    P, y = planted()
    meta = RegularizedMetaLearner(lasso_alphas=8).fit(P, y)
    results = meta.cv_results_
    grid = candidate_stages(meta, 3)
    assert results["params"] == grid and len(grid) == 16
    # every (pruning, meta-features, final) combination of the documented grid
    combos = {(p["corr_threshold"], p["meta_features"], p["final"]) for p in grid}
    assert combos == {
        (c, m, f) for c in (0.95, None, 0.99, 0.9) for m in (True, False) for f in ("blend", "best")
    }
    rmse = results["mean_test_rmse"]
    assert meta.best_index_ == int(np.argmin(rmse))
    assert meta.best_params_ == grid[meta.best_index_]
    assert results["rank_test_score"][meta.best_index_] == 1
    assert_allclose(results["mean_test_score"], -rmse)
    assert meta.best_score_ == -rmse[meta.best_index_]
    for key in STAGE_KEYS:
        assert list(results[f"param_{key}"]) == [p[key] for p in grid]
    # pooled RMSE from the splits' (equal-size folds, unit weights)
    splits = np.array([results[f"split{k}_test_score"] for k in range(5)])
    assert_allclose(rmse, np.sqrt(np.mean(splits**2, axis=0)), rtol=RTOL)


@pytest.mark.parametrize("index", [0, 5, 11])
def test_each_candidates_score_is_its_own_nested_fit(index):
    # a one-candidate search is that candidate alone: the same score, and the model it
    # refits is what the search refits when it chooses that candidate
    P, y = planted()
    auto = RegularizedMetaLearner(lasso_alphas=8).fit(P, y)
    params = auto.cv_results_["params"][index]
    alone = RegularizedMetaLearner(lasso_alphas=8, stages=[params]).fit(P, y)
    assert alone.best_params_ == params
    assert_allclose(
        alone.cv_results_["mean_test_rmse"][0], auto.cv_results_["mean_test_rmse"][index], RTOL
    )
    chosen = RegularizedMetaLearner(lasso_alphas=8, stages=[auto.best_params_]).fit(P, y)
    assert_allclose(chosen.coef_, auto.coef_, rtol=RTOL)
    assert_array_equal(chosen.kept_columns_, auto.kept_columns_)


def test_nested_pruning_and_weights_by_hand():
    # ridge alone, no meta-features, pruning at the paper's thresholds: in every outer fold
    # the kept columns are those of the training rows' moments, the model is RidgeCV on them
    # (standardised), and the fold's score is its RMSE on the test rows
    P, y = planted()
    cv = KFold(4, shuffle=True, random_state=3)
    alphas = np.logspace(-2, 3, 11)
    meta = RegularizedMetaLearner(
        meta_models=("ridge",), ridge_alphas=alphas, meta_features=False, cv=cv
    )
    meta.set_params(stages=[{}]).fit(P, y)
    for k, (train, test) in enumerate(cv.split(P)):
        probe = RegularizedMetaLearner(stages="paper", meta_features=False)
        mom = prediction_moments(P[train], P.shape[1], y[train], np.ones(train.size))
        probe.n_features_in_ = P.shape[1]
        kept, _ = probe._select_columns(mom, P.shape[1])
        Z = P[:, kept]
        mu, sd = Z[train].mean(0), Z[train].std(0)
        ref = RidgeCV(alphas=alphas).fit((Z[train] - mu) / sd, y[train])
        pred = ref.predict((Z[test] - mu) / sd)
        assert_allclose(meta.meta_oof_predictions_[test, 0], pred, rtol=1e-8)
        rmse = np.sqrt(np.mean((pred - y[test]) ** 2))
        assert -meta.cv_results_[f"split{k}_test_score"][0] == pytest.approx(rmse, rel=1e-8)


def test_pruning_is_decided_inside_every_outer_fold():
    # a twin that is a near-copy on the first half of the rows only: the folds that train on
    # less of that half keep it, the fit on all rows drops it
    P, y = planted(n=400)
    rng = np.random.default_rng(5)
    twin = P[:, 0] + np.r_[0.02 * rng.normal(size=200), 0.2 * rng.normal(size=200)]
    X = np.column_stack([P[:, :6], twin])
    cv = KFold(2)  # fold 0 tests the first half, so trains on the second (not a twin there)
    meta = RegularizedMetaLearner(cv=cv, stages=[{"final": "blend"}], meta_features=False)
    meta.fit(X, y)
    # fold 0 keeps 7 columns, fold 1 drops the twin (6): the mean over the folds is 6.5
    assert meta.cv_results_["mean_n_kept"][0] == 6.5


def test_stages_are_validated():
    P, y = planted()
    with pytest.raises(ValueError, match="unknown keys"):
        RegularizedMetaLearner(stages=[{"thresholds": 1}]).fit(P, y)
    with pytest.raises(ValueError, match="final must be"):
        RegularizedMetaLearner(stages=[{"final": "stack"}]).fit(P, y)
    with pytest.raises(ValueError, match="at least one"):
        RegularizedMetaLearner(stages=[]).fit(P, y)
    with pytest.raises(ValueError, match="stages"):
        RegularizedMetaLearner(stages="fixed").fit(P, y)


def test_verbose_prints_one_line_per_stage_and_candidate(capsys):
    P, y = planted()
    RegularizedMetaLearner(lasso_alphas=5).fit(P, y)
    assert capsys.readouterr().out == ""
    RegularizedMetaLearner(lasso_alphas=5, verbose=1).fit(P, y)
    lines = capsys.readouterr().out.splitlines()
    pattern = r"^\[RegularizedMetaLearner\] .+ \(\d+\.\d\d s\)$"
    assert all(__import__("re").match(pattern, line) for line in lines), lines
    assert sum("stage" in line for line in lines) == 4
    assert sum("candidate" in line for line in lines) == 16
    RegularizedMetaLearner(lasso_alphas=5, verbose=1, stages="paper").fit(P, y)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("] ")[1].split(":")[0] for line in lines[1:]] == [
        "stage 1",
        "stage 2",
        "stage 3",
        "stage 4",
    ]


def test_search_on_the_cg_solver_matches_the_direct_one():
    # the search runs the same fits on either solver (ridge by 3-fold on both): the same
    # table to the solvers' tolerance, and the same choice
    P, y = planted()
    common = dict(meta_models=("ridge",), inner_cv=3, tol=1e-12)
    direct = RegularizedMetaLearner(solver="direct", **common).fit(P, y)
    cg = RegularizedMetaLearner(solver="cg", **common).fit(P, y)
    assert (direct.solver_, cg.solver_) == ("direct", "cg")
    assert_allclose(cg.cv_results_["mean_test_rmse"], direct.cv_results_["mean_test_rmse"], 1e-7)
    assert cg.best_params_ == direct.best_params_
    assert_allclose(cg.predict(P), direct.predict(P), rtol=1e-7)
