r"""Newton's method on the saddle system of a reweighted logistic game.

For the games of :mod:`skcgd.games` the adversary's best response is closed-form and unique, so
eliminating it from the Newton system of the saddle point,

.. math::

    \begin{pmatrix} H_{WW} & B \\ B^T & H_{qq} \end{pmatrix}
    \begin{pmatrix} \Delta W \\ \Delta q \end{pmatrix} = -\begin{pmatrix} g_W \\ g_q \end{pmatrix}
    \;\Longrightarrow\;
    (H_{WW} - B H_{qq}^{-1} B^T)\, \Delta W = -(g_W - B H_{qq}^{-1} g_q),

gives, at the adversary's best response (``g_q = 0``), exactly Newton's method on the primal
:math:`P(W) = \max_q f(W, q)`: the Schur complement is :math:`\nabla^2 P`. It keeps both players'
own curvature (which CGD's local game leaves out), so it converges quadratically where a
first-order player needs a number of steps proportional to the condition number.

The Hessian has the structure

.. math::

    \nabla^2 P = \sum_i \omega_i \nabla^2 l_i + \sum_i c_i \nabla l_i \nabla l_i^T
                 + U S U^T + I_{\text{pen}},

per-sample weights :math:`\omega_i` (the adversary's weights), a Gauss-Newton term from the
adversary's response (:math:`c_i`), a low-rank term (KL and group adversaries) and the penalty
(no curvature on the intercepts). It is solved by Cholesky (formed from row blocks of X, for a
small number of coefficients) or by conjugate gradient with products in one or two passes over
X, inexactly (forcing term ``min(0.5, sqrt(||g|| / ||g_0||))``), with an Armijo line search.
"""

import numpy as np
import scipy.linalg
from scipy.sparse.linalg import LinearOperator

from skcgd.games._logistic import _LogisticMixedOperator, _row_gram
from skcgd.solvers._cg import RowGramOperator, _python_cg, conjugate_gradient

__all__ = ["ReweightedPrimal", "newton_solve"]


