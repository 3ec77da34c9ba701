"""Conjugate gradient on the CGD operator: skcgd's fused kernel against scipy.sparse.linalg.cg.

The system is the one a CGD step solves for the logistic games,

    (I + eta_w * eta_u * X^T D X) z = b,   D = diag(p (1 - p)) from a logistic model,

which scipy solves with a LinearOperator v -> v + c X^T (D (X v)) (two BLAS passes over X per
iteration) and skcgd with ``RowGramOperator`` (both products fused into one pass over X, the
CG loop compiled). Same relative tolerance; iteration counts are printed to show both run the
same algorithm. skcgd confirms convergence on the true residual b - A x (one more pass over X
per solve, which scipy does not spend); from x0 = 0 neither spends a pass on the first
residual. Also shown: the direct path (Gram matrix + Cholesky) that CGD's
``linear_solver="auto"`` switches to when CG needs many iterations.

Run: ``python benchmarks/bench_cg.py`` (``--quick`` for smaller shapes).
"""

import argparse

import numpy as np
import scipy.linalg
from _common import machine, round_robin
from scipy.sparse.linalg import LinearOperator, cg
from threadpoolctl import threadpool_limits

from skcgd.solvers import RowGramOperator, conjugate_gradient
from skcgd.utils import warm_up


def problem(n, d, eta, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = rng.standard_normal(d) / np.sqrt(d)
    p = 1 / (1 + np.exp(-X @ w))
    D = p * (1 - p)
    b = rng.standard_normal(d)
    return X, D, eta, b


def run(n, d, eta, tol, repeats, blas_threads):
    X, D, c, b = problem(n, d, eta)
    R = np.sqrt(D)[:, None]  # the operator uses hy * r_i^2 = c * D_i

    def ours():
        # X is validated once, as the games do before they build an operator per step
        op = RowGramOperator(X, R, hy=c, dx=1.0, check_input=False)
        return conjugate_gradient(op, b, tol=tol, max_iter=10_000)

    def scipy_cg():
        op = LinearOperator(
            (d, d), matvec=lambda v: v + c * (X.T @ (D * (X @ v))), dtype=np.float64
        )
        counter = [0]

        def count(_):
            counter[0] += 1

        x, info = cg(op, b, rtol=tol, atol=0.0, maxiter=10_000, callback=count)
        return x, counter[0], info == 0

    def direct():
        G = np.eye(d) + c * (X.T @ (X * D[:, None]))
        return scipy.linalg.cho_solve(scipy.linalg.cho_factor(G), b), 0, True

    with threadpool_limits(blas_threads):
        res = round_robin({"skcgd": ours, "scipy": scipy_cg, "direct": direct}, repeats)
    (x_ours, it_ours, _), (_, it_sp, _) = res["skcgd"][2], res["scipy"][2]
    x_direct = res["direct"][2][0]
    err = np.linalg.norm(x_ours - x_direct) / np.linalg.norm(x_direct)
    t_ours, t_sp, t_dir = res["skcgd"][0], res["scipy"][0], res["direct"][0]
    print(
        f"X {n}x{d}, c={c:g}, BLAS threads {blas_threads}: CG iterations skcgd {it_ours} / "
        f"scipy {it_sp}; skcgd {t_ours * 1e3:8.1f} ms, scipy {t_sp * 1e3:8.1f} ms -> "
        f"speed-up {t_sp / t_ours:4.2f}x; direct {t_dir * 1e3:8.1f} ms "
        f"({t_sp / t_dir:4.2f}x scipy); rel. error vs direct {err:.1e}"
    )
    return t_sp / t_ours


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small shapes, 3 repeats")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tol", type=float, default=1e-8)
    args = parser.parse_args()
    print("machine:", machine())
    warm_up()
    shapes = [(200_000, 100), (20_000, 1000)]
    if args.quick:
        shapes, args.repeats = [(20_000, 100), (2_000, 1000)], 3
    ratios = []
    for n, d in shapes:
        for eta in (0.01, 1.0):
            for threads in (1, 2):
                ratios.append(run(n, d, eta, args.tol, args.repeats, threads))
    print(f"speed-up over scipy cg: min {min(ratios):.2f}x, median {np.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
