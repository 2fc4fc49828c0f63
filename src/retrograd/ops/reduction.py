"""Reductions: sum, mean, prod, max/min/amax/amin, var/std, norm, logsumexp, cumulative ops,
value-selecting reductions (median, kthvalue, mode, sort, topk), logical reductions, and
``sum_to`` (undoing broadcasting).

Tie conventions follow PyTorch: reductions over all elements (``max()``, ``amax``,
``median()``) share the gradient evenly among tied elements; reductions that return
indices send it to the returned index.
"""

from __future__ import annotations

import builtins
from collections import namedtuple

import numpy as np

from .._tensor import Tensor, _wrap_dim, wrap
from ..backend import xp
from ._core import Primitive, register_method
from .indexing import Gather, ScatterAddZeros

__all__ = ["all", "amax", "amin", "aminmax", "any", "argmax", "argmin", "argsort", "count_nonzero",
           "cummax", "cummin", "cumprod", "cumsum", "kthvalue", "logsumexp", "max", "mean",
           "median", "min", "mode", "msort", "nanmean", "nanmedian", "nansum", "norm", "prod",
           "sort", "std", "std_mean", "sum", "sum_to", "topk", "var", "var_mean"]


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


def _dims(dim, ndim: int) -> tuple | None:
    """Normalize ``dim`` (None, int, or sequence) to a sorted tuple of non-negative axes."""
    if dim is None:
        return None
    if isinstance(dim, (int, np.integer)):
        dim = (dim,)
    dims = tuple(sorted(_wrap_dim(int(d), ndim) for d in dim))
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"dim {dims[0]} appears multiple times in the list of dims")
    # a 0-d tensor accepts dim 0 / -1; reducing it over "all" of its no dims is the same
    return dims if dims and ndim else None


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


def _out(result, out):
    from .arithmetic import _out as write

    return write(result, out)


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
        from .._dtype import from_numpy_dtype

        name = repr(from_numpy_dtype(x.dtype))[6:]
        names = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
                 "uint8": "Byte", "bool": "Bool"}
        raise RuntimeError(msg + names.get(name, name.capitalize()))


class Prod(Primitive):
    """product over all elements or one dim.  d/dx_i = grad * prod_{j != i} x_j (computed
    as out / x_i when no element is zero, else exactly, by products of the others)."""

    __slots__ = ("dims", "keepdim", "shape")
    formula = "grad * prod(others)"

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
        return g * _prod_others(x, out, ctx.dims, ctx.keepdim, ctx.shape)

    def jvp(ctx, tx):
        x, out = ctx.saved
        return sum(tx * _prod_others(x, out, ctx.dims, ctx.keepdim, ctx.shape),
                   dim=ctx.dims, keepdim=ctx.keepdim)


def _prod_others(x, out, dims, keepdim, shape):
    """For each element, the product of the other elements of its reduction slice."""
    from .shape import reshape, unsqueeze
    from .unary import where

    data = x._data if isinstance(x, Tensor) else x
    if not (data == 0).any():
        if out is None:
            out = prod(x, None if dims is None else dims[0], keepdim)
        return expand_back(out, shape, dims, keepdim) / x
    # Exact path with zeros: move the reduced axis last, then for each position i take the
    # product over the slice with x_i replaced by 1 (an (n, n) mask per slice).
    d = dims[0] if dims is not None else None
    y = reshape(x, (-1,)) if d is None else _movedim(x, d, -1)
    n = y.shape[-1]
    eye = xp(data).eye(n, dtype=bool)
    others = prod(where(eye, 1.0, unsqueeze(y, -2)), dim=-1)
    return reshape(others, shape) if d is None else _movedim(others, -1, d)


