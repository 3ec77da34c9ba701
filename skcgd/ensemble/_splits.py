"""Fold splitting for every cross-validation of the ensemble estimators.

* the base models' out-of-fold predictions (:func:`base_splits`, scikit-learn's ``check_cv``:
  ``KFold``, or ``StratifiedKFold`` for classifiers);
* the outer folds of the meta stage (:func:`outer_splits`), which make the out-of-fold meta
  predictions and the blend weights;
* the inner folds that choose each meta-model's penalty within the rows of one fit
  (:func:`inner_splits`, :func:`stratified_inner_splitter`).

``groups`` (validated by :func:`skcgd._validation.check_groups`) reach every splitter, so a
group-aware splitter (``GroupKFold``) keeps a group's rows on one side at every level. The test
sets of the base and outer splits must not overlap (:func:`check_partition`); rows in none of
them are left out of what is fitted on the out-of-fold predictions.
"""

from numbers import Integral

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold, check_cv

__all__ = [
    "base_splits",
    "check_fold_weights",
    "check_partition",
    "check_train_weights",
    "given_groups",
    "inner_splits",
    "kfold_bounds",
    "kfold_splitter",
    "outer_splits",
    "ReplayedSplits",
    "splitter_rule",
    "stratified_inner_splitter",
    "train_rows",
]

_DEFAULT_FOLDS = 5


def check_partition(splits, n, name):
    """Refuse overlapping test sets; return the mask of the rows in one of them."""
    counts = np.zeros(n, dtype=np.intp)
    for _, te in splits:
        counts[te] += 1
    if np.any(counts > 1):
        raise ValueError(
            f"The test sets of {name} overlap: every row must be predicted at "
            "most once (use a partition such as KFold, or TimeSeriesSplit)."
        )
    return counts == 1


def check_fold_weights(splits, n, sw, name):
    """Refuse splits whose training rows all have zero sample weight (nothing to fit)."""
    check_train_weights((sw[train_rows(n, tr, te)].sum() for tr, te in splits), name)


def check_train_weights(sums, name):
    """:func:`check_fold_weights` from the total weight of each fold's training rows."""
    for k, total in enumerate(sums):
        if not total > 0:
            raise ValueError(
                f"sample_weight is zero on every training row of fold {k} of {name}: the "
                "samples of positive weight all fall in its test rows. Use fewer folds, "
                "or give more samples a positive weight."
            )


def given_groups(cv, groups):
    """``groups`` for a splitter the user gave, None for one made from an integer (or None).

    The ``KFold`` and ``StratifiedKFold`` made from an integer ignore groups, and scikit-learn
    warns when they get some; a splitter the user chose gets them (and warns, if it ignores
    them, about the user's own choice).
    """
    return None if cv is None or isinstance(cv, Integral) else groups


def base_splits(cv, X, y, groups, classifier):
    """The (train, test) index arrays of the base models' cross-validation.

    Drawn once and shared by every base model (a shuffling splitter without ``random_state``
    still gives all of them the same folds).
    """
    splitter = check_cv(cv, y, classifier=classifier)
    splits = splitter.split(X, y, given_groups(cv, groups))
    return [(np.asarray(tr), np.asarray(te)) for tr, te in splits]


def outer_splits(cv, n, *, y=None, groups=None, classifier=False):
    """The outer (train, test) splits of the meta stage.

    An integer means ``KFold`` (``StratifiedKFold`` for a classifier), None 5 of them.
    ``train`` is None when it is the complement of ``test`` (K-fold), and is rebuilt by
    :func:`train_rows` in the task that needs it (so the list holds about one index per
    row, not one per row and fold).
    """
    groups = given_groups(cv, groups)
    if cv is None:
        cv = _DEFAULT_FOLDS
    if isinstance(cv, Integral):
        cv = StratifiedKFold(int(cv)) if classifier else KFold(int(cv))
    splits = cv.split(np.zeros((n, 1)), y, groups) if hasattr(cv, "split") else cv
    out = []
    for tr, te in splits:
        tr, te = np.asarray(tr, dtype=np.intp), np.asarray(te, dtype=np.intp)
        if tr.shape[0] + te.shape[0] == n:
            seen = np.zeros(n, dtype=bool)
            seen[tr] = True
            seen[te] = True
            if seen.all():
                tr = None
        out.append((tr, te))
    return out


def train_rows(n, train, test):
    """The training rows of an outer split (``train``, or the complement of ``test``)."""
    if train is not None:
        return train
    mask = np.ones(n, dtype=bool)
    mask[test] = False
    return np.flatnonzero(mask)


