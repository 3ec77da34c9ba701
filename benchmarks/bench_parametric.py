"""Why CGD: the game solvers on the parametric adversary's game, each at its best step size.

:class:`skcgd.games.ParametricLogisticGame` has no closed-form best response, so no Newton
and no primal: a game solver must play it. This script plays it with CGD, ACGD, GDA,
extragradient (EG) and optimistic GDA (OGDA) on seeded problems and asks, for each solver at
the best step size a scan finds, how many steps, gradient passes and seconds it needs.

Problems (standardised features, an intercept, C=1, the default adversary features
``[e_c kron x_i, e_c]``, so the classifier has 11 coefficients and the adversary 22):

* ``shift rho=1`` and ``shift rho=10``: :func:`skcgd.datasets.make_group_shift` (its four
  columns, a minority of 10% whose label follows another feature) plus 6 standard-normal
  nuisance columns, n = 4000 rows, ``adversary_alpha=1``;
* ``shift rho=100, alpha=0.01``: the same data, a strong adversary with a weak penalty on
  its coefficients (the interaction between the players dominates their own curvature);
* ``label noise rho=10``: :func:`skcgd.datasets.make_label_noise`, 10 features of which 5
  informative, 20% flipped labels, n = 4000, ``adversary_alpha=1``.

Step sizes: ``eta = c * game.natural_step_sizes(0, 0)`` (``(1 / L_x, 1 / L_y)``, each
player's own-curvature bound at the start) for ``c = 2^-6 ... 2^3``. ACGD divides its base
step by the running RMS of each coordinate's gradient; it gets
``eta = c * (rms(g_x) / L_x, rms(g_y) / L_y)``, what its ``eta="auto"`` means at ``c = 1`` (a
step of ``c / L`` for a coordinate whose gradient has the reference RMS), with ``g_x`` the
classifier's gradient at the start and ``g_y`` the adversary's after one step ``1 / L_x`` of
the classifier (at the start every loss is ``log 2`` and ``grad_psi f`` is 0 up to rounding;
``eta="auto"`` takes that rounding noise, ~1e-13, as the adversary's unit and freezes it). It
keeps its default cap of each diagonal step at ``1 / L`` (``clip=True``), so ``c > 1`` only
enlarges the steps until they reach the cap.

Each run stops at ``||grad f|| <= 1e-6 ||grad f(0, 0)||`` (both players' gradients), after
``--budget`` steps (2000), or with a DivergenceError (gradient norm above ``1e4`` times its
start, or a non-finite iterate). Status per step size: ``+`` converged, ``b`` out of budget,
``x`` diverged.

Gradient passes, counted by a wrapper around the game during the scan (not timed): one
evaluation of both gradients = 1 pass; one product with the mixed Hessian ``B`` or ``B^T`` =
1 pass (each reads X and the adversary features once, as a gradient does); one own-curvature
bound = 1 pass (ACGD computes two at its start). So a GDA or OGDA step is 1 pass, an EG step
2, and a CGD or ACGD step 3 + 2 x its CG iterations (the gradient at the new point, the
product of the right-hand side, the product that recovers the other player's step, two per
CG iteration); once CG needs more iterations than half the system's size, the solvers'
``linear_solver="auto"`` switches to a Cholesky factorisation, whose matrix costs 11 products
(one per coefficient of the smaller player) a step: 14 passes a step. Passes count reads of
the data, the cost that grows with n; at n = 4000 a product is much cheaper than a gradient
evaluation (about 0.04 ms against 0.34 ms here: it reuses the losses and weights that
``game.mixed`` computes once per point), so the seconds, not the passes, decide here.

Each problem's header prints the coupling ``||B|| / sqrt(L_x L_y)`` at the start (``B`` the
mixed Hessian, ``L`` the players' own-curvature bounds): the interaction's strength relative
to the players' own curvature. Above 1 the interaction limits the first-order methods' step
below their natural one; CGD solves the interaction exactly in each step.

The best step size of a solver is the converged run with the fewest passes. It is then timed
on the unwrapped game: one untimed run (after ``skcgd.utils.warm_up()``, which compiles the
Numba kernels), then 3 timed runs, interleaved across solvers (A B C A B C ...), median wall
time, one BLAS thread (threadpoolctl). ``/CGD`` is the ratio of a solver's time to CGD's
(below 1: faster than CGD); ``dist`` is the distance of its solution to CGD's, relative to
the norm of CGD's, to check that all reach the same saddle point.

Run: ``python benchmarks/bench_parametric.py`` (about 4 minutes) or ``--quick`` (n = 2000,
``c = 2^-4 ... 2^2``, budget 1000, the first three problems, under a minute).
"""

import argparse
import time

import numpy as np
from _common import machine, round_robin
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skcgd.datasets import make_group_shift, make_label_noise
from skcgd.exceptions import DivergenceError
from skcgd.games import MixedOperator, ParametricLogisticGame
from skcgd.solvers import ACGD, CGD, GDA, ExtraGradient, OptimisticGDA
from skcgd.utils import warm_up

