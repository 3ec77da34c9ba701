"""Chi2- and KL-reweighted logistic games.

Oracles: the objective written out again with NumPy/SciPy (``np.logaddexp``, ``expit``,
``logsumexp``, ``softmax``), central finite differences of ``value`` and of the gradients,
dense linear algebra for the CGD systems, SciPy optimisers for the inner max and for the primal
minimiser, and the published numbers of the DRO acceptance experiment (research notes, §4(b)).
"""

import math

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp
from scipy.special import expit, logsumexp, softmax

import skcgd.games._design as design_module
import skcgd.games._reweighted as reweighted_module
from skcgd.exceptions import ConvergenceWarning
from skcgd.games import BaseGame, KLLogisticGame, MixedOperator, SecondMomentLogisticGame
from skcgd.games._warm_up import _warm_up
from skcgd.solvers import CGD, CompetitiveMirrorDescent

GAMES = {"second_moment": SecondMomentLogisticGame, "kl": KLLogisticGame}
C, RHO = 0.7, 1.3
CASES = [
    (kind, multinomial, intercept, weighted)
    for kind in GAMES
    for multinomial in (False, True)
    for intercept in (False, True)
    for weighted in (False, True)
]
IDS = [
    "-".join([k, "multi" if m else "binary", "b" if i else "nob", "sw" if w else "nosw"])
    for k, m, i, w in CASES
]


def _problem(kind, multinomial, intercept, weighted, seed=0, n=12, p=3, X=None):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) if X is None else X
    y = rng.integers(0, 3, n) if multinomial else rng.choice([-1, 1], n)
    s = None
    if weighted:
        s = rng.random(n) + 0.2
        s[2] = 0.0  # a sample outside the game
    game = GAMES[kind](
        X, y, C=C, rho=RHO, sample_weight=s, fit_intercept=intercept, multinomial=multinomial
    )
    x = 0.5 * rng.standard_normal(game.n_x)
    if kind == "second_moment":
        adv = rng.standard_normal(n)  # some 1 + u_i < 0: negative sample weights
    else:
        adv = rng.random(n) + 0.1  # f is defined off the simplex too
        if s is not None:
            adv[s == 0] = 0.0
    return game, X, y, (np.ones(n) if s is None else s), x, adv


def _oracle_losses(X, y, W, intercept, multinomial):
    """Per-sample losses and dl/dz from SciPy, with X~ = [X, 1] built explicitly."""
    Xt = np.hstack([X, np.ones((X.shape[0], 1))]) if intercept else X
    Z = Xt @ W.T
    if not multinomial:
        m = y * Z[:, 0]
        return np.logaddexp(0.0, -m), (-y * expit(-m))[:, None], Xt
    onehot = np.eye(W.shape[0])[y]
    return logsumexp(Z, axis=1) - Z[np.arange(len(y)), y], softmax(Z, axis=1) - onehot, Xt


def _oracle(kind, X, y, s, x, adv, intercept, multinomial):
    """(value, primal, B) written out from the definitions."""
    K = 3 if multinomial else 1
    W = x.reshape(K, -1)
    loss, G, Xt = _oracle_losses(X, y, W, intercept, multinomial)
    pen = 0.5 * np.sum(W[:, : X.shape[1]] ** 2)
    N = s.sum()
    if kind == "second_moment":
        value = C * np.sum(s * (1 + adv) * loss) - C / (2 * RHO) * np.sum(s * adv**2) + pen
        primal = C * np.sum(s * (loss + RHO / 2 * loss**2)) + pen
        r = C * s[:, None] * G
    else:
        tau, sup = 1 / RHO, s > 0
        kl = np.sum(adv[sup] * np.log(adv[sup] * N / s[sup]))
        value = C * N * (adv @ loss - tau * kl) + pen
        primal = C * N * tau * logsumexp(loss[sup] / tau, b=s[sup] / N) + pen
        r = C * N * G * sup[:, None]
    B = np.stack([np.kron(r[i], Xt[i]) for i in range(len(y))], axis=1)
    return value, primal, B


def _fd(fun, z, h=1e-6, mask=None):
    out = np.zeros(z.size)
    for i in range(z.size):
        if mask is not None and not mask[i]:
            continue
        e = np.zeros(z.size)
        e[i] = h
        out[i] = (fun(z + e) - fun(z - e)) / (2 * h)
    return out


