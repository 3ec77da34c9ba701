"""skcgd.metrics: worst-group accuracy and log-loss, and the per-group report.

Oracles: numpy by hand on small arrays, and scikit-learn's ``accuracy_score`` / ``log_loss``
on each group's rows. Values are compared at rtol=1e-12 where both sides sum the same terms
(the order of the sums may differ) and at rtol=1e-10 against the hand-written log-loss
(scikit-learn clips the probabilities by the machine epsilon; none here is that close to 0).
"""

import importlib.abc
import subprocess
import sys

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.metrics import accuracy_score, log_loss, make_scorer
from sklearn.model_selection import GridSearchCV, ParameterGrid, StratifiedKFold

from skcgd.datasets import make_group_shift
from skcgd.linear_model import MinimaxLogisticRegression, MinimaxLogisticRegressionCV
from skcgd.metrics import group_report, worst_group_accuracy, worst_group_log_loss

RTOL = 1e-12


# -- hand oracles ------------------------------------------------------------------------------
def _hand_accuracy(y, pred, w):
    return np.sum(w * (y == pred)) / np.sum(w)


def _hand_log_loss(y, proba, w, classes):
    p_true = proba[np.arange(len(y)), np.searchsorted(classes, y)]
    return -np.sum(w * np.log(p_true)) / np.sum(w)


def _per_group(function, groups, *arrays):
    return {k: function(*(a[groups == k] for a in arrays)) for k in np.unique(groups)}


def _problem(n=60, n_classes=3, seed=0, string_labels=False):
    rng = np.random.default_rng(seed)
    classes = np.arange(n_classes)
    y = rng.integers(0, n_classes, n)
    pred = np.where(rng.random(n) < 0.7, y, rng.integers(0, n_classes, n))
    proba = rng.dirichlet(np.ones(n_classes), n)
    groups = rng.choice(np.array(["north", "south", "west"]), n, p=[0.6, 0.3, 0.1])
    w = rng.uniform(0.2, 3.0, n)
    if string_labels:
        names = np.array([f"class_{k}" for k in classes])
        y, pred, classes = names[y], names[pred], names
    return y, pred, proba, groups, w, classes


# -- values ------------------------------------------------------------------------------------
def test_small_hand_computed_values():
    y_true = np.array([0, 1, 1, 0, 1, 0, 1])
    y_pred = np.array([0, 1, 0, 0, 1, 1, 1])
    groups = np.array([0, 0, 0, 1, 1, 2, 2])
    # group 0: 2 of 3 right, group 1: 2 of 2, group 2: 1 of 2
    assert worst_group_accuracy(y_true, y_pred, groups=groups) == pytest.approx(0.5, rel=RTOL)
    # weights 1,1,4 in group 0: (1 + 1) / 6 right
    w = np.array([1, 1, 4, 1, 1, 1, 1.0])
    assert worst_group_accuracy(y_true, y_pred, groups=groups, sample_weight=w) == pytest.approx(
        1 / 3, rel=RTOL
    )
    proba = np.array(
        [[0.8, 0.2], [0.4, 0.6], [0.5, 0.5], [0.9, 0.1], [0.3, 0.7], [0.6, 0.4], [0.2, 0.8]]
    )
    losses = {
        0: -(np.log(0.8) + np.log(0.6) + np.log(0.5)) / 3,
        1: -(np.log(0.9) + np.log(0.7)) / 2,
        2: -(np.log(0.6) + np.log(0.8)) / 2,
    }
    assert worst_group_log_loss(y_true, proba, groups=groups) == pytest.approx(
        max(losses.values()), rel=1e-10
    )


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("string_labels", [False, True])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_worst_group_accuracy_is_the_smallest_accuracy_score_of_a_group(
    weighted, string_labels, n_classes
):
    y, pred, _, groups, w, _ = _problem(n_classes=n_classes, string_labels=string_labels)
    sw = w if weighted else None
    weights = w if weighted else np.ones(len(y))
    per_group = {
        k: accuracy_score(y[groups == k], pred[groups == k], sample_weight=weights[groups == k])
        for k in np.unique(groups)
    }
    hand = _per_group(_hand_accuracy, groups, y, pred, w if weighted else np.ones(len(y)))
    for k in per_group:
        assert per_group[k] == pytest.approx(hand[k], rel=RTOL)
    # the oracle is not degenerate: the groups differ
    assert max(per_group.values()) - min(per_group.values()) > 0.01
    value = worst_group_accuracy(y, pred, groups=groups, sample_weight=sw)
    assert value == pytest.approx(min(per_group.values()), rel=RTOL)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("string_labels", [False, True])
