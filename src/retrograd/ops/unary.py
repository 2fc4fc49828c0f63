"""Elementwise math of one tensor (and ``where``/``clamp``), forward and derivative together."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..backend import xp
from ._core import Primitive, register_method
from .inplace import inplace_apply

__all__ = ["abs", "clamp", "clip", "cos", "exp", "floor", "log", "relu", "sigmoid", "sign",
           "sin", "sqrt", "tanh", "trunc", "where"]


class Abs(Primitive):
    """|x|.  d/dx = sign(x) (0 at 0)."""

    formula = "grad * sign(x)"

    def forward(ctx, x):
        ctx.save(x)
        return xp(x).abs(x)

    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * sign(x)

    def jvp(ctx, tx):
        (x,) = ctx.saved
        return tx * sign(x)


class Sign(Primitive):
    """sign(x).  d/dx = 0."""

    formula = "0"

    def forward(ctx, x):
        ctx.shape = x.shape
        return xp(x).sign(x)

    def backward(ctx, grad):
        return grad * 0

    def jvp(ctx, tx):
        return tx * 0


class Exp(Primitive):
    """e**x.  d/dx = e**x, so the output is kept."""

    formula = "grad * out"

    def forward(ctx, x):
        out = xp(x).exp(x)
        ctx.save(out)
        return out

    def backward(ctx, grad):
        (out,) = ctx.saved
        return grad * out

    def jvp(ctx, tx):
        (out,) = ctx.saved
        return tx * out


class Log(Primitive):
    """log(x).  d/dx = 1 / x."""

    formula = "grad / x"

    def forward(ctx, x):
        ctx.save(x)
        return xp(x).log(x)

    def backward(ctx, grad):
        (x,) = ctx.saved
        return safe_div(grad, x)

    def jvp(ctx, tx):
        (x,) = ctx.saved
        return tx / x


class Sqrt(Primitive):
    """sqrt(x).  d/dx = 1 / (2 sqrt(x))."""

    formula = "grad / (2 * out)"

    def forward(ctx, x):
        out = xp(x).sqrt(x)
        ctx.save(out)
        return out

    def backward(ctx, grad):
        (out,) = ctx.saved
        return safe_div(grad, out * 2)

    def jvp(ctx, tx):
        (out,) = ctx.saved
        return tx / (out * 2)


class Sin(Primitive):
    """sin(x).  d/dx = cos(x)."""

    formula = "grad * cos(x)"

    def forward(ctx, x):
        ctx.save(x)
        return xp(x).sin(x)

    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * cos(x)

    def jvp(ctx, tx):
        (x,) = ctx.saved
        return tx * cos(x)


class Cos(Primitive):
    """cos(x).  d/dx = -sin(x)."""

    formula = "-grad * sin(x)"

    def forward(ctx, x):
        ctx.save(x)
        return xp(x).cos(x)

    def backward(ctx, grad):
        (x,) = ctx.saved
        return -grad * sin(x)

    def jvp(ctx, tx):
        (x,) = ctx.saved
        return -tx * sin(x)


class Tanh(Primitive):
    """tanh(x).  d/dx = 1 - tanh(x)**2."""

    formula = "grad * (1 - out**2)"

    def forward(ctx, x):
        out = xp(x).tanh(x)
        ctx.save(out)
        return out

    def backward(ctx, grad):
        (out,) = ctx.saved
        return grad * (1 - out * out)

    def jvp(ctx, tx):
        (out,) = ctx.saved
        return tx * (1 - out * out)


class Sigmoid(Primitive):
    """1 / (1 + e**-x).  d/dx = s * (1 - s)."""

    formula = "grad * out * (1 - out)"

    def forward(ctx, x):
        m = xp(x)
        # exp of -|x| never overflows; both branches are the same function.
        e = m.exp(-m.abs(x))
        out = m.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        ctx.save(out)
        return out

    def backward(ctx, grad):
        (out,) = ctx.saved
        return grad * out * (1 - out)

    def jvp(ctx, tx):
        (out,) = ctx.saved
        return tx * out * (1 - out)


class Relu(Primitive):
    """max(x, 0).  d/dx = 1 where x > 0, else 0 (also at 0, as PyTorch)."""

    formula = "grad * (out > 0)"

    def forward(ctx, x):
        out = xp(x).maximum(x, 0)
        ctx.save(out)
        return out

    def backward(ctx, grad):
        (out,) = ctx.saved
        return where(out > 0, grad, 0)

    def jvp(ctx, tx):
        (out,) = ctx.saved
        return where(out > 0, tx, 0)


class Clamp(Primitive):
    """min(max(x, lo), hi).  d/dx = 1 where lo <= x <= hi (bounds included), else 0."""

    __slots__ = ("mask",)
    formula = "grad * (lo <= x <= hi)"

    def forward(ctx, x, lo=None, hi=None):
        m = xp(x)
        lo_v = lo._data if isinstance(lo, Tensor) else lo
        hi_v = hi._data if isinstance(hi, Tensor) else hi
        mask = True
        out = x
        if lo_v is not None:
            mask = x >= lo_v
            out = m.maximum(out, lo_v)
        if hi_v is not None:
            mask = mask & (x <= hi_v)
            out = m.minimum(out, hi_v)
        if lo_v is not None and hi_v is not None:
            # PyTorch: when lo > hi every element is hi.
            out = m.where(m.asarray(lo_v) > hi_v, hi_v, out)
        ctx.mask = mask
        return m.asarray(out, dtype=np.result_type(x, *(
            v for v in (lo_v, hi_v) if isinstance(v, np.ndarray))))

    def backward(ctx, grad):
        return where(ctx.mask, grad, 0)

    def jvp(ctx, tx):
        return where(ctx.mask, tx, 0)


class Where(Primitive):
    """cond ? x : y.  d/dx = grad where cond, d/dy = grad elsewhere (NaN-safe: the other
    branch gets an exact zero)."""

    promote = False
    formula = "where(c, grad, 0), where(c, 0, grad)"

    def forward(ctx, cond, x, y):
        ctx.save(cond)
        m = xp(cond)
        if not isinstance(x, np.ndarray) or not isinstance(y, np.ndarray):
            out = m.where(cond, x, y)
            like = x if isinstance(x, np.ndarray) else y
            if isinstance(like, np.ndarray) and out.dtype != like.dtype and \
                    like.dtype.kind == "f" and out.dtype.kind == "f":
                out = out.astype(like.dtype)
            return out
        return m.where(cond, x, y)

    def backward(ctx, grad):
        (cond,) = ctx.saved
        _, nx, ny = ctx.needs_input_grad
        return None, where(cond, grad, 0) if nx else None, where(cond, 0, grad) if ny else None

    def jvp(ctx, tc, tx, ty):
        (cond,) = ctx.saved
        if tx is None:
            tx = 0.0
        if ty is None:
            ty = 0.0
        return where(cond, tx, ty)


class Floor(Primitive):
    """floor(x).  d/dx = 0."""

    formula = "0"

    def forward(ctx, x):
        return xp(x).floor(x) if x.dtype.kind == "f" else x.copy()

    def backward(ctx, grad):
        return grad * 0

    def jvp(ctx, tx):
        return tx * 0


class Trunc(Primitive):
    """trunc(x).  d/dx = 0."""

    formula = "0"

    def forward(ctx, x):
        return xp(x).trunc(x) if x.dtype.kind == "f" else x.copy()

    def backward(ctx, grad):
        return grad * 0

    def jvp(ctx, tx):
        return tx * 0


def safe_div(grad, denom):
    """grad / denom, but exactly 0 where grad is exactly 0 (NaN-safe masking)."""
    q = grad / denom
    if isinstance(q, Tensor):
        return where(grad == 0, 0, q)
    with np.errstate(divide="ignore", invalid="ignore"):
        return xp(q).where(grad == 0, 0, q).astype(q.dtype, copy=False)


# ---------------------------------------------------------------------- public functions

def abs(input, *, out=None):
    return Abs.generic(input)


def sign(input, *, out=None):
    return Sign.generic(input)


def exp(input, *, out=None):
    return Exp.generic(input)


def log(input, *, out=None):
    return Log.generic(input)


def sqrt(input, *, out=None):
    return Sqrt.generic(input)


def sin(input, *, out=None):
    return Sin.generic(input)


def cos(input, *, out=None):
    return Cos.generic(input)


def tanh(input, *, out=None):
    return Tanh.generic(input)


def sigmoid(input, *, out=None):
    return Sigmoid.generic(input)


def relu(input):
    return Relu.generic(input)


def floor(input, *, out=None):
    return Floor.generic(input)


def trunc(input, *, out=None):
    return Trunc.generic(input)


def clamp(input, min=None, max=None, *, out=None):
    """Limit values to [min, max]; either bound may be None (not both) or a Tensor."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    return Clamp.generic(input, lo=min, hi=max)


