"""The index_* family (index_select, index_add, index_copy, index_fill, index_put), take
and put on flat indices, and the masked_* ops (masked_select, masked_fill, masked_scatter)."""

from __future__ import annotations

import numpy as np

from .._dims import wrap_dim
from .._tensor import Tensor
from ..backend import xp
from ._core import Primitive, register_method, replayable
from ._helpers import check_fill_value
from ._out import dtype_name, takes_out
from .indexing import (
    Index,
    IndexBackward,
    IndexPut,
    IndexPutAccumulate,
    _check_bounds,
    getitem,
    inplace_twin,
    normalize_index,
)
from .scatter import _index_array, _scatter_src
from .shape import expand, reshape

__all__ = ["index_add", "index_copy", "index_fill", "index_put", "index_select", "masked_fill",
           "masked_scatter", "masked_select", "put", "take"]


class IndexSelect(Index):
    """x's slices at ``index`` along a dim.  d/dx = index_add(zeros, dim, index, grad)."""

    __slots__ = ()


class MaskedSelect(Index):
    """The elements of x where the mask holds, as a 1-d tensor."""

    __slots__ = ()


class Take(Index):
    """x's elements at flat indices."""

    __slots__ = ()


class IndexCopy(IndexPut):
    __slots__ = ()


class IndexFill(IndexPut):
    __slots__ = ()


class MaskedFill(IndexPut):
    __slots__ = ()


class Put(IndexPut):
    __slots__ = ()


class PutAccumulate(IndexPutAccumulate):
    __slots__ = ()
    _name = "PutBackward0"


class IndexAdd(IndexPutAccumulate):
    __slots__ = ()
    _name = "IndexAddBackward0"


class MaskedScatter(Primitive):
    """x with the masked places filled by source's leading elements in order.

    d/dx = grad with the masked places zeroed; d/dsource = grad[mask], padded with zeros.
    """

    __slots__ = ("mask", "src_shape")
    formula = "grad.masked_fill(mask, 0), pad(grad[mask])"

    def forward(ctx, x, src, mask=None):
        k = int(mask.sum())
        if src.size < k:
            raise RuntimeError("masked_scatter: expected source to have at least as many "
                               f"elements as ones in mask ({src.size} < {k})")
        ctx.mask, ctx.src_shape = mask, src.shape
        out = xp(x).array(x, copy=True)
        out[mask] = src.reshape(-1)[:k]
        return out

    def backward(ctx, grad):
        mask = ctx.mask
        n = int(np.prod(ctx.src_shape))
        k = int(mask.sum())
        gx = IndexPut.generic(grad, 0.0, idx=mask)
        flat = IndexBackward.generic(getitem(grad, mask), shape=(n,), idx=slice(0, k),
                                     basic=True)
        return gx, reshape(flat, ctx.src_shape)

    def jvp(ctx, tx, ts):
        return MaskedScatter.generic(tx, ts, mask=ctx.mask)


def _vector_index(index, n, op, dim=0):
    idx = _index_array(index, op)
    if idx.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector")
    if idx.ndim != 1:  # (replayable: a captured step's computed index is reshaped again)
        idx = replayable(np.reshape, idx, (-1,))
    # index_select takes no negative index (PyTorch); the others wrap them.
    low = 0 if op == "index_select" else -n
    if idx.size and ((idx >= n) | (idx < low)).any():
        bad = int(idx[(idx >= n) | (idx < low)][0])
        if op == "index_select":
            if dim == 1:  # PyTorch's kernel for dim 1 words (and classes) it so
                raise RuntimeError(f"INDICES element is out of DATA bounds, id={bad} "
                                   f"axis_dim={n}")
            raise IndexError("index out of range in self")
        raise IndexError(f"index {bad} is out of bounds for dimension 0 with size {n}")
    return idx


@register_method("index_select")
@takes_out("index_select", "exact", apart="always")
def index_select(input, dim, index, *, out=None):
    """The slices at ``index`` (1-d) along ``dim``, copied."""
    if input.dim() == 0:
        wrap_dim(dim, 0, "index_select")
        idx = _index_array(index, "index_select")
        if idx.ndim <= 1 and idx.size != 1:
            raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got "
                               f"{idx.size} value(s)")
        return reshape(index_select(reshape(input, (1,)), 0, index), ())
    d = wrap_dim(dim, input.dim(), "index_select")
    if input.dim() > 1 and 0 in input.shape:
        _check_empty_select(input, d, index)
    idx = _vector_index(index, input.shape[d], "index_select", d)
    return IndexSelect.generic(input, idx=(slice(None),) * d + (idx,))


