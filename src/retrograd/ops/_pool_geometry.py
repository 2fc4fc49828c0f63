"""Shared by max and average pooling: batching of an unbatched input, the window geometry
(kernel, stride, padding, dilation, output size, with PyTorch's checks) and the bounds of
adaptive pooling's windows."""

from __future__ import annotations

import numpy as np

from ..backend import xp
from .conv import _ntuple
from .shape import unsqueeze


def _batched(input, nd: int, name: str):
    if input.dim() == nd + 1:
        return unsqueeze(input, 0), True
    if input.dim() != nd + 2:
        raise RuntimeError(f"{name}: Expected {nd + 1}D or {nd + 2}D (batch mode) tensor for "
                           f"input, but got: {list(input.shape)}")
    return input, False


def _pool_size(size, k, s, p, d, ceil_mode) -> int:
    num = size + 2 * p - d * (k - 1) - 1
    o = (num + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (o - 1) * s >= size + p:
        o -= 1
    return o


def _geometry(x, nd, kernel_size, stride, padding, dilation, ceil_mode, name=""):
    k = _ntuple(kernel_size, nd, "kernel_size")
    s = k if stride is None or (isinstance(stride, (list, tuple)) and not stride) else \
        _ntuple(stride, nd, "stride")
    p = _ntuple(padding, nd, "padding")
    d = _ntuple(dilation, nd, "dilation")
    if any(e <= 0 for e in s):
        raise RuntimeError("stride should be greater than zero, but got "
                           f"stride={list(s)}")
    for i in range(nd):
        if name == "max_pool1d" and p[i] > k[i] // 2:
            raise RuntimeError("max_pool1d() padding should be at most half of kernel size, but "
                               f"got padding={p[i]} and kernel_size={k[i]}")
        if p[i] > (d[i] * (k[i] - 1) + 1) // 2:
            raise RuntimeError("pad should be at most half of effective kernel size, but got "
                               f"pad={p[i]}, kernel_size={k[i]} and dilation={d[i]}")
        if p[i] > k[i] // 2:
            raise RuntimeError("pad should be smaller than or equal to half of kernel size, "
                               f"but got pad={p[i]}, kernel_size={k[i]}")
    size = x.shape[2:]
    out = tuple(_pool_size(size[i], k[i], s[i], p[i], d[i], ceil_mode) for i in range(nd))
    if any(o < 1 for o in out):
        c = x.shape[1]
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, (c, *size)))}). Calculated "
                           f"output size: ({'x'.join(map(str, (c, *out)))}). Output size is "
                           "too small")
    pads = tuple((p[i], max(0, (out[i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 - size[i] - p[i]))
                 for i in range(nd))
    return k, s, d, pads, out


def _fill_pad(x, pads, fill):
    m = xp(x)
    shape = x.shape[:2] + tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pads))
    out = m.full(shape, fill, dtype=x.dtype)
    out[(slice(None), slice(None)) + tuple(slice(lo, lo + s) for s, (lo, _)
                                           in zip(x.shape[2:], pads))] = x
    return out


def _adaptive_bounds(size: int, out: int):
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def _out_sizes(output_size, size, nd):
    if not isinstance(output_size, (list, tuple)):
        output_size = (output_size,) * nd
    if len(output_size) != nd:
        raise ValueError(f"output_size must have {nd} elements, got {len(output_size)}")
    return tuple(size[i] if o is None else int(o) for i, o in enumerate(output_size))
