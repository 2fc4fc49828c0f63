"""The rest of PyTorch's elementwise math: exp/log and trigonometric families, special
functions, rounding, and the binary and ternary ops beyond plain arithmetic.

Each primitive keeps its forward and derivative together. The Jacobian of an elementwise op
is diagonal, so its forward-mode rule is its backward rule applied to the tangent: the
``_Unary`` and ``_Binary`` bases derive ``jvp`` from the derivative formula.

NaN-safe masking (DESIGN, "beyond PyTorch"): where an op's derivative is infinite or
undefined (sqrt, rsqrt, reciprocal and the log family at 0, asin/acos/atanh at +-1, erfinv
at +-1, lgamma/digamma at poles, div/pow/atan2/hypot/xlogy at 0), an incoming gradient of
exactly 0 contributes exactly 0, where PyTorch gives NaN. So
``where(x > 0, x.sqrt(), 0).sum().backward()`` at ``x = 0`` gives a gradient of 0.

Integer and bool inputs to float math compute in the default float dtype, as in PyTorch.
"""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from ..backend import xp
from . import _special
from ._core import REGISTRY, Primitive, register_method
from .arithmetic import _add_opt, _as_float, _out
from .inplace import inplace_apply
from .unary import exp, floating, log, nan_safe, no_bool, quiet, safe_div, sqrt, where

__all__ = ["acos", "acosh", "addcdiv", "addcmul", "arccos", "arccosh", "arcsin", "arcsinh",
           "arctan", "arctan2", "arctanh", "asin", "asinh", "atan", "atan2", "atanh", "ceil",
           "cosh", "deg2rad", "digamma", "erf", "erfc", "erfinv", "exp2", "expm1", "fmax",
           "fmin", "frac", "hypot", "lerp", "lgamma", "log1p", "log2", "log10", "logaddexp",
           "logaddexp2", "logit", "maximum", "minimum", "nan_to_num", "polygamma",
           "xlogy",
           "rad2deg", "reciprocal", "round", "rsqrt", "sinc", "sinh", "square", "tan"]

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


class _Unary(Primitive):
    """An elementwise op of one input: jvp(t) = f'(x) * t = backward(t)."""

    __slots__ = ()

    def jvp(ctx, tx):
        return ctx.backward(tx)


del REGISTRY["_Unary"]  # a base class, not an op


# ---------------------------------------------------------------------- exp / log family

class Reciprocal(_Unary):
    """1 / x.  d/dx = -1 / x**2 = -out**2."""

    formula = "-grad * out**2"

    def forward(ctx, x):
        with quiet():
            out = 1 / floating(x)
        ctx.save(out)
        return out

    def backward(ctx, grad):
        (out,) = ctx.saved
        with quiet():
            return nan_safe(grad, -grad * (out * out))


class Rsqrt(_Unary):
    """1 / sqrt(x).  d/dx = -out**3 / 2."""

    formula = "-grad * out**3 / 2"

    def forward(ctx, x):
        with quiet():
            out = 1 / xp(x).sqrt(floating(x))
        ctx.save(out)
        return out

    def backward(ctx, grad):
        (out,) = ctx.saved
        with quiet():
            return nan_safe(grad, grad * (out * out * out) * -0.5)


class Exp2(_Unary):
    """2**x.  d/dx = out * ln 2."""

    formula = "grad * out * ln(2)"

    def forward(ctx, x):
        with quiet():
            out = xp(x).exp2(floating(x))
        ctx.save(out)
        return out

    def backward(ctx, grad):
        (out,) = ctx.saved
        return grad * out * _LN2


class Expm1(_Unary):
    """e**x - 1.  d/dx = out + 1."""

    formula = "grad * (out + 1)"

    def forward(ctx, x):
        with quiet():
            out = xp(x).expm1(floating(x))
        ctx.save(out)
        return out

    def backward(ctx, grad):
        (out,) = ctx.saved
        return grad * (out + 1)


class Log2(_Unary):
    """log2(x).  d/dx = 1 / (x ln 2)."""

    formula = "grad / (x * ln(2))"

    def forward(ctx, x):
        x = floating(x)
        ctx.save(x)
        with quiet():
            return xp(x).log2(x)

    def backward(ctx, grad):
        (x,) = ctx.saved
        return safe_div(grad, x * _LN2)


class Log10(_Unary):
    """log10(x).  d/dx = 1 / (x ln 10)."""

    formula = "grad / (x * ln(10))"

    def forward(ctx, x):
        x = floating(x)
        ctx.save(x)
        with quiet():
            return xp(x).log10(x)

    def backward(ctx, grad):
        (x,) = ctx.saved
        return safe_div(grad, x * _LN10)


class Log1p(_Unary):
    """log(1 + x).  d/dx = 1 / (1 + x)."""

    formula = "grad / (x + 1)"
    _name = "Log1PBackward0"

    def forward(ctx, x):
        x = floating(x)
        ctx.save(x)
        with quiet():
            return xp(x).log1p(x)

    def backward(ctx, grad):
        (x,) = ctx.saved
        return safe_div(grad, x + 1)