@pytest.mark.parametrize("kind, multinomial, intercept, weighted", CASES, ids=IDS)
def test_value_gradients_and_mixed_hessian(kind, multinomial, intercept, weighted):
    game, X, y, s, x, adv = _problem(kind, multinomial, intercept, weighted)
    value, primal, B = _oracle(kind, X, y, s, x, adv, intercept, multinomial)
    # value and primal equal the formulas to rounding
    assert game.value(x, adv) == pytest.approx(value, rel=1e-12)
    assert game.primal(x) == pytest.approx(primal, rel=1e-12)
    gx, gy = game.grads(x, adv)
    # gradients: central differences of value (h = 1e-6: error ~1e-9 at values ~10)
    live = (s > 0) if kind == "kl" else None
    np.testing.assert_allclose(gx, _fd(lambda v: game.value(v, adv), x), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(
        gy, _fd(lambda v: game.value(x, v), adv, mask=live), rtol=1e-6, atol=1e-7
    )
    op = game.mixed(x, adv)
    assert op.shape == (game.n_x, game.n_y)
    # B as a dense matrix is the explicit r_i kron xt_i construction
    np.testing.assert_allclose(op.toarray(), B, rtol=1e-12, atol=1e-14)
    rng = np.random.default_rng(1)
    v = rng.standard_normal(game.n_y) * (s > 0)
    u = rng.standard_normal(game.n_x)
    h = 1e-6
    # B v = d/dt grad_x f(x, y + t v) and B^T u = d/dt grad_y f(x + t u, y): both f-linear in y
    fd_v = (game.grads(x, adv + h * v)[0] - game.grads(x, adv - h * v)[0]) / (2 * h)
    np.testing.assert_allclose(op.matvec(v), fd_v, rtol=1e-6, atol=1e-7)
    fd_u = (game.grads(x + h * u, adv)[1] - game.grads(x - h * u, adv)[1]) / (2 * h)
    np.testing.assert_allclose(op.rmatvec(u), fd_u, rtol=1e-6, atol=1e-7)
    # rmatvec is the adjoint of matvec
    v = rng.standard_normal(game.n_y)
    assert u @ op.matvec(v) == pytest.approx(op.rmatvec(u) @ v, rel=1e-12)


@pytest.mark.parametrize("kind, multinomial, intercept, weighted", CASES, ids=IDS)
def test_cgd_systems_match_dense_linear_algebra(kind, multinomial, intercept, weighted):
    game, X, y, s, x, adv = _problem(kind, multinomial, intercept, weighted)
    op = game.mixed(x, adv)
    rng = np.random.default_rng(2)
    hx, hy = rng.random(game.n_x) + 0.1, rng.random(game.n_y) + 0.1
    for side, size in (("x", game.n_x), ("y", game.n_y)):
        M = op.system_matrix(side, hx, hy)
        # against the base-class construction from B (toarray) and the explicit formula
        np.testing.assert_allclose(
            M, MixedOperator.system_matrix(op, side, hx, hy), rtol=1e-12, atol=1e-12
        )
        B = op.toarray()
        if side == "x":
            expected = np.eye(size) + np.sqrt(hx)[:, None] * (B * hy) @ B.T * np.sqrt(hx)
        else:
            expected = np.eye(size) + np.sqrt(hy)[:, None] * (B.T * hx) @ B * np.sqrt(hy)
        np.testing.assert_allclose(M, expected, rtol=1e-12, atol=1e-12)
        rhs = rng.standard_normal(size)
        exact = np.linalg.solve(M, rhs)
        z, n_iter, ok = op.solve(side, hx, hy, rhs, np.zeros(size), 1e-13, 0.0, 1000)
        assert ok and n_iter > 0
        np.testing.assert_allclose(z, exact, rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(op.solve_direct(side, hx, hy, rhs), exact, rtol=1e-9)
        # a warm start at the solution costs no iteration
        _, n_iter, ok = op.solve(side, hx, hy, rhs, exact, 1e-8, 0.0, 1000)
        assert ok and n_iter == 0


@pytest.mark.parametrize("kind", GAMES)
@pytest.mark.parametrize("multinomial", [False, True])
def test_dense_csr_and_float32_agree(kind, multinomial, monkeypatch):
    rng = np.random.default_rng(3)
    X32 = rng.standard_normal((40, 5)).astype(np.float32)
    X32[X32 < -0.3] = 0.0  # sparse-ish
    X64 = X32.astype(np.float64)  # the same numbers: results must agree to rounding
    # tiny row blocks, so that the blocked float32 paths run over many blocks
    monkeypatch.setattr(design_module, "CHUNK_ELEMENTS", 16)
    games = {}
    for name, data in (
        ("dense64", X64),
        ("dense32", X32),
        ("csr64", sp.csr_matrix(X64)),
        ("csr32", sp.csr_matrix(X32)),
        ("fortran32", np.asfortranarray(X32)),
    ):
        games[name] = _problem(kind, multinomial, True, True, seed=4, n=40, p=5, X=data)[0]
    _, _, _, _, x, adv = _problem(kind, multinomial, True, True, seed=4, n=40, p=5, X=X64)
    # float32 is kept (not upcast, not copied when C-contiguous); CSR is not densified
    assert games["dense32"].X.dtype == np.float32 and np.shares_memory(games["dense32"].X, X32)
    assert games["fortran32"].X.dtype == np.float32
    assert sp.issparse(games["csr32"].X) and games["csr32"].X.dtype == np.float32
    ref = games["dense64"]
    ref_op = ref.mixed(x, adv)
    hx, hy = rng.random(ref.n_x) + 0.1, rng.random(ref.n_y) + 0.1
    rhs = rng.standard_normal(ref.n_x)
    v, u = rng.standard_normal(ref.n_y), rng.standard_normal(ref.n_x)
    z_ref = ref_op.solve("x", hx, hy, rhs, np.zeros(ref.n_x), 1e-12, 0.0, 500)[0]
    for name, game in games.items():
        assert game.value(x, adv) == pytest.approx(ref.value(x, adv), rel=1e-12)
        assert game.primal(x) == pytest.approx(ref.primal(x), rel=1e-12)
        for g, g_ref in zip(game.grads(x, adv), ref.grads(x, adv)):
            assert g.dtype == np.float64
            np.testing.assert_allclose(g, g_ref, rtol=1e-12, atol=1e-13)
        op = game.mixed(x, adv)
        np.testing.assert_allclose(op.matvec(v), ref_op.matvec(v), rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(op.rmatvec(u), ref_op.rmatvec(u), rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(
            op.system_matrix("x", hx, hy), ref_op.system_matrix("x", hx, hy), rtol=1e-12, atol=1e-12
        )
        z = op.solve("x", hx, hy, rhs, np.zeros(ref.n_x), 1e-12, 0.0, 500)[0]
        np.testing.assert_allclose(z, z_ref, rtol=1e-9, atol=1e-12)
        assert game.curvature_x(x, adv) == pytest.approx(ref.curvature_x(x, adv), rel=1e-5)


def _maximise_adversary(game, kind, x, s):
    """max over the adversary by SciPy (BFGS with its own finite-difference gradients)."""
    n = game.n_y
    if kind == "second_moment":
        res = scipy.optimize.minimize(
            lambda u: -game.value(x, u), np.zeros(n), method="BFGS", options={"gtol": 1e-10}
        )
        return -res.fun
    sup = s > 0

    def neg(theta):
        p = np.zeros(n)
        p[sup] = softmax(theta)
        return -game.value(x, p)

    res = scipy.optimize.minimize(neg, np.zeros(sup.sum()), method="BFGS", options={"gtol": 1e-10})
    return -res.fun


@pytest.mark.parametrize("kind", GAMES)
@pytest.mark.parametrize("multinomial", [False, True])
def test_primal_is_the_max_over_the_adversary(kind, multinomial):
    game, X, y, s, x, _ = _problem(kind, multinomial, True, True, seed=5)
    best = game.best_response(x)
    assert game.primal(x) == pytest.approx(game.value(x, best), rel=1e-12)
    assert game.primal(x) == pytest.approx(_maximise_adversary(game, kind, x, s), rel=1e-7)
    gy = game.grads(x, best)[1]
    if kind == "second_moment":
        np.testing.assert_allclose(gy, 0.0, atol=1e-12)
    else:
        # stationary on the simplex: the gradient is constant (the multiplier) on the support
        assert best.sum() == pytest.approx(1.0, rel=1e-14) and (best[s == 0] == 0).all()
        assert np.ptp(gy[s > 0]) < 1e-12 * np.abs(gy).max()
        assert (gy[s == 0] == 0).all()


@pytest.mark.parametrize("kind", GAMES)
@pytest.mark.parametrize(
    "multinomial, intercept", [(False, False), (True, False), (False, True), (True, True)]
)
def test_curvature_bounds(kind, multinomial, intercept):
    game, X, y, s, x, adv = _problem(kind, multinomial, intercept, True, seed=6)
    if kind == "second_moment":
        adv = np.abs(adv)  # 1 + u > 0: the data Hessian is PSD
    # dense Hessians by central differences of the gradients (error ~1e-9)
    Hx = np.column_stack(_fd_jacobian(lambda v: game.grads(v, adv)[0], x))
    Hx = 0.5 * (Hx + Hx.T)
    norm = np.linalg.norm(Hx, 2)
    bound = game.curvature_x(x, adv)
    assert norm <= bound * (1 + 1e-6)
    if not intercept:  # then the identity covers every coordinate and the bound is tight
        assert bound == pytest.approx(norm, rel=1e-4)
    live = np.flatnonzero(s > 0)  # p_i = 0 is pinned where s_i = 0: no differences there
    Hy = np.column_stack(
        [
            (game.grads(x, adv + 1e-5 * e)[1] - game.grads(x, adv - 1e-5 * e)[1]) / 2e-5
            for e in np.eye(game.n_y)[live]
        ]
    )[live]
    assert game.curvature_y(x, adv) == pytest.approx(np.linalg.norm(Hy, 2), rel=1e-6)
    if kind == "second_moment":  # with negative weights 1 + u_i the estimate still bounds the norm
        _, _, _, _, x2, u2 = _problem(kind, multinomial, intercept, True, seed=7)
        assert (1 + u2 < 0).any()
        H2 = np.column_stack(_fd_jacobian(lambda v: game.grads(v, u2)[0], x2))
        assert np.linalg.norm(0.5 * (H2 + H2.T), 2) <= game.curvature_x(x2, u2) * (1 + 1e-6)


@pytest.mark.parametrize("multinomial", [False, True])
def test_curvature_by_lanczos_matches_the_dense_eigenvalue(multinomial, monkeypatch):
    game, X, y, s, x, adv = _problem("kl", multinomial, True, True, seed=9, n=30, p=8)
    exact = game.curvature_x(x, adv)
    monkeypatch.setattr(reweighted_module, "_DENSE_CURVATURE_SIZE", 0)
    game._curv_key = None  # drop the cache
    assert game.curvature_x(x, adv) == pytest.approx(exact, rel=1e-5)
    x2 = x + 0.01  # warm-started from the previous eigenvector
    lanczos = game.curvature_x(x2, adv)
    monkeypatch.setattr(reweighted_module, "_DENSE_CURVATURE_SIZE", 256)
    game._curv_key = None
    assert lanczos == pytest.approx(game.curvature_x(x2, adv), rel=1e-5)


def _fd_jacobian(fun, z, h=1e-5):
    return [(fun(z + h * e) - fun(z - h * e)) / (2 * h) for e in np.eye(z.size)]


@pytest.mark.parametrize("kind", GAMES)
def test_extreme_margins_stay_finite_and_accurate(kind):
    # binary margins y z = +1e4, -1e4, +40, -40 (w = 1)
    X = np.array([[1e4], [-1e4], [40.0], [-40.0]])
    y = np.array([1, 1, 1, 1])
    game = GAMES[kind](X, y, rho=1.0)
    w = np.ones(1)
    loss = game._loss(w)[0]
    expected = [0.0, 1e4, math.log1p(math.exp(-40.0)), 40.0 + math.log1p(math.exp(-40.0))]
    np.testing.assert_allclose(loss, expected, rtol=1e-14, atol=0)  # 4.2e-18 kept exactly
    # multinomial logits of +-1e4
    Xm = np.array([[1e4], [-1e4], [40.0], [1.0]])
    W = np.array([1.0, 0.0, -1.0])
    gm = GAMES[kind](Xm, np.array([0, 0, 0, 2]), rho=1.0, multinomial=True)
    expected_m = [
        0.0,
        2e4,
        math.log1p(math.exp(-40.0) + math.exp(-80.0)),
        float(logsumexp([1.0, 0.0, -1.0]) + 1.0),
    ]
    np.testing.assert_allclose(gm._loss(W)[0], expected_m, rtol=1e-14, atol=0)
    for g, x in ((game, w), (gm, W)):
        adv = g.best_response(x)
        assert np.isfinite(adv).all() and np.isfinite(g.primal(x))
        assert g.primal(x) == pytest.approx(g.value(x, adv), rel=1e-12)
        gx, gy = g.grads(x, adv)
        assert np.isfinite(gx).all() and np.isfinite(gy).all()
        op = g.mixed(x, adv)
        assert np.isfinite(op.matvec(np.ones(g.n_y))).all()
        assert np.isfinite(op.rmatvec(np.ones(g.n_x))).all()
        assert np.isfinite(g.curvature_x(x, adv)) and np.isfinite(g.curvature_y(x, adv))
    # the binary derivatives: -y sigmoid(-m), so 0 and -1 at the extremes
    G = game._loss(w)[1][:, 0]
    np.testing.assert_allclose(G[:2], [0.0, -1.0], atol=1e-300)


def test_kl_samples_with_zero_weight_are_outside_the_game():
    game, X, y, s, x, _ = _problem("kl", False, True, True, seed=8)
    zero = s == 0
    p = game.best_response(x)
    assert (p[zero] == 0).all() and (p[~zero] > 0).all()
    gx, gy = game.grads(x, p)
    assert (gy[zero] == 0).all() and np.isfinite(gy).all()
    assert (game.mixed(x, p).toarray()[:, zero] == 0).all()
    q = p.copy()
    q[zero] = 0.1
    assert game.value(x, q) == -np.inf
    with pytest.raises(ValueError, match="non-negative"):
        game.value(x, -p)
    # at p_i = 0 < s_i the derivative (+inf) is taken at p_i = 5e-324: finite, and equal to
    # the formula there
    i = np.flatnonzero(~zero)[0]
    q = p.copy()
    q[i] = 0.0
    N, log_tiny = s.sum(), np.log(np.nextafter(0.0, 1.0))
    expected = C * N * (game._loss(x)[0][i] - (log_tiny + np.log(N / s[i]) + 1) / RHO)
    assert game.grads(x, q)[1][i] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"X": [[np.nan, 1.0], [0.0, 1.0]]}, ValueError, "NaN or infinity"),
        (
            {"X": sp.csr_matrix(np.array([[np.inf, 1.0], [0.0, 1.0]]))},
            ValueError,
            "NaN or infinity",
        ),
        ({"X": np.ones(2)}, ValueError, "2-D"),
        ({"X": np.array([["a", "b"], ["c", "d"]])}, TypeError, "real numeric"),
        ({"y": [0, 1]}, ValueError, r"y in \{-1, \+1\}"),
        ({"y": [1, -1, 1]}, ValueError, "length 2"),
        ({"y": [0.5, 1.0], "multinomial": True}, ValueError, "integer labels"),
        ({"y": [-1, 1], "multinomial": True}, ValueError, "class indices"),
        ({"y": [0, 2], "multinomial": True, "n_classes": 2}, ValueError, "n_classes=2"),
        ({"y": [0, 0], "multinomial": True}, ValueError, "n_classes >= 2"),
        ({"sample_weight": [1.0]}, ValueError, "sample_weight has shape"),
        ({"sample_weight": [1.0, -1.0]}, ValueError, "non-negative"),
        ({"sample_weight": [0.0, 0.0]}, ValueError, "sums to zero"),
        ({"sample_weight": [np.nan, 1.0]}, ValueError, "NaN"),
        ({"rho": 0.0}, ValueError, "plain L2 logistic regression"),
        ({"rho": -1.0}, ValueError, "rho must be a positive"),
        ({"C": 0.0}, ValueError, "C must be a positive"),
        ({"X": np.zeros((2, 0))}, ValueError, "no variables"),
    ],
)
@pytest.mark.parametrize("kind", GAMES)
def test_invalid_input_raises_clear_errors(kind, kwargs, error, match):
    args = {"X": np.eye(2), "y": [1, -1]}
    args.update(kwargs)
    X, y = args.pop("X"), args.pop("y")
    with pytest.raises(error, match=match):
        GAMES[kind](X, y, **args)


