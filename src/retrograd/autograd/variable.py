"""``Variable``: the legacy constructor; it returns a Tensor, and every Tensor is one."""

from __future__ import annotations

import warnings

import numpy as np

from .._dtype import get_default_dtype
from .._tensor import Tensor, wrap

__all__ = ["Variable"]


class _VariableMeta(type):
    def __instancecheck__(cls, other) -> bool:
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """``Variable(tensor, requires_grad=False, volatile=False)`` -> a Tensor sharing data."""

    def __new__(cls, data=None, requires_grad: bool = False, volatile: bool = False):
        if volatile:
            warnings.warn(
                "volatile was removed and now has no effect. Use `with torch.no_grad():` "
                "instead.",
                UserWarning,
                stacklevel=2,
            )
        if data is None:  # torch.tensor([]): empty, of the default dtype
            data = wrap(np.array([], dtype=get_default_dtype()._np))
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        out = data.detach()
        out._base = None
        if requires_grad:
            out.requires_grad_(True)
        return out
