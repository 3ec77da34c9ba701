"""The adversaries of the reweighted logistic games, registered by name.

Each adversary is one game class that registers itself with :func:`register_adversary`;
:class:`~skcgd.linear_model.MinimaxLogisticRegression` builds its game through
:func:`make_logistic_game` and reads everything else it needs from the class (whether ``fit``
needs ``groups``, whether a closed-form primal exists for Newton, the adversary's natural
step). Adding an adversary is one game class with this decorator, in a module that
``skcgd/games/__init__.py`` imports.

This module is the only place where adversaries are told apart by name.
"""

from typing import NamedTuple

__all__ = [
    "Adversary",
    "ADVERSARIES",
    "adversary_names",
    "make_logistic_game",
    "register_adversary",
]


class Adversary(NamedTuple):
    """A registered adversary.

    Attributes
    ----------
    name : str
        The value of ``MinimaxLogisticRegression(adversary=...)``.
    game : type
        The game class (a subclass of :class:`~skcgd.games.ReweightedLogisticGame`).
    needs_groups : bool
        Whether the game takes ``groups`` (``fit(X, y, groups=...)``).
    has_primal : bool
        Whether the best response is closed-form, so that the game offers the primal that
        :class:`~skcgd.solvers.Newton` minimises.
    summary : str
        What the adversary re-weights, in a few words (for messages and docs).
    game_solvers : bool
        Whether the game solvers (CGD, GDA, ...) can play the game: an adversary whose set
        they cannot move in (e.g. a capped simplex) is refused by name for them.
    max_rho : float
        The largest ``rho`` the game accepts (beyond it the adversary is the worst case to
        rounding and the problem numerically singular).
    needs_features : bool
        Whether the game takes adversary features (``fit(X, y, adversary_X=...)``, optional)
        and the adversary's own penalty ``adversary_alpha``.

    Examples
    --------
    >>> from skcgd.games import get_adversary
    >>> adversary = get_adversary("group")
    >>> adversary.game.__name__, adversary.needs_groups, adversary.has_primal
    ('GroupKLLogisticGame', True, True)
    """

    name: str
    game: type
    needs_groups: bool
    has_primal: bool
    summary: str
    game_solvers: bool = True
    max_rho: float = float("inf")
    needs_features: bool = False


ADVERSARIES = {}

# rho = 0 switches every adversary off: the game is then this registered plain game
_NO_ADVERSARY = "none"


def register_adversary(
    name,
    *,
    needs_groups=False,
    has_primal=True,
    summary="",
    game_solvers=True,
    max_rho=float("inf"),
    needs_features=False,
):
    """Class decorator: register a logistic game class as the adversary ``name``.

    The class (a subclass of :class:`~skcgd.games.ReweightedLogisticGame`) becomes an
    ``adversary`` of :class:`~skcgd.linear_model.MinimaxLogisticRegression`: parameter
    validation, :func:`make_logistic_game`, the solvers and the warm-up find it by name.

    Parameters
    ----------
    name : str
        The name, unique among the registered ones.
    needs_groups : bool, default=False
        The game takes ``groups`` (``fit(X, y, groups=...)`` then requires them).
    has_primal : bool, default=True
        The best response is closed-form and the game provides the primal, so that
        ``solver="newton"`` applies; otherwise only the game solvers play it.
    summary : str, default=""
        What the adversary re-weights, in a few words.
    game_solvers : bool, default=True
        The game solvers can play it (its max player lives on R^n or on the simplex).
    max_rho : float, default=inf
        The largest ``rho`` the game accepts; a larger one is refused by name.
    needs_features : bool, default=False
        The game takes ``adversary_X`` (adversary features, None for its default) and
        ``adversary_alpha``.

    Returns
    -------
    decorator : callable
        Registers the class, sets its ``adversary`` attribute to ``name``, returns it.

    Examples
    --------
    The chi-square adversary with its budget in other units (``rho`` means twice as much):

    >>> import numpy as np
    >>> from skcgd.games import ADVERSARIES, Chi2LogisticGame, register_adversary
    >>> from skcgd.linear_model import MinimaxLogisticRegression
    >>> @register_adversary("chi2_doubled", summary="chi2 at twice rho")
    ... class DoubledChi2(Chi2LogisticGame):
    ...     def __init__(self, X, y, *, rho=1.0, **kwargs):
    ...         super().__init__(X, y, rho=2.0 * rho, **kwargs)
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> y = np.array([0, 0, 1, 1])
    >>> doubled = MinimaxLogisticRegression("chi2_doubled", rho=0.5).fit(X, y)
    >>> chi2 = MinimaxLogisticRegression("chi2", rho=1.0).fit(X, y)
    >>> bool(np.allclose(doubled.coef_, chi2.coef_))
    True
    >>> del ADVERSARIES["chi2_doubled"]      # this example leaves the registry as it was
    """

    def decorate(cls):
        if name in ADVERSARIES and ADVERSARIES[name].game is not cls:
            raise ValueError(f"An adversary named {name!r} is registered already.")
        ADVERSARIES[name] = Adversary(
            name, cls, needs_groups, has_primal, summary, game_solvers, max_rho, needs_features
        )
        cls.adversary = name
        cls.max_rho = max_rho
        return cls

    return decorate


