"""Conjugate gradient: the compiled loop for matrices and fused operators, a Python loop for
callables (optionally preconditioned).

An operator object that provides ``_cg_kernel()`` (the row-Gram operators of
:mod:`skcgd._linalg._operators`: it returns the compiled CG kernel of its kind and the arrays
it reads) is solved by that kernel, one pass over its data per iteration; this module needs no
import of the operator classes for that.
"""

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from skcgd._validation import (
    as_csr,
    as_float_array,
    check_integer,
    check_non_negative,
    readonly,
)

__all__ = ["conjugate_gradient", "python_cg"]


def python_cg(matvec, b, x0, tol, atol, max_iter, precond=None, confirm=True):
    """The CG loop of :func:`skcgd._kernels.cg._cg_loop` for operators given as callables,
    optionally preconditioned (``precond(r)`` applies the inverse of the preconditioner).

    ``confirm=False`` trusts the recursive residual instead of confirming convergence on
    ``b - A x`` (one product less): for inexact inner solves whose result is checked
    otherwise, such as Newton directions followed by a line search."""
    x = x0.copy()
    threshold = max(tol * np.linalg.norm(b), atol)
    r = b - matvec(x) if x.any() else b.copy()  # A 0 = 0: no product needed
    if r @ r > b @ b:  # a warm start worse than zero is dropped
        x[:] = 0.0
        r = b.copy()
    rr = r @ r
    if not np.isfinite(rr):
        return x, 0, False
    if np.sqrt(rr) <= threshold:
        return x, 0, True
    z = r if precond is None else precond(r)
    rz = r @ z
    p = z.copy()
    it = 0
    while it < max_iter:
        it += 1
        Ap = matvec(p)
        pAp = p @ Ap
        if not pAp > 0.0 or not rz > 0.0:
            return x, it, False
        alpha = rz / pAp
        with np.errstate(over="ignore", invalid="ignore"):  # checked on the next line
            step = x + alpha * p
        if not np.isfinite(step).all():  # no representable solution: the last finite iterate
            return x, it, False
        x = step
        r -= alpha * Ap
        rr = r @ r
        if not np.isfinite(rr):
            return x, it, False
        if np.sqrt(rr) <= threshold:
            if not confirm:
                return x, it, True
            r = b - matvec(x)
            if np.sqrt(r @ r) <= threshold:
                return x, it, True
            if not np.isfinite(r @ r):
                return x, it, False
            z = r if precond is None else precond(r)  # drifted: restart from the true residual
            rz = r @ z
            p = z.copy()
            continue
        z = r if precond is None else precond(r)
        rz_new = r @ z
        p = z + (rz_new / rz) * p
        rz = rz_new
    return x, it, False


