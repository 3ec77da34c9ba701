"""The first minute: cold and warm start of the demo and of every estimator's first fit.

Each measurement runs in a new Python process (the interpreter's start is not counted: the
child's clock starts on its first line):

* **cold demo**: ``python -m skcgd`` with an empty ``NUMBA_CACHE_DIR``; seconds until the
  first row of the results table is printed, and until the process exits;
* **cold fit**: for each estimator, a process with an empty ``NUMBA_CACHE_DIR`` imports it
  and fits it once on small float64 dense data (default parameters, as a new user would);
  seconds from the first line to the end of the fit (imports included), and the number of
  kernel specialisations compiled;
* **warm overhead**: the same fit in a new process whose cache holds what the fit needs:
  the seconds from ``import sklearn.linear_model`` being done to the end of the fit, i.e.
  what skcgd adds to a process that already pays for scikit-learn (imports, loading the
  cached kernels, the fit itself); median of ``--repeats`` runs. The last row is Numba's
  own floor, the same overhead for one trivial cached kernel (importing Numba, setting up
  its target context, loading one entry): no estimator that calls a kernel can go below it.

The children run with one BLAS thread (``OPENBLAS_NUM_THREADS=1`` unless set).

Goals (2-core machine): cold demo under 15 s, cold first fit of any one estimator under 5 s,
warm overhead under 0.3 s.

Run: ``python benchmarks/bench_cold_start.py`` (about two minutes when the goals hold);
``--only demo|fits|warm``, ``--json PATH`` to save the figures. Set ``PYTHONPATH`` to time
another checkout of skcgd with the same environment.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from _common import machine

# name -> (import line, data kind, estimator expression)
ESTIMATORS = {
    "MinimaxLogisticRegression": (
        "from skcgd.linear_model import MinimaxLogisticRegression",
        "classification",
        "MinimaxLogisticRegression()",
    ),
    "GaussianNaiveBayes": (
        "from skcgd.naive_bayes import GaussianNaiveBayes",
        "classification",
        "GaussianNaiveBayes()",
    ),
    "GreedyEnsembleSelection": (
        "from skcgd.ensemble import GreedyEnsembleSelection",
        "predictions",
        "GreedyEnsembleSelection()",
    ),
    "RegularizedMetaLearner": (
        "from skcgd.ensemble import RegularizedMetaLearner",
        "predictions",
        "RegularizedMetaLearner()",
    ),
    "RegularizedMetaClassifier": (
        "from skcgd.ensemble import RegularizedMetaClassifier",
        "log_odds",
        "RegularizedMetaClassifier()",
    ),
    "RidgeStackingRegressor": (
        "from sklearn.linear_model import Ridge\n"
        "from sklearn.tree import DecisionTreeRegressor\n"
        "from skcgd.ensemble import RidgeStackingRegressor",
        "regression",
        "RidgeStackingRegressor([('ridge', Ridge()), "
        "('tree', DecisionTreeRegressor(max_depth=3, random_state=0))])",
    ),
    "RidgeStackingClassifier": (
        "from sklearn.linear_model import LogisticRegression\n"
        "from sklearn.tree import DecisionTreeClassifier\n"
        "from skcgd.ensemble import RidgeStackingClassifier",
        "classification",
        "RidgeStackingClassifier([('lr', LogisticRegression()), "
        "('tree', DecisionTreeClassifier(max_depth=3, random_state=0))])",
    ),
}

# numpy only: the data cost nothing that scikit-learn or skcgd would pay
_DATA = {
    "classification": "X = rng.standard_normal((300, 8))\n"
    "y = (X @ np.linspace(-1, 1, 8) + rng.standard_normal(300) > 0).astype(int)",
    "regression": "X = rng.standard_normal((300, 8))\n"
    "y = X @ np.linspace(-1, 1, 8) + 0.3 * rng.standard_normal(300)",
    "predictions": "t = rng.standard_normal(300)\n"
    "X = t[:, None] + 0.3 * rng.standard_normal((300, 6))\n"
    "y = t",
    "log_odds": "t = rng.standard_normal(300)\n"
    "X = 2 * t[:, None] + rng.standard_normal((300, 4))\n"
    "y = (t > 0).astype(int)",
}

_CHILD = """\
import time
t0 = time.perf_counter()
import json
import numpy as np
rng = np.random.default_rng(0)
{data}
t_data = time.perf_counter()
import sklearn.linear_model
t_sklearn = time.perf_counter()
{imports}
est = {estimator}
est.fit(X, y)
t_fit = time.perf_counter()
import skcgd._numba
compiled = sum(len(k[0].signatures) for k in skcgd._numba._KERNELS.values())
print(json.dumps({{"first_fit": t_fit - t0 - (t_data - t0),
                  "overhead": t_fit - t_sklearn, "specialisations": compiled}}))
