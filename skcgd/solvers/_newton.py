r"""Newton's method on the primal of a game whose adversary has a closed-form best response.

For the reweighted logistic games of :mod:`skcgd.games` the adversary's best response is
closed-form and unique, so eliminating it from the Newton system of the saddle point,

.. math::

    \begin{pmatrix} H_{xx} & B \\ B^T & H_{yy} \end{pmatrix}
    \begin{pmatrix} \Delta x \\ \Delta y \end{pmatrix} = -\begin{pmatrix} g_x \\ g_y \end{pmatrix}
    \;\Longrightarrow\;
    (H_{xx} - B H_{yy}^{-1} B^T)\, \Delta x = -(g_x - B H_{yy}^{-1} g_y),

gives, at the adversary's best response (``g_y = 0``), exactly Newton's method on the primal
:math:`P(x) = \max_y f(x, y)`: the Schur complement is :math:`\nabla^2 P`. It keeps both
players' own curvature (which CGD's local game leaves out), so it converges quadratically
where a first-order player needs a number of steps proportional to the condition number.
"""

import warnings

import numpy as np
import scipy.linalg

from skcgd._linalg import conjugate_gradient, python_cg
from skcgd._validation import check_integer, check_non_negative, check_point
from skcgd.exceptions import ConvergenceWarning
from skcgd.solvers._base import BaseGameSolver, GameSolverResult, GameState, check_game

__all__ = ["Newton"]

_LINEAR_SOLVERS = ("auto", "cholesky", "cg")
# a Hessian of up to this many unknowns is formed and factorised ("auto")
_CHOLESKY_SIZE = 300


class _NewtonAux:
    __slots__ = ("value", "terms", "method", "factor", "g0", "norms", "values", "decrement")

    def __init__(self, value, terms, method, factor, g0, norms, values, decrement=np.inf):
        self.value, self.terms, self.method = value, terms, method
        self.factor, self.g0, self.norms, self.values = factor, g0, norms, values
        # the squared Newton decrement g^T H^-1 g of the step that led here (inf at the start)
        self.decrement = decrement


