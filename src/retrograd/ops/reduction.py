"""Reductions: sum, mean, max/min, norm, and ``sum_to`` (undoing broadcasting)."""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .._tensor import Tensor, _wrap_dim
from ..backend import xp
from ._core import Primitive, register_method

__all__ = ["max", "mean", "min", "norm", "sum", "sum_to"]

_max_result = namedtuple("max", ["values", "indices"])
_min_result = namedtuple("min", ["values", "indices"])


def _dims(dim, ndim: int) -> tuple | None:
    """Normalize ``dim`` (None, int, or sequence) to a sorted tuple of non-negative axes."""
    if dim is None:
        return None
    if isinstance(dim, (int, np.integer)):
        return (_wrap_dim(int(dim), ndim),)
    dims = tuple(sorted(_wrap_dim(int(d), ndim) for d in dim))
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"dim {dims} appears multiple times in the list of dims")
    return dims if dims else None


def _keep_shape(shape: tuple, dims: tuple | None) -> tuple:
    """The shape of a keepdim=True reduction of ``shape`` over ``dims``."""
    if dims is None:
        return (1,) * len(shape)
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


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
        if x.dtype.kind not in "fc":
            from .._dtype import from_numpy_dtype

            name = repr(from_numpy_dtype(x.dtype))[6:]
            raise RuntimeError(
                "mean(): could not infer output dtype. Input dtype must be either a floating "
                f"point or complex dtype. Got: {name.capitalize() if name != 'int64' else 'Long'}"
            )
        ctx.dims = dims = _dims(dim, x.ndim)
        ctx.keepdim = keepdim
        ctx.shape = x.shape
        n = x.size if dims is None else int(np.prod([x.shape[d] for d in dims]))
        ctx.n = n
        if x.dtype == np.float16:
            return xp(x).mean(x, axis=dims, keepdims=keepdim, dtype=np.float32).astype(x.dtype)
        return xp(x).mean(x, axis=dims, keepdims=keepdim)

    def backward(ctx, grad):
        return expand_back(grad, ctx.shape, ctx.dims, ctx.keepdim) / ctx.n

    def jvp(ctx, tx):
        return sum(tx, dim=ctx.dims, keepdim=ctx.keepdim) / ctx.n


class MeanDim(Mean):
    __slots__ = ()
    _name = "MeanBackward1"


