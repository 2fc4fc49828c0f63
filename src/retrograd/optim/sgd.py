"""Stochastic gradient descent, with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from .._tensor import wrap
from ..backend import xp
from .optimizer import Optimizer, defaults_from, value

__all__ = ["SGD"]


class SGD(Optimizer):
    """``torch.optim.SGD``: ``v = momentum * v + (1 - dampening) * g; p -= lr * v``.

    The first step stores the gradient itself as the momentum buffer, as PyTorch does.
    """

    _updates_arrays = True  # _update below: NumPy calls on p's array, the grad and the buffer

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None) -> None:
        defaults = defaults_from(locals(), "lr", "weight_decay", "momentum")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    @staticmethod
    def _update(p, grad, state, group) -> None:
        x = p._data
        lr, momentum, wd = value(group["lr"]), group["momentum"], group["weight_decay"]
        if group["maximize"]:
            grad = -grad
        if wd != 0:
            grad = grad + wd * x
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                # xp.array, not .copy(): arithmetic on 0-d arrays gives NumPy scalars
                buf = state["momentum_buffer"] = wrap(xp(x).array(grad, dtype=x.dtype))
                b = buf._data
            else:
                b = buf._data
                b *= momentum
                dampening = group["dampening"]
                b += grad if dampening == 0 else (1 - dampening) * grad  # no temporary
            grad = grad + momentum * b if group["nesterov"] else b
        x += -lr * grad
