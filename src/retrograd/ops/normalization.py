"""Normalization, dropout, embedding and attention of ``retrograd.nn.functional``.

The normalizations are composites (mean, variance, affine), so they differentiate to any
order; running statistics are buffers updated in place without autograd, as PyTorch does.
Dropout masks come from ``retrograd.random``'s default generator. ``embedding`` is a gather
primitive whose backward (a scatter-add that skips ``padding_idx``) is itself a primitive.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .._tensor import Tensor, wrap
from ..autograd.grad_mode import no_grad
from ..backend import xp
from ._core import Primitive
from .activation import _inplace, softmax
from .inplace import bump_version
from .unary import where

__all__ = ["alpha_dropout", "batch_norm", "dropout", "dropout1d", "dropout2d", "dropout3d",
           "embedding", "feature_alpha_dropout", "group_norm", "instance_norm", "layer_norm",
           "local_response_norm", "one_hot", "rms_norm", "scaled_dot_product_attention"]



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


def _update(buffer, value, momentum):
    """buffer = (1 - momentum) * buffer + momentum * value, in place and outside autograd."""
    if buffer is None:
        return
    data = buffer._data
    data[...] = (1 - momentum) * data + momentum * np.asarray(value).reshape(data.shape)
    bump_version(buffer)


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
        _update(running_var, var * (n / max(n - 1, 1)), momentum)
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean and running_var must be defined in evaluation "
                               "mode")
        rm = running_mean.detach().reshape(shape)
        rv = running_var.detach().reshape(shape)
        out = (input - rm) / (rv + eps).sqrt()
    return _affine(out, weight, bias, shape)


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
    _update(running_mean, mean.mean(0), momentum)
    _update(running_var, (var * (n / max(n - 1, 1))).mean(0), momentum)
    return _affine(out, weight, bias, shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize over the last ``len(normalized_shape)`` dims; elementwise affine."""
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(ns)
    if k == 0 or tuple(input.shape[input.dim() - k:]) != ns or input.dim() < k:
        raise RuntimeError(
            f"Given normalized_shape={list(ns)}, expected input with shape "
            f"[*, {', '.join(map(str, ns))}], but got input of size{list(input.shape)}")
    out, _, _ = _normalize(input, tuple(range(input.dim() - k, input.dim())), eps)
    return _affine(out, weight, bias, ns)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) over the last dims (eps defaults to the dtype's epsilon)."""
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
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
    n, c = input.shape[0], input.shape[1]
    if c % num_groups:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got input "
            f"of shape {list(input.shape)} and num_groups={num_groups}")
    grouped = input.reshape(n, num_groups, -1)
    out, _, _ = _normalize(grouped, (2,), eps)
    return _affine(out.reshape(*input.shape), weight, bias, _channel_shape(input))


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """x / (k + alpha/size * sum of x^2 over a window of ``size`` channels)^beta."""
    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    c = input.shape[1]
    lo, hi = size // 2, (size - 1) // 2
    band = np.zeros((c, c), input._data.dtype)
    for i in range(c):
        band[i, max(0, i - lo):min(c, i + hi + 1)] = 1.0 / size
    order = (0, *range(2, dim), 1)
    sq = (input * input).permute(*order)
    avg = sq.matmul(wrap(band.T.copy()))
    back = (0, dim - 1, *range(1, dim - 1))
    div = (avg.permute(*back) * alpha + k) ** beta
    return input / div


# ---------------------------------------------------------------------- dropout

def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _noise(input, p, feature):
    from ..random import rng

    if feature:
        if input.dim() < 2:
            raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
        shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2)
    else:
        shape = tuple(input.shape)
    return (rng().random(shape) < 1 - p).astype(input._data.dtype)


