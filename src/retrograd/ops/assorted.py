"""Assorted torch functions built on the primitives: ``fill`` and ``zero_`` as functions,
``resize_as_``, ``constant_pad_nd``, ``nonzero_static``, ``combinations``, ``gradient``
(finite differences) and ``hash_tensor``.

All are composites (or not differentiable): their derivatives come from the ops they use.
"""

from __future__ import annotations

import itertools
import numbers

import numpy as np

from .. import _dtype as dtypes
from .._dims import wrap_dim
from .._tensor import Tensor, wrap
from ..backend import xp
from ._core import checked, register_method
from .index_ops import index_select
from .indexing import getitem
from .joining import cat
from .shape import reshape
from .tensor_methods import Fill, resize_
from .vision import pad

__all__ = ["combinations", "constant_pad_nd", "fill", "gradient", "hash_tensor",
           "nonzero_static", "resize_as_", "zero_"]


def fill(input, value):
    """A tensor like ``input`` with every element ``value`` (a number or a 0-d tensor).
    d/dinput = 0, d/dvalue = sum(grad)."""
    if isinstance(value, Tensor) and value.dim() != 0:
        raise RuntimeError(f"fill only supports 0-dimension value tensor but got tensor with "
                           f"{value.dim()} dimensions.")
    return Fill.generic(input, value)


def zero_(input):
    """``input.zero_()``: every element set to zero in place."""
    return input.zero_()


@register_method("resize_as_")
def resize_as_(input, the_template, *, memory_format=None):
    """``input`` resized in place to ``the_template``'s shape (kept values come first in
    memory order; new ones are zeros here, uninitialized in PyTorch)."""
    return resize_(input, tuple(the_template.shape))


def constant_pad_nd(input, pad_, value=0):
    """``input`` padded with ``value`` (``pad_`` as for ``F.pad``; negative pads crop)."""
    return pad(input, pad_, "constant", value)


@register_method("nonzero_static")
def nonzero_static(input, *, size, fill_value=-1):
    """The indices of the non-zero elements as a (size, ndim) int64 tensor: cut to ``size``
    rows, or padded with rows of ``fill_value``."""
    size = int(size)
    if size < 0:
        raise RuntimeError(f"nonzero_static: 'size' must be an non-negative integer, but got "
                           f"size: {size}")
    data = input._data
    m = xp(data)
    found = m.argwhere(data).reshape(-1, data.ndim) if data.ndim else \
        m.zeros((int(data != 0), 0), dtype=m.int64)
    found = found[:size]
    out = m.full((size, data.ndim), fill_value, dtype=m.int64)
    out[:len(found)] = found
    return wrap(out)


