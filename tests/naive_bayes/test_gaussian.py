"""Tests of skcgd.naive_bayes.GaussianNaiveBayes.

Oracles: scikit-learn's GaussianNB for ``var_mode="class"`` (same model; with integer sample
weights, GaussianNB fitted on the data with every row repeated ``w`` times), and direct numpy
transcriptions of the model for ``var_mode="shared"``. Tolerances: fitted moments 1e-12
relative (means: relative to |mean| + std), probabilities 1e-10 absolute, log-likelihoods
1e-10 relative.
"""

import ast
import pathlib
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import datasets
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from skcgd.datasets import make_naive_bayes_simulation
from skcgd.naive_bayes import GaussianNaiveBayes
from skcgd.naive_bayes._gaussian import _warm_up

RTOL_MOMENTS = 1e-12
ATOL_PROBA = 1e-10
RTOL_LOGLIK = 1e-10


# ----------------------------------------------------------------------------- data


def _offset_blobs():
    """Four classes, feature scales from 1e-2 to 1e2 and offsets up to 1e3 (stability)."""
    rng = np.random.default_rng(0)
    n, d, k = 3000, 12, 4
    y = rng.integers(0, k, n)
    scale = np.logspace(-2, 2, d)
    centers = rng.standard_normal((k, d)) * scale
    X = centers[y] + rng.standard_normal((n, d)) * scale + np.linspace(0, 1e3, d)
    return X, y


def _imbalanced():
    X, y = datasets.make_classification(
        n_samples=600,
        n_features=8,
        n_informative=5,
        n_classes=3,
        weights=[0.7, 0.2, 0.1],
        random_state=1,
    )
    return X, np.array(["a", "b", "c"])[y]  # string labels


_LOADERS = {
    "iris": lambda: datasets.load_iris(return_X_y=True),
    "wine": lambda: datasets.load_wine(return_X_y=True),
    "breast_cancer": lambda: datasets.load_breast_cancer(return_X_y=True),
    "digits": lambda: datasets.load_digits(return_X_y=True),
    "offset_blobs": _offset_blobs,
    "imbalanced_str": _imbalanced,
}
DATASETS = list(_LOADERS)


def _load(name):
    X, y = _LOADERS[name]()
    return np.asarray(X, dtype=np.float64), np.asarray(y)


def _chunks(n, seed=0, n_chunks=5):
    """Uneven contiguous chunks (the first one small, so it may miss classes)."""
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.choice(np.arange(1, n), size=n_chunks - 1, replace=False))
    cuts[0] = min(cuts[0], 7)
    return np.split(np.arange(n), cuts)


def _assert_theta_close(theta, theta_ref, var_ref):
    # a mean near zero is only known to a fraction of its spread: scale by |mean| + std
    tol = RTOL_MOMENTS * (np.abs(theta_ref) + np.sqrt(var_ref))
    assert np.all(np.abs(theta - theta_ref) <= tol), np.max(np.abs(theta - theta_ref) / tol)


def _assert_jll_close(jll, jll_ref, var, prior):
    # relative to the size of the terms summed: a log-likelihood can cross zero
    with np.errstate(divide="ignore"):
        terms = np.abs(np.log(prior)) + 0.5 * np.abs(np.log(2 * np.pi * var)).sum(axis=1)
    tol = RTOL_LOGLIK * (np.abs(jll_ref) + terms)
    assert np.all(np.abs(jll - jll_ref) <= tol), np.max(np.abs(jll - jll_ref) / tol)


def _assert_fit_matches(ours, ref, X):
    assert_array_equal(ours.classes_, ref.classes_)
    assert_allclose(ours.class_count_, ref.class_count_, rtol=RTOL_MOMENTS)
    assert_allclose(ours.class_prior_, ref.class_prior_, rtol=RTOL_MOMENTS)
    _assert_theta_close(ours.theta_, ref.theta_, ref.var_)
    assert_allclose(ours.var_, ref.var_, rtol=RTOL_MOMENTS)
    assert_allclose(ours.epsilon_, ref.epsilon_, rtol=RTOL_MOMENTS)
    assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=0, atol=ATOL_PROBA)
    _assert_jll_close(
        ours.predict_joint_log_proba(X),
        ref.predict_joint_log_proba(X),
        ref.var_,
        ref.class_prior_,
    )
    assert_array_equal(ours.predict(X), ref.predict(X))


# ------------------------------------------------------ var_mode="class" vs GaussianNB


