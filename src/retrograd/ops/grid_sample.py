"""``grid_sample`` and the ``grid_sampler*`` functions: read an image (N, C, H, W) or a
volume (N, C, D, H, W) at the normalized locations of a grid (N, *O, 2) or (N, *O, 3).

A composite: the integer pixels around each location are gathered (``FlatGather``, whose
derivative is a scatter-add) and mixed with weights that are polynomials of the location,
written with differentiable ops, so the input and the grid get gradients of every order.
"""

from __future__ import annotations

import numpy as np

from ..backend import xp
from ._core import replayable
from .indexing import getitem
from .pooling import FlatGather
from .shape import reshape
from .unary import abs as _abs
from .unary import clamp, where

__all__ = ["grid_sample", "grid_sampler", "grid_sampler_2d", "grid_sampler_3d"]

_MODES = ("bilinear", "nearest", "bicubic")
_PADDINGS = ("zeros", "border", "reflection")
_CUBIC_A = -0.75  # the cubic convolution kernel's free parameter, as PyTorch's bicubic


def _reflect(c, twice_low: int, twice_high: int):
    """Fold coordinates c into [low, high] by reflecting at the ends (differentiable)."""
    if twice_low == twice_high:
        return c * 0
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    c = _abs(c - low)
    folded, even = replayable(_folds, c._data, span)
    extra = c - folded
    return where(even, extra + low, (span + low) - extra)


def _folds(c, span):
    """Whole spans below each coordinate (in its dtype) and whether their count is even
    (from the values: a captured step computes them again)."""
    flips = np.floor(c / span)
    return (flips * span).astype(c.dtype), xp(c).asarray(flips % 2 == 0)


def _unnormalize(c, size: int, align_corners: bool):
    """[-1, 1] -> pixel coordinates: the corner pixels' centres, or their outer edges."""
    return (c + 1) / 2 * (size - 1) if align_corners else ((c + 1) * size - 1) / 2


def _bound(c, size: int, padding_mode: str, align_corners: bool):
    """Pixel coordinates after the padding rule: clamped (border) or folded (reflection)."""
    if padding_mode == "border":
        c = clamp(c, 0, size - 1)
    elif padding_mode == "reflection":
        c = _reflect(c, 0, 2 * (size - 1)) if align_corners else _reflect(c, -1, 2 * size - 1)
        c = clamp(c, 0, size - 1)
    return c


def _bound_taps(i, size: int, padding_mode: str, align_corners: bool, m):
    """Integer tap positions (an array) after the padding rule, as bicubic reads them."""
    if padding_mode == "zeros":
        return i
    c = i.astype(np.float64)
    if padding_mode == "reflection":
        lo, hi = (0.0, size - 1.0) if align_corners else (-0.5, size - 0.5)
        span = hi - lo
        if span <= 0:
            c = m.zeros_like(c)
        else:
            d = m.abs(c - lo)
            flips = m.floor(d / span)
            extra = d - flips * span
            c = m.where(flips % 2 == 0, lo + extra, hi - extra)
    return m.clip(c, 0, size - 1).astype(m.int64)


def _gather(input, taps):
    """input (N, C, *S) at integer positions ``taps`` (one (N, *O) array per spatial dim),
    and a (N, 1, *O) mask of the positions inside the input (zeros outside)."""
    idx, valid = replayable(_flat_taps, taps, input.shape, input._data.dtype)
    return FlatGather.generic(input, idx=idx, unique=False), valid


def _flat_taps(taps, shape, dtype):
    """The flat (N, C, *O) indices of ``taps`` and the (N, 1, *O) inside mask."""
    n, c = shape[:2]
    size = shape[2:]
    m = xp(taps[0])
    valid = True
    flat = 0
    for t, s in zip(taps, size):
        valid = valid & (t >= 0) & (t < s)
        flat = flat * s + m.clip(t, 0, s - 1)
    idx = m.ascontiguousarray(m.broadcast_to(flat[:, None], (n, c) + flat.shape[1:]))
    return idx.astype(m.int64), m.asarray(valid[:, None], dtype=dtype)


def _nearest(coords):
    """The nearest integer pixel of each coordinate (half to even, as PyTorch)."""
    m = xp(coords[0])
    return tuple(m.rint(c).astype(m.int64) for c in coords)


def _floors(coords):
    """floor(c) in c's dtype for each coordinate array, then each as int64 (one flat tuple,
    so that a capture names every array)."""
    m = xp(coords[0])
    floors = [m.floor(c) for c in coords]
    return (*(f.astype(c.dtype) for f, c in zip(floors, coords)),
            *(f.astype(m.int64) for f in floors))


def _shifted(lows, corner):
    return tuple(lo + k for lo, k in zip(lows, corner))


def _cubic_taps(lows, offsets, size, padding_mode, ac):
    m = xp(lows[0])
    return tuple(_bound_taps(lo + k, s, padding_mode, ac, m)
                 for lo, k, s in zip(lows, offsets, size))


def _channel(w):
    """A weight (N, *O) as (N, 1, *O), to scale every channel alike."""
    return reshape(w, (w.shape[0], 1, *w.shape[1:]))


def _cubic_weights(t):
    """The four cubic-convolution weights of taps at offsets -1, 0, 1, 2 from floor(c),
    for t = c - floor(c)."""
    a = _CUBIC_A

    def near(d):  # |d| <= 1
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d):  # 1 < |d| < 2
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a

    return far(t + 1), near(t), near(1 - t), far(2 - t)


