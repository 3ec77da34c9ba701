"""Persistence of every public estimator: pickle, joblib and skops.

Round-trips must give bit-identical predictions (also when joblib memory-maps the fitted
arrays read-only). With ``skops.io``, ``get_untrusted_types`` must list skcgd's own types and
nothing else, so that a user can review that list and load with ``trusted=`` it::

    from skops.io import dump, get_untrusted_types, load
    dump(model, "model.skops")
    unknown = get_untrusted_types(file="model.skops")
    assert all(t.startswith("skcgd.") for t in unknown), unknown
    model = load("model.skops", trusted=unknown)

(Unpickling a file, with pickle or joblib, runs code from it: never unpickle an untrusted
file. skops loads only the types it is told to trust.)
"""

import io
import pickle
import warnings

import joblib
import numpy as np
import pytest

from skcgd.utils import all_estimators
from skcgd.utils._input_kinds import estimator_spec, fit_kwargs, make_data, prediction_outputs

ESTIMATORS = all_estimators()


def _cases():
    out = []
    for name, cls in ESTIMATORS:
        for i, params in enumerate(estimator_spec(cls).all_params()):
            out.append(pytest.param(cls, params, id=f"{name}-{i}"))
    return out


CASES = _cases()


def _fitted(cls, params, dtype=np.float64):
    spec = estimator_spec(cls)
    X, y = make_data(spec.task, n_samples=50, n_features=4, n_classes=3, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator = cls(**params).fit(X, y, **fit_kwargs(spec, params, X.shape[0]))
    rng = np.random.default_rng(1)
    X_new = (X + 0.5 * rng.standard_normal(X.shape)).astype(dtype)
    return estimator, X_new


def _assert_identical(a, b):
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name, strict=True)


@pytest.mark.parametrize("cls, params", CASES)
def test_pickle_and_joblib_round_trips_are_bit_identical(cls, params, tmp_path):
    estimator, X = _fitted(cls, params)
    ref = prediction_outputs(estimator, X)
    _assert_identical(prediction_outputs(pickle.loads(pickle.dumps(estimator)), X), ref)
    for i, (compress, mmap_mode) in enumerate([(0, None), (3, None), (0, "r")]):
        path = tmp_path / f"model{i}.joblib"
        joblib.dump(estimator, path, compress=compress)
        # mmap_mode="r": the fitted arrays come back as read-only memory maps
        loaded = joblib.load(path, mmap_mode=mmap_mode)
        _assert_identical(prediction_outputs(loaded, X), ref)


@pytest.mark.parametrize("cls, params", CASES)
def test_float32_models_round_trip(cls, params):
    estimator, X = _fitted(cls, params, dtype=np.float32)
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer)
    buffer.seek(0)
    _assert_identical(prediction_outputs(joblib.load(buffer), X), prediction_outputs(estimator, X))


@pytest.mark.parametrize("cls, params", CASES)
def test_skops_round_trip_trusts_only_skcgd_types(cls, params, tmp_path):
    sio = pytest.importorskip("skops.io")
    estimator, X = _fitted(cls, params)
    path = tmp_path / "model.skops"
    sio.dump(estimator, path)
    untrusted = sio.get_untrusted_types(file=path)
    foreign = [t for t in untrusted if not t.startswith("skcgd.")]
    assert not foreign, (
        f"{cls.__name__} needs non-skcgd types trusted to load with skops: {foreign}. Store "
        "fitted state as arrays, numbers, strings, lists, tuples or dicts of them (or "
        "estimators skops trusts)."
    )
    assert f"{cls.__module__}.{cls.__name__}" in untrusted
    loaded = sio.load(path, trusted=untrusted)
    _assert_identical(prediction_outputs(loaded, X), prediction_outputs(estimator, X))
    # and nothing is loaded without being trusted
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.load(path)
