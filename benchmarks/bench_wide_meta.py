"""RegularizedMetaLearner on wide inputs (more base models than rows) against ElasticNetCV.

Issue 14, item 2: before it, a fit on 20 rows x 1000 prediction columns took 86 s (an
``O(p^2)`` Python loop in the redundancy pass, a ``p x p`` factorization per fold) and
50 x 5000 more than 300 s; the goal is to stay within 3x of scikit-learn's ``ElasticNetCV``
on the same rows and folds. Inputs are synthetic out-of-fold predictions: ``y`` plus errors
that the models share (three factors) and errors of their own, so the columns correlate as
stacked predictions do.

Candidates, interleaved (A B C A B C ...), medians of ``--repeats`` runs after a warm-up,
one BLAS thread each (the machine is shared):

* ``RegularizedMetaLearner()``: the default, all four stages with the stages chosen by
  nested CV (``stages="auto"``): outer 5-fold, ridge + Lasso + elastic net (6 l1 ratios, 30
  alphas down to 1e-5 alpha_max) with 5-fold inner CV in every fit (exact leave-one-out
  for ridge);
* ``RegularizedMetaLearner(stages="paper")``: the fixed pipeline (one design);
* ``ElasticNetCV(cv=KFold(5))``: scikit-learn's defaults (l1_ratio 0.5, 100 alphas down to
  1e-3 alpha_max), the reference of the issue;
* ``ElasticNetCV`` on the meta-learner's own elastic-net grid (its 6 l1 ratios, 30 alphas
  down to 1e-5 alpha_max), ``KFold(5)``: one of the meta-learner's three models, once.

``ratio`` is the candidate's time over the default ``ElasticNetCV``'s (the goal: <= 3).

Run: ``python benchmarks/bench_wide_meta.py`` (about 2 minutes at load 1; ``--repeats``).
"""

import argparse
import warnings

import numpy as np
from _common import machine, round_robin
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNetCV
from sklearn.model_selection import KFold
from threadpoolctl import threadpool_limits

from skcgd.ensemble import RegularizedMetaLearner
from skcgd.utils import warm_up

SHAPES = ((20, 1000), (50, 5000), (200, 2000))
L1_RATIOS = (0.1, 0.5, 0.7, 0.9, 0.95, 0.99)


def oof_predictions(n, p, seed=0):
    """``p`` columns of out-of-fold-like predictions of ``y`` (shared and own errors)."""
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    shared = rng.normal(size=(n, 3)) @ rng.uniform(0.1, 0.4, size=(3, p))
    own = rng.normal(size=(n, p)) * rng.uniform(0.2, 1.0, size=p)
    return y[:, None] + shared + own, y


def candidates(P, y):
    cv = KFold(5)
    return {
        "RegularizedMetaLearner()": lambda: RegularizedMetaLearner().fit(P, y),
        'RegularizedMetaLearner(stages="paper")': lambda: RegularizedMetaLearner(
            stages="paper"
        ).fit(P, y),
        "ElasticNetCV(cv=KFold(5))": lambda: ElasticNetCV(cv=cv).fit(P, y),
        "ElasticNetCV, the meta-learner's grid": lambda: ElasticNetCV(
            l1_ratio=list(L1_RATIOS), alphas=30, eps=1e-5, cv=cv
        ).fit(P, y),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    # ElasticNetCV's coordinate descent stops at max_iter=1000 before its tol on some of the
    # smallest penalties of these designs; its defaults are the reference, so it runs as is
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    print(machine())
    warm_up()
    P, y = oof_predictions(30, 200)
    RegularizedMetaLearner().fit(P, y)  # the rows kernels, compiled or loaded
    print(
        f"\n{'shape':>11s} {'candidate':40s} {'median s':>9s} {'best s':>8s} "
        f"{'/ ENetCV':>9s} {'kept':>6s} {'solver':>7s}"
    )
    with threadpool_limits(1):
        for n, p in SHAPES:
            P, y = oof_predictions(n, p)
            timed = round_robin(candidates(P, y), args.repeats)
            base = timed["ElasticNetCV(cv=KFold(5))"][0]
            for name, (med, best, model) in timed.items():
                kept = getattr(model, "kept_columns_", None)
                kept = "" if kept is None else str(kept.size)
                solver = getattr(model, "solver_", "")
                print(
                    f"{f'{n} x {p}':>11s} {name:40s} {med:9.2f} {best:8.2f} "
                    f"{med / base:9.2f} {kept:>6s} {solver:>7s}",
                    flush=True,
                )
    print(machine())


if __name__ == "__main__":
    main()
