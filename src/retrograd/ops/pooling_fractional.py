"""Fractional max pooling (Graham, 2014): max over windows of a fixed size whose starts are
spaced pseudo-randomly, so the output size need not divide the input size.

For output size O > 1 along a dim of size S with kernel K, window i starts at
``trunc((i + u) * a) - trunc(u * a)`` with ``a = (S - K) / (O - 1)`` and one sample ``u`` in
[0, 1) per (batch, channel) plane; the last window ends at S. The samples come from
``_random_samples`` (N, C, dims) or are drawn. The values are a gather at each window's
(first) argmax, whose derivative is a scatter-add (``FlatGather``), to every order.
"""

from __future__ import annotations

import math

from .._tensor import wrap
from ..backend import xp
from ..random import rng
from ._out import dtype_name
from .conv import _ntuple
from .pooling import FlatGather
from .shape import squeeze, unsqueeze

__all__ = ["fractional_max_pool2d", "fractional_max_pool2d_with_indices",
           "fractional_max_pool3d", "fractional_max_pool3d_with_indices"]

# The sample column each spatial dim uses: PyTorch's 2-d kernel reads (width, height).
_SAMPLE_COLUMN = {2: (1, 0), 3: (0, 1, 2)}
_DIM_NAMES = {2: ("height", "width"), 3: ("time", "height", "width")}


def _window_starts(u, size: int, out: int, k: int):
    """Start of each window along one dim: (N, C, out) from samples u (N, C), computed in
    the samples' dtype as PyTorch does (float32 rounding decides some starts)."""
    m = xp(u)
    if out <= 1:
        return m.full(u.shape + (max(out, 0),), size - k, dtype=m.int64)
    alpha = u.dtype.type(size - k) / u.dtype.type(out - 1)
    i = m.arange(out, dtype=u.dtype)
    starts = (m.trunc((i + u[..., None]) * alpha) - m.trunc(u * alpha)[..., None])
    starts = starts.astype(m.int64)
    starts[..., -1] = size - k
    return starts


def _argmax_index(x, k, out, u, nd):
    """Flat spatial index (N, C, *out) of each window's first maximum."""
    m = xp(x)
    n, c = x.shape[:2]
    size = x.shape[2:]
    flat = 0
    for i in range(nd):
        starts = _window_starts(u[..., _SAMPLE_COLUMN[nd][i]], size[i], out[i], k[i])
        pos = starts[..., None] + m.arange(k[i])  # (N, C, O_i, K_i)
        # O_i at axis 2 + i and K_i at axis 2 + nd + i of (N, C, *O, *K).
        pos = pos.reshape((n, c) + (1,) * i + (out[i],) + (1,) * (nd - 1) + (k[i],)
                          + (1,) * (nd - 1 - i))
        flat = flat * size[i] + pos
    flat = m.broadcast_to(flat, (n, c) + tuple(out) + tuple(k)).reshape(
        n, c, math.prod(out), math.prod(k))
    vals = m.take_along_axis(x.reshape(n, c, -1), flat.reshape(n, c, -1), 2)
    vals = vals.reshape(flat.shape)
    best = vals.argmax(-1)[..., None]  # NaN counts as the largest, as in PyTorch
    return m.take_along_axis(flat, best, -1).reshape((n, c) + tuple(out))


def _output_size(nd, name, size, output_size, output_ratio):
    if output_size is not None:
        if isinstance(output_size, (list, tuple)) and len(output_size) != nd:
            raise RuntimeError(f"{name}: output_size must either be a single Int or tuple of "
                               f"Ints")
        return _ntuple(output_size, nd, "output_size")
    ratio = output_ratio
    if len(ratio) != nd:  # a bare float has no len(): TypeError, as PyTorch's
        raise RuntimeError(f"{name}: output_ratio must either be a single float or tuple of "
                           f"floats")
    return tuple(int(size[i] * ratio[i]) for i in range(nd))


def _samples(x, nd, random_samples):
    n, c = x.shape[:2]
    dt = x._data.dtype
    if random_samples is None:
        draw = rng(None).random((n, c, nd))
        return xp(x._data).asarray(draw.astype(dt))
    s = random_samples._data
    if s.ndim != 3 or s.shape[2] != nd:
        got = s.shape[2] if s.ndim == 3 else s.ndim
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {nd}; got {got}.")
    if s.dtype != dt:
        raise RuntimeError("Expect _random_samples to have the same dtype as input")
    if s.shape[0] < n or s.shape[1] != c:
        raise RuntimeError(f"Expect _random_samples of size [{n}, {c}, {nd}]; got "
                           f"{list(s.shape)}")
    return s[:n]


def _fractional_max_poolnd(nd, input, kernel_size, output_size, output_ratio, _random_samples):
    name = f"fractional_max_pool{nd}d"
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an "
                         f"output_ratio")
    d = input.dim()
    if d < nd + 1 and _random_samples is None:  # PyTorch reads the channel count first
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-max(d, 1)}, {max(d, 1) - 1}], but got {-nd - 1})")
    if d not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: "
                           f"{list(input.shape)}")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"check_uniform_bounds\" not implemented for "
                                  f"'{dtype_name(input._data.dtype)}'")
    unbatched = input.dim() == nd + 1
    x = unsqueeze(input, 0) if unbatched else input
    k = _ntuple(kernel_size, nd, "kernel_size")
    size = x.shape[2:]
    out = _output_size(nd, name, size, output_size, output_ratio)
    for i in range(nd):
        if k[i] <= 0:
            raise RuntimeError(f"{name}(): kernel_size must be greater than zero, but got "
                               f"{list(k)}")
        # PyTorch's 3-d kernel wants the last window to end strictly inside the input.
        too_large = out[i] + k[i] - 1 >= size[i] if nd == 3 else out[i] + k[i] - 1 > size[i]
        if too_large:
            dim = _DIM_NAMES[nd][i]
            raise RuntimeError(f"{name}(): pool {dim} {k[i]} too large relative to input "
                               f"{dim} {size[i]}")
    u = _samples(x, nd, _random_samples)
    idx = _argmax_index(x._data, k, out, u, nd)
    res = FlatGather.apply(x, idx=idx, unique=False)
    indices = wrap(idx)
    if unbatched:
        res, indices = squeeze(res, 0), squeeze(indices, 0)
    return res, indices


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """Fractional max pooling of (N, C, H, W) (or (C, H, W)) to ``output_size`` or
    ``output_ratio`` (a pair) times the input size; ``return_indices`` adds the flat H*W
    index of each maximum. d/dx: the gradient goes to each window's maximum."""
    res, idx = _fractional_max_poolnd(2, input, kernel_size, output_size, output_ratio,
                                      _random_samples)
    return (res, idx) if return_indices else res


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """Fractional max pooling of (N, C, T, H, W) (or (C, T, H, W)); see
    ``fractional_max_pool2d``."""
    res, idx = _fractional_max_poolnd(3, input, kernel_size, output_size, output_ratio,
                                      _random_samples)
    return (res, idx) if return_indices else res


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None,
                                       output_ratio=None, return_indices=False,
                                       _random_samples=None):
    """``fractional_max_pool2d`` returning ``(values, indices)``."""
    return _fractional_max_poolnd(2, input, kernel_size, output_size, output_ratio,
                                  _random_samples)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None,
                                       output_ratio=None, return_indices=False,
                                       _random_samples=None):
    """``fractional_max_pool3d`` returning ``(values, indices)``."""
    return _fractional_max_poolnd(3, input, kernel_size, output_size, output_ratio,
                                  _random_samples)

