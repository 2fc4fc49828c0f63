"""Binary arithmetic: add, sub, mul, div, pow, remainder, as rows (see ``_table``), and the
operators that call them; ``matmul``/``mm`` (and the ``@`` operator) live in ``products``.

Gradients are written for same-shape inputs; the engine sums them back over broadcast
dimensions and casts them to each input's dtype.

NaN-safe rows: the gradients of div and pow (at a zero divisor or base) are exactly 0
where the incoming gradient is exactly 0; PyTorch gives NaN there (0 * inf).
"""

from __future__ import annotations

import operator

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ..backend import xp
from ._core import register_method, result_dtype
from ._helpers import not_a_tensor, out_, require_self_tensor
from ._table import binary, unary, variant
from .inplace import _type_word, inplace_apply
from .products import matmul, mm
from .unary import log, sqrt, where

__all__ = ["add", "div", "divide", "float_power", "floor_divide", "fmod", "matmul", "mm", "mul",
           "multiply", "neg", "negative", "pow", "remainder", "rsub", "sub", "subtract",
           "true_divide"]

_out = out_  # the out= writer, under the name other op modules import


# ---------------------------------------------------------------------- forward helpers

def _add(x, y, alpha=1):
    if alpha == 1:
        return x + y
    dx, dy = getattr(x, "dtype", None), getattr(y, "dtype", None)
    if dx is not None and dy is not None and dx.kind == dy.kind == "b":
        return x | (y & bool(alpha))  # an int alpha does not promote bools (PyTorch)
    return x + alpha * y


def _sub(x, y, alpha=1):
    # (apply already refused bool operands, before promotion could hide them)
    return x - y if alpha == 1 else x - alpha * y


def _neg(x):
    if _is_bool(x):
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    return -x


def _div_mode(x, y, rounding_mode="floor"):
    _no_bool("div_" + rounding_mode, x, y)
    m = xp(x) if hasattr(x, "dtype") else xp(y)
    if _integral(x) and _integral(y):
        _check_zero_division(y)
        q = m.floor_divide(x, y)
        if rounding_mode == "trunc":
            # floor and trunc differ by one where the signs differ and there is a remainder.
            q = q + ((m.remainder(x, y) != 0) & ((m.asarray(x) < 0) != (m.asarray(y) < 0)))
        return m.asarray(q).astype(m.result_type(x, y), copy=False)
    if rounding_mode == "trunc":
        return m.trunc(x / y)
    return m.floor_divide(x, y)


def _modulo(name, ufunc):
    def f(x, y):
        _no_bool(name, x, y)
        if _integral(x) and _integral(y):
            _check_zero_division(y)
        m = xp(x) if hasattr(x, "dtype") else xp(y)
        return getattr(m, ufunc)(x, y)

    return f


def _pow_scalar(x, y):
    return _bool_pow(x, y, _power(x, y))


def _pow_tensor(x, y):
    if _is_bool(x) and _is_bool(y):
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    return _bool_pow(x, y, x ** y)


def _pow_dy(x, y, out):
    """d/dy x**y = x**y log(x), 0 where x == 0 and y >= 0 (as PyTorch)."""
    zero = (x == 0) & (y >= 0)
    # log of a stand-in 1 where masked, so double backward meets no 0 * inf.
    safe_x = where(zero, 1.0, x) if hasattr(x, "dtype") else (1.0 if x == 0 else x)
    return where(zero, 0.0, out * log(safe_x))


# ---------------------------------------------------------------------- checks

def _check_zero_division(y):
    if (xp(y).asarray(y) == 0).any():
        raise RuntimeError("ZeroDivisionError")


def _check_bool_sub(x, y) -> None:
    bx, by = _is_bool(x), _is_bool(y)
    if bx and by:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the "
            "`^` or `logical_xor()` operator instead.")
    if bx or by:
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or `logical_not()` operator instead.")


def _no_bool(name, x, y) -> None:
    """Called after promotion: a bool array here means a bool result dtype."""
    if getattr(x, "dtype", None) == np.bool_ or getattr(y, "dtype", None) == np.bool_:
        raise NotImplementedError(f'"{name}_cpu" not implemented for \'Bool\'')


def _is_bool(v) -> bool:
    if isinstance(v, Tensor):
        v = v._data
    kind = getattr(getattr(v, "dtype", None), "kind", None)
    return kind == "b" if kind is not None else isinstance(v, bool)


