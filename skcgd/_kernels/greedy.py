"""Greedy ensemble selection (Caruana et al., 2004): forward selection with replacement.

The ensemble is the running sum S of the chosen columns of the prediction matrix P (with
repetitions); a step scores every candidate column j by the weighted loss of
(S + P[:, j]) / (k + 1) against y, in one pass over P, and adds the best (the first on ties).
P may be float32 or float64: its entries are promoted to float64 one at a time and S and the
losses are accumulated in float64, so a float32 matrix is never copied and the scores are
those of its exact values. Extra memory: S (n) and one loss per column (m).
"""

import numpy as np

from skcgd._numba import njit_kernel

_FAST = {"reassoc", "contract"}

# loss codes of _greedy_select
MSE, MAE = 0, 1


@njit_kernel(fastmath=_FAST)
def _column_losses(P, y, sample_weight, loss):
    """Weighted mean loss of every column of ``P`` against ``y``, in one pass over the rows.

    Parameters
    ----------
    P : ndarray of shape (n_samples, n_models), float64 or float32, C-contiguous
        Predictions, one column per model (not modified).
    y : ndarray of shape (n_samples,), float64
        Target.
    sample_weight : ndarray of shape (n_samples,), float64
        Non-negative weights (their sum is the normaliser; 1 if it is not positive).
    loss : int
        0: weighted mean squared error, 1: weighted mean absolute error.

    Returns
    -------
    losses : ndarray of shape (n_models,), float64
    """
    n, m = P.shape
    out = np.zeros(m)
    sw_sum = 0.0
    for i in range(n):
        yi = y[i]
        wi = sample_weight[i]
        sw_sum += wi
        if loss == MSE:
            for j in range(m):
                d = P[i, j] - yi
                out[j] += wi * d * d
        else:
            for j in range(m):
                out[j] += wi * abs(P[i, j] - yi)
    if sw_sum <= 0.0:
        sw_sum = 1.0
    return out / sw_sum


@njit_kernel(fastmath=_FAST)
def _greedy_select(P, y, sample_weight, counts, n_steps, allowed, loss):
    """Forward selection with replacement of columns of ``P`` whose mean best fits ``y``.

    Parameters
    ----------
    P : ndarray of shape (n_samples, n_models), float64 or float32, C-contiguous
        Out-of-fold predictions, one column per model (not modified).
    y : ndarray of shape (n_samples,), float64
        Target.
    sample_weight : ndarray of shape (n_samples,), float64
        Non-negative weights of the loss.
    counts : ndarray of shape (n_models,), int64
        Initial multiplicities (the sorted initialisation); updated in place.
    n_steps : int
        Number of columns to add.
    allowed : ndarray of shape (n_models,), bool
        Candidates (a bag); with selection without replacement the caller runs one step at a
        time and clears the chosen column.
    loss : int
        0: weighted mean squared error, 1: weighted mean absolute error.

    Returns
    -------
    chosen : ndarray of shape (n_steps,), int64
        The column added at every step.
    scores : ndarray of shape (n_steps,), float64
        The loss of the ensemble after every step (before the square root for the MSE).
    """
    n, m = P.shape
    total = 0
    for j in range(m):
        total += counts[j]
    S = np.zeros(n)
    for i in range(n):
        s = 0.0
        for j in range(m):
            if counts[j] != 0:
                s += counts[j] * P[i, j]
        S[i] = s
    sw_sum = 0.0
    for i in range(n):
        sw_sum += sample_weight[i]
    if sw_sum <= 0.0:
        sw_sum = 1.0
    chosen = np.full(n_steps, -1, dtype=np.int64)
    scores = np.full(n_steps, np.inf)
    err = np.zeros(m)
    for step in range(n_steps):
        inv = 1.0 / (total + 1)
        err[:] = 0.0
        for i in range(n):
            s = S[i]
            yi = y[i]
            wi = sample_weight[i]
            if loss == MSE:
                for j in range(m):
                    d = (s + P[i, j]) * inv - yi
                    err[j] += wi * d * d
            else:
                for j in range(m):
                    err[j] += wi * abs((s + P[i, j]) * inv - yi)
        best = -1
        best_err = np.inf
        for j in range(m):
            if allowed[j] and err[j] < best_err:
                best_err = err[j]
                best = j
        if best < 0:
            break
        chosen[step] = best
        scores[step] = best_err / sw_sum
        counts[best] += 1
        total += 1
        for i in range(n):
            S[i] += P[i, best]
    return chosen, scores
