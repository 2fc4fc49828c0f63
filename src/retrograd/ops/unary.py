"""Elementwise math of one tensor (and ``where``/``clamp``), forward and derivative together."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..backend import xp
from ._core import Primitive, register_method
from .inplace import inplace_apply

__all__ = ["abs", "absolute", "clamp", "clamp_max", "clamp_min", "clip", "cos", "exp", "fix",
           "floor", "log", "relu", "sigmoid", "sign", "sin", "sqrt", "tanh", "trunc", "where"]


class Abs(Primitive):
    """|x|.  d/dx = sign(x) (0 at 0)."""

    formula = "grad * sign(x)"

    def forward(ctx, x):
        no_bool("abs", x)
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
        if x.dtype == np.bool_:
            return x.copy()
        out = xp(x).sign(x)
        # PyTorch: sign(NaN) is 0.
        return xp(x).where(out != out, 0, out).astype(out.dtype, copy=False) \
            if x.dtype.kind == "f" else out

    def backward(ctx, grad):
        return grad * 0

    def jvp(ctx, tx):
        return tx * 0


class Exp(Primitive):
    """e**x.  d/dx = e**x, so the output is kept."""

    formula = "grad * out"

    def forward(ctx, x):
        x = floating(x)
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
        x = floating(x)
        ctx.save(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return xp(x).log(x)

    def backward(ctx, grad):
        (x,) = ctx.saved
        return safe_div(grad, x)

    def jvp(ctx, tx):
        (x,) = ctx.saved
        return safe_div(tx, x)


class Sqrt(Primitive):
    """sqrt(x).  d/dx = 1 / (2 sqrt(x))."""

    formula = "grad / (2 * out)"

    def forward(ctx, x):
        x = floating(x)
        with np.errstate(invalid="ignore"):
            out = xp(x).sqrt(x)
        ctx.save(out)
        return out

    def backward(ctx, grad):
        (out,) = ctx.saved
        return safe_div(grad, out * 2)

    def jvp(ctx, tx):
        (out,) = ctx.saved
        return safe_div(tx, out * 2)


class Sin(Primitive):
    """sin(x).  d/dx = cos(x)."""

    formula = "grad * cos(x)"

    def forward(ctx, x):
        x = floating(x)
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
        x = floating(x)
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
        x = floating(x)
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
        x = floating(x)
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
        no_bool("floor", x)
        return xp(x).floor(x) if x.dtype.kind == "f" else x.copy()

    def backward(ctx, grad):
        return grad * 0

    def jvp(ctx, tx):
        return tx * 0


class Trunc(Primitive):
    """trunc(x).  d/dx = 0."""

    formula = "0"

    def forward(ctx, x):
        no_bool("trunc", x)
        return xp(x).trunc(x) if x.dtype.kind == "f" else x.copy()

    def backward(ctx, grad):
        return grad * 0

    def jvp(ctx, tx):
        return tx * 0


def safe_div(grad, denom):
    """grad / denom, but exactly 0 where grad is exactly 0 (NaN-safe masking)."""
    if isinstance(grad, Tensor) or isinstance(denom, Tensor):
        with np.errstate(divide="ignore", invalid="ignore"):
            return _mask_nonfinite(grad, grad / denom)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = grad / denom
        return xp(q).where(grad == 0, 0, q).astype(q.dtype, copy=False)


def nan_safe(grad, value):
    """``value`` (a gradient formula's result), but exactly 0 where the incoming ``grad`` is
    exactly 0: an infinite or NaN local derivative times a zero gradient contributes nothing.
    This differs from PyTorch, which gives NaN there (DESIGN, "NaN-safe masking")."""
    if isinstance(value, Tensor) or isinstance(grad, Tensor):
        return _mask_nonfinite(grad, value)
    value = xp(value).asarray(value)
    return xp(value).where(grad == 0, 0, value).astype(value.dtype, copy=False)


def _mask_nonfinite(grad, value):
    """The differentiable (create_graph) form of the NaN-safe mask: zero only where the
    incoming gradient is 0 and the value is not finite, so second-order terms elsewhere
    (where the gradient is 0 but its own derivative is not) survive."""
    from .._tensor import wrap

    g = grad._data if isinstance(grad, Tensor) else grad
    v = value._data if isinstance(value, Tensor) else value
    mask = (g == 0) & ~xp(v).isfinite(v)
    if not mask.any():
        return value
    return where(wrap(xp(v).asarray(mask)), 0, value)


def no_bool(name: str, x) -> None:
    """PyTorch implements these ops for numbers, not for bool tensors."""
    if getattr(x, "dtype", None) == np.bool_:
        raise NotImplementedError(f'"{name}_cpu" not implemented for \'Bool\'')


def floating(x):
    """Float math on integer or bool input computes in the default float dtype, as PyTorch."""
    kind = getattr(getattr(x, "dtype", None), "kind", "f")
    if kind in "biu":
        from .._dtype import get_default_dtype

        return x.astype(get_default_dtype()._np)
    return x


def quiet():
    """Silence NumPy's warnings for the infinities and NaNs that PyTorch returns quietly."""
    return np.errstate(divide="ignore", invalid="ignore", over="ignore")


# ---------------------------------------------------------------------- public functions

def _out(result, out):
    if out is None:  # the common case: no import on the hot path
        return result
    from .arithmetic import _out as out_

    return out_(result, out)


def abs(input, *, out=None):
    """|input|."""
    return _out(Abs.generic(input), out)


def sign(input, *, out=None):
    """-1, 0 or 1 by the sign of each element."""
    return _out(Sign.generic(input), out)


def exp(input, *, out=None):
    """e ** input."""
    return _out(Exp.generic(input), out)


def log(input, *, out=None):
    """Natural logarithm."""
    return _out(Log.generic(input), out)


def sqrt(input, *, out=None):
    """Square root."""
    return _out(Sqrt.generic(input), out)


def sin(input, *, out=None):
    return _out(Sin.generic(input), out)


def cos(input, *, out=None):
    return _out(Cos.generic(input), out)


def tanh(input, *, out=None):
    return _out(Tanh.generic(input), out)


def sigmoid(input, *, out=None):
    """1 / (1 + exp(-input))."""
    return _out(Sigmoid.generic(input), out)


def relu(input):
    return Relu.generic(input)


def floor(input, *, out=None):
    return _out(Floor.generic(input), out)


def trunc(input, *, out=None):
    return _out(Trunc.generic(input), out)


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
    return _out(cls.generic(input, min, max), out)


def clamp_min(input, min, *, out=None):
    return _out(_clamp_cls(min, None, ClampMin, ClampMinTensor).generic(input, min, None), out)


def clamp_max(input, max, *, out=None):
    return _out(_clamp_cls(None, max, ClampMax, ClampMaxTensor).generic(input, None, max), out)


clip = clamp


def where(condition, input=None, other=None, *, out=None):
    """``input`` where ``condition`` holds, else ``other``; ``where(cond)`` is nonzero."""
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    if isinstance(condition, Tensor):
        if condition._data.dtype != np.bool_:
            raise RuntimeError(
                f"where expected condition to be a boolean tensor, but got a tensor with "
                f"dtype {condition.dtype}"
            )
        return _out(Where.apply(condition, *_promote_pair(input, other)), out)
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


for _name, _fn in {"abs": abs, "absolute": abs, "sign": sign, "exp": exp, "log": log,
                   "sqrt": sqrt, "sin": sin, "cos": cos, "tanh": tanh, "sigmoid": sigmoid,
                   "relu": relu, "floor": floor, "trunc": trunc, "fix": trunc, "clamp": clamp,
                   "clip": clip, "clamp_min": clamp_min, "clamp_max": clamp_max,
                   "__abs__": abs}.items():
    register_method(_name)(_fn)


def _where_method(self, condition, other):
    return where(condition, self, other)


register_method("where")(_where_method)

for _name, _cls in {"abs_": Abs, "absolute_": Abs, "exp_": Exp, "log_": Log, "sqrt_": Sqrt,
                    "sin_": Sin, "cos_": Cos, "tanh_": Tanh, "sigmoid_": Sigmoid, "relu_": Relu,
                    "floor_": Floor, "trunc_": Trunc, "fix_": Trunc, "sign_": Sign}.items():
    register_method(_name)(lambda self, _cls=_cls: inplace_apply(_cls, self))


@register_method("clamp_", "clip_")
def clamp_(self, min=None, max=None):
    return inplace_apply(_clamp_cls(min, max, Clamp, ClampTensor), self, min, max)


@register_method("clamp_min_")
def clamp_min_(self, min):
    return inplace_apply(_clamp_cls(min, None, ClampMin, ClampMinTensor), self, min, None)


@register_method("clamp_max_")
def clamp_max_(self, max):
    return inplace_apply(_clamp_cls(None, max, ClampMax, ClampMaxTensor), self, None, max)


absolute, fix = abs, trunc
