"""First-order baselines: simultaneous GDA, extragradient and optimistic GDA (zero-sum)."""

import numpy as np

from skcgd.solvers._base import _FIRST_ORDER_REQUIRED, BaseGameSolver

__all__ = ["GDA", "ExtraGradient", "OptimisticGDA"]


def _tangent(game, side, v, g):
    """``v * (g - <v, g>)`` for a player on the simplex (``g`` itself on R^n)."""
    if getattr(game, f"domain_{side}", "real") != "simplex":
        return g
    return v * (g - (v @ g) / v.sum())


class _FirstOrder(BaseGameSolver):
    _required = _FIRST_ORDER_REQUIRED

    def init(self, game, x0, y0):
        """Initial state; a player on the simplex must start on it (as in mirror descent)."""
        state = super().init(game, x0, y0)
        for side, v, name in (("x", state.x, "x0"), ("y", state.y, "y0")):
            if getattr(game, f"domain_{side}", "real") == "simplex" and not (
                (v >= 0).all() and (v > 0).any()
            ):
                # the multiplicative-weights step keeps signs: a negative start is never
                # repaired, and with max_iter=0 it would be returned as the answer
                raise ValueError(
                    f"{name} must be non-negative and not all zero for a player "
                    "on the simplex; start in the interior (a zero coordinate "
                    "stays zero under multiplicative weights)."
                )
        return state

    def _error_parts(self, game, state):
        ex = _tangent(game, "x", state.x, state.grad_x)
        ey = _tangent(game, "y", state.y, state.grad_y)
        return float(np.linalg.norm(ex)), float(np.linalg.norm(ey))

    def _error(self, game, x, y, gx, gy):
        # on the simplex the gradient tends to a constant (the multiplier of the constraint),
        # not to zero: measure its part along the simplex, in the entropy metric
        ex, ey = _tangent(game, "x", x, gx), _tangent(game, "y", y, gy)
        return float(np.sqrt(ex @ ex + ey @ ey))

    def _init_aux(self, game, x, y, gx, gy):
        return self._step_sizes(game, x, y)

    def _move(self, game, x, y, gx, gy, eta_x, eta_y):
        """One descent-ascent move; players on the simplex take a multiplicative-weights step."""
        if getattr(game, "domain_x", "real") == "simplex":
            w = x * np.exp(-eta_x * (gx - gx.max()))
            x_new = w / w.sum()
        else:
            x_new = x - eta_x * gx
        if getattr(game, "domain_y", "real") == "simplex":
            w = y * np.exp(eta_y * (gy - gy.max()))
            y_new = w / w.sum()
        else:
            y_new = y + eta_y * gy
        return x_new, y_new


class GDA(_FirstOrder):
    r"""Simultaneous gradient descent-ascent: the baseline every CGD claim is measured against.

    Parameters
    ----------
    eta : float, (float, float) or "auto", default=0.1
        Step sizes.
    max_iter : int, default=1000
    tol : float, default=1e-6
    divergence_factor : float, default=1e10
    verbose : int, default=0

    Notes
    -----
    :math:`x_{k+1} = x_k - \eta_x \nabla_x f(x_k, y_k)`,
    :math:`y_{k+1} = y_k + \eta_y \nabla_y f(x_k, y_k)`. On a bilinear game each singular
    direction grows by :math:`(1 + \eta^2\sigma^2)^{1/2}` per step: GDA diverges for every step
    size. A player on the probability simplex takes the multiplicative-weights step
    :math:`x \propto x \odot \exp(-\eta \nabla_x f)` instead (simultaneous MWU).

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.games import QuadraticGame
    >>> from skcgd.solvers import GDA
    >>> game = QuadraticGame(np.eye(1), [[0.5]], np.eye(1), a=[1.0])
    >>> bool(GDA(eta=0.5, tol=1e-10).run(game, [0.0], [0.0]).converged)
    True
    """

    def update(self, game, state):
        """One GDA step."""
        eta_x, eta_y = state.aux
        x, y = self._move(game, state.x, state.y, state.grad_x, state.grad_y, eta_x, eta_y)
        return self._new_state(game, state, x, y, 0, state.aux)


class ExtraGradient(_FirstOrder):
    r"""Extragradient (Korpelevich): a look-ahead half step, then a step with its gradients.

    Parameters
    ----------
    eta : float, (float, float) or "auto", default=0.1
    max_iter : int, default=1000
    tol : float, default=1e-6
    divergence_factor : float, default=1e10
    verbose : int, default=0

    Notes
    -----
    :math:`(\bar x, \bar y) = (x_k - \eta_x \nabla_x f, y_k + \eta_y \nabla_y f)` at
    :math:`(x_k, y_k)`, then :math:`x_{k+1} = x_k - \eta_x \nabla_x f(\bar x, \bar y)`,
    :math:`y_{k+1} = y_k + \eta_y \nabla_y f(\bar x, \bar y)`. Two gradient evaluations per step.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.games import BilinearGame
    >>> from skcgd.solvers import ExtraGradient
    >>> res = ExtraGradient(eta=0.5, tol=1e-8).run(BilinearGame(np.eye(2)), np.ones(2), np.ones(2))
    >>> bool(res.converged)
    True
    """

    def update(self, game, state):
        """One extragradient step."""
        eta_x, eta_y = state.aux
        xh, yh = self._move(game, state.x, state.y, state.grad_x, state.grad_y, eta_x, eta_y)
        gxh, gyh = game.grads(xh, yh)
        x, y = self._move(game, state.x, state.y, gxh, gyh, eta_x, eta_y)
        return self._new_state(game, state, x, y, 0, state.aux)


class OptimisticGDA(_FirstOrder):
    r"""Optimistic gradient descent-ascent: GDA with a correction by the previous gradient.

    Parameters
    ----------
    eta : float, (float, float) or "auto", default=0.1
    max_iter : int, default=1000
    tol : float, default=1e-6
    divergence_factor : float, default=1e10
    verbose : int, default=0

    Notes
    -----
    :math:`x_{k+1} = x_k - 2\eta_x \nabla_x f_k + \eta_x \nabla_x f_{k-1}` (and the ascent
    twin for y), with :math:`\nabla f_{-1} = \nabla f_0`: one gradient evaluation per step.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.games import BilinearGame
    >>> from skcgd.solvers import OptimisticGDA
    >>> res = OptimisticGDA(eta=0.3, tol=1e-8).run(BilinearGame(np.eye(2)), np.ones(2), np.ones(2))
    >>> bool(res.converged)
    True
    """

    def _init_aux(self, game, x, y, gx, gy):
        return (self._step_sizes(game, x, y), gx, gy)

    def update(self, game, state):
        """One optimistic step."""
        (eta_x, eta_y), gx_prev, gy_prev = state.aux
        gx = 2.0 * state.grad_x - gx_prev
        gy = 2.0 * state.grad_y - gy_prev
        x, y = self._move(game, state.x, state.y, gx, gy, eta_x, eta_y)
        return self._new_state(game, state, x, y, 0, ((eta_x, eta_y), state.grad_x, state.grad_y))
