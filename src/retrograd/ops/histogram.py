"""histogram and histogramdd: counts (or summed weights) of values per bin, with the bin edges.

Not differentiable (a count is piecewise constant in the data; PyTorch defines no
derivative either). Each coordinate is binned on its own edges: a bin holds its left edge,
the last bin its right edge too, and values outside the edges (or NaN) are left out. Equal
bins over a range span ``range`` (or the data's min and max, widened by 1/2 on each side
when they are equal, [0, 1] when there is no data).
"""

from __future__ import annotations

import builtins

import numpy as np

from .._tensor import Tensor, wrap
from ..backend import xp
from ._core import register_method, replayable
from ._out import write_out
from .reduction import _result

__all__ = ["histogram", "histogramdd"]

_HIST = _result("histogram", ("hist", "bin_edges"))
_HISTDD = _result("histogramdd", ("hist", "bin_edges"))

_C_NAMES = {"float64": "double", "float32": "float", "float16": "Half", "int64": "Long",
            "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _c_name(dtype) -> str:
    name = str(dtype).split(".")[-1]
    return _C_NAMES.get(name, name)


def _even_edges(lo, hi, bins, dtype):
    """``bins + 1`` equally spaced edges from lo to hi in ``dtype``: the first half counted
    up from lo, the second down from hi, so both ends are exact. Each edge is rounded once
    from the exact ``lo + k * step`` (a wider type holds the product exactly), which gives
    PyTorch's edges to the bit."""
    lo, hi = dtype.type(lo), dtype.type(hi)
    step = (hi - lo) / dtype.type(bins)
    wide = np.float64 if dtype == np.float32 else np.longdouble
    k = np.arange(bins + 1)
    up = (wide(lo) + k.astype(wide) * wide(step)).astype(dtype)
    down = (wide(hi) - (bins - k).astype(wide) * wide(step)).astype(dtype)
    return np.where(k < (bins + 1) // 2, up, down)


def _fmt(v: float) -> str:
    return f"{v:g}"


def _span(column, lo, hi, k):
    """The (lo, hi) range of dim ``k``: given, or the data's, checked as PyTorch does."""
    if lo is None:
        lo, hi = (float(column.min()), float(column.max())) if column.size else (0.0, 1.0)
    if lo > hi:
        raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min "
                           f"{_fmt(lo)} max {_fmt(hi)} for dimension {k}")
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f"torch.histogramdd: dimension {k}'s range [{_fmt(lo)}, "
                           f"{_fmt(hi)}] is not finite")
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi


def _edges(points, bins, ranges):
    """One array of edges per coordinate, from ``bins`` (ints or edge tensors)."""
    dtype = points.dtype
    out = []
    for k, b in enumerate(bins):
        if not isinstance(b, (int, np.integer)):  # edges: a Tensor, or its array
            b = b._data if isinstance(b, Tensor) else b
            if b.ndim != 1:
                raise RuntimeError(f"torch.histogramdd: bins tensor should have one dimension, "
                                   f"but got {b.ndim} dimensions in the bins tensor for "
                                   f"dimension {k}")
            if b.dtype != dtype:
                raise RuntimeError(f"torch.histogramdd: input tensor and bins tensors should "
                                   f"have the same dtype, but got input with dtype "
                                   f"{_c_name(dtype)} and bins for dimension {k} with dtype "
                                   f"{_c_name(b.dtype)}")
            edges = np.array(b)
        else:
            n = int(b)
            if n <= 0:
                raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {n} for "
                                   f"dimension {k}")
            lo, hi = ranges[k] if ranges is not None else (None, None)
            edges = _even_edges(*_span(points[:, k], lo, hi, k), n, dtype)
        if edges.size < 2:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got "
                               f"{edges.size - 1} for dimension {k}")
        out.append(edges)
    return out


def _count(points, edges, weight, density):
    """The histogram of the rows of ``points`` on ``edges`` (NumPy arrays)."""
    m = xp(points)
    shape = tuple(e.size - 1 for e in edges)
    keep = m.ones(points.shape[0], dtype=bool)
    where = []
    for k, e in enumerate(edges):
        x = points[:, k]
        keep &= (x >= e[0]) & (x <= e[-1])  # NaN fails both: left out
        # the bin whose left edge is the last one <= x; the right end joins the last bin
        where.append(m.minimum(m.searchsorted(e, x, side="right") - 1, e.size - 2))
    flat = np.ravel_multi_index(tuple(m.clip(w[keep], 0, None) for w in where), shape) \
        if keep.any() else m.zeros(0, dtype=np.int64)
    w = None if weight is None else weight[keep]
    hist = m.bincount(flat, weights=w, minlength=int(np.prod(shape))).astype(points.dtype)
    hist = hist.reshape(shape)
    if density:
        volume = m.ones(shape, dtype=points.dtype)
        for k, e in enumerate(edges):
            volume = volume * m.diff(e).reshape((-1,) + (1,) * (len(shape) - k - 1))
        with np.errstate(divide="ignore", invalid="ignore"):
            hist = (hist / (hist.sum() * volume)).astype(points.dtype)
    return hist


