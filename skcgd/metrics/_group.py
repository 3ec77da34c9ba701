"""Metrics by group of samples: the worst group's accuracy and log-loss, a per-group report.

The module imports numpy and skcgd's input checks (numpy and scipy) only. scikit-learn is
imported inside the functions because its own import loads pandas whenever pandas is
installed, and ``import skcgd.metrics`` is meant to stay cheap: no pandas, no Numba, no
estimators. pandas is imported by :func:`group_report` alone, and is optional there.
"""

import numpy as np

from skcgd._validation import check_classification_labels, check_groups, check_sample_weight

__all__ = ["group_report", "worst_group_accuracy", "worst_group_log_loss"]

# the label of the report's overall row
_OVERALL = "all"


def _missing_groups_error(function):
    message = (
        f"groups is required: {function} compares groups of samples, so it needs "
        "groups=..., one group label per sample."
    )
    if function != "group_report":  # the two that are scorers
        message += (
            " As a scorer, route them with scikit-learn's metadata routing: under "
            "sklearn.config_context(enable_metadata_routing=True), use "
            f"make_scorer({function}, ...).set_score_request(groups=True) and call "
            "search.fit(X, y, groups=groups). MinimaxLogisticRegressionCV passes the held-out "
            "groups to a scoring callable that has a groups parameter."
        )
    return TypeError(message)


def _check_common(function, y_true, y_pred, groups, sample_weight, *, pred_name, ndims):
    """The checks every metric makes, and the groups encoded.

    Returns
    -------
    y_true : ndarray of shape (n,)
    y_pred : ndarray of shape (n,) or (n, k)
    group_labels : ndarray of shape (G,)
        The sorted distinct group labels.
    index : ndarray of shape (n,)
        The position of each sample's group in ``group_labels``.
    weight : ndarray of shape (n,)
        The validated sample weights (ones when ``sample_weight`` is None).
    totals : ndarray of shape (G,)
        Each group's total weight, all positive.
    """
    if groups is None:
        raise _missing_groups_error(function)
    y_true = np.asarray(y_true)
    if y_true.ndim != 1:
        raise ValueError(
            f"y_true must be a 1-D array of class labels, got an array of shape {y_true.shape}."
        )
    n = y_true.shape[0]
    if n == 0:
        raise ValueError(f"{function} got empty input: y_true has no samples.")
    y_pred = np.asarray(y_pred)
    if y_pred.ndim not in ndims:
        expected = "a 1-D array" if ndims == (1,) else "a 1-D or 2-D array"
        raise ValueError(
            f"{pred_name} must be {expected}, got an array of shape {y_pred.shape}."
            + (
                " For probabilities, use worst_group_log_loss or group_report."
                if ndims == (1,)
                else ""
            )
        )
    if y_pred.shape[0] != n:
        raise ValueError(
            f"y_true and {pred_name} have different lengths: {n} and {y_pred.shape[0]} "
            "(one prediction per sample)."
        )
    check_classification_labels(y_true, name="y_true")
    groups = check_groups(groups, n)
    weight = check_sample_weight(sample_weight, n)
    try:
        group_labels, index = np.unique(groups, return_inverse=True)
    except TypeError as exc:  # unorderable objects
        raise ValueError(f"groups holds labels that cannot be sorted: {exc}.") from None
    index = index.reshape(-1)  # numpy 2.0 and 2.1 return the inverse in the input's shape
    totals = np.bincount(index, weights=weight, minlength=len(group_labels))
    empty = np.flatnonzero(~(totals > 0))
    if empty.size:
        names = ", ".join(repr(label) for label in group_labels[empty[:5]].tolist())
        raise ValueError(
            f"group {names} has zero total sample weight, so its metric is undefined: drop "
            "its samples or give them a positive weight."
            if empty.size == 1
            else f"groups {names}{', ...' if empty.size > 5 else ''} have zero total sample "
            "weight, so their metrics are undefined: drop their samples or give them a "
            "positive weight."
        )
    return y_true, y_pred, group_labels, index, weight, totals


