"""Value-selecting reductions: max/min (over all elements or along a dim, with indices),
median and nanmedian, kthvalue, mode, sort/argsort/msort, topk, and the running cummax and
cummin. Along a dim, the gradient goes to the returned indices; over all elements, tied
elements share it evenly.
"""

from __future__ import annotations

import numpy as np

from .._dims import wrap_dim
from .._tensor import Tensor
from ..backend import xp
from . import pointwise
from ._core import Primitive, register_method
from ._helpers import int_arg
from ._out import takes_out
from .reduction import _RESULTS, Amax, MaxAll, MinAll, sum
from .scatter import Gather, ScatterAddZeros
from .shape import unsqueeze

__all__ = ["argsort", "cummax", "cummin", "kthvalue", "max", "median", "min", "mode", "msort",
           "nanmedian", "sort", "topk"]


class MedianAll(Amax):
    """median of all elements (the lower one for an even count).  d/dx = grad shared among
    the elements equal to it."""

    __slots__ = ()
    _name = "MedianBackward0"

    def forward(ctx, x, dim=None, keepdim=False, nan=False):
        ctx.dims, ctx.keepdim, ctx.shape = None, False, x.shape
        if x.size == 0:
            out = xp(x).asarray(np.nan, dtype=x.dtype)
        else:
            flat = xp(x).sort(x.reshape(-1))
            n = flat.size - (int(xp(x).isnan(flat).sum()) if nan else 0)
            out = flat[(n - 1) // 2] if (n > 0 or not nan) else flat[0]
            out = xp(x).asarray(out)
        ctx.save(x, out)
        return out


# ------------------------------------------------------------ value-selecting reductions

class MaxDim(Primitive):
    """(max, argmax) along dim.  d/dx = grad placed at the returned indices."""

    __slots__ = ("dim", "idx", "keepdim", "shape")
    _name = "MaxBackward0"
    nondiff_outputs = (1,)
    formula = "scatter_add(zeros, dim, indices, grad)"
    reduces = True

    def select(ctx, m, x, d, **kw):
        """Indices (keepdim-shaped along ``d``) of the selected values."""
        return m.expand_dims(m.argmax(x, axis=d), d)

    def forward(ctx, x, dim=0, keepdim=False, **kw):
        m = xp(x)
        d = wrap_dim(dim, x.ndim)
        name = ctx._name[:-9].lower()
        if x.ndim == 0:
            ctx.dim, ctx.keepdim, ctx.shape = 0, True, x.shape
            ctx.idx = m.zeros((), np.int64)
            if kw.get("k", 1) not in (0, 1) or (kw.get("k") == 0 and name == "kthvalue"):
                raise RuntimeError(f"{name}(): selected number k out of range for dimension 0")
            if kw.get("k") == 0:
                ctx.idx = m.zeros((0,), np.int64)
                return x.reshape(1)[:0], ctx.idx
            return x.copy(), m.zeros((), np.int64)
        if x.shape[d] == 0 and ctx.reduces:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
        idx = ctx.select(m, x, d, **kw).astype(np.int64)
        values = m.take_along_axis(x, idx, d)
        ctx.dim, ctx.keepdim, ctx.shape, ctx.idx = d, keepdim or not ctx.reduces, x.shape, idx
        if not ctx.keepdim:
            values, idx = values.squeeze(d), idx.squeeze(d)
        return values, idx

    def backward(ctx, grad, _grad_idx=None):
        if ctx.shape == ():
            return sum(grad) if ctx.idx.ndim else grad
        if not ctx.keepdim:
            grad = unsqueeze(grad, ctx.dim)
        return ScatterAddZeros.generic(grad, shape=ctx.shape, dim=ctx.dim, index=ctx.idx)

    def jvp(ctx, tx):
        if ctx.shape == ():
            return (tx if not ctx.idx.ndim else tx.reshape(1)[:0]), None
        t = Gather.generic(tx, dim=ctx.dim, index=ctx.idx)
        return (t if ctx.keepdim else t.squeeze(ctx.dim)), None


class MinDim(MaxDim):
    __slots__ = ()
    _name = "MinBackward0"

    def select(ctx, m, x, d, **kw):
        return m.expand_dims(m.argmin(x, axis=d), d)


def _nth(m, x, d, k):
    """Index of the k-th smallest (0-based) along d; NaN sorts last like PyTorch."""
    order = m.argsort(x, axis=d, kind="stable")
    return m.take(order, [k], axis=d)


class MedianDim(MaxDim):
    __slots__ = ()
    _name = "MedianBackward1"

    def select(ctx, m, x, d, nan=False):
        if nan:
            valid = (~m.isnan(x)).sum(axis=d, keepdims=True)
            order = m.argsort(x, axis=d, kind="stable")
            pos = m.maximum(valid - 1, 0) // 2
            return m.take_along_axis(order, pos, d)
        # PyTorch's median.dim propagates NaN: pick a NaN when the slice holds one.
        idx = _nth(m, x, d, (x.shape[d] - 1) // 2)
        has_nan = m.isnan(x).any(axis=d, keepdims=True)
        return m.where(has_nan, m.expand_dims(m.argmax(m.isnan(x), axis=d), d), idx)


class NanmedianDim(MedianDim):
    __slots__ = ()
    _name = "NanmedianBackward1"


class Kthvalue(MaxDim):
    __slots__ = ()

    def select(ctx, m, x, d, k=1):
        if not 1 <= k <= x.shape[d]:
            raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
        return _nth(m, x, d, k - 1)


class Mode(MaxDim):
    __slots__ = ()

    def select(ctx, m, x, d):
        xm = m.moveaxis(x, d, -1)
        flat = xm.reshape(-1, xm.shape[-1])
        idx = m.empty(flat.shape[0], np.int64)
        for r, row in enumerate(flat):
            _, inv, counts = np.unique(row, return_inverse=True, return_counts=True)
            best = int(np.argmax(counts))  # smallest value among the most frequent
            idx[r] = np.nonzero(inv.reshape(-1) == best)[0][-1]
        return m.expand_dims(idx.reshape(xm.shape[:-1]), d)


class Sort(MaxDim):
    __slots__ = ()
    reduces = False

    def select(ctx, m, x, d, descending=False):
        if descending:
            # a stable sort of the negation keeps ties in their original order
            # (~x reverses integer order with no overflow: -x wraps for unsigned and INT_MIN)
            key = m.where(m.isnan(x), -m.inf, -x) if x.dtype.kind in "fc" else ~x
            return m.argsort(key, axis=d, kind="stable")
        return m.argsort(x, axis=d, kind="stable")


class Topk(MaxDim):
    __slots__ = ()
    reduces = False

    def select(ctx, m, x, d, k=1, largest=True):
        if not 0 <= k <= x.shape[d]:
            raise RuntimeError(f"selected index k out of range for dimension {d}")
        order = Sort.select(ctx, m, x, d, descending=largest)
        return m.take(order, range(k), axis=d)


class Cummax(MaxDim):
    __slots__ = ()
    reduces = False
    _cmp = "greater_equal"

    def select(ctx, m, x, d):
        xm = m.moveaxis(x, d, 0)
        idx = m.zeros(xm.shape, np.int64)
        best = xm[0].copy() if xm.shape[0] else None
        cmp = getattr(m, ctx._cmp)
        for i in range(1, xm.shape[0]):
            take = cmp(xm[i], best) | m.isnan(xm[i])
            take &= ~m.isnan(best)
            idx[i] = m.where(take, i, idx[i - 1])
            best = m.where(take, xm[i], best)
        return m.moveaxis(idx, 0, d)


class Cummin(Cummax):
    __slots__ = ()
    _cmp = "less_equal"


class NanmedianAll(MedianAll):
    __slots__ = ()
    _name = "NanmedianBackward0"

_WHOLE = object()  # max(x) / min(x) without dim: the whole tensor


@register_method("max")
@takes_out("max")
def max(input, dim=_WHOLE, keepdim=False, *, out=None):
    """``max(x)``: the largest element; ``max(x, dim)``: ``(values, indices)``;
    ``max(x, other)``: elementwise maximum."""
    if isinstance(dim, Tensor):

        return pointwise.maximum(input, dim)
    if dim is _WHOLE:
        return MaxAll.generic(input)
    dim = int_arg("max", "dim", dim)  # None given explicitly: PyTorch's TypeError
    return _select(MaxDim, "max", input, dim=dim, keepdim=keepdim)


@register_method("min")
@takes_out("min")
def min(input, dim=_WHOLE, keepdim=False, *, out=None):
    """``min(x)``, ``min(x, dim)`` -> ``(values, indices)``, or ``min(x, other)``."""
    if isinstance(dim, Tensor):

        return pointwise.minimum(input, dim)
    if dim is _WHOLE:
        return MinAll.generic(input)
    dim = int_arg("min", "dim", dim)
    return _select(MinDim, "min", input, dim=dim, keepdim=keepdim)


def _select(cls, name, input, **attrs):
    return _RESULTS[name](*cls.generic(input, **attrs))


@register_method("cummax")
@takes_out("cummax")
def cummax(input, dim, *, out=None):
    """``(values, indices)`` of the running maximum along ``dim`` (ties: latest index)."""
    return _select(Cummax, "cummax", input, dim=dim)


@register_method("cummin")
@takes_out("cummin")
def cummin(input, dim, *, out=None):
    """``(values, indices)`` of the running minimum along ``dim`` (ties: latest index)."""
    return _select(Cummin, "cummin", input, dim=dim)



@register_method("median")
@takes_out("median")
def median(input, dim=None, keepdim=False, *, out=None):
    """The median (the lower of the two middle values for an even count); with ``dim``,
    ``(values, indices)``."""
    if dim is None:
        return MedianAll.generic(input)
    return _select(MedianDim, "median", input, dim=dim, keepdim=keepdim)


@register_method("nanmedian")
@takes_out("nanmedian")
def nanmedian(input, dim=None, keepdim=False, *, out=None):
    """Median ignoring NaN."""
    if dim is None:
        return NanmedianAll.generic(input, nan=True)
    return _select(NanmedianDim, "nanmedian", input, dim=dim, keepdim=keepdim, nan=True)


@register_method("mode")
@takes_out("mode")
def mode(input, dim=-1, keepdim=False, *, out=None):
    """``(values, indices)``: the most frequent value along ``dim`` (the smallest among
    equally frequent ones) and its last index."""
    return _select(Mode, "mode", input, dim=dim, keepdim=keepdim)


@register_method("kthvalue")
@takes_out("kthvalue", apart=True)
def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """``(values, indices)``: the k-th smallest element along ``dim``."""
    return _select(Kthvalue, "kthvalue", input, dim=dim, keepdim=keepdim, k=int(k))


@register_method("topk")
@takes_out("topk")
def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """``(values, indices)`` of the ``k`` largest (or smallest) elements along ``dim``."""
    k = int_arg("topk", "k", k)
    if k == 0 and input.dim() == 0:
        k = 1  # PyTorch: a 0-d input gives its one element back even for k = 0
    if input._data.dtype == np.bool_:  # refused after the dim and k checks, as PyTorch
        d = wrap_dim(dim, input.dim(), "topk")
        if not 0 <= k <= (input.shape[d] if input.dim() else 1):
            raise RuntimeError("selected index k out of range")
        raise RuntimeError("topk does not support bool dtypes on CPU")
    return _select(Topk, "topk", input, dim=dim, k=k, largest=largest)


@register_method("sort")
@takes_out("sort")
def sort(input, dim=-1, descending=False, stable=False, *, out=None):
    """``(values, indices)`` sorted along ``dim``; always stable."""
    return _select(Sort, "sort", input, dim=dim, descending=descending)


@register_method("argsort")
def argsort(input, dim=-1, descending=False, stable=False):
    """Indices that sort ``input`` along ``dim`` (stable)."""
    int_arg("argsort", "dim", dim)
    return sort(input.detach(), dim, descending).indices


@register_method("msort")
@takes_out("msort", "exact")
def msort(input, *, out=None):
    """Sorted along the first dimension."""
    return sort(input, 0).values