class ReweightedPrimal:
    """The closed-form primal of a reweighted logistic game and its derivatives.

    Parameters
    ----------
    game : Chi2LogisticGame, KLLogisticGame or GroupKLLogisticGame
        Provides the data layer (losses, products with X) and the adversary's best response.
    adversary : {"none", "chi2", "kl", "group"}
        ``"none"`` ignores the adversary (plain L2 logistic regression on the game's data).
    """

    def __init__(self, game, adversary):
        self.game = game
        self.adversary = adversary
        K, q = game.K, game.q
        self.n = K * q
        pen = np.ones((K, q))
        if game.fit_intercept:
            pen[:, -1] = 0.0
        self.pen = pen.ravel()
        # softmax losses do not change when the same number is added to every intercept: a
        # flat direction of the objective. The gradient has no component along it, so adding
        # its projector to the Hessian makes the Newton step unique without moving along it.
        self._use_fused = K == 1 and adversary in ("none", "chi2")
        self._fused_x = self._fused_grad = None
        self.flat = None
        if K > 1 and game.fit_intercept:
            e = np.zeros((K, q))
            e[:, -1] = 1.0 / np.sqrt(K)
            self.flat = e.ravel()

    def _fused(self, x):
        """Binary plain / chi2 primal: losses and gradient in one pass over X, cached.

        The sample weights of these primals, ``C s_i (1 + rho l_i)``, are affine in the loss,
        so the gradient comes with the margins; a line search that evaluates P at a point
        then leaves its gradient ready for the next Newton step.
        """
        if self._fused_x is not None and np.array_equal(x, self._fused_x):
            return self._fused_grad
        g = self.game
        c0 = g.C * g.sample_weight
        c1 = c0 * g.rho if self.adversary == "chi2" else np.zeros_like(c0)
        _, _, grad = g._loss_grad_binary(x, c0, c1)
        self._fused_x, self._fused_grad = np.array(x, dtype=np.float64), grad
        return grad

    def value(self, x):
        """P(W)."""
        g = self.game
        if self._use_fused:
            self._fused(x)  # fills the game's loss cache, keeps the gradient
        if self.adversary == "none":
            loss, _ = g._loss(x)
            return float(g.C * (g.sample_weight @ loss) + g._penalty(g.coef_matrix(x)))
        return g.primal(x)

    def evaluate(self, x):
        """Return ``(P(W), grad P(W), aux)``; ``aux`` feeds the Hessian products."""
        g = self.game
        fused_grad = self._fused(x) if self._use_fused else None
        loss, G = g._loss(x)
        C, s = g.C, g.sample_weight
        c = None
        low = []  # (coefficient, matrix U): the term coefficient * U U^T
        if self.adversary == "none":
            omega = C * s
            adv = None
        elif self.adversary == "chi2":
            adv = g.best_response(x)
            omega = C * s * (1.0 + adv)
            c = C * s * g.rho
        elif self.adversary == "kl":
            adv = g.best_response(x)
            omega = C * g.N * adv
            c = omega / g.tau
            m = (g._grad_W(x, omega) - self.pen * x) / np.sqrt(C * g.N)
            low.append((-1.0 / g.tau, m[:, None]))
        else:  # group
            adv = g.best_response(x)
            omega = g._sample_weights(adv)
            M = g.group_gradients(x)  # columns grad L_g
            scale = C * g.N / g.tau
            low.append((scale, M * np.sqrt(adv)[None, :]))
            low.append((-scale, (M @ adv)[:, None]))
        grad = g._grad_W(x, omega) if fused_grad is None else fused_grad
        return self.value(x), grad, (G, omega, c, low, adv)

    def _binary_weights(self, G, omega, c):
        s = np.abs(G[:, 0])  # sigmoid(-m_i); the loss curvature is s (1 - s)
        w = omega * s * (1.0 - s)
        if c is not None:
            w = w + c * G[:, 0] ** 2
        return w

    def hessian_operator(self, x, aux):
        """The Hessian as a LinearOperator (fused one-pass products for the binary loss)."""
        g = self.game
        G, omega, c, low, _ = aux
        pen, flat = self.pen, self.flat
        if g.K == 1:
            op = RowGramOperator(
                g.X,
                None,
                hy=self._binary_weights(G, omega, c),
                dx=1.0,
                fit_intercept=g.fit_intercept,
                check_input=False,
            )
            base = op.matvec
            ident = 1.0 - pen  # RowGramOperator adds I; the intercept has no penalty

            def data_part(v):
                return base(v) - ident * v
        else:
            gn = (
                None
                if c is None
                else _LogisticMixedOperator(
                    g.X, np.ascontiguousarray(G * np.sqrt(c)[:, None]), g.fit_intercept
                )
            )

            def data_part(v):
                out = g._loss_hessian_matvec(G, omega, v) + pen * v
                if gn is not None:
                    out += gn.matvec(gn.rmatvec(v))
                return out

        def matvec(v):
            out = data_part(v)
            for coef, U in low:
                out += coef * (U @ (U.T @ v))
            if flat is not None:
                out += flat * (flat @ v)
            return out

        return LinearOperator((self.n, self.n), matvec=matvec, dtype=np.float64)

    def hessian_matrix(self, x, aux):
        """The Hessian as a dense matrix, accumulated from row blocks of X."""
        g = self.game
        G, omega, c, low, _ = aux
        fi = g.fit_intercept
        if g.K == 1:
            H = _row_gram(g.X, np.sqrt(self._binary_weights(G, omega, c))[:, None], fi)
        else:
            K, q = g.K, g.q
            P = G.copy()
            P[np.arange(g.n_samples), g.labels] += 1.0
            H = -_row_gram(g.X, P * np.sqrt(omega)[:, None], fi)
            for k in range(K):
                block = _row_gram(g.X, np.sqrt(omega * P[:, k])[:, None], fi)
                H[k * q : (k + 1) * q, k * q : (k + 1) * q] += block
            if c is not None:
                H += _row_gram(g.X, G * np.sqrt(c)[:, None], fi)
        for coef, U in low:
            H += coef * (U @ U.T)
        H[np.diag_indices_from(H)] += self.pen
        if self.flat is not None:
            H += np.outer(self.flat, self.flat)
        return H


