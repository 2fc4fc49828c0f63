"""Walking nested Python containers of Tensors (model inputs and outputs)."""

from __future__ import annotations

from .._tensor import Tensor

__all__ = ["tensors_in"]


def tensors_in(value) -> list:
    """The Tensors in ``value`` (a Tensor, or nested tuples/lists/dicts of them), in order."""
    found, stack = [], [value]
    while stack:
        v = stack.pop()
        if isinstance(v, Tensor):
            found.append(v)
        elif isinstance(v, (list, tuple)):
            stack.extend(reversed(v))
        elif isinstance(v, dict):
            stack.extend(reversed(list(v.values())))
    return found
