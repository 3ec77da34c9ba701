"""General-sum competitive gradient descent (the block system, solved by GMRES or LU)."""

import warnings

import numpy as np
import scipy.linalg
from scipy.sparse.linalg import LinearOperator, gmres

from skcgd._validation import check_integer
from skcgd.exceptions import ConvergenceWarning
from skcgd.solvers._base import BaseGameSolver

__all__ = ["GeneralSumCGD"]


class _AsGeneralSum:
    """View of a zero-sum game as a general-sum one (y minimises g = -f)."""

    zero_sum = False

    def __init__(self, game):
        self.game = game
        self.n_x, self.n_y = game.n_x, game.n_y

    def grads(self, x, y):
        gx, gy = self.game.grads(x, y)
        return gx, -gy

    def mixed(self, x, y):
        op = self.game.mixed(x, y)
        return op, _NegTranspose(op)

    def curvature_x(self, x, y):
        return self.game.curvature_x(x, y)

    def curvature_y(self, x, y):
        return self.game.curvature_y(x, y)

    def value(self, x, y):
        v = self.game.value(x, y)
        return v, -v


class _NegTranspose:
    def __init__(self, op):
        self.op = op
        self.shape = (op.shape[1], op.shape[0])

    def matvec(self, v):
        return -self.op.rmatvec(v)

    def toarray(self):
        return -self.op.toarray().T