def combinations(input, r=2, with_replacement=False):
    """The length-``r`` combinations of the elements of a 1-d tensor, one per row (in
    ``itertools.combinations`` order)."""
    if input.dim() != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return getitem(input, slice(0, 0))
    pick = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    index = np.array(list(pick(range(input.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    rows = index_select(input, 0, wrap(xp(input._data).asarray(index.reshape(-1))))
    return reshape(rows, (index.shape[0], r))


# ---------------------------------------------------------------------- gradient

def _spacings(input, spacing, dims):
    """Per dim in ``dims``: the coordinates of its samples (a float64 array)."""
    if isinstance(spacing, Tensor) and spacing.dim() != 0:
        raise TypeError("gradient(): argument 'spacing' must be a number or a sequence of "
                        "numbers or 1-d tensors, not a Tensor")
    if spacing is None or isinstance(spacing, (numbers.Number, Tensor)):
        h = 1.0 if spacing is None else float(spacing)
        return [np.arange(input.shape[d]) * h for d in dims]
    spacing = list(spacing)
    if len(spacing) != len(dims):
        raise RuntimeError(
            f"torch.gradient expected spacing to be unspecified, a scalar or it's spacing and "
            f"dim arguments to have the same length, but got a spacing argument of length "
            f"{len(spacing)} and a dim argument of length {len(dims)}.")
    out = []
    for d, s in zip(dims, spacing):
        if isinstance(s, Tensor):
            if s.dim() != 1:
                raise RuntimeError(f"torch.gradient expected each element of spacing to have "
                                   f"one dimension, but got an element with {s.dim()} "
                                   f"dimensions!")
            # The coordinates shape the difference weights: a guard of a captured step.
            x = np.asarray(checked(_coordinates, s._data), dtype=np.float64)
            if x.shape[0] != input.shape[d]:
                raise RuntimeError(f"torch.gradient expected the coordinates of dim {d} to "
                                   f"have {input.shape[d]} elements, but got {x.shape[0]}")
            out.append(x)
        else:
            out.append(np.arange(input.shape[d]) * float(s))
    return out


def _coordinates(a) -> tuple:
    return tuple(a.tolist())


def _coefficients(x: np.ndarray):
    """(weights of f[i-1], f[i], f[i+1]) of the second-order central difference at each
    inner sample of coordinates ``x`` (the two ends keep zeros)."""
    n = len(x)
    a, b, c = np.zeros(n), np.zeros(n), np.zeros(n)
    hl, hr = x[1:-1] - x[:-2], x[2:] - x[1:-1]
    a[1:-1] = -hr / (hl * (hl + hr))
    b[1:-1] = (hr - hl) / (hl * hr)
    c[1:-1] = hl / (hr * (hl + hr))
    return a, b, c


def _along(d: int, index) -> tuple:
    return (slice(None),) * d + (index,)


def _shaped(w: np.ndarray, d: int, nd: int, dtype):
    return w.astype(dtype).reshape((-1,) + (1,) * (nd - d - 1))


def _diff_one(f, d: int, x: np.ndarray, edge_order: int):
    """The derivative of ``f`` along dim ``d`` at sample coordinates ``x``."""
    nd, dt = f.dim(), f._data.dtype
    n = len(x)
    parts = []
    if edge_order == 1:
        first = (getitem(f, _along(d, slice(1, 2))) - getitem(f, _along(d, slice(0, 1))))
        last = (getitem(f, _along(d, slice(n - 1, n))) - getitem(f, _along(d, slice(n - 2,
                                                                                  n - 1))))
        first, last = first / float(x[1] - x[0]), last / float(x[-1] - x[-2])
    else:
        d1, d2 = x[1] - x[0], x[2] - x[1]
        w0 = (-(2 * d1 + d2) / (d1 * (d1 + d2)), (d1 + d2) / (d1 * d2), -d1 / (d2 * (d1 + d2)))
        d1, d2 = x[-2] - x[-3], x[-1] - x[-2]
        w1 = (d2 / (d1 * (d1 + d2)), -(d2 + d1) / (d1 * d2), (2 * d2 + d1) / (d2 * (d1 + d2)))
        first = sum(float(w) * getitem(f, _along(d, slice(k, k + 1))) for k, w in enumerate(w0))
        last = sum(float(w) * getitem(f, _along(d, slice(n - 3 + k, n - 2 + k)))
                   for k, w in enumerate(w1))
    parts.append(first)
    if n > 2:
        a, b, c = (_shaped(w[1:-1], d, nd, dt) for w in _coefficients(x))
        mid = (getitem(f, _along(d, slice(0, n - 2))) * a
               + getitem(f, _along(d, slice(1, n - 1))) * b
               + getitem(f, _along(d, slice(2, n))) * c)
        parts.append(mid)
    parts.append(last)
    return cat(parts, d)


def gradient(input, *, spacing=None, dim=None, edge_order=1):
    """The derivative of ``input`` along each dim in ``dim`` (all by default), estimated by
    second-order central differences inside and one-sided differences of ``edge_order``
    at the ends; ``spacing`` gives the sample distance (a number, one per dim) or the
    sample coordinates (one 1-d tensor per dim). Returns one tensor per dim."""
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    nd = input.dim()
    if dim is None:
        dims = tuple(range(nd))
        if isinstance(spacing, (list, tuple)) and len(spacing) != nd:
            raise RuntimeError(
                f"torch.gradient expected spacing to be unspecified, a scalar, or a list of "
                f"length equal to 'self.dim() = {nd}', since dim argument was not given, but "
                f"got a list of length {len(spacing)}")
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        wrapped = []
        for d in dims:
            w = wrap_dim(d, nd)
            if w in wrapped:
                raise RuntimeError(f"dim {w} appears multiple times in the list of dims")
            wrapped.append(w)
        dims = tuple(wrapped)
    coords = _spacings(input, spacing, dims)
    if any(input.shape[d] < edge_order + 1 for d in dims):
        raise RuntimeError("torch.gradient expected each dimension size to be at least "
                           "edge_order+1")
    f = input if input.is_floating_point() or input.is_complex() else \
        input.to(dtypes.get_default_dtype())
    return tuple(_diff_one(f, d, x, edge_order) for d, x in zip(dims, coords))


# ---------------------------------------------------------------------- hash_tensor

@register_method("hash_tensor")
def hash_tensor(input, dim=(), *, keepdim=False, mode=0):
    """A uint64 hash of the elements (over ``dim``; all dims by default): each element
    widened to 64 bits (float64, or int64 for integers and bools), its bits read as uint64,
    all combined by xor (``mode=0``, the only mode)."""
    if mode != 0:
        raise RuntimeError(f"hash_tensor only supports mode=0 (xor), but got mode={mode}")
    data = input._data
    m = xp(data)
    if data.dtype.kind == "f":
        bits = data.astype(m.float64).view(m.uint64)
    elif data.dtype.kind in "biu":
        bits = data.astype(m.int64).view(m.uint64) if data.dtype != m.uint64 else data
    else:
        raise RuntimeError(f"hash_tensor: unsupported dtype {input.dtype}")
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    axes = tuple(range(data.ndim)) if not dims else \
        tuple(sorted(wrap_dim(d, data.ndim) for d in dims))
    out = m.bitwise_xor.reduce(bits, axis=axes, keepdims=keepdim) if data.ndim else bits
    if keepdim and not data.ndim:
        out = bits
    return wrap(m.asarray(out, dtype=m.uint64))
