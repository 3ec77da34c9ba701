"""
=====================================================================
Playing your own game
=====================================================================

The solvers of :mod:`skcgd.solvers` play any object that follows the game protocol of
:class:`~skcgd.games.BaseGame`: the players' sizes, the value, both gradients, the mixed
second derivative as an operator, and a bound on each player's own curvature. This example
writes such a game from scratch, the covariance-learning game that Daskalakis et al. (2018)
and Schäfer and Anandkumar (2019) use to compare game solvers, and plays it with
:class:`~skcgd.solvers.CGD`, its adaptive variant :class:`~skcgd.solvers.ACGD` and
:class:`~skcgd.solvers.OptimisticGDA`. It then writes a general-sum game, where each player
has an objective of its own, and a solver of its own (simultaneous gradient descent), and
plays them against :class:`~skcgd.solvers.GeneralSumCGD`.
"""

# %%
# The game
# --------
# A "generator" :math:`V \in \mathbb{R}^{d \times d}` must produce the covariance
# :math:`\Sigma = U U^T` of some data, :math:`V V^T = \Sigma`; a "discriminator"
# :math:`W \in \mathbb{R}^{d \times d}` scores the mismatch:
#
# .. math::
#
#     \min_W \max_V\; f(W, V) = \langle W,\, V V^T - \Sigma \rangle.
#
# The derivatives a solver needs are
#
# - :math:`\nabla_W f = V V^T - \Sigma` and :math:`\nabla_V f = (W + W^T) V`;
# - the mixed second derivative :math:`B = D^2_{WV} f`, applied to a direction of each
#   player: :math:`B\,\delta V = \delta V\, V^T + V\, \delta V^T` and
#   :math:`B^T \delta W = (\delta W + \delta W^T) V`;
# - own curvature: :math:`D^2_{WW} f = 0`, and :math:`D^2_{VV} f` maps :math:`\delta V` to
#   :math:`(W + W^T)\,\delta V`, of norm :math:`\|W + W^T\|_2`.
#
# The players are flattened to vectors of length :math:`d^2`. :math:`B` is never formed:
# a :class:`~skcgd.games.MixedOperator` subclass gives ``matvec`` and ``rmatvec``, and CGD
# solves its linear systems with them by conjugate gradient.

import time
import warnings

import matplotlib.pyplot as plt
import numpy as np

from skcgd.exceptions import ConvergenceWarning, DivergenceError
from skcgd.games import BaseGame, MixedOperator
from skcgd.solvers import ACGD, CGD, OptimisticGDA, check_game


class CovarianceMixed(MixedOperator):
    """``B = D2_WV f`` at ``V``, as products with flattened directions."""

    def __init__(self, V):
        self.V = V
        d = V.shape[0]
        self.shape = (d * d, d * d)

    def matvec(self, v):  # B @ dV
        dV = v.reshape(self.V.shape)
        return (dV @ self.V.T + self.V @ dV.T).ravel()

    def rmatvec(self, u):  # B.T @ dW
        dW = u.reshape(self.V.shape)
        return ((dW + dW.T) @ self.V).ravel()


class CovarianceGame(BaseGame):
    """``min_W max_V <W, V V^T - Sigma>``; x is ``W.ravel()``, y is ``V.ravel()``."""

    def __init__(self, Sigma):
        self.Sigma = np.asarray(Sigma, dtype=float)
        self.d = self.Sigma.shape[0]
        self.n_x = self.n_y = self.d * self.d

    def _unpack(self, x, y):
        return x.reshape(self.d, self.d), y.reshape(self.d, self.d)

    def value(self, x, y):
        W, V = self._unpack(x, y)
        return float(np.sum(W * (V @ V.T - self.Sigma)))

    def grads(self, x, y):
        W, V = self._unpack(x, y)
        return (V @ V.T - self.Sigma).ravel(), ((W + W.T) @ V).ravel()

    def mixed(self, x, y):
        return CovarianceMixed(self._unpack(x, y)[1])

    def curvature_x(self, x, y):
        return 0.0

    def curvature_y(self, x, y):
        W, _ = self._unpack(x, y)
        return float(np.linalg.norm(W + W.T, 2))

    def residual(self, x, y):
        """Distance from equilibrium: ``V V^T = Sigma`` and a zero symmetric part of W."""
        W, V = self._unpack(x, y)
        return float(np.sqrt(np.sum((V @ V.T - self.Sigma) ** 2) + np.sum(((W + W.T) / 2) ** 2)))


