"""Module backward hooks: identity autograd Functions around a call's inputs and outputs.

The Function on the outputs sees ``grad_output`` (and runs the pre-hooks, which may replace
it); the one on the inputs sees ``grad_input`` and runs the full backward hooks.
"""

from __future__ import annotations

from typing import Any

from ..._tensor import Tensor
from ...autograd.function import Function
from ...autograd.graph import RemovableHandle

__all__ = ["BackwardHook", "HooksMixin", "register_module_forward_hook",
           "register_module_forward_pre_hook", "register_module_full_backward_hook",
           "register_module_full_backward_pre_hook"]

# Hooks that run for every Module call (``torch.nn.modules.module.register_module_*``).
_global_forward_pre_hooks: dict = {}
_global_forward_hooks: dict = {}
_global_forward_hooks_with_kwargs: dict = {}
_global_backward_pre_hooks: dict = {}
_global_backward_hooks: dict = {}


def _any_global_hooks() -> bool:
    return bool(_global_forward_pre_hooks or _global_forward_hooks
                or _global_backward_pre_hooks or _global_backward_hooks)


def register_module_forward_pre_hook(hook) -> RemovableHandle:
    """``hook(module, args)`` before every module's forward (before the module's own)."""
    handle = RemovableHandle(_global_forward_pre_hooks)
    _global_forward_pre_hooks[handle.id] = hook
    return handle


def register_module_forward_hook(hook, *, with_kwargs: bool = False,
                                 always_call: bool = False) -> RemovableHandle:
    """``hook(module, args, output)`` after every module's forward."""
    handle = RemovableHandle(_global_forward_hooks)
    _global_forward_hooks[handle.id] = hook
    if with_kwargs:
        _global_forward_hooks_with_kwargs[handle.id] = True
    return handle


def register_module_full_backward_pre_hook(hook) -> RemovableHandle:
    handle = RemovableHandle(_global_backward_pre_hooks)
    _global_backward_pre_hooks[handle.id] = hook
    return handle


def register_module_full_backward_hook(hook) -> RemovableHandle:
    handle = RemovableHandle(_global_backward_hooks)
    _global_backward_hooks[handle.id] = hook
    return handle


class _Identity(Function):
    @staticmethod
    def forward(ctx, *tensors, on_grads=None):
        ctx.on_grads = on_grads
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        new = ctx.on_grads(grads)
        return tuple(grads if new is None else new)


def _replace_tensors(obj: Any, positions: list[int], new: tuple) -> Any:
    items = list(obj)
    for k, pos in enumerate(positions):
        items[pos] = new[k]
    return tuple(items)


class BackwardHook:
    """Runs ``hook(module, grad_input, grad_output)`` hooks for one module call."""

    def __init__(self, module, hooks: list, pre_hooks: list) -> None:
        self.module = module
        self.hooks = hooks
        self.pre_hooks = pre_hooks
        self.grad_outputs: tuple | None = None
        self.n_inputs = 0
        self.inputs_need_grad = False

    def setup_input_hook(self, args: tuple) -> tuple:
        positions = [k for k, a in enumerate(args) if isinstance(a, Tensor)]
        self.n_inputs = len(positions)
        tensors = tuple(args[k] for k in positions)
        self.inputs_need_grad = any(t.requires_grad for t in tensors)
        if not self.inputs_need_grad:
            return args
        new = _Identity.apply(*tensors, on_grads=self._on_input_grads)
        return _replace_tensors(args, positions, new)

    def setup_output_hook(self, result: Any) -> Any:
        single = isinstance(result, Tensor)
        items = (result,) if single else result
        if not isinstance(items, tuple):
            return result
        positions = [k for k, a in enumerate(items) if isinstance(a, Tensor)]
        tensors = tuple(items[k] for k in positions)
        if not any(t.requires_grad for t in tensors):
            return result
        new = _Identity.apply(*tensors, on_grads=self._on_output_grads)
        if not isinstance(new, tuple):
            new = (new,)
        out = _replace_tensors(items, positions, new)
        return out[0] if single else out

    def _on_output_grads(self, grads: tuple):
        for hook in self.pre_hooks:
            result = hook(self.module, grads)
            if result is not None:
                grads = result if isinstance(result, tuple) else (result,)
        self.grad_outputs = grads
        if not self.inputs_need_grad:
            self._run_hooks((None,) * self.n_inputs)
        return grads

    def _on_input_grads(self, grads: tuple):
        return self._run_hooks(grads)

    def _run_hooks(self, grad_inputs: tuple):
        changed = None
        for hook in self.hooks:
            result = hook(self.module, grad_inputs, self.grad_outputs)
            if result is not None:
                result = result if isinstance(result, tuple) else (result,)
                if len(result) != len(grad_inputs):
                    raise RuntimeError(
                        "Backward hook returned an invalid number of grad_input, got "
                        f"{len(result)}, but expected {len(grad_inputs)}"
                    )
                grad_inputs = changed = result
        return changed


