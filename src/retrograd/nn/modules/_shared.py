"""Module boilerplate written once: modules that are one ``nn.functional`` call, and families
of classes that differ only in class attributes (``Dropout1d/2d/3d``, ``ReflectionPad1d/...``).
"""

from __future__ import annotations

from typing import Any

from ..._tensor import Tensor
from .. import functional as F
from .module import Module


class FunctionalModule(Module):
    """A module that is one call of ``nn.functional.<_fn>``.

    ``_args`` names the constructor's arguments in ``_fn``'s order: ``__init__`` stores them as
    attributes of those names, ``forward(input)`` passes them after the input, and the repr
    lists them as ``name=value`` (the first ``_bare`` without the name; ``inplace`` only when
    True), as PyTorch prints these modules.
    """

    _fn = ""
    _args: tuple[str, ...] = ()
    _bare = 0

    def __init__(self, *values: Any) -> None:
        super().__init__(*values[len(self._args):])  # more than _args: Module's TypeError
        for name, value in zip(self._args, values):
            setattr(self, name, value)

    def forward(self, input: Tensor) -> Tensor:
        fn = getattr(F, self._fn)
        names = self._args
        if len(names) == 1:  # ReLU and its kind: (input, inplace), without a list
            return fn(input, getattr(self, names[0]))
        return fn(input, *[getattr(self, name) for name in names])

    def extra_repr(self) -> str:
        shown = [str(getattr(self, name)) if k < self._bare else f"{name}={getattr(self, name)}"
                 for k, name in enumerate(self._args) if name != "inplace"]
        if getattr(self, "inplace", False):
            shown.append("inplace=True")
        return ", ".join(shown)


def variants(base: type, attr: str, **values: Any) -> tuple[type, ...]:
    """One subclass of ``base`` per keyword ``Name=value``, setting the class attribute ``attr``
    to the value: what ``class Name(base): attr = value`` beside ``base`` makes (same module
    and qualified name, so reprs, pickling and ``isinstance`` read the same)."""
    return tuple(_subclass(base, name, {attr: value}) for name, value in values.items())


def dims(base: type, stem: str, ns: tuple[int, ...] = (1, 2, 3),
         **attrs: Any) -> tuple[type, ...]:
    """``<stem>1d``, ``<stem>2d``, ``<stem>3d`` (for each n of ``ns``): subclasses of ``base``
    with ``_n = n`` and the class attributes ``attrs``, made as ``variants`` makes them."""
    return tuple(_subclass(base, f"{stem}{n}d", {"_n": n, **attrs}) for n in ns)


def _subclass(base: type, name: str, attrs: dict[str, Any]) -> type:
    namespace = {"__module__": base.__module__, "__qualname__": name, **attrs}
    return type(base)(name, (base,), namespace)
