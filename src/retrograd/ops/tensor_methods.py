"""Small Tensor methods that are not ops of their own: copy_, zero_, fill_, unbind, ..."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ._core import Primitive, register_method
from .inplace import inplace_apply

__all__ = ["unbind"]


class Fill(Primitive):
    """x filled with a value.  d/dx = 0; d/dvalue = sum(grad) for a 0-d tensor value."""

    formula = "0, sum(grad)"

    def forward(ctx, x, value):
        out = np.empty_like(x)
        out[...] = value
        return out

    def backward(ctx, grad):
        from .reduction import sum

        return grad * 0, sum(grad)

    def jvp(ctx, tx, tv):
        return Fill.generic(tx * 0, 0.0 if tv is None else tv)


class Copy(Primitive):
    """x's values replaced by src (broadcast, cast).  d/dx = 0, d/dsrc = grad."""

    formula = "0, grad"

    def forward(ctx, x, src):
        out = np.empty_like(x)
        out[...] = src
        return out

    def backward(ctx, grad):
        return grad * 0, grad

    def jvp(ctx, tx, ts):
        return Copy.generic(tx * 0, 0.0 if ts is None else ts)


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
    return inplace_apply(Fill, self, value)


@register_method("copy_")
def copy_(self, src, non_blocking=False):
    if isinstance(src, Tensor):
        try:
            np.broadcast_shapes(src._data.shape, self._data.shape)
        except ValueError:
            raise RuntimeError(
                f"The size of tensor a ({self.shape[-1] if self.dim() else 1}) must match the "
                f"size of tensor b ({src.shape[-1] if src.dim() else 1}) at non-singleton "
                f"dimension {max(self.dim() - 1, 0)}"
            ) from None
    return inplace_apply(Copy, self, src)


@register_method("unbind")
def unbind(self, dim=0):
    """The slices along ``dim`` as a tuple of views."""
    from .indexing import getitem

    n = self.shape[dim]
    d = dim if dim >= 0 else dim + self.dim()
    return tuple(getitem(self, (slice(None),) * d + (i,)) for i in range(n))


@register_method("resize_")
def resize_(self, *sizes):
    from .creation import _sizes

    shape = _sizes(sizes)
    if self._requires_grad:
        raise RuntimeError(
            "cannot resize variables that require grad"
        )
    data = self._data
    flat = np.zeros(int(np.prod(shape)), data.dtype)
    n = min(flat.size, data.size)
    flat[:n] = data.reshape(-1)[:n]
    self._data = flat.reshape(shape)
    return self
