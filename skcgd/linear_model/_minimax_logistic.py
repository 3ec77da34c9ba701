"""MinimaxLogisticRegression: logistic regression trained against a re-weighting adversary."""

import numbers
import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import BaseEstimator, _fit_context
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from skcgd.exceptions import ConvergenceWarning
from skcgd.games import Chi2LogisticGame, DenseMixedOperator, GroupKLLogisticGame, KLLogisticGame
from skcgd.games._logistic import check_problem_scale
from skcgd.linear_model._newton import ReweightedPrimal, newton_solve
from skcgd.solvers import (
    ACGD,
    CGD,
    GDA,
    CompetitiveMirrorDescent,
    ExtraGradient,
    OptimisticGDA,
)
from skcgd.utils._validation import as_aligned, check_classification_labels

__all__ = ["MinimaxLogisticRegression"]

_GAME_SOLVERS = {"cgd", "acgd", "gda", "extragradient", "ogda"}
# first-order players overshoot at 1 / L when both move at once: half the step keeps EG and
# OGDA inside their stability region (EG stalls at exactly eta * mu = 1 on a concave player)
_FIRST_ORDER_FACTOR = {"gda": 1.0, "extragradient": 0.5, "ogda": 0.5}


class _NoAdversary:
    """A reweighted logistic game seen without its adversary: a zero-dimensional max player.

    The game solvers then play plain (regularised) logistic regression: CGD's step is a
    gradient step, since the mixed Hessian is empty.
    """

    zero_sum = True
    domain_x = domain_y = "real"

    def __init__(self, primal):
        self.primal = primal
        self.game = primal.game
        self.n_x, self.n_y = primal.n, 0

    def value(self, x, y):
        return self.primal.value(x)

    def grads(self, x, y):
        return self.primal.evaluate(x)[1], np.zeros(0)

    def mixed(self, x, y):
        return DenseMixedOperator(np.zeros((self.n_x, 0)))

    def curvature_x(self, x, y):
        g = self.game
        return g._curvature_x(x, g.C * g.sample_weight)

    def curvature_y(self, x, y):
        return 0.0


