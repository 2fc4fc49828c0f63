"""Average pooling, adaptive average pooling and power-average (Lp) pooling.

Average pooling is a depthwise convolution by a box filter divided by the window counts;
adaptive average pooling is separable: one constant averaging matrix per spatial dim; Lp
pooling is the window sum of x**p (the average pool times the window size) raised to 1/p.
"""

from __future__ import annotations

import numpy as np

from ..backend import xp
from ._pool_geometry import _adaptive_bounds, _adaptive_input, _batched, _geometry
from .arithmetic import matmul
from .conv import Conv, _ntuple
from .shape import reshape, squeeze, transpose
from .unary import abs as _abs
from .unary import relu, sign

__all__ = ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "avg_pool1d",
           "avg_pool2d", "avg_pool3d", "lp_pool1d", "lp_pool2d", "lp_pool3d"]


def _avg_poolnd(nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override):
    x, unbatched = _batched(input, nd, f"avg_pool{nd}d")
    k, s, _, pads, out = _geometry(x, nd, kernel_size, stride, padding, 1, ceil_mode)
    n, c = x.shape[:2]
    size = tuple(x.shape[2:])
    m = xp(x._data)
    ones = m.ones((1, 1) + k, dtype=x._data.dtype)
    y = reshape(x, (n * c, 1) + size)
    summed = Conv.generic(y, ones, None, stride=s, pads=pads, dilation=(1,) * nd, groups=1)
    summed = reshape(summed, (n, c) + out)
    if divisor_override:
        res = summed / divisor_override
    else:
        div = np.ones((), dtype=np.float64)
        for i in range(nd):
            p = pads[i][0]
            start = np.arange(out[i]) * s[i] - p
            end = np.minimum(start + k[i], size[i] + p)
            cnt = end - start if count_include_pad else \
                np.minimum(end, size[i]) - np.maximum(start, 0)
            div = np.multiply.outer(div, cnt)
        res = summed * m.asarray(1.0 / div, dtype=x._data.dtype)
    return squeeze(res, 0) if unbatched else res


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """Mean over sliding windows of (N, C, L)."""
    return _avg_poolnd(1, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over sliding windows of (N, C, H, W); ``divisor_override`` replaces the count."""
    return _avg_poolnd(2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over sliding windows of (N, C, D, H, W)."""
    return _avg_poolnd(3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override)


def _adaptive_matrix(size: int, out: int, dtype):
    start, end = _adaptive_bounds(size, out)
    a = np.zeros((out, size))
    for i in range(out):
        a[i, start[i]:end[i]] = 1.0 / (end[i] - start[i])
    return a.astype(dtype)


def _adaptive_avg_poolnd(nd, input, output_size):
    x, unbatched, out = _adaptive_input(input, output_size, nd, "avg")
    res = x
    m = xp(x._data)
    for i in range(nd):
        dim = x.dim() - nd + i
        a = m.asarray(_adaptive_matrix(x.shape[dim], out[i], x._data.dtype).T)
        res = transpose(matmul(transpose(res, dim, -1), a), dim, -1)
    return squeeze(res, 0) if unbatched else res


def adaptive_avg_pool1d(input, output_size):
    """Mean over L split into ``output_size`` near-equal windows."""
    return _adaptive_avg_poolnd(1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Mean over (H, W) split into ``output_size`` near-equal windows (None keeps a size)."""
    return _adaptive_avg_poolnd(2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    """Mean over (D, H, W) split into ``output_size`` near-equal windows."""
    return _adaptive_avg_poolnd(3, input, output_size)


def _lp_poolnd(nd, input, norm_type, kernel_size, stride, ceil_mode):
    k = _ntuple(kernel_size, nd, "kernel_size")
    out = _avg_poolnd(nd, input ** norm_type, k, stride, 0, ceil_mode, True, None)
    kk = 1
    for e in k:
        kk *= e
    return ((sign(out) * relu(_abs(out))) * kk) ** (1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum over windows of x**p) ** (1/p)."""
    return _lp_poolnd(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum over windows of x**p) ** (1/p) on (N, C, H, W)."""
    return _lp_poolnd(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum over windows of x**p) ** (1/p) on (N, C, D, H, W)."""
    return _lp_poolnd(3, input, norm_type, kernel_size, stride, ceil_mode)