class MaxAll(Primitive):
    """max of all elements.  d/dx = grad shared evenly among the elements equal to the max."""

    __slots__ = ()
    _name = "MaxBackward1"
    formula = "grad * (x == out) / count(x == out)"

    def forward(ctx, x):
        if x.size == 0:
            raise RuntimeError(
                "max(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        out = xp(x).max(x)
        ctx.save(x, out)
        return out

    def backward(ctx, grad):
        from .unary import where

        x, out = ctx.saved
        mask = x == out
        return where(mask, grad / sum(mask), 0)

    def jvp(ctx, tx):
        x, out = ctx.saved
        mask = x == out
        return sum(tx * mask) / sum(mask)


class MinAll(MaxAll):
    """min of all elements.  d/dx = grad shared evenly among the elements equal to the min."""

    __slots__ = ()
    _name = "MinBackward1"

    def forward(ctx, x):
        if x.size == 0:
            raise RuntimeError(
                "min(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        out = xp(x).min(x)
        ctx.save(x, out)
        return out


class MaxDim(Primitive):
    """(max, argmax) along dim.  d/dx = grad placed at the argmax positions."""

    __slots__ = ("dim", "idx", "keepdim", "shape")
    _name = "MaxBackward0"
    nondiff_outputs = (1,)
    formula = "scatter(zeros, dim, argmax, grad)"
    _reduce = "max"

    def forward(ctx, x, dim=0, keepdim=False):
        m = xp(x)
        d = _wrap_dim(dim, x.ndim)
        if x.ndim == 0:
            ctx.dim, ctx.keepdim, ctx.shape = 0, True, x.shape
            ctx.idx = m.zeros((), np.int64)
            return x.copy(), m.zeros((), np.int64)
        if x.shape[d] == 0:
            raise IndexError(
                f"{ctx._reduce}(): Expected reduction dim {d} to have non-zero size."
            )
        fn = m.argmax if ctx._reduce == "max" else m.argmin
        idx = m.expand_dims(fn(x, axis=d), d)
        values = m.take_along_axis(x, idx, d)
        ctx.dim, ctx.keepdim, ctx.shape = d, keepdim, x.shape
        ctx.idx = idx
        if not keepdim:
            values = values.squeeze(d)
            idx = idx.squeeze(d)
        return values, idx.astype(np.int64)

    def backward(ctx, grad, _grad_idx=None):
        from .indexing import scatter_into_zeros
        from .shape import unsqueeze

        if ctx.shape == ():
            return grad
        if not ctx.keepdim:
            grad = unsqueeze(grad, ctx.dim)
        return scatter_into_zeros(grad, ctx.shape, ctx.dim, ctx.idx)

    def jvp(ctx, tx):
        from .indexing import TakeAlong

        if ctx.shape == ():
            return tx, None
        t = TakeAlong.generic(tx, dim=ctx.dim, index=ctx.idx)
        return (t if ctx.keepdim else t.squeeze(ctx.dim)), None


class MinDim(MaxDim):
    __slots__ = ()
    _name = "MinBackward0"
    _reduce = "min"


class Norm(Primitive):
    """p-norm over dims.  d/dx (p=2) = grad * x / norm (0 where the norm is 0)."""

    __slots__ = ("dims", "keepdim", "p", "shape")
    _name = "NormBackward1"
    formula = "grad * x * |x|**(p-2) / norm**(p-1)"

    def forward(ctx, x, p=2, dim=None, keepdim=False):
        m = xp(x)
        dims = _dims(dim, x.ndim)
        ctx.dims, ctx.keepdim, ctx.shape, ctx.p = dims, keepdim, x.shape, p
        a = m.abs(x)
        if p == 2:
            out = m.sqrt(m.sum(x * x, axis=dims, keepdims=keepdim))
        elif p == float("inf"):
            out = m.max(a, axis=dims, keepdims=keepdim) if a.size else m.zeros((), x.dtype)
        elif p == -float("inf"):
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


# ---------------------------------------------------------------------- public functions

def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum of all elements, or over ``dim`` (an int or a tuple of ints)."""
    if dim is None or (not isinstance(dim, int) and len(dim) == 0):
        if keepdim and dim is not None:
            return SumDim.generic(input, dim=None, keepdim=True, dtype=dtype)
        return Sum.generic(input, dtype=dtype)
    return SumDim.generic(input, dim=dim, keepdim=keepdim, dtype=dtype)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean of all elements, or over ``dim``."""
    if dim is None:
        return Mean.generic(input, dtype=dtype)
    return MeanDim.generic(input, dim=dim, keepdim=keepdim, dtype=dtype)


def max(input, dim=None, keepdim=False, *, out=None):
    """``max(x)``: the largest element; ``max(x, dim)``: ``(values, indices)``;
    ``max(x, other)``: elementwise maximum."""
    if isinstance(dim, Tensor):
        from . import pointwise

        return pointwise.maximum(input, dim)
    if dim is None:
        return MaxAll.generic(input)
    return _max_result(*MaxDim.generic(input, dim=dim, keepdim=keepdim))


def min(input, dim=None, keepdim=False, *, out=None):
    """``min(x)``, ``min(x, dim)`` -> ``(values, indices)``, or ``min(x, other)``."""
    if isinstance(dim, Tensor):
        from . import pointwise

        return pointwise.minimum(input, dim)
    if dim is None:
        return MinAll.generic(input)
    return _min_result(*MinDim.generic(input, dim=dim, keepdim=keepdim))


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """The p-norm of ``input`` (over ``dim`` if given); 'fro' is the 2-norm."""
    if p == "fro" or p is None:
        p = 2
    if p == "nuc":
        from . import linalg

        return linalg.matrix_norm(input, "nuc", dim if dim is not None else (-2, -1), keepdim)
    if isinstance(input, Tensor) and input._data.dtype.kind not in "fc":
        raise RuntimeError(
            f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
            f"{repr(input.dtype)[6:].capitalize()}"
        )
    if dtype is not None:
        input = input.to(dtype)
    return Norm.generic(input, p=float(p), dim=dim, keepdim=keepdim)


for _name, _fn in {"sum": sum, "mean": mean, "max": max, "min": min, "norm": norm}.items():
    register_method(_name)(_fn)
