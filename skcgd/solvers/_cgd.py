"""Competitive gradient descent: CGD, ACGD and competitive mirror descent (zero-sum)."""

import warnings

import numpy as np

from skcgd._linalg import MixedOperator
from skcgd._validation import check_integer, check_non_negative
from skcgd.exceptions import ConvergenceWarning
from skcgd.solvers._base import BaseGameSolver, GameState, _norm

__all__ = ["CGD", "ACGD", "CompetitiveMirrorDescent"]

_LINEAR_SOLVERS = ("auto", "cg", "cholesky")
# the largest step of a simplex player in its mirror coordinates log v (a factor e^2)
_MIRROR_RADIUS = 2.0


def _mixed_operator(game, x, y):
    op = game.mixed(x, y)
    return op[0] if isinstance(op, tuple) else op


class _CGDStep:
    """What one competitive step produced."""

    __slots__ = ("dx", "dy", "z", "side", "cg_iter", "cg_converged", "method", "op")

    def __init__(self, dx, dy, z, side, cg_iter, cg_converged, method):
        self.dx, self.dy, self.z, self.side = dx, dy, z, side
        self.cg_iter, self.cg_converged, self.method = cg_iter, cg_converged, method
        self.op = None


class _CompetitiveBase(BaseGameSolver):
    """The zero-sum competitive step with diagonal steps, shared by CGD, ACGD and mirror CGD.

    With positive diagonal steps ``Hx`` (m) and ``Hy`` (n) and ``B = D2_xy f``, the step is the
    Nash equilibrium of the local bilinear game with quadratic regularisation:

        dx = -Hx (grad_x f + B dy),   dy = Hy (grad_y f + B^T dx).

    Solving for the smaller player (``side="x"`` when m <= n) with the symmetric substitution
    ``dx = Hx^(1/2) z``:

        (I + Hx^(1/2) B Hy B^T Hx^(1/2)) z = -Hx^(1/2) (grad_x f + B Hy grad_y f)
        dy = Hy (grad_y f + B^T dx)                       # one mixed product

    and for ``side="y"`` (``dy = Hy^(1/2) z``):

        (I + Hy^(1/2) B^T Hx B Hy^(1/2)) z = Hy^(1/2) (grad_y f - B^T Hx grad_x f)
        dx = -Hx (grad_x f + B dy).

    The system is SPD (spectrum in [1, 1 + ||Hx^(1/2) B Hy^(1/2)||^2]), solved by conjugate
    gradient warm-started from the previous step's ``z``, or by a Cholesky factorisation.
    """

    _solves_linear_systems = True

    def __init__(
        self,
        eta=0.1,
        *,
        max_iter=1000,
        tol=1e-6,
        linear_solver="auto",
        cg_tol=1e-6,
        cg_atol=0.0,
        cg_max_iter=None,
        solve_for="auto",
        divergence_factor=1e10,
        verbose=0,
    ):
        super().__init__(
            eta, max_iter=max_iter, tol=tol, divergence_factor=divergence_factor, verbose=verbose
        )
        self.linear_solver = linear_solver
        self.cg_tol = cg_tol
        self.cg_atol = cg_atol
        self.cg_max_iter = cg_max_iter
        self.solve_for = solve_for

    def _check_params(self):
        super()._check_params()
        if self.linear_solver not in _LINEAR_SOLVERS:
            raise ValueError(
                f"linear_solver must be one of {_LINEAR_SOLVERS}, got {self.linear_solver!r}."
            )
        if self.solve_for not in ("auto", "x", "y"):
            raise ValueError(f"solve_for must be 'auto', 'x' or 'y', got {self.solve_for!r}.")
        check_non_negative(self.cg_tol, "cg_tol")
        check_non_negative(self.cg_atol, "cg_atol")
        if self.cg_max_iter is not None:
            check_integer(self.cg_max_iter, "cg_max_iter", minimum=1)

    def _side(self, m, n):
        if self.solve_for != "auto":
            return self.solve_for
        return "x" if m <= n else "y"

    def _competitive_step(self, op, gx, gy, hx, hy, z0, method):
        """Solve the local game; returns a :class:`_CGDStep`."""
        m, n = op.shape
        side = self._side(m, n)
        size = m if side == "x" else n
        if method == "auto":
            method = "cholesky" if size <= 8 else "cg"
        if side == "x":
            sx = np.sqrt(hx)
            rhs = -sx * (gx + op.matvec(hy * gy))
        else:
            sy = np.sqrt(hy)
            rhs = sy * (gy - op.rmatvec(hx * gx))
        if z0 is None or z0.shape[0] != size:
            z0 = np.zeros(size)
        if method == "cholesky":
            z = op.solve_direct(side, hx, hy, rhs)
            cg_iter, ok = 0, True
        else:
            max_iter = self.cg_max_iter if self.cg_max_iter is not None else max(10 * size, 100)
            z, cg_iter, ok = op.solve(side, hx, hy, rhs, z0, self.cg_tol, self.cg_atol, max_iter)
        if side == "x":
            dx = sx * z
            dy = hy * (gy + op.rmatvec(dx))
        else:
            dy = sy * z
            dx = -hx * (gx + op.matvec(dy))
        return _CGDStep(dx, dy, z, side, int(cg_iter), bool(ok), method)

    def _next_method(self, aux_method, step, op):
        """Adaptive choice for ``linear_solver="auto"``.

        Forming the dense system costs about ``N s^2`` against ``2 N s`` per CG iteration for
        a system of size s whose operator reads N numbers, so once CG needs more than s / 2
        iterations the factorisation is cheaper; the choice then sticks.
        """
        if self.linear_solver != "auto":
            return self.linear_solver
        if aux_method == "cholesky":
            return "cholesky"
        size = op.shape[0] if step.side == "x" else op.shape[1]
        if step.method == "cg" and 2 * step.cg_iter > size and size <= 2000:
            return "cholesky"
        return "auto"

    def _finish(self, game, result, warn):
        state = result.state
        failed = getattr(state.aux, "cg_failures", 0)
        if warn and failed:
            warnings.warn(
                f"{self.name}: the inner conjugate-gradient solve did not reach cg_tol="
                f"{self.cg_tol:g} in {failed} of {state.n_iter} steps; the steps were inexact. "
                "Increase cg_max_iter, or use linear_solver='cholesky' when the smaller player "
                "is small.",
                ConvergenceWarning,
                stacklevel=3,
            )


