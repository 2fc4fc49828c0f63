"""RMSprop: divide the gradient by a running root mean square (optionally centered)."""

from __future__ import annotations

from ..backend import xp
from .optimizer import Optimizer, defaults_from, l2_grad, lerp_, scalar_state, value, zeros_state

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """``torch.optim.RMSprop``: ``v = alpha * v + (1 - alpha) * g**2``,
    ``p -= lr * g / (sqrt(v) + eps)``.

    ``centered`` subtracts the square of a running mean of ``g`` from ``v``; ``momentum``
    accumulates the scaled step in a buffer.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False) -> None:
        defaults = defaults_from(locals(), "lr", "eps", "weight_decay", "momentum", "alpha")
        super().__init__(params, defaults)

    @staticmethod
    def _update(p, grad, state, group) -> None:
        x = p._data
        m = xp(x)
        momentum, alpha = group["momentum"], group["alpha"]
        if not state:
            state["step"] = scalar_state(0.0)
            state["square_avg"] = zeros_state(p)
            if momentum > 0:
                state["momentum_buffer"] = zeros_state(p)
            if group["centered"]:
                state["grad_avg"] = zeros_state(p)
        lr = value(group["lr"])
        grad = l2_grad(grad, x, group)
        state["step"]._data += 1
        square_avg = state["square_avg"]._data
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = state["grad_avg"]._data
            lerp_(grad_avg, grad, 1 - alpha)
            avg = m.sqrt(square_avg + -1 * grad_avg * grad_avg)
        else:
            avg = m.sqrt(square_avg)
        avg += group["eps"]
        if momentum > 0:
            buf = state["momentum_buffer"]._data
            buf *= momentum
            buf += grad / avg
            x += -lr * buf
        else:
            x += -lr * grad / avg
