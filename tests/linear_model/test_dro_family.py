"""The DRO family: chi-square and CVaR adversaries against an independent convex solver, the
stopping rule on separable data, class weights and the rest of LogisticRegression's contract.

The oracle for chi2 and cvar is their primal written as a convex program in cvxpy and solved
by Clarabel (tests/linear_model/dro_oracle.py); for plain logistic regression it is
scikit-learn's LogisticRegression; on separable data scipy's L-BFGS-B at a tight tolerance,
started from zero.
"""

import re
import warnings

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp
from sklearn.datasets import make_blobs, make_classification
from sklearn.linear_model import LogisticRegression

from skcgd.exceptions import ConvergenceWarning, DivergenceError
from skcgd.games import QuadraticGame, make_logistic_game
from skcgd.linear_model import MinimaxLogisticRegression
from skcgd.solvers import ACGD
from tests.linear_model.dro_oracle import dro_oracle

pytest.importorskip("cvxpy", reason="cvxpy (the test extra) is the oracle of these tests")


def _data(multiclass, seed=1, n=120):
    X, y = make_classification(
        n_samples=n,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        n_classes=3 if multiclass else 2,
        flip_y=0.05,
        class_sep=1.2,
        random_state=seed,
    )
    s = np.random.default_rng(seed).uniform(0.2, 2.0, n)
    return X, y, s


def _coef(clf):
    W = clf.coef_
    if clf.fit_intercept:
        W = np.hstack([W, clf.intercept_[:, None]])
    return W


def _exact_primal(adversary, clf, X, y, s, C, rho):
    """The primal of ``clf``'s coefficients, exact (the CVaR game without its smoothing)."""
    K = len(clf.classes_)
    labels = y if K > 2 else np.where(y == 1, 1, -1)
    game = make_logistic_game(
        adversary, X, labels, rho=rho, C=C, sample_weight=s, fit_intercept=clf.fit_intercept,
        multinomial=K > 2,
    )  # fmt: skip
    return game.primal(_coef(clf).ravel())


CASES = [
    (adversary, rho, multiclass, fit_intercept, weighted)
    for adversary, rho in (("chi2", 0.3), ("chi2", 3.0), ("cvar", 0.5), ("cvar", 3.0))
    for multiclass in (False, True)
    for fit_intercept in (True, False)
    for weighted in (True, False)
]


@pytest.mark.parametrize("adversary, rho, multiclass, fit_intercept, weighted", CASES)
def test_chi2_and_cvar_match_a_conic_solver(adversary, rho, multiclass, fit_intercept, weighted):
    X, y, s = _data(multiclass)
    if not weighted:
        s = np.ones_like(s)
    C = 0.5
    clf = MinimaxLogisticRegression(
        adversary, rho=rho, C=C, tol=1e-10, fit_intercept=fit_intercept
    ).fit(X, y, sample_weight=s)
    assert clf.converged_
    K = 1 if not multiclass else 3
    W_ref, F_ref = dro_oracle(X, y, K, fit_intercept, adversary, C, rho, s)
    F = _exact_primal(adversary, clf, X, y, s, C, rho)
    # tolerances: the objective within 1e-7 relative (Clarabel's own accuracy is ~1e-9 here),
    # the coefficients within 1e-5 of the largest (absolute when the solution is 0: the
    # CVaR of noisy binary data can be minimised by the constant classifier)
    assert abs(F - F_ref) <= 1e-7 * abs(F_ref), (F, F_ref)
    W = _coef(clf)
    np.testing.assert_allclose(W, W_ref, rtol=0, atol=1e-5 * max(np.abs(W_ref).max(), 1.0))