class _CGDAux:
    __slots__ = ("eta", "z", "method", "cg_failures", "extra")

    def __init__(self, eta, z=None, method="auto", cg_failures=0, extra=None):
        self.eta, self.z, self.method = eta, z, method
        self.cg_failures, self.extra = cg_failures, extra


class CGD(_CompetitiveBase):
    r"""Competitive gradient descent for zero-sum games :math:`\min_x \max_y f(x, y)`.

    Each step plays the Nash equilibrium of the local bilinear approximation of the game,
    regularised by each player's step size: the players anticipate each other's move.

    Parameters
    ----------
    eta : float, (float, float) or "auto", default=0.1
        Step sizes ``(eta_x, eta_y)`` (one number for both). ``"auto"`` uses ``1 / L`` for each
        player, ``L`` its own-curvature bound at the start point (``1 / ||B||`` for a player
        without own curvature).
    max_iter : int, default=1000
        Maximum number of steps.
    tol : float, default=1e-6
        Stop when :math:`\sqrt{\|\nabla_x f\|^2 + \|\nabla_y f\|^2} \le` ``tol``. ``tol=0``
        runs exactly ``max_iter`` steps.
    linear_solver : {"auto", "cg", "cholesky"}, default="auto"
        How the SPD system of a step is solved: conjugate gradient (matrix-free, fused kernel
        where the game provides one), a dense Cholesky factorisation, or ``"auto"``: Cholesky
        when the solved system has at most 8 unknowns or once CG needs more iterations than
        half its size (then forming the matrix is cheaper), CG otherwise.
    cg_tol, cg_atol : float, default=1e-6, 0.0
        Relative and absolute tolerance of the inner CG solve.
    cg_max_iter : int, default=None
        Maximum CG iterations per step; ``None`` means ``max(10 * size, 100)``.
    solve_for : {"auto", "x", "y"}, default="auto"
        Which player's system to solve (the other is recovered with one mixed product);
        ``"auto"`` picks the smaller player.
    divergence_factor : float, default=1e10
        Stop with :class:`~skcgd.exceptions.DivergenceError` when the gradient norm exceeds
        this factor times its initial value.
    verbose : int, default=0
        Print progress every ``verbose`` steps.

    Notes
    -----
    With :math:`B = D^2_{xy} f` and step sizes :math:`\eta_x, \eta_y`, one step is

    .. math::

        \Delta x &= -\eta_x (I + \eta_x \eta_y B B^T)^{-1}
                    (\nabla_x f + \eta_y B \nabla_y f) \\
        \Delta y &= \eta_y (\nabla_y f + B^T \Delta x)

    (Schäfer & Anandkumar, 2019). The matrix :math:`I + \eta_x\eta_y BB^T` is symmetric
    positive definite, so conjugate gradient solves it matrix-free with two products with
    ``B`` per iteration (fused into one pass over the data for skcgd's games), warm-started
    from the previous step. CGD removes the step-size limit that comes from the interaction
    ``B`` (on a bilinear game it is the proximal-point method and converges for every step
    size) but not the one of each player's own curvature: ``eta_x * ||D2xx f|| < 2`` is still
    necessary, and CGD adds no hidden damping.

    References
    ----------
    .. [1] F. Schäfer and A. Anandkumar, "Competitive Gradient Descent", NeurIPS 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.games import BilinearGame
    >>> from skcgd.solvers import CGD
    >>> game = BilinearGame(np.array([[3.0]]))
    >>> result = CGD(eta=0.2, max_iter=50, tol=0).run(game, [0.5], [0.5])
    >>> round(float(np.hypot(result.x[0], result.y[0])), 6)   # 0.70711 (1 + 0.04 * 9)^-25
    0.000324
    """

    def _init_aux(self, game, x, y, gx, gy):
        return _CGDAux(self._step_sizes(game, x, y), method=self.linear_solver)

    def update(self, game, state):
        """One CGD step (see the class docstring)."""
        aux = state.aux
        eta_x, eta_y = aux.eta
        op = _mixed_operator(game, state.x, state.y)
        m, n = op.shape
        hx = np.broadcast_to(np.asarray(eta_x, dtype=float), (m,))
        hy = np.broadcast_to(np.asarray(eta_y, dtype=float), (n,))
        step = self._competitive_step(op, state.grad_x, state.grad_y, hx, hy, aux.z, aux.method)
        new_aux = _CGDAux(
            aux.eta,
            step.z,
            self._next_method(aux.method, step, op),
            aux.cg_failures + (not step.cg_converged),
        )
        return self._new_state(
            game, state, state.x + step.dx, state.y + step.dy, step.cg_iter, new_aux
        )