def _check(input, grid, mode, padding_mode):
    if mode not in _MODES:
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in _PADDINGS:
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have the same dtype, "
                           f"but input has {input.dtype} and grid has {grid.dtype}")
    d = input.dim()
    if d not in (4, 5) or grid.dim() != d:
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number "
                           f"of dimensions, but got input with sizes {list(input.shape)} and "
                           f"grid with sizes {list(grid.shape)}")
    if grid.shape[0] != input.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, "
                           f"but got input with sizes {list(input.shape)} and grid with sizes "
                           f"{list(grid.shape)}")
    if grid.shape[-1] != d - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {d - 2} in last "
                           f"dimension, but got grid with sizes {list(grid.shape)}")
    for i in range(2, d):
        if input.shape[i] == 0:
            raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial "
                               f"dimensions, but input has sizes {list(input.shape)} with "
                               f"dimension {i} being empty")
    if mode == "bicubic" and d != 4:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")


def grid_sample(input, grid, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners=None):
    """Sample (N, C, H, W) at the normalized (x, y) locations of ``grid`` (N, Ho, Wo, 2), or
    (N, C, D, H, W) at the (x, y, z) of ``grid`` (N, Do, Ho, Wo, 3).

    Modes 'bilinear' (trilinear on volumes), 'nearest' and 'bicubic' (images); padding
    'zeros', 'border', 'reflection'. Differentiable in the input and in the grid (whose
    gradient is zero under 'nearest')."""
    _check(input, grid, mode, padding_mode)
    ac = bool(align_corners)
    size = input.shape[2:]
    nd = len(size)
    m = xp(input._data)
    # The grid's last dim lists x (the last spatial dim) first.
    coords = [_unnormalize(getitem(grid, (Ellipsis, nd - 1 - i)), size[i], ac)
              for i in range(nd)]
    if mode == "bicubic":
        return _bicubic(input, coords, padding_mode, ac)
    coords = [_bound(c, s, padding_mode, ac) for c, s in zip(coords, size)]
    if mode == "nearest":
        vals, valid = _gather(input, list(replayable(_nearest, [c._data for c in coords])))
        # The grid gets a zero gradient (as in PyTorch), not none.
        zero = where(m.zeros(coords[0].shape, dtype=bool), sum(coords[1:], coords[0]), 0.0)
        return vals * valid + _channel(zero)
    both = replayable(_floors, [c._data for c in coords])
    floors, lows = both[:nd], both[nd:]
    fracs = [c - lo for c, lo in zip(coords, floors)]
    out = None
    for corner in np.ndindex(*(2,) * nd):
        w = None
        for f, k in zip(fracs, corner):
            wk = f if k else 1 - f
            w = wk if w is None else w * wk
        vals, valid = _gather(input, list(replayable(_shifted, lows, corner)))
        term = vals * (_channel(w) * valid)
        out = term if out is None else out + term
    return out


def _bicubic(input, coords, padding_mode, ac):
    """4 x 4 taps around each location, each tap position put through the padding rule."""
    size = input.shape[2:]
    both = replayable(_floors, [c._data for c in coords])
    floors, lows = both[:2], both[2:]
    weights = [_cubic_weights(c - lo) for c, lo in zip(coords, floors)]
    out = None
    for ty in range(4):
        for tx in range(4):
            taps = replayable(_cubic_taps, lows, (ty - 1, tx - 1), size, padding_mode, ac)
            vals, valid = _gather(input, list(taps))
            term = vals * (_channel(weights[0][ty] * weights[1][tx]) * valid)
            out = term if out is None else out + term
    return out


def grid_sampler(input, grid, interpolation_mode: int, padding_mode: int, align_corners: bool):
    """``grid_sample`` with PyTorch's enum codes: interpolation 0 bilinear, 1 nearest,
    2 bicubic; padding 0 zeros, 1 border, 2 reflection."""
    if not (0 <= interpolation_mode < len(_MODES) and 0 <= padding_mode < len(_PADDINGS)):
        raise RuntimeError(f"grid_sampler(): unknown interpolation mode {interpolation_mode} "
                           f"or padding mode {padding_mode}")
    return grid_sample(input, grid, _MODES[interpolation_mode], _PADDINGS[padding_mode],
                       align_corners)


def _sampler_nd(nd: int, input, grid, interpolation_mode, padding_mode, align_corners):
    if input.dim() != nd + 2 or grid.dim() != nd + 2:
        raise RuntimeError(f"grid_sampler(): expected {nd + 2}D input and grid with same number "
                           f"of dimensions, but got input with sizes {list(input.shape)} and "
                           f"grid with sizes {list(grid.shape)}")
    return grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners)


def grid_sampler_2d(input, grid, interpolation_mode: int, padding_mode: int,
                    align_corners: bool):
    """``grid_sampler`` on images (N, C, H, W) only."""
    return _sampler_nd(2, input, grid, interpolation_mode, padding_mode, align_corners)


def grid_sampler_3d(input, grid, interpolation_mode: int, padding_mode: int,
                    align_corners: bool):
    """``grid_sampler`` on volumes (N, C, D, H, W) only."""
    return _sampler_nd(3, input, grid, interpolation_mode, padding_mode, align_corners)