# ---------------------------------------------------------------------- trigonometric

class Tan(_Unary):
    """tan(x).  d/dx = 1 + tan(x)**2."""

    formula = "grad * (1 + out**2)"

    def forward(ctx, x):
        with quiet():
            out = xp(x).tan(floating(x))
        ctx.save(out)
        return out

    def backward(ctx, grad):
        (out,) = ctx.saved
        return grad * (1 + out * out)


class Asin(_Unary):
    """asin(x).  d/dx = 1 / sqrt(1 - x**2)."""

    formula = "grad / sqrt(1 - x**2)"

    def forward(ctx, x):
        x = floating(x)
        ctx.save(x)
        with quiet():
            return xp(x).arcsin(x)

    def backward(ctx, grad):
        (x,) = ctx.saved
        with quiet():
            return safe_div(grad, sqrt(1 - x * x))


class Acos(_Unary):
    """acos(x).  d/dx = -1 / sqrt(1 - x**2)."""

    formula = "-grad / sqrt(1 - x**2)"

    def forward(ctx, x):
        x = floating(x)
        ctx.save(x)
        with quiet():
            return xp(x).arccos(x)

    def backward(ctx, grad):
        (x,) = ctx.saved
        with quiet():
            return safe_div(-grad, sqrt(1 - x * x))


class Atan(_Unary):
    """atan(x).  d/dx = 1 / (1 + x**2)."""

    formula = "grad / (1 + x**2)"

    def forward(ctx, x):
        x = floating(x)
        ctx.save(x)
        return xp(x).arctan(x)

    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad / (1 + x * x)


class Sinh(_Unary):
    """sinh(x).  d/dx = cosh(x)."""

    formula = "grad * cosh(x)"

    def forward(ctx, x):
        x = floating(x)
        ctx.save(x)
        with quiet():
            return xp(x).sinh(x)

    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * cosh(x)


class Cosh(_Unary):
    """cosh(x).  d/dx = sinh(x)."""

    formula = "grad * sinh(x)"

    def forward(ctx, x):
        x = floating(x)
        ctx.save(x)
        with quiet():
            return xp(x).cosh(x)

    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * sinh(x)


class Asinh(_Unary):
    """asinh(x).  d/dx = 1 / sqrt(x**2 + 1)."""

    formula = "grad / sqrt(x**2 + 1)"

    def forward(ctx, x):
        x = floating(x)
        ctx.save(x)
        return xp(x).arcsinh(x)

    def backward(ctx, grad):
        (x,) = ctx.saved
        with quiet():
            return safe_div(grad, sqrt(x * x + 1))


class Acosh(_Unary):
    """acosh(x).  d/dx = 1 / sqrt(x**2 - 1)."""

    formula = "grad / sqrt(x**2 - 1)"

    def forward(ctx, x):
        x = floating(x)
        ctx.save(x)
        with quiet():
            return xp(x).arccosh(x)

    def backward(ctx, grad):
        (x,) = ctx.saved
        with quiet():
            return safe_div(grad, sqrt(x * x - 1))


class Atanh(_Unary):
    """atanh(x).  d/dx = 1 / (1 - x**2)."""

    formula = "grad / (1 - x**2)"

    def forward(ctx, x):
        x = floating(x)
        ctx.save(x)
        with quiet():
            return xp(x).arctanh(x)

    def backward(ctx, grad):
        (x,) = ctx.saved
        with quiet():
            return safe_div(grad, 1 - x * x)


class Sinc(_Unary):
    """sin(pi x) / (pi x), 1 at 0.  d/dx = (cos(pi x) pi x - sin(pi x)) / (pi x**2), 0 at 0
    (as PyTorch)."""

    formula = "grad * (cos(pi x) * pi x - sin(pi x)) / (pi x**2)"

    def forward(ctx, x):
        x = floating(x)
        ctx.save(x)
        with quiet():
            return xp(x).sinc(x).astype(x.dtype, copy=False)

    def backward(ctx, grad):
        from .unary import cos, sin

        (x,) = ctx.saved
        zero = x == 0
        xs = where(zero, 1.0, x)  # a stand-in away from 0, so no 0/0 reaches double backward
        px = xs * math.pi
        return grad * where(zero, 0.0, (cos(px) * px - sin(px)) / (px * xs))


class Deg2Rad(_Unary):
    """x * pi / 180.  d/dx = pi / 180."""

    formula = "grad * pi / 180"

    def forward(ctx, x):
        x = floating(x)
        return x * np.asarray(math.pi / 180, dtype=x.dtype)

    def backward(ctx, grad):
        return grad * (math.pi / 180)