def _check_predicted_labels(y_pred, pred_name):
    """Refuse scores where labels are expected (a 1-D array is always read as labels)."""
    if (
        y_pred.dtype.kind == "f"
        and np.isfinite(y_pred).all()
        and (y_pred != np.round(y_pred)).any()
    ):
        raise ValueError(
            f"{pred_name} is read as predicted labels (a 1-D array), but it holds non-integer "
            "floats. Pass probabilities as the 2-D output of predict_proba, one column per "
            "class."
        )


def _check_proba(y_proba, y_true, labels, pred_name):
    """Probabilities as an (n, k) float64 array, and the k classes of its columns.

    A 1-D array (or one column) is the probability of the second of two classes, as in
    scikit-learn's ``log_loss`` and its scorers on a binary classifier.
    """
    if y_proba.dtype.kind not in "biuf":
        raise ValueError(
            f"{pred_name} must hold probabilities (numbers), got dtype {y_proba.dtype}."
        )
    y_proba = np.asarray(y_proba, dtype=np.float64)
    finite = np.isfinite(y_proba).reshape(y_proba.shape[0], -1).all(axis=1)
    if not finite.all():
        rows = np.flatnonzero(~finite)
        raise ValueError(
            f"{pred_name} contains NaN or infinity (rows {rows[:5].tolist()}"
            f"{', ...' if rows.size > 5 else ''}): probabilities must be finite."
        )
    classes = np.unique(y_true if labels is None else np.asarray(labels))
    source = "the distinct labels of y_true" if labels is None else "the distinct values of labels"
    if y_proba.ndim == 1 or y_proba.shape[1] == 1:
        if len(classes) != 2:
            raise ValueError(
                f"A 1-D {pred_name} is the probability of the second of two classes, but "
                f"{source} are {classes.tolist()}. Pass the 2-D output of predict_proba, and "
                "labels= (e.g. estimator.classes_) when y_true does not hold every class."
            )
        p = y_proba.reshape(-1)
        y_proba = np.column_stack([1.0 - p, p])
    elif y_proba.shape[1] != len(classes):
        raise ValueError(
            f"{pred_name} has {y_proba.shape[1]} columns, but {source} are "
            f"{classes.tolist()}: pass labels=, the classes of the columns in order (e.g. "
            "estimator.classes_)."
        )
    return y_proba, classes


def _slices(index, n_groups):
    """Row indices of each group, from one stable sort (not one mask per group)."""
    order = np.argsort(index, kind="stable")
    bounds = np.cumsum(np.bincount(index, minlength=n_groups))[:-1]
    return np.split(order, bounds)


def _group_accuracy(y_true, y_pred, index, weight, totals):
    """The weighted accuracy of each group, and of all samples."""
    from sklearn.metrics import accuracy_score

    # scikit-learn's checks of the labels (one type, a classification task) come with it
    overall = float(accuracy_score(y_true, y_pred, sample_weight=weight))
    correct = np.asarray(y_true == y_pred, dtype=np.float64)
    hits = np.bincount(index, weights=weight * correct, minlength=len(totals))
    return hits / totals, overall


def _group_log_loss(y_true, y_proba, index, weight, classes, n_groups):
    """The weighted mean log-loss of each group (scikit-learn's ``log_loss`` on its rows)."""
    from sklearn.metrics import log_loss

    # the classes are passed on, so a group in which a class is missing is scored against
    # the same columns as the others
    return np.array(
        [
            log_loss(y_true[rows], y_proba[rows], sample_weight=weight[rows], labels=classes)
            for rows in _slices(index, n_groups)
        ]
    )


