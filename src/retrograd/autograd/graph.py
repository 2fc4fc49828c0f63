"""Graph nodes: ``Node`` (what ``grad_fn`` holds) and ``AccumulateGrad`` for leaves.

A node knows the nodes its inputs came from (``next_functions``), what it saved for
backward, the shapes and dtypes of its inputs, and the user's line that created it.
"""

from __future__ import annotations

import os
import sys
from collections import OrderedDict
from typing import Any

__all__ = ["AccumulateGrad", "Node", "RemovableHandle", "creation_site", "format_site",
           "save_on_cpu", "saved_tensors_hooks"]

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.realpath(__file__))) + os.sep
_in_package: dict[Any, bool] = {}


def creation_site(depth: int = 2) -> tuple | None:
    """(code object, line) of the first caller frame outside the retrograd package."""
    f = sys._getframe(depth)
    cache = _in_package
    while f is not None:
        code = f.f_code
        inside = cache.get(code)
        if inside is None:
            inside = cache[code] = os.path.realpath(code.co_filename).startswith(_PKG_DIR)
        if not inside:
            return (code, f.f_lineno)
        f = f.f_back
    return None


def format_site(site: tuple | None) -> str:
    """``file:line`` (in function) of a creation site, or "<unknown>"."""
    if site is None:
        return "<unknown>"
    code, line = site
    return f"{code.co_filename}:{line} (in {code.co_name})"


def site_source_line(site: tuple | None) -> str:
    """The text of the user's line at a creation site, when the file is readable."""
    if site is None:
        return ""
    import linecache

    return linecache.getline(site[0].co_filename, site[1]).strip()


class RemovableHandle:
    """Returned by ``register_*hook``; ``remove()`` takes the hook away."""

    _next_id = 0

    def __init__(self, hooks_dict: dict) -> None:
        self.hooks_dict = hooks_dict
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self.hooks_dict.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


FREED = object()  # marks saved values released after backward


class Node:
    """A backward function in the graph (``tensor.grad_fn``).

    Attributes:
        next_functions: one ``(node, output_nr)`` pair per input; ``(None, 0)`` where the
            input needs no gradient.
        saved: what forward kept for backward (raw arrays during a plain backward).
    """

    __slots__ = ("__weakref__", "_hooks", "_in_meta", "_meta", "_out_meta", "_pre_hooks",
                 "_saved_meta", "_site", "next_functions", "saved")

    _name = "Node"
    # Custom autograd.Functions get and return Tensors in backward, never raw arrays.
    _wants_tensors = False

    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"<{self.type_name()} object at {hex(id(self))}>"

    def type_name(self) -> str:
        """The node's class name as PyTorch prints it (``name()`` without a namespace)."""
        return self.name().rsplit("::", 1)[-1]

    @property
    def metadata(self) -> dict:
        meta = getattr(self, "_meta", None)
        if meta is None:
            meta = self._meta = {}
        return meta

    @property
    def creation_site(self) -> str:
        """The user's ``file:line`` that created this node."""
        return format_site(getattr(self, "_site", None))

    def _hook_dict(self, attr: str) -> OrderedDict:
        d = getattr(self, attr, None)  # unset on nodes that never entered a graph
        if d is None:
            d = OrderedDict()
            setattr(self, attr, d)
        return d

    def register_hook(self, fn) -> RemovableHandle:
        """``fn(grad_inputs, grad_outputs)`` runs after this node's backward; it may return
        replacement ``grad_inputs``."""
        d = self._hook_dict("_hooks")
        handle = RemovableHandle(d)
        d[handle.id] = fn
        return handle

    def register_prehook(self, fn) -> RemovableHandle:
        """``fn(grad_outputs)`` runs before this node's backward; it may return replacement
        ``grad_outputs``."""
        d = self._hook_dict("_pre_hooks")
        handle = RemovableHandle(d)
        d[handle.id] = fn
        return handle

    def backward(self, *grads):  # pragma: no cover - every concrete node overrides it
        raise NotImplementedError

    def _get_pre_hooks(self):
        return self._pre_hooks

    def _get_hooks(self):
        return self._hooks


class AccumulateGrad(Node):
    """The node that adds an incoming gradient into a leaf tensor's ``.grad``."""

    __slots__ = ("variable",)
    _name = "torch::autograd::AccumulateGrad"

    def __init__(self, variable) -> None:
        self.variable = variable
        self.next_functions = ()
        self.saved = ()
        self._saved_meta = None
        self._in_meta = ((variable._data.shape, variable._data.dtype),)
        self._site = None
        self._pre_hooks = None
        self._hooks = None

    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {hex(id(self))}>"


# ---------------------------------------------------------------- saved-tensor hooks

_saved_hooks: list = []


class PackedSaved(tuple):
    """``node.saved`` when saved_tensors_hooks were active: (packed, unpack_hook) pairs."""

    __slots__ = ()


class saved_tensors_hooks:
    """Within this block, every tensor an op saves for backward is replaced by
    ``pack_hook(tensor)``, and ``unpack_hook(packed)`` gives it back during backward."""

    def __init__(self, pack_hook, unpack_hook) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> saved_tensors_hooks:
        _saved_hooks.append((self.pack_hook, self.unpack_hook))
        return self

    def __exit__(self, *exc: Any) -> None:
        _saved_hooks.pop()


class save_on_cpu(saved_tensors_hooks):
    """Keep saved tensors in host memory (a copy) and bring them back for backward."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        def pack(t):
            return (t.device, t.detach().cpu().clone())

        def unpack(packed):
            dev, t = packed
            return t.to(dev)

        super().__init__(pack, unpack)


class disable_saved_tensors_hooks:
    """Forbid saved-tensor hooks inside the block (they raise with ``error_message``)."""

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __enter__(self) -> None:
        msg = self.error_message

        def refuse(*_):
            raise RuntimeError(msg)

        _saved_hooks.append((refuse, refuse))

    def __exit__(self, *exc: Any) -> None:
        _saved_hooks.pop()
