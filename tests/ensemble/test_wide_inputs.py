"""The meta-learner on wide inputs (issue 14, item 2): more base models than rows.

Oracles: the pairwise redundancy pass as first written (kept verbatim below: a Python loop
over pairs of models over matrices of all pairwise correlations), scikit-learn's RidgeCV,
LassoCV and ElasticNetCV on the same folds, and the Gram (primal) path of the engine.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import ElasticNetCV, LassoCV, RidgeCV
from sklearn.model_selection import KFold

from skcgd.ensemble import _penalized_cv, _redundancy
from skcgd.ensemble._design import ArrayDesign, condition_number, condition_number_of_cov
from skcgd.ensemble._redundancy import redundancy_from_moments, weighted_moments

RTOL_RIDGE = 1e-8  # closed-form ridge (kernel eigendecomposition) against closed form
ATOL_ENET = 1e-6  # coordinate descent at tol=1e-12 against coordinate descent


def _pairwise_redundancy(
    Cp, mu_q, Cq, errors, *, n_blocks, corr_threshold, mse_threshold, var_threshold, target_var
):
    """The redundancy pass before issue 14: pairwise matrices and a loop over pairs."""
    k = Cp.shape[0] // n_blocks
    blocks = [slice(b * k, (b + 1) * k) for b in range(n_blocks)]
    diag_k = np.arange(k)
    cov_p = np.empty((n_blocks, n_blocks))
    cov_q = np.empty((n_blocks, n_blocks))
    for a, sa in enumerate(blocks):
        for b, sb in enumerate(blocks):
            cov_p[a, b] = Cp[sa, sb][diag_k, diag_k].sum()
            cov_q[a, b] = Cq[sa, sb][diag_k, diag_k].sum()
    var_p = np.diag(cov_p)
    var_q = np.diag(cov_q)
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = cov_p / np.sqrt(np.outer(var_p, var_p))
    corr = np.where(np.isfinite(corr), corr, 0.0)
    mu_blocks = mu_q.reshape(n_blocks, k)
    mean_gap = ((mu_blocks[:, None, :] - mu_blocks[None, :, :]) ** 2).sum(axis=2)
    msd = np.clip(var_q[:, None] + var_q[None, :] - 2.0 * cov_q + mean_gap, 0.0, None)
    scale = target_var if target_var > 0 else 1.0
    order = np.argsort(errors, kind="stable")
    kept, dropped = [], []
    for i in order:
        twin = None
        if corr_threshold is not None:
            for j in kept:
                if corr[i, j] >= corr_threshold and msd[i, j] <= mse_threshold * target_var:
                    twin = j
                    break
        if twin is None:
            kept.append(i)
        else:
            dropped.append(
                {
                    "column": int(i),
                    "reason": "redundant",
                    "kept_instead": int(twin),
                    "correlation": float(corr[i, twin]),
                    "relative_msd": float(msd[i, twin] / scale),
                    "relative_variance": float(var_q[i] / scale),
                }
            )
    still = []
    for i in kept:
        if var_q[i] <= var_threshold * target_var:
            dropped.append(
                {
                    "column": int(i),
                    "reason": "near_constant",
                    "kept_instead": None,
                    "correlation": np.nan,
                    "relative_msd": np.nan,
                    "relative_variance": float(var_q[i] / scale),
                }
            )
        else:
            still.append(i)
    if not still:
        best = int(order[0])
        still = [best]
        dropped = [r for r in dropped if r["column"] != best]
    return np.array(sorted(still), dtype=np.intp), dropped


def _same_records(a, b):
    assert len(a) == len(b)
    for ra, rb in zip(a, b):
        assert ra.keys() == rb.keys()
        for key in ra:
            if isinstance(ra[key], float) and np.isnan(ra[key]):
                assert np.isnan(rb[key]), key
            else:
                assert ra[key] == rb[key], (key, ra[key], rb[key])  # bit for bit


def _problems():
    """(name, P, Q, errors, k, thresholds): random and adversarial inputs of stage 1."""
    rng = np.random.default_rng(0)
    out = []
    n = 60
    y = rng.normal(size=n)
    # random predictions with planted near-twins, one model per column
    P = y[:, None] + rng.normal(size=(n, 40)) * rng.uniform(0.2, 1.0, 40)
    P[:, 20:30] = P[:, :10] + 0.02 * rng.normal(size=(n, 10))
    out.append(("random", P, P, rng.random(40), 1, (0.95, 1e-3, 1e-4)))
    # ties everywhere: exact duplicates with equal errors, a constant column, a column of
    # zeros (correlation NaN -> 0), and thresholds equal to attained values
    D = np.column_stack([P[:, 0], P[:, 0], P[:, 0], P[:, 1], np.full(n, 2.0), np.zeros(n)])
    D = np.column_stack([D, P[:, 1] + 1e-3, -P[:, 0], P[:, 2]])
    errors = np.array([1.0, 1.0, 1.0, 2.0, 0.5, 3.0, 2.0, 1.0, 2.0])
    out.append(("ties", D, D, errors, 1, (0.95, 1e-3, 1e-4)))
    _, C = weighted_moments(D, np.ones(n))
    with np.errstate(divide="ignore", invalid="ignore"):
        attained = float(C[3, 6] / np.sqrt(C[3, 3] * C[6, 6]))
    out.append(("threshold attained", D, D, errors, 1, (attained, 1e-6, 0.0)))
    out.append(("no correlation test", D, D, errors, 1, (None, 1e-3, 1e-4)))
    out.append(("all near-constant", 1e-4 * D, 1e-4 * D, errors, 1, (0.95, 1e-3, 1.0)))
    # several outputs per model (multiclass): 3 and 10 classes, P and Q distinct
    for k in (3, 10):
        L = rng.normal(size=(n, 12 * k))
        L[:, 6 * k : 9 * k] = L[:, : 3 * k] + 0.01 * rng.normal(size=(n, 3 * k))
        L[:, 9 * k : 10 * k] = L[:, :k]  # an exact twin
        Q = 1.0 / (1.0 + np.exp(-L))
        errors = rng.random(12)
        errors[9] = errors[0]  # a tie in the visiting order
        out.append((f"{k} outputs", L, Q, errors, k, (0.9, 0.5, 1e-4)))
    return out


@pytest.mark.parametrize("compiled", [True, False], ids=["kernel", "vectorised"])
@pytest.mark.parametrize("case", _problems(), ids=lambda c: c[0])
def test_redundancy_pass_equals_the_pairwise_loop(monkeypatch, case, compiled):
    # both implementations of the pass (the kernel for many models, vectorised steps for few)
    monkeypatch.setattr(_redundancy, "KERNEL_MIN_MODELS", 0 if compiled else 10**9)
    _, P, Q, errors, k, (corr, mse, var) = case
    rng = np.random.default_rng(1)
    for sw in (np.ones(P.shape[0]), rng.uniform(0.1, 2.0, P.shape[0])):
        _, Cp = weighted_moments(P, sw)
        mu_q, Cq = weighted_moments(Q, sw)
        Cq = Cp if Q is P else Cq
        kwargs = dict(
            n_blocks=P.shape[1] // k,
            corr_threshold=corr,
            mse_threshold=mse,
            var_threshold=var,
            target_var=0.7,
        )
        kept, dropped = redundancy_from_moments(Cp, mu_q, Cq, errors, **kwargs)
        ref_kept, ref_dropped = _pairwise_redundancy(Cp, mu_q, Cq, errors, **kwargs)
        assert_array_equal(kept, ref_kept)
        assert kept.dtype == ref_kept.dtype
        _same_records(dropped, ref_dropped)


def test_the_ties_case_drops_what_it_should():
    # (guards the adversarial case itself: duplicates go to the first kept twin)
    _, D, _, errors, _, (corr, mse, var) = _problems()[1]
    _, C = weighted_moments(D, np.ones(D.shape[0]))
    kept, dropped = redundancy_from_moments(
        C, D.mean(0), C, errors, n_blocks=9, corr_threshold=corr, mse_threshold=mse,
        var_threshold=var, target_var=0.7,
    )  # fmt: skip
    reasons = {r["column"]: (r["reason"], r["kept_instead"]) for r in dropped}
    assert reasons[1] == ("redundant", 0) and reasons[2] == ("redundant", 0)
    assert reasons[4] == ("near_constant", None) and reasons[5] == ("near_constant", None)
    assert reasons[6] == ("redundant", 3)  # a shifted copy, tied in error: the first visited
    assert 7 not in reasons  # anti-correlated: not a twin
    assert_array_equal(kept, [0, 3, 7, 8])


# ----------------------------------------------------------------------------- conditioning


def test_condition_numbers_of_wide_inputs_are_infinite_without_arithmetic(monkeypatch):
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(10, 30))
    sw = np.ones(10)
    sw[0] = 0.0  # rows of zero weight do not count towards the rank
    C = np.cov(Z.T)

    def forbidden(*args, **kwargs):
        raise AssertionError("factorized a singular matrix")

    monkeypatch.setattr(np.linalg, "eigvalsh", forbidden)
    assert condition_number_of_cov(C, n_rows=9) == np.inf
    assert condition_number(Z, sw) == np.inf
    assert condition_number(Z[:, :9], sw) == np.inf  # 9 columns, 9 rows of positive weight
    monkeypatch.undo()
    tall = Z[:, :5]
    assert_allclose(condition_number(tall, sw), np.linalg.cond(np.corrcoef(tall[1:].T)), rtol=1e-8)


# ----------------------------------------------------------------------------- the engine


def wide(n=40, p=70, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    P = y[:, None] + rng.normal(size=(n, p)) * rng.uniform(0.3, 1.5, p)
    return P, y


def _engine(spec, X, y, sw, splits, loo, standardize=False):
    n = X.shape[0]
    fit, ok = _penalized_cv.fit_linear_cv(
        spec,
        ArrayDesign(X),
        y - y.mean(),
        sw,
        np.arange(n),
        splits,
        standardize=standardize,
        solver="direct",
        loo=loo,
        tol=1e-12,
        max_iter=100000,
    )
    assert ok
    return fit.coef, fit.intercept + y.mean(), fit.alpha, fit.l1_ratio


@pytest.mark.parametrize("weighted", [False, True])
def test_wide_ridge_equals_ridgecv(weighted):
    # the rows path (n x n kernel) against scikit-learn's own: leave-one-out and K-fold
    P, y = wide()
    sw = np.random.default_rng(2).uniform(0.2, 3.0, y.shape[0]) if weighted else np.ones(40)
    alphas = np.logspace(-2, 4, 13)
    spec = _penalized_cv.LinearModelSpec("ridge", alphas, alphas.size, 0.0, ())
    coef, b, alpha, _ = _engine(spec, P, y, sw, [], loo=True)
    ref = RidgeCV(alphas=alphas).fit(P, y, sample_weight=sw)
    assert alpha == pytest.approx(ref.alpha_, rel=1e-12)
    assert_allclose(coef, ref.coef_, rtol=RTOL_RIDGE, atol=1e-12)
    assert b == pytest.approx(ref.intercept_, rel=RTOL_RIDGE)


def test_wide_lasso_and_elastic_net_equal_scikit_learn_cv():
    P, y = wide()
    alphas = np.logspace(-3, 0, 12)
    splits = list(KFold(4).split(P))
    common = dict(alphas=alphas, cv=KFold(4), tol=1e-12, max_iter=100000)
    spec = _penalized_cv.LinearModelSpec("lasso", alphas, alphas.size, 0.0, (1.0,))
    coef, b, alpha, _ = _engine(spec, P, y, np.ones(40), splits, loo=False)
    ref = LassoCV(**common).fit(P, y)
    assert alpha == pytest.approx(ref.alpha_, rel=1e-12)
    assert_allclose(coef, ref.coef_, atol=ATOL_ENET)
    assert b == pytest.approx(ref.intercept_, abs=ATOL_ENET)
    spec = _penalized_cv.LinearModelSpec("elasticnet", alphas, alphas.size, 0.0, (0.2, 0.7))
    coef, b, alpha, l1 = _engine(spec, P, y, np.ones(40), splits, loo=False)
    ref = ElasticNetCV(l1_ratio=[0.2, 0.7], **common).fit(P, y)
    assert (alpha, l1) == (pytest.approx(ref.alpha_, rel=1e-12), ref.l1_ratio_)
    assert_allclose(coef, ref.coef_, atol=ATOL_ENET)


@pytest.mark.parametrize("kind", ["ridge", "lasso", "elasticnet"])
@pytest.mark.parametrize("standardize", [False, True])
def test_rows_path_equals_gram_path(monkeypatch, kind, standardize):
    # the same fit, solved on the rows and from the Gram matrix (forced), weighted
    P, y = wide(n=40, p=60)
    sw = np.random.default_rng(3).uniform(0.2, 3.0, 40)
    splits = list(KFold(4).split(P))
    alphas = np.logspace(-3, 5, 20) if kind == "ridge" else None
    l1 = {"ridge": (), "lasso": (1.0,), "elasticnet": (0.3, 0.9)}[kind]
    spec = _penalized_cv.LinearModelSpec(kind, alphas, 15, 1e-3, l1)
    fits = []
    for dual in (True, False):
        monkeypatch.setattr(
            _penalized_cv, "use_dual", lambda design, n, dual=dual: dual and not design.sparse
        )
        for loo in (True, False) if kind == "ridge" else (False,):
            fits.append(_engine(spec, P, y, sw, splits, loo=loo, standardize=standardize))
    half = len(fits) // 2
    for rows, gram in zip(fits[:half], fits[half:]):
        assert rows[2] == pytest.approx(gram[2], rel=1e-12)  # the same penalty
        assert rows[3] == gram[3]
        assert_allclose(rows[0], gram[0], rtol=1e-7, atol=1e-9 * np.abs(gram[0]).max())
