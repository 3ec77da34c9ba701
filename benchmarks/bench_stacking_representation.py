"""What the classifier stack gives its meta stage: log-odds, or log-odds and probabilities.

Issue 14, item 7: stacking only the log-odds of the base models' probabilities makes
``RidgeStackingClassifier`` fragile to an overconfident base model (Gaussian naive Bayes: its
wrong rows reach the clipping bound ``logit(1e-6) = -13.8``, where they outweigh every other
model). This script compares, on scikit-learn's ``load_digits`` and ``load_wine``, over seeded
stratified 75/25 splits (``random_state=seed``), the test accuracy and log-loss (means over the
seeds) of

* ``sklearn``: scikit-learn's ``StackingClassifier`` with its defaults (LogisticRegression on
  the probabilities, 5-fold stratified out-of-fold outputs);
* ``ours, log-odds (before)``: ``RidgeStackingClassifier(stack_representation="log_odds")``,
  the behaviour before the fix;
* ``ours, both (after)``: ``RidgeStackingClassifier()``, whose default meta stage gets the
  log-odds and then the probabilities (``stack_representation="both"``),

all with the same base models (Gaussian naive Bayes, 10 nearest neighbours and logistic
regression on standardised features, a random forest of 100 trees) and the same 5 unshuffled
stratified folds. ``--stages paper`` fits our meta stage with the seed paper's fixed stages
instead of the stages chosen by nested cross-validation (the default, ``auto``).

Run: ``python benchmarks/bench_stacking_representation.py`` (5 seeds on digits, 10 on wine:
about 15 minutes on 2 shared cores, most of it in our meta stage on digits' 10 classes);
``--quick`` runs 2 seeds of digits and 5 of wine.
"""

import argparse
import time
import warnings

import numpy as np
from _common import machine
from sklearn.datasets import load_digits, load_wine
from sklearn.ensemble import RandomForestClassifier, StackingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skcgd.ensemble import RidgeStackingClassifier

DATASETS = {"digits": load_digits, "wine": load_wine}


def base_models():
    return [
        ("nb", GaussianNB()),
        ("knn", make_pipeline(StandardScaler(), KNeighborsClassifier(10))),
        ("rf", RandomForestClassifier(100, random_state=0)),
        ("lr", make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))),
    ]


def stackers(stages):
    cv = StratifiedKFold(5)
    return {
        "sklearn StackingClassifier": StackingClassifier(base_models(), cv=cv),
        "ours, log-odds (before)": RidgeStackingClassifier(
            base_models(), cv=cv, stack_representation="log_odds", stages=stages
        ),
        "ours, both (after)": RidgeStackingClassifier(base_models(), cv=cv, stages=stages),
    }


def run(name, seeds, stages):
    X, y = DATASETS[name](return_X_y=True)
    scores = {}
    for seed in range(seeds):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, stratify=y, test_size=0.25, random_state=seed
        )
        for label, stacker in stackers(stages).items():
            t0 = time.perf_counter()
            proba = stacker.fit(X_train, y_train).predict_proba(X_test)
            seconds = time.perf_counter() - t0
            pred = stacker.classes_[np.argmax(proba, axis=1)]
            scores.setdefault(label, []).append(
                (
                    accuracy_score(y_test, pred),
                    log_loss(y_test, proba, labels=stacker.classes_),
                    seconds,
                )
            )
        print(f"  {name} seed {seed} done", flush=True)
    return scores


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds of digits, 5 of wine")
    parser.add_argument("--stages", choices=("auto", "paper"), default="auto")
    args = parser.parse_args()
    seeds = {"digits": 2, "wine": 5} if args.quick else {"digits": 5, "wine": 10}
    print(machine())
    print(f"our meta stage: stages={args.stages!r}")
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    table = []
    for name, n_seeds in seeds.items():
        for label, rows in run(name, n_seeds, args.stages).items():
            acc, loss, seconds = np.mean(rows, axis=0)
            table.append((name, n_seeds, label, acc, loss, seconds))
    print()
    head = ("data", "seeds", "stacker", "accuracy", "log-loss", "fit s")
    print("{:8s} {:>5s}  {:28s} {:>9s} {:>9s} {:>7s}".format(*head))
    for name, n_seeds, label, acc, loss, seconds in table:
        print(f"{name:8s} {n_seeds:5d}  {label:28s} {acc:9.4f} {loss:9.4f} {seconds:7.1f}")


if __name__ == "__main__":
    main()
