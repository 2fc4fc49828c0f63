"""The ``*_copy`` twins of the view ops (``permute_copy``, ``view_copy``, ...: the view's
values in fresh memory), the ``*_scatter`` inverses of the views (``select_scatter``,
``slice_scatter``, ``diagonal_scatter``: a copy of the input with the view's region
replaced), aten's ``slice``, and ``unsafe_split`` / ``unsafe_chunk``.

All but ``unsafe_split`` are composites: a view and a clone, or a masked write, whose
derivatives come from the primitives they are built of.
"""

from __future__ import annotations

import numpy as np

from .._dims import wrap_dim
from ._core import register_method
from ._out import takes_out
from .conversion import view_dtype
from .diagonal import DiagonalScatter, diagonal
from .indexing import IndexPut, Slice, narrow, select
from .joining import Split, chunk, split, unbind
from .shape import clone, expand, permute, squeeze, t, transpose, unsqueeze, view
from .where import where

__all__ = ["alias_copy", "diagonal_copy", "diagonal_scatter", "expand_copy", "narrow_copy",
           "permute_copy", "select_scatter", "slice_scatter", "split_with_sizes_copy",
           "squeeze_copy", "t_copy", "transpose_copy", "unbind_copy", "unsafe_chunk",
           "unsafe_split", "unsqueeze_copy", "view_copy"]


# ---------------------------------------------------------------------- *_copy

@takes_out("alias_copy", "exact")
def alias_copy(input):
    """The input's values in fresh memory (``alias`` is the input itself)."""
    return clone(input)


@takes_out("diagonal_copy", "exact")
def diagonal_copy(input, offset=0, dim1=0, dim2=1):
    return clone(diagonal(input, offset, dim1, dim2))


@takes_out("expand_copy", "exact")
def expand_copy(input, size, *, implicit=False):
    """``input.expand(size)`` with every element in memory of its own."""
    return clone(expand(input, tuple(size)))


@register_method("narrow_copy")
@takes_out("narrow_copy", "exact")
def narrow_copy(input, dim, start, length):
    if input.dim() and dim >= input.dim():  # checked before the dim is wrapped, as in PyTorch
        raise RuntimeError("Expected dim < static_cast<int64_t>(self_sizes.size()) to be "
                           "true, but got false.")
    return clone(narrow(input, dim, int(start), int(length)))


@takes_out("permute_copy", "exact")
def permute_copy(input, dims):
    return clone(permute(input, tuple(dims)))


@takes_out("squeeze_copy", "exact")
def squeeze_copy(input, dim=None):
    return clone(squeeze(input) if dim is None else squeeze(input, dim))


@takes_out("t_copy", "exact")
def t_copy(input):
    return clone(t(input))


@takes_out("transpose_copy", "exact")
def transpose_copy(input, dim0, dim1):
    return clone(transpose(input, dim0, dim1))


@takes_out("unsqueeze_copy", "exact")
def unsqueeze_copy(input, dim):
    return clone(unsqueeze(input, dim))


@takes_out("view_copy", "exact")
def view_copy(input, size):
    """``input.view(size)`` (or ``input.view(dtype)``) in fresh memory."""
    if isinstance(size, (tuple, list)):
        return clone(view(input, tuple(size)))
    if isinstance(size, (int, np.integer)):
        return clone(view(input, int(size)))
    return clone(view_dtype(input, size))


def split_with_sizes_copy(input, split_sizes, dim=0, *, out=None):
    """``split_with_sizes``'s parts, each in fresh memory."""
    parts = tuple(clone(p) for p in split(input, list(split_sizes), dim))
    return parts if out is None else _into(parts, out, "split_with_sizes_copy")


def unbind_copy(input, dim=0, *, out=None):
    """``unbind``'s slices, each in fresh memory."""
    parts = tuple(clone(p) for p in unbind(input, dim))
    return parts if out is None else _into(parts, out, "unbind_copy")


