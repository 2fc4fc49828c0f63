"""Normalization of ``retrograd.nn.functional`` (batch, instance, layer, group, RMS, local
response), and the hub that also exports dropout, embedding and attention.

Every normalization is one ``Standardize`` primitive (fast plain backward, differentiable
double backward) plus an affine composite; running statistics are buffers updated in place
without autograd, as PyTorch does.
"""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor, wrap
from ..autograd.grad_mode import state as _state
from ..backend import xp
from ._core import Primitive, replayable
from ._out import dtype_name
from .attention import scaled_dot_product_attention
from .dropout import (
    alpha_dropout,
    dropout,
    dropout1d,
    dropout2d,
    dropout3d,
    feature_alpha_dropout,
)
from .embedding import embedding, embedding_bag, one_hot
from .inplace import bump_version

__all__ = ["alpha_dropout", "batch_norm", "dropout", "dropout1d", "dropout2d", "dropout3d",
           "embedding", "embedding_bag", "feature_alpha_dropout", "group_norm", "instance_norm",
           "layer_norm", "local_response_norm", "one_hot", "rms_norm",
           "scaled_dot_product_attention"]



# ---------------------------------------------------------------------- normalization

class Standardize(Primitive):
    """(x - mean) / sqrt(var + eps) over ``dims`` (biased var); mean and var come out too
    (not differentiable: they feed the running statistics).

    d/dx = invstd * (grad - mean(grad) - xhat * mean(grad * xhat)), means over ``dims``.
    The Jacobian is symmetric, so the jvp is the same formula. A plain backward reuses the
    forward's xhat and invstd; under create_graph they are recomputed from x with
    differentiable ops.
    """

    __slots__ = ("dims", "eps", "invstd", "xhat")
    nondiff_outputs = (1, 2)
    formula = "invstd * (grad - mean(grad) - xhat * mean(grad * xhat))"

    def forward(ctx, x, dims=(), eps=1e-5):
        ctx.dims, ctx.eps = dims, eps
        m = xp(x)
        work = x.astype(np.float32) if x.dtype == np.float16 else x
        mean = work.mean(axis=dims, keepdims=True)
        centered = work - mean
        var = m.square(centered).mean(axis=dims, keepdims=True)
        invstd = 1.0 / m.sqrt(var + eps)
        centered *= invstd
        ctx.xhat, ctx.invstd = centered, invstd
        ctx.save(x)
        return centered.astype(x.dtype, copy=False), mean, var

    def _apply_jacobian(ctx, g):
        dims = ctx.dims
        (x,) = ctx.saved
        if not isinstance(x, Tensor) and not isinstance(g, Tensor):
            xhat, invstd = ctx.xhat, ctx.invstd
            out = g - g.mean(axis=dims, keepdims=True)
            out -= xhat * (g * xhat).mean(axis=dims, keepdims=True)
            out *= invstd
            return out.astype(x.dtype, copy=False)
        if not isinstance(x, Tensor):
            x = wrap(x)
        centered = x - x.mean(dims, keepdim=True)
        invstd = ((centered * centered).mean(dims, keepdim=True) + ctx.eps) ** -0.5
        xhat = centered * invstd
        return invstd * (g - g.mean(dims, keepdim=True)
                         - xhat * (g * xhat).mean(dims, keepdim=True))

    def backward(ctx, grad, _gm=None, _gv=None):
        return ctx._apply_jacobian(grad)

    def jvp(ctx, tx):
        return ctx._apply_jacobian(tx), None, None


def _normalize(x, dims, eps):
    """(x - mean) / sqrt(biased var + eps) over ``dims``; also returns mean and var arrays."""
    out, mean, var = Standardize.generic(x, dims=tuple(dims), eps=eps)
    return out, mean._data, var._data


def _channel_shape(x):
    return (1, -1) + (1,) * (x.dim() - 2)


def _affine(out, weight, bias, shape):
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def _update(buffer, value, momentum, scale=1.0, over_batch=False):
    """buffer = (1 - momentum) * buffer + momentum * v, in place and outside autograd, where
    v = ``scale * value`` (averaged over dim 0 first when ``over_batch``).

    A capturing ``compile`` records the call itself (the running statistics change outside
    any primitive), so a replay updates them from the replayed batch statistics."""
    if buffer is None:
        return
    v = np.asarray(value)
    if scale != 1.0:
        v = v * scale
    if over_batch:
        v = v.mean(0)
    data = buffer._data
    data[...] = (1 - momentum) * data + momentum * v.reshape(data.shape)
    bump_version(buffer)
    if _state.capture is not None:
        _state.capture.call(_update, buffer, value, momentum, scale, over_batch)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalize each channel (dim 1) over the batch and spatial dims; in training, update
    the running mean and the running *unbiased* variance with ``momentum``."""
    if input.dim() < 2:
        raise ValueError(f"Expected 2D or 3D input (got {input.dim()}D input)")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")
    shape = _channel_shape(input)
    dims = (0, *range(2, input.dim()))
    if training:
        n = input.numel() // c
        if n == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got "
                             f"input size {input.size()}")
        out, mean, var = _normalize(input, dims, eps)
        _update(running_mean, mean, momentum)
        _update(running_var, var, momentum, n / max(n - 1, 1))
    else:
        out = _with_running_stats(input, running_mean, running_var, eps, shape)
    return _affine(out, weight, bias, shape)


def _with_running_stats(input, running_mean, running_var, eps, shape):
    """Evaluation mode: normalize with the running statistics (constants, no gradient)."""
    if running_mean is None or running_var is None:
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
    rm = running_mean.detach().reshape(shape)
    rv = running_var.detach().reshape(shape)
    return (input - rm) / (rv + eps).sqrt()


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalize each (sample, channel) over its spatial dims."""
    shape = _channel_shape(input)
    dims = tuple(range(2, input.dim()))
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    n = int(np.prod(input.shape[2:]))
    if n == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{input.size()}")
    out, mean, var = _normalize(input, dims, eps)
    _update(running_mean, mean, momentum, over_batch=True)
    _update(running_var, var, momentum, n / max(n - 1, 1), over_batch=True)
    return _affine(out, weight, bias, shape)


