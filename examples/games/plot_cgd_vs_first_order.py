"""
=====================================================================
CGD against GDA, extragradient and optimistic GDA on bilinear games
=====================================================================

A bilinear game :math:`\\min_x \\max_y x^T A y` is the simplest game on which simultaneous
gradient descent-ascent (GDA) fails: neither player has curvature of its own, each one only
reacts to the other, and the iterates spiral away from the saddle point for *every* step
size. This example plays the same games with :class:`~skcgd.solvers.CGD`,
:class:`~skcgd.solvers.GDA`, :class:`~skcgd.solvers.ExtraGradient` and
:class:`~skcgd.solvers.OptimisticGDA`, first on the one-dimensional game
:math:`f(x, y) = \\alpha x y` of Schäfer and Anandkumar (2019, figure 2), where the
trajectories can be drawn, then on a random 100 x 100 game, where we follow the gradient norm
per step and the conjugate-gradient iterations CGD spends inside each step.
"""

# %%
# The one-dimensional game
# ------------------------
# :class:`~skcgd.games.BilinearGame` with the 1 x 1 matrix :math:`[\alpha]` is
# :math:`f(x, y) = \alpha x y`; the saddle point is the origin. Every solver starts at
# :math:`(0.5, 0.5)` with the step size :math:`\eta = 0.2` of the paper and runs 50 steps
# (``tol=0`` runs exactly ``max_iter`` steps). A ``callback`` records the iterates.

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skcgd.exceptions import DivergenceError
from skcgd.games import BilinearGame
from skcgd.solvers import (
    CGD,
    GDA,
    CGDOperator,
    CompetitiveMirrorDescent,
    ExtraGradient,
    OptimisticGDA,
    conjugate_gradient,
)

SOLVERS = {"CGD": CGD, "GDA": GDA, "extragradient": ExtraGradient, "optimistic GDA": OptimisticGDA}
COLORS = {"CGD": "C0", "GDA": "C3", "extragradient": "C2", "optimistic GDA": "C1"}


def trajectory(solver, game, x0, y0):
    """The iterates of ``solver`` on ``game`` (also when the run diverges)."""
    points = [np.r_[x0, y0]]

    def record(state):
        points.append(np.r_[state.x, state.y])

    try:
        solver.run(game, x0, y0, callback=record)
    except DivergenceError:
        pass  # the points recorded so far are the story
    return np.array(points)


alphas = [1.0, 3.0, 6.0]
paths = {
    alpha: {
        name: trajectory(cls(eta=0.2, max_iter=50, tol=0), BilinearGame([[alpha]]), [0.5], [0.5])
        for name, cls in SOLVERS.items()
    }
    for alpha in alphas
}

# %%
# On the left, the trajectories for :math:`\alpha = 3` (GDA and optimistic GDA leave the
# frame); on the right, the distance to the saddle point per step for the three values of
# :math:`\alpha`. CGD's distance shrinks by :math:`(1 + \eta^2\alpha^2)^{-1/2}` per step:
# stronger interaction makes it *faster*, whereas the first-order methods need
# :math:`\eta\alpha` small and blow up when it is not.

fig, axes = plt.subplots(1, 4, figsize=(15, 3.8), gridspec_kw={"width_ratios": [1.2, 1, 1, 1]})
ax = axes[0]
for name, path in paths[3.0].items():
    ax.plot(path[:, 0], path[:, 1], ".-", color=COLORS[name], label=name, lw=1, ms=3)
ax.plot(0, 0, "k*", ms=12)
ax.set(
    xlim=(-1, 1),
    ylim=(-1, 1),
    xlabel="x",
    ylabel="y",
    aspect="equal",
    title=r"trajectories, $f = 3xy$, $\eta = 0.2$",
)
ax.legend(loc="lower left", fontsize=8)
for ax, alpha in zip(axes[1:], alphas):
    for name, path in paths[alpha].items():
        ax.semilogy(np.hypot(path[:, 0], path[:, 1]), color=COLORS[name], label=name)
    ax.set(xlabel="step", title=rf"$f = {alpha:g}xy$", ylim=(1e-12, 1e10))