def adversary_names():
    """The registered adversaries' names, sorted.

    Examples
    --------
    >>> from skcgd.games import adversary_names
    >>> adversary_names()
    ('chi2', 'cvar', 'group', 'kl', 'none', 'parametric', 'second_moment')
    """
    return tuple(sorted(ADVERSARIES))


def get_adversary(name):
    """The registered :class:`Adversary` called ``name`` (a ValueError listing them if none).

    Examples
    --------
    >>> from skcgd.games import get_adversary
    >>> get_adversary("kl").summary
    'each sample, on the simplex, with a KL penalty'
    >>> get_adversary("huber")
    Traceback (most recent call last):
    ...
    ValueError: Unknown adversary 'huber'; the registered ones are chi2, cvar, group, kl, none,
    parametric, second_moment.
    """
    try:
        return ADVERSARIES[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown adversary {name!r}; the registered ones are {', '.join(adversary_names())}."
        ) from None


def make_logistic_game(
    adversary,
    X,
    y,
    *,
    rho,
    C,
    sample_weight,
    groups=None,
    adversary_X=None,
    adversary_alpha=1.0,
    fit_intercept=True,
    multinomial=False,
    n_classes=None,
    check_input=True,
):
    """Build the logistic game of ``adversary`` at strength ``rho``.

    ``rho = 0`` is plain L2 logistic regression whatever the adversary: the game is then the
    plain one, which reports as its equilibrium weights the ``rho -> 0`` limit of the
    adversary's (its static method ``weights_at_rho_zero(plain_game, **extra)``).

    Parameters
    ----------
    adversary : str
        A registered name (:func:`adversary_names`).
    X, y, C, sample_weight, fit_intercept, multinomial, n_classes, check_input
        As in :class:`~skcgd.games.ReweightedLogisticGame`.
    rho : float
        The adversary's strength, >= 0.
    groups : ndarray of shape (n_samples,) of int, default=None
        Group indices ``0..G-1``, for the adversaries that need them.
    adversary_X : {ndarray, sparse matrix} of shape (n_samples, k), default=None
        Adversary features, for the adversaries that take them (None: their default).
    adversary_alpha : float, default=1.0
        The adversary's own penalty, for the adversaries that take features.

    Returns
    -------
    game : ReweightedLogisticGame

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.games import make_logistic_game
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> make_logistic_game("kl", X, [1, -1, 1], rho=0.5, C=1.0, sample_weight=None)
    KLLogisticGame(n_samples=3, n_features=2, K=1, C=1, rho=0.5, fit_intercept=True)
    >>> game = make_logistic_game("kl", X, [1, -1, 1], rho=0.0, C=1.0, sample_weight=None)
    >>> game          # rho = 0: plain logistic regression ...
    PlainLogisticGame(n_samples=3, n_features=2, K=1, C=1, fit_intercept=True)
    >>> game.equilibrium_weights(np.zeros(game.n_x))     # ... with the limit of p = s / N
    array([0.33333333, 0.33333333, 0.33333333])
    """
    spec = get_adversary(adversary)
    common = dict(
        C=C,
        sample_weight=sample_weight,
        fit_intercept=fit_intercept,
        multinomial=multinomial,
        n_classes=n_classes,
        check_input=check_input,
    )
    extra = {"groups": groups} if spec.needs_groups else {}
    if spec.needs_features:
        extra.update(adversary_X=adversary_X, adversary_alpha=adversary_alpha)
    if rho == 0 or spec.name == _NO_ADVERSARY:
        plain = ADVERSARIES[_NO_ADVERSARY].game
        game = plain(X, y, **common)
        game.null_weights = spec.game.weights_at_rho_zero(game, **extra)
        return game
    return spec.game(X, y, rho=rho, **extra, **common)
