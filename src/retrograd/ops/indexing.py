"""Indexing: ``x[idx]`` and ``x[idx] = v`` with autograd, for ints, slices (with steps),
None, Ellipsis, integer lists/tensors and boolean masks; select, narrow, index_select and
the masked_* ops, gather/scatter and the index_* family, take and put."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd.grad_mode import state as _state
from ..backend import xp
from ._core import Primitive, register_method
from .inplace import bump_version, inplace_apply

__all__ = ["gather", "index_add", "index_copy", "index_fill", "index_put", "index_select",
           "masked_fill", "masked_scatter", "masked_select", "narrow", "put", "scatter",
           "scatter_add", "scatter_reduce", "select", "take", "take_along_dim"]

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
        if dim >= len(shape):
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
        from .shape import reshape

        mask = ctx.mask
        n = int(np.prod(ctx.src_shape))
        k = int(mask.sum())
        gx = IndexPut.generic(grad, 0.0, idx=mask)
        flat = IndexBackward.generic(getitem(grad, mask), shape=(n,), idx=slice(0, k),
                                     basic=True)
        return gx, reshape(flat, ctx.src_shape)

    def jvp(ctx, tx, ts):
        return MaskedScatter.generic(tx, ts, mask=ctx.mask)


def scatter_into_zeros(grad, shape, dim, index):
    """zeros(shape) with ``grad`` put at ``index`` along ``dim`` (arrays or Tensors)."""
    return ScatterZeros.generic(grad, shape=shape, dim=dim, index=index)


class ScatterZeros(Primitive):
    """zeros(shape) with grad placed along ``dim`` at ``index``.  d/dgrad = gather."""

    __slots__ = ("dim", "index")
    formula = "take_along_dim(grad, index, dim)"

    def forward(ctx, g, shape=(), dim=0, index=None):
        ctx.dim, ctx.index = dim, index
        m = xp(g)
        out = m.zeros(shape, dtype=g.dtype)
        # add.at, not put_along_axis: repeated indices must sum their gradients.
        m.add.at(out, _dim_index(index, dim % len(shape)), g)
        return out

    def backward(ctx, grad):
        return TakeAlong.generic(grad, dim=ctx.dim, index=ctx.index)

    def jvp(ctx, tg):
        return ScatterZeros.generic(tg, shape=ctx.out_shape, dim=ctx.dim, index=ctx.index)


class TakeAlong(Primitive):
    """x gathered along ``dim`` at ``index``.  d/dx = grad scattered back into zeros."""

    __slots__ = ("dim", "index", "shape")
    formula = "scatter_add(zeros, dim, index, grad)"

    def forward(ctx, x, dim=0, index=None):
        ctx.dim, ctx.index, ctx.shape = dim, index, x.shape
        return xp(x).take_along_axis(x, index, dim)

    def backward(ctx, grad):
        return ScatterZeros.generic(grad, shape=ctx.shape, dim=ctx.dim, index=ctx.index)

    def jvp(ctx, tx):
        return TakeAlong.generic(tx, dim=ctx.dim, index=ctx.index)


# ---------------------------------------------------------------------- x[idx], x[idx] = v

def getitem(x, idx):
    """``x[idx]``; views for basic indices, copies for advanced ones."""
    if not isinstance(x, Tensor):
        return x[idx]
    idx = normalize_index(idx)
    if _is_basic(idx):
        if _ends_with_int(idx):
            return Select.apply(x, idx=idx)
        return Slice.apply(x, idx=idx)
    parts = _split_ints(idx)
    if parts is not None:
        return getitem(getitem(x, parts[0]), parts[1])
    _check_bounds(x.shape, idx)
    return Index.apply(x, idx=idx)


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
            from .shape import reshape

            value = reshape(value, vs[len(vs) - len(target):])
    return value


def setitem(x: Tensor, idx, value) -> None:
    """``x[idx] = value``; gradient flows to x's other elements and to value."""
    idx = normalize_index(idx)
    if not _is_basic(idx):
        parts = _split_ints(idx)
        if parts is not None:
            setitem(getitem(x, parts[0]), parts[1], value)
            return
    _check_bounds(x.shape, idx)
    value = _value_for(x, idx, value)
    from .inplace import _has_tangent

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


# ---------------------------------------------------------------------- gather / scatter