class Rad2Deg(_Unary):
    """x * 180 / pi.  d/dx = 180 / pi."""

    formula = "grad * 180 / pi"

    def forward(ctx, x):
        x = floating(x)
        return x * np.asarray(180 / math.pi, dtype=x.dtype)

    def backward(ctx, grad):
        return grad * (180 / math.pi)


# ---------------------------------------------------------------------- special functions

def _special_fn(fn, x):
    """A float64 kernel from _special applied to x, in x's (float) dtype."""
    x = floating(x)
    return np.asarray(fn(x)).astype(x.dtype, copy=False)


class Logit(_Unary):
    """log(x / (1 - x)), x clamped to [eps, 1 - eps] when eps is given.
    d/dx = 1 / (x (1 - x)); 0 outside [eps, 1 - eps]; NaN outside [0, 1] without eps."""

    __slots__ = ("eps",)
    formula = "grad / (x * (1 - x))"

    def forward(ctx, x, eps=None):
        x = floating(x)
        ctx.eps = eps
        ctx.save(x)
        z = x if eps is None else xp(x).clip(x, eps, 1 - eps)
        with quiet():
            return xp(x).log(z / (1 - z))

    def backward(ctx, grad):
        (x,) = ctx.saved
        eps = ctx.eps
        with quiet():
            value = grad / (x * (1 - x))
            if eps is None:
                value = where((x < 0) | (x > 1), math.nan, value)
            else:
                value = where((x < eps) | (x > 1 - eps), 0.0, value)
            return nan_safe(grad, value)


class Erf(_Unary):
    """erf(x).  d/dx = 2 / sqrt(pi) * exp(-x**2)."""

    formula = "grad * 2 / sqrt(pi) * exp(-x**2)"

    def forward(ctx, x):
        x = floating(x)
        ctx.save(x)
        return _special_fn(_special.erf, x)

    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * (2 / math.sqrt(math.pi)) * exp(-(x * x))


class Erfc(_Unary):
    """1 - erf(x).  d/dx = -2 / sqrt(pi) * exp(-x**2)."""

    formula = "-grad * 2 / sqrt(pi) * exp(-x**2)"

    def forward(ctx, x):
        x = floating(x)
        ctx.save(x)
        return _special_fn(_special.erfc, x)

    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * (-2 / math.sqrt(math.pi)) * exp(-(x * x))


class Erfinv(_Unary):
    """The inverse of erf on (-1, 1).  d/dx = sqrt(pi) / 2 * exp(out**2)."""

    formula = "grad * sqrt(pi) / 2 * exp(out**2)"

    def forward(ctx, x):
        out = _special_fn(_special.erfinv, x)
        ctx.save(out)
        return out

    def backward(ctx, grad):
        (out,) = ctx.saved
        with quiet():
            return nan_safe(grad, grad * (math.sqrt(math.pi) / 2) * exp(out * out))


class Lgamma(_Unary):
    """log|Gamma(x)|.  d/dx = digamma(x)."""

    formula = "grad * digamma(x)"

    def forward(ctx, x):
        x = floating(x)
        ctx.save(x)
        return _special_fn(_special.lgamma, x)

    def backward(ctx, grad):
        (x,) = ctx.saved
        with quiet():
            return nan_safe(grad, grad * digamma(x))


class Digamma(_Unary):
    """psi(x) = d/dx log Gamma(x).  d/dx = polygamma(1, x)."""

    formula = "grad * polygamma(1, x)"

    def forward(ctx, x):
        x = floating(x)
        ctx.save(x)
        return _special_fn(_special.digamma, x)

    def backward(ctx, grad):
        (x,) = ctx.saved
        with quiet():
            return nan_safe(grad, grad * polygamma(1, x))


class Polygamma(_Unary):
    """The n-th derivative of digamma.  d/dx = polygamma(n + 1, x)."""

    __slots__ = ("n",)
    formula = "grad * polygamma(n + 1, x)"

    def forward(ctx, x, n=1):
        x = floating(x)
        ctx.n = n
        ctx.save(x)
        return _special_fn(lambda v: _special.polygamma(n, v), x)

    def backward(ctx, grad):
        (x,) = ctx.saved
        with quiet():
            return nan_safe(grad, grad * polygamma(ctx.n + 1, x))


# ---------------------------------------------------------------------- rounding

class Ceil(_Unary):
    """ceil(x).  d/dx = 0."""

    formula = "0"

    def forward(ctx, x):
        no_bool("ceil", x)
        return xp(x).ceil(x) if x.dtype.kind == "f" else x.copy()

    def backward(ctx, grad):
        return grad * 0


class Round(_Unary):
    """x rounded half to even.  d/dx = 0."""

    formula = "0"

    def forward(ctx, x):
        no_bool("round", x)
        return xp(x).rint(x) if x.dtype.kind == "f" else x.copy()

    def backward(ctx, grad):
        return grad * 0


