"""The seed experiments of skcgd, re-run and asserted.

Each test plays one experiment of the papers skcgd started from and asserts its claim, with
the numbers measured in the test and the tolerance stated next to the assertion:

1. CGD paper, covariance learning (d = 20): CGD at eta = 0.4 reaches 1e-6 within 100k
   gradient passes; optimistic GDA diverges from eta = 0.1 on.
2. CGD paper, the robust logistic game (``SecondMomentLogisticGame``): the whole row
   eta_w in {1, 2.5, 5, 10} for CGD, GDA, optimistic GDA and extragradient.
3. Group DRO: as rho grows, the group adversary's objective tends to the worst group's loss
   (the epigraph problem solved by SciPy's SLSQP), with the gap bounded and shrinking as 1/rho.
4. Naive Bayes against logistic regression (Ng & Jordan 2002, Zheng et al. 2023): sample
   complexity over d (``slow``), and the two regimes on breast cancer.
5. The own-curvature limit eta * L < 2 binds only where the interaction does not reach.

Reference numbers quoted from /work/shared/research/cgd.md (the research notes) come from an
independent NumPy re-implementation of the experiments, not from skcgd. The two slow tests
(5-10 s each on an idle two-core machine, several times that under load; the default run of
this file takes ~5 s) run with ``python -m pytest -m slow tests/test_seed_experiments.py``.
"""

import warnings

import numpy as np
import pytest
import scipy.optimize
from scipy.special import logsumexp
from scipy.stats import norm
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skcgd.datasets import make_group_shift, make_naive_bayes_simulation
from skcgd.exceptions import DivergenceError
from skcgd.games import BaseGame, MixedOperator, QuadraticGame
from skcgd.linear_model import MinimaxLogisticRegression
from skcgd.naive_bayes import GaussianNaiveBayes
from skcgd.solvers import CGD, GDA, ExtraGradient, OptimisticGDA
from tests.games.test_logistic import _dro_data, _DROGame


# -- 1. covariance learning (CGD paper; Daskalakis et al. 2018, App. C) ----------------------
class _CountingMixed(MixedOperator):
    """``B = D2_WV f`` at ``V``; every product with ``B`` or ``B^T`` adds one pass."""

    def __init__(self, V, counter):
        self.V, self.counter = V, counter
        self.shape = (V.size, V.size)

    def matvec(self, v):
        self.counter[0] += 1
        dV = v.reshape(self.V.shape)
        return (dV @ self.V.T + self.V @ dV.T).ravel()

    def rmatvec(self, u):
        self.counter[0] += 1
        dW = u.reshape(self.V.shape)
        return ((dW + dW.T) @ self.V).ravel()


class _CovarianceGame(BaseGame):
    """``min_W max_V <W, V V^T - Sigma>`` on flattened ``d x d`` matrices, counting passes.

    ``grad_W f = V V^T - Sigma``, ``grad_V f = (W + W^T) V``; ``D2_WW f = 0`` and
    ``D2_VV f`` is ``dV -> (W + W^T) dV``. ``passes`` counts calls of :meth:`grads` and
    products with the mixed Hessian.
    """

    def __init__(self, Sigma):
        self.Sigma = Sigma
        self.d = Sigma.shape[0]
        self.n_x = self.n_y = self.d * self.d
        self.counter = [0]

    @property
    def passes(self):
        return self.counter[0]

    def _unpack(self, x, y):
        return x.reshape(self.d, self.d), y.reshape(self.d, self.d)

    def value(self, x, y):
        W, V = self._unpack(x, y)
        return float(np.sum(W * (V @ V.T - self.Sigma)))

    def grads(self, x, y):
        self.counter[0] += 1
        W, V = self._unpack(x, y)
        return (V @ V.T - self.Sigma).ravel(), ((W + W.T) @ V).ravel()

    def mixed(self, x, y):
        return _CountingMixed(self._unpack(x, y)[1], self.counter)

    def curvature_x(self, x, y):
        return 0.0

    def curvature_y(self, x, y):
        W, _ = self._unpack(x, y)
        return float(np.linalg.norm(W + W.T, 2))

    def residual(self, x, y):
        """The paper's distance from equilibrium,
        ``sqrt(||V V^T - Sigma||_F^2 + ||(W + W^T) / 2||_F^2)``."""
        W, V = self._unpack(x, y)
        return float(np.hypot(np.linalg.norm(V @ V.T - self.Sigma), np.linalg.norm((W + W.T) / 2)))