def test_worst_group_log_loss_is_the_largest_log_loss_of_a_group(weighted, string_labels):
    y, _, proba, groups, w, classes = _problem(n_classes=3, string_labels=string_labels)
    sw = w if weighted else None
    weights = w if weighted else np.ones(len(y))
    per_group = {
        k: log_loss(
            y[groups == k], proba[groups == k], labels=classes, sample_weight=weights[groups == k]
        )
        for k in np.unique(groups)
    }
    hand = _per_group(
        lambda a, b, c: _hand_log_loss(a, b, c, classes),
        groups, y, proba, w if weighted else np.ones(len(y)),
    )  # fmt: skip
    for k in per_group:
        assert per_group[k] == pytest.approx(hand[k], rel=1e-10)
    assert max(per_group.values()) - min(per_group.values()) > 0.01
    value = worst_group_log_loss(y, proba, groups=groups, sample_weight=sw, labels=classes)
    assert value == pytest.approx(max(per_group.values()), rel=RTOL)
    # without labels, y_true's distinct labels are the classes (here all three occur)
    assert worst_group_log_loss(y, proba, groups=groups, sample_weight=sw) == value


def test_a_group_missing_a_class_is_scored_against_all_classes():
    y = np.array([0, 1, 2, 0, 1, 1, 1])
    proba = np.array(
        [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.5, 0.3, 0.2],
         [0.3, 0.3, 0.4], [0.1, 0.6, 0.3], [0.2, 0.5, 0.3]]
    )  # fmt: skip
    groups = np.array(["a", "a", "a", "a", "b", "b", "b"])  # group b holds class 1 only
    expected = max(
        -np.log([0.7, 0.8, 0.6, 0.5]).mean(),
        -np.log([0.3, 0.6, 0.5]).mean(),
    )
    assert worst_group_log_loss(y, proba, groups=groups) == pytest.approx(expected, rel=1e-10)
    # a fold that lacks class 2 altogether: the columns' classes come from labels
    keep = y != 2
    expected_fold = max(-np.log([0.7, 0.8, 0.5]).mean(), -np.log([0.3, 0.6, 0.5]).mean())
    value = worst_group_log_loss(y[keep], proba[keep], groups=groups[keep], labels=[0, 1, 2])
    assert value == pytest.approx(expected_fold, rel=1e-10)


def test_binary_probabilities_of_the_positive_class_equal_the_two_columns():
    y, _, proba, groups, w, _ = _problem(n_classes=2, seed=3)
    two = worst_group_log_loss(y, proba, groups=groups, sample_weight=w)
    one = worst_group_log_loss(y, proba[:, 1], groups=groups, sample_weight=w)
    assert one == pytest.approx(two, rel=1e-12)
    report = group_report(y, proba[:, 1:], groups=groups)  # one column: also class 1
    two_columns = group_report(y, proba, groups=groups)
    np.testing.assert_allclose(report["log_loss"], two_columns["log_loss"], rtol=1e-12)