def worst_group_accuracy(y_true, y_pred, *, groups=None, sample_weight=None):
    r"""Accuracy of the group on which the predictions are least accurate.

    The minimum over the groups of the (weighted) accuracy within each group: the metric of
    group distributionally robust learning. Higher is better.

    Read more in the :ref:`User Guide <group_metrics>`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True class labels.
    y_pred : array-like of shape (n_samples,)
        Predicted class labels (``estimator.predict(X)``).
    groups : array-like of shape (n_samples,)
        Group label of each sample (integers, strings, ...). Required: the default ``None``
        is there so that leaving it out, as a scorer does when the groups are not routed to
        it, raises a ``TypeError`` that says how to route them.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights; every group needs a positive total weight.

    Returns
    -------
    score : float
        The smallest accuracy of a group, in [0, 1].

    Raises
    ------
    TypeError
        If ``groups`` is None.
    ValueError
        If the input is empty, the lengths differ, ``y_pred`` holds non-integer floats (use
        probabilities with :func:`worst_group_log_loss`), a weight is negative or a group's
        total weight is zero (the message names the group).

    See Also
    --------
    worst_group_log_loss : the largest mean log-loss of a group.
    group_report : the accuracy (and log-loss) of every group.
    sklearn.metrics.accuracy_score : the accuracy of all the samples.

    Notes
    -----
    With :math:`s_i` the sample weights and :math:`S_g = \sum_{i: g_i = g} s_i` the weight of
    group :math:`g`,

    .. math::

        \operatorname{acc}_g = \frac{1}{S_g} \sum_{i: g_i = g} s_i\,
        \mathbb{1}[\hat y_i = y_i],
        \qquad
        \text{worst-group accuracy} = \min_g \operatorname{acc}_g .

    Each :math:`\operatorname{acc}_g` is scikit-learn's ``accuracy_score`` on the group's
    rows. Only the groups present in ``groups`` count: a group with no sample in a
    cross-validation fold is not scored on that fold.

    As a scorer of :class:`~sklearn.model_selection.GridSearchCV`, with the groups routed by
    scikit-learn's metadata routing::

        with sklearn.config_context(enable_metadata_routing=True):
            scorer = make_scorer(worst_group_accuracy).set_score_request(groups=True)
            GridSearchCV(estimator, grid, scoring=scorer).fit(X, y, groups=groups)

    References
    ----------
    .. [1] S. Sagawa, P. W. Koh, T. B. Hashimoto and P. Liang. "Distributionally Robust Neural
       Networks for Group Shifts: On the Importance of Regularization for Worst-Case
       Generalization". ICLR 2020.

    Examples
    --------
    >>> from skcgd.metrics import worst_group_accuracy
    >>> y_true = [0, 1, 1, 0, 1, 0]
    >>> y_pred = [0, 1, 1, 0, 0, 1]
    >>> groups = ["a", "a", "a", "a", "b", "b"]
    >>> worst_group_accuracy(y_true, y_pred, groups=groups)  # group "b": 0 of 2 right
    0.0
    >>> worst_group_accuracy(y_true, y_pred, groups=[0, 0, 0, 1, 1, 1])  # 3/3 and 1/3
    0.333...
    """
    name = "worst_group_accuracy"
    y_true, y_pred, _, index, weight, totals = _check_common(
        name, y_true, y_pred, groups, sample_weight, pred_name="y_pred", ndims=(1,)
    )
    _check_predicted_labels(y_pred, "y_pred")
    accuracy, _ = _group_accuracy(y_true, y_pred, index, weight, totals)
    return float(accuracy.min())


