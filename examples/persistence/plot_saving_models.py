"""
=====================================================================
Saving and loading models safely with skops
=====================================================================

A fitted skcgd estimator is a plain scikit-learn object: ``pickle`` and ``joblib`` save and
load it, and the loaded model predicts bit for bit as the original. But loading a pickle
runs whatever code the file tells it to run, so a pickle from someone you do not trust is a
program you have not read. ``skops.io`` saves the same models in a format that loads only
the types you allow. This example shows the difference, saves a pipeline with skops, reviews
what it asks you to trust, and then checks every estimator that
:func:`skcgd.utils.all_estimators` lists. (``pip install skops``; the ``doc`` and ``test``
extras include it.)
"""

# %%
# Why not just pickle
# -------------------
# Unpickling calls functions named in the file. A few bytes are enough to make
# ``pickle.loads`` call ``print``, or anything else that is importable:

import pickle


class Payload:
    def __reduce__(self):
        return print, ("this line was printed by pickle.loads: it could have been anything",)


untrusted_bytes = pickle.dumps(Payload())
pickle.loads(untrusted_bytes)

# %%
# ``joblib.load`` unpickles too. Use pickle and joblib for files you wrote yourself; for a
# file that crossed a trust boundary (downloaded, shared, uploaded), use skops.
#
# A model saved with skops
# ------------------------
# :func:`skops.io.dump` writes a model; :func:`skops.io.get_untrusted_types` lists the types
# in a file that skops does not trust by default. NumPy, SciPy and scikit-learn types are
# trusted (the pipeline and the scaler below); skcgd's are not, so the list holds exactly
# the skcgd classes in the model. Review it, then pass it to :func:`skops.io.load` as
# ``trusted``.

import os
import tempfile

import numpy as np
import skops.io as sio
from sklearn.datasets import load_breast_cancer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skcgd.linear_model import MinimaxLogisticRegression

X, y = load_breast_cancer(return_X_y=True)
model = make_pipeline(StandardScaler(), MinimaxLogisticRegression("kl", rho=0.5)).fit(X, y)

path = os.path.join(tempfile.mkdtemp(), "model.skops")
sio.dump(model, path)
unknown = sio.get_untrusted_types(file=path)
print("skops asks to trust:", unknown)
assert all(name.startswith("skcgd.") for name in unknown)  # nothing but skcgd's own types
loaded = sio.load(path, trusted=unknown)
print("identical probabilities:", np.array_equal(loaded.predict_proba(X), model.predict_proba(X)))

# %%
# Loading without ``trusted`` refuses the file and names the types it would need:

try:
    sio.load(path)
except sio.exceptions.UntrustedTypesFoundException as exc:
    print(type(exc).__name__, exc)
os.remove(path)
os.rmdir(os.path.dirname(path))

# %%
# Every skcgd estimator
# ---------------------
# :func:`~skcgd.utils.all_estimators` lists skcgd's public estimators, which makes it easy to
# check a deployment path once for all of them. The stacking estimators need base models
# (two of skcgd's own, for the classifier); the meta-learners take a matrix of base-model
# predictions, for which noisy copies of the target stand in.

from sklearn.base import is_classifier
from sklearn.linear_model import Ridge

from skcgd.naive_bayes import GaussianNaiveBayes
from skcgd.utils import all_estimators

rng = np.random.default_rng(0)
X_clf, y_clf = X[:300], y[:300]
y_reg = rng.standard_normal(300)
X_reg = y_reg[:, None] + rng.uniform(0.2, 1.0, 4) * rng.standard_normal((300, 4))
base_models = {
    "RidgeStackingClassifier": [
        ("minimax", make_pipeline(StandardScaler(), MinimaxLogisticRegression())),
        ("nb", GaussianNaiveBayes()),
    ],
    "RidgeStackingRegressor": [("ridge", Ridge(1.0)), ("ridge_strong", Ridge(100.0))],
}

print(f"{'estimator':26s} {'identical':>9s}  types to trust")
for name, cls in all_estimators():
    estimator = cls(base_models[name], cv=3) if name in base_models else cls()
    X_fit, y_fit = (X_clf, y_clf) if is_classifier(estimator) else (X_reg, y_reg)
    estimator.fit(X_fit, y_fit)
    data = sio.dumps(estimator)
    unknown = sio.get_untrusted_types(data=data)
    assert all(t.startswith("skcgd.") for t in unknown), unknown
    restored = sio.loads(data, trusted=unknown)
    method = "predict_proba" if hasattr(estimator, "predict_proba") else "predict"
    identical = np.array_equal(getattr(restored, method)(X_fit), getattr(estimator, method)(X_fit))
    short = ", ".join(t.rsplit(".", 1)[1] for t in unknown)
    print(f"{name:26s} {str(identical):>9s}  {short}")

# %%
# Conclusion
# ----------
# Every skcgd estimator saves and loads with skops, predicts identically after the round
# trip, and asks you to trust nothing but skcgd's own classes (the full names are in
# ``get_untrusted_types``; some are private helpers, such as the stacking classifier's
# meta-model). Trust them by name after reviewing the list, never wholesale, and keep pickle
# and joblib for files you made yourself. See :ref:`persistence` in the user guide.