# %%
# Before playing, :func:`~skcgd.solvers.check_game` (which every solver calls) verifies that
# the object has what the solver needs, and names what is missing otherwise:

check_game(CovarianceGame(np.eye(2)), "CGD")


class Incomplete:
    n_x = n_y = 1

    def grads(self, x, y):
        return x, y


try:
    CGD().run(Incomplete(), [0.0], [0.0])
except TypeError as exc:
    print(exc)

# %%
# It is also worth checking the derivatives against finite differences once: a wrong sign in
# ``rmatvec`` makes CGD solve the wrong system, and no solver can detect that.

rng = np.random.default_rng(0)
d = 10
U = rng.standard_normal((d, d))
game = CovarianceGame(U @ U.T)
x, y = rng.standard_normal(d * d), rng.standard_normal(d * d)
v, u, h = rng.standard_normal(d * d), rng.standard_normal(d * d), 1e-6
op = game.mixed(x, y)
fd_B_v = (game.grads(x, y + h * v)[0] - game.grads(x, y - h * v)[0]) / (2 * h)
fd_Bt_u = (game.grads(x + h * u, y)[1] - game.grads(x - h * u, y)[1]) / (2 * h)
for label, exact, fd in (("B v", op.matvec(v), fd_B_v), ("B^T u", op.rmatvec(u), fd_Bt_u)):
    print(f"relative error of {label:5s}: {np.linalg.norm(exact - fd) / np.linalg.norm(fd):.1e}")

# %%
# Playing it
# ----------
# As in the papers, :math:`U` has standard normal entries, :math:`W_0 = R R^T` and
# :math:`V_0 = U + R'` with :math:`R, R'` uniform on :math:`[-1/2, 1/2]`. We give CGD and
# optimistic GDA the same budget of 40 000 gradient-sized computations for several step
# sizes: a step of optimistic GDA costs one (both gradients), a step of CGD costs two plus
# one per conjugate-gradient iteration (each iteration is two products with :math:`B`, about
# the price of the two gradients).

R, R2 = rng.random((d, d)) - 0.5, rng.random((d, d)) - 0.5
x0, y0 = (R @ R.T).ravel(), (U + R2).ravel()
BUDGET = 40_000


def play(solver, max_steps):
    """Residual per unit of work, until the budget is spent or the run diverges."""
    work, residual = [0], [game.residual(x0, y0)]

    def record(state):
        work.append(work[-1] + (2 + state.cg_iter if state.cg_iter else 1))
        residual.append(game.residual(state.x, state.y))
        return work[-1] >= BUDGET

    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            solver.run(game, x0, y0, callback=record)
    except DivergenceError:
        residual.append(np.inf)
        work.append(work[-1])
    return np.array(work), np.array(residual), time.perf_counter() - t0


etas = [0.025, 0.1, 0.4]
acgd_etas = [0.05, 0.2, 0.5]
runs = {}
for eta, acgd_eta in zip(etas, acgd_etas):
    runs["CGD", eta] = play(
        CGD(eta=eta, tol=1e-8, max_iter=BUDGET, linear_solver="cg", cg_tol=1e-8), BUDGET
    )
    runs["ACGD", acgd_eta] = play(
        ACGD(eta=acgd_eta, tol=1e-8, max_iter=BUDGET, linear_solver="cg", cg_tol=1e-8), BUDGET
    )
    runs["optimistic GDA", eta] = play(OptimisticGDA(eta=eta, tol=1e-8, max_iter=BUDGET), BUDGET)
for (name, eta), (work, residual, seconds) in runs.items():
    print(
        f"{name:15s} eta={eta:<6g} final residual {residual[-1]:9.3g} after {work[-1]:6d} "
        f"units of work ({seconds:.1f} s)"
    )

fig, axes = plt.subplots(1, 3, figsize=(15, 4), sharey=True)
for ax, name in zip(axes, ["CGD", "ACGD", "optimistic GDA"]):
    runs_of = [(eta, run) for (solver, eta), run in runs.items() if solver == name]
    for k, (eta, (work, residual, _)) in enumerate(runs_of):
        finite = np.isfinite(residual)
        ax.semilogy(
            work[finite],
            residual[finite],
            color=plt.cm.viridis(k / len(runs_of)),
            label=rf"$\eta = {eta:g}$" + ("" if finite.all() else " (diverged)"),
        )
    ax.set(title=name, xlabel="work (gradient evaluations)", ylim=(1e-9, 1e4))
    ax.legend()
axes[0].set_ylabel("distance from equilibrium")
fig.tight_layout()