class RoundDecimals(_Unary):
    """x rounded half to even to ``decimals`` places.  d/dx = 0."""

    formula = "0"
    _name = "RoundBackward1"

    def forward(ctx, x, decimals=0):
        if x.dtype.kind != "f":
            from .comparison import _TYPE_WORD

            raise NotImplementedError(
                f'"round_cpu" not implemented for \'{_TYPE_WORD.get(x.dtype.name)}\'')
        with quiet():
            return xp(x).round(x, decimals)

    def backward(ctx, grad):
        return grad * 0


class Frac(_Unary):
    """x - trunc(x).  d/dx = 1."""

    formula = "grad"

    def forward(ctx, x):
        if x.dtype.kind != "f":
            from .comparison import _TYPE_WORD

            raise NotImplementedError(
                f'"frac_cpu" not implemented for \'{_TYPE_WORD.get(x.dtype.name)}\'')
        with quiet():
            return x - xp(x).trunc(x)

    def backward(ctx, grad):
        return grad


class NanToNum(_Unary):
    """NaN, +inf and -inf replaced by numbers.  d/dx = 1 where x is finite, else 0."""

    __slots__ = ("mask",)
    formula = "grad * isfinite(x)"

    def forward(ctx, x, nan=0.0, posinf=None, neginf=None):
        ctx.mask = xp(x).isfinite(x)
        return xp(x).nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    def backward(ctx, grad):
        return where(ctx.mask, grad, 0)


# ---------------------------------------------------------------------- binary

class _Binary(Primitive):
    """An elementwise op of two inputs, written as ``partials(grad, nx, ny)`` (the gradient
    for each input that needs one); backward and jvp both use it."""

    __slots__ = ()
    promote = True
    #: the op always computes in floating point: integer operands become the default float
    #: before promotion (so a Python int never wraps into a small integer dtype first).
    to_float = False

    @classmethod
    def apply(cls, *args, **attrs):
        if cls.to_float:
            from ._core import result_dtype

            if result_dtype(args).category <= 1:
                args = tuple(_as_float(a) for a in args)
        return super().apply(*args, **attrs)

    def backward(ctx, grad):
        return ctx.partials(grad, *ctx.needs_input_grad)

    def jvp(ctx, tx, ty):
        a = None if tx is None else ctx.partials(tx, True, False)[0]
        b = None if ty is None else ctx.partials(ty, False, True)[1]
        return _add_opt(a, b)


def _float_only(name, x, y):
    """PyTorch implements these for floating dtypes only."""
    for a in (x, y):
        kind = getattr(getattr(a, "dtype", None), "kind", "f")
        if kind not in "fc":
            from .comparison import _TYPE_WORD

            raise NotImplementedError(
                f'"{name}_cpu" not implemented for \'{_TYPE_WORD.get(a.dtype.name)}\'')


class Atan2(_Binary):
    """atan2(x, y), the angle of the point (y, x).  d/dx = y / (x**2 + y**2),
    d/dy = -x / (x**2 + y**2)."""

    formula = "grad * y / (x**2 + y**2), -grad * x / (x**2 + y**2)"
    to_float = True

    def forward(ctx, x, y):
        x, y = floating(x), floating(y)
        ctx.save(x, y)
        return xp(x).arctan2(x, y)

    def partials(ctx, grad, nx, ny):
        x, y = ctx.saved
        with quiet():
            denom = x * x + y * y
            return (nan_safe(grad, grad * y / denom) if nx else None,
                    nan_safe(grad, -grad * x / denom) if ny else None)


class Hypot(_Binary):
    """sqrt(x**2 + y**2).  d/dx = x / out, d/dy = y / out."""

    formula = "grad * x / out, grad * y / out"

    def forward(ctx, x, y):
        _float_only("hypot", x, y)
        out = xp(x).hypot(x, y)
        ctx.save(x, y, out)
        return out

    def partials(ctx, grad, nx, ny):
        x, y, out = ctx.saved
        with quiet():
            return (nan_safe(grad, grad * x / out) if nx else None,
                    nan_safe(grad, grad * y / out) if ny else None)


class Maximum(_Binary):
    """max(x, y), NaN-propagating.  The larger input gets the gradient; ties split it half
    and half, as PyTorch."""

    formula = "grad * ((x > y) + (x == y) / 2), grad * ((y > x) + (x == y) / 2)"

    def forward(ctx, x, y):
        ctx.save(x, y)
        return xp(x).maximum(x, y)

    def partials(ctx, grad, nx, ny):
        x, y = ctx.saved
        half = where(x == y, grad / 2, grad)
        return (where(x < y, 0.0, half) if nx else None,
                where(x > y, 0.0, half) if ny else None)


class Minimum(_Binary):
    """min(x, y), NaN-propagating.  The smaller input gets the gradient; ties split it."""

    formula = "grad * ((x < y) + (x == y) / 2), grad * ((y < x) + (x == y) / 2)"

    def forward(ctx, x, y):
        ctx.save(x, y)
        return xp(x).minimum(x, y)

    def partials(ctx, grad, nx, ny):
        x, y = ctx.saved
        half = where(x == y, grad / 2, grad)
        return (where(x > y, 0.0, half) if nx else None,
                where(x < y, 0.0, half) if ny else None)


