"""Rounding as rows (see ``_table``): ceil, round, frac, and nan_to_num. Their derivatives
are 0 (rounding steps) or 1 (frac, and nan_to_num where the input is finite)."""

from __future__ import annotations

from ..backend import xp
from ._core import register_method
from ._helpers import int_arg, no_bool, out_, raw
from ._table import unary
from .comparison import _TYPE_WORD
from .inplace import inplace_apply

__all__ = ["ceil", "frac", "nan_to_num", "round"]


def _floats_only(name):
    def check(x):
        if x.dtype.kind != "f":
            raise NotImplementedError(
                f'"{name}_cpu" not implemented for \'{_TYPE_WORD.get(x.dtype.name)}\'')

    return check


def _ceil(x):
    no_bool("ceil", x)
    return xp(x).ceil(x) if x.dtype.kind == "f" else x.copy()


def _round(x):
    no_bool("round", x)
    return xp(x).rint(x) if x.dtype.kind == "f" else x.copy()


def _round_decimals(x, decimals=0):
    return xp(x).round(x, decimals)


def _nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    return xp(x).nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


def _finite(x):
    """1 where x is finite, else 0 (a constant mask)."""
    a = raw(x)
    return xp(a).isfinite(a)


# ---------------------------------------------------------------------- the rows

ceil = unary("ceil", _ceil, d=0, floating=False,
             doc="The smallest integer >= input (integer dtypes unchanged).")
_round_row = unary("round", _round, d=0, floating=False, method=False, inplace=False,
                   doc="input rounded half to even.")
_round_decimals_row = unary("round", _round_decimals, d=0, floating=False,
                            attrs={"decimals": 0}, check=_floats_only("round"), quiet=True,
                            cls="RoundDecimals", node="RoundBackward1", method=False,
                            inplace=False, doc="input rounded half to even to ``decimals`` places.")
frac = unary("frac", lambda x: x - xp(x).trunc(x), d=1, floating=False,
             check=_floats_only("frac"), quiet=True, doc="input - trunc(input).")
_nan_to_num_row = unary("nan_to_num", _nan_to_num, d=lambda x: _finite(x), floating=False,
                        attrs={"nan": 0.0, "posinf": None, "neginf": None}, method=False,
                        inplace=False,
                        doc="NaN, +inf and -inf replaced by numbers.")
Round, RoundDecimals = _round_row.primitive, _round_decimals_row.primitive
NanToNum = _nan_to_num_row.primitive


@register_method("round")
def round(input, *, decimals=0, out=None):
    """Round half to even; ``decimals`` places when given (negative: tens, hundreds...).

    >>> import retrograd as torch
    >>> torch.round(torch.tensor([0.5, 1.5, 2.567]), decimals=0)
    tensor([0., 2., 3.])
    """
    decimals = int_arg("round", "decimals", decimals)
    if decimals == 0:
        return _round_row(input, out=out)
    return _round_decimals_row(input, decimals=decimals, out=out)


@register_method("nan_to_num")
def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    """NaN -> ``nan``, +inf -> ``posinf`` (default: the dtype's max), -inf -> ``neginf``
    (default: the dtype's min)."""
    return out_(NanToNum.generic(input, nan=nan, posinf=posinf, neginf=neginf), out)


@register_method("round_")
def round_(self, *, decimals=0):
    if decimals == 0:
        return inplace_apply(Round, self)
    return inplace_apply(RoundDecimals, self, decimals=decimals)


@register_method("nan_to_num_")
def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
    return inplace_apply(NanToNum, self, nan=nan, posinf=posinf, neginf=neginf)
