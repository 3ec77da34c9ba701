"""The parametric adversary: ``ParametricLogisticGame`` and
``MinimaxLogisticRegression(adversary="parametric")`` against independent oracles.

Oracles: the group adversary (an exact special case of the parametric one), central finite
differences of the game, a nested min-max solved by SciPy's L-BFGS on the game written out
again in NumPy, the other game solvers, refits on transformed data (CSR, repeated rows,
DataFrames), plain logistic regression at ``rho = 0`` and, for what users get, worst-group
accuracy on held-out data of a group-shift problem whose groups the fit never sees.
"""

import warnings

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp
from scipy.special import expit, logsumexp
from sklearn import config_context
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.preprocessing import StandardScaler

from skcgd.datasets import make_group_shift
from skcgd.games import ParametricLogisticGame, default_adversary_features
from skcgd.linear_model import MinimaxLogisticRegression
from skcgd.metrics import worst_group_accuracy

SOLVERS = ["cgd", "acgd", "gda", "extragradient", "ogda"]


def _data(multiclass=False, *, seed=0, n=60, p=3, weighted=False):
    """Standardised features, labels, positive sample weights (ones unless ``weighted``)."""
    X, y = make_classification(
        n_samples=n,
        n_features=p,
        n_informative=p,
        n_redundant=0,
        n_classes=3 if multiclass else 2,
        n_clusters_per_class=1,
        flip_y=0.1,
        random_state=seed,
    )
    X = StandardScaler().fit_transform(X)
    rng = np.random.default_rng(seed)
    s = rng.uniform(0.3, 2.0, n) if weighted else np.ones(n)
    return X, y, s


def _coef_matrix(clf):
    """``[coef_ | intercept_]`` (one row per class, or one row for a binary problem)."""
    if not clf.fit_intercept:
        return clf.coef_
    return np.hstack([clf.coef_, clf.intercept_[:, None]])


def _fit(adversary="parametric", X=None, y=None, **kwargs):
    """Fit MinimaxLogisticRegression; the fit's own arguments are picked out of ``kwargs``."""
    fit_args = {k: kwargs.pop(k) for k in ("sample_weight", "groups", "adversary_X") if k in kwargs}
    return MinimaxLogisticRegression(adversary, **kwargs).fit(X, y, **fit_args)


# -- 1. the group adversary is the special case of one-hot features and alpha = 0 ------------------
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no-intercept"])
@pytest.mark.parametrize("multiclass", [False, True], ids=["binary", "multinomial"])
def test_one_hot_group_features_without_penalty_are_the_group_adversary(multiclass, fit_intercept):
    # with z_i = e_{g_i} and alpha = 0, q(psi) ranges over every distribution of positive group
    # masses, uniform (relative to s) within each group: the group game's strategy set.
    X, y, s = _data(multiclass, seed=1, n=90, weighted=True)
    groups = np.random.default_rng(1).permutation(np.arange(90) % 3)
    rho, C = 1.5, 0.5
    group = _fit(
        "group",
        X,
        y,
        groups=groups,
        sample_weight=s,
        rho=rho,
        C=C,
        fit_intercept=fit_intercept,
        tol=1e-12,
    )
    parametric = _fit(
        "parametric",
        X,
        y,
        adversary_X=np.eye(3)[groups],
        sample_weight=s,
        rho=rho,
        C=C,
        adversary_alpha=0.0,
        fit_intercept=fit_intercept,
        tol=1e-12,
        max_iter=20000,
    )
    assert group.converged_ and parametric.converged_
    W, W_ref = _coef_matrix(parametric), _coef_matrix(group)
    # 1e-6 relative, entry by entry with a floor of 1e-6 times the largest coefficient
    np.testing.assert_allclose(W, W_ref, rtol=1e-6, atol=1e-6 * np.abs(W_ref).max())
    np.testing.assert_array_equal(group.groups_, [0, 1, 2])
    masses = np.bincount(groups, weights=parametric.adversary_weights_, minlength=3)
    np.testing.assert_allclose(masses, group.adversary_weights_, rtol=1e-6)
    # and within each group the parametric q is the prior's shape, q_i / s_i constant
    for g in range(3):
        ratio = parametric.adversary_weights_[groups == g] / s[groups == g]
        np.testing.assert_allclose(ratio, ratio[0], rtol=1e-10)
    # not the trivial case: the adversary moved the group masses away from the prior
    assert np.abs(group.adversary_weights_ - np.bincount(groups, weights=s) / s.sum()).max() > 1e-3


