"""Naive Bayes classifiers: Gaussian, with per-class or shared (linear) variances."""

from skcgd.naive_bayes._gaussian import GaussianNaiveBayes
from skcgd.naive_bayes._gaussian import _warm_up as _warm_up  # for skcgd.utils.warm_up

__all__ = ["GaussianNaiveBayes"]