def _raw(bins):
    return bins._data if isinstance(bins, Tensor) else bins


def _histogram(data, dims, bins, ranges, weight, density):
    """(hist, *edges) of the rows of ``data`` seen as (-1, dims) points: all computed from
    the values, so a captured step computes it again (``replayable``)."""
    points = data.reshape(-1, dims)
    edges = _edges(points, bins, ranges)
    w = None if weight is None else weight.reshape(-1)
    return (_count(points, edges, w, density), *edges)


def _weights(points_shape, weight, dtype, input_shape):
    if weight is None:
        return None
    if tuple(weight.shape) != tuple(input_shape):
        raise RuntimeError("torch.histogramdd: if weight tensor is provided it should have the "
                           "same shape as the input tensor excluding its innermost dimension, "
                           f"but got input with shape {list(points_shape)} and weight with "
                           f"shape {list(weight.shape)}")
    if weight._data.dtype != dtype:
        raise RuntimeError("torch.histogramdd: if weight tensor is provided, input tensor and "
                           f"weight tensor should have the same dtype, but got "
                           f"input({_c_name(dtype)}), and weight({_c_name(weight._data.dtype)})")
    return weight._data


def _float_input(input):
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"histogramdd\" not implemented for "
                                  f"'{_C_NAMES.get(str(input._data.dtype), input.dtype)}'")


def _pairs(range, dims):
    if range is None:
        return None
    flat = [float(v) for v in range]
    if len(flat) != 2 * dims:
        raise RuntimeError(f"torch.histogramdd: for a {dims}-dimensional histogram range "
                           f"should have {2 * dims} elements, but got {len(flat)}")
    return [(flat[2 * k], flat[2 * k + 1]) for k in builtins.range(dims)]


@register_method("histogram")
def histogram(input, bins, *, range=None, weight=None, density=False, out=None):
    """``(hist, bin_edges)``: counts of ``input``'s values in ``bins`` equal bins over
    ``range`` (default: the data's min and max), or in the bins between the edges of a 1-D
    tensor ``bins``. ``weight`` sums weights instead of counting; ``density`` divides by the
    total and the bin widths. Not differentiable.

    >>> import retrograd as torch
    >>> torch.histogram(torch.tensor([1., 2, 1]), bins=4, range=(0., 3.)).hist
    tensor([0., 2., 1., 0.])
    """
    if isinstance(bins, Tensor) and range is not None:
        raise TypeError("histogram() received an invalid combination of arguments: range "
                        "goes with an int bins, not a Tensor of bin edges")
    if not isinstance(bins, (Tensor, int, np.integer)):
        raise TypeError(f"histogram(): bins must be an int or a Tensor, got "
                        f"{type(bins).__name__}")
    _float_input(input)
    w = _weights((input.numel(), 1), weight, input._data.dtype, input.shape)
    hist, edges = replayable(_histogram, input._data, 1, [_raw(bins)], _pairs(range, 1), w,
                             density)
    return write_out(_HIST(wrap(hist), wrap(edges)), out, "histogram")


def histogramdd(input, bins, *, range=None, weight=None, density=False):
    """``(hist, bin_edges)``: the D-dimensional histogram of the points in the rows of
    ``input`` (shape (..., D)). ``bins`` is an int (for every dim), D ints, or D 1-D tensors
    of edges; ``range`` the flat [lo0, hi0, lo1, hi1, ...]. Not differentiable."""
    _float_input(input)
    if input.ndim < 2:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 2 dimensions")
    dims = input.shape[-1]
    if isinstance(bins, (int, np.integer)):
        bins = [int(bins)] * dims
    bins = list(bins)
    if len(bins) != dims:
        raise RuntimeError("histogramdd: The size of bins must be equal to the innermost "
                           "dimension of the input.")
    if any(isinstance(b, Tensor) for b in bins):
        for k, b in enumerate(bins):
            if not isinstance(b, Tensor):
                raise TypeError(f"expected Tensor as element {k} in argument 1, but got "
                                f"{type(b).__name__}")
    w = _weights(input.shape, weight, input._data.dtype, input.shape[:-1])
    hist, *edges = replayable(_histogram, input._data, dims, [_raw(b) for b in bins],
                              _pairs(range, dims), w, density)
    return _HISTDD(wrap(hist), tuple(wrap(e) for e in edges))
