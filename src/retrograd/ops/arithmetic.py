"""Binary arithmetic: add, sub, mul, div, pow, matmul, and the operators that call them.

Gradients are written for same-shape inputs; the engine sums them back over broadcast
dimensions and casts them to each input's dtype.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ._core import Primitive, register_method
from .inplace import inplace_apply

__all__ = ["add", "div", "divide", "matmul", "mm", "mul", "multiply", "neg", "negative", "pow",
           "rsub", "sub", "subtract", "true_divide"]


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

    def forward(ctx, x, y, alpha=1):
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

    def forward(ctx, x, y):
        if _integral(x) and _integral(y):
            # True division of integers gives the default float dtype, as in PyTorch.
            f = _default_float()
            x = x.astype(f) if hasattr(x, "astype") else float(x)
            y = y.astype(f) if hasattr(y, "astype") else float(y)
        ctx.save(x, y)
        return x / y

    def backward(ctx, grad):
        x, y = ctx.saved
        nx, ny = ctx.needs_input_grad
        gx = grad / y if nx else None
        gy = -grad * x / (y * y) if ny else None
        return gx, gy

    def jvp(ctx, tx, ty):
        x, y = ctx.saved
        return _add_opt(None if tx is None else tx / y,
                        None if ty is None else -ty * x / (y * y))


class Neg(Primitive):
    """-x.  d/dx = -1."""

    __slots__ = ()
    formula = "-grad"

    def forward(ctx, x):
        return -x

    def backward(ctx, grad):
        return -grad

    def jvp(ctx, tx):
        return -tx


class Pow(Primitive):
    """x ** y.  d/dx = y * x**(y-1), d/dy = x**y * log(x) (0 where x == 0)."""

    __slots__ = ()
    promote = True
    formula = "grad * y * x**(y - 1), grad * out * log(x)"

    def forward(ctx, x, y):
        if isinstance(y, int) and not isinstance(y, bool) and y < 0 \
                and getattr(x, "dtype", np.dtype("f")).kind in "iu":
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        out = x ** y
        ctx.save(x, y, out)
        return out

    def backward(ctx, grad):
        from .unary import log, where

        x, y, out = ctx.saved
        nx, ny = ctx.needs_input_grad
        gx = gy = None
        if nx:
            if isinstance(y, (int, float)) and y == 0:
                gx = grad * 0.0
            else:
                gx = grad * y * x ** (y - 1)
        if ny:
            # PyTorch: the gradient w.r.t. the exponent is 0 where the base is 0.
            gy = where(x == 0, 0.0, grad * out * log(where(x == 0, 1.0, x)))
        return gx, gy

    def jvp(ctx, tx, ty):
        from .unary import log, where

        x, y, out = ctx.saved
        a = None if tx is None else tx * y * x ** (y - 1)
        b = None if ty is None else ty * where(x == 0, 0.0, out * log(where(x == 0, 1.0, x)))
        return _add_opt(a, b)


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


def _default_float():
    from .._dtype import get_default_dtype

    return get_default_dtype()._np


# ---------------------------------------------------------------------- public functions


def add(input, other, *, alpha=1, out=None):
    """input + alpha * other, broadcasting, with PyTorch's type promotion."""
    return _out(Add.generic(input, other, alpha=alpha), out)


def sub(input, other, *, alpha=1, out=None):
    """input - alpha * other."""
    return _out(Sub.generic(input, other, alpha=alpha), out)


def mul(input, other, *, out=None):
    """input * other, elementwise."""
    return _out(Mul.generic(input, other), out)


def div(input, other, *, rounding_mode=None, out=None):
    """input / other; ``rounding_mode`` 'trunc' or 'floor' rounds the quotient."""
    if rounding_mode is None:
        return _out(Div.generic(input, other), out)
    from . import unary

    q = Div.generic(input, other)
    if rounding_mode == "trunc":
        res = unary.trunc(q)
    elif rounding_mode == "floor":
        res = unary.floor(q)
    else:
        raise ValueError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"'{rounding_mode}'"
        )
    if isinstance(input, Tensor) and input._data.dtype.kind in "iu" and (
            not isinstance(other, Tensor) or other._data.dtype.kind in "iu") and \
            not isinstance(other, float):
        res = res.to(input.dtype)
    return _out(res, out)


def neg(input, *, out=None):
    return _out(Neg.generic(input), out)


def pow(input, exponent, *, out=None):
    """input ** exponent (either may be a Tensor)."""
    return _out(Pow.generic(input, exponent), out)


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


def _floordiv(self, other):
    return div(self, other, rounding_mode="floor")


for _name, _fn in {
    "add": add, "sub": sub, "mul": mul, "div": div, "neg": neg, "pow": pow,
    "matmul": matmul, "mm": mm, "subtract": sub, "multiply": mul, "divide": div,
    "true_divide": div, "negative": neg,
    "__add__": lambda s, o: Add.apply(s, o), "__radd__": lambda s, o: Add.apply(o, s),
    "__sub__": lambda s, o: Sub.apply(s, o), "__rsub__": lambda s, o: Sub.apply(o, s),
    "__mul__": lambda s, o: Mul.apply(s, o), "__rmul__": lambda s, o: Mul.apply(o, s),
    "__truediv__": lambda s, o: Div.apply(s, o), "__rtruediv__": lambda s, o: Div.apply(o, s),
    "__pow__": lambda s, o: Pow.apply(s, o), "__rpow__": lambda s, o: Pow.apply(o, s),
    "__matmul__": _matmul_method, "__rmatmul__": _rmatmul_method,
    "__neg__": lambda s: Neg.apply(s), "__pos__": lambda s: s,
    "__floordiv__": _floordiv, "__rfloordiv__": _swap(_floordiv),
}.items():
    register_method(_name)(_fn)

for _name, _cls in {"add_": Add, "sub_": Sub, "mul_": Mul, "div_": Div, "pow_": Pow,
                    "__iadd__": Add, "__isub__": Sub, "__imul__": Mul, "__itruediv__": Div,
                    "__ipow__": Pow}.items():
    def _method(self, other, *, alpha=None, _cls=_cls):
        if alpha is None:
            return inplace_apply(_cls, self, other)
        return inplace_apply(_cls, self, other, alpha=alpha)

    register_method(_name)(_method)

register_method("neg_", "negative_")(lambda self: inplace_apply(Neg, self))
register_method("subtract_")(lambda self, other, *, alpha=1: inplace_apply(Sub, self, other,
                                                                              alpha=alpha))
register_method("multiply_")(lambda self, other: inplace_apply(Mul, self, other))