class _AugmentedOperator(MixedOperator):
    """Mixed Hessian of the game with Lagrange multipliers for the simplex constraints.

    The min player's variables are ``(x, nu)`` (``nu`` prices the max player's constraint
    ``1^T y = 1``, present when y is on the simplex) and the max player's ``(y, mu)`` (``mu``
    for ``1^T x = 1``). The Lagrangian ``f + mu (1^T x - 1) + nu (1^T y - 1)`` has the mixed
    Hessian ``[[B, 1_m], [1_n^T, 0]]`` (the 1-blocks present as the constraints are).
    """

    def __init__(self, op, x_simplex, y_simplex):
        self.op, self.xs, self.ys = op, x_simplex, y_simplex
        m, n = op.shape
        self.m, self.n = m, n
        self.shape = (m + int(y_simplex), n + int(x_simplex))

    def matvec(self, v):
        n = self.n
        top = self.op.matvec(v[:n])
        if self.xs:
            top = top + v[n]
        return np.concatenate([top, [v[:n].sum()]]) if self.ys else top

    def rmatvec(self, u):
        m = self.m
        top = self.op.rmatvec(u[:m])
        if self.ys:
            top = top + u[m]
        return np.concatenate([top, [u[:m].sum()]]) if self.xs else top


def _mirror_step(v, dv):
    """``v * exp(dv / v)``: the step ``dv`` taken in the entropy mirror coordinates ``log v``.

    A zero coordinate has a zero step (its diagonal step ``eta * v_i`` is 0) and stays zero.
    """
    ratio = np.divide(dv, v, out=np.zeros_like(dv), where=v > 0)
    # A step of more than _MIRROR_RADIUS in log v leaves the region where the local game
    # (linear in the mirror coordinates) describes the move: e^ratio overflows for a sharp
    # best response (a large rho, an adversary whose weights reach 0). Such a step is cut
    # back to that radius, a trust region in the mirror coordinates; near the solution the
    # steps are small and never cut.
    top = float(np.max(np.abs(ratio))) if ratio.size else 0.0
    if top > _MIRROR_RADIUS:
        ratio *= _MIRROR_RADIUS / top
    return v * np.exp(ratio)


