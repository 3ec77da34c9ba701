"""Game solvers on games with known answers (the published experiments, re-derived exactly)."""

import warnings

import numpy as np
import pytest

from skcgd.exceptions import ConvergenceWarning, DivergenceError
from skcgd.games import BilinearGame, GeneralSumQuadraticGame, QuadraticGame
from skcgd.solvers import (
    ACGD,
    CGD,
    GDA,
    CompetitiveMirrorDescent,
    ExtraGradient,
    GeneralSumCGD,
    OptimisticGDA,
)


def _norm(x, y):
    return float(np.linalg.norm(np.concatenate([x, y])))


def test_bilinear_orthogonal_contraction_is_exact():
    # CGD on x^T A y with orthogonal A is the proximal point map: each step multiplies
    # ||z|| by (1 + eta^2)^(-1/2) = 2^(-1/2) at eta = 1; GDA multiplies it by 2^(1/2).
    rng = np.random.default_rng(0)
    A, _ = np.linalg.qr(rng.standard_normal((100, 100)))
    x0, y0 = rng.standard_normal(100), rng.standard_normal(100)
    game = BilinearGame(A)
    res = CGD(eta=1.0, max_iter=20, tol=0, linear_solver="cg", cg_tol=1e-14).run(game, x0, y0)
    ratio = _norm(res.x, res.y) / _norm(x0, y0)
    assert res.n_iter == 20
    assert abs(ratio - 2.0**-10) / 2.0**-10 < 1e-8
    gda = GDA(eta=1.0, max_iter=20, tol=0).run(game, x0, y0)
    growth = [np.sqrt(g / gda.history["grad_norm"][0]) for g in gda.history["grad_norm"]]
    np.testing.assert_allclose(
        gda.history["grad_norm"] / gda.history["grad_norm"][0],
        2.0 ** (np.arange(21) / 2),
        rtol=1e-10,
    )
    assert growth[-1] > 30


@pytest.mark.parametrize("a, expected", [(1, 0.2652), (3, 3.243e-4), (6, 1.461e-10)])
def test_scalar_bilinear_cgd_rates(a, expected):
    game = BilinearGame([[float(a)]])
    res = CGD(eta=0.2, max_iter=50, tol=0).run(game, [0.5], [0.5])
    dist = np.hypot(res.x[0], res.y[0])
    closed_form = np.sqrt(0.5) * (1 + 0.04 * a**2) ** -25
    assert abs(dist - closed_form) <= 1e-12 * closed_form
    assert abs(dist - expected) <= 1e-3 * expected
    # GDA moves away from the equilibrium for every a (growth factor (1 + 0.04 a^2)^(1/2))
    try:
        gda = GDA(eta=0.2, max_iter=50, tol=0).run(game, [0.5], [0.5])
        assert np.hypot(gda.x[0], gda.y[0]) > 1.8
    except DivergenceError:
        pass


def _no_interaction(a):
    # f = a (x^2 - y^2): own curvature 2a for each player, no interaction
    return QuadraticGame([[2.0 * a]], [[0.0]], [[2.0 * a]])


def test_cgd_equals_gda_without_interaction():
    game = _no_interaction(1.0)
    cgd = CGD(eta=0.2, max_iter=100, tol=0).run(game, [0.5], [0.5])
    gda = GDA(eta=0.2, max_iter=100, tol=0).run(game, [0.5], [0.5])
    # equal up to the rounding of sqrt(eta)^2 in the symmetric CGD system
    np.testing.assert_allclose(cgd.x, gda.x, rtol=1e-12)
    np.testing.assert_allclose(cgd.y, gda.y, rtol=1e-12)
    assert abs(np.hypot(cgd.x[0], cgd.y[0]) - 4.62e-23) < 0.01 * 4.62e-23