# -- 2. derivatives of the game against central finite differences ---------------------------------
def _game(multiclass, sparse, features, seed=2):
    X, y, s = _data(multiclass, seed=seed, n=30, p=3, weighted=True)
    s[5] = 0.0  # a sample off the adversary's support
    rng = np.random.default_rng(seed)
    Z = None if features == "default" else rng.standard_normal((30, 4))
    labels = y if multiclass else np.where(y == 1, 1, -1)
    game = ParametricLogisticGame(
        sp.csr_matrix(X) if sparse else X,
        labels,
        adversary_X=Z,
        adversary_alpha=0.7,
        C=0.3,
        rho=1.3,
        sample_weight=s,
        fit_intercept=True,
        multinomial=multiclass,
        n_classes=3 if multiclass else None,
    )
    W = 0.5 * rng.standard_normal(game.n_x)
    psi = 0.4 * rng.standard_normal(game.n_y)
    return game, X, y, s, Z, W, psi


def _fd_jacobian(func, v, h=1e-5):
    """Central differences of a vector function: column j is d func / d v_j."""
    cols = []
    for j in range(v.size):
        e = np.zeros_like(v)
        e[j] = h
        cols.append((func(v + e) - func(v - e)) / (2 * h))
    return np.column_stack(cols)


FD_CASES = [
    (m, s_, f) for m in (False, True) for s_ in (False, True) for f in ("default", "custom")
]
FD_IDS = [
    "-".join(["multinomial" if m else "binary", "csr" if s_ else "dense", f])
    for m, s_, f in FD_CASES
]


@pytest.mark.parametrize("multiclass, sparse, features", FD_CASES, ids=FD_IDS)
def test_derivatives_match_finite_differences(multiclass, sparse, features):
    game, X, y, s, Z, W, psi = _game(multiclass, sparse, features)
    gW, gpsi = game.grads(W, psi)

    # gradients: central differences of value, h = 1e-5 (truncation ~h^2, rounding ~eps/h)
    fd_W = _fd_jacobian(lambda v: np.array([game.value(v, psi)]), W)[0]
    fd_psi = _fd_jacobian(lambda v: np.array([game.value(W, v)]), psi)[0]
    scale = max(np.abs(fd_W).max(), np.abs(fd_psi).max())
    np.testing.assert_allclose(gW, fd_W, rtol=0, atol=1e-7 * scale)
    np.testing.assert_allclose(gpsi, fd_psi, rtol=0, atol=1e-7 * scale)

    # second derivatives: central differences of the gradients
    H_WW = _fd_jacobian(lambda v: game.grads(v, psi)[0], W)
    H_pp = _fd_jacobian(lambda v: game.grads(W, v)[1], psi)
    B_fd = _fd_jacobian(lambda v: game.grads(W, v)[0], psi)  # d grad_W / d psi
    Bt_fd = _fd_jacobian(lambda v: game.grads(v, psi)[1], W)  # d grad_psi / d W = B^T
    hscale = max(np.abs(M).max() for M in (H_WW, H_pp, B_fd))
    tol = 1e-6 * hscale
    np.testing.assert_allclose(B_fd, Bt_fd.T, rtol=0, atol=tol)  # the oracle agrees with itself

    op = game.mixed(W, psi)
    assert op.shape == (game.n_x, game.n_y)
    np.testing.assert_allclose(op.toarray(), B_fd, rtol=0, atol=tol)
    rng = np.random.default_rng(0)
    v, u = rng.standard_normal(game.n_y), rng.standard_normal(game.n_x)
    np.testing.assert_allclose(op.matvec(v), B_fd @ v, rtol=0, atol=tol * np.abs(v).sum())
    np.testing.assert_allclose(op.rmatvec(u), B_fd.T @ u, rtol=0, atol=tol * np.abs(u).sum())

    # curvature_y: the exact spectral norm of the psi-Hessian (formed for <= 256 features)
    norm_pp = np.abs(np.linalg.eigvalsh(0.5 * (H_pp + H_pp.T))).max()
    assert game.curvature_y(W, psi) == pytest.approx(norm_pp, rel=1e-6)
    # curvature_x = 1 + lambda_max(data Hessian): at least ||H_WW||_2, and since the penalty
    # (identity off the intercepts) is PSD, at most ||H_WW||_2 + 1
    norm_WW = np.abs(np.linalg.eigvalsh(0.5 * (H_WW + H_WW.T))).max()
    Lx = game.curvature_x(W, psi)
    assert norm_WW * (1 - 1e-6) <= Lx <= norm_WW + 1.0 + 1e-6 * norm_WW
    assert game.natural_step_sizes(W, psi) == pytest.approx((1 / Lx, 1 / norm_pp), rel=1e-6)

    # the distribution: q_i = s_i e^{psi.z_i} / sum_j s_j e^{psi.z_j}, zero off the support
    if Z is None:
        c = y if multiclass else (y == 1).astype(int)
        K = 3 if multiclass else 2
        Z = np.hstack([(c == k)[:, None] * X for k in range(K)] + [np.eye(K)[c]])
        Zgame = game.Z.toarray() if sparse else game.Z
        np.testing.assert_array_equal(Zgame, Z)
    e = s * np.exp(Z @ psi)
    q = game.sample_distribution(psi)
    np.testing.assert_allclose(q, e / e.sum(), rtol=1e-12)
    assert q[5] == 0.0


