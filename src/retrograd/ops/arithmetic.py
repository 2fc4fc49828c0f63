"""Binary arithmetic: add, sub, mul, div, pow, matmul, and the operators that call them.

Gradients are written for same-shape inputs; the engine sums them back over broadcast
dimensions and casts them to each input's dtype.

NaN-safe masking: the gradients of div and pow (at a zero divisor or base) are exactly 0
where the incoming gradient is exactly 0; PyTorch gives NaN there (0 * inf).
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..backend import xp
from ._core import Primitive, register_method
from .inplace import inplace_apply

__all__ = ["add", "div", "divide", "float_power", "floor_divide", "fmod", "matmul", "mm", "mul",
           "multiply", "neg", "negative", "pow", "remainder", "rsub", "sub", "subtract",
           "true_divide"]


class Add(Primitive):
    """x + alpha * y.  d/dx = 1, d/dy = alpha."""

    __slots__ = ("alpha",)
    promote = True
    formula = "grad, alpha * grad"

    def forward(ctx, x, y, alpha=1):
        ctx.alpha = alpha
        return x + y if alpha == 1 else x + alpha * y

    def backward(ctx, grad):
        return grad, grad if ctx.alpha == 1 else grad * ctx.alpha

    def jvp(ctx, tx, ty):
        return _add_opt(tx, None if ty is None else ty * ctx.alpha)


class Sub(Primitive):
    """x - alpha * y.  d/dx = 1, d/dy = -alpha."""

    __slots__ = ("alpha",)
    promote = True
    formula = "grad, -alpha * grad"

    @classmethod
    def apply(cls, *args, **attrs):
        _check_bool_sub(*args)
        return super().apply(*args, **attrs)

    def forward(ctx, x, y, alpha=1):
        # (apply already refused bool operands, before promotion could hide them)
        ctx.alpha = alpha
        return x - y if alpha == 1 else x - alpha * y

    def backward(ctx, grad):
        return grad, -grad if ctx.alpha == 1 else grad * -ctx.alpha

    def jvp(ctx, tx, ty):
        return _add_opt(tx, None if ty is None else ty * -ctx.alpha)


class Mul(Primitive):
    """x * y.  d/dx = y, d/dy = x."""

    __slots__ = ()
    promote = True
    formula = "grad * y, grad * x"

    def forward(ctx, x, y):
        ctx.save(x, y)
        return x * y

    def backward(ctx, grad):
        x, y = ctx.saved
        nx, ny = ctx.needs_input_grad
        return grad * y if nx else None, grad * x if ny else None

    def jvp(ctx, tx, ty):
        x, y = ctx.saved
        return _add_opt(None if tx is None else tx * y, None if ty is None else ty * x)


class Div(Primitive):
    """x / y.  d/dx = 1 / y, d/dy = -x / y**2."""

    __slots__ = ()
    promote = True
    formula = "grad / y, -grad * x / y**2"

    @classmethod
    def apply(cls, *args, **attrs):
        if all(_integral(a._data if isinstance(a, Tensor) else a) for a in args):
            # True division of integers gives the default float dtype, as in PyTorch; cast
            # before promotion so a Python int never wraps into a small integer dtype.
            args = tuple(_as_float(a) for a in args)
        return super().apply(*args, **attrs)

    def forward(ctx, x, y):
        if _integral(x) and _integral(y):
            # True division of integers gives the default float dtype, as in PyTorch.
            f = _default_float()
            x = x.astype(f) if hasattr(x, "astype") else float(x)
            y = y.astype(f) if hasattr(y, "astype") else float(y)
        ctx.save(x, y)
        with _quiet():  # x / 0 is inf or NaN without a warning, as in PyTorch
            return x / y

    def backward(ctx, grad):
        x, y = ctx.saved
        nx, ny = ctx.needs_input_grad
        with _quiet():
            gx = _nan_safe(grad, grad / y) if nx else None
            gy = _nan_safe(grad, -grad * x / (y * y)) if ny else None
        return gx, gy

    def jvp(ctx, tx, ty):
        x, y = ctx.saved
        with _quiet():
            return _add_opt(None if tx is None else _safe_div(tx, y),
                            None if ty is None else _nan_safe(ty, -ty * x / (y * y)))


class DivMode(Primitive):
    """x / y rounded toward zero ('trunc') or down ('floor'); exact for integers.
    d/dx = d/dy = 0 (PyTorch gives zero gradients)."""

    __slots__ = ()
    promote = True
    formula = "0, 0"
    _name = "DivBackward2"

    def forward(ctx, x, y, rounding_mode="floor"):
        _no_bool("div_" + rounding_mode, x, y)
        m = xp(x) if hasattr(x, "dtype") else xp(y)
        if _integral(x) and _integral(y):
            _check_zero_division(y)
            q = m.floor_divide(x, y)
            if rounding_mode == "trunc":
                # floor and trunc differ by one where the signs differ and there is a remainder.
                q = q + ((m.remainder(x, y) != 0) & ((m.asarray(x) < 0) != (m.asarray(y) < 0)))
            return m.asarray(q).astype(m.result_type(x, y), copy=False)
        with _quiet():
            if rounding_mode == "trunc":
                return m.trunc(x / y)
            return m.floor_divide(x, y)

    def backward(ctx, grad):
        return grad * 0, grad * 0

    def jvp(ctx, tx, ty):
        return (tx if tx is not None else ty) * 0


class FloorDivide(DivMode):
    """``floor_divide`` / ``//``: like PyTorch, it has no derivative."""

    __slots__ = ()
    formula = "not differentiable"
    _name = "torch::autograd::NotImplemented"

    def backward(ctx, grad):
        raise RuntimeError("the derivative for 'floor_divide' is not implemented.")

    def jvp(ctx, tx, ty):
        raise RuntimeError("the derivative for 'floor_divide' is not implemented.")


