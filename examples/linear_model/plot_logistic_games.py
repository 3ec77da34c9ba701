"""
=====================================================================
The games inside MinimaxLogisticRegression
=====================================================================

:class:`~skcgd.linear_model.MinimaxLogisticRegression` fits the saddle point of a zero-sum
game between a classifier and an adversary that re-weights the training data. The games are
public: :class:`~skcgd.games.SecondMomentLogisticGame` (a weight per sample, quadratic budget),
:class:`~skcgd.games.KLLogisticGame` (a distribution over the samples, KL budget),
:class:`~skcgd.games.Chi2LogisticGame` (a distribution over the samples, chi-square budget),
:class:`~skcgd.games.GroupKLLogisticGame` (a distribution over groups) and
:class:`~skcgd.games.CVaRLogisticGame` (the worst fraction of the samples). This example builds
each game from the data, checks that the estimator's solution is its saddle point, plays it
with the game solvers, and takes one step of competitive gradient descent by hand to show
the linear system inside it, a :class:`~skcgd.solvers.RowGramOperator`.
"""

# %%
# Data and the fitted estimator
# -----------------------------
# A binary problem with 1000 samples and 10 standardized features; in a minority group
# (about 20% of the samples) 30% of the labels are flipped, so the adversaries have hard
# samples and a hard group to find.

import warnings

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import expit
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler

from skcgd.exceptions import ConvergenceWarning
from skcgd.games import (
    Chi2LogisticGame,
    CVaRLogisticGame,
    GroupKLLogisticGame,
    KLLogisticGame,
    SecondMomentLogisticGame,
)
from skcgd.linear_model import MinimaxLogisticRegression
from skcgd.solvers import CGD, GDA, CompetitiveMirrorDescent, RowGramOperator, conjugate_gradient

X, y = make_classification(n_samples=1000, n_features=10, n_informative=4, random_state=0)
X = StandardScaler().fit_transform(X)
rng = np.random.default_rng(0)
groups = (rng.random(len(y)) < 0.2).astype(int)
y = np.where((groups == 1) & (rng.random(len(y)) < 0.3), 1 - y, y)
C, rho = 1.0, 1.0

# %%
# The second-moment game
# ----------------------
# The game's min player is the coefficient vector with the intercept last, the max player
# the adversary's weights :math:`u` (sample :math:`i` weighs :math:`1 + u_i`); the binary
# game takes labels in :math:`\{-1, +1\}`:
#
# .. math::
#
#     \min_w \max_u\; C \sum_i (1 + u_i)\, l_i(w) - \frac{C}{2\rho} \sum_i u_i^2
#     + \tfrac12 \|w\|^2 .
#
# The estimator (default solver: Newton's method on the closed-form primal) lands on the
# game's saddle point: both gradients vanish there (to the estimator's ``tol``, relative to
# the gradient at zero coefficients), and the adversary's weights it reports are the game's
# best response :math:`u^*_i = \rho\, l_i(w)`.

estimator = MinimaxLogisticRegression("second_moment", rho=rho, C=C).fit(X, y)
w_star = np.r_[estimator.coef_[0], estimator.intercept_]
chi2 = SecondMomentLogisticGame(X, 2 * y - 1, C=C, rho=rho, fit_intercept=True)
u_star = chi2.best_response(w_star)
gw, gu = chi2.grads(w_star, u_star)
zero = np.zeros(chi2.n_x)
scale = np.linalg.norm(chi2.grads(zero, chi2.best_response(zero))[0])  # at w = 0
print(
    f"at the estimator's solution: |grad_w f| = {np.linalg.norm(gw) / scale:.1e} (relative "
    f"to w = 0), |grad_u f| = {np.linalg.norm(gu):.1e}; adversary weights equal: "
    f"{np.allclose(u_star, estimator.adversary_weights_)}"
)

# %%
# Playing it with :class:`~skcgd.solvers.CGD` and with gradient descent-ascent
# (:class:`~skcgd.solvers.GDA`), both at ``eta="auto"`` (each player's step is the inverse of
# its own curvature), from zero coefficients and the adversary's best response to them, for
# budgets ``rho`` from weak to strong:

rhos = [0.1, 0.3, 1.0, 3.0, 10.0, 30.0]
steps = {"CGD": [], "GDA": []}
histories = {}
for r in rhos:
    game = SecondMomentLogisticGame(X, 2 * y - 1, C=C, rho=r, fit_intercept=True)
    w0 = np.zeros(game.n_x)
    u0 = game.best_response(w0)
    for solver in (
        CGD(eta="auto", tol=1e-8, max_iter=3000),
        GDA(eta="auto", tol=1e-8, max_iter=3000),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            result = solver.run(game, w0, u0)
        steps[solver.name].append(result.n_iter if result.converged else np.nan)
        histories[solver.name, r] = result.history["grad_norm"]
        if r == rho:  # the estimator's game
            print(
                f"{solver.name} at rho={r:g}: {result.n_iter} steps, distance to the "
                f"estimator's coefficients {np.abs(result.x - w_star).max():.1e}"
            )
print(
    "steps per rho:",
    {name: [int(k) if k == k else None for k in n_steps] for name, n_steps in steps.items()},
)

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 3.8))
for name, style in (("CGD", "o-"), ("GDA", "s--")):
    ax0.plot(rhos, steps[name], style, label=name)
    ax1.semilogy(histories[name, 10.0], style[1:], label=f"{name}, rho=10")
ax0.set(
    xscale="log",
    yscale="log",
    xlabel="rho",
    ylabel="steps to tol=1e-8",
    title="steps to the saddle point (missing: not within 3000)",
)
ax0.legend()
ax1.set(xlabel="step", ylabel="gradient norm (both players)", title="rho = 10")
ax1.legend()
fig.tight_layout()

# %%
# With a weak adversary the game is nearly plain logistic regression: the classifier's own
# curvature limits both solvers' steps, and they need about as many (GDA's steps are the
# cheaper ones: no linear solve). As ``rho`` grows, so does the interaction (the adversary's
# step ``rho / C`` multiplies it): GDA needs ever more steps, and does not converge within
# 3000 at ``rho=30``, while CGD's count stays flat. CGD removes the step-size limit that comes
# from the interaction, not the one from a player's own curvature; that one is why the
# estimator's default solver is Newton's method.
#
# One CGD step by hand
# --------------------
# With :math:`B` the mixed second derivative (coefficients by samples) and step sizes
# :math:`H_x = \eta_x I`, :math:`H_y = \mathrm{diag}(\eta_y)`, a CGD step solves
#
# .. math::
#
#     (I + H_x^{1/2} B H_y B^T H_x^{1/2})\, z = -H_x^{1/2} (\nabla_w f + B H_y \nabla_u f),
#     \quad \Delta w = H_x^{1/2} z, \quad \Delta u = H_y (\nabla_u f + B^T \Delta w).
#
# For the logistic games column :math:`i` of :math:`B` is :math:`r_i \tilde x_i`, with
# :math:`\tilde x_i = (x_i, 1)` and :math:`r_i = C g_i`, :math:`g_i = \partial l_i /
# \partial z_i = -y_i \sigma(-y_i z_i)` at the margin :math:`z_i`. So the matrix of the
# system is :math:`I + \eta_x \sum_i \eta_{y,i} r_i^2 \tilde x_i \tilde x_i^T`:
# a :class:`~skcgd.solvers.RowGramOperator` on the rows of :math:`X`, applied in one pass
# over the data and never formed. Here is the step at a point a few steps into the CGD run,
# computed from the formulas and compared with what the solver does.

solver = CGD(eta="auto", linear_solver="cg", cg_tol=1e-12)
w0 = np.zeros(chi2.n_x)
u0 = chi2.best_response(w0)
state = solver.init(chi2, w0, u0)
for _ in range(3):
    state = solver.update(chi2, state)
eta_w = 1.0 / chi2.curvature_x(w0, u0)  # eta="auto" fixes the steps at the start point
eta_u = np.full(chi2.n_y, 1.0 / chi2.curvature_y(w0, u0))

y_pm = 2 * y - 1
Xt = np.column_stack([X, np.ones(len(X))])
margins = Xt @ state.x
r = C * (-y_pm * expit(-y_pm * margins))  # C g_i
system = RowGramOperator(X, R=r[:, None], hy=eta_u, dx=np.sqrt(eta_w), fit_intercept=True)
rhs = -np.sqrt(eta_w) * (state.grad_x + Xt.T @ (r * eta_u * state.grad_y))
z, cg_iter, converged = conjugate_gradient(system, rhs, tol=1e-12)
dw = np.sqrt(eta_w) * z
du = eta_u * (state.grad_y + r * (Xt @ dw))

