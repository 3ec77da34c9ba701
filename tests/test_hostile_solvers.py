"""Hostile input for the public games, game solvers and ``conjugate_gradient`` (hypothesis).

A case ends in finite results, in a ValueError or TypeError whose message names a planted
problem, or (game solvers only) in the documented ``DivergenceError`` with its advice; never
another exception, a NaN result or a hang. The default run is derandomised; the ``slow``
marker runs many more fresh cases.
"""

import faulthandler
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.sparse.linalg import LinearOperator

from skcgd._kernels.logistic import _logistic_loss_deriv
from skcgd.exceptions import DivergenceError
from skcgd.games import (
    BilinearGame,
    Chi2LogisticGame,
    GeneralSumQuadraticGame,
    GroupKLLogisticGame,
    KLLogisticGame,
    QuadraticGame,
)
from skcgd.solvers import (
    ACGD,
    CGD,
    GDA,
    CGDOperator,
    CompetitiveMirrorDescent,
    ExtraGradient,
    GeneralSumCGD,
    OptimisticGDA,
    RowGramOperator,
    conjugate_gradient,
)

_EXAMPLES = 300
_SLOW_EXAMPLES = 3000
_HANG_SECONDS = 180
_FAST = settings(max_examples=_EXAMPLES, deadline=None, derandomize=True, database=None,
                 suppress_health_check=list(HealthCheck))
_SLOW = settings(max_examples=_SLOW_EXAMPLES, deadline=None,
                 suppress_health_check=list(HealthCheck))

_KEYWORDS = {
    "nan": ("nan",),
    "shape": ("shape", "length", "dimension", "must have", "rows", "match"),
    "eta": ("eta", "step"),
    "params": ("tol", "max_iter", "must be"),
    "domain": ("simplex", "non-negative", "interior"),
    "labels": ("label", "class", "y "),
    "groups": ("group",),
    "psd": ("semi-definite", "symmetric"),
    "empty": ("no rows", "no features", "no variables", "sample", "length", "shape"),
    "weights": ("sample_weight", "weight"),
    "scale": ("large", "small", "overflow", "rescale", "scale"),
}
_SCALES = (1.0, 1e-8, 1e8, 1e-300, 5e-324, 1e150, 1e300)


class _HangGuard:
    def __enter__(self):
        faulthandler.dump_traceback_later(_HANG_SECONDS, exit=True)

    def __exit__(self, *exc):
        faulthandler.cancel_dump_traceback_later()


def _check_message(exc, problems):
    message = str(exc).lower()
    allowed = [word for p in problems for word in _KEYWORDS[p]]
    assert problems and any(word in message for word in allowed), (
        f"{type(exc).__name__}: {exc}\nplanted problems: {sorted(problems)} (expected one of "
        f"{allowed} in the message)")


# -- logistic losses and softmax at extreme margins ----------------------------------------------
@pytest.mark.parametrize("margin", [1e4, -1e4, 1e300, -1e300, 745.0, -745.0, 0.0])
def test_binary_logistic_loss_finite_at_extreme_margins(margin):
    Z = np.array([[margin], [-margin]])
    y = np.array([1, 1])
    loss, G = np.empty(2), np.empty((2, 1))
    _logistic_loss_deriv(Z, y, loss, G)
    assert np.isfinite(loss).all() and np.isfinite(G).all()
    assert (loss >= 0).all() and (np.abs(G) <= 1).all()
    # log(1 + exp(-m)) -> -m for m -> -inf, and -> exp(-m) > 0 (not 0) for moderate m > 0
    assert loss[1] == pytest.approx(max(margin, 0.0) + np.log1p(np.exp(-abs(margin))), rel=1e-12)


@pytest.mark.parametrize("scale", [1e4, -1e4, 1e300])
def test_softmax_loss_finite_at_extreme_logits(scale):
    Z = np.array([[scale, 0.0, -scale], [0.0, scale, scale], [scale, scale, scale]])
    y = np.array([0, 2, 1])
    loss, G = np.empty(3), np.empty((3, 3))
    _logistic_loss_deriv(Z, y, loss, G)
    assert np.isfinite(loss).all() and np.isfinite(G).all()
    np.testing.assert_allclose(G.sum(axis=1), 0.0, atol=1e-12)  # softmax sums to one
    assert loss[2] == pytest.approx(np.log(3.0))


