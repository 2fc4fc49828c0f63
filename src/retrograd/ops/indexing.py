"""Indexing: ``x[idx]`` and ``x[idx] = v`` with autograd, for ints, slices (with steps),
None, Ellipsis, integer lists/tensors and boolean masks, and the views select and narrow.

The index_* / masked_* / take / put family lives in ``index_ops``, gather and scatter in
``scatter``; both build on the primitives here."""

from __future__ import annotations

import numpy as np

from .._dims import wrap_dim
from .._tensor import Tensor
from ..autograd.grad_mode import state as _state
from ..backend import xp
from ._core import Primitive, register_method
from ._helpers import int_arg
from .inplace import _has_tangent, bump_version, inplace_apply, inplace_result
from .shape import reshape

__all__ = ["narrow", "select"]

_BASIC = (int, slice, type(None), type(Ellipsis))



def normalize_index(idx):
    """Turn Tensors inside an index into arrays; lists of ints stay advanced indices."""
    if isinstance(idx, tuple):
        return tuple(_one(i) for i in idx)
    return _one(idx)


def _one(i):
    if isinstance(i, Tensor):
        data = i._data
        if data.dtype.kind not in "biu":
            raise IndexError(
                "tensors used as indices must be long, int, byte or bool tensors"
            )
        if data.ndim == 0 and data.dtype.kind in "iu":
            return int(data)  # PyTorch selects with a 0-d integer tensor, like an int
        return data
    if isinstance(i, (list, tuple)) and any(isinstance(e, Tensor) for e in i):
        return np.asarray([e.item() if isinstance(e, Tensor) else e for e in i])
    if isinstance(i, bool):
        return i
    if isinstance(i, np.integer):
        return int(i)
    if isinstance(i, slice) and i.step is not None and int(i.step) <= 0:
        raise ValueError("step must be greater than zero")
    if isinstance(i, float):
        raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                         "Variables are valid indices (got float)")
    return i


def _is_basic(idx) -> bool:
    if isinstance(idx, tuple):
        return all(isinstance(i, _BASIC) and not isinstance(i, bool) for i in idx)
    return isinstance(idx, _BASIC) and not isinstance(idx, bool)


def _ends_with_int(idx) -> bool:
    """Whether PyTorch's last indexing step is a select (named SelectBackward0)."""
    items = idx if isinstance(idx, tuple) else (idx,)
    for i in reversed(items):
        if isinstance(i, int):
            return True
        if isinstance(i, slice) and i != slice(None):
            return False
    return False


def _check_bounds(shape, idx) -> None:
    """PyTorch's IndexError for an out-of-range integer index."""
    items = idx if isinstance(idx, tuple) else (idx,)
    dim = 0
    for i in items:
        if i is None:
            continue
        if i is Ellipsis:
            dim = len(shape) - sum(
                (j.ndim if isinstance(j, np.ndarray) and j.dtype == bool else 1)
                for j in items if j is not None and j is not Ellipsis and not isinstance(j, bool)
            ) + dim
            continue
        if isinstance(i, bool):
            continue
        if isinstance(i, np.ndarray) and i.dtype == bool and i.ndim == 0:
            continue  # a 0-d mask adds a dim of size 0 or 1 and consumes none (x[x > 0])
        if dim >= len(shape):
            if not shape and i is idx and isinstance(i, int):  # x[i] on a 0-d tensor
                raise IndexError(
                    "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                    "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number" if i == 0
                    else f"index {i} is out of bounds for dimension 0 with size 0")
            raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
        if isinstance(i, int):
            n = shape[dim]
            if not -n <= i < n:
                raise IndexError(
                    f"index {i} is out of bounds for dimension {dim} with size {n}"
                )
        elif isinstance(i, (np.ndarray, list)):
            a = np.asarray(i)
            if a.dtype == bool:
                for k in range(a.ndim):
                    if dim + k >= len(shape) or a.shape[k] != shape[dim + k]:
                        raise IndexError(
                            f"The shape of the mask {list(a.shape)} at index {k} does not match "
                            f"the shape of the indexed tensor {list(shape)} at index {dim + k}")
                dim += a.ndim
                continue
            if a.size and a.dtype.kind in "iu":
                n = shape[dim]
                bad = a[(a >= n) | (a < -n)]
                if bad.size:
                    raise IndexError(
                        f"index {int(bad.flat[0])} is out of bounds for dimension {dim} with "
                        f"size {n}")
        dim += 1


