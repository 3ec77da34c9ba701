"""The peers' side of bench_minimax_logreg.py: one robust logistic model, fitted in this process.

Usage: python _peer_robust.py MODEL N_SAMPLES
(run in benchmarks/.venv-mrc for the ``mrcpy_*`` models, in benchmarks/.venv-peers for the
others; make them with ``bash benchmarks/make_peers_venv.sh``). The data are those of the
benchmark: ``make_classification(n_samples=N, n_features=50, flip_y=0.2, random_state=0)``,
``train_test_split(test_size=0.25, random_state=0)``. Prints one JSON line: fit wall and CPU
seconds (all threads), test accuracy, test log-loss, peak-RSS growth during fit (MB), the
library's version and the settings used. Settings are those of shared/research/peers.md §3.
"""

import importlib.abc
import importlib.machinery
import importlib.util
import json
import resource
import sys
import time
import types

import numpy as np
from scipy.special import expit
from sklearn.datasets import make_classification
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split

# For each model: library, settings text, constructor (receives n_features).
MODELS = {
    "mrcpy_cmrc_log": (
        "MRCpy",
        "CMRC(loss='log'), Adam, 5000 steps",
        lambda d: _mrcpy().CMRC(loss="log", random_state=0),
    ),
    "mrcpy_mrc_log": (
        "MRCpy",
        "MRC(loss='log'), subgradient, 10000 steps",
        lambda d: _mrcpy().MRC(loss="log", random_state=0),
    ),
    "dro_chi2": ("dro", "Chi2DRO(eps=0.1), CLARABEL", lambda d: _dro("Chi2DRO", d, {"eps": 0.1})),
    "dro_cvar": (
        "dro",
        "CVaRDRO(alpha=0.5), CLARABEL",
        lambda d: _dro("CVaRDRO", d, {"alpha": 0.5}),
    ),
    # CLARABEL fails on KLDRO at 15000 rows (SolverError, peers.md): SCS
    "dro_kl": (
        "dro",
        "KLDRO(eps=0.1), SCS",
        lambda d: _dro("KLDRO", d, {"eps": 0.1}, solver="SCS"),
    ),
    "dro_wasserstein": (
        "dro",
        "WassersteinDRO(eps=0.01, p=2), CLARABEL",
        lambda d: _dro("WassersteinDRO", d, {"eps": 0.01, "p": 2}),
    ),
    "skwdro_default": (
        "skwdro",
        "LogisticRegression(rho=0.01), default solver",
        lambda d: _skwdro(rho=1e-2),
    ),
    "skwdro_pre": (
        "skwdro",
        "LogisticRegression(rho=0.01), entropic_torch_pre",
        lambda d: _skwdro(rho=1e-2, solver="entropic_torch_pre"),
    ),
}


def _mrcpy():
    import MRCpy

    return MRCpy


def _stub_missing(*names):
    """Empty stand-ins for modules that ``import dro`` loads but its linear models never use
    (torchvision, torchattacks, xgboost, lightgbm, ucimlrepo, matplotlib); only for the ones
    that are not installed. Any attribute of a stand-in is a new empty class."""

    class _Anything(types.ModuleType):
        def __getattr__(self, attr):
            if attr.startswith("__"):
                raise AttributeError(attr)
            return type(attr, (), {})

    class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def __init__(self, tops):
            self.tops = tops

        def find_spec(self, fullname, path=None, target=None):
            if fullname.split(".")[0] in self.tops:
                return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
            return None

        def create_module(self, spec):
            module = _Anything(spec.name)
            module.__path__ = []
            return module

        def exec_module(self, module):
            pass

    missing = {name for name in names if importlib.util.find_spec(name) is None}
    if missing:
        sys.meta_path.insert(0, _Finder(missing))


def _dro(cls, d, config, solver="CLARABEL"):
    _stub_missing("torchvision", "torchattacks", "xgboost", "lightgbm", "ucimlrepo", "matplotlib")
    import dro

    model = getattr(dro, cls)(input_dim=d, model_type="logistic", solver=solver)
    model.update(config)
    return model


def _skwdro(**params):
    from skwdro.linear_models import LogisticRegression

    return LogisticRegression(**params)


def _version(lib):
    from importlib.metadata import version

    return version(lib)


def main():
    name, n = sys.argv[1], int(sys.argv[2])
    lib, settings, make = MODELS[name]
    X, y = make_classification(n_samples=n, n_features=50, flip_y=0.2, random_state=0)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
    model = make(X.shape[1])
    pm = lib == "dro"  # dro wants labels in {-1, +1} and has no predict_proba
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = {
        "model": name,
        "library": f"{lib} {_version(lib)}",
        "settings": settings,
        "n_train": len(ytr),
    }
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        model.fit(Xtr, 2 * ytr - 1 if pm else ytr)
    except Exception as exc:  # a peer that fails is a result too
        out.update(
            wall=time.perf_counter() - t0,
            cpu=time.process_time() - c0,
            error=f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}",
        )
        print(json.dumps(out))
        return
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
    if pm:
        p1 = expit(Xte @ np.asarray(model.theta).ravel() + float(model.b))
        # the solution itself, for the caller's objective (bench_dro_family.py)
        out.update(theta=np.asarray(model.theta).ravel().tolist(), b=float(model.b))
    else:
        p1 = np.asarray(model.predict_proba(Xte))[:, 1]
    p1 = np.clip(p1, 1e-15, 1 - 1e-15)
    out.update(
        wall=wall,
        cpu=cpu,
        accuracy=accuracy_score(yte, (p1 > 0.5).astype(int)),
        log_loss=log_loss(yte, p1, labels=[0, 1]),
        rss_mb=rss,
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