def test_integer_weights_are_repetitions():
    y, pred, proba, groups, _, _ = _problem(n=40, seed=5)
    counts = np.random.default_rng(1).integers(1, 4, len(y))
    rep = np.repeat(np.arange(len(y)), counts)
    for weighted, repeated in [
        (worst_group_accuracy(y, pred, groups=groups, sample_weight=counts),
         worst_group_accuracy(y[rep], pred[rep], groups=groups[rep])),
        (worst_group_log_loss(y, proba, groups=groups, sample_weight=counts),
         worst_group_log_loss(y[rep], proba[rep], groups=groups[rep])),
    ]:  # fmt: skip
        assert weighted == pytest.approx(repeated, rel=1e-12)


def test_pandas_series_and_object_labels_give_the_numpy_values():
    pd = pytest.importorskip("pandas")
    y, pred, proba, groups, w, _ = _problem(n_classes=3, seed=6)
    # labels as integer Series (object-dtype integers are "unknown" targets to scikit-learn),
    # groups as Python strings in an object Series
    as_series = [pd.Series(y), pd.Series(pred), pd.Series(groups.astype(object))]
    assert worst_group_accuracy(*as_series[:2], groups=as_series[2], sample_weight=w) == (
        worst_group_accuracy(y, pred, groups=groups, sample_weight=w)
    )
    assert worst_group_log_loss(as_series[0], proba, groups=as_series[2]) == (
        worst_group_log_loss(y, proba, groups=groups)
    )
    # the message names a group held as a Python object too
    w[groups == "west"] = 0.0
    with pytest.raises(ValueError, match="group 'west' has zero total sample weight"):
        worst_group_accuracy(y, pred, groups=as_series[2], sample_weight=w)


# -- the report --------------------------------------------------------------------------------
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("kind", ["labels", "proba"])
def test_group_report_rows_are_the_metrics_of_each_group_and_of_all(weighted, kind):
    pd = pytest.importorskip("pandas")
    y, pred, proba, groups, w, classes = _problem(n_classes=3, seed=2)
    # with probabilities, the report's predicted label is the class of the largest one
    given = proba if kind == "proba" else pred
    y_pred = classes[np.argmax(proba, axis=1)] if kind == "proba" else pred
    sw = w if weighted else None
    report = group_report(y, given, groups=groups, sample_weight=sw)

    assert isinstance(report, pd.DataFrame)
    assert report.index.name == "group"
    assert report.index.tolist() == ["north", "south", "west", "all"]
    expected_columns = ["count", "weight", "accuracy", "log_loss"]
    if not weighted:
        expected_columns.remove("weight")
    if kind == "labels":
        expected_columns.remove("log_loss")
    assert report.columns.tolist() == expected_columns
    ones = np.ones(len(y))
    for name in ["north", "south", "west", "all"]:
        rows = groups == name if name != "all" else np.ones(len(y), dtype=bool)
        row = report.loc[name]
        assert row["count"] == rows.sum()
        ws = (w if weighted else ones)[rows]
        if weighted:
            assert row["weight"] == pytest.approx(ws.sum(), rel=RTOL)
        acc = accuracy_score(y[rows], y_pred[rows], sample_weight=ws)
        assert row["accuracy"] == pytest.approx(acc, rel=RTOL)
        if kind == "proba":
            loss = log_loss(y[rows], proba[rows], sample_weight=ws, labels=classes)
            assert row["log_loss"] == pytest.approx(loss, rel=RTOL)
    assert report["count"].dtype.kind == "i"
    groups_only = report.drop("all")
    assert groups_only["accuracy"].min() == pytest.approx(
        worst_group_accuracy(y, y_pred, groups=groups, sample_weight=sw), rel=RTOL
    )
    if kind == "proba":
        assert groups_only["log_loss"].max() == pytest.approx(
            worst_group_log_loss(y, proba, groups=groups, sample_weight=sw), rel=RTOL
        )