class Amax(Primitive):
    """max over dims.  d/dx = grad shared evenly among the elements equal to the max."""

    __slots__ = ("dims", "keepdim", "shape")
    formula = "where(x == out, grad / count(x == out), 0)"
    _fn = "max"

    def forward(ctx, x, dim=None, keepdim=False):
        ctx.dims = dims = _dims(dim, x.ndim)
        ctx.keepdim, ctx.shape = keepdim, x.shape
        if x.size == 0 and (dims is None or builtins.any(x.shape[d] == 0 for d in dims)):
            name = type(ctx).__name__.lower().replace("all", "")
            if dims is None:
                raise RuntimeError(
                    f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                    "Specify the reduction dim with the 'dim' argument.")
            raise IndexError(f"{name}(): Expected reduction dim {dims[0]} to have non-zero "
                             "size.")
        out = getattr(xp(x), ctx._fn)(x, axis=dims, keepdims=keepdim)
        ctx.save(x, out)
        return out

    def _mask_count(ctx):
        x, out = ctx.saved
        mask = x == expand_back(out, ctx.shape, ctx.dims, ctx.keepdim)
        return mask, sum(mask, dim=ctx.dims, keepdim=ctx.keepdim)

    def backward(ctx, grad):
        from .unary import where

        mask, count = ctx._mask_count()
        return where(mask, expand_back(grad / count, ctx.shape, ctx.dims, ctx.keepdim), 0)

    def jvp(ctx, tx):
        from .unary import where

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


