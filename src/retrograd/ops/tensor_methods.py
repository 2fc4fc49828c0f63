"""Small Tensor methods that are not ops of their own: copy_, zero_, fill_, resize_, and the
index queries nonzero, argwhere, unique and unique_consecutive (not differentiable)."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, wrap
from ..backend import xp
from ._core import Primitive, register_method
from ._helpers import check_fill_value
from ._out import takes_out
from .inplace import inplace_apply

__all__: list[str] = []


class Copy(Primitive):
    """x's values replaced by src (broadcast, cast).  d/dx = 0, d/dsrc = grad."""

    formula = "0, grad"

    def forward(ctx, x, src):
        out = xp(x).empty_like(x)
        out[...] = src
        return out

    def backward(ctx, grad):
        return grad * 0, grad

    def jvp(ctx, tx, ts):
        return type(ctx).generic(tx * 0, 0.0 if ts is None else ts)


class Fill(Copy):
    """x filled with a value: a copy of a number or a 0-d tensor.
    d/dx = 0; d/dvalue = sum(grad) for a 0-d tensor value."""

    formula = "0, sum(grad)"

    def backward(ctx, grad):
        from .reduction import sum

        return grad * 0, sum(grad)


@register_method("zero_")
def zero_(self):
    return inplace_apply(Fill, self, 0)


@register_method("fill_")
def fill_(self, value):
    if isinstance(value, Tensor) and value.dim() != 0:
        raise RuntimeError(
            f"fill_ only supports 0-dimension value tensor but got tensor with "
            f"{value.dim()} dimensions."
        )
    if not isinstance(value, Tensor):  # a complex 0-d Tensor casts (PyTorch warns only)
        check_fill_value("fill_", value, self._data.dtype)
    return inplace_apply(Fill, self, value)


@register_method("copy_")
def copy_(self, src, non_blocking=False):
    if isinstance(src, Tensor):
        try:
            shape = np.broadcast_shapes(src._data.shape, self._data.shape)  # shapes, not data
        except ValueError:
            raise RuntimeError(
                f"The size of tensor a ({self.shape[-1] if self.dim() else 1}) must match the "
                f"size of tensor b ({src.shape[-1] if src.dim() else 1}) at non-singleton "
                f"dimension {max(self.dim() - 1, 0)}"
            ) from None
        if shape != self._data.shape:  # src may broadcast to self, never self grow
            raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the "
                               f"broadcast shape {list(shape)}")
    return inplace_apply(Copy, self, src)


@register_method("resize_")
def resize_(self, *sizes):
    from .creation import _sizes

    shape = _sizes(sizes)
    if self._requires_grad:
        raise RuntimeError(
            "cannot resize variables that require grad"
        )
    data = self._data
    n_new = 1
    for s in shape:
        n_new *= s
    flat = xp(data).zeros(n_new, data.dtype)
    n = min(n_new, data.size)
    flat[:n] = data.reshape(-1)[:n]
    self._data = flat.reshape(shape)
    return self


# ---------------------------------------------------------------------- index queries

def _long(m, a):
    """An int64 tensor on the array module ``m``'s device."""
    return wrap(m.asarray(a, dtype=m.int64))


@register_method("nonzero")
@takes_out("nonzero", "exact")
def nonzero(input, *, out=None, as_tuple=False):
    """The indices of the non-zero elements: an (n, ndim) tensor, or one tensor per dim."""
    data = input._data
    m = xp(data)
    if as_tuple:
        if data.ndim == 0:
            return (_long(m, m.zeros(int(data != 0))),)
        return tuple(_long(m, i) for i in m.nonzero(data))
    if data.ndim == 0:
        return _long(m, m.zeros((int(data != 0), 0)))
    return _long(m, m.argwhere(data).reshape(-1, data.ndim))


@register_method("argwhere")
def argwhere(input):
    return nonzero(input)


def _unique_result(m, values, inverse, counts, return_inverse, return_counts):
    out = [wrap(m.ascontiguousarray(values))]
    if return_inverse:
        out.append(_long(m, inverse))
    if return_counts:
        out.append(_long(m, counts))
    return out[0] if len(out) == 1 else tuple(out)


@register_method("unique")
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct elements (or slices along ``dim``), sorted; not differentiable. NaNs are
    never equal to each other, so each NaN is its own element, as in PyTorch."""
    from .._dims import wrap_dim

    data = input._data
    m = xp(data)
    if dim is None:
        vals, inv, cnt = m.unique(data.reshape(-1), return_inverse=True, return_counts=True,
                                  equal_nan=False)
        return _unique_result(m, vals, inv.reshape(data.shape), cnt, return_inverse,
                              return_counts)
    d = wrap_dim(dim, data.ndim, "unique")
    vals, inv, cnt = m.unique(data, return_inverse=True, return_counts=True, axis=d,
                              equal_nan=False)
    return _unique_result(m, vals, inv.reshape(-1), cnt, return_inverse, return_counts)


@register_method("unique_consecutive")
def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Each run of equal consecutive elements (or slices along ``dim``) kept once."""
    from .._dims import wrap_dim

    data = input._data
    m = xp(data)
    if dim is None:
        flat = data.reshape(-1)
        axis_data = flat.reshape(-1, 1)
    else:
        d = wrap_dim(dim, data.ndim, "unique_consecutive")
        flat = m.moveaxis(data, d, 0)
        axis_data = flat.reshape(flat.shape[0], -1)
    n = axis_data.shape[0]
    if n == 0:
        starts = m.zeros(0, dtype=bool)
    else:
        starts = m.concatenate([m.ones(1, dtype=bool),
                                (axis_data[1:] != axis_data[:-1]).any(axis=1)])
    keep = m.flatnonzero(starts)
    inv = m.cumsum(starts) - 1
    counts = m.diff(m.append(keep, n))
    if dim is None:
        vals = flat[keep]
        inv = inv.reshape(data.shape)
    else:
        vals = m.moveaxis(flat[keep], 0, d)
    return _unique_result(m, vals, inv, counts, return_inverse, return_counts)


from .index_ops import (  # noqa: E402  (the torch-level names of the indexing ops)
    index_add,
    index_copy,
    index_fill,
    index_put,
    index_select,
    masked_fill,
    masked_scatter,
    masked_select,
    put,
    take,
)
from .indexing import narrow, select  # noqa: E402
from .scatter import gather, scatter, scatter_add, scatter_reduce, take_along_dim  # noqa: E402

__all__ += ["argwhere", "gather", "index_add", "index_copy", "index_fill", "index_put",
            "index_select", "masked_fill", "masked_scatter", "masked_select", "narrow",
            "nonzero", "put", "scatter", "scatter_add", "scatter_reduce", "select", "take",
            "take_along_dim", "unique", "unique_consecutive"]
