"""MinimaxLogisticRegression (issue 3) against its L-BFGS oracle, scikit-learn, its own game
solvers and the robust-logistic peers (MRCpy, skwdro, dro).

Data: ``make_classification(n_samples=N, n_features=50, flip_y=0.2, random_state=0)``, 75/25
``train_test_split(random_state=0)``, N = 20000 and 200000 (``--quick``: N = 4000 only). The
estimator runs at its defaults (C=1, rho=1, tol=1e-6, solver="newton"). Sections:

1. ``chi2`` and ``kl`` against scipy's L-BFGS-B on the closed-form primal (written here in
   numpy: chi2 ``C sum(l + rho/2 l^2) + 1/2||w||^2``, kl ``C N tau log mean exp(l/tau) +
   1/2||w||^2``, intercept unpenalised), stopped by a callback at the estimator's own test
   ``||grad P|| <= tol ||grad P(0)||``; goal: at most 2x its time. ``rho=0`` against
   scikit-learn's ``LogisticRegression(lbfgs)`` with ``tol = tol ||grad P(0)|| / (C n)`` (its
   test is the max-norm of the gradient of P / (C n)); goal: at most 1.5x. Every row prints
   the primal value and relative gradient norm of its solution, computed here, so one sees
   that all reached the same point.
2. Our CGD against our GDA / extragradient / OGDA on the standardized training data (same C,
   rho): multipliers of each solver's "auto" step pair (1/L for the classifier, the
   adversary's inverse curvature) are scanned at the first size; the fastest pair of each
   solver whose fit meets both its own test and the primal test (within a factor 2) is timed,
   and reused at the larger size. Newton is the reference row. The game solvers stop on the
   gradient of the game (both players), which a point whose adversary lags behind its best
   response can meet with a primal gradient several times larger: such rows say "own".
3. The peers, each in its own venv and process (``benchmarks/_peer_robust.py``, same data,
   default thread count, one fit, time limit ``--peer-timeout``): fit time, test accuracy,
   test log-loss side by side with ours. ``bash benchmarks/make_peers_venv.sh`` builds
   ``.venv-peers`` (skwdro, dro) and ``.venv-mrc`` (MRCpy, scikit-learn 1.7.2); without them
   only skcgd's rows are printed. At 200000 only MRCpy's CMRC is run (dro's conic programs
   and skwdro take more than 10 minutes there, see shared/research/peers.md).

skcgd, L-BFGS and scikit-learn are timed after ``skcgd.utils.warm_up()`` and one untimed fit,
in round-robin repeats (medians), with one BLAS thread (threadpoolctl) and with the default
count; CPU seconds count all threads.

Run: ``python benchmarks/bench_minimax_logreg.py`` (about 10 minutes with the peers) or
``python benchmarks/bench_minimax_logreg.py --quick`` (a smoke run, under a minute, no peers
unless ``--peers``).
"""

import argparse
import contextlib
import json
import pathlib
import subprocess
import time
import warnings

import numpy as np
import scipy.optimize
from _common import machine, round_robin
from scipy.special import expit, logsumexp
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

from skcgd.exceptions import ConvergenceWarning
from skcgd.games import Chi2LogisticGame, KLLogisticGame
from skcgd.linear_model import MinimaxLogisticRegression
from skcgd.utils import warm_up

HERE = pathlib.Path(__file__).resolve().parent
VENVS = {
    "peers": HERE / ".venv-peers" / "bin" / "python",
    "mrc": HERE / ".venv-mrc" / "bin" / "python",
}
# (runner model, venv, largest n at which it is run)
PEERS = [
    ("mrcpy_cmrc_log", "mrc", 200_000),
    ("mrcpy_mrc_log", "mrc", 20_000),
    ("dro_chi2", "peers", 20_000),
    ("dro_kl", "peers", 20_000),
    ("dro_wasserstein", "peers", 20_000),
    ("skwdro_pre", "peers", 20_000),
]
PEER_NOTES = [
    "skwdro default (entropic_torch): ~2.5 s per iteration x 3000 at 15000 rows (about 2 h, "
    "peers.md); run with --skwdro-default (capped at --peer-timeout)",
    "skwdro solver='dedicated': > 900 s at 15000 rows (peers.md), not run",
    "at 200000: dro WassersteinDRO > 600 s and 3 GB (peers.md), the other dro/skwdro models "
    "and MRC are slower still: not run",
]
TOL = 1e-6
SOLVERS = ("cgd", "gda", "extragradient", "ogda")


