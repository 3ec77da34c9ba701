"""Peak memory of every estimator's fit on a (2_000_000, 50) float32 X (400 MB).

Each estimator runs in its own process: it first fits a small copy of the problem (so that
Numba compiles, or loads, the kernels of the exact specialisations before anything is
measured), then generates X directly in float32 (no float64 temporary), resets the kernel's
peak-RSS counter (``/proc/self/clear_refs``, Linux) and fits. Reported per estimator:

* ``extra``: peak RSS during ``fit`` minus RSS just before it (X and y already in memory);
* ``peak/X``: (X + extra) / X, i.e. the fit's peak counting X itself; the goal is <= 2.5.

The estimators come from ``skcgd.utils.all_estimators()`` with the small-instance
parameters each subpackage registers (``skcgd._registry.estimator_specs()``, plus a few
variants), so a new estimator is measured without editing this file.

Run: ``python benchmarks/bench_memory.py [n_samples] [--classes K] [name-substring ...]``
(default 2_000_000 rows, binary classification; Linux only).
"""

import json
import os
import subprocess
import sys
import time

N_FEATURES = 50
GOAL = 2.5
# extra configurations worth measuring separately (others: the spec's default parameters)
VARIANTS = {
    "MinimaxLogisticRegression": [
        {},
        {"adversary": "kl"},
        {"adversary": "group"},
        {"solver": "cgd", "max_iter": 20, "tol": 0.0},
    ],
    "GaussianNaiveBayes": [{"var_mode": "class"}, {"var_mode": "shared"}],
}


def _status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS


def _data(task, n, seed=0, n_classes=2):
    import numpy as np

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, N_FEATURES), dtype=np.float32)
    if task == "classifier":  # binary by default: K classes multiply the per-row state
        score = X[:, :5] @ rng.standard_normal(5).astype(np.float32)
        edges = np.quantile(score[:10_000], np.linspace(0, 1, n_classes + 1)[1:-1])
        y = np.searchsorted(edges, score).astype(np.int64)
    else:  # columns ~ noisy copies of y, like base-model predictions
        y = rng.standard_normal(n).astype(np.float32)
        X *= rng.uniform(0.2, 1.0, N_FEATURES).astype(np.float32)
        X += y[:, None]
        y = y.astype(np.float64)
    return X, y


def child(name, params_json, n, n_classes):
    import warnings

    from skcgd.utils import all_estimators
    from skcgd.utils._input_kinds import estimator_spec, fit_kwargs

    warnings.simplefilter("ignore")
    cls = dict(all_estimators())[name]
    spec = estimator_spec(cls)
    params = {**spec.base_params(), **json.loads(params_json)}
    Xs, ys = _data(spec.task, 2000, seed=1, n_classes=n_classes)
    cls(**params).fit(Xs, ys, **fit_kwargs(spec, params, len(ys)))  # compile / load kernels
    del Xs, ys
    X, y = _data(spec.task, n, n_classes=n_classes)
    kwargs = fit_kwargs(spec, params, n)
    before = _status("VmRSS")
    _reset_peak()
    t0 = time.perf_counter()
    cls(**params).fit(X, y, **kwargs)
    seconds = time.perf_counter() - t0
    peak = _status("VmHWM")
    print(json.dumps({"extra": peak - before, "X": X.nbytes, "seconds": seconds}))


def main(argv):
    n_classes = 2
    if "--classes" in argv:
        i = argv.index("--classes")
        n_classes = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2 :]
    n = int(argv[0]) if argv and argv[0].isdigit() else 2_000_000
    names = [a for a in argv if not a.isdigit()]
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from _common import machine

    from skcgd.utils import all_estimators

    print(
        f"# fit on X of shape ({n}, {N_FEATURES}) float32, {n_classes} classes for "
        f"classifiers; {machine()}"
    )
    print(f"{'estimator':60s} {'fit s':>7s} {'extra MB':>9s} {'extra/X':>8s} {'peak/X':>7s}")
    for name, _ in all_estimators():
        if names and not any(s in name for s in names):
            continue
        for params in VARIANTS.get(name, [{}]):
            label = name + (
                f"({', '.join(f'{k}={v!r}' for k, v in params.items())})" if params else ""
            )
            proc = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    name,
                    json.dumps(params),
                    str(n),
                    str(n_classes),
                ],
                capture_output=True,
                text=True,
            )
            if proc.returncode != 0:
                tail = proc.stderr.strip().splitlines()[-1:] or ["?"]
                print(f"{label:60s} failed: {tail[0]}")
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            ratio = r["extra"] / r["X"]
            total = 1.0 + ratio
            flag = "" if total <= GOAL else f"  > {GOAL}x"
            print(
                f"{label:60s} {r['seconds']:7.1f} {r['extra'] / 2**20:9.0f} {ratio:8.2f} "
                f"{total:7.2f}{flag}",
                flush=True,
            )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        main(sys.argv[1:])
