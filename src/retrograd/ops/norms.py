"""Norms and moments: the p-norm primitive behind ``norm`` and ``linalg.vector_norm``,
var/std (and var_mean/std_mean), and logsumexp."""

from __future__ import annotations

import builtins

import numpy as np

from .._dims import check_dim_type
from .._dims import reduce_dims as _dims
from .._dtype import get_default_dtype
from .._tensor import Tensor
from ..backend import xp
from . import linalg
from ._core import Primitive, register_method
from ._out import write_out
from .complex import conj, real, sgn
from .reduction import _all_dims, _count, _need_float, amax, expand_back, mean, sum
from .shape import reshape
from .unary import exp, log, sqrt, where

__all__ = ["logsumexp", "norm", "std", "std_mean", "var", "var_mean", "vector_norm"]



class Norm(Primitive):
    """p-norm over dims, real for complex x.  d/dx (p=2) = grad * x / norm (0 where the norm
    is 0); for complex x the gradient (PyTorch's convention) has sgn(x) = x/|x| for sign(x)."""

    __slots__ = ("dims", "keepdim", "p", "shape")
    _name = "NormBackward1"
    formula = "grad * sgn(x) * |x|**(p-1) / norm**(p-1)"

    def forward(ctx, x, p=2, dim=None, keepdim=False):
        m = xp(x)
        dims = _dims(dim, x.ndim)
        ctx.dims, ctx.keepdim, ctx.shape, ctx.p = dims, keepdim, x.shape, p
        x_in, dtype = x, x.dtype
        if dtype.kind == "f" and dtype.itemsize == 2:
            x = x.astype(np.float32)  # half precision accumulates in float32, as in PyTorch
        if dtype.kind == "c":
            dtype = m.zeros(0, dtype).real.dtype  # the norm of complex values is real
        a = m.abs(x)
        if p == 2:
            out = m.sqrt(m.sum(a * a, axis=dims, keepdims=keepdim))
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
        out = m.asarray(out, dtype=dtype)
        ctx.save(x_in, out)
        return out

    def backward(ctx, grad):
        from .unary import abs

        x, out = ctx.saved
        p, dims, keepdim, shape = ctx.p, ctx.dims, ctx.keepdim, ctx.shape
        g = expand_back(grad, shape, dims, keepdim)
        n = expand_back(out, shape, dims, keepdim)
        if p == 0:
            return g * 0
        if p == 1:
            return g * sgn(x)  # z/|z| for complex x, the sign for real x
        if p in (float("inf"), -float("inf")):
            mask = abs(x) == n
            count = expand_back(sum(mask, dim=dims, keepdim=True), shape, dims, True)
            return where(mask, g * sgn(x) / count, 0)
        safe_n = where(n == 0, 1, n)
        if p == 2:
            return where(n == 0, 0, g * x / safe_n)
        return where(n == 0, 0, g * sgn(x) * abs(x) ** (p - 1) / safe_n ** (p - 1))

    def jvp(ctx, tx):
        out = ctx.saved[1]
        g = Norm.backward(ctx, out * 0 + 1)
        # a real function of complex x: the tangent is Re(conj(gradient) * tx)
        return real(sum(conj(g) * tx, dim=ctx.dims, keepdim=ctx.keepdim))


def _correction(dim, unbiased, correction):
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    if correction is None:
        correction = 1 if unbiased in (True, None) else 0
    return dim, correction


def _variance(input, dim, unbiased, keepdim, correction, op="var"):
    """The variance, in float32 for a float16 input (squares of half values overflow)."""
    dim, c = _correction(dim, unbiased, correction)
    check_dim_type(dim, op)
    _need_float(input._data, "std and var only support floating point and complex dtypes, "
                             "got: ")
    dims = _all_dims(_dims(dim, input.ndim), input)
    n = _count(input.shape, dims)
    x = input.float() if input._data.dtype == np.float16 else input
    d = x - mean(x, dims, keepdim=True)
    # |d|^2, real for complex input (PyTorch's var of complex values is real)
    sq = real(d * conj(d)) if input._data.dtype.kind == "c" else d * d
    with np.errstate(divide="ignore", invalid="ignore"):
        return sum(sq, dims, keepdim) / builtins.max(0, n - c)


def _as_input_dtype(res, input):
    return res.half() if input._data.dtype == np.float16 else res


@register_method("var")
def var(input, dim=None, unbiased=True, keepdim=False, *, correction=None, out=None):
    """Variance over ``dim`` with ``correction`` (Bessel's by default: N - 1)."""
    res = _variance(input, dim, unbiased, keepdim, correction)
    return write_out(_as_input_dtype(res, input), out, "var")


@register_method("std")
def std(input, dim=None, unbiased=True, keepdim=False, *, correction=None, out=None):
    """Standard deviation: ``sqrt(var(...))``."""
    v = _variance(input, dim, unbiased, keepdim, correction, "std")
    # PyTorch's std gradient is 0 (not NaN) where std is 0: mask before the sqrt
    return write_out(_as_input_dtype(sqrt(where(v == 0, 0.0, v)), input), out, "std")


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


@register_method("logsumexp")
def logsumexp(input, dim, keepdim=False, *, out=None):
    """``log(sum(exp(x)))`` over ``dim`` (an int or a sequence of ints, () for all dims),
    computed stably (shifted by the detached max)."""
    if dim is None or not isinstance(dim, (int, np.integer, tuple, list)):
        raise TypeError(f"logsumexp(): argument 'dim' must be tuple of ints, not "
                        f"{type(dim).__name__}")

    if input._data.dtype.kind not in "fc":

        input = input.to(get_default_dtype())
    dims = _all_dims(_dims(dim, input.ndim), input)
    if input._data.size == 0:
        shift = 0.0
    else:
        # the largest real part: a real shift keeps a complex log on its principal branch
        top = input.detach()
        shift = amax(top.real if top.is_complex() else top, dims, keepdim=True)
        shift = where(shift.abs() == float("inf"), 0.0, shift)
    res = log(sum(exp(input - shift), dims, keepdim=True)) + shift
    if not keepdim:
        res = reshape(res, tuple(s for i, s in enumerate(input.shape) if i not in dims))
    return write_out(res, out, "logsumexp")


@register_method("norm")
def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """The p-norm of ``input`` (over ``dim`` if given); 'fro' is the 2-norm, 'nuc' the
    nuclear norm of matrices."""
    check_dim_type(dim, "norm")
    if p == "nuc" or (p == "fro" and dim is not None and not isinstance(dim, int)
                      and len(dim) == 2):

        return write_out(linalg.matrix_norm(input, p, dim if dim is not None else (-2, -1),
                                       keepdim, dtype=dtype), out, "norm")
    if p == "fro" or p is None:
        p = 2
    return write_out(vector_norm(input, p, dim, keepdim, dtype=dtype), out, "norm")


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """``linalg.vector_norm``: the ``ord``-norm of the elements over ``dim``."""
    check_dim_type(dim, "linalg.vector_norm")
    if isinstance(x, Tensor) and x._data.dtype.kind not in "fc":
        raise RuntimeError(
            f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
            f"{repr(x.dtype)[6:].capitalize()}"
        )
    if dtype is not None:
        x = x.to(dtype)
    if isinstance(dim, (list, tuple)) and len(dim) == 0:
        dim = None
    res = Norm.generic(x, p=float(ord), dim=dim, keepdim=keepdim)
    return write_out(res, out, "linalg.vector_norm")
