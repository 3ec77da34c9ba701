"""GaussianNaiveBayes against scikit-learn's GaussianNB: fit, predict_proba and fit's memory.

Both fit the same model (``var_mode="class"``); the script checks that they agree (means and
variances to relative precision, probabilities to absolute precision) and prints the time
ratios sklearn / skcgd, interleaved (A B A B ...) after a Numba warm-up. ``var_mode="shared"``
is timed too, for information (it predicts with one matrix product).

Memory: each measurement runs in a fresh child process that creates X in place, resets the
kernel's resident-memory high-water mark (``/proc/self/clear_refs``; falls back to
``ru_maxrss``) and fits; it reports the peak resident memory during fit, X included, as a
multiple of ``X.nbytes`` (goal: at most 1.2, i.e. no per-class copy of X), and the peak of the
allocations traced by ``tracemalloc`` (numpy's; Numba's own allocations are not traced) on
top of X.

Run: ``python benchmarks/bench_naive_bayes.py`` (the issue's sizes: (1e6, 100) and
(2e5, 1000) float64, 10 classes; ~800 MB and 1.6 GB per X); ``--quick`` or
``--sizes 100000x100`` for a short run.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np
from _common import machine, round_robin

DEFAULT_SIZES = "1000000x100,200000x1000"
QUICK_SIZES = "100000x100,20000x1000"


def make_data(n, d, n_classes, dtype=np.float64, seed=0, chunk=50_000):
    """Overlapping Gaussian classes with varied scales, built in place (no n x d temporary)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    centers = 0.15 * rng.standard_normal((n_classes, d))
    scale = rng.uniform(0.5, 2.0, d)
    X = np.empty((n, d), dtype=dtype)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        block = rng.standard_normal((stop - start, d))
        block += centers[y[start:stop]]
        block *= scale
        X[start:stop] = block
    return X, y


