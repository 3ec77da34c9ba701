"""Hostile input for every public estimator (property-based, hypothesis).

Two properties per estimator (``skcgd.utils.all_estimators()``), each run on every variant of
the spec its subpackage registers (``skcgd._registry.estimator_specs()``: adversaries and
solvers, naive Bayes modes, ...):

* ``test_hostile_fit_valid``: valid but extreme input, within what the estimator can
  legitimately handle (its entry of ``LIMITS``, which says why: values up to ``max_abs``,
  denormals, constant, zero and duplicated columns, duplicated rows, mixed column scales, one
  sample per class where allowed, sample weights with zeros, string / negative / float / bool
  labels, float32, int, F-ordered and CSR X) must fit, and every prediction on the training X
  must be finite (probabilities in [0, 1] summing to one);
* ``test_hostile_fit_invalid``: the same kind of data with one planted problem (NaN or inf in
  X, y or the weights, empty X, no features, 1-D / 3-D / string / complex X, wrong lengths,
  one class, mixed / missing / continuous labels, negative, all-zero or tiny weights, missing
  groups, sparse X where refused, values beyond ``huge``, too few rows for the folds) must
  raise a ValueError or TypeError whose message names that problem.

So half the cases end in a fitted model. Never another exception, a crash inside a kernel, a
hang or NaN predictions. Each property checks at the end that every variant ran its share of
cases to completion. The default run draws ``_EXAMPLES`` cases per estimator and property
(fewer for the ``_COSTLY`` cross-validating ones), derandomised so CI is repeatable;
``python -m pytest -m slow tests/test_hostile_input.py`` runs ``_SLOW_EXAMPLES`` fresh ones.

Bugs these properties (and tests/test_hostile_solvers.py) found, and the fixes:

1. KLLogisticGame with 0 features and fit_intercept=True crashed inside scipy's dsyrk
   (``games/_design.py`` ``_row_gram_dense_single``).
2. GaussianNaiveBayes("shared") with a constant feature far from zero (1e8): every class
   score carried a huge, cancelling mu^2/v term; predictions came out 0.5/0.5 (at 1e150:
   overflow). Linear parameters are now taken about the mean of the class means.
3. GaussianNaiveBayes on X whose every feature has a tiny spread (1e-151; float32 1e-30): the
   variances underflowed and predict failed with a wrong message ("squares overflow", "use
   var_smoothing > 0"). fit now refuses: "values too small for float64/float32".
4. GaussianNaiveBayes, features constant on the rows of positive weight: rounding noise
   (1e-34) set epsilon to 1e-43, and predict_proba rows summed to 2 (the kernel's log-sum-exp
   added the normaliser to a joint log-likelihood of -1e42). epsilon now ignores variances at
   the rounding level of the values; the kernel shifts by the maximum first, outside
   fast-math (``_kernels/naive_bayes.py`` ``_posterior_row``).
5. GreedyEnsembleSelection (rmse/mse) on |X| or |y| ~ 1e200: every loss was inf and the
   selection arbitrary, silently. Refused now, as by RegularizedMetaLearner.
6. MinimaxLogisticRegression.predict_proba on X ~ 1e308: inf - inf scores gave NaN
   probabilities (and predict an arbitrary class). decision_function refuses them.
7. CGD-type solvers (CGD, CompetitiveMirrorDescent, ACGD) with duplicated columns and steps
   far too large for the interaction: scipy's Cholesky raised LinAlgError ("leading minor
   not positive definite"). The direct solve now ends in the documented DivergenceError.
8. GDA, ExtraGradient, OptimisticGDA accepted a negative or all-zero start for a player on
   the simplex (and returned it with max_iter=0). Refused, as by the mirror solvers.
9. RegularizedMetaLearner(inner_cv=LeaveOneOut()) raised TypeError: get_n_splits() was
   called without the rows (found by tests/test_input_kinds.py).
10. RidgeStackingRegressor.predict, base model predicting NaN (scikit-learn's Ridge on CSR X
    with |X| ~ 1e100): the meta-learner blamed the user's X ("Input X contains NaN"); the
    stack now names the base estimator, as fit does.
11. conjugate_gradient on A = [[1e-300]], b = [1e150] (no representable solution) returned
    x = NaN; it now stops at the last finite iterate with converged=False.
"""

import faulthandler
import inspect
import warnings
from collections import Counter
from typing import NamedTuple, Optional

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skcgd.utils import all_estimators
from skcgd.utils._input_kinds import estimator_spec, make_data, prediction_outputs

_EXAMPLES = 300
_SLOW_EXAMPLES = 3000
# a fit of these runs dozens of cross-validated fits (0.1-0.4 s on the data here): fewer
# cases per property, so that the default run stays near a minute; the slow run draws
# _SLOW_COSTLY of them. The nested cross-validations (the meta-learners' inner CV over C or
# alpha, the CV estimator's grid) cost the most per case: the default run's 19, 12 and 61 s
# for the valid fits were the suite's slowest tests (the CV estimator's 75 cases: 13 s)
_COSTLY = {
    "RegularizedMetaLearner": 75,
    "RidgeStackingRegressor": 150,
    "RidgeStackingClassifier": 150,
    "RegularizedMetaClassifier": 75,
    "MinimaxLogisticRegressionCV": 40,
}
_SLOW_COSTLY = 1000
# one tiny case running this long is a hang (a cold kernel compile takes ~5-20 s): dump every
# thread's stack and exit, rather than let CI wait forever
_HANG_SECONDS = 180

