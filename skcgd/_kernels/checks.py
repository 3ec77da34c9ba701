"""Input-check kernel: the largest magnitude of an array and whether it is finite, in one pass.

Used by :mod:`skcgd._validation` for every X that reaches a kernel of the games and solvers.
"""

from skcgd._numba import njit_kernel


@njit_kernel
def _max_abs_bits(bits, mask):
    """``max_i (bits_i & mask)`` for the integer view of a float array (0 if it is empty).

    With ``mask`` clearing the sign bit, the bit patterns of non-negative floats sort like
    the floats themselves, and NaN and infinity have the largest patterns of all. So one
    integer maximum, a reduction that vectorises (a floating-point maximum with NaN semantics
    does not), gives both ``max |a_i|`` and whether ``a`` is finite: the games need both,
    where NumPy would take a pass for ``isfinite(a).all()`` (with a boolean temporary) and two
    for ``max`` and ``min``.
    """
    top = bits.dtype.type(0)
    for i in range(bits.shape[0]):
        v = bits[i] & mask
        if v > top:
            top = v
    return top
