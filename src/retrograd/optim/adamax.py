"""Adamax: Adam with the infinity norm in place of the second moment."""

from __future__ import annotations

from ..backend import xp
from .optimizer import Optimizer, defaults_from, lerp_, scalar_state, value, zeros_state

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """``torch.optim.Adamax``: ``u = max(b2 * u, |g| + eps); p -= lr / (1 - b1**t) * m / u``."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False,
                 capturable=False) -> None:
        defaults = defaults_from(locals(), "lr", "eps", "betas", "weight_decay")
        super().__init__(params, defaults)

    @staticmethod
    def _update(p, grad, state, group) -> None:
        x = p._data
        m = xp(x)
        if not state:
            state["step"] = scalar_state(0.0)
            state["exp_avg"] = zeros_state(p)
            state["exp_inf"] = zeros_state(p)
        beta1, beta2 = group["betas"]
        if group["maximize"]:
            grad = -grad
        step_t = state["step"]._data
        step_t += 1
        wd = group["weight_decay"]
        if wd != 0:
            grad = grad + wd * x
        exp_avg, exp_inf = state["exp_avg"]._data, state["exp_inf"]._data
        lerp_(exp_avg, grad, 1 - beta1)
        exp_inf *= beta2
        norm = m.abs(grad)
        norm += group["eps"]
        m.maximum(exp_inf, norm, out=exp_inf)
        clr = value(group["lr"]) / (1 - beta1 ** float(step_t))
        x += -clr * exp_avg / exp_inf
