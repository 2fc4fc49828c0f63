"""Reductions: sum, mean, prod, amax/amin, argmax/argmin, logical reductions, and
``sum_to`` (undoing broadcasting). Value-selecting reductions (max/min with a dim, median,
sort, topk, ...) live in ``sorting``, running sums and products in ``cumulative``, norms and
moments in ``norms``.

Tie conventions follow PyTorch: reductions over all elements (``max()``, ``amax``,
``median()``) share the gradient evenly among tied elements; reductions that return
indices send it to the returned index.
"""

from __future__ import annotations

import builtins
from collections import namedtuple

import numpy as np

from .._dims import check_dim_type, wrap_dim
from .._dims import reduce_dims as _dims
from .._dtype import from_numpy_dtype
from .._tensor import Tensor, wrap
from ..backend import xp
from ._core import Primitive, register_method, replayable
from ._helpers import int_arg
from ._out import takes_out, write_out
from .complex import conj
from .unary import where

__all__ = ["all", "amax", "amin", "aminmax", "any", "argmax", "argmin", "count_nonzero", "mean",
           "nanmean", "nansum", "prod", "sum", "sum_to"]


def _result(name, fields=("values", "indices")):
    """A named result tuple that prints like ``torch.return_types.<name>``."""
    cls = namedtuple(name, fields)

    def __repr__(self) -> str:
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
        return f"torch.return_types.{name}(\n{body})"

    cls.__repr__ = __repr__
    cls.__module__ = "torch.return_types"
    return cls


_RESULTS = {"aminmax": _result("aminmax", ("min", "max"))}
_RESULTS.update({n: _result(n) for n in ("max", "min", "median", "nanmedian", "kthvalue", "mode",
                                    "sort", "topk", "cummax", "cummin")})


def _keep_shape(shape: tuple, dims: tuple | None) -> tuple:
    """The shape of a keepdim=True reduction of ``shape`` over ``dims``."""
    if dims is None:
        return (1,) * len(shape)
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def _count(shape: tuple, dims: tuple | None) -> int:
    return int(np.prod(shape if dims is None else [shape[d] for d in dims]))


def expand_back(grad, shape: tuple, dims: tuple | None, keepdim: bool):
    """Broadcast a reduction's gradient back to the input's shape."""
    from .shape import expand, reshape

    if not keepdim:
        grad = reshape(grad, _keep_shape(shape, dims))
    return expand(grad, shape)



class Sum(Primitive):
    """sum over dims.  d/dx = grad broadcast back to x's shape."""

    __slots__ = ("dims", "keepdim", "shape")
    formula = "expand(grad, x.shape)"

    def forward(ctx, x, dim=None, keepdim=False, dtype=None):
        ctx.dims = dims = _dims(dim, x.ndim)
        ctx.keepdim = keepdim
        ctx.shape = x.shape
        if dtype is not None:
            x = x.astype(dtype._np)
        elif x.dtype.kind in "biu":
            x = x.astype(np.int64)
        elif x.dtype == np.float16:
            return xp(x).sum(x, axis=dims, keepdims=keepdim, dtype=np.float32).astype(x.dtype)
        return xp(x).sum(x, axis=dims, keepdims=keepdim)

    def backward(ctx, grad):
        return expand_back(grad, ctx.shape, ctx.dims, ctx.keepdim)

    def jvp(ctx, tx):
        return sum(tx, dim=ctx.dims, keepdim=ctx.keepdim)


class SumDim(Sum):
    __slots__ = ()
    _name = "SumBackward1"


class Mean(Primitive):
    """mean over dims.  d/dx = grad / n broadcast back."""

    __slots__ = ("dims", "keepdim", "n", "shape")
    formula = "expand(grad, x.shape) / n"

    def forward(ctx, x, dim=None, keepdim=False, dtype=None):
        if dtype is not None:
            x = x.astype(dtype._np)
        _need_float(x, "mean(): could not infer output dtype. Input dtype must be either a "
                       "floating point or complex dtype. Got: ")
        ctx.dims = dims = _dims(dim, x.ndim)
        ctx.keepdim = keepdim
        ctx.shape = x.shape
        ctx.n = _count(x.shape, dims)
        with np.errstate(invalid="ignore", divide="ignore"):
            if x.dtype == np.float16:
                return xp(x).mean(x, axis=dims, keepdims=keepdim,
                                  dtype=np.float32).astype(x.dtype)
            return xp(x).mean(x, axis=dims, keepdims=keepdim)

    def backward(ctx, grad):
        return expand_back(grad, ctx.shape, ctx.dims, ctx.keepdim) / ctx.n

    def jvp(ctx, tx):
        return sum(tx, dim=ctx.dims, keepdim=ctx.keepdim) / ctx.n