# -- data and the closed-form primal ---------------------------------------------------------
def load(n):
    X, y = make_classification(n_samples=n, n_features=50, flip_y=0.2, random_state=0)
    return train_test_split(X, y, test_size=0.25, random_state=0)


class Primal:
    """P(w) and its gradient for the estimator's objectives (w = [coef, intercept])."""

    def __init__(self, X, y, adversary, C, rho):
        self.X, self.sign = X, np.where(y == 1, 1.0, -1.0)
        self.adversary, self.C, self.rho = adversary, C, rho
        self.p = X.shape[1]

    def __call__(self, w):
        X, s, C, rho, p = self.X, self.sign, self.C, self.rho, self.p
        coef = w[:p]
        m = s * (X @ coef + w[p])
        loss = np.logaddexp(0.0, -m)
        dloss = -s * expit(-m)  # d loss / d z
        if self.adversary == "none" or rho == 0:
            value, r = C * loss.sum(), C * dloss
        elif self.adversary == "chi2":
            value, r = C * (loss.sum() + 0.5 * rho * (loss @ loss)), C * (1.0 + rho * loss) * dloss
        else:  # kl: tau = 1 / rho, N = n
            n, a = len(loss), rho * loss
            lse = logsumexp(a)
            value = C * n / rho * (lse - np.log(n))
            r = C * n * np.exp(a - lse) * dloss
        grad = np.empty(p + 1)
        grad[:p] = X.T @ r + coef
        grad[p] = r.sum()
        return value + 0.5 * (coef @ coef), grad


def lbfgs(primal, gtol):
    """scipy L-BFGS-B on ``primal``, stopped as soon as ||grad|| <= gtol (callback)."""
    last = {}

    def fun(w):
        value, grad = primal(w)
        last["w"], last["g"] = w.copy(), grad
        return value, grad

    def stop(intermediate_result):
        w = intermediate_result.x
        g = last["g"] if np.array_equal(w, last["w"]) else primal(w)[1]
        if np.linalg.norm(g) <= gtol:
            raise StopIteration

    res = scipy.optimize.minimize(
        fun,
        np.zeros(primal.p + 1),
        jac=True,
        method="L-BFGS-B",
        callback=stop,
        options={"gtol": 0.0, "ftol": 0.0, "maxiter": 100_000, "maxfun": 1_000_000},
    )
    return res.x, res.nit


def coef_of(model):
    if isinstance(model, tuple):  # (w, n_iter) from lbfgs
        return model[0]
    return np.r_[model.coef_.ravel(), model.intercept_]


def n_iter_of(model):
    if isinstance(model, tuple):
        return int(model[1])
    return int(np.max(model.n_iter_))


def test_scores(w, Xte, yte):
    z = Xte @ w[:-1] + w[-1]
    s = np.where(yte == 1, 1.0, -1.0)
    return float(np.mean((z > 0) == (yte == 1))), float(np.mean(np.logaddexp(0.0, -s * z)))


