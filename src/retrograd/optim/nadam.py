"""NAdam: Adam with Nesterov momentum and a momentum-decay schedule."""

from __future__ import annotations

from ..backend import xp
from .optimizer import (
    Optimizer,
    adam_moments,
    defaults_from,
    scalar_state,
    value,
    zeros_state,
)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """``torch.optim.NAdam``: ``mu_t = b1 * (1 - 0.5 * 0.96**(t * momentum_decay))``.

    ``mu_product`` is kept as a float32 scalar tensor, as in PyTorch, so the products round
    the same way.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False) -> None:
        defaults = defaults_from(locals(), "lr", "eps", "betas", "weight_decay", "momentum_decay")
        super().__init__(params, defaults)

    @staticmethod
    def _update(p, grad, state, group) -> None:
        x = p._data
        if not state:
            state["step"] = scalar_state(0.0)
            state["mu_product"] = scalar_state(1.0)
            state["exp_avg"] = zeros_state(p)
            state["exp_avg_sq"] = zeros_state(p)
        lr, eps = value(group["lr"]), group["eps"]
        beta1, beta2 = group["betas"]
        momentum_decay = group["momentum_decay"]
        grad, step, exp_avg, exp_avg_sq = adam_moments(x, grad, state, group, lr, beta1, beta2)
        bias_correction2 = 1 - beta2**step
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_product = state["mu_product"]._data
        mu_product *= mu
        denom = xp(x).sqrt(exp_avg_sq / bias_correction2)
        mu_product_now = float(mu_product)
        mu_product_next = mu_product_now * mu_next
        denom += eps
        x += (-lr * (1.0 - mu) / (1.0 - mu_product_now)) * grad / denom
        x += (-lr * mu_next / (1.0 - mu_product_next)) * exp_avg / denom
