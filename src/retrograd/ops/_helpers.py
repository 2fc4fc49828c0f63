"""Helpers of the elementwise ops and their derivatives: PyTorch's dtype rules for float
math, NaN-safe masking of gradients, and the ``out=`` writer."""

from __future__ import annotations

import operator

import numpy as np

from .._dtype import get_default_dtype
from .._tensor import Tensor, wrap
from ..autograd.grad_mode import no_grad
from ..backend import xp
from .where import where

__all__ = ["as_float", "check_fill_value", "floating", "int_arg", "int_list", "nan_safe",
           "no_bool", "not_a_tensor", "out_", "pick", "quiet", "raw", "require_self_tensor",
           "require_tensors"]

_QUIET = {"divide": "ignore", "invalid": "ignore", "over": "ignore"}


def quiet():
    """Silence NumPy's warnings for the infinities and NaNs that PyTorch returns quietly."""
    return np.errstate(**_QUIET)


def floating(x):
    """Float math on integer or bool input computes in the default float dtype, as PyTorch."""
    kind = getattr(getattr(x, "dtype", None), "kind", "f")
    if kind in "biu":

        return x.astype(get_default_dtype()._np)
    return x


def no_bool(name: str, x) -> None:
    """PyTorch implements these ops for numbers, not for bool tensors."""
    if getattr(x, "dtype", None) == np.bool_:
        raise NotImplementedError(f'"{name}_cpu" not implemented for \'Bool\'')


def nan_safe(grad, value):
    """``value`` (a gradient formula's result), but exactly 0 where the incoming ``grad`` is
    exactly 0: an infinite or NaN local derivative times a zero gradient contributes nothing.
    This differs from PyTorch, which gives NaN there (DESIGN, "NaN-safe masking")."""
    if isinstance(value, Tensor) or isinstance(grad, Tensor):
        return _mask_nonfinite(grad, value)
    m = xp(value)
    value = m.asarray(value)
    return m.where(grad == 0, 0, value).astype(value.dtype, copy=False)


def _mask_nonfinite(grad, value):
    """The differentiable (create_graph) form of the NaN-safe mask: zero only where the
    incoming gradient is 0 and the value is not finite, so second-order terms elsewhere
    (where the gradient is 0 but its own derivative is not) survive."""
    g = grad._data if isinstance(grad, Tensor) else grad
    v = value._data if isinstance(value, Tensor) else value
    m = xp(v)
    mask = (g == 0) & ~m.isfinite(v)
    if not mask.any():
        return value
    return where(wrap(m.asarray(mask)), 0, value)


def raw(v):
    """The array behind a Tensor (a derivative's piecewise-constant masks are constants)."""
    return v._data if isinstance(v, Tensor) else v


def pick(cond, a, b):
    """``a`` where ``cond`` else ``b``, as a constant array (for derivatives that are
    piecewise constant, such as the tie-splitting of maximum)."""
    c = raw(cond)
    return xp(c).where(c, a, b)


def out_(result, out):
    """Write ``result`` into the ``out=`` tensor (resized as PyTorch does) and return it."""
    if out is None:  # the common case: nothing to do
        return result
    if out.shape != result.shape:
        out.resize_(result.shape)

    with no_grad():
        out.copy_(result)
    return out


def as_float(a):
    """A Tensor or number in the default float dtype (integer math that must be float)."""
    if isinstance(a, Tensor):
        return wrap(a._data.astype(get_default_dtype()._np))
    return float(a) if a is not None else a


def require_tensors(name, *args):
    """PyTorch's signature for these ops takes Tensors only."""
    for pos, (what, v) in enumerate(zip(("input", "other"), args), 1):
        if not isinstance(v, Tensor):
            raise TypeError(f"{name}(): argument '{what}' (position {pos}) must be Tensor, not "
                            f"{type(v).__name__}")


_NUMBERS = (bool, int, float, complex)


def require_self_tensor(name, input, other, *, number_self=False):
    """PyTorch's argument parser: ``input`` must be a Tensor, or (``number_self``, where the
    op has a Scalar-self form such as ``pow(2, t)``) a number with a Tensor ``other``.
    Raw arrays pass: backward formulas call the same functions on arrays."""
    if type(input) not in _NUMBERS:
        return
    if number_self and isinstance(other, Tensor):
        return
    raise TypeError(f"{name}() received an invalid combination of arguments - got "
                    f"({type(input).__name__}, {type(other).__name__}): 'input' must be a "
                    f"Tensor" + (" (or 'other' when 'input' is a number)" if number_self
                                 else ""))


def not_a_tensor(name, self) -> TypeError:
    """``Tensor.__radd__(2, t)``: an unbound Tensor method given a non-Tensor self (PyTorch's
    methods are C descriptors that refuse it)."""
    return TypeError(f"Tensor.{name}() needs a Tensor as self, not {type(self).__name__}")


# The C type names in PyTorch's "value cannot be converted" message.
_FILL_NAMES = {"float16": "c10::Half", "float32": "float", "float64": "double",
               "int64": "int64_t", "int32": "int32_t", "int16": "int16_t", "int8": "int8_t",
               "uint8": "uint8_t"}


def check_fill_value(op, value, dtype) -> None:
    """A fill value (a number or a 0-d Tensor) must fit the NumPy ``dtype`` it is written
    in, as PyTorch requires: no imaginary part for a real dtype, and for a number also no
    overflow (an integer dtype takes no inf or NaN). NumPy would wrap or drop silently."""
    if not isinstance(value, (Tensor, *_NUMBERS, np.number, np.bool_)):
        raise TypeError(f"{op}(): argument 'value' must be Number, not {type(value).__name__}")
    kind = dtype.kind
    if kind in "bc":
        return  # bool takes any number's truth; complex takes any number
    if isinstance(value, Tensor):
        v = value._data
        fits = v.dtype.kind != "c" or not (v.imag != 0).any()
    elif isinstance(value, complex):
        fits = value.imag == 0
    elif kind == "f":
        fits = not np.isfinite(value) or abs(value) <= float(np.finfo(dtype).max)
    else:
        info = np.iinfo(dtype)
        fits = (isinstance(value, (bool, int, np.integer)) or bool(np.isfinite(value))) and \
            info.min <= value <= info.max
    if not fits:
        raise RuntimeError(f"value cannot be converted to type "
                           f"{_FILL_NAMES.get(dtype.name, dtype.name)} without overflow")


def number_arg(op, what, value) -> None:
    """A Tensor-or-Number argument as PyTorch's parser checks it, before any other check: a
    list, a tuple, a string or None is a TypeError naming the op and the argument."""
    if not isinstance(value, (Tensor, *_NUMBERS, np.number, np.bool_, np.ndarray)):
        raise TypeError(f"{op}(): argument '{what}' must be Tensor or Number, not "
                        f"{type(value).__name__}")


def int_arg(op, what, value) -> int:
    """An int argument as PyTorch's parser takes it: an int, a NumPy integer or a 0-d
    integer Tensor (anything with ``__index__``); a float, None or a sequence is a
    TypeError naming the op and the argument, where ``int()`` would truncate silently."""
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{op}(): argument '{what}' must be int, not "
                        f"{type(value).__name__}") from None


def int_list(op, what, values) -> tuple:
    """A size or dims argument given as ``f(2, 3)`` or ``f((2, 3))``: a tuple of ints."""
    if len(values) == 1 and isinstance(values[0], (tuple, list)):
        values = values[0]
    return tuple(int_arg(op, what, v) for v in values)
