"""RAdam: Adam whose adaptive term is switched on once its variance is tractable."""

from __future__ import annotations

from ..backend import xp
from .optimizer import (
    Optimizer,
    adam_moments,
    defaults_from,
    init_state,
    value,
)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """``torch.optim.RAdam``: plain momentum SGD while ``rho_t <= 5``, rectified Adam after."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False) -> None:
        defaults = defaults_from(locals(), "lr", "eps", "betas", "weight_decay")
        super().__init__(params, defaults)

    @staticmethod
    def _update(p, grad, state, group) -> None:
        x = p._data
        if not state:
            init_state(state, p, "exp_avg", "exp_avg_sq")
        lr, eps = value(group["lr"]), group["eps"]
        beta1, beta2 = group["betas"]
        grad, step, exp_avg, exp_avg_sq = adam_moments(x, grad, state, group, lr, beta1, beta2)
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        bias_corrected_exp_avg = exp_avg / bias_correction1
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            sqrt_sq = xp(x).sqrt(exp_avg_sq)
            sqrt_sq += eps
            adaptive_lr = (bias_correction2**0.5) / sqrt_sq
            x -= bias_corrected_exp_avg * lr * adaptive_lr * rect
        else:
            x -= bias_corrected_exp_avg * lr
