"""gather and the scatter family (scatter, scatter_add, scatter_reduce), take_along_dim,
and the zeros-with-values-placed primitives their gradients are made of."""

from __future__ import annotations

import numpy as np

from .._dims import wrap_dim
from .._tensor import Tensor
from ..backend import xp
from ._core import Primitive, register_method, replayable
from ._out import takes_out
from .creation import full
from .indexing import getitem, inplace_twin
from .shape import clone, expand, reshape
from .unary import where

__all__ = ["gather", "scatter", "scatter_add", "scatter_reduce", "take_along_dim"]


def _dim_index(index, dim: int) -> tuple:
    """The NumPy index that pairs ``index[i0, .., ik]`` with position ``i_dim`` replaced."""
    grids = list(np.ogrid[tuple(slice(n) for n in index.shape)])
    grids[dim] = index
    return tuple(grids)



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


class Gather(Primitive):
    """out[i][j] = x[index[i][j]][j] (for dim 0).  d/dx = scatter_add(zeros, dim, index, grad)."""

    __slots__ = ("dim", "index", "shape")
    formula = "scatter_add(zeros_like(x), dim, index, grad)"

    def forward(ctx, x, dim=0, index=None):
        ctx.dim, ctx.index, ctx.shape = dim, index, x.shape
        if x.ndim == 0 or index.ndim == 0:  # (a 0-d index only pairs with a 0-/1-d x)
            return x.reshape(-1)[index.reshape(-1)].reshape(index.shape)
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
            self_hit = x == out
            src_hit = src == out[idx]
            ties = m.zeros(x.shape, dtype=np.int64)
            m.add.at(ties, idx, src_hit.astype(np.int64))
            # PyTorch counts self's ties also without include_self (giving them no share)
            ties = ties + self_hit
            inv = (1.0 / m.maximum(ties, 1)).astype(dt)
            self_w = self_hit if include_self else ~touched
            ctx.weights = (self_w * inv, inv, src_hit.astype(dt))
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
    x, src, out = ctx.saved
    x0, sz = _raw(x) == 0, _raw(src) == 0
    # Without include_self, x is no factor (its untouched places are handled apart).
    m = xp(x0)
    xz = x0 if ctx.include_self else m.zeros_like(x0)
    nz = xz.astype(np.int64)
    m.add.at(nz, _dim_index(ctx.index, ctx.dim), sz.astype(np.int64))
    return x, src, out, xz, sz, nz, where(x0, 1.0, x), where(sz, 1.0, src)


def _prod_backward(ctx, grad):
    """d out / d factor = the product of the other factors, exact where factors are zero."""
    x, src, out, xz, sz, nz, mx, ms = _prod_parts(ctx)
    dim, index, inc = ctx.dim, ctx.index, ctx.include_self
    if inc:
        masked = ScatterReduce.generic(mx, src, dim=dim, index=index, reduce="prod",
                                       include_self=True)
        gx = grad * where(xz, masked, out / mx)
    else:
        gx = grad * ctx.weights[0]
    zeros_at = Gather.forward(_new_ctx(Gather), nz, dim=dim, index=index)
    single, pair = sz & (zeros_at == 1), sz & (zeros_at == 2)
    masked_src = where(single, 1.0, src)
    masked = ScatterReduce.generic(x, masked_src, dim=dim, index=index, reduce="prod",
                                   include_self=inc)
    gsrc = where(single, Gather.generic(grad * masked, dim=dim, index=index),
                 Gather.generic(grad * out, dim=dim, index=index) / ms)
    if pair.any():
        # a zero factor with one other zero at its target: the product of the others is
        # (product of the nonzero factors) * (the other zero), 0 in value but not in slope
        nonzero = ScatterReduce.generic(mx, ms, dim=dim, index=index, reduce="prod",
                                        include_self=inc)
        zsum = ScatterAddZeros.generic(where(sz, src, 0.0), shape=tuple(out.shape), dim=dim,
                                       index=index)
        if inc:
            zsum = zsum + where(xz, x, 0.0)
        other = Gather.generic(zsum, dim=dim, index=index) - src
        gsrc = where(pair, Gather.generic(grad * nonzero, dim=dim, index=index) * other, gsrc)
    return gx, gsrc


def _prod_jvp(ctx, tx, ts):
    """Sum over factors of (tangent * product of the others), exact at zeros."""
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
    ctx = cls.__new__(cls)
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
    d = wrap_dim(dim, nd, op)
    if not index.size and op != "gather":  # nothing to write: PyTorch checks no more
        return d
    if index.ndim != max(nd, 1) and not (index.ndim == 0 and nd <= 1) and \
            not (nd == 0 and index.ndim <= 1):
        what = "input" if op == "gather" else "self"
        raise RuntimeError(f"Index tensor must have the same number of dimensions as {what} "
                           "tensor")
    _check_src_rank(index, src)
    shape = tuple(x.shape) or (1,)
    ishape = index.shape
    sshape = None if src is None else (tuple(src.shape) or (1,))  # a 0-d src counts as 1-d
    for k in range(index.ndim):
        if (k != d and ishape[k] > shape[k]) or (src is not None and ishape[k] > sshape[k]):
            if op == "gather":
                raise RuntimeError(
                    f"Size does not match at dimension {k} expected index {list(ishape)} to be "
                    f"no larger than self {list(x.shape)} apart from dimension {d}")
            raise RuntimeError(
                f"Expected index {list(ishape)} to be no larger than self {list(x.shape)} apart "
                f"from dimension {d}" + (f" and to be no larger size than src "
                                         f"{list(src.shape)}" if src is not None else ""))
    n = shape[d]
    # No wrapping: a negative index is out of bounds here, as in PyTorch.
    bad = index[(index >= n) | (index < 0)] if index.size else index[:0]
    if bad.size:
        raise RuntimeError(f"index {int(bad.flat[0])} is out of bounds for dimension {d} with "
                           f"size {n}")
    return d


