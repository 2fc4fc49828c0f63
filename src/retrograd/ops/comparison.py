"""Comparisons and logic: results are bool tensors and carry no gradient."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, wrap
from ._core import _promote, register_method

__all__ = ["eq", "equal", "ge", "greater", "greater_equal", "gt", "le", "less", "less_equal",
           "logical_and", "logical_not", "logical_or", "logical_xor", "lt", "ne", "not_equal"]


def _raw(x):
    return x._data if isinstance(x, Tensor) else x


def _compare(ufunc, name: str):
    def compare(input, other, *, out=None):
        if not isinstance(input, Tensor) and not isinstance(other, Tensor):
            return ufunc(input, other)
        args = (input, other)
        arrays = _promote(args, [_raw(input), _raw(other)])
        try:
            res = ufunc(*arrays)
        except ValueError:
            from ._core import _broadcast_message

            raise RuntimeError(_broadcast_message(name, [np.shape(a) for a in arrays])) \
                from None
        return wrap(np.asarray(res))

    compare.__name__ = name
    compare.__doc__ = f"Elementwise ``{name}``; a bool tensor, not differentiable."
    return compare


eq = _compare(np.equal, "eq")
ne = not_equal = _compare(np.not_equal, "ne")
lt = less = _compare(np.less, "lt")
le = less_equal = _compare(np.less_equal, "le")
gt = greater = _compare(np.greater, "gt")
ge = greater_equal = _compare(np.greater_equal, "ge")
logical_and = _compare(np.logical_and, "logical_and")
logical_or = _compare(np.logical_or, "logical_or")
logical_xor = _compare(np.logical_xor, "logical_xor")


def logical_not(input, *, out=None):
    return wrap(np.asarray(np.logical_not(_raw(input))))


def equal(input, other) -> bool:
    """True when both have the same shape and elements."""
    return input.shape == other.shape and bool(np.array_equal(_raw(input), _raw(other)))


def _reflect(fn):
    def method(self, other):
        if other is None or not isinstance(other, (Tensor, int, float, bool, complex,
                                                   np.ndarray, np.number)):
            return NotImplemented
        return fn(self, other)

    return method


for _name, _fn in {"eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge,
                   "not_equal": ne, "less": lt, "less_equal": le, "greater": gt,
                   "greater_equal": ge, "logical_and": logical_and, "logical_or": logical_or,
                   "logical_xor": logical_xor, "logical_not": logical_not,
                   "equal": equal}.items():
    register_method(_name)(_fn)

for _name, _fn in {"__eq__": eq, "__ne__": ne, "__lt__": lt, "__le__": le, "__gt__": gt,
                   "__ge__": ge}.items():
    register_method(_name)(_reflect(_fn))
Tensor.__hash__ = object.__hash__  # __eq__ is elementwise; identity hashing stays.