next_state = solver.update(chi2, state)
print(f"conjugate gradient: {cg_iter} iterations for {system.shape[0]} unknowns")
print(
    f"step by hand vs. CGD.update: |dw| differs by "
    f"{np.abs(dw - (next_state.x - state.x)).max():.1e}, |du| by "
    f"{np.abs(du - (next_state.y - state.y)).max():.1e}"
)
dense = chi2.mixed(state.x, state.y).system_matrix("x", np.full(chi2.n_x, eta_w), eta_u)
print(
    "RowGramOperator equals the game's dense system matrix:", np.allclose(system.toarray(), dense)
)

# %%
# The simplex adversaries
# -----------------------
# The ``"kl"`` adversary chooses a distribution :math:`p` over the samples, penalised by its
# KL divergence from the uniform one with weight :math:`\tau = 1/\rho`; its best response is
# the Gibbs distribution :math:`p_i \propto e^{l_i / \tau}`. The ``"group"`` adversary
# chooses a distribution over groups the same way, from the groups' mean losses. A player on
# the simplex is played with :class:`~skcgd.solvers.CompetitiveMirrorDescent`, CGD's
# entropic (mirror) variant. The estimator steps the adversary by :math:`\rho / (C N)`, the
# step at which a mirror step is the exact best response. A stronger budget, ``rho=5``,
# makes the adversaries' choices visible.

rho = 5.0
games = {
    "kl": KLLogisticGame(X, y_pm, C=C, rho=rho, fit_intercept=True),
    "group": GroupKLLogisticGame(X, y_pm, groups, C=C, rho=rho, fit_intercept=True),
}
fitted = {}
for adversary, game in games.items():
    model = MinimaxLogisticRegression(adversary, rho=rho, C=C).fit(X, y, groups=groups)
    w_star = np.r_[model.coef_[0], model.intercept_]
    w0 = np.zeros(game.n_x)
    p0 = game.best_response(w0)
    eta = (1.0 / game.curvature_x(w0, p0), rho / (C * len(X)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = CompetitiveMirrorDescent(eta=eta, tol=1e-8, max_iter=500).run(game, w0, p0)
    fitted[adversary] = model
    print(
        f"{adversary:5s}: CompetitiveMirrorDescent took {result.n_iter} steps; distance to "
        f"the estimator's coefficients {np.abs(result.x - w_star).max():.1e}, to its "
        f"adversary weights {np.abs(result.y - model.adversary_weights_).max():.1e}"
    )

# %%
# What the adversaries chose: the ``"kl"`` weights, scaled by :math:`N`, against each
# sample's loss lie on the line :math:`N p_i = e^{l_i/\tau} / \mathrm{mean}_j\, e^{l_j/\tau}`;
# the ``"group"`` adversary moves weight from the majority to the noisy minority group.

kl = fitted["kl"]
losses = np.logaddexp(0.0, -y_pm * kl.decision_function(X))
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 3.8))
grid = np.linspace(losses.min(), losses.max(), 50)
ax0.plot(
    grid,
    np.exp(rho * grid) / np.mean(np.exp(rho * losses)),
    "k-",
    lw=3,
    alpha=0.3,
    label=r"$e^{l/\tau} / \mathrm{mean}_j\, e^{l_j/\tau}$",
)
ax0.scatter(losses, len(X) * kl.adversary_weights_, s=8, c=groups, cmap="coolwarm")
ax0.set(
    yscale="log",
    xlabel="sample loss $l_i$",
    ylabel="$N p_i$",
    title='"kl": weight per sample (red: minority group)',
)
ax0.legend()
shares = np.bincount(groups) / len(groups)
ax1.bar(np.arange(2) - 0.2, shares, width=0.4, label="share of the data")
ax1.bar(
    np.arange(2) + 0.2, fitted["group"].adversary_weights_, width=0.4, label="adversary's weight"
)
ax1.set(
    xticks=[0, 1],
    xticklabels=["majority", "minority (noisy)"],
    ylim=(0, 1),
    title='"group": weight per group',
)
ax1.legend()
fig.tight_layout()

# %%
# The chi-square game: a distribution over the samples
# ----------------------------------------------------
# :class:`~skcgd.games.Chi2LogisticGame` lets the adversary choose a distribution ``q`` over
# the samples, at a chi-square distance from the uniform one :math:`p_i = 1/N`:
#
# .. math::
#
#     \min_w \max_{q \in \Delta}\; C N \sum_i q_i\, l_i(w)
#     - \frac{C N}{2\rho} \sum_i \frac{(q_i - p_i)^2}{p_i} + \tfrac12 \|w\|^2 .
#
# Its best response is :math:`q_i = p_i \max(0, 1 + \rho (l_i - \eta))` with :math:`\eta`
# chosen so that the weights sum to one: a strong adversary drops the easy samples
# altogether (weight exactly 0), which no closed-form reweighting in ``w`` expresses.
# The estimator's Newton solver differentiates through that response; the game solvers
# play it directly, the adversary by mirror steps that keep ``q`` on the simplex. Here
# :class:`~skcgd.solvers.CompetitiveMirrorDescent` reaches the estimator's saddle point:

rho_chi2 = 10.0
chi2_estimator = MinimaxLogisticRegression("chi2", rho=rho_chi2, C=C).fit(X, y)
w_chi2 = np.r_[chi2_estimator.coef_[0], chi2_estimator.intercept_]
chi2_game = Chi2LogisticGame(X, 2 * y - 1, C=C, rho=rho_chi2, fit_intercept=True)
q_star = chi2_game.best_response(w_chi2)
played = CompetitiveMirrorDescent(eta=0.1, tol=1e-8, max_iter=2000).run(
    chi2_game, np.zeros(chi2_game.n_x), np.full(chi2_game.n_y, 1 / chi2_game.n_y)
)
print(
    f"weights sum to {q_star.sum():.12f}; {np.mean(q_star == 0):.1%} of the samples get "
    f"weight 0; largest weight {q_star.max() * len(y):.2f} / n; estimator's weights equal "
    f"the best response: {np.allclose(q_star, chi2_estimator.adversary_weights_)}"
)
print(
    f"CompetitiveMirrorDescent: converged={played.converged} in {played.n_iter} steps, "
    f"distance to the estimator's coefficients {np.abs(played.x - w_chi2).max():.1e}"
)

# %%
# The CVaR game: the worst fraction of the samples
# ------------------------------------------------
# :class:`~skcgd.games.CVaRLogisticGame` caps the adversary's weights at ``1 + rho`` times
# the samples' shares: at its best response the objective is ``C N`` times the mean loss of
# the worst fraction ``1 / (1 + rho)`` of the samples,
# :math:`\min_\eta\, \eta + (1 + \rho)\,\overline{(l - \eta)_+}`. Its primal is not
# differentiable, so the game solvers do not play it; Newton solves it through smoothed
# primals that bound it from below (the estimator's default). With ``rho = 0.1`` the
# adversary averages the worst 91% of the samples:

rho_cvar = 0.1
cvar_estimator = MinimaxLogisticRegression("cvar", rho=rho_cvar, C=C).fit(X, y)
cvar = CVaRLogisticGame(X, 2 * y - 1, C=C, rho=rho_cvar, fit_intercept=True)
w_cvar = np.r_[cvar_estimator.coef_[0], cvar_estimator.intercept_]
losses = np.logaddexp(0.0, -(2 * y - 1) * (X @ w_cvar[:-1] + w_cvar[-1]))
# the formula is piecewise linear in eta: its minimum is at one of the losses
worst_mean = min(eta + (1 + rho_cvar) * np.maximum(losses - eta, 0).mean() for eta in losses)
print(
    f"CVaR primal {cvar.primal(w_cvar):.6f} = C N x the worst 91%'s mean loss "
    f"{C * len(y) * worst_mean + 0.5 * w_cvar[:-1] @ w_cvar[:-1]:.6f}; the adversary's "
    f"weights sum to {cvar_estimator.adversary_weights_.sum():.12f}, at most "
    f"{cvar_estimator.adversary_weights_.max() * len(y):.4f} / n (the cap is 1.1 / n)"
)

# %%
# With the flipped labels of the minority a larger ``rho`` is no better: from ``rho = 0.3``
# on, the worst fraction is made of the flipped samples and the constant classifier (all
# coefficients near 0) minimises its mean loss. CVaR protects against the worst cases,
# mislabelled ones included; ``"chi2"`` and ``"kl"`` weigh them up more gently.

# %%
# Conclusion
# ----------
# :class:`~skcgd.linear_model.MinimaxLogisticRegression` is a thin layer over public games:
# it validates the data, encodes the labels and groups, builds one of the games above, and
# finds the saddle point (by Newton's method by default, with ``solver="cgd"`` by the game
# solvers used above). The games can be played, inspected and differentiated directly, for
# instance to try another solver; the linear system of every CGD step on them is a
# :class:`~skcgd.solvers.RowGramOperator` that conjugate gradient solves in one pass over
# the data per iteration.