class CompetitiveMirrorDescent(_CompetitiveBase):
    r"""Competitive mirror descent: CGD for players on the probability simplex.

    A player whose game declares ``domain = "simplex"`` moves with the entropy mirror map
    (multiplicative updates, iterates stay positive); its sum-to-one constraint becomes a
    Lagrange multiplier given to the *other* player, which keeps the local game zero-sum.
    Players on R^n move exactly as in :class:`CGD`.

    Parameters
    ----------
    eta : float or (float, float), default=0.1
        Step sizes (the mirror map's scale for simplex players; also the multipliers' step).
    max_iter, tol, linear_solver, cg_tol, cg_atol
        As in :class:`CGD`. ``tol`` applies to the mirror stationarity measure below.
    cg_max_iter, solve_for, divergence_factor, verbose
        As in :class:`CGD`.

    Notes
    -----
    With the Lagrangian :math:`F = f + \mu(1^T x - 1) + \nu(1^T y - 1)` and the inverse
    Hessians of the mirror maps as diagonal steps, :math:`H_x = \eta_x\,\mathrm{diag}(x)`
    on simplex coordinates and :math:`\eta` on the multipliers, one step solves the CGD
    system of :class:`ACGD` with these steps for the linearised moves
    :math:`\Delta x, \Delta\nu, \Delta y, \Delta\mu` (the multiplier of a player's
    constraint moves with step ``1 / eta`` of that player) and then updates
    :math:`x \leftarrow x \odot \exp(\Delta x / x)` (a step in the mirror coordinates
    :math:`\log x`), :math:`\nu \leftarrow \nu + \Delta\nu`. The stationarity measure is
    :math:`\|x \odot \nabla_x F\|` (plain gradient norms on R^n) together with the constraint
    residuals. As the constraints are enforced through the multipliers, iterates satisfy
    them only at convergence; the game is evaluated at the iterates as they are.

    References
    ----------
    .. [1] F. Schäfer, A. Anandkumar and H. Owhadi, "Competitive Mirror Descent", 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.games import BilinearGame
    >>> from skcgd.solvers import CompetitiveMirrorDescent
    >>> rps = BilinearGame([[0, -1, 1], [1, 0, -1], [-1, 1, 0]], simplex=True)
    >>> res = CompetitiveMirrorDescent(eta=1.0, tol=1e-10).run(rps, [.5, .3, .2], [.2, .5, .3])
    >>> np.round(res.x, 6), rps.duality_gap(res.x, res.y) < 1e-8
    (array([0.333333, 0.333333, 0.333333]), True)
    """

    def _flags(self, game):
        return (
            getattr(game, "domain_x", "real") == "simplex",
            getattr(game, "domain_y", "real") == "simplex",
        )

    def _augmented_grads(self, game, x, y, gx, gy, nu, mu):
        xs, ys = self._flags(game)
        Gx = gx + mu if xs else gx
        Gy = gy + nu if ys else gy
        gnu = np.array([y.sum() - 1.0]) if ys else np.zeros(0)
        gmu = np.array([x.sum() - 1.0]) if xs else np.zeros(0)
        return np.concatenate([Gx, gnu]), np.concatenate([Gy, gmu])

    def _measure(self, game, x, y, Gx, Gy):
        xs, ys = self._flags(game)
        m, n = game.n_x, game.n_y
        ex = np.concatenate([x * Gx[:m], Gx[m:]]) if xs else Gx
        ey = np.concatenate([y * Gy[:n], Gy[n:]]) if ys else Gy
        return ex, ey

    def _check_domain(self, game, x, y):
        xs, ys = self._flags(game)
        for flag, v, name in ((xs, x, "x0"), (ys, y, "y0")):
            if flag and not ((v >= 0).all() and (v > 0).any()):
                raise ValueError(
                    f"{name} must be non-negative and not all zero for a player on "
                    "the simplex; start in the interior (a zero coordinate stays "
                    "zero under the entropy mirror map)."
                )

    def init(self, game, x0, y0):
        """Initial state; multipliers start at zero."""
        state = super().init(game, x0, y0)
        self._check_domain(game, state.x, state.y)
        return state

    def _init_aux(self, game, x, y, gx, gy):
        return _CGDAux(self._step_sizes(game, x, y), method=self.linear_solver, extra=(0.0, 0.0))

    def _error(self, game, x, y, gx, gy):
        # called from init before the multipliers exist: they start at zero
        Gx, Gy = self._augmented_grads(game, x, y, gx, gy, 0.0, 0.0)
        ex, ey = self._measure(game, x, y, Gx, Gy)
        return float(np.sqrt(ex @ ex + ey @ ey))

    def _state_error(self, game, x, y, gx, gy, nu, mu):
        Gx, Gy = self._augmented_grads(game, x, y, gx, gy, nu, mu)
        ex, ey = self._measure(game, x, y, Gx, Gy)
        return float(np.sqrt(ex @ ex + ey @ ey)), _norm(ex), _norm(ey)

    def _error_parts(self, game, state):
        nu, mu = state.aux.extra[:2]
        _, ex, ey = self._state_error(game, state.x, state.y, state.grad_x, state.grad_y, nu, mu)
        return ex, ey

    def update(self, game, state):
        """One competitive mirror step (see the class docstring)."""
        aux = state.aux
        x_new, y_new, step, extra = _mirror_step_state(
            self, game, state, aux.eta[0], aux.eta[1], aux.extra[:2]
        )
        new_aux = _CGDAux(
            aux.eta,
            step.z,
            self._next_method(aux.method, step, step.op),
            aux.cg_failures + (not step.cg_converged),
            extra,
        )
        gx, gy = game.grads(x_new, y_new)
        err, _, _ = self._state_error(game, x_new, y_new, gx, gy, *extra)
        return GameState(x_new, y_new, state.n_iter + 1, err, gx, gy, step.cg_iter, new_aux)