class Fmax(_Binary):
    """max(x, y) ignoring NaN.  The chosen input gets the whole gradient (x on ties)."""

    formula = "grad * (x >= y or y is nan), grad * otherwise"

    def forward(ctx, x, y):
        ctx.save(x, y)
        return xp(x).fmax(x, y)

    def partials(ctx, grad, nx, ny):
        x, y = ctx.saved
        take_x = (x >= y) | xp(y).isnan(y)
        return (where(take_x, grad, 0.0) if nx else None,
                where(take_x, 0.0, grad) if ny else None)


class Fmin(_Binary):
    """min(x, y) ignoring NaN.  The chosen input gets the whole gradient (x on ties)."""

    formula = "grad * (x <= y or y is nan), grad * otherwise"

    def forward(ctx, x, y):
        ctx.save(x, y)
        return xp(x).fmin(x, y)

    def partials(ctx, grad, nx, ny):
        x, y = ctx.saved
        take_x = (x <= y) | xp(y).isnan(y)
        return (where(take_x, grad, 0.0) if nx else None,
                where(take_x, 0.0, grad) if ny else None)


class Xlogy(_Binary):
    """x * log(y), 0 where x == 0 (unless y is NaN).  d/dx = log(y) (0 where x == 0),
    d/dy = x / y."""

    formula = "grad * xlogy(x != 0, y), grad * x / y"
    to_float = True

    def forward(ctx, x, y):
        x, y = floating(x), floating(y)
        ctx.save(x, y)
        m = xp(x) if hasattr(x, "dtype") else xp(y)
        with quiet():
            out = m.where((m.asarray(x) == 0) & ~m.isnan(y), 0.0, x * m.log(y))
        return m.asarray(out).astype(m.result_type(x, y), copy=False)

    def partials(ctx, grad, nx, ny):
        x, y = ctx.saved
        with quiet():
            gx = gy = None
            if nx:
                keep = (x != 0) | (y != y)
                gx = nan_safe(grad, grad * where(keep, log(where(keep, y, 1.0)), 0.0))
            if ny:
                gy = nan_safe(grad, grad * x / y)
            return gx, gy


class XlogyScalarSelf(Xlogy):
    _name = "XlogyBackward1"


class XlogyScalarOther(Xlogy):
    _name = "XlogyBackward2"


class Logaddexp(_Binary):
    """log(e**x + e**y).  d/dx = 1 / (1 + e**(y - x)), d/dy = 1 / (1 + e**(x - y))."""

    formula = "grad / (1 + exp(y - x)), grad / (1 + exp(x - y))"

    def forward(ctx, x, y):
        _float_only("logaddexp", x, y)
        ctx.save(x, y)
        return xp(x).logaddexp(x, y)

    def partials(ctx, grad, nx, ny):
        x, y = ctx.saved
        with quiet():
            return (grad / (1 + exp(y - x)) if nx else None,
                    grad / (1 + exp(x - y)) if ny else None)


class Logaddexp2(_Binary):
    """log2(2**x + 2**y).  d/dx = 1 / (1 + 2**(y - x)), d/dy = 1 / (1 + 2**(x - y))."""

    formula = "grad / (1 + 2**(y - x)), grad / (1 + 2**(x - y))"

    def forward(ctx, x, y):
        _float_only("logaddexp2", x, y)
        ctx.save(x, y)
        return xp(x).logaddexp2(x, y)

    def partials(ctx, grad, nx, ny):
        x, y = ctx.saved
        with quiet():
            return (grad / (1 + exp2(y - x)) if nx else None,
                    grad / (1 + exp2(x - y)) if ny else None)


del REGISTRY["_Binary"]


# ---------------------------------------------------------------------- ternary

class Lerp(Primitive):
    """x + w (y - x), w a number.  d/dx = 1 - w, d/dy = w."""

    __slots__ = ("weight",)
    promote = True
    formula = "grad * (1 - weight), grad * weight"
    _name = "LerpBackward0"

    def forward(ctx, x, y, weight=0.5):
        ctx.weight = weight
        return _lerp(x, y, weight)

    def backward(ctx, grad):
        nx, ny = ctx.needs_input_grad
        w = ctx.weight
        return grad * (1 - w) if nx else None, grad * w if ny else None

    def jvp(ctx, tx, ty):
        return tx * (1 - ctx.weight) + ty * ctx.weight


class LerpTensor(Primitive):
    """x + w (y - x), w a Tensor.  d/dx = 1 - w, d/dy = w, d/dw = y - x."""

    promote = True
    formula = "grad * (1 - weight), grad * weight, grad * (y - x)"
    _name = "LerpBackward1"

    def forward(ctx, x, y, w):
        ctx.save(x, y, w)
        return _lerp(x, y, w)

    def backward(ctx, grad):
        x, y, w = ctx.saved
        nx, ny, nw = ctx.needs_input_grad
        return (grad * (1 - w) if nx else None, grad * w if ny else None,
                grad * (y - x) if nw else None)

    def jvp(ctx, tx, ty, tw):
        x, y, w = ctx.saved
        return tx * (1 - w) + ty * w + tw * (y - x)


