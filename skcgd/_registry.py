"""What each subpackage registers about itself: its warm-up and its estimators' test specs.

* A subpackage decorates a function of its own with :func:`register_warm_up` (in a module its
  ``__init__`` imports); :func:`skcgd.utils.warm_up` imports every subpackage of skcgd and
  runs what they registered.
* A subpackage that defines estimators registers, with :func:`register_estimator_spec`, how
  to build a small instance of each (:class:`EstimatorSpec`): the hostile-input,
  persistence, thread and input-kind suites and the user guide's input-kinds table read them
  through :func:`estimator_specs`.

So a new subpackage, or a new estimator, needs no edit outside its own subpackage. This
module sits at the bottom of the package and imports none of the others at import time.
"""

import importlib
import pkgutil
from typing import Callable, NamedTuple

__all__ = [
    "EstimatorSpec",
    "estimator_specs",
    "register_estimator_spec",
    "register_warm_up",
    "warm_up_hooks",
]

_HOOKS = {}
_SPECS = {}

# not subpackages with kernels of their own: the test-suite and the command line
_NOT_SCANNED = {"tests", "__main__"}


def register_warm_up(func):
    """Register ``func()`` as the warm-up of the subpackage that defines it (a decorator).

    The function compiles its subpackage's kernels on tiny problems; it must be quick,
    deterministic, print nothing and change no process-wide state.
    """
    _HOOKS[f"{func.__module__}.{func.__qualname__}"] = func
    return func


def _import_subpackages():
    import skcgd

    for info in pkgutil.iter_modules(skcgd.__path__):
        if info.ispkg and info.name not in _NOT_SCANNED:
            importlib.import_module(f"skcgd.{info.name}")


def warm_up_hooks():
    """Import every subpackage of skcgd and return ``{name: hook}`` of the registered hooks.

    Names are the hooks' qualified names (``skcgd.naive_bayes._gaussian._warm_up``), sorted
    so that the order is the same in every process.
    """
    _import_subpackages()
    return dict(sorted(_HOOKS.items()))


class EstimatorSpec(NamedTuple):
    """How to build and fit a small instance of one estimator in tests and docs.

    Attributes
    ----------
    task : {"classifier", "regressor"}
        What ``y`` the estimator needs.
    params : dict or callable
        Constructor arguments of the instance used by default (a callable returning them when
        they hold estimators: each build then gets fresh ones).
    variants : tuple of dict, or callable
        Constructor arguments (merged over ``params``) that the hostile-input, persistence
        and thread suites run as well: one per distinct code path (adversary, solver, mode).
        A callable returning them when they hold estimators.
    needs_groups : callable
        ``needs_groups(params) -> bool``: whether ``fit`` must receive ``groups=``.
    sparse_densifies : str or None
        Why the estimator converts (part of) a sparse X to dense, if it does.
    known : bool
        False for the default spec of an estimator that registered none.
    """

    task: str
    params: object = None
    variants: object = ({},)
    needs_groups: Callable = lambda params: False
    sparse_densifies: object = None
    known: bool = True

    def base_params(self):
        """``params`` as a fresh dict."""
        params = self.params() if callable(self.params) else self.params
        return dict(params or {})

    def build(self, cls, **overrides):
        """An instance of ``cls`` with ``params``, then ``overrides``."""
        return cls(**{**self.base_params(), **overrides})

    def all_params(self):
        """``params`` merged with each variant."""
        variants = self.variants() if callable(self.variants) else self.variants
        return [{**self.base_params(), **variant} for variant in variants]


def register_estimator_spec(name, spec):
    """Register the :class:`EstimatorSpec` of the public estimator class called ``name``."""
    if not isinstance(spec, EstimatorSpec):
        raise TypeError(f"spec must be an EstimatorSpec, got {type(spec).__name__}.")
    _SPECS[name] = spec
    return spec


def estimator_specs():
    """Import every subpackage of skcgd; return ``{class name: EstimatorSpec}``, sorted."""
    _import_subpackages()
    return dict(sorted(_SPECS.items()))