@_FAST
@given(Z=arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 4)),
                elements=st.floats(-1e300, 1e300)),
       seed=st.integers(0, 2**16))
def test_logistic_kernel_finite_for_any_finite_margins(Z, seed):
    n, K = Z.shape
    rng = np.random.default_rng(seed)
    y = rng.choice([-1, 1], n) if K == 1 else rng.integers(0, K, n)
    loss, G = np.empty(n), np.empty((n, K))
    _logistic_loss_deriv(np.ascontiguousarray(Z), y.astype(np.int64), loss, G)
    assert np.isfinite(loss).all() and (loss >= 0).all()
    assert np.isfinite(G).all() and (np.abs(G) <= 1 + 1e-12).all()


@pytest.mark.parametrize("game_cls", [Chi2LogisticGame, KLLogisticGame])
@pytest.mark.parametrize("multinomial", [False, True])
def test_logistic_games_finite_at_margins_1e4(game_cls, multinomial):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 3))
    y = rng.integers(0, 3, 30) if multinomial else rng.choice([-1, 1], 30)
    game = game_cls(X, y, multinomial=multinomial, fit_intercept=True)
    for sign in (1.0, -1.0):
        x = sign * 1e4 * np.abs(rng.standard_normal(game.n_x))  # margins of order 1e4
        yv = game.best_response(x)
        gx, gy = game.grads(x, yv)
        assert np.isfinite(game.value(x, yv))
        assert np.isfinite(gx).all() and np.isfinite(gy).all()
        assert np.isfinite(yv).all()


# -- conjugate gradient ----------------------------------------------------------------------------
def test_cg_nearly_singular_system_reports_non_convergence():
    # eigenvalues 1 and 1e-17: b has a component that the system cannot resolve in float64
    Q = np.linalg.qr(np.random.default_rng(0).standard_normal((2, 2)))[0]
    A = Q @ np.diag([1.0, 1e-17]) @ Q.T
    A = 0.5 * (A + A.T)
    b = Q @ np.array([1.0, 1.0])
    x, n_iter, converged = conjugate_gradient(A, b, tol=1e-10, max_iter=200)
    residual = np.linalg.norm(A @ x - b)
    assert not converged or residual <= 1e-10 * np.linalg.norm(b) * (1 + 1e-6)
    assert not converged


