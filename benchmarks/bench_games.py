"""skcgd's CGD against the cgds PyTorch package (and an L-BFGS primal solve) on two seeded games.

(a) bilinear  min_x max_y x^T A y, A = N(0, 1)/10 (100 x 100), eta = 100 for both players;
(b) DRO logistic (chi2-reweighted) n = 2000, d = 50:
    f(w, u) = sum_i (1/n + u_i) l_i(w) - (lam/2)||u||^2 + (alpha/2)||w||^2, lam = 2000,
    alpha = 0.01, eta_w = 2.5, eta_u = 5e-4; played by skcgd as ``SecondMomentLogisticGame`` with
    C = 1/(n alpha), rho = n/lam, which is f / alpha in the variables (w, n u) (the steps map to
    alpha eta_w and alpha n^2 eta_u; the stopping test uses the gradient norm of f itself).

Both stop at gradient norm < 1e-6 (1000 steps at most), float64, one thread (BLAS and torch),
timed after a warm-up; the gradient norm used to stop is not timed for either. The cgds runs
happen in benchmarks/.venv-peers (make it with ``bash benchmarks/make_peers_venv.sh``); without
it the script prints skcgd's side only. The L-BFGS row minimises the closed-form primal
mean(l) + sum(l^2)/(2 lam) + alpha ||w||^2 / 2 with scipy (the honest baseline for (b)).

Run: ``python benchmarks/bench_games.py``.
"""

import argparse
import json
import math
import pathlib
import statistics
import subprocess
import time

import numpy as np
import scipy.optimize
from _common import machine
from threadpoolctl import threadpool_limits

from skcgd.games import BilinearGame
from skcgd.solvers import CGD
from skcgd.utils import warm_up

HERE = pathlib.Path(__file__).resolve().parent
PEER_PYTHON = HERE / ".venv-peers" / "bin" / "python"
N, D, LAM, ALPHA = 2000, 50, 2000.0, 1e-2


def bilinear():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((100, 100)) / 10
    return BilinearGame(A), rng.standard_normal(100), rng.standard_normal(100)


def dro_data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, D))
    w_true = rng.standard_normal(D) * 2 / math.sqrt(D)
    y = np.where(rng.random(N) < 1 / (1 + np.exp(-X @ w_true)), 1.0, -1.0)
    return X, y


def dro_game():
    from skcgd.games import SecondMomentLogisticGame

    X, y = dro_data()
    return (
        SecondMomentLogisticGame(X, y, C=1.0 / (N * ALPHA), rho=N / LAM),
        np.zeros(D),
        np.zeros(N),
    )


def issue_grad_norm(state):
    """Gradient norm of the issue's f from our game's gradients (f = alpha f_ours(w, n u))."""
    gw, gu = state.grad_x, state.grad_y
    return ALPHA * math.sqrt(gw @ gw + N**2 * (gu @ gu))


def time_skcgd(game, x0, y0, solver, stop, repeats):
    times, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        res = solver.run(game, x0, y0, callback=stop)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return res, statistics.median(times), statistics.median(cpu)


def primal_lbfgs(repeats):
    X, y = dro_data()

    def fun(w):
        z = -y * (X @ w)
        loss = np.logaddexp(0.0, z)
        dloss = -y / (1.0 + np.exp(-z))  # d loss / d (x.w)
        weight = 1.0 / N + loss / LAM
        value = loss.mean() + (loss @ loss) / (2 * LAM) + 0.5 * ALPHA * (w @ w)
        return value, X.T @ (weight * dloss) + ALPHA * w

    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = scipy.optimize.minimize(
            fun,
            np.zeros(D),
            jac=True,
            method="L-BFGS-B",
            options={"gtol": 1e-9, "ftol": 1e-15, "maxiter": 1000},
        )
        times.append(time.perf_counter() - t0)
    return res, statistics.median(times)