def _dropout_impl(input, p, training, inplace, feature=False, alpha=False):
    _check_p(p)
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1:
        zero = xp(input._data).zeros((), input._data.dtype)
        return _inplace(lambda x: x * zero, input) if inplace else input * zero
    noise = _noise(input, p, feature)
    if alpha:
        a_const = 1.7580993408473766
        a = 1.0 / math.sqrt((a_const * a_const * p + 1) * (1 - p))
        b = ((noise - 1) * (a_const * a) + a_const * a * p).astype(noise.dtype)
        noise = (noise * a).astype(noise.dtype)

        def fn(x):
            return x * noise + b
    else:
        noise = (noise / (1 - p)).astype(noise.dtype)

        def fn(x):
            return x * noise
    return _inplace(fn, input) if inplace else fn(input)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p)."""
    return _dropout_impl(input, p, training, inplace)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps SELU's self-normalizing mean and variance."""
    return _dropout_impl(input, p, training, inplace, alpha=True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _dropout_impl(input, p, training, inplace, feature=True, alpha=True)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) inputs."""
    _check_p(p)
    d = input.dim()
    if d not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {d}D input. Note that "
            "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            "inputs).")
    return _batched_feature(input, p, training, inplace, d == 3)


def _batched_feature(input, p, training, inplace, batched):
    if batched:
        return _dropout_impl(input, p, training, inplace, feature=True)
    if inplace:
        noise_in = input.unsqueeze(0)
        if p == 0 or not training:
            return input
        noise = _noise(noise_in, p, True)[0] / (1 - p) if p < 1 else 0.0
        return _inplace(lambda x: x * noise, input)
    return _dropout_impl(input.unsqueeze(0), p, training, False, feature=True).squeeze(0)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) inputs (3-D inputs: channel-wise 1-D, as PyTorch)."""
    _check_p(p)
    d = input.dim()
    if d not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {d}-D input to dropout2d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead. Note that dropout2d exists to provide "
            "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, "
            "and an optional batch dimension (i.e. 3D or 4D inputs).", UserWarning,
            stacklevel=2)
    if d == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            UserWarning, stacklevel=2)
    return _dropout_impl(input, p, training, inplace, feature=True)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs."""
    _check_p(p)
    d = input.dim()
    if d not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {d}-D input to dropout3d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead. Note that dropout3d exists to provide "
            "channel-wise dropout on inputs with 3 spatial dimensions, a channel dimension, "
            "and an optional batch dimension (i.e. 4D or 5D inputs).", UserWarning,
            stacklevel=2)
    return _batched_feature(input, p, training, inplace, d == 5)


# ---------------------------------------------------------------------- embedding

class EmbeddingGather(Primitive):
    """weight[indices] * scale (scale masks padding / weights by frequency in double
    backward; plain embedding has none).  d/dweight = scatter-add of grad * scale."""

    __slots__ = ("indices", "num", "scale")
    _name = "EmbeddingDenseBackwardBackward0"
    formula = "index_add(zeros, indices, grad * scale)"

    def forward(ctx, weight, indices=None, scale=None):
        ctx.indices, ctx.num, ctx.scale = indices, weight.shape[0], scale
        out = weight[indices]
        return out if scale is None else out * scale[..., None]

    def backward(ctx, grad):
        return EmbeddingScatter.generic(grad, indices=ctx.indices, num=ctx.num, scale=ctx.scale)

    def jvp(ctx, tw):
        return EmbeddingGather.generic(tw, indices=ctx.indices, scale=ctx.scale)


class EmbeddingScatter(Primitive):
    """zeros(num, D) with rows grad * scale added at ``indices``.  d/dgrad = gather."""

    __slots__ = ("indices", "num", "scale")
    _name = "EmbeddingDenseBackward0"
    formula = "gather(grad, indices) * scale"

    def forward(ctx, grad, indices=None, num=0, scale=None):
        ctx.indices, ctx.num, ctx.scale = indices, num, scale
        d = grad.shape[-1]
        out = xp(grad).zeros((num, d), dtype=grad.dtype)
        rows = grad.reshape(-1, d)
        if scale is not None:
            rows = rows * scale.reshape(-1, 1)
        np.add.at(out, indices.reshape(-1), rows)
        return out

    def backward(ctx, grad):
        return EmbeddingGather.generic(grad, indices=ctx.indices, scale=ctx.scale)

    def jvp(ctx, tg):
        return EmbeddingScatter.generic(tg, indices=ctx.indices, num=ctx.num, scale=ctx.scale)


def _embedding_scale(idx, padding_idx, by_freq, dtype):
    if padding_idx is None and not by_freq:
        return None
    scale = np.ones(idx.shape, dtype)
    if by_freq:
        _, inverse, counts = np.unique(idx, return_inverse=True, return_counts=True)
        scale = (1.0 / counts[inverse.reshape(idx.shape)]).astype(dtype)
    if padding_idx is not None:
        scale = np.where(idx == padding_idx, 0, scale).astype(dtype)
    return scale


class _Embed(Primitive):
    """weight[indices]; backward skips ``padding_idx`` and may scale by frequency."""

    __slots__ = ("indices", "num", "scale")
    _name = "EmbeddingBackward0"
    formula = "index_add(zeros, indices, grad * scale)"

    def forward(ctx, weight, indices=None, scale=None):
        ctx.indices, ctx.num, ctx.scale = indices, weight.shape[0], scale
        return weight[indices]

    def backward(ctx, grad):
        return EmbeddingScatter.generic(grad, indices=ctx.indices, num=ctx.num, scale=ctx.scale)

    def jvp(ctx, tw):
        return EmbeddingGather.generic(tw, indices=ctx.indices)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` picked by the integer ``input``."""
    num = weight.shape[0]
    if padding_idx is not None:
        if padding_idx >= num or padding_idx < -num:
            raise AssertionError("Padding_idx must be within num_embeddings")
        if padding_idx < 0:
            padding_idx += num
    idx = input._data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got {input.type()} instead (while checking arguments for "
            "embedding)")
    idx = idx.astype(np.int64, copy=False)
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        raise IndexError("index out of range in self")
    if max_norm is not None:
        _renorm_rows(weight, idx, max_norm, norm_type)
    scale = _embedding_scale(idx, padding_idx, scale_grad_by_freq, weight._data.dtype)
    return _Embed.generic(weight, indices=idx, scale=scale)


