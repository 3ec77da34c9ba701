"""Shared machinery of the game solvers: state, result, the run loop, step sizes, checks.

Every solver follows the same call order (as optax/jaxopt do)::

    state = solver.init(game, x0, y0)          # gradients at the start, solver memory
    while state.error > tol and state.n_iter < max_iter:
        state = solver.update(game, state)     # one step; returns a new immutable state
    result = solver.run(game, x0, y0)          # the loop above, with history and checks

``state.error`` is the stationarity measure at ``(state.x, state.y)``: the gradient norm
``sqrt(||grad_x f||^2 + ||grad_y f||^2)`` for players on R^n.
"""

import numbers
import warnings
from typing import Any, NamedTuple

import numpy as np

from skcgd._validation import check_integer, check_non_negative, check_point
from skcgd.exceptions import ConvergenceWarning, DivergenceError

__all__ = ["GameState", "GameSolverResult", "BaseGameSolver", "check_game"]


class GameState(NamedTuple):
    """Immutable state of a game solver after ``n_iter`` steps.

    Attributes
    ----------
    x, y : ndarray
        The players' iterates.
    n_iter : int
        Steps taken.
    error : float
        Stationarity measure at ``(x, y)`` (gradient norm for players on R^n).
    grad_x, grad_y : ndarray
        Gradients at ``(x, y)`` (of f and f for zero-sum games, of f and g otherwise).
    cg_iter : int
        Inner linear-solver iterations of the last step (0 for first-order solvers).
    aux : Any
        Solver-specific memory (warm starts, previous gradients, RMS accumulators).

    See Also
    --------
    BaseGameSolver : ``init`` returns a state, ``update`` maps a state to the next.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.games import BilinearGame
    >>> from skcgd.solvers import CGD
    >>> game = BilinearGame(np.array([[1.0]]))        # f(x, y) = x * y
    >>> solver = CGD(eta=0.5)
    >>> state = solver.init(game, [1.0], [1.0])
    >>> state.n_iter, round(state.error, 6), state.grad_x, state.grad_y
    (0, 1.414214, array([1.]), array([1.]))
    >>> state = solver.update(game, state)
    >>> state.n_iter, state.x, state.y, state.cg_iter
    (1, array([0.4]), array([1.2]), 0)
    >>> state.n_iter = 5
    Traceback (most recent call last):
    ...
    AttributeError: ...
    """

    x: np.ndarray
    y: np.ndarray
    n_iter: int
    error: float
    grad_x: np.ndarray
    grad_y: np.ndarray
    cg_iter: int = 0
    aux: Any = None


class GameSolverResult:
    """What :meth:`BaseGameSolver.run` returns.

    Attributes
    ----------
    x, y : ndarray
        Final iterates.
    n_iter : int
        Steps taken.
    converged : bool
        Whether ``error <= tol`` was reached (always False with ``tol=0``).
    history : dict of ndarray
        ``"grad_norm"`` (length ``n_iter + 1``, the stationarity measure before the first and
        after every step), ``"grad_norm_x"`` and ``"grad_norm_y"`` (each player's part) and
        ``"cg_iter"`` (length ``n_iter``, inner CG iterations per step).
    state : GameState
        The final state (to continue with :meth:`BaseGameSolver.update`).

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.games import BilinearGame
    >>> from skcgd.solvers import CGD
    >>> result = CGD(eta=0.5, tol=1e-8).run(BilinearGame(np.array([[1.0]])), [1.0], [1.0])
    >>> result
    GameSolverResult(n_iter=169, converged=True, error=...)
    >>> sorted(result.history)
    ['cg_iter', 'grad_norm', 'grad_norm_x', 'grad_norm_y']
    >>> result.history["grad_norm"][:3]           # sqrt(2) shrinks by 1 / sqrt(1.25) a step
    array([1.41421356, 1.26491106, 1.13137085])
    >>> len(result.history["grad_norm"]) == result.n_iter + 1, result.state.n_iter
    (True, 169)
    """

    def __init__(self, x, y, n_iter, converged, history, state):
        self.x, self.y, self.n_iter, self.converged = x, y, n_iter, converged
        self.history, self.state = history, state

    def __repr__(self):
        return (
            f"GameSolverResult(n_iter={self.n_iter}, converged={self.converged}, "
            f"error={self.history['grad_norm'][-1]:.3e})"
        )


_REQUIRED = ("n_x", "n_y", "value", "grads", "mixed", "curvature_x", "curvature_y")
_FIRST_ORDER_REQUIRED = ("n_x", "n_y", "grads", "curvature_x", "curvature_y")


