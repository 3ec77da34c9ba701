"""
=====================================================================
Minimax logistic regression under label noise and group shift
=====================================================================

:class:`~skcgd.linear_model.MinimaxLogisticRegression` fits a logistic regression against an
adversary that re-weights the training data, within a budget ``rho``, to make the loss as
large as possible. This example puts it in the two situations it is meant for and compares
it with scikit-learn's :class:`~sklearn.linear_model.LogisticRegression` on accuracy,
worst-group accuracy and log-loss:

1. 20% of the training labels are flipped (the test labels are clean);
2. a minority group, 10% of the data, whose label follows a different feature than the
   majority's.

Along the way we draw the adversary's weights on the data.
"""

# %%
# Where the adversary puts its weight
# -----------------------------------
# Two Gaussian blobs in the plane, each label flipped with probability 0.2 by
# :func:`~skcgd.datasets.flip_labels` (symmetric label noise, for any labels). The ``"chi2"``
# adversary spreads a distribution :math:`q` over the samples: at the solution
# :math:`q_i = p_i (1 + \rho (l_i - \eta))_+` (:math:`l_i` its logistic loss, :math:`p_i` its
# share), exposed as ``adversary_weights_``: the samples the classifier gets wrong weigh
# more, and the easiest ones nothing.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_blobs
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss

from skcgd.datasets import flip_labels, make_group_shift, make_label_noise
from skcgd.linear_model import MinimaxLogisticRegression

X2, y2 = make_blobs(
    n_samples=300, centers=[[-1.2, -0.6], [1.2, 0.6]], cluster_std=1.0, random_state=0
)
y2_noisy = flip_labels(y2, noise_rate=0.2, random_state=0)
flipped = y2_noisy != y2
chi2 = MinimaxLogisticRegression("chi2", rho=0.5).fit(X2, y2_noisy)
weights = chi2.adversary_weights_ * len(y2_noisy)  # relative to the uniform 1 / n

fig, ax = plt.subplots(figsize=(7, 5))
for label, marker in ((0, "o"), (1, "s")):
    keep = y2_noisy == label
    points = ax.scatter(
        X2[keep, 0],
        X2[keep, 1],
        c=weights[keep],
        cmap="viridis",
        vmin=1,
        vmax=weights.max(),
        marker=marker,
        s=28,
        label=f"training label {label}",
    )
ax.scatter(
    X2[flipped, 0],
    X2[flipped, 1],
    s=70,
    facecolors="none",
    edgecolors="C3",
    lw=1.2,
    label="flipped label",
)
xlim, ylim = ax.get_xlim(), ax.get_ylim()
xx = np.linspace(*xlim, 2)
w, b = chi2.coef_[0], chi2.intercept_[0]
ax.plot(xx, -(w[0] * xx + b) / w[1], "k-", lw=1, label="decision boundary")
ax.set(
    xlim=xlim,
    ylim=ylim,
    xlabel="feature 0",
    ylabel="feature 1",
    title='adversary\'s weights, MinimaxLogisticRegression("chi2", rho=0.5)',
)
fig.colorbar(points, ax=ax, label="adversary's weight $n\\, q_i$")
ax.legend(loc="upper left", fontsize=8)
fig.tight_layout()
print(
    f"mean weight: flipped samples {weights[flipped].mean():.2f}, "
    f"others {weights[~flipped].mean():.2f}"
)

# %%
# The flipped samples sit on the wrong side of the boundary and carry most of the extra
# weight. That is the adversary doing its job (it hunts the hard samples), and also why a
# distributionally robust model is no cure for label noise: it cannot tell a mislabelled
# sample from a genuinely hard one.
#
# 20% flipped labels
# ------------------
# On a 20-feature problem (2000 training samples with 20% of the labels flipped, 1000 clean
# test samples) the question is what the robustness costs, with a moderate budget
# ``rho=0.5`` for the ``chi2`` and ``kl`` adversaries.
# :func:`~skcgd.datasets.make_label_noise` draws scikit-learn's
# :func:`~sklearn.datasets.make_classification` data and flips the labels; we train on the
# noisy labels of the first 2000 samples and test on the clean labels of the others.

X, y_noisy, y_clean = make_label_noise(
    3000, n_informative=5, noise_rate=0.2, return_clean=True, random_state=0
)
X_train, y_train = X[:2000], y_noisy[:2000]
X_test, y_test = X[2000:], y_clean[2000:]

models = {
    "LogisticRegression": LogisticRegression(),
    'Minimax, "chi2", rho=0.5': MinimaxLogisticRegression("chi2", rho=0.5),
    'Minimax, "kl", rho=0.5': MinimaxLogisticRegression("kl", rho=0.5),
}
print(f"{'model':28s} {'clean accuracy':>15s} {'log-loss':>9s}")
for name, model in models.items():
    model.fit(X_train, y_train)
    print(
        f"{name:28s} {model.score(X_test, y_test):15.3f} "
        f"{log_loss(y_test, model.predict_proba(X_test)):9.3f}"
    )

