"""Tensor hooks and ``retain_grad``.

A leaf's hooks live on the tensor (its AccumulateGrad runs them); a non-leaf's hooks are
pre-hooks of its ``grad_fn`` that look at the one output the tensor is.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict

from .._tensor import Tensor, wrap
from .graph import RemovableHandle

__all__ = ["register_post_accumulate_hook", "register_tensor_hook", "retain_grad"]


class _TensorPreHook:
    """Adapts ``hook(grad) -> grad`` to a node pre-hook on output ``nr``."""

    __slots__ = ("fn", "nr")

    def __init__(self, fn, nr: int) -> None:
        self.fn = fn
        self.nr = nr

    def __call__(self, grads: tuple):
        g = grads[self.nr] if self.nr < len(grads) else None
        if g is None:
            return None
        new = self.fn(g)
        if new is None:
            return None
        _check_hook_result(new, g)
        out = list(grads)
        out[self.nr] = new
        return tuple(out)


def _check_hook_result(new, old) -> None:
    if not isinstance(new, Tensor):
        raise TypeError(f"hook should return a Tensor or None, got {type(new).__name__}")
    if new.shape != old.shape:
        raise RuntimeError(
            f"hook changed the shape of the gradient from {list(old.shape)} to "
            f"{list(new.shape)}"
        )


def _add_leaf_hook(t, kind: str, hook) -> RemovableHandle:
    """Add ``hook`` to a leaf's ``hooks`` (run on its gradient before accumulation) or
    ``post_hooks`` (run on the leaf after it)."""
    extra = t._extras
    hooks = getattr(extra, kind)
    if hooks is None:
        hooks = OrderedDict()
        setattr(extra, kind, hooks)
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle


def register_tensor_hook(t, hook) -> RemovableHandle:
    if not t._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if t._grad_fn is None:
        return _add_leaf_hook(t, "hooks", hook)
    return t._grad_fn.register_prehook(_TensorPreHook(hook, t._output_nr))


def register_post_accumulate_hook(t, hook) -> RemovableHandle:
    if t._grad_fn is not None:
        raise RuntimeError(
            "post accumulate grad hooks cannot be registered on non-leaf tensors"
        )
    if not t._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    return _add_leaf_hook(t, "post_hooks", hook)


class _RetainGrad:
    __slots__ = ("ref",)

    def __init__(self, t) -> None:
        self.ref = weakref.ref(t)

    def __call__(self, g):
        t = self.ref()
        if t is None:
            return None
        if t._grad is None:
            t._grad = wrap(g._data.copy()) if not g._requires_grad else g
        else:
            t._grad = t._grad + g
        return None


def retain_grad(t) -> None:
    if not t._requires_grad:
        raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    if t._grad_fn is None or t.retains_grad:
        return
    t._extras.retains_grad = True
    t._grad_fn.register_prehook(_TensorPreHook(_RetainGrad(t), t._output_nr))


# Tensor's hook methods live here, not in _tensor.py, which sits below autograd.
def _tensor_retain_grad(self) -> None:
    """Keep ``.grad`` for this non-leaf tensor after backward."""
    retain_grad(self)


def _tensor_register_hook(self, hook) -> RemovableHandle:
    """``hook(grad)`` runs when this tensor's gradient is computed; a non-None return
    replaces the gradient. Returns a handle with ``remove()``."""
    return register_tensor_hook(self, hook)


def _tensor_register_post_accumulate_grad_hook(self, hook) -> RemovableHandle:
    """``hook(tensor)`` runs after the gradient has been accumulated into ``.grad``."""
    return register_post_accumulate_hook(self, hook)


Tensor.retain_grad = _tensor_retain_grad
Tensor.register_hook = _tensor_register_hook
Tensor.register_post_accumulate_grad_hook = _tensor_register_post_accumulate_grad_hook
for _fn, _name in ((_tensor_retain_grad, "retain_grad"),
                   (_tensor_register_hook, "register_hook"),
                   (_tensor_register_post_accumulate_grad_hook,
                    "register_post_accumulate_grad_hook")):
    _fn.__name__ = _fn.__qualname__ = _name
