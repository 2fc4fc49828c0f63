"""Indexing: ``x[idx]`` and ``x[idx] = v`` with autograd, for ints, slices (with steps),
None, Ellipsis, integer lists/tensors and boolean masks."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd.grad_mode import state as _state
from ..backend import xp
from ._core import Primitive, register_method
from .inplace import bump_version, inplace_apply

__all__ = ["scatter_into_zeros"]

_BASIC = (int, slice, type(None), type(Ellipsis))


def normalize_index(idx):
    """Turn Tensors inside an index into arrays; lists of ints stay advanced indices."""
    if isinstance(idx, tuple):
        return tuple(_one(i) for i in idx)
    return _one(idx)


def _one(i):
    if isinstance(i, Tensor):
        data = i._data
        if data.dtype.kind not in "biu":
            raise IndexError(
                "tensors used as indices must be long, int, byte or bool tensors"
            )
        return data
    if isinstance(i, (list, tuple)) and any(isinstance(e, Tensor) for e in i):
        return np.asarray([e.item() if isinstance(e, Tensor) else e for e in i])
    if isinstance(i, bool):
        return i
    if isinstance(i, np.integer):
        return int(i)
    return i


def _is_basic(idx) -> bool:
    if isinstance(idx, tuple):
        return all(isinstance(i, _BASIC) and not isinstance(i, bool) for i in idx)
    return isinstance(idx, _BASIC) and not isinstance(idx, bool)


def _check_bounds(shape, idx) -> None:
    """PyTorch's IndexError for an out-of-range integer index."""
    items = idx if isinstance(idx, tuple) else (idx,)
    dim = 0
    for i in items:
        if i is None:
            continue
        if i is Ellipsis:
            dim = len(shape) - sum(1 for j in items if j is not None and j is not Ellipsis
                                   and not (isinstance(j, np.ndarray) and j.dtype == bool))
            continue
        if isinstance(i, int) and not isinstance(i, bool):
            if dim >= len(shape):
                raise IndexError(
                    f"too many indices for tensor of dimension {len(shape)}"
                )
            n = shape[dim]
            if not -n <= i < n:
                raise IndexError(
                    f"index {i} is out of bounds for dimension {dim} with size {n}"
                )
        dim += 1


class Index(Primitive):
    """x[idx] (advanced indexing copies).  d/dx = grad added into zeros at idx."""

    __slots__ = ("basic", "idx", "shape")
    formula = "index_put(zeros, idx, grad, accumulate=True)"

    def forward(ctx, x, idx=None):
        _check_bounds(x.shape, idx)
        ctx.idx, ctx.shape = idx, x.shape
        ctx.basic = _is_basic(idx)
        out = x[idx]
        return out

    def backward(ctx, grad):
        return IndexBackward.generic(grad, shape=ctx.shape, idx=ctx.idx, basic=ctx.basic)

    def jvp(ctx, tx):
        return getitem(tx, ctx.idx)


class Slice(Index):
    """x[basic idx] (a view).  d/dx = grad placed at idx in zeros."""

    __slots__ = ()
    is_view = True


class Select(Slice):
    """x[i] along the first dim (a view)."""

    __slots__ = ()


class IndexBackward(Primitive):
    """zeros(shape) with grad added at idx.  d/dgrad = its values at idx."""

    __slots__ = ("basic", "idx")
    formula = "grad[idx]"

    def forward(ctx, g, shape=(), idx=None, basic=True):
        ctx.idx, ctx.basic = idx, basic
        out = xp(g).zeros(shape, dtype=g.dtype)
        if basic:
            out[idx] = g
        else:
            xp(g).add.at(out, idx, g)
        return out

    def backward(ctx, grad):
        return getitem(grad, ctx.idx)

    def jvp(ctx, tg):
        return IndexBackward.generic(tg, shape=ctx.out_shape, idx=ctx.idx, basic=ctx.basic)


