"""skcgd: scikit-learn compatible estimators on Numba kernels.

Competitive gradient descent (CGD) for two-player games with a matrix-free conjugate-gradient
inner solve, minimax (distributionally robust) logistic regression, ridge stacking
meta-learners and Gaussian naive Bayes.
"""

__version__ = "0.1.0.dev0"

__all__ = ["games", "solvers", "utils", "__version__"]