def check_game(game, solver_name, required=_REQUIRED, zero_sum=None):
    """Check that ``game`` implements what a solver needs; raise a TypeError naming what is missing.

    Parameters
    ----------
    game : object
        The game.
    solver_name : str
        Name used in the message.
    required : tuple of str
        Attributes the solver uses.
    zero_sum : bool or None
        If not None, the kind of game the solver plays.

    Raises
    ------
    TypeError
        When an attribute in ``required`` is missing, or the game is of the other kind.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.games import BilinearGame, GeneralSumQuadraticGame
    >>> from skcgd.solvers import check_game
    >>> check_game(BilinearGame(np.eye(2)), "CGD") is None
    True
    >>> class OnlyGradients:
    ...     n_x = n_y = 1
    ...     def grads(self, x, y):
    ...         return y, -x
    >>> check_game(OnlyGradients(), "CGD")
    Traceback (most recent call last):
    ...
    TypeError: OnlyGradients is not compatible with solver CGD: ... Missing: value, mixed,
    curvature_x, curvature_y. See skcgd.games.BaseGame for the protocol.
    >>> game = GeneralSumQuadraticGame(np.eye(1), [[1.0]], np.eye(1), [[0.5]])
    >>> check_game(game, "CGD", zero_sum=True)
    Traceback (most recent call last):
    ...
    TypeError: CGD plays zero-sum games, but GeneralSumQuadraticGame has zero_sum=False.
    Use skcgd.solvers.GeneralSumCGD.
    """
    missing = [name for name in required if not hasattr(game, name)]
    if missing:
        raise TypeError(
            f"{type(game).__name__} is not compatible with solver {solver_name}: a game must "
            f"implement {', '.join(required)}. Missing: {', '.join(missing)}. "
            "See skcgd.games.BaseGame for the protocol."
        )
    if zero_sum is not None and bool(getattr(game, "zero_sum", True)) != zero_sum:
        kind = "zero-sum" if zero_sum else "general-sum"
        other = "skcgd.solvers.GeneralSumCGD" if zero_sum else "skcgd.solvers.CGD"
        raise TypeError(
            f"{solver_name} plays {kind} games, but {type(game).__name__} has "
            f"zero_sum={getattr(game, 'zero_sum', True)}. Use {other}."
        )


def _norm(v):
    return float(np.sqrt(np.dot(v, v)))