def _pow_d(x, y):
    """d/dx x ** y for a number y: y * x ** (y - 1), with x ** -0.5 as 1 / sqrt(x)."""
    if y == 0:
        return x * 0
    return y * _power(x, y - 1)


def _power(x, e):
    """x ** e as PyTorch computes it on floats: e = -0.5 is 1 / sqrt(x) (NaN at -inf, -inf
    at -0), where C's pow gives 0 and +inf; NumPy already treats e = 0.5 as sqrt."""
    if e == -0.5 and getattr(x, "_data", x).dtype.kind in "fc":
        return 1 / sqrt(x)
    return x ** e


def _check_int_pow(x, y) -> None:
    if isinstance(y, int) and not isinstance(y, bool) and y < 0 and _integral(x):
        raise RuntimeError("Integers to negative integer powers are not allowed.")


def _bool_pow(x, y, out):
    """NumPy gives int8 for bool ** bool; PyTorch keeps bool."""
    if _is_bool(x) and _is_bool(y):
        return xp(out).asarray(out).astype(np.bool_)
    return out


def _integral(v) -> bool:
    kind = getattr(getattr(v, "dtype", None), "kind", None)
    if kind is not None:
        return kind in "biu"
    return isinstance(v, int)


# ---------------------------------------------------------------------- the rows

_add_row = binary("add", _add, d=(1, lambda alpha: alpha), attrs={"alpha": 1}, method=False,
                  inplace=False, plain=operator.add, operator="__add__",
                  doc="input + alpha * other.")
_sub_row = binary("sub", _sub, d=(1, lambda alpha: -alpha), attrs={"alpha": 1}, method=False,
                  inplace=False, check_bool=_check_bool_sub, plain=operator.sub,
                  operator="__sub__", doc="input - alpha * other.")
mul = multiply = binary("mul", operator.mul, d=(lambda y: y, lambda x: x),
                        aliases=("multiply",), inplace=False, operator="__mul__",
                        doc="input * other, elementwise.")
_div_row = binary("div", operator.truediv, d=(lambda y: 1 / y, lambda x, y: -x / (y * y)),
                  nan_safe=True, quiet=True, to_float=True, method=False, inplace=False,
                  operator="__truediv__",
                  doc="input / other (integers give the default float dtype).")
_div_mode_row = binary("div", _div_mode, d=(0, 0), attrs={"rounding_mode": "floor"},
                       quiet=True, cls="DivMode", node="DivBackward2", method=False,
                       inplace=False, doc="input / other rounded toward zero or down.")
_remainder_row = binary(
    "remainder", _modulo("remainder", "remainder"),
    d=(1, lambda x, y: -_div_mode_row(x, y, rounding_mode="floor")), quiet=True,
    node="RemainderBackward1", method=False, inplace=False,
    doc="x - floor(x / y) * y: the sign of y, as Python's %.")
_fmod_row = binary(
    "fmod", _modulo("fmod", "fmod"),
    d=(1, lambda x, y: -_div_mode_row(x, y, rounding_mode="trunc")), quiet=True,
    node="FmodBackward1", method=False, inplace=False,
    doc="x - trunc(x / y) * y: the sign of x, as C's fmod.")
neg = negative = unary("neg", _neg, d=-1, floating=False, aliases=("negative",),
                       operator="__neg__", doc="-input.")
_pow_row = binary("pow", _pow_scalar,
                  d=(lambda x, y: _pow_d(x, y), None),
                  check=_check_int_pow, nan_safe=True, quiet=True,
                  method=False, inplace=False, doc="x ** y, y a number.")
_pow_tensor_row = binary(
    "pow", _pow_tensor, d=(lambda x, y: where(y == 0, 0.0, y * x ** (y - 1)), _pow_dy),
    nan_safe=True, quiet=True, cls="PowTensor", node="PowBackward1", method=False,
    inplace=False, doc="x ** y, both Tensors.")

Add, Sub, Mul, Div = (_add_row.primitive, _sub_row.primitive, mul.primitive,
                      _div_row.primitive)
DivMode, Neg, Pow, PowTensor = (_div_mode_row.primitive, neg.primitive, _pow_row.primitive,
                                _pow_tensor_row.primitive)
