"""Fits on Dask arrays: skcgd against dask-ml, on one LocalCluster and the same persisted data.

Runs in ``benchmarks/.venv-dask`` (``bash benchmarks/make_peers_venv.sh dask``: skcgd
editable with its Dask extra, dask-ml 2025.1.0, dask-glm 0.4.0). Sections, all on a
``LocalCluster`` of 2 worker processes x 1 thread (``warm_up_workers`` called before any timing,
one untimed fit of every candidate on a small slice first, then ``--repeat`` interleaved fits,
medians):

* logistic regression: dask-ml's ``LogisticRegression`` (solvers ``newton`` and ``lbfgs``)
  against ``MinimaxLogisticRegression(adversary="none")`` on the Dask arrays and on the same
  data in memory (numpy). Every fit is checked against scikit-learn's ``LogisticRegression``
  fitted in memory to ``tol=1e-10`` on the same objective: ``max |coef - ref| / max |ref|``,
  the intercept counted as a coefficient (goal: 1e-4). Goal: the fastest dask-ml solver at least
  3x slower than our Dask fit.
* Gaussian naive Bayes: dask-ml's ``GaussianNB`` (its ``fit`` is lazy: timed with the
  ``dask.compute`` of ``theta_``, ``sigma_`` and ``class_count_``) against
  ``skcgd.naive_bayes.GaussianNaiveBayes`` on the Dask arrays and in memory; means and variances
  checked against scikit-learn's ``GaussianNB`` (relative 1e-6). Goal: ours at least as fast.
* the overhead of Dask: our Dask fit / our in-memory fit, for both estimators.
* scaling on paper: seconds per pass (one map-reduce over the chunks) against chunk count and
  worker count (1 and 2 workers): a plain dask.array logistic-gradient pass (the floor), dask-ml
  newton (its fit / its Newton steps, one pass each) and our fit / ``dask_stats_["passes"]``.

Objectives. ``C * sum_i loss_i + ||w||^2 / 2`` (scikit-learn's and ours; the intercept is not
penalised). dask-glm's ``newton`` ignores ``C`` and the penalty (it fits the unpenalised model)
and its ``lbfgs`` minimises ``sum_i loss_i + ||(w, b)||^2 / (2 C)``: the same objective scaled by
``1 / C`` but with the intercept ``b`` penalised. Hence the default ``--C inf``, where the three
coincide (400000 samples, 50 features and a moderate signal keep the unpenalised fit well
posed). With a finite ``--C`` newton's row is compared with the unpenalised reference and lbfgs's
with scikit-learn fitted on ``[X, 1]`` without intercept (its objective exactly).

Until skcgd fits Dask arrays on the workers (issue 11), its Dask rows may gather X or fail: the
errors are printed and the dask-ml rows still run.

Run (about 4 minutes on 2 cores): ``benchmarks/.venv-dask/bin/python
benchmarks/bench_dask_fit.py``; ``--quick`` for a smoke run (40000 x 20, 1 repeat).
"""

import argparse
import math
import time
import traceback
import warnings

import numpy as np
from _common import machine, round_robin

COEF_GOAL = 1e-4
NB_GOAL = 1e-6


def make_dask_data(n, p, n_chunks, seed=0):
    """X (n x p, standard normal times per-feature scales) and y from a logistic model.

    Lazy dask arrays with ``n_chunks`` row chunks, generated block by block where they are
    computed (the same numbers for the same ``n, p, n_chunks, seed``). The margin has standard
    deviation 2 plus an intercept of 0.25: a Bayes accuracy around 0.8.
    """
    import dask.array as da

    rows = math.ceil(n / n_chunks)
    params = np.random.default_rng(seed)
    scale = params.uniform(0.5, 2.0, p)
    w = params.standard_normal(p)
    w *= 2.0 / np.linalg.norm(w * scale)
    rng = da.random.default_rng(seed + 1)
    X = rng.standard_normal((n, p), chunks=(rows, p)) * scale
    u = rng.random(n, chunks=rows)
    y = (u < 1.0 / (1.0 + np.exp(-(X @ w + 0.25)))).astype(np.float64)
    return X, y


def persist(client, *arrays):
    from distributed import wait

    arrays = client.persist(list(arrays))
    wait(arrays)
    return arrays