class Remainder(Primitive):
    """x - floor(x / y) * y (the sign of y, as Python's %).  d/dx = 1,
    d/dy = -floor(x / y)."""

    __slots__ = ()
    promote = True
    formula = "grad, -grad * floor(x / y)"
    _name = "RemainderBackward1"

    def forward(ctx, x, y):
        _no_bool((type(ctx).rounding == "floor" and "remainder") or "fmod", x, y)
        ctx.save(x, y)
        if _integral(x) and _integral(y):
            _check_zero_division(y)
        with _quiet():
            return type(ctx).ufunc(x, y)

    @staticmethod
    def ufunc(x, y):
        return xp(x).remainder(x, y) if hasattr(x, "dtype") else xp(y).remainder(x, y)

    def backward(ctx, grad):
        x, y = ctx.saved
        nx, ny = ctx.needs_input_grad
        return (grad if nx else None,
                -grad * DivMode.generic(x, y, rounding_mode=ctx.rounding) if ny else None)

    rounding = "floor"

    def jvp(ctx, tx, ty):
        x, y = ctx.saved
        if ty is None:
            return tx
        return _add_opt(tx, -ty * DivMode.generic(x, y, rounding_mode=ctx.rounding))


class RemainderScalar(Remainder):
    __slots__ = ()
    _name = "RemainderBackward0"


class Fmod(Remainder):
    """x - trunc(x / y) * y (the sign of x, as C's fmod).  d/dx = 1, d/dy = -trunc(x / y)."""

    __slots__ = ()
    formula = "grad, -grad * trunc(x / y)"
    _name = "FmodBackward1"
    rounding = "trunc"

    @staticmethod
    def ufunc(x, y):
        return xp(x).fmod(x, y) if hasattr(x, "dtype") else xp(y).fmod(x, y)


class FmodScalar(Fmod):
    __slots__ = ()
    _name = "FmodBackward0"


def _as_float(a):
    from .._tensor import wrap

    if isinstance(a, Tensor):
        return wrap(a._data.astype(_default_float()))
    return float(a) if a is not None else a


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


