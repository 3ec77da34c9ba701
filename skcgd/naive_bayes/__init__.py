"""Naive Bayes classifiers: Gaussian, with per-class or shared (linear) variances."""

from skcgd.naive_bayes import _specs  # noqa: F401  (registers the test specs)
from skcgd.naive_bayes._gaussian import GaussianNaiveBayes

__all__ = ["GaussianNaiveBayes"]
