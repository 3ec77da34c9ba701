"""Determinism and thread safety of every public estimator.

* The same ``random_state`` (and data) gives a bit-identical model: twice in one process, in a
  fresh process with another hash seed, and for every ``n_jobs``.
* ``predict`` and friends called from several threads at once on one fitted model (the
  kernels release the GIL) give exactly the serial answers.
"""

import hashlib
import inspect
import json
import os
import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor

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


def _with_seed(cls, params, seed=0):
    if "random_state" in inspect.signature(cls).parameters:
        params = {**params, "random_state": seed}
    return params


def _fit(cls, params, n_samples=60, **extra):
    spec = estimator_spec(cls)
    X, y = make_data(spec.task, n_samples=n_samples, n_features=4, n_classes=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator = cls(**{**params, **extra}).fit(X, y, **fit_kwargs(spec, params, n_samples))
    return estimator, X


def _fingerprint(estimator, X):
    """sha256 of every prediction method's output bytes and every fitted array attribute."""
    h = hashlib.sha256()
    for name, out in sorted(prediction_outputs(estimator, X).items()):
        h.update(name.encode())
        h.update(np.ascontiguousarray(out).tobytes())
    for name in sorted(vars(estimator)):
        value = vars(estimator)[name]
        if name.endswith("_") and isinstance(value, np.ndarray) and value.dtype != object:
            h.update(name.encode())
            h.update(np.ascontiguousarray(value).tobytes())
    return h.hexdigest()


def _all_fingerprints():
    """Fingerprints of every estimator with its default spec parameters."""
    out = {}
    for name, cls in ESTIMATORS:
        params = _with_seed(cls, estimator_spec(cls).base_params())
        out[name] = _fingerprint(*_fit(cls, params))
    return out


@pytest.mark.parametrize("cls, params", CASES)
def test_same_random_state_same_model(cls, params):
    params = _with_seed(cls, params)
    assert _fingerprint(*_fit(cls, params)) == _fingerprint(*_fit(cls, params))


def test_same_model_in_a_fresh_process():
    # another process, another hash seed (set and dict orders), the same bits
    code = (
        "import json, sys; sys.path.insert(0, {root!r}); "
        "from tests.test_threads import _all_fingerprints; "
        "print(json.dumps(_all_fingerprints()))"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run(
        [sys.executable, "-c", code.format(root=root)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    theirs = json.loads(result.stdout.strip().splitlines()[-1])
    assert theirs == _all_fingerprints()


@pytest.mark.parametrize(
    "cls",
    [c for _, c in ESTIMATORS if "n_jobs" in inspect.signature(c).parameters],
    ids=[n for n, c in ESTIMATORS if "n_jobs" in inspect.signature(c).parameters],
)
def test_same_model_for_every_n_jobs(cls):
    import joblib
    from threadpoolctl import threadpool_limits

    params = _with_seed(cls, estimator_spec(cls).base_params())
    # loky's workers run BLAS on one thread; so does the reference, so that BLAS's threading
    # cannot change the rounding
    with threadpool_limits(limits=1):
        ref = _fingerprint(*_fit(cls, params, n_jobs=1))
        for n_jobs, backend in ((2, "threading"), (2, "loky")):
            with joblib.parallel_backend(backend):
                assert _fingerprint(*_fit(cls, params, n_jobs=n_jobs)) == ref, (n_jobs, backend)


def test_grid_search_n_jobs_gives_the_same_results():
    from sklearn.model_selection import GridSearchCV
    from threadpoolctl import threadpool_limits

    from skcgd.linear_model import MinimaxLogisticRegression

    X, y = make_data("classifier", n_samples=90, n_features=4, n_classes=3)
    grid = {"rho": [0.0, 0.5, 2.0], "adversary": ["chi2", "kl"]}
    results = []
    for n_jobs in (1, 2):
        with threadpool_limits(limits=1):  # (see test_same_model_for_every_n_jobs)
            search = GridSearchCV(MinimaxLogisticRegression(), grid, cv=3, n_jobs=n_jobs).fit(X, y)
        results.append(
            (
                search.cv_results_["mean_test_score"],
                search.best_params_,
                search.best_estimator_.coef_,
            )
        )
    np.testing.assert_array_equal(results[0][0], results[1][0])
    assert results[0][1] == results[1][1]
    np.testing.assert_array_equal(results[0][2], results[1][2])


@pytest.mark.parametrize("cls, params", CASES)
def test_concurrent_predict_matches_serial(cls, params):
    estimator, X = _fit(cls, params)
    before = _fingerprint(estimator, X)
    rng = np.random.default_rng(0)
    batches = [X + 0.3 * rng.standard_normal(X.shape) for _ in range(8)]
    serial = [prediction_outputs(estimator, B) for B in batches]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            concurrent = list(pool.map(lambda B: prediction_outputs(estimator, B), batches))
            for got, want in zip(concurrent, serial):
                assert got.keys() == want.keys()
                for name in want:
                    np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    assert _fingerprint(estimator, X) == before  # nor did predicting change the model
