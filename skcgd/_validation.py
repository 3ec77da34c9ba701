"""The one set of input checks that every layer of skcgd uses (games, solvers, CG, estimators).

It sits at the bottom of the package: it imports only numpy, scipy and the check kernel, so
that games, solvers, estimators and the dataset generators can all use it without importing
each other; it loads Numba only when a design matrix is first checked. Estimators
validate once (through these functions) and pass the checked arrays on; the games and
operators they build skip the checks they would otherwise repeat (``check_input=False``).

Every function raises a ``ValueError`` (``TypeError`` for a wrong kind of object) whose
message names the argument and what is wrong with it, so that no kernel ever sees an array
whose length, dtype or finiteness was not checked.
"""

import numbers

import numpy as np
import scipy.sparse as sp

from skcgd._layout import _kernel_csr, aligned, as_aligned, readonly

__all__ = [
    "SCALE_RANGE",
    "SKLEARN_SEED_RANGE",
    "as_aligned",
    "as_csr",
    "as_float_array",
    "readonly",
    "check_classification_labels",
    "check_data",
    "check_diagonal",
    "check_game_labels",
    "check_groups",
    "check_input_features",
    "check_fraction",
    "check_generator",
    "check_integer",
    "check_point",
    "check_positive",
    "check_problem_scale",
    "check_sample_weight",
    "check_squares_fit",
    "check_squares_magnitudes",
    "check_non_negative",
    "check_vector",
    "encode_groups",
    "finite_max_abs",
    "max_abs",
]

# The games compute in float64 on C * s_i times the loss terms. Outside this range of
# C * sum(s) (and of C * sum(s) * max|X|^2, the scale of the Hessians) intermediate products
# overflow (curvatures, squared losses) or lose all precision (the simplex adversaries'
# natural steps rho / (C N)): such problems are refused with a clear message.
SCALE_RANGE = (1e-150, 1e150)

_SIGN_MASK = {
    np.dtype(np.float64): (np.uint64, np.uint64(0x7FFF_FFFF_FFFF_FFFF)),
    np.dtype(np.float32): (np.uint32, np.uint32(0x7FFF_FFFF)),
}


# -- scalars -----------------------------------------------------------------------------------
def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_positive(value, name, hint=""):
    """``float(value)`` if it is a positive finite real number, else a named ValueError.

    Examples
    --------
    >>> from skcgd._validation import check_positive
    >>> check_positive(2, "C")
    2.0
    >>> check_positive(float("nan"), "C")
    Traceback (most recent call last):
    ...
    ValueError: C must be a positive finite number, got nan.
    """
    if not (_is_real(value) and np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}.{hint}")
    return float(value)