# %%
# Optimistic GDA is stable only for small steps, and small steps are slow. CGD is stable at
# every step size tried, and its largest step is by far the fastest (a distance of about
# :math:`10^{-3}` at the end of the budget, against :math:`10^{-1}` for the best optimistic
# GDA run): its competitive term, not a smaller step, is what keeps the players from
# overshooting. The discriminator :math:`W` has no own curvature and the generator's is
# :math:`\|W + W^T\|`, small near equilibrium, so the interaction is what limits the first
# order methods here, which is the limit CGD removes. ACGD, which scales each coordinate's
# step by the running root mean square of its gradient, does better still: with its largest
# base step it reaches the equilibrium to :math:`10^{-7}` within the budget, since this
# game's coordinates live on quite different scales.
#
# The callback receives the solver's :class:`~skcgd.solvers.GameState` after every step
# (iterates, gradients, CG iterations of the step); returning ``True`` stops the run, which is
# how ``play`` enforces the budget. ``run`` returns a
# :class:`~skcgd.solvers.GameSolverResult`.
#
# When the players want different things
# --------------------------------------
# In a general-sum game each player minimises an objective of its own: x minimises
# :math:`f`, y minimises :math:`g`. The protocol is the same with pairs: ``zero_sum = False``,
# ``value`` returns :math:`(f, g)`, ``grads`` returns :math:`(\nabla_x f, \nabla_y g)` and
# ``mixed`` returns the two mixed second derivatives :math:`D^2_{xy} f` (m, n) and
# :math:`D^2_{yx} g` (n, m). As an illustration, a game of asymmetric stakes: the players
# fight over the bilinear term as in a zero-sum game, but y weighs it :math:`\gamma` times as
# much as x does, and each has a little curvature :math:`\varepsilon` of its own:
#
# .. math::
#
#     f(x, y) = \tfrac{\varepsilon}{2} \|x\|^2 + x^T A y + a^T x, \qquad
#     g(x, y) = \tfrac{\varepsilon}{2} \|y\|^2 - \gamma\, y^T A^T x + b^T y .
#
# Both interactions are constant matrices, so ``mixed`` returns two
# :class:`~skcgd.games.DenseMixedOperator`.

from skcgd.games import DenseMixedOperator, GeneralSumQuadraticGame
from skcgd.solvers import BaseGameSolver, GameState, GeneralSumCGD


class AsymmetricStakes(BaseGame):
    """x minimises f, y minimises g (see above)."""

    zero_sum = False

    def __init__(self, A, gamma, eps, a, b):
        self.A, self.gamma, self.eps = np.asarray(A, dtype=float), float(gamma), float(eps)
        self.a, self.b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        self.n_x, self.n_y = self.A.shape
        self._mixed = (DenseMixedOperator(self.A), DenseMixedOperator(-self.gamma * self.A.T))

    def value(self, x, y):
        f = self.eps / 2 * x @ x + x @ self.A @ y + self.a @ x
        g = self.eps / 2 * y @ y - self.gamma * y @ self.A.T @ x + self.b @ y
        return float(f), float(g)

    def grads(self, x, y):
        return (
            self.eps * x + self.A @ y + self.a,
            self.eps * y - self.gamma * self.A.T @ x + self.b,
        )

    def mixed(self, x, y):
        return self._mixed

    def curvature_x(self, x, y):
        return self.eps

    def curvature_y(self, x, y):
        return self.eps


k, gamma, eps = 20, 3.0, 0.1
rng = np.random.default_rng(1)
A = rng.standard_normal((k, k)) / np.sqrt(k)
a, b = rng.standard_normal(k), rng.standard_normal(k)
stakes = AsymmetricStakes(A, gamma, eps, a, b)

# %%
# This particular game is quadratic, so skcgd has it built in:
# :class:`~skcgd.games.GeneralSumQuadraticGame` with :math:`P = Q = \varepsilon I`,
# :math:`B = A` and :math:`C = -\gamma A^T`. Agreeing gradients are a check of our class,
# and the built-in game knows its Nash equilibrium in closed form.

builtin = GeneralSumQuadraticGame(eps * np.eye(k), A, eps * np.eye(k), -gamma * A.T, a, b)
x, y = rng.standard_normal(k), rng.standard_normal(k)
print(
    "same gradients:",
    all(np.allclose(mine, theirs) for mine, theirs in zip(stakes.grads(x, y), builtin.grads(x, y))),
)
x_nash, y_nash = builtin.nash_equilibrium()

