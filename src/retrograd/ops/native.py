"""PyTorch's ``native_*`` normalizations and the backward ops it exposes as functions:
each returns the normalized output and the statistics its backward uses.

``native_batch_norm``, ``native_layer_norm`` and ``native_group_norm`` are the functional
normalizations with their statistics as extra outputs: the batch (or row, or group) mean
and the reciprocal standard deviation ``rstd = 1 / sqrt(biased var + eps)``. As in PyTorch,
batch and layer norm's statistics take no gradient; group norm's belong to the graph but no
gradient flows back through them (PyTorch's ``NativeGroupNormBackward0`` drops theirs).
"""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor, wrap
from ..backend import xp
from ._core import Primitive
from .creation import empty
from .normalization import (
    Standardize,
    _affine,
    _channel_shape,
    _normalize,
    _normalized_shape,
    _update,
    _with_running_stats,
)
from .pooling import FlatGather, FlatScatterAdd
from .shape import squeeze, unsqueeze

__all__ = ["max_pool2d_with_indices_backward", "native_batch_norm",
           "native_dropout_backward", "native_group_norm", "native_layer_norm"]


def native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum,
                      eps):
    """``(out, save_mean, save_rstd)``: batch norm over dims (0, 2, ...), with the batch's
    per-channel mean and rstd in training (the running statistics updated in place), and
    empty statistics in evaluation."""
    c = input.shape[1]
    shape = _channel_shape(input)
    if training:
        dims = (0, *range(2, input.dim()))
        out, mean, var = _normalize(input, dims, eps)
        n = input.numel() // max(c, 1)
        _update(running_mean, mean, momentum)
        _update(running_var, var, momentum, n / max(n - 1, 1))
        m = xp(mean)
        dt = input._data.dtype
        stats = (wrap(mean.reshape(c).astype(dt)),
                 wrap((1.0 / m.sqrt(var + eps)).reshape(c).astype(dt)))
    else:
        out = _with_running_stats(input, running_mean, running_var, eps, shape)
        stats = (empty(0, dtype=input.dtype), empty(0, dtype=input.dtype))
    return (_affine(out, weight, bias, shape), *stats)


def native_layer_norm(input, normalized_shape, weight, bias, eps):
    """``(out, mean, rstd)``: layer norm over the last ``len(normalized_shape)`` dims; the
    statistics keep those dims as size 1."""
    ns = _normalized_shape(normalized_shape)
    k = len(ns)
    if tuple(input.shape[input.dim() - k:]) != ns:
        raise RuntimeError(
            f"Given normalized_shape={list(ns)}, expected input with shape "
            f"[*, {', '.join(map(str, ns))}], but got input of size{list(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != ns:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but "
                               f"got {name} of shape {list(t.shape)} and normalized_shape = "
                               f"{list(ns)}")
    dims = tuple(range(input.dim() - k, input.dim()))
    out, mean, var = _normalize(input, dims, eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    dt = input._data.dtype
    rstd = 1.0 / xp(var).sqrt(var + eps)
    return out, wrap(mean.astype(dt)), wrap(rstd.astype(dt))


class NativeGroupNorm(Standardize):
    """Standardize over each group, with its mean and rstd as graph outputs.

    d/dx = Standardize's for the output's gradient; where the mean's and the rstd's
    gradients both come in (PyTorch adds them only then), also gm / n and
    -gr * rstd^2 * xhat / n (d mean/dx = 1/n, d rstd/dx = -rstd^3 (x - mean) / n)."""

    __slots__ = ()
    nondiff_outputs = ()
    formula = ("invstd * (grad - mean(grad) - xhat * mean(grad * xhat)) + grad_mean / n"
               " - grad_rstd * invstd^2 * xhat / n")

    def forward(ctx, x, dims=(), eps=1e-5):
        out, mean, _ = Standardize.forward(ctx, x, dims, eps)
        return out, mean.astype(x.dtype), ctx.invstd.astype(x.dtype)

    def backward(ctx, grad, grad_mean=None, grad_rstd=None):
        res = None if grad is None else ctx._apply_jacobian(grad)
        if grad_mean is None or grad_rstd is None:
            return res
        (x,) = ctx.saved
        n = math.prod(x.shape[d] for d in ctx.dims)
        if isinstance(x, Tensor) or isinstance(grad_mean, Tensor):
            x = x if isinstance(x, Tensor) else wrap(x)
            centered = x - x.mean(ctx.dims, keepdim=True)
            invstd = ((centered * centered).mean(ctx.dims, keepdim=True) + ctx.eps) ** -0.5
            xhat = centered * invstd
        else:
            xhat, invstd = ctx.xhat, ctx.invstd
        extra = (grad_mean - grad_rstd * invstd * invstd * xhat) / n
        return extra if res is None else res + extra

    def jvp(ctx, tx):
        # d mean = mean(t); d rstd = -rstd^2 * mean(xhat * t), means over the group.
        xhat, invstd = ctx.xhat, ctx.invstd
        t_mean = tx.mean(ctx.dims, keepdim=True)
        t_rstd = (tx * xhat).mean(ctx.dims, keepdim=True) * -(invstd * invstd)
        return ctx._apply_jacobian(tx), t_mean, t_rstd


def native_group_norm(input, weight, bias, N, C, HxW, group, eps):
    """``(out, mean, rstd)``: group norm of input seen as (N, C, HxW) in ``group`` groups;
    the statistics are (N, group)."""
    if input.numel() != N * C * HxW:
        raise RuntimeError("Expected X.numel() == N * C * HxW to be true, but got false.")
    if group <= 0 or C % group:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got input "
            f"of shape {list(input.shape)} and num_groups={group}")
    grouped = input.reshape(N, group, -1)
    out, mean, rstd = NativeGroupNorm.apply(grouped, dims=(2,), eps=eps)
    out = _affine(out.reshape(*input.shape), weight, bias, _channel_shape(input))
    return out, mean.reshape(N, group), rstd.reshape(N, group)


