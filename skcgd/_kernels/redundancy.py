"""The greedy pass of the meta stage's redundancy pruning (stage 1), compiled.

Models are visited in a given order; a model is dropped when an already kept one has
correlation ``>= corr_threshold`` with it and mean squared difference ``<= msd_limit``, the
first such kept model (in visiting order) being its twin. The pass is sequential (a model's
fate depends on the models kept before it), and a Python loop over pairs cost ``O(p^2)``
interpreter steps: 86 s of a 1000-column fit. Here each pair costs a few flops, and a
visited model stops at its first twin.

Every number compared is computed by the floating-point operations of the pairwise matrix
formulas the pass was first written with (``cov / sqrt(var_i var_j)``, non-finite
correlations taken as 0, ``var_i + var_j - 2 cov + gap`` clipped at 0), in the same order, so
the decisions are those of the matrix formulas, ties included (the tests compare the two).
"""

import numpy as np

from skcgd._numba import njit_kernel


@njit_kernel
def _redundancy_pass(
    cov_p, cov_q, var_p, var_q, mu, gap, order, use_corr, corr_threshold, msd_limit
):
    """The twins of the greedy pass.

    Parameters
    ----------
    cov_p : ndarray of shape (m, m), float64
        Covariances of the outputs compared by correlation (summed over a model's outputs).
    cov_q : ndarray of shape (m, m), float64
        Covariances of the outputs compared by mean squared difference.
    var_p, var_q : ndarray of shape (m,), float64
        Their diagonals.
    mu : ndarray of shape (m,), float64
        Means of the single output of each model; used when ``gap`` is empty.
    gap : ndarray of shape (m, m) or (0, 0), float64
        Squared distances between the models' mean outputs (several outputs per model), or
        empty to take ``(mu_i - mu_j)^2``.
    order : ndarray of shape (m,), int64
        The visiting order.
    use_corr : bool
        False: no model is redundant (the pass only records the order).
    corr_threshold, msd_limit : float
        The two tests.

    Returns
    -------
    twin : ndarray of shape (m,), int64
        The kept model each model duplicates, -1 for a kept model.
    corr : ndarray of shape (m,), float64
        The correlation with the twin (NaN when kept).
    msd : ndarray of shape (m,), float64
        The mean squared difference with the twin (NaN when kept).
    """
    m = order.shape[0]
    twin = np.full(m, -1, dtype=np.int64)
    corr_at = np.full(m, np.nan)
    msd_at = np.full(m, np.nan)
    kept = np.empty(m, dtype=np.int64)
    n_kept = 0
    per_pair_gap = gap.shape[0] > 0
    for t in range(m):
        i = order[t]
        found = -1
        if use_corr:
            for a in range(n_kept):
                j = kept[a]
                # a zero, negative or NaN product gives a non-finite quotient in NumPy, taken
                # as 0 (and a division by zero would raise here)
                prod = var_p[i] * var_p[j]
                c = cov_p[i, j] / np.sqrt(prod) if prod > 0.0 else 0.0
                if not np.isfinite(c):
                    c = 0.0
                if not c >= corr_threshold:
                    continue
                if per_pair_gap:
                    g = gap[i, j]
                else:
                    g = (mu[i] - mu[j]) * (mu[i] - mu[j])
                d = var_q[i] + var_q[j] - 2.0 * cov_q[i, j] + g
                if d < 0.0:
                    d = 0.0
                if d <= msd_limit:
                    found = j
                    corr_at[i] = c
                    msd_at[i] = d
                    break
        if found < 0:
            kept[n_kept] = i
            n_kept += 1
        else:
            twin[i] = found
    return twin, corr_at, msd_at
