"""RAdam: Adam whose adaptive term is switched on once its variance is tractable."""

from __future__ import annotations

from ..backend import xp
from .optimizer import Optimizer, check_hparams, lerp_, scalar_state, value, zeros_state

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """``torch.optim.RAdam``: plain momentum SGD while ``rho_t <= 5``, rectified Adam after."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False) -> None:
        check_hparams(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        return self._simple_step(closure, self._update)

    @staticmethod
    def _update(p, grad, state, group) -> None:
        x = p._data
        if not state:
            state["step"] = scalar_state(0.0)
            state["exp_avg"] = zeros_state(p)
            state["exp_avg_sq"] = zeros_state(p)
        lr, wd, eps = value(group["lr"]), group["weight_decay"], group["eps"]
        beta1, beta2 = group["betas"]
        if group["maximize"]:
            grad = -grad
        step_t = state["step"]._data
        step_t += 1
        step = float(step_t)
        if wd != 0:
            if group["decoupled_weight_decay"]:
                x *= 1 - lr * wd
            else:
                grad = grad + wd * x
        exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
        lerp_(exp_avg, grad, 1 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
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