def _dim_index(index, dim: int) -> tuple:
    """The NumPy index that pairs ``index[i0, .., ik]`` with position ``i_dim`` replaced."""
    grids = list(np.ogrid[tuple(slice(n) for n in index.shape)])
    grids[dim] = index
    return tuple(grids)


class Gather(Primitive):
    """out[i][j] = x[index[i][j]][j] (for dim 0).  d/dx = scatter_add(zeros, dim, index, grad)."""

    __slots__ = ("dim", "index", "shape")
    formula = "scatter_add(zeros_like(x), dim, index, grad)"

    def forward(ctx, x, dim=0, index=None):
        ctx.dim, ctx.index, ctx.shape = dim, index, x.shape
        if x.ndim == 0:
            return x.reshape(1)[index.reshape(-1)].reshape(index.shape)
        return x[_dim_index(index, dim)]

    def backward(ctx, grad):
        return ScatterAddZeros.generic(grad, shape=ctx.shape, dim=ctx.dim, index=ctx.index)

    def jvp(ctx, tx):
        return Gather.generic(tx, dim=ctx.dim, index=ctx.index)


class ScatterAddZeros(Primitive):
    """zeros(shape) with grad added at ``index`` along ``dim``.  d/dgrad = gather(grad)."""

    __slots__ = ("dim", "index")
    _name = "ScatterAddBackward0"
    formula = "gather(grad, dim, index)"

    def forward(ctx, g, shape=(), dim=0, index=None):
        ctx.dim, ctx.index = dim, index
        out = xp(g).zeros(shape, dtype=g.dtype)
        if len(shape) == 0:
            xp(g).add.at(out.reshape(1), index.reshape(-1), g.reshape(-1))
        else:
            xp(g).add.at(out, _dim_index(index, dim), g)
        return out

    def backward(ctx, grad):
        return Gather.generic(grad, dim=ctx.dim, index=ctx.index)

    def jvp(ctx, tg):
        return ScatterAddZeros.generic(tg, shape=ctx.out_shape, dim=ctx.dim, index=ctx.index)


_REDUCE = {"sum": ("add", 0), "prod": ("multiply", 1), "mean": ("add", 0),
           "amax": ("maximum", -np.inf), "amin": ("minimum", np.inf)}


class ScatterReduce(Primitive):
    """x with src reduced into it at ``index`` along ``dim``.

    With w_x, w_g, w_s the forward's weights (ties share amax/amin gradients evenly, mean
    divides by the count): d/dx = grad * w_x, d/dsrc = gather(grad * w_g, dim, index) * w_s;
    prod uses out / x and out / src instead.
    """

    __slots__ = ("dim", "include_self", "index", "reduce", "weights")
    formula = "grad * w_x, gather(grad * w_g) * w_s"

    def forward(ctx, x, src, dim=0, index=None, reduce="sum", include_self=True):
        m = xp(x)
        ctx.dim, ctx.index, ctx.reduce, ctx.include_self = dim, index, reduce, include_self
        ufunc_name, identity = _REDUCE[reduce]
        idx = _dim_index(index, dim)
        out = xp(x).array(x, copy=True)
        touched = m.zeros(x.shape, dtype=bool)
        touched[idx] = True
        count = m.zeros(x.shape, dtype=np.int64)
        m.add.at(count, idx, 1)
        if not include_self:
            out[touched] = identity if x.dtype.kind == "f" else _int_identity(reduce, x.dtype)
        getattr(m, ufunc_name).at(out, idx, src)
        n = count + (1 if include_self else 0)
        if reduce == "mean":
            nz = m.maximum(n, 1)
            out = (out / nz).astype(x.dtype) if x.dtype.kind == "f" else out // nz
        dt = x.dtype
        keep = (~touched).astype(dt)
        if reduce in ("sum", "prod"):
            ctx.weights = (m.ones_like(x) if include_self else keep, None, None)
        elif reduce == "mean":
            inv = (1.0 / m.maximum(n, 1)).astype(dt)
            ctx.weights = (inv if include_self else keep, inv, None)
        else:
            self_hit = (x == out) if include_self else ~touched
            src_hit = src == out[idx]
            ties = m.zeros(x.shape, dtype=np.int64)
            m.add.at(ties, idx, src_hit.astype(np.int64))
            ties = ties + self_hit
            inv = (1.0 / m.maximum(ties, 1)).astype(dt)
            ctx.weights = (self_hit * inv, inv, src_hit.astype(dt))
        if reduce == "prod":
            ctx.save(x, src, out)
        return out

    def backward(ctx, grad):
        wx, wg, ws = ctx.weights
        if ctx.reduce == "prod":
            return _prod_backward(ctx, grad)
        g = grad if wg is None else grad * wg
        gsrc = Gather.generic(g, dim=ctx.dim, index=ctx.index)
        return grad * wx, gsrc if ws is None else gsrc * ws

    def jvp(ctx, tx, ts):
        if ctx.reduce == "prod":
            return _prod_jvp(ctx, tx, ts)
        wx, wg, ws = ctx.weights
        s = ts if ws is None else ts * ws
        add = ScatterAddZeros.generic(s, shape=ctx.out_shape, dim=ctx.dim, index=ctx.index)
        return tx * wx + (add if wg is None else add * wg)