# -- timing ----------------------------------------------------------------------------------
def thread_settings():
    n_blas = max(
        (i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"), default=1
    )
    return [
        ("1 thread", lambda: threadpool_limits(1)),
        (f"default ({n_blas} BLAS threads)", contextlib.nullcontext),
    ]


def time_candidates(candidates, repeats):
    """Round-robin medians of wall and CPU time; one untimed call of each first."""
    cpu = {name: [] for name in candidates}

    def with_cpu(name, fn):
        def run():
            c0 = time.process_time()
            out = fn()
            cpu[name].append(time.process_time() - c0)
            return out

        return run

    for fn in candidates.values():
        fn()
    res = round_robin({k: with_cpu(k, f) for k, f in candidates.items()}, repeats)
    return {k: (wall, float(np.median(cpu[k])), out) for k, (wall, _, out) in res.items()}


def fmt_row(name, wall, cpu, iters, value, rel, acc=None, ll=None):
    extra = "" if acc is None else f" {acc:8.4f} {ll:9.4f}"
    return (
        f"  {name:34s} {wall * 1e3:9.1f} {cpu * 1e3:9.1f} {iters:6d} {value:20.10f} "
        f"{rel:9.1e}{extra}"
    )


HEADER = (
    f"  {'method':34s} {'wall ms':>9s} {'CPU ms':>9s} {'iters':>6s} {'primal P':>20s} "
    f"{'|g|/|g0|':>9s}"
)


# -- section 1 -------------------------------------------------------------------------------
def section_oracle(n, Xtr, Xte, ytr, yte, args, summary):
    C, rho = args.C, args.rho
    primals = {adv: Primal(Xtr, ytr, adv, C, rho) for adv in ("chi2", "kl", "none")}
    g0 = {
        adv: float(np.linalg.norm(P(np.zeros(Xtr.shape[1] + 1))[1])) for adv, P in primals.items()
    }
    n_train = Xtr.shape[0]
    # scikit-learn stops at max|grad P| / (C n) <= tol: divided by sqrt(n_coef) this implies
    # the 2-norm test of the others
    sk_tol = TOL * g0["none"] / (C * n_train) / np.sqrt(Xtr.shape[1] + 1)

    def ours(adv, r):
        return lambda: MinimaxLogisticRegression(adv, rho=r, C=C, tol=TOL).fit(Xtr, ytr)

    candidates = {
        "skcgd chi2 (newton)": ours("chi2", rho),
        "L-BFGS chi2 primal": lambda: lbfgs(primals["chi2"], TOL * g0["chi2"]),
        "skcgd kl (newton)": ours("kl", rho),
        "L-BFGS kl primal": lambda: lbfgs(primals["kl"], TOL * g0["kl"]),
        "skcgd rho=0 (newton)": ours("chi2", 0.0),
        "sklearn LogisticRegression(lbfgs)": lambda: LogisticRegression(
            C=C, tol=sk_tol, max_iter=100_000
        ).fit(Xtr, ytr),
        "L-BFGS rho=0 primal": lambda: lbfgs(primals["none"], TOL * g0["none"]),
    }
    adv_of = {
        "skcgd chi2 (newton)": "chi2",
        "L-BFGS chi2 primal": "chi2",
        "skcgd kl (newton)": "kl",
        "L-BFGS kl primal": "kl",
    }
    print(
        f"\n== 1. n={n} ({n_train} train x {Xtr.shape[1]}): skcgd vs the L-BFGS oracle and "
        f"scikit-learn (C={C:g}, rho={rho:g}, tol={TOL:g}, {args.repeats} repeats, "
        "medians)"
    )
    results = {}
    for label, limit in thread_settings():
        with limit():
            res = time_candidates(candidates, args.repeats)
        results[label] = res
        print(f" {label}")
        print(HEADER + f" {'test acc':>8s} {'test loss':>9s}")
        for name, (wall, cpu, model) in res.items():
            adv = adv_of.get(name, "none")
            w = coef_of(model)
            value, grad = primals[adv](w)
            acc, ll = test_scores(w, Xte, yte)
            print(
                fmt_row(
                    name,
                    wall,
                    cpu,
                    n_iter_of(model),
                    value,
                    np.linalg.norm(grad) / g0[adv],
                    acc,
                    ll,
                )
            )
        r_chi2 = res["skcgd chi2 (newton)"][0] / res["L-BFGS chi2 primal"][0]
        r_kl = res["skcgd kl (newton)"][0] / res["L-BFGS kl primal"][0]
        r_sk = res["skcgd rho=0 (newton)"][0] / res["sklearn LogisticRegression(lbfgs)"][0]
        for what, ratio, goal in (
            ("chi2 / L-BFGS", r_chi2, 2.0),
            ("kl / L-BFGS", r_kl, 2.0),
            ("rho=0 / sklearn", r_sk, 1.5),
        ):
            verdict = "met" if ratio <= goal else "MISSED"
            print(f"  ratio {what:16s} {ratio:5.2f}x  (goal <= {goal:g}x: {verdict})")
            summary.append(f"n={n} {label}: {what} {ratio:.2f}x (goal {goal:g}x) {verdict}")
    return results


# -- section 2 -------------------------------------------------------------------------------
def auto_steps(X, y, adversary, solver, C, rho):
    """The estimator's ``eta="auto"`` pair: (1 / L_x, the adversary's inverse curvature),
    halved for extragradient and OGDA."""
    labels = np.where(y == 1, 1, -1)
    cls = Chi2LogisticGame if adversary == "chi2" else KLLogisticGame
    game = cls(X, labels, C=C, rho=rho, fit_intercept=True)
    x0 = np.zeros(game.n_x)
    eta_x = 1.0 / float(game.curvature_x(x0, game.best_response(x0)))
    eta_y = rho / C if adversary == "chi2" else rho / (C * game.N)
    factor = 0.5 if solver in ("extragradient", "ogda") else 1.0
    return factor * eta_x, factor * eta_y


def fit_game(X, y, adversary, solver, eta, args, max_iter):
    model = MinimaxLogisticRegression(
        adversary, rho=args.rho, C=args.C, solver=solver, eta=eta, max_iter=max_iter, tol=TOL
    )
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # too large a step overflows the multiplicative weights before DivergenceError
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return model


def primal_rel_grad(primal, model):
    """||grad P|| / ||grad P(0)|| at a fitted model's coefficients."""
    g0 = np.linalg.norm(primal(np.zeros(primal.p + 1))[1])
    return float(np.linalg.norm(primal(coef_of(model))[1]) / g0)


def status(primal, model):
    """ "yes": the solver's own test and the primal test (with a factor 2 of slack) are met;
    "own": only the solver's own test (the game gradient of both players, which a point whose
    adversary lags behind its best response can pass with a larger primal gradient); "NO"."""
    if not model.converged_:
        return "NO"
    return "yes" if primal_rel_grad(primal, model) <= 2 * TOL else "own"


def scan_steps(Xs, ytr, args):
    """Fastest (CPU time) multiplier pair per (adversary, solver) among the fits that reach
    the primal tolerance, one fit each, 1 thread."""
    grid_x = (0.5, 1.0, 1.5) if args.quick else (0.5, 1.0, 1.5, 2.0, 3.0)
    grid_y = (1.0,) if args.quick else (0.5, 1.0, 1.5)
    best = {}
    print(
        f"\n   step scan ({len(grid_x)} x {len(grid_y)} multipliers of the auto step pair, "
        f"budget {args.budget} steps, 1 thread, one fit each):"
    )
    with threadpool_limits(1):
        for adv in ("chi2", "kl"):
            primal = Primal(Xs, ytr, adv, args.C, args.rho)
            for solver in SOLVERS:
                ex, ey = auto_steps(Xs, ytr, adv, solver, args.C, args.rho)
                tried = []
                for mx in grid_x:
                    for my in grid_y:
                        c0 = time.process_time()  # CPU time: less noisy than wall here
                        try:
                            model = fit_game(
                                Xs, ytr, adv, solver, (mx * ex, my * ey), args, args.budget
                            )
                            cpu = time.process_time() - c0
                            state, steps = status(primal, model), int(model.n_iter_[0])
                        except Exception:  # DivergenceError: the step is too large
                            cpu, state, steps = time.process_time() - c0, "diverged", -1
                        tried.append((cpu, mx, my, state, steps))
                conv = [t for t in tried if t[3] == "yes"]
                pick = min(conv) if conv else None
                best[adv, solver] = (pick[1], pick[2]) if pick else None
                count = {s: sum(t[3] == s for t in tried) for s in ("yes", "own", "diverged")}
                text = (
                    f"best ({pick[1]:g}, {pick[2]:g}): {pick[4]} steps, {pick[0]:.3f} CPU s"
                    if pick
                    else "none reached the tolerance"
                )
                print(
                    f"     {adv:4s} {solver:13s} converged {count['yes']:2d}/{len(tried)} "
                    f"(+{count['own']} by their own test only), diverged "
                    f"{count['diverged']:2d}; {text}"
                )
    return best


def section_first_order(n, Xtr, ytr, args, best, summary):
    Xs = StandardScaler().fit_transform(Xtr)
    print(
        f"\n== 2. n={n}: our CGD vs GDA / extragradient / OGDA on the standardized data "
        f"(C={args.C:g}, rho={args.rho:g}, tol={TOL:g}, budget {args.budget} steps)"
    )
    print(
        "   conv: 'yes' = the solver's own test and |g|/|g0| <= 2 tol; 'own' = only the "
        "solver's own (game-gradient) test"
    )
    if best is None:
        best = scan_steps(Xs, ytr, args)
    else:
        print("   (step multipliers from the scan at the first size)")
    for adv in ("chi2", "kl"):
        primal = Primal(Xs, ytr, adv, args.C, args.rho)
        g0 = float(np.linalg.norm(primal(np.zeros(Xs.shape[1] + 1))[1]))
        candidates = {
            "newton": lambda a=adv: fit_game(Xs, ytr, a, "newton", "auto", args, args.budget)
        }
        mults = {}
        for solver in SOLVERS:
            m = best.get((adv, solver))
            if m is None:
                print(
                    f"   {adv} {solver}: no step pair converged within {args.budget} steps "
                    "in the scan; not timed"
                )
                continue
            ex, ey = auto_steps(Xs, ytr, adv, solver, args.C, args.rho)
            mults[solver] = (m[0], m[1], ex, ey)
            eta = (m[0] * ex, m[1] * ey)
            candidates[solver] = lambda s=solver, e=eta, a=adv: fit_game(
                Xs, ytr, a, s, e, args, args.budget
            )
        for label, limit in thread_settings():
            with limit():
                res = time_candidates(candidates, args.fo_repeats)
            print(f"  {adv}, {label}")
            print(HEADER + f" {'conv':>5s} {'CG its':>7s}  step multipliers")
            for name, (wall, cpu, model) in res.items():
                w = coef_of(model)
                value, grad = primal(w)
                m = mults.get(name)
                mtext = f"({m[0]:g}, {m[1]:g}) x auto ({m[2]:.3g}, {m[3]:.3g})" if m else "-"
                print(
                    fmt_row(
                        name, wall, cpu, int(model.n_iter_[0]), value, np.linalg.norm(grad) / g0
                    )
                    + f" {status(primal, model):>5s} "
                    f"{int(model.history_['cg_iter'].sum()):7d}  {mtext}"
                )
            if "cgd" in res:
                others = {
                    k: v
                    for k, v in res.items()
                    if k not in ("cgd", "newton") and status(primal, v[2]) == "yes"
                }
                if others:
                    fastest = min(others, key=lambda k: others[k][0])
                    ratio = res["cgd"][0] / others[fastest][0]
                    summary.append(
                        f"n={n} {label} {adv}: CGD {res['cgd'][2].n_iter_[0]} steps "
                        f"{res['cgd'][0] * 1e3:.0f} ms; fastest first-order: {fastest} "
                        f"{others[fastest][2].n_iter_[0]} steps {others[fastest][0] * 1e3:.0f} ms; "
                        f"CGD / {fastest} time {ratio:.2f}x"
                    )
    return best


# -- section 3 -------------------------------------------------------------------------------
def run_peer(model, venv, n, timeout):
    python = VENVS[venv]
    if not python.exists():
        return {"model": model, "error": f"venv {python.parent.parent.name} absent"}
    t0 = time.perf_counter()
    try:
        out = subprocess.run(
            [str(python), str(HERE / "_peer_robust.py"), model, str(n)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {
            "model": model,
            "error": f"killed after {timeout:g} s (time limit)",
            "wall": time.perf_counter() - t0,
        }
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        tail = (out.stderr.strip().splitlines() or ["no output"])[-1][:120]
        return {"model": model, "error": f"exit {out.returncode}: {tail}"}
    return json.loads(lines[-1])


def section_peers(n, Xte, yte, oracle_results, args):
    print(
        f"\n== 3. n={n}: robust logistic regression, side by side (peers: one fit in their "
        f"venv, default threads, limit {args.peer_timeout:g} s)"
    )
    print(
        f"  {'model':62s} {'fit wall s':>10s} {'fit CPU s':>9s} {'test acc':>8s} "
        f"{'test loss':>9s} {'RSS MB':>7s}"
    )
    for label, res in oracle_results.items():
        for name in (
            "skcgd chi2 (newton)",
            "skcgd kl (newton)",
            "skcgd rho=0 (newton)",
            "sklearn LogisticRegression(lbfgs)",
        ):
            wall, cpu, model = res[name]
            acc, ll = test_scores(coef_of(model), Xte, yte)
            print(
                f"  {name + ', ' + label.split(' (')[0] + ' median':62s} {wall:10.3f} "
                f"{cpu:9.3f} {acc:8.4f} {ll:9.4f} {'-':>7s}"
            )
    if args.no_peers:
        print("  (peers skipped: --no-peers)")
        return
    peers = [(m, v) for m, v, n_max in PEERS if n <= n_max]
    if args.skwdro_default and n <= 20_000:
        peers.append(("skwdro_default", "peers"))
    for model, venv in peers:
        r = run_peer(model, venv, n, args.peer_timeout)
        name = f"{r.get('library', model.split('_')[0])}: {r.get('settings', model)}"
        if "error" in r:
            wall = f"{r['wall']:10.1f}" if "wall" in r else f"{'-':>10s}"
            print(f"  {name[:62]:62s} {wall}  {r['error'][:70]}")
        else:
            print(
                f"  {name[:62]:62s} {r['wall']:10.3f} {r['cpu']:9.3f} {r['accuracy']:8.4f} "
                f"{r['log_loss']:9.4f} {r['rss_mb']:7.0f}"
            )
    if n <= 20_000:
        for note in PEER_NOTES[:2]:
            print(f"  note: {note}")
    else:
        print(f"  note: {PEER_NOTES[2]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="n=4000 only, small step scan, no peers unless --peers"
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--C", type=float, default=1.0)
    parser.add_argument("--rho", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--fo-repeats", type=int, default=3, help="repeats of the first-order comparison"
    )
    parser.add_argument(
        "--budget", type=int, default=2000, help="max game steps for CGD / GDA / EG / OGDA"
    )
    parser.add_argument("--peer-timeout", type=float, default=900.0)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--peers", action="store_true", help="run the peers with --quick")
    parser.add_argument(
        "--skwdro-default",
        action="store_true",
        help="also run skwdro's default solver (hours; capped)",
    )
    args = parser.parse_args()
    sizes = args.sizes or ([4000] if args.quick else [20_000, 200_000])
    if args.quick:
        args.repeats = min(args.repeats, 3)
        args.fo_repeats = 1
        args.no_peers = args.no_peers or not args.peers
    print("machine:", machine())
    t0 = time.perf_counter()
    warm_up()
    print(f"skcgd.utils.warm_up(): {time.perf_counter() - t0:.1f} s")
    summary = []
    best = None
    for n in sizes:
        Xtr, Xte, ytr, yte = load(n)
        oracle = section_oracle(n, Xtr, Xte, ytr, yte, args, summary)
        best = section_first_order(n, Xtr, ytr, args, best, summary)
        section_peers(n, Xte, yte, oracle, args)
    print("\n== summary")
    for line in summary:
        print(" ", line)


if __name__ == "__main__":
    main()
