"""Hostile input for the public games, game solvers and ``conjugate_gradient`` (hypothesis).

A case ends in finite results, in a ValueError or TypeError whose message names a planted
problem, or (game solvers only) in the documented ``DivergenceError`` with its advice; never
another exception, a NaN result or a hang. The game property runs ``_EXAMPLES`` cases per
solver class, on the games that solver plays: about half of them clean (matrices from
denormal to 1e8, steps from 1e-300 to 1e300, zero sample weights, intercept-only logistic
games), which must mostly end in a result, the others with one planted problem (NaN, entries
beyond 1e100, a wrong shape, a start off the simplex, bad steps or tolerances, labels not
encoded, negative weights, a general-sum game for a zero-sum solver, ...), which must be
refused by name. The default run is derandomised; the ``slow`` marker runs ``_SLOW_EXAMPLES``
fresh cases per solver. Bugs found: see tests/test_hostile_input.py.
"""

import faulthandler
import warnings
from collections import Counter

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.sparse.linalg import LinearOperator

from skcgd._kernels.logistic import _logistic_loss_deriv
from skcgd.exceptions import DivergenceError
from skcgd.games import (
    BilinearGame,
    GeneralSumQuadraticGame,
    GroupKLLogisticGame,
    KLLogisticGame,
    QuadraticGame,
    SecondMomentLogisticGame,
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
_FAST = settings(
    max_examples=_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
_SLOW = settings(
    max_examples=_SLOW_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck)
)

_KEYWORDS = {
    "nan": ("nan",),
    "shape": ("shape", "length", "dimension", "must have", "rows", "match"),
    "eta": ("eta", "step"),
    "params": ("tol", "max_iter", "must be"),
    "domain": ("simplex", "non-negative", "interior"),
    "labels": ("label", "class", "y "),
    "groups": ("group",),
    "psd": ("semi-definite", "symmetric"),
    "empty": ("no rows", "no features", "no variables", "sample", "length", "shape", "empty"),
    "kind": ("zero-sum", "general-sum", "zero_sum"),
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
        f"{allowed} in the message)"
    )


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
@given(
    Z=arrays(
        np.float64,
        st.tuples(st.integers(1, 6), st.integers(1, 4)),
        elements=st.floats(-1e300, 1e300),
    ),
    seed=st.integers(0, 2**16),
)
def test_logistic_kernel_finite_for_any_finite_margins(Z, seed):
    n, K = Z.shape
    rng = np.random.default_rng(seed)
    y = rng.choice([-1, 1], n) if K == 1 else rng.integers(0, K, n)
    loss, G = np.empty(n), np.empty((n, K))
    _logistic_loss_deriv(np.ascontiguousarray(Z), y.astype(np.int64), loss, G)
    assert np.isfinite(loss).all() and (loss >= 0).all()
    assert np.isfinite(G).all() and (np.abs(G) <= 1 + 1e-12).all()


@pytest.mark.parametrize("game_cls", [SecondMomentLogisticGame, KLLogisticGame])
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
            _check_message(exc, problems | {"shape"} if kind in ("linop", "callable") else problems)
            return
        assert not problems or kind in ("linop", "callable"), (
            f"conjugate_gradient accepted {sorted(problems)}"
        )
        assert np.isfinite(x).all(), f"CG returned non-finite x={x} (converged={converged})"
        if converged and np.isfinite(A).all():
            # (an operator given as a function cannot be checked for NaN/inf entries)
            r = np.linalg.norm(_apply(operator, kind, A, x) - b)
            assert r <= 1e-8 * np.linalg.norm(b) * (1 + 1e-6) + 1e-300, (
                f"CG claims convergence with residual {r:.3g} (||b|| {np.linalg.norm(b):.3g})"
            )


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
# the games each solver plays (the simplex games need a solver with mirror steps; a general-sum
# game needs GeneralSumCGD, which plays zero-sum games as g = -f too)
_REAL = ("bilinear", "quadratic", "second_moment")
_SIMPLEX = ("bilinear_simplex", "kl", "group")
_SOLVER_GAMES = {
    CGD: _REAL,
    ACGD: _REAL + _SIMPLEX,
    CompetitiveMirrorDescent: _REAL + _SIMPLEX,
    GDA: _REAL + _SIMPLEX,
    ExtraGradient: _REAL + _SIMPLEX,
    OptimisticGDA: _REAL + _SIMPLEX,
    GeneralSumCGD: ("general_sum",) + _REAL,
}
_CLEAN_SCALES = (1.0, 1e-8, 1e8, 1e-300, 5e-324)
_HUGE_SCALES = (1e150, 1e300)


def _matrix(draw, shape, problems, problem):
    """A matrix at a drawn scale; ``problem`` ("nan" or "scale") is planted if asked."""
    M = draw(arrays(np.float64, shape, elements=st.floats(-1, 1)))
    scales = _HUGE_SCALES if problem == "scale" else _CLEAN_SCALES
    scale = draw(st.sampled_from(scales))
    with np.errstate(all="ignore"):
        M = M * scale
    if problem == "scale" and M.size:
        M.flat[draw(st.integers(0, M.size - 1))] = draw(st.sampled_from([-0.9, 0.9])) * scale
        problems.add("scale")
    if problem == "nan" and M.size:
        M.flat[draw(st.integers(0, M.size - 1))] = draw(st.sampled_from([np.nan, np.inf]))
        problems.add("nan")
    return M


def _psd(draw, m, problems, problem):
    B = _matrix(draw, (m, m), problems, problem)
    with np.errstate(all="ignore"):
        P = B @ B.T
    if not np.isfinite(P).all():
        problems.add("nan")  # the square overflowed (or held the NaN): an inf the caller made
    if np.abs(P).max(initial=0) > 1e100:
        problems.add("scale")
    return P


def _game_problems(solver_cls, kind):
    out = ["eta", "params", "point_nan", "point_shape", "matrix_nan", "matrix_scale", "empty"]
    if kind.endswith("simplex") or kind in ("kl", "group"):
        out.append("domain")
    if kind == "quadratic":
        out.append("psd")
    if kind in ("second_moment", "kl", "group"):
        out += ["labels", "weights"]
    if kind == "group":
        out.append("groups")
    if solver_cls is not GeneralSumCGD:
        out.append("kind")
    return out


@st.composite
def game_case(draw, solver_cls):
    """(game or None, solver, x0, y0, problems, planted): half the cases are clean, the others
    have one planted problem (``planted``); the game may fail to build (then None, exc)."""
    problems = set()
    kind = draw(st.sampled_from(_SOLVER_GAMES[solver_cls]))
    planted = None
    if draw(st.booleans()):
        planted = draw(st.sampled_from(_game_problems(solver_cls, kind)))
        if planted == "kind":
            kind = "general_sum"  # a general-sum game for a zero-sum solver
    event(f"game: {kind}")
    event(f"planted: {planted}")
    logistic = kind in ("second_moment", "kl", "group")
    m = 0 if planted == "empty" else draw(st.integers(0 if logistic else 1, 4))
    n = draw(st.integers(1, 4))
    matrix_problem = {"matrix_nan": "nan", "matrix_scale": "scale"}.get(planted)
    if planted == "empty":
        problems.add("empty")
    if planted == "kind":
        problems.add("kind")
    try:
        with np.errstate(all="ignore"):
            if kind.startswith("bilinear"):
                game = BilinearGame(
                    _matrix(draw, (m, n), problems, matrix_problem),
                    simplex=kind == "bilinear_simplex",
                )
            elif kind == "quadratic":
                if planted == "psd":
                    problems.add("psd")
                    P = -np.eye(m)
                else:
                    P = _psd(draw, m, problems, matrix_problem)
                game = QuadraticGame(
                    P, _matrix(draw, (m, n), problems, None), _psd(draw, n, problems, None)
                )
            elif kind == "general_sum":
                game = GeneralSumQuadraticGame(
                    _psd(draw, m, problems, matrix_problem),
                    _matrix(draw, (m, n), problems, None),
                    _psd(draw, n, problems, None),
                    _matrix(draw, (n, m), problems, None),
                )
            else:
                X = _matrix(draw, (n + 2, m), problems, matrix_problem)
                if draw(st.booleans()):
                    X = sp.csr_matrix(X)
                multinomial = draw(st.booleans())
                y = np.arange(n + 2) % 3 if multinomial else np.where(np.arange(n + 2) % 2, 1, -1)
                if planted == "labels":
                    y = y - 7 if multinomial else y + 5  # not encoded
                    problems.add("labels")
                kwargs = dict(
                    C=draw(st.sampled_from([1.0, 1e-8, 1e8])),
                    rho=draw(st.sampled_from([1.0, 1e-6, 1e6])),
                    fit_intercept=planted != "empty" and (m == 0 or draw(st.booleans())),
                    multinomial=multinomial,
                )
                if planted == "weights":
                    kwargs["sample_weight"] = -np.ones(n + 2)
                    problems.add("weights")
                elif draw(st.booleans()):
                    w = draw(st.sampled_from([0.5, 2.0])) * np.ones(n + 2)
                    w[0] = 0.0  # a sample of zero weight
                    kwargs["sample_weight"] = w
                if kind == "group":
                    groups = np.arange(n + 2) % 2
                    if planted == "groups":
                        groups = groups[:-1]
                        problems.add("groups")
                    game = GroupKLLogisticGame(X, y, groups, **kwargs)
                else:
                    game = (
                        SecondMomentLogisticGame if kind == "second_moment" else KLLogisticGame
                    )(X, y, **kwargs)
    except (ValueError, TypeError) as exc:
        return None, exc, None, None, problems, planted

    if planted == "eta":
        eta = draw(st.sampled_from([0.0, -1.0, np.nan, np.inf, "fast", (0.1, -1.0), (0.1,)]))
        problems.add("eta")
    else:
        eta = draw(st.sampled_from(["auto", "auto", 0.1, 1.0, 1e-300, 1e300, (0.1, 0.2)]))
        if eta == "auto" and solver_cls is ACGD:
            eta = 0.01
    max_iter, tol = draw(st.sampled_from([0, 1, 5, 20])), 1e-8
    if planted == "params":
        if draw(st.booleans()):
            max_iter = draw(st.sampled_from([-1, 2.5]))
        else:
            tol = draw(st.sampled_from([-1.0, np.nan]))
        problems.add("params")
    solver = solver_cls(eta=eta, max_iter=max_iter, tol=tol)

    def point(size, simplex):
        if simplex:
            v = draw(st.sampled_from(["uniform", "random"]))
            v = (
                np.full(size, 1.0 / max(size, 1))
                if v == "uniform"
                else np.random.default_rng(draw(st.integers(0, 2**16))).dirichlet(np.ones(size))
            )
        else:
            v = draw(arrays(np.float64, size, elements=st.floats(-1, 1)))
        return v

    simplex_x = getattr(game, "domain_x", "real") == "simplex"
    simplex_y = getattr(game, "domain_y", "real") == "simplex"
    x0, y0 = point(game.n_x, simplex_x), point(game.n_y, simplex_y)
    if kind == "kl":
        # p on the support of the weights: KL(p || s/N) is infinite elsewhere (value -inf)
        y0 = y0 * (game.sample_weight > 0)
        y0 /= y0.sum()
    if planted in ("point_nan", "point_shape", "domain"):
        which = draw(st.sampled_from(["x", "y"]))
        if planted == "domain":  # only the simplex players can break it
            which = "y" if simplex_y else "x"
        v = x0 if which == "x" else y0
        if planted == "point_nan" and v.size:
            v[0] = np.nan
            problems.add("nan")
        elif planted == "point_shape":
            v = np.append(v, 0.5)
            problems.add("shape")
        elif planted == "domain" and v.size:
            how = draw(st.sampled_from(["negative", "nan", "zero"]))
            if how == "zero":
                v[:] = 0.0
            else:
                v[draw(st.integers(0, v.size - 1))] = -0.25 if how == "negative" else np.nan
            problems.add("nan" if how == "nan" else "domain")
        if which == "x":
            x0 = v
        else:
            y0 = v
    return game, solver, x0, y0, problems, planted


def _game_property(case):
    """Run one case; returns its outcome: "solved", "diverged" or "refused"."""
    game, solver, x0, y0, problems, planted = case
    if game is None:
        _check_message(solver, problems)
        return "refused"
    with _HangGuard(), warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            result = solver.run(game, x0, y0)
        except (ValueError, TypeError) as exc:
            _check_message(exc, problems)
            return "refused"
        except DivergenceError as exc:
            # documented: the solver stops and names step sizes and curvature bounds
            assert "eta" in str(exc), exc
            return "diverged"
    assert not problems - {"empty"}, f"{solver!r} accepted {sorted(problems)}"
    assert np.isfinite(result.x).all() and np.isfinite(result.y).all(), (
        f"{solver!r} returned non-finite iterates on {game!r}"
    )
    assert np.isfinite(game.value(result.x, result.y)).all()
    return "solved"


_SOLVERS = [pytest.param(cls, id=cls.__name__) for cls in _SOLVER_GAMES]


def _solver_property(solver_cls, run_settings):
    outcomes = Counter()

    @run_settings
    @given(case=game_case(solver_cls))
    def run(case):
        outcomes[_game_property(case)] += 1

    run()
    total = sum(outcomes.values())
    print(f"{solver_cls.__name__}: {total} cases, {dict(outcomes)}")  # (shown with -s)
    # about half the cases are clean: most of them must end in a result (or the documented
    # divergence with fixed large steps), the planted ones in an error
    assert total >= 0.8 * run_settings.max_examples, outcomes
    assert outcomes["solved"] >= 0.3 * total and outcomes["refused"] >= 0.3 * total, outcomes


@pytest.mark.parametrize("solver_cls", _SOLVERS)
def test_games_and_solvers_hostile(solver_cls):
    _solver_property(solver_cls, _FAST)


@pytest.mark.slow
@pytest.mark.parametrize("solver_cls", _SOLVERS)
def test_games_and_solvers_hostile_long(solver_cls):
    _solver_property(solver_cls, _SLOW)
