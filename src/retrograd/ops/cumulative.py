"""Running sums and products along a dim: cumsum and cumprod (and their in-place forms)."""

from __future__ import annotations

import numpy as np

from .._dims import wrap_dim
from .._tensor import Tensor
from ..backend import xp
from ._core import Primitive, register_method
from ._out import write_out
from .complex import conj
from .reduction import _movedim, _prod_others, prod, sum
from .shape import unsqueeze
from .unary import where

__all__ = ["cumprod", "cumsum"]


def _running(scan: str, x, dim, dtype):
    """(dim, x, out): ``x`` in the dtype PyTorch accumulates in (``dtype``, or int64 for bool
    and integers) and its running sum or product (``scan``) along ``dim``."""
    d = wrap_dim(dim, x.ndim)
    if dtype is not None:
        x = x.astype(dtype._np)
    elif x.dtype.kind in "biu":
        x = x.astype(np.int64)
    if x.ndim == 0:
        return d, x, x.copy()
    if x.dtype == np.float16:  # accumulate in float32, as PyTorch does, then round once
        return d, x, getattr(xp(x), scan)(x, axis=d, dtype=np.float32).astype(x.dtype)
    return d, x, getattr(xp(x), scan)(x, axis=d, dtype=x.dtype)


class Cumsum(Primitive):
    """running sum along dim.  d/dx = reversed running sum of grad."""

    __slots__ = ("dim",)
    formula = "sum(grad) - cumsum(grad) + grad"

    def forward(ctx, x, dim=0, dtype=None):
        ctx.dim, _, out = _running("cumsum", x, dim, dtype)
        return out

    def backward(ctx, grad):
        if grad.ndim == 0:
            return grad
        return sum(grad, dim=ctx.dim, keepdim=True) - cumsum(grad, ctx.dim) + grad

    def jvp(ctx, tx):
        return cumsum(tx, ctx.dim)


class Cumprod(Primitive):
    """running product along dim (inputs without zeros).  d/dx = revcumsum(grad*out) / x
    (conjugated for complex x: grad * conj(d))."""

    __slots__ = ("dim",)
    formula = "revcumsum(grad * conj(out)) / conj(x)"

    def forward(ctx, x, dim=0, dtype=None):
        ctx.dim, x, out = _running("cumprod", x, dim, dtype)
        ctx.save(x, out)
        return out

    def backward(ctx, grad):
        x, out = ctx.saved
        if x.ndim == 0:  # out is x itself: the derivative is 1, also at x = 0
            return grad
        # holomorphic: the gradient carries the conjugate derivative (docs/derivatives.md)
        return Cumsum.backward(ctx, grad * conj(out)) / conj(x)

    def jvp(ctx, tx):
        x, out = ctx.saved
        data = x._data if isinstance(x, Tensor) else x
        if not x.ndim:
            return tx
        if not (data == 0).any():
            return cumsum(tx / x, ctx.dim) * out
        # zeros: d out_j = sum_{i <= j} t_i prod_{k <= j, k != i} x_k
        lower = xp(data).tril(xp(data).ones((x.shape[ctx.dim],) * 2, dtype=bool))
        rows = where(lower, unsqueeze(_movedim(x, ctx.dim, -1), -2), 1)
        others = _prod_others(rows, None, (rows.ndim - 1,), False, rows.shape)
        t = where(lower, unsqueeze(_movedim(tx, ctx.dim, -1), -2), 0)
        return _movedim(sum(t * others, -1), -1, ctx.dim)


@register_method("cumsum")
def cumsum(input, dim, *, dtype=None, out=None):
    """Running sum along ``dim``."""
    return write_out(Cumsum.generic(input, dim=dim, dtype=dtype), out, "cumsum", "cast")


@register_method("cumprod")
def cumprod(input, dim, *, dtype=None, out=None):
    """Running product along ``dim``; exact gradients also where elements are zero."""

    data = input._data if isinstance(input, Tensor) else input
    if not isinstance(input, Tensor) or not input.requires_grad or data.ndim == 0 or \
            not (data == 0).any():
        return write_out(Cumprod.generic(input, dim=dim, dtype=dtype), out, "cumprod", "cast")
    # With zeros: out_j = prod_i where(i <= j, x_i, 1) through Prod's exact gradient.
    d = wrap_dim(dim, data.ndim)
    x = _movedim(input if dtype is None else input.to(dtype), d, -1)
    n = x.shape[-1]
    lower = xp(data).tril(xp(data).ones((n, n), dtype=bool))
    res = prod(where(lower, unsqueeze(x, -2), 1), dim=-1)
    return write_out(_movedim(res, -1, d), out, "cumprod", "cast")


def _inplace_via_copy(fn):
    def method(self, *args, **kwargs):
        # the op may save its input for backward: give it a copy that copy_ leaves alone
        return self.copy_(fn(self.clone(), *args, **kwargs))

    method.__name__ = fn.__name__ + "_"
    method.__doc__ = f"In-place ``{fn.__name__}``."
    return method


for _fn in (cumsum, cumprod):
    register_method(_fn.__name__ + "_")(_inplace_via_copy(_fn))