def _raw(t):
    return t._data if isinstance(t, Tensor) else t


def _prod_parts(ctx):
    """For scatter_reduce "prod": which factors are zero, how many zeros each target has,
    and the inputs with their zeros replaced by one (so products of the others stay exact)."""
    from .unary import where

    x, src, out = ctx.saved
    x0, sz = _raw(x) == 0, _raw(src) == 0
    # Without include_self, x is no factor (its untouched places are handled apart).
    xz = x0 if ctx.include_self else np.zeros_like(x0)
    nz = xz.astype(np.int64)
    np.add.at(nz, _dim_index(ctx.index, ctx.dim), sz.astype(np.int64))
    return x, src, out, xz, sz, nz, where(x0, 1.0, x), where(sz, 1.0, src)


def _prod_backward(ctx, grad):
    """d out / d factor = the product of the other factors, exact where factors are zero."""
    from .unary import where

    x, src, out, xz, sz, nz, mx, ms = _prod_parts(ctx)
    dim, index, inc = ctx.dim, ctx.index, ctx.include_self
    if inc:
        masked = ScatterReduce.generic(mx, src, dim=dim, index=index, reduce="prod",
                                       include_self=True)
        gx = grad * where(xz, masked, out / mx)
    else:
        gx = grad * ctx.weights[0]
    single = sz & (Gather.forward(_new_ctx(Gather), nz, dim=dim, index=index) == 1)
    masked_src = where(single, 1.0, src)
    masked = ScatterReduce.generic(x, masked_src, dim=dim, index=index, reduce="prod",
                                   include_self=inc)
    gsrc = where(single, Gather.generic(grad * masked, dim=dim, index=index),
                 Gather.generic(grad * out, dim=dim, index=index) / ms)
    return gx, gsrc


def _prod_jvp(ctx, tx, ts):
    """Sum over factors of (tangent * product of the others), exact at zeros."""
    from .unary import where

    _, _, _, xz, sz, nz, mx, ms = _prod_parts(ctx)
    dim, index, inc = ctx.dim, ctx.index, ctx.include_self
    keep = 1.0 if inc else ctx.weights[0]
    nonzero_prod = ScatterReduce.generic(mx, ms, dim=dim, index=index, reduce="prod",
                                         include_self=inc)
    shape = ctx.out_shape
    rel = where(xz, 0.0, tx / mx) * keep + ScatterAddZeros.generic(
        where(sz, 0.0, ts / ms), shape=shape, dim=dim, index=index)
    at_zero = where(xz, tx, 0.0) + ScatterAddZeros.generic(
        where(sz, ts, 0.0), shape=shape, dim=dim, index=index)
    out_t = where(nz == 0, nonzero_prod * rel, where(nz == 1, nonzero_prod * at_zero, 0.0))
    if not inc:  # untouched places are x itself
        out_t = where(ctx.weights[0].astype(bool), tx, out_t)
    return out_t


def _new_ctx(cls):
    ctx = object.__new__(cls)
    ctx.saved = ()
    return ctx


def _int_identity(reduce, dtype):
    info = np.iinfo(dtype) if dtype.kind in "iu" else None
    if reduce == "amax":
        return info.min if info else False
    if reduce == "amin":
        return info.max if info else True
    return 1 if reduce == "prod" else 0