def native_dropout_backward(grad_output, mask, scale):
    """Dropout's backward: ``grad_output * mask * scale`` (mask: the kept elements)."""
    return grad_output * mask * scale


class MaxPoolIndicesBackward(Primitive):
    """Max pooling's backward as an op: ``grad`` (N, C, *O) added into zeros shaped as the
    input at the pooling's flat ``indices``. d/dgrad = grad gathered at the indices; the
    input only gives the shape (its gradient is zero, as PyTorch's)."""

    __slots__ = ("idx", "shape")
    formula = "gather(grad, indices); d/dx = 0"

    def forward(ctx, g, x, idx=None):
        ctx.idx, ctx.shape = idx, x.shape
        return FlatScatterAdd.generic(g, idx=idx, shape=x.shape, unique=False)

    def backward(ctx, grad):
        data = grad._data if isinstance(grad, Tensor) else grad
        zero = xp(data).zeros(ctx.shape, data.dtype)
        return (FlatGather.generic(grad, idx=ctx.idx, unique=False),
                wrap(zero) if isinstance(grad, Tensor) else zero)

    def jvp(ctx, tg, tx):
        return FlatScatterAdd.generic(tg, idx=ctx.idx, shape=ctx.shape, unique=False)


def max_pool2d_with_indices_backward(grad_output, input, kernel_size, stride, padding,
                                     dilation, ceil_mode, indices):
    """The gradient of ``max_pool2d_with_indices`` with respect to its input: each output
    gradient goes to the input element its index names (summed where windows overlap)."""
    if tuple(grad_output.shape) != tuple(indices.shape):
        raise RuntimeError(f"max_pool2d_with_indices_backward(): expected grad_output and "
                           f"indices of one shape, but got {list(grad_output.shape)} and "
                           f"{list(indices.shape)}")
    if input.dim() not in (3, 4):
        raise RuntimeError(f"non-empty 3D or 4D (batch mode) tensor expected for input, but "
                           f"got: {list(input.shape)}")
    unbatched = input.dim() == 3
    g = unsqueeze(grad_output, 0) if unbatched else grad_output
    x = unsqueeze(input, 0) if unbatched else input
    idx = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    idx = idx[None] if unbatched else idx
    total = math.prod(x.shape[2:])
    if idx.size and (idx.min() < 0 or idx.max() >= total):
        raise RuntimeError(f"Found an invalid max index: {int(idx.max())}")
    out = MaxPoolIndicesBackward.apply(g, x, idx=idx.astype(np.int64, copy=False))
    return squeeze(out, 0) if unbatched else out
