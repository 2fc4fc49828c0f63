"""LU with partial pivoting: ``linalg.lu_factor(_ex)``, ``linalg.lu``, ``lu``, ``lu_unpack``,
``linalg.lu_solve``, ``lu_solve``, and the ``_ex`` forms of inv and solve that report
LAPACK's info instead of raising.

One primitive, ``LuFactor``, gives the packed factors (L strictly below the diagonal, U on
and above it) and LAPACK's 1-based pivots; everything else is written over it, over
``lu_unpack`` and over triangular solves, so its gradient is the only one derived here.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._tensor import wrap
from ..backend import xp
from ._core import Primitive, register_method, replayable
from ._out import dtype_name, takes_out
from .decompositions import Inv, LinAlgError, _float, _mT
from .diagonal import _arr, tril, triu
from .indexing import getitem
from .joining import cat
from .linalg_triangular import SolveTriangular, _adj
from .reduction import _result

__all__ = ["lu", "lu_solve", "lu_unpack"]


# --------------------------------------------------------------------------- helpers

def _factor(x):
    """LAPACK getrf on each matrix: (packed LU, 0-based row interchanges)."""
    import scipy.linalg as sl

    m = xp(x)
    rows, cols = x.shape[-2:]
    k = min(rows, cols)
    if x.size == 0:
        return m.zeros(x.shape, x.dtype), m.zeros(x.shape[:-2] + (k,), m.int32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a singular U is reported through info
        lu, piv = sl.lu_factor(x, check_finite=False)
    return m.asarray(lu, x.dtype), m.asarray(piv, m.int32)


def _perm(piv, rows: int):
    """The row order of P^T A from 0-based interchanges: (P^T A)[j] = A[perm[j]]."""
    m = xp(piv)
    batch = piv.shape[:-1]
    perm = m.broadcast_to(m.arange(rows), batch + (rows,)).copy()
    flat, flat_piv = perm.reshape(-1, rows), piv.reshape(-1, piv.shape[-1])
    at = m.arange(flat.shape[0])
    for i in range(piv.shape[-1]):
        j = flat_piv[:, i]
        flat[at, i], flat[at, j] = flat[at, j], flat[at, i].copy()
    return flat.reshape(perm.shape)


def _perm_matrix(perm, dtype):
    """P with A = P L U, from the row order (P[perm[j], j] = 1)."""
    m = xp(perm)
    n = perm.shape[-1]
    return m.swapaxes(m.eye(n, dtype=dtype)[perm], -1, -2)


def _pivots_matrix(piv, rows: int, dtype):
    """P from LAPACK's 1-based row interchanges."""
    return _perm_matrix(_perm(piv - 1, rows), dtype)


def _unpack(lu):
    """(L, U) from packed factors: L unit lower (m x k), U upper (k x n)."""
    rows, cols = lu.shape[-2:]
    k = min(rows, cols)
    eye = xp(_arr(lu)).eye(rows, k, dtype=_arr(lu).dtype)
    L = tril(getitem(lu, (..., slice(None), slice(0, k))), -1) + eye
    U = triu(getitem(lu, (..., slice(0, k), slice(None))))
    return L, U


def _pack(dL, dU, rows: int, cols: int):
    """Packed form of (strictly lower L part, upper U part), padded to rows x cols."""
    low, up = tril(dL, -1), triu(dU)
    if rows > cols:
        return low + cat([up, _zeros_like_rows(up, rows - cols)], -2)
    if cols > rows:
        return cat([low, _zeros_like_cols(low, cols - rows)], -1) + up
    return low + up


def _zeros_like_rows(x, n):
    return xp(_arr(x)).zeros(x.shape[:-2] + (n, x.shape[-1]), _arr(x).dtype)


def _zeros_like_cols(x, n):
    return xp(_arr(x)).zeros(x.shape[:-1] + (n,), _arr(x).dtype)


def _lsolve(L, b):
    return SolveTriangular.generic(L, b, upper=False, unitriangular=True)


def _usolve(U, b):
    return SolveTriangular.generic(U, b, upper=True)