class Index(Primitive):
    """x[idx] (advanced indexing copies).  d/dx = grad added into zeros at idx."""

    __slots__ = ("basic", "idx", "shape")
    formula = "index_put(zeros, idx, grad, accumulate=True)"

    def forward(ctx, x, idx=None):
        _check_bounds(x.shape, idx)
        ctx.idx, ctx.shape = idx, x.shape
        ctx.basic = _is_basic(idx)
        if ctx.basic:
            # A trailing Ellipsis makes NumPy return a 0-d view rather than a scalar copy.
            items = idx if isinstance(idx, tuple) else (idx,)
            if not any(i is Ellipsis for i in items):
                return x[(*items, Ellipsis)]
        return x[idx]

    def backward(ctx, grad):
        return IndexBackward.generic(grad, shape=ctx.shape, idx=ctx.idx, basic=ctx.basic)

    def jvp(ctx, tx):
        return getitem(tx, ctx.idx)


class Slice(Index):
    """x[basic idx] (a view).  d/dx = grad placed at idx in zeros."""

    __slots__ = ()
    is_view = True


class Select(Slice):
    """x[..., i, ...] (a view)."""

    __slots__ = ()


class IndexBackward(Primitive):
    """zeros(shape) with grad added at idx.  d/dgrad = its values at idx."""

    __slots__ = ("basic", "idx")
    formula = "grad[idx]"

    def forward(ctx, g, shape=(), idx=None, basic=True):
        ctx.idx, ctx.basic = idx, basic
        out = xp(g).zeros(shape, dtype=g.dtype)
        if basic:
            out[idx] = g
        else:
            xp(g).add.at(out, idx, g)
        return out

    def backward(ctx, grad):
        return getitem(grad, ctx.idx)

    def jvp(ctx, tg):
        return IndexBackward.generic(tg, shape=ctx.out_shape, idx=ctx.idx, basic=ctx.basic)


class IndexPut(Primitive):
    """x with x[idx] = v.  d/dx = grad with idx zeroed, d/dv = grad[idx] (summed to v)."""

    __slots__ = ("idx",)
    formula = "index_put(grad, idx, 0), grad[idx]"

    def forward(ctx, x, v, idx=None):
        ctx.idx = idx
        out = xp(x).array(x, copy=True)
        out[idx] = v
        return out

    def backward(ctx, grad):
        nx, nv = ctx.needs_input_grad
        gx = IndexPut.generic(grad, 0.0, idx=ctx.idx) if nx else None
        gv = getitem(grad, ctx.idx) if nv else None
        return gx, gv

    def jvp(ctx, tx, tv):
        return type(ctx).generic(tx, 0.0 if tv is None else tv, idx=ctx.idx)


class IndexPutAccumulate(Primitive):
    """x with v added at idx (repeats add up).  d/dx = grad, d/dv = grad[idx]."""

    __slots__ = ("idx",)
    _name = "IndexPutBackward0"
    formula = "grad, grad[idx]"

    def forward(ctx, x, v, idx=None):
        ctx.idx = idx
        out = xp(x).array(x, copy=True)
        xp(x).add.at(out, idx, v)
        return out

    def backward(ctx, grad):
        return grad, getitem(grad, ctx.idx)

    def jvp(ctx, tx, tv):
        return type(ctx).generic(tx, 0.0 if tv is None else tv, idx=ctx.idx)



# ---------------------------------------------------------------------- x[idx], x[idx] = v

def getitem(x, idx):
    """``x[idx]``; views for basic indices, copies for advanced ones."""
    if not isinstance(x, Tensor):
        return x[idx]
    if isinstance(idx, Tensor) and x._data.ndim == 0 and (
            idx._data.ndim or idx._data.dtype.kind not in "biu"):
        # PyTorch counts the dims an index tensor consumes before it reads its dtype
        raise IndexError("too many indices for tensor of dimension 0")
    idx = normalize_index(idx)
    if type(idx) is tuple and len(idx) > x._data.ndim:  # only then can it be too many
        _check_count(x._data.ndim, idx)
    if _is_basic(idx):
        if _ends_with_int(idx):
            return Select.apply(x, idx=idx)
        return Slice.apply(x, idx=idx)
    parts = _split_ints(idx)
    if parts is not None:
        return getitem(getitem(x, parts[0]), parts[1])
    _check_bounds(x.shape, idx)
    _no_strings(idx)
    return Index.apply(x, idx=idx)


def _check_count(ndim: int, idx: tuple) -> None:
    """PyTorch counts the dims an index consumes before it checks any bound."""
    n = 0
    for i in idx:
        if isinstance(i, np.ndarray) and i.dtype == bool:
            n += i.ndim  # a mask consumes its dims
        elif i is not None and i is not Ellipsis and not isinstance(i, bool):
            n += 1
    if n > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")


