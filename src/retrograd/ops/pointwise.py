"""The rest of PyTorch's elementwise math. The unary families live in their own modules
(transcendental, special, rounding) and are re-exported here; the binary and ternary ops
beyond plain arithmetic are rows here (see ``_table``).

NaN-safe rows: at atan2's, hypot's and xlogy's singular points and addcdiv's zero divisor,
an incoming gradient of exactly 0 contributes exactly 0, where PyTorch gives NaN.
"""

from __future__ import annotations

from .._tensor import Tensor
from ..backend import xp
from ._core import register_method
from ._helpers import number_arg, out_, pick, require_self_tensor, require_tensors
from ._out import dtype_name
from ._table import binary, ternary, variant
from .comparison import _TYPE_WORD
from .inplace import inplace_apply
from .rounding import ceil, frac, nan_to_num, round
from .special import digamma, erf, erfc, erfinv, lgamma, logit, polygamma
from .transcendental import (
    acos,
    acosh,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctanh,
    asin,
    asinh,
    atan,
    atanh,
    cosh,
    deg2rad,
    exp2,
    expm1,
    log1p,
    log2,
    log10,
    rad2deg,
    reciprocal,
    rsqrt,
    sinc,
    sinh,
    square,
    tan,
)
from .unary import exp
from .where import where

__all__ = ["acos", "acosh", "addcdiv", "addcmul", "arccos", "arccosh", "arcsin", "arcsinh",
           "arctan", "arctan2", "arctanh", "asin", "asinh", "atan", "atan2", "atanh", "ceil",
           "cosh", "deg2rad", "digamma", "erf", "erfc", "erfinv", "exp2", "expm1", "fmax",
           "fmin", "frac", "hypot", "lerp", "lgamma", "log1p", "log2", "log10", "logaddexp",
           "logaddexp2", "logit", "maximum", "minimum", "nan_to_num", "polygamma", "xlogy",
           "rad2deg", "reciprocal", "require_tensors", "round", "rsqrt", "sinc", "sinh",
           "square", "tan"]


def _float_only(name):
    """PyTorch implements these for floating dtypes only."""
    def check(*arrays):
        for a in arrays:
            kind = getattr(getattr(a, "dtype", None), "kind", "f")
            if kind not in "fc":
                raise NotImplementedError(
                    f'"{name}_cpu" not implemented for \'{_TYPE_WORD.get(a.dtype.name)}\'')

    return check


def _xlogy(x, y):
    m = xp(x) if hasattr(x, "dtype") else xp(y)
    out = m.where((m.asarray(x) == 0) & ~m.isnan(y), 0.0, x * m.log(y))
    return m.asarray(out).astype(m.result_type(x, y), copy=False)


def _logaddexp(x, y):
    """NumPy's logaddexp; for complex values big + log1p(exp(small - big)), big the operand
    of larger real part (PyTorch's value: the imaginary part is big's, not wrapped)."""
    m = xp(x) if hasattr(x, "dtype") else xp(y)
    x, y = m.asarray(x), m.asarray(y)
    if m.result_type(x, y).kind != "c":
        return m.logaddexp(x, y)
    first = x.real >= y.real
    big, small = m.where(first, x, y), m.where(first, y, x)
    return big + m.log1p(m.exp(small - big))


def _cplx(x) -> bool:
    return getattr(x, "_data", x).dtype.kind == "c"


def _lerp(x, y, weight=0.5):
    """PyTorch's two-sided formula: exact at both ends (w = 0 gives x, w = 1 gives y)."""
    m = xp(x)
    small = m.abs(weight) < 0.5
    out = m.where(small, x + weight * (y - x), y - (y - x) * (1 - weight))
    return m.asarray(out).astype(m.result_type(x, y), copy=False)


def _addcmul(x, t1, t2, value=1):
    return x + value * (t1 * t2) if value != 1 else x + t1 * t2


def _addcdiv(x, t1, t2, value=1):
    return x + value * (t1 / t2)


# ---------------------------------------------------------------------- binary rows

def _atan2_scale(x, y):
    """1 / (x**2 + y**2), and 0 at the origin: atan2's gradient there is a signed zero, as
    in PyTorch (not 0/0)."""
    denom = x * x + y * y
    return where(denom == 0, 0.0, 1 / denom)


