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
    """

    name: str
    game: type
    needs_groups: bool
    has_primal: bool
    summary: str


ADVERSARIES = {}

# rho = 0 switches every adversary off: the game is then this registered plain game
_NO_ADVERSARY = "none"


def register_adversary(name, *, needs_groups=False, has_primal=True, summary=""):
    """Class decorator: register a logistic game class as the adversary ``name``."""

    def decorate(cls):
        if name in ADVERSARIES and ADVERSARIES[name].game is not cls:
            raise ValueError(f"An adversary named {name!r} is registered already.")
        ADVERSARIES[name] = Adversary(name, cls, needs_groups, has_primal, summary)
        cls.adversary = name
        return cls

    return decorate


def adversary_names():
    """The registered adversaries' names, sorted."""
    return tuple(sorted(ADVERSARIES))


def get_adversary(name):
    """The registered :class:`Adversary` called ``name`` (a ValueError listing them if none)."""
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
    fit_intercept=True,
    multinomial=False,
    n_classes=None,
    check_input=True,
):
    """Build the logistic game of ``adversary`` at strength ``rho``.

    ``rho = 0`` is plain L2 logistic regression whatever the adversary: the game is then the
    plain one, which reports as its equilibrium weights the ``rho -> 0`` limit of the
    adversary's (its class method ``weights_at_rho_zero``).

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
    if rho == 0 or spec.name == _NO_ADVERSARY:
        plain = ADVERSARIES[_NO_ADVERSARY].game
        game = plain(X, y, **common)
        game.null_weights = spec.game.weights_at_rho_zero(game.sample_weight, **extra)
        return game
    return spec.game(X, y, rho=rho, **extra, **common)
