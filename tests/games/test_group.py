"""The group-reweighted logistic game (group DRO with a KL penalty).

Oracles: the objective written out with NumPy/SciPy (``np.logaddexp``, ``logsumexp``,
``softmax``) one group at a time, central finite differences, SciPy's SLSQP for the inner max
over the simplex and L-BFGS on the closed-form primal for the saddle point.
"""

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp
from scipy.special import logsumexp, softmax

from skcgd.games import GroupKLLogisticGame
from skcgd.solvers import CompetitiveMirrorDescent

C, RHO = 0.7, 1.3
CASES = [(m, i, w) for m in (False, True) for i in (False, True) for w in (False, True)]
IDS = [
    "-".join(["multi" if m else "binary", "b" if i else "nob", "sw" if w else "nosw"])
    for m, i, w in CASES
]


def _problem(multinomial, intercept, weighted, seed=0, n=15, p=3, G=3, sparse=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = rng.integers(0, 3, n) if multinomial else rng.choice([-1, 1], n)
    groups = np.arange(n) % G
    s = rng.random(n) + 0.2 if weighted else np.ones(n)
    if weighted:
        s[4] = 0.0  # a sample outside the game (its group still has others)
    game = GroupKLLogisticGame(
        sp.csr_matrix(X) if sparse else X,
        y,
        groups,
        C=C,
        rho=RHO,
        sample_weight=s if weighted else None,
        fit_intercept=intercept,
        multinomial=multinomial,
    )
    x = 0.5 * rng.standard_normal(game.n_x)
    q = rng.random(G) + 0.1  # f is defined off the simplex too
    return game, X, y, groups, s, x, q


def _group_losses(X, y, groups, s, x, intercept, multinomial):
    K = 3 if multinomial else 1
    Xt = np.hstack([X, np.ones((len(y), 1))]) if intercept else X
    Z = Xt @ x.reshape(K, -1).T
    if multinomial:
        loss = logsumexp(Z, axis=1) - Z[np.arange(len(y)), y]
    else:
        loss = np.logaddexp(0.0, -y * Z[:, 0])
    G = groups.max() + 1
    Ng = np.array([s[groups == g].sum() for g in range(G)])
    L = np.array([s[groups == g] @ loss[groups == g] for g in range(G)]) / Ng
    pen = x.reshape(K, -1)[:, : X.shape[1]]
    return L, Ng, 0.5 * np.sum(pen**2)


def _oracle_value(X, y, groups, s, x, q, intercept, multinomial):
    L, Ng, pen = _group_losses(X, y, groups, s, x, intercept, multinomial)
    N = s.sum()
    kl = np.sum(q * np.log(q * N / Ng))
    return C * N * (q @ L - kl / RHO) + pen


def _oracle_primal(X, y, groups, s, x, intercept, multinomial):
    L, Ng, pen = _group_losses(X, y, groups, s, x, intercept, multinomial)
    N = s.sum()
    return C * N / RHO * logsumexp(RHO * L, b=Ng / N) + pen


def _fd(fun, z, h=1e-6):
    return np.array([(fun(z + h * e) - fun(z - h * e)) / (2 * h) for e in np.eye(z.size)])


@pytest.mark.parametrize("multinomial, intercept, weighted", CASES, ids=IDS)
def test_value_gradients_and_mixed_hessian(multinomial, intercept, weighted):
    game, X, y, groups, s, x, q = _problem(multinomial, intercept, weighted)
    assert game.n_y == 3
    assert game.value(x, q) == pytest.approx(
        _oracle_value(X, y, groups, s, x, q, intercept, multinomial), rel=1e-12
    )
    assert game.primal(x) == pytest.approx(
        _oracle_primal(X, y, groups, s, x, intercept, multinomial), rel=1e-12
    )
    gx, gy = game.grads(x, q)
    np.testing.assert_allclose(gx, _fd(lambda v: game.value(v, q), x), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(gy, _fd(lambda v: game.value(x, v), q), rtol=1e-6, atol=1e-7)
    op = game.mixed(x, q)
    assert op.shape == (game.n_x, game.n_y)
    # B e_g = d/dt grad_x f(x, q + t e_g): column by column
    h = 1e-6
    B_fd = np.column_stack(
        [
            (game.grads(x, q + h * e)[0] - game.grads(x, q - h * e)[0]) / (2 * h)
            for e in np.eye(game.n_y)
        ]
    )
    np.testing.assert_allclose(op.toarray(), B_fd, rtol=1e-6, atol=1e-7)
    u = np.random.default_rng(1).standard_normal(game.n_x)
    fd_u = (game.grads(x + h * u, q)[1] - game.grads(x - h * u, q)[1]) / (2 * h)
    np.testing.assert_allclose(op.rmatvec(u), fd_u, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("multinomial", [False, True], ids=["binary", "multi"])
def test_best_response_maximises_over_the_simplex(multinomial):
    game, X, y, groups, s, x, _ = _problem(multinomial, True, True, seed=2)
    q = game.best_response(x)
    assert q.sum() == pytest.approx(1.0, rel=1e-14) and (q > 0).all()
    # the closed form softmax(rho L + log pi) ...
    L, Ng, _ = _group_losses(X, y, groups, s, x, True, multinomial)
    np.testing.assert_allclose(q, softmax(RHO * L + np.log(Ng / s.sum())), rtol=1e-12)
    # ... is the maximiser a generic constrained optimiser finds
    res = scipy.optimize.minimize(
        lambda v: -_oracle_value(X, y, groups, s, x, v, True, multinomial),
        np.full(3, 1 / 3),
        method="SLSQP",
        bounds=[(1e-12, 1.0)] * 3,
        constraints=[{"type": "eq", "fun": lambda v: v.sum() - 1.0}],
        options={"ftol": 1e-14, "maxiter": 500},
    )
    np.testing.assert_allclose(q, res.x, atol=1e-6)
    assert game.primal(x) == pytest.approx(-res.fun, rel=1e-9)
    assert game.value(x, q) == pytest.approx(game.primal(x), rel=1e-12)


def test_dense_and_csr_agree():
    dense = _problem(True, True, True, seed=3)
    csr = _problem(True, True, True, seed=3, sparse=True)
    game, x, q = dense[0], dense[5], dense[6]
    other = csr[0]
    assert other.primal(x) == pytest.approx(game.primal(x), rel=1e-13)
    for a, b in zip(game.grads(x, q), other.grads(x, q)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        game.mixed(x, q).toarray(), other.mixed(x, q).toarray(), rtol=1e-12, atol=1e-14
    )


def test_primal_is_accurate_at_high_temperature():
    # rho -> 0: tau log sum pi_g exp(L_g / tau) -> sum pi_g L_g + rho Var_pi(L) / 2; the
    # plain log-sum-exp loses the second term to cancellation, the game must not
    rng = np.random.default_rng(4)
    X = rng.standard_normal((60, 2))
    y = rng.choice([-1, 1], 60)
    groups = np.arange(60) % 3
    x = np.array([0.3, -0.2])
    for rho in (1e-4, 1e-8):
        game = GroupKLLogisticGame(X, y, groups, C=1.0, rho=rho)
        L = game.group_losses(x)
        pi = np.full(3, 1 / 3)
        mean = pi @ L
        expected = 60 * (mean + 0.5 * rho * pi @ (L - mean) ** 2) + 0.5 * x @ x
        # the third-order term is rho^2 E[(L - mean)^3] / 6 < 1e-9 relative here
        assert game.primal(x) == pytest.approx(expected, rel=1e-11)


def test_underflowed_weight_keeps_finite_gradients():
    # one group far easier than the others: its best-response weight underflows to zero
    X = np.array([[10.0], [10.0], [-1.0], [1.0], [-1.0], [1.0]])
    y = np.array([1, 1, 1, 1, -1, -1])
    game = GroupKLLogisticGame(X, y, np.array([0, 0, 1, 1, 2, 2]), rho=2000.0)
    x = np.array([5.0])
    q = game.best_response(x)
    assert q[0] < 1e-300
    gx, gy = game.grads(x, np.array([0.0, 0.5, 0.5]))
    assert np.isfinite(gx).all() and np.isfinite(gy).all()


@pytest.mark.parametrize("multinomial", [False, True], ids=["binary", "multi"])
def test_mirror_cgd_reaches_the_saddle_of_lbfgs(multinomial):
    rng = np.random.default_rng(5)
    n = 150
    X = rng.standard_normal((n, 3))
    y = rng.integers(0, 3, n) if multinomial else rng.choice([-1, 1], n)
    groups = (X[:, 0] > 0.3).astype(int) + 2 * (X[:, 1] > 0.8)
    s = rng.random(n) + 0.5
    game = GroupKLLogisticGame(
        X, y, groups, C=0.05, rho=2.0, sample_weight=s, fit_intercept=True, multinomial=multinomial
    )

    def fun(w):
        return game.primal(w), game.grads(w, game.best_response(w))[0]

    ref = scipy.optimize.minimize(
        fun,
        np.zeros(game.n_x),
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-12, "ftol": 1e-16, "maxiter": 2000},
    )
    eta = (
        1.0 / game.curvature_x(np.zeros(game.n_x), game.group_weight / game.N),
        1.0 / (game.C * game.N * game.tau),
    )
    result = CompetitiveMirrorDescent(eta=eta, max_iter=2000, tol=1e-9).run(
        game, np.zeros(game.n_x), game.group_weight / game.N
    )
    assert result.converged
    np.testing.assert_allclose(result.x, ref.x, atol=1e-7)
    np.testing.assert_allclose(result.y, game.best_response(ref.x), atol=1e-8)


def test_invalid_groups_raise_clear_errors():
    X = np.ones((4, 2))
    y = np.array([1, -1, 1, -1])
    with pytest.raises(ValueError, match="groups must have length 4"):
        GroupKLLogisticGame(X, y, [0, 1, 0])
    with pytest.raises(ValueError, match="group indices"):
        GroupKLLogisticGame(X, y, [0.5, 1, 0, 1])
    with pytest.raises(ValueError, match="no sample with positive weight"):
        GroupKLLogisticGame(X, y, [0, 0, 1, 1], sample_weight=[1, 1, 0, 0])
    game = GroupKLLogisticGame(X, y, [0, 0, 1, 1])
    with pytest.raises(ValueError, match="non-negative"):
        game.grads(np.zeros(2), np.array([-0.5, 1.5]))
