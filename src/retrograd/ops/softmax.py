"""softmax, log_softmax, softmin and gumbel_softmax: primitives that are numerically stable
(shifted by the max) and whose backward formulas are differentiable."""

from __future__ import annotations

import warnings

import numpy as np

from .._dims import wrap_dim
from ..backend import xp
from ..random import rng
from ._core import Primitive
from ._helpers import int_arg
from ._out import dtype_name
from .reduction import sum
from .unary import exp

__all__ = ["gumbel_softmax", "log_softmax", "softmax", "softmin"]


def _lastdim(x, dim):
    """Work on 0-d inputs as 1-element vectors (PyTorch accepts dim 0 / -1 for them)."""
    wrap_dim(dim, x.ndim)
    return (0 if x.ndim == 0 else wrap_dim(dim, x.ndim)), x.reshape(1) if x.ndim == 0 else x


def _along(ctx, x, dim, kernel):
    """``kernel(m, work, d)`` applied along ``dim`` (float16 computed in float32, an empty
    input returned as is); the result, in x's dtype and shape, is saved and returned."""
    shape = x.shape
    ctx.dim, x = _lastdim(x, dim)
    work = x.astype(np.float32) if x.dtype == np.float16 else x
    if work.size:
        with np.errstate(invalid="ignore", over="ignore"):
            work = kernel(xp(x), work, ctx.dim)
    out = work.astype(x.dtype, copy=False).reshape(shape)
    ctx.save(out)
    return out


def _log_softmax_kernel(m, x, d):
    shift = x - x.max(axis=d, keepdims=True)  # exp never overflows
    return shift - m.log(m.exp(shift).sum(axis=d, keepdims=True))


def _softmax_kernel(m, x, d):
    e = m.exp(x - x.max(axis=d, keepdims=True))  # exp never overflows
    return e / e.sum(axis=d, keepdims=True)


class LogSoftmax(Primitive):
    """x - logsumexp(x, dim).  d/dx = grad - exp(out) * sum(grad, dim)."""

    __slots__ = ("dim",)
    formula = "grad - exp(out) * sum(grad, dim)"

    def forward(ctx, x, dim=-1):
        return _along(ctx, x, dim, _log_softmax_kernel)

    def backward(ctx, grad):
        (out,) = ctx.saved
        if out.ndim == 0:
            return grad * 0
        return grad - exp(out) * sum(grad, ctx.dim, keepdim=True)

    def jvp(ctx, tx):
        (out,) = ctx.saved
        if out.ndim == 0:
            return tx * 0
        return tx - sum(exp(out) * tx, ctx.dim, keepdim=True)


class Softmax(Primitive):
    """exp(x) / sum(exp(x), dim).  d/dx = out * (grad - sum(grad * out, dim))."""

    __slots__ = ("dim",)
    formula = "out * (grad - sum(grad * out, dim))"

    def forward(ctx, x, dim=-1):
        return _along(ctx, x, dim, _softmax_kernel)

    def backward(ctx, grad):
        (out,) = ctx.saved
        if out.ndim == 0:
            return grad * 0
        return out * (grad - sum(grad * out, ctx.dim, keepdim=True))

    def jvp(ctx, tx):
        (out,) = ctx.saved
        if out.ndim == 0:
            return tx * 0
        return out * (tx - sum(tx * out, ctx.dim, keepdim=True))


def _softmax_dim(name, ndim, stacklevel):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def _prep_softmax(name, input, dim, stacklevel, dtype, op=None):
    """The checks in PyTorch's order: dim's type, the cast to ``dtype``, dim's range, then
    the dtype (float or complex), which an empty input skips (it is returned as is)."""
    op = op or name
    if dim is None:
        dim = _softmax_dim(name, input.dim(), stacklevel + 1)
    dim = int_arg(op, "dim", dim)
    if dtype is not None:
        input = input.to(dtype)
    d = wrap_dim(dim, input.dim(), op)
    data = input._data
    if data.dtype.kind not in "fc" and data.size:
        kernel = "lastdim_kernel_impl" if d >= data.ndim - 1 else "kernel_impl"
        raise NotImplementedError(f'"{op}_{kernel}" not implemented for '
                                  f"'{dtype_name(data.dtype)}'")
    return input, dim


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    input, dim = _prep_softmax("softmax", input, dim, _stacklevel, dtype)
    return Softmax.generic(input, dim=dim)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    input = -input  # first, as in PyTorch: a bool input is negation's error
    input, dim = _prep_softmax("softmin", input, dim, _stacklevel, dtype, "softmax")
    return Softmax.generic(input, dim=dim)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """softmax((logits + Gumbel noise) / tau); ``hard`` returns one-hot samples whose
    gradient is the soft sample's (straight-through)."""
    gumbels = -xp(logits._data).log(rng().exponential(size=logits.shape)).astype(
        logits._data.dtype)
    soft = Softmax.generic((logits + gumbels) / tau, dim=dim)
    if not hard:
        return soft
    d = wrap_dim(dim, soft.dim())
    data = soft._data
    hard_values = (data == data.max(axis=d, keepdims=True)).astype(data.dtype)
    first = xp(data).cumsum(hard_values, axis=d) == 1  # one winner per slice on ties
    hard_values = hard_values * first
    return soft - soft.detach() + hard_values


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    input, dim = _prep_softmax("log_softmax", input, dim, _stacklevel, dtype)
    return LogSoftmax.generic(input, dim=dim)


def _torch_softmax(input, dim, dtype=None):
    """``torch.softmax`` / ``Tensor.softmax``: dtype is the third positional argument, and
    ``dim`` is required (no implicit dim, unlike ``F.softmax``)."""
    return softmax(input, int_arg("softmax", "dim", dim), dtype=dtype)


def _torch_log_softmax(input, dim, dtype=None):
    return log_softmax(input, int_arg("log_softmax", "dim", dim), dtype=dtype)
