"""Vision ops: ``pad``, ``interpolate``/``upsample``, ``pixel_shuffle``/``pixel_unshuffle``,
``affine_grid``; ``grid_sample`` is in grid_sample.py and importable from here too.

Constant padding is a primitive whose derivative is the same padding negated (a crop).
Reflect/replicate/circular padding gather each dim at computed indices. Resizing (nearest,
linear, bicubic, area) is separable: per spatial dim, one constant (out, in) matrix, applied
with matmul, so every derivative order comes for free.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..backend import xp
from ._core import Primitive
from .arithmetic import matmul
from .grid_sample import grid_sample
from .indexing import getitem
from .shape import permute, reshape, transpose

__all__ = ["affine_grid", "channel_shuffle", "grid_sample", "interpolate", "pad", "pixel_shuffle",
           "pixel_unshuffle", "upsample", "upsample_bilinear", "upsample_nearest"]


# ---------------------------------------------------------------------- padding

class ConstantPadNd(Primitive):
    """x framed by ``value`` (negative pads crop).  d/dx = the same padding negated."""

    __slots__ = ("pads",)
    formula = "constant_pad_nd(grad, -pad)"

    def forward(ctx, x, pads=(), value=0):
        ctx.pads = pads
        m = xp(x)
        lead = x.ndim - len(pads)
        shape = x.shape[:lead] + tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[lead:], pads))
        out = m.full(shape, value, dtype=x.dtype)
        src, dst = [slice(None)] * lead, [slice(None)] * lead
        for s, (lo, hi) in zip(x.shape[lead:], pads):
            a, b = max(0, -lo), s - max(0, -hi)
            n = max(0, b - a)
            src.append(slice(a, a + n))
            dst.append(slice(max(0, lo), max(0, lo) + n))
        out[tuple(dst)] = x[tuple(src)]
        return out

    def backward(ctx, grad):
        return ConstantPadNd.generic(grad, pads=tuple((-lo, -hi) for lo, hi in ctx.pads))

    def jvp(ctx, tx):
        return ConstantPadNd.generic(tx, pads=ctx.pads)


_PAD_HELP = ("Supported combinations for non-constant padding:\n"
             "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
             "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
             "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def _pad_index(size: int, lo: int, hi: int, mode: str):
    j = np.arange(-lo, size + hi)
    if mode == "reflect":
        period = 2 * (size - 1) if size > 1 else 1
        j = np.abs(j) % period if size > 1 else np.zeros_like(j)
        return np.where(j >= size, period - j, j)
    if mode == "replicate":
        return np.clip(j, 0, size - 1)
    return j % size  # circular


def pad(input, pad, mode: str = "constant", value=None):
    """Pad the last ``len(pad) // 2`` dims: ``pad = (left_last, right_last, left_prev, ...)``.
    Modes: 'constant' (``value``, default 0; negative pads crop), 'reflect', 'replicate',
    'circular'."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    nd = len(pad) // 2
    dim = input.dim()
    if nd > dim:
        raise RuntimeError("Padding length should be less than or equal to two times the "
                           f"input dimension but got padding length {len(pad)} and input of "
                           f"dimension {dim}")
    pads = tuple((pad[2 * (nd - 1 - i)], pad[2 * (nd - 1 - i) + 1]) for i in range(nd))
    if mode == "constant":
        shape = input.shape
        for i, (lo, hi) in enumerate(pads):
            d = dim - nd + i
            if shape[d] + lo + hi < 0:
                raise RuntimeError(f"The input size {shape[d]}, plus negative padding {lo} and "
                                   f"{hi} resulted in a negative output size, which is invalid."
                                   f" Check dimension {d} of your input.")
        return ConstantPadNd.generic(input, pads=pads, value=0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise ValueError(f"Padding mode \"{mode}\" doesn't take in value argument.")
    if nd not in (1, 2, 3) or dim not in (nd + 1, nd + 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {dim}D input "
                                  f"tensor.\n{_PAD_HELP}")
    for i in reversed(range(nd)):  # PyTorch checks the last dim first
        lo, hi = pads[i]
        d = dim - nd + i
        size = input.shape[d]
        if mode == "reflect" and (lo >= size or hi >= size):
            raise RuntimeError(f"Argument #4: Padding size should be less than the "
                               f"corresponding input dimension, but got: padding ({lo}, {hi}) "
                               f"at dimension {d} of input {list(input.shape)}")
        if mode == "circular" and (lo > size or hi > size):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if mode == "replicate" and size == 0:
            raise RuntimeError(f"padding of a dimension of size 0 at dimension {d}")
    out = input
    for i, (lo, hi) in enumerate(pads):
        d = dim - nd + i
        size = input.shape[d]
        if mode == "circular" and (lo < 0 or hi < 0):
            # PyTorch crops first, then wraps around the cropped part.
            out = getitem(out, (slice(None),) * d + (slice(max(0, -lo), size - max(0, -hi)),))
            size = size - max(0, -lo) - max(0, -hi)
            lo, hi = max(0, lo), max(0, hi)
        if lo == 0 and hi == 0:
            continue
        idx = xp(input._data).asarray(_pad_index(size, lo, hi, mode))
        out = getitem(out, (slice(None),) * d + (idx,))
    return out


# ---------------------------------------------------------------------- resizing

_MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def _nearest_matrix(n_in: int, n_out: int, scale: float, exact: bool):
    dst = np.arange(n_out, dtype=np.float32)
    if exact:
        src = np.floor((dst + np.float32(0.5)) * np.float32(scale))
    else:
        src = np.floor(dst * np.float32(scale))
    src = np.minimum(src.astype(np.int64), n_in - 1)
    a = np.zeros((n_out, n_in))
    a[np.arange(n_out), src] = 1.0
    return a


def _source_coords(n_in, n_out, scale, align_corners, cubic):
    dst = np.arange(n_out, dtype=np.float64)
    if align_corners:
        return dst * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    src = (dst + 0.5) * scale - 0.5
    return src if cubic else np.maximum(src, 0.0)


def _linear_matrix(n_in, n_out, scale, align_corners):
    src = _source_coords(n_in, n_out, scale, align_corners, False)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = src - i0
    a = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    np.add.at(a, (rows, i0), 1.0 - lam)
    np.add.at(a, (rows, i1), lam)
    return a


def _cubic_matrix(n_in, n_out, scale, align_corners):
    src = _source_coords(n_in, n_out, scale, align_corners, True)
    i0 = np.floor(src).astype(np.int64)
    t = src - i0
    A = -0.75

    def near(x):  # |x| <= 1
        return ((A + 2) * x - (A + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A

    coeffs = [far(t + 1), near(t), near(1 - t), far(2 - t)]
    a = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    for k, c in enumerate(coeffs):
        np.add.at(a, (rows, np.clip(i0 - 1 + k, 0, n_in - 1)), c)
    return a


def _area_matrix(n_in, n_out):
    i = np.arange(n_out)
    start, end = (i * n_in) // n_out, -((-(i + 1) * n_in) // n_out)
    a = np.zeros((n_out, n_in))
    for r in range(n_out):
        a[r, start[r]:end[r]] = 1.0 / (end[r] - start[r])
    return a


def _apply_separable(x, mats):
    """Apply per-dim (out, in) matrices to the trailing ``len(mats)`` dims of x."""
    nd = len(mats)
    m = xp(x._data)
    out = x
    for i, a in enumerate(mats):
        if a is None:
            continue
        d = x.dim() - nd + i
        at = m.asarray(a.T, dtype=x._data.dtype)
        if d == x.dim() - 1:
            out = matmul(out, at)
        else:
            out = transpose(matmul(transpose(out, d, -1), at), d, -1)
    return out


def interpolate(input, size=None, scale_factor=None, mode: str = "nearest",
                align_corners=None, recompute_scale_factor=None, antialias: bool = False):
    """Resize the spatial dims of (N, C, *S) by ``size`` or ``scale_factor``. Modes:
    'nearest', 'nearest-exact', 'linear' (3-d), 'bilinear' (4-d), 'bicubic' (4-d),
    'trilinear' (5-d), 'area'."""
    dim = input.dim()
    nd = dim - 2
    modes = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")
    if mode not in modes:
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {dim}D) for the "
            "modes: nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact "
            f"(got {mode})")
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if mode in _MODE_DIMS and _MODE_DIMS[mode] != nd:
        raise NotImplementedError(f"Got {dim}D input, but {mode} mode needs "
                                  f"{_MODE_DIMS[mode] + 2}D input")
    if nd not in (1, 2, 3):
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {dim}D) for the "
            "modes: nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact "
            f"(got {mode})")
    if antialias:
        raise NotImplementedError("interpolate(antialias=True) is not supported")
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    in_size = tuple(input.shape[2:])
    if size is not None:
        sizes = tuple(size) if isinstance(size, (list, tuple)) else (size,) * nd
        if len(sizes) != nd:
            raise ValueError(f"Input and output must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of "
                             f"{list(in_size)} and output size of {list(sizes)}. Please "
                             "provide input tensor in (N, C, d1, d2, ...,dK) format and output "
                             "size in (o1, o2, ...,oK) format.")
        out = tuple(int(s) for s in sizes)
        scales = [None] * nd
    elif scale_factor is not None:
        sf = tuple(scale_factor) if isinstance(scale_factor, (list, tuple)) else \
            (scale_factor,) * nd
        if len(sf) != nd:
            raise ValueError(f"Input and scale_factor must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of "
                             f"{list(in_size)} and scale_factor of shape {list(sf)}.")
        out = tuple(math.floor(in_size[i] * float(sf[i])) for i in range(nd))
        scales = [None if recompute_scale_factor else 1.0 / float(f) for f in sf]
    else:
        raise ValueError("either size or scale_factor should be defined")
    if any(o <= 0 for o in out):
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({', '.join(map(str, in_size))}) and output "
                           f"({', '.join(map(str, out))})")
    mats = []
    for i in range(nd):
        n_in, n_out = in_size[i], out[i]
        scale = scales[i] if scales[i] is not None else n_in / n_out
        if mode in ("nearest", "nearest-exact"):
            a = _nearest_matrix(n_in, n_out, scale, mode == "nearest-exact")
        elif mode == "area":
            a = _area_matrix(n_in, n_out)
        elif mode == "bicubic":
            a = _cubic_matrix(n_in, n_out, scale, bool(align_corners))
        else:
            a = _linear_matrix(n_in, n_out, scale, bool(align_corners))
        mats.append(None if n_in == n_out and np.array_equal(a, np.eye(n_in)) else a)
    return _apply_separable(input, mats)