def _square_grad(L, U, gL, gU):
    """Gradient of A = L U (square, unpermuted) from those of L and U:
    L^{-H} (tril(L^H gL, -1) + triu(gU U^H)) U^{-H}."""
    inner = tril(_adj(L) @ gL, -1) + triu(gU @ _adj(U))
    y = SolveTriangular.generic(_adj(L), inner, upper=True, unitriangular=True)
    return _adj(_usolve(U, _adj(y)))


def _rows(x, start, stop):
    return getitem(x, (..., slice(start, stop), slice(None)))


def _cols(x, start, stop):
    return getitem(x, (..., slice(start, stop)))


class LuFactor(Primitive):
    """(LU, pivots) with P^T A = L U.  For square A, d/dA = P L^{-H} (tril(L^H gL, -1)
    + triu(gU U^H)) U^{-H}; a tall A adds the rows below (L2 = A2 U^{-1}), a wide A the
    columns right of the square (U2 = L^{-1} A2)."""

    __slots__ = ("perm",)
    _name = "LinalgLuFactorExBackward0"
    nondiff_outputs = (1,)
    formula = "P L^-H (tril(L^H gL, -1) + triu(gU U^H)) U^-H (+ tall/wide blocks)"

    def forward(ctx, x):
        lu, piv = _factor(x)
        ctx.perm = _perm(piv, x.shape[-2])
        ctx.save(lu)
        return lu, piv + 1

    def backward(ctx, grad, _grad_pivots=None):
        (lu,) = ctx.saved
        rows, cols = lu.shape[-2:]
        k = min(rows, cols)
        L, U = _unpack(lu)
        gL, gU = tril(_cols(grad, 0, k), -1), triu(_rows(grad, 0, k))
        if rows > cols:  # L = [L1; L2], L2 = A2 U^{-1}
            L1, L2, gL2 = _rows(L, 0, k), _rows(L, k, None), _rows(gL, k, None)
            g2 = _adj(_usolve(U, _adj(gL2)))  # gL2 U^{-H}
            g = cat([_square_grad(L1, U, _rows(gL, 0, k), gU - _adj(L2) @ g2), g2], -2)
        elif cols > rows:  # U = [U1 U2], U2 = L^{-1} A2
            U1, U2, gU2 = _cols(U, 0, k), _cols(U, k, None), _cols(gU, k, None)
            g2 = SolveTriangular.generic(_adj(L), gU2, upper=True, unitriangular=True)
            g = cat([_square_grad(L, U1, gL - g2 @ _adj(U2), _cols(gU, 0, k)), g2], -1)
        else:
            g = _square_grad(L, U, gL, gU)
        return _unpermute(g, ctx.perm)

    def jvp(ctx, tx):
        (lu,) = ctx.saved
        rows, cols = lu.shape[-2:]
        k = min(rows, cols)
        L, U = _unpack(lu)
        t = _permute(tx, ctx.perm)
        L1, U1 = _rows(L, 0, k), _cols(U, 0, k)
        x = _adj(SolveTriangular.generic(_adj(U1), _adj(_lsolve(L1, _cols(_rows(t, 0, k), 0, k))),
                                         upper=False))  # L1^{-1} t11 U1^{-1}
        dL1, dU1 = L1 @ tril(x, -1), triu(x) @ U1
        if rows > cols:
            dL2 = _adj(SolveTriangular.generic(
                _adj(U1), _adj(_rows(t, k, None) - _rows(L, k, None) @ dU1), upper=False))
            return _pack(cat([dL1, dL2], -2), dU1, rows, cols), None
        if cols > rows:
            dU2 = _lsolve(L1, _cols(t, k, None) - dL1 @ _cols(U, k, None))
            return _pack(dL1, cat([dU1, dU2], -1), rows, cols), None
        return _pack(dL1, dU1, rows, cols), None


def _permute(x, perm):
    """P^T x: rows in the order ``perm``."""
    return _mT(_perm_matrix(perm, _arr(x).dtype)) @ x


def _unpermute(x, perm):
    """P x."""
    return _perm_matrix(perm, _arr(x).dtype) @ x


# ----------------------------------------------------------------------- public API