COV_BUDGET = 100_000  # gradient passes, as in the paper


def _covariance_problem(d=20):
    # research notes §3.3: default_rng(0), U, then R, then R' (initial residual 39.2)
    rng = np.random.default_rng(0)
    U = rng.standard_normal((d, d))
    R = rng.random((d, d)) - 0.5
    R2 = rng.random((d, d)) - 0.5
    return _CovarianceGame(U @ U.T), (R @ R.T).ravel(), (U + R2).ravel()


def _play_covariance(solver, stop_below=None):
    """Run ``solver`` until the budget is spent (or the residual and the gradient norm are both
    below ``stop_below``); returns ``(game, result)``."""
    game, x0, y0 = _covariance_problem()

    def stop(state):
        if game.passes >= COV_BUDGET:
            return True
        return (
            stop_below is not None
            and max(state.error, game.residual(state.x, state.y)) < stop_below
        )

    return game, solver.run(game, x0, y0, callback=stop, warn=False)


def test_cgd_solves_the_covariance_game_within_the_budget():
    """CGD at eta = 0.4 reaches residual and gradient norm below 1e-6 within 100k passes.

    Counting rule: one pass is one evaluation of both players' gradients or one product with
    the mixed Hessian ``B`` or ``B^T`` (each is a few d x d matrix products, the price of a
    gradient). The game counts them as they happen, so nothing is estimated: a CG iteration
    is 2 passes (``result.history["cg_iter"]`` counts these), and a CGD step adds 1 gradient
    evaluation, 2 products for the right-hand side and the recovery of the other player, 2
    for the residual of the warm start and 2 for the check of the final residual: 7 + 2 x
    (CG iterations) a step. Optimistic GDA costs 1 pass a step.
    """
    game, x0, y0 = _covariance_problem()
    # the construction of the research notes: initial residual 39.2
    assert game.residual(x0, y0) == pytest.approx(39.2, abs=0.05)

    solver = CGD(eta=0.4, max_iter=COV_BUDGET, tol=0, linear_solver="cg", cg_tol=1e-6)
    game, result = _play_covariance(solver, stop_below=1e-6)
    assert result.history["grad_norm"][-1] < 1e-6
    assert game.residual(result.x, result.y) < 1e-6
    assert game.passes <= COV_BUDGET
    # the counted passes include the plain rule "1 gradient a step + 2 per CG iteration"
    cg = result.history["cg_iter"]
    assert game.passes >= result.n_iter + 2 * cg.sum()
    # no step hit the CG iteration cap (the solves were converged, not cut)
    assert cg.max() < max(10 * game.n_x, 100)


@pytest.mark.parametrize("eta", [0.1, 0.4])
def test_optimistic_gda_diverges_on_the_covariance_game(eta):
    """Optimistic GDA at eta >= 0.1 diverges: ``run`` raises DivergenceError (the solvers'
    contract, skcgd/solvers/_base.py: a gradient norm above ``divergence_factor = 1e10`` times
    its start, or a non-finite iterate) within the budget of 100k passes (1 pass a step)."""
    game, x0, y0 = _covariance_problem()
    with pytest.raises(DivergenceError) as info:
        OptimisticGDA(eta=eta, max_iter=COV_BUDGET, tol=1e-6).run(game, x0, y0)
    assert info.value.n_iter <= COV_BUDGET