def conjugate_gradient(A, b, *, x0=None, tol=1e-6, atol=0.0, max_iter=None, M=None):
    r"""Solve ``A x = b`` for a symmetric positive definite ``A`` by conjugate gradient.

    Parameters
    ----------
    A : ndarray, sparse matrix, RowGramOperator, CGDOperator, LinearOperator or callable
        The SPD operator, of shape (m, m). Dense and CSR matrices and skcgd's structured
        operators run in a compiled loop; a :class:`scipy.sparse.linalg.LinearOperator` or a
        callable ``v -> A @ v`` runs in a Python loop.
    b : array-like of shape (m,)
        Right-hand side.
    x0 : array-like of shape (m,), default=None
        Warm start (zeros if None). The first residual is the true one, ``b - A x0``; a warm
        start whose residual is larger than ``||b||`` is replaced by zero.
    tol : float, default=1e-6
        Relative tolerance: stop when ``||b - A x|| <= max(tol * ||b||, atol)``.
    atol : float, default=0.0
        Absolute tolerance.
    max_iter : int, default=None
        Maximum number of iterations; ``None`` means ``10 * m``. Never capped at ``m``: in
        floating point CG can need more than ``m`` iterations on ill-conditioned systems.
    M : callable or LinearOperator, default=None
        Preconditioner: applies the inverse of an SPD approximation of ``A`` to a vector
        (preconditioned CG, in a Python loop). Convergence is still tested on ``b - A x``.

    Returns
    -------
    x : ndarray of shape (m,)
        The approximate solution.
    n_iter : int
        Iterations performed (products with ``A`` inside the loop).
    converged : bool
        Whether the tolerance was met on the true residual. ``False`` also when ``A`` turned
        out not to be positive definite along a search direction.

    Notes
    -----
    CG minimises :math:`\tfrac12 x^T A x - b^T x` over growing Krylov spaces; after ``k``
    iterations the A-norm error has shrunk by at least
    :math:`2((\sqrt\kappa - 1)/(\sqrt\kappa + 1))^k`, :math:`\kappa` the condition number.
    Convergence is always confirmed on the true residual, so a nearly singular system reports
    ``converged=False`` rather than a solution that only the recursive residual believes in.

    Examples
    --------
    >>> import numpy as np
    >>> from skcgd.solvers import conjugate_gradient
    >>> A = np.array([[4.0, 1.0], [1.0, 3.0]])
    >>> x, n_iter, converged = conjugate_gradient(A, np.array([1.0, 2.0]), tol=1e-12)
    >>> np.round(x, 6), n_iter, converged
    (array([0.090909, 0.636364]), 2, True)
    """
    b = as_float_array(b, "b", 1)
    m = b.shape[0]
    tol = check_non_negative(tol, "tol")
    atol = check_non_negative(atol, "atol")
    max_iter = 10 * max(m, 1) if max_iter is None else check_integer(max_iter, "max_iter")
    x0 = np.zeros(m) if x0 is None else as_float_array(x0, "x0", 1).copy()
    if x0.shape[0] != m:
        raise ValueError(f"x0 has length {x0.shape[0]} but b has length {m}.")

    if M is not None:
        apply_M = M.matvec if isinstance(M, LinearOperator) else M
        if hasattr(A, "_cg_kernel") or isinstance(A, LinearOperator):
            matvec = A.matvec
        elif callable(A) and not isinstance(A, np.ndarray):
            matvec = A
        else:
            A_checked = A if sp.issparse(A) else as_float_array(A, "A", 2)
            if A_checked.shape != (m, m):
                raise ValueError(f"A must have shape ({m}, {m}) to match b, got {A.shape}.")

            def matvec(v):
                return A_checked @ v

        return python_cg(
            matvec,
            b,
            x0,
            tol,
            atol,
            max_iter,
            lambda r: np.asarray(apply_M(r), dtype=np.float64).reshape(-1),
        )
    # the kernels are imported here, not at the top: Numba loads when a system is first solved
    from skcgd._kernels.cg import _cg_solve_csr, _cg_solve_dense

    if hasattr(A, "_cg_kernel"):  # a fused row-Gram operator: the compiled loop
        if A.shape[0] != m:
            raise ValueError(f"A has shape {A.shape} but b has length {m}.")
        kernel, args = A._cg_kernel()
    elif sp.issparse(A):
        if A.shape != (m, m):
            raise ValueError(f"A must have shape ({m}, {m}) to match b, got {A.shape}.")
        A = as_csr(A, "A")
        data = A.data if A.dtype == np.float64 else A.data.astype(np.float64)
        kernel, args = _cg_solve_csr, (readonly(data), A.indices, A.indptr)
    elif isinstance(A, LinearOperator) or (callable(A) and not isinstance(A, np.ndarray)):
        matvec = A.matvec if isinstance(A, LinearOperator) else A
        if isinstance(A, LinearOperator) and A.shape != (m, m):
            raise ValueError(f"A must have shape ({m}, {m}) to match b, got {A.shape}.")

        def checked(v):
            out = np.asarray(matvec(v), dtype=np.float64).reshape(-1)
            if out.shape[0] != m:
                raise ValueError(f"A @ v returned length {out.shape[0]}, expected {m}.")
            return out

        return python_cg(checked, b, x0, tol, atol, max_iter)
    else:
        A = as_float_array(A, "A", 2)
        if A.shape != (m, m):
            raise ValueError(f"A must have shape ({m}, {m}) to match b, got {A.shape}.")
        kernel, args = _cg_solve_dense, (readonly(A),)
    # b and x0 are writeable float64 vectors (as_float_array): one specialisation as they are
    x, n_iter, converged = kernel(*args, b, x0, float(tol), float(atol), int(max_iter))
    return x, int(n_iter), bool(converged)