ESTIMATORS = all_estimators()
_FAST = settings(
    max_examples=_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
_SLOW = settings(
    max_examples=_SLOW_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck)
)
_F32_MAX = float(np.finfo(np.float32).max)


class Limits(NamedTuple):
    """What one estimator must fit, and what it must refuse.

    max_abs, max_abs32 : the largest |X| it must fit on, for float64 and float32 X
    max_abs_y, max_abs_y32 : regressors, the largest |y| it must fit on, with float64 and
        float32 X (None: max_abs_y)
    min_rows : regressors, the fewest rows it must fit on
    min_per_class, min_weighted_per_class : classifiers, the fewest rows per class it must fit
        on, and of them the fewest with a positive sample weight
    max_rows : the largest data sets drawn (cost)
    huge, huge32, huge_y : an |X| (float64, float32) or |y| it must refuse naming the scale
        (None: the estimator has no limit of its own there)
    too_few : regressors, a number of rows, classifiers, of rows per class, that it must
        refuse (None: none)
    tiny_weight : a factor on the weights that it must refuse (None: none)
    unbounded : callable, params -> bool: the variants to which huge and huge_y do not apply
    sparse_scale : (max_abs, max_abs_y) in place of the above for CSR X (None: the same)
    min_spread : (float64, float32) the smallest spread of X (largest per-feature standard
        deviation) it must fit on; below a tenth of it, it must refuse X naming the scale
        (None: no such limit)
    """

    max_abs: float = 1e100
    max_abs32: float = 1e30
    max_abs_y: float = 1e3
    max_abs_y32: Optional[float] = None
    min_rows: int = 2
    min_per_class: int = 1
    min_weighted_per_class: int = 1
    max_rows: int = 24
    huge: Optional[float] = None
    huge32: Optional[float] = None
    huge_y: Optional[float] = None
    too_few: Optional[int] = None
    tiny_weight: Optional[float] = None
    min_spread: Optional[tuple] = None
    unbounded: object = lambda params: False
    sparse_scale: Optional[tuple] = None


# The legitimate range of each estimator (the default entry holds estimators added later).
LIMITS = {
    # the games refuse C * sum(s) * max|X|^2 > 1e150 (skcgd.games._logistic._SCALE_RANGE):
    # with at most 24 rows of weight <= 20, |X| <= 1e70 is inside, 1e100 is not; float32 X
    # is read in float64, so all of float32's range is inside
    "MinimaxLogisticRegression": Limits(
        max_abs=1e70, max_abs32=_F32_MAX, huge=1e100, tiny_weight=1e-200
    ),
    # the moments are float64 sums of squares: |X| <= 1e150 stays finite, spread values of
    # 1e200 overflow; float32 keeps the variances in float32: (2 * 1e18)^2 < 3.4e38 < 1e60.
    # The variances (at least var_smoothing = 1e-9 times the largest) must stay in the
    # normal range of the dtype: a spread of 1e-140 (float64) or 1e-12 (float32) somewhere
    "GaussianNaiveBayes": Limits(
        max_abs=1e150, max_abs32=1e18, huge=1e200, huge32=1e30, min_spread=(1e-140, 1e-12)
    ),
    # weighted sums of squares of X and y in float64 (_check_magnitudes refuses |.| above
    # ~1e148 for these sizes); cv=3 outer folds, and the "cg" variant's 5 inner folds need
    # 5 training rows: 9 rows
    "RegularizedMetaLearner": Limits(
        max_abs=1e140,
        max_abs32=_F32_MAX,
        max_abs_y=1e140,
        min_rows=9,
        huge=1e160,
        huge_y=1e160,
        too_few=2,
    ),
    # squared errors of the predictions in float64, refused above ~1e148 as by the
    # RegularizedMetaLearner (absolute errors: no limit of its own)
    "GreedyEnsembleSelection": Limits(
        max_abs=1e145,
        max_abs32=_F32_MAX,
        max_abs_y=1e145,
        min_rows=1,
        huge=1e200,
        huge_y=1e200,
        unbounded=lambda params: params.get("metric") == "mae",
    ),
    # base models Ridge and Lasso (scikit-learn's) see X; their out-of-fold predictions go on
    # to the RegularizedMetaLearner (its limits, ~1e148), and exceed |y| by orders of
    # magnitude when Ridge extrapolates to a row of another scale: |y| <= 1e100. Ridge's Gram
    # matrices limit |X| to well below 1e150; it keeps float32 X's dtype, so X^T y must stay
    # in float32 (|X| 1e10, |y| 1e15); its sparse solver predicts NaN from |X| ~ 1e15
    # (float32) or 1e100, or |X| 1e10 with |y| 1e140 (the stack then names it): CSR X 1e50
    "RidgeStackingRegressor": Limits(
        max_abs=1e100,
        max_abs32=1e10,
        max_abs_y=1e100,
        max_abs_y32=1e15,
        min_rows=9,
        huge_y=1e160,
        too_few=2,
        sparse_scale=(1e50, 1e50),
    ),
    # base models MinimaxLogisticRegression and GaussianNaiveBayes (their limits, on 2/3 of
    # the rows); 3 stratified folds, then 2 meta folds and 2 inner folds on the out-of-fold
    # log-odds: 6 rows per class, 4 of them weighted, so that every training fold keeps
    # each class
    "RidgeStackingClassifier": Limits(
        max_abs=1e70,
        max_abs32=1e18,
        min_per_class=6,
        min_weighted_per_class=4,
        too_few=2,
        min_spread=(1e-140, 1e-12),
    ),
    # X is read as log-odds; the meta-models (skcgd's logistic regression) refuse
    # C * sum(s) * max|X|^2 > 1e150 as MinimaxLogisticRegression does: |X| <= 1e70. 3
    # stratified outer folds, then 2 inner folds: 6 rows per class, 4 of them weighted
    "RegularizedMetaClassifier": Limits(
        max_abs=1e70, max_abs32=1e18, min_per_class=6, min_weighted_per_class=4
    ),
    # MinimaxLogisticRegression's limits, with every class in each of 3 stratified folds
    "MinimaxLogisticRegressionCV": Limits(
        max_abs=1e70,
        max_abs32=_F32_MAX,
        huge=1e100,
        tiny_weight=1e-200,
        min_per_class=6,
        min_weighted_per_class=6,
    ),
}
_DEFAULT_LIMITS = Limits(min_rows=10, min_per_class=6, min_weighted_per_class=6)