@pytest.mark.parametrize("multiclass", [False, True])
def test_chi2_at_small_rho_and_cvar_at_zero_are_logistic_regression(multiclass):
    X, y, s = _data(multiclass, seed=2)
    ref = LogisticRegression(C=0.5, tol=1e-12, max_iter=10_000).fit(X, y, sample_weight=s)
    for adversary, rho in (("chi2", 1e-9), ("cvar", 0.0), ("cvar", 1e-9)):
        clf = MinimaxLogisticRegression(adversary, rho=rho, C=0.5, tol=1e-10).fit(X, y, s)
        np.testing.assert_allclose(clf.coef_, ref.coef_, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(
            clf.intercept_, ref.intercept_ - (ref.intercept_.mean() if multiclass else 0),
            rtol=1e-6, atol=1e-7,
        )  # fmt: skip


@pytest.mark.parametrize("rho", [0.5, 3.0, 50.0])
def test_the_adversaries_weights_are_distributions(rho):
    X, y, s = _data(False, seed=3)
    p = s / s.sum()
    chi2 = MinimaxLogisticRegression("chi2", rho=rho, tol=1e-10).fit(X, y, s).adversary_weights_
    assert (chi2 >= 0).all() and abs(chi2.sum() - 1) < 1e-12
    cvar = MinimaxLogisticRegression("cvar", rho=rho, tol=1e-10).fit(X, y, s).adversary_weights_
    assert (cvar >= 0).all() and abs(cvar.sum() - 1) < 1e-12
    assert (cvar <= (1 + rho) * p * (1 + 1e-12)).all()  # the cap


def test_cvar_is_the_mean_loss_of_the_worst_fraction():
    # unit weights and rho = n / k - 1: the adversary weighs the k largest losses 1 / k each
    X, y, _ = _data(False, seed=4, n=100)
    k = 20
    clf = MinimaxLogisticRegression("cvar", rho=100 / k - 1, tol=1e-10).fit(X, y)
    z = X @ clf.coef_[0] + clf.intercept_[0]
    loss = np.logaddexp(0, -np.where(y == 1, 1, -1) * z)
    F = _exact_primal("cvar", clf, X, y, np.ones(100), 1.0, 100 / k - 1)
    expected = 100 * np.sort(loss)[-k:].mean() + 0.5 * clf.coef_[0] @ clf.coef_[0]
    assert F == pytest.approx(expected, rel=1e-12)


def test_game_solvers_play_chi2_and_refuse_cvar_by_name():
    X, y, s = _data(False, seed=5)
    X = (X - X.mean(0)) / X.std(0)
    ref = MinimaxLogisticRegression("chi2", rho=0.5, C=0.05, tol=1e-10).fit(X, y, s)
    for solver in ("cgd", "acgd", "gda", "extragradient", "ogda"):
        clf = MinimaxLogisticRegression(
            "chi2", rho=0.5, C=0.05, solver=solver, tol=1e-10, max_iter=50_000
        ).fit(X, y, s)
        assert clf.converged_, solver
        np.testing.assert_allclose(clf.coef_, ref.coef_, rtol=1e-5, atol=1e-7)
        with pytest.raises(ValueError, match=f"solver='{solver}' cannot play adversary='cvar'"):
            MinimaxLogisticRegression("cvar", solver=solver).fit(X, y, s)


# -- the stopping rule -----------------------------------------------------------------------
def _separable():
    X, y = make_blobs(100, centers=[[-2, -2], [2, 2]], cluster_std=0.8, random_state=0)
    assert ((X.sum(1) > 0) == (y == 1)).all()
    return X, y


def _lbfgs_primal(X, y, C):
    sign = np.where(y == 1, 1.0, -1.0)

    def primal(w):
        z = X @ w[:2] + w[2]
        f = C * np.logaddexp(0, -sign * z).sum() + 0.5 * w[:2] @ w[:2]
        g = -sign / (1 + np.exp(sign * z))
        return f, np.r_[C * (g @ X) + w[:2], C * g.sum()]

    res = scipy.optimize.minimize(
        primal, np.zeros(3), jac=True, method="L-BFGS-B",
        options={"gtol": 1e-14, "ftol": 1e-16, "maxiter": 200_000, "maxcor": 30},
    )  # fmt: skip
    return res.fun, primal


@pytest.mark.parametrize("C", [1.0, 1e3, 1e6, 1e9, 1e12])
def test_converged_certifies_the_objective_on_separable_data(C):
    # with a stopping rule relative to the gradient at zero, C = 1e6 stopped at 128.2 with
    # converged_=True where the optimum is 68.46 (1e12: 8.1e7 against 257.4)
    X, y = _separable()
    clf = MinimaxLogisticRegression("none", C=C).fit(X, y)
    assert clf.converged_
    F_ref, primal = _lbfgs_primal(X, y, C)
    F = primal(np.r_[clf.coef_[0], clf.intercept_])[0]
    assert F <= F_ref * (1 + 1e-6), (F, F_ref)


def test_rho_beyond_what_an_adversary_handles_is_refused_by_name():
    X, y, _ = _data(False)
    for adversary, rho in (("kl", 1e12), ("group", 1e12), ("chi2", 1e9), ("second_moment", 1e154)):
        with pytest.raises(ValueError, match=re.escape(f"rho={rho:g} is above the largest")):
            MinimaxLogisticRegression(adversary, rho=rho).fit(X, y, groups=y)
    # at the bound Newton still certifies its solution
    assert MinimaxLogisticRegression("kl", rho=1e8).fit(X, y).converged_


@pytest.mark.parametrize("rho", [1.0, 1e3, 1e6, 1e8])
def test_competitive_mirror_descent_plays_the_kl_game_at_any_rho(rho):
    # the first automatic step made the adversary's weights overflow from rho ~ 1e3 on
    X, y, _ = _data(False, seed=6, n=300)
    ref = MinimaxLogisticRegression("kl", rho=rho, tol=1e-10).fit(X, y)
    clf = MinimaxLogisticRegression("kl", rho=rho, solver="cgd", tol=1e-10).fit(X, y)
    assert clf.converged_
    np.testing.assert_allclose(clf.coef_, ref.coef_, rtol=1e-5, atol=1e-6)


# -- ACGD's automatic step -------------------------------------------------------------------
@pytest.mark.parametrize("scale", [1e-3, 1e-1, 1.0, 1e1, 1e3])
def test_acgd_auto_step_does_not_depend_on_the_games_scale(scale):
    # the first automatic step was 1 / L divided again by the gradient's RMS: scaling the
    # game by 1e3 took ACGD from 44 steps to 509 (and unscaled data out of reach)
    rng = np.random.default_rng(0)
    P, Q = np.diag([1.0, 2.0, 3.0]), np.diag([1.0, 1.5, 2.0])
    B = 0.5 * rng.standard_normal((3, 3))
    a = np.array([1.0, -1.0, 0.5])
    reference = ACGD(eta="auto", tol=1e-8).run(
        QuadraticGame(P, B, Q, a=a), np.zeros(3), np.zeros(3)
    )
    game = QuadraticGame(scale * P, scale * B, scale * Q, a=scale * a)
    result = ACGD(eta="auto", tol=1e-8 * scale).run(game, np.zeros(3), np.zeros(3))
    assert result.n_iter == reference.n_iter
    np.testing.assert_allclose(result.x, game.saddle_point()[0], atol=1e-7)


def test_acgd_reaches_newtons_point_on_ordinary_data():
    # ACGD's steps grow with C (the classifier's conditioning): 150 rows keep C=10 at ~5 s
    X, y = make_classification(150, 5, random_state=0)
    for C in (1.0, 10.0):
        ref = MinimaxLogisticRegression("kl", C=C, tol=1e-10).fit(X, y)
        clf = MinimaxLogisticRegression("kl", C=C, solver="acgd", tol=1e-8, max_iter=100_000)
        assert clf.fit(X, y).converged_
        np.testing.assert_allclose(clf.coef_, ref.coef_, rtol=1e-3)


# -- the rest of LogisticRegression's contract --------------------------------------------------
@pytest.mark.parametrize("multiclass", [False, True])
def test_class_weight_multiplies_the_sample_weights(multiclass):
    X, y, s = _data(multiclass, seed=7)
    weights = {0: 2.0, 1: 0.5} if not multiclass else {0: 2.0, 1: 0.5, 2: 1.5}
    for adversary in ("chi2", "cvar", "kl", "group", "second_moment"):
        clf = MinimaxLogisticRegression(adversary, class_weight=weights, tol=1e-10)
        clf.fit(X, y, sample_weight=s, groups=y % 2)
        ref = MinimaxLogisticRegression(adversary, tol=1e-10).fit(
            X, y, sample_weight=s * np.vectorize(weights.get)(y), groups=y % 2
        )
        np.testing.assert_allclose(clf.coef_, ref.coef_, rtol=1e-9, atol=1e-12)
    # "balanced" as scikit-learn's LogisticRegression defines it
    ours = MinimaxLogisticRegression("none", class_weight="balanced", tol=1e-10).fit(X[:90], y[:90])
    theirs = LogisticRegression(class_weight="balanced", tol=1e-12, max_iter=10_000)
    theirs.fit(X[:90], y[:90])
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-6, atol=1e-8)


