"""Adamax: Adam with the infinity norm in place of the second moment."""

from __future__ import annotations

from ..backend import xp
from .optimizer import Optimizer, defaults_from, init_state, l2_grad, lerp_, value

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
            init_state(state, p, "exp_avg", "exp_inf")
        beta1, beta2 = group["betas"]
        grad = l2_grad(grad, x, group)
        step_t = state["step"]._data
        step_t += 1
        exp_avg, exp_inf = state["exp_avg"]._data, state["exp_inf"]._data
        lerp_(exp_avg, grad, 1 - beta1)
        exp_inf *= beta2
        norm = m.abs(grad)
        norm += group["eps"]
        m.maximum(exp_inf, norm, out=exp_inf)
        clr = value(group["lr"]) / (1 - beta1 ** float(step_t))
        x += -clr * exp_avg / exp_inf