def _check_src_rank(index, src) -> None:
    if src is not None and index.size and max(index.ndim, 1) != max(src.ndim, 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")


def _fit_src(src, index):
    """src cut to index's shape (PyTorch reads only that corner of src)."""
    if tuple(src.shape) == tuple(index.shape):
        return src
    if src.dim() == 0:  # a 0-d src is a 1-element vector (the index was checked to fit)
        src = reshape(src, (1,))
    return getitem(src, tuple(slice(0, n) for n in index.shape))


@register_method("gather")
@takes_out("gather", "exact")
def gather(input, dim, index, *, sparse_grad=False, out=None):
    """out[i][j][k] = input[index[i][j][k]][j][k] for dim 0 (and so on)."""
    idx = _index_array(index, "gather")
    if not idx.size:  # PyTorch checks no more: an empty result of index's shape
        wrap_dim(dim, input.dim(), "gather")
        return reshape(getitem(reshape(input, (-1,)), slice(0, 0)), idx.shape)
    d = _check_dim_index(input, dim, idx, "gather")
    return Gather.generic(input, dim=d, index=replayable(_wrap_negative, idx,
                                                         (input.shape or (1,))[d]))


def _wrap_negative(idx, size):
    """Negative indices counted from the end (through ``replayable``: a captured step's
    computed index is wrapped again at each replay)."""
    return np.where(idx < 0, idx + size, idx) if idx.size else idx


@register_method("take_along_dim")
@takes_out("take_along_dim", "exact")
def take_along_dim(input, indices, dim=None, *, out=None):
    """input's values at ``indices`` along ``dim`` (broadcast), or at flat indices."""
    if dim is None:
        return gather(reshape(input, (-1,)), 0, reshape(indices, (-1,)))
    d = wrap_dim(dim, input.dim(), "take_along_dim")
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
    if idx.ndim == 0:  # a 0-d index into a vector is a 1-element one
        idx = idx.reshape(1)
    return d, (np.where(idx < 0, idx + n, idx) if idx.size else idx)


def _nothing_written(input, src, idx) -> bool:
    """An empty index writes nothing: the result is a copy of input (src's dtype is still
    checked, as in PyTorch)."""
    if idx.size:
        return False
    _same_dtype_src(input, src)
    return True


def _scatter_src(input, src):
    """A value cast to self's dtype (index_put, masked_fill, put, index_fill accept any)."""
    if isinstance(src, Tensor) and src._data.dtype != input._data.dtype:
        return src.to(input.dtype)
    return src


def _same_dtype_src(input, src):
    """scatter, scatter_add and scatter_reduce take src only in self's dtype."""
    if isinstance(src, Tensor) and src._data.dtype != input._data.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    return src


def _on_vector(fn, input, dim, index, src, **kw):
    """A 0-d self scatters like a 1-element vector (index and src flattened too)."""
    wrap_dim(dim, 0, fn.__name__)
    idx = _index_array(index, fn.__name__)
    if not idx.size:
        _nothing_written(input, src, idx)
        return clone(input)
    _check_src_rank(idx, src if isinstance(src, Tensor) else None)
    if isinstance(index, Tensor) and index.dim() > 1:
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    index = reshape(index, (-1,)) if isinstance(index, Tensor) else index
    if isinstance(src, Tensor):
        src = reshape(src, (-1,))
    return reshape(fn(reshape(input, (1,)), 0, index, src, **kw), ())


@register_method("scatter")
def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """input with src's values (or ``value``) written at ``index`` along ``dim``."""
    if src is None:
        src = value
    if reduce is not None:

        if not isinstance(src, Tensor):
            src = full(tuple(np.shape(_index_array(index, "scatter"))), src, dtype=input.dtype)
        red = {"add": "sum", "multiply": "prod"}.get(reduce)
        if red is None:
            raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}")
        return scatter_reduce(input, dim, index, src, red)
    if input.dim() == 0:
        return _on_vector(scatter, input, dim, index, src)
    d, idx = _scatter_args(input, dim, index, src, "scatter")
    if _nothing_written(input, src, idx):
        return clone(input)
    if isinstance(src, Tensor):
        return Scatter.generic(input, _fit_src(_same_dtype_src(input, src), idx), dim=d,
                               index=idx)
    return ScatterValue.generic(input, dim=d, index=idx, value=src)


@register_method("scatter_add")
def scatter_add(input, dim, index, src):
    """input with src's values added at ``index`` along ``dim`` (repeats add up)."""
    if input.dim() == 0:
        return _on_vector(scatter_add, input, dim, index, src)
    d, idx = _scatter_args(input, dim, index, src, "scatter_add")
    if _nothing_written(input, src, idx):
        return clone(input)
    return ScatterAdd.generic(input, _fit_src(_same_dtype_src(input, src), idx), dim=d,
                              index=idx)


@register_method("scatter_reduce")
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """input with src reduced in at ``index``: "sum", "prod", "mean", "amax" or "amin"."""
    if reduce not in _REDUCE:
        raise RuntimeError("reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    if input.dim() == 0:
        return _on_vector(scatter_reduce, input, dim, index, src, reduce=reduce,
                          include_self=include_self)
    d, idx = _scatter_args(input, dim, index, src, "scatter_reduce")
    if _nothing_written(input, src, idx):
        return clone(input)
    return ScatterReduce.generic(input, _fit_src(_same_dtype_src(input, src), idx), dim=d,
                                 index=idx, reduce=reduce, include_self=include_self)



for _fn in (scatter, scatter_add, scatter_reduce):
    inplace_twin(_fn)