def _check_float(input, kernel: str) -> None:
    """Normalizing integers has no meaning: PyTorch's NotImplementedError names its kernel."""
    if input._data.dtype.kind not in "fc":
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{dtype_name(input._data.dtype)}'")


def _normalized_shape(normalized_shape) -> tuple:
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not ns:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                           "containing at least one element, but got normalized_shape = []")
    return ns


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize over the last ``len(normalized_shape)`` dims; elementwise affine."""
    ns = _normalized_shape(normalized_shape)
    _check_float(input, "LayerNormKernelImpl")
    k = len(ns)
    if tuple(input.shape[input.dim() - k:]) != ns or input.dim() < k:
        raise RuntimeError(
            f"Given normalized_shape={list(ns)}, expected input with shape "
            f"[*, {', '.join(map(str, ns))}], but got input of size{list(input.shape)}")
    out, _, _ = _normalize(input, tuple(range(input.dim() - k, input.dim())), eps)
    return _affine(out, weight, bias, ns)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) over the last dims (eps defaults to the dtype's epsilon)."""
    ns = _normalized_shape(normalized_shape)
    _check_float(input, "rms_norm")
    k = len(ns)
    if tuple(input.shape[input.dim() - k:]) != ns:
        raise RuntimeError(
            f"Given normalized_shape={list(ns)}, expected input with shape "
            f"[*, {', '.join(map(str, ns))}], but got input of size{list(input.shape)}")
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    dims = tuple(range(input.dim() - k, input.dim()))
    out = input / ((input * input).mean(dims, keepdim=True) + eps).sqrt()
    return out * weight if weight is not None else out


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalize each group of ``C // num_groups`` channels (and the spatial dims)."""
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{input.dim()}")
    n, c = input.shape[0], input.shape[1]
    per_group = n * c // num_groups * math.prod(input.shape[2:])
    if per_group == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {[n * c // num_groups, num_groups, *input.shape[2:]]}")
    _check_float(input, "GroupNormKernelImpl")
    if num_groups <= 0:
        raise RuntimeError(f"Expected num groups to be greater than 0, got {num_groups}")
    if c % num_groups:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got input "
            f"of shape {list(input.shape)} and num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.dim() != 1 or t.numel() != c):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of "
                               f"channels in input, but got {name} of shape {list(t.shape)} "
                               f"and input of shape {list(input.shape)}")
    if input.numel() == 0:
        # No group has a value: nothing to normalize (reshaping by -1 would be ambiguous).
        return _affine(input * 1, weight, bias, _channel_shape(input))
    grouped = input.reshape(n, num_groups, -1)
    out, _, _ = _normalize(grouped, (2,), eps)
    return _affine(out.reshape(*input.shape), weight, bias, _channel_shape(input))


def _band(m, c, lo, hi, size, dtype):
    """The (c, c) averaging matrix over each channel's window, transposed for ``matmul``
    (made through ``replayable``: a captured step makes it again)."""
    band = m.zeros((c, c), dtype)
    for i in range(c):
        band[i, max(0, i - lo):min(c, i + hi + 1)] = 1.0 / size
    return band.T.copy()


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """x / (k + alpha/size * sum of x^2 over a window of ``size`` channels)^beta."""
    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    c = input.shape[1]
    lo, hi = size // 2, (size - 1) // 2
    band = replayable(_band, xp(input._data), c, lo, hi, size, input._data.dtype)
    order = (0, *range(2, dim), 1)
    sq = (input * input).permute(*order)
    avg = sq.matmul(wrap(band))
    back = (0, dim - 1, *range(1, dim - 1))
    div = (avg.permute(*back) * alpha + k) ** beta
    return input / div


# ---------------------------------------------------------------------- torch.* spellings

def _torch_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
                      cudnn_enabled=True):
    return batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def _torch_instance_norm(input, weight, bias, running_mean, running_var, use_input_stats,
                         momentum, eps, cudnn_enabled=True):
    return instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                         momentum, eps)


def _torch_embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    return embedding(indices, weight, None if padding_idx < 0 else padding_idx, None, 2.0,
                     scale_grad_by_freq, sparse)


def _torch_layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5,
                      cudnn_enable=True):
    return layer_norm(input, normalized_shape, weight, bias, eps)


def _torch_group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    return group_norm(input, num_groups, weight, bias, eps)


def _train_flag(fn):
    def wrapper(input, p, train):
        return fn(input, p, train)

    wrapper.__name__ = fn.__name__
    return wrapper


def _train_flag_(fn):
    def wrapper(input, p, train):
        return fn(input, p, train, inplace=True)

    wrapper.__name__ = fn.__name__ + "_"
    return wrapper


#: What PyTorch also has at the top level, in its own argument order.
TORCH_NAMES = {"batch_norm": _torch_batch_norm, "instance_norm": _torch_instance_norm,
               "embedding": _torch_embedding, "layer_norm": _torch_layer_norm,
               "group_norm": _torch_group_norm, "rms_norm": rms_norm,
               "dropout": _train_flag(dropout), "dropout_": _train_flag_(dropout),
               "alpha_dropout": _train_flag(alpha_dropout),
               "alpha_dropout_": _train_flag_(alpha_dropout),
               "feature_alpha_dropout": _train_flag(feature_alpha_dropout),
               "feature_alpha_dropout_": _train_flag_(feature_alpha_dropout)}