def _lerp(x, y, w):
    """PyTorch's two-sided formula: exact at both ends (w = 0 gives x, w = 1 gives y)."""
    m = xp(x)
    small = m.abs(w) < 0.5
    out = m.where(small, x + w * (y - x), y - (y - x) * (1 - w))
    return m.asarray(out).astype(m.result_type(x, y), copy=False)


class Addcmul(Primitive):
    """x + value * t1 * t2.  d/dx = 1, d/dt1 = value * t2, d/dt2 = value * t1."""

    __slots__ = ("value",)
    promote = True
    formula = "grad, grad * value * t2, grad * value * t1"

    def forward(ctx, x, t1, t2, value=1):
        ctx.value = value
        ctx.save(t1, t2)
        return x + value * (t1 * t2) if value != 1 else x + t1 * t2

    def backward(ctx, grad):
        t1, t2 = ctx.saved
        nx, n1, n2 = ctx.needs_input_grad
        v = ctx.value
        return grad if nx else None, grad * (t2 * v) if n1 else None, \
            grad * (t1 * v) if n2 else None

    def jvp(ctx, tx, t1_dot, t2_dot):
        t1, t2 = ctx.saved
        return tx + (t1_dot * t2 + t2_dot * t1) * ctx.value


class Addcdiv(Primitive):
    """x + value * t1 / t2.  d/dx = 1, d/dt1 = value / t2, d/dt2 = -value * t1 / t2**2."""

    __slots__ = ("value",)
    promote = True
    formula = "grad, grad * value / t2, -grad * value * t1 / t2**2"

    def forward(ctx, x, t1, t2, value=1):
        ctx.value = value
        ctx.save(t1, t2)
        with quiet():
            return x + value * (t1 / t2)

    def backward(ctx, grad):
        t1, t2 = ctx.saved
        nx, n1, n2 = ctx.needs_input_grad
        v = ctx.value
        with quiet():
            return (grad if nx else None, safe_div(grad * v, t2) if n1 else None,
                    nan_safe(grad, -grad * v * t1 / (t2 * t2)) if n2 else None)

    def jvp(ctx, tx, t1_dot, t2_dot):
        t1, t2 = ctx.saved
        with quiet():
            return tx + (t1_dot / t2 - t2_dot * t1 / (t2 * t2)) * ctx.value


# ---------------------------------------------------------------------- public functions

def _unary_fn(cls, name: str, doc: str):
    def fn(input, *, out=None):
        return _out(cls.generic(input), out)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


reciprocal = _unary_fn(Reciprocal, "reciprocal", "1 / input.")
rsqrt = _unary_fn(Rsqrt, "rsqrt", "1 / sqrt(input).")
exp2 = _unary_fn(Exp2, "exp2", "2 ** input.")
expm1 = _unary_fn(Expm1, "expm1", "exp(input) - 1, accurate near 0.")
log2 = _unary_fn(Log2, "log2", "Base-2 logarithm.")
log10 = _unary_fn(Log10, "log10", "Base-10 logarithm.")
log1p = _unary_fn(Log1p, "log1p", "log(1 + input), accurate near 0.")
tan = _unary_fn(Tan, "tan", "Tangent.")
asin = arcsin = _unary_fn(Asin, "asin", "Inverse sine.")
acos = arccos = _unary_fn(Acos, "acos", "Inverse cosine.")
atan = arctan = _unary_fn(Atan, "atan", "Inverse tangent.")
sinh = _unary_fn(Sinh, "sinh", "Hyperbolic sine.")
cosh = _unary_fn(Cosh, "cosh", "Hyperbolic cosine.")
asinh = arcsinh = _unary_fn(Asinh, "asinh", "Inverse hyperbolic sine.")
acosh = arccosh = _unary_fn(Acosh, "acosh", "Inverse hyperbolic cosine.")
atanh = arctanh = _unary_fn(Atanh, "atanh", "Inverse hyperbolic tangent.")
sinc = _unary_fn(Sinc, "sinc", "sin(pi x) / (pi x), 1 at 0.")
deg2rad = _unary_fn(Deg2Rad, "deg2rad", "Degrees to radians.")
rad2deg = _unary_fn(Rad2Deg, "rad2deg", "Radians to degrees.")
erf = _unary_fn(Erf, "erf", "The error function.")
erfc = _unary_fn(Erfc, "erfc", "1 - erf(input), accurate for large input.")
erfinv = _unary_fn(Erfinv, "erfinv", "The inverse error function.")
lgamma = _unary_fn(Lgamma, "lgamma", "log |Gamma(input)|.")
digamma = _unary_fn(Digamma, "digamma", "d/dx log Gamma(x); -inf at 0, NaN at negative "
                    "integers, as PyTorch.")