def upsample(input, size=None, scale_factor=None, mode: str = "nearest", align_corners=None):
    """Deprecated alias of ``interpolate``."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---------------------------------------------------------------------- pixel shuffle

def pixel_shuffle(input, upscale_factor: int):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r)."""
    r = int(upscale_factor)
    if input.dim() < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got "
                           f"input with {input.dim()} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c}"
                           f" is not divisible by {r * r}")
    n = len(lead)
    x = reshape(input, (*lead, c // (r * r), r, r, h, w))
    x = permute(x, (*range(n), n, n + 3, n + 1, n + 4, n + 2))
    return reshape(x, (*lead, c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor: int):
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W)."""
    r = int(downscale_factor)
    if input.dim() < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.dim()} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if h % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by "
                           f"downscale_factor, but input.size(-2)={h} is not divisible by {r}")
    if w % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by "
                           f"downscale_factor, but input.size(-1)={w} is not divisible by {r}")
    n = len(lead)
    x = reshape(input, (*lead, c, h // r, r, w // r, r))
    x = permute(x, (*range(n), n, n + 2, n + 4, n + 1, n + 3))
    return reshape(x, (*lead, c * r * r, h // r, w // r))



def channel_shuffle(input, groups: int):
    """(N, g*k, *) -> (N, k*g, *): interleave the channels of ``groups`` groups."""
    g = int(groups)
    if input.dim() < 3:
        raise RuntimeError(f"channel_shuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.dim()} dimension(s)")
    if g <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of "
                           f"groups:{g}")
    n, c, *rest = input.shape
    if c % g:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {g} groups.")
    x = reshape(input, (n, g, c // g, *rest))
    return reshape(transpose(x, 1, 2), (n, c, *rest))


# ---------------------------------------------------------------------- spatial transformers

def _base_coords(n: int, align_corners: bool):
    if n <= 1:
        return np.zeros(max(n, 0))
    c = np.linspace(-1.0, 1.0, n)
    return c if align_corners else c * (n - 1) / n


def affine_grid(theta, size, align_corners=None):
    """Sampling grid (N, H, W, 2) (or (N, D, H, W, 3)) of the affine maps ``theta``
    (N, 2, 3) (or (N, 3, 4)) over normalized [-1, 1] coordinates, for ``grid_sample``."""
    size = [int(s) for s in size]
    ac = bool(align_corners)
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    if len(size) == 4:
        if theta.dim() != 3 or tuple(theta.shape[1:]) != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                             f"{size}. Got {list(theta.shape)}.")
        spatial = size[2:]
    elif len(size) == 5:
        if theta.dim() != 3 or tuple(theta.shape[1:]) != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                             f"{size}. Got {list(theta.shape)}.")
        spatial = size[2:]
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    if min(spatial) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    axes = np.meshgrid(*[_base_coords(s, ac) for s in spatial], indexing="ij")
    # Columns are (x, y[, z], 1): x runs along the last dim.
    base = np.stack([*axes[::-1], np.ones_like(axes[0])], axis=-1).reshape(-1, len(spatial) + 1)
    base = xp(theta._data).asarray(base, dtype=theta._data.dtype)
    grid = matmul(base, transpose(theta, 1, 2))
    return reshape(grid, (size[0], *spatial, len(spatial)))