atan2 = arctan2 = binary(
    "atan2", "arctan2",
    d=(lambda x, y: y * _atan2_scale(x, y), lambda x, y: -x * _atan2_scale(x, y)),
    to_float=True, floating=True, nan_safe=True, quiet=True, tensors_only=True,
    aliases=("arctan2",), doc="The angle of (other, input) in radians, in [-pi, pi].")
hypot = binary("hypot", "hypot", d=(lambda x, out: x / out, lambda y, out: y / out),
               check=_float_only("hypot"), nan_safe=True, quiet=True, tensors_only=True,
               doc="sqrt(input**2 + other**2) without overflow.")
# Ties split the gradient half and half; at a NaN both inputs get all of it (as PyTorch).
maximum = binary("maximum", "maximum",
                 d=(lambda x, y: pick(x < y, 0.0, pick(x == y, 0.5, 1.0)),
                    lambda x, y: pick(x > y, 0.0, pick(x == y, 0.5, 1.0))),
                 tensors_only=True, inplace=False,
                 doc="Elementwise maximum; NaN wins; ties split the gradient.")
minimum = binary("minimum", "minimum",
                 d=(lambda x, y: pick(x > y, 0.0, pick(x == y, 0.5, 1.0)),
                    lambda x, y: pick(x < y, 0.0, pick(x == y, 0.5, 1.0))),
                 tensors_only=True, inplace=False,
                 doc="Elementwise minimum; NaN wins; ties split the gradient.")
# The chosen input gets all of the gradient: x on ties and where y is NaN.
fmax = binary("fmax", "fmax",
              d=(lambda x, y: pick((x >= y) | (y != y), 1.0, 0.0),
                 lambda x, y: pick((x >= y) | (y != y), 0.0, 1.0)),
              tensors_only=True, inplace=False,
              doc="Elementwise maximum ignoring NaN (NaN only where both are NaN).")
fmin = binary("fmin", "fmin",
              d=(lambda x, y: pick((x <= y) | (y != y), 1.0, 0.0),
                 lambda x, y: pick((x <= y) | (y != y), 0.0, 1.0)),
              tensors_only=True, inplace=False, doc="Elementwise minimum ignoring NaN.")
# d/dx is log(y) where x != 0 (or y is NaN) and 0 elsewhere: xlogy(x != 0, y).
_xlogy_row = binary("xlogy", _xlogy, d=(lambda x, y: xlogy(x != 0, y), lambda x, y: x / y),
                    to_float=True, floating=True, nan_safe=True, quiet=True, method=False,
                    inplace=False, doc="input * log(other), 0 where input is 0.")
logaddexp = binary("logaddexp", _logaddexp,
                   # complex: exp(x - out), the same value without exp(y - x)'s overflow
                   d=(lambda x, y, out: exp(x - out) if _cplx(x) else 1 / (1 + exp(y - x)),
                      lambda x, y, out: exp(y - out) if _cplx(y) else 1 / (1 + exp(x - y))),
                   check=_float_only("logaddexp"), quiet=True, tensors_only=True,
                   inplace=False, doc="log(exp(input) + exp(other)) without overflow.")
logaddexp2 = binary("logaddexp2", "logaddexp2",
                    d=(lambda x, y: 1 / (1 + exp2(y - x)), lambda x, y: 1 / (1 + exp2(x - y))),
                    check=_float_only("logaddexp2"), quiet=True, tensors_only=True,
                    inplace=False, doc="log2(2**input + 2**other) without overflow.")
Xlogy = _xlogy_row.primitive
XlogyScalarSelf = variant(_xlogy_row, "XlogyScalarSelf", "XlogyBackward1")
XlogyScalarOther = variant(_xlogy_row, "XlogyScalarOther", "XlogyBackward2")

# ---------------------------------------------------------------------- ternary rows

_lerp_row = binary("lerp", _lerp, d=(lambda weight: 1 - weight, lambda weight: weight),
                   attrs={"weight": 0.5}, cls="Lerp", node="LerpBackward0", method=False,
                   inplace=False, doc="input + weight * (end - input), weight a number.")
