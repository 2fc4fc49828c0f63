"""Pooling: max, adaptive max pooling and max unpooling; average, adaptive average and
power-average pooling are in pooling_avg.py and importable from here too.

Max pooling finds each window's argmax (the first on ties, as PyTorch) once, as flat indices
into the input's spatial dims; the values are then a gather at those indices, whose
derivative is a scatter-add and back (``FlatGather`` / ``FlatScatterAdd``), to every order.
"""

from __future__ import annotations

import math

import numpy as np

from ..backend import xp
from . import _workspace as ws
from ._core import Primitive
from ._im2col import _windows
from ._pool_geometry import _adaptive_bounds, _adaptive_input, _batched, _fill_pad, _geometry
from .conv import _ntuple
from .pooling_avg import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_avg_pool3d,
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    lp_pool1d,
    lp_pool2d,
    lp_pool3d,
)
from .shape import squeeze, unsqueeze

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
            kmax = int((end - start).max(initial=1))  # initial: an empty output
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


def _adaptive_max_poolnd(nd, input, output_size, return_indices):
    x, unbatched, out = _adaptive_input(input, output_size, nd, "max")
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


def _adaptive_with_indices(nd: int):
    """``adaptive_max_pool<nd>d_with_indices``: always ``(values, indices)``, whatever its
    ``return_indices`` (as PyTorch's)."""
    def pool(input, output_size, return_indices=True):
        return _adaptive_max_poolnd(nd, input, output_size, True)

    pool.__name__ = pool.__qualname__ = f"adaptive_max_pool{nd}d_with_indices"
    pool.__doc__ = f"``adaptive_max_pool{nd}d`` returning ``(values, indices)``."
    return pool


adaptive_max_pool1d_with_indices = _adaptive_with_indices(1)
adaptive_max_pool2d_with_indices = _adaptive_with_indices(2)
adaptive_max_pool3d_with_indices = _adaptive_with_indices(3)


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