class MeanDim(Mean):
    __slots__ = ()
    _name = "MeanBackward1"


def _need_float(x, msg: str) -> None:
    if x.dtype.kind not in "fc":
        name = repr(from_numpy_dtype(x.dtype))[6:]
        names = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
                 "uint8": "Byte", "bool": "Bool"}
        raise RuntimeError(msg + names.get(name, name.capitalize()))


class Prod(Primitive):
    """product over all elements or one dim.  d/dx_i = grad * prod_{j != i} x_j (computed
    as out / x_i when no element is zero, else exactly, by products of the others)."""

    __slots__ = ("dims", "keepdim", "shape")
    formula = "grad * conj(prod(others))"

    def forward(ctx, x, dim=None, keepdim=False, dtype=None):
        ctx.dims = dims = _dims(dim, x.ndim)
        ctx.keepdim, ctx.shape = keepdim, x.shape
        if dtype is not None:
            x = x.astype(dtype._np)
        elif x.dtype.kind in "biu":
            x = x.astype(np.int64)
        out = xp(x).prod(x, axis=dims, keepdims=keepdim)
        ctx.save(x, out)
        return out

    def backward(ctx, grad):
        x, out = ctx.saved
        g = expand_back(grad, ctx.shape, ctx.dims, ctx.keepdim)
        # holomorphic: the gradient carries the conjugate derivative (docs/derivatives.md)
        return g * conj(_prod_others(x, out, ctx.dims, ctx.keepdim, ctx.shape))

    def jvp(ctx, tx):
        x, out = ctx.saved
        return sum(tx * _prod_others(x, out, ctx.dims, ctx.keepdim, ctx.shape),
                   dim=ctx.dims, keepdim=ctx.keepdim)


def _prod_others(x, out, dims, keepdim, shape):
    """For each element, the product of the other elements of its reduction slice."""
    from .shape import reshape, unsqueeze

    data = x._data if isinstance(x, Tensor) else x
    if not (data == 0).any():
        if out is None:
            out = prod(x) if dims is None else prod(x, dims[0], keepdim)
        return expand_back(out, shape, dims, keepdim) / x
    # Exact path with zeros: move the reduced axis last, then for each position i take the
    # product over the slice with x_i replaced by 1 (an (n, n) mask per slice).
    d = dims[0] if dims is not None else None
    y = reshape(x, (-1,)) if d is None else _movedim(x, d, -1)
    n = y.shape[-1]
    eye = xp(data).eye(n, dtype=bool)
    others = prod(where(eye, 1.0, unsqueeze(y, -2)), dim=-1)
    return reshape(others, shape) if d is None else _movedim(others, -1, d)


def _empty_extreme(name, x, dim) -> None:
    """max / min of an empty input: no identity, so every reduced dim must be non-empty."""
    dims = () if dim is None else dim if isinstance(dim, (tuple, list)) else (dim,)
    if not dims:
        raise RuntimeError(
            f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
            "Specify the reduction dim with the 'dim' argument.")
    empty = [d for d in (wrap_dim(d, x.ndim, name) for d in dims) if x.shape[d] == 0]
    if empty:
        err = IndexError(f"{name}(): Expected reduction dim {builtins.min(empty)} to have "
                         "non-zero size.")
        err._retrograd = True  # already PyTorch's words: the op wrapper passes it on
        raise err