def check_non_negative(value, name):
    """``float(value)`` if it is a non-negative finite number (NaN and inf are refused)."""
    if not (_is_real(value) and np.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a non-negative finite number, got {value!r}.")
    return float(value)


def check_integer(value, name, minimum=0):
    """``int(value)`` if it is an integer ``>= minimum`` (a bool is not one).

    A TypeError for what is not an integer (``2.0``, ``True``), a ValueError for one that is
    too small.

    Examples
    --------
    >>> from skcgd._validation import check_integer
    >>> check_integer(3, "max_iter")
    3
    >>> check_integer(2.5, "max_iter")
    Traceback (most recent call last):
    ...
    TypeError: max_iter must be an integer, got 2.5 (float).
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
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


# the seed of scikit-learn's generators drawn from a numpy Generator (check_random_state
# accepts any int in [0, 2**32 - 1]; int32's range is what scikit-learn itself draws)
SKLEARN_SEED_RANGE = np.iinfo(np.int32).max


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
        return np.random.default_rng(random_state.randint(SKLEARN_SEED_RANGE))
    if isinstance(random_state, (bool, np.bool_)):
        raise TypeError(f"random_state must be None, an int or a Generator, got {random_state!r}.")
    if isinstance(random_state, numbers.Integral) and random_state < 0:
        raise ValueError(f"random_state must be an int >= 0, got {random_state!r}.")
    try:
        return np.random.default_rng(random_state)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            "random_state must be None, an int >= 0 (or a sequence of them), a "
            "numpy.random.SeedSequence, BitGenerator or Generator, or a numpy.random.RandomState; "
            f"got {random_state!r}."
        ) from exc


# -- vectors and arrays ------------------------------------------------------------------------
def as_float_array(a, name, ndim):
    """``a`` as a C-contiguous, writeable, finite float64 array of ``ndim`` dimensions.

    Small arrays only (vectors, system matrices): a read-only input (a broadcast view, a
    memory map) is copied, because it would be another Numba specialisation of the kernels.
    """
    a = np.asarray(a)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric array, got dtype {a.dtype}.")
    a = np.ascontiguousarray(a, dtype=np.float64)
    if not a.flags.writeable:
        a = a.copy()
    if a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got an array of shape {a.shape}.")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinity.")
    return a


def check_vector(v, size, name):
    """``v`` as a float64 vector of length ``size`` (a ValueError naming it otherwise).

    Finiteness is not checked: the game solvers detect non-finite iterates themselves and
    stop with a :class:`~skcgd.exceptions.DivergenceError` that names the step sizes.
    """
    v = np.asarray(v)
    if v.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {v.dtype}.")
    v = np.asarray(v, dtype=np.float64)
    if v.ndim != 1 or v.shape[0] != size:
        raise ValueError(f"{name} must be a vector of length {size}, got shape {v.shape}.")
    return v


def check_point(v, size, name):
    """A finite float64 copy of the start point ``v`` of length ``size`` (a scalar if 1)."""
    v = np.asarray(v)
    if v.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {v.dtype}.")
    v = np.asarray(v, dtype=np.float64)
    if v.ndim == 0 and size == 1:
        v = v.reshape(1)
    if v.ndim != 1 or v.shape[0] != size:
        raise ValueError(f"{name} must be a vector of length {size}, got shape {v.shape}.")
    if not np.isfinite(v).all():
        raise ValueError(f"{name} contains NaN or infinity.")
    return v.copy()


def check_diagonal(value, size, name):
    """A scalar or a vector of non-negative finite numbers, as a float64 vector of ``size``."""
    if _is_real(value):
        out = np.full(size, float(value))
    else:
        out = as_float_array(value, name, 1)
        if out.shape[0] != size:
            raise ValueError(f"{name} must have length {size}, got {out.shape[0]}.")
    if not np.isfinite(out).all() or (out < 0).any():
        raise ValueError(f"{name} must be finite and non-negative.")
    return out


# -- design matrices ---------------------------------------------------------------------------
def max_abs(X):
    """``max |X|`` in one pass over a dense or CSR X; NaN or infinity if X holds any.

    0 for an empty X. One integer maximum over the bit patterns (see
    :func:`skcgd._kernels.checks._max_abs_bits`) gives both the magnitude and finiteness.
    """
    # imported here, not at the top: this module is imported by light modules (datasets) that
    # must not load Numba; the kernel is compiled or loaded on the first design matrix
    from skcgd._kernels.checks import _max_abs_bits

    data = X.data if sp.issparse(X) else np.ascontiguousarray(X).reshape(-1)  # views
    if data.dtype not in _SIGN_MASK:
        data = data.astype(np.float64)
    uint, mask = _SIGN_MASK[data.dtype]
    top = _max_abs_bits(readonly(data.view(uint)), mask)
    value = float(np.array(top, dtype=uint).view(data.dtype))
    return float("nan") if np.isnan(value) else value


def finite_max_abs(X, name="X"):
    """``max |X|`` of a finite X (one pass); a ValueError naming ``name`` otherwise."""
    top = max_abs(X)
    if not np.isfinite(top):
        raise ValueError(f"{name} contains NaN or infinity.")
    return top


def as_csr(X, name="X", check_finite=True):
    """``X`` as CSR with sorted indices and float32/float64 data, checked to be finite.

    The result shares ``X``'s arrays where it can, as read-only views with int32 indices
    (see :func:`as_aligned`)."""
    X = sp.csr_matrix(X) if not sp.isspmatrix_csr(X) else X
    if X.dtype not in (np.float32, np.float64):
        if X.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold real numbers, got dtype {X.dtype}.")
        X = X.astype(np.float64)
    if not X.has_sorted_indices:
        X = X.sorted_indices()
    X = _kernel_csr(X)
    if check_finite:
        finite_max_abs(X, name)
    return X


def check_data(X, name="X"):
    """``(X, max |X|)``: X as CSR or C-contiguous 2-D float32/float64, checked to be finite.

    float32 and float64 are kept as they are (the kernels are compiled for both); any other
    real dtype becomes float64. A CSR matrix is never densified. The result is read-only (a
    view when no conversion was needed), as the kernels receive it (see :func:`as_aligned`).

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd._validation import check_data
    >>> X, top = check_data(np.array([[1, -3], [2, 0]]))
    >>> X.dtype, top
    (dtype('float64'), 3.0)
    >>> check_data(np.array([[1.0, np.nan]]))
    Traceback (most recent call last):
    ...
    ValueError: X contains NaN or infinity.
    """
    if sp.issparse(X):
        X = as_csr(X, name, check_finite=False)
        return X, finite_max_abs(X, name)
    X = np.asarray(X)
    if X.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric array, got dtype {X.dtype}.")
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got shape {X.shape}.")
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    X = readonly(np.ascontiguousarray(X))
    return X, finite_max_abs(X, name)


def check_problem_scale(X, sample_weight, C, max_abs_X=None):
    """Refuse problems whose scale the float64 solvers cannot handle (see ``SCALE_RANGE``).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n, p)
        Validated, finite data.
    sample_weight : ndarray of shape (n,)
        Validated non-negative weights.
    C : float
        Inverse regularisation strength.
    max_abs_X : float, default=None
        ``max |X|`` when the caller knows it already (saves a pass over X).
    """
    low, high = SCALE_RANGE
    weight = C * float(np.sum(sample_weight))
    if not weight >= low:
        raise ValueError(
            f"C * sum(sample_weight) = {weight:.3g} is too small (below {low:g}): the data term "
            "vanishes next to the L2 penalty and the solvers lose all precision. Rescale "
            "sample_weight (e.g. sample_weight / sample_weight.mean()) or increase C."
        )
    scale = max(1.0, max_abs(X) if max_abs_X is None else max_abs_X)
    curvature = weight * scale * scale  # inf, not OverflowError, when it overflows
    if not curvature <= high:
        raise ValueError(
            f"The problem's scale C * sum(sample_weight) * max|X|^2 = {curvature:.3g} is too "
            f"large (above {high:g}): float64 arithmetic would overflow. Rescale X (e.g. "
            "sklearn.preprocessing.StandardScaler), sample_weight or C."
        )


def check_squares_fit(X, y, sw):
    """Refuse data whose weighted sums of squares would overflow float64.

    For estimators that accumulate ``sum_i s_i x_ij^2`` (Gram matrices, squared errors) over
    ``n`` rows and ``p`` columns: a clear error rather than an inf deep in a Gram matrix, an
    arbitrary choice among infinite losses or a failed eigendecomposition.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n, p)
        Validated, finite data.
    y : ndarray of shape (n,)
        Validated, finite target.
    sw : ndarray of shape (n,)
        Validated weights, scaled to a largest value of about 1.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd._validation import check_squares_fit
    >>> check_squares_fit(np.full((3, 2), 1e200), np.zeros(3), np.ones(3))
    Traceback (most recent call last):
    ...
    ValueError: X has values too large for float64 sums of squares (max |X| = 1e+200, with
    sample weights up to 1): they overflow. Rescale X (and the weights) to moderate magnitudes.
    """
    data = X.data if sp.issparse(X) else X
    w = float(np.max(sw)) if sw.size else 1.0
    # max and min rather than max(abs(.)), which would allocate a copy of X
    tops = {
        name: max(abs(float(values.max())), abs(float(values.min()))) if values.size else 0.0
        for name, values in (("X", data), ("y", y))
    }
    check_squares_magnitudes(X.shape, w, tops)


def check_squares_magnitudes(shape, w, tops):
    """:func:`check_squares_fit` from the magnitudes alone (data that is not in memory).

    ``shape`` is X's ``(n, p)``, ``w`` the largest sample weight, ``tops`` the largest
    absolute value of each array by name (``{"X": ..., "y": ...}``), as computed by a pass
    over the chunks of a Dask array.
    """
    n = max(shape[0], 1)
    with np.errstate(divide="ignore"):
        budget = 300.0 - np.log10(n) - np.log10(max(w, 1e-300)) - np.log10(max(shape[1], 1))
        for name, top in tops.items():
            if top > 0 and 2.0 * np.log10(top) > budget:
                raise ValueError(
                    f"{name} has values too large for float64 sums of squares (max |{name}| = "
                    f"{top:.3g}, with sample weights up to {w:.3g}): they overflow. Rescale "
                    f"{name} (and the weights) to moderate magnitudes."
                )


# -- weights, labels, groups -------------------------------------------------------------------
def check_sample_weight(sample_weight, n, *, dtype=np.float64, allow_zero_sum=False):
    """Sample weights as a finite, non-negative, aligned vector of length ``n``.

    ``None`` gives ones and a number gives that weight for every sample (scikit-learn's
    convention). A weight is a number of repetitions of its sample, so negative weights are
    refused, and so are weights that sum to zero unless ``allow_zero_sum``.

    Examples
    --------
    >>> from skcgd._validation import check_sample_weight
    >>> check_sample_weight(None, 3)
    array([1., 1., 1.])
    >>> check_sample_weight([1.0, -1.0], 2)
    Traceback (most recent call last):
    ...
    ValueError: sample_weight has negative values; weights must be non-negative (a weight is
    a number of repetitions of its sample).
    """
    if sample_weight is None:
        return np.ones(n, dtype=dtype)
    if _is_real(sample_weight):
        s = np.full(n, float(sample_weight), dtype=dtype)
    else:
        s = np.asarray(sample_weight)
        if s.dtype.kind not in "biuf":
            raise ValueError(f"sample_weight must hold real numbers, got dtype {s.dtype}.")
        s = np.ascontiguousarray(s, dtype=dtype)
    if s.ndim != 1 or s.shape[0] != n:
        raise ValueError(
            f"sample_weight has shape {s.shape}; expected ({n},), one weight per sample."
        )
    if not np.isfinite(s).all():
        raise ValueError("sample_weight contains NaN or infinity.")
    if (s < 0).any():
        raise ValueError(
            "sample_weight has negative values; weights must be non-negative (a weight is a "
            "number of repetitions of its sample)."
        )
    if not allow_zero_sum and not s.sum() > 0:
        raise ValueError("sample_weight sums to zero: at least one sample needs a positive weight.")
    return aligned(s)


def check_game_labels(y, n, multinomial, n_classes=None):
    """Labels of a logistic game: ``(y as int64, K)``.

    Binary games (``multinomial=False``, ``K = 1``) take labels in {-1, +1}; multinomial ones
    class indices ``0..K-1`` (``K = max(y) + 1`` unless ``n_classes`` is given).
    """
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(
            f"y must be a 1-D array of length {n} (one label per row of X), got shape {y.shape}."
        )
    if y.dtype.kind not in "biuf":
        raise ValueError(f"y must hold numeric labels, got dtype {y.dtype}.")
    if y.dtype.kind == "f":
        if not np.isfinite(y).all() or (y != np.round(y)).any():
            raise ValueError("y must hold integer labels; got NaN, infinity or fractions.")
    if not multinomial:
        if n_classes not in (None, 2):
            raise ValueError(f"The binary game has n_classes=2, got n_classes={n_classes}.")
        bad = (y != 1) & (y != -1)
        if bad.any():
            raise ValueError(
                "The binary game (multinomial=False) needs labels y in {-1, +1}; "
                f"got {np.unique(y[bad])[:5].tolist()}. Encode the classes first."
            )
        return y.astype(np.int64), 1
    if n > 0 and y.min() < 0:
        raise ValueError(
            f"The multinomial game needs class indices y in {{0, ..., K-1}}; got {y.min()}."
        )
    K = int(y.max()) + 1 if n_classes is None else n_classes
    if isinstance(K, bool) or not isinstance(K, numbers.Integral) or K < 2:
        raise ValueError(f"The multinomial game needs n_classes >= 2, got {K}.")
    if n > 0 and y.max() >= K:
        raise ValueError(f"y holds the class index {int(y.max())}, but n_classes={K}.")
    return y.astype(np.int64), int(K)


def _label_family(value):
    # numbers of any kind compare with each other, so they sort into one set of classes
    if isinstance(value, (numbers.Real, np.bool_)):
        return "number"
    if isinstance(value, np.str_):
        return "str"
    return type(value).__name__


def _check_discrete_values(values, name, what):
    """Refuse None, NaN and mixed types among object-dtype labels (they cannot be sorted)."""
    arr = np.asarray(values)
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinity: every sample needs {what}.")
    if arr.dtype != object:
        return
    flat = arr.ravel()
    if any(v is None for v in flat):
        raise ValueError(f"{name} contains missing values (None): every sample needs {what}.")
    if any(
        isinstance(v, numbers.Real) and not isinstance(v, numbers.Integral) and not np.isfinite(v)
        for v in flat
    ):
        raise ValueError(f"{name} contains NaN or infinity: every sample needs {what}.")
    families = {_label_family(v) for v in flat}
    if len(families) > 1:
        raise ValueError(
            f"{name} mixes values of different types ({', '.join(sorted(families))}); "
            f"they must all have one type: convert them first, e.g. {name}.astype(str)."
        )


def check_classification_labels(y, name="y"):
    """Check class labels: one type, none missing, discrete (scikit-learn's classes).

    scikit-learn sorts the labels to find the classes; labels of mixed types (``[1, "a"]``)
    or with ``None`` then fail with "'<' not supported between instances of ..." or
    "Unknown label type: unknown", which do not say what is wrong with ``y``.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        The labels (already validated as a 1-D array by ``validate_data``).
    name : str, default="y"
        How to call them in messages.

    Raises
    ------
    ValueError
        If the labels mix types, contain None or NaN, or are continuous.
    """
    from sklearn.utils.multiclass import check_classification_targets

    arr = np.asarray(y)
    if arr.dtype == object:
        _check_discrete_values(arr, name, "a class label")
    check_classification_targets(arr)


def encode_groups(groups, n, sample_weight):
    """Encode the group label of every sample for a group adversary.

    Parameters
    ----------
    groups : array-like of shape (n,) or None
        Group labels (any sortable type: integers, strings, ...).
    n : int
        Number of samples.
    sample_weight : ndarray of shape (n,)
        Validated weights: a group whose samples all weigh 0 is not part of the game.

    Returns
    -------
    labels : ndarray of shape (G_all,)
        The sorted distinct labels (``groups_`` of the estimators).
    index : ndarray of shape (n,), int64
        For each sample, the index of its group among the groups present (positive weight),
        ``0..G-1``; samples of absent groups (all of weight 0) get 0.
    present : ndarray of shape (G_all,), bool
        Which labels carry positive weight.

    Raises
    ------
    ValueError
        ``groups`` is None (with how to pass it through scikit-learn's metadata routing), of
        the wrong length, holds NaN/None, or mixes types.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd._validation import encode_groups
    >>> labels, index, present = encode_groups(["b", "a", "c", "a"], 4, np.array([1, 1, 0, 1.0]))
    >>> labels.tolist(), index.tolist(), present.tolist()
    (['a', 'b', 'c'], [1, 0, 0, 0], [True, True, False])
    """
    if groups is None:
        raise ValueError(
            "This adversary needs the group of every sample: call fit(X, y, groups=...). In "
            "GridSearchCV or cross_validate, enable metadata routing "
            "(sklearn.set_config(enable_metadata_routing=True)) and request it with "
            "set_fit_request(groups=True)."
        )
    if sp.issparse(groups):
        raise TypeError("groups must be a 1-D array of labels, got a sparse matrix.")
    groups = np.asarray(groups)
    if groups.ndim != 1 or groups.shape[0] != n:
        raise ValueError(f"groups must have one entry per sample ({n}), got shape {groups.shape}.")
    _check_discrete_values(groups, "groups", "a group label")
    try:
        labels, index = np.unique(groups, return_inverse=True)
    except TypeError as exc:  # e.g. unorderable objects
        raise ValueError(f"groups holds labels that cannot be sorted: {exc}.") from None
    index = index.reshape(-1)
    weight = np.bincount(index, weights=sample_weight, minlength=len(labels))
    present = weight > 0
    # groups that carry no weight are not part of the game; their adversary weight is 0
    remap = np.cumsum(present) - 1
    return labels, np.where(present[index], remap[index], 0).astype(np.int64), present


def check_groups(groups, n):
    """Group labels for group-aware splitters (``GroupKFold``, ...): checked, or None.

    scikit-learn's splitters sort the labels; labels of mixed types (``[1, "a"]``) or with
    None then fail with "'<' not supported between instances of ...", which does not say
    what is wrong with ``groups``.

    Parameters
    ----------
    groups : array-like of shape (n,) or None
        Group labels (any sortable type: integers, strings, ...).
    n : int
        Number of samples.

    Returns
    -------
    groups : ndarray of shape (n,) or None

    Raises
    ------
    ValueError
        ``groups`` has the wrong length, holds NaN/None, or mixes types.

    Examples
    --------
    >>> from skcgd._validation import check_groups
    >>> check_groups([1, "a", 2], 3)
    Traceback (most recent call last):
    ...
    ValueError: groups mixes values of different types (number, str); they must all have one
    type: convert them first, e.g. groups.astype(str).
    """
    if groups is None:
        return None
    if sp.issparse(groups):
        raise TypeError("groups must be a 1-D array of labels, got a sparse matrix.")
    # a list mixing types would become strings under np.asarray ([1, "1"]: one group), so
    # the types are checked on the values as given
    given = groups if isinstance(groups, np.ndarray) else np.asarray(groups, dtype=object)
    if given.ndim != 1 or given.shape[0] != n:
        raise ValueError(f"groups must have one entry per sample ({n}), got shape {given.shape}.")
    _check_discrete_values(given, "groups", "a group label")
    return np.asarray(groups)


def check_input_features(estimator, input_features=None):
    """The names of a fitted estimator's input columns, for ``get_feature_names_out``.

    ``input_features`` if given (checked against ``feature_names_in_`` and
    ``n_features_in_``), else ``feature_names_in_``, else ``x0, x1, ...``: scikit-learn's
    convention for ``get_feature_names_out``.

    Parameters
    ----------
    estimator : fitted estimator
        With ``n_features_in_`` (and ``feature_names_in_`` when fitted on named columns).
    input_features : array-like of str or None, default=None

    Returns
    -------
    names : ndarray of object

    Raises
    ------
    ValueError
        ``input_features`` differs from ``feature_names_in_`` or has the wrong length.
    """
    fitted_names = getattr(estimator, "feature_names_in_", None)
    n = getattr(estimator, "n_features_in_", None)
    if input_features is not None:
        names = np.asarray(input_features, dtype=object)
        if fitted_names is not None and not np.array_equal(fitted_names, names):
            raise ValueError("input_features is not equal to feature_names_in_")
        if n is not None and len(names) != n:
            raise ValueError(
                f"input_features should have length equal to number of features ({n}), "
                f"got {len(names)}"
            )
        return names
    if fitted_names is not None:
        return np.asarray(fitted_names, dtype=object)
    if n is None:
        raise ValueError("Unable to generate feature names without n_features_in_")
    return np.asarray([f"x{i}" for i in range(n)], dtype=object)