class IndexPut(Primitive):
    """x with x[idx] = v.  d/dx = grad with idx zeroed, d/dv = grad[idx] (summed to v)."""

    __slots__ = ("idx",)
    formula = "index_put(grad, idx, 0), grad[idx]"

    def forward(ctx, x, v, idx=None):
        ctx.idx = idx
        out = x.copy()
        out[idx] = v
        return out

    def backward(ctx, grad):
        nx, nv = ctx.needs_input_grad
        gx = IndexPut.generic(grad, 0.0, idx=ctx.idx) if nx else None
        gv = getitem(grad, ctx.idx) if nv else None
        return gx, gv

    def jvp(ctx, tx, tv):
        return IndexPut.generic(tx, 0.0 if tv is None else tv, idx=ctx.idx)


class ScatterZeros(Primitive):
    """zeros(shape) with grad placed along ``dim`` at ``index``.  d/dgrad = gather."""

    __slots__ = ("dim", "index")
    formula = "take_along_dim(grad, index, dim)"

    def forward(ctx, g, shape=(), dim=0, index=None):
        ctx.dim, ctx.index = dim, index
        m = xp(g)
        out = m.zeros(shape, dtype=g.dtype)
        m.put_along_axis(out, index, g, dim)
        return out

    def backward(ctx, grad):
        return TakeAlong.generic(grad, dim=ctx.dim, index=ctx.index)

    def jvp(ctx, tg):
        return ScatterZeros.generic(tg, shape=ctx.out_shape, dim=ctx.dim, index=ctx.index)


class TakeAlong(Primitive):
    """x gathered along ``dim`` at ``index``.  d/dx = grad scattered back into zeros."""

    __slots__ = ("dim", "index", "shape")
    formula = "scatter_add(zeros, dim, index, grad)"

    def forward(ctx, x, dim=0, index=None):
        ctx.dim, ctx.index, ctx.shape = dim, index, x.shape
        return xp(x).take_along_axis(x, index, dim)

    def backward(ctx, grad):
        return ScatterZeros.generic(grad, shape=ctx.shape, dim=ctx.dim, index=ctx.index)

    def jvp(ctx, tx):
        return TakeAlong.generic(tx, dim=ctx.dim, index=ctx.index)


def scatter_into_zeros(grad, shape, dim, index):
    """zeros(shape) with ``grad`` put at ``index`` along ``dim`` (arrays or Tensors)."""
    return ScatterZeros.generic(grad, shape=shape, dim=dim, index=index)


def getitem(x, idx):
    """``x[idx]``; views for basic indices, copies for advanced ones."""
    if not isinstance(x, Tensor):
        return x[idx]
    idx = normalize_index(idx)
    if _is_basic(idx):
        if isinstance(idx, int):
            return Select.apply(x, idx=idx)
        return Slice.apply(x, idx=idx)
    return Index.apply(x, idx=idx)


def setitem(x: Tensor, idx, value) -> None:
    """``x[idx] = value``; gradient flows to x's other elements and to value."""
    idx = normalize_index(idx)
    needs = _state.grad_enabled and (x._requires_grad or (
        isinstance(value, Tensor) and value._requires_grad))
    if not needs:
        if x._data.ndim == 0 and idx is not Ellipsis and idx != () and not (
                isinstance(idx, tuple) and not idx):
            _check_bounds(x.shape, idx)
        v = value._data if isinstance(value, Tensor) else value
        try:
            x._data[idx] = v
        except (ValueError, IndexError) as e:
            _check_bounds(x.shape, idx)
            raise RuntimeError(f"index_put_(): {e} (tensor shape {list(x.shape)})") from None
        bump_version(x)
        return
    _check_bounds(x.shape, idx)
    if isinstance(value, Tensor) and value._data.dtype != x._data.dtype:
        value = value.to(x.dtype)
    inplace_apply(IndexPut, x, value, idx=idx)


register_method("__getitem__")(getitem)
register_method("__setitem__")(setitem)
