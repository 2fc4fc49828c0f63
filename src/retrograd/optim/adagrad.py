"""Adagrad: per-coordinate learning rates from the sum of squared gradients."""

from __future__ import annotations

from ..backend import xp
from .optimizer import Optimizer, defaults_from, l2_grad, scalar_state, value, zeros_state

__all__ = ["Adagrad"]


def _initial(p, group: dict):
    """The accumulator's start; complex parameters start both halves there, as PyTorch."""
    v = group["initial_accumulator_value"]
    return complex(v, v) if p._data.dtype.kind == "c" else v


class Adagrad(Optimizer):
    """``torch.optim.Adagrad``: ``s += g**2; p -= clr * g / (sqrt(s) + eps)``.

    ``clr = lr / (1 + (t - 1) * lr_decay)``.

    As in PyTorch, the state (``step`` and ``sum``) is made for every parameter up front.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, foreach=None, *, maximize=False,
                 differentiable=False, fused=None) -> None:
        defaults = defaults_from(locals(), "lr", "eps", "weight_decay", "lr_decay",
                                 "initial_accumulator_value")
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = scalar_state(0.0)
                state["sum"] = zeros_state(p, _initial(p, group))

    @staticmethod
    def _update(p, grad, state, group) -> None:
        x = p._data
        if not state:  # a group added after construction
            state["step"] = scalar_state(0.0)
            state["sum"] = zeros_state(p, _initial(p, group))
        step_t = state["step"]._data
        step_t += 1
        step = float(step_t)
        grad = l2_grad(grad, x, group)
        clr = value(group["lr"]) / (1 + (step - 1) * group["lr_decay"])
        state_sum = state["sum"]._data
        state_sum += 1 * grad * grad
        std = xp(x).sqrt(state_sum)
        std += group["eps"]
        x += -clr * grad / std
