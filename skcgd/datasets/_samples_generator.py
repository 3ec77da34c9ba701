"""Synthetic data of the examples, tests and demo: group shift, label noise, the naive Bayes
simulation of Zheng et al. (2023).

Every generator draws from one :class:`numpy.random.Generator` (see ``random_state`` in each
docstring) in a documented order, so a seed fixes the data bit for bit across releases.
"""

import numbers

import numpy as np

from skcgd._validation import (
    SKLEARN_SEED_RANGE,
    check_fraction,
    check_generator,
    check_integer,
    check_non_negative,
)

__all__ = [
    "flip_labels",
    "make_group_shift",
    "make_label_noise",
    "make_naive_bayes_simulation",
]


def make_group_shift(
    n_samples=1000,
    *,
    minority_fraction=0.1,
    noise=0.3,
    group_features=True,
    return_groups=False,
    random_state=None,
):
    r"""Binary classification with a minority group whose label follows another feature.

    In the majority the label follows feature 0, in the minority it follows feature 1. A
    classifier fitted to the average loss learns the majority's rule and does poorly on the
    minority: the setting of group distributionally robust learning, for which
    :class:`~skcgd.linear_model.MinimaxLogisticRegression` has the ``"group"`` adversary.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of samples of both groups together, at least 2.

    minority_fraction : float, default=0.1
        Share of the minority group, in (0, 1): the minority has
        ``n_samples * minority_fraction`` samples rounded to the nearest integer (halves up),
        and each group must have at least one.

    noise : float, default=0.3
        Standard deviation of the Gaussian noise added to the feature a label follows before
        it is thresholded at 0; with ``noise=0`` the labels are a function of the features.

    group_features : bool, default=True
        Append two columns that make the group visible to a linear model: the group indicator
        and its product with feature 1. With them a linear decision function can shift and
        tilt its boundary for the minority.

    return_groups : bool, default=False
        If True, also return the group of every sample.

    random_state : None, int, numpy.random.Generator or numpy.random.RandomState, default=None
        The source of randomness. An int (or a sequence of ints, a
        :class:`~numpy.random.SeedSequence` or a :class:`~numpy.random.BitGenerator`) seeds
        ``numpy.random.default_rng``, so the same int gives the same data; a
        :class:`~numpy.random.Generator` is drawn from (and advanced) in place; a
        :class:`~numpy.random.RandomState`, as scikit-learn's ``check_random_state`` returns,
        seeds a new Generator with one integer drawn from it; None draws fresh entropy from
        the operating system (numpy's global seed has no effect).

    Returns
    -------
    X : ndarray of shape (n_samples, 4), or (n_samples, 2) if ``group_features=False``
        float64 features: feature 0, feature 1 and, with ``group_features``, the group
        indicator and the indicator times feature 1. The majority's rows come first.

    y : ndarray of shape (n_samples,)
        int64 labels in {0, 1}.

    groups : ndarray of shape (n_samples,)
        Only if ``return_groups=True``: int64, 0 for the majority and 1 for the minority.

    See Also
    --------
    make_label_noise : Another perturbation a robust classifier meets: flipped labels.

    Notes
    -----
    With :math:`n_1` minority samples and :math:`n_0 = n - n_1` majority samples, every
    sample has :math:`x = (x_0, x_1) \sim N(0, I_2)` and an independent
    :math:`e \sim N(0, 1)`, and

    .. math::

        y = \mathbb{1}[x_0 + \sigma e > 0] \text{ in the majority } (g = 0), \qquad
        y = \mathbb{1}[x_1 + \sigma e > 0] \text{ in the minority } (g = 1),

    with :math:`\sigma` = ``noise``. The columns are :math:`(x_0, x_1, g, g\, x_1)`. The
    generator draws, in this order: the majority's features (:math:`n_0 \times 2` standard
    normals, row by row), the majority's noise (:math:`n_0`), the minority's features
    (:math:`n_1 \times 2`) and the minority's noise (:math:`n_1`).

    References
    ----------
    .. [1] S. Sagawa, P. W. Koh, T. B. Hashimoto and P. Liang, "Distributionally Robust
       Neural Networks for Group Shifts: On the Importance of Regularization for
       Worst-Case Generalization", ICLR 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.datasets import make_group_shift
    >>> X, y, groups = make_group_shift(1000, return_groups=True, random_state=0)
    >>> X.shape, np.bincount(groups)
    ((1000, 4), array([900, 100]))
    >>> bool(np.all(X[:, 2] == groups))
    True
    """
    n_samples = check_integer(n_samples, "n_samples", minimum=2)
    minority_fraction = check_fraction(minority_fraction, "minority_fraction")
    noise = check_non_negative(noise, "noise")
    n_minor = int(np.floor(n_samples * minority_fraction + 0.5))
    n_major = n_samples - n_minor
    if n_minor == 0 or n_major == 0:
        raise ValueError(
            f"n_samples={n_samples} with minority_fraction={minority_fraction} leaves "
            f"{'the minority' if n_minor == 0 else 'the majority'} group empty; use more "
            "samples or a fraction further from 0 and 1."
        )
    rng = check_generator(random_state)

    X_major = rng.standard_normal((n_major, 2))
    y_major = (X_major[:, 0] + noise * rng.standard_normal(n_major) > 0).astype(np.int64)
    X_minor = rng.standard_normal((n_minor, 2))
    y_minor = (X_minor[:, 1] + noise * rng.standard_normal(n_minor) > 0).astype(np.int64)

    X = np.vstack([X_major, X_minor])
    y = np.r_[y_major, y_minor]
    groups = np.r_[np.zeros(n_major, np.int64), np.ones(n_minor, np.int64)]
    if group_features:
        X = np.column_stack([X, groups, X[:, 1] * groups])
    return (X, y, groups) if return_groups else (X, y)