@pytest.mark.slow
def test_cgd_is_stable_on_the_covariance_game_at_every_step_size():
    """CGD does not diverge at any step size of the paper's grid (the eta = 0.4 run is
    above), and a larger step leaves it closer to equilibrium after the same 100k passes (the
    paper: larger steps are cheaper). Optimistic GDA at the small steps does not diverge
    either and ends closer than it started: its divergence above is a matter of step size."""
    residuals = []
    for eta in (0.005, 0.025, 0.1):
        solver = CGD(eta=eta, max_iter=COV_BUDGET, tol=0, linear_solver="cg", cg_tol=1e-6)
        game, result = _play_covariance(solver)  # raises DivergenceError if it diverges
        assert game.passes >= COV_BUDGET  # the whole budget was spent
        residuals.append(game.residual(result.x, result.y))
    game, x0, y0 = _covariance_problem()
    start = game.residual(x0, y0)
    assert all(np.isfinite(residuals)) and residuals[0] < start
    assert residuals[0] > residuals[1] > residuals[2]
    for eta in (0.005, 0.025):
        game, result = _play_covariance(OptimisticGDA(eta=eta, max_iter=COV_BUDGET, tol=0))
        assert game.residual(result.x, result.y) < start


# -- 2. the robust logistic game of the CGD paper: the full row ------------------------------
# research notes §4(b): n = 2000, d = 50, lam = n, alpha = 1e-2, eta_u = 5e-4, 1000 steps,
# stop at ||grad|| < 1e-6 (the game of tests/games/test_logistic.py, in the paper's units).
# Expected outcome per (eta_w, solver), with the step counts of the notes' NumPy runs:
# an int is "converges in that many steps (+-1)".
DRO_ROW = {
    1.0: {"CGD": 42, "GDA": 41, "OGDA": "diverges", "EG": "stalls"},
    2.5: {"CGD": 15, "GDA": 54, "OGDA": "diverges", "EG": "stalls"},
    5.0: {"CGD": 17, "GDA": "diverges", "OGDA": "diverges", "EG": "diverges"},
    # the issue expects CGD to converge here too; it does not (nor in the notes): see the
    # docstring of the test
    10.0: {"CGD": "bounded", "GDA": "diverges", "OGDA": "diverges", "EG": "diverges"},
}
DRO_SOLVERS = {
    "CGD": lambda eta: CGD(eta=eta, max_iter=1000, tol=1e-6, linear_solver="cg", cg_tol=1e-6),
    "GDA": lambda eta: GDA(eta=eta, max_iter=1000, tol=1e-6),
    "OGDA": lambda eta: OptimisticGDA(eta=eta, max_iter=1000, tol=1e-6),
    "EG": lambda eta: ExtraGradient(eta=eta, max_iter=1000, tol=1e-6),
}


@pytest.fixture(scope="module")
def dro_game():
    X, labels = _dro_data()
    return _DROGame(X, labels, lam=2000.0, alpha=0.01)


@pytest.mark.parametrize("eta_w", list(DRO_ROW))
def test_robust_logistic_game_row(dro_game, eta_w):
    """One column of the row per eta_w: CGD converges for eta_w <= 5, GDA diverges from
    eta_w = 5, OGDA diverges everywhere, extragradient stalls (eta_u * lam = 1 makes its
    factor on the adversary exactly 1) then diverges.

    At eta_w = 10 CGD does not converge: the min player's own curvature at the saddle is
    ~0.44, so eta_w * L ~ 4.4, past what the interaction can hold (at eta_w = 5, 2.2, it
    still can). CGD stays bounded there (no DivergenceError, gradient norm well below its
    start after 1000 steps) but does not reach 1e-6; this is asserted instead.
    (``tests/games/test_logistic.py`` checks the eta_w = 2.5 CGD run in depth: CG counts,
    the L-BFGS oracle of the saddle.)
    """
    w0, u0 = np.zeros(dro_game.n_x), np.zeros(dro_game.n_y)
    start = float(np.linalg.norm(np.concatenate(dro_game.grads(w0, u0))))
    for name, expected in DRO_ROW[eta_w].items():
        solver = DRO_SOLVERS[name]((eta_w, 5e-4))
        if expected == "diverges":
            with pytest.raises(DivergenceError):
                solver.run(dro_game, w0, u0)
            continue
        result = solver.run(dro_game, w0, u0, warn=False)
        final = result.history["grad_norm"][-1]
        if isinstance(expected, int):
            assert result.converged and final < 1e-6, name
            assert abs(result.n_iter - expected) <= 1, (name, result.n_iter)
        elif expected == "stalls":
            # neither converges nor diverges: after 1000 steps still near its start
            assert not result.converged and result.n_iter == 1000, name
            assert 0.5 * start < final < 2 * start, (name, final)
        else:  # "bounded"
            assert not result.converged and result.n_iter == 1000, name
            assert 1e-2 < final < 0.1 * start, (name, final)