def test_wrong_point_shapes_raise():
    game = SecondMomentLogisticGame(np.eye(3), [1, -1, 1], fit_intercept=True)
    with pytest.raises(ValueError, match="x must be a vector of length 4"):
        game.grads(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="y must be a vector of length 3"):
        game.value(np.zeros(4), np.zeros(2))


# -- the game played by the solvers ----------------------------------------------------------
class _DROGame(BaseGame):
    """The issue's game f(w, u) = sum (1/n + u_i) l_i - lam/2 ||u||^2 + alpha/2 ||w||^2.

    It is ``alpha * F(w, n u)`` for the chi2 game ``F`` with ``C = 1 / (n alpha)`` and
    ``rho = n / lam``: only the units change, so CGD takes the same steps on both (with
    ``eta_w' = alpha eta_w`` and ``eta_u' = alpha n^2 eta_u``). The wrapper keeps the issue's
    units, so that the gradient norm the solver stops on is the issue's.
    """

    def __init__(self, X, labels, lam, alpha):
        n = X.shape[0]
        self.inner = SecondMomentLogisticGame(X, labels, C=1.0 / (n * alpha), rho=n / lam)
        self.a, self.b = alpha, float(n)
        self.n_x, self.n_y = self.inner.n_x, self.inner.n_y

    def value(self, x, y):
        return self.a * self.inner.value(x, self.b * y)

    def grads(self, x, y):
        gx, gy = self.inner.grads(x, self.b * y)
        return self.a * gx, self.a * self.b * gy

    def mixed(self, x, y):
        return _ScaledMixed(self.inner.mixed(x, self.b * y), self.a * self.b)

    def curvature_x(self, x, y):
        return self.a * self.inner.curvature_x(x, self.b * y)

    def curvature_y(self, x, y):
        return self.a * self.b**2 * self.inner.curvature_y(x, self.b * y)