def flip_labels(y, noise_rate=0.2, *, random_state=None):
    """Flip every label independently with probability ``noise_rate``.

    Symmetric label noise: a flipped label becomes another class of ``y``, the other one for
    two classes and one of the others uniformly at random for more. Use it on any dataset;
    :func:`make_label_noise` applies it to :func:`sklearn.datasets.make_classification`.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels (numbers or strings), at least two distinct ones. Not modified.

    noise_rate : float, default=0.2
        Probability, in [0, 1], that a label is flipped.

    random_state : None, int, numpy.random.Generator or numpy.random.RandomState, default=None
        The source of randomness; see :func:`make_group_shift` for what each kind means.

    Returns
    -------
    y_noisy : ndarray of shape (n_samples,)
        The labels with the flipped ones replaced, of ``y``'s dtype. ``y_noisy != y`` marks
        the flipped samples.

    See Also
    --------
    make_label_noise : A classification dataset with flipped training labels.

    Notes
    -----
    The generator first draws one uniform number :math:`u_i` per sample and flips sample
    :math:`i` if :math:`u_i <` ``noise_rate``; so the number of flips is binomial, not fixed.
    With :math:`K > 2` classes it then draws, for the flipped samples in order, an offset
    :math:`o \\in \\{1, \\dots, K - 1\\}` and replaces class :math:`k` (in sorted order) by
    class :math:`(k + o) \\bmod K`. With two classes nothing more is drawn.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.datasets import flip_labels
    >>> y = np.array([0, 1] * 50)
    >>> y_noisy = flip_labels(y, noise_rate=0.2, random_state=0)
    >>> int(np.sum(y_noisy != y))
    19
    >>> flip_labels(["cat", "dog", "cat"], noise_rate=1.0, random_state=0).tolist()
    ['dog', 'cat', 'dog']
    """
    noise_rate = check_fraction(noise_rate, "noise_rate", closed=True)
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be one-dimensional, got an array of shape {y.shape}.")
    classes, codes = np.unique(y, return_inverse=True)
    if classes.size < 2:
        raise ValueError(
            f"y must have at least two classes to flip labels between, got {classes.size}."
        )
    rng = check_generator(random_state)
    flipped = rng.random(y.shape[0]) < noise_rate
    n_classes = classes.size
    if n_classes == 2:
        offset = 1
    else:
        offset = rng.integers(1, n_classes, size=int(flipped.sum()))
    codes[flipped] = (codes[flipped] + offset) % n_classes
    return classes[codes]


