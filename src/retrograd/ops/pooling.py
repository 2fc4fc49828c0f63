"""Pooling: max, average, adaptive, power-average pooling and max unpooling.

Max pooling finds each window's argmax (the first on ties, as PyTorch) once, as flat indices
into the input's spatial dims; the values are then a gather at those indices, whose
derivative is a scatter-add and back (``FlatGather`` / ``FlatScatterAdd``), to every order.
Average pooling is a depthwise convolution by a box filter divided by the window counts;
adaptive average pooling is separable: one constant averaging matrix per spatial dim.
"""

from __future__ import annotations

import math

import numpy as np

from ..backend import xp
from . import _workspace as ws
from ._core import Primitive
from ._im2col import _windows
from .arithmetic import matmul
from .conv import Conv, _ntuple
from .shape import reshape, squeeze, transpose, unsqueeze
from .unary import abs as _abs
from .unary import relu, sign

__all__ = ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d", "avg_pool1d",
           "avg_pool2d", "avg_pool3d", "lp_pool1d", "lp_pool2d", "lp_pool3d", "max_pool1d",
           "max_pool2d", "max_pool3d", "max_unpool1d", "max_unpool2d", "max_unpool3d",
           "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
           "adaptive_max_pool3d_with_indices", "max_pool1d_with_indices",
           "max_pool2d_with_indices", "max_pool3d_with_indices"]


# ---------------------------------------------------------------------- gather / scatter

class FlatGather(Primitive):
    """x (N, C, *S) read at flat spatial indices ``idx`` (N, C, *O).
    d/dx = grad scatter-added at idx."""

    __slots__ = ("idx", "shape", "unique")
    _name = "GatherBackward0"
    formula = "scatter_add(zeros_like(x), idx, grad)"

    def forward(ctx, x, idx=None, unique=False):
        ctx.idx, ctx.shape, ctx.unique = idx, x.shape, unique
        n, c = x.shape[:2]
        flat = x.reshape(n, c, math.prod(x.shape[2:]))
        index = idx.reshape(n, c, math.prod(idx.shape[2:]))
        return xp(x).take_along_axis(flat, index, 2).reshape(idx.shape)

    def backward(ctx, grad):
        return FlatScatterAdd.generic(grad, idx=ctx.idx, shape=ctx.shape, unique=ctx.unique)

    def jvp(ctx, tx):
        return FlatGather.generic(tx, idx=ctx.idx, unique=ctx.unique)


class FlatScatterAdd(Primitive):
    """zeros(shape) with g (N, C, *O) added at flat spatial indices ``idx``.
    d/dg = grad gathered at idx.  ``unique``: no index repeats (a plain store)."""

    __slots__ = ("idx", "unique")
    _name = "ScatterAddBackward0"
    formula = "gather(grad, idx)"

    def forward(ctx, g, idx=None, shape=(), unique=False):
        ctx.idx, ctx.unique = idx, unique
        m = xp(g)
        n, c = shape[:2]
        size = 1
        for e in shape[2:]:
            size *= e
        rows = m.arange(0, n * c * size, size).reshape(-1, 1)  # each image's first index
        flat = ws.empty((n * c, math.prod(idx.shape[2:])), m.int64, m)
        m.add(idx.reshape(flat.shape), rows, out=flat)
        if unique:
            out = ws.zeros((n * c * size,), g.dtype, m)
            out[flat.ravel()] = g.ravel()
        else:
            out = m.bincount(flat.ravel(), weights=g.ravel(), minlength=n * c * size)
            out = out.astype(g.dtype, copy=False)
        return out.reshape(shape)

    def backward(ctx, grad):
        return FlatGather.generic(grad, idx=ctx.idx, unique=ctx.unique)

    def jvp(ctx, tg):
        return FlatScatterAdd.generic(tg, idx=ctx.idx, shape=ctx.out_shape, unique=ctx.unique)


def _argmax_windows(wk, size, ksize, coords):
    """Max and flat input index of each window. wk: (N, C, *O, prod(K)) window values;
    coords[i]: (O_i, K_i) input coordinate of each window element along dim i."""
    m = xp(wk)
    am = wk.argmax(-1)
    out = m.take_along_axis(wk, am[..., None], -1)[..., 0]
    ks = np.unravel_index(am, ksize) if m is np else m.unravel_index(am, ksize)
    nd = len(ksize)
    flat = 0
    for i in range(nd):
        o = m.arange(coords[i].shape[0]).reshape((-1,) + (1,) * (nd - 1 - i))
        flat = flat * size[i] + coords[i][o, ks[i]]
    return out, m.asarray(flat, dtype=m.int64)