class _ScaledMixed(MixedOperator):
    """``c B``; its CGD systems are those of ``B`` with the other player's step times c^2."""

    def __init__(self, op, c):
        self.op, self.c, self.shape = op, c, op.shape

    def matvec(self, v):
        return self.c * self.op.matvec(v)

    def rmatvec(self, u):
        return self.c * self.op.rmatvec(u)

    def solve(self, side, hx, hy, rhs, z0, tol, atol, max_iter):
        if side == "x":
            return self.op.solve(side, hx, hy * self.c**2, rhs, z0, tol, atol, max_iter)
        return self.op.solve(side, hx * self.c**2, hy, rhs, z0, tol, atol, max_iter)


def _dro_data(n=2000, d=50):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    w_true = rng.standard_normal(d) * 2 / np.sqrt(d)
    labels = np.where(rng.random(n) < expit(X @ w_true), 1, -1)
    return X, labels


def test_cgd_acceptance_on_the_chi2_dro_game():
    n, d, lam, alpha = 2000, 50, 2000.0, 0.01
    X, labels = _dro_data(n, d)
    game = _DROGame(X, labels, lam, alpha)
    w0, u0 = np.zeros(d), np.zeros(n)
    assert game.value(w0, u0) == pytest.approx(math.log(2), rel=1e-14)
    # research §4(b): ||grad||_0 = 31.0 and ||D2ww f|| = 0.34 at the start
    assert np.linalg.norm(np.concatenate(game.grads(w0, u0))) == pytest.approx(31.0, abs=0.05)
    assert game.curvature_x(w0, u0) == pytest.approx(0.34, abs=0.005)

    result = CGD(eta=(2.5, 5e-4), max_iter=100, tol=1e-6, linear_solver="cg", cg_tol=1e-6).run(
        game, w0, u0
    )
    assert result.converged and result.history["grad_norm"][-1] < 1e-6
    assert 14 <= result.n_iter <= 16
    cg = result.history["cg_iter"]
    assert cg.sum() <= 100 and 3 <= cg.mean() <= 7  # ~5 CG iterations per step

    # independent oracle: L-BFGS on the reduced primal mean l + sum l^2 / (2 lam) + alpha/2 |w|^2
    def primal(w):
        m = labels * (X @ w)
        loss = np.logaddexp(0.0, -m)
        dl = -labels * expit(-m)
        value = loss.mean() + loss @ loss / (2 * lam) + 0.5 * alpha * w @ w
        return value, X.T @ ((1 / n + loss / lam) * dl) + alpha * w

    ref = scipy.optimize.minimize(
        primal,
        w0,
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 500},
    )
    assert ref.fun == pytest.approx(0.72947690, abs=5e-9)
    assert np.linalg.norm(result.x - ref.x) < 1e-5
    assert alpha * game.inner.primal(result.x) == pytest.approx(0.72947690, abs=5e-9)
    np.testing.assert_allclose(result.y, game.inner.best_response(result.x) / n, atol=1e-8)

    # the chi2 game in its own units takes the same steps (eta' = (alpha eta_w, alpha n^2 eta_u))
    same = CGD(
        eta=(alpha * 2.5, alpha * n**2 * 5e-4),
        max_iter=result.n_iter,
        tol=0,
        linear_solver="cg",
        cg_tol=1e-6,
    ).run(game.inner, w0, u0)
    np.testing.assert_allclose(same.x, result.x, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(same.y, n * result.y, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(same.history["cg_iter"], cg)

    # eta_u * lam = 2: the adversary's own curvature forbids convergence (CGD adds no damping)
    with pytest.warns(ConvergenceWarning):
        bad = CGD(eta=(2.5, 2 / lam), max_iter=300, tol=1e-6, linear_solver="cg", cg_tol=1e-6).run(
            game, w0, u0
        )
    assert not bad.converged and bad.history["grad_norm"][-1] > 1.0


def test_cgd_solves_a_sparse_multinomial_chi2_game():
    rng = np.random.default_rng(1)
    X = sp.random(200, 6, density=0.5, format="csr", random_state=2, data_rvs=rng.standard_normal)
    y = rng.integers(0, 3, 200)
    s = rng.random(200) + 0.5
    game = SecondMomentLogisticGame(
        X, y, C=0.05, rho=2.0, sample_weight=s, multinomial=True, fit_intercept=True
    )

    def fun(w):  # Danskin: the primal's gradient is grad_W f at the best response
        return game.primal(w), game.grads(w, game.best_response(w))[0]

    ref = scipy.optimize.minimize(
        fun,
        np.zeros(game.n_x),
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 1000},
    )
    result = CGD(eta="auto", max_iter=1000, tol=1e-8, linear_solver="cg").run(
        game, np.zeros(game.n_x), np.zeros(game.n_y)
    )
    assert result.converged
    np.testing.assert_allclose(result.x, ref.x, atol=1e-7)
    np.testing.assert_allclose(result.y, game.best_response(result.x), atol=1e-7)


def test_mirror_cgd_solves_the_kl_game():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 4))
    y = rng.integers(0, 3, 200)
    s = rng.random(200) + 0.5
    game = KLLogisticGame(
        X, y, C=0.05, rho=2.0, sample_weight=s, multinomial=True, fit_intercept=True
    )

    def fun(w):
        return game.primal(w), game.grads(w, game.best_response(w))[0]

    ref = scipy.optimize.minimize(
        fun,
        np.zeros(game.n_x),
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 1000},
    )
    # the mirror step already scales the adversary's step by p: its own curvature in the
    # mirror metric is C N tau
    eta = (0.19, 0.5 / (game.C * game.N * game.tau))
    result = CompetitiveMirrorDescent(eta=eta, max_iter=1000, tol=1e-8).run(
        game, np.zeros(game.n_x), s / s.sum()
    )
    assert result.converged
    np.testing.assert_allclose(result.x, ref.x, atol=1e-7)
    np.testing.assert_allclose(result.y, game.best_response(ref.x), atol=1e-8)


def test_warm_up_runs():
    _warm_up()
