r"""The adversary's best response on a (capped) simplex with a chi-square penalty.

For losses :math:`l`, a prior :math:`p` on the simplex and :math:`\mu > 0`,

.. math::

    q^* = \arg\max_{q}\; q^T l - \frac{\mu}{2} \sum_i \frac{(q_i - p_i)^2}{p_i}
    \quad \text{s.t.}\quad \sum_i q_i = 1,\; 0 \le q_i \le c\, p_i

is :math:`q_i = p_i\,\operatorname{clip}(1 + (l_i - \eta)/\mu, 0, c)` with :math:`\eta` the
root of the decreasing, piecewise linear :math:`S(\eta) = \sum_i q_i(\eta) - 1`. It is the best
response of the chi-square adversary (:math:`\mu = 1/\rho`, :math:`c = \infty`) and of the
smoothed CVaR adversary (:math:`c = 1 + \rho`, :math:`\mu` the smoothing). The value is
once differentiable in :math:`l` with gradient :math:`q^*`, and the (generalised) Hessian

.. math::

    \frac{1}{\mu}\Big(\operatorname{diag}(p_F) - \frac{p_F p_F^T}{\sum_F p_i}\Big)

on the free coordinates :math:`F` (strictly inside their bounds), zero elsewhere.
"""

import numpy as np

__all__ = ["capped_quadratic_response"]


def _root(b, prior, cap):
    """The root of ``S(t) = sum_i p_i clip(b_i - t, 0, cap) - 1``, exactly, in O(m log m).

    With ``G(u) = sum_i p_i (b_i - u)_+`` (suffix sums over the sorted ``b``),
    ``S(t) = G(t) - G(t + cap) - 1``; ``S`` is evaluated at every kink and the root found on
    the segment where it changes sign, where ``S`` is linear.
    """
    order = np.argsort(b)
    bs, ps = b[order], prior[order]
    p_suffix = np.concatenate([np.cumsum(ps[::-1])[::-1], [0.0]])
    pb_suffix = np.concatenate([np.cumsum((ps * bs)[::-1])[::-1], [0.0]])

    def G(u):
        k = np.searchsorted(bs, u, side="right")
        return pb_suffix[k] - u * p_suffix[k]

    def S(t):
        value = G(t) - 1.0
        if np.isfinite(cap):
            value -= G(t + cap)
        return value

    # the bracket: every q at its cap (or the mean bound) below, every q at 0 above
    lo = float(bs[0] - cap) if np.isfinite(cap) else float(ps @ bs) - 1.0
    hi = float(bs[-1])
    kinks = bs if not np.isfinite(cap) else np.concatenate([bs, bs - cap])
    kinks = np.unique(np.concatenate([[lo, hi], kinks[(kinks > lo) & (kinks < hi)]]))
    values = S(kinks)
    j = int(np.searchsorted(-values, 0.0, side="right")) - 1  # last kink with S >= 0
    j = min(max(j, 0), len(kinks) - 2)
    t0, t1, s0, s1 = kinks[j], kinks[j + 1], values[j], values[j + 1]
    if s0 <= 0.0 or s0 == s1:
        return float(t0)
    return float(t0 + s0 * (t1 - t0) / (s0 - s1))


def capped_quadratic_response(loss, prior, mu, cap=np.inf, center=None):
    """The maximiser ``q`` above, its ``eta`` and the mask of free coordinates.

    With ``center`` (a point ``c`` of the capped simplex, ``p`` by default) the penalty is
    :math:`\frac{\\mu}{2}\\sum_i (q_i - c_i)^2 / p_i` (a proximal step from ``c``), and
    :math:`q_i = p_i\\,\\operatorname{clip}(c_i / p_i + (l_i - \\eta)/\\mu, 0, c)`.

    Parameters
    ----------
    loss : ndarray of shape (m,)
        The losses (finite).
    prior : ndarray of shape (m,)
        Positive prior weights summing to one (the support only: zero weights are not
        passed).
    mu : float
        The penalty's scale, > 0.
    cap : float, default=inf
        The cap ``c >= 1`` on ``q_i / p_i``.
    center : ndarray of shape (m,), default=None
        The proximal center (``prior`` if None); it must lie in the capped simplex.

    Returns
    -------
    q : ndarray of shape (m,)
    eta : float
    free : ndarray of shape (m,), bool
        ``0 < q_i < c p_i``.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.games._simplex_response import capped_quadratic_response
    >>> q, eta, free = capped_quadratic_response(np.array([0.0, 1.0, 3.0]), np.full(3, 1 / 3), 1.0)
    >>> np.round(q, 4), bool(np.isclose(q.sum(), 1.0))
    (array([0.    , 0.1667, 0.8333]), True)
    """
    # q_i / p_i = clip(b_i - t, 0, cap) with b_i = c_i / p_i + l_i / mu and t = eta / mu;
    # S(t) = sum_i q_i - 1 decreases in t, piecewise linearly with kinks at b_i and b_i - cap
    b = loss / mu + (1.0 if center is None else center / prior)
    t = _root(b, prior, cap)
    r = b - t
    free = (r > 0.0) & (r < cap)
    at_cap = r >= cap
    pf = float(prior[free].sum())
    if pf > 0:
        # the exact root on its segment: the free part fills what the capped part leaves
        capped = cap * float(prior[at_cap].sum()) if np.isfinite(cap) else 0.0
        t = (float(prior[free] @ b[free]) + capped - 1.0) / pf
        r = b - t
    q = prior * np.clip(r, 0.0, cap)
    q /= q.sum()  # rounding only
    return q, t * mu, free