"""


def _env(cache_dir):
    env = dict(os.environ)
    env["NUMBA_CACHE_DIR"] = cache_dir
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("SKCGD_NUMBA_CACHE", None)
    # one BLAS thread, as the README advises on small machines: two OpenBLAS threads on two
    # cores make scipy's L-BFGS-B (inside scikit-learn's LogisticRegression, a base model of
    # the stacks) up to 20 times slower, which would be timed here as skcgd's overhead
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, "1")
    return env


def run_fit(name, cache_dir):
    imports, data, estimator = ESTIMATORS[name]
    code = _CHILD.format(data=_DATA[data], imports=imports, estimator=estimator)
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=_env(cache_dir),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{name}: {out.stderr[-2000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["stderr"] = out.stderr.strip()
    return result


_FLOOR_KERNEL = """import numba


@numba.njit(cache=True)
def total(x):
    return x.sum()
"""

_FLOOR_CHILD = """
import json, sys, time
sys.path.insert(0, {path!r})
import numpy as np
import sklearn.linear_model
t_sklearn = time.perf_counter()
import floor_kernel
floor_kernel.total(np.ones(3))
print(json.dumps({{"overhead": time.perf_counter() - t_sklearn}}))
"""


def run_floor(cache_dir, repeats):
    """Numba's own floor: the same overhead for one trivial cached kernel (importing Numba,
    then the first call, which sets up Numba's target context and loads the entry)."""
    os.makedirs(cache_dir, exist_ok=True)
    with open(os.path.join(cache_dir, "floor_kernel.py"), "w") as f:
        f.write(_FLOOR_KERNEL)
    code = _FLOOR_CHILD.format(path=cache_dir)
    runs = []
    for _ in range(repeats + 1):  # the first run fills the cache
        out = subprocess.run(
            [sys.executable, "-c", code], env=_env(cache_dir), capture_output=True, text=True
        )
        if out.returncode != 0:
            raise RuntimeError(f"floor: {out.stderr[-2000:]}")
        runs.append(json.loads(out.stdout.strip().splitlines()[-1])["overhead"])
    return statistics.median(runs[1:])


def run_demo(cache_dir, args=()):
    """Seconds to the first row of the demo's table, and to the end of the process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "skcgd", *args],
        env=_env(cache_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = None
    after_rule = False
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if first is None and after_rule and line.strip():
            first = time.perf_counter() - t0
        after_rule = after_rule or (line.strip() and set(line.strip()) == {"-"})
    stderr = proc.stderr.read()
    if proc.wait() != 0:
        raise RuntimeError(f"python -m skcgd failed: {stderr[-2000:]}")
    return {"first_row": first, "total": time.perf_counter() - t0, "stderr": stderr.strip()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("demo", "fits", "warm"), default=None)
    parser.add_argument("--repeats", type=int, default=3, help="warm runs per estimator (3)")
    parser.add_argument("--estimators", default=",".join(ESTIMATORS))
    parser.add_argument("--json", default=None, help="write the figures to this file")
    args = parser.parse_args()
    names = [n for n in args.estimators.split(",") if n]
    print(machine())
    import skcgd

    print(f"skcgd from {os.path.dirname(skcgd.__file__)}\n")
    report = {"machine": machine()}

    with tempfile.TemporaryDirectory(prefix="skcgd-cold-") as root:
        if args.only in (None, "demo"):
            cold = run_demo(os.path.join(root, "demo"))
            warm = run_demo(os.path.join(root, "demo"))
            report["demo"] = {"cold": cold, "warm": warm}
            print("python -m skcgd            first row   total")
            print(f"  cold (empty cache)        {cold['first_row']:7.1f} s {cold['total']:6.1f} s")
            print(f"  warm                      {warm['first_row']:7.1f} s {warm['total']:6.1f} s")
            if cold["stderr"]:
                print("  stderr (cold): " + cold["stderr"].replace("\n", "\n    "))
            print()
        if args.only in (None, "fits", "warm"):
            report["fits"] = {}
            print(
                f"{'first fit of':28s} {'cold':>7s} {'compiled':>9s} {'warm overhead':>14s}"
                "  (overhead = fit done - sklearn.linear_model imported; median)"
            )
            for name in names:
                cache = os.path.join(root, name)
                row = {}
                # the cold run also fills the cache the warm runs load from
                cold = run_fit(name, cache)
                if args.only != "warm":
                    row["cold"] = cold["first_fit"]
                    row["specialisations"] = cold["specialisations"]
                    row["stderr"] = cold["stderr"]
                if args.only != "fits":
                    row["warm_overheads"] = [
                        run_fit(name, cache)["overhead"] for _ in range(args.repeats)
                    ]
                    row["warm_overhead"] = statistics.median(row["warm_overheads"])
                report["fits"][name] = row
                cold_s = f"{row['cold']:6.1f}s" if "cold" in row else "      -"
                n_spec = f"{row['specialisations']:9d}" if "specialisations" in row else " " * 9
                warm_s = f"{row['warm_overhead']:13.3f}s" if "warm_overhead" in row else ""
                print(f"{name:28s} {cold_s} {n_spec} {warm_s}", flush=True)
            if args.only != "fits":
                floor = run_floor(os.path.join(root, "floor"), args.repeats)
                report["numba_floor"] = floor
                print(f"{'(Numba alone: one kernel)':28s} {'':7s} {'':9s} {floor:13.3f}s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
