"""Bilinear, quadratic and general-sum quadratic games: derivatives against finite differences."""

import numpy as np
import pytest

from skcgd.games import BilinearGame, DenseMixedOperator, GeneralSumQuadraticGame, QuadraticGame
from skcgd.games._base import MixedOperator


def _fd_grad(fun, z, h=1e-6):
    g = np.zeros_like(z)
    for i in range(z.size):
        e = np.zeros_like(z)
        e[i] = h
        g[i] = (fun(z + e) - fun(z - e)) / (2 * h)
    return g


def _games(rng):
    m, n = 4, 3
    M = rng.standard_normal((m, m))
    P = M @ M.T + np.eye(m)
    M = rng.standard_normal((n, n))
    Q = M @ M.T + np.eye(n)
    B = rng.standard_normal((m, n))
    a, b = rng.standard_normal(m), rng.standard_normal(n)
    return [BilinearGame(B, a, b), QuadraticGame(P, B, Q, a, b)]


@pytest.mark.parametrize("index", [0, 1])
def test_zero_sum_derivatives(index):
    rng = np.random.default_rng(0)
    game = _games(rng)[index]
    x, y = rng.standard_normal(game.n_x), rng.standard_normal(game.n_y)
    gx, gy = game.grads(x, y)
    np.testing.assert_allclose(gx, _fd_grad(lambda v: game.value(v, y), x), rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(gy, _fd_grad(lambda v: game.value(x, v), y), rtol=1e-7, atol=1e-8)
    # B v is the derivative of grad_x f in y along v
    v = rng.standard_normal(game.n_y)
    h = 1e-6
    fd = (game.grads(x, y + h * v)[0] - game.grads(x, y - h * v)[0]) / (2 * h)
    op = game.mixed(x, y)
    np.testing.assert_allclose(op.matvec(v), fd, rtol=1e-7, atol=1e-8)
    u = rng.standard_normal(game.n_x)
    assert u @ op.matvec(v) == pytest.approx(op.rmatvec(u) @ v, rel=1e-12)
    assert game.mixed_matvec(x, y, v) == pytest.approx(op.matvec(v))
    assert game.mixed_rmatvec(x, y, u) == pytest.approx(op.rmatvec(u))


def test_dense_operator_solves_match_generic_ones():
    rng = np.random.default_rng(1)
    B = rng.standard_normal((6, 9))
    dense = DenseMixedOperator(B)

    class Generic(MixedOperator):
        shape = B.shape

        def matvec(self, v):
            return B @ v

        def rmatvec(self, u):
            return B.T @ u

    generic = Generic()
    hx, hy = rng.random(6) + 0.1, rng.random(9) + 0.1
    for side, size in (("x", 6), ("y", 9)):
        M = dense.system_matrix(side, hx, hy)
        np.testing.assert_allclose(M, generic.system_matrix(side, hx, hy), rtol=1e-12)
        if side == "x":
            expected = np.eye(6) + np.diag(np.sqrt(hx)) @ B @ np.diag(hy) @ B.T @ np.diag(
                np.sqrt(hx)
            )
        else:
            expected = np.eye(9) + np.diag(np.sqrt(hy)) @ B.T @ np.diag(hx) @ B @ np.diag(
                np.sqrt(hy)
            )
        np.testing.assert_allclose(M, expected, rtol=1e-12)
        rhs = rng.standard_normal(size)
        exact = np.linalg.solve(expected, rhs)
        for op in (dense, generic):
            z, _, ok = op.solve(side, hx, hy, rhs, np.zeros(size), 1e-13, 0.0, 1000)
            assert ok
            np.testing.assert_allclose(z, exact, rtol=1e-10)
            np.testing.assert_allclose(op.solve_direct(side, hx, hy, rhs), exact, rtol=1e-10)


def test_saddle_and_nash_points_are_stationary():
    rng = np.random.default_rng(2)
    game = _games(rng)[1]
    xs, ys = game.saddle_point()
    for g in game.grads(xs, ys):
        np.testing.assert_allclose(g, 0, atol=1e-12)
    assert game.curvature_x(xs, ys) == pytest.approx(np.linalg.norm(game.P, 2))
    C = rng.standard_normal((3, 4))
    gs = GeneralSumQuadraticGame(game.P, game.B, game.Q, C, game.a, game.b)
    x, y = gs.nash_equilibrium()
    for g in gs.grads(x, y):
        np.testing.assert_allclose(g, 0, atol=1e-12)
    f, g = gs.value(x + 1.0, y)
    assert np.isfinite(f) and np.isfinite(g)
    # g's gradient in y by finite differences
    xr, yr = rng.standard_normal(4), rng.standard_normal(3)
    np.testing.assert_allclose(
        gs.grads(xr, yr)[1], _fd_grad(lambda v: gs.value(xr, v)[1], yr), rtol=1e-7, atol=1e-8
    )


def test_duality_gap_of_matrix_game():
    rps = BilinearGame([[0, -1, 1], [1, 0, -1], [-1, 1, 0]], simplex=True)
    assert rps.domain_x == rps.domain_y == "simplex"
    assert rps.duality_gap(np.ones(3), np.ones(3)) == pytest.approx(0.0, abs=1e-15)
    assert rps.duality_gap([1.0, 0, 0], [1.0, 0, 0]) == pytest.approx(2.0)


def test_invalid_games_raise():
    with pytest.raises(ValueError, match="A contains NaN"):
        BilinearGame([[np.nan]])
    with pytest.raises(ValueError, match="b must have length 2"):
        BilinearGame(np.eye(2), b=np.ones(3))
    with pytest.raises(ValueError, match="P must be a symmetric"):
        QuadraticGame([[1.0, 2.0], [0.0, 1.0]], np.eye(2), np.eye(2))
    with pytest.raises(ValueError, match="Q must be positive semi-definite"):
        QuadraticGame(np.eye(2), np.eye(2), -np.eye(2))
    with pytest.raises(ValueError, match="C must have shape"):
        GeneralSumQuadraticGame(np.eye(2), np.eye(2), np.eye(2), np.eye(3))