@pytest.mark.parametrize("solver", [CGD, GDA])
def test_own_curvature_limit_is_not_damped(solver):
    # eta * 2a = 2.4 > 2: both must diverge, and say why
    with pytest.raises(DivergenceError, match=r"eta_x=0.2.*\|\|D2xx f\|\| <= 12.*1/Lx"):
        solver(eta=0.2, max_iter=100, tol=0).run(_no_interaction(6.0), [0.5], [0.5])


def _random_bilinear():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((100, 100)) / 10
    x0 = rng.standard_normal(100)
    y0 = rng.standard_normal(100)
    return BilinearGame(A), x0, y0


@pytest.mark.parametrize("linear_solver", ["cg", "cholesky", "auto"])
def test_bilinear_large_step(linear_solver):
    game, x0, y0 = _random_bilinear()
    res = CGD(
        eta=100.0, max_iter=1000, tol=1e-6, linear_solver=linear_solver, cg_max_iter=2000
    ).run(game, x0, y0)
    assert res.converged
    assert 128 <= res.n_iter <= 135
    assert res.history["grad_norm"][-1] < 1e-6
    if linear_solver == "cg":
        # about 125 CG iterations per step: the interaction is large and CG is not capped
        assert 100 <= res.history["cg_iter"].mean() <= 150
    if linear_solver == "cholesky":
        assert (res.history["cg_iter"] == 0).all()


def test_cg_cap_gives_inexact_steps_and_warns():
    game, x0, y0 = _random_bilinear()
    with pytest.warns(ConvergenceWarning, match="conjugate-gradient solve did not reach"):
        CGD(eta=100.0, max_iter=5, tol=0, linear_solver="cg", cg_max_iter=10).run(game, x0, y0)


def _rps():
    return BilinearGame([[0, -1, 1], [1, 0, -1], [-1, 1, 0]], simplex=True)


def test_mirror_cgd_rock_paper_scissors():
    game = _rps()
    gaps = []

    def record(state):
        gaps.append(game.duality_gap(state.x, state.y))

    CompetitiveMirrorDescent(eta=1.0, max_iter=200, tol=0).run(
        game, [0.5, 0.3, 0.2], [0.2, 0.5, 0.3], callback=record
    )
    first = int(np.argmax(np.array(gaps) < 1e-8)) + 1
    assert gaps[first - 1] < 1e-8
    assert 120 <= first <= 130
    # simultaneous multiplicative weights with the same step spirals to the boundary
    mwu_gaps = []
    GDA(eta=1.0, max_iter=200, tol=0).run(
        game,
        [0.5, 0.3, 0.2],
        [0.2, 0.5, 0.3],
        callback=lambda s: mwu_gaps.append(game.duality_gap(s.x, s.y)),
    )
    assert min(mwu_gaps[-50:]) > 1.0


def _quadratic(seed=3, m=6, n=4):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((m, m))
    P = M @ M.T / m + 0.5 * np.eye(m)
    M = rng.standard_normal((n, n))
    Q = M @ M.T / n + 0.5 * np.eye(n)
    B = rng.standard_normal((m, n))
    return QuadraticGame(P, B, Q, rng.standard_normal(m), rng.standard_normal(n))


@pytest.mark.parametrize(
    "solver",
    [
        CGD(eta="auto", tol=1e-11, max_iter=5000),
        CGD(eta=(0.5, 0.5), tol=1e-11, max_iter=5000, linear_solver="cg", cg_tol=1e-12),
        CGD(eta=0.5, tol=1e-11, max_iter=5000, linear_solver="cholesky", solve_for="y"),
        ACGD(eta=0.1, tol=1e-11, max_iter=5000),
        ExtraGradient(eta=0.1, tol=1e-11, max_iter=20000),
        OptimisticGDA(eta=0.05, tol=1e-11, max_iter=20000),
        GDA(eta=0.05, tol=1e-11, max_iter=20000),
        GeneralSumCGD(eta=0.5, tol=1e-11, max_iter=5000),
        GeneralSumCGD(eta=0.5, tol=1e-11, max_iter=5000, linear_solver="gmres", gmres_tol=1e-12),
    ],
    ids=lambda s: repr(s)[:40],
)
def test_every_solver_reaches_the_quadratic_saddle(solver):
    game = _quadratic()
    xs, ys = game.saddle_point()
    res = solver.run(game, np.zeros(game.n_x), np.zeros(game.n_y))
    assert res.converged
    np.testing.assert_allclose(res.x, xs, atol=1e-8)
    np.testing.assert_allclose(res.y, ys, atol=1e-8)