class ACGD(CompetitiveMirrorDescent):
    r"""Adaptive CGD: CGD with RMSProp-style diagonal step sizes for each coordinate.

    Parameters
    ----------
    eta : float, (float, float) or "auto", default=0.01
        Base step sizes (the learning rates that the RMS scaling divides). ``"auto"``: a
        first step of ``1 / L`` per player (``L`` its own-curvature bound), whatever the
        game's scale: the RMS scaling is then taken relative to the root mean square of the
        player's gradient at the start.
    beta : float, default=0.99
        Decay of the running average of squared gradients.
    eps : float, default=1e-8
        Added to the root mean square before dividing.
    clip : bool, default=True
        Cap each player's diagonal step at ``1 / L`` (``L`` its own-curvature bound at the
        start point). Without the cap the steps grow like ``eta / eps`` as the gradients
        vanish and overshoot the players' own curvature (the failure of the original ACGD
        near a solution).
    max_iter, tol, linear_solver, cg_tol, cg_atol, cg_max_iter
        As in :class:`CGD`.
    solve_for, divergence_factor, verbose
        As in :class:`CGD`.

    Notes
    -----
    A player on the probability simplex (``domain = "simplex"``) moves as in
    :class:`CompetitiveMirrorDescent` with its step ``eta`` (the mirror map already scales
    each coordinate by ``eta * p_i``); the RMS scaling applies to players on R^n.

    With bias-corrected running averages :math:`v_x, v_y` of the squared gradients the steps
    are :math:`H_x = \mathrm{diag}(\eta_x / (\sqrt{v_x} + \epsilon))` (likewise ``H_y``) and
    the step is the CGD step with diagonal step sizes, solved in the symmetric form
    :math:`(I + H_x^{1/2} B H_y B^T H_x^{1/2}) z = -H_x^{1/2}(\nabla_x f + B H_y \nabla_y f)`,
    :math:`\Delta x = H_x^{1/2} z`, :math:`\Delta y = H_y(\nabla_y f + B^T \Delta x)`.

    References
    ----------
    .. [1] F. Schäfer, H. Zheng and A. Anandkumar, "Implicit competitive regularization in
       GANs", ICML 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.games import QuadraticGame
    >>> from skcgd.solvers import ACGD
    >>> game = QuadraticGame(np.eye(2), np.ones((2, 2)), np.eye(2), a=[1.0, 0.0])
    >>> result = ACGD(eta=0.5, tol=1e-8).run(game, np.zeros(2), np.zeros(2))
    >>> bool(result.converged), np.allclose(result.x, game.saddle_point()[0], atol=1e-7)
    (True, True)
    """

    def __init__(
        self,
        eta=0.01,
        *,
        beta=0.99,
        eps=1e-8,
        clip=True,
        max_iter=1000,
        tol=1e-6,
        linear_solver="auto",
        cg_tol=1e-6,
        cg_atol=0.0,
        cg_max_iter=None,
        solve_for="auto",
        divergence_factor=1e10,
        verbose=0,
    ):
        super().__init__(
            eta,
            max_iter=max_iter,
            tol=tol,
            linear_solver=linear_solver,
            cg_tol=cg_tol,
            cg_atol=cg_atol,
            cg_max_iter=cg_max_iter,
            solve_for=solve_for,
            divergence_factor=divergence_factor,
            verbose=verbose,
        )
        self.beta = beta
        self.eps = eps
        self.clip = clip

    def _check_params(self):
        super()._check_params()
        if not 0 <= self.beta < 1:
            raise ValueError(f"beta must be in [0, 1), got {self.beta!r}.")
        if not self.eps > 0:
            raise ValueError(f"eps must be positive, got {self.eps!r}.")

    def _init_aux(self, game, x, y, gx, gy):
        eta = self._step_sizes(game, x, y)
        caps = (np.inf, np.inf)
        if self.clip:
            lx, ly = float(game.curvature_x(x, y)), float(game.curvature_y(x, y))
            caps = (1.0 / lx if lx > 0 else np.inf, 1.0 / ly if ly > 0 else np.inf)
        # With eta="auto" the base steps are 1 / L, in the players' own units; dividing them
        # by the RMS of the gradient (units of f per unit of x) would give a step in other
        # units, off by the game's scale. The RMS is then measured relative to its value at
        # the start, so that the first step is 1 / L and scaling the game scales nothing.
        # (a player whose gradient is 0 at the start takes its unit at its first non-zero one;
        # 0 up to rounding counts as 0: a unit of 1e-13 would freeze the player)
        unit = (1.0, 1.0)
        if isinstance(self.eta, str):
            unit = _units(_rms(gx), _rms(gy))
        # multipliers (simplex constraints), RMS accumulators, step count, step caps, units
        extra = (0.0, 0.0, np.zeros(game.n_x), np.zeros(game.n_y), 0, caps, unit)
        return _CGDAux(eta, method=self.linear_solver, extra=extra)

    def update(self, game, state):
        """One ACGD step (see the class docstring)."""
        aux = state.aux
        nu, mu, vx, vy, t, caps, unit = aux.extra
        t += 1
        b = self.beta
        vx = b * vx + (1 - b) * state.grad_x**2
        vy = b * vy + (1 - b) * state.grad_y**2
        corr = 1.0 - b**t
        xs, ys = self._flags(game)
        rms_x, rms_y = np.sqrt(vx / corr), np.sqrt(vy / corr)
        if not (unit[0] > 0 and unit[1] > 0):
            fresh = _units(_rms(rms_x), _rms(rms_y))
            unit = tuple(u if u > 0 else f for u, f in zip(unit, fresh))
        hx = aux.eta[0]
        if not xs:
            hx = np.minimum(aux.eta[0] / (rms_x / (unit[0] or 1.0) + self.eps), caps[0])
        hy = aux.eta[1]
        if not ys:
            hy = np.minimum(aux.eta[1] / (rms_y / (unit[1] or 1.0) + self.eps), caps[1])
        x_new, y_new, step, (nu, mu) = _mirror_step_state(self, game, state, hx, hy, (nu, mu))
        new_aux = _CGDAux(
            aux.eta,
            step.z,
            self._next_method(aux.method, step, step.op),
            aux.cg_failures + (not step.cg_converged),
            (nu, mu, vx, vy, t, caps, unit),
        )
        gx, gy = game.grads(x_new, y_new)
        err, _, _ = self._state_error(game, x_new, y_new, gx, gy, nu, mu)
        return GameState(x_new, y_new, state.n_iter + 1, err, gx, gy, step.cg_iter, new_aux)