def test_default_adversary_features_dense_and_csr_agree():
    X, y, _ = _data(True, seed=3, n=20, p=4)
    X[X < -0.5] = 0.0  # explicit zeros in the sparse copy's pattern are dropped
    dense = default_adversary_features(X, y, 3)
    csr = default_adversary_features(sp.csr_matrix(X), y, 3)
    assert sp.issparse(csr) and csr.shape == dense.shape == (20, 15)
    np.testing.assert_array_equal(csr.toarray(), dense)
    np.testing.assert_array_equal(dense[:, 12:], np.eye(3)[y])
    for k in range(3):
        np.testing.assert_array_equal(dense[:, 4 * k : 4 * k + 4], (y == k)[:, None] * X)


# -- 3. a nested min-max oracle -------------------------------------------------------------------
def _numpy_game(Xt, sign, Z, s, C, rho, alpha, p):
    """f(W, psi) of the docstring and both gradients, by plain NumPy (binary, intercept)."""
    N = s.sum()
    log_prior = np.log(s / N)

    def f_and_grads(W, psi):
        m = sign * (Xt @ W)
        loss = np.logaddexp(0.0, -m)
        a = Z @ psi
        log_q = log_prior + a - logsumexp(log_prior + a)
        q = np.exp(log_q)
        kl = q @ (log_q - log_prior)
        w = W[:p]
        f = C * N * (q @ loss - kl / rho) - 0.5 * alpha * psi @ psi + 0.5 * w @ w
        gW = C * N * (Xt.T @ (q * -sign * expit(-m)))
        gW[:p] += w
        # d q_i / d psi = q_i (z_i - Z^T q) and KL = q.a - logsumexp(log_prior + a)
        r = loss - a / rho
        gpsi = C * N * (Z.T @ (q * (r - q @ r))) - alpha * psi
        return f, gW, gpsi

    return f_and_grads


def _nested_oracle(f_and_grads, n_x, n_y, n_starts=8, seed=0):
    """``argmin_W max_psi f``: L-BFGS on phi(W) = max_psi f(W, psi).

    phi is convex (a max of functions convex in W) and, where the maximiser is unique,
    differentiable with grad phi = grad_W f(W, psi*(W)) (Danskin), so L-BFGS on its exact
    value and gradient finds its minimiser. During the outer run each inner max is an L-BFGS
    warm-started from the previous maximiser; at the end the inner max is solved again from
    ``n_starts`` random starts to certify that the maximiser used there is the global one.
    """

    def inner(W, psi0):
        def neg(psi):
            f, _, gpsi = f_and_grads(W, psi)
            return -f, -gpsi

        return scipy.optimize.minimize(
            neg,
            psi0,
            jac=True,
            method="L-BFGS-B",
            options={"gtol": 1e-12, "ftol": 1e-16, "maxiter": 10_000},
        )

    last = {"psi": np.zeros(n_y)}

    def phi(W):
        psi = inner(W, last["psi"]).x
        last["psi"] = psi
        f, gW, _ = f_and_grads(W, psi)
        return f, gW

    res = scipy.optimize.minimize(
        phi,
        np.zeros(n_x),
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-11, "ftol": 1e-16, "maxiter": 1000},
    )
    W, psi = res.x, last["psi"]
    value = f_and_grads(W, psi)[0]
    rng = np.random.default_rng(seed)
    best_elsewhere = max(-inner(W, rng.normal(scale=2.0, size=n_y)).fun for _ in range(n_starts))
    assert best_elsewhere <= value + 1e-10 * abs(value), "the inner max was not global"
    return W, psi