class Scatter(Primitive):
    """x with src written at ``index`` along ``dim``.

    d/dx = grad with those places zeroed; d/dsrc = gather(grad, dim, index).
    """

    __slots__ = ("dim", "index")
    formula = "grad.scatter(dim, index, 0), grad.gather(dim, index)"

    def forward(ctx, x, src, dim=0, index=None):
        ctx.dim, ctx.index = dim, index
        out = xp(x).array(x, copy=True)
        out[_dim_index(index, dim)] = src
        return out

    def backward(ctx, grad):
        gx = ScatterValue.generic(grad, dim=ctx.dim, index=ctx.index, value=0)
        return gx, Gather.generic(grad, dim=ctx.dim, index=ctx.index)

    def jvp(ctx, tx, ts):
        return Scatter.generic(tx, ts, dim=ctx.dim, index=ctx.index)


class ScatterValue(Primitive):
    """x with ``value`` written at ``index`` along ``dim``.  d/dx = grad with them zeroed."""

    __slots__ = ("dim", "index", "value")
    _name = "ScatterBackward1"
    formula = "grad.scatter(dim, index, 0)"

    def forward(ctx, x, dim=0, index=None, value=0):
        ctx.dim, ctx.index = dim, index
        out = xp(x).array(x, copy=True)
        out[_dim_index(index, dim)] = value
        return out

    def backward(ctx, grad):
        return ScatterValue.generic(grad, dim=ctx.dim, index=ctx.index, value=0)

    def jvp(ctx, tx):
        return ScatterValue.generic(tx, dim=ctx.dim, index=ctx.index, value=0)


class ScatterAdd(Primitive):
    """x with src added at ``index`` along ``dim``.  d/dx = grad, d/dsrc = gather(grad)."""

    __slots__ = ("dim", "index")
    formula = "grad, grad.gather(dim, index)"

    def forward(ctx, x, src, dim=0, index=None):
        ctx.dim, ctx.index = dim, index
        out = xp(x).array(x, copy=True)
        xp(x).add.at(out, _dim_index(index, dim), src)
        return out

    def backward(ctx, grad):
        return grad, Gather.generic(grad, dim=ctx.dim, index=ctx.index)

    def jvp(ctx, tx, ts):
        return ScatterAdd.generic(tx, ts, dim=ctx.dim, index=ctx.index)


# ---------------------------------------------------------------------- public functions

def _wrap(dim, nd, op=""):
    from .._tensor import _wrap_dim

    return _wrap_dim(dim, nd, op)


def _index_array(index, op: str):
    if not isinstance(index, Tensor):
        index = np.asarray(index)
        if index.dtype.kind not in "iu":
            index = index.astype(np.int64)
        return index
    if index._data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int64 for index")
    return index._data


def _check_dim_index(x, dim, index, op, src=None):
    """PyTorch's checks for gather/scatter: index rank, sizes and bounds."""
    nd = x.dim()
    d = _wrap(dim, nd)
    if index.ndim != max(nd, 1) and not (index.ndim == 0 and nd <= 1) and \
            not (nd == 0 and index.ndim <= 1):
        what = "input" if op == "gather" else "self"
        raise RuntimeError(f"Index tensor must have the same number of dimensions as {what} "
                           "tensor")
    shape = tuple(x.shape) or (1,)
    ishape = index.shape
    for k in range(index.ndim):
        if (k != d and ishape[k] > shape[k]) or (src is not None and ishape[k] > src.shape[k]):
            if op == "gather":
                raise RuntimeError(
                    f"Size does not match at dimension {k} expected index {list(ishape)} to be "
                    f"no larger than self {list(x.shape)} apart from dimension {d}")
            raise RuntimeError(
                f"Expected index {list(ishape)} to be no larger than self {list(x.shape)} apart "
                f"from dimension {d}" + (f" and to be no larger size than src "
                                         f"{list(src.shape)}" if src is not None else ""))
    n = shape[d]
    bad = index[(index >= n) | (index < -n)] if index.size else index[:0]
    if bad.size:
        raise RuntimeError(f"index {int(bad.flat[0])} is out of bounds for dimension {d} with "
                           f"size {n}")
    return d


def _fit_src(src, index):
    """src cut to index's shape (PyTorch reads only that corner of src)."""
    if tuple(src.shape) == tuple(index.shape):
        return src
    return getitem(src, tuple(slice(0, n) for n in index.shape))