clip = clamp


def where(condition, input=None, other=None):
    """``input`` where ``condition`` holds, else ``other``; ``where(cond)`` is nonzero."""
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    if isinstance(condition, Tensor):
        if condition._data.dtype != np.bool_:
            raise RuntimeError(
                f"where expected condition to be a boolean tensor, but got a tensor with "
                f"dtype {condition.dtype}"
            )
        return Where.apply(condition, *_promote_pair(input, other))
    return Where.generic(condition, input, other)


def _promote_pair(a, b):
    from ._core import result_dtype

    if isinstance(a, Tensor) and isinstance(b, Tensor) and a._data.dtype != b._data.dtype:
        d = result_dtype((a, b))
        return a.to(d), b.to(d)
    if isinstance(a, Tensor) != isinstance(b, Tensor):
        t = a if isinstance(a, Tensor) else b
        s = b if isinstance(a, Tensor) else a
        d = result_dtype((t, s))
        if d._np != t._data.dtype:
            t = t.to(d)
        return (t, s) if isinstance(a, Tensor) else (s, t)
    return a, b


for _name, _fn in {"abs": abs, "sign": sign, "exp": exp, "log": log, "sqrt": sqrt,
                   "sin": sin, "cos": cos, "tanh": tanh, "sigmoid": sigmoid, "relu": relu,
                   "floor": floor, "trunc": trunc, "clamp": clamp, "clip": clip,
                   "__abs__": abs}.items():
    register_method(_name)(_fn)


def _where_method(self, condition, other):
    return where(condition, self, other)


register_method("where")(_where_method)

for _name, _cls in {"abs_": Abs, "exp_": Exp, "log_": Log, "sqrt_": Sqrt, "sin_": Sin,
                    "cos_": Cos, "tanh_": Tanh, "sigmoid_": Sigmoid, "relu_": Relu,
                    "floor_": Floor, "trunc_": Trunc, "sign_": Sign}.items():
    register_method(_name)(lambda self, _cls=_cls: inplace_apply(_cls, self))


@register_method("clamp_", "clip_")
def clamp_(self, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    return inplace_apply(Clamp, self, lo=min, hi=max)