axes[1].set_ylabel("distance to the saddle point")
fig.tight_layout()

for alpha in alphas:
    final = {name: np.hypot(*path[-1]) for name, path in paths[alpha].items()}
    print(f"alpha={alpha:g}: " + ", ".join(f"{n} {d:.3g}" for n, d in final.items()))

# %%
# A random 100 x 100 game
# -----------------------
# Now :math:`A` has independent :math:`N(0, 1/100)` entries (singular values from about
# 0.004 to 2). The first-order methods are given a step near their stability limit
# :math:`1/\sigma_{\max}`; CGD, which has no such limit on a bilinear game, takes
# :math:`\eta = 100`. The small singular values are what makes this game slow: a first-order
# method contracts the direction of :math:`\sigma` by about :math:`1 - c\,\eta^2\sigma^2` per
# step, so it needs on the order of :math:`(\sigma_{\max}/\sigma_{\min})^2` steps.

rng = np.random.default_rng(0)
A = rng.standard_normal((100, 100)) / 10
x0, y0 = rng.standard_normal(100), rng.standard_normal(100)
game = BilinearGame(A)
sigma = np.linalg.svd(A, compute_uv=False)
eta_fo = 0.5 / sigma[0]
runs = {
    "CGD": CGD(eta=100.0, tol=1e-6, max_iter=2000, linear_solver="cg"),
    "GDA": GDA(eta=eta_fo, tol=1e-6, max_iter=2000),
    "extragradient": ExtraGradient(eta=eta_fo, tol=1e-6, max_iter=2000),
    "optimistic GDA": OptimisticGDA(eta=eta_fo / 2, tol=1e-6, max_iter=2000),
}
grad_norms, cg_iters = {}, None
for name, solver in runs.items():
    norms = [np.sqrt(np.sum(np.concatenate(game.grads(x0, y0)) ** 2))]

    def record(state):
        norms.append(state.error)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        try:
            result = solver.run(game, x0, y0, callback=record)
            status = "converged" if result.converged else "max_iter reached"
            if name == "CGD":
                cg_iters = result.history["cg_iter"]
        except DivergenceError as exc:
            status = f"DivergenceError at step {exc.n_iter}"
    if caught:
        status += " (ConvergenceWarning)"
    grad_norms[name] = np.array(norms)
    print(
        f"{name:15s} eta={solver.eta:<7.3g} steps={len(norms) - 1:5d}  "
        f"final |grad|={norms[-1]:.2e}  {status}"
    )

# %%
# Extragradient and optimistic GDA ran out of steps (a
# :class:`~sklearn.exceptions.ConvergenceWarning` says so and suggests what to change); GDA
# stopped with :class:`~skcgd.exceptions.DivergenceError`, whose message names the step
# sizes and advises CGD.
#
# Steps are not the whole story: CGD pays for each step with an inner linear solve,
# :math:`(I + \eta^2 A A^T) z = b`, by conjugate gradient (``linear_solver="cg"``),
# warm-started from the previous step's solution. Each CG iteration costs two products with
# :math:`A` (:math:`A^T v`, then :math:`A w`), and the number of iterations grows with the
# square root of the system's condition number :math:`1 + \eta^2\sigma_{\max}^2`. A fair
# clock is therefore the number of products with :math:`A`: two per step for GDA and
# optimistic GDA, four for extragradient, and for CGD four plus two per CG iteration.

products = {
    "CGD": np.r_[0, np.cumsum(4 + 2 * cg_iters)],
    "GDA": 2 * np.arange(len(grad_norms["GDA"])),
    "extragradient": 4 * np.arange(len(grad_norms["extragradient"])),
    "optimistic GDA": 2 * np.arange(len(grad_norms["optimistic GDA"])),
}
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
for name, norms in grad_norms.items():
    ax1.semilogy(norms, color=COLORS[name], label=name)
    ax2.semilogy(products[name], norms, color=COLORS[name], label=name)