class GeneralSumCGD(BaseGameSolver):
    r"""Competitive gradient descent for general-sum games (x minimises f, y minimises g).

    Parameters
    ----------
    eta : float, (float, float) or "auto", default=0.1
        Step sizes ``(eta_x, eta_y)``.
    max_iter : int, default=1000
    tol : float, default=1e-6
        Stop when :math:`\sqrt{\|\nabla_x f\|^2 + \|\nabla_y g\|^2} \le` ``tol``.
    linear_solver : {"auto", "gmres", "direct"}, default="auto"
        The block system is not symmetric, so CG does not apply: GMRES (matrix-free,
        warm-started) or a dense LU factorisation; ``"auto"`` uses LU up to 500 unknowns.
    gmres_tol : float, default=1e-8
        Relative tolerance of GMRES.
    gmres_max_iter : int, default=None
        Maximum GMRES iterations per step (``None``: ``10 * (m + n)``).
    divergence_factor : float, default=1e10
    verbose : int, default=0

    Notes
    -----
    One step solves the block system (Schäfer & Anandkumar 2019, Algorithm 1)

    .. math::

        \begin{pmatrix} I & \eta_x D^2_{xy} f \\ \eta_y D^2_{yx} g & I \end{pmatrix}
        \begin{pmatrix} \Delta x \\ \Delta y \end{pmatrix}
        = -\begin{pmatrix} \eta_x \nabla_x f \\ \eta_y \nabla_y g \end{pmatrix},

    the Nash equilibrium of the local bilinear game with quadratic regularisation. A zero-sum
    game (``zero_sum=True``) is played as ``g = -f``; the step then equals :class:`CGD`'s.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.games import GeneralSumQuadraticGame
    >>> from skcgd.solvers import GeneralSumCGD
    >>> game = GeneralSumQuadraticGame(np.eye(2), np.eye(2), np.eye(2), -0.5 * np.eye(2),
    ...                                a=[1.0, 2.0])
    >>> res = GeneralSumCGD(eta=0.5, tol=1e-10).run(game, np.zeros(2), np.zeros(2))
    >>> np.allclose(res.x, game.nash_equilibrium()[0]), bool(res.converged)
    (True, True)
    """

    _zero_sum = None
    _solves_linear_systems = True

    def __init__(
        self,
        eta=0.1,
        *,
        max_iter=1000,
        tol=1e-6,
        linear_solver="auto",
        gmres_tol=1e-8,
        gmres_max_iter=None,
        divergence_factor=1e10,
        verbose=0,
    ):
        super().__init__(
            eta, max_iter=max_iter, tol=tol, divergence_factor=divergence_factor, verbose=verbose
        )
        self.linear_solver = linear_solver
        self.gmres_tol = gmres_tol
        self.gmres_max_iter = gmres_max_iter

    def _check_params(self):
        super()._check_params()
        if self.linear_solver not in ("auto", "gmres", "direct"):
            raise ValueError(
                f"linear_solver must be 'auto', 'gmres' or 'direct', got {self.linear_solver!r}."
            )
        if self.gmres_max_iter is not None:
            check_integer(self.gmres_max_iter, "gmres_max_iter", minimum=1)

    def _wrap(self, game):
        return _AsGeneralSum(game) if getattr(game, "zero_sum", True) else game

    def init(self, game, x0, y0):
        """Initial state (a zero-sum game is viewed as general-sum with g = -f)."""
        return super().init(self._wrap(game), x0, y0)

    def update(self, game, state):
        """One general-sum CGD step (see the class docstring)."""
        game = self._wrap(game)
        eta_x, eta_y, z_prev, failures = state.aux
        gx, gy = state.grad_x, state.grad_y
        Bf, Cg = game.mixed(state.x, state.y)
        m, n = game.n_x, game.n_y
        rhs = -np.concatenate([eta_x * gx, eta_y * gy])
        method = self.linear_solver
        if method == "auto":
            method = "direct" if m + n <= 500 else "gmres"
        if method == "direct":
            # eta_x, eta_y may be per-coordinate vectors: they scale the block rows
            K = np.block(
                [
                    [np.eye(m), np.reshape(eta_x, (-1, 1)) * Bf.toarray()],
                    [np.reshape(eta_y, (-1, 1)) * Cg.toarray(), np.eye(n)],
                ]
            )
            if np.isfinite(K).all() and np.isfinite(rhs).all():
                z = scipy.linalg.lu_solve(scipy.linalg.lu_factor(K), rhs)
            else:  # overflowed: the run stops with a DivergenceError naming the step sizes
                z = np.full(m + n, np.nan)
            n_inner = 0
        else:

            def matvec(v):
                return np.concatenate(
                    [v[:m] + eta_x * Bf.matvec(v[m:]), v[m:] + eta_y * Cg.matvec(v[:m])]
                )

            K = LinearOperator((m + n, m + n), matvec=matvec, dtype=np.float64)
            counter = [0]

            def count(_):
                counter[0] += 1

            # scipy's maxiter counts restart cycles; ours counts inner iterations
            max_inner = self.gmres_max_iter or 10 * (m + n)
            restart = min(m + n, 50, max_inner)
            z, info = gmres(
                K,
                rhs,
                x0=z_prev,
                rtol=self.gmres_tol,
                atol=0.0,
                restart=restart,
                maxiter=-(-max_inner // restart),
                callback=count,
                callback_type="pr_norm",
            )
            n_inner = counter[0]
            failures += info != 0
        return self._new_state(
            game, state, state.x + z[:m], state.y + z[m:], n_inner, (eta_x, eta_y, z, failures)
        )

    def _init_aux(self, game, x, y, gx, gy):
        eta_x, eta_y = self._step_sizes(game, x, y)
        return (eta_x, eta_y, None, 0)

    def _finish(self, game, result, warn):
        state = result.state
        failures = state.aux[3] if state.aux is not None else 0
        if warn and failures:
            warnings.warn(
                f"GeneralSumCGD: GMRES did not reach gmres_tol={self.gmres_tol:g} in {failures} "
                f"of {state.n_iter} steps; those steps were inexact. Increase gmres_max_iter, or "
                "use linear_solver='direct' when m + n is small.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def run(self, game, x0, y0, callback=None, *, warn=True):
        """Play the game; see :meth:`BaseGameSolver.run`."""
        return super().run(self._wrap(game), x0, y0, callback=callback, warn=warn)