# %%
# Writing a solver
# ----------------
# A solver is a subclass of :class:`~skcgd.solvers.BaseGameSolver` that implements one step,
# ``update(game, state)``, from one :class:`~skcgd.solvers.GameState` to the next; the base
# class checks the game, runs the loop, records the history and stops on divergence. The
# baseline for general-sum games is simultaneous gradient descent, each player on its own
# objective. The class attribute ``_zero_sum = False`` says that it plays general-sum games;
# ``_required`` lists what it needs of a game (no mixed derivatives: it is first order).


class SimultaneousGD(BaseGameSolver):
    """x and y each take a gradient step on their own objective, at the same time."""

    _zero_sum = False
    _required = ("n_x", "n_y", "grads", "curvature_x", "curvature_y")

    def update(self, game, state):
        x = state.x - self.eta * state.grad_x
        y = state.y - self.eta * state.grad_y
        gx, gy = game.grads(x, y)
        return GameState(x, y, state.n_iter + 1, float(np.sqrt(gx @ gx + gy @ gy)), gx, gy)


# %%
# We play it against :class:`~skcgd.solvers.GeneralSumCGD`, whose step solves the
# (non-symmetric) block system of both players' anticipated moves, for 400 steps from the
# origin, and record the distance to the Nash equilibrium.

STEPS = 400
x0, y0 = np.zeros(k), np.zeros(k)


def distance_to_nash(solver):
    distance = [np.hypot(np.linalg.norm(x0 - x_nash), np.linalg.norm(y0 - y_nash))]

    def record(state):
        distance.append(
            np.hypot(np.linalg.norm(state.x - x_nash), np.linalg.norm(state.y - y_nash))
        )

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            solver.run(stakes, x0, y0, callback=record)
    except DivergenceError:
        distance.append(np.inf)
    return np.array(distance)


sigma = np.linalg.svd(A, compute_uv=False)
gd_limit = float(np.min(2 * eps / (eps**2 + gamma * sigma**2)))
print(f"simultaneous GD is stable for eta < {gd_limit:.4f}")
curves = {}
for eta in (0.005, 0.02, 0.1):
    curves["simultaneous GD", eta] = distance_to_nash(
        SimultaneousGD(eta=eta, max_iter=STEPS, tol=0)
    )
for eta in (0.3, 1.0, 5.0):
    curves["GeneralSumCGD", eta] = distance_to_nash(
        GeneralSumCGD(eta=eta, max_iter=STEPS, tol=1e-10)
    )
for (name, eta), distance in curves.items():
    print(
        f"{name:16s} eta={eta:<6g} distance {distance[-1]:9.3g} after {len(distance) - 1:3d} steps"
    )

fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
for ax, name in zip(axes, ("simultaneous GD", "GeneralSumCGD")):
    runs_of = [(eta, d) for (solver, eta), d in curves.items() if solver == name]
    for j, (eta, distance) in enumerate(runs_of):
        finite = np.isfinite(distance)
        ax.semilogy(
            np.flatnonzero(finite),
            distance[finite],
            color=plt.cm.viridis(j / len(runs_of)),
            label=rf"$\eta = {eta:g}$" + ("" if finite.all() else " (diverged)"),
        )
    ax.set(title=name, xlabel="step", ylim=(1e-10, 1e7))
    ax.legend()
axes[0].set_ylabel("distance from the Nash equilibrium")
fig.tight_layout()

# %%
# Simultaneous gradient descent is stable only below
# :math:`\eta = \min_i 2\varepsilon / (\varepsilon^2 + \gamma \sigma_i^2)` (the
# :math:`\sigma_i` are the singular values of :math:`A`), about 0.021 here, and at such steps
# it is still at almost half its starting distance after 400 steps; above the limit
# (:math:`\eta = 0.1`) it spirals away from the equilibrium. General-sum CGD reaches the
# equilibrium to :math:`10^{-9}` in a few dozen steps at :math:`\eta = 5`: as in the zero-sum
# case, anticipating the other player's move removes the limit that comes from
# the interaction. The one that comes from the players' own curvature remains
# (:math:`\eta\varepsilon < 2`, so :math:`\eta < 20` here).
#
# Conclusion
# ----------
# A game is a plain Python object: five methods and two sizes. Give the mixed second
# derivative as products (a :class:`~skcgd.games.MixedOperator`) and CGD needs nothing else;
# check the derivatives by finite differences once; then compare solvers at equal work, not
# equal steps. General-sum games follow the same protocol with pairs, and a solver of your
# own is one ``update`` method on top of :class:`~skcgd.solvers.BaseGameSolver`.