class _NoPandas(importlib.abc.MetaPathFinder):
    """An environment without pandas: ``import pandas`` fails as if it were not installed."""

    def find_spec(self, name, path=None, target=None):
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def test_group_report_without_pandas_is_a_dict_of_lists(monkeypatch):
    y, _, proba, groups, w, _ = _problem(n_classes=3, seed=4)
    with_pandas = group_report(y, proba, groups=groups, sample_weight=w)
    # pandas is hidden by removing it from sys.modules and refusing its import, rather than by
    # sys.modules["pandas"] = None: scikit-learn reads sys.modules["pandas"] to recognise
    # DataFrames and fails on None (AttributeError), which never happens without pandas.
    monkeypatch.delitem(sys.modules, "pandas", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_NoPandas(), *sys.meta_path])
    with pytest.raises(ImportError):
        import pandas  # noqa: F401
    report = group_report(y, proba, groups=groups, sample_weight=w)

    assert isinstance(report, dict)
    assert list(report) == ["group", "count", "weight", "accuracy", "log_loss"]
    assert report["group"] == ["north", "south", "west", "all"]
    assert all(isinstance(v, list) and len(v) == 4 for v in report.values())
    assert all(type(v) is int for v in report["count"])
    assert all(type(v) is float for key in ("weight", "accuracy", "log_loss") for v in report[key])
    if with_pandas is not None and not isinstance(with_pandas, dict):  # pandas is installed
        assert report["group"] == with_pandas.index.tolist()
        for column in with_pandas.columns:
            np.testing.assert_allclose(report[column], with_pandas[column], rtol=RTOL)