@pytest.mark.parametrize("name", DATASETS)
def test_class_mode_fit_matches_sklearn(name):
    X, y = _load(name)
    _assert_fit_matches(GaussianNaiveBayes().fit(X, y), GaussianNB().fit(X, y), X)


@pytest.mark.parametrize("name", DATASETS)
def test_class_mode_chunked_partial_fit_matches_sklearn_fit(name):
    X, y = _load(name)
    ours = GaussianNaiveBayes()
    for idx in _chunks(len(y)):
        ours.partial_fit(X[idx], y[idx], classes=np.unique(y))
    # sklearn's own partial_fit takes epsilon_ from the last batch: its fit is the oracle
    _assert_fit_matches(ours, GaussianNB().fit(X, y), X)


@pytest.mark.parametrize("name", ["iris", "wine", "offset_blobs", "imbalanced_str"])
def test_class_mode_integer_weights_match_repeated_rows(name):
    X, y = _load(name)
    w = np.random.default_rng(3).integers(0, 4, len(y))
    ref = GaussianNB().fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    _assert_fit_matches(GaussianNaiveBayes().fit(X, y, sample_weight=w), ref, X)
    chunked = GaussianNaiveBayes()
    for idx in _chunks(len(y), seed=1):
        if w[idx].sum() > 0:
            chunked.partial_fit(X[idx], y[idx], classes=np.unique(y), sample_weight=w[idx])
    _assert_fit_matches(chunked, ref, X)


@pytest.mark.parametrize("name", ["iris", "breast_cancer", "digits", "offset_blobs"])
def test_class_mode_real_weights_match_sklearn(name):
    X, y = _load(name)
    w = np.random.default_rng(4).uniform(0.0, 3.0, len(y))
    ours = GaussianNaiveBayes().fit(X, y, sample_weight=w)
    ref = GaussianNB().fit(X, y, sample_weight=w)
    # GaussianNB takes epsilon_ from the unweighted variance, we from the weighted one (the
    # variance of the data with each row repeated w times): compare epsilon with a direct
    # transcription, and the rest with epsilon removed.
    mean = np.average(X, axis=0, weights=w)
    weighted_var = np.average((X - mean) ** 2, axis=0, weights=w)
    assert_allclose(ours.epsilon_, 1e-9 * weighted_var.max(), rtol=RTOL_MOMENTS)
    assert_allclose(ours.class_count_, ref.class_count_, rtol=RTOL_MOMENTS)
    _assert_theta_close(ours.theta_, ref.theta_, ref.var_)
    raw, raw_ref = ours.var_ - ours.epsilon_, ref.var_ - ref.epsilon_
    assert np.all(np.abs(raw - raw_ref) <= RTOL_MOMENTS * (raw_ref + ref.epsilon_))
    # sklearn's prediction code on its own moments with our epsilon
    ref.var_ = raw_ref + ours.epsilon_
    assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=0, atol=ATOL_PROBA)


def test_priors_match_sklearn():
    X, y = _load("wine")
    priors = np.array([0.5, 0.3, 0.2])
    ours = GaussianNaiveBayes(priors=priors).fit(X, y)
    assert_allclose(ours.class_prior_, priors)
    _assert_fit_matches(ours, GaussianNB(priors=priors).fit(X, y), X)
    chunked = GaussianNaiveBayes(priors=priors)
    for idx in _chunks(len(y)):
        chunked.partial_fit(X[idx], y[idx], classes=np.unique(y))
    assert_allclose(chunked.class_prior_, priors)


def test_epsilon_does_not_drift_across_batches():
    # batches of very different scales: GaussianNB's partial_fit would end with the last
    # batch's epsilon; ours is the epsilon of all data seen, i.e. that of fit
    rng = np.random.default_rng(5)
    X = rng.standard_normal((400, 3)) * np.r_[np.ones(200), 100 * np.ones(200)][:, None]
    y = rng.integers(0, 2, 400)
    full = GaussianNaiveBayes(var_smoothing=1e-3).fit(X, y)
    assert_allclose(full.epsilon_, 1e-3 * np.var(X, axis=0).max(), rtol=RTOL_MOMENTS)
    for var_mode in ("class", "shared"):
        full = GaussianNaiveBayes(var_mode, var_smoothing=1e-3).fit(X, y)
        online = GaussianNaiveBayes(var_mode, var_smoothing=1e-3)
        for idx in np.array_split(np.arange(400), [150, 200, 390]):
            online.partial_fit(X[idx], y[idx], classes=[0, 1])
        assert_allclose(online.epsilon_, full.epsilon_, rtol=RTOL_MOMENTS)
        assert_allclose(online.var_, full.var_, rtol=RTOL_MOMENTS)


