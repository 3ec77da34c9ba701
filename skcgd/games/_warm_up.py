"""Compile the kernels of the logistic games (and the CG kernels they call) on tiny games."""

import numpy as np
import scipy.sparse as sp

from skcgd._registry import register_warm_up
from skcgd.games._chi2 import Chi2LogisticGame
from skcgd.games._kl import KLLogisticGame
from skcgd.games._plain import PlainLogisticGame


@register_warm_up
def _warm_up():
    """Every input layout of X the estimators pass on, binary and multinomial."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 3))
    y_bin = np.array([1, -1, 1, -1, 1, -1])
    y_cls = np.array([0, 1, 2, 0, 1, 2])
    datas = [X, X.astype(np.float32), sp.csr_matrix(X)]
    # read-only X (joblib hands arrays over 1 MB to its workers as read-only memory maps) is
    # another specialisation of the CG kernels: compile it here too, so workers only load it
    for dtype in (np.float64, np.float32):
        frozen = X.astype(dtype)
        frozen.flags.writeable = False
        datas.append(frozen)
    frozen = sp.csr_matrix(X)
    for part in (frozen.data, frozen.indices, frozen.indptr):
        part.flags.writeable = False
    datas.append(frozen)
    for data in datas:
        for multinomial, labels in ((False, y_bin), (True, y_cls)):
            for cls in (Chi2LogisticGame, KLLogisticGame):
                game = cls(data, labels, multinomial=multinomial, fit_intercept=True)
                x = np.zeros(game.n_x)
                y = np.full(game.n_y, 1.0 / game.n_y)
                game.value(x, y)
                gx, gy = game.grads(x, y)
                op = game.mixed(x, y)
                op.rmatvec(op.matvec(gy))
                op.solve("x", np.ones(game.n_x), np.ones(game.n_y), gx, x, 1e-6, 0.0, 20)
            # the primal's fused binary gradient and its Hessian products (Newton)
            plain = PlainLogisticGame(data, labels, multinomial=multinomial, fit_intercept=True)
            x = np.zeros(plain.n_x)
            _, grad, terms = plain.primal_evaluate(x)
            plain.primal_hessian_operator(x, terms).matvec(grad)