class MinimaxLogisticRegression(LinearClassifierMixin, BaseEstimator):
    r"""Logistic regression trained against an adversary that re-weights samples or groups.

    A distributionally robust classifier: the fit is the saddle point of a zero-sum game in
    which the classifier minimises a weighted logistic loss and an adversary chooses the
    weights, within a budget ``rho``, to hurt it most. It helps when the test distribution may
    differ from the training one: label noise, a heavy tail of hard cases, an
    under-represented group.

    Read more in the :ref:`User Guide <minimax_logistic>`.

    Parameters
    ----------
    adversary : {"chi2", "kl", "group", "none"}, default="chi2"
        What the adversary re-weights and how its budget is measured (see Notes): each sample
        with a chi-square penalty, each sample on the simplex with a KL penalty, each group of
        samples (``fit(X, y, groups=...)``) with a KL penalty, or nothing (plain L2 logistic
        regression).
    rho : float, default=1.0
        The adversary's strength, >= 0. ``rho=0`` is plain L2 logistic regression; larger
        values let the adversary concentrate more weight on the hardest samples or groups.
    C : float, default=1.0
        Inverse L2 regularisation strength, as in scikit-learn's ``LogisticRegression``.
    fit_intercept : bool, default=True
        Fit an (unpenalised) intercept.
    solver : {"newton", "cgd", "acgd", "gda", "extragradient", "ogda"}, default="newton"
        How the saddle point is found.

        - ``"newton"`` (default): Newton's method on the saddle system with the adversary's
          (closed-form) best response eliminated; it keeps both players' own curvature and
          converges in a handful of iterations. The linear system is solved by Cholesky (up to
          300 coefficients) or by matrix-free conjugate gradient.
        - ``"cgd"``: competitive gradient descent (competitive mirror descent for the
          adversaries on the simplex), one conjugate-gradient solve per step.
        - ``"acgd"``: adaptive CGD (RMS step sizes for the classifier; mirror steps for the
          simplex adversaries).
        - ``"gda"``, ``"extragradient"``, ``"ogda"``: the first-order baselines.

        All reach the same point. The game solvers are first-order in each player's own
        curvature, so their number of steps grows with the condition number of the problem
        (small ``C``, standardised features help); Newton is the default because it does not.
    eta : "auto", float or (float, float), default="auto"
        Step sizes of the game solvers (ignored by ``"newton"``). ``"auto"``: the inverse of
        each player's own curvature (power iteration on X for the classifier, per sample for
        the chi2 adversary, the entropy scale ``rho / (C N)`` for the simplex adversaries),
        halved for extragradient and OGDA.
    max_iter : int, default=1000
        Maximum number of iterations (Newton steps or game steps).
    tol : float, default=1e-6
        Stop when the gradient norm (both players') is below ``tol`` times the gradient norm of
        the objective at zero coefficients.
    cg_tol : float, default=1e-6
        Relative tolerance of the conjugate-gradient solves of ``"cgd"`` and ``"acgd"``
        (Newton uses an adaptive forcing term).
    cg_max_iter : int, default=None
        Maximum CG iterations per solve (``None``: ten times the system size).
    warm_start : bool, default=False
        Start from the previous solution (coefficients, and the adversary through its best
        response): a search over ``rho`` or ``C`` then moves along a path.
    verbose : int, default=0
        Print progress every ``verbose`` iterations (iteration, objective, gradient norms, CG
        iterations).
    random_state : None, int or RandomState, default=None
        Unused: every solver is deterministic. Kept for compatibility with scikit-learn's
        linear models.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients: one row for binary problems, one per class otherwise (softmax).
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts (zeros if ``fit_intercept=False``); centred to sum to zero for softmax.
    adversary_weights_ : ndarray or None
        The adversary's equilibrium strategy, i.e. its best response at the solution: ``u``
        (shape (n_samples,), the sample weights are ``s_i (1 + u_i)``) for ``"chi2"``, ``p`` on
        the simplex (n_samples,) for ``"kl"``, ``q`` on the simplex (one per entry of
        ``groups_``) for ``"group"``; None for ``"none"``.
    groups_ : ndarray of shape (n_groups,)
        Group labels seen in fit (``adversary="group"`` only).
    n_iter_ : int
        Iterations run.
    converged_ : bool
        Whether the tolerance was reached.
    history_ : dict of ndarray
        ``"objective"`` (the primal objective per iteration), ``"grad_norm_x"`` and
        ``"grad_norm_y"`` (the players' gradient norms), ``"cg_iter"`` (inner CG iterations
        per step).
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen in fit, when X has string column names.

    See Also
    --------
    sklearn.linear_model.LogisticRegression : the same model with ``rho=0``.
    skcgd.games.Chi2LogisticGame : the chi2 game.
    skcgd.games.KLLogisticGame : the KL game.
    skcgd.games.GroupKLLogisticGame : the group game.
    skcgd.solvers.CGD : competitive gradient descent.

    Notes
    -----
    With per-sample losses :math:`l_i` (binary logistic with one coefficient row, softmax
    otherwise), sample weights :math:`s_i`, :math:`N = \sum_i s_i`, :math:`\tau = 1/\rho` and
    :math:`\|W\|^2` excluding intercepts, the games and their values after the adversary's
    maximisation (the primal objectives) are

    - ``none``: :math:`C \sum_i s_i l_i`, the same after the max;
    - ``chi2``: :math:`C\sum_i s_i(1+u_i) l_i - \frac{C}{2\rho}\sum_i s_i u_i^2`,
      primal :math:`C\sum_i s_i(l_i + \frac\rho2 l_i^2)`;
    - ``kl``: :math:`CN[\sum_i p_i l_i - \tau\,\mathrm{KL}(p\|s/N)]`,
      primal :math:`CN\tau\log\sum_i \frac{s_i}{N} e^{l_i/\tau}`;
    - ``group``: :math:`CN[\sum_g q_g L_g - \tau\,\mathrm{KL}(q\|\pi)]`,
      primal :math:`CN\tau\log\sum_g \pi_g e^{L_g/\tau}`

    (plus :math:`\frac12\|W\|^2` everywhere), with :math:`L_g` the weighted mean loss of group
    ``g`` and :math:`\pi_g` its share of the weight. In words: ``chi2`` adds ``rho/2`` times
    the squared loss (hard samples weigh up to ``1 + rho * l_i`` times more); ``kl`` replaces
    the average loss by a soft maximum at temperature ``1/rho``; ``group`` does the same over
    the groups' mean losses.

    References
    ----------
    .. [1] F. Schäfer and A. Anandkumar, "Competitive Gradient Descent", NeurIPS 2019.
    .. [2] H. Namkoong and J. Duchi, "Stochastic gradient methods for distributionally robust
       optimization with f-divergences", NeurIPS 2016.
    .. [3] S. Sagawa et al., "Distributionally robust neural networks for group shifts",
       ICLR 2020.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skcgd.linear_model import MinimaxLogisticRegression
    >>> X, y = make_classification(n_samples=200, n_features=5, flip_y=0.2, random_state=0)
    >>> clf = MinimaxLogisticRegression(adversary="chi2", rho=0.5).fit(X, y)
    >>> clf.converged_, round(clf.score(X, y), 2)
    (True, 0.84)
    >>> weights = clf.adversary_weights_     # 0.5 * loss of each sample at the solution
    >>> bool(weights.max() > 4 * weights.mean())
    True
    """

    _parameter_constraints = {
        "adversary": [StrOptions({"none", "chi2", "kl", "group"})],
        "rho": [Interval(Real, 0, None, closed="left")],
        "C": [Interval(Real, 0, None, closed="neither")],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"newton"} | _GAME_SOLVERS)],
        "eta": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither"), tuple, list],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "cg_tol": [Interval(Real, 0, None, closed="neither")],
        "cg_max_iter": [None, Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        adversary="chi2",
        *,
        rho=1.0,
        C=1.0,
        fit_intercept=True,
        solver="newton",
        eta="auto",
        max_iter=1000,
        tol=1e-6,
        cg_tol=1e-6,
        cg_max_iter=None,
        warm_start=False,
        verbose=0,
        random_state=None,
    ):
        self.adversary = adversary
        self.rho = rho
        self.C = C
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.eta = eta
        self.max_iter = max_iter
        self.tol = tol
        self.cg_tol = cg_tol
        self.cg_max_iter = cg_max_iter
        self.warm_start = warm_start
        self.verbose = verbose
        self.random_state = random_state

    # -- fit ------------------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, groups=None):
        """Fit the classifier at the saddle point of the game against the adversary.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; CSR is used as is, float32 is not copied to float64.
        y : array-like of shape (n_samples,)
            Class labels (at least two classes).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, not all zero.
        groups : array-like of shape (n_samples,), default=None
            Group label of each sample; required by ``adversary="group"``, ignored otherwise.
            Routed by ``GridSearchCV``/``cross_validate`` with metadata routing
            (``set_fit_request(groups=True)``).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32], order="C"
        )
        X = as_aligned(X)  # the same bits wherever X comes from (e.g. a Dask worker)
        check_classification_labels(y)
        encoder = LabelEncoder()
        y_idx = encoder.fit_transform(y)
        self.classes_ = encoder.classes_
        n_classes = len(self.classes_)
        if n_classes < 2:
            raise ValueError(
                f"MinimaxLogisticRegression needs samples of at least two classes; the data "
                f"contains only one class: {self.classes_[0]!r}."
            )
        s = as_aligned(
            _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        )
        if not s.sum() > 0:
            raise ValueError(
                "sample_weight sums to zero: at least one sample needs a positive weight."
            )
        check_problem_scale(X, s, self.C)  # before building a game: the estimator's message
        adversary = "none" if self.rho == 0 and self.adversary != "group" else self.adversary
        multinomial = n_classes > 2
        labels = y_idx if multinomial else np.where(y_idx == 1, 1, -1)
        game_kwargs = dict(
            C=self.C,
            sample_weight=s,
            fit_intercept=self.fit_intercept,
            multinomial=multinomial,
            n_classes=n_classes if multinomial else None,
        )
        group_index = None
        if self.adversary == "group":
            group_index = self._encode_groups(groups, X.shape[0], s)
        if adversary == "group" and self.rho == 0:
            adversary = "none"
        if adversary == "chi2":
            game = Chi2LogisticGame(X, labels, rho=self.rho, **game_kwargs)
        elif adversary == "kl":
            game = KLLogisticGame(X, labels, rho=self.rho, **game_kwargs)
        elif adversary == "group":
            game = GroupKLLogisticGame(X, labels, group_index, rho=self.rho, **game_kwargs)
        else:  # the data layer of a game, played without adversary
            game = Chi2LogisticGame(X, labels, rho=1.0, **game_kwargs)
        primal = ReweightedPrimal(game, adversary)

        x0 = np.zeros(primal.n)
        reference = float(np.linalg.norm(primal.evaluate(x0)[1]))
        if self.warm_start and hasattr(self, "coef_"):
            previous = self._previous_solution(game.K, game.q, X.shape[1])
            if previous is not None:
                x0 = previous
        tol = self.tol * max(reference, np.finfo(float).tiny)

        if self.solver == "newton":
            x, n_iter, converged, history = self._fit_newton(primal, x0, tol)
        else:
            x, n_iter, converged, history = self._fit_game(game, primal, adversary, x0, tol)

        if not converged:
            warnings.warn(
                f"MinimaxLogisticRegression (solver={self.solver!r}) did not converge in "
                f"max_iter={self.max_iter} iterations (gradient norm "
                f"{history['grad_norm_x'][-1]:.3e}, tolerance {tol:.3e}). Increase max_iter"
                + (", use solver='newton'," if self.solver != "newton" else "")
                + " or scale the features (e.g. StandardScaler).",
                ConvergenceWarning,
                stacklevel=2,
            )

        W = x.reshape(game.K, game.q)
        p = X.shape[1]
        # solved in float64; stored in X's dtype, as scikit-learn's linear models do, so that
        # float32 data gives float32 scores and probabilities
        self.coef_ = W[:, :p].astype(X.dtype)
        if self.fit_intercept:
            b = W[:, p].copy()
            if multinomial:
                b -= b.mean()  # the softmax loss only sees differences of intercepts
            self.intercept_ = b.astype(X.dtype)
        else:
            self.intercept_ = np.zeros(game.K, dtype=X.dtype)
        self.adversary_weights_ = self._adversary_weights(game, adversary, x, group_index)
        self.n_iter_ = int(n_iter)
        self.converged_ = bool(converged)
        self.history_ = {
            k: np.asarray(v, dtype=int if k == "cg_iter" else float) for k, v in history.items()
        }
        return self

    def _encode_groups(self, groups, n, s):
        if groups is None:
            raise ValueError(
                "adversary='group' needs the group of every sample: call fit(X, y, "
                "groups=...). In GridSearchCV or cross_validate, enable metadata routing "
                "(sklearn.set_config(enable_metadata_routing=True)) and request it with "
                "set_fit_request(groups=True)."
            )
        groups = np.asarray(groups)
        if groups.ndim != 1 or groups.shape[0] != n:
            raise ValueError(
                f"groups must have one entry per sample ({n}), got shape {groups.shape}."
            )
        if groups.dtype.kind == "f" and not np.isfinite(groups).all():
            raise ValueError("groups contains NaN or infinity.")
        labels, index = np.unique(groups, return_inverse=True)
        weight = np.bincount(index, weights=s, minlength=len(labels))
        present = weight > 0
        # groups that carry no weight are not part of the game; their adversary weight is 0
        remap = np.cumsum(present) - 1
        self.groups_ = labels
        self._group_present = present
        return np.where(present[index], remap[index], 0).astype(np.int64)

    def _previous_solution(self, K, q, p):
        coef = getattr(self, "coef_", None)
        if coef is None or coef.shape != (K, p):
            return None
        W = np.zeros((K, q))
        W[:, :p] = coef
        if self.fit_intercept:
            W[:, p] = self.intercept_
        return W.ravel()

    def _fit_newton(self, primal, x0, tol):
        verbose = self.verbose

        def callback(n_iter, x, value, grad_norm, cg_iter):
            if verbose and n_iter % verbose == 0:
                print(
                    f"[MinimaxLogisticRegression newton] iter {n_iter:4d}  objective "
                    f"{value:.10g}  |grad| {grad_norm:.3e}  CG iterations {cg_iter}"
                )

        x, n_iter, converged, hist = newton_solve(
            primal,
            x0,
            tol=tol,
            max_iter=self.max_iter,
            cg_max_iter=self.cg_max_iter,
            callback=callback,
        )
        history = {
            "objective": hist["objective"],
            "grad_norm_x": hist["grad_norm"],
            "grad_norm_y": [0.0] * len(hist["grad_norm"]),
            "cg_iter": hist["cg_iter"],
        }
        return x, n_iter, converged, history

    def _fit_game(self, game, primal, adversary, x0, tol):
        if adversary == "none":
            play, y0 = _NoAdversary(primal), np.zeros(0)
        else:
            play, y0 = game, game.best_response(x0)
        simplex = adversary in ("kl", "group")
        eta = self._step_sizes(play, adversary, x0, y0)
        # the estimator prints the progress itself (with the primal objective)
        common = dict(eta=eta, max_iter=self.max_iter, tol=tol, verbose=0)
        competitive = dict(cg_tol=self.cg_tol, cg_max_iter=self.cg_max_iter)
        if self.solver == "cgd":
            solver = (CompetitiveMirrorDescent if simplex else CGD)(**common, **competitive)
        elif self.solver == "acgd":
            solver = ACGD(**common, **competitive)
        else:
            solver = {"gda": GDA, "extragradient": ExtraGradient, "ogda": OptimisticGDA}[
                self.solver
            ](**common)
        objective = [primal.value(x0)]
        verbose, name = self.verbose, self.solver

        def record(state):
            objective.append(primal.value(state.x))
            if verbose and state.n_iter % verbose == 0:
                gx = float(np.linalg.norm(state.grad_x))
                gy = float(np.linalg.norm(state.grad_y))
                print(
                    f"[MinimaxLogisticRegression {name}] iter {state.n_iter:5d}  objective "
                    f"{objective[-1]:.10g}  |grad_x| {gx:.3e}  |grad_y| {gy:.3e}  "
                    f"CG iterations {state.cg_iter}"
                )

        with warnings.catch_warnings():
            # the estimator warns once, with its own advice
            warnings.simplefilter("ignore", ConvergenceWarning)
            result = solver.run(play, x0, y0, callback=record)
        hist = result.history
        history = {
            "objective": objective,
            "grad_norm_x": hist["grad_norm_x"],
            "grad_norm_y": hist["grad_norm_y"],
            "cg_iter": hist["cg_iter"],
        }
        return result.x, result.n_iter, result.converged, history

    def _step_sizes(self, play, adversary, x0, y0):
        if not (isinstance(self.eta, str)):
            eta = self.eta
            if not isinstance(eta, numbers.Real):
                eta = tuple(eta)
            return eta
        factor = _FIRST_ORDER_FACTOR.get(self.solver, 1.0)
        eta_x = factor / float(play.curvature_x(x0, y0))
        game = play if adversary != "none" else None
        if adversary == "chi2":
            s = game.sample_weight
            # per sample: the inverse of the adversary's curvature C s_i / rho (0 freezes the
            # u_i of a zero-weight sample, which does not enter the game)
            eta_y = factor * np.where(s > 0, game.rho / (game.C * np.where(s > 0, s, 1.0)), 0.0)
        elif adversary in ("kl", "group"):
            # the entropy mirror map with this scale makes the adversary's step its exact
            # best response to the current classifier
            eta_y = factor * game.rho / (game.C * game.N)
        else:
            eta_y = 1.0
        return (eta_x, eta_y)

    def _adversary_weights(self, game, adversary, x, group_index=None):
        if self.adversary == "none":
            return None
        if adversary == "none":  # rho = 0: the limit of the best responses
            if self.adversary == "chi2":
                return np.zeros(game.n_samples)
            if self.adversary == "kl":
                return game.sample_weight / game.N
        if self.adversary == "group":
            weights = np.zeros(len(self.groups_))
            if adversary == "none":  # rho = 0: the prior pi_g = N_g / N of the present groups
                present = self._group_present
                w = np.bincount(
                    group_index, weights=game.sample_weight, minlength=int(present.sum())
                )
                weights[present] = w / w.sum()
            else:
                weights[self._group_present] = game.best_response(x)
            return weights
        return game.best_response(x)

    # -- predict --------------------------------------------------------------------------------
    def decision_function(self, X):
        """Scores ``X @ coef_.T + intercept_`` (the log-odds of ``classes_[1]`` if binary).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)

        Raises
        ------
        ValueError
            If the scores overflow their dtype (X far larger than the data seen in fit): NaN
            or infinite scores would give NaN probabilities and arbitrary classes.
        """
        with np.errstate(over="ignore", invalid="ignore"):  # refused below, by name
            scores = super().decision_function(X)
        if not np.all(np.isfinite(scores)):
            raise ValueError(
                f"The decision function overflows {scores.dtype} for this X: its values are "
                "too large for the fitted coefficients. Rescale X to the magnitudes seen in "
                "fit."
            )
        return scores

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p1 = expit(scores)
            return np.column_stack([1.0 - p1, p1])
        return softmax(scores, axis=1)

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities (computed stably from the scores).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return np.column_stack([log_expit(-scores), log_expit(scores)])
        return log_softmax(scores, axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