def test_partial_fit_after_fit_continues():
    X, y = _load("iris")
    half = GaussianNaiveBayes().fit(X[::2], y[::2]).partial_fit(X[1::2], y[1::2])
    full = GaussianNaiveBayes().fit(X, y)
    assert_allclose(half.var_, full.var_, rtol=RTOL_MOMENTS)
    _assert_theta_close(half.theta_, full.theta_, full.var_)


def test_class_without_data_gets_zero_probability():
    X, y = _load("iris")
    clf = GaussianNaiveBayes()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no log(0) or division warnings
        clf.partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])
        proba = clf.predict_proba(X)
        jll = clf.predict_joint_log_proba(X)
    assert_array_equal(proba[:, 2], 0.0)
    assert np.all(jll[:, 2] == -np.inf)
    assert set(clf.predict(X)) <= {0, 1}
    clf.partial_fit(X[y == 2], y[y == 2])
    _assert_fit_matches(
        clf, GaussianNB().fit(np.r_[X[y < 2], X[y == 2]], np.r_[y[y < 2], y[y == 2]]), X
    )


# ------------------------------------------------------------------ var_mode="shared"


def _pooled_joint_log_likelihood(X, y, X_test, sample_weight=None, var_smoothing=1e-9, priors=None):
    """The pooled-variance rule written out with numpy, one class at a time: the class
    variances averaged with the class priors (the frequencies unless ``priors`` is given)."""
    w = np.ones(len(y)) if sample_weight is None else sample_weight
    classes = np.unique(y)
    counts = np.array([w[y == c].sum() for c in classes])
    means = np.array([np.average(X[y == c], axis=0, weights=w[y == c]) for c in classes])
    variances = np.array(
        [
            np.average((X[y == c] - m) ** 2, axis=0, weights=w[y == c])
            for c, m in zip(classes, means)
        ]
    )
    total_var = np.average((X - np.average(X, axis=0, weights=w)) ** 2, axis=0, weights=w)
    prior = counts / counts.sum() if priors is None else np.asarray(priors, dtype=float)
    pooled = prior @ variances + var_smoothing * total_var.max()
    jll = np.empty((len(X_test), len(classes)))
    for k in range(len(classes)):
        jll[:, k] = (
            np.log(prior[k])
            - 0.5 * np.sum(np.log(2 * np.pi * pooled))
            - 0.5 * np.sum((X_test - means[k]) ** 2 / pooled, axis=1)
        )
    return jll