def _check_empty_select(input, d, index) -> None:
    """PyTorch's kernel for an input with no elements (and 2 or more dims) checks an index
    in its own words and class: RuntimeError, not "index out of range"."""
    idx = _index_array(index, "index_select")
    if not idx.size or idx.ndim > 1:  # no index, or not a vector (_vector_index says so)
        return
    idx = idx.reshape(-1)
    n = input.shape[d]
    if n == 0:
        raise RuntimeError("index_select(): self indexing axis dim should be positive")
    bad = idx[(idx >= n) | (idx < 0)]
    if bad.size:
        raise RuntimeError(f"INDICES element is out of DATA bounds, id={int(bad[0])} "
                           f"axis_dim={n}")


def _same_dtype(input, source, op) -> None:
    """index_add / index_copy need source in self's dtype (PyTorch does not cast)."""
    if isinstance(source, Tensor) and source._data.dtype != input._data.dtype:
        a, b = dtype_name(input._data.dtype), dtype_name(source._data.dtype)
        if op == "index_add":
            raise RuntimeError(f"index_add_(): self ({a}) and source ({b}) must have the same "
                               "scalar type")
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, "
                           f"but got (self) {a} and (source) {b}")


def _check_source_shape(input, d, n_idx, source, op) -> None:
    """PyTorch's checks of source against self: the count along dim, then the other dims."""
    xs, ss = tuple(input.shape), tuple(source.shape)
    if ss and ss[d if d < len(ss) else -1] != n_idx:
        if op == "index_copy":
            raise IndexError(f"index_copy_(): Number of indices ({n_idx}) should be equal to "
                             f"source.size(dim) ({ss[d]})")
        raise RuntimeError(f"{op}_(): Number of indices ({n_idx}) should be equal to "
                           f"source.size(dim): ({ss[d]}), for dim: {d}")
    if op == "index_copy":
        if ss and xs and len(ss) != len(xs):
            raise IndexError("index_copy_(): When source and destination are not scalars, their "
                             f"dimensionality must match. Source dimensionality ({len(ss)}), "
                             f"destination dimensionality ({len(xs)})")
        slice_x = xs[:d] + xs[d + 1:]
        slice_s = ss[:d] + ss[d + 1:]
        for j, (p, q) in enumerate(zip(slice_x, slice_s)):
            if p != q:
                raise RuntimeError(
                    f"index_copy_(): Source/destination tensor must have same slice shapes. "
                    f"Destination slice shape: {p} at dimension {j} and source slice shape: "
                    f"{q} at dimension {j}.")
    elif len(ss) != len(xs) or any(p != q for k, (p, q) in enumerate(zip(xs, ss)) if k != d):
        raise RuntimeError("source tensor shape must match self tensor shape, excluding the "
                           f"specified dimension. Got self.shape = {list(xs)} source.shape = "
                           f"{list(ss)}")


def _index_source(input, dim, index, source, op):
    d = wrap_dim(dim, input.dim(), op)
    idx = _vector_index(index, (input.shape or (1,))[d], op)
    if isinstance(source, Tensor):
        if op != "index_fill":
            _same_dtype(input, source, op)
            _check_source_shape(input, d, idx.size, source, op)
        else:
            source = _scatter_src(input, source)
    return (slice(None),) * d + (idx,), source


def _on_vector(fn, input, index, source):
    """Run the index op ``fn`` on a 0-d self as on a 1-element vector (as PyTorch does)."""
    if isinstance(source, Tensor) and source.dim() == 0:
        source = reshape(source, (1,))
    return reshape(fn(reshape(input, (1,)), 0, index, source), ())


@register_method("index_add")
def index_add(input, dim, index, source, *, alpha=1):
    """input with ``alpha * source`` added at ``index`` along ``dim``."""
    if input.dim() == 0:
        _index_source(input, dim, index, source, "index_add")
        return _on_vector(lambda x, d, i, s: index_add(x, d, i, s, alpha=alpha), input, index,
                          source)
    idx, source = _index_source(input, dim, index, source, "index_add")
    return IndexAdd.generic(input, source if alpha == 1 else source * alpha, idx=idx)


@register_method("index_copy")
def index_copy(input, dim, index, source):
    """input with source's slices written at ``index`` along ``dim``."""
    if input.dim() == 0:
        _index_source(input, dim, index, source, "index_copy")
        return _on_vector(index_copy, input, index, source)
    idx, source = _index_source(input, dim, index, source, "index_copy")
    return IndexCopy.generic(input, source, idx=idx)


@register_method("index_fill")
def index_fill(input, dim, index, value):
    """input with ``value`` at ``index`` along ``dim``."""
    if isinstance(value, Tensor) and value.dim() != 0:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.dim()} dimension(s).")
    if input.dim() == 0:

        _index_source(input, dim, index, value, "index_fill")
        return reshape(index_fill(reshape(input, (1,)), 0, index, value), ())
    idx, value = _index_source(input, dim, index, value, "index_fill")
    return IndexFill.generic(input, value, idx=idx)