class Neg(Primitive):
    """-x.  d/dx = -1."""

    __slots__ = ()
    formula = "-grad"

    def forward(ctx, x):
        if _is_bool(x):
            raise RuntimeError(
                "Negation, the `-` operator, on a bool tensor is not supported. If you are "
                "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
        return -x

    def backward(ctx, grad):
        return -grad

    def jvp(ctx, tx):
        return -tx


class Pow(Primitive):
    """x ** y, y a number.  d/dx = y * x**(y-1) (0 when y == 0)."""

    __slots__ = ()
    promote = True
    formula = "grad * y * x**(y - 1)"

    def forward(ctx, x, y):
        _check_int_pow(x, y)
        ctx.save(x, y)
        with _quiet():
            return _bool_pow(x, y, x ** y)

    def backward(ctx, grad):
        x, y = ctx.saved
        if y == 0:
            return grad * 0, None
        with _quiet():
            return _nan_safe(grad, grad * y * x ** (y - 1)), None

    def jvp(ctx, tx, ty):
        return ctx.backward(tx)[0]


class PowTensor(Primitive):
    """x ** y, both Tensors (or a number base).  d/dx = y * x**(y-1) (0 where y == 0);
    d/dy = x**y * log(x) (0 where x == 0 and y >= 0, as PyTorch)."""

    __slots__ = ()
    promote = True
    formula = "grad * y * x**(y - 1), grad * out * log(x)"
    _name = "PowBackward1"

    def forward(ctx, x, y):
        if _is_bool(x) and _is_bool(y):
            raise NotImplementedError("\"pow\" not implemented for 'Bool'")
        with _quiet():
            out = _bool_pow(x, y, x ** y)
        ctx.save(x, y, out)
        return out

    def backward(ctx, grad):
        x, y, out = ctx.saved
        nx, ny = ctx.needs_input_grad
        return _pow_partials(grad, x, y, out, nx, ny)

    def jvp(ctx, tx, ty):
        x, y, out = ctx.saved
        a = None if tx is None else _pow_partials(tx, x, y, out, True, False)[0]
        b = None if ty is None else _pow_partials(ty, x, y, out, False, True)[1]
        return _add_opt(a, b)


class PowScalarBase(PowTensor):
    """number ** y."""

    __slots__ = ()
    _name = "PowBackward2"


def _check_int_pow(x, y) -> None:
    if isinstance(y, int) and not isinstance(y, bool) and y < 0 and _integral(x):
        raise RuntimeError("Integers to negative integer powers are not allowed.")


def _bool_pow(x, y, out):
    """NumPy gives int8 for bool ** bool; PyTorch keeps bool."""
    if _is_bool(x) and _is_bool(y):
        return xp(out).asarray(out).astype(np.bool_)
    return out


def _pow_partials(grad, x, y, out, nx, ny):
    from .unary import log, where

    gx = gy = None
    with _quiet():
        if nx:
            gx = _nan_safe(grad, where(y == 0, 0.0, grad * y * x ** (y - 1)))
        if ny:
            zero = (x == 0) & (y >= 0)
            # log of a stand-in 1 where masked, so double backward meets no 0 * inf.
            safe_x = where(zero, 1.0, x) if hasattr(x, "dtype") else (1.0 if x == 0 else x)
            gy = _nan_safe(grad, where(zero, 0.0, grad * out * log(safe_x)))
    return gx, gy


class MatMul(Primitive):
    """x @ y.  d/dx = grad @ y^T, d/dy = x^T @ grad (1-d operands treated as rows/columns)."""

    __slots__ = ()
    promote = True
    formula = "grad @ y^T, x^T @ grad"

    def forward(ctx, x, y):
        if x.ndim == 0 or y.ndim == 0:
            raise RuntimeError(
                f"both arguments to matmul need to be at least 1D, but they are {x.ndim}D and "
                f"{y.ndim}D"
            )
        ctx.save(x, y)
        return x @ y

    def backward(ctx, grad):
        x, y = ctx.saved
        nx, ny = ctx.needs_input_grad
        if x.ndim == 1 and y.ndim == 1:
            return (grad * y if nx else None), (grad * x if ny else None)
        if x.ndim == 1:
            # (k) @ (..., k, n): batch dims of gx are summed away by the engine.
            gx = _squeeze(y @ _unsqueeze(grad, -1), -1) if nx else None
            gy = _unsqueeze(x, -1) @ _unsqueeze(grad, -2) if ny else None
            return gx, gy
        if y.ndim == 1:
            gx = _unsqueeze(grad, -1) @ _unsqueeze(y, -2) if nx else None
            gy = _squeeze(_mT(x) @ _unsqueeze(grad, -1), -1) if ny else None
            return gx, gy
        gx = grad @ _mT(y) if nx else None
        gy = _mT(x) @ grad if ny else None
        return gx, gy

    def jvp(ctx, tx, ty):
        x, y = ctx.saved
        return _add_opt(None if tx is None else tx @ y, None if ty is None else x @ ty)


class Mm(MatMul):
    """``mm``: MatMul restricted to 2-d operands; recorded as MmBackward0."""

    __slots__ = ()


def _add_opt(a, b):
    """a + b where either may be None (an input without a tangent)."""
    if a is None:
        return b
    return a if b is None else a + b


def _mT(a):
    from .shape import transpose

    return transpose(a, -1, -2)


def _unsqueeze(a, dim):
    from .shape import unsqueeze

    return unsqueeze(a, dim)


def _squeeze(a, dim):
    from .shape import squeeze

    return squeeze(a, dim)


def _integral(v) -> bool:
    kind = getattr(getattr(v, "dtype", None), "kind", None)
    if kind is not None:
        return kind in "biu"
    return isinstance(v, int)


def _quiet():
    return np.errstate(divide="ignore", invalid="ignore", over="ignore")


def _nan_safe(grad, value):
    from .unary import nan_safe

    return nan_safe(grad, value)


def _safe_div(grad, denom):
    from .unary import safe_div

    return safe_div(grad, denom)


def _default_float():
    from .._dtype import get_default_dtype

    return get_default_dtype()._np


# ---------------------------------------------------------------------- public functions


def _check_alpha(input, other, alpha) -> None:
    if alpha == 1 and not isinstance(alpha, bool):
        return
    from ._core import result_dtype

    cat = result_dtype((input, other)).category
    if cat == 1 and isinstance(alpha, float):
        raise RuntimeError(
            "For integral input tensors, argument alpha must not be a floating point number.")
    if cat != 0 and isinstance(alpha, bool):
        raise RuntimeError("Boolean alpha only supported for Boolean results.")


def add(input, other, *, alpha=1, out=None):
    """input + alpha * other, broadcasting, with PyTorch's type promotion.

    >>> import retrograd as torch
    >>> torch.add(torch.tensor([1, 2]), torch.tensor([10, 20]), alpha=2)
    tensor([21, 42])
    """
    _check_alpha(input, other, alpha)
    return _out(Add.generic(input, other, alpha=alpha), out)


def sub(input, other, *, alpha=1, out=None):
    """input - alpha * other."""
    _check_alpha(input, other, alpha)
    return _out(Sub.generic(input, other, alpha=alpha), out)


def mul(input, other, *, out=None):
    """input * other, elementwise."""
    return _out(Mul.generic(input, other), out)


def div(input, other, *, rounding_mode=None, out=None):
    """input / other (integers give the default float dtype); ``rounding_mode`` 'trunc' or
    'floor' rounds the quotient, keeps integer dtypes and has zero gradient."""
    if rounding_mode is None:
        return _out(Div.generic(input, other), out)
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"'{rounding_mode}'"
        )
    return _out(DivMode.generic(input, other, rounding_mode=rounding_mode), out)