def passes_of(est):
    """Passes over the chunks of the estimator's last Dask fit, or None.

    Assumes the estimator exposes ``dask_stats_``, a dict with ``passes`` (passes over X).
    """
    stats = getattr(est, "dask_stats_", None)
    if stats is None:
        return None
    if isinstance(stats, dict):
        return stats.get("passes")
    return getattr(stats, "passes", None)


def counting_family(counter):
    """dask-glm's Logistic family counting passes: Newton steps (one joint Hessian + gradient
    compute each) and L-BFGS evaluations (one joint loss + gradient compute each)."""
    from dask_glm.families import Logistic

    class CountingLogistic(Logistic):
        @staticmethod
        def hessian(Xbeta, X):
            counter["passes"] += 1
            return Logistic.hessian(Xbeta, X)

        @staticmethod
        def pointwise_loss(beta, X, y):
            counter["passes"] += 1
            return Logistic.pointwise_loss(beta, X, y)

    return CountingLogistic


def coefs(est):
    """coef and intercept as one flat vector (dask-ml's may be dask or numpy)."""
    import dask

    coef, intercept = dask.compute(est.coef_, est.intercept_)
    return np.concatenate([np.ravel(coef), np.ravel(intercept)])


def rel_diff(a, ref):
    return float(np.max(np.abs(a - ref)) / np.max(np.abs(ref)))


def _goal(what, value, target):
    if value is None:
        print(f"goal: {what} = n/a (goal >= {target:g}): n/a")
        return
    met = "met" if value >= target else "MISSED"
    print(f"goal: {what} = {value:.2f} (goal >= {target:g}): {met}")


def _error(name, exc):
    line = traceback.format_exception_only(type(exc), exc)[-1].strip()
    print(f"  {name}: failed, left out: {line[:300]}")


def try_warm(candidates, names_ok):
    """One untimed call of each candidate (imports on the workers, Numba, first-call costs);
    the ones that raise are dropped (names in ``names_ok`` are never guarded)."""
    kept = {}
    for name, fn in candidates.items():
        if name in names_ok:
            fn()
            kept[name] = fn
            continue
        try:
            fn()
        except Exception as exc:  # skcgd's Dask path may not exist yet (issue 11)
            _error(name, exc)
        else:
            kept[name] = fn
    return kept


def warm_up(client):
    """skcgd's ``warm_up_workers`` (guarded: skcgd's failures must not stop dask-ml's rows)."""
    from skcgd.utils import warm_up_workers

    try:
        return warm_up_workers(client)
    except Exception as exc:
        _error("skcgd.utils.warm_up_workers", exc)
        return None


def ratio_text(num, den):
    return "n/a" if num is None or den is None else f"{num / den:.2f}"


# ---------------------------------------------------------------------------------------------
# logistic regression


def logistic_candidates(Xd, yd, X, y, C, tol, counters):
    from dask_ml.linear_model import LogisticRegression as DaskLR

    from skcgd.linear_model import MinimaxLogisticRegression

    def dask_ml(solver, extra):
        counter = counters.setdefault(f"dask-ml {solver}", {"passes": 0})

        def fit(Xa=Xd, ya=yd):
            counter["passes"] = 0
            return DaskLR(
                solver=solver,
                C=C,
                fit_intercept=True,
                solver_kwargs={"family": counting_family(counter)},
                **extra,
            ).fit(Xa, ya)

        return fit

    def ours(Xa, ya):
        def fit():
            return MinimaxLogisticRegression(
                adversary="none", C=C, fit_intercept=True, tol=tol
            ).fit(Xa, ya)

        return fit

    return {
        # newton: stops when no coefficient moves by more than tol (quadratic convergence)
        "dask-ml newton": dask_ml("newton", {"tol": 1e-8, "max_iter": 100}),
        # lbfgs: scipy's fmin_l_bfgs_b with pgtol=tol on the summed loss's gradient; its own
        # relative-objective test (factr 1e7, not exposed) usually stops it first
        "dask-ml lbfgs": dask_ml("lbfgs", {"tol": 1e-6, "max_iter": 1000}),
        "skcgd (dask)": ours(Xd, yd),
        "skcgd (numpy)": ours(X, y),
    }


