"""Special functions NumPy lacks, as rows (see ``_table``), computed by SciPy (imported on
first use): ndtr, ndtri, log_ndtr, i0, i0e, i1, i1e, erfcx, entr and xlog1py.

NaN-safe rows: at ndtri's 0 and 1, entr's 0 and xlog1py's -1, an incoming gradient of
exactly 0 contributes exactly 0, where PyTorch gives NaN.
"""

from __future__ import annotations

import math

from .._tensor import Tensor
from ..backend import xp
from ._table import binary, unary
from .unary import exp, log, sign, where

__all__ = ["entr", "erfcx", "i0", "i0e", "i1", "i1e", "log_ndtr", "ndtr", "ndtri", "xlog1py"]

_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SQRT_2PI = math.sqrt(2 * math.pi)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def _scipy(name):
    """scipy.special.<name> applied in x's dtype (SciPy is imported on the first call)."""
    def f(*arrays):
        from scipy import special

        out = getattr(special, name)(*arrays)
        return xp(arrays[0]).asarray(out).astype(arrays[0].dtype, copy=False)

    return f


def _entr(x):
    m = xp(x)
    with_log = -x * m.log(m.where(x > 0, x, 1))
    return m.where(x > 0, with_log, m.where(x == 0, 0, -m.inf)).astype(x.dtype)


def _xlog1py(x, y):
    m = xp(x)
    out = x * m.log1p(y)
    return m.where((x == 0) & ~m.isnan(y), 0, out).astype(out.dtype)


def _i1_slope(x):
    """d/dx i1(x) = i0(x) - i1(x) / x, and 1/2 at x = 0 (a stand-in 1 keeps 0/0 out)."""
    safe = where(x == 0, 1.0, x)
    return where(x == 0, 0.5, i0(x) - i1(x) / safe)


def _i1e_slope(x, out):
    """d/dx i1e(x) = i0e(x) - i1e(x) (sign(x) + 1 / x), and 1/2 at x = 0."""
    safe = where(x == 0, 1.0, x)
    return where(x == 0, 0.5, i0e(x) - out * (sign(x) + 1 / safe))


ndtr = unary("ndtr", _scipy("ndtr"), d=lambda x: _INV_SQRT_2PI * exp(-0.5 * x * x),
             method=False, inplace=False, doc="The standard normal CDF.")
ndtri = unary("ndtri", _scipy("ndtri"), d=lambda out: _SQRT_2PI * exp(0.5 * out * out),
              nan_safe=True, quiet=True, method=False, inplace=False,
              doc="The inverse of ndtr (the standard normal quantile).")
log_ndtr = unary("log_ndtr", _scipy("log_ndtr"),
                 d=lambda x, out: _INV_SQRT_2PI * exp(-0.5 * x * x - out),
                 method=False, inplace=False, doc="log(ndtr(input)), accurate in the tails.")
i0 = unary("i0", _scipy("i0"), d=lambda x: i1(x),
           doc="The modified Bessel function of the first kind, order 0.")
i0e = unary("i0e", _scipy("i0e"), d=lambda x, out: i1e(x) - sign(x) * out, method=False,
            inplace=False, doc="exp(-|input|) * i0(input).")
i1 = unary("i1", _scipy("i1"), d=_i1_slope, method=False, inplace=False,
           doc="The modified Bessel function of the first kind, order 1.")
i1e = unary("i1e", _scipy("i1e"), d=_i1e_slope, method=False, inplace=False,
            doc="exp(-|input|) * i1(input).")
erfcx = unary("erfcx", _scipy("erfcx"), d=lambda x, out: 2 * x * out - _TWO_OVER_SQRT_PI,
              method=False, inplace=False, doc="exp(input ** 2) * erfc(input).")
entr = unary("entr", _entr, d=lambda x: -(log(x) + 1), nan_safe=True, quiet=True,
             method=False, inplace=False, doc="-input * log(input); 0 at 0, -inf below.")
_xlog1py_row = binary("xlog1py", _xlog1py,
                      d=(lambda y: log(1 + y), lambda x, y: x / (1 + y)),
                      to_float=True, nan_safe=True, quiet=True, method=False,
                      inplace=False, doc="input * log1p(other), 0 where input is 0.")


def xlog1py(input, other, *, out=None):
    """input * log1p(other), 0 where input is 0 (at least one operand a Tensor).
    d/dinput = log1p(other), d/dother = input / (1 + other)."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("special_xlog1py() received an invalid combination of arguments: "
                        f"got ({type(input).__name__}, {type(other).__name__})")
    return _xlog1py_row(input, other, out=out)