def _rms(g):
    """The root mean square of ``g`` (0 if ``g`` is empty, 0 or not finite)."""
    rms = float(np.sqrt(np.mean(g * g))) if g.size else 0.0
    return rms if np.isfinite(rms) else 0.0


def _units(rx, ry):
    """The players' gradient RMS as ACGD's units; one negligible next to the other (below
    1e-8 of it: zero up to rounding) is 0, to be taken at a later step."""
    top = max(rx, ry)
    return tuple(r if r > 1e-8 * top else 0.0 for r in (rx, ry))


def _capped_mirror_steps(game, side, x, y, steps):
    """The simplex player's diagonal steps ``eta * v_i``, each capped at ``1 / L_i`` where
    the game gives its own curvature per coordinate (``curvature_diag_x/y``).

    In the mirror metric a coordinate's step times its curvature must stay below about 2;
    with ``eta * v_i`` that holds where ``v_i`` is small and can fail where the player
    concentrates (the chi-square adversary's curvature ``1 / p_i`` does not shrink with
    ``v_i``, as the entropy's ``1 / v_i`` does).
    """
    diag = getattr(game, f"curvature_diag_{side}", None)
    if diag is None:
        return steps
    L = np.asarray(diag(x, y), dtype=float)
    return np.where(L > 0, np.minimum(steps, 1.0 / np.where(L > 0, L, 1.0)), steps)