def logistic_section(client, Xd, yd, X, y, C, tol, repeat):
    from sklearn.linear_model import LogisticRegression

    print(f"\n## logistic regression, C = {C:g}, {repeat} interleaved repeats")
    t0 = time.perf_counter()
    ref = LogisticRegression(C=C, solver="newton-cholesky", tol=1e-10, max_iter=1000).fit(X, y)
    t_ref = time.perf_counter() - t0
    ref_w = coefs(ref)
    refs = {name: ref_w for name in ("dask-ml lbfgs", "skcgd (dask)", "skcgd (numpy)")}
    if np.isinf(C):
        refs["dask-ml newton"] = ref_w
    else:  # newton fits the unpenalised model; lbfgs penalises the intercept
        free = LogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-10, max_iter=1000)
        refs["dask-ml newton"] = coefs(free.fit(X, y))
        X1 = np.hstack([X, np.ones((X.shape[0], 1))])
        pen = LogisticRegression(
            C=C, solver="newton-cholesky", tol=1e-10, max_iter=1000, fit_intercept=False
        )
        refs["dask-ml lbfgs"] = pen.fit(X1, y).coef_.ravel()  # (w, b)
        del X1
    print(
        f"reference: scikit-learn LogisticRegression(newton-cholesky, tol=1e-10) in memory, "
        f"{t_ref:.2f} s, {int(ref.n_iter_[0])} iterations, accuracy {ref.score(X, y):.4f}"
    )

    counters = {}
    full = logistic_candidates(Xd, yd, X, y, C, tol, counters)
    rows = max(1, X.shape[0] // len(Xd.chunks[0]))
    small = logistic_candidates(
        Xd[: 2 * rows], yd[: 2 * rows], X[: 2 * rows], y[: 2 * rows], C, tol, counters
    )
    kept = try_warm(small, names_ok=("dask-ml newton", "dask-ml lbfgs"))
    res = round_robin({name: full[name] for name in kept}, repeat)

    print(
        f"{'candidate':<18}{'median s':>10}{'best s':>9}{'passes':>8}{'s/pass':>9}"
        f"{'coef diff':>11}  within {COEF_GOAL:g}"
    )
    medians = {}
    for name, (med, best, est) in res.items():
        medians[name] = med
        if name.startswith("dask-ml"):
            n_passes = counters[name]["passes"]
        elif name == "skcgd (dask)":
            n_passes = passes_of(est)
        else:
            n_passes = None
        diff = rel_diff(coefs(est), refs[name])
        per = f"{med / n_passes:9.3f}" if n_passes else f"{'n/a':>9}"
        print(
            f"{name:<18}{med:>10.2f}{best:>9.2f}{n_passes if n_passes else 'n/a':>8}{per}"
            f"{diff:>11.1e}  {'yes' if diff <= COEF_GOAL else 'NO'}"
        )
    fastest = min(("dask-ml newton", "dask-ml lbfgs"), key=medians.get)
    ours = medians.get("skcgd (dask)")
    if ours is not None and passes_of(res["skcgd (dask)"][2]) is None:
        print("note: skcgd (dask) exposes no dask_stats_: it probably gathered X to the client")
    print(f"dask-ml fastest solver: {fastest} ({medians[fastest]:.2f} s)")
    _goal(f"{fastest} / skcgd (dask)", None if ours is None else medians[fastest] / ours, 3)
    print(
        f"overhead of Dask: skcgd (dask) / skcgd (numpy) = "
        f"{ratio_text(ours, medians.get('skcgd (numpy)'))}"
    )


# ---------------------------------------------------------------------------------------------
# Gaussian naive Bayes


def nb_section(Xd, yd, X, y, repeat):
    import dask
    from dask_ml.naive_bayes import GaussianNB as DaskGNB
    from sklearn.naive_bayes import GaussianNB

    from skcgd.naive_bayes import GaussianNaiveBayes

    print(f"\n## Gaussian naive Bayes, {repeat} interleaved repeats")

    def make(Xa, ya, Xn, yn):
        def dask_ml():
            est = DaskGNB().fit(Xa, ya)  # lazy: only np.unique(y) is computed here
            est.theta_, est.sigma_, est.class_count_ = dask.compute(
                est.theta_, est.sigma_, est.class_count_
            )
            return est

        return {
            "dask-ml GaussianNB": dask_ml,
            "skcgd (dask)": lambda: GaussianNaiveBayes().fit(Xa, ya),
            "skcgd (numpy)": lambda: GaussianNaiveBayes().fit(Xn, yn),
            "sklearn (numpy)": lambda: GaussianNB().fit(Xn, yn),
        }

    rows = max(1, X.shape[0] // len(Xd.chunks[0]))
    kept = try_warm(
        make(Xd[: 2 * rows], yd[: 2 * rows], X[: 2 * rows], y[: 2 * rows]),
        names_ok=("dask-ml GaussianNB", "sklearn (numpy)"),
    )
    full = make(Xd, yd, X, y)
    res = round_robin({name: full[name] for name in kept}, repeat)
    t0 = time.perf_counter()
    DaskGNB().fit(Xd, yd)
    lazy = time.perf_counter() - t0

    ref = res["sklearn (numpy)"][2]
    ref_var = ref.var_ - ref.epsilon_  # dask-ml's sigma_ has no var_smoothing
    print(
        f"{'candidate':<20}{'median s':>10}{'best s':>9}{'passes':>8}"
        f"{'theta rel':>11}{'var rel':>10}  within {NB_GOAL:g}"
    )
    medians = {}
    for name, (med, best, est) in res.items():
        medians[name] = med
        if name == "dask-ml GaussianNB":
            var, rvar = np.asarray(est.sigma_), ref_var
        else:
            var, rvar = est.var_, ref.var_
        theta_err = float(
            np.max(np.abs(est.theta_ - ref.theta_) / (np.abs(ref.theta_) + np.sqrt(ref.var_)))
        )
        var_err = float(np.max(np.abs(var - rvar) / rvar))
        n_passes = passes_of(est) if name == "skcgd (dask)" else None
        ok = "yes" if max(theta_err, var_err) <= NB_GOAL else "NO"
        print(
            f"{name:<20}{med:>10.3f}{best:>9.3f}{n_passes if n_passes else 'n/a':>8}"
            f"{theta_err:>11.1e}{var_err:>10.1e}  {ok}"
        )
    print(f"dask-ml GaussianNB.fit alone (lazy, computes np.unique(y) only): {lazy:.3f} s")
    ours = medians.get("skcgd (dask)")
    _goal(
        "dask-ml GaussianNB / skcgd (dask)",
        None if ours is None else medians["dask-ml GaussianNB"] / ours,
        1,
    )
    print(
        f"overhead of Dask: skcgd (dask) / skcgd (numpy) = "
        f"{ratio_text(ours, medians.get('skcgd (numpy)'))}"
    )


# ---------------------------------------------------------------------------------------------
# scaling on paper: seconds per pass against chunk count and worker count


def scaling_rows(client, n, p, n_workers, chunk_counts, C, tol, repeat):
    import dask
    from dask_ml.linear_model import LogisticRegression as DaskLR

    from skcgd.linear_model import MinimaxLogisticRegression

    w = np.random.default_rng(1).standard_normal(p) / np.sqrt(p)
    ours_ok = True
    for k in chunk_counts:
        Xd, yd = persist(client, *make_dask_data(n, p, k))
        counter = {"passes": 0}

        def floor():
            z = Xd @ w
            return dask.compute(Xd.T @ (1.0 / (1.0 + np.exp(-z)) - yd))[0]

        def newton():
            counter["passes"] = 0
            return DaskLR(
                solver="newton",
                C=C,
                tol=1e-8,
                max_iter=100,
                solver_kwargs={"family": counting_family(counter)},
            ).fit(Xd, yd)

        def ours():
            return MinimaxLogisticRegression(adversary="none", C=C, tol=tol).fit(Xd, yd)

        cands = {"floor": floor, "newton": newton}
        if ours_ok:
            cands["ours"] = ours
        cands = try_warm(cands, names_ok=("floor", "newton"))
        ours_ok = "ours" in cands
        res = round_robin(cands, repeat)
        cells = [
            f"{res['floor'][0]:14.3f}",
            f"{res['newton'][0] / counter['passes']:18.3f} ({counter['passes']:>3})",
        ]
        if ours_ok:
            n_passes = passes_of(res["ours"][2])
            cells.append(
                f"{res['ours'][0] / n_passes:18.3f} ({n_passes:>3})"
                if n_passes
                else f"{'n/a':>18} (fit {res['ours'][0]:.2f} s)"
            )
        else:
            cells.append(f"{'n/a':>18} (failed)")
        mb = Xd.nbytes / k / 1e6
        print(f"{n_workers:>8}{k:>8}{mb:>10.1f}" + "".join(cells))


def scaling_section(client, n, p, chunk_counts, C, tol, repeat):
    from distributed import Client, LocalCluster

    print(f"\n## seconds per pass (one map-reduce over the chunks), {n} x {p}, {repeat} repeats")
    print(
        "floor: dask.array X.T @ (sigmoid(X @ w) - y); newton: dask-ml fit / Newton steps; "
        "skcgd: fit / dask_stats_['n_passes'] (Dask path of issue 11)"
    )
    print(
        f"{'workers':>8}{'chunks':>8}{'MB/chunk':>10}{'floor s/pass':>14}"
        f"{'newton s/pass (steps)':>24}{'skcgd s/pass (passes)':>24}"
    )
    with client.as_current():
        scaling_rows(client, n, p, 2, chunk_counts, C, tol, repeat)
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster1,
        Client(cluster1) as client1,
    ):
        warm_up(client1)
        with client1.as_current():
            scaling_rows(client1, n, p, 1, chunk_counts, C, tol, repeat)


# ---------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400_000, help="samples (default 400000)")
    parser.add_argument("--p", type=int, default=50, help="features (default 50)")
    parser.add_argument("--chunks", type=int, default=8, help="row chunks (default 8)")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved repeats (default 3)")
    parser.add_argument(
        "--C",
        type=float,
        default=np.inf,
        help="inverse L2 strength (default inf: see the module docstring)",
    )
    parser.add_argument(
        "--tol", type=float, default=1e-8, help="MinimaxLogisticRegression's tol (default 1e-8)"
    )
    parser.add_argument(
        "--scaling-chunks",
        default="2,8,32",
        help="chunk counts of the per-pass section (default 2,8,32)",
    )
    parser.add_argument("--no-scaling", action="store_true", help="skip the per-pass section")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: --n 40000 --p 20 --repeat 1 --scaling-chunks 2,8",
    )
    args = parser.parse_args()
    if args.quick:
        args.n, args.p, args.repeat, args.scaling_chunks = 40_000, 20, 1, "2,8"
    chunk_counts = [int(k) for k in args.scaling_chunks.split(",")]

    import dask
    import dask_ml
    from distributed import Client, LocalCluster

    print(machine())
    print(
        f"dask {dask.__version__}, dask-ml {dask_ml.__version__}; LocalCluster 2 workers x 1 "
        f"thread (processes)"
    )
    warnings.filterwarnings("ignore", message=".*Sending large graph.*")
    # dask-glm's lbfgs sets a renamed dask option; a second cluster's HTTP server (health
    # routes, no dashboard) finds the first one's default port taken and picks another
    warnings.filterwarnings("ignore", message=".*fuse_ave_width.*", category=FutureWarning)
    warnings.filterwarnings("ignore", message=".*Port 8787 is already in use.*")
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        t0 = time.perf_counter()
        seconds = warm_up(client)
        if seconds is not None:
            print(
                f"warm_up_workers: {time.perf_counter() - t0:.1f} s "
                f"(per worker {', '.join(f'{s:.1f}' for s in seconds.values())} s)"
            )
        Xd, yd = persist(client, *make_dask_data(args.n, args.p, args.chunks))
        X, y = dask.compute(Xd, yd)
        print(
            f"data: X {args.n} x {args.p} float64 ({X.nbytes / 1e6:.0f} MB), {args.chunks} "
            f"row chunks persisted on the workers, mean(y) = {y.mean():.3f}"
        )
        logistic_section(client, Xd, yd, X, y, args.C, args.tol, args.repeat)
        nb_section(Xd, yd, X, y, args.repeat)
        del X, y, Xd, yd
        if not args.no_scaling:
            scaling_section(client, args.n, args.p, chunk_counts, args.C, args.tol, args.repeat)


if __name__ == "__main__":
    main()