@pytest.mark.parametrize("rho", [0.5, 2.0])
def test_matches_a_nested_lbfgs_oracle_at_a_local_nash_point(rho):
    n, p, C, alpha = 40, 2, 1.0, 1.0
    X, y, _ = _data(seed=3, n=n, p=p)
    s = np.ones(n)
    sign = np.where(y == 1, 1.0, -1.0)
    c = (y == 1).astype(int)
    Z = np.hstack([(c == 0)[:, None] * X, (c == 1)[:, None] * X, np.eye(2)[c]])
    Xt = np.hstack([X, np.ones((n, 1))])
    f_and_grads = _numpy_game(Xt, sign, Z, s, C, rho, alpha, p)

    game = ParametricLogisticGame(X, sign, rho=rho, C=C, adversary_alpha=alpha, fit_intercept=True)
    W0, psi0 = np.random.default_rng(1).normal(size=(2, 6))
    # the two writings of f agree (1e-12 relative) before one is the other's oracle
    assert game.value(W0[:3], psi0) == pytest.approx(f_and_grads(W0[:3], psi0)[0], rel=1e-12)

    W_ref, psi_ref = _nested_oracle(f_and_grads, p + 1, Z.shape[1])
    clf = _fit(X=X, y=y, rho=rho, C=C, adversary_alpha=alpha, tol=1e-12, max_iter=20000)
    assert clf.converged_
    W = _coef_matrix(clf).ravel()
    # measured: |W - W_ref| <= 2.6e-9, |psi - psi_ref| <= 1.2e-8
    np.testing.assert_allclose(W, W_ref, rtol=0, atol=1e-5)
    np.testing.assert_allclose(clf.adversary_coef_, psi_ref, rtol=0, atol=1e-5)

    # a local Nash point: both gradients vanish (relative to their size at the start) ...
    psi = clf.adversary_coef_
    reference = np.linalg.norm(np.concatenate(game.grads(np.zeros(3), np.zeros(6))))
    gW, gpsi = game.grads(W, psi)
    assert np.linalg.norm(gW) <= 1e-9 * reference
    assert np.linalg.norm(gpsi) <= 1e-9 * reference
    # ... W's Hessian block is PSD and the adversary's NSD (eigenvalues of the finite-difference
    # blocks, up to 1e-6 of their largest magnitude, above the differencing error ~1e-9).
    # measured: psi's largest eigenvalue is -alpha (the one-hot columns' sum is constant, a
    # direction only the penalty curves), W's smallest is 3.1 (rho=0.5) and 3.7 (rho=2)
    H_WW = _fd_jacobian(lambda v: game.grads(v, psi)[0], W)
    H_pp = _fd_jacobian(lambda v: game.grads(W, v)[1], psi)
    ev_W = np.linalg.eigvalsh(0.5 * (H_WW + H_WW.T))
    ev_p = np.linalg.eigvalsh(0.5 * (H_pp + H_pp.T))
    assert ev_W.min() >= -1e-6 * np.abs(ev_W).max(), ev_W
    assert ev_p.max() <= 1e-6 * np.abs(ev_p).max(), ev_p


# -- 4. every game solver plays to the same point --------------------------------------------------
@pytest.mark.parametrize("multiclass", [False, True], ids=["binary", "multinomial"])
def test_every_solver_reaches_the_same_point(multiclass):
    # measured (n=80, p=3, C=0.1, rho=0.5, tol=1e-10): 263-668 iterations, all within 1.2e-11
    # of CGD
    X, y, _ = _data(multiclass, seed=4, n=80, p=3)
    fits = {
        solver: _fit(X=X, y=y, rho=0.5, C=0.1, solver=solver, tol=1e-10, max_iter=20000)
        for solver in SOLVERS
    }
    ref = fits["cgd"]
    auto = _fit(X=X, y=y, rho=0.5, C=0.1, tol=1e-10, max_iter=20000)  # solver="auto" is CGD
    np.testing.assert_array_equal(auto.coef_, ref.coef_)
    for solver, clf in fits.items():
        assert clf.converged_, solver
        # 1e-7 absolute on coefficients of order one (standardised features)
        np.testing.assert_allclose(_coef_matrix(clf), _coef_matrix(ref), atol=1e-7, err_msg=solver)
        np.testing.assert_allclose(clf.adversary_coef_, ref.adversary_coef_, atol=1e-7)
        np.testing.assert_allclose(clf.adversary_weights_, ref.adversary_weights_, atol=1e-9)
        # the recorded objective is the game value along the iterates
        assert clf.history_["objective"].shape == (clf.n_iter_[0] + 1,)
        assert np.isfinite(clf.history_["objective"]).all()


def test_history_objective_is_the_game_value():
    X, y, _ = _data(seed=5, n=50, p=2)
    clf = _fit(X=X, y=y, rho=1.0, tol=1e-10, max_iter=5000)
    game = ParametricLogisticGame(X, np.where(y == 1, 1, -1), rho=1.0, fit_intercept=True)
    final = game.value(_coef_matrix(clf).ravel(), clf.adversary_coef_)
    assert clf.history_["objective"][-1] == pytest.approx(final, rel=1e-10)
    assert clf.history_["objective"][0] == pytest.approx(
        game.value(np.zeros(3), np.zeros(6)), rel=1e-12
    )