def floor_divide(input, other, *, out=None):
    """input / other rounded down (Python's ``//``); not differentiable, as in PyTorch."""
    return _out(FloorDivide.generic(input, other, rounding_mode="floor"), out)


def remainder(input, other, *, out=None):
    """Python's modulus: the result has the sign of ``other``."""
    cls = Remainder if isinstance(other, Tensor) else RemainderScalar
    return _out(cls.generic(input, other), out)


def fmod(input, other, *, out=None):
    """C's fmod: the result has the sign of ``input``."""
    cls = Fmod if isinstance(other, Tensor) else FmodScalar
    return _out(cls.generic(input, other), out)


def neg(input, *, out=None):
    """-input."""
    return _out(Neg.generic(input), out)


def _pow_cls(input, exponent):
    if isinstance(exponent, Tensor):
        return PowTensor if isinstance(input, Tensor) else PowScalarBase
    return Pow


def pow(input, exponent, *, out=None):
    """input ** exponent (either may be a Tensor)."""
    _check_int_pow(input._data if isinstance(input, Tensor) else input, exponent)
    return _out(_pow_cls(input, exponent).generic(input, exponent), out)


def float_power(input, exponent, *, out=None):
    """input ** exponent computed in double precision (complex128 for complex inputs)."""
    return _out(pow(_to_double(input), _to_double(exponent)), out)


def _to_double(v):
    if isinstance(v, Tensor):
        from .. import _dtype

        return v.to(_dtype.complex128 if v._data.dtype.kind == "c" else _dtype.float64)
    return v


def matmul(input, other, *, out=None):
    """Matrix product with NumPy's broadcasting rules for batches and 1-d operands."""
    return _out(MatMul.generic(input, other), out)


def mm(input, mat2, *, out=None):
    """Product of two 2-d matrices."""
    if input.dim() != 2 or mat2.dim() != 2:
        raise RuntimeError(f"mm(): self must be a matrix (got {input.dim()}-D and "
                           f"{mat2.dim()}-D tensors)")
    if input.shape[1] != mat2.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({input.shape[0]}x{input.shape[1]} "
            f"and {mat2.shape[0]}x{mat2.shape[1]})"
        )
    return _out(Mm.generic(input, mat2), out)


def rsub(input, other, *, alpha=1):
    return Sub.generic(other, input, alpha=alpha)


def _out(result, out):
    if out is None:
        return result
    if out.shape != result.shape:
        out.resize_(result.shape)
    with _no_grad():
        out.copy_(result)
    return out


def _no_grad():
    from ..autograd.grad_mode import no_grad

    return no_grad()


subtract, multiply, true_divide, divide, negative = sub, mul, div, div, neg


