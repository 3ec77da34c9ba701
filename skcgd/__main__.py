"""``python -m skcgd``: the demo.

``python -m skcgd [--dataset NAME] [--seed N]`` fits skcgd's estimators and their scikit-learn
counterparts on one dataset and prints a table (accuracy, worst-group accuracy, log-loss, fit
time, and the first-call compilation of the Numba kernels each fit needs). ``python -m skcgd
games`` plays CGD against GDA, extragradient and optimistic GDA on a bilinear game.
``python -m skcgd warm-up`` compiles every kernel now, in parallel (:func:`skcgd.utils.warm_up`).

The demos compile only the kernels their fits use, each just before the row that needs it
(an untimed fit on a few rows), so the fit times compare like with like and the first rows
print within seconds even in a fresh environment.
"""

import argparse
import sys
import time
import warnings

import numpy as np

from skcgd.datasets import make_group_shift

DATASETS = ("breast_cancer", "wine", "digits", "group_shift")


# -- the estimator table ---------------------------------------------------------------------
def load_dataset(name, seed):
    """Train and test split of a demo dataset, with the groups used for worst-group accuracy.

    Returns ``(X_train, X_test, y_train, y_test, g_train, g_test, description)``. For the
    bundled scikit-learn datasets the groups are the classes (worst-group accuracy is then the
    worst per-class accuracy); ``group_shift`` (:func:`skcgd.datasets.make_group_shift`) has
    a real minority group: its training set is drawn with ``random_state=seed``, its test set
    with ``seed + 1``.
    """
    if name == "group_shift":
        X, y, g = make_group_shift(
            1000, minority_fraction=0.1, return_groups=True, random_state=seed
        )
        Xt, yt, gt = make_group_shift(
            10_000, minority_fraction=0.1, return_groups=True, random_state=seed + 1
        )
        text = (
            "group_shift: synthetic, a 10% minority group whose label follows another "
            f"feature; {len(y)} training and {len(yt)} test samples, seed {seed}. "
            "Worst group = the worse of majority and minority."
        )
        return X, Xt, y, yt, g, gt, text
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=seed
    )
    text = (
        f"{name} (scikit-learn, bundled): {X.shape[0]} samples, {X.shape[1]} features, "
        f"{len(np.unique(y))} classes; stratified 70/30 split, seed {seed}. "
        "Groups = classes, so worst-group accuracy is the worst per-class accuracy."
    )
    return X_train, X_test, y_train, y_test, y_train, y_test, text


