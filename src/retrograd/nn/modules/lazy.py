"""Lazy layers: the input-size argument is read from the first input.

A lazy layer is built as its eager class with that size 0 and its parameters replaced by
``UninitializedParameter``. Its first ``forward`` reads the size from the input, gives every
uninitialised parameter and buffer its shape (the eager class's ``_param_shapes``), runs the eager
``reset_parameters``, and then turns the object into the eager class (``cls_to_become``),
so later calls cost nothing extra and ``repr``/``type`` are the eager layer's.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

from ...autograd.grad_mode import no_grad
from ...ops.creation import empty
from ..parameter import UninitializedBuffer, UninitializedParameter, is_lazy

__all__ = ["LazyModuleMixin", "lazy_class"]


class LazyModuleMixin:
    """Mix in before an eager layer class; subclasses say which size the input gives."""

    cls_to_become: type | None = None
    # The attribute the first input fills in, and how to read it from that input.
    _lazy_size_attr = "in_features"
    # Buffers whose shape also waits for the first input (e.g. BatchNorm's running stats).
    _lazy_buffers: tuple[str, ...] = ()

    def _lazy_size(self, input: Any) -> int:
        return input.shape[-1]

    def _make_lazy(self, device: Any, dtype: Any) -> None:
        """Replace the eager constructor's placeholder parameters with uninitialised ones.

        Each keeps an empty array of the dtype and on the device its values will have: a
        later ``.to()``/``.double()`` changes that array (``Module._apply``), so the values
        follow it, as in PyTorch."""
        placeholder = empty(0, device=device, dtype=dtype)._data
        for name, value in list(self._parameters.items()):
            if value is not None:
                param = UninitializedParameter(requires_grad=value.requires_grad)
                param._data = placeholder
                setattr(self, name, param)
        for name in self._lazy_buffers:
            if self._buffers.get(name) is not None:
                self._buffers[name] = UninitializedBuffer()
                self._buffers[name]._data = placeholder

    def has_uninitialized_params(self) -> bool:
        """Whether a parameter or buffer still waits for its shape."""
        return any(is_lazy(t) for t in chain(self._parameters.values(), self._buffers.values()))

    def initialize_parameters(self, input: Any, *args: Any, **kwargs: Any) -> None:
        """Give each uninitialised parameter its shape from ``input`` and initialise it."""
        setattr(self, self._lazy_size_attr, self._lazy_size(input))
        shapes = self._param_shapes()
        with no_grad():
            for name, value in self._parameters.items():
                if is_lazy(value):
                    value.materialize(shapes[name], device=value.device, dtype=value.dtype)
            for name, value in self._buffers.items():
                if is_lazy(value):
                    self._buffers[name] = empty(shapes[name], device=value.device,
                                                dtype=value.dtype)
            self.reset_parameters()

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if self.has_uninitialized_params():
            self.initialize_parameters(*args, **kwargs)
        else:  # loaded from a state dict, or nothing to shape: still record the size
            setattr(self, self._lazy_size_attr, self._lazy_size(args[0]))
        self.__class__ = self.cls_to_become
        return self.forward(*args, **kwargs)

    def reset_parameters(self) -> None:
        # Before the shapes are known there is nothing to initialise.
        if not self.has_uninitialized_params():
            super().reset_parameters()


def lazy_class(eager: type, mixin: type, init: Any, module: str) -> type:
    """``Lazy<eager>``: ``mixin`` (a LazyModuleMixin) before ``eager``, constructed by
    ``init`` (eager's arguments less the size the first input gives); it becomes ``eager``
    once initialised."""
    doc = f"A {eager.__name__} whose ``{mixin._lazy_size_attr}`` is read from the first input."
    return type("Lazy" + eager.__name__, (mixin, eager),
                {"__init__": init, "cls_to_become": eager, "__doc__": doc,
                 "__module__": module})
