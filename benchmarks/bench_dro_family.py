"""The chi-square and CVaR adversaries (issue 13) against the dro package, a conic solver and
L-BFGS, at equal objective.

Data: ``make_classification(n_samples=N, n_features=50, flip_y=0.2, random_state=0)``, the
75% training split of ``train_test_split(random_state=0)`` (as benchmarks/_peer_robust.py).
dro's linear models have no penalty on the coefficients, so skcgd runs with ``C=np.inf``
and every objective is the mean-loss form (per sample):

* CVaR at level 0.5: ``F(w) = min_eta eta + 2 mean (l - eta)_+``; skcgd ``adversary="cvar",
  rho=1``, dro ``CVaRDRO(alpha=0.5)``, cvxpy (Clarabel) on the same program.
* chi-square ball of radius 0.1 (dro ``Chi2DRO(eps=0.1)``):
  ``F(w) = min_eta eta + sqrt(1 + eps) / sqrt(n) ||(l - eta)_+||_2``. skcgd solves the
  penalised form; the ball's value is the minimum over ``tau = 1 / rho`` of the penalised value
  plus ``tau eps / 2``, so skcgd runs at the ``rho`` whose ``tau`` is optimal at dro's solution
  (found here by a scalar search): both then minimise the same ``F``. L-BFGS-B minimises
  skcgd's penalised primal at that ``rho`` jointly in ``(w, eta)`` (it is once
  differentiable), started from zero, stopped at skcgd's objective (or its own tolerance).

Every row prints the fit time (median of 3 for skcgd and L-BFGS, one fit for the peers, which
run in their own process: ``bash benchmarks/make_peers_venv.sh peers``), ``F`` of its
solution computed here, and the ratio of its time to skcgd's. One BLAS thread.

Run: ``python benchmarks/bench_dro_family.py [N ...]`` (default 20000 200000; dro is skipped
above ``--peer-max`` rows, default 20000: its conic programs take minutes there).
"""

import argparse
import json
import pathlib
import subprocess
import time
import warnings

import numpy as np
import scipy.optimize
from _common import machine
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from skcgd.games._simplex_response import capped_quadratic_response
from skcgd.linear_model import MinimaxLogisticRegression

HERE = pathlib.Path(__file__).resolve().parent
EPS, ALPHA = 0.1, 0.5


def _losses(X, sign, w):
    return np.logaddexp(0.0, -sign * (X @ w[:-1] + w[-1]))


def cvar_objective(losses, alpha=ALPHA):
    # piecewise linear and convex in eta: the minimum is at a loss
    ls = np.sort(losses)
    k = len(ls)
    tail = np.cumsum(ls[::-1])[::-1]  # sum of the losses from index j on
    above = np.arange(k, 0, -1)
    values = ls + (tail - above * ls) / (alpha * k)
    return float(values.min())


def chi2_ball_objective(losses, eps=EPS):
    n = len(losses)

    scale = np.sqrt(1 + eps) / np.sqrt(n)

    def f(eta):
        return eta + scale * np.linalg.norm(np.maximum(losses - eta, 0))

    bounds = (losses.min() - 10, losses.max())
    res = scipy.optimize.minimize_scalar(
        f, bounds=bounds, method="bounded", options={"xatol": 1e-12}
    )
    return float(res.fun)


def penalised_chi2(losses, tau):
    p = np.full(len(losses), 1.0 / len(losses))
    q, _, _ = capped_quadratic_response(losses, p, tau)
    return float(q @ losses - 0.5 * tau * np.sum((q - p) ** 2 / p))


def best_tau(losses, eps=EPS):
    """The multiplier tau of the chi-square ball at these losses."""
    res = scipy.optimize.minimize_scalar(
        lambda t: penalised_chi2(losses, np.exp(t)) + np.exp(t) * eps / 2,
        bounds=(-12, 8), method="bounded", options={"xatol": 1e-10},
    )  # fmt: skip
    return float(np.exp(res.x))


def lbfgs_chi2(X, sign, rho, target):
    tau, n, d = 1.0 / rho, X.shape[0], X.shape[1]

    def obj(v):
        w, eta = v[:-1], v[-1]
        z = X @ w[:-1] + w[-1]
        loss = np.logaddexp(0, -sign * z)
        r = np.maximum(1 + (loss - eta) / tau, 0)
        f = eta + tau / 2 * (np.mean(r * r) - 1)
        dl = r / n  # df/dl
        g = -sign / (1 + np.exp(sign * z)) * dl
        return f, np.r_[g @ X, g.sum(), 1 - np.mean(r)]

    stop = {}

    def callback(intermediate_result):
        if intermediate_result.fun <= target:
            stop["hit"] = True
            raise StopIteration

    res = scipy.optimize.minimize(
        obj, np.zeros(d + 2), jac=True, method="L-BFGS-B", callback=callback,
        options={"gtol": 0.0, "ftol": 0.0, "maxiter": 100_000},
    )  # fmt: skip
    return res.x[:-1], res.fun


