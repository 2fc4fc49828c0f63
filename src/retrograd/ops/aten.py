"""``torch.ops.aten``: PyTorch's operator namespace, for the aten operators that programs
(and PyTorch's op database) call by that name, as ``torch.ops.aten.slice.Tensor(x, 1, 0, 2)``.

Each operator is a packet of overloads: ``aten.NAME.OVERLOAD(...)`` calls one, and
``aten.NAME(...)`` calls the packet's first. Only operators with no public torch function
live here; the rest are reached through their torch names.
"""

from __future__ import annotations

from .copies import slice_view
from .native import (
    max_pool2d_with_indices_backward as _max_pool2d_with_indices_backward,
)
from .native import native_batch_norm as _native_batch_norm
from .native import native_dropout_backward as _native_dropout_backward
from .native import native_group_norm as _native_group_norm
from .native import native_layer_norm as _native_layer_norm
from .reduction import all as _all
from .softmax import softmax
from .where import where

__all__ = ["OpOverloadPacket"]


class OpOverloadPacket:
    """The overloads of one aten operator, by overload name."""

    def __init__(self, name: str, **overloads) -> None:
        self._name = name
        self._overloads = overloads

    def __getattr__(self, overload: str):
        try:
            return self.__dict__["_overloads"][overload]
        except KeyError:
            raise AttributeError(f"The underlying op of 'aten.{self._name}' has no overload "
                                 f"name '{overload}'") from None

    def __call__(self, *args, **kwargs):
        return next(iter(self._overloads.values()))(*args, **kwargs)

    def overloads(self) -> list[str]:
        return list(self._overloads)

    def __repr__(self) -> str:
        return f"<OpOverloadPacket(op='aten.{self._name}')>"


def safe_softmax(input, dim, dtype=None):
    """``softmax`` whose slices that are entirely -inf (fully masked) give zeros, not NaN;
    their gradient is zero too."""
    x = input.to(dtype) if dtype is not None else input
    dead = _all(x == float("-inf"), dim, keepdim=True)
    return where(dead, 0.0, softmax(where(dead, 0.0, x), dim))


slice = OpOverloadPacket("slice", Tensor=slice_view)  # aten's name; shadows the builtin here only
_safe_softmax = OpOverloadPacket("_safe_softmax", default=safe_softmax)
max_pool2d_with_indices_backward = OpOverloadPacket(
    "max_pool2d_with_indices_backward", default=_max_pool2d_with_indices_backward)
native_batch_norm = OpOverloadPacket("native_batch_norm", default=_native_batch_norm)
native_dropout_backward = OpOverloadPacket("native_dropout_backward",
                                           default=_native_dropout_backward)
native_group_norm = OpOverloadPacket("native_group_norm", default=_native_group_norm)
native_layer_norm = OpOverloadPacket("native_layer_norm", default=_native_layer_norm)