SOLVERS = {"CGD": CGD, "ACGD": ACGD, "GDA": GDA, "EG": ExtraGradient, "OGDA": OptimisticGDA}
REL_TOL = 1e-6
DIVERGENCE_FACTOR = 1e4
N_NUISANCE = 6


# -- problems ----------------------------------------------------------------------------------
def shift_data(n):
    rng = np.random.default_rng(0)
    X, y = make_group_shift(n, minority_fraction=0.1, random_state=0)
    X = np.hstack([X, rng.standard_normal((n, N_NUISANCE))])
    return StandardScaler().fit_transform(X), 2 * y - 1


def noise_data(n):
    X, y = make_label_noise(n, n_features=10, n_informative=5, noise_rate=0.2, random_state=0)
    return StandardScaler().fit_transform(X), 2 * y - 1


PROBLEMS = [
    ("shift rho=1", shift_data, 1.0, 1.0),
    ("shift rho=10", shift_data, 10.0, 1.0),
    ("shift rho=100, alpha=0.01", shift_data, 100.0, 0.01),
    ("label noise rho=10", noise_data, 10.0, 1.0),
]


# -- counting gradient passes --------------------------------------------------------------------
class _Counter:
    passes = 0


class CountedOperator(MixedOperator):
    """The game's mixed Hessian, counting its products; the CG and Cholesky solves are the
    base class's, which the parametric game's operator uses too (checked in ``mixed``)."""

    def __init__(self, op, counter):
        self.op, self.counter, self.shape = op, counter, op.shape

    def matvec(self, v):
        self.counter.passes += 1
        return self.op.matvec(v)

    def rmatvec(self, u):
        self.counter.passes += 1
        return self.op.rmatvec(u)


class CountedGame:
    """The game, counting gradient evaluations, mixed products and curvature bounds."""

    def __init__(self, game):
        self.game, self.counter = game, _Counter()

    def __getattr__(self, name):
        return getattr(self.game, name)

    def grads(self, x, y):
        self.counter.passes += 1
        return self.game.grads(x, y)

    def curvature_x(self, x, y):
        self.counter.passes += 1
        return self.game.curvature_x(x, y)

    def curvature_y(self, x, y):
        self.counter.passes += 1
        return self.game.curvature_y(x, y)

    def mixed(self, x, y):
        op = self.game.mixed(x, y)
        for method in ("solve", "solve_direct", "toarray", "system_matrix"):
            if getattr(type(op), method) is not getattr(MixedOperator, method):
                raise RuntimeError(
                    f"{type(op).__name__} overrides {method}: the products it makes would "
                    "not be counted, and wrapping it would change what is timed."
                )
        return CountedOperator(op, self.counter)


# -- runs ----------------------------------------------------------------------------------------
def rms(g):
    return float(np.sqrt(np.mean(g * g)))


def make_solver(name, c, game, x0, y0, tol, budget):
    ex, ey = game.natural_step_sizes(x0, y0)
    if name == "ACGD":
        gx, _ = game.grads(x0, y0)
        # at the start all losses are equal and grad_psi f is 0 up to rounding: the
        # adversary's unit is its gradient's RMS after one step 1 / L_x of the classifier
        _, gy = game.grads(x0 - ex * gx, y0)
        eta = (c * ex * rms(gx), c * ey * rms(gy))
    else:
        eta = (c * ex, c * ey)
    options = {"tol": tol, "max_iter": budget, "divergence_factor": DIVERGENCE_FACTOR}
    return SOLVERS[name](eta=eta, **options)


def scan(name, game, x0, y0, tol, grid, budget):
    """One counted run per multiplier: ``[(c, status, steps, passes, cg_its, result,
    smallest gradient norm reached)]``."""
    rows = []
    for c in grid:
        counted = CountedGame(game)
        solver = make_solver(name, c, game, x0, y0, tol, budget)
        try:
            res = solver.run(counted, x0, y0, warn=False)
            status = "+" if res.converged else "b"
            steps, cg = res.n_iter, int(res.history["cg_iter"].sum())
            reached = float(res.history["grad_norm"].min())
        except DivergenceError as exc:
            res, status, steps, cg, reached = None, "x", exc.n_iter, 0, np.inf
        rows.append((c, status, steps, counted.counter.passes, cg, res, reached))
    return rows