def _models(dataset, seed):
    """``(name, estimator, fit needs groups)`` for the table; stacking when it is available."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skcgd.linear_model import MinimaxLogisticRegression
    from skcgd.naive_bayes import GaussianNaiveBayes

    C, rho_group = (0.1, 20.0) if dataset == "group_shift" else (1.0, 5.0)

    def scaled(estimator):
        # the bundled datasets' features differ in scale by orders of magnitude; group_shift's
        # are standard normal already (and its regularisation is tuned for them as they are)
        if dataset == "group_shift":
            return estimator
        return make_pipeline(StandardScaler(), estimator)

    models = [
        (
            f"LogisticRegression (sklearn), C={C:g}",
            scaled(LogisticRegression(C=C, max_iter=1000)),
            False,
        ),
        (
            f'MinimaxLogisticRegression "chi2", rho=0.5, C={C:g}',
            scaled(MinimaxLogisticRegression("chi2", rho=0.5, C=C)),
            False,
        ),
        (
            f'MinimaxLogisticRegression "group", rho={rho_group:g}, C={C:g}',
            scaled(MinimaxLogisticRegression("group", rho=rho_group, C=C)),
            True,
        ),
        ('GaussianNaiveBayes var_mode="class"', GaussianNaiveBayes("class"), False),
        ('GaussianNaiveBayes var_mode="shared"', GaussianNaiveBayes("shared"), False),
    ]
    stacking = _ridge_stacking(seed)
    if stacking is not None:
        models.append(stacking)
    return models


def _ridge_stacking(seed):
    """RidgeStackingClassifier over a few base models, if skcgd.ensemble provides it."""
    try:
        from skcgd.ensemble import RidgeStackingClassifier
    except ImportError:
        return None
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    from skcgd.naive_bayes import GaussianNaiveBayes

    base = [
        ("logistic", make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))),
        ("nb_class", GaussianNaiveBayes("class")),
        ("nb_shared", GaussianNaiveBayes("shared")),
        ("knn", make_pipeline(StandardScaler(), KNeighborsClassifier(15))),
        ("tree", DecisionTreeClassifier(max_depth=5, random_state=seed)),
    ]
    return ("RidgeStackingClassifier (5 base models)", RidgeStackingClassifier(base), False)


def _worst_group_accuracy(y, pred, groups):
    return min(float(np.mean(pred[groups == k] == y[groups == k])) for k in np.unique(groups))


def _fit_params(model, needs_groups, g):
    if not needs_groups:
        return {}
    # a Pipeline passes "<step>__<param>" to that step's fit
    key = f"{model.steps[-1][0]}__groups" if hasattr(model, "steps") else "groups"
    return {key: g}


def _compile_first(model, needs_groups, X, y, g):
    """Seconds spent compiling kernels in an untimed fit of a clone on a few rows per class
    and group: the same kernels as the real fit (same dtype, layout and task)."""
    from sklearn.base import clone

    from skcgd._numba import compile_stats

    _, before = compile_stats()
    rows = np.concatenate(
        [np.flatnonzero((y == c) & (g == k))[:20] for c in np.unique(y) for k in np.unique(g)]
    )
    try:
        clone(model).fit(X[rows], y[rows], **_fit_params(model, needs_groups, g[rows]))
    except ValueError:  # too few rows for this model: its timed fit compiles instead
        pass
    return compile_stats()[1] - before


def _fit_and_score(model, needs_groups, X, y, g, Xt, yt, gt, classes):
    """``(accuracy, worst-group accuracy, log-loss, fit seconds, compile seconds)``."""
    from sklearn.metrics import log_loss

    from skcgd._numba import compile_stats

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the table reports what matters
        compiling = _compile_first(model, needs_groups, X, y, g)
        _, before = compile_stats()
        t0 = time.perf_counter()
        model.fit(X, y, **_fit_params(model, needs_groups, g))
        fit_time = time.perf_counter() - t0
        pred = model.predict(Xt)
        proba = model.predict_proba(Xt)
        compiling += compile_stats()[1] - before
    return (
        float(np.mean(pred == yt)),
        _worst_group_accuracy(yt, pred, gt),
        float(log_loss(yt, proba, labels=classes)),
        fit_time,
        compiling,
    )


def estimator_table(args, out=None):
    """Fit every model of the demo on ``args.dataset``, print the table to ``out`` (stdout)."""
    from threadpoolctl import threadpool_limits

    import skcgd
    from skcgd._numba import compile_stats

    out = sys.stdout if out is None else out
    X, Xt, y, yt, g, gt, text = load_dataset(args.dataset, args.seed)
    classes = np.unique(y)
    print(
        f"skcgd {skcgd.__version__} demo. Dataset {text} BLAS threads: {args.blas_threads}.\n",
        file=out,
    )
    header = (
        f"{'model':52s} {'accuracy':>8s} {'worst-group':>11s} {'log-loss':>8s} {'fit time':>9s}"
        f" {'compile':>8s}"
    )
    print(header, file=out, flush=True)
    print("-" * len(header), file=out, flush=True)
    rows = {}
    # Small data: a second BLAS thread only adds synchronisation (on a busy two-core machine it
    # made scipy's L-BFGS-B, inside LogisticRegression and stacking, ~20x slower).
    with threadpool_limits(limits=args.blas_threads):
        for name, model, needs_groups in _models(args.dataset, args.seed):
            rows[name] = _fit_and_score(model, needs_groups, X, y, g, Xt, yt, gt, classes)
            row = rows[name]
            compiled = f"{row[4]:7.1f}s" if row[4] > 0 else f"{'-':>8s}"
            print(
                f"{name:52s} {row[0]:8.3f} {row[1]:11.3f} {row[2]:8.3f} {row[3]:8.3f}s {compiled}",
                file=out,
                flush=True,
            )
    if not any(name.startswith("RidgeStacking") for name in rows):
        print("(RidgeStackingClassifier: not in this version of skcgd.ensemble)", file=out)
    count, seconds = compile_stats()
    if count:
        note = (
            f"First use in this environment: {count} Numba kernel specialisations compiled in "
            f"{seconds:.1f} s (the compile column, outside the fit times); they are cached, "
            "so later runs load them in milliseconds."
        )
    else:
        note = (
            "Numba kernels loaded from the disk cache (compiled by an earlier run): nothing "
            "was compiled."
        )
    print(f"\n{note}", file=out)
    others = ", ".join(d for d in DATASETS if d != args.dataset)
    print(f"Other datasets: --dataset {{{others}}}. The game demo: python -m skcgd games", file=out)
    return rows


# -- the game demo ---------------------------------------------------------------------------
def _bilinear_demo(args):
    from skcgd._numba import compile_stats
    from skcgd.exceptions import ConvergenceWarning, DivergenceError
    from skcgd.games import BilinearGame
    from skcgd.solvers import CGD, GDA, ExtraGradient, OptimisticGDA

    rng = np.random.default_rng(args.seed)
    A = rng.standard_normal((args.size, args.size)) / 10
    x0, y0 = rng.standard_normal(args.size), rng.standard_normal(args.size)
    game = BilinearGame(A)
    sigma = np.linalg.svd(A, compute_uv=False)
    print(
        f"Bilinear game min_x max_y x^T A y, A = N(0, 1/100) of size {args.size}x{args.size} "
        f"(singular values {sigma[-1]:.2e} .. {sigma[0]:.2f}), seed {args.seed}."
    )
    print(
        f"Stop at gradient norm <= {args.tol:g} or {args.max_iter} steps. The first-order "
        "methods use a step near their stability limit 1/sigma_max; CGD has none.\n"
    )
    eta_fo = 0.5 / sigma[0]
    solvers = [
        ("CGD", CGD(eta=args.eta, tol=args.tol, max_iter=args.max_iter), args.eta),
        ("GDA", GDA(eta=eta_fo, tol=args.tol, max_iter=args.max_iter), eta_fo),
        ("ExtraGradient", ExtraGradient(eta=eta_fo, tol=args.tol, max_iter=args.max_iter), eta_fo),
        (
            "OptimisticGDA",
            OptimisticGDA(eta=eta_fo / 2, tol=args.tol, max_iter=args.max_iter),
            eta_fo / 2,
        ),
    ]
    header = (
        f"{'solver':14s} {'eta':>8s} {'steps':>7s} {'|grad| final':>13s} "
        f"{'status':>12s} {'time':>9s}"
    )
    print(header)
    print("-" * len(header))
    # compile what the solvers use (only CGD has kernels) on a small game, outside the
    # timings (above 8 variables CGD solves its systems by CG, as on the real game)
    small = BilinearGame(np.eye(10))
    for _, solver, _ in solvers:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                type(solver)(eta=0.1, max_iter=2).run(small, np.ones(10), np.ones(10))
            except DivergenceError:
                pass
    compile_count, compile_time = compile_stats()
    for name, solver, eta in solvers:
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            try:
                res = solver.run(game, x0, y0)
                steps, final = res.n_iter, res.history["grad_norm"][-1]
                status = "converged" if res.converged else "not yet"
            except DivergenceError as exc:
                steps, final, status = exc.n_iter, np.inf, "diverged"
        elapsed = time.perf_counter() - t0
        print(f"{name:14s} {eta:8.3g} {steps:7d} {final:13.3e} {status:>12s} {elapsed:8.3f}s")
    if compile_count:
        print(
            f"\nFirst use in this environment: {compile_count} Numba kernel specialisations "
            f"compiled in {compile_time:.1f} s before the timings; they are cached, so later "
            "runs load them in milliseconds."
        )
    return 0


# -- compile everything ----------------------------------------------------------------------
def _warm_up_command(args):
    from numba.core.caching import Cache

    from skcgd._numba import registered_kernels
    from skcgd.utils import warm_up

    t0 = time.perf_counter()
    warm_up(n_jobs=args.jobs, progress=args.progress)
    caches = {
        k._cache.cache_path for k in registered_kernels().values() if isinstance(k._cache, Cache)
    }
    where = f"cached in {', '.join(sorted(caches))}" if caches else "not cached (no disk cache)"
    print(
        f"skcgd's Numba kernels are compiled and {where} ({time.perf_counter() - t0:.1f} s); "
        "later processes load them."
    )
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m skcgd",
        description="skcgd demo. Without a command: fit minimax logistic regression, "
        "scikit-learn's logistic regression, Gaussian naive Bayes (both variance "
        "modes) and ridge stacking on one dataset and print accuracy, worst-group "
        "accuracy, log-loss and fit time. 'games': competitive gradient descent "
        "against GDA, extragradient and optimistic GDA on a bilinear game.",
    )
    parser.add_argument(
        "--dataset",
        choices=DATASETS,
        default="breast_cancer",
        help="bundled scikit-learn dataset, or group_shift: a synthetic task "
        "with a shifted minority group, skcgd.datasets.make_group_shift (default: breast_cancer)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed of the split (0)")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="BLAS threads during the fits (1: the datasets are small)",
    )
    commands = parser.add_subparsers(dest="command", metavar="{games,warm-up}")
    games = commands.add_parser(
        "games",
        help="CGD against GDA, extragradient and optimistic GDA on a bilinear game",
        description="Play CGD against GDA, extragradient and optimistic GDA on a random "
        "bilinear game min_x max_y x^T A y and print a table.",
    )
    games.add_argument("--size", type=int, default=100, help="players' dimension (100)")
    games.add_argument("--eta", type=float, default=100.0, help="CGD step size (100)")
    games.add_argument("--tol", type=float, default=1e-6, help="gradient-norm tolerance")
    games.add_argument("--max-iter", type=int, default=2000, help="maximum steps (2000)")
    games.add_argument("--seed", type=int, default=0, help="random seed (0)")
    warm = commands.add_parser(
        "warm-up",
        help="compile every Numba kernel now, in parallel (once per environment)",
        description="Compile all of skcgd's Numba kernels into the disk cache, in worker "
        "processes (one per core), with a progress bar on a terminal: later processes load "
        "them instead of compiling on first use.",
    )
    warm.add_argument("--jobs", type=int, default=None, help="worker processes (one per core)")
    bar = warm.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None)
    bar.add_argument("--no-progress", dest="progress", action="store_false")
    args = parser.parse_args(argv)
    if args.command is None and args.blas_threads < 1:
        parser.error("--blas-threads must be >= 1")
    if args.command == "warm-up":
        if args.jobs is not None and args.jobs < 1:
            warm.error("--jobs must be >= 1")
        return _warm_up_command(args)
    if args.command == "games":
        if args.size < 1 or args.eta <= 0 or args.max_iter < 1:
            games.error("--size and --max-iter must be >= 1 and --eta > 0")
        return _bilinear_demo(args)
    estimator_table(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
