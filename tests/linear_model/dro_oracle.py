"""An independent oracle for the chi-square and CVaR adversaries: their primal objectives as
convex programs in cvxpy, solved by the interior-point solver Clarabel (exponential cones for
the logistic loss). It shares no code with skcgd."""

import numpy as np

cp = None


def _import():
    global cp
    if cp is None:
        import cvxpy

        cp = cvxpy
    return cp


def dro_oracle(X, y, K, fit_intercept, adversary, C, rho, s):
    """``(W, objective)`` of the primal of ``adversary`` in {"chi2", "cvar"}.

    ``y`` holds class indices; ``K = 1`` is the binary loss with one coefficient row (labels
    0/1), ``K >= 3`` the softmax loss. ``W`` has shape (K, n_features + fit_intercept).
    """
    cp = _import()
    n, d = X.shape
    p = s / s.sum()
    N = s.sum()
    W = cp.Variable((K, d))
    b = cp.Variable(K) if fit_intercept else np.zeros(K)
    Z = X @ W.T + (cp.reshape(b, (1, K), order="C") if fit_intercept else 0)
    if K == 1:
        sign = np.where(y == 1, 1.0, -1.0)
        loss = cp.logistic(-cp.multiply(sign, Z[:, 0]))
    else:
        onehot = np.eye(K)[y]
        loss = cp.log_sum_exp(Z, axis=1) - cp.sum(cp.multiply(onehot, Z), axis=1)
    eta = cp.Variable()
    if adversary == "chi2":
        tau = 1.0 / rho
        r = cp.pos(1 + (loss - eta) / tau)
        inner = eta + tau / 2 * (p @ cp.square(r) - 1)
    elif adversary == "cvar":
        inner = eta + (1 + rho) * (p @ cp.pos(loss - eta))
    else:
        raise ValueError(adversary)
    objective = C * N * inner + 0.5 * cp.sum_squares(W)
    problem = cp.Problem(cp.Minimize(objective))
    problem.solve(
        solver="CLARABEL",
        tol_gap_abs=1e-12,
        tol_gap_rel=1e-12,
        tol_feas=1e-12,
        max_iter=500,
    )
    coef = W.value
    if fit_intercept:
        coef = np.hstack([coef, np.asarray(b.value).reshape(K, 1)])
        if K > 1:
            coef[:, -1] -= coef[:, -1].mean()
    return coef, float(problem.value)