@register_method("gather")
def gather(input, dim, index, *, sparse_grad=False, out=None):
    """out[i][j][k] = input[index[i][j][k]][j][k] for dim 0 (and so on)."""
    idx = _index_array(index, "gather")
    d = _check_dim_index(input, dim, idx, "gather")
    return Gather.generic(input, dim=d, index=np.where(idx < 0, idx + (input.shape or (1,))[d],
                                                       idx) if idx.size else idx)


@register_method("take_along_dim")
def take_along_dim(input, indices, dim=None, *, out=None):
    """input's values at ``indices`` along ``dim`` (broadcast), or at flat indices."""
    from .shape import expand, reshape

    if dim is None:
        return gather(reshape(input, (-1,)), 0, reshape(indices, (-1,)))
    d = _wrap(dim, input.dim())
    if input.dim() != indices.dim():
        raise RuntimeError("torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {input.dim()} dimensions for input, "
                           f"and {indices.dim()} dimensions for indices")
    s_in, s_ix = list(input.shape), list(indices.shape)
    s_in[d] = s_ix[d] = 1
    b = list(np.broadcast_shapes(tuple(s_in), tuple(s_ix)))
    bi, bx = list(b), list(b)
    bi[d], bx[d] = input.shape[d], indices.shape[d]
    if tuple(bi) != tuple(input.shape):
        input = expand(input, tuple(bi))
    if tuple(bx) != tuple(indices.shape):
        indices = expand(indices, tuple(bx))
    return gather(input, d, indices)


def _scatter_args(input, dim, index, src, op):
    idx = _index_array(index, op)
    d = _check_dim_index(input, dim, idx, op, src if isinstance(src, Tensor) else None)
    n = (input.shape or (1,))[d]
    return d, (np.where(idx < 0, idx + n, idx) if idx.size else idx)


def _scatter_src(input, src):
    if isinstance(src, Tensor) and src._data.dtype != input._data.dtype:
        return src.to(input.dtype)
    return src


@register_method("scatter")
def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """input with src's values (or ``value``) written at ``index`` along ``dim``."""
    if src is None:
        src = value
    if reduce is not None:
        from .creation import full

        if not isinstance(src, Tensor):
            src = full(tuple(np.shape(_index_array(index, "scatter"))), src, dtype=input.dtype)
        red = {"add": "sum", "multiply": "prod"}.get(reduce)
        if red is None:
            raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}")
        return scatter_reduce(input, dim, index, src, red)
    d, idx = _scatter_args(input, dim, index, src, "scatter")
    if isinstance(src, Tensor):
        return Scatter.generic(input, _fit_src(_scatter_src(input, src), idx), dim=d,
                               index=idx)
    return ScatterValue.generic(input, dim=d, index=idx, value=src)


@register_method("scatter_add")
def scatter_add(input, dim, index, src):
    """input with src's values added at ``index`` along ``dim`` (repeats add up)."""
    d, idx = _scatter_args(input, dim, index, src, "scatter_add")
    return ScatterAdd.generic(input, _fit_src(_scatter_src(input, src), idx), dim=d, index=idx)


@register_method("scatter_reduce")
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """input with src reduced in at ``index``: "sum", "prod", "mean", "amax" or "amin"."""
    if reduce not in _REDUCE:
        raise RuntimeError("reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    d, idx = _scatter_args(input, dim, index, src, "scatter_reduce")
    return ScatterReduce.generic(input, _fit_src(_scatter_src(input, src), idx), dim=d,
                                 index=idx, reduce=reduce, include_self=include_self)


@register_method("select")
def select(input, dim, index):
    """The slice at ``index`` along ``dim`` (a view without that dim)."""
    d = _wrap(dim, input.dim())
    n = input.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {d}")
    return getitem(input, (slice(None),) * d + (int(index),))


@register_method("narrow")
def narrow(input, dim, start, length):
    """``length`` elements from ``start`` along ``dim`` (a view)."""
    d = _wrap(dim, input.dim())
    n = input.shape[d]
    start = int(start)
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got "
                         f"{start})")
    if start < 0:
        start += n
    if length < 0 or start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return Slice.generic(input, idx=(slice(None),) * d + (slice(start, start + length),))


