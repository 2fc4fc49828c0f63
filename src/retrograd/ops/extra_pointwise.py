"""Elementwise ops PyTorch users reach for that the core tables lack, as rows (see ``_table``):
copysign, heaviside, nextafter, gcd, lcm, signbit, positive, ldexp and frexp (sgn: ops.complex).

heaviside takes no gradient and nextafter passes it to input unchanged, as PyTorch; gcd, lcm
and signbit give integers or bools and are plain functions (never recorded).
"""

from __future__ import annotations

import numpy as np

from .._dtype import get_default_dtype
from .._tensor import Tensor, wrap
from ..backend import xp
from ._core import register_method, replayable
from ._helpers import pick, require_tensors
from ._table import binary
from .complex import sgn

__all__ = ["copysign", "frexp", "gcd", "heaviside", "lcm", "ldexp", "nextafter", "positive",
           "signbit"]


def _copysign_kernel(x, y):
    return xp(x).copysign(x, y)


def _copysign_slope(x, y):
    """d/dx copysign(x, y) = +-1: 1 where x's sign already is y's, else -1 (0 at x == 0,
    as PyTorch, where the kink is)."""
    m = xp(x if not isinstance(x, Tensor) else x._data)
    xa = x._data if isinstance(x, Tensor) else x
    ya = y._data if isinstance(y, Tensor) else y
    same = m.signbit(xa) == m.signbit(ya)
    return pick(xa == 0, 0.0, m.where(same, 1.0, -1.0).astype(m.result_type(xa, 1.0)))


def _kinds_only(name, kinds: str, number):
    """A check refusing inputs whose dtype kind is not in ``kinds`` (numbers count as
    ``number``'s dtype), with PyTorch's "not implemented for" error."""
    def check(x, y):
        for a in (x, y):
            if getattr(a, "dtype", number).kind not in kinds:
                raise NotImplementedError(f'"{name}_cpu" not implemented for '
                                          f"'{_torch_name(a.dtype)}'")
    return check


def _integer_only(name):
    return _kinds_only(name, "iub", np.dtype(np.int64))


def _float_only(name):
    return _kinds_only(name, "f", np.dtype(np.float64))


def _torch_name(npd) -> str:
    return {"float64": "Double", "float32": "Float", "float16": "Half"}.get(str(npd), str(npd))


def _heaviside_check(x, y):
    if getattr(x, "dtype", None) != getattr(y, "dtype", None):
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes")


# ---------------------------------------------------------------------- the rows

def _check_input(name, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(x).__name__}")


_copysign_row = binary("copysign", _copysign_kernel, d=(_copysign_slope, 0), to_float=True,
                       doc="|input| with the sign of other.  d/dinput = +-1, d/dother = 0.")
heaviside = binary("heaviside", "heaviside", d=(None, None), promote=False,
                   check=_heaviside_check, tensors_only=True,
                   doc="0 where input < 0, values where input == 0, 1 where input > 0 "
                       "(no gradient).")
nextafter = binary("nextafter", "nextafter", d=(1, 0), check=_float_only("nextafter"),
                   tensors_only=True,
                   doc="The next float after input toward other.  d/dinput = 1, "
                       "d/dother = 0 (as PyTorch).")


# gcd, lcm and signbit give integers or bools: never differentiable, so never recorded as
# nodes (plain functions on arrays, not rows).

def _integer_pair(name, input, other):
    require_tensors(name, input, other)
    x, y = input._data, other._data
    _integer_only(name)(x, y)
    return x, y


def _on_arrays(name, *arrays):
    """``xp.<name>(*arrays)`` as an array; through ``replayable`` so that a capturing
    compile computes it again on the replayed arrays."""
    m = xp(arrays[0])
    return m.asarray(getattr(m, name)(*arrays))


def gcd(input, other, *, out=None):
    """Elementwise greatest common divisor of integer tensors (broadcast)."""
    x, y = _integer_pair("gcd", input, other)
    return _into(wrap(replayable(_on_arrays, "gcd", x, y)), out)


def lcm(input, other, *, out=None):
    """Elementwise least common multiple of integer tensors (broadcast)."""
    x, y = _integer_pair("lcm", input, other)
    return _into(wrap(replayable(_on_arrays, "lcm", x, y)), out)


def signbit(input, *, out=None):
    """Whether the sign bit is set (True for -0.0 and negative numbers); a bool tensor."""
    return _into(wrap(replayable(_on_arrays, "signbit", input._data)), out)


def _into(result, out):
    if out is None:
        return result
    if out.shape != result.shape:
        out.resize_(result.shape)
    out.copy_(result)
    return out


def copysign(input, other, *, out=None):
    """|input| with the sign of other (a float result).  d/dinput = +-1, d/dother = 0."""
    _check_input("copysign", input)
    return _copysign_row(input, other, out=out)


def positive(input):
    """input itself (not a copy); refuses bool tensors, as PyTorch."""
    if input.dtype is not None and input._data.dtype == np.bool_:
        raise TypeError("The `+` operator, on a bool tensor is not supported.")
    return input


def ldexp(input, other, *, out=None):
    """input * 2 ** other (float result).  d/dinput = 2 ** other, d/dother = out * ln 2."""
    from .arithmetic import mul, pow

    require_tensors("ldexp", input, other)
    x = input if input.is_floating_point() or input.is_complex() else \
        input.to(get_default_dtype())
    result = mul(x, pow(2.0, other))
    if out is not None:
        out.copy_(result)
        return out
    return result


def frexp(input, *, out=None):
    """(mantissa, exponent) with input = mantissa * 2 ** exponent, |mantissa| in [0.5, 1)
    (no gradient, as PyTorch)."""
    data = input._data
    if data.dtype.kind != "f":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    exponent = xp(data).frexp(data)[1]
    # mantissa = input * 2 ** -exponent, exponent a constant: d mantissa / d input = 2 ** -e.
    scale = wrap(np.ldexp(np.ones((), data.dtype), -exponent).astype(data.dtype))
    result = _FrexpResult((input * scale, wrap(exponent.astype(np.int32))))
    if out is not None:
        out[0].copy_(result[0])
        out[1].copy_(result[1])
        return _FrexpResult(out)
    return result


class _FrexpResult(tuple):
    """torch.return_types.frexp: a tuple with .mantissa and .exponent."""

    __slots__ = ()

    @property
    def mantissa(self):
        return self[0]

    @property
    def exponent(self):
        return self[1]


register_method("gcd")(gcd)
register_method("lcm")(lcm)
register_method("signbit")(signbit)
register_method("positive")(positive)
register_method("ldexp")(ldexp)
register_method("frexp")(frexp)


@register_method("sgn_")
def sgn_(self):
    return self.copy_(sgn(self))


@register_method("gcd_")
def gcd_(self, other):
    return self.copy_(gcd(self, other))


@register_method("lcm_")
def lcm_(self, other):
    return self.copy_(lcm(self, other))


@register_method("ldexp_")
def ldexp_(self, other):
    return self.mul_(2.0 ** other if not isinstance(other, Tensor) else other.exp2())