def test_n_iter_max_iter_zero_and_no_penalty():
    X, y, _ = _data(False, seed=8)
    clf = MinimaxLogisticRegression("none").fit(X, y)
    assert clf.n_iter_.shape == (1,) and clf.n_iter_[0] > 0
    with pytest.warns(ConvergenceWarning):
        start = MinimaxLogisticRegression("none", max_iter=0).fit(X, y)
    assert start.n_iter_[0] == 0 and not start.converged_
    assert not start.coef_.any()
    # C = inf: no penalty, bounded on these overlapping classes; scikit-learn's C=inf too
    ours = MinimaxLogisticRegression("none", C=np.inf, tol=1e-10).fit(X, y)
    theirs = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-5)


def test_sparsify_and_densify():
    X, y, _ = _data(True, seed=9)
    clf = MinimaxLogisticRegression("kl").fit(X, y)
    proba = clf.predict_proba(X)
    clf.sparsify()
    assert sp.issparse(clf.coef_)
    np.testing.assert_allclose(clf.predict_proba(X), proba, rtol=1e-12)
    np.testing.assert_allclose(clf.predict_proba(sp.csr_matrix(X)), proba, rtol=1e-12)
    clf.densify()
    assert isinstance(clf.coef_, np.ndarray)


def test_second_moment_keeps_the_cgd_papers_game():
    # the game that was "chi2" before: its primal adds rho / 2 times the squared loss
    X, y, _ = _data(False, seed=10)
    clf = MinimaxLogisticRegression("second_moment", rho=0.7, tol=1e-10).fit(X, y)
    z = X @ clf.coef_[0] + clf.intercept_[0]
    loss = np.logaddexp(0, -np.where(y == 1, 1, -1) * z)
    np.testing.assert_allclose(clf.adversary_weights_, 0.7 * loss, rtol=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.raises(DivergenceError):
            MinimaxLogisticRegression("second_moment", solver="gda", eta=(50.0, 50.0)).fit(X, y)


@pytest.mark.parametrize("rho", [3.0, 300.0, 1e8])
@pytest.mark.parametrize("solver", ["cgd", "acgd"])
def test_competitive_mirror_solvers_play_chi2_at_any_rho(rho, solver):
    # the chi-square adversary's curvature 1 / p_i does not shrink with its weight as the
    # entropy's does: without the per-sample step cap the mirror solvers diverged from rho ~ 3
    # on unscaled data
    X, y = make_classification(300, 5, flip_y=0.1, random_state=0)
    ref = MinimaxLogisticRegression("chi2", rho=rho, tol=1e-10).fit(X, y)
    clf = MinimaxLogisticRegression("chi2", rho=rho, solver=solver, tol=1e-9, max_iter=50_000)
    assert clf.fit(X, y).converged_
    objective = ref.history_["objective"][-1]
    assert clf.history_["objective"][-1] == pytest.approx(objective, rel=1e-8)
    if rho < 1e3:  # at 1e8 the worst case is nearly the constant classifier (coef ~ 1e-8)
        atol = 1e-4 * np.abs(ref.coef_).max()
        np.testing.assert_allclose(clf.coef_, ref.coef_, rtol=0, atol=atol)
