"""``python -m skcgd``: the demo.

Plays CGD against GDA, extragradient and optimistic GDA on a bilinear game and prints a table.
"""

import argparse
import sys
import time
import warnings

import numpy as np


def _bilinear_demo(args):
    from skcgd.exceptions import ConvergenceWarning, DivergenceError
    from skcgd.games import BilinearGame
    from skcgd.solvers import CGD, GDA, ExtraGradient, OptimisticGDA
    from skcgd.utils import warm_up

    t0 = time.perf_counter()
    warm_up()
    compile_time = time.perf_counter() - t0

    rng = np.random.default_rng(args.seed)
    A = rng.standard_normal((args.size, args.size)) / 10
    x0, y0 = rng.standard_normal(args.size), rng.standard_normal(args.size)
    game = BilinearGame(A)
    sigma = np.linalg.svd(A, compute_uv=False)
    print(f"Bilinear game min_x max_y x^T A y, A = N(0, 1/100) of size {args.size}x{args.size} "
          f"(singular values {sigma[-1]:.2e} .. {sigma[0]:.2f}), seed {args.seed}.")
    print(f"Stop at gradient norm <= {args.tol:g} or {args.max_iter} steps. The first-order "
          "methods use a step near their stability limit 1/sigma_max; CGD has none.\n")
    eta_fo = 0.5 / sigma[0]
    solvers = [
        ("CGD", CGD(eta=args.eta, tol=args.tol, max_iter=args.max_iter), args.eta),
        ("GDA", GDA(eta=eta_fo, tol=args.tol, max_iter=args.max_iter), eta_fo),
        ("ExtraGradient", ExtraGradient(eta=eta_fo, tol=args.tol, max_iter=args.max_iter),
         eta_fo),
        ("OptimisticGDA", OptimisticGDA(eta=eta_fo / 2, tol=args.tol, max_iter=args.max_iter),
         eta_fo / 2),
    ]
    header = (f"{'solver':14s} {'eta':>8s} {'steps':>7s} {'|grad| final':>13s} "
              f"{'status':>12s} {'time':>9s}")
    print(header)
    print("-" * len(header))
    for name, solver, eta in solvers:
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            try:
                res = solver.run(game, x0, y0)
                steps, final = res.n_iter, res.history["grad_norm"][-1]
                status = "converged" if res.converged else "not yet"
            except DivergenceError as exc:
                steps, final, status = exc.n_iter, np.inf, "diverged"
        elapsed = time.perf_counter() - t0
        print(f"{name:14s} {eta:8.3g} {steps:7d} {final:13.3e} {status:>12s} {elapsed:8.3f}s")
    print(f"\nFirst-call compilation / cache loading of the kernels: {compile_time:.1f} s "
          "(paid once per environment; later runs load the compiled kernels from disk).")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m skcgd",
        description="skcgd demo: competitive gradient descent against gradient "
                    "descent-ascent, extragradient and optimistic GDA on a bilinear game.",
    )
    parser.add_argument("--size", type=int, default=100, help="players' dimension (100)")
    parser.add_argument("--eta", type=float, default=100.0, help="CGD step size (100)")
    parser.add_argument("--tol", type=float, default=1e-6, help="gradient-norm tolerance")
    parser.add_argument("--max-iter", type=int, default=2000, help="maximum steps (2000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    args = parser.parse_args(argv)
    if args.size < 1 or args.eta <= 0 or args.max_iter < 1:
        parser.error("--size and --max-iter must be >= 1 and --eta > 0")
    return _bilinear_demo(args)


if __name__ == "__main__":
    sys.exit(main())
