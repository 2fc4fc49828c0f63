"""Special functions as rows (see ``_table``): logit, erf, erfc, erfinv, lgamma, digamma and
polygamma. The kernels are ``_special``'s float64 NumPy code (no SciPy needed).

NaN-safe rows: at erfinv's +-1, lgamma's and digamma's poles and logit's 0 and 1, an
incoming gradient of exactly 0 contributes exactly 0, where PyTorch gives NaN.
"""

from __future__ import annotations

import math

from ..backend import xp
from . import _special
from ._core import register_method
from ._table import unary
from .inplace import inplace_apply
from .unary import exp, where

__all__ = ["digamma", "erf", "erfc", "erfinv", "lgamma", "logit", "polygamma"]

_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2


def _kernel(fn):
    """A float64 kernel from _special applied to x, in x's (float) dtype."""
    def f(x, **attrs):
        return xp(x).asarray(fn(x, **attrs)).astype(x.dtype, copy=False)

    return f


def _logit(x, eps=None):
    m = xp(x)
    z = x if eps is None else m.clip(x, eps, 1 - eps)
    return m.log(z / (1 - z))


def _outside(x, eps):
    """Where logit's slope is not 1 / (x (1 - x)): beyond [0, 1], or the clamp to eps."""
    return (x < 0) | (x > 1) if eps is None else (x < eps) | (x > 1 - eps)


def _polygamma(x, n=1):
    return _special.polygamma(n, x)


# ---------------------------------------------------------------------- the rows

# Outside [0, 1] the slope is NaN; outside [eps, 1 - eps] the clamp makes it 0.
_logit_row = unary("logit", _logit,
                   d=lambda x, eps: where(_outside(x, eps), math.nan if eps is None else 0.0,
                                          1 / (x * (1 - x))),
                   attrs={"eps": None}, nan_safe=True, quiet=True, method=False,
                   inplace=False,
                   doc="log(p / (1 - p)); with ``eps``, p is first clamped to [eps, 1 - eps].")
erf = unary("erf", _kernel(_special.erf), d=lambda x: _TWO_OVER_SQRT_PI * exp(-(x * x)),
            doc="The error function.")
erfc = unary("erfc", _kernel(_special.erfc), d=lambda x: -_TWO_OVER_SQRT_PI * exp(-(x * x)),
             doc="1 - erf(input), accurate for large input.")
erfinv = unary("erfinv", _kernel(_special.erfinv),
               d=lambda out: _SQRT_PI_OVER_TWO * exp(out * out), nan_safe=True, quiet=True,
               doc="The inverse error function.")
lgamma = unary("lgamma", _kernel(_special.lgamma), d=lambda x: digamma(x), nan_safe=True,
               quiet=True, doc="log |Gamma(input)|.")
digamma = unary("digamma", _kernel(_special.digamma), d=lambda x: polygamma(1, x),
                nan_safe=True, quiet=True,
                doc="d/dx log Gamma(x); -inf at 0, NaN at negative integers, as PyTorch.")
_polygamma_row = unary("polygamma", _kernel(_polygamma), d=lambda x, n: polygamma(n + 1, x),
                       attrs={"n": 1}, nan_safe=True, quiet=True, method=False,
                       inplace=False, doc="The n-th derivative of digamma.")
Logit, Polygamma = _logit_row.primitive, _polygamma_row.primitive


def logit(input, eps=None, *, out=None):
    """log(p / (1 - p)); with ``eps``, p is first clamped to [eps, 1 - eps] (the row's
    keyword, here also positional as in PyTorch)."""
    return _logit_row(input, eps=eps, out=out)


logit.primitive = Logit


def polygamma(n, input, *, out=None):
    """The n-th derivative of digamma (n >= 0)."""
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    if n == 0:
        return digamma(input, out=out)
    return _polygamma_row(input, n=int(n), out=out)


register_method("logit")(logit)
register_method("polygamma")(lambda self, n: polygamma(n, self))


@register_method("logit_")
def logit_(self, eps=None):
    return inplace_apply(Logit, self, eps=eps)


@register_method("polygamma_")
def polygamma_(self, n):
    if n == 0:
        return inplace_apply(digamma.primitive, self)
    return inplace_apply(Polygamma, self, n=int(n))



