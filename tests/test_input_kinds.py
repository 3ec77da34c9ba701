"""The input kinds users really have, for every public estimator.

Dense C and F order, read-only memmaps (joblib passes large arrays so), CSR never densified,
float32, pandas DataFrames with feature names (and ``set_output`` for transformers), string
class labels, sample weights with zeros. Also checks that the generated input-kinds table of
the docs (``skcgd.utils._input_kinds``) agrees with the estimators' tags and signatures.
"""

import inspect
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import is_classifier

from skcgd.utils import all_estimators
from skcgd.utils._input_kinds import (
    INPUT_KINDS,
    estimator_spec,
    fit_kwargs,
    input_kinds_rst,
    input_kinds_table,
    make_data,
    prediction_outputs,
)

ESTIMATORS = all_estimators()
IDS = [name for name, _ in ESTIMATORS]


def _cases():
    """(name, class, params) for every estimator and each of its variants."""
    out = []
    for name, cls in ESTIMATORS:
        spec = estimator_spec(cls)
        for i, params in enumerate(spec.all_params()):
            out.append(pytest.param(cls, params, id=f"{name}-{i}"))
    return out


CASES = _cases()


def _fit(cls, params, X, y, **kwargs):
    spec = estimator_spec(cls)
    kwargs = {**fit_kwargs(spec, params, X.shape[0]), **kwargs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls(**params).fit(X, y, **kwargs)


def _assert_same_outputs(a, b, rtol=1e-10, atol=1e-12):
    assert a.keys() == b.keys()
    for name in a:
        if a[name].dtype.kind in "fc":
            np.testing.assert_allclose(a[name], b[name], rtol=rtol, atol=atol, err_msg=name)
        else:
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)


@pytest.fixture(scope="module")
def table():
    return input_kinds_table()


def test_table_covers_every_estimator_and_kind(table):
    assert [row["estimator"].rsplit(".", 1)[1] for row in table] == IDS
    for row in table:
        assert set(row) == {"estimator", *INPUT_KINDS}
        assert row["dense"] == "yes", row
    text = input_kinds_rst(table)
    for row in table:
        assert f":class:`~{row['estimator']}`" in text


def test_table_agrees_with_tags_and_signatures(table):
    for (name, cls), row in zip(ESTIMATORS, table):
        estimator = estimator_spec(cls).build(cls)
        signature = inspect.signature(cls.fit).parameters
        sparse = estimator.__sklearn_tags__().input_tags.sparse
        assert (row["CSR"] in ("yes", "densified")) == sparse, (name, row["CSR"], sparse)
        assert (row["CSR"] == "densified") == (estimator_spec(cls).sparse_densifies is not None)
        assert (row["sample_weight"] == "yes") == ("sample_weight" in signature), name
        assert (row["groups"] != "—") == ("groups" in signature), name
        assert (row["partial_fit"] == "yes") == hasattr(cls, "partial_fit"), name
        assert row["pandas"] in ("yes", "set_output"), name


@pytest.mark.parametrize("cls, params", CASES)
def test_orders_and_read_only_memmaps_give_the_same_model(cls, params, tmp_path):
    spec = estimator_spec(cls)
    X, y = make_data(spec.task, n_samples=48, n_features=4, n_classes=3)
    ref = prediction_outputs(_fit(cls, params, X, y), X)
    path = tmp_path / "X.npy"
    np.save(path, X)
    read_only = np.load(path, mmap_mode="r")  # what joblib hands to its workers
    assert not read_only.flags.writeable
    frozen = X.copy()
    frozen.flags.writeable = False
    for Xin in (np.asfortranarray(X), read_only, frozen):
        fitted = _fit(cls, params, Xin, y)
        _assert_same_outputs(prediction_outputs(fitted, Xin), ref)
        _assert_same_outputs(prediction_outputs(fitted, X), ref)


def _forbid_densify(monkeypatch, size):
    """Make densifying any sparse matrix of at least ``size`` entries an error.

    (Small sparse results, e.g. a (q, q) Gram matrix X^T D X, may be densified.)
    """
    for klass in (sp.csr_matrix, sp.csr_array, sp.csc_matrix, sp.coo_matrix):
        for method in ("toarray", "todense"):
            original = getattr(klass, method)

            def guarded(self, *args, _original=original, **kwargs):
                if self.shape[0] * self.shape[1] >= size:
                    raise AssertionError(f"a sparse matrix of shape {self.shape} (the size of "
                                         "X) was densified")
                return _original(self, *args, **kwargs)

            monkeypatch.setattr(klass, method, guarded)