def peer(game, eta_x, eta_y, repeats):
    if not PEER_PYTHON.exists():
        return None
    out = subprocess.run(
        [str(PEER_PYTHON), str(HERE / "_peer_cgds.py"), game, str(eta_x), str(eta_y), str(repeats)],
        capture_output=True,
        text=True,
        check=True,
        env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--peer-repeats", type=int, default=3)
    args = parser.parse_args()
    print("machine:", machine())
    warm_up()
    rows = []
    with threadpool_limits(1):
        game, x0, y0 = bilinear()
        for ls in ("cg", "auto"):
            solver = CGD(eta=100.0, max_iter=1000, tol=1e-6, linear_solver=ls, cg_max_iter=10_000)
            res, wall, cpu = time_skcgd(game, x0, y0, solver, None, args.repeats)
            rows.append(
                (
                    "bilinear",
                    f"skcgd CGD ({ls})",
                    res.n_iter,
                    res.history["grad_norm"][-1],
                    int(res.history["cg_iter"].sum()),
                    wall,
                    cpu,
                )
            )
        bil_refs = rows[:2]

        game, x0, y0 = dro_game()
        solver = CGD(
            eta=(ALPHA * 2.5, ALPHA * N**2 * 5e-4),
            max_iter=1000,
            tol=0,
            linear_solver="cg",
            cg_tol=1e-6,
        )
        res, wall, cpu = time_skcgd(
            game, x0, y0, solver, lambda s: issue_grad_norm(s) < 1e-6, args.repeats
        )
        rows.append(
            (
                "dro",
                "skcgd CGD (cg)",
                res.n_iter,
                issue_grad_norm(res.state),
                int(res.history["cg_iter"].sum()),
                wall,
                cpu,
            )
        )
        dro_ref = rows[-1]
        lb, t_lb = primal_lbfgs(args.repeats)
        rows.append(
            (
                "dro",
                "scipy L-BFGS primal",
                lb.nit,
                float(np.linalg.norm(lb.jac)),
                0,
                t_lb,
                float("nan"),
            )
        )

    peers = {}
    for game_name, ex, ey in (("bilinear", 100.0, 100.0), ("dro", 2.5, 5e-4)):
        r = peer(game_name, ex, ey, args.peer_repeats)
        if r is not None:
            peers[game_name] = r
            rows.append(
                (
                    game_name,
                    f"cgds BCGD (torch {r['torch']})",
                    r["steps"],
                    r["grad_norm"],
                    r["cg_iter"],
                    r["wall"],
                    r["cpu"],
                )
            )

    print(
        f"\n{'game':9s} {'method':30s} {'steps':>6s} {'|grad|':>10s} {'CG its':>7s} "
        f"{'wall':>10s} {'cpu':>10s}"
    )
    for g, name, steps, gn, cg_its, wall, cpu in rows:
        print(
            f"{g:9s} {name:30s} {steps:6d} {gn:10.2e} {cg_its:7d} {wall * 1e3:8.2f}ms "
            f"{cpu * 1e3:8.2f}ms"
        )
    print()
    for g, ref in [("bilinear", r) for r in bil_refs] + [("dro", dro_ref)]:
        if g in peers:
            print(
                f"{g}: cgds / {ref[1]} wall time = {peers[g]['wall'] / ref[5]:.0f}x, "
                f"cpu = {peers[g]['cpu'] / ref[6]:.0f}x; steps {peers[g]['steps']} vs "
                f"{ref[2]}"
            )
    if "bilinear" in peers:
        print(
            "  (cgds caps each CG solve at the dimension, 100 here: its inexact steps need "
            "more of them; skcgd's CG runs to cg_tol, and 'auto' switches to Cholesky once "
            "CG needs more than half the dimension)"
        )
    print(
        f"dro: skcgd CGD / scipy L-BFGS primal wall time = {dro_ref[5] / t_lb:.2f}x "
        f"(primal value at CGD's w: see tests; L-BFGS f* = {lb.fun:.8f})"
    )
    if not peers:
        print("(no peers venv: run bash benchmarks/make_peers_venv.sh for the cgds rows)")


if __name__ == "__main__":
    main()
