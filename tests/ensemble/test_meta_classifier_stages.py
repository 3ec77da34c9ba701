"""RegularizedMetaClassifier's stages chosen by nested CV, its splitters and verbose (issue 14).

Oracles: the meta-classifier of commit 9778ea8 (read from git) for ``stages="paper"``, bit
for bit; one-candidate searches for each row of ``cv_results_`` (to 1e-10: the same fits);
scikit-learn's GridSearchCV over a StandardScaler + LogisticRegression pipeline, with the same
outer and inner splitters, for the C chosen in every outer fold (exactly: the same grid).
"""

import re
import subprocess
import types
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skcgd
from skcgd.ensemble import RegularizedMetaClassifier

OLD_COMMIT = "9778ea84cfe81c0870997bf0eff5b567070cdf7a"


def planted_log_odds(n=300, seed=0, n_classes=2):
    """Log-odds of 4 models (evidence plus noise of growing size) and a near twin of model 0;
    one column per model for two classes, one per class and model otherwise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    k = 1 if n_classes == 2 else n_classes
    evidence = (2.0 * np.eye(n_classes)[y] - 1.0)[:, -k:]
    blocks = [evidence + s * rng.normal(size=(n, k)) for s in (0.8, 1.2, 1.6, 2.0)]
    blocks.append(blocks[0] + 0.02 * rng.normal(size=(n, k)))
    return np.hstack(blocks), y


@pytest.fixture(scope="module")
def old_meta_classifier():
    root = Path(skcgd.__file__).resolve().parents[1]
    path = "skcgd/ensemble/_meta_classifier.py"
    try:
        src = subprocess.run(
            ["git", "-C", str(root), "show", f"{OLD_COMMIT}:{path}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip(f"needs the git history (commit {OLD_COMMIT[:7]})")
    module = types.ModuleType("skcgd.ensemble._meta_classifier_9778ea8")
    exec(compile(src, module.__name__, "exec"), module.__dict__)
    return module.RegularizedMetaClassifier


@pytest.mark.parametrize(
    "n_classes, params, weighted",
    [
        (2, {}, False),
        (2, {"Cs": (0.1, 1.0, 10.0)}, True),
        (3, {"meta_models": [("a", LogisticRegression()), ("b", LogisticRegression(C=0.1))]}, 0),
    ],
)
def test_paper_preset_is_the_old_default_bit_for_bit(
    old_meta_classifier, n_classes, params, weighted
):
    L, y = planted_log_odds(n_classes=n_classes)
    sw = np.random.default_rng(1).uniform(0.2, 3.0, y.shape[0]) if weighted else None
    old = old_meta_classifier(**params).fit(L, y, sample_weight=sw)
    new = RegularizedMetaClassifier(stages="paper", **params).fit(L, y, sample_weight=sw)
    for name in (
        "classes_",
        "model_log_loss_",
        "kept_columns_",
        "meta_oof_proba_",
        "meta_oof_log_loss_",
        "blend_weights_",
    ):
        assert np.array_equal(getattr(new, name), getattr(old, name), equal_nan=True), name
    assert [d["column"] for d in new.dropped_columns_] == [
        d["column"] for d in old.dropped_columns_
    ]
    assert new.C_ == old.C_
    for name in new.meta_oof_C_:
        assert np.array_equal(new.meta_oof_C_[name], old.meta_oof_C_[name], equal_nan=True)
    assert np.array_equal(new.predict_proba(L), old.predict_proba(L))
    assert new.cv_results_["mean_test_log_loss"].shape == (1,)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_auto_table_lists_every_candidate_and_chooses_the_argmin(n_classes):
    L, y = planted_log_odds(n_classes=n_classes)
    models = [("a", LogisticRegression()), ("b", LogisticRegression(C=0.1))]
    meta = RegularizedMetaClassifier(Cs=(0.1, 1.0), meta_models=models).fit(L, y)
    results = meta.cv_results_
    assert len(results["params"]) == 16  # 4 pruning levels x 2 meta-feature sets x 2 finals
    loss = results["mean_test_log_loss"]
    assert meta.best_index_ == int(np.argmin(loss))
    assert results["rank_test_score"][meta.best_index_] == 1
    assert meta.best_params_ == results["params"][meta.best_index_]
    # the pooled log-loss from the splits' (equal folds, unit weights)
    splits = np.array([results[f"split{k}_test_score"] for k in range(5)])
    sizes = np.array([len(te) for _, te in StratifiedKFold(5).split(L, y)])
    assert_allclose(loss, -(splits.T @ sizes) / sizes.sum(), rtol=1e-10)
    # a row of the table is that candidate searched alone
    for index in (0, 7, meta.best_index_):
        params = results["params"][index]
        alone = RegularizedMetaClassifier(Cs=(0.1, 1.0), meta_models=models, stages=[params])
        alone.fit(L, y)
        assert_allclose(alone.cv_results_["mean_test_log_loss"][0], loss[index], rtol=1e-10)
    assert_allclose(alone.predict_proba(L), meta.predict_proba(L), rtol=1e-10)


@pytest.mark.parametrize("kind", ["stratified", "group"])
def test_outer_and_inner_splitters_get_y_and_groups(kind):
    # item 4 of issue 14: the C chosen in every outer fold is GridSearchCV's on that fold's
    # training rows with the same inner splitter
    L, y = planted_log_odds(240)
    groups = np.repeat(np.arange(24), 10) if kind == "group" else None
    if kind == "stratified":
        outer, inner = StratifiedKFold(4, shuffle=True, random_state=0), StratifiedKFold(3)
    else:
        outer, inner = GroupKFold(4), GroupKFold(3)
    Cs = (0.01, 0.1, 1.0, 10.0)
    lr = LogisticRegression(tol=1e-10, max_iter=10000)
    meta = RegularizedMetaClassifier(
        meta_models=[("lr", lr)], Cs=Cs, cv=outer, inner_cv=inner, stages=[{}]
    ).fit(L, y, groups=groups)
    for k, (train, test) in enumerate(outer.split(L, y, groups)):
        search = GridSearchCV(
            make_pipeline(StandardScaler(), lr),
            {"logisticregression__C": Cs},
            cv=inner,
            scoring="neg_log_loss",
        ).fit(L[train], y[train], groups=None if groups is None else groups[train])
        assert meta.meta_oof_C_["lr"][k] == search.best_params_["logisticregression__C"]


def test_verbose_lines(capsys):
    L, y = planted_log_odds()
    RegularizedMetaClassifier(Cs=(0.1, 1.0)).fit(L, y)
    assert capsys.readouterr().out == ""
    RegularizedMetaClassifier(Cs=(0.1, 1.0), verbose=1).fit(L, y)
    lines = capsys.readouterr().out.splitlines()
    pattern = r"^\[RegularizedMetaClassifier\] .+ \(\d+\.\d\d s\)$"
    assert all(re.match(pattern, line) for line in lines), lines
    assert sum("stage" in line for line in lines) == 4
    assert sum("candidate" in line for line in lines) == 8  # one meta-model: no "best"