# -- 5. input kinds -----------------------------------------------------------------------------
@pytest.mark.parametrize("multiclass", [False, True], ids=["binary", "multinomial"])
def test_dense_csr_and_float32_input(multiclass):
    X, y, s = _data(multiclass, seed=6, n=60, weighted=True)
    kwargs = dict(sample_weight=s, rho=0.8, C=0.3, tol=1e-10, max_iter=20000)
    dense = _fit(X=X, y=y, **kwargs)
    csr = _fit(X=sp.csr_matrix(X), y=y, **kwargs)
    np.testing.assert_allclose(_coef_matrix(csr), _coef_matrix(dense), rtol=0, atol=1e-8)
    np.testing.assert_allclose(csr.adversary_coef_, dense.adversary_coef_, rtol=0, atol=1e-8)
    for X32 in (X.astype(np.float32), sp.csr_matrix(X.astype(np.float32))):
        f32 = _fit(X=X32, y=y, **kwargs)
        assert f32.coef_.dtype == f32.intercept_.dtype == np.float32
        assert f32.predict_proba(X32).dtype == np.float32
        # float32 data are the float64 data rounded (~6e-8 relative): the solution moves as much
        np.testing.assert_allclose(_coef_matrix(f32), _coef_matrix(dense), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("multiclass", [False, True], ids=["binary", "multinomial"])
def test_integer_weights_are_repeated_rows(multiclass):
    X, y, _ = _data(multiclass, seed=7, n=40)
    reps = np.random.default_rng(7).integers(1, 4, 40)
    kwargs = dict(rho=1.2, C=0.3, tol=1e-11, max_iter=20000)
    weighted = _fit(X=X, y=y, sample_weight=reps.astype(float), **kwargs)
    idx = np.repeat(np.arange(40), reps)
    repeated = _fit(X=X[idx], y=y[idx], **kwargs)
    np.testing.assert_allclose(_coef_matrix(weighted), _coef_matrix(repeated), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(weighted.adversary_coef_, repeated.adversary_coef_, atol=1e-6)
    # each sample's weight is its copies' total
    per_row = np.bincount(idx, weights=repeated.adversary_weights_, minlength=40)
    np.testing.assert_allclose(weighted.adversary_weights_, per_row, rtol=1e-6)


def test_zero_weights_drop_samples():
    X, y, s = _data(seed=8, n=50, weighted=True)
    Z = np.random.default_rng(8).standard_normal((50, 3))
    s[:7] = 0.0
    full = _fit(X=X, y=y, sample_weight=s, adversary_X=Z, tol=1e-11, max_iter=20000)
    kept = _fit(X=X[7:], y=y[7:], sample_weight=s[7:], adversary_X=Z[7:], tol=1e-11, max_iter=20000)
    np.testing.assert_allclose(_coef_matrix(full), _coef_matrix(kept), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(full.adversary_coef_, kept.adversary_coef_, rtol=1e-7, atol=1e-9)
    assert (full.adversary_weights_[:7] == 0).all()
    np.testing.assert_allclose(full.adversary_weights_[7:], kept.adversary_weights_, rtol=1e-7)


def test_pandas_dataframes():
    pd = pytest.importorskip("pandas")
    X, y, _ = _data(True, seed=9, n=60)
    Z = np.random.default_rng(9).standard_normal((60, 2))
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    labels = np.array(["cat", "dog", "emu"])[y]
    ref = _fit(X=X, y=labels, adversary_X=Z, tol=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "X does not have valid feature names"
        clf = _fit(X=df, y=labels, adversary_X=pd.DataFrame(Z, columns=["u", "v"]), tol=1e-10)
        np.testing.assert_array_equal(clf.feature_names_in_, ["a", "b", "c"])
        np.testing.assert_allclose(clf.coef_, ref.coef_, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(clf.adversary_coef_, ref.adversary_coef_, rtol=1e-12, atol=1e-14)
        assert set(clf.predict(df)) <= set(labels)
        q = clf.adversary_weights(df, labels, adversary_X=pd.DataFrame(Z))
    np.testing.assert_allclose(q, clf.adversary_weights_, rtol=1e-10)


def test_warm_start_along_a_rho_path_saves_iterations():
    # measured (n=100, p=4, C=0.1, tol=1e-10, rho 0.25 -> 4): warm 649 iterations, cold 701
    # (every warm fit but the first takes fewer), solutions within 4e-10
    X, y, _ = _data(seed=10, n=100, p=4)
    path = [0.25, 0.5, 1.0, 2.0, 4.0]
    warm = MinimaxLogisticRegression(
        "parametric", C=0.1, tol=1e-10, max_iter=20000, warm_start=True
    )
    n_warm = n_cold = 0
    for rho in path:
        warm.set_params(rho=rho).fit(X, y)
        cold = _fit(X=X, y=y, rho=rho, C=0.1, tol=1e-10, max_iter=20000)
        assert warm.converged_ and cold.converged_
        n_warm += warm.n_iter_[0]
        n_cold += cold.n_iter_[0]
        np.testing.assert_allclose(_coef_matrix(warm), _coef_matrix(cold), rtol=0, atol=1e-7)
        np.testing.assert_allclose(warm.adversary_coef_, cold.adversary_coef_, rtol=0, atol=1e-7)
    assert n_warm < n_cold, (n_warm, n_cold)


# -- 6. scoring new data with the fitted adversary -------------------------------------------------
@pytest.mark.parametrize("multiclass", [False, True], ids=["binary", "multinomial"])
def test_adversary_weights_on_training_and_new_data(multiclass):
    X, y, _ = _data(multiclass, seed=11, n=80)
    labels = np.array(["no", "yes", "maybe"])[y]  # not sorted: classes_ orders them
    clf = _fit(X=X[:60], y=labels[:60], rho=1.5, tol=1e-10)
    np.testing.assert_allclose(
        clf.adversary_weights(X[:60], labels[:60]), clf.adversary_weights_, rtol=1e-10
    )
    np.testing.assert_allclose(
        clf.adversary_weights(sp.csr_matrix(X[:60]), labels[:60]),
        clf.adversary_weights_,
        rtol=1e-10,
    )
    new = clf.adversary_weights(X[60:], labels[60:])
    assert new.shape == (20,) and (new >= 0).all()
    assert new.sum() == pytest.approx(1.0, rel=1e-12)
    # it is the log-linear model q_i ~ exp(psi . z_i) normalised over the rows given
    c = np.searchsorted(clf.classes_, labels[60:])
    Z = default_adversary_features(X[60:], c, len(clf.classes_))
    e = np.exp(Z @ clf.adversary_coef_)
    np.testing.assert_allclose(new, e / e.sum(), rtol=1e-12)


def test_adversary_weights_with_features_and_sample_weights():
    X, y, s = _data(seed=12, n=60, weighted=True)
    Z = np.random.default_rng(12).standard_normal((60, 2))
    clf = _fit(X=X, y=y, sample_weight=s, adversary_X=Z, rho=1.0, tol=1e-10)
    assert clf.adversary_coef_.shape == (2,)
    # in training q_i ~ s_i exp(psi . z_i); on data the model alone, exp(psi . z_i)
    scored = clf.adversary_weights(X, y, adversary_X=Z)
    expected = clf.adversary_weights_ / s
    np.testing.assert_allclose(scored, expected / expected.sum(), rtol=1e-10)


def test_adversary_weights_refuses_what_it_cannot_score():
    X, y, _ = _data(seed=13, n=40, p=2)
    Z = np.random.default_rng(13).standard_normal((40, 3))
    with pytest.raises(NotFittedError):
        MinimaxLogisticRegression("parametric").adversary_weights(X, y)
    kl = _fit("kl", X, y)
    with pytest.raises(AttributeError, match="'parametric' adversary.*adversary='kl'"):
        kl.adversary_weights(X, y)
    # a parametric fit followed by another adversary's leaves no parametric model behind
    clf = _fit(X=X, y=y).set_params(adversary="chi2").fit(X, y)
    assert not hasattr(clf, "adversary_coef_")
    with pytest.raises(AttributeError, match="adversary='chi2'"):
        clf.adversary_weights(X, y)

    default = _fit(X=X, y=y)
    with pytest.raises(ValueError, match=r"labels not seen in fit: \[7\]"):
        default.adversary_weights(X, np.where(y == 1, 7, 0))
    featured = _fit(X=X, y=y, adversary_X=Z)
    with pytest.raises(
        ValueError, match="adversary_X has 2 columns; the adversary was fitted on 3"
    ):
        featured.adversary_weights(X, y, adversary_X=Z[:, :2])
    with pytest.raises(ValueError, match="fitted on adversary_X: pass the adversary features"):
        featured.adversary_weights(X, y)
    with pytest.raises(ValueError, match="adversary_X has 39 rows but X has 40"):
        featured.adversary_weights(X, y, adversary_X=Z[:-1])
    with pytest.raises(ValueError, match="one label per row"):
        default.adversary_weights(X, y[:-1])


def test_adversary_weights_knows_which_features_fit_used():
    # features as wide as the default ones must not be taken for them, nor the reverse
    X, y, _ = _data(seed=13, n=40, p=2)
    Z = np.random.default_rng(13).standard_normal((40, 6))  # 2 classes x (2 features + 1)
    clf = _fit(X=X, y=y, adversary_X=Z)
    with pytest.raises(ValueError, match="pass the adversary features"):
        clf.adversary_weights(X, y)
    default = _fit(X=X, y=y)
    with pytest.raises(ValueError, match="call adversary_weights without adversary_X"):
        default.adversary_weights(X, y, adversary_X=Z)


def test_adversary_features_too_large_to_exponentiate_are_refused_by_name():
    X, y, _ = _data(seed=13, n=40, p=2)
    with pytest.raises(ValueError, match="adversary_X's scale .* Rescale adversary_X"):
        MinimaxLogisticRegression("parametric").fit(X, y, adversary_X=np.full((40, 2), 1e200))


# -- 7. bad adversary features ------------------------------------------------------------------
def test_bad_adversary_features_are_refused_by_name():
    X, y, _ = _data(seed=14, n=40, p=2)
    Z = np.random.default_rng(14).standard_normal((40, 3))
    clf = MinimaxLogisticRegression("parametric")
    with pytest.raises(ValueError, match="adversary_X has 39 rows but X has 40"):
        clf.fit(X, y, adversary_X=Z[:-1])
    for bad in (np.nan, np.inf, -np.inf):
        Zb = Z.copy()
        Zb[3, 1] = bad
        with pytest.raises(ValueError, match="adversary_X contains NaN or infinity"):
            clf.fit(X, y, adversary_X=Zb)
        with pytest.raises(ValueError, match="adversary_X contains NaN or infinity"):
            clf.fit(X, y, adversary_X=sp.csr_matrix(Zb))
    with pytest.raises(ValueError, match="adversary_X must be numeric, got dtype <U1"):
        clf.fit(X, y, adversary_X=np.full((40, 2), "a"))
    # an object array is read as numbers where it can (a DataFrame of int and bool columns):
    # None is then a missing value
    with pytest.raises(ValueError, match="adversary_X contains NaN or infinity"):
        clf.fit(X, y, adversary_X=np.full((40, 2), None))
    with pytest.raises(ValueError, match="adversary_X must be numeric, got dtype object"):
        clf.fit(X, y, adversary_X=np.full((40, 2), "a", dtype=object))
    mixed = np.empty((40, 2), dtype=object)
    mixed[:, 0], mixed[:, 1] = np.arange(40), np.arange(40) % 2 == 0
    assert clf.fit(X, y, adversary_X=mixed).adversary_coef_.shape == (2,)
    with pytest.raises(ValueError, match="adversary_X must be a 2-D array"):
        clf.fit(X, y, adversary_X=Z[:, 0])
    with pytest.raises(ValueError, match="adversary_X has no columns"):
        clf.fit(X, y, adversary_X=Z[:, :0])
    with pytest.raises(ValueError, match="solver='newton' needs the adversary's best response"):
        MinimaxLogisticRegression("parametric", solver="newton").fit(X, y)
    # rho = 0 is plain logistic regression, which Newton solves
    assert MinimaxLogisticRegression("parametric", rho=0.0, solver="newton").fit(X, y).converged_


def test_a_failed_fit_leaves_the_estimator_as_it_was():
    X, y, _ = _data(seed=15, n=40, p=2)
    Z = np.random.default_rng(15).standard_normal((40, 3))
    clf = _fit(X=X, y=y, adversary_X=Z)
    before = {k: v for k, v in vars(clf).items() if k.endswith("_")}
    snapshot = {k: np.copy(v) for k, v in before.items() if isinstance(v, np.ndarray)}
    wide = np.random.default_rng(0).standard_normal((40, 5))
    Z_nan = Z.copy()
    Z_nan[0, 0] = np.nan
    failures = [
        (wide, Z[:-1], "rows but X has"),
        (wide, Z_nan, "NaN or infinity"),
        (wide, np.full((40, 2), "a"), "must be numeric"),
    ]
    for X_new, Z_new, message in failures:
        with pytest.raises(ValueError, match=message):
            clf.fit(X_new, y, adversary_X=Z_new)
        assert set(k for k in vars(clf) if k.endswith("_")) == set(before)
        for name, value in before.items():
            assert getattr(clf, name) is value, name
        for name, value in snapshot.items():
            np.testing.assert_array_equal(getattr(clf, name), value)
    with pytest.raises(ValueError, match="newton"):
        clf.set_params(solver="newton").fit(wide, y)
    assert clf.n_features_in_ == 2 and clf.coef_ is before["coef_"]
    np.testing.assert_allclose(clf.adversary_weights(X, y, adversary_X=Z), clf.adversary_weights_)


# -- 8. metadata routing -----------------------------------------------------------------------
def test_adversary_features_are_routed_by_grid_search_and_cross_validate():
    X, y, _ = _data(seed=16, n=90, p=3)
    Z = np.random.default_rng(16).standard_normal((90, 2))  # narrower than the default 8
    with config_context(enable_metadata_routing=True):
        clf = MinimaxLogisticRegression("parametric").set_fit_request(adversary_X=True)
        search = GridSearchCV(clf, {"rho": [0.5, 2.0]}, cv=3).fit(X, y, adversary_X=Z)
        assert search.best_estimator_.adversary_coef_.shape == (2,)
        assert np.isfinite(search.cv_results_["mean_test_score"]).all()
        # the refit saw all of Z
        refit = _fit(X=X, y=y, adversary_X=Z, rho=search.best_params_["rho"])
        np.testing.assert_array_equal(search.best_estimator_.coef_, refit.coef_)

        out = cross_validate(
            clf,
            X,
            y,
            params={"adversary_X": Z},
            cv=3,
            return_estimator=True,
            return_indices=True,
        )
        for est, train in zip(out["estimator"], out["indices"]["train"], strict=True):
            assert est.adversary_coef_.shape == (2,)
            # each fold's fit got the rows of Z of its training samples
            ref = _fit(X=X[train], y=y[train], adversary_X=Z[train])
            np.testing.assert_array_equal(est.coef_, ref.coef_)
            np.testing.assert_array_equal(est.adversary_coef_, ref.adversary_coef_)

        # unrequested metadata is an error, not silently dropped
        with pytest.raises(ValueError, match="adversary_X"):
            cross_validate(
                MinimaxLogisticRegression("parametric"), X, y, params={"adversary_X": Z}, cv=3
            )


# -- 9. what users get ------------------------------------------------------------------------
def test_parametric_adversary_raises_worst_group_accuracy_without_groups():
    # make_group_shift without its group columns: the majority's label follows x0, a 20%
    # minority's follows x1, and nothing in X says who is who. Plain logistic regression learns
    # the majority's rule; the adversary's log-linear tilt per class can up-weight the region
    # where the minority disagrees with it. rho is picked by worst-group accuracy on a
    # validation draw, the claim is checked on a separate test draw.
    # measured, worst-group test accuracy (overall in brackets): plain 0.587 (0.833),
    # parametric 0.714 (0.777) at rho=1000, kl 0.628 (0.816) at rho=10; for comparison the
    # "group" adversary, given the groups and rho=10, 0.720 (0.754).
    kwargs = dict(minority_fraction=0.2, noise=0.1, group_features=False, return_groups=True)
    X, y, _ = make_group_shift(600, random_state=0, **kwargs)
    Xv, yv, gv = make_group_shift(2000, random_state=1, **kwargs)
    Xt, yt, gt = make_group_shift(10_000, random_state=2, **kwargs)
    C = 0.1

    def best_on_validation(adversary):
        fits = [_fit(adversary, X, y, rho=rho, C=C) for rho in (1.0, 10.0, 100.0, 1000.0)]
        scores = [worst_group_accuracy(yv, f.predict(Xv), groups=gv) for f in fits]
        return fits[int(np.argmax(scores))]

    plain = _fit("none", X, y, C=C)
    parametric = best_on_validation("parametric")
    kl = best_on_validation("kl")
    assert parametric.converged_
    plain_wga = worst_group_accuracy(yt, plain.predict(Xt), groups=gt)
    parametric_wga = worst_group_accuracy(yt, parametric.predict(Xt), groups=gt)
    kl_wga = worst_group_accuracy(yt, kl.predict(Xt), groups=gt)
    # half the measured margins, 0.127 over plain and 0.086 over kl
    assert parametric_wga > plain_wga + 0.063, (plain_wga, parametric_wga, kl_wga)
    # the per-sample KL adversary mostly shrinks the coefficients; the parametric one turns them
    assert parametric_wga > kl_wga + 0.043, (parametric_wga, kl_wga)


# -- 10. rho = 0 ------------------------------------------------------------------------------
@pytest.mark.parametrize("multiclass", [False, True], ids=["binary", "multinomial"])
def test_rho_zero_is_plain_logistic_regression(multiclass):
    X, y, s = _data(multiclass, seed=17, n=60, weighted=True)
    K = 3 if multiclass else 2
    plain = _fit("none", X, y, sample_weight=s, tol=1e-10)
    for Z, k in ((None, K * (X.shape[1] + 1)), (np.ones((60, 5)), 5)):
        clf = _fit(X=X, y=y, sample_weight=s, adversary_X=Z, rho=0.0, tol=1e-10)
        np.testing.assert_allclose(_coef_matrix(clf), _coef_matrix(plain), rtol=0, atol=1e-8)
        np.testing.assert_array_equal(clf.adversary_coef_, np.zeros(k))
        np.testing.assert_allclose(clf.adversary_weights_, s / s.sum(), rtol=1e-12)


def test_acgd_auto_moves_an_adversary_whose_start_gradient_is_rounding_noise():
    # at W = 0 every loss is log 2, so grad_psi f is ~1e-13: ACGD's unit for the adversary
    # must wait for a real gradient, or its steps are 1e-13 / L and it never moves
    from skcgd.solvers import ACGD, CGD

    X, y, _ = _data(seed=21, n=120, p=3)
    game = ParametricLogisticGame(X, 2 * y - 1, rho=1.0, fit_intercept=True)
    x0, y0 = np.zeros(game.n_x), np.zeros(game.n_y)
    assert np.linalg.norm(game.grads(x0, y0)[1]) < 1e-10
    ref = CGD(eta="auto", tol=1e-9, max_iter=20_000).run(game, x0, y0, warn=False)
    result = ACGD(eta="auto", tol=1e-9, max_iter=20_000).run(game, x0, y0, warn=False)
    assert ref.converged and result.converged
    np.testing.assert_allclose(result.y, ref.y, atol=1e-5)
