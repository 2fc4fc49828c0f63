"""Settable, type-checked module attributes, and the ``flags`` context manager built on them.

``torch.backends.cudnn.benchmark = 1`` raises in PyTorch (the flag must be a bool); a plain
module attribute would take anything. A flags module swaps its class for one whose
properties check the value, so assignment keeps PyTorch's syntax and its errors.
"""

from __future__ import annotations

import contextlib
import sys
import types
from collections.abc import Iterator
from typing import Any


def _bool_flag(name: str, setter_name: str) -> property:
    def get(mod):
        return mod._values[name]

    def set_(mod, value):
        if not isinstance(value, bool):
            raise RuntimeError(f"{setter_name} expects a bool, but got {type(value).__name__}")
        mod._values[name] = value

    return property(get, set_)


def install(module_name: str, flags: dict[str, tuple[Any, str | None]]) -> None:
    """Give ``module_name`` the attributes ``flags``: name -> (default, setter name for the
    bool check, or None for an unchecked value)."""
    module = sys.modules[module_name]
    props: dict[str, Any] = {}
    for name, (_, setter) in flags.items():
        if setter is not None:
            props[name] = _bool_flag(name, setter)
    cls = type(f"{module_name.rsplit('.', 1)[-1]}_module", (types.ModuleType,), props)
    module._values = {name: default for name, (default, setter) in flags.items()
                      if setter is not None}
    for name, (default, setter) in flags.items():
        if setter is None:
            setattr(module, name, default)
    module.__class__ = cls


@contextlib.contextmanager
def set_flags(module: types.ModuleType, values: dict[str, Any]) -> Iterator[None]:
    """Set module flags for the ``with`` block, then put the previous values back."""
    before = {name: getattr(module, name) for name in values}
    try:
        for name, value in values.items():
            setattr(module, name, value)
        yield
    finally:
        for name, value in before.items():
            setattr(module, name, value)
