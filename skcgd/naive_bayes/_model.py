"""The array side of :class:`~skcgd.naive_bayes.GaussianNaiveBayes` (numpy only, no estimator).

Labels to class indices, the merge of per-class moments, the model derived from them (means,
variances, ``epsilon``, priors, the linear form of the shared-variance model) and the checks
that a fitted model's arrays fit together and fit X before a kernel reads them. Every function
takes and returns arrays, so that the estimator computes a whole model before it stores any of
it: a fit that fails leaves the estimator as it was.
"""

import numpy as np

__all__ = [
    "check_model_shapes",
    "encode_labels",
    "gaussian_model",
    "gaussian_parameters",
    "linear_parameters",
    "merge_moments",
]


def encode_labels(y):
    """``np.unique(y, return_inverse=True)``, in linear time for integer labels of small range.

    Examples
    --------
    >>> import numpy as np
    >>> classes, index = encode_labels(np.array([127, -128, 127], dtype=np.int8))
    >>> classes, index
    (array([-128,  127], dtype=int8), array([1, 0, 1]))
    """
    if y.dtype.kind in "iu" and y.size:
        low, high = int(y.min()), int(y.max())
        if high - low <= max(y.size, 1 << 16):
            # in a type that holds the offsets: y - low overflows a narrow type (int8 labels
            # -128 and 127 differ by 255), and a Python int low may not fit int64 (uint64)
            wide = y.astype(np.int64) if y.dtype.itemsize < 8 else y
            low = wide.dtype.type(low)
            offsets = (wide - low).astype(np.intp, copy=False)
            present = np.bincount(offsets, minlength=high - int(low) + 1) > 0
            classes = (np.flatnonzero(present).astype(wide.dtype) + low).astype(y.dtype)
            return classes, (np.cumsum(present) - 1)[offsets]
    classes, y_index = np.unique(y, return_inverse=True)
    return classes, y_index.reshape(-1)


def merge_moments(count_a, mean_a, m2_a, count_b, mean_b, m2_b):
    """Chan, Golub and LeVeque's pairwise merge of per-class weighted moments (float64)."""
    count = count_a + count_b
    r = np.divide(count_b, count, out=np.zeros_like(count), where=count > 0)[:, None]
    delta = mean_b - mean_a
    mean = mean_a + delta * r
    m2 = m2_a + m2_b + delta * delta * (count_a[:, None] * r)
    return count, mean, m2


def gaussian_model(count, mean, m2, *, priors, var_mode, var_smoothing, dtype):
    """The fitted attributes given the float64 per-class moments (a dict; nothing is stored).

    Parameters
    ----------
    count, mean, m2 : ndarray of shape (K,), (K, d), (K, d)
        Weighted per-class counts, means and sums of squared deviations (float64).
    priors : ndarray of shape (K,) or None
        The validated ``priors`` parameter (None: the class frequencies).
    var_mode : {"class", "shared"}
    var_smoothing : float
    dtype : numpy dtype
        The dtype of the public attributes (that of X: float32 or float64).

    Returns
    -------
    attributes : dict
        ``class_count_, class_prior_, theta_, var_, epsilon_`` in ``dtype``, the float64
        moments ``_class_count, _class_mean, _class_m2``, and with ``var_mode="shared"``
        ``coef_, intercept_``.

    Raises
    ------
    ValueError
        If the variances overflow ``dtype`` or underflow its normal range.
    """
    dtype = np.dtype(dtype)
    total = count.sum()
    seen = count > 0
    grand_mean = count @ mean / total
    # total variance = within-class + between-class (weighted, ddof=0)
    total_var = (m2.sum(axis=0) + count @ (mean - grand_mean) ** 2) / total
    # a spread at the rounding level of the values is no spread: a feature constant on the rows
    # of positive weight gets a variance of ~(ulp of its mean)^2 from the rounding of
    # grand_mean, which must not set the scale of epsilon (a 1e-43 epsilon would make the
    # likelihood of everything else overflow its precision)
    noise = (4.0 * np.finfo(np.float64).eps * np.abs(mean[seen]).max(axis=0, initial=0.0)) ** 2
    scale = total_var[total_var > noise].max(initial=0.0)
    epsilon = var_smoothing * (scale if scale > 0 else 1.0)

    prior = priors if priors is not None else count / total
    class_var = np.divide(m2, count[:, None], out=np.zeros_like(m2), where=seen[:, None])
    if var_mode == "shared":
        # the within-class variance of the mixture with these priors (as in linear
        # discriminant analysis); with the default empirical priors it is sum(m2) / N. A
        # class without data yet has no variance to contribute.
        share = np.where(seen, prior, 0.0)
        pooled = share @ class_var / share.sum() + epsilon
        var = np.repeat(pooled[None, :], mean.shape[0], axis=0)
    else:
        var = class_var + epsilon
    limit = np.finfo(dtype).max
    if not (np.abs(mean).max(initial=0.0) <= limit and var.max(initial=0.0) <= limit):
        raise ValueError(
            f"Input X contains values too large for {dtype.name}: the class variances "
            f"({var.max():.3g}) overflow it. Pass X as float64 (X.astype(np.float64)) or "
            "rescale it."
        )
    smallest = var[seen].min(initial=np.inf)
    if var_smoothing > 0 and not smallest >= np.finfo(dtype).tiny:
        # every feature's spread is tiny, so is epsilon: a variance below the normal range of
        # dtype has lost its digits (or is 0) and its reciprocal, the precision used in
        # prediction, overflows (var_smoothing=0 is refused in predict, by name)
        raise ValueError(
            f"Input X contains values too small for {dtype.name}: the smallest class "
            f"variance ({smallest:.3g}) underflows it (below {np.finfo(dtype).tiny:.3g}). "
            "Rescale X (e.g. sklearn.preprocessing.StandardScaler)"
            + (" or pass it as float64." if dtype == np.float32 else ".")
        )

    attributes = {
        "_class_count": count,
        "_class_mean": mean,
        "_class_m2": m2,
        "class_count_": count.astype(dtype),
        "class_prior_": prior.astype(dtype),
        "theta_": mean.astype(dtype),
        "var_": var.astype(dtype),
        "epsilon_": dtype.type(epsilon),
    }
    if var_mode == "shared":
        # from the attributes as stored (rounded to dtype), as prediction will see them
        theta, prec, _ = gaussian_parameters(
            attributes["theta_"],
            attributes["var_"],
            attributes["class_prior_"],
            count,
            var_smoothing,
        )
        coef, intercept = linear_parameters(
            theta, prec, attributes["class_prior_"], count, centred=True
        )
        if coef.shape[0] == 2:
            coef, intercept = coef[1:] - coef[:1], intercept[1:] - intercept[:1]
        attributes["coef_"] = coef.astype(dtype)
        attributes["intercept_"] = intercept.astype(dtype)
    return attributes