def _softmax(jll):
    z = np.exp(jll - jll.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


SHARED_DATASETS = ["iris", "wine", "breast_cancer_scaled", "blobs_binary"]


def _load_shared(name):
    if name == "breast_cancer_scaled":
        X, y = _load("breast_cancer")
        return StandardScaler().fit_transform(X), y
    if name == "blobs_binary":
        X, y = datasets.make_blobs(
            n_samples=500, centers=2, n_features=6, cluster_std=3.0, random_state=2
        )
        return X, y
    return _load(name)


@pytest.mark.parametrize("with_priors", [False, True], ids=["empirical-priors", "priors"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name", SHARED_DATASETS)
def test_shared_mode_matches_pooled_rule(name, weighted, with_priors):
    X, y = _load_shared(name)
    w = np.random.default_rng(6).uniform(0.2, 2.0, len(y)) if weighted else None
    priors = None
    if with_priors:  # far from the frequencies, so that weighting by them shows
        priors = np.arange(1.0, len(np.unique(y)) + 1) ** 2
        priors /= priors.sum()
    clf = GaussianNaiveBayes("shared", priors=priors).fit(X, y, sample_weight=w)
    jll = _pooled_joint_log_likelihood(X, y, X, sample_weight=w, priors=priors)

    assert np.all(clf.var_ == clf.var_[:1])  # one variance per feature, shared by classes
    _assert_jll_close(clf.predict_joint_log_proba(X), jll, clf.var_, clf.class_prior_)
    assert_allclose(clf.predict_proba(X), _softmax(jll), rtol=0, atol=ATOL_PROBA)
    assert_allclose(np.exp(clf.predict_log_proba(X)), _softmax(jll), rtol=0, atol=ATOL_PROBA)
    assert_array_equal(clf.predict(X), clf.classes_[np.argmax(jll, axis=1)])

    decision = clf.decision_function(X)
    linear = X @ clf.coef_.T + clf.intercept_
    scale = np.abs(linear).max()
    if len(clf.classes_) == 2:
        assert clf.coef_.shape == (1, X.shape[1]) and decision.shape == (len(X),)
        assert_allclose(decision, linear.ravel(), rtol=0, atol=1e-10 * scale)
        # two classes: the decision function is the log-odds of classes_[1]
        assert_allclose(decision, jll[:, 1] - jll[:, 0], rtol=0, atol=1e-10 * scale)
    else:
        assert clf.coef_.shape == (len(clf.classes_), X.shape[1])
        assert_allclose(decision, linear, rtol=0, atol=1e-10 * scale)
        # more classes: equal to the joint log-likelihood up to a per-sample term
        assert_allclose(decision - decision[:, :1], jll - jll[:, :1], rtol=0, atol=1e-10 * scale)


@pytest.mark.parametrize("name", ["iris", "blobs_binary"])
def test_shared_mode_chunked_partial_fit_equals_fit(name):
    X, y = _load_shared(name)
    w = np.random.default_rng(7).uniform(0.5, 1.5, len(y))
    full = GaussianNaiveBayes("shared").fit(X, y, sample_weight=w)
    online = GaussianNaiveBayes("shared")
    for idx in _chunks(len(y), seed=2):
        online.partial_fit(X[idx], y[idx], classes=np.unique(y), sample_weight=w[idx])
    for attr in ("class_count_", "class_prior_", "var_", "epsilon_", "coef_", "intercept_"):
        assert_allclose(
            getattr(online, attr), getattr(full, attr), rtol=RTOL_MOMENTS, atol=1e-14, err_msg=attr
        )
    _assert_theta_close(online.theta_, full.theta_, full.var_)
    assert_allclose(online.predict_proba(X), full.predict_proba(X), rtol=0, atol=ATOL_PROBA)


def test_decision_function_only_in_shared_mode():
    X, y = _load("iris")
    clf = GaussianNaiveBayes().fit(X, y)
    assert not hasattr(clf, "decision_function")
    assert not hasattr(clf, "coef_")
    clf.set_params(var_mode="shared").fit(X, y)
    assert hasattr(clf, "decision_function") and hasattr(clf, "coef_")
    clf.set_params(var_mode="class").fit(X, y)
    assert not hasattr(clf, "coef_")


@pytest.mark.parametrize("name", ["breast_cancer_scaled", "iris"])
def test_shared_mode_warm_starts_logistic_regression(name):
    X, y = _load_shared(name)
    X = StandardScaler().fit_transform(X)
    nb = GaussianNaiveBayes("shared").fit(X, y)
    warm = LogisticRegression(C=1.0, tol=1e-10, max_iter=10_000, warm_start=True)
    warm.coef_, warm.intercept_ = nb.coef_.copy(), nb.intercept_.copy()
    warm.fit(X, y)
    cold = LogisticRegression(C=1.0, tol=1e-10, max_iter=10_000).fit(X, y)
    # a convex problem: the warm start changes the path, not the optimum
    assert_allclose(warm.coef_, cold.coef_, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------------- dtypes


@pytest.mark.parametrize("var_mode", ["class", "shared"])
def test_float32_stays_float32_and_float64_stays_float64(var_mode):
    X, y = _load("wine")
    X = StandardScaler().fit_transform(X)
    X32 = X.astype(np.float32)
    clf32 = GaussianNaiveBayes(var_mode).fit(X32, y)
    clf64 = GaussianNaiveBayes(var_mode).fit(X32.astype(np.float64), y)
    attrs = ["class_count_", "class_prior_", "theta_", "var_", "epsilon_"]
    outputs = ["predict_proba", "predict_log_proba", "predict_joint_log_proba"]
    if var_mode == "shared":
        attrs += ["coef_", "intercept_"]
        outputs += ["decision_function"]
    for attr in attrs:
        assert getattr(clf32, attr).dtype == np.float32, attr
        assert getattr(clf64, attr).dtype == np.float64, attr
        # the moments are accumulated in float64 and rounded once
        assert_allclose(getattr(clf32, attr), getattr(clf64, attr), rtol=2e-7, atol=1e-7)
    for method in outputs:
        out32, out64 = getattr(clf32, method)(X32), getattr(clf64, method)(X)
        assert out32.dtype == np.float32 and out64.dtype == np.float64, method
    assert_allclose(
        clf32.predict_proba(X32), clf64.predict_proba(X32.astype(np.float64)), atol=1e-4
    )
    # log-probabilities are the logs of the float32 probabilities (where those have not
    # underflowed to zero: the log keeps the tail)
    proba, log_proba = clf32.predict_proba(X32), clf32.predict_log_proba(X32)
    kept = proba > np.finfo(np.float32).tiny
    assert_allclose(log_proba[kept], np.log(proba[kept]), rtol=1e-5, atol=1e-6)
    assert np.all(np.isfinite(log_proba))


def test_input_layouts_and_read_only_input():
    X, y = _load("wine")
    ref = GaussianNaiveBayes().fit(X, y)
    Xf = np.asfortranarray(X)
    Xr = X.copy()
    Xr.flags.writeable = False
    for Xin in (Xf, Xr, X.tolist()):
        clf = GaussianNaiveBayes().fit(Xin, y)
        assert_allclose(clf.var_, ref.var_, rtol=0)
        assert_allclose(clf.predict_proba(Xin), ref.predict_proba(X), rtol=0, atol=0)
    X_before = X.copy()
    GaussianNaiveBayes("shared").fit(X, y).predict_proba(X)
    assert_array_equal(X, X_before)


def test_pandas_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = _load("iris")
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = GaussianNaiveBayes("shared").fit(df, y)
    assert_array_equal(clf.feature_names_in_, ["a", "b", "c", "d"])
    assert clf.n_features_in_ == 4
    with pytest.warns(UserWarning, match="feature names"):
        proba = clf.predict_proba(X)
    assert_allclose(clf.predict_proba(df), proba)


def test_pickle_roundtrip():
    X, y = _load("iris")
    clf = GaussianNaiveBayes("shared").fit(X, y)
    clone = pickle.loads(pickle.dumps(clf))
    assert_array_equal(clone.predict_proba(X), clf.predict_proba(X))


# ------------------------------------------------------------------------- errors


def test_non_finite_input_is_refused():
    X, y = _load("iris")
    for bad, match in ((np.nan, "NaN"), (np.inf, "infinity"), (-np.inf, "infinity")):
        Xb = X.copy()
        Xb[10, 2] = bad
        with pytest.raises(ValueError, match=match):
            GaussianNaiveBayes().fit(Xb, y)
        w = np.ones(len(y))
        w[10] = 0.0  # a zero weight does not hide a bad value
        with pytest.raises(ValueError, match=match):
            GaussianNaiveBayes().fit(Xb, y, sample_weight=w)
        with pytest.raises(ValueError, match=match):
            GaussianNaiveBayes().partial_fit(Xb, y, classes=[0, 1, 2])
        for var_mode in ("class", "shared"):
            clf = GaussianNaiveBayes(var_mode).fit(X, y)
            methods = ["predict", "predict_proba", "predict_log_proba", "predict_joint_log_proba"]
            if var_mode == "shared":
                methods.append("decision_function")
            for method in methods:
                with pytest.raises(ValueError, match=match):
                    getattr(clf, method)(Xb)
    with pytest.raises(ValueError, match="too large"):
        GaussianNaiveBayes().fit(X * 1e160, y)


def test_bad_sample_weight_is_refused():
    X, y = _load("iris")
    w = np.ones(len(y))
    w[3] = -1.0
    with pytest.raises(ValueError, match="negative"):
        GaussianNaiveBayes().fit(X, y, sample_weight=w)
    with pytest.raises(ValueError, match="sums to zero"):
        GaussianNaiveBayes().fit(X, y, sample_weight=np.zeros(len(y)))
    with pytest.raises(ValueError, match="sums to zero"):
        GaussianNaiveBayes().partial_fit(X, y, classes=[0, 1, 2], sample_weight=np.zeros(len(y)))
    with pytest.raises(ValueError, match="one weight per sample"):
        GaussianNaiveBayes().fit(X, y, sample_weight=np.ones(len(y) - 1))
    with pytest.raises(ValueError, match="NaN"):
        GaussianNaiveBayes().fit(X, y, sample_weight=np.r_[np.nan, np.ones(len(y) - 1)])
    # a scalar weight is a uniform weight
    assert_allclose(
        GaussianNaiveBayes().fit(X, y, sample_weight=2.0).var_,
        GaussianNaiveBayes().fit(X, y).var_,
        rtol=RTOL_MOMENTS,
    )


def test_partial_fit_class_errors():
    X, y = _load("iris")
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        GaussianNaiveBayes().partial_fit(X, y)
    clf = GaussianNaiveBayes().partial_fit(X[y < 2], y[y < 2], classes=[0, 1])
    with pytest.raises(ValueError, match=r"labels \[2\] that are not among the classes"):
        clf.partial_fit(X, y)
    with pytest.raises(ValueError, match="not the same"):
        clf.partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X[:, :3], y)


@pytest.mark.parametrize(
    "priors, match",
    [
        ([0.5, 0.6, 0.1], "sum to one"),
        ([0.5, 0.5], "one entry per class"),
        ([[0.3, 0.3, 0.4]], "one entry per class"),
        ([1.2, -0.1, -0.1], "non-negative"),
    ],
)
def test_bad_priors_are_refused(priors, match):
    X, y = _load("iris")
    with pytest.raises(ValueError, match=match):
        GaussianNaiveBayes(priors=priors).fit(X, y)
    with pytest.raises(ValueError, match=match):
        GaussianNaiveBayes(priors=priors).partial_fit(X, y, classes=[0, 1, 2])


def test_other_bad_input_is_refused():
    X, y = _load("iris")
    with pytest.raises(TypeError, match="sparse.*MultinomialNB"):
        GaussianNaiveBayes().fit(sp.csr_matrix(X), y)
    clf = GaussianNaiveBayes().fit(X, y)
    with pytest.raises(TypeError, match="sparse"):
        clf.predict(sp.csr_matrix(X))
    with pytest.raises(ValueError, match="at least 2 classes"):
        GaussianNaiveBayes().fit(X, np.zeros(len(y)))
    with pytest.raises(ValueError, match="at least 2 classes"):
        GaussianNaiveBayes().fit(X, y, sample_weight=(y == 1).astype(float))
    with pytest.raises(ValueError, match="Unknown label type"):
        GaussianNaiveBayes().fit(X, X[:, 0])
    with pytest.raises(InvalidParameterError):
        GaussianNaiveBayes(var_mode="pooled").fit(X, y)
    with pytest.raises(InvalidParameterError):
        GaussianNaiveBayes(var_smoothing=-1.0).fit(X, y)
    Xc = X.copy()
    Xc[y == 0, 1] = 3.0  # constant within a class
    degenerate = GaussianNaiveBayes(var_smoothing=0.0).fit(Xc, y)
    with pytest.raises(ValueError, match="var_smoothing > 0"):
        degenerate.predict(Xc)


def _fitted_state(clf):
    """Every attribute of ``clf``, arrays copied (to compare before and after a call)."""
    return {
        k: np.array(v, copy=True) if isinstance(v, np.ndarray) else v for k, v in vars(clf).items()
    }


def _assert_same_state(clf, state):
    assert set(vars(clf)) == set(state)
    for name, value in state.items():
        if isinstance(value, np.ndarray):
            assert_array_equal(getattr(clf, name), value, err_msg=name)
            assert getattr(clf, name).dtype == value.dtype, name
        else:
            assert getattr(clf, name) == value, name


def _wide_one_class():
    # the input that broke it: wider than the first fit's data, and one class
    return np.random.default_rng(1).standard_normal((40, 50)), np.zeros(40), "at least 2 classes"


def _wide_nan():
    X = np.random.default_rng(1).standard_normal((40, 50))
    X[3, 7] = np.nan
    return X, np.arange(40) % 2, "NaN"


def _too_large_for_float32():
    # finite float32, but the class variances (~1e60) overflow it; other labels too: the old
    # fit stored classes_ before this check failed
    X = np.random.default_rng(1).standard_normal((40, 50)).astype(np.float32) * np.float32(1e30)
    return X, np.array(["x", "y"])[np.arange(40) % 2], "too large for float32"


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
@pytest.mark.parametrize("var_mode", ["class", "shared"])
@pytest.mark.parametrize("failing", [_wide_one_class, _wide_nan, _too_large_for_float32])
def test_failed_fit_leaves_the_model_unchanged(var_mode, failing):
    pd = pytest.importorskip("pandas")
    X, y = _load("iris")
    XA = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = GaussianNaiveBayes(var_mode).fit(XA, y)
    state, before = _fitted_state(clf), clf.predict_proba(XA)
    XB, yB, match = failing()
    with pytest.raises(ValueError, match=match):
        clf.fit(XB, yB)
    _assert_same_state(clf, state)
    assert_array_equal(clf.predict_proba(XA), before)
    with pytest.raises(ValueError, match="features"):
        clf.predict(XB)  # the old n_features_in_ let the kernel read past theta_
    # a batch of the fitted width that fails leaves it unchanged too
    Xnan = X.copy()
    Xnan[5, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.partial_fit(pd.DataFrame(Xnan, columns=XA.columns), y)
    _assert_same_state(clf, state)


def test_failed_shared_fit_with_zero_variance_leaves_the_model_unchanged():
    # var_smoothing=0 and a feature constant in every class: the old fit stored theta_ and
    # var_ before the linear form found the zero variance
    X, y = _load("iris")
    clf = GaussianNaiveBayes("shared", var_smoothing=0.0).fit(X, y)
    state = _fitted_state(clf)
    Xc = np.c_[X, np.ones(len(y))]
    with pytest.raises(ValueError, match="var_smoothing > 0"):
        clf.fit(Xc, y)
    _assert_same_state(clf, state)


@pytest.mark.parametrize("failing", [_wide_one_class, _wide_nan, _too_large_for_float32])
def test_failed_first_partial_fit_leaves_the_estimator_unfitted(failing):
    XB, yB, match = failing()
    clf = GaussianNaiveBayes()
    with pytest.raises(ValueError, match=match if failing is not _wide_one_class else "one class"):
        clf.partial_fit(XB, yB, classes=np.unique(yB))
    assert vars(clf) == vars(GaussianNaiveBayes())
    with pytest.raises(NotFittedError):
        clf.predict(XB)


@pytest.mark.parametrize(
    "method",
    [
        "predict",
        "predict_proba",
        "predict_log_proba",
        "predict_joint_log_proba",
        "decision_function",
    ],
)
def test_prediction_refuses_x_wider_than_the_fitted_arrays(method):
    # the state the failed fit used to leave: n_features_in_ of wide data beside the old theta_
    X, y = _load("iris")
    clf = GaussianNaiveBayes("shared").fit(X, y)
    XB = np.random.default_rng(1).standard_normal((40, 500))
    clf.n_features_in_ = XB.shape[1]
    with pytest.raises(ValueError, match=r"X has 500 features.*theta_ has shape \(3, 4\)"):
        getattr(clf, method)(XB)


@pytest.mark.parametrize(
    "labels",
    [
        np.array([-128, 127, 0], dtype=np.int8),  # the input that broke it
        np.array([-32768, 32767, 5], dtype=np.int16),
        np.array([0, 255, 1], dtype=np.uint8),
        np.array([2**64 - 1, 0, 2**64 - 3], dtype=np.uint64),
        np.array([-(2**63), 2**63 - 1, 0], dtype=np.int64),
    ],
    ids=lambda a: a.dtype.name,
)
def test_integer_labels_spanning_their_range(labels):
    X, y = _load("iris")
    y = labels[y]
    clf = GaussianNaiveBayes().fit(X, y)
    assert clf.classes_.dtype == labels.dtype
    assert_array_equal(clf.classes_, np.unique(labels))
    _assert_fit_matches(clf, GaussianNB().fit(X, y), X)
    online = GaussianNaiveBayes().partial_fit(X[::2], y[::2], classes=labels)
    online.partial_fit(X[1::2], y[1::2])
    assert_array_equal(online.predict(X), clf.predict(X))


@pytest.mark.parametrize("classes", [[], np.array([]), np.array([], dtype=np.int8)])
def test_partial_fit_refuses_empty_classes(classes):
    # the input that broke it: classes=[] raised IndexError
    X, y = _load("iris")
    clf = GaussianNaiveBayes()
    with pytest.raises(ValueError, match="classes is empty"):
        clf.partial_fit(X, y, classes=classes)
    with pytest.raises(ValueError, match="only one class"):
        clf.partial_fit(X, y, classes=[0])
    assert vars(clf) == vars(GaussianNaiveBayes())


def test_partial_fit_refuses_labels_of_another_type_than_classes():
    X, y = _load("iris")
    clf = GaussianNaiveBayes().fit(X, y)
    with pytest.raises(ValueError, match=r"labels \['a', 'b', 'c'\] that are not among"):
        clf.partial_fit(X, np.array(["a", "b", "c"])[y])


def test_module_uses_the_shared_bottom_layer():
    import skcgd.naive_bayes as package
    from skcgd._registry import _HOOKS  # (warm_up_hooks() imports every subpackage)

    imported = {}
    for path in pathlib.Path(package.__file__).parent.glob("*.py"):
        source = path.read_text()
        assert "catch_warnings" not in source, path  # warnings filters are process-wide
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    imported[alias.name] = node.module
    for name in ("_fit_context", "validate_data", "Interval", "StrOptions"):
        assert imported[name] == "skcgd._compat", name
    assert imported["available_if"] == "sklearn.utils.metaestimators"
    for name in ("check_sample_weight", "check_classification_labels", "as_aligned"):
        assert imported[name] == "skcgd._validation", name
    assert _HOOKS["skcgd.naive_bayes._gaussian._warm_up"] is _warm_up


def test_constant_data_predicts_the_priors():
    X = np.ones((6, 2))
    y = np.array([0, 0, 0, 0, 1, 1])
    for var_mode in ("class", "shared"):
        clf = GaussianNaiveBayes(var_mode).fit(X, y)
        assert clf.epsilon_ == 1e-9  # scale 1 when every feature is constant
        assert_allclose(clf.predict_proba(X), np.tile([2 / 3, 1 / 3], (6, 1)))


# ------------------------------------------------------------------- API and kernels


@parametrize_with_checks(
    [GaussianNaiveBayes(), GaussianNaiveBayes("shared")], expected_failed_checks=lambda est: {}
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("var_mode", ["class", "shared"])
def test_grid_search_over_var_smoothing_matches_gaussian_nb(var_mode):
    X, y = _load("digits")
    grid = {"nb__var_smoothing": [1e-9, 1e-6, 1e-3, 1e-2, 1e-1]}
    cv = StratifiedKFold(5)
    ours = GridSearchCV(Pipeline([("nb", GaussianNaiveBayes(var_mode))]), grid, cv=cv).fit(X, y)
    assert ours.best_params_["nb__var_smoothing"] > 1e-9  # digits needs smoothing
    if var_mode == "class":
        ref = GridSearchCV(Pipeline([("nb", GaussianNB())]), grid, cv=cv).fit(X, y)
        assert_allclose(
            ours.cv_results_["mean_test_score"],
            ref.cv_results_["mean_test_score"],
            rtol=0,
            atol=1e-12,
        )
    pipe = make_pipeline(StandardScaler(), GaussianNaiveBayes(var_mode)).fit(X, y)
    assert pipe.score(X, y) > 0.75


def test_kernel_module_imports_and_warm_up():
    import skcgd._kernels.naive_bayes as kernels
    from skcgd._numba import registered_kernels

    tree = ast.parse(pathlib.Path(kernels.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
    assert imported <= {"math", "numpy", "skcgd._numba"}
    _warm_up()
    names = [
        name
        for name in registered_kernels(entry_points_only=True)
        if name.startswith("skcgd._kernels.naive_bayes")
    ]
    assert len(names) == 2
    for name in names:
        assert len(registered_kernels()[name].signatures) >= 2  # float64 and float32


# ----------------------------------------------------------- the seed paper's simulation


def _mean_test_error(make_estimator, m, problems, n_classes):
    errors = []
    for seed, (X_pool, y_pool, X_test, y_test) in enumerate(problems):
        rng = np.random.default_rng([seed, m])
        while True:  # draws missing a class are redrawn, as in the paper
            idx = rng.choice(len(y_pool), m, replace=False)
            if np.unique(y_pool[idx]).size == n_classes:
                break
        clf = make_estimator().fit(X_pool[idx], y_pool[idx])
        errors.append(np.mean(clf.predict(X_test) != y_test))
    return np.mean(errors)


def test_seed_simulation_shared_nb_needs_10x_fewer_samples_than_logistic_regression():
    d, n_classes, threshold = 100, 2, 0.01
    problems = []
    for seed in range(5):
        # Zheng et al. (2023), 'easy' mode; the pool and the test set from one stream
        rng = np.random.default_rng(seed)
        X_pool, y_pool = make_naive_bayes_simulation(100 * d, d, n_classes, random_state=rng)
        X_test, y_test = make_naive_bayes_simulation(10_000, d, n_classes, random_state=rng)
        problems.append((X_pool, y_pool, X_test, y_test))

    def nb():
        return GaussianNaiveBayes("shared")

    def lr():
        return LogisticRegression(C=1.0, max_iter=1000)

    m_nb = next(
        m
        for m in range(2 * n_classes, 100)
        if _mean_test_error(nb, m, problems, n_classes) <= threshold
    )
    assert m_nb <= 20
    # m*(LR) >= 10 m*(NB): logistic regression is still above 1 % error below 10 m*(NB)
    for m in (2 * m_nb, 5 * m_nb, 10 * m_nb - 1):
        assert _mean_test_error(lr, m, problems, n_classes) > threshold, m
