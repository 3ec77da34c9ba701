"""The adversary registry: one game class per adversary, found by name by the estimator."""

import numpy as np
import pytest

from skcgd.games import (
    ADVERSARIES,
    Chi2LogisticGame,
    CVaRLogisticGame,
    GroupKLLogisticGame,
    KLLogisticGame,
    ParametricLogisticGame,
    PlainLogisticGame,
    ReweightedLogisticGame,
    SecondMomentLogisticGame,
    adversary_names,
    get_adversary,
    make_logistic_game,
    register_adversary,
)
from skcgd.linear_model import MinimaxLogisticRegression


def _data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    y = np.where(X[:, 0] + 0.5 * rng.standard_normal(n) > 0, 1, -1)
    groups = np.arange(n) % 3
    s = rng.uniform(0.5, 2.0, n)
    return X, y, groups, s


def test_the_shipped_adversaries_are_registered():
    names = ("chi2", "cvar", "group", "kl", "none", "parametric", "second_moment")
    assert adversary_names() == names
    assert get_adversary("chi2").game is Chi2LogisticGame
    assert get_adversary("kl").game is KLLogisticGame
    assert (
        get_adversary("group").game is GroupKLLogisticGame and get_adversary("group").needs_groups
    )
    assert get_adversary("none").game is PlainLogisticGame
    assert get_adversary("cvar").game is CVaRLogisticGame and not get_adversary("cvar").game_solvers
    assert get_adversary("second_moment").game is SecondMomentLogisticGame
    parametric = get_adversary("parametric")
    assert parametric.game is ParametricLogisticGame and parametric.needs_features
    # the one adversary without a closed-form best response: no primal, game solvers only
    assert not parametric.has_primal and parametric.game_solvers
    for adversary in ADVERSARIES.values():
        assert issubclass(adversary.game, ReweightedLogisticGame)
        assert adversary.game.adversary == adversary.name
        assert adversary.has_primal == (adversary.name != "parametric")


def test_unknown_adversary_is_named_with_the_registered_ones():
    with pytest.raises(
        ValueError,
        match="Unknown adversary 'huber'.*chi2, cvar, group, kl, none, parametric, second_moment",
    ):
        get_adversary("huber")


@pytest.mark.parametrize("name", ["chi2", "cvar", "second_moment", "kl", "group", "none"])
def test_make_logistic_game_builds_the_registered_class(name):
    X, y, groups, s = _data()
    game = make_logistic_game(name, X, y, rho=0.5, C=2.0, sample_weight=s, groups=groups)
    assert type(game) is get_adversary(name).game
    # the estimator's path (validated once, check_input=False) builds the same game
    trusted = make_logistic_game(
        name, X, y, rho=0.5, C=2.0, sample_weight=s, groups=groups, check_input=False
    )
    w = np.linspace(-1, 1, game.n_x)
    assert trusted.primal(w) == game.primal(w)
    np.testing.assert_array_equal(trusted.primal_grad(w), game.primal_grad(w))


@pytest.mark.parametrize(
    "name, expected",
    [
        ("chi2", lambda s, g: s / s.sum()),
        ("cvar", lambda s, g: s / s.sum()),
        ("second_moment", lambda s, g: np.zeros(len(s))),
        ("kl", lambda s, g: s / s.sum()),
        ("group", lambda s, g: np.bincount(g, weights=s) / s.sum()),
        ("parametric", lambda s, g: s / s.sum()),
        ("none", lambda s, g: None),
    ],
)
def test_rho_zero_is_the_plain_game_with_the_limit_of_the_weights(name, expected):
    X, y, groups, s = _data()
    game = make_logistic_game(name, X, y, rho=0.0, C=1.0, sample_weight=s, groups=groups)
    assert type(game) is PlainLogisticGame and game.n_y == 0
    weights = game.equilibrium_weights(np.zeros(game.n_x))
    if expected(s, groups) is None:
        assert weights is None
    else:
        np.testing.assert_allclose(weights, expected(s, groups), rtol=1e-15)


@pytest.fixture
def registered():
    """Register adversaries for one test; the registry is as it was afterwards."""
    before = dict(ADVERSARIES)
    yield register_adversary
    ADVERSARIES.clear()
    ADVERSARIES.update(before)


def test_a_new_adversary_is_one_class_and_one_registry_entry(registered):
    # The whole of what a new adversary takes: a game class and its registration. Here, the
    # chi-square game at twice the strength; the estimator, its parameter validation and
    # its solvers pick it up by name.
    @registered("test_double_chi2", summary="chi2 at twice rho")
    class DoubleChi2(Chi2LogisticGame):  # the chi-square adversary, rho in other units
        def __init__(self, X, y, *, rho=1.0, **kwargs):
            super().__init__(X, y, rho=2.0 * rho, **kwargs)

    X, y, _, s = _data(n=80)
    new = MinimaxLogisticRegression("test_double_chi2", rho=0.5, tol=1e-10).fit(X, y, s)
    ref = MinimaxLogisticRegression("chi2", rho=1.0, tol=1e-10).fit(X, y, s)
    np.testing.assert_allclose(new.coef_, ref.coef_, rtol=1e-12)
    np.testing.assert_allclose(new.adversary_weights_, ref.adversary_weights_, rtol=1e-12)
    game_solver = MinimaxLogisticRegression("test_double_chi2", rho=0.5, solver="cgd", tol=1e-9)
    np.testing.assert_allclose(game_solver.fit(X, y, s).coef_, ref.coef_, rtol=1e-5)


def test_an_adversary_without_a_primal_refuses_newton_by_name(registered):
    @registered("test_no_primal", has_primal=False)
    class NoPrimal(KLLogisticGame):
        pass

    X, y, _, _ = _data()
    with pytest.raises(ValueError, match="solver='newton' needs the adversary's best response"):
        MinimaxLogisticRegression("test_no_primal", solver="newton").fit(X, y)
    # "auto" (the default) plays it with CGD, which reaches the closed-form game's point
    played = MinimaxLogisticRegression("test_no_primal", tol=1e-8, max_iter=5000).fit(X, y)
    ref = MinimaxLogisticRegression("kl", tol=1e-10).fit(X, y)
    assert played.converged_
    np.testing.assert_allclose(played.coef_, ref.coef_, rtol=1e-5)
    np.testing.assert_allclose(played.adversary_weights_, ref.adversary_weights_, rtol=1e-4)


def test_a_name_cannot_be_registered_twice(registered):
    with pytest.raises(ValueError, match="registered already"):

        @registered("kl")
        class Other(KLLogisticGame):
            pass