def _check_lu_input(A, name: str, pivot: bool) -> None:
    if A.ndim < 2:
        raise RuntimeError(f"torch.{name}: Expected tensor with 2 or more dimensions. Got "
                           f"size: {list(A.shape)} instead")
    _float(_arr(A), name)
    if not pivot:
        raise RuntimeError(f"{name}: LU without pivoting is not implemented on the CPU")


def _info(lu):
    """LAPACK's info: the 1-based index of the first zero on U's diagonal, else 0."""
    m = xp(lu)
    d = m.diagonal(lu, 0, -2, -1)
    zero = d == 0
    return m.where(zero.any(-1), zero.argmax(-1) + 1, 0).astype(m.int32)


_lu_factor_ex_result = _result("linalg_lu_factor_ex", ("LU", "pivots", "info"))
_lu_factor_result = _result("linalg_lu_factor", ("LU", "pivots"))
_lu_result = _result("linalg_lu", ("P", "L", "U"))
_lu_unpack_result = _result("lu_unpack", ("P", "L", "U"))


@takes_out("linalg.lu_factor_ex")
def lu_factor_ex(A, *, pivot=True, check_errors=False):
    """``(LU, pivots, info)``: packed factors of P^T A = L U, LAPACK's 1-based pivots and
    info (0, or the first zero pivot, 1-based)."""
    _check_lu_input(A, "linalg.lu_factor_ex", pivot)
    lu, piv = LuFactor.generic(A)
    info = _info(_arr(lu))
    if check_errors and info.any():
        _raise_singular(info, A.ndim, "linalg.lu_factor_ex")
    return _lu_factor_ex_result(lu, piv, wrap(info))


def _raise_singular(info, ndim, name):
    flat = info.reshape(-1)
    b = int(np.argmax(flat != 0))
    prefix = f"(Batch element {b}): " if ndim > 2 else ""
    i = int(flat[b])
    raise RuntimeError(f"torch.{name}: {prefix}U[{i},{i}] is zero and using it on lu_solve "
                       "would result in a division by zero. If you still want to perform "
                       "the factorization, consider calling linalg.lu(A, pivot) or "
                       "linalg.lu_factor_ex(A, pivot)")


@takes_out("linalg.lu_factor")
def lu_factor(A, *, pivot=True):
    """``(LU, pivots)``; raises when U has a zero on its diagonal."""
    _check_lu_input(A, "linalg.lu_factor", pivot)
    lu, piv = LuFactor.generic(A)
    info = _info(_arr(lu))
    if info.any():
        _raise_singular(info, A.ndim, "linalg.lu_factor")
    return _lu_factor_result(lu, piv)


@register_method("lu")
def lu(A, pivot=True, get_infos=False, out=None):
    """``torch.lu``: ``(LU, pivots)``, with LAPACK's infos too when ``get_infos``."""
    res = lu_factor_ex(A, pivot=pivot, out=out)
    return res if get_infos else _result_pair(res)


def _result_pair(res):
    return (res[0], res[1])


@takes_out("linalg.lu")
def linalg_lu(A, *, pivot=True):
    """``(P, L, U)`` with A = P L U."""
    _check_lu_input(A, "linalg.lu", pivot)
    lu, piv = LuFactor.generic(A)
    return _lu_result(*lu_unpack(lu, piv))


@register_method("lu_unpack")
@takes_out("lu_unpack")
def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """``(P, L, U)`` from ``lu_factor``'s packed factors and pivots; the parts not asked
    for are empty."""
    piv = _arr(LU_pivots)
    if piv.dtype != np.int32:
        raise RuntimeError("torch.lu_unpack: LU_pivots is expected to be a contiguous tensor "
                           "of torch.int32 dtype.\nNote: this function is intended to be used "
                           "with the output produced by torch.linalg.lu_factor")
    m = xp(piv)
    data = _arr(LU_data)
    empty = wrap(replayable(m.zeros, (0,), data.dtype))
    L, U = _unpack(LU_data) if unpack_data else (empty, empty)
    P = empty
    if unpack_pivots:  # from the pivots' values: a captured step computes it again
        P = wrap(replayable(_pivots_matrix, piv, data.shape[-2], data.dtype))
    return _lu_unpack_result(P, L, U)