def make_label_noise(
    n_samples=100,
    n_features=20,
    *,
    n_informative=2,
    n_redundant=2,
    n_classes=2,
    class_sep=1.0,
    noise_rate=0.2,
    return_clean=False,
    random_state=None,
):
    """A classification dataset whose labels are flipped with probability ``noise_rate``.

    The features and clean labels are those of scikit-learn's
    :func:`sklearn.datasets.make_classification`; :func:`flip_labels` then flips every label
    independently. Typical use: fit on noisy training labels and score on clean test labels
    (``return_clean=True``), to see what the noise costs a model.

    Parameters
    ----------
    n_samples : int, default=100
        Number of samples, at least 1.

    n_features : int, default=20
        Number of features (``make_classification``'s ``n_features``).

    n_informative : int, default=2
        Number of informative features (``make_classification``'s ``n_informative``).

    n_redundant : int, default=2
        Number of linear combinations of the informative features (``make_classification``'s
        ``n_redundant``).

    n_classes : int, default=2
        Number of classes, at least 2.

    class_sep : float, default=1.0
        Distance between the class clusters (``make_classification``'s ``class_sep``).

    noise_rate : float, default=0.2
        Probability, in [0, 1], that a label is flipped.

    return_clean : bool, default=False
        If True, also return the labels before flipping.

    random_state : None, int, numpy.random.Generator or numpy.random.RandomState, default=None
        The source of randomness. An int ``s`` seeds both steps:
        ``make_classification(..., random_state=s)`` and the flips, drawn from
        ``numpy.random.default_rng(s)``. Anything else becomes a Generator as in
        :func:`make_group_shift`, which first draws the integer seed of
        ``make_classification``, then the flips.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        float64 features, exactly those of ``make_classification``.

    y : ndarray of shape (n_samples,)
        int64 labels in ``range(n_classes)``, after flipping.

    y_clean : ndarray of shape (n_samples,)
        Only if ``return_clean=True``: the labels before flipping.

    See Also
    --------
    flip_labels : The flipping step alone, for any labels.
    make_group_shift : The other perturbation a robust classifier meets: a shifted group.

    Notes
    -----
    The other parameters of ``make_classification`` keep its defaults, including
    ``flip_y=0.01``: the "clean" labels already have 1% of their labels assigned at random, as
    every ``make_classification`` dataset does.

    Examples
    --------
    Noisy labels to train on, clean ones to test on:

    >>> from skcgd.datasets import make_label_noise
    >>> X, y, y_clean = make_label_noise(
    ...     3000, n_informative=5, noise_rate=0.2, return_clean=True, random_state=0
    ... )
    >>> X_train, y_train = X[:2000], y[:2000]
    >>> X_test, y_test = X[2000:], y_clean[2000:]
    >>> round(float((y_train != y_clean[:2000]).mean()), 3)  # the share flipped
    0.209
    """
    check_integer(n_samples, "n_samples", minimum=1)
    check_integer(n_classes, "n_classes", minimum=2)
    noise_rate = check_fraction(noise_rate, "noise_rate", closed=True)
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        check_generator(random_state)  # refuses negative seeds with a clear message
        sklearn_seed, rng = random_state, np.random.default_rng(random_state)
    else:
        rng = check_generator(random_state)
        sklearn_seed = int(rng.integers(SKLEARN_SEED_RANGE))

    from sklearn.datasets import make_classification

    X, y_clean = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=n_informative,
        n_redundant=n_redundant,
        n_classes=n_classes,
        class_sep=class_sep,
        random_state=sklearn_seed,
    )
    y = flip_labels(y_clean, noise_rate, random_state=rng)
    return (X, y, y_clean) if return_clean else (X, y)