class Amax(Primitive):
    """max over dims.  d/dx = grad shared evenly among the elements equal to the max."""

    __slots__ = ("dims", "keepdim", "shape")
    formula = "where(x == out, grad / count(x == out), 0)"
    _fn = "max"

    def forward(ctx, x, dim=None, keepdim=False):
        if x.size == 0:  # before _dims: PyTorch reports an empty dim before a repeated one
            _empty_extreme(type(ctx).op.lower().replace("all", ""), x, dim)
        ctx.dims = dims = _dims(dim, x.ndim)
        ctx.keepdim, ctx.shape = keepdim, x.shape
        out = getattr(xp(x), ctx._fn)(x, axis=dims, keepdims=keepdim)
        ctx.save(x, out)
        return out

    def _mask_count(ctx):
        x, out = ctx.saved
        mask = x == expand_back(out, ctx.shape, ctx.dims, ctx.keepdim)
        return mask, sum(mask, dim=ctx.dims, keepdim=ctx.keepdim)

    def backward(ctx, grad):
        mask, count = ctx._mask_count()
        return where(mask, expand_back(grad / count, ctx.shape, ctx.dims, ctx.keepdim), 0)

    def jvp(ctx, tx):
        mask, count = ctx._mask_count()
        return sum(where(mask, tx, 0), dim=ctx.dims, keepdim=ctx.keepdim) / count


class Amin(Amax):
    __slots__ = ()
    _fn = "min"


class MaxAll(Amax):
    __slots__ = ()
    _name = "MaxBackward1"


class MinAll(Amax):
    __slots__ = ()
    _name = "MinBackward1"
    _fn = "min"

class SumToSize(Primitive):
    """sum of a broadcast gradient back to ``shape``.  d/dx = grad expanded to x's shape."""

    __slots__ = ("shape",)
    formula = "expand(grad, x.shape)"

    def forward(ctx, x, shape=()):
        ctx.shape = x.shape
        return _sum_to_array(x, shape)

    def backward(ctx, grad):
        from .shape import expand

        return expand(grad, ctx.shape)

    def jvp(ctx, tx):
        return sum_to(tx, ctx.out_shape)


def _sum_to_array(x, shape):
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and x.shape[i + lead] != 1
    )
    out = x.sum(axis=axes, keepdims=True) if axes else x
    if lead:
        out = out.reshape(shape)
    return out


def sum_to(x, shape):
    """Sum ``x`` (array or Tensor) over the dimensions that broadcasting added to ``shape``."""
    if isinstance(x, Tensor):
        return SumToSize.apply(x, shape=tuple(shape))
    return xp(x).asarray(_sum_to_array(xp(x).asarray(x), tuple(shape)))


def _movedim(x, src: int, dst: int):
    from .shape import permute

    n = x.ndim
    order = list(range(n))
    order.insert(dst % n, order.pop(src % n))
    return permute(x, *order)


def _ndim(x) -> int:
    return x.ndim if hasattr(x, "ndim") else np.ndim(x)


def _all_dims(dims, x) -> tuple:
    return tuple(range(_ndim(x))) if dims is None else dims


# ---------------------------------------------------------------------- public functions

@register_method("sum")
def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum of all elements, or over ``dim`` (an int or a tuple of ints)."""
    if dim is None or (not isinstance(dim, int) and len(dim) == 0):
        if keepdim and dim is not None:
            res = SumDim.generic(input, dim=None, keepdim=True, dtype=dtype)
            return write_out(res, out, "sum", "cast")
        return write_out(Sum.generic(input, dtype=dtype), out, "sum", "cast")
    res = SumDim.generic(input, dim=dim, keepdim=keepdim, dtype=dtype)
    return write_out(res, out, "sum", "cast")


@register_method("mean")
def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean of all elements, or over ``dim``."""
    if dim is None:
        return write_out(Mean.generic(input, dtype=dtype), out, "mean")
    check_dim_type(dim, "mean")  # before the dtype check, as PyTorch's parser
    return write_out(MeanDim.generic(input, dim=dim, keepdim=keepdim, dtype=dtype), out, "mean")


def _isnan(x):
    return x != x


@register_method("nansum")
def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum treating NaN as zero."""

    return sum(where(_isnan(input), 0, input), dim, keepdim, dtype=dtype, out=out)


@register_method("nanmean")
def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean over the non-NaN elements."""

    valid = input == input
    total = sum(where(valid, input, 0), dim, keepdim, dtype=dtype)
    return write_out(total / sum(valid, dim, keepdim), out, "nanmean")


_NO_DIM = object()  # prod(x) without dim: an explicit None is PyTorch's TypeError


@register_method("prod")
def prod(input, dim=_NO_DIM, keepdim=False, *, dtype=None, out=None):
    """Product of all elements, or along the int ``dim``."""
    if dim is _NO_DIM:
        return write_out(Prod.generic(input, dtype=dtype), out, "prod", "cast")
    dim = int_arg("prod", "dim", dim)  # one dim only (a tuple or None: TypeError)
    res = _ProdDim.generic(input, dim=dim, keepdim=keepdim, dtype=dtype)
    return write_out(res, out, "prod", "cast")