ceil = _unary_fn(Ceil, "ceil", "The smallest integer >= input (integer dtypes unchanged).")
frac = _unary_fn(Frac, "frac", "input - trunc(input).")


def square(input, *, out=None):
    """input ** 2 (recorded as PowBackward0, as PyTorch); bool input gives int64."""
    if isinstance(input, Tensor) and input._data.dtype == np.bool_:
        input = input.long()
    from .arithmetic import pow

    return pow(input, 2, out=out)


def round(input, *, decimals=0, out=None):
    """Round half to even; ``decimals`` places when given (negative: tens, hundreds...).

    >>> import retrograd as torch
    >>> torch.round(torch.tensor([0.5, 1.5, 2.567]), decimals=0)
    tensor([0., 2., 3.])
    """
    if decimals == 0:
        return _out(Round.generic(input), out)
    return _out(RoundDecimals.generic(input, decimals=decimals), out)


def logit(input, eps=None, *, out=None):
    """log(p / (1 - p)); with ``eps``, p is first clamped to [eps, 1 - eps]."""
    return _out(Logit.generic(input, eps=eps), out)


def polygamma(n, input, *, out=None):
    """The n-th derivative of digamma (n >= 0)."""
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    if n == 0:
        return _out(digamma(input), out)
    return _out(Polygamma.generic(input, n=int(n)), out)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    """NaN -> ``nan``, +inf -> ``posinf`` (default: the dtype's max), -inf -> ``neginf``
    (default: the dtype's min)."""
    return _out(NanToNum.generic(input, nan=nan, posinf=posinf, neginf=neginf), out)


def atan2(input, other, *, out=None):
    """The angle of (other, input) in radians, in [-pi, pi]."""
    require_tensors("atan2", input, other)
    return _out(Atan2.generic(input, other), out)


arctan2 = atan2


def hypot(input, other, *, out=None):
    """sqrt(input**2 + other**2) without overflow."""
    require_tensors("hypot", input, other)
    return _out(Hypot.generic(input, other), out)


def maximum(input, other, *, out=None):
    """Elementwise maximum; NaN wins; ties split the gradient."""
    require_tensors("maximum", input, other)
    return _out(Maximum.generic(input, other), out)


def minimum(input, other, *, out=None):
    """Elementwise minimum; NaN wins; ties split the gradient."""
    require_tensors("minimum", input, other)
    return _out(Minimum.generic(input, other), out)


def fmax(input, other, *, out=None):
    """Elementwise maximum ignoring NaN (NaN only where both are NaN)."""
    require_tensors("fmax", input, other)
    return _out(Fmax.generic(input, other), out)


def fmin(input, other, *, out=None):
    """Elementwise minimum ignoring NaN."""
    require_tensors("fmin", input, other)
    return _out(Fmin.generic(input, other), out)


def xlogy(input, other, *, out=None):
    """input * log(other), 0 where input is 0 (unless other is NaN)."""
    if not isinstance(input, Tensor):
        cls = XlogyScalarSelf
    elif not isinstance(other, Tensor):
        cls = XlogyScalarOther
    else:
        cls = Xlogy
    return _out(cls.generic(input, other), out)


def logaddexp(input, other, *, out=None):
    """log(exp(input) + exp(other)) without overflow."""
    require_tensors("logaddexp", input, other)
    return _out(Logaddexp.generic(input, other), out)


def logaddexp2(input, other, *, out=None):
    """log2(2**input + 2**other) without overflow."""
    require_tensors("logaddexp2", input, other)
    return _out(Logaddexp2.generic(input, other), out)


def lerp(input, end, weight, *, out=None):
    """input + weight * (end - input); ``weight`` a number or a Tensor."""
    _same_dtype(input, end, "end")
    if isinstance(weight, Tensor):
        _same_dtype(input, weight, "weight")
        return _out(LerpTensor.generic(input, end, weight), out)
    return _out(Lerp.generic(input, end, weight=weight), out)


def require_tensors(name, input, other):
    """PyTorch's signature for these ops takes Tensors only."""
    for pos, what, v in ((1, "input", input), (2, "other", other)):
        if not isinstance(v, Tensor):
            raise TypeError(f"{name}(): argument '{what}' (position {pos}) must be Tensor, not "
                            f"{type(v).__name__}")


def _same_dtype(input, other, what):
    if isinstance(input, Tensor) and isinstance(other, Tensor) and input.dtype != other.dtype:
        raise RuntimeError(f"expected dtype {_c10_name(input)} for `{what}` but got dtype "
                           f"{_c10_name(other)}")


