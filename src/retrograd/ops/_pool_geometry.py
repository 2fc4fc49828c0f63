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


def _adaptive_input(input, output_size, nd: int, kind: str):
    """Check adaptive pooling's input and output_size as PyTorch does, in its order, and
    return ``(batched input, unbatched, output sizes)``; ``kind`` is "avg" or "max".

    None in output_size keeps that input size; an output size may be 0 (an empty result),
    an input size may not."""
    name = f"adaptive_{kind}_pool{nd}d"
    seq = isinstance(output_size, (list, tuple))
    if nd > 1 and seq and input.dim() <= len(output_size):
        raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")
    sizes = tuple(output_size) if seq else (output_size,) * nd

    def count_check():
        if len(sizes) == nd:
            return
        if nd == 1:
            raise RuntimeError(f"{name}() argument 'output_size' should contain one int "
                               f"(got {len(sizes)})")
        if kind == "avg":
            raise RuntimeError(f"{name}: output_size must be {nd}")
        raise RuntimeError(f"{name}(): internal error: output_size.size() must be {nd}")

    def dim_check():
        if input.dim() in (nd + 1, nd + 2):
            return
        if nd == 1:
            raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional "
                               f"tensor for argument #1 'self' (while checking arguments for "
                               f"{name})")
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got "
                           f"{list(input.shape)}")

    # PyTorch's argument binding checks the count before the rank, except in its max
    # pooling kernels for 2 and 3 dims.
    for check in (dim_check, count_check) if kind == "max" and nd > 1 else \
            (count_check, dim_check):
        check()
    x = unsqueeze(input, 0) if input.dim() == nd + 1 else input
    out = tuple(s if o is None else int(o) for s, o in zip(x.shape[2:], sizes))
    checks = (_negative_check, _empty_check) if kind == "avg" else \
        (_empty_check, _negative_check)
    for check in checks:
        check(input, x, out, nd, name, kind)
    return x, x is not input, out


def _negative_check(input, x, out, nd, name, kind):
    if all(o >= 0 for o in out):
        return
    if kind == "avg":
        raise RuntimeError(f"adaptive_avg_pool{max(nd, 2)}d: elements of output_size must be "
                           f"greater than or equal to 0 but received {list(out)}")
    shape = list(input.shape[:input.dim() - nd]) + list(out)
    raise RuntimeError(f"Trying to create tensor with negative dimension "
                       f"{min(out)}: {shape}")


def _empty_check(input, x, out, nd, name, kind):
    # Max pooling also refuses a batched input without channels.
    first = 1 if kind == "max" else input.dim() - nd
    for d in range(first, input.dim()):
        if input.shape[d] == 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {list(input.shape)} with "
                               f"dimension {d} being empty")