_lerp_tensor_row = ternary("lerp", _lerp, d=(lambda w: 1 - w, lambda w: w, lambda x, y: y - x),
                           inputs=("x", "y", "w"), cls="LerpTensor", node="LerpBackward1",
                           method=False, inplace=False,
                           doc="input + weight * (end - input), weight a Tensor.")
_addcmul_row = ternary("addcmul", _addcmul,
                       d=(1, lambda t2, value: t2 * value, lambda t1, value: t1 * value),
                       inputs=("x", "t1", "t2"), attrs={"value": 1}, method=False,
                       inplace=False, doc="input + value * tensor1 * tensor2.")
_addcdiv_row = ternary("addcdiv", _addcdiv,
                       d=(1, lambda t2, value: value / t2,
                          lambda t1, t2, value: -value * t1 / (t2 * t2)),
                       inputs=("x", "t1", "t2"), attrs={"value": 1}, nan_safe=True,
                       quiet=True, method=False, inplace=False,
                       doc="input + value * tensor1 / tensor2.")
Lerp, LerpTensor = _lerp_row.primitive, _lerp_tensor_row.primitive
Addcmul, Addcdiv = _addcmul_row.primitive, _addcdiv_row.primitive


# ---------------------------------------------------------------------- public functions

def _xlogy_cls(input, other):
    if not isinstance(input, Tensor):
        return XlogyScalarSelf
    return Xlogy if isinstance(other, Tensor) else XlogyScalarOther


@register_method("xlogy")
def xlogy(input, other, *, out=None):
    """input * log(other), 0 where input is 0 (unless other is NaN)."""
    require_self_tensor("xlogy", input, other, number_self=True)
    return out_(_xlogy_cls(input, other).generic(input, other), out)


@register_method("lerp")
def lerp(input, end, weight, *, out=None):
    """input + weight * (end - input); ``weight`` a number or a Tensor."""
    number_arg("lerp", "weight", weight)
    _float_lerp(input, weight)
    _same_dtype(input, end, "end")
    if isinstance(weight, Tensor):
        _same_dtype(input, weight, "weight")
        return out_(LerpTensor.generic(input, end, weight), out)
    return out_(Lerp.generic(input, end, weight=weight), out)


@register_method("addcmul")
def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 * tensor2."""
    return out_(Addcmul.generic(input, tensor1, tensor2, value=value), out)


@register_method("addcdiv")
def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 / tensor2 (true division; integer tensor1 and tensor2 are
    refused, as in PyTorch)."""
    _check_addcdiv(tensor1, tensor2)
    return out_(Addcdiv.generic(input, tensor1, tensor2, value=value), out)


def _float_lerp(input, weight) -> None:
    """PyTorch's lerp kernels exist for floating and complex dtypes only."""
    kind = input._data.dtype.kind if isinstance(input, Tensor) else "f"
    if kind not in "fc":
        kernel = "lerp_kernel_tensor" if isinstance(weight, Tensor) else "lerp_kernel_scalar"
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{dtype_name(input._data.dtype)}'")


def _same_dtype(input, other, what):
    if isinstance(input, Tensor) and isinstance(other, Tensor) and input.dtype != other.dtype:
        raise RuntimeError(f"expected dtype {_c10_name(input)} for `{what}` but got dtype "
                           f"{_c10_name(other)}")


def _c10_name(t) -> str:
    names = {"float16": "c10::Half", "float32": "float", "float64": "double",
             "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
             "uint8": "unsigned char", "bool": "bool"}
    return names.get(t._data.dtype.name, t._data.dtype.name)


def _check_addcdiv(t1, t2):
    if all(isinstance(t, Tensor) and t._data.dtype.kind in "biu" for t in (t1, t2)):
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future release "
            "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
            "behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2))."
            "to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) for "
            "float inputs. The future addcdiv behavior is just the latter implementation: "
            "(input + value * tensor1 / tensor2), for all dtypes.")


# ---------------------------------------------------------------------- in-place forms

@register_method("xlogy_")
def xlogy_(self, other):
    return inplace_apply(_xlogy_cls(self, other), self, other)


@register_method("lerp_")
def lerp_(self, end, weight):
    _float_lerp(self, weight)
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