def _check_lu_solve(LU, pivots, B, left: bool) -> None:
    name = "linalg.lu_solve"
    if B.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor B must have at least 2 dimensions.")
    if LU.ndim < 2 or LU.shape[-1] != LU.shape[-2]:
        raise RuntimeError(f"torch.{name}: A must be batches of square matrices, but they "
                           f"are {LU.shape[-2] if LU.ndim > 1 else 1} by {LU.shape[-1]} "
                           "matrices")
    n = LU.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        rows, cols = B.shape[-2:] if left else B.shape[-2:][::-1]
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {rows}x{cols})")
    if _arr(pivots).dtype != np.int32:
        raise RuntimeError(f"{name}: pivots should be a Tensor of scalar type torch.int32")
    if pivots.shape[-1] != n:
        raise RuntimeError(f"{name}: Number of pivots per batch should be same as the "
                           "dimension of the matrix")
    if _arr(LU).dtype != _arr(B).dtype:
        raise RuntimeError(f"{name}: Expected LU and B to have the same dtype, but found LU "
                           f"of type {dtype_name(_arr(LU).dtype)} and B of type "
                           f"{dtype_name(_arr(B).dtype)} instead")


def _solve_factored(P, L, U, b, adjoint: bool):
    """A^{-1} b (A^{-H} b when adjoint) for A = P L U."""
    if adjoint:  # A^H = U^H L^H P^T
        y = SolveTriangular.generic(_adj(U), b, upper=False)
        return P @ SolveTriangular.generic(_adj(L), y, upper=True, unitriangular=True)
    return _usolve(U, _lsolve(L, _mT(P) @ b))


@takes_out("linalg.lu_solve")
def linalg_lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """X with ``A X = B`` from ``lu_factor``'s output (``A^H X = B`` when adjoint; ``X A
    = B`` when not left)."""
    _check_lu_solve(LU, pivots, B, left)
    P, L, U = lu_unpack(LU, pivots)
    if left:
        return _solve_factored(P, L, U, B, adjoint)
    return _adj(_solve_factored(P, L, U, _adj(B), not adjoint))


@register_method("lu_solve")
@takes_out("lu_solve")
def lu_solve(input, LU_data, LU_pivots):
    """The older argument order: X with ``A X = input``."""
    return linalg_lu_solve(LU_data, LU_pivots, input)


# ------------------------------------------------------------- inv_ex and solve_ex

_inv_ex_result = _result("linalg_inv_ex", ("inverse", "info"))


def singular_info(A):
    """getrf's info per matrix of a square A (0 where nonsingular)."""
    return _info(_factor(_arr(A))[0]) if _arr(A).size else xp(_arr(A)).zeros(
        A.shape[:-2], np.int32)


@takes_out("linalg.inv_ex")
def inv_ex(A, *, check_errors=False):
    """``(inverse, info)``; a singular matrix gives LAPACK's info (and inf/NaN entries)
    instead of an error unless ``check_errors``."""
    info = singular_info(A) if A.ndim >= 2 and A.shape[-1] == A.shape[-2] else None
    if info is None or not info.any():
        return _inv_ex_result(Inv.generic(A), wrap(zero_info(A, info)))
    if check_errors:
        raise_batch(A, info, "linalg.inv_ex", lambda i: _inv_msg_at(i))
    lu, piv = LuFactor.generic(A)
    P, L, U = lu_unpack(lu, piv)
    eye = xp(_arr(A)).broadcast_to(xp(_arr(A)).eye(A.shape[-1], dtype=_arr(A).dtype), A.shape)
    with np.errstate(all="ignore"):
        return _inv_ex_result(_solve_factored(P, L, U, eye, False), wrap(info))


def zero_info(A, info):
    return info if info is not None else xp(_arr(A)).zeros(A.shape[:-2], np.int32)


def _inv_msg_at(i: int) -> str:
    return (f"The diagonal element {i} is zero, the inversion could not be completed because "
            "the input matrix is singular.")


def raise_batch(A, info, name, msg):
    """LinAlgError for the first batch element whose info is not 0."""
    flat = info.reshape(-1)
    b = int(np.argmax(flat != 0))
    prefix = f"(Batch element {b}): " if A.ndim > 2 else ""
    raise LinAlgError(f"{name}: {prefix}{msg(int(flat[b]))}")
