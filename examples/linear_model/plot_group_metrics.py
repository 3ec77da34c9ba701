"""
==========================================================
Group metrics: reporting and tuning for the worst group
==========================================================

A model with a good average can still fail a group that is rare in the data. This example
measures that with :mod:`skcgd.metrics`: :func:`~skcgd.metrics.group_report` tabulates the
accuracy and log-loss of every group, :func:`~skcgd.metrics.worst_group_accuracy` and
:func:`~skcgd.metrics.worst_group_log_loss` reduce them to the worst group's value. We compare
plain logistic regression with the ``"group"`` adversary of
:class:`~skcgd.linear_model.MinimaxLogisticRegression`, then choose the adversary's strength
``rho`` by grid search on the worst-group accuracy, with the group labels routed to the
estimator and to the scorers by scikit-learn's metadata routing.
"""

# %%
# A minority group whose label follows another feature
# ----------------------------------------------------
# :func:`~skcgd.datasets.make_group_shift` draws a majority (90%) whose label follows
# feature 0 and a minority (10%) whose label follows feature 1; two extra columns let a
# linear model see the group. We name the groups, since the metrics take labels of any type.

import matplotlib.pyplot as plt
import numpy as np
import sklearn
from sklearn.metrics import make_scorer
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skcgd.datasets import make_group_shift
from skcgd.linear_model import MinimaxLogisticRegression
from skcgd.metrics import group_report, worst_group_accuracy, worst_group_log_loss

names = np.array(["majority", "minority"])
X, y, g = make_group_shift(1000, minority_fraction=0.1, return_groups=True, random_state=0)
X_test, y_test, g_test = make_group_shift(
    10_000, minority_fraction=0.1, return_groups=True, random_state=1
)
groups, groups_test = names[g], names[g_test]

# %%
# One table per model
# -------------------
# ``adversary="none"`` is plain L2 logistic regression; ``"group"`` fits against an adversary
# that moves weight between the groups (``fit(X, y, groups=...)``). Given the probabilities
# of ``predict_proba`` (a 2-D array), :func:`~skcgd.metrics.group_report` gives each group's
# count, accuracy and log-loss, and the same on all samples in the row ``"all"``; with pandas
# installed it is a DataFrame indexed by group (without, a dict of lists).

models = {
    "plain": MinimaxLogisticRegression("none", C=0.1).fit(X, y),
    "group, rho=20": MinimaxLogisticRegression("group", rho=20.0, C=0.1).fit(X, y, groups=groups),
}
reports = {}
for name, model in models.items():
    reports[name] = group_report(
        y_test, model.predict_proba(X_test), groups=groups_test, labels=model.classes_
    )
    print(f"{name}:\n{reports[name].round(3)}\n")
    wga = worst_group_accuracy(y_test, model.predict(X_test), groups=groups_test)
    print(f"worst-group accuracy {wga:.3f}\n")

# %%
# The plain model's overall accuracy (0.885) hides a minority at 0.70: the minority weighs
# 10% of the average. The adversary raises the minority's accuracy to 0.78 and lowers the
# majority's by half a point, so the worst group gains 8 points and the overall row hardly
# moves. The log-loss shows the price more clearly: the minority's falls from 0.70 to 0.47,
# the majority's rises from 0.28 to 0.31. The worst-group accuracy is the minimum of the
# ``accuracy`` column over the group rows.

fig, ax = plt.subplots(figsize=(6, 3.6))
width = 0.38
for k, (name, report) in enumerate(reports.items()):
    values = report["accuracy"].to_numpy()
    bars = ax.bar(np.arange(len(values)) + (k - 0.5) * width, values, width, label=name)
    ax.bar_label(bars, fmt="%.3f", fontsize=8)
ax.set(
    xticks=range(len(report.index)),
    xticklabels=report.index,
    ylim=(0.5, 1.05),
    ylabel="test accuracy",
    title="accuracy by group",
)
ax.legend(loc="upper center", ncol=2)
fig.tight_layout()

# %%
# Choosing rho for the worst group
# --------------------------------
# As scorers, the metrics need the held-out rows' groups. With metadata routing enabled
# (here in a ``config_context``, which is local to the thread), every consumer says what it
# wants: the estimator asks for ``groups`` in ``fit`` and each group scorer in ``score``;
# ``search.fit(X, y, groups=groups)`` then hands each training fold's groups to the
# estimator and each validation fold's groups to the scorers. The log-loss is lower-better
# and is computed on probabilities, hence ``greater_is_better=False`` (scikit-learn reports
# its negative) and ``response_method="predict_proba"``. The splitter stratifies by label and
# does not take the groups, so both groups appear in every fold.

rhos = [0.0, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0]
with sklearn.config_context(enable_metadata_routing=True):
    scoring = {
        "accuracy": "accuracy",
        "worst_group_accuracy": make_scorer(worst_group_accuracy).set_score_request(groups=True),
        "worst_group_log_loss": make_scorer(
            worst_group_log_loss, greater_is_better=False, response_method="predict_proba"
        ).set_score_request(groups=True),
    }
    search = GridSearchCV(
        MinimaxLogisticRegression("group", C=0.1).set_fit_request(groups=True),
        {"rho": rhos},
        scoring=scoring,
        refit="worst_group_accuracy",
        cv=StratifiedKFold(5, shuffle=True, random_state=0),
    )
    search.fit(X, y, groups=groups)

best = search.best_estimator_
print(f"best rho: {search.best_params_['rho']:g}")
print(group_report(y_test, best.predict(X_test), groups=groups_test).round(3))

# %%
# The cross-validated scores along ``rho``: the mean accuracy stays within a point while
# the worst-group accuracy climbs from about 0.72 to 0.82 and the worst-group log-loss
# falls; both level off from ``rho=100`` on, the choice of the search (on the test set its
# minority reaches 0.80).

results = search.cv_results_
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
axes[0].plot(rhos, results["mean_test_accuracy"], "o-", label="accuracy")
axes[0].plot(rhos, results["mean_test_worst_group_accuracy"], "o-", label="worst-group accuracy")
axes[0].set(xscale="symlog", xlabel="rho", ylabel="mean CV score", title="accuracies")
axes[0].legend()
axes[1].plot(rhos, -results["mean_test_worst_group_log_loss"], "o-", color="C2")
axes[1].set(xscale="symlog", xlabel="rho", ylabel="mean CV value", title="worst-group log-loss")
for ax in axes:
    ax.axvline(search.best_params_["rho"], color="k", lw=0.5, ls=":")
fig.tight_layout()

# %%
# Conclusion
# ----------
# :func:`~skcgd.metrics.group_report` shows where a model fails and
# :func:`~skcgd.metrics.worst_group_accuracy` and :func:`~skcgd.metrics.worst_group_log_loss`
# turn that into the number to tune. The ``"group"`` adversary raises the worst group's
# accuracy at almost no cost to the overall one, and a grid search with the groups routed to
# the estimator and the scorers picks ``rho`` for it.
# :class:`~skcgd.linear_model.MinimaxLogisticRegressionCV` does the same along warm-started
# paths; its ``scoring`` callable receives the held-out groups
# (:ref:`sphx_glr_auto_examples_linear_model_plot_tuning_rho.py`).