def test_importing_skcgd_metrics_loads_neither_pandas_nor_sklearn_nor_numba():
    watched = ("pandas", "numba", "sklearn", "skcgd.linear_model")
    code = (
        "import sys\n"
        "import skcgd.metrics\n"
        f"print(sorted(m for m in {watched!r} if m in sys.modules))\n"
        # a control: the same check sees scikit-learn (and pandas, with it) once they load
        "import sklearn.metrics\n"
        f"print(sorted(m for m in {watched!r} if m in sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    before, after = proc.stdout.splitlines()
    assert before == "[]", f"import skcgd.metrics loaded {before}"
    assert "'sklearn'" in after
    # -X importtime lists every module loaded; pandas may appear only after sklearn's import
    lines = proc.stderr.splitlines()
    first_sklearn = next(
        i for i, line in enumerate(lines) if line.rstrip().endswith("| sklearn.metrics")
    )
    metrics_at = next(
        i for i, line in enumerate(lines) if line.rstrip().endswith("| skcgd.metrics")
    )
    assert metrics_at < first_sklearn
    early = [line for line in lines[: metrics_at + 1] if "pandas" in line or "numba" in line]
    assert not early, early


# -- errors ------------------------------------------------------------------------------------
Y = np.array([0, 1, 1, 0, 1, 0])
G = np.array(["a", "a", "a", "b", "b", "b"])
P = np.tile([0.3, 0.7], (6, 1))
ALL = [worst_group_accuracy, worst_group_log_loss, group_report]


def _input(function):
    return P if function is worst_group_log_loss else Y


@pytest.mark.parametrize("function", ALL, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "change, match",
    [
        (dict(y_true=Y[:5]), "different lengths: 5 and 6"),
        (dict(groups=G[:4]), r"groups must have one entry per sample \(6\)"),
        (dict(sample_weight=np.ones(5)), r"sample_weight has shape \(5,\)"),
        (dict(sample_weight=[1, 1, -1, 1, 1, 1.0]), "negative"),
        (dict(sample_weight=[1, 1, 1, 0, 0, 0.0]), "group 'b' has zero total sample weight"),
        (dict(sample_weight=np.zeros(6)), "sums to zero"),
        (dict(y_true=[], pred=np.zeros((0,)), groups=[]), "empty input"),
        (dict(groups=[0, 0, 1, 1, "x", "x"]), "mixes values of different types"),
    ],
)
def test_errors_name_the_problem(function, change, match):
    kwargs = dict(y_true=Y, pred=_input(function), groups=G, sample_weight=None)
    kwargs.update(change)
    y_true, pred = kwargs.pop("y_true"), kwargs.pop("pred")
    with pytest.raises(ValueError, match=match):
        function(y_true, pred, **kwargs)


@pytest.mark.parametrize("function", ALL, ids=lambda f: f.__name__)
def test_groups_are_required(function):
    for call in (
        lambda: function(Y, _input(function)),
        lambda: function(Y, _input(function), groups=None),
    ):
        with pytest.raises(TypeError, match="groups is required") as info:
            call()
    if function is not group_report:  # the scorers say how to route them
        assert "set_score_request(groups=True)" in str(info.value)


@pytest.mark.parametrize("function", [worst_group_log_loss, group_report], ids=lambda f: f.__name__)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_probabilities_are_refused(function, bad):
    proba = P.copy()
    proba[4, 1] = bad
    with pytest.raises(ValueError, match=r"contains NaN or infinity \(rows \[4\]\)"):
        function(Y, proba, groups=G)


def test_columns_that_do_not_match_the_classes_are_refused():
    with pytest.raises(ValueError, match="has 3 columns, but the distinct labels of y_true"):
        worst_group_log_loss(Y, np.full((6, 3), 1 / 3), groups=G)
    with pytest.raises(ValueError, match="1-D y_proba is the probability of the second"):
        worst_group_log_loss(np.zeros(6), np.full(6, 0.3), groups=G)
    # labels says which classes the columns are
    assert worst_group_log_loss(np.zeros(6), np.full(6, 0.3), groups=G, labels=[0, 1]) == (
        pytest.approx(-np.log(0.7), rel=1e-10)
    )


def test_predictions_must_be_labels_where_labels_are_expected():
    with pytest.raises(ValueError, match="must be a 1-D array"):
        worst_group_accuracy(Y, P, groups=G)
    for function in (worst_group_accuracy, group_report):
        with pytest.raises(ValueError, match="read as predicted labels.*non-integer floats"):
            function(Y, P[:, 1], groups=G)


def test_a_group_called_all_is_refused_by_the_report():
    with pytest.raises(ValueError, match="A group is called 'all'"):
        group_report(Y, Y, groups=["all", "all", "x", "x", "y", "y"])


# -- as scorers --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shifted():
    X, y, groups = make_group_shift(300, minority_fraction=0.15, return_groups=True, random_state=0)
    return X, y, groups


def test_grid_search_with_routed_groups_picks_what_a_manual_loop_picks(shifted):
    X, y, groups = shifted
    grid = {"rho": [0.0, 1.0, 10.0, 50.0]}
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    estimator = MinimaxLogisticRegression("group")
    with sklearn.config_context(enable_metadata_routing=True):
        scoring = {
            "accuracy": make_scorer(worst_group_accuracy).set_score_request(groups=True),
            "log_loss": make_scorer(
                worst_group_log_loss, greater_is_better=False, response_method="predict_proba"
            ).set_score_request(groups=True),
        }
        search = GridSearchCV(
            clone(estimator).set_fit_request(groups=True),
            grid,
            scoring=scoring,
            refit="accuracy",
            cv=folds,
        ).fit(X, y, groups=groups)

    # by hand: the same folds, fits on the training rows with their groups, numpy metrics
    manual = {"accuracy": [], "log_loss": []}
    for params in ParameterGrid(grid):
        accuracy, loss = [], []
        for train, test in folds.split(X, y):
            model = clone(estimator).set_params(**params)
            model.fit(X[train], y[train], groups=groups[train])
            g, yt = groups[test], y[test]
            pred, proba = model.predict(X[test]), model.predict_proba(X[test])
            accuracy.append(min(np.mean(pred[g == k] == yt[g == k]) for k in np.unique(g)))
            loss.append(
                max(
                    -np.mean(np.log(proba[g == k, yt[g == k]]))  # classes are 0 and 1
                    for k in np.unique(g)
                )
            )
        manual["accuracy"].append(np.mean(accuracy))
        manual["log_loss"].append(-np.mean(loss))  # greater_is_better=False negates

    results = search.cv_results_
    np.testing.assert_allclose(results["mean_test_accuracy"], manual["accuracy"], rtol=RTOL)
    np.testing.assert_allclose(results["mean_test_log_loss"], manual["log_loss"], rtol=1e-10)
    best = int(np.argmax(manual["accuracy"]))
    assert search.best_index_ == best
    # the choice is not a tie: a wrong score would move it
    assert manual["accuracy"][best] > np.sort(manual["accuracy"])[-2] + 0.01


@pytest.mark.parametrize("metric", ["accuracy", "log_loss"])
def test_minimax_logistic_regression_cv_scores_the_held_out_groups(shifted, metric):
    X, y, groups = shifted
    Cs, rhos = [0.1, 1.0], [0.0, 20.0]
    folds = StratifiedKFold(3, shuffle=True, random_state=1)

    def scoring(estimator, X_test, y_test, groups):
        if metric == "accuracy":
            return worst_group_accuracy(y_test, estimator.predict(X_test), groups=groups)
        proba = estimator.predict_proba(X_test)
        return -worst_group_log_loss(y_test, proba, groups=groups, labels=estimator.classes_)

    # a tight tol, so that the path's warm-started fits and the oracle's cold ones agree
    cv = MinimaxLogisticRegressionCV(
        "group", Cs=Cs, rhos=rhos, cv=folds, scoring=scoring, tol=1e-10
    ).fit(X, y, groups=groups)

    expected = np.empty((3, len(rhos), len(Cs)))
    for f, (train, test) in enumerate(folds.split(X, y)):
        for i, rho in enumerate(rhos):
            for j, C in enumerate(Cs):
                model = MinimaxLogisticRegression("group", C=C, rho=rho, tol=1e-10)
                model.fit(X[train], y[train], groups=groups[train])
                g, yt = groups[test], y[test]
                if metric == "accuracy":
                    pred = model.predict(X[test])
                    per_group = [np.mean(pred[g == k] == yt[g == k]) for k in np.unique(g)]
                    expected[f, i, j] = min(per_group)
                else:
                    proba = model.predict_proba(X[test])
                    per_group = [-np.mean(np.log(proba[g == k, yt[g == k]])) for k in np.unique(g)]
                    expected[f, i, j] = -max(per_group)
    np.testing.assert_allclose(cv.scores_, expected, rtol=1e-6, atol=1e-12)
    mean = expected.mean(axis=0)
    assert cv.best_score_ == pytest.approx(mean.max(), rel=1e-6)
    assert mean.max() > np.sort(mean.ravel())[-2]  # one best pair: the choice is tested
    i, j = np.unravel_index(np.argmax(mean), mean.shape)
    assert (cv.rho_, cv.C_) == (rhos[i], Cs[j])


def test_minimax_logistic_regression_cv_routes_groups_to_a_scorer_that_requests_them(shifted):
    # make_scorer(...).set_score_request(groups=True) is scored like the callable that takes
    # groups (MinimaxLogisticRegressionCV reads the scorer's request)
    X, y, groups = shifted
    folds = StratifiedKFold(3, shuffle=True, random_state=1)
    grid = {"Cs": [0.1, 1.0], "rhos": [0.0, 20.0], "cv": folds, "tol": 1e-10}

    def by_hand(estimator, X_test, y_test, groups):
        return worst_group_accuracy(y_test, estimator.predict(X_test), groups=groups)

    reference = MinimaxLogisticRegressionCV("group", scoring=by_hand, **grid)
    reference.fit(X, y, groups=groups)
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = make_scorer(worst_group_accuracy).set_score_request(groups=True)
        routed = MinimaxLogisticRegressionCV("group", scoring=scorer, **grid)
        routed.fit(X, y, groups=groups)
    np.testing.assert_array_equal(routed.scores_, reference.scores_)
    assert (routed.C_, routed.rho_) == (reference.C_, reference.rho_)