# the words an error message must contain (any of them, case-insensitive) for each problem
_KEYWORDS = {
    "nan": ("nan",),
    "inf": ("inf",),
    "no_samples": ("0 sample", "no rows", "no sample", "empty", "minimum of"),
    "no_features": ("0 feature", "no features", "no feature", "minimum of"),
    "X_1d": ("2d", "2-d", "dimension", "reshape"),
    "X_3d": ("dim", "2d", "2-d"),
    "X_str": ("convert", "string", "numeric", "dtype"),
    "X_complex": ("complex",),
    "sparse": ("sparse",),
    "huge": ("large", "overflow", "rescale", "scale", "float32"),
    "y_length": ("inconsistent", "length", "shape", "number of samples", "samples but"),
    "y_nan": ("nan", "inf", "missing"),
    "y_none": ("none", "missing"),
    "y_mixed": ("mix", "type"),
    "y_continuous": ("continuous",),
    "y_str": ("convert", "string", "numeric"),
    "y_huge": ("large", "overflow", "rescale", "scale"),
    "one_class": ("class",),
    "one_weighted_class": ("class",),
    "too_few": ("split", "fold", "member", "minimum", "rows", "samples"),
    "sw_negative": ("sample_weight", "weight"),
    "sw_nan": ("sample_weight", "weight"),
    "sw_zero": ("sample_weight", "weight"),
    "sw_length": ("sample_weight", "weight"),
    "sw_tiny": ("sample_weight", "weight", "small"),
    "groups_missing": ("group",),
    "groups_length": ("group",),
    "groups_nan": ("group",),
    "unseen_label": ("classes", "label"),
    "n_features": ("feature", "expect"),
}

_LABELS = np.array(["cat", "dog", "eel", "fox"])


class Case(NamedTuple):
    variant: int
    params: dict
    X: object
    y: object
    kwargs: dict
    problem: Optional[str]  # None: a valid case


class _HangGuard:
    def __enter__(self):
        faulthandler.dump_traceback_later(_HANG_SECONDS, exit=True)

    def __exit__(self, *exc):
        faulthandler.cancel_dump_traceback_later()


def _limits(cls):
    return LIMITS.get(cls.__name__, _DEFAULT_LIMITS)


def _accepts_sparse(spec, cls, params):
    return spec.build(cls, **params).__sklearn_tags__().input_tags.sparse