def _mirror_step_state(solver, game, state, eta_x, eta_y, multipliers):
    """The competitive mirror step from ``state`` with steps ``eta_x``, ``eta_y``.

    Returns ``(x_new, y_new, step, (nu_new, mu_new))``; ``step.op`` is the augmented operator.
    """
    nu, mu = multipliers
    xs, ys = solver._flags(game)
    x, y = state.x, state.y
    base = _mixed_operator(game, x, y)
    # without constraints keep the game's own operator (and its fused CG kernel)
    op = _AugmentedOperator(base, xs, ys) if (xs or ys) else base
    Gx, Gy = solver._augmented_grads(game, x, y, state.grad_x, state.grad_y, nu, mu)
    m, n = game.n_x, game.n_y
    # steps of the player's own coordinates (per coordinate allowed), then the multiplier's
    hx = np.empty(op.shape[0])
    hy = np.empty(op.shape[1])
    hx[:m] = eta_x
    hy[:n] = eta_y
    # A multiplier prices the other player's sum-to-one constraint; it interacts with that
    # player's sum through steps eta * p_i (summing to eta), so the step 1 / eta puts the
    # pair at unit interaction strength, where CGD contracts fast (any step is stable:
    # the multiplier has no own curvature).
    if ys:
        hx[m:] = 1.0 / np.mean(eta_y)
    if xs:
        hy[n:] = 1.0 / np.mean(eta_x)
    if xs:
        hx[:m] = _capped_mirror_steps(game, "x", x, y, hx[:m] * x)
    if ys:
        hy[:n] = _capped_mirror_steps(game, "y", x, y, hy[:n] * y)
    z0 = state.aux.z if state.aux is not None else None
    step = solver._competitive_step(op, Gx, Gy, hx, hy, z0, state.aux.method)
    step.op = op
    dx, dy = step.dx, step.dy
    x_new = _mirror_step(x, dx[:m]) if xs else x + dx[:m]
    y_new = _mirror_step(y, dy[:n]) if ys else y + dy[:n]
    nu_new = nu + dx[m] if ys else nu
    mu_new = mu + dy[n] if xs else mu
    return x_new, y_new, step, (nu_new, mu_new)