class MaxPool(Primitive):
    """Windowed max, with the argmax as flat indices.  d/dx = grad scattered to the argmax.

    The forward keeps each window's winner as a small kernel-offset number (uint8, an eighth
    of int64 indices for the life of the graph), and makes flat indices from it when they
    are asked for (``return_indices``, the backward, forward mode)."""

    __slots__ = ("geom", "idx", "kb", "nout", "shape", "unique")
    nondiff_outputs = (1,)
    formula = "scatter_add(zeros_like(x), indices, grad)"

    def forward(ctx, x, k=(), stride=(), pads=(), dilation=(), out=(), indices=True):
        m = xp(x)
        nd = len(k)
        isfloat = x.dtype.kind == "f"
        fill = -m.inf if isfloat else m.iinfo(x.dtype).min
        padded = any(lo or hi for lo, hi in pads)
        xpad = _fill_pad(x, pads, fill) if padded else x
        win = _windows(xpad, k, stride, dilation, out)  # (N, C, *K, *O)
        kernel = list(np.ndindex(*k))
        best, kb = _scan(m, win, kernel, padded, fill, x.shape[:2] + tuple(out), False)
        if isfloat and m.isnan(best).any():
            best, kb = _scan(m, win, kernel, padded, fill, best.shape, True)
        ctx.kb, ctx.shape, ctx.idx, ctx.nout = kb, x.shape, None, 2 if indices else 1
        ctx.geom = (tuple(k), tuple(stride), tuple(pads), tuple(dilation), tuple(out))
        ctx.unique = all(stride[i] >= dilation[i] * (k[i] - 1) + 1 for i in range(nd))
        return (best, _flat_index(ctx)) if indices else best

    def backward(ctx, grad, grad_idx=None):
        # A plain backward needs the indices only for this scatter: it does not keep them.
        idx = _flat_index(ctx, keep=not isinstance(grad, np.ndarray))
        return FlatScatterAdd.generic(grad, idx=idx, shape=ctx.shape, unique=ctx.unique)

    def jvp(ctx, tx):
        res = FlatGather.generic(tx, idx=_flat_index(ctx), unique=ctx.unique)
        return (res, None) if ctx.nout == 2 else res


def _flat_index(ctx, keep=True):
    """Flat spatial input index of each window's winner, from the winner numbers: kb = j + 1
    for kernel offset j, 0 for the window's first in-range element. ``keep``: remember it
    (returned indices, double backward); else it is a workspace temporary."""
    if ctx.idx is not None:
        return ctx.idx
    kb = ctx.kb
    m = xp(kb)
    k, stride, pads, dilation, out = ctx.geom
    nd = len(k)
    size = ctx.shape[2:]
    sstr = [1] * nd
    for i in range(nd - 2, -1, -1):
        sstr[i] = sstr[i + 1] * size[i + 1]
    base, first = 0, 0
    for i in range(nd):
        o = m.arange(out[i]).reshape((-1,) + (1,) * (nd - 1 - i))
        start = o * stride[i] - pads[i][0]
        skip = m.maximum(0, -start + dilation[i] - 1) // dilation[i]
        base = base + start * sstr[i]
        first = first + (start + skip * dilation[i]) * sstr[i]
    offs = m.asarray([0] + [sum(kk[i] * dilation[i] * sstr[i] for i in range(nd))
                            for kk in np.ndindex(*k)], dtype=m.int64)
    idx = m.take(offs, kb, out=ws.empty(kb.shape, m.int64, m)) if m is np else offs.take(kb)
    idx += base
    if any(lo or hi for lo, hi in pads):
        idx = m.where(kb == 0, first, idx)
    if keep:
        ctx.idx = idx
    return idx


class MaxPool1DWithIndices(MaxPool):
    __slots__ = ()


class MaxPool2DWithIndices(MaxPool):
    __slots__ = ()


class MaxPool3DWithIndices(MaxPool):
    __slots__ = ()


