"""The regularized incomplete gamma functions, Hurwitz's zeta and the multivariate log-gamma,
as rows (see ``_table``): igamma, igammac, zeta (SciPy, imported on first use) and mvlgamma
(``_special``'s lgamma kernel).

PyTorch differentiates igamma and igammac in ``other`` only, zeta in ``other`` (q) only:
a gradient for the first input raises NotImplementedError, with PyTorch's message. PyTorch
has no forward mode for these three at all; ours gives the tangent of ``other`` and raises
only for a nonzero tangent of the first input (docs/differences.md).
"""

from __future__ import annotations

import math

from .. import _dtype as dtypes
from .._tensor import Tensor
from ..backend import xp
from . import _special
from ._core import register_method
from ._helpers import out_, raw
from ._out import dtype_name
from ._table import binary, unary, variant
from .inplace import inplace_apply
from .special import digamma, lgamma
from .unary import exp, log

__all__ = ["igamma", "igammac", "mvlgamma", "zeta"]

_LOG_PI = math.log(math.pi)


def _f64(fn):
    """``fn`` (a SciPy function of two float64 arrays) in the dtype of the array operand."""
    def f(x, y):
        first = x if hasattr(x, "dtype") else y
        m = xp(first)
        out = fn(m.asarray(x, dtype=m.float64), m.asarray(y, dtype=m.float64))
        return m.asarray(out).astype(first.dtype, copy=False)

    return f


def _scipy(name):
    def fn(x, y):
        from scipy import special

        return getattr(special, name)(x, y)

    return _f64(fn)


def _not_implemented(what):
    def not_in_pytorch(x):
        raise NotImplementedError(f"the derivative for '{what}' is not implemented.")

    return not_in_pytorch


def _other_only(cls, what):
    """Forward mode for an op differentiated in its second input only: the row's rule for
    that input. Inputs without a tangent reach a jvp as zeros, which contribute nothing
    whatever the derivative; a nonzero tangent of the first input raises."""
    row_jvp = cls.jvp

    def jvp(ctx, tangent_x, tangent_y):
        t = raw(tangent_x)
        if t is not None and xp(t).any(t != 0):
            raise NotImplementedError(f"the derivative for '{what}' is not implemented.")
        return row_jvp(ctx, None, tangent_y)

    cls.jvp = jvp


def _float_kernel(op):
    """check: PyTorch's kernel runs on floating dtypes only (igamma of two Long tensors)."""
    def check(x, y):
        for a in (x, y):
            kind = getattr(getattr(a, "dtype", None), "kind", "f")
            if kind != "f":
                raise NotImplementedError(f'"{op}_cpu" not implemented for '
                                          f"'{dtype_name(a.dtype)}'")

    return check


def _no_half(x, y):
    """check: PyTorch's zeta kernel has no float16 or complex version."""
    for a in (x, y):
        dt = getattr(a, "dtype", None)
        if dt is not None and ((dt.kind == "f" and dt.itemsize == 2) or dt.kind == "c"):
            raise NotImplementedError(f"\"zeta_cpu\" not implemented for '{dtype_name(dt)}'")


# ---------------------------------------------------------------------- the rows

igamma = binary("igamma", _scipy("gammainc"),
                # d/dy P(x, y) = y^(x - 1) e^(-y) / Gamma(x), in logs (no overflow at large x)
                d=(_not_implemented("igamma: input"),
                   lambda x, y: exp((x - 1) * log(y) - y - lgamma(x))),
                check=_float_kernel("igamma"), quiet=True, tensors_only=True,
                doc="The regularized lower incomplete gamma function P(input, other).")
igammac = binary("igammac", _scipy("gammaincc"),
                 d=(_not_implemented("igammac: input"),
                    lambda x, y: -exp((x - 1) * log(y) - y - lgamma(x))),
                 check=_float_kernel("igammac"), quiet=True, tensors_only=True,
                 doc="The regularized upper incomplete gamma function Q(input, other).")
