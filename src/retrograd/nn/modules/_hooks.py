"""Module backward hooks: identity autograd Functions around a call's inputs and outputs.

The Function on the outputs sees ``grad_output`` (and runs the pre-hooks, which may replace
it); the one on the inputs sees ``grad_input`` and runs the full backward hooks.
"""

from __future__ import annotations

from typing import Any

from ..._tensor import Tensor
from ...autograd.function import Function

__all__ = ["BackwardHook"]


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