def test_mirror_cgd_on_real_players_is_cgd():
    game = _quadratic()
    a = CGD(eta=0.3, max_iter=30, tol=0, linear_solver="cholesky").run(
        game, np.zeros(6), np.zeros(4)
    )
    b = CompetitiveMirrorDescent(eta=0.3, max_iter=30, tol=0, linear_solver="cholesky").run(
        game, np.zeros(6), np.zeros(4)
    )
    np.testing.assert_allclose(a.x, b.x, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(a.y, b.y, rtol=1e-12, atol=1e-14)


def test_general_sum_cgd_equals_cgd_on_zero_sum_games():
    game = _quadratic()
    a = CGD(eta=(0.4, 0.7), max_iter=15, tol=0, linear_solver="cholesky").run(
        game, np.ones(6), np.ones(4)
    )
    b = GeneralSumCGD(eta=(0.4, 0.7), max_iter=15, tol=0).run(game, np.ones(6), np.ones(4))
    np.testing.assert_allclose(a.x, b.x, rtol=1e-10)
    np.testing.assert_allclose(a.y, b.y, rtol=1e-10)


def test_general_sum_cgd_per_coordinate_steps():
    # Vector step sizes scale the block rows: both linear solvers and zero-sum CGD take the
    # same steps (m != n, so a column scaling would not even broadcast).
    game = _quadratic()
    eta_x = np.linspace(0.2, 0.6, game.n_x)
    eta_y = np.linspace(0.3, 0.5, game.n_y)
    runs = [
        GeneralSumCGD(
            eta=(eta_x, eta_y), max_iter=12, tol=0, linear_solver=solver, gmres_tol=1e-13
        ).run(game, np.ones(6), np.ones(4))
        for solver in ("direct", "gmres")
    ]
    ref = CGD(eta=(eta_x, eta_y), max_iter=12, tol=0, linear_solver="cholesky").run(
        game, np.ones(6), np.ones(4)
    )
    for res in runs:
        np.testing.assert_allclose(res.x, ref.x, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(res.y, ref.y, rtol=1e-9, atol=1e-12)


def test_general_sum_gmres_cap_warns():
    game = _quadratic()
    with pytest.warns(ConvergenceWarning, match="GMRES did not reach"):
        GeneralSumCGD(
            eta=0.5, max_iter=3, tol=0, linear_solver="gmres", gmres_tol=1e-14, gmres_max_iter=1
        ).run(game, np.ones(6), np.ones(4))


def test_general_sum_cgd_reaches_nash():
    rng = np.random.default_rng(7)
    m, n = 5, 3
    M = rng.standard_normal((m, m))
    P = M @ M.T / m + np.eye(m)
    M = rng.standard_normal((n, n))
    Q = M @ M.T / n + np.eye(n)
    B = rng.standard_normal((m, n))
    C = -B.T + 0.3 * rng.standard_normal((n, m))  # not zero-sum
    game = GeneralSumQuadraticGame(P, B, Q, C, rng.standard_normal(m), rng.standard_normal(n))
    xs, ys = game.nash_equilibrium()
    for linear_solver in ("direct", "gmres"):
        res = GeneralSumCGD(
            eta=0.3, tol=1e-11, max_iter=5000, linear_solver=linear_solver, gmres_tol=1e-12
        ).run(game, np.zeros(m), np.zeros(n))
        assert res.converged
        np.testing.assert_allclose(res.x, xs, atol=1e-9)
        np.testing.assert_allclose(res.y, ys, atol=1e-9)
    with pytest.raises(TypeError, match="plays zero-sum games.*GeneralSumCGD"):
        CGD().run(game, np.zeros(m), np.zeros(n))


def test_cgd_history_state_and_callback():
    game = _quadratic()
    seen = []
    res = CGD(eta=0.5, max_iter=3, tol=0).run(
        game, np.zeros(6), np.zeros(4), callback=lambda s: seen.append(s.n_iter)
    )
    assert seen == [1, 2, 3]
    assert res.n_iter == 3 and not res.converged
    assert res.history["grad_norm"].shape == (4,)
    assert res.history["cg_iter"].shape == (3,)
    np.testing.assert_allclose(
        res.history["grad_norm"] ** 2,
        res.history["grad_norm_x"] ** 2 + res.history["grad_norm_y"] ** 2,
    )
    # the state is immutable and update continues from it
    solver = CGD(eta=0.5, max_iter=3, tol=0)
    state = solver.init(game, np.zeros(6), np.zeros(4))
    for _ in range(3):
        state = solver.update(game, state)
    np.testing.assert_allclose(state.x, res.x)
    with pytest.raises(AttributeError):
        state.n_iter = 0
    # a callback returning True stops the run
    stopped = CGD(eta=0.5, max_iter=50, tol=0).run(
        game, np.zeros(6), np.zeros(4), callback=lambda s: s.n_iter == 2
    )
    assert stopped.n_iter == 2


def test_running_out_of_iterations_warns_but_tol0_does_not():
    game = _quadratic()
    with pytest.warns(ConvergenceWarning, match="did not reach tol"):
        CGD(eta=0.01, max_iter=3, tol=1e-6).run(game, np.zeros(6), np.zeros(4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CGD(eta=0.01, max_iter=3, tol=0).run(game, np.zeros(6), np.zeros(4))


def test_bad_parameters_and_games():
    game = _quadratic()
    with pytest.raises(ValueError, match="Step sizes must be positive"):
        CGD(eta=-1.0).run(game, np.zeros(6), np.zeros(4))
    with pytest.raises(ValueError, match="eta must be"):
        CGD(eta="big").run(game, np.zeros(6), np.zeros(4))
    with pytest.raises(ValueError, match="x0 must be a vector of length 6"):
        CGD().run(game, np.zeros(5), np.zeros(4))
    with pytest.raises(ValueError, match="y0 contains NaN"):
        CGD().run(game, np.zeros(6), np.full(4, np.nan))
    with pytest.raises(ValueError, match="linear_solver"):
        CGD(linear_solver="lu").run(game, np.zeros(6), np.zeros(4))
    with pytest.raises(TypeError, match="Missing: mixed"):
        CGD().run(
            object.__new__(
                type(
                    "NoGame",
                    (),
                    {
                        "n_x": 1,
                        "n_y": 1,
                        "value": 0,
                        "grads": 0,
                        "curvature_x": 0,
                        "curvature_y": 0,
                    },
                )
            ),
            [0.0],
            [0.0],
        )
    with pytest.raises(ValueError, match="non-negative and not all zero"):
        CompetitiveMirrorDescent().run(_rps(), [-1.0, 1.0, 1.0], [0.2, 0.5, 0.3])


def test_auto_step_sizes_use_own_curvature():
    game = _quadratic()
    eta_x, eta_y = CGD(eta="auto")._step_sizes(game, np.zeros(6), np.zeros(4))
    assert eta_x == pytest.approx(1 / np.linalg.norm(game.P, 2))
    assert eta_y == pytest.approx(1 / np.linalg.norm(game.Q, 2))
    # no own curvature: 1 / sigma_max(B)
    game, _, _ = _random_bilinear()
    eta_x, eta_y = CGD(eta="auto")._step_sizes(game, np.zeros(100), np.zeros(100))
    assert eta_x == pytest.approx(1 / np.linalg.norm(game.A, 2), rel=1e-3)
