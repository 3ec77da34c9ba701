"""
=====================================================
Stacking classifiers on out-of-fold log-odds
=====================================================

:class:`~skcgd.ensemble.RidgeStackingClassifier` turns the out-of-fold class probabilities of
several base classifiers into log-odds, fits ridge-penalised logistic meta-models on them and
blends the meta-models by their inverse out-of-fold log-loss. This example stacks a logistic
regression, both Gaussian naive Bayes variants of :class:`~skcgd.naive_bayes.GaussianNaiveBayes`
and a shallow tree on a bundled dataset, and compares the test log-loss and accuracy of the
stack with each base model alone. It then reads the stack's meta stage, a
:class:`~skcgd.ensemble.RegularizedMetaClassifier`, and refits it on the out-of-fold log-odds
alone with other settings, without refitting a single base model.
"""

# %%
# Base models and the stack
# -------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from skcgd.ensemble import RidgeStackingClassifier
from skcgd.naive_bayes import GaussianNaiveBayes

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
base = [
    ("logistic", make_pipeline(StandardScaler(), LogisticRegression(C=0.1))),
    ("nb_class", GaussianNaiveBayes("class")),
    ("nb_shared", GaussianNaiveBayes("shared")),
    ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
]
stack = RidgeStackingClassifier(base, cv=5).fit(X_train, y_train)

# %%
# Test scores
# -----------
# Each base model is refitted on all training rows by the stack; the stack itself predicts
# from their log-odds.
names, losses, accuracies = [], [], []
for name, model in stack.named_estimators_.items():
    proba = model.predict_proba(X_test)
    names.append(name)
    losses.append(log_loss(y_test, np.clip(proba, 1e-15, 1)))
    accuracies.append(accuracy_score(y_test, model.predict(X_test)))
names.append("stack")
losses.append(log_loss(y_test, stack.predict_proba(X_test)))
accuracies.append(accuracy_score(y_test, stack.predict(X_test)))
for name, loss, acc in zip(names, losses, accuracies):
    print(f"{name:10s} test log-loss {loss:.3f}  accuracy {acc:.3f}")

fig, ax = plt.subplots(figsize=(6, 3))
ax.barh(names, losses, color=["C0"] * (len(names) - 1) + ["C3"])
ax.set_xlabel("test log-loss (lower is better)")
ax.set_title("Stacked classifiers on breast_cancer")
fig.tight_layout()

# %%
# The meta stage on its own
# -------------------------
# The meta stage is a :class:`~skcgd.ensemble.RegularizedMetaClassifier` built from the stack's
# parameters. It records which base models it kept and why it dropped any (here none: the
# four disagree enough), the ``C`` its inner cross-validation chose and the out-of-fold
# log-loss of its meta-model. It takes a matrix of out-of-fold log-odds as its
# ``X`` (here followed by the base models' probabilities, as extra columns: ``n_predictions``
# says where the log-odds end): fitted on the stack's ``oof_predictions_`` it is the stack's
# meta stage, and other
# settings can be compared on that matrix by their out-of-fold log-loss (the honest score:
# ``C`` is chosen inside every outer fold) without refitting the base models.
from skcgd.ensemble import RegularizedMetaClassifier

meta = stack.final_estimator_
base_names = list(stack.named_estimators_)
print("kept base models:", [base_names[j] for j in meta.kept_columns_])
print("dropped:", [(d["name"], d["reason"]) for d in meta.dropped_columns_])
print("C chosen:", meta.C_, " out-of-fold log-loss:", meta.meta_oof_log_loss_.round(4))

L_train, L_test = stack.oof_predictions_, stack.transform(X_test)
settings = {
    "defaults": {},
    "no pruning": {"corr_threshold": None},
    "no meta-features": {"meta_features": False},
    "wider grid of C": {"Cs": np.logspace(-3, 3, 13)},
}
for name, params in settings.items():
    variant = RegularizedMetaClassifier(n_predictions=meta.n_predictions, **params)
    variant.fit(L_train, y_train)
    test_loss = log_loss(y_test, variant.predict_proba(L_test))
    print(
        f"{name:17s} out-of-fold log-loss {variant.meta_oof_log_loss_.min():.4f}, "
        f"test log-loss {test_loss:.4f}"
    )

# %%
# Conclusion
# ----------
# Without being told which base model is good, the stack lands close to the best one (the
# regularised logistic regression) and far below the poorly calibrated ones (the tree, naive
# Bayes): the meta-models weigh the base models from out-of-fold evidence, so overconfident
# models are discounted rather than averaged in. On a dataset this small it does not beat the
# best single model; its value is not having to know in advance which model that is. The
# meta stage is an estimator of its own, so its settings can be compared on the out-of-fold
# log-odds at the cost of the meta-models' fits only, by their out-of-fold log-loss.