class _ProdDim(Prod):
    __slots__ = ()
    _name = "ProdBackward1"


@register_method("amax")
def amax(input, dim=(), keepdim=False, *, out=None):
    """Largest value over ``dim`` (all dims when empty); ties share the gradient."""
    return write_out(Amax.generic(input, dim=dim, keepdim=keepdim), out, "amax")


@register_method("amin")
def amin(input, dim=(), keepdim=False, *, out=None):
    """Smallest value over ``dim`` (all dims when empty); ties share the gradient."""
    return write_out(Amin.generic(input, dim=dim, keepdim=keepdim), out, "amin")


@register_method("aminmax")
@takes_out("aminmax")
def aminmax(input, *, dim=None, keepdim=False, out=None):
    """``(min, max)`` over ``dim`` (all elements when None); ties share the gradient."""
    d = () if dim is None else dim
    return _RESULTS["aminmax"](amin(input, d, keepdim), amax(input, d, keepdim))


def _arg(fn, input, dim, keepdim):
    data = input._data
    if dim is not None:  # the argument's type before the input's dtype, as PyTorch's parser
        int_arg(fn, "dim", dim)
    if data.dtype == np.bool_:
        raise RuntimeError(f"{fn}(): does not support bool input")
    if data.size == 0 and (dim is None or data.ndim == 0
                           or data.shape[wrap_dim(dim, data.ndim, fn)] == 0):
        raise IndexError(f"{fn}(): Expected reduction dim to be specified for "
                         "input.numel() == 0." if dim is None else
                         f"{fn}(): Expected reduction dim {dim} to have non-zero size.")
    if dim is None or data.ndim == 0:
        if dim is not None:
            wrap_dim(dim, 0, fn)
        axis = None
    else:
        axis = wrap_dim(dim, data.ndim, fn)
    return wrap(replayable(_arg_kernel, fn, data, axis, keepdim))


def _arg_kernel(fn, data, axis, keepdim):
    """argmax/argmin on arrays (``axis`` None: of the flattened array), as int64."""
    m = xp(data)
    if axis is None:
        res = getattr(m, fn)(data.reshape(-1))
        res = m.asarray(res).reshape((1,) * data.ndim if keepdim else ())
    else:
        res = getattr(m, fn)(data, axis=axis, keepdims=keepdim)
    return m.asarray(res, dtype=np.int64)


@register_method("argmax")
def argmax(input, dim=None, keepdim=False, *, out=None):
    """Index of the largest element (of the flattened input when ``dim`` is None)."""
    return write_out(_arg("argmax", input, dim, keepdim), out, "argmax", "exact")


@register_method("argmin")
def argmin(input, dim=None, keepdim=False, *, out=None):
    """Index of the smallest element (of the flattened input when ``dim`` is None)."""
    return write_out(_arg("argmin", input, dim, keepdim), out, "argmin", "exact")


def _logical(fn, input, dim, keepdim):
    data = input._data
    return wrap(replayable(_logical_kernel, fn, data, _dims(dim, data.ndim, fn), keepdim))


def _logical_kernel(fn, data, dims, keepdim):
    m = xp(data)
    res = m.asarray(getattr(m, fn)(data, axis=dims, keepdims=keepdim))
    return res.astype(np.uint8 if data.dtype == np.uint8 else np.bool_)


@register_method("all")
def all(input, dim=None, keepdim=False, *, out=None):
    """Whether all elements (over ``dim``) are nonzero."""
    return write_out(_logical("all", input, dim, keepdim), out, "all")


@register_method("any")
def any(input, dim=None, keepdim=False, *, out=None):
    """Whether any element (over ``dim``) is nonzero."""
    return write_out(_logical("any", input, dim, keepdim), out, "any")


@register_method("count_nonzero")
def count_nonzero(input, dim=None):
    """Number of nonzero elements (over ``dim``), as int64."""
    data = input._data
    return wrap(replayable(_count_kernel, data, _dims(dim, data.ndim)))


def _count_kernel(data, dims):
    m = xp(data)
    return m.asarray(m.count_nonzero(data, axis=dims), dtype=np.int64)