def _renorm_rows(weight, idx, max_norm, norm_type):
    """PyTorch's embedding_renorm_: rows used by ``idx`` rescaled to norm <= max_norm."""
    with no_grad():
        data = weight._data
        rows = np.unique(idx)
        w = data[rows]
        norms = np.linalg.norm(w, ord=norm_type, axis=1) if w.size else np.zeros(0)
        big = norms > max_norm
        if big.any():
            data[rows[big]] = w[big] * (max_norm / (norms[big] + 1e-7))[:, None]
            bump_version(weight)


def one_hot(tensor, num_classes=-1):
    """int64 tensor of shape ``(*tensor.shape, num_classes)`` with ones at the indices."""
    data = tensor._data
    if data.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if data.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(data.max()) + 1
    if data.size:
        if data.min() < 0:
            raise RuntimeError("Class values must be non-negative.")
        if data.max() >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    out = (data[..., None] == np.arange(num_classes)).astype(np.int64)
    return wrap(out)


# ---------------------------------------------------------------------- attention

def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(q k^T * scale + mask) v, with optional causal mask and dropout."""
    seq_l, seq_s = query.shape[-2], key.shape[-2]
    factor = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    if enable_gqa:
        rep = query.shape[-3] // key.shape[-3]
        heads = np.repeat(np.arange(key.shape[-3]), rep)
        key = key[..., heads, :, :]
        value = value[..., heads, :, :]
    scores = query.matmul(key.transpose(-2, -1)) * factor
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not "
                               "be set when is_causal=True")
        allowed = np.tril(np.ones((seq_l, seq_s), bool))
        scores = where(allowed, scores, -math.inf)
    if attn_mask is not None:
        if attn_mask._data.dtype == np.bool_:
            scores = where(attn_mask._data, scores, -math.inf)
        else:
            scores = scores + attn_mask
    attn = softmax(scores, -1)
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p, training=True)
    return attn.matmul(value)


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