# ---------------------------------------------------------------------- Tensor methods

def _swap(fn):
    def reflected(self, other):
        return fn(other, self)

    return reflected


def _matmul_method(self, other):
    if not isinstance(other, (Tensor, np.ndarray)):
        return NotImplemented
    return matmul(self, other)


def _rmatmul_method(self, other):
    if not isinstance(other, (Tensor, np.ndarray)):
        return NotImplemented
    return matmul(other, self)


def _binary_dunder(fn, reflected=False):
    def method(self, other):
        if not isinstance(other, (Tensor, int, float, bool, complex, np.ndarray, np.number)):
            return NotImplemented
        return fn(other, self) if reflected else fn(self, other)

    return method


_pow_dunder = _binary_dunder(pow)


def _pow_method(self, exponent):
    return pow(self, exponent)


for _name, _fn in {
    "add": add, "sub": sub, "mul": mul, "div": div, "neg": neg, "pow": _pow_method,
    "matmul": matmul, "mm": mm, "subtract": sub, "multiply": mul, "divide": div,
    "true_divide": div, "negative": neg, "floor_divide": floor_divide, "remainder": remainder,
    "fmod": fmod, "float_power": float_power,
    "__add__": lambda s, o: Add.apply(s, o), "__radd__": lambda s, o: Add.apply(o, s),
    "__sub__": lambda s, o: Sub.apply(s, o), "__rsub__": lambda s, o: Sub.apply(o, s),
    "__mul__": lambda s, o: Mul.apply(s, o), "__rmul__": lambda s, o: Mul.apply(o, s),
    "__truediv__": lambda s, o: Div.apply(s, o), "__rtruediv__": lambda s, o: Div.apply(o, s),
    "__pow__": lambda s, o: Pow.apply(s, o) if type(o) is float else _pow_dunder(s, o),
    "__rpow__": _binary_dunder(pow, True),
    "__matmul__": _matmul_method, "__rmatmul__": _rmatmul_method,
    "__neg__": lambda s: Neg.apply(s), "__pos__": lambda s: s,
    "__floordiv__": _binary_dunder(floor_divide),
    "__rfloordiv__": _binary_dunder(floor_divide, True),
    "__mod__": _binary_dunder(remainder), "__rmod__": _binary_dunder(remainder, True),
}.items():
    register_method(_name)(_fn)


def _inplace(cls_of):
    def method(self, other, **attrs):
        return inplace_apply(cls_of(self, other), self, other, **attrs)

    return method


def _fixed(cls):
    return lambda self, other: cls


for _name, _cls_of in {
    "mul_": _fixed(Mul), "multiply_": _fixed(Mul), "div_": _fixed(Div), "divide_": _fixed(Div),
    "true_divide_": _fixed(Div), "pow_": _pow_cls, "__imul__": _fixed(Mul),
    "__itruediv__": _fixed(Div), "__ipow__": _pow_cls,
    "floor_divide_": _fixed(FloorDivide), "__ifloordiv__": _fixed(FloorDivide),
    "remainder_": lambda s, o: Remainder if isinstance(o, Tensor) else RemainderScalar,
    "__imod__": lambda s, o: Remainder if isinstance(o, Tensor) else RemainderScalar,
    "fmod_": lambda s, o: Fmod if isinstance(o, Tensor) else FmodScalar,
}.items():
    register_method(_name)(_inplace(_cls_of))


def _add_inplace(cls):
    def method(self, other, *, alpha=1):
        _check_alpha(self, other, alpha)
        return inplace_apply(cls, self, other, alpha=alpha)

    return method


for _name, _cls in {"add_": Add, "__iadd__": Add, "sub_": Sub, "subtract_": Sub,
                    "__isub__": Sub}.items():
    register_method(_name)(_add_inplace(_cls))


@register_method("div_", "divide_")
def div_(self, other, *, rounding_mode=None):
    if rounding_mode is None:
        return inplace_apply(Div, self, other)
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"'{rounding_mode}'"
        )
    return inplace_apply(DivMode, self, other, rounding_mode=rounding_mode)


@register_method("float_power_")
def float_power_(self, exponent):
    if self._data.dtype != np.float64 and self._data.dtype.kind != "c":
        raise RuntimeError(f"the base given to float_power_ has dtype {_type_name(self)} but "
                           "the operation's result requires dtype Double")
    return inplace_apply(_pow_cls(self, exponent), self, _to_double(exponent))


def _type_name(t) -> str:
    from .inplace import _type_word

    return _type_word(t.dtype)


register_method("neg_", "negative_")(lambda self: inplace_apply(Neg, self))
