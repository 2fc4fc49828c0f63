"""Matrix functions and measures: ``matrix_exp`` (a primitive), and ``linalg.cond``,
``linalg.matrix_rank``, ``linalg.tensorinv``, ``linalg.tensorsolve`` and ``linalg.vander``,
written with other ops.
"""

from __future__ import annotations

import math

import numpy as np

from .._tensor import wrap
from ..backend import xp
from ._core import Primitive, register_method, replayable
from ._out import takes_out, write_out
from .cumulative import cumprod
from .decompositions import Eigh, Svd, _float, _sq
from .diagonal import _arr
from .indexing import getitem
from .joining import cat
from .linalg import inv, matrix_norm, solve
from .linalg_lu import inv_ex
from .linalg_triangular import _adj
from .shape import movedim, reshape, unsqueeze

__all__ = ["matrix_exp"]


# -------------------------------------------------------------------- matrix_exp

def _block(a, b):
    """[[a, b], [0, a]]: the matrix whose exponential holds the Frechet derivative of exp
    at a in direction b in its upper-right block."""
    zero = xp(_arr(a)).zeros(a.shape, _arr(a).dtype)
    return cat([cat([a, b], -1), cat([zero, a], -1)], -2)


def _upper_right(x, n: int):
    return getitem(x, (..., slice(0, n), slice(n, None)))


class MatrixExp(Primitive):
    """exp(A) = sum A^k / k!.  The derivative is the Frechet derivative L(A, E), read from
    exp([[A, E], [0, A]]) (upper-right block): d/dA = L(A^H, grad), tangent = L(A, tA)."""

    __slots__ = ()
    _name = "LinalgMatrixExpBackward0"
    formula = "exp([[A^H, grad], [0, A^H]])[:n, n:]"

    def forward(ctx, x):
        import scipy.linalg as sl

        _sq(x, "linalg.matrix_exp")
        ctx.save(x)
        if x.size == 0:
            return x.copy()
        return xp(x).asarray(sl.expm(x), x.dtype)

    def backward(ctx, grad):
        (x,) = ctx.saved
        return _upper_right(MatrixExp.generic(_block(_adj(x), grad)), x.shape[-1])

    def jvp(ctx, tx):
        (x,) = ctx.saved
        return _upper_right(MatrixExp.generic(_block(x, tx)), x.shape[-1])


@register_method("matrix_exp")
def matrix_exp(A):
    """The matrix exponential of square matrices (batched)."""
    return MatrixExp.generic(A)


# -------------------------------------------------------------------------- cond

_NORM_ORDS = ("fro", "nuc", math.inf, -math.inf, 1, -1)


def cond(A, p=None, *, out=None):
    """The condition number: ratio of extreme singular values for p in (None, 2, -2), else
    ``norm(A, p) * norm(inv(A), p)`` (inf where A is singular)."""
    name = "linalg.cond"
    if p is not None and p not in (2, -2) + _NORM_ORDS:
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    _float(_arr(A), name)
    if p in (None, 2, -2):
        s = Svd.generic(A, full_matrices=False)[1]
        if s.shape[-1] == 0:
            return write_out(s.sum(-1) * 0, out, name)
        top, bottom = getitem(s, (..., 0)), getitem(s, (..., -1))
        with np.errstate(all="ignore"):
            return write_out(bottom / top if p == -2 else top / bottom, out, name)
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.cond(ord={p}): A must be batches of square matrices, but "
                           f"they are {A.shape[-2]} by {A.shape[-1]} matrices")
    inverse, info = inv_ex(A)
    res = matrix_norm(A, p) * matrix_norm(inverse, p)
    bad = _arr(info) != 0
    if bad.any():  # singular: infinitely ill-conditioned
        res = res.masked_fill(wrap(bad), math.inf)
    return write_out(res, out, name)


# ------------------------------------------------------------------- matrix_rank

def _tolerance(values, atol, rtol, shape):
    m = xp(values)
    eps = m.finfo(values.dtype).eps
    atol = 0.0 if atol is None else _arr(atol)
    if rtol is None:
        rtol = eps * max(shape[-2:]) if (np.ndim(atol) == 0 and atol == 0) else 0.0
    rtol = _arr(rtol)
    top = values.max(-1, initial=0) if values.shape[-1] else m.zeros(values.shape[:-1])
    return m.maximum(atol, rtol * top)


@takes_out("linalg.matrix_rank")
def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None):
    """The number of singular values (eigenvalue moduli when hermitian) above
    ``max(atol, rtol * largest)``; ``tol`` is the older name for atol (with rtol = 0)."""
    name = "linalg.matrix_rank"
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor input must have at least 2 dimensions.")
    _float(_arr(A), name)
    if tol is not None:
        atol, rtol = tol, 0.0
    data = _arr(A)
    m = xp(data)
    if hermitian:
        values = m.abs(Eigh.generic(data)[0])
    else:
        values = Svd.generic(data, full_matrices=False)[1]
    cut = _tolerance(values, atol, rtol, data.shape)
    return wrap((values > m.expand_dims(cut, -1)).sum(-1).astype(m.int64))


# -------------------------------------------------------------- tensor inverses

def tensorinv(A, ind=2, *, out=None):
    """The tensor B with ``tensordot(B, A, ind)`` the identity: A reshaped to a square
    matrix (first ``ind`` dims against the rest), inverted, reshaped back."""
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    head, tail = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    rows, cols = math.prod(head), math.prod(tail)
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) "
                           f"== prod(self.shape[:ind]), but got {cols} != {rows}")
    return write_out(reshape(inv(reshape(A, (rows, cols))), tail + head), out,
                     "linalg.tensorinv")


def tensorsolve(A, B, dims=None, *, out=None):
    """X with ``tensordot(A, X, X.ndim) = B``; ``dims`` of A are moved to the end first."""
    if dims is not None:
        dims = [d % A.ndim for d in dims]
        A = movedim(A, dims, list(range(A.ndim - len(dims), A.ndim)))
    rest = tuple(A.shape[B.ndim:])
    rows, cols = math.prod(B.shape), math.prod(rest)
    if math.prod(A.shape[:B.ndim]) != rows or rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other."
                           f"ndim:]) == prod(self.shape[:other.ndim]), but got {cols} != "
                           f"{math.prod(A.shape[:B.ndim])}")
    x = solve(reshape(A, (rows, cols)), reshape(B, (rows,)))
    return write_out(reshape(x, rest), out, "linalg.tensorsolve")


# ------------------------------------------------------------------------ vander

def vander(x, *, N=None):
    """Columns x^0, x^1, ..., x^(N-1) along a new last dim (N defaults to x's last size),
    as a running product so the gradient at x = 0 is finite."""
    if x.ndim == 0:  # a scalar is one point
        x = reshape(x, (1,))
    n = x.shape[-1] if N is None else N
    if n is None or n <= 1:
        raise RuntimeError("N must be greater than 1.")
    col = unsqueeze(x, -1)
    # replayable: a captured step makes the column of ones again (a fresh tensor)
    ones = replayable(xp(_arr(x)).ones, col.shape, _arr(x).dtype)
    rest = col.expand(*col.shape[:-1], n - 1)
    return cumprod(cat([wrap(ones), rest], -1), -1)