Remainder, Fmod = _remainder_row.primitive, _fmod_row.primitive
RemainderScalar = variant(_remainder_row, "RemainderScalar", "RemainderBackward0")
FmodScalar = variant(_fmod_row, "FmodScalar", "FmodBackward0")
PowScalarBase = variant(_pow_tensor_row, "PowScalarBase", "PowBackward2")


class FloorDivide(DivMode):
    """``floor_divide`` / ``//``: like PyTorch, it has no derivative."""

    __slots__ = ()
    formula = "not differentiable"
    _name = "torch::autograd::NotImplemented"

    def backward(ctx, grad):
        raise RuntimeError("the derivative for 'floor_divide' is not implemented.")

    def jvp(ctx, *tangents):
        raise RuntimeError("the derivative for 'floor_divide' is not implemented.")


# ---------------------------------------------------------------------- public functions

def _check_alpha(input, other, alpha, op="add") -> None:
    if type(alpha) is int and alpha == 1:  # the default, first: add is the hot path
        return
    if not isinstance(alpha, (int, float, complex, np.number, Tensor)):
        raise TypeError(f"{op}(): argument 'alpha' must be Number, not {type(alpha).__name__}")
    if alpha == 1 and not isinstance(alpha, bool):
        return
    cat = result_dtype((input, other)).category
    if cat == 1 and isinstance(alpha, float):
        raise RuntimeError(
            "For integral input tensors, argument alpha must not be a floating point number.")
    if cat != 0 and isinstance(alpha, bool):
        raise RuntimeError("Boolean alpha only supported for Boolean results.")


def _check_rounding(rounding_mode) -> None:
    if not isinstance(rounding_mode, str):
        raise TypeError(f"div(): argument 'rounding_mode' must be str or None, not "
                        f"{type(rounding_mode).__name__}")
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"'{rounding_mode}'"
        )


@register_method("add")
def add(input, other, *, alpha=1, out=None):
    """input + alpha * other, broadcasting, with PyTorch's type promotion.

    >>> import retrograd as torch
    >>> torch.add(torch.tensor([1, 2]), torch.tensor([10, 20]), alpha=2)
    tensor([21, 42])
    """
    _check_alpha(input, other, alpha)
    return out_(Add.generic(input, other, alpha=alpha), out)


@register_method("sub", "subtract")
def sub(input, other, *, alpha=1, out=None):
    """input - alpha * other."""
    _check_alpha(input, other, alpha, "sub")
    return out_(Sub.generic(input, other, alpha=alpha), out)


@register_method("div", "divide", "true_divide")
def div(input, other, *, rounding_mode=None, out=None):
    """input / other (integers give the default float dtype); ``rounding_mode`` 'trunc' or
    'floor' rounds the quotient, keeps integer dtypes and has zero gradient."""
    if rounding_mode is None:
        return out_(Div.generic(input, other), out)
    _check_rounding(rounding_mode)
    return out_(DivMode.generic(input, other, rounding_mode=rounding_mode), out)


@register_method("floor_divide")
def floor_divide(input, other, *, out=None):
    """input / other rounded down (Python's ``//``); not differentiable, as in PyTorch."""
    return out_(FloorDivide.generic(input, other, rounding_mode="floor"), out)


def _remainder_cls(other):
    return Remainder if isinstance(other, Tensor) else RemainderScalar


def _fmod_cls(other):
    return Fmod if isinstance(other, Tensor) else FmodScalar


@register_method("remainder")
def remainder(input, other, *, out=None):
    """Python's modulus: the result has the sign of ``other``."""
    require_self_tensor("remainder", input, other, number_self=True)
    return out_(_remainder_cls(other).generic(input, other), out)


@register_method("fmod")
def fmod(input, other, *, out=None):
    """C's fmod: the result has the sign of ``input``."""
    require_self_tensor("fmod", input, other)
    return out_(_fmod_cls(other).generic(input, other), out)


def _pow_cls(input, exponent):
    if isinstance(exponent, Tensor):
        return PowTensor if isinstance(input, Tensor) else PowScalarBase
    return Pow


def pow(input, exponent, *, out=None):
    """input ** exponent (either may be a Tensor)."""
    require_self_tensor("pow", input, exponent, number_self=True)
    _check_int_pow(input._data if isinstance(input, Tensor) else input, exponent)
    return out_(_pow_cls(input, exponent).generic(input, exponent), out)


@register_method("pow")
def _pow_method(self, exponent):
    return pow(self, exponent)


