"""Metrics by group of samples, for models that must do well on every group.

- :func:`worst_group_accuracy`: the accuracy of the least accurate group;
- :func:`worst_group_log_loss`: the mean log-loss of the worst group (lower is better);
- :func:`group_report`: count, accuracy and log-loss of every group and of all samples.

They take the group labels as ``groups=`` and work as scikit-learn scorers with the groups
routed by metadata routing (see :ref:`group_metrics`). Importing this package loads neither
pandas, nor scikit-learn, nor Numba.
"""

from skcgd.metrics._group import group_report, worst_group_accuracy, worst_group_log_loss

__all__ = ["group_report", "worst_group_accuracy", "worst_group_log_loss"]