def _scan(m, win, kernel, padded, fill, shape, nan_exact):
    """Running max over the kernel offsets of ``win`` (N, C, *K, *O) and the winner as
    1 + its offset number (0: none yet, the window's first in-range element). The fast
    scan moves on a strictly greater value only; a NaN still reaches ``best`` through
    ``maximum``, and then ``nan_exact`` redoes PyTorch's rule (move on a greater value or a
    NaN) for the inputs that hold one."""
    kdt = m.uint8 if len(kernel) < 255 else m.int32
    best = ws.empty(shape, win.dtype, m)
    kb = ws.empty(shape, kdt, m)
    if padded:
        best.fill(fill)
        kb.fill(0)
    mask = ws.empty(shape, m.bool_, m)
    step = ws.empty(shape, kdt, m)
    for j, kidx in enumerate(kernel):
        v = win[(slice(None), slice(None)) + kidx]
        if j == 0 and not padded:
            best[...] = v
            kb.fill(1)
            continue
        if nan_exact:
            m.greater(v, best, out=mask)
            mask |= m.isnan(v)
            kb = m.where(mask, kdt(j + 1), kb)
        else:
            m.greater(v, best, out=mask)
            # Later offsets have larger numbers, so a max records the newest winner.
            m.multiply(mask.view(m.uint8), kdt(j + 1), out=step)
            m.maximum(kb, step, out=kb)
        m.maximum(best, v, out=best)
    return best, kb


class AdaptiveMaxPool(MaxPool):
    """Max over the adaptive windows [floor(i*L/O), ceil((i+1)*L/O))."""

    __slots__ = ()

    def forward(ctx, x, out=()):
        m = xp(x)
        nd = len(out)
        size = x.shape[2:]
        coords, ksize = [], []
        for i in range(nd):
            start, end = _adaptive_bounds(size[i], out[i])
            kmax = int((end - start).max())
            # Repeating a window's last element keeps the first-occurrence argmax.
            pos = np.minimum(start[:, None] + np.arange(kmax)[None, :], end[:, None] - 1)
            coords.append(m.asarray(pos))
            ksize.append(kmax)
        index = tuple(c.reshape((1,) * i + (c.shape[0],) + (1,) * (nd - 1) + (c.shape[1],)
                                + (1,) * (nd - 1 - i)) for i, c in enumerate(coords))
        win = x[(slice(None), slice(None)) + index]  # (N, C, *O, *K)
        wk = win.reshape(x.shape[:2] + tuple(out) + (math.prod(ksize),))
        res, idx = _argmax_windows(wk, size, tuple(ksize), coords)
        ctx.idx, ctx.shape, ctx.unique = idx, x.shape, False
        ctx.kb, ctx.geom, ctx.nout = None, None, 2
        return res, idx


class AdaptiveMaxPool1D(AdaptiveMaxPool):
    __slots__ = ()


class AdaptiveMaxPool2D(AdaptiveMaxPool):
    __slots__ = ()


class AdaptiveMaxPool3D(AdaptiveMaxPool):
    __slots__ = ()


class MaxUnpool1D(FlatScatterAdd):
    __slots__ = ()


class MaxUnpool2D(FlatScatterAdd):
    __slots__ = ()


class MaxUnpool3D(FlatScatterAdd):
    __slots__ = ()


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


# ---------------------------------------------------------------------- helpers

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


# ---------------------------------------------------------------------- max pooling

_MAXPOOL = {1: MaxPool1DWithIndices, 2: MaxPool2DWithIndices, 3: MaxPool3DWithIndices}