@st.composite
def cg_case(draw):
    problems = set()
    m = draw(st.integers(1, 6))
    kind = draw(st.sampled_from(["dense", "csr", "linop", "callable", "rowgram", "cgdop"]))
    spectrum = draw(st.sampled_from(["spd", "near_singular", "indefinite", "zero", "huge"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    Q = np.linalg.qr(rng.standard_normal((m, m)))[0]
    lam = rng.uniform(0.5, 2.0, m)
    if spectrum == "near_singular":
        lam[0] = draw(st.sampled_from([1e-12, 1e-17, 1e-300, 0.0]))
    elif spectrum == "indefinite":
        lam[0] = -1.0
    elif spectrum == "zero":
        lam[:] = 0.0
    elif spectrum == "huge":
        lam *= draw(st.sampled_from([1e150, 1e300]))
    with np.errstate(all="ignore"):
        A = (Q * lam) @ Q.T
        A = 0.5 * (A + A.T)
    b = draw(arrays(np.float64, m, elements=st.floats(-1, 1)))
    b = b * draw(st.sampled_from(_SCALES))
    if draw(st.integers(0, 6)) == 0:
        b[0] = np.nan
        problems.add("nan")
    if draw(st.integers(0, 6)) == 0:
        A[0, 0] = np.inf
        problems.add("nan")  # "NaN or infinity"
    if draw(st.integers(0, 8)) == 0:
        b = np.append(b, 1.0)
        problems.add("shape")
    x0 = None
    if draw(st.booleans()):
        x0 = draw(arrays(np.float64, m, elements=st.floats(-1e3, 1e3)))
    factor = draw(st.sampled_from([1.0, 1e-200, 1e150]))
    return kind, A, b, x0, problems, factor


def _operator(kind, A, factor):
    m = A.shape[0]
    if kind == "csr":
        return sp.csr_matrix(A)
    if kind == "linop":
        return LinearOperator((m, m), matvec=lambda v: A @ v, dtype=np.float64)
    if kind == "callable":
        return lambda v: A @ v
    if kind == "rowgram":
        # I + dx^2 X^T X: SPD by construction, with the hostile matrix as its factor
        return RowGramOperator(A, dx=factor)
    if kind == "cgdop":
        return CGDOperator(A, eta_x=factor, eta_y=1.0)
    return A


def _apply(operator, kind, A, x):
    if kind in ("rowgram", "cgdop"):
        return operator.matvec(x)
    return A @ x


def _cg_property(case):
    kind, A, b, x0, problems, factor = case
    with _HangGuard(), np.errstate(all="ignore"):
        try:
            operator = _operator(kind, A, factor)
            x, n_iter, converged = conjugate_gradient(operator, b, x0=x0, tol=1e-8, max_iter=60)
        except (ValueError, TypeError) as exc:
            _check_message(exc, problems | {"shape"} if kind in ("linop", "callable") else
                           problems)
            return
        assert not problems or kind in ("linop", "callable"), (
            f"conjugate_gradient accepted {sorted(problems)}")
        assert np.isfinite(x).all(), f"CG returned non-finite x={x} (converged={converged})"
        if converged and np.isfinite(A).all():
            # (an operator given as a function cannot be checked for NaN/inf entries)
            r = np.linalg.norm(_apply(operator, kind, A, x) - b)
            assert r <= 1e-8 * np.linalg.norm(b) * (1 + 1e-6) + 1e-300, (
                f"CG claims convergence with residual {r:.3g} (||b|| {np.linalg.norm(b):.3g})")


@pytest.mark.filterwarnings("ignore")
@_FAST
@given(case=cg_case())
def test_conjugate_gradient_hostile(case):
    _cg_property(case)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore")
@_SLOW
@given(case=cg_case())
def test_conjugate_gradient_hostile_long(case):
    _cg_property(case)


# -- games and solvers ----------------------------------------------------------------------
def _matrix(draw, shape, problems):
    M = draw(arrays(np.float64, shape, elements=st.floats(-1, 1)))
    scale = draw(st.sampled_from(_SCALES))
    if scale > 1e100 and np.abs(M).max(initial=0) * scale > 1e100:
        problems.add("scale")
    with np.errstate(all="ignore"):
        M = M * scale
    if M.size and draw(st.integers(0, 8)) == 0:
        M.flat[0] = draw(st.sampled_from([np.nan, np.inf]))
        problems.add("nan")
    return M


def _psd(draw, m, problems):
    B = _matrix(draw, (m, m), problems)
    with np.errstate(all="ignore"):
        P = B @ B.T
    if not np.isfinite(P).all() and "nan" not in problems:
        problems.add("nan")  # the square overflowed: an inf the caller made
    if np.abs(P).max(initial=0) > 1e100:
        problems.add("scale")
    return P


@st.composite
def game_case(draw):
    """(game or None, solver, x0, y0, problems); the game may fail to build (then None, exc)."""
    problems = set()
    kind = draw(st.sampled_from(["bilinear", "bilinear_simplex", "quadratic", "general_sum",
                                 "chi2", "kl", "group"]))
    m, n = draw(st.integers(0, 4)), draw(st.integers(1, 4))
    if m == 0:
        problems.add("empty")
    try:
        with np.errstate(all="ignore"):
            if kind.startswith("bilinear"):
                game = BilinearGame(_matrix(draw, (m, n), problems),
                                    simplex=kind == "bilinear_simplex")
            elif kind == "quadratic":
                if draw(st.integers(0, 8)) == 0:
                    problems.add("psd")
                    P = -np.eye(m)
                else:
                    P = _psd(draw, m, problems)
                game = QuadraticGame(P, _matrix(draw, (m, n), problems), _psd(draw, n, problems))
            elif kind == "general_sum":
                game = GeneralSumQuadraticGame(_psd(draw, m, problems),
                                               _matrix(draw, (m, n), problems),
                                               _psd(draw, n, problems),
                                               _matrix(draw, (n, m), problems))
            else:
                X = _matrix(draw, (n + 2, m), problems)
                if draw(st.booleans()):
                    X = sp.csr_matrix(X)
                multinomial = draw(st.booleans())
                y = np.arange(n + 2) % 3 if multinomial else np.where(np.arange(n + 2) % 2, 1, -1)
                if draw(st.integers(0, 8)) == 0:
                    y = y * 2 if multinomial else y + 5  # not encoded
                    problems.add("labels") if not multinomial else None
                kwargs = dict(C=draw(st.sampled_from([1.0, 1e-8, 1e8])),
                              rho=draw(st.sampled_from([1.0, 1e-6, 1e6])),
                              fit_intercept=draw(st.booleans()), multinomial=multinomial)
                if m == 0 and kwargs["fit_intercept"]:
                    problems.discard("empty")
                if draw(st.integers(0, 8)) == 0:
                    kwargs["sample_weight"] = -np.ones(n + 2)
                    problems.add("weights")
                if kind == "group":
                    groups = np.arange(n + 2) % 2
                    if draw(st.integers(0, 8)) == 0:
                        groups = groups[:-1]
                        problems.add("groups")
                    game = GroupKLLogisticGame(X, y, groups, **kwargs)
                else:
                    game = (Chi2LogisticGame if kind == "chi2" else KLLogisticGame)(X, y, **kwargs)
    except (ValueError, TypeError) as exc:
        return None, exc, None, None, problems

    if kind == "general_sum":
        solver_cls = GeneralSumCGD
    elif kind == "bilinear_simplex" or kind in ("kl", "group"):
        solver_cls = draw(st.sampled_from([CompetitiveMirrorDescent, ACGD]))
    else:
        solver_cls = draw(st.sampled_from([CGD, ACGD, GDA, ExtraGradient, OptimisticGDA]))
    eta = draw(st.sampled_from(["auto", "auto", 0.1, 1.0, 1e-300, 1e300, 0.0, -1.0, np.nan,
                                (0.1, 0.2), "fast"]))
    if eta == "auto" and solver_cls is ACGD:
        eta = 0.01
    if isinstance(eta, float) and not (np.isfinite(eta) and eta > 0) or eta == "fast":
        problems.add("eta")
    solver = solver_cls(eta=eta, max_iter=draw(st.sampled_from([0, 1, 5, 20])), tol=1e-8)

    def point(size, simplex):
        how = draw(st.sampled_from(["ok", "ok", "ok", "nan", "length", "negative"]))
        v = np.full(size, 1.0 / max(size, 1)) if simplex else draw(
            arrays(np.float64, size, elements=st.floats(-1, 1)))
        if how == "nan" and size:
            v[0] = np.nan
            problems.add("nan")
        elif how == "length":
            v = np.append(v, 0.5)
            problems.add("shape")
        elif how == "negative" and size and simplex:
            v[0] = -1.0
            problems.add("domain")
        return v

    x0 = point(game.n_x, getattr(game, "domain_x", "real") == "simplex")
    y0 = point(game.n_y, getattr(game, "domain_y", "real") == "simplex")
    return game, solver, x0, y0, problems


def _game_property(case):
    game, solver, x0, y0, problems = case
    if game is None:
        _check_message(solver, problems)
        return
    with _HangGuard(), warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            result = solver.run(game, x0, y0)
        except (ValueError, TypeError) as exc:
            _check_message(exc, problems)
            return
        except DivergenceError as exc:
            # documented: the solver stops and names step sizes and curvature bounds
            assert "eta" in str(exc), exc
            return
    assert not problems - {"empty"}, f"{solver!r} accepted {sorted(problems)}"
    assert np.isfinite(result.x).all() and np.isfinite(result.y).all(), (
        f"{solver!r} returned non-finite iterates on {game!r}")
    assert np.isfinite(game.value(result.x, result.y)).all()


@_FAST
@given(case=game_case())
def test_games_and_solvers_hostile(case):
    _game_property(case)


@pytest.mark.slow
@_SLOW
@given(case=game_case())
def test_games_and_solvers_hostile_long(case):
    _game_property(case)
