"""The cgds (PyTorch) side of bench_games.py; runs inside benchmarks/.venv-peers.

Usage: python _peer_cgds.py {bilinear,dro} ETA_X ETA_Y REPEATS
Prints one JSON line: steps, final gradient norm, CG iterations, median wall and CPU seconds
(after one warm-up run). The games are built exactly as in bench_games.py (same seeds and
draw order), in float64.
"""

import json
import math
import statistics
import sys
import time

import numpy as np
import torch
from CGDs import BCGD

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)


def build(game):
    rng = np.random.default_rng(0)
    if game == "bilinear":
        A = torch.tensor(rng.standard_normal((100, 100)) / 10)
        x0 = torch.tensor(rng.standard_normal(100))
        y0 = torch.tensor(rng.standard_normal(100))
        return (lambda x, y: x @ (A @ y)), x0, y0
    n, d, lam, alpha = 2000, 50, 2000.0, 1e-2
    X = rng.standard_normal((n, d))
    w_true = rng.standard_normal(d) * 2 / math.sqrt(d)
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-X @ w_true)), 1.0, -1.0)
    Xt, yt = torch.tensor(X), torch.tensor(y)

    def f(w, u):
        loss = torch.nn.functional.softplus(-yt * (Xt @ w))
        return ((1 / n + u) * loss).sum() - 0.5 * lam * (u @ u) + 0.5 * alpha * (w @ w)

    return f, torch.zeros(d), torch.zeros(n)


def solve(game, eta_x, eta_y, max_steps=1000, tol=1e-6):
    f, x0, y0 = build(game)
    x = x0.clone().requires_grad_(True)
    y = y0.clone().requires_grad_(True)
    # cgds convention: max_params maximise the loss, min_params minimise it
    opt = BCGD(max_params=[y], min_params=[x], lr_max=eta_y, lr_min=eta_x, collect_info=True)

    def grad_norm():
        gx, gy = torch.autograd.grad(f(x, y), [x, y])
        return math.sqrt(float(gx @ gx + gy @ gy))

    wall = cpu = 0.0
    cg_total = 0
    g = grad_norm()
    steps = 0
    for steps in range(1, max_steps + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        opt.zero_grad()
        opt.step(f(x, y))
        wall += time.perf_counter() - t0
        cpu += time.process_time() - c0
        cg_total += int(opt.get_info()["iter_num"])
        g = grad_norm()  # the stopping test is not timed (as for skcgd)
        if g < tol or not math.isfinite(g):
            break
    return {"steps": steps, "grad_norm": g, "cg_iter": cg_total, "wall": wall, "cpu": cpu}


def main():
    game, eta_x, eta_y, repeats = (
        sys.argv[1],
        float(sys.argv[2]),
        float(sys.argv[3]),
        int(sys.argv[4]),
    )
    solve(game, eta_x, eta_y, max_steps=3)  # warm-up
    runs = [solve(game, eta_x, eta_y) for _ in range(repeats)]
    out = dict(runs[-1])
    out["wall"] = statistics.median(r["wall"] for r in runs)
    out["cpu"] = statistics.median(r["cpu"] for r in runs)
    out["torch"] = torch.__version__
    print(json.dumps(out))


if __name__ == "__main__":
    main()
