"""Adam (and, with decoupled weight decay, AdamW), with AMSGrad and ``maximize``."""

from __future__ import annotations

from ..backend import xp
from .optimizer import (
    Optimizer,
    adam_moments,
    defaults_from,
    init_state,
    value,
    zeros_state,
)

__all__ = ["Adam"]


class Adam(Optimizer):
    """``torch.optim.Adam``: bias-corrected first and second moment estimates.

    ``p -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps)``
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False) -> None:
        defaults = defaults_from(locals(), "lr", "eps", "betas", "weight_decay")
        super().__init__(params, defaults)

    @staticmethod
    def _update(p, grad, state, group) -> None:
        x = p._data
        m = xp(x)
        if not state:
            init_state(state, p, "exp_avg", "exp_avg_sq")
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = zeros_state(p)
        lr, eps = value(group["lr"]), group["eps"]
        beta1, beta2 = (value(b) for b in group["betas"])
        grad, step, exp_avg, exp_avg_sq = adam_moments(x, grad, state, group, lr, beta1, beta2)
        bias_correction1 = 1 - beta1**step
        bias_correction2_sqrt = (1 - beta2**step) ** 0.5
        step_size = lr / bias_correction1
        if group["amsgrad"]:
            max_sq = state["max_exp_avg_sq"]._data
            m.maximum(max_sq, exp_avg_sq, out=max_sq)
            denom = m.sqrt(max_sq) / bias_correction2_sqrt
        else:
            denom = m.sqrt(exp_avg_sq) / bias_correction2_sqrt
        denom += eps
        x += -step_size * exp_avg / denom