def worst_group_log_loss(y_true, y_proba, *, groups=None, sample_weight=None, labels=None):
    r"""Mean log-loss of the group on which the probabilities are worst.

    The maximum over the groups of the (weighted) mean log-loss within each group. **Lower is
    better**: as a scorer, build it with ``greater_is_better=False`` (scikit-learn then
    reports its negative, so that greater is better) and ``response_method="predict_proba"``.

    Read more in the :ref:`User Guide <group_metrics>`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True class labels.
    y_proba : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities (``estimator.predict_proba(X)``), one column per class in the
        sorted order of ``labels``. A 1-D array is the probability of the second of two
        classes, as scikit-learn's scorers pass it for a binary classifier.
    groups : array-like of shape (n_samples,)
        Group label of each sample. Required: leaving it out (``None``) raises a
        ``TypeError`` that says how to route the groups to a scorer.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights; every group needs a positive total weight.
    labels : array-like, default=None
        The classes of the columns of ``y_proba`` (e.g. ``estimator.classes_``). None: the
        distinct labels of ``y_true``, which must then hold every class. Every group is scored
        against these classes, so a group in which a class is missing is no error.

    Returns
    -------
    loss : float
        The largest mean log-loss of a group (non-negative, in nats).

    Raises
    ------
    TypeError
        If ``groups`` is None.
    ValueError
        If the input is empty, the lengths differ, ``y_proba`` holds NaN or infinity, its
        columns do not match the classes, a weight is negative or a group's total weight is
        zero (the message names the group). scikit-learn's ``log_loss`` refuses
        probabilities outside [0, 1].

    See Also
    --------
    worst_group_accuracy : the smallest accuracy of a group.
    group_report : the accuracy and log-loss of every group.
    sklearn.metrics.log_loss : the mean log-loss of all the samples.

    Notes
    -----
    With :math:`p_{i,k}` the probability of class :math:`k` for sample :math:`i`,
    :math:`s_i` the sample weights and :math:`S_g = \sum_{i: g_i = g} s_i`,

    .. math::

        L_g = -\frac{1}{S_g} \sum_{i: g_i = g} s_i \log p_{i, y_i},
        \qquad
        \text{worst-group log-loss} = \max_g L_g .

    Each :math:`L_g` is scikit-learn's ``log_loss`` on the group's rows with
    ``labels=labels`` (which clips the probabilities away from 0 and 1 by the machine
    epsilon of their dtype). It is the quantity the ``"group"`` adversary of
    :class:`~skcgd.linear_model.MinimaxLogisticRegression` drives down at large ``rho``, up
    to the regulariser.

    As a scorer, with the groups routed by scikit-learn's metadata routing::

        with sklearn.config_context(enable_metadata_routing=True):
            scorer = make_scorer(
                worst_group_log_loss,
                greater_is_better=False,
                response_method="predict_proba",
                labels=classes,  # optional: when a fold may lack a class
            ).set_score_request(groups=True)
            GridSearchCV(estimator, grid, scoring=scorer).fit(X, y, groups=groups)

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.metrics import worst_group_log_loss
    >>> y_true = [0, 1, 0, 1]
    >>> y_proba = [[0.9, 0.1], [0.2, 0.8], [0.5, 0.5], [0.5, 0.5]]
    >>> loss = worst_group_log_loss(y_true, y_proba, groups=[0, 0, 1, 1])
    >>> bool(np.isclose(loss, np.log(2)))  # group 1 guesses 50/50
    True

    A group holding one class only is scored against all the classes:

    >>> loss = worst_group_log_loss(y_true, y_proba, groups=[0, 1, 0, 1])
    >>> bool(np.isclose(loss, -np.log(0.8 * 0.5) / 2))  # group 1: labels 1 and 1
    True
    """
    name = "worst_group_log_loss"
    y_true, y_proba, _, index, weight, totals = _check_common(
        name, y_true, y_proba, groups, sample_weight, pred_name="y_proba", ndims=(1, 2)
    )
    y_proba, classes = _check_proba(y_proba, y_true, labels, "y_proba")
    return float(_group_log_loss(y_true, y_proba, index, weight, classes, len(totals)).max())