def test_robust_logistic_game_step_sizes_past_the_own_curvature_limit(dro_game):
    """Why GDA fails from eta_w = 5 on and CGD at 10: at the saddle (found by CGD at
    eta_w = 1), ``eta_w * ||D2_ww f||`` exceeds 2 for eta_w = 5 (CGD still converges there,
    thanks to the interaction) and 4 for eta_w = 10."""
    w0, u0 = np.zeros(dro_game.n_x), np.zeros(dro_game.n_y)
    saddle = DRO_SOLVERS["CGD"]((1.0, 5e-4)).run(dro_game, w0, u0)
    assert saddle.converged
    L = dro_game.curvature_x(saddle.x, saddle.y)
    assert 2 < 5 * L < 4 < 10 * L


# -- 3. group DRO: the hard limit ----------------------------------------------------------
C_GROUP = 1.0


@pytest.fixture(scope="module")
def group_problem():
    X, y, groups = make_group_shift(
        600, minority_fraction=0.2, group_features=False, return_groups=True, random_state=0
    )
    return X, y, groups


def _group_losses(X, y, groups, w, b):
    loss = np.logaddexp(0.0, -(2 * y - 1) * (X @ w + b))
    return np.bincount(groups, weights=loss) / np.bincount(groups)


def _worst_group_optimum(X, y, groups, C):
    """``min_{w, b, t} t + ||w||^2 / (2 C N)`` s.t. ``L_g(w, b) <= t`` by SLSQP: the hard
    limit ``C N max_g L_g + ||w||^2 / 2`` divided by ``C N``. Returns ``(H*, w, b, q)`` with
    ``q`` the KKT multipliers of the constraints (a distribution over the groups: the
    derivative in ``t`` makes them sum to 1), recomputed from the stationarity conditions."""
    n, d = X.shape
    N = float(n)
    sign = 2 * y - 1
    G = groups.max() + 1

    def objective(z):
        return z[-1] + z[:d] @ z[:d] / (2 * C * N)

    def objective_grad(z):
        g = np.zeros_like(z)
        g[:d] = z[:d] / (C * N)
        g[-1] = 1.0
        return g

    def loss_grads(z):  # (G, d + 1): gradients of L_g in (w, b)
        dl = -sign / (1.0 + np.exp(sign * (X @ z[:d] + z[d])))
        Xb = np.hstack([X, np.ones((n, 1))]) * dl[:, None]
        return np.stack([Xb[groups == g].mean(axis=0) for g in range(G)])

    constraint = {
        "type": "ineq",
        "fun": lambda z: z[-1] - _group_losses(X, y, groups, z[:d], z[d]),
        "jac": lambda z: np.hstack([-loss_grads(z), np.ones((G, 1))]),
    }
    z0 = np.r_[np.zeros(d + 1), np.log(2.0)]
    res = scipy.optimize.minimize(
        objective,
        z0,
        jac=objective_grad,
        constraints=[constraint],
        method="SLSQP",
        options={"ftol": 1e-14, "maxiter": 1000},
    )
    assert res.success, res.message
    z = res.x
    # KKT: w / (C N) + sum_g q_g grad_w L_g = 0, sum_g q_g d_b L_g = 0, sum_g q_g = 1
    A = np.vstack([loss_grads(z).T, np.ones((1, G))])
    rhs = np.r_[-z[:d] / (C * N), 0.0, 1.0]
    q, *_ = np.linalg.lstsq(A, rhs, rcond=None)
    assert np.linalg.norm(A @ q - rhs) < 1e-6  # a KKT point: the global optimum (convex)
    assert (q > -1e-8).all()
    return C * N * res.fun, z[:d], z[d], q


