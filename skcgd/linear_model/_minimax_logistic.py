"""MinimaxLogisticRegression: logistic regression trained against a re-weighting adversary."""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import logsumexp
from sklearn.base import BaseEstimator
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import check_is_fitted

from skcgd._base import LogisticClassifierMixin, SparseCoefMixin, restore_on_failure
from skcgd._chunked import is_dask_collection
from skcgd._compat import Interval, StrOptions, _fit_context, validate_data
from skcgd._validation import (
    as_aligned,
    check_classification_labels,
    check_problem_scale,
    check_sample_weight,
    encode_groups,
)
from skcgd.exceptions import ConvergenceWarning, DivergenceError
from skcgd.games import ADVERSARIES, PlainLogisticGame, get_adversary, make_logistic_game
from skcgd.games._parametric import check_adversary_features, default_adversary_features
from skcgd.linear_model._solving import _FIRST_ORDER_FACTOR, _GAME_SOLVERS, _primal_certified
from skcgd.solvers import CGD, CompetitiveMirrorDescent, Newton

__all__ = ["MinimaxLogisticRegression"]


class MinimaxLogisticRegression(SparseCoefMixin, LogisticClassifierMixin, BaseEstimator):
    r"""Logistic regression trained against an adversary that re-weights samples or groups.

    A distributionally robust classifier: the fit is the saddle point of a zero-sum game in
    which the classifier minimises a weighted logistic loss and an adversary chooses the
    weights, within a budget ``rho``, to hurt it most. It helps when the test distribution may
    differ from the training one: label noise, a heavy tail of hard cases, an
    under-represented group.

    Read more in the :ref:`User Guide <minimax_logistic>`.

    Parameters
    ----------
    adversary : str, default="chi2"
        One of ``"chi2"``, ``"cvar"``, ``"kl"``, ``"group"``, ``"parametric"``, ``"second_moment"``,
        ``"none"``: what the adversary re-weights and how its budget is measured (see Notes and the
        :ref:`table of adversaries <adversaries>`): a distribution over the samples with a
        chi-square divergence penalty (``"chi2"``), capped at ``1 + rho`` times the sample's share
        (``"cvar"``: the mean loss of the worst fraction ``1 / (1 + rho)``), or with a KL penalty
        (``"kl"``); a distribution over groups of samples with a KL penalty (``"group"``, ``fit(X,
        y, groups=...)``); an unnormalised weight per sample with a quadratic penalty
        (``"second_moment"``, the robust game of the CGD paper; it was ``"chi2"`` before 0.2); a
        log-linear model of adversary features with a KL penalty (``"parametric"``, ``fit(X, y,
        adversary_X=...)`` optional: sub-populations nobody labelled); or nothing (``"none"``, plain
        L2 logistic regression). Any adversary registered with
        :func:`skcgd.games.register_adversary` is accepted too.
    rho : float, default=1.0
        The adversary's strength, >= 0. ``rho=0`` is plain L2 logistic regression; larger
        values let the adversary concentrate more weight on the hardest samples or groups.
    C : float, default=1.0
        Inverse L2 regularisation strength, as in scikit-learn's ``LogisticRegression``;
        ``np.inf`` fits without a penalty (bounded only where the classes overlap).
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplying the sample weights as in scikit-learn's
        ``LogisticRegression``: ``{label: weight}``, or ``"balanced"`` for
        ``n_samples / (n_classes * count of the class)`` (counts weighted by
        ``sample_weight``). Every adversary then re-weights the weighted samples.
    adversary_alpha : float, default=1.0
        The penalty :math:`\frac{\alpha}{2}\|\psi\|^2` on the coefficients of the
        ``"parametric"`` adversary (ignored by the others), in the units of the classifier's
        own penalty :math:`\frac12\|W\|^2`.
    fit_intercept : bool, default=True
        Fit an (unpenalised) intercept.
    solver : {"auto", "newton", "cgd", "acgd", "gda", "extragradient", "ogda"}, default="auto"
        How the saddle point is found. ``"auto"`` is ``"newton"`` where the adversary's best
        response is closed-form (every adversary but ``"parametric"``), ``"cgd"`` otherwise.

        - ``"newton"``: Newton's method on the saddle system with the adversary's
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
        The ``"parametric"`` adversary has no closed form: only the game solvers play it.
    eta : "auto", float or (float, float), default="auto"
        Step sizes of the game solvers (ignored by ``"newton"``). ``"auto"``: the inverse of
        each player's own curvature (power iteration on X for the classifier, per sample for
        the chi2 adversary, the entropy scale ``rho / (C N)`` for the simplex adversaries),
        halved for extragradient and OGDA.
    max_iter : int, default=1000
        Maximum number of iterations (Newton steps or game steps); 0 returns the start
        (zero coefficients, or the previous ones with ``warm_start``).
    tol : float, default=1e-6
        Stop when the gradient norm (both players') is below ``tol`` times the gradient norm of
        the objective at zero coefficients and the objective is certified: Newton's last
        decrement ``lambda^2 / 2``, which bounds the distance to the optimal objective near the
        optimum, is below ``tol`` times the objective (relative accuracy ``tol``, whatever
        ``C`` and ``rho``). A game solver stops on its gradient; its ``converged_`` is then
        confirmed by the same certificate on the primal (one Newton system at the end).
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
    adversary_weights_ : ndarray, dask.array.Array or None
        The adversary's equilibrium strategy, i.e. its best response at the solution: ``q``
        on the simplex (shape (n_samples,)) for ``"chi2"``, ``"cvar"`` and ``"kl"``; ``q`` on
        the simplex of the groups (one per entry of ``groups_``) for ``"group"``; ``u``
        (n_samples,), the sample weights being ``s_i (1 + u_i)``, for ``"second_moment"``;
        ``q`` (n_samples,) for ``"parametric"`` (the distribution of its model at
        ``adversary_coef_``); None for ``"none"``. After a fit on a Dask X, the per-sample
        weights of ``"chi2"``, ``"kl"`` and ``"parametric"`` are a lazy Dask array with X's
        row chunks, computed from X again when it is computed (the group weights stay an
        ndarray).
    adversary_coef_ : ndarray of shape (k,)
        The ``"parametric"`` adversary's coefficients :math:`\psi` over its ``k`` features
        (``adversary="parametric"`` only); :meth:`adversary_weights` scores new data.
    groups_ : ndarray of shape (n_groups,)
        Group labels seen in fit (``adversary="group"`` only).
    n_iter_ : ndarray of shape (1,)
        Iterations run (an array, as scikit-learn's ``LogisticRegression`` returns it).
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
    dask_stats_ : dict
        After a fit on a Dask X only (a fit on in-memory data removes it): what the fit
        cost, ``"passes"`` (passes over the chunks of X), ``"reductions"`` (reductions of
        the per-row losses kept with the chunks, which do not read X), ``"bytes_gathered"``
        (bytes of all the results that came back to the client) and
        ``"max_bytes_per_pass"`` (the largest of them).

    See Also
    --------
    sklearn.linear_model.LogisticRegression : the same model with ``rho=0``.
    MinimaxLogisticRegressionCV : ``C`` and ``rho`` chosen by cross-validation.
    skcgd.games.Chi2LogisticGame : the chi2 game.
    skcgd.games.CVaRLogisticGame : the CVaR game.
    skcgd.games.KLLogisticGame : the KL game.
    skcgd.games.GroupKLLogisticGame : the group game.
    skcgd.games.ParametricLogisticGame : the parametric game.
    skcgd.solvers.CGD : competitive gradient descent.

    Notes
    -----
    With per-sample losses :math:`l_i` (binary logistic with one coefficient row, softmax
    otherwise), sample weights :math:`s_i`, :math:`N = \sum_i s_i`, :math:`\tau = 1/\rho` and
    :math:`\|W\|^2` excluding intercepts, the games and their values after the adversary's
    maximisation (the primal objectives) are

    - ``none``: :math:`C \sum_i s_i l_i`, the same after the max;
    - ``chi2``: :math:`CN[\sum_i q_i l_i - \frac{\tau}{2} D_{\chi^2}(q\|s/N)]`, ``q`` on the
      simplex, primal :math:`CN\min_\eta[\eta + \frac\tau2\sum_i \frac{s_i}{N}
      ((1 + (l_i - \eta)/\tau)_+^2 - 1)]` (mean plus ``rho/2`` times the variance of the
      loss while no weight is clipped);
    - ``cvar``: :math:`CN\sum_i q_i l_i`, ``q`` on the simplex with
      :math:`q_i \le (1+\rho) s_i/N`, primal :math:`CN\min_\eta[\eta + (1+\rho)
      \sum_i \frac{s_i}{N}(l_i - \eta)_+]`;
    - ``second_moment``: :math:`C\sum_i s_i(1+u_i) l_i - \frac{C}{2\rho}\sum_i s_i u_i^2`,
      primal :math:`C\sum_i s_i(l_i + \frac\rho2 l_i^2)`;
    - ``kl``: :math:`CN[\sum_i p_i l_i - \tau\,\mathrm{KL}(p\|s/N)]`,
      primal :math:`CN\tau\log\sum_i \frac{s_i}{N} e^{l_i/\tau}`;
    - ``group``: :math:`CN[\sum_g q_g L_g - \tau\,\mathrm{KL}(q\|\pi)]`,
      primal :math:`CN\tau\log\sum_g \pi_g e^{L_g/\tau}`;
    - ``parametric``: :math:`CN[\sum_i q_i(\psi) l_i - \tau\,\mathrm{KL}(q(\psi)\|s/N)]
      - \frac\alpha2\|\psi\|^2` with :math:`q_i(\psi) \propto s_i e^{\psi^T z_i}`, no
      primal in closed form (:class:`~skcgd.games.ParametricLogisticGame`)

    (plus :math:`\frac12\|W\|^2` everywhere), with :math:`L_g` the weighted mean loss of group
    ``g`` and :math:`\pi_g` its share of the weight. In words: ``chi2`` weighs each sample by
    ``1 + rho`` times its loss's excess over a threshold (no weight below it); ``cvar``
    averages the worst ``1 / (1 + rho)`` of the samples; ``kl`` replaces the average loss by
    a soft maximum at temperature ``1/rho``; ``group`` does the same over the groups' mean
    losses; ``second_moment`` adds ``rho/2`` times the squared loss.

    References
    ----------
    .. [1] F. Schäfer and A. Anandkumar, "Competitive Gradient Descent", NeurIPS 2019.
    .. [2] H. Namkoong and J. Duchi, "Stochastic gradient methods for distributionally robust
       optimization with f-divergences", NeurIPS 2016.
    .. [3] S. Sagawa et al., "Distributionally robust neural networks for group shifts",
       ICLR 2020.
    .. [4] D. Levy, Y. Carmon, J. Duchi and A. Sidford, "Large-scale methods for
       distributionally robust optimization", NeurIPS 2020.
    .. [5] P. Michel, T. Hashimoto and G. Neubig, "Distributionally robust models with
       parametric likelihood ratios", ICLR 2022.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skcgd.linear_model import MinimaxLogisticRegression
    >>> X, y = make_classification(n_samples=200, n_features=5, flip_y=0.2, random_state=0)
    >>> clf = MinimaxLogisticRegression(adversary="chi2", rho=5.0).fit(X, y)
    >>> clf.converged_, round(clf.score(X, y), 2)
    (True, 0.84)
    >>> weights = clf.adversary_weights_     # a distribution over the samples
    >>> bool(abs(weights.sum() - 1) < 1e-12), bool(weights.max() > 3 * weights.mean())
    (True, True)
    >>> int((weights == 0).sum())              # the easiest samples get no weight at all
    5
    """

    _parameter_constraints = {
        # the registry's live list: an adversary registered later is accepted too
        "adversary": [StrOptions(ADVERSARIES.keys())],
        "rho": [Interval(Real, 0, None, closed="left")],
        "C": [Interval(Real, 0, np.inf, closed="right")],  # inf: no penalty
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "adversary_alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"auto", "newton"} | set(_GAME_SOLVERS))],
        "eta": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither"), tuple, list],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
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
        class_weight=None,
        adversary_alpha=1.0,
        fit_intercept=True,
        solver="auto",
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
        self.class_weight = class_weight
        self.adversary_alpha = adversary_alpha
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
    @restore_on_failure
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, groups=None, adversary_X=None):
        """Fit the classifier at the saddle point of the game against the adversary.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask.array.Array} of shape (n_samples, n_features)
            Training data; CSR is used as is, float32 is not copied to float64. A Dask array
            (dense or scipy sparse chunks) or Dask dataframe, chunked along the rows with
            known chunk sizes, is fitted where its chunks are and never gathered: each solver
            step is one or two passes over the chunks, which bring back only gradients and
            Hessians, and the losses of the rows stay with their chunks. That works for
            ``adversary`` ``"none"``, ``"kl"``, ``"chi2"`` and ``"group"`` with ``solver``
            ``"auto"`` or ``"newton"``, and for ``"parametric"`` with the game solvers; the
            others are refused with a ValueError. See :ref:`larger_than_memory`.
        y : array-like or dask.array.Array of shape (n_samples,)
            Class labels (at least two classes). With a Dask X, a Dask array (or series) is
            re-chunked to X's row chunks and an in-memory array is split into them; with an
            in-memory X, a Dask y is computed first.
        sample_weight : array-like or dask.array.Array of shape (n_samples,), default=None
            Non-negative weights, not all zero; a Dask array is handled as ``y``.
        groups : array-like or dask.array.Array of shape (n_samples,), default=None
            Group label of each sample; required by ``adversary="group"``, ignored otherwise.
            Routed by ``GridSearchCV``/``cross_validate`` with metadata routing
            (``set_fit_request(groups=True)``). A Dask array is handled as ``y``.
        adversary_X : {array-like, sparse matrix} of shape (n_samples, k), default=None
            The features of the ``"parametric"`` adversary (ignored by the others); None
            for its default, the rows of X interacted with the one-hot label, then the one-hot
            label (:func:`skcgd.games.default_adversary_features`). Routed like ``groups``
            (``set_fit_request(adversary_X=True)``). With a Dask X it may be a Dask array,
            handled as ``y``.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        if is_dask_collection(X):
            # fit on the chunks where they live (skcgd._chunked); only Newton's vectors and
            # Hessians travel
            from skcgd._chunked._logistic import prepare_chunked_fit

            prepared = prepare_chunked_fit(self, X, y, sample_weight, groups, adversary_X)
        else:
            if any(is_dask_collection(a) for a in (y, sample_weight, groups)):
                # X is in memory: its companions are no larger, gather them
                y, sample_weight, groups = (
                    a.compute() if is_dask_collection(a) else a for a in (y, sample_weight, groups)
                )
            prepared = self._prepare(X, y, sample_weight, groups, adversary_X)
        return self._fit_prepared(prepared)

    def _prepare(self, X, y, sample_weight, groups, adversary_X):
        """Validate in-memory inputs once and build the game (no further checks)."""
        # validate once; the game is then built without checking again
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32], order="C"
        )
        X = as_aligned(X)  # the same bits wherever X comes from (e.g. a Dask worker)
        check_classification_labels(y)
        encoder = LabelEncoder()
        y_idx = encoder.fit_transform(y)
        classes = encoder.classes_
        n_classes = len(classes)
        if n_classes < 2:
            raise ValueError(
                "MinimaxLogisticRegression needs samples of at least two classes; the data "
                f"contains only one class: {classes[0]!r}."
            )
        s = check_sample_weight(sample_weight, X.shape[0])
        if self.class_weight is not None:
            # as scikit-learn's LogisticRegression: the class weights multiply the sample
            # weights ("balanced" counts the samples by their weights)
            per_class = compute_class_weight(
                self.class_weight, classes=classes, y=y, sample_weight=s
            )
            s = s * per_class[y_idx]
            if not s.sum() > 0:
                raise ValueError(
                    "class_weight leaves no sample with positive weight: give at least one "
                    "class a positive weight."
                )
        check_problem_scale(X, s, 1.0 if self.C == np.inf else self.C)
        adversary = get_adversary(self.adversary)
        group_labels = group_index = present = None
        if adversary.needs_groups:
            group_labels, group_index, present = encode_groups(groups, X.shape[0], s)
        multinomial = n_classes > 2
        if adversary.needs_features and adversary_X is not None:
            adversary_X = check_adversary_features(adversary_X, X.shape[0])
        game = make_logistic_game(
            self.adversary,
            X,
            y_idx if multinomial else np.where(y_idx == 1, 1, -1),
            rho=self.rho,
            C=self.C,
            sample_weight=s,
            groups=group_index,
            adversary_X=adversary_X,
            adversary_alpha=self.adversary_alpha,
            fit_intercept=self.fit_intercept,
            multinomial=multinomial,
            n_classes=n_classes if multinomial else None,
            check_input=False,
        )

        return {
            "game": game,
            "classes": classes,
            "dtype": X.dtype,
            "n_features": X.shape[1],
            "group_labels": group_labels,
            "present": present,
            "adversary_X": adversary_X,
        }

    def _fit_prepared(self, prepared):
        """Solve the prepared game and set the fitted attributes (only once it is solved)."""
        game, classes = prepared["game"], prepared["classes"]
        n_classes = len(classes)
        multinomial = n_classes > 2
        adversary = get_adversary(self.adversary)
        adversary_X = prepared.get("adversary_X")
        group_labels, present = prepared["group_labels"], prepared["present"]
        p, dtype = prepared["n_features"], prepared["dtype"]
        # the stopping threshold is relative to the gradient at zero coefficients (with the
        # adversary at its best response, or at psi = 0 where there is none in closed form)
        solves_game = not isinstance(game, PlainLogisticGame) and not adversary.has_primal
        zero = np.zeros(game.n_x)
        if solves_game:
            start = game.adversary_start(zero)
            reference = float(np.linalg.norm(np.concatenate(game.grads(zero, start))))
        else:
            reference = float(np.linalg.norm(game.primal_grad(zero)))
        tol = self.tol * max(reference, np.finfo(float).tiny)
        x0 = self._start(game, p)
        result, objective = self._solve(game, adversary, x0, tol, solves_game)
        if not result.converged:
            name = self._solver_name(solves_game)
            advice = ", use solver='newton'," if name != "newton" and not solves_game else ""
            warnings.warn(
                f"MinimaxLogisticRegression (solver={name!r}) did not converge in "
                f"max_iter={self.max_iter} iterations (gradient norm "
                f"{result.history['grad_norm_x'][-1]:.3e}, tolerance {tol:.3e}). Increase "
                f"max_iter{advice} or scale the features (e.g. StandardScaler).",
                ConvergenceWarning,
                stacklevel=3,  # the caller of fit
            )

        W = result.x.reshape(game.K, game.q)
        # solved in float64; stored in X's dtype, as scikit-learn's linear models do, so that
        # float32 data gives float32 scores and probabilities
        self.classes_ = classes
        self.coef_ = W[:, :p].astype(dtype)
        if self.fit_intercept:
            b = W[:, p].copy()
            if multinomial:
                b -= b.mean()  # the softmax loss only sees differences of intercepts
            self.intercept_ = b.astype(dtype)
        else:
            self.intercept_ = np.zeros(game.K, dtype=dtype)
        if solves_game:
            weights = game.strategy_weights(result.y)
        else:
            weights = game.equilibrium_weights(result.x)
        if adversary.needs_features:
            # psi; rho = 0 (the plain game) leaves the adversary at psi = 0
            k = (
                adversary_X.shape[1]
                if adversary_X is not None
                else (n_classes if multinomial else 2) * (p + 1)
            )
            self.adversary_coef_ = result.y.copy() if solves_game else np.zeros(k)
            # adversary_weights needs to know which features psi is over
            self._default_adversary_features = adversary_X is None
        elif hasattr(self, "adversary_coef_"):
            del self.adversary_coef_
        if adversary.needs_groups:
            # one weight per group label seen; groups without weight are not in the game
            self.groups_ = group_labels
            expanded = np.zeros(len(group_labels))
            expanded[present] = weights
            weights = expanded
        self.adversary_weights_ = weights
        self.n_iter_ = np.array([result.n_iter], dtype=np.int32)
        self.converged_ = bool(result.converged)
        hist = result.history
        self.history_ = {
            "objective": np.asarray(objective, dtype=float),
            "grad_norm_x": hist["grad_norm_x"],
            "grad_norm_y": hist["grad_norm_y"],
            "cg_iter": hist["cg_iter"],
        }
        if "feature_names" in prepared:
            # a fit on Dask arrays: validate_data did not see X, the chunks did
            from skcgd._chunked._engine import set_feature_info

            set_feature_info(self, p, prepared["feature_names"])
            self.dask_stats_ = game.chunks.stats()
            game.release()
        elif hasattr(self, "dask_stats_"):
            del self.dask_stats_
        return self

    def adversary_weights(self, X, y, adversary_X=None):
        """Score data with the fitted ``"parametric"`` adversary: its distribution over them.

        Where, on data never seen in training, the model is fragile: the adversary's
        log-linear model :math:`q_i \\propto e^{\\psi^T z_i}`, normalised over the rows given.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.
        y : array-like of shape (n_samples,)
            Their labels (the default adversary features depend on the label), among
            ``classes_``.
        adversary_X : {array-like, sparse matrix} of shape (n_samples, k), default=None
            The adversary features of these rows, as passed to ``fit`` (None if fit used the
            default features).

        Returns
        -------
        weights : ndarray of shape (n_samples,)
            Non-negative, summing to one.
        """
        check_is_fitted(self)
        if not hasattr(self, "adversary_coef_"):
            raise AttributeError(
                "adversary_weights scores data with the 'parametric' adversary's model; this "
                f"estimator was fitted with adversary={self.adversary!r}."
            )
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32], reset=False)
        y = np.asarray(y)
        if y.shape != (X.shape[0],):
            raise ValueError(
                f"y must have one label per row of X: shape ({X.shape[0]},), got {y.shape}."
            )
        unknown = ~np.isin(y, self.classes_)
        if unknown.any():
            raise ValueError(
                f"y contains labels not seen in fit: {np.unique(y[unknown])[:5].tolist()}; "
                f"the classes are {self.classes_.tolist()}."
            )
        k = self.adversary_coef_.shape[0]
        if adversary_X is None:
            n_classes = len(self.classes_)
            if not self._default_adversary_features:
                raise ValueError(
                    "The adversary was fitted on adversary_X: pass the adversary features of "
                    "these rows too."
                )
            Z = default_adversary_features(X, np.searchsorted(self.classes_, y), n_classes)
        else:
            if self._default_adversary_features:
                raise ValueError(
                    "The adversary was fitted on its default features (adversary_X=None in "
                    "fit): call adversary_weights without adversary_X."
                )
            Z = check_adversary_features(adversary_X, X.shape[0])
            if Z.shape[1] != k:
                raise ValueError(
                    f"adversary_X has {Z.shape[1]} columns; the adversary was fitted on {k}."
                )
        a = np.asarray(Z @ self.adversary_coef_, dtype=np.float64).ravel()
        return np.exp(a - logsumexp(a))

    def _start(self, game, p):
        """Zero coefficients, or the previous solution with ``warm_start`` (the previous
        ``adversary_coef_`` is picked up by :meth:`_solve`)."""
        x0 = np.zeros(game.n_x)
        coef = getattr(self, "coef_", None)
        if not self.warm_start or coef is None or coef.shape != (game.K, p):
            return x0
        W = x0.reshape(game.K, game.q)
        W[:, :p] = coef
        if self.fit_intercept:
            W[:, p] = self.intercept_
        return x0

    def _solver_name(self, solves_game):
        """``solver``, with ``"auto"`` resolved: Newton wherever a primal exists."""
        if self.solver == "auto":
            return "cgd" if solves_game else "newton"
        return self.solver

    def _solve(self, game, adversary, x0, tol, solves_game):
        """Run the solver on the game; returns ``(result, objective per iteration)``.

        The objective is the primal where the adversary's best response is closed-form, the
        game's value at the iterates otherwise (``solves_game``)."""
        name = self._solver_name(solves_game)
        if name == "newton":
            if solves_game:
                raise ValueError(
                    f"solver='newton' needs the adversary's best response in closed form, "
                    f"which adversary={self.adversary!r} does not have; use solver='cgd'."
                )
            solver = Newton(
                max_iter=self.max_iter,
                tol=tol,
                decrement_tol=self.tol,
                cg_max_iter=self.cg_max_iter,
            )
            y0 = None
        else:
            if not adversary.game_solvers:
                raise ValueError(
                    f"solver={name!r} cannot play adversary={self.adversary!r}: its "
                    "adversary lives on a set the game solvers do not move in (the capped "
                    "simplex). Use solver='newton', which solves it exactly."
                )
            y0 = game.adversary_start(x0)
            previous = getattr(self, "adversary_coef_", None)
            if self.warm_start and previous is not None and previous.shape == y0.shape:
                y0 = previous.copy()
            cls = _GAME_SOLVERS[name]
            if cls is CGD and game.domain_y == "simplex":
                cls = CompetitiveMirrorDescent
            options = {"max_iter": self.max_iter, "tol": tol}
            if name in ("cgd", "acgd"):
                options.update(cg_tol=self.cg_tol, cg_max_iter=self.cg_max_iter)
            solver = cls(self._step_sizes(game, x0, y0, name), **options)

        def objective_at(state_x, state_y):
            return game.value(state_x, state_y) if solves_game else game.primal(state_x)

        objective = [objective_at(x0, y0)]
        verbose = self.verbose

        def record(state):
            objective.append(objective_at(state.x, state.y))
            if verbose and state.n_iter % verbose == 0:
                gx = float(np.linalg.norm(state.grad_x))
                gy = float(np.linalg.norm(state.grad_y))
                # Newton's adversary plays its best response: one gradient, the primal's
                norms = (
                    f"|grad| {gx:.3e}" if y0 is None else f"|grad_x| {gx:.3e}  |grad_y| {gy:.3e}"
                )
                print(
                    f"[MinimaxLogisticRegression {name}] iter {state.n_iter:5d}  objective "
                    f"{objective[-1]:.10g}  {norms}  CG iterations {state.cg_iter}"
                )

        # the estimator warns once, with its own advice (warn=False: no warning filters)
        result = solver.run(game, x0, y0, callback=record, warn=False)
        if y0 is None or not adversary.has_primal:
            return result, objective
        # A game solver stops on the game's gradient, which does not certify the objective
        # (with a large C the gradient's scale misleads, see tol): confirm on the primal,
        # tightening the game's tolerance while steps remain.
        history = {k: list(v) for k, v in result.history.items()}
        steps = result.n_iter
        while result.converged and not _primal_certified(game, result.x, self.tol):
            if steps >= self.max_iter or solver.tol < 1e-300:
                result.converged = False
                break
            solver.tol *= 0.01
            solver.max_iter = self.max_iter - steps

            def shifted(state, offset=steps):
                return record(state._replace(n_iter=offset + state.n_iter))

            recorded = len(objective)
            try:
                refined = solver.run(game, result.x, result.y, callback=shifted, warn=False)
            except DivergenceError:
                # The step sizes were chosen at the start; on extreme data they can be
                # unstable where the first run stopped. Its iterate stands, not certified.
                del objective[recorded:]
                result.converged = False
                break
            result = refined
            steps += result.n_iter
            for k, v in result.history.items():
                history[k] += list(v if k == "cg_iter" else v[1:])
        result.n_iter = steps
        result.history = {
            k: np.asarray(v, dtype=int if k == "cg_iter" else float) for k, v in history.items()
        }
        return result, objective

    def _step_sizes(self, game, x0, y0, name):
        """``eta``, or for ``"auto"`` each player's natural step (scaled for EG and OGDA)."""
        if not isinstance(self.eta, str):
            return self.eta if isinstance(self.eta, Real) else tuple(self.eta)
        factor = _FIRST_ORDER_FACTOR.get(name, 1.0)
        eta_x, eta_y = game.natural_step_sizes(x0, y0)
        return factor * eta_x, factor * eta_y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
