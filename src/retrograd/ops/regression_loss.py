"""The regression losses PyTorch records as one node each, reduction included: mean squared
error, smooth L1 and Huber (``MseLossBackward0``, ``SmoothL1LossBackward0``,
``HuberLossBackward0``, with the input's and the target's edges).

Each is a function f of d = x - t, reduced: d/dx = r(grad) * f'(d), d/dt = -d/dx, where
r(grad) spreads the reduced gradient over the elements (/ numel for 'mean'). The backward
is written with generic ops, so it has a double backward; f' is also the jvp's slope.
"""

from __future__ import annotations

from .._tensor import Tensor
from ._core import Primitive
from .unary import abs as _abs
from .unary import sign, where

__all__ = ["HuberLoss", "MseLoss", "SmoothL1Loss"]


class _RegressionLoss:
    """reduce(f(x - t)); subclasses give f (on arrays) and its slope f' (generic ops). A
    mixin, so that only the three losses are primitives (the registry's graph nodes)."""

    __slots__ = ()
    promote = True

    def forward(ctx, x, t, reduction="mean", param=1.0):
        ctx.reduction, ctx.param = reduction, param
        ctx.save(x, t)
        loss = ctx.value(x - t)
        ctx.numel = loss.size
        if reduction == "mean":
            return loss.mean()
        return loss.sum() if reduction == "sum" else loss

    def _spread(ctx, grad):
        return grad / ctx.numel if ctx.reduction == "mean" else grad

    def backward(ctx, grad):
        x, t = ctx.saved
        gx = ctx._spread(grad) * ctx.slope(x - t)
        nx, nt = ctx.needs_input_grad
        return (gx if nx else None), (-gx if nt else None)

    def jvp(ctx, tx, tt):
        x, t = ctx.saved
        if not isinstance(x, Tensor):
            x, t = tx.new_tensor(x), tx.new_tensor(t)
        tangent = ctx.slope(x - t) * (tx - tt)
        if ctx.reduction == "mean":
            return tangent.mean()
        return tangent.sum() if ctx.reduction == "sum" else tangent


class MseLoss(_RegressionLoss, Primitive):
    """reduce((x - t)^2).  d/dx = r(grad) * 2 (x - t), d/dt = -d/dx."""

    __slots__ = ("numel", "param", "reduction")
    formula = "r(grad) * 2 * (x - t), -r(grad) * 2 * (x - t)"

    def value(ctx, d):
        return d * d

    def slope(ctx, d):
        return d * 2


class SmoothL1Loss(_RegressionLoss, Primitive):
    """reduce(0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta), d = x - t.
    d/dx = r(grad) * (d / beta where |d| < beta, else sign(d)), d/dt = -d/dx."""

    __slots__ = ("numel", "param", "reduction")
    formula = "r(grad) * where(|d| < beta, d / beta, sign(d)), its negation; d = x - t"

    def value(ctx, d):
        a = abs(d)
        beta = ctx.param
        return ((a < beta) * (0.5 * d * d / beta) + (a >= beta) * (a - 0.5 * beta)) \
            .astype(d.dtype, copy=False)

    def slope(ctx, d):
        return where(_abs(d) < ctx.param, d / ctx.param, sign(d))


class HuberLoss(_RegressionLoss, Primitive):
    """reduce(0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)), d = x - t.
    d/dx = r(grad) * (d where |d| < delta, else delta sign(d)), d/dt = -d/dx."""

    __slots__ = ("numel", "param", "reduction")
    formula = "r(grad) * where(|d| < delta, d, delta * sign(d)), its negation; d = x - t"

    def value(ctx, d):
        a = abs(d)
        delta = ctx.param
        return ((a < delta) * (0.5 * d * d) + (a >= delta) * (delta * (a - 0.5 * delta))) \
            .astype(d.dtype, copy=False)

    def slope(ctx, d):
        return where(_abs(d) < ctx.param, d, sign(d) * ctx.param)