def test_group_adversary_tends_to_the_worst_group(group_problem):
    r"""The group objective :math:`P_\rho(W) = CN\tau\log\sum_g \pi_g e^{L_g/\tau} +
    \|w\|^2/2` (``tau = 1/rho``) against the worst group's :math:`H(W) = CN\max_g L_g +
    \|w\|^2/2`, minimised by SLSQP on the epigraph form.

    The bound. For every W, ``max_g L_g + tau log pi_min <= tau log sum pi_g e^{L_g/tau}
    <= max_g L_g``, so ``0 <= H* - P*_rho <= C N log(1 / pi_min) / rho`` (``log G / rho``
    for equal groups). Sharper, by duality: with ``q*`` the worst-case group weights of the
    hard problem (its KKT multipliers), ``P_rho(W) >= C N [q* . L(W) - tau KL(q* || pi)] +
    ||w||^2 / 2 >= H* - C N tau KL(q* || pi)``. So

        0 <= H* - P*_rho <= C N KL(q* || pi) / rho <= C N log(1 / pi_min) / rho,

    and the middle bound is attained as rho -> infinity: the gap is Theta(1 / rho), not
    exponentially small, unless q* = pi. Hence the issue's "relative gap < 1e-6 at
    rho = 100" is not achievable: the relative gap there is about KL / (100 max_g L_g), a
    few 1e-3 for these groups (KL ~ 0.2, losses ~ 0.5); it needs rho of order
    C N KL / (1e-6 H*). Asserted: the bound for rho in {1, 10, 100, 1e7} (SLSQP solves to
    ~1e-14, Newton to relative 1e-10 of the objective: slack 1e-9 H*), the gap decreasing,
    ``rho * gap`` within 10 % of its limit ``C N KL`` at rho = 100, a relative gap above
    1e-6 at rho = 100 and below 1e-6 at rho = 1e7 (our ``max_rho`` is 1e8).
    """
    X, y, groups = group_problem
    C, N = C_GROUP, float(X.shape[0])
    pi = np.bincount(groups) / N
    H_star, *_, q_star = _worst_group_optimum(X, y, groups, C)
    kl = float(q_star @ np.log(q_star / pi))
    assert 0 < kl <= np.log(1 / pi.min())
    slack = 1e-9 * H_star

    gaps = {}
    for rho in (1.0, 10.0, 100.0, 1e7):
        clf = MinimaxLogisticRegression("group", rho=rho, C=C, tol=1e-10).fit(X, y, groups=groups)
        assert clf.converged_
        w, b = clf.coef_[0], clf.intercept_[0]
        L = _group_losses(X, y, groups, w, b)
        P = C * N * logsumexp(L * rho + np.log(pi)) / rho + 0.5 * w @ w
        # our reported primal is this formula (the scaling matches the epigraph's)
        assert clf.history_["objective"][-1] == pytest.approx(P, rel=1e-10)
        # (w, b) is feasible for the epigraph problem: SLSQP's optimum is no worse
        assert C * N * L.max() + 0.5 * w @ w >= H_star - slack
        gap = H_star - P
        assert -slack <= gap <= C * N * kl / rho + slack
        gaps[rho] = gap

    assert gaps[1.0] > gaps[10.0] > gaps[100.0] > gaps[1e7]
    assert 0.9 * C * N * kl <= 100 * gaps[100.0] <= C * N * kl + 100 * slack
    assert gaps[100.0] / H_star > 1e-6  # the target, out of reach at rho = 100
    assert gaps[1e7] / H_star < 1e-6


# -- 4. naive Bayes against logistic regression --------------------------------------------
NB_DIMS = (25, 50, 100, 200, 400)
NB_SEEDS = 6


def _crossing(grid, errors, target):
    """The training size where the mean error first reaches ``target``, interpolated linearly
    in ``log m`` between the two grid points around it (``grid[0]`` if already there)."""
    below = np.flatnonzero(errors <= target)
    if below.size == 0:
        return np.inf
    i = below[0]
    if i == 0:
        return float(grid[0])
    e0, e1 = errors[i - 1], errors[i]
    frac = (e0 - target) / (e0 - e1)
    return float(np.exp(np.log(grid[i - 1]) + frac * np.log(grid[i] / grid[i - 1])))