def _max_poolnd(nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x, unbatched = _batched(input, nd, f"max_pool{nd}d")
    k, s, d, pads, out = _geometry(x, nd, kernel_size, stride, padding, dilation, ceil_mode,
                                   f"max_pool{nd}d")
    if not return_indices:
        res = _MAXPOOL[nd].generic(x, k=k, stride=s, pads=pads, dilation=d, out=out,
                                   indices=False)
        return squeeze(res, 0) if unbatched else res
    res, idx = _MAXPOOL[nd].generic(x, k=k, stride=s, pads=pads, dilation=d, out=out)
    if unbatched:
        res, idx = squeeze(res, 0), squeeze(idx, 0)
    return res, idx


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over sliding windows of (N, C, L); ``stride`` defaults to ``kernel_size``."""
    return _max_poolnd(1, input, kernel_size, stride, padding, dilation, ceil_mode,
                       return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over sliding windows of (N, C, H, W). The gradient goes to each window's
    (first) argmax; the indices are flat positions in H*W.

    >>> import retrograd as torch
    >>> torch.max_pool2d(torch.arange(16.).view(1, 1, 4, 4), 2)
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])
    """
    return _max_poolnd(2, input, kernel_size, stride, padding, dilation, ceil_mode,
                       return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over sliding windows of (N, C, D, H, W)."""
    return _max_poolnd(3, input, kernel_size, stride, padding, dilation, ceil_mode,
                       return_indices)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    """``max_pool1d`` returning ``(values, indices)``."""
    return _max_poolnd(1, input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    """``max_pool2d`` returning ``(values, indices)``."""
    return _max_poolnd(2, input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    """``max_pool3d`` returning ``(values, indices)``."""
    return _max_poolnd(3, input, kernel_size, stride, padding, dilation, ceil_mode, True)


_ADAPTIVE_MAX = {1: AdaptiveMaxPool1D, 2: AdaptiveMaxPool2D, 3: AdaptiveMaxPool3D}


def _out_sizes(output_size, size, nd):
    if not isinstance(output_size, (list, tuple)):
        output_size = (output_size,) * nd
    if len(output_size) != nd:
        raise ValueError(f"output_size must have {nd} elements, got {len(output_size)}")
    return tuple(size[i] if o is None else int(o) for i, o in enumerate(output_size))


def _adaptive_max_poolnd(nd, input, output_size, return_indices):
    x, unbatched = _batched(input, nd, f"adaptive_max_pool{nd}d")
    out = _out_sizes(output_size, x.shape[2:], nd)
    if any(o <= 0 for o in out) or any(s == 0 for s in x.shape[2:]):
        raise RuntimeError(f"adaptive_max_pool{nd}d(): Expected input to have non-zero size "
                           f"for non-batch dimensions and positive output size, but input has "
                           f"sizes {list(input.shape)} and output_size {list(out)}")
    res, idx = _ADAPTIVE_MAX[nd].generic(x, out=out)
    if unbatched:
        res, idx = squeeze(res, 0), squeeze(idx, 0)
    return (res, idx) if return_indices else res


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max over L split into ``output_size`` near-equal windows."""
    return _adaptive_max_poolnd(1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over (H, W) split into ``output_size`` near-equal windows (None keeps a size)."""
    return _adaptive_max_poolnd(2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max over (D, H, W) split into ``output_size`` near-equal windows."""
    return _adaptive_max_poolnd(3, input, output_size, return_indices)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    return _adaptive_max_poolnd(1, input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    return _adaptive_max_poolnd(2, input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=True):
    return _adaptive_max_poolnd(3, input, output_size, True)


# ---------------------------------------------------------------------- unpooling

_UNPOOL = {1: MaxUnpool1D, 2: MaxUnpool2D, 3: MaxUnpool3D}


def _max_unpoolnd(nd, input, indices, kernel_size, stride, padding, output_size):
    x, unbatched = _batched(input, nd, f"max_unpool{nd}d")
    idx = unsqueeze(indices, 0) if unbatched else indices
    k = _ntuple(kernel_size, nd, "kernel_size")
    s = k if stride is None else _ntuple(stride, nd, "stride")
    p = _ntuple(padding, nd, "padding")
    default = tuple((x.shape[2 + i] - 1) * s[i] - 2 * p[i] + k[i] for i in range(nd))
    if output_size is None:
        size = default
    else:
        size = tuple(int(e) for e in output_size)[-nd:]
        for i in range(nd):
            lo, hi = default[i] - s[i], default[i] + s[i]
            if not lo < size[i] < hi:
                raise ValueError(f"invalid output_size \"{list(output_size)}\" (dim {i} must be "
                                 f"between {lo} and {hi})")
    if tuple(idx.shape) != tuple(x.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({list(x.shape)}) but got indices tensor with shape: "
                           f"{list(idx.shape)}")
    arr = idx._data
    total = 1
    for e in size:
        total *= e
    if arr.size and (arr.min() < 0 or arr.max() >= total):
        raise RuntimeError(f"Found an invalid max index: {int(arr.max())} (output volumes are "
                           f"of size {'x'.join(map(str, size))}")
    res = _UNPOOL[nd].generic(x, idx=arr, shape=tuple(x.shape[:2]) + size, unique=True)
    return squeeze(res, 0) if unbatched else res


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool1d: values placed at their indices, zeros elsewhere."""
    return _max_unpoolnd(1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool2d: values placed at their indices, zeros elsewhere."""
    return _max_unpoolnd(2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool3d."""
    return _max_unpoolnd(3, input, indices, kernel_size, stride, padding, output_size)


# ---------------------------------------------------------------------- average pooling

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
    x, unbatched = _batched(input, nd, f"adaptive_avg_pool{nd}d")
    out = _out_sizes(output_size, x.shape[2:], nd)
    if any(o < 0 for o in out):
        raise RuntimeError(f"adaptive_avg_pool{nd}d: elements of output_size must be greater "
                           f"than or equal to 0 but received {list(out)}")
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


# ---------------------------------------------------------------------- power-average pooling

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
