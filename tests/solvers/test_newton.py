"""The Newton solver on the primal of the logistic games, against independent oracles.

The oracles are scikit-learn's LogisticRegression (no adversary) and scipy's L-BFGS on the
closed-form primal written in plain numpy (shared with tests/linear_model).
"""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from skcgd.exceptions import ConvergenceWarning
from skcgd.games import BilinearGame, PlainLogisticGame, make_logistic_game
from skcgd.solvers import GameSolverResult, Newton
from tests.linear_model.test_minimax_logistic import _data, _oracle


def _game(adversary, multiclass, rho=0.7, C=0.5, weighted=True, **kwargs):
    X, y, groups, s = _data(multiclass, seed=2, n=120)
    labels = y if multiclass else np.where(y == 1, 1, -1)
    game = make_logistic_game(
        adversary,
        X,
        labels,
        rho=rho,
        C=C,
        sample_weight=s if weighted else None,
        groups=groups,
        fit_intercept=True,
        multinomial=multiclass,
        **kwargs,
    )
    return game, X, y, groups, (s if weighted else np.ones(len(y)))


@pytest.mark.parametrize("adversary", ["none", "chi2", "second_moment", "kl", "group"])
@pytest.mark.parametrize("multiclass", [False, True])
@pytest.mark.parametrize("linear_solver", ["cholesky", "cg"])
def test_newton_reaches_the_lbfgs_optimum_of_the_closed_form_primal(
    adversary, multiclass, linear_solver
):
    game, X, y, groups, s = _game(adversary, multiclass)
    result = Newton(tol=1e-10, linear_solver=linear_solver).run(game, np.zeros(game.n_x))
    assert isinstance(result, GameSolverResult) and result.converged
    K = game.K
    W_ref, F_ref = _oracle(X, y, K, True, adversary, 0.5, 0.7, s, groups)
    W = result.x.reshape(K, -1).copy()
    if K > 1:
        W[:, -1] -= W[:, -1].mean()  # the softmax loss only sees differences of intercepts
    # tolerance: both solvers stop at gradient norms ~1e-10, the primal is smooth and
    # strongly convex, so the points agree far below 1e-6
    np.testing.assert_allclose(W, W_ref, rtol=1e-6, atol=1e-8)
    assert game.primal(result.x) == pytest.approx(F_ref, rel=1e-10)
    # the adversary's strategy at the solution is its best response there
    np.testing.assert_array_equal(result.y, game.best_response(result.x))


@pytest.mark.parametrize("multiclass", [False, True])
def test_newton_on_the_plain_game_is_scikit_learns_logistic_regression(multiclass):
    X, y, _, s = _data(multiclass, seed=5, n=200)
    labels = y if multiclass else np.where(y == 1, 1, -1)
    game = PlainLogisticGame(X, labels, C=2.0, sample_weight=s, fit_intercept=True,
                             multinomial=multiclass)  # fmt: skip
    result = Newton(tol=1e-10).run(game, np.zeros(game.n_x))
    ref = LogisticRegression(C=2.0, tol=1e-12, max_iter=10_000).fit(X, y, sample_weight=s)
    W = result.x.reshape(game.K, -1)
    coef, intercept = W[:, :-1], W[:, -1]
    if multiclass:
        intercept = intercept - intercept.mean()
    np.testing.assert_allclose(coef, ref.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(intercept, ref.intercept_, rtol=1e-6, atol=1e-8)
    assert result.y.shape == (0,)  # no adversary


def test_newton_follows_the_init_update_run_protocol():
    game, *_ = _game("kl", False)
    solver = Newton(tol=1e-10)
    state = solver.init(game, np.zeros(game.n_x))
    assert state.n_iter == 0
    assert state.error == pytest.approx(np.linalg.norm(game.primal_grad(np.zeros(game.n_x))))
    errors = [state.error]
    while state.error > 1e-10:
        state = solver.update(game, state)
        errors.append(state.error)
    result = solver.run(game, np.zeros(game.n_x))
    assert result.n_iter == state.n_iter
    np.testing.assert_array_equal(result.x, state.x)
    np.testing.assert_allclose(result.history["grad_norm"], errors)
    assert len(result.history["cg_iter"]) == result.n_iter
    # Newton converges quadratically: the last steps square the error (up to a constant)
    assert errors[-1] < 1e-3 * errors[-2] or errors[-1] < 1e-13


def test_newton_refuses_a_game_without_a_primal():
    with pytest.raises(TypeError, match="not compatible with solver Newton.*primal_evaluate"):
        Newton().run(BilinearGame(np.eye(2)), np.zeros(2))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"linear_solver": "lu"}, "linear_solver must be one of"),
        ({"cg_max_iter": 0}, "cg_max_iter must be an integer >= 1"),
        ({"tol": float("nan")}, "tol must be a non-negative finite number"),
        ({"max_iter": -1}, "max_iter must be an integer"),
    ],
)
def test_newton_parameters_are_checked(kwargs, match):
    game, *_ = _game("none", False)
    with pytest.raises(ValueError, match=match):
        Newton(**kwargs).run(game, np.zeros(game.n_x))


def test_newton_stops_when_no_step_is_possible():
    # at the optimum, to rounding, no step decreases P and none shrinks the gradient: the run
    # stops early instead of spending max_iter line searches, and says why
    game, *_ = _game("second_moment", False)
    x = Newton(tol=1e-14).run(game, np.zeros(game.n_x)).x
    with pytest.warns(ConvergenceWarning, match="Newton did not reach tol"):
        result = Newton(tol=1e-300, max_iter=500).run(game, x)
    assert not result.converged and result.n_iter < 50


def test_newton_warns_only_when_asked():
    game, *_ = _game("kl", True)
    with pytest.warns(ConvergenceWarning, match="ran out of max_iter=1 steps"):
        Newton(max_iter=1, tol=1e-12).run(game, np.zeros(game.n_x))
    import warnings

    with warnings.catch_warnings(record=True) as caught:  # the test's thread only
        warnings.simplefilter("always")
        result = Newton(max_iter=1, tol=1e-12).run(game, np.zeros(game.n_x), warn=False)
    assert not result.converged and not caught