# -- valid, extreme data ---------------------------------------------------------------------------
def _rows(draw, spec, lim):
    """Class index per row (classifiers) or the number of rows; returns (n, y_index or None)."""
    if spec.task != "classifier":
        return draw(st.integers(lim.min_rows, lim.max_rows)), None
    k_max = max(2, min(4, lim.max_rows // lim.min_per_class))
    k = draw(st.integers(2, k_max))
    room = lim.max_rows - k * lim.min_per_class
    counts = [lim.min_per_class + draw(st.integers(0, min(5, room // k))) for _ in range(k)]
    return sum(counts), np.repeat(np.arange(k), counts)


def _columns(draw, rng, n, d, dtype, lim, signal):
    """X of shape (n, d), column by column: random at a drawn scale, constant, zero, duplicated,
    binary; ``signal`` in [-1, 1] (one value per row) shifts the random columns."""
    top = lim.max_abs32 if dtype == "float32" else lim.max_abs
    if dtype == "float32":
        scales = (1.0, 1e-3, 1e3, 1e-30, 1e-40, 1e-45, top, top / 7)  # 1e-40: a float32 denormal
    else:
        scales = (1.0, 1e-3, 1e3, 1e-150, 1e-300, 1e-310, 5e-324, top, top / 7)
    X = np.zeros((n, d))
    for j in range(d):
        kind = draw(
            st.sampled_from(
                ["random", "random", "random", "constant", "zero", "duplicate", "binary"]
            )
        )
        scale = draw(st.sampled_from(scales))
        if dtype == "int64":
            scale = 1000.0
        event(f"column: {kind}" + (f" x {scale:.0e}" if kind in ("random", "constant") else ""))
        if kind == "duplicate" and j:
            X[:, j] = X[:, draw(st.integers(0, j - 1))]
        elif kind == "constant":
            X[:, j] = scale * rng.uniform(-1, 1)
        elif kind == "zero":
            X[:, j] = 0.0
        elif kind == "binary":
            X[:, j] = rng.integers(0, 2, n)
        else:
            X[:, j] = scale * np.clip(0.5 * signal + 0.5 * rng.uniform(-1, 1, n), -1, 1)
    if dtype == "int64":
        X = np.round(X)
    if n >= 3 and draw(st.integers(0, 4)) == 0:
        X[1] = X[0]  # a duplicated row (with whatever label it has)
    return X


def _has_spread(X, w, lim):
    """Whether the rows of positive weight of X have a spread of at least min_spread."""
    if lim.min_spread is None:
        return True
    low = lim.min_spread[X.dtype == np.float32]
    Xr = np.asarray(X, dtype=float)[w > 0] if w is not None else np.asarray(X, dtype=float)
    return Xr.shape[0] < 2 or bool(
        Xr.std(axis=0).max(initial=0.0) >= low and np.ptp(Xr, axis=0).max(initial=0.0) >= low
    )


def _ensure_spread(X, w, dtype, lim):
    """Give column 0 a spread if the rows of positive weight have none above min_spread."""
    if lim.min_spread is None:
        return X
    low = lim.min_spread[dtype == "float32"]
    rows = np.flatnonzero(w > 0) if w is not None else np.arange(X.shape[0])
    Xr = X[rows]
    if rows.size >= 2 and not (Xr.std(axis=0).max() >= low and np.ptp(Xr, axis=0).max() >= low):
        # (all rows: a zero-weight row far outside the scale of the others would make its
        # own prediction overflow, legitimately)
        X[:, 0] = np.linspace(-1.0, 1.0, X.shape[0])
    return X


def _labels(draw, y_index):
    kind = draw(st.sampled_from(["int", "str", "object_str", "float", "negative", "bool"]))
    if kind == "bool" and y_index.max() > 1:
        kind = "int"
    event(f"labels: {kind}")
    if kind == "str":
        return _LABELS[y_index]
    if kind == "object_str":
        return _LABELS[y_index].astype(object)
    if kind == "float":
        return y_index * 2.0 - 1.0  # integral floats (0.5 would be a continuous target)
    if kind == "negative":
        return -7 * y_index - 1
    if kind == "bool":
        return y_index.astype(bool)
    return y_index


def _weights(draw, rng, n, y_index, lim):
    how = draw(st.sampled_from(["none", "ones", "random", "zeros", "zeros", "scaled"]))
    event(f"sample_weight: {how}")
    if how == "none":
        return None
    w = np.ones(n)
    if how == "random":
        w = rng.uniform(0.5, 2.0, n)
    elif how == "scaled":
        w = rng.uniform(0.5, 2.0, n) * draw(st.sampled_from([1e-3, 10.0]))
    elif how == "zeros":
        w = rng.uniform(0.5, 2.0, n)
        if y_index is None:  # at most a third of the rows, so that every fold keeps weight
            if n >= 3:
                w[rng.choice(n, size=rng.integers(1, n // 3 + 1), replace=False)] = 0.0
        else:  # per class, keeping min_weighted_per_class rows of positive weight
            for c in np.unique(y_index):
                rows = np.flatnonzero(y_index == c)
                spare = rows.size - lim.min_weighted_per_class
                if spare > 0:
                    w[rng.choice(rows, size=rng.integers(0, spare + 1), replace=False)] = 0.0
    return w


def _groups(draw, rng, n):
    how = draw(st.sampled_from(["int", "str", "one", "float"]))
    event(f"groups: {how}")
    g = rng.integers(0, 3, n)
    if how == "one":
        return np.zeros(n, dtype=int)
    if how == "str":
        return np.array(["north", "south", "east"])[g]
    if how == "float":
        return g * 1.5
    return g


@st.composite
def valid_case(draw, cls, spec, index):
    """Valid but extreme data for variant ``index`` of ``cls``: a :class:`Case` whose problem
    is None."""
    lim = _limits(cls)
    params = spec.all_params()[index]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n, y_index = _rows(draw, spec, lim)
    if y_index is not None:
        rng.shuffle(y_index)
    d = draw(st.integers(1, 5))
    dtype = draw(st.sampled_from(["float64", "float64", "float64", "float32", "int64"]))
    event(f"X dtype: {dtype}")
    layout = draw(st.sampled_from(["C", "C", "F", "csr"]))
    if layout == "csr" and not (dtype != "int64" and _accepts_sparse(spec, cls, params)):
        layout = "C"
    event(f"X layout: {layout}")
    if layout == "csr" and lim.sparse_scale is not None:
        top, top_y = lim.sparse_scale
        lim = lim._replace(
            max_abs=min(lim.max_abs, top),
            max_abs32=min(lim.max_abs32, top),
            max_abs_y=min(lim.max_abs_y, top_y),
            max_abs_y32=min(lim.max_abs_y32 or lim.max_abs_y, top_y),
        )
    if spec.task == "classifier":
        centres = rng.uniform(-1, 1, y_index.max() + 1)
        signal = centres[y_index]
        y = _labels(draw, y_index)
    else:
        top = lim.max_abs_y32 if dtype == "float32" and lim.max_abs_y32 else lim.max_abs_y
        y_scale = draw(st.sampled_from([1.0, 1e-3, 1e3, 1e-300, top]))
        y = y_scale * rng.uniform(-1, 1, n)
        if draw(st.integers(0, 6)) == 0:
            y[:] = y[0]  # a constant target
        signal = y / max(np.abs(y).max(), np.finfo(float).tiny)
        event(f"y scale: {y_scale:.0e}")
    X = _columns(draw, rng, n, d, dtype, lim, signal)
    kwargs = {}
    w = None
    if "sample_weight" in inspect.signature(cls.fit).parameters:
        w = _weights(draw, rng, n, y_index, lim)
        if w is not None:
            kwargs["sample_weight"] = w
    X = _ensure_spread(X, w, dtype, lim).astype(dtype)
    if spec.needs_groups(params):
        kwargs["groups"] = _groups(draw, rng, n)
    if layout == "csr":
        X = sp.csr_matrix(X)
    elif layout == "F":
        X = np.asfortranarray(X)
    return Case(index, params, X, y, kwargs, None)


# -- one planted problem -----------------------------------------------------------------------
def _problems(cls, spec, params, sparse_ok, method):
    lim = _limits(cls)
    out = [
        "nan",
        "inf",
        "no_samples",
        "no_features",
        "X_1d",
        "X_3d",
        "X_str",
        "X_complex",
        "y_length",
    ]
    if spec.task == "classifier":
        out += ["y_nan", "y_none", "y_mixed", "y_continuous"]
        # partial_fit takes batches of one class (all classes are declared up front)
        out += ["one_class"] if method == "fit" else ["unseen_label"]
    else:
        out += ["y_nan", "y_str"]
        if lim.huge_y is not None and not lim.unbounded(params):
            out.append("y_huge")
    if "sample_weight" in inspect.signature(cls.fit).parameters:
        out += ["sw_negative", "sw_nan", "sw_zero", "sw_length"]
        if lim.tiny_weight is not None:
            out.append("sw_tiny")
        if cls.__name__ == "GaussianNaiveBayes" and method == "fit":
            out.append("one_weighted_class")
    if spec.needs_groups(params):
        out += ["groups_missing", "groups_length", "groups_nan"]
    if not sparse_ok:
        out.append("sparse")
    if lim.huge is not None and not lim.unbounded(params):
        out.append("huge")
    if lim.too_few is not None and method == "fit":
        out.append("too_few")
    return out


def _plant(draw, case, problem, spec, lim):
    """``case`` with ``problem`` planted."""
    X, y, kwargs = case.X, case.y, dict(case.kwargs)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if sp.issparse(X):
        X = X.toarray()
        sparse = True
    else:
        X = np.array(X)
        sparse = False
    n, d = X.shape
    i, j = rng.integers(0, n), rng.integers(0, d)
    if problem in ("nan", "inf", "huge") and X.dtype.kind != "f":
        X = X.astype(np.float64)
    if problem == "nan":
        X[i, j] = np.nan
    elif problem == "inf":
        if X.dtype == np.float32 and draw(st.booleans()):
            X = X.astype(np.float64)
            X[i, j] = 1e300
            with np.errstate(over="ignore"):
                X = X.astype(np.float32)  # the caller's cast overflowed: an inf
        else:
            X[i, j] = draw(st.sampled_from([np.inf, -np.inf]))
    elif problem == "huge":
        top = lim.huge32 if X.dtype == np.float32 and lim.huge32 is not None else lim.huge
        if X.dtype == np.float32 and top > _F32_MAX:
            X = X.astype(np.float64)
        # spread, over the rows of positive weight too: squares overflow
        w = kwargs.get("sample_weight")
        positive = np.flatnonzero(w > 0) if w is not None else np.arange(n)
        X[:, j] = -0.5 * top
        X[positive[::2], j] = top
    elif problem == "no_samples":
        X, y = X[:0], y[:0]
        kwargs = {k: v[:0] for k, v in kwargs.items()}
    elif problem == "no_features":
        X = X[:, :0]
    elif problem == "too_few":
        if spec.task == "classifier":  # two rows per class, 3 folds
            keep = np.concatenate(
                [
                    np.flatnonzero(_y_index(case) == c)[: lim.too_few]
                    for c in np.unique(_y_index(case))
                ]
            )
        else:
            keep = np.arange(lim.too_few)
        keep = np.sort(keep)
        X, y = X[keep], y[keep]
        kwargs = {
            k: (np.ones(keep.size) if k == "sample_weight" else v[keep]) for k, v in kwargs.items()
        }
    if sparse and problem not in ("X_1d", "X_3d", "X_str", "X_complex"):
        X = sp.csr_matrix(X)
    if problem == "X_1d":
        X = X[:, 0]
    elif problem == "X_3d":
        X = X[:, :, None]
    elif problem == "X_str":
        X = X.astype(object)
        X[i, j] = "a lot"
    elif problem == "X_complex":
        X = X + 1j
    elif problem == "sparse":
        X = sp.csr_matrix(X)
    elif problem == "y_length":
        y = y[:-1] if n > 1 and draw(st.booleans()) else np.concatenate([y, y[:1]])
    elif problem == "one_class":
        y = np.full(n, y[0], dtype=np.asarray(y).dtype)
    elif problem == "y_nan":
        y = (
            np.asarray(y, dtype=float)
            if spec.task != "classifier"
            else (np.asarray(_y_index(case), dtype=float))
        )
        y[i] = draw(st.sampled_from([np.nan, np.inf])) if spec.task != "classifier" else np.nan
    elif problem == "y_none":
        y = np.asarray(y).astype(object)
        y[i] = None
    elif problem == "y_mixed":
        idx = _y_index(case)
        y = np.array([v if v % 2 else f"c{v}" for v in idx.tolist()], dtype=object)
        if len({type(v) for v in y}) < 2:
            y[0] = 7 if isinstance(y[0], str) else "c7"
    elif problem == "y_continuous":
        y = _y_index(case) + 0.5 * np.arange(n) / n + 0.01
    elif problem == "y_str":
        y = np.array([f"v{k}" for k in range(n)], dtype=object)
    elif problem == "unseen_label":  # (partial_fit) y holds a class not declared
        kwargs["classes"] = np.unique(np.asarray(y))[1:]
    elif problem == "y_huge":
        y = np.asarray(y, dtype=float).copy()
        y[:] = lim.huge_y * np.where(np.arange(n) % 2, 1.0, -0.5)
    elif problem.startswith("sw_") or problem == "one_weighted_class":
        w = np.array(kwargs.get("sample_weight", np.ones(n)), dtype=float)
        if problem == "sw_negative":
            w[i] = -1.0
        elif problem == "sw_nan":
            w[i] = draw(st.sampled_from([np.nan, np.inf]))
        elif problem == "sw_zero":
            w[:] = 0.0
        elif problem == "sw_length":  # (none at all is another message: "0 sample(s)")
            w = np.ones(n + (draw(st.sampled_from([-1, 1])) if n > 1 else 1))
        elif problem == "sw_tiny":
            w = np.ones(n) * lim.tiny_weight
        else:
            idx = _y_index(case)
            w = np.where(idx == idx[0], 1.0, 0.0)
        kwargs["sample_weight"] = w
    elif problem == "groups_missing":
        del kwargs["groups"]
    elif problem == "groups_length":
        kwargs["groups"] = np.concatenate([kwargs["groups"], kwargs["groups"][:1]])
    elif problem == "groups_nan":
        g = (
            np.asarray(kwargs["groups"], dtype=float)
            if np.asarray(kwargs["groups"]).dtype.kind in "iuf"
            else np.arange(n) % 2.0
        )
        g[i] = np.nan
        kwargs["groups"] = g
    return case._replace(X=X, y=y, kwargs=kwargs, problem=problem)


def _y_index(case):
    """The class index of each row of a classifier's case (labels -> 0..K-1)."""
    return np.unique(np.asarray(case.y), return_inverse=True)[1].reshape(-1)


@st.composite
def invalid_case(draw, cls, spec, index, method="fit"):
    """A valid case (:func:`valid_case`) with one planted problem."""
    case = draw(valid_case(cls, spec, index))
    if spec.task == "classifier":  # the planted labels must decode
        case = case._replace(y=np.asarray(case.y))
    sparse_ok = _accepts_sparse(spec, cls, case.params)
    problem = draw(st.sampled_from(_problems(cls, spec, case.params, sparse_ok, method)))
    event(f"problem: {problem}")
    return _plant(draw, case, problem, spec, _limits(cls))


# -- checks --------------------------------------------------------------------------------------
def _check_outputs(estimator, X):
    """Every prediction on X is finite; labels are among classes_ (raises on failure)."""
    outputs = prediction_outputs(estimator, X)
    for name, out in outputs.items():
        if name == "predict" and hasattr(estimator, "classes_"):
            assert np.isin(out, estimator.classes_).all(), (name, out)
            continue
        assert out.dtype.kind in "fiub", (name, out.dtype)
        where = f"{estimator!r}.{name}"
        prior = getattr(estimator, "class_prior_", None)
        if prior is not None and out.ndim == 2 and out.shape[1] == len(prior):
            # log P = -inf (and a score of -inf) is exact for a class of prior probability 0,
            # e.g. declared in partial_fit but given no weight; NaN and +inf never are
            out = out[:, np.asarray(prior) > 0]
            zero = outputs["predict_proba"][:, np.asarray(prior) > 0] == 0
        else:
            zero = outputs["predict_proba"] == 0 if "predict_proba" in outputs else False
        if "log" in name:
            # the log of a probability that underflowed to 0 in the output dtype is -inf
            out = np.where(zero & (out == -np.inf), 0.0, out)
        assert np.isfinite(out).all(), f"{where} gave non-finite {out}"
        if name == "predict_proba":
            assert ((out >= 0) & (out <= 1)).all()
            np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-4)


def _check_message(exc, problem, estimator):
    message = str(exc).lower()
    allowed = _KEYWORDS[problem]
    assert any(word in message for word in allowed), (
        f"{estimator!r} raised {type(exc).__name__}: {exc!s}\nbut the planted problem is "
        f"{problem!r}: the message must name it (one of {allowed})."
    )


def _fit(estimator, case, method, spec):
    if method == "partial_fit":
        extra = {}
        if spec.task == "classifier" and "classes" not in case.kwargs:
            try:
                extra["classes"] = np.unique(np.asarray(case.y))
            except TypeError:  # mixed labels: the estimator must say so itself
                extra["classes"] = np.asarray(case.y)
        n = case.X.shape[0] if hasattr(case.X, "shape") and case.X.ndim >= 1 else 0
        half = n // 2
        w = case.kwargs.get("sample_weight")
        if w is not None and not (w[:half].sum() > 0 and w[half:].sum() > 0):
            half = 0  # a batch of zero weight is refused, as a fit is: one batch then
        lim = _limits(type(estimator))
        if (
            case.problem is None
            and half
            and not all(
                _has_spread(case.X[part], None if w is None else w[part], lim)
                for part in (slice(None, half), slice(half, None))
            )
        ):
            half = 0  # nor can a batch be below min_spread
        if case.problem is None and half and n - half:
            # two batches; the first may lack classes (declared in classes=)
            first = {k: v[:half] for k, v in case.kwargs.items()}
            rest = {k: v[half:] for k, v in case.kwargs.items()}
            estimator.partial_fit(case.X[:half], case.y[:half], **extra, **first)
            estimator.partial_fit(case.X[half:], case.y[half:], **rest)
            return
        estimator.partial_fit(case.X, case.y, **extra, **case.kwargs)
        return
    estimator.fit(case.X, case.y, **case.kwargs)


def _run_valid(cls, spec, case, method):
    estimator = spec.build(cls, **case.params)
    with warnings.catch_warnings(), _HangGuard():
        warnings.simplefilter("ignore")
        try:
            _fit(estimator, case, method, spec)
            w = case.kwargs.get("sample_weight")
            if w is None or (w > 0).all():
                _check_outputs(estimator, case.X)
            else:
                # the rows of zero weight are not in the model: they are new data to it, and a
                # row far outside the scale of the others may be refused by name (a Gaussian
                # of variance 1e-10 at 1e150 from its mean overflows)
                _check_outputs(estimator, case.X[np.flatnonzero(w > 0)])
                try:
                    _check_outputs(estimator, case.X)
                except ValueError as exc:
                    _check_message(exc, "huge", estimator)
        except Exception as exc:
            raise AssertionError(
                f"{estimator!r} failed on valid input ({type(exc).__name__}: {exc}); "
                f"X {getattr(case.X, 'dtype', '?')} {getattr(case.X, 'shape', '?')} "
                f"max|X| {_max_abs(case.X):.3g}, y {np.asarray(case.y)[:6]!r}..., "
                f"fit kwargs {sorted(case.kwargs)}"
            ) from exc


def _run_invalid(cls, spec, case, method):
    estimator = spec.build(cls, **case.params)
    with warnings.catch_warnings(), _HangGuard():
        warnings.simplefilter("ignore")
        try:
            _fit(estimator, case, method, spec)
        except (ValueError, TypeError) as exc:
            _check_message(exc, case.problem, estimator)
            return
        raise AssertionError(
            f"{estimator!r}.{method} accepted the planted problem "
            f"{case.problem!r}; fitted {estimator!r}"
        )


def _max_abs(X):
    try:
        data = X.data if sp.issparse(X) else np.asarray(X, dtype=float)
        return float(np.abs(data).max(initial=0.0))
    except (TypeError, ValueError):
        return float("nan")


# -- the tests ------------------------------------------------------------------------------------
def _params(estimators=ESTIMATORS):
    return [pytest.param(n, c, id=n) for n, c in estimators]


def _property(cls, method, valid, run_settings):
    """Run the property on every variant, ``run_settings.max_examples`` cases in all."""
    spec = estimator_spec(cls)
    n_variants = len(spec.all_params())
    # one run per variant: drawing the variant would favour the first ones (hypothesis
    # shrinks towards them) and might skip some
    per_variant = max(run_settings.max_examples // n_variants, 10)
    seen = Counter()
    for index in range(n_variants):
        strategy = valid_case(cls, spec, index) if valid else invalid_case(cls, spec, index, method)

        @settings(run_settings, max_examples=per_variant)
        @given(case=strategy)
        def run(case):
            (_run_valid if valid else _run_invalid)(cls, spec, case, method)
            seen[case.variant] += 1

        run()
    print(
        f"{cls.__name__}.{method} ({'valid' if valid else 'invalid'}): "
        f"{sum(seen.values())} cases, per variant {dict(sorted(seen.items()))}"
    )  # (-s)
    # every variant ran its cases to the end (for the valid ones: a fitted model with finite
    # outputs), not a strategy that stopped drawing distinct cases
    assert all(seen[i] >= 0.8 * per_variant for i in range(n_variants)), dict(seen)
    return seen


def _fast(name):
    return settings(_FAST, max_examples=_COSTLY.get(name, _EXAMPLES))


def _slow(name):
    return settings(_SLOW, max_examples=_SLOW_COSTLY if name in _COSTLY else _SLOW_EXAMPLES)


@pytest.mark.parametrize("name, cls", _params())
def test_hostile_fit_valid(name, cls):
    _property(cls, "fit", True, _fast(name))


@pytest.mark.parametrize("name, cls", _params())
def test_hostile_fit_invalid(name, cls):
    _property(cls, "fit", False, _fast(name))


_PARTIAL = _params([(n, c) for n, c in ESTIMATORS if hasattr(c, "partial_fit")])


@pytest.mark.parametrize("name, cls", _PARTIAL)
def test_hostile_partial_fit_valid(name, cls):
    _property(cls, "partial_fit", True, settings(_fast(name), max_examples=_EXAMPLES // 2))


@pytest.mark.parametrize("name, cls", _PARTIAL)
def test_hostile_partial_fit_invalid(name, cls):
    _property(cls, "partial_fit", False, settings(_fast(name), max_examples=_EXAMPLES // 2))


@pytest.mark.slow
@pytest.mark.parametrize("valid", [True, False], ids=["valid", "invalid"])
@pytest.mark.parametrize("name, cls", _params())
def test_hostile_fit_long(name, cls, valid):
    _property(cls, "fit", valid, _slow(name))


@pytest.mark.slow
@pytest.mark.parametrize("valid", [True, False], ids=["valid", "invalid"])
@pytest.mark.parametrize("name, cls", _PARTIAL)
def test_hostile_partial_fit_long(name, cls, valid):
    _property(cls, "partial_fit", valid, settings(_SLOW, max_examples=_SLOW_EXAMPLES // 2))


# -- predicting on hostile data with a model fitted on good data ---------------------------------
_PREDICT_KEYWORDS = {
    "n_features": ("feature", "expect"),
    "no_samples": ("0 sample", "no rows", "no sample", "empty", "minimum of"),
    "nan": ("nan",),
    "inf": ("inf",),
    "huge": ("large", "overflow", "rescale", "scale", "float32"),
}


@st.composite
def hostile_predict_case(draw, n_features):
    problems = set()
    n = draw(st.sampled_from([0, 1, 3, 7]))
    d = draw(st.sampled_from([n_features, n_features, n_features - 1, n_features + 2]))
    if d != n_features:
        problems.add("n_features")
    if n == 0:
        problems.add("no_samples")
    scale = draw(
        st.sampled_from(
            (
                1.0,
                1e-3,
                1e3,
                1e4,
                1e-300,
                5e-324,
                1e-310,
                1e38,
                1e150,
                1e300,
                _F32_MAX,
                np.finfo(np.float64).max / 2,
            )
        )
    )
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    base = draw(arrays(np.float64, (n, d), elements=st.floats(-1, 1, width=64)))
    with np.errstate(all="ignore"):
        X = (base * scale).astype(dtype)
    if scale > 1e4:
        problems.add("huge")
    if not np.isfinite(X).all():
        problems.update({"inf", "huge"})
    if n and d and draw(st.integers(0, 4)) == 0:
        X[0, 0] = draw(st.sampled_from([np.nan, np.inf]))
        problems.add("nan" if np.isnan(X[0, 0]) else "inf")
    return X, problems


@pytest.mark.parametrize("name, cls", _params())
def test_hostile_predict(name, cls):
    spec = estimator_spec(cls)
    fitted = []
    for params in spec.all_params():
        X, y = make_data(spec.task, n_samples=40, n_features=3, n_classes=3)
        kwargs = {"groups": np.arange(40) % 3} if spec.needs_groups(params) else {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted.append(spec.build(cls, **params).fit(X, y, **kwargs))

    @_FAST
    @given(index=st.integers(0, len(fitted) - 1), case=hostile_predict_case(3))
    def run(index, case):
        X, problems = case
        estimator = fitted[index]
        with warnings.catch_warnings(), _HangGuard():
            warnings.simplefilter("ignore")
            try:
                _check_outputs(estimator, X)
            except (ValueError, TypeError) as exc:
                # predicting may refuse data the fit could use (e.g. scores that overflow)
                message = str(exc).lower()
                allowed = [w for p in problems for w in _PREDICT_KEYWORDS[p]]
                assert problems and any(w in message for w in allowed), (
                    f"{estimator!r} raised {exc!r}; planted {sorted(problems)}"
                )

    run()