class BaseGameSolver:
    """Base class of the game solvers: subclass it to write a solver (do not instantiate it).

    It owns the loop shared by every solver: :meth:`init` checks the game
    (:func:`check_game`) and the start point and returns the first :class:`GameState`;
    :meth:`update` (the one method a subclass implements) returns the state after one step;
    :meth:`run` loops ``update`` while ``state.error > tol`` and ``state.n_iter < max_iter``,
    records the history, stops with :class:`~skcgd.exceptions.DivergenceError` on
    divergence, warns :class:`~skcgd.exceptions.ConvergenceWarning` when out of steps and
    returns a :class:`GameSolverResult`.

    Parameters
    ----------
    eta : float, (float, float) or "auto"
        Step size(s): one for both players, a pair ``(eta_x, eta_y)``, or ``"auto"`` for
        ``1 / L`` per player, ``L`` the game's own-curvature bound at the start point.
    max_iter : int
        Maximum number of steps.
    tol : float
        Stop when the stationarity measure is ``<= tol``; ``tol=0`` runs exactly ``max_iter``
        steps (and does not warn).
    divergence_factor : float
        Stop with :class:`~skcgd.exceptions.DivergenceError` when the stationarity measure
        exceeds ``divergence_factor`` times its initial value (or an iterate is not finite).
    verbose : int
        Print progress every ``verbose`` steps (0: silent).

    See Also
    --------
    CGD, GDA : two of the solvers built on it.

    Notes
    -----
    A subclass implements ``update(game, state) -> GameState`` (the error of the new state
    is the stationarity measure, the gradient norm for players on R^n). Two class
    attributes say what it plays: ``_required``, the attributes :func:`check_game` asks of
    a game (by default those of the full protocol of :class:`~skcgd.games.BaseGame`), and
    ``_zero_sum``: True (the default) for zero-sum games only, False for general-sum games
    only, None for both.

    Examples
    --------
    Alternating gradient descent-ascent: y moves against the x just played.

    >>> import numpy as np
    >>> from skcgd.games import QuadraticGame
    >>> from skcgd.solvers import BaseGameSolver, GameState
    >>> class AlternatingGDA(BaseGameSolver):
    ...     def update(self, game, state):
    ...         x = state.x - self.eta * state.grad_x
    ...         y = state.y + self.eta * game.grads(x, state.y)[1]
    ...         gx, gy = game.grads(x, y)
    ...         error = float(np.sqrt(gx @ gx + gy @ gy))
    ...         return GameState(x, y, state.n_iter + 1, error, gx, gy)
    >>> game = QuadraticGame(np.eye(2), 2.0 * np.eye(2), np.eye(2), a=[1.0, -1.0])
    >>> solver = AlternatingGDA(eta=0.2, tol=1e-8)
    >>> state = solver.update(game, solver.init(game, np.zeros(2), np.zeros(2)))
    >>> state.n_iter, round(state.error, 4)
    (1, 1.0119)
    >>> result = solver.run(game, np.zeros(2), np.zeros(2))
    >>> result
    GameSolverResult(n_iter=84, converged=True, error=...)
    >>> bool(np.allclose(result.x, game.saddle_point()[0], atol=1e-7))
    True
    """

    _required = _REQUIRED
    _zero_sum = True
    _solves_linear_systems = False

    def __init__(self, eta=0.1, *, max_iter=1000, tol=1e-6, divergence_factor=1e10, verbose=0):
        self.eta = eta
        self.max_iter = max_iter
        self.tol = tol
        self.divergence_factor = divergence_factor
        self.verbose = verbose

    @property
    def name(self):
        return type(self).__name__

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{self.name}({params})"

    def _params(self):
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    # -- step sizes ---------------------------------------------------------------------------
    def _check_params(self):
        check_integer(self.max_iter, "max_iter")
        check_non_negative(self.tol, "tol")
        if not (isinstance(self.divergence_factor, numbers.Real) and self.divergence_factor > 1):
            raise ValueError(f"divergence_factor must be > 1, got {self.divergence_factor!r}.")

    def _step_sizes(self, game, x, y):
        """Resolve ``eta`` into ``(eta_x, eta_y)``: positive floats or per-coordinate vectors."""
        eta = self.eta
        if isinstance(eta, str):
            if eta != "auto":
                raise ValueError(f"eta must be a positive number, a pair or 'auto', got {eta!r}.")
            return self._auto_step_sizes(game, x, y)
        if isinstance(eta, numbers.Real):
            pair = (eta, eta)
        else:
            try:
                pair = tuple(eta)
                if len(pair) != 2:
                    raise ValueError
            except (TypeError, ValueError):
                raise ValueError(
                    f"eta must be a positive number, a pair (eta_x, eta_y) or 'auto', got {eta!r}."
                ) from None
        out = []
        for value, size, name in ((pair[0], game.n_x, "eta_x"), (pair[1], game.n_y, "eta_y")):
            if isinstance(value, numbers.Real):
                ok = np.isfinite(value) and value > 0
                value = float(value)
            else:
                # a vector of per-coordinate steps (0 freezes a coordinate)
                value = np.asarray(value, dtype=np.float64)
                ok = (
                    value.shape == (size,)
                    and np.isfinite(value).all()
                    and (value >= 0).all()
                    and (value > 0).any()
                )
            if not ok:
                raise ValueError(
                    f"Step sizes must be positive and finite ({name} a number or a "
                    f"non-negative vector of length {size}), got eta={eta!r}."
                )
            out.append(value)
        return out[0], out[1]

    def _auto_step_sizes(self, game, x, y):
        # Each player's own curvature L limits its step: CGD removes only the limit that comes from
        # the interaction, so eta * L < 2 stays necessary along the directions the interaction does
        # not reach (along coupled ones CGD tolerates a little more). 1 / L is the step of the
        # convergence theorem. A game whose player has a diagonal own Hessian may say so
        # (curvature_diag_x / curvature_diag_y): each coordinate then gets 1 / L_i, and a coordinate
        # without curvature (L_i = 0: it does not enter the game) is frozen. A player without own
        # curvature gets 1 / ||B||.
        etas = []
        fallback = None
        for side in ("x", "y"):
            diag = getattr(game, f"curvature_diag_{side}", None)
            if diag is not None:
                d = np.asarray(diag(x, y), dtype=float)
                if (d > 0).any():
                    etas.append(np.where(d > 0, 1.0 / np.where(d > 0, d, 1.0), 0.0))
                    continue
            L = float(getattr(game, f"curvature_{side}")(x, y))
            if L > 0 and np.isfinite(L):
                etas.append(1.0 / L)
            else:
                if fallback is None:
                    fallback = 1.0 / max(_spectral_norm_estimate(game, x, y), 1e-12)
                etas.append(fallback)
        return etas[0], etas[1]

    # -- the loop -----------------------------------------------------------------------------
    def _error(self, game, x, y, gx, gy):
        return float(np.sqrt(np.dot(gx, gx) + np.dot(gy, gy)))

    def _error_parts(self, game, state):
        return _norm(state.grad_x), _norm(state.grad_y)

    def init(self, game, x0, y0):
        """Check the game and the start point; return the initial :class:`GameState`."""
        check_game(game, self.name, self._required, zero_sum=self._zero_sum)
        self._check_params()
        x = check_point(x0, game.n_x, "x0")
        y = check_point(y0, game.n_y, "y0")
        gx, gy = game.grads(x, y)
        aux = self._init_aux(game, x, y, gx, gy)
        return GameState(x, y, 0, self._error(game, x, y, gx, gy), gx, gy, 0, aux)

    def _init_aux(self, game, x, y, gx, gy):
        return None

    def update(self, game, state):
        """One step from ``state``; returns the new :class:`GameState`."""
        raise NotImplementedError

    def _new_state(self, game, state, x, y, cg_iter=0, aux=None):
        gx, gy = game.grads(x, y)
        return GameState(
            x, y, state.n_iter + 1, self._error(game, x, y, gx, gy), gx, gy, cg_iter, aux
        )

    def run(self, game, x0, y0, callback=None, *, warn=True):
        """Play the game from ``(x0, y0)`` until ``error <= tol`` or ``max_iter`` steps.

        Parameters
        ----------
        game : game object
            See :mod:`skcgd.games`.
        x0, y0 : array-like
            Start point.
        callback : callable, default=None
            Called as ``callback(state)`` after every step; returning ``True`` stops the run.
        warn : bool, default=True
            Warn :class:`~skcgd.exceptions.ConvergenceWarning` when the run ends without
            convergence (or an inner solve was inexact). A caller that reports it itself,
            with its own advice, passes False (``result.converged`` says it): silencing the
            warning with ``warnings.catch_warnings`` instead would not be thread-safe.

        Returns
        -------
        result : GameSolverResult

        Raises
        ------
        DivergenceError
            When an iterate becomes non-finite or the gradient norm blows up; the message
            names the step sizes and the players' own-curvature bounds.
        """
        state = self.init(game, x0, y0)
        e0 = state.error
        start = state
        gnx, gny = self._error_parts(game, state)
        hist = {
            "grad_norm": [state.error],
            "grad_norm_x": [gnx],
            "grad_norm_y": [gny],
            "cg_iter": [],
        }
        converged = self._converged(state)
        stalled = False
        while not converged and state.n_iter < self.max_iter:
            previous = state
            state = self.update(game, state)
            if state is previous:  # the solver could not move (see _stalled)
                stalled = True
                break
            bad = (
                not np.isfinite(state.error)
                or not np.isfinite(state.x).all()
                or not np.isfinite(state.y).all()
            )
            if bad or state.error > self.divergence_factor * max(e0, 1e-300):
                raise DivergenceError(
                    self._divergence_message(game, start, previous, state), n_iter=state.n_iter
                )
            gnx, gny = self._error_parts(game, state)
            hist["grad_norm"].append(state.error)
            hist["grad_norm_x"].append(gnx)
            hist["grad_norm_y"].append(gny)
            hist["cg_iter"].append(state.cg_iter)
            if self.verbose and state.n_iter % self.verbose == 0:
                print(
                    f"[{self.name}] step {state.n_iter:5d}  |grad| {state.error:.3e}  "
                    f"(x {gnx:.2e}, y {gny:.2e})  CG iterations {state.cg_iter}"
                )
            converged = self._converged(state)
            if callback is not None and callback(state):
                break
            if not converged and self._stalled(state):
                stalled = True
                break
        if warn and not converged and self.tol > 0 and (stalled or state.n_iter >= self.max_iter):
            warnings.warn(
                self._not_converged_message(game, start, state, stalled),
                ConvergenceWarning,
                stacklevel=2,
            )
        history = {
            k: np.asarray(v, dtype=float if k != "cg_iter" else int) for k, v in hist.items()
        }
        result = GameSolverResult(state.x, state.y, state.n_iter, bool(converged), history, state)
        self._finish(game, result, warn)
        return result

    def _converged(self, state):
        """Whether ``state`` meets the stopping rule (``0 < error <= tol`` by default)."""
        return self.tol > 0 and state.error <= self.tol

    def _stalled(self, state):
        """Whether the run should stop before ``max_iter`` without convergence.

        A solver says so here after a step that makes further steps useless, or by returning
        the state it was given from :meth:`update` when it cannot take a step at all.
        """
        return False

    def _not_converged_message(self, game, start, state, stalled):
        return (
            f"{self.name} did not reach tol={self.tol:g} in max_iter={self.max_iter} steps "
            f"(stationarity {state.error:.3e}). Increase max_iter, or check the step sizes "
            f"{self._eta_text(game, start)}: too small is slow, and a step near 2/L of a "
            "player's own curvature L oscillates."
        )

    def _finish(self, game, result, warn):
        """Hook run at the end of :meth:`run` (e.g. to complete the result, or to warn about
        inner solves when ``warn``)."""

    def _eta_text(self, game, state):
        try:
            eta_x, eta_y = self._step_sizes(game, state.x, state.y)
            return f"eta_x={_fmt(eta_x)}, eta_y={_fmt(eta_y)}"
        except Exception:  # pragma: no cover - only for messages
            return f"eta={self.eta!r}"

    def _divergence_message(self, game, start, previous, state):
        eta_x, eta_y = self._step_sizes(game, start.x, start.y)
        try:
            lx = float(game.curvature_x(previous.x, previous.y))
            ly = float(game.curvature_y(previous.x, previous.y))
        except Exception:  # pragma: no cover - bound not computable at a wild point
            lx = ly = float("nan")
        what = (
            "an iterate became non-finite"
            if not np.isfinite(state.x).all()
            or not np.isfinite(state.y).all()
            or not np.isfinite(state.error)
            else f"the gradient norm grew from {start.error:.3g} to {state.error:.3g}"
        )
        eta_x, eta_y = float(np.max(eta_x)), float(np.max(eta_y))
        msg = (
            f"{self.name} diverged at step {state.n_iter}: {what}. Step sizes "
            f"eta_x={eta_x:.4g}, eta_y={eta_y:.4g}; own-curvature bounds ||D2xx f|| <= "
            f"{lx:.4g}, ||D2yy f|| <= {ly:.4g} (eta_x*Lx = {eta_x * lx:.3g}, "
            f"eta_y*Ly = {eta_y * ly:.3g}). "
        )
        hints = []
        for name, eta, L in (("x", eta_x, lx), ("y", eta_y, ly)):
            if np.isfinite(L) and L > 0 and eta * L >= 2:
                hints.append(
                    f"eta_{name}*L{name} >= 2: the {name} player's own curvature makes its "
                    f"step unstable where the interaction does not damp it; use "
                    f"eta_{name} <= 1/L{name} = {1 / L:.4g}"
                )
        if hints:
            msg += "; ".join(hints) + " (CGD removes only the step limit due to the interaction)."
        elif self._solves_linear_systems:
            msg += "Use smaller step sizes or eta='auto'."
        else:
            msg += (
                "Use smaller step sizes, or CGD, which is stable for any step size on the "
                "interaction part of the game."
            )
        return msg


