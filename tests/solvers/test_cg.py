"""conjugate_gradient against numpy.linalg.solve, and its edge cases."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from skcgd.solvers import CGDOperator, RowGramOperator, conjugate_gradient


def _spd(n, cond, rng):
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    A = (Q * np.logspace(0, -np.log10(cond), n)) @ Q.T
    return (A + A.T) / 2


@pytest.mark.parametrize("cond", [1.0, 1e2, 1e4, 1e6])
@pytest.mark.parametrize("n", [1, 30, 120])
def test_dense_matches_numpy(n, cond):
    rng = np.random.default_rng(n)
    A = _spd(n, cond, rng)
    b = rng.standard_normal(n)
    x, n_iter, converged = conjugate_gradient(A, b, tol=1e-14, max_iter=200 * n)
    expected = np.linalg.solve(A, b)
    assert np.linalg.norm(x - expected) <= 1e-10 * np.linalg.norm(expected)


@pytest.mark.parametrize("cond", [1e2, 1e4, 1e6, 1e8])
def test_condition_1e8_matches_numpy(cond):
    # A diagonal matrix in a permuted basis has the spectrum that makes CG slow, but is stored
    # exactly, so the answer is known to one ulp; with random dense eigenvectors the rounding of
    # A itself already moves the solution by cond * eps (numpy's answer too) at cond = 1e8.
    rng = np.random.default_rng(0)
    n = 60
    lam = np.logspace(0, -np.log10(cond), n)[rng.permutation(n)]
    b = rng.standard_normal(n)
    for A in (np.diag(lam), sp.diags(lam).tocsr()):
        x, n_iter, converged = conjugate_gradient(A, b, tol=1e-15, max_iter=100 * n)
        expected = np.linalg.solve(np.diag(lam), b)
        assert converged
        assert np.linalg.norm(x - expected) <= 1e-10 * np.linalg.norm(expected)
        # CG is not capped at the dimension: these systems need more than n iterations
        if cond >= 1e6:
            assert n_iter > n


@pytest.mark.parametrize("cond", [1e4, 1e6, 1e8])
def test_dense_ill_conditioned_as_accurate_as_lapack(cond):
    # A dense SPD matrix stored exactly, with a closed-form solution: A = H diag(d) H^T for
    # the orthogonal Hadamard matrix H / 8 (entries +-1/8) and integer eigenvalues d, whose
    # entries are sums of integers over 64. At cond = 1e8 no float64 solver can promise 1e-10
    # (numpy.linalg.solve itself is ~5e-10 off the closed form: forward errors scale like
    # cond * eps); CG must be as accurate as LAPACK's LU, and 1e-10-accurate up to 1e6.
    from scipy.linalg import hadamard

    n = 64
    H = hadamard(n) / 8.0
    for seed in range(4):
        rng = np.random.default_rng(seed)
        d = np.round(np.geomspace(1.0, cond, n))
        rng.shuffle(d)
        A = (H * d) @ H.T
        b = rng.standard_normal(n)
        exact = H @ ((H.T @ b) / d)
        x, n_iter, _ = conjugate_gradient(A, b, tol=1e-13, max_iter=20 * n)

        def err(v):
            return np.linalg.norm(v - exact) / np.linalg.norm(exact)

        lapack = err(np.linalg.solve(A, b))
        assert err(x) <= max(1e-10 if cond <= 1e6 else 0.0, 10 * lapack)
        assert n_iter > n  # never capped at the dimension


def test_sparse_and_linear_operator_agree_with_dense():
    rng = np.random.default_rng(1)
    n = 80
    A = sp.diags([-1.0, 2.5, -1.0], [-1, 0, 1], shape=(n, n)).tocsr()
    b = rng.standard_normal(n)
    expected = np.linalg.solve(A.toarray(), b)
    for op in (A, A.toarray(), LinearOperator((n, n), matvec=lambda v: A @ v), lambda v: A @ v):
        x, n_iter, converged = conjugate_gradient(op, b, tol=1e-13)
        assert converged
        np.testing.assert_allclose(x, expected, rtol=1e-10, atol=1e-12)


def test_warm_start_uses_true_residual():
    rng = np.random.default_rng(2)
    A = _spd(40, 1e3, rng)
    b = rng.standard_normal(40)
    exact = np.linalg.solve(A, b)
    # starting at the solution: zero iterations, converged
    x, n_iter, converged = conjugate_gradient(A, b, x0=exact, tol=1e-8)
    assert n_iter == 0 and converged
    # a nearby start converges to the same answer in fewer iterations than from zero
    x0 = exact + 1e-6 * rng.standard_normal(40)
    _, cold, _ = conjugate_gradient(A, b, tol=1e-10)
    xw, warm, ok = conjugate_gradient(A, b, x0=x0, tol=1e-10)
    assert ok and warm < cold
    np.testing.assert_allclose(xw, exact, rtol=1e-7)


def test_zero_iterations_and_zero_rhs():
    A = np.array([[2.0]])
    x, n_iter, converged = conjugate_gradient(A, np.zeros(1))
    assert n_iter == 0 and converged and x[0] == 0.0
    x, n_iter, converged = conjugate_gradient(A, np.ones(1), max_iter=0)
    assert n_iter == 0 and not converged and x[0] == 0.0
    x, n_iter, converged = conjugate_gradient(A, np.ones(1), tol=1e-14)
    assert n_iter == 1 and converged and x[0] == 0.5


def test_max_iter_is_respected_and_reported():
    rng = np.random.default_rng(3)
    A = _spd(50, 1e6, rng)
    b = rng.standard_normal(50)
    x, n_iter, converged = conjugate_gradient(A, b, tol=1e-12, max_iter=5)
    assert n_iter == 5 and not converged


def test_not_positive_definite_reports_failure():
    A = np.diag([1.0, -1.0])
    x, n_iter, converged = conjugate_gradient(A, np.array([1.0, 1.0]))
    assert not converged


def test_nearly_singular_reports_non_convergence():
    # eigenvalues 1 and 1e-20: the true residual never meets a tight tolerance
    rng = np.random.default_rng(4)
    Q, _ = np.linalg.qr(rng.standard_normal((20, 20)))
    A = (Q * np.r_[np.ones(10), np.full(10, 1e-20)]) @ Q.T
    A = (A + A.T) / 2
    b = rng.standard_normal(20)
    x, n_iter, converged = conjugate_gradient(A, b, tol=1e-12, max_iter=500)
    if converged:  # only acceptable if the answer really solves the system
        assert np.linalg.norm(b - A @ x) <= 1e-12 * np.linalg.norm(b)
    else:
        assert n_iter > 0


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_raises(bad):
    A = np.eye(3)
    b = np.ones(3)
    with pytest.raises(ValueError, match="b contains NaN or infinity"):
        conjugate_gradient(A, np.array([1.0, bad, 0.0]))
    A_bad = A.copy()
    A_bad[0, 1] = bad
    with pytest.raises(ValueError, match="A contains NaN or infinity"):
        conjugate_gradient(A_bad, b)
    with pytest.raises(ValueError, match="x0 contains NaN or infinity"):
        conjugate_gradient(A, b, x0=np.array([bad, 0.0, 0.0]))


def test_shape_and_parameter_errors():
    with pytest.raises(ValueError, match="shape"):
        conjugate_gradient(np.eye(3), np.ones(2))
    with pytest.raises(ValueError, match="max_iter"):
        conjugate_gradient(np.eye(2), np.ones(2), max_iter=-1)
    with pytest.raises(ValueError, match="tol"):
        conjugate_gradient(np.eye(2), np.ones(2), tol=-1.0)
    with pytest.raises(ValueError, match="x0 has length"):
        conjugate_gradient(np.eye(2), np.ones(2), x0=np.ones(3))


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("K,intercept", [(1, False), (1, True), (3, True)])
def test_rowgram_operator_matches_explicit_matrix(sparse, K, intercept):
    rng = np.random.default_rng(K)
    n, p = 40, 7
    X = rng.standard_normal((n, p))
    X[rng.random((n, p)) < 0.5] = 0.0
    R = rng.standard_normal((n, K))
    hy = rng.random(n)
    m = K * (p + intercept)
    dx = rng.random(m) + 0.1
    Xin = sp.csr_matrix(X) if sparse else X
    op = RowGramOperator(Xin, R, hy=hy, dx=dx, fit_intercept=intercept)
    Xt = np.hstack([X, np.ones((n, 1))]) if intercept else X
    F = np.stack([np.kron(R[i], Xt[i]) for i in range(n)])  # columns of B, as rows
    M = np.eye(m) + np.diag(dx) @ F.T @ np.diag(hy) @ F @ np.diag(dx)
    v = rng.standard_normal(m)
    np.testing.assert_allclose(op.matvec(v), M @ v, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(op.toarray(), M, rtol=1e-12, atol=1e-12)
    b = rng.standard_normal(m)
    x, _, converged = conjugate_gradient(op, b, tol=1e-13)
    assert converged
    np.testing.assert_allclose(x, np.linalg.solve(M, b), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("sparse", [False, True])
def test_cgd_operator(sparse):
    rng = np.random.default_rng(5)
    B = rng.standard_normal((30, 50))
    op = CGDOperator(sp.csr_matrix(B) if sparse else B, eta_x=0.3, eta_y=2.0)
    M = np.eye(30) + 0.6 * B @ B.T
    b = rng.standard_normal(30)
    x, _, converged = conjugate_gradient(op, b, tol=1e-13)
    assert converged
    np.testing.assert_allclose(x, np.linalg.solve(M, b), rtol=1e-10)
    with pytest.raises(ValueError, match="non-negative"):
        CGDOperator(B, eta_x=-1.0)


def test_preconditioned_cg():
    rng = np.random.default_rng(6)
    A = _spd(60, 1e5, rng)
    b = rng.standard_normal(60)
    expected = np.linalg.solve(A, b)
    plain = conjugate_gradient(A, b, tol=1e-12, max_iter=5000)
    # an exact preconditioner solves the system in one iteration
    Ainv = np.linalg.inv(A)
    x, n_iter, ok = conjugate_gradient(A, b, tol=1e-10, M=lambda r: Ainv @ r)
    assert ok and n_iter == 1
    np.testing.assert_allclose(x, expected, rtol=1e-8)
    # a nearby preconditioner P = A^1/2 (I + 0.05 S) A^1/2, ||S|| <= 1: the preconditioned
    # spectrum lies in [1/1.05, 1/0.95], so a handful of iterations suffice
    lam, Q = np.linalg.eigh(A)
    S = rng.standard_normal((60, 60))
    S = (S + S.T) / np.linalg.norm(S + S.T, 2)
    half = Q * np.sqrt(lam)
    near = np.linalg.inv(half @ (np.eye(60) + 0.05 * S) @ half.T)
    for op in (A, sp.csr_matrix(A), LinearOperator((60, 60), matvec=lambda v: A @ v)):
        # tol well above the attainable accuracy eps * cond = 1e-11 of this system
        x, n_iter, ok = conjugate_gradient(op, b, tol=1e-9, M=lambda r: near @ r)
        assert ok and n_iter <= 20 < plain[1]
        np.testing.assert_allclose(x, expected, rtol=1e-6)


# -- regressions: every public entry checks what it hands to a kernel ----------------------------
def test_public_operators_refuse_vectors_of_the_wrong_length():
    from skcgd.games import DenseMixedOperator

    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 30))
    ops = [
        RowGramOperator(X, hy=0.5, fit_intercept=True),
        RowGramOperator(sp.csr_matrix(X), R=np.ones((50, 2))),
        CGDOperator(X, eta_x=0.1, eta_y=0.1),
    ]
    for op in ops:
        m = op.shape[0]
        # a short vector made the kernel read past its end: garbage, or a segfault
        for bad in (np.ones(m - 1), np.ones(3), np.ones((m, 1)), np.ones(m + 1)):
            with pytest.raises(ValueError, match=f"v must be a vector of length {m}"):
                op.matvec(bad)
        with pytest.raises(TypeError, match="v must hold real numbers"):
            op.matvec(np.array(["a"] * m))
        np.testing.assert_allclose(op.matvec(np.ones(m)), op.toarray() @ np.ones(m))
    dense = DenseMixedOperator(X)
    with pytest.raises(ValueError, match="v must be a vector of length 30"):
        dense.matvec(np.ones(29))
    with pytest.raises(ValueError, match="u must be a vector of length 50"):
        dense.rmatvec(np.ones(30))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"tol": float("nan")}, "tol must be a non-negative finite number"),
        ({"tol": -1.0}, "tol must be a non-negative finite number"),
        ({"atol": float("inf")}, "atol must be a non-negative finite number"),
        ({"max_iter": -1}, "max_iter must be an integer >= 0"),
    ],
)
def test_conjugate_gradient_refuses_bad_tolerances_by_name(kwargs, match):
    # tol=NaN was accepted: every comparison with it is False, so CG never stopped early
    A = np.array([[4.0, 1.0], [1.0, 3.0]])
    with pytest.raises(ValueError, match=match):
        conjugate_gradient(A, np.ones(2), **kwargs)


@pytest.mark.parametrize("max_iter", [2.5, True])
def test_conjugate_gradient_refuses_a_non_integer_max_iter(max_iter):
    A = np.array([[4.0, 1.0], [1.0, 3.0]])
    with pytest.raises(TypeError, match="max_iter must be an integer, got"):
        conjugate_gradient(A, np.ones(2), max_iter=max_iter)