_zeta_row = binary("zeta", _scipy("zeta"),
                   d=(_not_implemented("zeta"), lambda x, y: -x * _hurwitz(x + 1, y)),
                   check=_no_half, to_float=True, quiet=True, cls="SpecialZeta",
                   node="SpecialZetaBackward0", method=False, inplace=False,
                   doc="Hurwitz's zeta function: the sum over k >= 0 of (k + other)^-input.")
Igamma, Igammac, SpecialZeta = igamma.primitive, igammac.primitive, _zeta_row.primitive
_other_only(Igamma, "igamma: input")
_other_only(Igammac, "igammac: input")
_other_only(SpecialZeta, "zeta")
SpecialZetaScalarSelf = variant(_zeta_row, "SpecialZetaScalarSelf", "SpecialZetaBackward1")
SpecialZetaScalarOther = variant(_zeta_row, "SpecialZetaScalarOther", "SpecialZetaBackward2")


def _hurwitz(x, q):
    """zeta on Tensors or on arrays and numbers (the derivative's call, in either backward)."""
    return SpecialZeta.generic(x, q)


def zeta(input, other, *, out=None):
    """Hurwitz's zeta(input, other); one of the two may be a number.
    d/dother = -input * zeta(input + 1, other); PyTorch has no derivative in input."""
    if isinstance(input, Tensor):
        cls = SpecialZeta if isinstance(other, Tensor) else SpecialZetaScalarOther
    elif isinstance(other, Tensor):
        cls = SpecialZetaScalarSelf
    else:
        raise TypeError(
            "special_zeta() received an invalid combination of arguments - got "
            f"({type(input).__name__}, {type(other).__name__}), but expected one of:\n"
            " * (Tensor input, Tensor other, *, Tensor out = None)\n"
            " * (Number self, Tensor other, *, Tensor out = None)\n"
            " * (Tensor self, Number other, *, Tensor out = None)\n")
    return out_(cls.generic(input, other), out)


# ---------------------------------------------------------------------- mvlgamma

def _mvlgamma(x, p=1):
    """sum over i < p of lgamma(x - i / 2), plus p (p - 1) / 4 log(pi)."""
    m = xp(x)
    total = m.full(x.shape, p * (p - 1) / 4 * _LOG_PI)
    for i in range(p):
        total = total + _special.lgamma(x - i / 2)
    return total.astype(x.dtype, copy=False)


def _mvdigamma(x, p):
    """d/dx mvlgamma(x, p) = sum over i < p of digamma(x - i / 2)."""
    total = digamma(x)
    # int(): a NaN-safe row hands numbers to its derivative as 0-d arrays (or Tensors).
    for i in range(1, int(p)):
        total = total + digamma(x - i / 2)
    return total


_mvlgamma_row = unary("mvlgamma", _mvlgamma, d=_mvdigamma, attrs={"p": 1}, nan_safe=True,
                      quiet=True, method=False, inplace=False,
                      doc="The multivariate log-gamma function of dimension p.")
Mvlgamma = _mvlgamma_row.primitive


def _check_mvlgamma(input, p) -> None:
    if isinstance(p, bool) or not isinstance(p, int):
        raise TypeError(f"mvlgamma(): argument 'p' (position 2) must be int, not "
                        f"{type(p).__name__}")
    if not isinstance(input, Tensor):
        raise TypeError(f"mvlgamma(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if input.dtype == dtypes.bool:
        raise RuntimeError("The input tensor may not be a boolean tensor.")
    if input.is_complex():
        raise NotImplementedError(f"\"mvlgamma_cpu\" not implemented for "
                                  f"'{dtype_name(input._data.dtype)}'")
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")


@register_method("mvlgamma")
def mvlgamma(input, p, *, out=None):
    """log of the multivariate gamma function of dimension ``p``: sum over i < p of
    lgamma(input - i / 2) + p (p - 1) / 4 log(pi).
    d/dinput = sum over i < p of digamma(input - i / 2)."""
    _check_mvlgamma(input, p)
    return _mvlgamma_row(input, p=p, out=out)


@register_method("mvlgamma_")
def mvlgamma_(self, p):
    _check_mvlgamma(self, p)
    return inplace_apply(Mvlgamma, self, p=p)