@register_method("float_power")
def float_power(input, exponent, *, out=None):
    """input ** exponent computed in double precision (complex128 for complex inputs)."""
    require_self_tensor("float_power", input, exponent, number_self=True)
    return out_(pow(_to_double(input), _to_double(exponent)), out)


def _to_double(v):
    if isinstance(v, Tensor):

        return v.to(_dtype.complex128 if v._data.dtype.kind == "c" else _dtype.float64)
    return v


def rsub(input, other, *, alpha=1):
    """other - alpha * input."""
    require_self_tensor("rsub", input, other)
    return Sub.generic(other, input, alpha=alpha)


subtract, true_divide, divide = sub, div, div


# ---------------------------------------------------------------------- operators

_OPERANDS = (Tensor, int, float, bool, complex, np.ndarray, np.number)


def _operand(fn, reflected=False):
    """An operator method: NotImplemented for operands a Tensor does not take (and, as in
    PyTorch, for a call such as ``Tensor.__rmod__(2, 3)`` that has no Tensor at all)."""
    def method(self, other):
        if not isinstance(other, _OPERANDS) or \
                not (isinstance(self, Tensor) or isinstance(other, Tensor)):
            return NotImplemented
        return fn(other, self) if reflected else fn(self, other)

    return method


def _radd(s, o):
    if not isinstance(s, Tensor):  # only an explicit unbound call gets here without one
        raise not_a_tensor("__radd__", s)
    return Add.apply(o, s)


def _rsub(s, o):
    if not isinstance(s, Tensor):
        return NotImplemented  # PyTorch's __rsub__ answers NotImplemented here
    return Sub.apply(o, s)


def _rmul(s, o):
    if not isinstance(s, Tensor):
        raise not_a_tensor("__rmul__", s)
    return Mul.apply(o, s)


# __add__, __sub__, __mul__, __truediv__ and __neg__ come with their rows (``operator=``).
register_method("__radd__")(_radd)
register_method("__rsub__")(_rsub)
register_method("__rmul__")(_rmul)
register_method("__rtruediv__")(lambda s, o: Div.apply(o, s))
register_method("__pos__")(lambda s: s)
register_method("__pow__")(
    lambda s, o: Pow.apply(s, o) if type(o) is float else _operand(pow)(s, o))
register_method("__rpow__")(_operand(pow, reflected=True))
register_method("__floordiv__")(_operand(floor_divide))
register_method("__rfloordiv__")(_operand(floor_divide, reflected=True))
register_method("__mod__")(_operand(remainder))
register_method("__rmod__")(_operand(remainder, reflected=True))


# ---------------------------------------------------------------------- in-place forms

@register_method("add_", "__iadd__")
def add_(self, other, *, alpha=1):
    _check_alpha(self, other, alpha)
    return inplace_apply(Add, self, other, alpha=alpha)


@register_method("sub_", "subtract_", "__isub__")
def sub_(self, other, *, alpha=1):
    _check_alpha(self, other, alpha)
    return inplace_apply(Sub, self, other, alpha=alpha)


@register_method("mul_", "multiply_", "__imul__")
def mul_(self, other):
    return inplace_apply(Mul, self, other)


@register_method("div_", "divide_", "true_divide_", "__itruediv__")
def div_(self, other, *, rounding_mode=None):
    if rounding_mode is None:
        return inplace_apply(Div, self, other)
    _check_rounding(rounding_mode)
    return inplace_apply(DivMode, self, other, rounding_mode=rounding_mode)


@register_method("floor_divide_", "__ifloordiv__")
def floor_divide_(self, other):
    return inplace_apply(FloorDivide, self, other, rounding_mode="floor")


@register_method("remainder_", "__imod__")
def remainder_(self, other):
    return inplace_apply(_remainder_cls(other), self, other)


@register_method("fmod_")
def fmod_(self, other):
    return inplace_apply(_fmod_cls(other), self, other)


@register_method("pow_", "__ipow__")
def pow_(self, exponent):
    return inplace_apply(_pow_cls(self, exponent), self, exponent)


@register_method("float_power_")
def float_power_(self, exponent):
    if self._data.dtype != np.float64 and self._data.dtype.kind != "c":

        raise RuntimeError(f"the base given to float_power_ has dtype {_type_word(self.dtype)} "
                           "but the operation's result requires dtype Double")
    return inplace_apply(_pow_cls(self, exponent), self, _to_double(exponent))