def _vector_index(index, n, op):
    idx = _index_array(index, op)
    if idx.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector")
    idx = idx.reshape(-1)
    if idx.size and ((idx >= n) | (idx < -n)).any():
        bad = int(idx[(idx >= n) | (idx < -n)][0])
        if op == "index_select":
            raise IndexError("index out of range in self")
        raise IndexError(f"index {bad} is out of bounds for dimension 0 with size {n}")
    return idx


@register_method("index_select")
def index_select(input, dim, index):
    """The slices at ``index`` (1-d) along ``dim``, copied."""
    if input.dim() == 0:
        from .shape import reshape

        return reshape(index_select(reshape(input, (1,)), 0, index), ())
    d = _wrap(dim, input.dim())
    idx = _vector_index(index, input.shape[d], "index_select")
    return IndexSelect.generic(input, idx=(slice(None),) * d + (idx,))


def _index_source(input, dim, index, source, op):
    d = _wrap(dim, input.dim())
    idx = _vector_index(index, (input.shape or (1,))[d], op)
    if isinstance(source, Tensor):
        if source.dim() and source.shape[d] != idx.size:
            if op == "index_copy":
                raise IndexError(f"index_copy_(): Number of indices ({idx.size}) should be equal "
                                 f"to source.size(dim) ({source.shape[d]})")
            raise RuntimeError(f"{op}_(): Number of indices ({idx.size}) should be equal to "
                               f"source.size(dim): ({source.shape[d]}), for dim: {d}")
        source = _scatter_src(input, source)
    return (slice(None),) * d + (idx,), source


@register_method("index_add")
def index_add(input, dim, index, source, *, alpha=1):
    """input with ``alpha * source`` added at ``index`` along ``dim``."""
    idx, source = _index_source(input, dim, index, source, "index_add")
    return IndexAdd.generic(input, source if alpha == 1 else source * alpha, idx=idx)


@register_method("index_copy")
def index_copy(input, dim, index, source):
    idx, source = _index_source(input, dim, index, source, "index_copy")
    return IndexCopy.generic(input, source, idx=idx)


@register_method("index_fill")
def index_fill(input, dim, index, value):
    if isinstance(value, Tensor) and value.dim() != 0:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.dim()} dimension(s).")
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
def take(input, index):
    """input's elements at flat (row-major) ``index``; the result has index's shape."""
    idx = _flat_index(input, index, "take")
    if input.dim() == 0:
        from .shape import reshape

        input = reshape(input, (1,))
    return Take.generic(input, idx=idx)


@register_method("put")
def put(input, index, source, accumulate=False):
    """input with ``source`` written (or added) at flat ``index``."""
    if index.numel() != source.numel():
        raise IndexError(f"put_(): Expected source and index to have the same number of "
                         f"elements, but got source.numel() = {source.numel()}, index.numel() "
                         f"= {index.numel()}")
    from .shape import reshape

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
    from .shape import expand

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
    return input, np.broadcast_to(m, full)


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
def masked_select(input, mask):
    """The elements where ``mask`` holds (broadcast together), as a 1-d tensor."""
    input, m = _broadcast_mask(input, mask, "masked_select")
    return MaskedSelect.generic(input, idx=m)


@register_method("masked_fill")
def masked_fill(input, mask, value):
    """input with ``value`` where ``mask`` holds."""
    if isinstance(value, Tensor) and value.dim() != 0:
        raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.dim()} dimension(s).")
    input, m = _broadcast_mask(input, mask, "masked_fill")
    return MaskedFill.generic(input, _scatter_src(input, value), idx=m)


@register_method("masked_scatter")
def masked_scatter(input, mask, source):
    """input with the masked places filled, in order, by source's elements."""
    input, m = _broadcast_mask(input, mask, "masked_scatter")
    if source.numel() < int(m.sum()):
        raise RuntimeError("Number of elements of source < number of ones in mask")
    return MaskedScatter.generic(input, _scatter_src(input, source), mask=m)


# ---------------------------------------------------------------------- in-place forms

def _inplace(fn):
    """The in-place twin of the out-of-place op ``fn``: same checks, result stored in self."""

    def method(self, *args, **kwargs):
        from .inplace import inplace_result

        return inplace_result(self, lambda x: fn(x, *args, **kwargs))

    method.__name__ = fn.__name__ + "_"
    return register_method(method.__name__)(method)


for _fn in (masked_fill, masked_scatter, scatter, scatter_add, scatter_reduce, index_add,
            index_fill, index_copy, index_put, put):
    _inplace(_fn)