def gaussian_parameters(theta, var, class_prior, class_count, var_smoothing=None):
    """Means, inverse variances and per-class offsets of a fitted model, all float64.

    ``offset[c] = log prior_c - 1/2 sum_j log(2 pi var_cj)``, ``-inf`` for a class that has
    no data (``class_count`` is the float64 count: a float32 ``class_count_`` of tiny weights
    can underflow to 0). A zero variance of a class with data is refused by name.
    """
    # fresh, writable, C-ordered float64 copies: one kernel specialisation whatever the
    # attributes are (float32, read-only after unpickling from a memmap, ...)
    theta = np.array(theta, dtype=np.float64, order="C")
    var = np.array(var, dtype=np.float64, order="C")
    seen = class_count > 0
    if np.any(var[seen] <= 0):
        raise ValueError(
            "A fitted variance is zero (a feature is constant within a class and "
            f"var_smoothing={var_smoothing!r}): the Gaussian likelihood is degenerate. Use "
            "var_smoothing > 0."
        )
    with np.errstate(divide="ignore"):
        prec = np.divide(1.0, var, out=np.zeros_like(var), where=var > 0)
        log_norm = np.log(2.0 * np.pi * np.where(var > 0, var, 1.0)).sum(axis=1)
        offset = np.log(np.asarray(class_prior, dtype=np.float64)) - 0.5 * log_norm
    offset[~seen] = -np.inf
    return theta, prec, offset


def linear_parameters(theta, prec, class_prior, class_count, centred=False):
    """Per-class weights and intercepts of the shared-variance model, shape (K, d), (K,).

    ``centred=True``: those of the class means minus their weighted mean ``m``, with the
    intercepts that make ``X @ coef.T + intercept`` differ from the uncentred scores by a term
    per sample only. A feature far from zero compared with its spread (a constant one, say)
    then adds no huge, cancelling ``mu^2 / v`` terms to every class's score, which would round
    away the informative features (or overflow).
    """
    seen = class_count > 0
    with np.errstate(divide="ignore"):
        log_prior = np.log(np.asarray(class_prior, dtype=np.float64))
    centre = np.zeros(theta.shape[1])
    if centred:
        centre = class_count @ theta / class_count.sum()
    delta = theta - centre
    coef = delta * prec
    intercept = log_prior - 0.5 * np.einsum("kj,kj->k", delta, coef) - coef @ centre
    intercept[~seen] = -np.inf
    return coef, intercept


def check_model_shapes(model, n_features, name):
    """Refuse, by name, fitted arrays that do not fit together or do not fit X's width.

    The prediction kernel reads ``theta[c, j]`` and ``prec[c, j]`` for every column j of X and
    every class c of ``offset``: arrays of other shapes (an estimator whose attributes were
    edited or half-restored) would make it read past their ends.

    Parameters
    ----------
    model : estimator
        A fitted GaussianNaiveBayes.
    n_features : int
        The number of columns of the X about to be predicted.
    name : str
        The estimator's class name, for messages.
    """
    theta = np.asarray(model.theta_)
    n_classes = np.shape(model.classes_)[0] if np.ndim(model.classes_) == 1 else -1
    expected = {
        "theta_": (n_classes, n_features),
        "var_": (n_classes, n_features),
        "class_prior_": (n_classes,),
        "class_count_": (n_classes,),
        "_class_count": (n_classes,),
    }
    if hasattr(model, "coef_"):
        rows = 1 if n_classes == 2 else n_classes
        expected.update(coef_=(rows, n_features), intercept_=(rows,))
    for attribute, shape in expected.items():
        if np.shape(getattr(model, attribute)) != shape:
            raise ValueError(
                f"X has {n_features} features, but the fitted {name} does not fit it: "
                f"{attribute} has shape {np.shape(getattr(model, attribute))}, expected "
                f"{shape} (theta_ has shape {theta.shape} for {n_classes} classes). Refit the "
                "estimator."
            )
