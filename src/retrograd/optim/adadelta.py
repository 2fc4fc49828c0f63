"""Adadelta: step sizes from running averages of squared gradients and squared updates."""

from __future__ import annotations

from ..backend import xp
from .optimizer import Optimizer, defaults_from, init_state, l2_grad, value

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """``torch.optim.Adadelta``: ``delta = sqrt(u + eps) / sqrt(v + eps) * g; p -= lr * delta``."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False) -> None:
        defaults = defaults_from(locals(), "lr", "eps", "weight_decay")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        super().__init__(params, defaults)

    @staticmethod
    def _update(p, grad, state, group) -> None:
        x = p._data
        m = xp(x)
        if not state:
            init_state(state, p, "square_avg", "acc_delta")
        rho, eps = group["rho"], group["eps"]
        state["step"]._data += 1
        grad = l2_grad(grad, x, group)
        square_avg, acc_delta = state["square_avg"]._data, state["acc_delta"]._data
        square_avg *= rho
        square_avg += (1 - rho) * grad * grad
        std = m.sqrt(square_avg + eps)
        delta = m.sqrt(acc_delta + eps)
        delta /= std
        delta *= grad
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta
        x += -value(group["lr"]) * delta
