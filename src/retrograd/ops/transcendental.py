"""The exp/log and trigonometric/hyperbolic families beyond unary.py's core, as rows (see
``_table``): each row is the op's forward and its derivative, and nothing else.

NaN-safe rows: where the derivative is infinite or undefined (rsqrt, reciprocal and the
log family at 0, asin/acos/atanh at +-1, acosh at 1), an incoming gradient of exactly 0
contributes exactly 0, where PyTorch gives NaN.
"""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from ..backend import xp
from ._core import register_method
from ._table import unary
from .arithmetic import Pow, pow
from .inplace import inplace_apply
from .unary import cos, sin, sqrt, where

__all__ = ["acos", "acosh", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctanh",
           "asin", "asinh", "atan", "atanh", "cosh", "deg2rad", "exp2", "expm1", "log2",
           "log10", "log1p", "rad2deg", "reciprocal", "rsqrt", "sinc", "sinh", "square", "tan"]

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


def _rsqrt(x):
    return 1 / xp(x).sqrt(x)


def _scale(factor):
    """x * factor in x's float dtype (a float64 constant must not widen float32 input)."""
    def f(x):
        return x * xp(x).asarray(factor, dtype=x.dtype)

    return f


def _sinc(x):
    return xp(x).sinc(x).astype(x.dtype, copy=False)


def _sinc_slope(x):
    """d/dx sin(pi x) / (pi x) away from 0 (x here is never 0)."""
    px = x * math.pi
    return (cos(px) * px - sin(px)) / (px * x)


# ---------------------------------------------------------------------- exp / log family

reciprocal = unary("reciprocal", lambda x: 1 / x, d=lambda out: -(out * out), nan_safe=True,
                   quiet=True, doc="1 / input.")
rsqrt = unary("rsqrt", _rsqrt, d=lambda out: out * out * out * -0.5, nan_safe=True,
              quiet=True, doc="1 / sqrt(input).")
exp2 = unary("exp2", "exp2", d=lambda out: out * _LN2, quiet=True, doc="2 ** input.")
expm1 = unary("expm1", "expm1", d=lambda out: out + 1, quiet=True,
              doc="exp(input) - 1, accurate near 0.")
log2 = unary("log2", "log2", d=lambda x: 1 / (x * _LN2), nan_safe=True, quiet=True,
             doc="Base-2 logarithm.")
log10 = unary("log10", "log10", d=lambda x: 1 / (x * _LN10), nan_safe=True, quiet=True,
              doc="Base-10 logarithm.")
log1p = unary("log1p", "log1p", d=lambda x: 1 / (x + 1), nan_safe=True, quiet=True,
              node="Log1PBackward0", doc="log(1 + input), accurate near 0.")

# ---------------------------------------------------------------------- trigonometric

tan = unary("tan", "tan", d=lambda out: 1 + out * out, quiet=True, doc="Tangent.")
asin = arcsin = unary("asin", "arcsin", d=lambda x: 1 / sqrt(1 - x * x), nan_safe=True,
                      quiet=True, aliases=("arcsin",), doc="Inverse sine.")
acos = arccos = unary("acos", "arccos", d=lambda x: -1 / sqrt(1 - x * x), nan_safe=True,
                      quiet=True, aliases=("arccos",), doc="Inverse cosine.")
atan = arctan = unary("atan", "arctan", d=lambda x: 1 / (1 + x * x), aliases=("arctan",),
                      doc="Inverse tangent.")
sinh = unary("sinh", "sinh", d=lambda x: cosh(x), quiet=True, doc="Hyperbolic sine.")
cosh = unary("cosh", "cosh", d=lambda x: sinh(x), quiet=True, doc="Hyperbolic cosine.")
asinh = arcsinh = unary("asinh", "arcsinh", d=lambda x: 1 / sqrt(x * x + 1), nan_safe=True,
                        aliases=("arcsinh",), doc="Inverse hyperbolic sine.")
acosh = arccosh = unary("acosh", "arccosh", d=lambda x: 1 / sqrt(x * x - 1), nan_safe=True,
                        quiet=True, aliases=("arccosh",), doc="Inverse hyperbolic cosine.")
atanh = arctanh = unary("atanh", "arctanh", d=lambda x: 1 / (1 - x * x), nan_safe=True,
                        quiet=True, aliases=("arctanh",), doc="Inverse hyperbolic tangent.")
# The slope at 0 is 0 (as PyTorch); a stand-in 1 there keeps 0/0 out of double backward.
sinc = unary("sinc", _sinc, d=lambda x: where(x == 0, 0.0, _sinc_slope(where(x == 0, 1.0, x))),
             quiet=True, doc="sin(pi x) / (pi x), 1 at 0.")
deg2rad = unary("deg2rad", _scale(math.pi / 180), d=math.pi / 180, cls="Deg2Rad",
                doc="Degrees to radians.")
rad2deg = unary("rad2deg", _scale(180 / math.pi), d=180 / math.pi, cls="Rad2Deg",
                doc="Radians to degrees.")


def square(input, *, out=None):
    """input ** 2 (recorded as PowBackward0, as PyTorch); bool input gives int64."""
    if isinstance(input, Tensor) and input._data.dtype == np.bool_:
        input = input.long()
    return pow(input, 2, out=out)


@register_method("square_")
def square_(self):
    return inplace_apply(Pow, self, 2)


register_method("square")(square)