def _samples_needed(d, make_model):
    """Training size at which the mean test error (over NB_SEEDS draws) reaches the
    asymptotic error + 0.01, on a geometric grid of ratio sqrt(2) from 4 to 8 d."""
    # Both models are consistent here (naive Bayes with a shared variance is the true model;
    # logistic regression's C = 1 penalty fades as m grows), so both tend to the Bayes error
    # of the two Gaussians: Mahalanobis distance sqrt(2 + 2 d) (means -1 and 1, variance d on
    # half the features, 1 on the other half).
    target = norm.cdf(-np.sqrt(2.0 + 2.0 * d) / 2.0) + 0.01
    problems = []
    for seed in range(NB_SEEDS):
        rng = np.random.default_rng([d, seed])
        pool = make_naive_bayes_simulation(8 * d, d, random_state=rng)
        test = make_naive_bayes_simulation(4000, d, random_state=rng)
        problems.append(pool + test)
    grid = np.unique(np.round(4 * np.sqrt(2.0) ** np.arange(40)).astype(int))
    grid = grid[grid <= 8 * d]
    errors = []
    for m in grid:
        err = 0.0
        for seed, (X_pool, y_pool, X_test, y_test) in enumerate(problems):
            rng = np.random.default_rng([d, seed, m])
            while True:  # as the paper: redraw a training set that misses a class
                idx = rng.choice(y_pool.size, m, replace=False)
                if np.unique(y_pool[idx]).size == 2:
                    break
            model = make_model().fit(X_pool[idx], y_pool[idx])
            err += np.mean(model.predict(X_test) != y_test) / NB_SEEDS
        errors.append(err)
        if err <= target:
            break
    return _crossing(grid[: len(errors)], np.array(errors), target)


