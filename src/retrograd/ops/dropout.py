"""Dropout of ``retrograd.nn.functional``: plain, channel-wise (1d/2d/3d) and alpha variants.

Masks come from ``retrograd.random``'s default generator; the output is the input times a
constant mask, so gradients use the same mask and differentiate to any order.
"""

from __future__ import annotations

import math
import warnings

from ..backend import xp
from ..random import rng
from ._core import replayable
from .activation import _inplace

__all__ = ["alpha_dropout", "dropout", "dropout1d", "dropout2d", "dropout3d",
           "feature_alpha_dropout"]


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _noise_shape(input, feature):
    if feature:
        if input.dim() < 2:
            raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
        return tuple(input.shape[:2]) + (1,) * (input.dim() - 2)
    return tuple(input.shape)


def _masks(shape, dtype, p, alpha):
    """The multiplier (and, for alpha dropout, the shift) of one dropout call."""
    noise = (rng().random(shape) < 1 - p).astype(dtype)
    if not alpha:
        return (noise / (1 - p)).astype(noise.dtype), None
    a_const = 1.7580993408473766
    a = 1.0 / math.sqrt((a_const * a_const * p + 1) * (1 - p))
    b = ((noise - 1) * (a_const * a) + a_const * a * p).astype(noise.dtype)
    return (noise * a).astype(noise.dtype), b


def _dropout_impl(input, p, training, inplace, feature=False, alpha=False):
    _check_p(p)
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1:
        zero = xp(input._data).zeros((), input._data.dtype)
        return _inplace(lambda x: x * zero, input) if inplace else input * zero
    noise, b = replayable(_masks, _noise_shape(input, feature), input._data.dtype, p, alpha)
    if alpha:
        def fn(x):
            return x * noise + b
    else:
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
        noise = replayable(_masks, _noise_shape(noise_in, True), input._data.dtype, p,
                           False)[0][0] if p < 1 else 0.0
        return _inplace(lambda x: x * noise, input)
    return _dropout_impl(input.unsqueeze(0), p, training, False, feature=True).squeeze(0)


def _check_rank(input, spatial: int) -> int:
    """Warn, as PyTorch does, when dropout{spatial}d gets an input of another rank than
    (N, C, *spatial) or (C, *spatial); return the rank."""
    d, name = input.dim(), f"dropout{spatial}d"
    if d not in (spatial + 1, spatial + 2):
        warnings.warn(
            f"{name}: Received a {d}-D input to {name}, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            f"warning, please use dropout instead. Note that {name} exists to provide "
            f"channel-wise dropout on inputs with {spatial} spatial dimensions, a channel "
            "dimension, and an optional batch dimension (i.e. "
            f"{spatial + 1}D or {spatial + 2}D inputs).", UserWarning, stacklevel=3)
    return d


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) inputs (3-D inputs: channel-wise 1-D, as PyTorch)."""
    _check_p(p)
    d = _check_rank(input, 2)
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
    d = _check_rank(input, 3)
    return _batched_feature(input, p, training, inplace, d == 5)
