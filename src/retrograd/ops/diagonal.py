"""Diagonals and triangles: diagonal, diag_embed, diag, trace, tril and triu (and tril_,
triu_), built on two primitives that are each other's gradient."""

from __future__ import annotations

import numpy as np

from .._dims import wrap_dim
from .._tensor import Tensor
from ..backend import xp
from ._core import Primitive, register_method
from ._helpers import int_arg
from ._out import takes_out
from .unary import where

__all__ = ["diag", "diag_embed", "diagonal", "trace", "tril", "triu"]


def _arr(x):
    """The array behind a Tensor (or the array itself)."""
    return x._data if isinstance(x, Tensor) else x


def _diag_index(n: int, m: int, offset: int):
    length = max(0, min(n + min(offset, 0), m - max(offset, 0)))
    r = np.arange(length)
    return (r - min(offset, 0), r + max(offset, 0))


class Diagonal(Primitive):
    """the diagonal of dims (dim1, dim2), appended as the last dim.  d/dx = grad placed back
    on that diagonal of zeros."""

    __slots__ = ("dim1", "dim2", "offset", "shape")
    formula = "diagonal_scatter(zeros, grad, offset, dim1, dim2)"

    def forward(ctx, x, offset=0, dim1=0, dim2=1):
        d1, d2 = wrap_dim(dim1, x.ndim), wrap_dim(dim2, x.ndim)
        if d1 == d2:
            raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
        ctx.offset, ctx.dim1, ctx.dim2, ctx.shape = offset, d1, d2, x.shape
        return xp(x).diagonal(x, offset, d1, d2).copy()

    def backward(ctx, grad):
        return DiagonalScatter.generic(grad, shape=ctx.shape, offset=ctx.offset,
                                       dim1=ctx.dim1, dim2=ctx.dim2)

    def jvp(ctx, tx):
        return Diagonal.generic(tx, offset=ctx.offset, dim1=ctx.dim1, dim2=ctx.dim2)


class DiagonalScatter(Primitive):
    """zeros(shape) with g (diagonal last) written on the diagonal of (dim1, dim2).
    d/dg = diagonal(grad)."""

    __slots__ = ("dim1", "dim2", "offset")
    formula = "diagonal(grad, offset, dim1, dim2)"

    def forward(ctx, g, shape=(), offset=0, dim1=0, dim2=1):
        m = xp(g)
        ctx.offset, ctx.dim1, ctx.dim2 = offset, dim1, dim2
        out = m.zeros(shape, dtype=g.dtype)
        view = m.moveaxis(out, (dim1, dim2), (-2, -1))
        rows, cols = _diag_index(view.shape[-2], view.shape[-1], offset)
        view[..., rows, cols] = g
        return out

    def backward(ctx, grad):
        return Diagonal.generic(grad, offset=ctx.offset, dim1=ctx.dim1, dim2=ctx.dim2)

    def jvp(ctx, tg):
        return DiagonalScatter.generic(tg, shape=ctx.out_shape, offset=ctx.offset,
                                       dim1=ctx.dim1, dim2=ctx.dim2)


@register_method("diagonal")
def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal with the given offset of the 2-d slices over (dim1, dim2)."""
    return Diagonal.generic(input, offset=offset, dim1=dim1, dim2=dim2)


@register_method("diag_embed")
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices (over dims dim1, dim2 of the result) whose diagonals are input's last dim."""
    nd = input.ndim + 1
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = input.shape[-1] + abs(offset)
    rest = iter(input.shape[:-1])
    shape = tuple(n if i in (d1, d2) else next(rest) for i in range(nd))
    return DiagonalScatter.generic(input, shape=shape, offset=offset, dim1=d1, dim2=d2)


@register_method("diag")
@takes_out("diag", "exact")
def diag(input, diagonal=0, *, out=None):
    """1-d input: a matrix with it on the ``diagonal``; 2-d input: that diagonal."""
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim != 2:
        raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " f"{input.ndim}D")
    return Diagonal.generic(input, offset=diagonal, dim1=0, dim2=1)


@register_method("trace")
def trace(input):
    """Sum of the main diagonal of a 2-d matrix."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return diagonal(input).sum()


def _triangle(input, diagonal, lower: bool):
    name = "tril" if lower else "triu"
    diagonal = int_arg(name, "diagonal", diagonal)
    if input.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    m = xp(_arr(input))
    ones = m.ones(input.shape[-2:], dtype=bool)
    mask = m.tril(ones, diagonal) if lower else m.triu(ones, diagonal)
    return where(mask, input, m.zeros((), dtype=_arr(input).dtype))


@register_method("tril")
@takes_out("tril", "exact")
def tril(input, diagonal=0, *, out=None):
    """The lower triangle (at and below ``diagonal``) of the last two dims; zeros above."""
    return _triangle(input, diagonal, True)


@register_method("triu")
@takes_out("triu", "exact")
def triu(input, diagonal=0, *, out=None):
    """The upper triangle (at and above ``diagonal``) of the last two dims; zeros below."""
    return _triangle(input, diagonal, False)


def _inplace_via_copy(fn):
    def method(self, *args, **kwargs):
        return self.copy_(fn(self, *args, **kwargs))

    method.__name__ = fn.__name__ + "_"
    method.__doc__ = f"In-place ``{fn.__name__}``."
    return method


for _fn in (tril, triu):
    register_method(_fn.__name__ + "_")(_inplace_via_copy(_fn))