@pytest.mark.parametrize("cls, params", CASES)
def test_csr_is_never_densified(cls, params, monkeypatch):
    spec = estimator_spec(cls)
    X, y = make_data(spec.task, n_samples=240, n_features=5, n_classes=3)
    X[np.random.default_rng(0).random(X.shape) < 0.5] = 0.0
    Xs = sp.csr_matrix(X)
    estimator = spec.build(cls, **params)
    if not estimator.__sklearn_tags__().input_tags.sparse:
        with pytest.raises((TypeError, ValueError), match="(?i)sparse"):
            _fit(cls, params, Xs, y)
        return
    dense = prediction_outputs(_fit(cls, params, X, y), X)
    if spec.sparse_densifies is None:
        with monkeypatch.context() as patch:
            _forbid_densify(patch, X.size // 2)
            fitted = _fit(cls, params, Xs, y)
            sparse = prediction_outputs(fitted, Xs)
    else:  # documented in the spec: what is densified, and why
        fitted = _fit(cls, params, Xs, y)
        sparse = prediction_outputs(fitted, Xs)
    _assert_same_outputs({k: v for k, v in sparse.items() if k != "transform"},
                         {k: v for k, v in dense.items() if k != "transform"},
                         rtol=1e-5, atol=1e-6)  # two solver paths, tol=1e-6


@pytest.mark.parametrize("cls, params", CASES)
def test_float32(cls, params, table):
    spec = estimator_spec(cls)
    X, y = make_data(spec.task, n_samples=48, n_features=4, n_classes=3)
    X32 = X.astype(np.float32)
    ref = prediction_outputs(_fit(cls, params, X32.astype(np.float64), y), X)
    fitted = _fit(cls, params, X32, y)
    out = prediction_outputs(fitted, X32)
    for name, value in out.items():
        assert value.dtype in (np.float32, np.float64) or name == "predict", (name, value.dtype)
        assert np.isfinite(value).all() if value.dtype.kind == "f" else True
    # float32 data are the float64 data rounded; every estimator computes on the same numbers
    # (kept in float32 or read in float64), so the model matches that of the rounded data
    for name in out:
        if out[name].dtype.kind == "f" and name != "transform":
            np.testing.assert_allclose(out[name], ref[name], rtol=2e-4, atol=2e-4,
                                       err_msg=name)
    kinds = {r["estimator"].rsplit(".", 1)[1]: r for r in table}
    if kinds[cls.__name__]["float32"] == "kept":
        assert all(v.dtype == np.float32 for v in out.values() if v.dtype.kind == "f")


@pytest.mark.parametrize("cls, params", CASES)
def test_pandas_feature_names_and_set_output(cls, params):
    pd = pytest.importorskip("pandas")
    spec = estimator_spec(cls)
    X, y = make_data(spec.task, n_samples=48, n_features=4, n_classes=3)
    columns = ["age", "income", "height", "score"]
    df = pd.DataFrame(X, columns=columns)
    y_in = pd.Series(y, name="target")
    fitted = _fit(cls, params, df, y_in)
    np.testing.assert_array_equal(fitted.feature_names_in_, columns)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # "X does not have valid feature names"
        _assert_same_outputs(prediction_outputs(fitted, df),
                             prediction_outputs(_fit(cls, params, X, y), X))
    with pytest.raises(ValueError, match="(?i)feature names"):
        prediction_outputs(fitted, df[columns[::-1]])
    if hasattr(fitted, "transform") and hasattr(fitted, "set_output"):
        out = fitted.set_output(transform="pandas").transform(df)
        assert isinstance(out, pd.DataFrame)
        np.testing.assert_array_equal(out.columns, fitted.get_feature_names_out())
        np.testing.assert_array_equal(out.index, df.index)


@pytest.mark.parametrize("cls, params", [c for c in CASES if is_classifier(
    estimator_spec(c.values[0]).build(c.values[0]))])
def test_string_and_categorical_class_labels(cls, params):
    pd = pytest.importorskip("pandas")
    spec = estimator_spec(cls)
    X, y = make_data(spec.task, n_samples=48, n_features=4, n_classes=3)
    names = np.array(["setosa", "versicolor", "virginica"], dtype=object)
    ref = _fit(cls, params, X, y)
    for labels in (names[y], names[y].astype(str), pd.Categorical(names[y])):
        fitted = _fit(cls, params, X, labels)
        assert list(fitted.classes_) == list(names)
        np.testing.assert_array_equal(fitted.predict(X), names[ref.predict(X)])
        if hasattr(fitted, "predict_proba"):
            np.testing.assert_allclose(fitted.predict_proba(X), ref.predict_proba(X),
                                       rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cls, params", CASES)
def test_sample_weights_with_zeros(cls, params):
    if "sample_weight" not in inspect.signature(cls.fit).parameters:
        pytest.skip(f"{cls.__name__}.fit takes no sample_weight")
    spec = estimator_spec(cls)
    X, y = make_data(spec.task, n_samples=60, n_features=4, n_classes=3)
    w = np.where(np.arange(60) % 4 == 0, 0.0, 1.0 + np.arange(60) % 3)
    fitted = _fit(cls, params, X, y, sample_weight=w)
    for name, out in prediction_outputs(fitted, X).items():
        assert out.dtype.kind not in "f" or np.isfinite(out).all(), name