def _no_strings(idx) -> None:
    """A string in an index (once the index count is checked): PyTorch's TypeError from
    making a tensor of it, where NumPy's words would leak."""
    for i in idx if isinstance(idx, tuple) else (idx,):
        if isinstance(i, str) or (isinstance(i, list) and any(isinstance(e, str) for e in i)):
            raise TypeError("new(): invalid data type 'str' (a string is not an index)")


def _split_ints(idx):
    """PyTorch applies integer indices as selects before the advanced ones (NumPy counts
    them as advanced, which moves dims differently): split ``idx`` into that basic first
    step and the advanced rest. None when ``idx`` mixes no ints with advanced indices."""
    items = idx if isinstance(idx, tuple) else (idx,)
    if not any(type(i) is int for i in items):
        return None
    basic, rest = [], []
    for i in items:
        if type(i) is int:
            basic.append(i)
        elif i is None or isinstance(i, slice):
            basic.append(i)
            rest.append(slice(None))
        elif i is Ellipsis:
            basic.append(i)
            rest.append(i)
        elif isinstance(i, bool):
            rest.append(i)
        else:
            a = np.asarray(i)
            basic.extend([slice(None)] * (a.ndim if a.dtype == bool else 1))
            rest.append(i)
    return tuple(basic), tuple(rest)


def _value_for(x: Tensor, idx, value):
    """The value to store, shaped like ``x[idx]`` (PyTorch drops leading size-1 dims)."""
    if isinstance(value, Tensor):
        if value._data.dtype != x._data.dtype:
            value = value.to(x.dtype)
        target = np.empty(x._data.shape, dtype=bool)[idx].shape
        vs = tuple(value.shape)
        if len(vs) > len(target) and all(s == 1 for s in vs[:len(vs) - len(target)]):
            value = reshape(value, vs[len(vs) - len(target):])
    return value


def setitem(x: Tensor, idx, value) -> None:
    """``x[idx] = value``; gradient flows to x's other elements and to value."""
    idx = normalize_index(idx)
    if type(idx) is tuple and len(idx) > x._data.ndim:
        _check_count(x._data.ndim, idx)
    if not _is_basic(idx):
        parts = _split_ints(idx)
        if parts is not None:
            setitem(getitem(x, parts[0]), parts[1], value)
            return
    _check_bounds(x.shape, idx)
    _no_strings(idx)
    value = _value_for(x, idx, value)

    needs = (_state.grad_enabled and (x._requires_grad or (
        isinstance(value, Tensor) and value._requires_grad))) or _has_tangent(x, (value,))
    if not needs:
        v = value._data if isinstance(value, Tensor) else value
        try:
            x._data[idx] = v
        except (ValueError, IndexError) as e:
            raise RuntimeError(f"index_put_(): {e} (tensor shape {list(x.shape)})") from None
        bump_version(x)
        return
    if _is_basic(idx):
        # A basic index is a view: write through it (PyTorch's CopySlices).
        from .tensor_methods import copy_

        copy_(getitem(x, idx), value)
        return
    inplace_apply(IndexPut, x, value, idx=idx)


register_method("__getitem__")(getitem)
register_method("__setitem__")(setitem)



# ---------------------------------------------------------------------- views

@register_method("select")
def select(input, dim, index):
    """The slice at ``index`` along ``dim`` (a view without that dim)."""
    dim = int_arg("select", "dim", dim)
    index = int_arg("select", "index", index)
    if input.dim() == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, input.dim(), "select")
    n = input.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {d}")
    return getitem(input, (slice(None),) * d + (int(index),))


@register_method("narrow")
def narrow(input, dim, start, length):
    """``length`` elements from ``start`` along ``dim`` (a view)."""
    dim = int_arg("narrow", "dim", dim)
    start = int_arg("narrow", "start", start)
    length = int_arg("narrow", "length", length)
    if input.dim() == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, input.dim(), "narrow")
    n = input.shape[d]
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got "
                         f"{start})")
    if start < 0:
        start += n
    if length < 0 or start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return Slice.generic(input, idx=(slice(None),) * d + (slice(start, start + length),))



# ---------------------------------------------------------------------- in-place forms

def inplace_twin(fn):
    """Register the in-place twin ``fn_`` of the out-of-place op ``fn``: same checks, result
    stored in self."""

    def method(self, *args, **kwargs):
        return inplace_result(self, lambda x: fn(x, *args, **kwargs))

    method.__name__ = fn.__name__ + "_"
    return register_method(method.__name__)(method)
