"""Tensor hooks and ``retain_grad``.

A leaf's hooks live on the tensor (its AccumulateGrad runs them); a non-leaf's hooks are
pre-hooks of its ``grad_fn`` that look at the one output the tensor is.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict

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
    from .._tensor import Tensor

    if not isinstance(new, Tensor):
        raise TypeError(f"hook should return a Tensor or None, got {type(new).__name__}")
    if new.shape != old.shape:
        raise RuntimeError(
            f"hook changed the shape of the gradient from {list(old.shape)} to "
            f"{list(new.shape)}"
        )


def register_tensor_hook(t, hook) -> RemovableHandle:
    if not t._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if t._grad_fn is None:
        hooks = t._extras.setdefault("hooks", OrderedDict())
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle
    return t._grad_fn.register_prehook(_TensorPreHook(hook, t._output_nr))


def register_post_accumulate_hook(t, hook) -> RemovableHandle:
    if t._grad_fn is not None:
        raise RuntimeError(
            "post accumulate grad hooks cannot be registered on non-leaf tensors"
        )
    if not t._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    hooks = t._extras.setdefault("post_hooks", OrderedDict())
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle


class _RetainGrad:
    __slots__ = ("ref",)

    def __init__(self, t) -> None:
        self.ref = weakref.ref(t)

    def __call__(self, g):
        t = self.ref()
        if t is None:
            return None
        from .._tensor import wrap

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
    t._extras["retains_grad"] = True
    t._grad_fn.register_prehook(_TensorPreHook(_RetainGrad(t), t._output_nr))