class Newton(BaseGameSolver):
    r"""Newton's method on the primal :math:`P(x) = \max_y f(x, y)`, with a line search.

    For games whose max player has a closed-form, unique best response (the reweighted
    logistic games of :mod:`skcgd.games`): the game provides the primal and the structure of
    its Hessian (``primal_evaluate``, ``primal_hessian_operator``, ``primal_hessian_matrix``)
    and ``best_response``. It follows the call order of the other solvers (:meth:`init`,
    :meth:`update`, :meth:`run`) and returns the same :class:`GameSolverResult`, whose ``y``
    is the best response at the solution.

    Parameters
    ----------
    max_iter : int, default=100
        Maximum number of Newton steps.
    tol : float, default=1e-6
        Stop when :math:`\|\nabla P(x)\| \le` ``tol`` (absolute) and, with
        ``decrement_tol``, the objective is certified.
    decrement_tol : float, default=None
        Also require :math:`\lambda^2 / 2 \le` ``decrement_tol`` :math:`\cdot |P(x)|` for the
        squared Newton decrement :math:`\lambda^2 = \nabla P^T (\nabla^2 P)^{-1} \nabla P` of
        the last step: near the optimum :math:`\lambda^2/2` estimates :math:`P(x) - P^*`, so
        this certifies the objective to that relative accuracy whatever the scale of the
        gradient (which a gradient test relative to its start cannot: with a large ``C`` on
        separable data it passes far from the optimum).
    linear_solver : {"auto", "cholesky", "cg"}, default="auto"
        How each Newton system is solved: a Cholesky factorisation of the Hessian formed from
        row blocks of the data, or matrix-free conjugate gradient (products in one or two
        passes over the data) to a forcing tolerance :math:`\min(0.5,
        \sqrt{\|\nabla P\| / \|\nabla P(x_0)\|})`. ``"auto"``: Cholesky up to 300 unknowns, CG
        above. With Cholesky, later steps reuse the last factor as the preconditioner of CG on
        the current Hessian and refactor only when that CG needs many iterations.
    cg_max_iter : int, default=None
        Maximum CG iterations per Newton system (``None``: ``max(10 n, 100)``).
    verbose : int, default=0
        Print progress every ``verbose`` steps.

    See Also
    --------
    CGD : plays the game itself, for adversaries without a closed-form best response.

    Notes
    -----
    One step: form :math:`\nabla P` and the Hessian's structure at :math:`x_k`, solve
    :math:`\nabla^2 P\, d = -\nabla P` (exactly or inexactly), then backtrack
    :math:`t = 1, 1/2, \dots` until the Armijo condition
    :math:`P(x_k + t d) \le P(x_k) + 10^{-4} t\, \nabla P^T d` holds. When :math:`P` can no
    longer tell two points apart (its change is within its rounding), a step that shrinks
    the gradient is accepted. The run stops early, without convergence, when no step is
    possible at machine precision or when twenty steps barely moved the gradient (the
    objective is flat to rounding there).

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.games import KLLogisticGame
    >>> from skcgd.solvers import Newton
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 1.0]])
    >>> game = KLLogisticGame(X, [1, -1, 1, -1], rho=2.0, fit_intercept=True)
    >>> result = Newton(tol=1e-10).run(game, np.zeros(game.n_x))
    >>> result
    GameSolverResult(n_iter=4, converged=True, error=...)
    >>> bool(np.isclose(result.y.sum(), 1.0))        # the adversary's best response p*
    True
    """

    _required = (
        "n_x",
        "primal_evaluate",
        "primal_hessian_operator",
        "primal_hessian_matrix",
        "best_response",
    )
    _zero_sum = None
    _solves_linear_systems = True

    def __init__(
        self,
        *,
        max_iter=100,
        tol=1e-6,
        decrement_tol=None,
        linear_solver="auto",
        cg_max_iter=None,
        verbose=0,
    ):
        # Newton decreases the objective monotonically: its gradient norm may grow on the
        # way without anything diverging
        super().__init__(
            None, max_iter=max_iter, tol=tol, divergence_factor=np.inf, verbose=verbose
        )
        self.decrement_tol = decrement_tol
        self.linear_solver = linear_solver
        self.cg_max_iter = cg_max_iter

    def _params(self):
        params = super()._params()
        params.pop("eta", None)
        params.pop("divergence_factor", None)
        return params

    def _check_params(self):
        super()._check_params()
        if self.linear_solver not in _LINEAR_SOLVERS:
            raise ValueError(
                f"linear_solver must be one of {_LINEAR_SOLVERS}, got {self.linear_solver!r}."
            )
        if self.cg_max_iter is not None:
            check_integer(self.cg_max_iter, "cg_max_iter", minimum=1)
        if self.decrement_tol is not None:
            check_non_negative(self.decrement_tol, "decrement_tol")

    def init(self, game, x0, y0=None):
        """Check the game and the start point; evaluate the primal there.

        ``y0`` is ignored: the adversary plays its best response to every ``x``.
        """
        self._check_params()
        check_game(game, self.name, self._required, zero_sum=None)
        x = check_point(x0, game.n_x, "x0")
        value, grad, terms = game.primal_evaluate(x)
        error = float(np.linalg.norm(grad))
        method = self.linear_solver
        if method == "auto":
            method = "cholesky" if game.n_x <= _CHOLESKY_SIZE else "cg"
        aux = _NewtonAux(value, terms, method, None, max(error, 1e-300), [error], [value])
        return GameState(x, np.zeros(0), 0, error, grad, np.zeros(0), 0, aux)

    def _direction(self, game, state):
        """The Newton direction at ``state`` and the CG iterations it took."""
        aux, x, grad = state.aux, state.x, state.grad_x
        n = game.n_x
        rtol = min(0.5, np.sqrt(state.error / aux.g0))
        if aux.method == "cg":
            op = game.primal_hessian_operator(x, aux.terms)
            d, cg_iter, _ = conjugate_gradient(
                op, -grad, tol=rtol, max_iter=self.cg_max_iter or max(10 * n, 100)
            )
            return d, cg_iter
        if aux.factor is not None:
            # Forming the Hessian is the most expensive part of a step (n q^2 flops); the
            # Hessian changes little between steps, so an earlier factor preconditions CG on
            # the new one well (a few one-pass products). Refactor when that stops paying.
            op = game.primal_hessian_operator(x, aux.terms)
            factor = aux.factor
            # an inexact direction is enough (the line search checks it): the recursive
            # residual is trusted, saving the product that would confirm it
            d, cg_iter, ok = python_cg(
                op.matvec,
                -grad,
                np.zeros(n),
                rtol,
                0.0,
                max(n // 2, 10),
                precond=lambda r: scipy.linalg.cho_solve(factor, r),
                confirm=False,
            )
            if not ok or cg_iter > max(8, n // 10):
                aux.factor = None  # too far from the old Hessian: factor the new one next
            if ok:
                return d, cg_iter
        H = game.primal_hessian_matrix(x, aux.terms)
        try:
            aux.factor = scipy.linalg.cho_factor(H, lower=True)
            return scipy.linalg.cho_solve(aux.factor, -grad), 0
        except np.linalg.LinAlgError:  # numerically singular: a tiny ridge restores it
            H[np.diag_indices_from(H)] += 1e-10 * max(1.0, np.abs(H).max())
            aux.factor = None
            return scipy.linalg.solve(H, -grad, assume_a="sym"), 0

    def update(self, game, state):
        """One damped Newton step; returns ``state`` itself when no step is possible."""
        aux, x, grad = state.aux, state.x, state.grad_x
        d, cg_iter = self._direction(game, state)
        slope = float(grad @ d)
        decrement = -slope  # lambda^2 = g^T H^-1 g, from the (inexact) Newton direction
        if not slope < 0:  # not a descent direction (inexact solve): use the gradient
            d = -grad
            slope = -float(grad @ grad)
            decrement = np.inf
        F, gnorm = aux.value, state.error
        t = 1.0
        for _ in range(60):
            x_new = x + t * d
            F_new = game.primal(x_new)
            if np.isfinite(F_new) and F_new <= F + 1e-4 * t * slope:
                accepted = game.primal_evaluate(x_new)
                break
            if np.isfinite(F_new) and F_new - F <= 64 * np.finfo(float).eps * abs(F):
                # The change in P is within its rounding: P can no longer tell the points
                # apart, the gradient still can. Accept the step if the gradient shrinks.
                trial = game.primal_evaluate(x_new)
                if np.linalg.norm(trial[1]) < gnorm:
                    accepted = trial
                    break
            t *= 0.5
        else:
            return state  # no progress possible at machine precision: the run stops
        value, grad_new, terms = accepted
        error = float(np.linalg.norm(grad_new))
        new_aux = _NewtonAux(
            value,
            terms,
            aux.method,
            aux.factor,
            aux.g0,
            (aux.norms + [error])[-21:],
            (aux.values + [value])[-21:],
            decrement,
        )
        return GameState(
            x_new, state.y, state.n_iter + 1, error, grad_new, state.y, int(cg_iter), new_aux
        )

    def _converged(self, state):
        gradient_met = super()._converged(state)
        if self.decrement_tol is None:
            return gradient_met
        # the decrement of the step that led here bounds the gap before it, and the step
        # (a full one near the optimum) shrinks the gap further
        aux = state.aux
        gap = aux.decrement / 2.0
        scale = max(abs(aux.value), 1e-300)
        if gap > self.decrement_tol * scale:
            return False
        # a gradient test below what rounding lets the gradient reach (an ill-conditioned
        # Hessian) cannot be met; a gap at machine precision certifies the point instead
        return gradient_met or gap <= 1e3 * np.finfo(float).eps * scale

    def _stalled(self, state):
        # twenty Newton steps that barely moved the gradient nor the objective: it is flat
        # to rounding here, more steps will not help
        aux = state.aux
        norms, values = aux.norms, aux.values
        if state.n_iter < 20 or len(norms) < 21:
            return False
        scale = max(abs(values[-1]), 1e-300)
        return norms[-1] > 0.9 * norms[0] and values[0] - values[-1] <= 1e-12 * scale

    def _not_converged_message(self, game, start, state, stalled):
        why = (
            "stopped: the objective is flat to rounding there, more steps would not help"
            if stalled
            else f"ran out of max_iter={self.max_iter} steps"
        )
        return (
            f"Newton did not reach tol={self.tol:g}: it {why} (gradient norm "
            f"{state.error:.3e}). Increase max_iter, loosen tol, or scale the data (e.g. "
            "StandardScaler)."
        )

    def _finish(self, game, result, warn):
        # the adversary's strategy at the solution: its best response
        result.y = game.best_response(result.x)

    def _eta_text(self, game, state):
        return "(none: Newton takes full steps with a line search)"

    def _divergence_message(self, game, start, previous, state):
        return (
            f"Newton stopped at step {state.n_iter}: the primal's gradient became non-finite. "
            "The problem's scale is outside what float64 can handle: rescale X (e.g. "
            "StandardScaler), the sample weights or C."
        )

    def run(self, game, x0, y0=None, callback=None, *, warn=True):
        """Minimise the primal from ``x0``; see :meth:`BaseGameSolver.run`.

        ``y0`` is ignored (the adversary plays its best response); ``result.y`` is the best
        response at the solution. A game whose primal is not smooth offers a smoothing
        ``P_mu <= P`` (``start_smoothing(x)``, ``smoothing_gap(x) = P(x) - P_mu(x)``,
        ``update_smoothing(x)``; e.g. :class:`~skcgd.games.CVaRLogisticGame`): Newton then
        minimises the smoothed primals stage by stage, each from the last solution, until
        ``smoothing_gap + lambda^2 / 2``, a bound on ``P(x) - P*``, is below
        ``min(decrement_tol, 1e-9)`` (``1e-10`` without it) times ``|P(x)|``; ``max_iter``
        bounds the Newton steps of all stages together.
        """
        if getattr(game, "start_smoothing", None) is None:
            return super().run(game, x0, y0, callback=callback, warn=warn)
        return self._run_continuation(game, x0, callback, warn)

    def _run_continuation(self, game, x0, callback, warn):
        self._check_params()
        x = check_point(x0, game.n_x, "x0")
        # the stages' certificate aims below 1e-9 whatever decrement_tol says: the smoothed
        # solutions approach the exact one only linearly, and a loose last stage would leave
        # the coefficients far less accurate than Newton's quadratic end gives the others
        rtol = 1e-10 if self.decrement_tol is None else min(self.decrement_tol, 1e-9)
        steps, hist, result, converged = 0, None, None, False
        game.start_smoothing(x)
        while True:
            stage = Newton(
                max_iter=self.max_iter - steps,
                tol=self.tol,
                decrement_tol=rtol,
                linear_solver=self.linear_solver,
                cg_max_iter=self.cg_max_iter,
            )
            offset = steps

            def shifted(state, offset=offset):
                # callers see one run: steps numbered across the stages
                if callback is None:
                    return False
                return callback(state._replace(n_iter=offset + state.n_iter))

            result = BaseGameSolver.run(stage, game, x, None, callback=shifted, warn=False)
            steps += result.n_iter
            x = result.x
            h = result.history
            if hist is None:
                hist = {k: list(v) for k, v in h.items()}
            else:  # the stage's start is the last stage's end: not a step
                for k in ("grad_norm", "grad_norm_x", "grad_norm_y"):
                    hist[k] += list(h[k][1:])
                hist["cg_iter"] += list(h["cg_iter"])
            # P(x) - P* <= (P(x) - P_mu(x)) + (P_mu(x) - P_mu*), and the last term is the
            # stage's certified gap (its decrement); P_mu* <= P*
            bound = game.smoothing_gap(x) + result.state.aux.decrement / 2.0
            if result.converged and bound <= rtol * max(abs(game.primal(x)), 1e-300):
                converged = True
                break
            if steps >= self.max_iter or (not result.converged and result.n_iter == 0):
                break
            game.update_smoothing(x)
        if warn and not converged:
            warnings.warn(
                self._not_converged_message(game, None, result.state, False),
                ConvergenceWarning,
                stacklevel=2,
            )
        history = {
            k: np.asarray(v, dtype=int if k == "cg_iter" else float) for k, v in hist.items()
        }
        state = result.state._replace(n_iter=steps)
        return GameSolverResult(x, result.y, steps, converged, history, state)