def group_report(y_true, y_pred_or_proba, *, groups=None, sample_weight=None, labels=None):
    r"""Sample count, accuracy and log-loss of every group, and of all samples.

    Read more in the :ref:`User Guide <group_metrics>`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True class labels.
    y_pred_or_proba : array-like of shape (n_samples,) or (n_samples, n_classes)
        What the array's dimension says: a 1-D array is predicted labels
        (``estimator.predict(X)``), always, even if it holds floats; a 2-D array is
        probabilities (``estimator.predict_proba(X)``), one column per class in the sorted
        order of ``labels``. The predicted label of a row of probabilities is the class of its
        largest entry (the first on a tie).
    groups : array-like of shape (n_samples,)
        Group label of each sample. Required (``None`` raises a ``TypeError``).
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights; every group needs a positive total weight. When given, the
        accuracies and log-losses are weighted and a ``"weight"`` column is added (the
        counts stay numbers of samples).
    labels : array-like, default=None
        With probabilities, the classes of their columns (e.g. ``estimator.classes_``). None:
        the distinct labels of ``y_true``. Not used with predicted labels.

    Returns
    -------
    report : pandas.DataFrame or dict
        One row per group, in the sorted order of the group labels, then a row ``"all"``
        computed on all the samples together (not an average of the groups). The columns,
        in this order:

        - ``"count"``: the number of samples (int);
        - ``"weight"``: the sum of their sample weights (float), only if ``sample_weight``
          is given;
        - ``"accuracy"``: the (weighted) accuracy (float);
        - ``"log_loss"``: the (weighted) mean log-loss (float), only if probabilities are
          given.

        When pandas can be imported, a ``DataFrame`` whose index, named ``"group"``, holds
        the group labels and ``"all"``. Otherwise a ``dict`` mapping ``"group"`` (the index
        as a list) and each column name to a list of Python numbers, one entry per row.

    Raises
    ------
    TypeError
        If ``groups`` is None.
    ValueError
        As :func:`worst_group_accuracy` and :func:`worst_group_log_loss`; also when a group
        is called ``"all"``, the label of the overall row.

    See Also
    --------
    worst_group_accuracy : the smallest value of the report's accuracy column.
    worst_group_log_loss : the largest value of the report's log-loss column.

    Notes
    -----
    The accuracy and the log-loss of group :math:`g` are

    .. math::

        \operatorname{acc}_g = \frac{1}{S_g} \sum_{i: g_i = g} s_i\,
        \mathbb{1}[\hat y_i = y_i],
        \qquad
        L_g = -\frac{1}{S_g} \sum_{i: g_i = g} s_i \log p_{i, y_i},

    with :math:`S_g = \sum_{i: g_i = g} s_i`; the ``"all"`` row takes the sums over every
    sample. So ``report["accuracy"].drop("all").min()`` is the worst-group accuracy.

    Examples
    --------
    >>> from skcgd.metrics import group_report
    >>> y_true = [0, 1, 1, 0, 1, 0]
    >>> y_pred = [0, 1, 1, 0, 0, 1]
    >>> group_report(y_true, y_pred, groups=["a", "a", "a", "a", "b", "b"])
           count  accuracy
    group
    a          4  1.000000
    b          2  0.000000
    all        6  0.666667
    >>> y_proba = [[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.5, 0.5], [0.6, 0.4], [0.3, 0.7]]
    >>> group_report(y_true, y_proba, groups=[0, 0, 0, 1, 1, 1], sample_weight=[1, 1, 1, 1, 1, 2])
           count  weight  accuracy  log_loss
    group
    0          3     3.0  1.000000  0.279777
    1          3     4.0  0.250000  1.004346
    all        6     7.0  0.571429  0.693816
    """
    name = "group_report"
    y_true, pred, group_labels, index, weight, totals = _check_common(
        name, y_true, y_pred_or_proba, groups, sample_weight, pred_name="y_pred_or_proba",
        ndims=(1, 2),
    )  # fmt: skip
    group_names = group_labels.tolist()
    if any(isinstance(label, str) and label == _OVERALL for label in group_names):
        raise ValueError(
            f"A group is called {_OVERALL!r}, the label of the report's overall row: rename it."
        )
    columns = {
        "group": group_names + [_OVERALL],
        "count": np.bincount(index, minlength=len(group_names)).tolist() + [len(y_true)],
    }
    if sample_weight is not None:
        columns["weight"] = totals.tolist() + [float(weight.sum())]
    if pred.ndim == 2:
        proba, classes = _check_proba(pred, y_true, labels, "y_pred_or_proba")
        y_pred = classes[np.argmax(proba, axis=1)]
    else:
        _check_predicted_labels(pred, "y_pred_or_proba")
        y_pred = pred
    accuracy, overall = _group_accuracy(y_true, y_pred, index, weight, totals)
    columns["accuracy"] = accuracy.tolist() + [overall]
    if pred.ndim == 2:
        from sklearn.metrics import log_loss

        losses = _group_log_loss(y_true, proba, index, weight, classes, len(totals))
        overall = log_loss(y_true, proba, sample_weight=weight, labels=classes)
        columns["log_loss"] = losses.tolist() + [float(overall)]

    try:
        import pandas as pd
    except ImportError:  # pandas is optional: the same table as lists
        return columns
    index = pd.Index(columns.pop("group"), name="group")
    return pd.DataFrame(columns, index=index)