def run_problem(label, data, rho, alpha, args, grid):
    X, y = data(args.n)
    game = ParametricLogisticGame(X, y, rho=rho, adversary_alpha=alpha, fit_intercept=True)
    x0, y0 = np.zeros(game.n_x), np.zeros(game.n_y)
    g0 = float(np.linalg.norm(np.concatenate(game.grads(x0, y0))))
    tol = REL_TOL * g0
    ex, ey = game.natural_step_sizes(x0, y0)
    coupling = np.linalg.norm(game.mixed(x0, y0).toarray(), 2) * np.sqrt(ex * ey)
    print(
        f"\n== {label}: n={X.shape[0]}, {X.shape[1]} features, rho={rho:g}, "
        f"adversary_alpha={alpha:g}; n_x={game.n_x}, n_y={game.n_y}\n"
        f"   natural steps (1/L_x, 1/L_y) = ({ex:.3g}, {ey:.3g}); coupling "
        f"||B|| / sqrt(L_x L_y) = {coupling:.2f}; tol = {REL_TOL:g} x |grad f(0, 0)| = {tol:.3g}"
    )
    scans, best = {}, {}
    for name in SOLVERS:
        t0 = time.perf_counter()
        scans[name] = scan(name, game, x0, y0, tol, grid, args.budget)
        ok = [r for r in scans[name] if r[1] == "+"]
        best[name] = min(ok, key=lambda r: (r[3], r[2])) if ok else None
        if args.verbose:
            print(f"   scanned {name} in {time.perf_counter() - t0:.1f} s")

    candidates = {}
    for name, row in best.items():
        if row is not None:
            solver = make_solver(name, row[0], game, x0, y0, tol, args.budget)
            candidates[name] = lambda s=solver: s.run(game, x0, y0, warn=False)
    for fn in candidates.values():  # untimed: compiles and fills caches
        fn()
    timed = round_robin(candidates, args.repeats)

    ref = best["CGD"][5] if best["CGD"] is not None else None
    ref_time = timed["CGD"][0] if "CGD" in timed else None
    ref_vec = np.concatenate([ref.x, ref.y]) if ref is not None else None
    print(
        f"  {'solver':6s} {'best c':>7s} {'steps':>6s} {'passes':>7s} {'CG its':>7s} "
        f"{'seconds':>9s} {'/CGD':>6s} {'dist':>8s}  converged   scan c = 2^{int(np.log2(grid[0]))}"
        f"..2^{int(np.log2(grid[-1]))}"
    )
    summary = {}
    for name in SOLVERS:
        statuses = "".join(r[1] for r in scans[name])
        n_ok = statuses.count("+")
        conv = f"{n_ok:2d} of {len(grid)}"
        row = best[name]
        if row is None:
            closest = min(scans[name], key=lambda r: r[6])
            print(
                f"  {name:6s} {'-':>7s} {'-':>6s} {'-':>7s} {'-':>7s} {'-':>9s} {'-':>6s} "
                f"{'-':>8s}  {conv}     {statuses}  (closest: |g|/|g0| = "
                f"{closest[6] / g0:.1e} at c = 2^{int(np.log2(closest[0]))})"
            )
            continue
        c, _, steps, passes, cg, res, _ = row
        seconds = timed[name][0]
        ratio = f"{seconds / ref_time:6.2f}" if ref_time else f"{'-':>6s}"
        dist = (
            np.linalg.norm(np.concatenate([res.x, res.y]) - ref_vec) / np.linalg.norm(ref_vec)
            if ref_vec is not None
            else float("nan")
        )
        print(
            f"  {name:6s} {'2^' + str(int(np.log2(c))):>7s} {steps:6d} {passes:7d} {cg:7d} "
            f"{seconds:9.4f} {ratio} {dist:8.1e}  {conv}     {statuses}"
        )
        summary[name] = (seconds, steps, passes)
    return summary


def verdict(label, summary):
    """One line: the fastest solver, by how much, and where CGD stands."""
    if not summary:
        return f"{label}: no solver converged"
    order = sorted(summary, key=lambda k: summary[k][0])
    win = order[0]
    text = f"{label}: {win} wins"
    second = order[1] if len(order) > 1 else None
    if second is not None:
        text += f", {summary[second][0] / summary[win][0]:.2f}x faster than {second}"
    if win != "CGD" and "CGD" in summary and second != "CGD":
        text += f"; CGD takes {summary['CGD'][0] / summary[win][0]:.2f}x {win}'s time"
    if win == "CGD":
        first_order = [k for k in order if k not in ("CGD", "ACGD")]
        if first_order:
            fo = first_order[0]
            text += (
                f"; fastest first-order {fo}: {summary[fo][0] / summary[win][0]:.1f}x CGD's "
                f"time, {summary[fo][1] / summary[win][1]:.1f}x its steps, "
                f"{summary[fo][2] / summary[win][2]:.1f}x its passes"
            )
    missing = [k for k in SOLVERS if k not in summary]
    if missing:
        text += f"; never converged: {', '.join(missing)}"
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n=2000, 7 step sizes, 3 problems")
    parser.add_argument("--n", type=int, default=None, help="rows (default 4000, quick 2000)")
    parser.add_argument("--budget", type=int, default=None, help="max steps (2000; quick 1000)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    args.n = args.n or (2000 if args.quick else 4000)
    args.budget = args.budget or (1000 if args.quick else 2000)
    grid = 2.0 ** np.arange(-4, 3) if args.quick else 2.0 ** np.arange(-6, 4)
    problems = PROBLEMS[:3] if args.quick else PROBLEMS
    print("machine:", machine())
    t0 = time.perf_counter()
    warm_up()
    print(f"skcgd.utils.warm_up(): {time.perf_counter() - t0:.1f} s; one BLAS thread")
    lines = []
    with threadpool_limits(1):
        for label, data, rho, alpha in problems:
            summary = run_problem(label, data, rho, alpha, args, grid)
            lines.append(verdict(label, summary))
    print("\n== verdict (median wall time at each solver's best step size)")
    for line in lines:
        print(" ", line)
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