def _into(parts, out, op: str):
    """Copy each part into the matching tensor of ``out`` (a list, as in PyTorch)."""
    if len(out) != len(parts):
        raise RuntimeError(f"{op}(): expected {len(parts)} out tensors, got {len(out)}")
    for o, p in zip(out, parts):
        o.copy_(p)


# ---------------------------------------------------------------------- *_scatter

def _check_src(src, region_shape) -> None:
    if tuple(src.shape) != tuple(region_shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size "
                           f"= {list(src.shape)}, slice size = {list(region_shape)}")


def _like(src, input):
    return src.to(input.dtype) if src.dtype != input.dtype else src


def _put(input, src, idx):
    """A copy of ``input`` with ``input[idx]`` (a basic index) replaced by ``src``.
    d/dinput = grad with the region zeroed, d/dsrc = grad[idx] (IndexPut's)."""
    return IndexPut.generic(input, _like(src, input), idx=idx)


@register_method("select_scatter")
def select_scatter(input, src, dim, index):
    """A copy of ``input`` with ``input.select(dim, index)`` replaced by ``src``."""
    region = select(input, dim, index)
    _check_src(src, region.shape)
    d = wrap_dim(dim, input.dim())
    return _put(input, src, (slice(None),) * d + (int(index),))


def _slice_bounds(n: int, start, end, step) -> slice:
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    return slice(*slice(start, end, step).indices(n))


@register_method("slice_scatter")
def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """A copy of ``input`` with the slice ``start:end:step`` along ``dim`` replaced by
    ``src``."""
    d = wrap_dim(dim, input.dim())
    n = input.shape[d] if input.dim() else 1
    idx = (slice(None),) * d + (_slice_bounds(n, start, end, step),)
    region = np.empty(tuple(input.shape), dtype=bool)[idx].shape
    _check_src(src, region)
    return _put(input, src, idx)


@register_method("diagonal_scatter")
def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """A copy of ``input`` with the diagonal ``diagonal(input, offset, dim1, dim2)``
    replaced by ``src``."""
    _check_src(src, diagonal(input.detach(), offset, dim1, dim2).shape)
    nd = input.dim()
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    shape = tuple(input.shape)
    mask = DiagonalScatter.generic(np.ones(tuple(src.shape), dtype=bool), shape=shape,
                                   offset=offset, dim1=d1, dim2=d2)
    placed = DiagonalScatter.generic(_like(src, input), shape=shape, offset=offset, dim1=d1,
                                     dim2=d2)
    return where(mask, placed, input)


def slice_view(input, dim=0, start=None, end=None, step=1):
    """aten's ``slice.Tensor``: ``input[..., start:end:step]`` along ``dim`` (a view; out of
    range bounds are clamped, as in Python)."""
    d = wrap_dim(dim, input.dim())
    n = input.shape[d] if input.dim() else 1
    idx = (slice(None),) * d + (_slice_bounds(n, start, end, step),)
    return Slice.generic(input, idx=idx)


# ---------------------------------------------------------------------- unsafe splits

class UnsafeSplit(Split):
    """``split`` whose parts share the input's memory but are not tracked as its views:
    in-place ops on them are allowed (autograd does not see the shared memory).
    d/dx = cat(grads, dim)."""

    __slots__ = ()
    is_view = False
    multi_view = False


@register_method("unsafe_split")
def unsafe_split(tensor, split_size_or_sections, dim=0):
    """``split`` without the view restrictions on the parts (PyTorch's ``unsafe_split``)."""
    parts = split(tensor.detach(), split_size_or_sections, dim)  # the sizes, checked
    sizes = tuple(p.shape[wrap_dim(dim, tensor.dim())] for p in parts)
    return UnsafeSplit.generic(tensor, sizes=sizes, dim=dim)


@register_method("unsafe_chunk")
def unsafe_chunk(input, chunks, dim=0):
    """``chunk`` without the view restrictions on the parts."""
    parts = chunk(input.detach(), chunks, dim)
    sizes = tuple(p.shape[wrap_dim(dim, input.dim())] for p in parts)
    return UnsafeSplit.generic(input, sizes=sizes, dim=dim)