def _rss_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def child_memory(impl, n, d, n_classes, dtype):
    """Runs in a fresh process: peak memory of one fit, printed as JSON."""
    from sklearn.naive_bayes import GaussianNB

    from skcgd.naive_bayes import GaussianNaiveBayes
    from skcgd.naive_bayes._gaussian import _warm_up

    _warm_up()  # load the kernels (from Numba's cache) before measuring
    X, y = make_data(n, d, n_classes, dtype=np.dtype(dtype))
    est = GaussianNB() if impl == "sklearn" else GaussianNaiveBayes()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset VmHWM to the current RSS
        reset = True
    except OSError:
        reset = False
    rss_before = _rss_kb("VmRSS")
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    traced_before = tracemalloc.get_traced_memory()[0]
    est.fit(X, y)
    traced_peak = tracemalloc.get_traced_memory()[1] - traced_before
    tracemalloc.stop()
    peak = _rss_kb("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if not reset:
        peak = max(peak, maxrss_before)
    extra = max(peak - rss_before, 0) * 1024
    print(
        json.dumps(
            {
                "x_bytes": X.nbytes,
                "peak_over_x": (X.nbytes + extra) / X.nbytes,
                "traced_extra_over_x": traced_peak / X.nbytes,
                "method": "VmHWM reset" if reset else "ru_maxrss",
            }
        )
    )


def measure_memory(impl, n, d, n_classes, dtype):
    out = subprocess.run(
        [
            sys.executable,
            os.path.abspath(__file__),
            "--child-memory",
            impl,
            "--sizes",
            f"{n}x{d}",
            "--classes",
            str(n_classes),
            "--dtype",
            dtype,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_size(n, d, n_classes, dtype, repeats, memory):
    time_size(n, d, n_classes, dtype, repeats)  # X is freed before the memory children start
    if memory:
        for impl in ("skcgd", "sklearn"):
            mem = measure_memory(impl, n, d, n_classes, dtype)
            print(
                f"memory of fit ({impl:>7}): peak RSS = {mem['peak_over_x']:.2f} x X.nbytes "
                f"(X included; {mem['method']}), numpy allocations on top of X = "
                f"{mem['traced_extra_over_x']:.2f} x X.nbytes"
            )
            if impl == "skcgd":
                _goal(
                    "fit peak memory / X.nbytes (skcgd)",
                    mem["peak_over_x"],
                    1.2,
                    higher_is_better=False,
                )


def _goal(what, value, target, higher_is_better=True):
    met = value >= target if higher_is_better else value <= target
    sign = ">=" if higher_is_better else "<="
    print(f"goal: {what} = {value:.2f} (goal {sign} {target:g}): {'met' if met else 'MISSED'}")


def time_size(n, d, n_classes, dtype, repeats):
    from sklearn.naive_bayes import GaussianNB

    from skcgd.naive_bayes import GaussianNaiveBayes

    X, y = make_data(n, d, n_classes, dtype=np.dtype(dtype))
    print(
        f"\n## X {n} x {d} {dtype} ({X.nbytes / 1e6:.0f} MB), {n_classes} classes, "
        f"{repeats} interleaved repeats"
    )
    fitted = {}

    def fitter(name, make):
        def fit():
            fitted[name] = make().fit(X, y)

        return fit

    fits = round_robin(
        {
            "sklearn GaussianNB": fitter("sk", GaussianNB),
            "skcgd class": fitter("class", GaussianNaiveBayes),
            "skcgd shared": fitter("shared", lambda: GaussianNaiveBayes("shared")),
        },
        repeats,
    )
    probas = round_robin(
        {
            "sklearn GaussianNB": lambda: fitted["sk"].predict_proba(X),
            "skcgd class": lambda: fitted["class"].predict_proba(X),
            "skcgd shared": lambda: fitted["shared"].predict_proba(X),
        },
        repeats,
    )

    sk, ours = fitted["sk"], fitted["class"]
    theta_err = np.max(np.abs(ours.theta_ - sk.theta_) / (np.abs(sk.theta_) + np.sqrt(sk.var_)))
    var_err = np.max(np.abs(ours.var_ - sk.var_) / sk.var_)
    p_sk, p_ours = probas["sklearn GaussianNB"][2], probas["skcgd class"][2]
    proba_err = np.max(np.abs(p_ours - p_sk))
    same_pred = np.mean(np.argmax(p_ours, axis=1) == np.argmax(p_sk, axis=1))

    print(f"{'step':<16}{'candidate':<22}{'median s':>10}{'best s':>10}{'sklearn/this':>14}")
    for step, res in (("fit", fits), ("predict_proba", probas)):
        ref = res["sklearn GaussianNB"][0]
        for name, (med, best, _) in res.items():
            print(f"{step:<16}{name:<22}{med:>10.3f}{best:>10.3f}{ref / med:>13.1f}x")
    print(
        f"agreement (class mode vs sklearn): theta_ rel {theta_err:.1e}, var_ rel "
        f"{var_err:.1e}, predict_proba max abs {proba_err:.1e}, same argmax {same_pred:.4f}, "
        f"mean max-proba {p_sk.max(axis=1).mean():.3f}"
    )
    for mode in ("class", "shared"):
        name = f"skcgd {mode}"
        _goal(f"fit speed-up ({mode})", fits["sklearn GaussianNB"][0] / fits[name][0], 8)
        _goal(
            f"predict_proba speed-up ({mode})", probas["sklearn GaussianNB"][0] / probas[name][0], 2
        )
    # identical results: the same classes predicted, probabilities equal to rounding
    _goal("share of identical predictions (class)", same_pred, 1.0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default=DEFAULT_SIZES,
        help=f"comma-separated NxD shapes (default {DEFAULT_SIZES})",
    )
    parser.add_argument("--quick", action="store_true", help=f"use --sizes {QUICK_SIZES}")
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-memory", action="store_true", help="skip the memory children")
    parser.add_argument("--child-memory", choices=["skcgd", "sklearn"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [
        tuple(int(v) for v in s.lower().split("x"))
        for s in (QUICK_SIZES if args.quick else args.sizes).split(",")
    ]
    if args.child_memory:
        ((n, d),) = sizes
        child_memory(args.child_memory, n, d, args.classes, args.dtype)
        return

    from skcgd.naive_bayes._gaussian import _warm_up

    print(machine())
    t0 = time.perf_counter()
    _warm_up()
    print(f"Numba warm-up (compile or load from cache): {time.perf_counter() - t0:.1f} s")
    for n, d in sizes:
        run_size(n, d, args.classes, args.dtype, args.repeats, not args.no_memory)


if __name__ == "__main__":
    main()