def _fmt(eta):
    if np.ndim(eta) == 0:
        return f"{float(eta):.4g}"
    return f"[{float(np.min(eta)):.3g} .. {float(np.max(eta)):.3g}]"


def _scaled_norm(v):
    """``||v||_2`` without overflow (or underflow) of the squares."""
    scale = float(np.max(np.abs(v))) if v.size else 0.0
    if scale == 0.0 or not np.isfinite(scale):
        return scale
    return scale * float(np.linalg.norm(v / scale))


def _spectral_norm_estimate(game, x, y, n_iter=30):
    """Largest singular value of B = D2_xy f at (x, y) by power iteration on B^T B.

    Works with ``||B v||`` rather than ``||B^T B v||`` and with scaled norms, so that it stays
    finite for entries of B up to the float64 range (the square ``sigma**2`` would overflow
    from ``sigma ~ 1e154`` on).
    """
    op = game.mixed(x, y)
    op = op[0] if isinstance(op, tuple) else op
    n = op.shape[1]
    if n == 0 or op.shape[0] == 0:
        return 0.0
    v = np.random.default_rng(0).standard_normal(n)
    v /= np.linalg.norm(v)
    sigma = 0.0
    for _ in range(n_iter):
        u = op.matvec(v)
        nu = _scaled_norm(u)
        if nu == 0 or not np.isfinite(nu):
            return float(nu)
        sigma = nu  # ||B v|| for a unit v: increases to sigma_max
        w = op.rmatvec(u / nu)
        nw = _scaled_norm(w)
        if nw == 0 or not np.isfinite(nw):
            return float(sigma)
        v = w / nw
    return float(sigma)
