"""Elementwise math of one tensor: abs/sign, exp/log/sqrt, sin/cos/tanh/sigmoid, floor/trunc
as rows (see ``_table``), and the ops with more to them: relu, clamp and ``where``."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..backend import xp
from ._core import Primitive, register_method
from ._helpers import no_bool, out_, require_self_tensor
from ._table import unary
from .complex import sgn
from .inplace import inplace_apply
from .where import where

__all__ = ["abs", "absolute", "clamp", "clamp_max", "clamp_min", "clip", "cos", "exp", "fix",
           "floor", "log", "relu", "sigmoid", "sign", "sin", "sqrt", "tanh", "trunc", "where"]

def _sign(x):
    if x.dtype == np.bool_:
        return x.copy()
    m = xp(x)
    out = m.sign(x)
    if x.dtype.kind == "f":
        out = m.where(out != out, 0, out).astype(out.dtype, copy=False)  # sign(NaN) is 0
    return out


def _sigmoid(x):
    m = xp(x)
    if x.dtype.kind == "c":  # holomorphic: 1 / (1 + exp(-z)), as PyTorch
        with np.errstate(over="ignore"):
            return 1 / (1 + m.exp(-x))
    # exp of -|x| never overflows; both branches are the same function.
    e = m.exp(-m.abs(x))
    return m.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _rounding(name):
    def f(x):
        return getattr(xp(x), name)(x) if x.dtype.kind == "f" else x.copy()

    return f


def _refuse_bool(name):
    return lambda x: no_bool(name, x)


# ---------------------------------------------------------------------- the rows

def _abs_jvp(ctx, t):
    s = sign(ctx.saved[0])
    return (s.conj() * t).real if ctx.saved[0].dtype.kind == "c" else t * s


abs = absolute = unary("abs", "abs", d=lambda x: sgn(x), floating=False, holomorphic=False,
                       jvp=_abs_jvp,
                       check=_refuse_bool("abs"), aliases=("absolute", "__abs__"),
                       doc="|input|; the gradient at 0 is 0.")
sign = unary("sign", _sign, d=0, floating=False,
             doc="-1, 0 or 1 by the sign of each element (0 for NaN, as PyTorch).")
exp = unary("exp", "exp", d=lambda out: out, doc="e ** input.")
log = unary("log", "log", d=lambda x: 1 / x, nan_safe=True, quiet=True,
            doc="Natural logarithm.")
sqrt = unary("sqrt", "sqrt", d=lambda out: 0.5 / out, nan_safe=True, quiet=True,
             doc="Square root.")
sin = unary("sin", "sin", d=lambda x: cos(x), doc="Sine.")
cos = unary("cos", "cos", d=lambda x: -sin(x), doc="Cosine.")
tanh = unary("tanh", "tanh", d=lambda out: 1 - out * out, doc="Hyperbolic tangent.")
sigmoid = unary("sigmoid", _sigmoid, d=lambda out: out * (1 - out),
                doc="1 / (1 + exp(-input)).")
floor = unary("floor", _rounding("floor"), d=0, floating=False, check=_refuse_bool("floor"),
              doc="The largest integer <= input (integer dtypes unchanged).")
trunc = fix = unary("trunc", _rounding("trunc"), d=0, floating=False,
                    check=_refuse_bool("trunc"), aliases=("fix",),
                    doc="input rounded toward zero (integer dtypes unchanged).")


# ---------------------------------------------------------------------- relu and clamp

from . import _kernels  # noqa: E402  (Relu's kernels: SIMD loops into reused memory)


class Relu(Primitive):
    """max(x, 0).  d/dx = 1 where x > 0, else 0 (also at 0, as PyTorch)."""

    formula = "grad * (out > 0)"

    def forward(ctx, x):
        out = _kernels.relu(x)
        ctx.save(out)
        return out

    def backward(ctx, grad):
        (out,) = ctx.saved
        if type(grad) is np.ndarray and type(out) is np.ndarray:
            # The plain-backward fast path: multiplying by the mask is ~10x faster than
            # np.where. (A NaN gradient where relu is off stays NaN; PyTorch gives 0.)
            return _kernels.relu_grad(grad, out)
        return where(out > 0, grad, 0)

    def jvp(ctx, tx):
        (out,) = ctx.saved
        return where(out > 0, tx, 0)


class Clamp(Primitive):
    """min(max(x, min), max) with number bounds.  d/dx = 1 where min <= x <= max (bounds
    included, as PyTorch), else 0."""

    __slots__ = ("mask",)
    promote = True
    formula = "grad * (min <= x <= max)"
    _name = "ClampBackward1"

    def forward(ctx, x, lo, hi):
        out, ctx.mask = _clamp(x, lo, hi)
        return out

    def backward(ctx, grad):
        return where(ctx.mask, grad, 0), None, None

    def jvp(ctx, tx, tlo, thi):
        return where(ctx.mask, tx, 0)


class ClampMin(Clamp):
    """``clamp_min``: Clamp with only a lower bound."""

    _name = "ClampMinBackward0"


class ClampMax(Clamp):
    """``clamp_max``: Clamp with only an upper bound."""

    _name = "ClampMaxBackward0"


class ClampTensor(Primitive):
    """Clamp with Tensor bounds, differentiable in all three.  d/dx = 1 where
    min <= x <= max; d/dmin = 1 where x < min (and min < max); d/dmax = 1 where x > max (or
    max < min), as PyTorch's clamp_backward_min_max."""

    __slots__ = ("hi_mask", "lo_mask", "mask")
    promote = True
    formula = "grad * (min <= x <= max), grad * (x < min), grad * (x > max)"
    _name = "ClampBackward0"

    def forward(ctx, x, lo, hi):
        out, ctx.mask = _clamp(x, lo, hi)
        if lo is not None and hi is not None:
            ctx.lo_mask = (x < lo) & (lo < hi)
            ctx.hi_mask = (x > hi) | (hi < lo)
        else:
            ctx.lo_mask = None if lo is None else x < lo
            ctx.hi_mask = None if hi is None else x > hi
        return out

    def backward(ctx, grad):
        nx, nlo, nhi = ctx.needs_input_grad
        return (where(ctx.mask, grad, 0) if nx else None,
                where(ctx.lo_mask, grad, 0) if nlo else None,
                where(ctx.hi_mask, grad, 0) if nhi else None)

    def jvp(ctx, tx, tlo, thi):
        out = where(ctx.mask, tx, 0)
        if tlo is not None:
            out = out + where(ctx.lo_mask, tlo, 0)
        if thi is not None:
            out = out + where(ctx.hi_mask, thi, 0)
        return out