def inner_splits(splitter, n_rows, y=None, groups=None):
    """The inner (train, test) index arrays of a fit on ``n_rows`` rows, one at a time.

    ``y`` and ``groups`` are those of the fit's rows (for stratified and group splitters).
    """
    rows = np.zeros((n_rows, 1))
    # (splitters such as LeaveOneOut count their splits from the rows)
    n_splits = splitter.get_n_splits(rows, y, groups) if hasattr(splitter, "get_n_splits") else None
    if n_splits is not None and n_splits > n_rows:
        raise ValueError(f"Cannot run {n_splits}-fold inner cross-validation on {n_rows} rows.")
    splits = splitter.split(rows, y, groups) if hasattr(splitter, "split") else splitter
    return ((np.asarray(tr, dtype=np.intp), np.asarray(te, dtype=np.intp)) for tr, te in splits)


class ReplayedSplits:
    """The inner splits of one fit, drawn once and replayed on every iteration.

    Drawn in the caller's process from the fit's own ``y`` and ``groups`` (so that stratified
    and group splitters work), and replayed to every meta-model and every candidate
    configuration of the fit: all of them are scored on the same folds, even with a
    shuffling splitter without ``random_state``. A training set that is the complement of
    its test set (K-fold) is rebuilt when replayed, so the splits hold about one index per
    row.

    Parameters
    ----------
    splitter : cross-validation generator or iterable of (train, test)
        The inner splitter (see :func:`inner_splits`).
    n_rows : int
        Number of rows of the fit.
    y, groups : ndarray of shape (n_rows,) or None
        The fit's targets and group labels, passed to the splitter.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import StratifiedKFold
    >>> from skcgd.ensemble._splits import ReplayedSplits
    >>> y = np.array([0, 0, 0, 1, 1, 1])
    >>> splits = ReplayedSplits(StratifiedKFold(3), 6, y)
    >>> [test.tolist() for _, test in splits]
    [[0, 3], [1, 4], [2, 5]]
    >>> len(list(splits))  # replayed, not consumed
    3
    """

    def __init__(self, splitter, n_rows, y=None, groups=None):
        self.n_rows = n_rows
        self.splits = []
        in_split = np.zeros(n_rows, dtype=bool)
        for tr, te in inner_splits(splitter, n_rows, y, groups):
            complement = False
            if tr.shape[0] + te.shape[0] == n_rows:
                in_split[:] = False
                in_split[tr] = True
                in_split[te] = True
                complement = bool(in_split.all())
            self.splits.append((None if complement else tr, te))

    def __iter__(self):
        return ((train_rows(self.n_rows, tr, te), te) for tr, te in self.splits)

    def __len__(self):
        return len(self.splits)


def stratified_inner_splitter(inner_cv, y):
    """The splitter choosing a classifier's ``C`` on rows with labels ``y``.

    An integer means ``StratifiedKFold`` with at most that many folds and at least 2, but no
    more folds than the rarest class has rows when it has two or more (so that every class
    can be in every training fold); any other ``inner_cv`` is used as it is.
    """
    if not isinstance(inner_cv, Integral):
        return inner_cv
    _, counts = np.unique(y, return_counts=True)
    return StratifiedKFold(int(min(inner_cv, max(2, counts.min()))))


def kfold_bounds(n, n_splits):
    """The fold boundaries of an unshuffled ``KFold(n_splits)`` on ``n`` rows.

    Fold ``k`` tests the rows ``bounds[k]:bounds[k + 1]`` (the first ``n % n_splits`` folds
    have one row more), as scikit-learn's ``KFold`` makes them: a row's fold follows from its
    index, without an index array.

    Examples
    --------
    >>> from skcgd.ensemble._splits import kfold_bounds
    >>> kfold_bounds(7, 3).tolist()
    [0, 3, 5, 7]
    """
    KFold(n_splits)  # scikit-learn's check of n_splits itself (an integer >= 2)
    if n_splits > n:
        raise ValueError(
            f"Cannot have number of splits n_splits={n_splits} greater than the number of "
            f"samples: n_samples={n}."
        )
    sizes = np.full(n_splits, n // n_splits, dtype=np.intp)
    sizes[: n % n_splits] += 1
    return np.concatenate([[0], np.cumsum(sizes)])


def kfold_splitter(cv, default=_DEFAULT_FOLDS):
    """``KFold(cv)`` for an integer, ``KFold(default)`` for None, else ``cv`` itself."""
    if cv is None:
        return KFold(default)
    if isinstance(cv, Integral):
        return KFold(int(cv))
    return cv


def splitter_rule(splitter):
    """How a splitter chooses, as the meta-learners report it: ``"<k>-fold"`` for an
    unshuffled ``KFold``, else ``"inner_cv"`` (the given splitter)."""
    if isinstance(splitter, KFold) and not splitter.shuffle:
        return f"{splitter.get_n_splits()}-fold"
    return "inner_cv"