def make_naive_bayes_simulation(n_samples=1000, n_features=100, n_classes=2, *, random_state=None):
    r"""The Gaussian mixture of Zheng et al. (2023): naive Bayes against logistic regression.

    Classes with means :math:`-1, 1, 2, 4, \dots` in every feature and one shared diagonal
    covariance, so that Gaussian naive Bayes with a shared variance
    (:class:`~skcgd.naive_bayes.GaussianNaiveBayes` with ``var_mode="shared"``) is the true
    model and the Bayes error is about zero. It is the simulation ("easy" mode) with which
    Zheng et al. show naive Bayes needing :math:`O(\log d)` samples to approach its
    asymptotic error where logistic regression needs :math:`O(d)`.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of samples, at least 1. The paper draws a pool of ``100 * n_features``
        training samples and 10,000 test samples.

    n_features : int, default=100
        Number of features :math:`d`, at least 1.

    n_classes : int, default=2
        Number of classes :math:`K`, at least 2.

    random_state : None, int, numpy.random.Generator or numpy.random.RandomState, default=None
        The source of randomness; see :func:`make_group_shift` for what each kind means. Pass
        one Generator to successive calls to draw a training pool and a test set from one
        stream, as the paper does.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        float64 features.

    y : ndarray of shape (n_samples,)
        int64 labels, uniform on ``range(n_classes)``: a small sample can miss a class.

    See Also
    --------
    make_group_shift : Group-shift data for the minimax logistic regression.

    Notes
    -----
    The label is uniform on :math:`\{0, \dots, K - 1\}` and, given the class :math:`k`,

    .. math::

        x \sim N(\mu_k \mathbf{1}_d, \Sigma), \qquad \mu_0 = -1, \quad
        \mu_k = 2^{k - 1} \ (k \ge 1), \qquad
        \Sigma = \operatorname{diag}(\underbrace{d, \dots, d}_{\lfloor d/2 \rfloor},
        1, \dots, 1).

    With :math:`K > 2` classes every feature is then rescaled,
    :math:`x \leftarrow (x - 2^{K-3}) / 2^{K-3}`, as in the paper's code. The generator
    draws the :math:`n` labels first, then :math:`n \times d` standard normals row by row.

    References
    ----------
    .. [1] C. Zheng, G. Wu, F. Bao, Y. Cao, C. Li and J. Zhu, "Revisiting Discriminative vs.
       Generative Classifiers: Theory and Implications", ICML 2023, PMLR 202:42420-42477.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.datasets import make_naive_bayes_simulation
    >>> rng = np.random.default_rng(0)
    >>> X_pool, y_pool = make_naive_bayes_simulation(2000, n_features=20, random_state=rng)
    >>> X_test, y_test = make_naive_bayes_simulation(500, n_features=20, random_state=rng)
    >>> X_pool.shape, np.unique(y_pool)
    ((2000, 20), array([0, 1]))
    """
    n_samples = check_integer(n_samples, "n_samples", minimum=1)
    n_features = check_integer(n_features, "n_features", minimum=1)
    n_classes = check_integer(n_classes, "n_classes", minimum=2)
    rng = check_generator(random_state)

    y = rng.integers(0, n_classes, n_samples)
    means = np.array([-1.0] + [2.0 ** (k - 1) for k in range(1, n_classes)])
    std = np.sqrt(
        np.r_[np.full(n_features // 2, float(n_features)), np.ones(n_features - n_features // 2)]
    )
    X = means[y][:, None] + rng.standard_normal((n_samples, n_features)) * std
    if n_classes > 2:
        shift = 2.0 ** (n_classes - 3)
        X = (X - shift) / shift
    return X, y
