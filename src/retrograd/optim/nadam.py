"""NAdam: Adam with Nesterov momentum and a momentum-decay schedule."""

from __future__ import annotations

from ..backend import xp
from .optimizer import Optimizer, check_hparams, lerp_, scalar_state, value, zeros_state

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """``torch.optim.NAdam``: ``mu_t = b1 * (1 - 0.5 * 0.96**(t * momentum_decay))``.

    ``mu_product`` is kept as a float32 scalar tensor, as in PyTorch, so the products round
    the same way.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False) -> None:
        check_hparams(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay,
                      momentum_decay=momentum_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable,
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
            state["mu_product"] = scalar_state(1.0)
            state["exp_avg"] = zeros_state(p)
            state["exp_avg_sq"] = zeros_state(p)
        lr, wd, eps = value(group["lr"]), group["weight_decay"], group["eps"]
        beta1, beta2 = group["betas"]
        momentum_decay = group["momentum_decay"]
        if group["maximize"]:
            grad = -grad
        step_t = state["step"]._data
        step_t += 1
        step = float(step_t)
        bias_correction2 = 1 - beta2**step
        if wd != 0:
            if group["decoupled_weight_decay"]:
                x *= 1 - lr * wd
            else:
                grad = grad + wd * x
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_product = state["mu_product"]._data
        mu_product *= mu
        exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
        lerp_(exp_avg, grad, 1 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        denom = xp(x).sqrt(exp_avg_sq / bias_correction2)
        mu_product_now = float(mu_product)
        mu_product_next = mu_product_now * mu_next
        denom += eps
        x += (-lr * (1.0 - mu) / (1.0 - mu_product_now)) * grad / denom
        x += (-lr * mu_next / (1.0 - mu_product_next)) * exp_avg / denom
