"""``python -m skcgd``: the estimator table (default) and its options."""

import os
import subprocess
import sys

import numpy as np
import pytest

from skcgd.__main__ import DATASETS, load_dataset, main


def _table(out):
    """The table rows of the demo's output: ``{model: (accuracy, worst, log-loss, seconds,
    compile seconds)}`` (0 when nothing was compiled for the row)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("-----")) + 1
    rows = {}
    for line in lines[start:]:
        if not line.strip() or line.startswith("("):
            break
        name, values = line[:52].strip(), line[52:].split()
        rows[name] = tuple(0.0 if v == "-" else float(v.rstrip("s")) for v in values)
    return rows


def test_default_demo_prints_the_estimator_table(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "breast_cancer" in out and "compile" in out
    rows = _table(out)
    names = " ".join(rows)
    for model in (
        "LogisticRegression",
        'MinimaxLogisticRegression "chi2"',
        'MinimaxLogisticRegression "group"',
        'var_mode="class"',
        'var_mode="shared"',
    ):
        assert model in names
    for accuracy, worst, loss, seconds, compiling in rows.values():
        assert 0.8 <= worst <= accuracy <= 1.0
        assert 0 < loss < 2 and seconds >= 0 and compiling >= 0


def test_group_shift_demo_shows_the_group_adversary_gain(capsys):
    # measured (seed 0): worst-group accuracy 0.701 for LogisticRegression, 0.783 for "group"
    main(["--dataset", "group_shift"])
    rows = _table(capsys.readouterr().out)
    plain = next(v for k, v in rows.items() if k.startswith("LogisticRegression"))
    robust = next(v for k, v in rows.items() if '"group"' in k)
    assert robust[1] >= plain[1] + 0.05
    assert robust[0] >= plain[0] - 0.01


@pytest.mark.parametrize("name", DATASETS)
def test_datasets_are_fixed_by_the_seed(name):
    first, second = load_dataset(name, 3), load_dataset(name, 3)
    for a, b in zip(first[:6], second[:6]):
        np.testing.assert_array_equal(a, b)
    X_train, X_test, y_train, y_test, g_train, g_test, _ = first
    assert X_train.shape[1] == X_test.shape[1]
    assert len(y_train) == len(g_train) and len(y_test) == len(g_test)
    assert set(np.unique(y_test)) <= set(np.unique(y_train))


def test_group_shift_demo_draws_from_skcgd_datasets():
    # training set from the seed, test set from seed + 1, both with a 10% minority
    from skcgd.datasets import make_group_shift

    X, Xt, y, yt, g, gt, _ = load_dataset("group_shift", 5)
    train = make_group_shift(1000, minority_fraction=0.1, return_groups=True, random_state=5)
    test = make_group_shift(10_000, minority_fraction=0.1, return_groups=True, random_state=6)
    for actual, expected in zip((X, y, g, Xt, yt, gt), train + test):
        np.testing.assert_array_equal(actual, expected, strict=True)
    assert g.mean() == 0.1 and gt.mean() == 0.1


def test_bad_options_are_refused(capsys):
    with pytest.raises(SystemExit):
        main(["--dataset", "no_such_data"])
    assert "invalid choice" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["games", "--size", "0"])


def test_module_runs_from_the_command_line():
    env = dict(os.environ)
    help_text = subprocess.run(
        [sys.executable, "-m", "skcgd", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    assert "--dataset" in help_text and "games" in help_text
    out = subprocess.run(
        [sys.executable, "-m", "skcgd", "--dataset", "wine", "--seed", "1"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    assert "wine" in out and len(_table(out)) >= 5