def cvxpy_cvar(X, sign):
    import cvxpy as cp

    n, d = X.shape
    w, b, eta = cp.Variable(d), cp.Variable(), cp.Variable()
    loss = cp.logistic(-cp.multiply(sign, X @ w + b))
    problem = cp.Problem(cp.Minimize(eta + cp.sum(cp.pos(loss - eta)) / (ALPHA * n)))
    problem.solve(solver="CLARABEL")
    return np.r_[w.value, b.value]


def timed(fun, repeat=3):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fun()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def peer(model, n, timeout):
    python = HERE / ".venv-peers" / "bin" / "python"
    if not python.exists():
        return None
    try:
        done = subprocess.run(
            [str(python), str(HERE / "_peer_robust.py"), model, str(n)],
            capture_output=True, text=True, timeout=timeout, cwd=HERE,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return {"error": f"more than {timeout} s"}
    line = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "{}"
    return json.loads(line) if line.startswith("{") else {"error": done.stderr[-200:]}


def row(name, seconds, objective, reference_seconds, ref_objective):
    ratio = seconds / reference_seconds if reference_seconds else float("nan")
    gap = (objective - ref_objective) / abs(ref_objective)
    print(f"  {name:34s} {seconds:9.3f} s  F = {objective:.10f}  (rel. to skcgd {gap:+.1e})"
          f"  time / skcgd's {ratio:8.1f}x")  # fmt: skip


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[20000, 200000])
    parser.add_argument("--peer-max", type=int, default=20000)
    parser.add_argument("--peer-timeout", type=int, default=1800)
    args = parser.parse_args()
    print(machine())
    warnings.simplefilter("ignore")
    for N in args.sizes:
        X, y = make_classification(n_samples=N, n_features=50, flip_y=0.2, random_state=0)
        X, _, y, _ = train_test_split(X, y, test_size=0.25, random_state=0)
        sign = np.where(y == 1, 1.0, -1.0)
        n = len(y)
        with threadpool_limits(1, user_api="blas"):
            MinimaxLogisticRegression("cvar", C=np.inf).fit(X[:200], y[:200])  # compile/load

            # -- CVaR at level 0.5 --------------------------------------------------------
            print(f"n_train={n}, d=50: CVaR at level {ALPHA} (rho = 1)")
            model = MinimaxLogisticRegression("cvar", rho=1 / ALPHA - 1, C=np.inf, tol=1e-8)
            t_ours, fitted = timed(lambda: model.fit(X, y))
            w = np.r_[fitted.coef_[0], fitted.intercept_]
            F_ours = cvar_objective(_losses(X, sign, w))
            row("skcgd cvar (Newton, continuation)", t_ours, F_ours, t_ours, F_ours)
            if N <= args.peer_max:
                t, w_c = timed(lambda: cvxpy_cvar(X, sign), repeat=1)
                row("cvxpy + Clarabel (same program)", t, cvar_objective(_losses(X, sign, w_c)),
                    t_ours, F_ours)  # fmt: skip
                out = peer("dro_cvar", N, args.peer_timeout)
                if out and "theta" in out:
                    w_d = np.r_[out["theta"], out["b"]]
                    row(f"dro {out['settings']}", out["wall"],
                        cvar_objective(_losses(X, sign, w_d)), t_ours, F_ours)  # fmt: skip
                elif out:
                    print(f"  dro CVaRDRO: {out.get('error')}")

            # -- chi-square ball of radius 0.1 --------------------------------------------
            print(f"n_train={n}, d=50: chi-square ball, eps = {EPS}")
            out = peer("dro_chi2", N, args.peer_timeout) if N <= args.peer_max else None
            if out and "theta" in out:
                w_d = np.r_[out["theta"], out["b"]]
                tau = best_tau(_losses(X, sign, w_d))
            else:
                tau = 1.0 / 3.0  # without dro: a fixed strength
            rho = 1.0 / tau
            model = MinimaxLogisticRegression("chi2", rho=rho, C=np.inf, tol=1e-8)
            t_ours, fitted = timed(lambda: model.fit(X, y))
            w = np.r_[fitted.coef_[0], fitted.intercept_]
            l_ours = _losses(X, sign, w)
            F_ours = chi2_ball_objective(l_ours)
            print(f"  (rho = {rho:.6g}; F is the ball's objective against dro, the penalised")
            print("   objective at this rho against L-BFGS)")
            row("skcgd chi2 (Newton)", t_ours, F_ours, t_ours, F_ours)
            P_ours = penalised_chi2(l_ours, tau)
            t, (w_l, _) = timed(lambda: lbfgs_chi2(X, sign, rho, P_ours * (1 + 1e-9)))
            row("skcgd chi2, penalised objective", t_ours, P_ours, t_ours, P_ours)
            row("L-BFGS-B on the penalised primal", t,
                penalised_chi2(_losses(X, sign, w_l), tau), t_ours, P_ours)  # fmt: skip
            if out and "theta" in out:
                row(f"dro {out['settings']}", out["wall"],
                    chi2_ball_objective(_losses(X, sign, w_d)), t_ours, F_ours)  # fmt: skip
            elif out:
                print(f"  dro Chi2DRO: {out.get('error')}")


if __name__ == "__main__":
    main()
