"""Argument checks shared by the generators and loaders of :mod:`skcgd.datasets`.

numpy and the standard library only: ``skcgd.datasets`` must import fast and without Numba (it
has no kernels), so it does not use :mod:`skcgd._validation`, which loads the check kernel.
"""

import numbers

import numpy as np

# the seed of scikit-learn's generators drawn from a numpy Generator (check_random_state
# accepts any int in [0, 2**32 - 1]; int32's range is what scikit-learn itself draws)
_SKLEARN_SEED_RANGE = np.iinfo(np.int32).max


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_count(value, name, minimum=1):
    """``int(value)`` if it is an integer >= ``minimum``, else a named TypeError or ValueError."""
    if not _is_int(value):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__}).")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def check_fraction(value, name, *, closed=False):
    """``float(value)`` if it lies in (0, 1), or in [0, 1] when ``closed``; NaN is refused."""
    low, high = ("[", "]") if closed else ("(", ")")
    inside = _is_real(value) and (0 <= value <= 1 if closed else 0 < value < 1)
    if not inside:  # NaN fails both comparisons
        raise ValueError(f"{name} must be a number in {low}0, 1{high}, got {value!r}.")
    return float(value)


def check_non_negative(value, name):
    """``float(value)`` if it is a finite number >= 0."""
    if not (_is_real(value) and np.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")
    return float(value)


def check_generator(random_state):
    """A :class:`numpy.random.Generator` for ``random_state``.

    ``None``, an int >= 0, a sequence of such ints, a :class:`~numpy.random.SeedSequence`, a
    :class:`~numpy.random.BitGenerator` or a :class:`~numpy.random.Generator` go to
    :func:`numpy.random.default_rng` (a Generator is returned as it is, so the caller's draws
    continue its stream). A legacy :class:`~numpy.random.RandomState` (what scikit-learn's
    ``check_random_state`` returns) seeds a new Generator with one integer drawn from it, so
    scikit-learn-style code that passes one gets reproducible data.
    """
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(_SKLEARN_SEED_RANGE))
    if isinstance(random_state, (bool, np.bool_)):
        raise TypeError(f"random_state must be None, an int or a Generator, got {random_state!r}.")
    if _is_int(random_state) and random_state < 0:
        raise ValueError(f"random_state must be an int >= 0, got {random_state!r}.")
    try:
        return np.random.default_rng(random_state)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            "random_state must be None, an int >= 0 (or a sequence of them), a "
            "numpy.random.SeedSequence, BitGenerator or Generator, or a numpy.random.RandomState; "
            f"got {random_state!r}."
        ) from exc