@register_method("index_put")
def index_put(input, indices, values, accumulate=False):
    """input with ``values`` written (or added) at the advanced index ``indices``."""
    idx = normalize_index(tuple(indices))
    _check_bounds(input.shape, idx)
    values = _scatter_src(input, values)
    cls = IndexPutAccumulate if accumulate else IndexPut
    return cls.generic(input, values, idx=idx)


def _flat_index(input, index, op):
    idx = _index_array(index, op)
    n = input.numel()
    if idx.size and ((idx >= n) | (idx < -n)).any():
        bad = int(idx[(idx >= n) | (idx < -n)].flat[0])
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} "
                         "elements.")
    shape = tuple(input.shape) or (1,)
    flat = np.unravel_index(np.where(idx < 0, idx + n, idx), shape)
    return flat if input.dim() else (flat[0],)


@register_method("take")
@takes_out("take", "exact", apart="always")
def take(input, index, *, out=None):
    """input's elements at flat (row-major) ``index``; the result has index's shape."""
    if input.numel() == 0 and index.numel():
        raise IndexError("take(): tried to take from an empty tensor")
    idx = _flat_index(input, index, "take")
    if input.dim() == 0:

        input = reshape(input, (1,))
    return Take.generic(input, idx=idx)


@register_method("put")
def put(input, index, source, accumulate=False):
    """input with ``source`` written (or added) at flat ``index``."""
    if index.numel() != source.numel():
        raise IndexError(f"put_(): Expected source and index to have the same number of "
                         f"elements, but got source.numel() = {source.numel()}, index.numel() "
                         f"= {index.numel()}")

    idx = _flat_index(input, index, "put")
    source = reshape(_scatter_src(input, source), tuple(index.shape))
    if input.dim() == 0:
        out = put(reshape(input, (1,)), index, source, accumulate)
        return reshape(out, ())
    return (PutAccumulate if accumulate else Put).generic(input, source, idx=idx)


def _mask_array(mask, op):
    if isinstance(mask, Tensor):
        mask = mask._data
    mask = np.asarray(mask)
    if mask.dtype != np.bool_:
        raise RuntimeError(f"{op}: expected BoolTensor for mask")
    return mask


def _broadcast_mask(input, mask, op, inplace=False):
    m = _mask_array(mask, op)
    shape = tuple(input.shape)
    try:
        full = np.broadcast_shapes(shape, m.shape)
    except ValueError:
        raise RuntimeError(_size_mismatch(m.shape, shape)) from None
    if inplace and full != shape:
        raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast shape "
                           f"{list(full)}")
    if full != shape:
        input = expand(input, full)
    # replayable: the broadcast view of a mask computed in a step is made anew each replay
    return input, replayable(np.broadcast_to, m, full)


def _size_mismatch(a, b) -> str:
    n = max(len(a), len(b))
    pa = (1,) * (n - len(a)) + tuple(a)
    pb = (1,) * (n - len(b)) + tuple(b)
    for i in range(n - 1, -1, -1):
        if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
            return (f"The size of tensor a ({pa[i]}) must match the size of tensor b ({pb[i]}) "
                    f"at non-singleton dimension {i}")
    return "shapes cannot be broadcast"


@register_method("masked_select")
@takes_out("masked_select", "exact", apart="always")
def masked_select(input, mask, *, out=None):
    """The elements where ``mask`` holds (broadcast together), as a 1-d tensor."""
    input, m = _broadcast_mask(input, mask, "masked_select")
    return MaskedSelect.generic(input, idx=m)


@register_method("masked_fill")
def masked_fill(input, mask, value):
    """input with ``value`` where ``mask`` holds."""
    if isinstance(value, Tensor) and value.dim() != 0:
        raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.dim()} dimension(s).")
    check_fill_value("masked_fill", value, input._data.dtype)
    input, m = _broadcast_mask(input, mask, "masked_fill")
    return MaskedFill.generic(input, _scatter_src(input, value), idx=m)


@register_method("masked_scatter")
def masked_scatter(input, mask, source):
    """input with the masked places filled, in order, by source's elements."""
    input, m = _broadcast_mask(input, mask, "masked_scatter")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError("masked_scatter: expected self and source to have same dtypes but got"
                           f"{dtype_name(input._data.dtype)} and {dtype_name(source._data.dtype)}")
    if source.numel() < int(m.sum()):
        raise RuntimeError("Number of elements of source < number of ones in mask")
    return MaskedScatter.generic(input, _scatter_src(input, source), mask=m)



for _fn in (masked_fill, masked_scatter, index_add, index_fill, index_copy, index_put, put):
    inplace_twin(_fn)