class MedianAll(Amax):
    """median of all elements (the lower one for an even count).  d/dx = grad shared among
    the elements equal to it."""

    __slots__ = ()
    _name = "MedianBackward0"

    def forward(ctx, x, dim=None, keepdim=False, nan=False):
        ctx.dims, ctx.keepdim, ctx.shape = None, False, x.shape
        if x.size == 0:
            out = xp(x).asarray(np.nan, dtype=x.dtype)
        else:
            flat = xp(x).sort(x.reshape(-1))
            n = flat.size - (int(xp(x).isnan(flat).sum()) if nan else 0)
            out = flat[(n - 1) // 2] if (n > 0 or not nan) else flat[0]
            out = xp(x).asarray(out)
        ctx.save(x, out)
        return out


# ------------------------------------------------------------ value-selecting reductions

class MaxDim(Primitive):
    """(max, argmax) along dim.  d/dx = grad placed at the returned indices."""

    __slots__ = ("dim", "idx", "keepdim", "shape")
    _name = "MaxBackward0"
    nondiff_outputs = (1,)
    formula = "scatter_add(zeros, dim, indices, grad)"
    reduces = True

    def select(ctx, m, x, d, **kw):
        """Indices (keepdim-shaped along ``d``) of the selected values."""
        return m.expand_dims(m.argmax(x, axis=d), d)

    def forward(ctx, x, dim=0, keepdim=False, **kw):
        m = xp(x)
        d = _wrap_dim(dim, x.ndim)
        name = ctx._name[:-9].lower()
        if x.ndim == 0:
            ctx.dim, ctx.keepdim, ctx.shape = 0, True, x.shape
            ctx.idx = m.zeros((), np.int64)
            if kw.get("k", 1) not in (0, 1) or (kw.get("k") == 0 and name == "kthvalue"):
                raise RuntimeError(f"{name}(): selected number k out of range for dimension 0")
            if kw.get("k") == 0:
                ctx.idx = m.zeros((0,), np.int64)
                return x.reshape(1)[:0], ctx.idx
            return x.copy(), m.zeros((), np.int64)
        if x.shape[d] == 0 and ctx.reduces:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
        idx = ctx.select(m, x, d, **kw).astype(np.int64)
        values = m.take_along_axis(x, idx, d)
        ctx.dim, ctx.keepdim, ctx.shape, ctx.idx = d, keepdim or not ctx.reduces, x.shape, idx
        if not ctx.keepdim:
            values, idx = values.squeeze(d), idx.squeeze(d)
        return values, idx

    def backward(ctx, grad, _grad_idx=None):
        from .shape import unsqueeze

        if ctx.shape == ():
            return sum(grad) if ctx.idx.ndim else grad
        if not ctx.keepdim:
            grad = unsqueeze(grad, ctx.dim)
        return ScatterAddZeros.generic(grad, shape=ctx.shape, dim=ctx.dim, index=ctx.idx)

    def jvp(ctx, tx):
        if ctx.shape == ():
            return (tx if not ctx.idx.ndim else tx.reshape(1)[:0]), None
        t = Gather.generic(tx, dim=ctx.dim, index=ctx.idx)
        return (t if ctx.keepdim else t.squeeze(ctx.dim)), None


class MinDim(MaxDim):
    __slots__ = ()
    _name = "MinBackward0"

    def select(ctx, m, x, d, **kw):
        return m.expand_dims(m.argmin(x, axis=d), d)


def _nth(m, x, d, k):
    """Index of the k-th smallest (0-based) along d; NaN sorts last like PyTorch."""
    order = m.argsort(x, axis=d, kind="stable")
    return m.take(order, [k], axis=d)


class MedianDim(MaxDim):
    __slots__ = ()
    _name = "MedianBackward1"

    def select(ctx, m, x, d, nan=False):
        if nan:
            valid = (~m.isnan(x)).sum(axis=d, keepdims=True)
            order = m.argsort(x, axis=d, kind="stable")
            pos = m.maximum(valid - 1, 0) // 2
            return m.take_along_axis(order, pos, d)
        # PyTorch's median.dim propagates NaN: pick a NaN when the slice holds one.
        idx = _nth(m, x, d, (x.shape[d] - 1) // 2)
        has_nan = m.isnan(x).any(axis=d, keepdims=True)
        return m.where(has_nan, m.expand_dims(m.argmax(m.isnan(x), axis=d), d), idx)


class NanmedianDim(MedianDim):
    __slots__ = ()
    _name = "NanmedianBackward1"


class Kthvalue(MaxDim):
    __slots__ = ()

    def select(ctx, m, x, d, k=1):
        if not 1 <= k <= x.shape[d]:
            raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
        return _nth(m, x, d, k - 1)


class Mode(MaxDim):
    __slots__ = ()

    def select(ctx, m, x, d):
        xm = m.moveaxis(x, d, -1)
        flat = xm.reshape(-1, xm.shape[-1])
        idx = m.empty(flat.shape[0], np.int64)
        for r, row in enumerate(flat):
            _, inv, counts = np.unique(row, return_inverse=True, return_counts=True)
            best = int(np.argmax(counts))  # smallest value among the most frequent
            idx[r] = np.nonzero(inv.reshape(-1) == best)[0][-1]
        return m.expand_dims(idx.reshape(xm.shape[:-1]), d)


class Sort(MaxDim):
    __slots__ = ()
    reduces = False

    def select(ctx, m, x, d, descending=False):
        if descending:
            # a stable sort of the negation keeps ties in their original order
            key = ~x if x.dtype.kind == "b" else m.where(m.isnan(x), -m.inf, -x) \
                if x.dtype.kind in "fc" else -x
            return m.argsort(key, axis=d, kind="stable")
        return m.argsort(x, axis=d, kind="stable")


class Topk(MaxDim):
    __slots__ = ()
    reduces = False

    def select(ctx, m, x, d, k=1, largest=True):
        if not 0 <= k <= x.shape[d]:
            raise RuntimeError(f"selected index k out of range for dimension {d}")
        order = Sort.select(ctx, m, x, d, descending=largest)
        return m.take(order, range(k), axis=d)


class Cummax(MaxDim):
    __slots__ = ()
    reduces = False
    _cmp = "greater_equal"

    def select(ctx, m, x, d):
        xm = m.moveaxis(x, d, 0)
        idx = m.zeros(xm.shape, np.int64)
        best = xm[0].copy() if xm.shape[0] else None
        cmp = getattr(m, ctx._cmp)
        for i in range(1, xm.shape[0]):
            take = cmp(xm[i], best) | m.isnan(xm[i])
            take &= ~m.isnan(best)
            idx[i] = m.where(take, i, idx[i - 1])
            best = m.where(take, xm[i], best)
        return m.moveaxis(idx, 0, d)


class Cummin(Cummax):
    __slots__ = ()
    _cmp = "less_equal"


# ------------------------------------------------------------------ cumulative sum/product

class Cumsum(Primitive):
    """running sum along dim.  d/dx = reversed running sum of grad."""

    __slots__ = ("dim",)
    formula = "sum(grad) - cumsum(grad) + grad"

    def forward(ctx, x, dim=0, dtype=None):
        ctx.dim = d = _wrap_dim(dim, x.ndim)
        if dtype is not None:
            x = x.astype(dtype._np)
        elif x.dtype.kind in "biu":
            x = x.astype(np.int64)
        if x.ndim == 0:
            return x.copy()
        return xp(x).cumsum(x, axis=d, dtype=x.dtype)

    def backward(ctx, grad):
        if grad.ndim == 0:
            return grad
        return sum(grad, dim=ctx.dim, keepdim=True) - cumsum(grad, ctx.dim) + grad

    def jvp(ctx, tx):
        return cumsum(tx, ctx.dim)


class Cumprod(Primitive):
    """running product along dim (inputs without zeros).  d/dx = revcumsum(grad*out) / x."""

    __slots__ = ("dim",)
    formula = "revcumsum(grad * out) / x"

    def forward(ctx, x, dim=0, dtype=None):
        ctx.dim = d = _wrap_dim(dim, x.ndim)
        if dtype is not None:
            x = x.astype(dtype._np)
        elif x.dtype.kind in "biu":
            x = x.astype(np.int64)
        out = x.copy() if x.ndim == 0 else xp(x).cumprod(x, axis=d, dtype=x.dtype)
        ctx.save(x, out)
        return out

    def backward(ctx, grad):
        x, out = ctx.saved
        return Cumsum.backward(ctx, grad * out) / x

    def jvp(ctx, tx):
        from .shape import unsqueeze
        from .unary import where

        x, out = ctx.saved
        data = x._data if isinstance(x, Tensor) else x
        if not x.ndim:
            return tx
        if not (data == 0).any():
            return cumsum(tx / x, ctx.dim) * out
        # zeros: d out_j = sum_{i <= j} t_i prod_{k <= j, k != i} x_k
        lower = xp(data).tril(xp(data).ones((x.shape[ctx.dim],) * 2, dtype=bool))
        rows = where(lower, unsqueeze(_movedim(x, ctx.dim, -1), -2), 1)
        others = _prod_others(rows, None, (rows.ndim - 1,), False, rows.shape)
        t = where(lower, unsqueeze(_movedim(tx, ctx.dim, -1), -2), 0)
        return _movedim(sum(t * others, -1), -1, ctx.dim)


# ------------------------------------------------------------------------------ norm

class Norm(Primitive):
    """p-norm over dims.  d/dx (p=2) = grad * x / norm (0 where the norm is 0)."""

    __slots__ = ("dims", "keepdim", "p", "shape")
    _name = "NormBackward1"
    formula = "grad * sign(x) * |x|**(p-1) / norm**(p-1)"

    def forward(ctx, x, p=2, dim=None, keepdim=False):
        m = xp(x)
        dims = _dims(dim, x.ndim)
        ctx.dims, ctx.keepdim, ctx.shape, ctx.p = dims, keepdim, x.shape, p
        a = m.abs(x)
        if p == 2:
            out = m.sqrt(m.sum(x * x, axis=dims, keepdims=keepdim))
        elif p == float("inf"):
            out = m.max(a, axis=dims, keepdims=keepdim, initial=0)
        elif p == -float("inf"):
            if a.size == 0:
                raise RuntimeError("linalg.vector_norm cannot compute the -inf norm on an "
                                   "empty tensor because the operation does not have an "
                                   "identity")
            out = m.min(a, axis=dims, keepdims=keepdim)
        elif p == 0:
            out = m.sum(a != 0, axis=dims, keepdims=keepdim).astype(x.dtype)
        elif p == 1:
            out = m.sum(a, axis=dims, keepdims=keepdim)
        else:
            out = m.sum(a**p, axis=dims, keepdims=keepdim) ** (1.0 / p)
        out = m.asarray(out, dtype=x.dtype)
        ctx.save(x, out)
        return out

    def backward(ctx, grad):
        from .unary import abs, sign, where

        x, out = ctx.saved
        p, dims, keepdim, shape = ctx.p, ctx.dims, ctx.keepdim, ctx.shape
        g = expand_back(grad, shape, dims, keepdim)
        n = expand_back(out, shape, dims, keepdim)
        if p == 0:
            return g * 0
        if p == 1:
            return g * sign(x)
        if p in (float("inf"), -float("inf")):
            mask = abs(x) == n
            count = expand_back(sum(mask, dim=dims, keepdim=True), shape, dims, True)
            return where(mask, g * sign(x) / count, 0)
        safe_n = where(n == 0, 1, n)
        if p == 2:
            return where(n == 0, 0, g * x / safe_n)
        return where(n == 0, 0, g * sign(x) * abs(x) ** (p - 1) / safe_n ** (p - 1))

    def jvp(ctx, tx):
        out = ctx.saved[1]
        g = Norm.backward(ctx, out * 0 + 1)
        return sum(g * tx, dim=ctx.dims, keepdim=ctx.keepdim)


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

def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum of all elements, or over ``dim`` (an int or a tuple of ints)."""
    if dim is None or (not isinstance(dim, int) and len(dim) == 0):
        if keepdim and dim is not None:
            return _out(SumDim.generic(input, dim=None, keepdim=True, dtype=dtype), out)
        return _out(Sum.generic(input, dtype=dtype), out)
    return _out(SumDim.generic(input, dim=dim, keepdim=keepdim, dtype=dtype), out)


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean of all elements, or over ``dim``."""
    if dim is None:
        return _out(Mean.generic(input, dtype=dtype), out)
    return _out(MeanDim.generic(input, dim=dim, keepdim=keepdim, dtype=dtype), out)


def _isnan(x):
    return x != x


def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum treating NaN as zero."""
    from .unary import where

    return sum(where(_isnan(input), 0, input), dim, keepdim, dtype=dtype, out=out)


def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean over the non-NaN elements."""
    from .unary import where

    valid = input == input
    total = sum(where(valid, input, 0), dim, keepdim, dtype=dtype)
    return _out(total / sum(valid, dim, keepdim), out)


def prod(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Product of all elements, or along the int ``dim``."""
    if dim is None:
        return _out(Prod.generic(input, dtype=dtype), out)
    return _out(_ProdDim.generic(input, dim=dim, keepdim=keepdim, dtype=dtype), out)


class _ProdDim(Prod):
    __slots__ = ()
    _name = "ProdBackward1"


def max(input, dim=None, keepdim=False, *, out=None):
    """``max(x)``: the largest element; ``max(x, dim)``: ``(values, indices)``;
    ``max(x, other)``: elementwise maximum."""
    if isinstance(dim, Tensor):
        from . import pointwise

        return pointwise.maximum(input, dim)
    if dim is None:
        return MaxAll.generic(input)
    return _select(MaxDim, "max", input, dim=dim, keepdim=keepdim)


def min(input, dim=None, keepdim=False, *, out=None):
    """``min(x)``, ``min(x, dim)`` -> ``(values, indices)``, or ``min(x, other)``."""
    if isinstance(dim, Tensor):
        from . import pointwise

        return pointwise.minimum(input, dim)
    if dim is None:
        return MinAll.generic(input)
    return _select(MinDim, "min", input, dim=dim, keepdim=keepdim)


def _select(cls, name, input, **attrs):
    return _RESULTS[name](*cls.generic(input, **attrs))


def amax(input, dim=(), keepdim=False, *, out=None):
    """Largest value over ``dim`` (all dims when empty); ties share the gradient."""
    return _out(Amax.generic(input, dim=dim, keepdim=keepdim), out)


def amin(input, dim=(), keepdim=False, *, out=None):
    """Smallest value over ``dim`` (all dims when empty); ties share the gradient."""
    return _out(Amin.generic(input, dim=dim, keepdim=keepdim), out)


def aminmax(input, *, dim=None, keepdim=False, out=None):
    """``(min, max)`` over ``dim`` (all elements when None); ties share the gradient."""
    d = () if dim is None else dim
    return _RESULTS["aminmax"](amin(input, d, keepdim), amax(input, d, keepdim))


def _arg(fn, input, dim, keepdim):
    data = input._data
    if data.size == 0 and (dim is None or data.ndim == 0 or data.shape[_wrap_dim(dim, data.ndim)]
                           == 0):
        raise IndexError(f"{fn}(): Expected reduction dim to be specified for "
                         "input.numel() == 0." if dim is None else
                         f"{fn}(): Expected reduction dim {dim} to have non-zero size.")
    m = xp(data)
    if dim is None or data.ndim == 0:
        if dim is not None:
            _wrap_dim(dim, 0)
        res = getattr(m, fn)(data.reshape(-1))
        res = m.asarray(res).reshape((1,) * data.ndim if keepdim else ())
    else:
        res = getattr(m, fn)(data, axis=_wrap_dim(dim, data.ndim), keepdims=keepdim)
    return wrap(m.asarray(res, dtype=np.int64))


def argmax(input, dim=None, keepdim=False, *, out=None):
    """Index of the largest element (of the flattened input when ``dim`` is None)."""
    return _out(_arg("argmax", input, dim, keepdim), out)


def argmin(input, dim=None, keepdim=False, *, out=None):
    """Index of the smallest element (of the flattened input when ``dim`` is None)."""
    return _out(_arg("argmin", input, dim, keepdim), out)


def _correction(dim, unbiased, correction):
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    if correction is None:
        correction = 1 if unbiased in (True, None) else 0
    return dim, correction


def var(input, dim=None, unbiased=True, keepdim=False, *, correction=None, out=None):
    """Variance over ``dim`` with ``correction`` (Bessel's by default: N - 1)."""
    dim, c = _correction(dim, unbiased, correction)
    _need_float(input._data, "std and var only support floating point and complex dtypes, "
                             "got: ")
    dims = _all_dims(_dims(dim, input.ndim), input)
    n = _count(input.shape, dims)
    d = input - mean(input, dims, keepdim=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _out(sum(d * d, dims, keepdim) / builtins.max(0, n - c), out)


def std(input, dim=None, unbiased=True, keepdim=False, *, correction=None, out=None):
    """Standard deviation: ``sqrt(var(...))``."""
    from .unary import sqrt, where

    v = var(input, dim, unbiased, keepdim, correction=correction)
    # PyTorch's std gradient is 0 (not NaN) where std is 0: mask before the sqrt
    return _out(sqrt(where(v == 0, 0.0, v)), out)


def var_mean(input, dim=None, unbiased=True, keepdim=False, *, correction=None):
    """``(var, mean)`` over ``dim``."""
    dim, c = _correction(dim, unbiased, correction)
    dims = _all_dims(_dims(dim, input.ndim), input)
    return var(input, dims, keepdim=keepdim, correction=c), mean(input, dims, keepdim)


def std_mean(input, dim=None, unbiased=True, keepdim=False, *, correction=None):
    """``(std, mean)`` over ``dim``."""
    dim, c = _correction(dim, unbiased, correction)
    dims = _all_dims(_dims(dim, input.ndim), input)
    return std(input, dims, keepdim=keepdim, correction=c), mean(input, dims, keepdim)


def logsumexp(input, dim=(), keepdim=False, *, out=None):
    """``log(sum(exp(x)))`` over ``dim``, computed stably (shifted by the detached max)."""
    from .shape import reshape
    from .unary import exp, log, where

    if input._data.dtype.kind not in "fc":
        from .._dtype import get_default_dtype

        input = input.to(get_default_dtype())
    dims = _all_dims(_dims(dim, input.ndim), input)
    if input._data.size == 0:
        shift = 0.0
    else:
        shift = amax(input.detach(), dims, keepdim=True)
        shift = where(shift.abs() == float("inf"), 0.0, shift)
    res = log(sum(exp(input - shift), dims, keepdim=True)) + shift
    if not keepdim:
        res = reshape(res, tuple(s for i, s in enumerate(input.shape) if i not in dims))
    return _out(res, out)


def cumsum(input, dim, *, dtype=None, out=None):
    """Running sum along ``dim``."""
    return _out(Cumsum.generic(input, dim=dim, dtype=dtype), out)


def cumprod(input, dim, *, dtype=None, out=None):
    """Running product along ``dim``; exact gradients also where elements are zero."""
    from .shape import unsqueeze
    from .unary import where

    data = input._data if isinstance(input, Tensor) else input
    if not isinstance(input, Tensor) or not input.requires_grad or data.ndim == 0 or \
            not (data == 0).any():
        return _out(Cumprod.generic(input, dim=dim, dtype=dtype), out)
    # With zeros: out_j = prod_i where(i <= j, x_i, 1) through Prod's exact gradient.
    d = _wrap_dim(dim, data.ndim)
    x = _movedim(input if dtype is None else input.to(dtype), d, -1)
    n = x.shape[-1]
    lower = xp(data).tril(xp(data).ones((n, n), dtype=bool))
    res = prod(where(lower, unsqueeze(x, -2), 1), dim=-1)
    return _out(_movedim(res, -1, d), out)


def cummax(input, dim, *, out=None):
    """``(values, indices)`` of the running maximum along ``dim`` (ties: latest index)."""
    return _select(Cummax, "cummax", input, dim=dim)


def cummin(input, dim, *, out=None):
    """``(values, indices)`` of the running minimum along ``dim`` (ties: latest index)."""
    return _select(Cummin, "cummin", input, dim=dim)


class NanmedianAll(MedianAll):
    __slots__ = ()
    _name = "NanmedianBackward0"


def median(input, dim=None, keepdim=False, *, out=None):
    """The median (the lower of the two middle values for an even count); with ``dim``,
    ``(values, indices)``."""
    if dim is None:
        return MedianAll.generic(input)
    return _select(MedianDim, "median", input, dim=dim, keepdim=keepdim)


def nanmedian(input, dim=None, keepdim=False, *, out=None):
    """Median ignoring NaN."""
    if dim is None:
        return NanmedianAll.generic(input, nan=True)
    return _select(NanmedianDim, "nanmedian", input, dim=dim, keepdim=keepdim, nan=True)


def mode(input, dim=-1, keepdim=False, *, out=None):
    """``(values, indices)``: the most frequent value along ``dim`` (the smallest among
    equally frequent ones) and its last index."""
    return _select(Mode, "mode", input, dim=dim, keepdim=keepdim)


def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """``(values, indices)``: the k-th smallest element along ``dim``."""
    return _select(Kthvalue, "kthvalue", input, dim=dim, keepdim=keepdim, k=int(k))


def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """``(values, indices)`` of the ``k`` largest (or smallest) elements along ``dim``."""
    return _select(Topk, "topk", input, dim=dim, k=int(k), largest=largest)


def sort(input, dim=-1, descending=False, stable=False, *, out=None):
    """``(values, indices)`` sorted along ``dim``; always stable."""
    return _select(Sort, "sort", input, dim=dim, descending=descending)


def argsort(input, dim=-1, descending=False, stable=False):
    """Indices that sort ``input`` along ``dim`` (stable)."""
    return sort(input.detach(), dim, descending).indices


def msort(input, *, out=None):
    """Sorted along the first dimension."""
    return sort(input, 0).values


def _logical(fn, input, dim, keepdim):
    data = input._data
    m = xp(data)
    dims = _dims(dim, data.ndim)
    res = m.asarray(getattr(m, fn)(data, axis=dims, keepdims=keepdim))
    return wrap(res.astype(np.uint8 if data.dtype == np.uint8 else np.bool_))


def all(input, dim=None, keepdim=False, *, out=None):
    """Whether all elements (over ``dim``) are nonzero."""
    return _out(_logical("all", input, dim, keepdim), out)


def any(input, dim=None, keepdim=False, *, out=None):
    """Whether any element (over ``dim``) is nonzero."""
    return _out(_logical("any", input, dim, keepdim), out)


def count_nonzero(input, dim=None):
    """Number of nonzero elements (over ``dim``), as int64."""
    data = input._data
    m = xp(data)
    return wrap(m.asarray(m.count_nonzero(data, axis=_dims(dim, data.ndim)), dtype=np.int64))


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """The p-norm of ``input`` (over ``dim`` if given); 'fro' is the 2-norm, 'nuc' the
    nuclear norm of matrices."""
    if p == "nuc" or (p == "fro" and dim is not None and not isinstance(dim, int)
                      and len(dim) == 2):
        from . import linalg

        return _out(linalg.matrix_norm(input, p, dim if dim is not None else (-2, -1),
                                       keepdim, dtype=dtype), out)
    if p == "fro" or p is None:
        p = 2
    return _out(vector_norm(input, p, dim, keepdim, dtype=dtype), out)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """``linalg.vector_norm``: the ``ord``-norm of the elements over ``dim``."""
    if isinstance(x, Tensor) and x._data.dtype.kind not in "fc":
        raise RuntimeError(
            f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
            f"{repr(x.dtype)[6:].capitalize()}"
        )
    if dtype is not None:
        x = x.to(dtype)
    if isinstance(dim, (list, tuple)) and len(dim) == 0:
        dim = None
    return _out(Norm.generic(x, p=float(ord), dim=dim, keepdim=keepdim), out)


for _name, _fn in {"sum": sum, "mean": mean, "max": max, "min": min, "norm": norm,
                   "nansum": nansum, "nanmean": nanmean, "prod": prod, "amax": amax,
                   "amin": amin, "aminmax": aminmax, "argmax": argmax, "argmin": argmin,
                   "var": var, "std": std,
                   "logsumexp": logsumexp, "cumsum": cumsum, "cumprod": cumprod,
                   "cummax": cummax, "cummin": cummin, "median": median,
                   "nanmedian": nanmedian, "mode": mode, "kthvalue": kthvalue, "topk": topk,
                   "sort": sort, "argsort": argsort, "msort": msort, "all": all, "any": any,
                   "count_nonzero": count_nonzero}.items():
    register_method(_name)(_fn)


def _inplace_via_copy(fn):
    def method(self, *args, **kwargs):
        # the op may save its input for backward: give it a copy that copy_ leaves alone
        return self.copy_(fn(self.clone(), *args, **kwargs))

    method.__name__ = fn.__name__ + "_"
    method.__doc__ = f"In-place ``{fn.__name__}``."
    return method


for _fn in (cumsum, cumprod):
    register_method(_fn.__name__ + "_")(_inplace_via_copy(_fn))
