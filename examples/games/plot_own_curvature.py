"""
=====================================================================
The step-size story: interaction versus own curvature
=====================================================================

CGD lets each player anticipate the other's move, which removes the step-size limit that the
*interaction* between the players imposes on gradient descent-ascent. It does nothing about
the limit imposed by a player's *own* curvature: a player whose objective has curvature
:math:`L` in its own variables still needs :math:`\\eta L < 2`, as in plain gradient
descent, along every direction the interaction does not reach (where it does, CGD converges
a little beyond :math:`\\eta L = 2`: its step shrinks the coupled directions). This example
shows both halves of that statement on the games of Schäfer and Anandkumar (2019, figures 2
and 3), :math:`f = \\alpha x y` and :math:`f = \\alpha (x^2 - y^2)`, and then maps where
each solver converges on the game that has both, :math:`f = \\tfrac{c}{2}(x^2 - y^2) + b\\,x
y`.
"""

# %%
# Two games, one step size
# ------------------------
# :class:`~skcgd.games.BilinearGame` ``([[a]])`` is :math:`f = a x y`: pure interaction.
# :class:`~skcgd.games.QuadraticGame` ``([[2a]], [[0]], [[2a]])`` is
# :math:`f = a x^2 - a y^2`: no interaction, each player has curvature :math:`2a` of its own.
# All solvers start at :math:`(0.5, 0.5)` with :math:`\eta = 0.2` and run 100 steps.

import warnings

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

from skcgd.exceptions import ConvergenceWarning, DivergenceError
from skcgd.games import BilinearGame, QuadraticGame
from skcgd.solvers import CGD, GDA, ExtraGradient, OptimisticGDA

SOLVERS = {"CGD": CGD, "GDA": GDA, "extragradient": ExtraGradient, "optimistic GDA": OptimisticGDA}
COLORS = {"CGD": "C0", "GDA": "C3", "extragradient": "C2", "optimistic GDA": "C1"}


def distances(solver, game, x0=0.5, y0=0.5):
    """Distance to the saddle point (the origin) after every step, until a divergence."""
    out = [np.hypot(x0, y0)]
    try:
        solver.run(
            game,
            [x0],
            [y0],
            callback=lambda state: out.append(np.hypot(state.x[0], state.y[0])) and False,
        )
    except DivergenceError:
        out.append(np.inf)
    return np.array(out)


games = {
    "interaction, $f = a\\,xy$": lambda a: BilinearGame([[a]]),
    "own curvature, $f = a(x^2 - y^2)$": lambda a: QuadraticGame([[2 * a]], [[0.0]], [[2 * a]]),
}
fig, axes = plt.subplots(2, 3, figsize=(13, 6.5), sharex=True, sharey=True)
for row, (title, make) in zip(axes, games.items()):
    for ax, a in zip(row, [1.0, 3.0, 6.0]):
        for name, cls in SOLVERS.items():
            d = distances(cls(eta=0.2, max_iter=100, tol=0), make(a))
            ax.semilogy(
                d,
                color=COLORS[name],
                label=name,
                lw=2 if name == "CGD" else 1.2,
                ls="--" if name == "GDA" else "-",
            )
        ax.set_title(f"{title}, a = {a:g}", fontsize=10)
        ax.set_ylim(1e-25, 1e15)
for ax in axes[1]:
    ax.set_xlabel("step")
for ax in axes[:, 0]:
    ax.set_ylabel("distance to saddle")
axes[0, 0].legend(fontsize=8)
fig.tight_layout()

# %%
# Top row: the stronger the interaction, the *faster* CGD converges, while the first-order
# methods need :math:`\eta a` small. Bottom row: there is no interaction, so every
# competitive correction vanishes and CGD takes exactly the steps of GDA (the two curves lie
# on top of each other). Each coordinate is multiplied by :math:`1 - 2\eta a` per step:
# :math:`a = 6` gives :math:`|1 - 2.4| > 1` and CGD diverges like GDA does. CGD adds no hidden
# damping. The solver stops such a run with a :class:`~skcgd.exceptions.DivergenceError` whose
# message says what went wrong:

try:
    CGD(eta=0.2, max_iter=100).run(QuadraticGame([[12.0]], [[0.0]], [[12.0]]), [0.5], [0.5])
except DivergenceError as exc:
    print(exc)

# %%
# ``eta="auto"`` uses :math:`1 / L` for each player, the step of the convergence theorem,
# computed from the game's own-curvature bounds (``curvature_x``, ``curvature_y``):

result = CGD(eta="auto", tol=1e-10).run(QuadraticGame([[12.0]], [[0.0]], [[12.0]]), [0.5], [0.5])
print(f"eta='auto': converged={result.converged} in {result.n_iter} steps")

# %%
# Where does each solver converge?
# --------------------------------
# The game :math:`f = \tfrac{c}{2}(x^2 - y^2) + b\,xy` has interaction :math:`b` and own
# curvature :math:`c` for both players (``QuadraticGame([[c]], [[b]], [[c]])``). With
# :math:`\eta = 1` we play it on a grid of :math:`(b, c)` and colour each cell by the outcome
# after at most 300 steps: converged (gradient norm below :math:`10^{-8}`), still running, or
# diverged.

b_grid = np.linspace(0.0, 8.0, 17)
c_grid = np.linspace(0.05, 3.0, 15)
outcome = {name: np.zeros((len(c_grid), len(b_grid))) for name in SOLVERS}
warnings.simplefilter("ignore", ConvergenceWarning)  # "still running" is an outcome here
for name, cls in SOLVERS.items():
    solver = cls(eta=1.0, max_iter=300, tol=1e-8)
    for i, c in enumerate(c_grid):
        for j, b in enumerate(b_grid):
            try:
                outcome[name][i, j] = (
                    2
                    if solver.run(QuadraticGame([[c]], [[b]], [[c]]), [0.5], [0.5]).converged
                    else 1
                )
            except DivergenceError:
                outcome[name][i, j] = 0

# sphinx_gallery_thumbnail_number = 2
cmap = ListedColormap(["#d7301f", "#fdcc8a", "#2c7fb8"])
fig, axes = plt.subplots(1, 4, figsize=(15, 3.8), sharey=True)
for ax, (name, grid) in zip(axes, outcome.items()):
    ax.pcolormesh(b_grid, c_grid, grid, cmap=cmap, vmin=0, vmax=2, shading="nearest")
    ax.axhline(2.0, color="k", lw=0.8, ls=":")
    ax.set(title=name, xlabel=r"interaction $\eta\,b$")
axes[0].set_ylabel(r"own curvature $\eta\,c$")
handles = [plt.Rectangle((0, 0), 1, 1, color=cmap(k)) for k in range(3)]
fig.legend(
    handles, ["diverged", "not converged in 300 steps", "converged"], loc="lower center", ncol=3
)
fig.tight_layout(rect=(0, 0.1, 1, 1))

for name, grid in outcome.items():
    print(f"{name:15s} converged in {np.mean(grid == 2):5.1%} of the cells")

# %%
# Along the left edge (no interaction) all four solvers are gradient descent on each player
# and stop at the dotted line :math:`\eta c = 2`. Moving right, the first-order methods lose
# stability almost at once: GDA needs :math:`(1 - \eta c)^2 + \eta^2 b^2 < 1`, extragradient
# and optimistic GDA need :math:`\eta b` below a constant of order one. CGD converges in the
# whole band :math:`\eta c < 2` *whatever the interaction*; above the line it converges only
# where the interaction is strong, because its step :math:`(I + \eta^2 B B^T)^{-1}`
# shrinks the players' moves along the coupled directions. The interaction never hurts CGD;
# the own curvature limits it as it limits gradient descent.
#
# Conclusion
# ----------
# Pick CGD's step size from the players' own curvature, not from their interaction:
# :math:`\eta \le 1/L` (``eta="auto"``) is safe however strongly the players are coupled, and
# a strongly coupled game is where CGD beats the first-order methods by the widest margin.