class ClampMinTensor(ClampTensor):
    _name = "ClampMinBackward1"


class ClampMaxTensor(ClampTensor):
    _name = "ClampMaxBackward1"


def _clamp(x, lo, hi):
    """The clamped array and the mask where the gradient passes to ``x``."""
    m = xp(x)
    mask = True
    out = x
    if lo is not None:
        mask = x >= lo
        out = m.maximum(out, lo)
    if hi is not None:
        mask = mask & (x <= hi)
        out = m.minimum(out, hi)
    # Where lo > hi every element is hi (as PyTorch): max(x, lo) > hi, so min(., hi) = hi.
    out = m.asarray(out)
    if out.dtype != x.dtype:
        out = out.astype(x.dtype)
    return out, mask


def relu(input):
    """max(input, 0)."""
    if isinstance(input, Tensor):
        if input._data.dtype.kind == "b":
            raise RuntimeError("Boolean inputs not supported for relu")
        return Relu.apply(input)
    return Relu.generic(input)


def _clamp_cls(min, max, scalar_cls, tensor_cls):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return tensor_cls
    return scalar_cls


def clamp(input, min=None, max=None, *, out=None):
    """Limit values to [min, max]; either bound may be None (not both) or a Tensor, and
    Tensor bounds receive gradient where they are the result."""
    cls = _clamp_cls(min, max, Clamp, ClampTensor)
    return out_(cls.generic(input, min, max), out)


def clamp_min(input, min, *, out=None):
    """max(input, min)."""
    require_self_tensor("clamp_min", input, min)
    return out_(_clamp_cls(min, None, ClampMin, ClampMinTensor).generic(input, min, None), out)


def clamp_max(input, max, *, out=None):
    """min(input, max)."""
    require_self_tensor("clamp_max", input, max)
    return out_(_clamp_cls(None, max, ClampMax, ClampMaxTensor).generic(input, None, max), out)


clip = clamp

register_method("relu")(relu)
register_method("relu_")(lambda self: inplace_apply(Relu, self))
register_method("clamp", "clip")(clamp)
register_method("clamp_min")(clamp_min)
register_method("clamp_max")(clamp_max)


@register_method("clamp_", "clip_")
def clamp_(self, min=None, max=None):
    return inplace_apply(_clamp_cls(min, max, Clamp, ClampTensor), self, min, max)


@register_method("clamp_min_")
def clamp_min_(self, min):
    return inplace_apply(_clamp_cls(min, None, ClampMin, ClampMinTensor), self, min, None)


@register_method("clamp_max_")
def clamp_max_(self, max):
    return inplace_apply(_clamp_cls(None, max, ClampMax, ClampMaxTensor), self, None, max)