for ax in (ax1, ax2):
    ax.axhline(1e-6, color="k", lw=0.5, ls="--")
ax1.set(xlabel="step", ylabel=r"$\|\nabla f\|$", title="gradient norm per step", ylim=(1e-7, 1e6))
ax2.set(xlabel="products with A or A^T", title="... per matrix-vector product")
ax1.legend()
fig.tight_layout()
print(
    f"CGD: {cg_iters.sum()} CG iterations in {len(cg_iters)} steps "
    f"({cg_iters.mean():.0f} per step), {products['CGD'][-1]} products with A"
)

# %%
# The inner solve on its own
# --------------------------
# The system of a CGD step is available as :class:`~skcgd.solvers.CGDOperator`, and
# :func:`~skcgd.solvers.conjugate_gradient` solves it. Its eigenvalues lie in
# :math:`[1, 1 + \eta^2\sigma_{\max}^2]`, so the number of iterations grows like the square
# root of that condition number, the price of a large step, until it saturates near the
# system's size (here 100): in exact arithmetic CG finishes in at most that many iterations.

rhs = rng.standard_normal(100)
print(f"{'eta':>6s} {'condition number':>17s} {'sqrt':>7s} {'CG iterations':>14s}")
for eta in [0.3, 1.0, 3.0, 10.0, 30.0, 100.0]:
    _, n_iter, converged = conjugate_gradient(CGDOperator(A, eta_x=eta, eta_y=eta), rhs, tol=1e-6)
    kappa = 1 + eta**2 * sigma[0] ** 2
    print(f"{eta:6g} {kappa:17.3g} {np.sqrt(kappa):7.1f} {n_iter:14d}")

# %%
# Players on the simplex: a matrix game
# -------------------------------------
# Rock-paper-scissors, :math:`\min_{x \in \Delta} \max_{y \in \Delta} x^T A y` over mixed
# strategies, is a bilinear game whose players live on the probability simplex
# (``BilinearGame(A, simplex=True)``). Simultaneous multiplicative weights, which is what
# :class:`~skcgd.solvers.GDA` does on the simplex, spirals towards the boundary;
# :class:`~skcgd.solvers.CompetitiveMirrorDescent`, CGD with the entropy mirror map, converges
# to the equilibrium :math:`(1/3, 1/3, 1/3)`. The duality gap measures the distance from it.

rps = BilinearGame([[0, -1, 1], [1, 0, -1], [-1, 1, 0]], simplex=True)
gaps = {}
for name, solver in (
    ("CompetitiveMirrorDescent", CompetitiveMirrorDescent(eta=1.0, tol=0, max_iter=300)),
    ("GDA (multiplicative weights)", GDA(eta=1.0, tol=0, max_iter=300)),
):
    gap = [rps.duality_gap([0.5, 0.3, 0.2], [0.2, 0.5, 0.3])]
    solver.run(
        rps,
        [0.5, 0.3, 0.2],
        [0.2, 0.5, 0.3],
        callback=lambda state: gap.append(rps.duality_gap(state.x, state.y)) and False,
    )
    gaps[name] = gap

fig, ax = plt.subplots(figsize=(6, 3.5))
for (name, gap), color in zip(gaps.items(), ("C0", "C3")):
    ax.semilogy(gap, color=color, label=name)
ax.set(xlabel="step", ylabel="duality gap", title="rock-paper-scissors, $\\eta = 1$")
ax.legend()
fig.tight_layout()

# %%
# Conclusion
# ----------
# On bilinear games CGD is the proximal-point method: it converges for every step size, and
# faster the larger the step, because each player anticipates the other's move. GDA diverges
# for every step size; extragradient and optimistic GDA converge only for small steps and
# crawl along the weakly coupled directions. The price of CGD is one symmetric positive
# definite solve per step, which conjugate gradient does matrix-free; counted in products
# with :math:`A`, CGD reached the tolerance while extragradient, with fewer products spent,
# was still five orders of magnitude away and slowing down. See
# :ref:`sphx_glr_auto_examples_games_plot_own_curvature.py` for the limit CGD does *not*
# remove.