def newton_solve(
    primal, x0, *, tol, max_iter, linear_solver="auto", cg_max_iter=None, callback=None
):
    """Minimise ``primal`` by Newton's method with an Armijo line search.

    Parameters
    ----------
    primal : ReweightedPrimal
    x0 : ndarray of shape (n,)
    tol : float
        Absolute tolerance on the gradient norm.
    max_iter : int
    linear_solver : {"auto", "cholesky", "cg"}
        ``"auto"``: Cholesky up to 300 unknowns, CG above. With Cholesky, later steps reuse
        the last factor as the preconditioner of CG on the current Hessian, and refactor only
        when that CG needs many iterations.
    cg_max_iter : int or None
    callback : callable or None
        Called as ``callback(n_iter, x, value, grad_norm, cg_iter)`` after every step.

    Returns
    -------
    x : ndarray
    n_iter : int
    converged : bool
    history : dict of lists
        ``"objective"``, ``"grad_norm"`` (before the first and after every step), ``"cg_iter"``.
    """
    x = np.array(x0, dtype=np.float64)
    F, grad, aux = primal.evaluate(x)
    g0 = max(float(np.linalg.norm(grad)), 1e-300)
    hist = {"objective": [F], "grad_norm": [float(np.linalg.norm(grad))], "cg_iter": []}
    method = linear_solver
    if method == "auto":
        method = "cholesky" if primal.n <= 300 else "cg"
    factor = None  # Cholesky factor of an earlier Hessian, reused as a preconditioner
    n_iter = 0
    converged = hist["grad_norm"][-1] <= tol
    while not converged and n_iter < max_iter:
        gnorm = hist["grad_norm"][-1]
        cg_iter = 0
        rtol = min(0.5, np.sqrt(gnorm / g0))
        if method == "cholesky" and factor is not None:
            # Forming the Hessian is the most expensive part of a step (n q^2 flops); the
            # Hessian changes little between steps, so an earlier factor preconditions CG on
            # the new one well (a few one-pass products). Refactor when that stops paying.
            op = primal.hessian_operator(x, aux)
            # an inexact direction is enough (the line search checks it): the recursive
            # residual is trusted, saving the product that would confirm it
            d, cg_iter, ok = _python_cg(
                op.matvec,
                -grad,
                np.zeros(primal.n),
                rtol,
                0.0,
                max(primal.n // 2, 10),
                precond=lambda r: scipy.linalg.cho_solve(factor, r),
                confirm=False,
            )
            if not ok or cg_iter > max(8, primal.n // 10):
                factor = None  # too far from the old Hessian: factor the new one next time
                if not ok:
                    d = None
        else:
            d = None
        if method == "cholesky" and d is None:
            H = primal.hessian_matrix(x, aux)
            try:
                factor = scipy.linalg.cho_factor(H, lower=True)
                d = scipy.linalg.cho_solve(factor, -grad)
            except np.linalg.LinAlgError:  # numerically singular: a tiny ridge restores it
                H[np.diag_indices_from(H)] += 1e-10 * max(1.0, np.abs(H).max())
                factor = None
                d = scipy.linalg.solve(H, -grad, assume_a="sym")
        elif method == "cg":
            op = primal.hessian_operator(x, aux)
            d, cg_iter, _ = conjugate_gradient(
                op, -grad, tol=rtol, max_iter=cg_max_iter or max(10 * primal.n, 100)
            )
        slope = float(grad @ d)
        if not slope < 0:  # not a descent direction (inexact solve): use the gradient
            d = -grad
            slope = -float(grad @ grad)
        t = 1.0
        accepted = None
        for _ in range(60):
            x_new = x + t * d
            F_new = primal.value(x_new)
            if np.isfinite(F_new) and F_new <= F + 1e-4 * t * slope:
                accepted = primal.evaluate(x_new)
                break
            if np.isfinite(F_new) and F_new - F <= 64 * np.finfo(float).eps * abs(F):
                # The change in P is within its rounding: P can no longer tell the points
                # apart, the gradient still can. Accept the step if the gradient shrinks.
                trial = primal.evaluate(x_new)
                if np.linalg.norm(trial[1]) < gnorm:
                    accepted = trial
                    break
            t *= 0.5
        if accepted is None:
            break  # no progress possible at machine precision: stop (the caller warns)
        x = x_new
        F, grad, aux = accepted
        n_iter += 1
        hist["objective"].append(F)
        hist["grad_norm"].append(float(np.linalg.norm(grad)))
        hist["cg_iter"].append(int(cg_iter))
        converged = hist["grad_norm"][-1] <= tol
        if callback is not None:
            callback(n_iter, x, F, hist["grad_norm"][-1], cg_iter)
        if not converged and n_iter >= 20 and hist["grad_norm"][-1] > 0.9 * hist["grad_norm"][-21]:
            # twenty Newton steps that barely moved the gradient: the objective is flat to
            # rounding here, more steps will not help (the caller warns)
            break
    return x, n_iter, converged, hist