# %%
# Accuracy on clean labels is unchanged (0.852 for logistic regression, 0.857 and 0.855 with
# the adversaries). The clean log-loss is a little worse: up-weighting the hard, mostly
# mislabelled samples shrinks the coefficients, so the model is less confident on test
# samples whose labels are in fact right.
#
# A shifted minority group
# ------------------------
# In the majority (90% of the samples) the label follows feature 0; in the minority it
# follows feature 1. The group is visible to the model (an indicator column and its product
# with feature 1), so a linear model *can* fit both groups, but the loss averaged over all
# samples barely notices the minority. The ``"group"`` adversary re-weights whole groups
# (``fit(X, y, groups=g)``): its objective is a soft maximum of the groups' mean losses.
# :func:`~skcgd.datasets.make_group_shift` draws the task: 1000 training samples and, from
# another seed, 10000 test samples, 10% of them in the minority.


def report(model, X, y, g):
    pred = model.predict(X)
    per_group = [accuracy_score(y[g == k], pred[g == k]) for k in (0, 1)]
    return {
        "accuracy": accuracy_score(y, pred),
        "majority": per_group[0],
        "minority": per_group[1],
        "worst group": min(per_group),
        "log-loss": log_loss(y, model.predict_proba(X)),
    }


X_train, y_train, g_train = make_group_shift(
    1000, minority_fraction=0.1, return_groups=True, random_state=0
)
X_test, y_test, g_test = make_group_shift(
    10_000, minority_fraction=0.1, return_groups=True, random_state=1
)
plain = LogisticRegression(C=0.1).fit(X_train, y_train)
robust = MinimaxLogisticRegression("group", rho=20.0, C=0.1).fit(X_train, y_train, groups=g_train)
rows = {
    "LogisticRegression(C=0.1)": report(plain, X_test, y_test, g_test),
    'Minimax, "group", rho=20, C=0.1': report(robust, X_test, y_test, g_test),
}
print(f"{'model':32s}" + "".join(f"{k:>12s}" for k in next(iter(rows.values()))))
for name, row in rows.items():
    print(f"{name:32s}" + "".join(f"{v:12.3f}" for v in row.values()))
print(
    "adversary's group weights (majority, minority):",
    np.round(robust.adversary_weights_, 3),
    "against the groups' shares (0.9, 0.1)",
)

# %%
# Worst-group accuracy rises from about 0.70 to 0.78 at equal overall accuracy: the adversary
# moved weight from the majority to the minority, well beyond its 10% share, and the
# classifier had to fit the minority's rule. The pictures show the two groups with both
# decision boundaries (the group indicator shifts and tilts the boundary for the minority).

fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharex=True, sharey=True)
for ax, k, title in zip(
    axes, (0, 1), ("majority: label follows feature 0", "minority: label follows feature 1")
):
    sel = g_train == k
    ax.scatter(X_train[sel, 0], X_train[sel, 1], c=y_train[sel], cmap="coolwarm", s=10, alpha=0.7)
    xx = np.linspace(-3, 3, 2)
    for model, style, name in (
        (plain, "k--", "LogisticRegression"),
        (robust, "k-", 'Minimax "group"'),
    ):
        w, b = model.coef_[0], model.intercept_[0]
        # decision function in the plane of this group: the indicator columns are k and k * x1
        w0, w1, b_k = w[0], w[1] + k * w[3], b + k * w[2]
        ax.plot(xx, -(w0 * xx + b_k) / w1, style, label=name)
    ax.set(
        title=f"{title}, weight {robust.adversary_weights_[k]:.2f}",
        xlabel="feature 0",
        xlim=(-3, 3),
        ylim=(-3, 3),
    )
axes[0].set_ylabel("feature 1")
axes[1].legend(loc="lower right")
fig.tight_layout()

# %%
# How strong should the adversary be?
# -----------------------------------
# ``rho`` is the adversary's budget: at ``rho=0`` the model is plain logistic regression, and
# as ``rho`` grows the group objective moves from the average of the groups' losses towards
# the largest one. Sweeping it shows the trade-off.

rhos = [0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]
sweep = []
for rho in rhos:
    model = MinimaxLogisticRegression("group", rho=rho, C=0.1).fit(X_train, y_train, groups=g_train)
    row = report(model, X_test, y_test, g_test)
    row["minority weight"] = model.adversary_weights_[1] if rho > 0 else 0.1
    sweep.append(row)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
x_axis = np.array(rhos) + 0.1
for key, style in (("accuracy", "o-"), ("majority", "s--"), ("minority", "^-")):
    ax1.plot(x_axis, [row[key] for row in sweep], style, label=key)
ax1.set(xscale="log", xlabel="rho (+0.1)", ylabel="test accuracy", title="accuracy per group")
ax1.legend()
ax2.plot(x_axis, [row["minority weight"] for row in sweep], "o-", color="C2")
ax2.axhline(0.1, color="k", lw=0.5, ls=":")
ax2.set(
    xscale="log",
    xlabel="rho (+0.1)",
    ylabel="adversary's weight on the minority",
    title="the adversary's strategy",
    ylim=(0, 1),
)
fig.tight_layout()

# %%
# Conclusion
# ----------
# The adversary buys robustness where the data say it is needed: a few points of worst-group
# accuracy for free on a group shift, and no loss of clean accuracy under label noise at a
# moderate ``rho``. It does not clean noisy labels. ``rho`` is a hyper-parameter like ``C``;
# :ref:`sphx_glr_auto_examples_linear_model_plot_tuning_rho.py` tunes both with
# :class:`~sklearn.model_selection.GridSearchCV`.