class HooksMixin:
    """Forward/backward hook registration and the call path that runs them (part of Module)."""

    def _call_impl(self, *args: Any, **kwargs: Any) -> Any:
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks
                or self._backward_pre_hooks or _any_global_hooks()):
            return self.forward(*args, **kwargs)
        for hook_id, hook in [*_global_forward_pre_hooks.items(),
                              *self._forward_pre_hooks.items()]:
            if hook_id in self._forward_pre_hooks_with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if isinstance(result, tuple) and len(result) == 2:
                        args, kwargs = result
                    else:
                        raise RuntimeError(
                            "forward pre-hook must return None or a tuple of (new_args, "
                            f"new_kwargs), but got {result}."
                        )
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        bw_hook = None
        backward_hooks = [*_global_backward_hooks.values(), *self._backward_hooks.values()]
        backward_pre_hooks = [*_global_backward_pre_hooks.values(),
                              *self._backward_pre_hooks.values()]
        if backward_hooks or backward_pre_hooks:
            bw_hook = BackwardHook(self, backward_hooks, backward_pre_hooks)
            args = bw_hook.setup_input_hook(args)
        result = self.forward(*args, **kwargs)
        for hook_id, hook in [*_global_forward_hooks.items(), *self._forward_hooks.items()]:
            wants_kwargs = (hook_id in self._forward_hooks_with_kwargs
                            or hook_id in _global_forward_hooks_with_kwargs)
            replaced = (hook(self, args, kwargs, result) if wants_kwargs
                        else hook(self, args, result))
            # A hook that returns something replaces the output for the hooks after it.
            result = result if replaced is None else replaced
        if bw_hook is not None:
            result = bw_hook.setup_output_hook(result)
        return result

    __call__ = _call_impl

    # ----------------------------------------------------------------- hooks
    def _add_hook(self, hooks: dict, hook, prepend: bool, extra: dict | None = None,
                  flag: bool = False) -> RemovableHandle:
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        if flag and extra is not None:
            extra[handle.id] = True
            outer_remove = handle.remove

            def remove() -> None:
                outer_remove()
                extra.pop(handle.id, None)

            handle.remove = remove
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_pre_hook(self, hook, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        return self._add_hook(self._forward_pre_hooks, hook, prepend,
                              self._forward_pre_hooks_with_kwargs, with_kwargs)

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        return self._add_hook(self._forward_hooks, hook, prepend,
                              self._forward_hooks_with_kwargs, with_kwargs)

    def register_full_backward_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_output) -> None | new grad_output``."""
        return self._add_hook(self._backward_pre_hooks, hook, prepend)

    def register_full_backward_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_input, grad_output) -> None | new grad_input``."""
        return self._add_hook(self._backward_hooks, hook, prepend)

    def register_backward_hook(self, hook) -> RemovableHandle:
        return self.register_full_backward_hook(hook)

    def register_state_dict_pre_hook(self, hook) -> RemovableHandle:
        return self._add_hook(self._state_dict_pre_hooks, hook, False)

    def register_state_dict_post_hook(self, hook) -> RemovableHandle:
        return self._add_hook(self._state_dict_hooks, hook, False)

    def register_load_state_dict_pre_hook(self, hook) -> RemovableHandle:
        def wrapped(state_dict, prefix, *rest):
            return hook(self, state_dict, prefix, *rest)

        return self._add_hook(self._load_state_dict_pre_hooks, wrapped, False)

    def register_load_state_dict_post_hook(self, hook) -> RemovableHandle:
        return self._add_hook(self._load_state_dict_post_hooks, hook, False)