@pytest.mark.slow
def test_naive_bayes_needs_few_samples_logistic_regression_many():
    """Zheng et al. (2023), the Gaussian mixture of ``make_naive_bayes_simulation`` (K = 2):
    over d in {25, ..., 400}, the training size m* at which the mean test error reaches the
    asymptotic (Bayes) error + 0.01 stays <= 15 for shared-variance naive Bayes, and grows
    with d for logistic regression (sklearn, C = 1, as in the paper): least-squares slope of
    log m* on log d >= 0.7, and m* increasing with d. 6 draws per size, 4000 test samples,
    a sqrt(2) geometric grid with the crossing interpolated in log m."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        nb = [_samples_needed(d, lambda: GaussianNaiveBayes("shared")) for d in NB_DIMS]
        lr = [_samples_needed(d, lambda: LogisticRegression(C=1.0, max_iter=1000)) for d in NB_DIMS]
    assert max(nb) <= 15, nb
    assert np.isfinite(lr).all() and (np.diff(lr) > 0).all(), lr
    slope = np.polyfit(np.log(NB_DIMS), np.log(lr), 1)[0]
    assert slope >= 0.7, (slope, lr)


def test_naive_bayes_and_logistic_regression_on_breast_cancer():
    """The two regimes on a real dataset: breast cancer (569 samples, 30 features), random
    stratified training sets of m samples, the rest as test set, 40 splits per m; both models
    standardise inside a pipeline; naive Bayes with the shared variance (the linear model,
    logistic regression's generative twin) against sklearn's LogisticRegression (C = 1).

    With SE the standard error of the mean paired difference over the splits, asserted:
    naive Bayes is better at m = 6 (by more than 1.5 SE), no worse than logistic regression
    (within 2 SE) at m = 10 and 20, and logistic regression is better from m = 30 on (by
    more than 3 SE at 30, by more than 5 SE at 100 and 200). So the claim "naive Bayes better
    below ~30 samples" holds only weakly: its advantage is clear at a handful of samples,
    a tie from ~10 to 20; logistic regression takes over between 20 and 30 (before 100).
    """
    X, y = load_breast_cancer(return_X_y=True)

    def paired_difference(m, n_splits=40):
        diff = []
        for split in range(n_splits):
            X_tr, X_te, y_tr, y_te = train_test_split(
                X, y, train_size=m, stratify=y, random_state=split
            )
            errors = []
            for model in (
                make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000)),
                make_pipeline(StandardScaler(), GaussianNaiveBayes("shared")),
            ):
                errors.append(np.mean(model.fit(X_tr, y_tr).predict(X_te) != y_te))
            diff.append(errors[0] - errors[1])  # > 0: naive Bayes better
        diff = np.array(diff)
        return diff.mean(), diff.std(ddof=1) / np.sqrt(n_splits)

    mean, se = paired_difference(6)
    assert mean > 1.5 * se, (mean, se)
    for m in (10, 20):
        mean, se = paired_difference(m)
        assert mean > -2 * se, (m, mean, se)
    mean, se = paired_difference(30)
    assert mean < -3 * se, (mean, se)
    for m in (100, 200):
        mean, se = paired_difference(m)
        assert mean < -5 * se, (m, mean, se)


# -- 5. the own-curvature limit and the interaction ----------------------------------------
def test_interaction_lifts_the_own_curvature_limit():
    """f(x, y) = (a/2) x^2 + b x y - (c/2) y^2 with a = 2.2, b = 2, c = 0.5 and eta = 1:
    the min player's eta * L = 2.2 > 2. CGD converges (thanks to the interaction) and GDA
    diverges. With a second min coordinate that the interaction does not reach
    (B = [[2], [0]]), CGD diverges along it: eta * L < 2 is necessary exactly there.

    Oracle: both methods are linear maps z -> M z on this game; their matrices are written
    out from the update formulas (GDA: z - eta F(z); CGD: dx = -eta (1 + eta^2 b^2)^-1
    (g_x + eta b g_y), dy = eta (g_y + b dx)), checked against one solver step, and their
    spectral radii decide convergence (< 1) or divergence (> 1).
    """
    a, b, c, eta = 2.2, 2.0, 0.5, 1.0
    game = QuadraticGame([[a]], [[b]], [[c]])
    assert eta * game.curvature_x(np.zeros(1), np.zeros(1)) == pytest.approx(2.2)

    grad_x, grad_y = np.array([a, b]), np.array([b, -c])  # g_x, g_y as rows acting on (x, y)
    M_gda = np.eye(2) + eta * np.vstack([-grad_x, grad_y])
    dx = -eta / (1 + eta**2 * b**2) * (grad_x + eta * b * grad_y)
    M_cgd = np.eye(2) + np.vstack([dx, eta * (grad_y + b * dx)])
    z0 = np.array([1.0, 1.0])
    for solver, M in ((CGD, M_cgd), (GDA, M_gda)):
        one = solver(eta=eta, max_iter=1, tol=0).run(game, z0[:1], z0[1:])
        np.testing.assert_allclose(np.r_[one.x, one.y], M @ z0, rtol=1e-12)
    assert max(abs(np.linalg.eigvals(M_cgd))) < 1 < max(abs(np.linalg.eigvals(M_gda)))

    result = CGD(eta=eta, max_iter=1000, tol=1e-10).run(game, z0[:1], z0[1:])
    assert result.converged
    np.testing.assert_allclose(np.r_[result.x, result.y], 0.0, atol=1e-9)
    with pytest.raises(DivergenceError):
        GDA(eta=eta, max_iter=1000, tol=1e-10).run(game, z0[:1], z0[1:])

    # where the interaction does not reach, the limit is back
    uncoupled = QuadraticGame(a * np.eye(2), [[b], [0.0]], [[c]])
    with pytest.raises(DivergenceError):
        CGD(eta=eta, max_iter=1000, tol=1e-10).run(uncoupled, np.ones(2), np.ones(1))
    # and without it, at eta * L = 1.9 < 2, CGD converges again
    result = CGD(eta=1.9 / a, max_iter=1000, tol=1e-10).run(uncoupled, np.ones(2), np.ones(1))
    assert result.converged