def _c10_name(t) -> str:
    names = {"float16": "c10::Half", "float32": "float", "float64": "double",
             "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
             "uint8": "unsigned char", "bool": "bool"}
    return names.get(t._data.dtype.name, t._data.dtype.name)


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 * tensor2."""
    return _out(Addcmul.generic(input, tensor1, tensor2, value=value), out)


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 / tensor2 (true division; integer tensor1 and tensor2 are
    refused, as in PyTorch)."""
    _check_addcdiv(tensor1, tensor2)
    return _out(Addcdiv.generic(input, tensor1, tensor2, value=value), out)


def _check_addcdiv(t1, t2):
    if all(isinstance(t, Tensor) and t._data.dtype.kind in "biu" for t in (t1, t2)):
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future release "
            "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
            "behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2))."
            "to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) for "
            "float inputs. The future addcdiv behavior is just the latter implementation: "
            "(input + value * tensor1 / tensor2), for all dtypes.")


# ---------------------------------------------------------------------- Tensor methods

_UNARY = {"reciprocal": Reciprocal, "rsqrt": Rsqrt, "exp2": Exp2, "expm1": Expm1,
          "log2": Log2, "log10": Log10, "log1p": Log1p, "tan": Tan, "asin": Asin,
          "arcsin": Asin, "acos": Acos, "arccos": Acos, "atan": Atan, "arctan": Atan,
          "sinh": Sinh, "cosh": Cosh, "asinh": Asinh, "arcsinh": Asinh, "acosh": Acosh,
          "arccosh": Acosh, "atanh": Atanh, "arctanh": Atanh, "sinc": Sinc,
          "deg2rad": Deg2Rad, "rad2deg": Rad2Deg, "erf": Erf, "erfc": Erfc, "erfinv": Erfinv,
          "lgamma": Lgamma, "digamma": Digamma, "ceil": Ceil, "frac": Frac}

for _name, _fn in {
    "reciprocal": reciprocal, "rsqrt": rsqrt, "exp2": exp2, "expm1": expm1, "log2": log2,
    "log10": log10, "log1p": log1p, "tan": tan, "asin": asin, "acos": acos, "atan": atan,
    "sinh": sinh, "cosh": cosh, "asinh": asinh, "acosh": acosh, "atanh": atanh, "sinc": sinc,
    "deg2rad": deg2rad, "rad2deg": rad2deg, "erf": erf, "erfc": erfc, "erfinv": erfinv,
    "lgamma": lgamma, "digamma": digamma, "ceil": ceil, "frac": frac,
    "arcsin": asin, "arccos": acos, "arctan": atan, "arcsinh": asinh, "arccosh": acosh,
    "arctanh": atanh, "square": square, "round": round, "logit": logit,
    "polygamma": lambda self, n: polygamma(n, self), "nan_to_num": nan_to_num, "atan2": atan2,
    "arctan2": atan2, "hypot": hypot, "maximum": maximum, "minimum": minimum, "fmax": fmax,
    "fmin": fmin, "xlogy": xlogy, "logaddexp": logaddexp, "logaddexp2": logaddexp2,
    "lerp": lerp, "addcmul": addcmul, "addcdiv": addcdiv,
}.items():
    register_method(_name)(_fn)

for _name, _cls in _UNARY.items():
    register_method(_name + "_")(lambda self, _cls=_cls: inplace_apply(_cls, self))

for _name, _cls in {"atan2_": Atan2, "arctan2_": Atan2, "hypot_": Hypot}.items():
    register_method(_name)(lambda self, other, _cls=_cls: inplace_apply(_cls, self, other))


@register_method("xlogy_")
def xlogy_(self, other):
    return inplace_apply(Xlogy if isinstance(other, Tensor) else XlogyScalarOther, self, other)


@register_method("square_")
def square_(self):
    from .arithmetic import Pow

    return inplace_apply(Pow, self, 2)


@register_method("round_")
def round_(self, *, decimals=0):
    if decimals == 0:
        return inplace_apply(Round, self)
    return inplace_apply(RoundDecimals, self, decimals=decimals)


@register_method("logit_")
def logit_(self, eps=None):
    return inplace_apply(Logit, self, eps=eps)


@register_method("polygamma_")
def polygamma_(self, n):
    if n == 0:
        return inplace_apply(Digamma, self)
    return inplace_apply(Polygamma, self, n=int(n))


@register_method("nan_to_num_")
def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
    return inplace_apply(NanToNum, self, nan=nan, posinf=posinf, neginf=neginf)


@register_method("lerp_")
def lerp_(self, end, weight):
    _same_dtype(self, end, "end")
    if isinstance(weight, Tensor):
        return inplace_apply(LerpTensor, self, end, weight)
    return inplace_apply(Lerp, self, end, weight=weight)


@register_method("addcmul_")
def addcmul_(self, tensor1, tensor2, *, value=1):
    return inplace_apply(Addcmul, self, tensor1, tensor2, value=value)


@register_method("addcdiv_")
def addcdiv_(self, tensor1, tensor2, *, value=1):
    _check_addcdiv(tensor1, tensor2)
    return inplace_apply(Addcdiv, self, tensor1, tensor2, value=value)
