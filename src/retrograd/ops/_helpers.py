"""Helpers of the elementwise ops and their derivatives: PyTorch's dtype rules for float
math, NaN-safe masking of gradients, and the ``out=`` writer."""

from __future__ import annotations

import numpy as np

from .._dtype import get_default_dtype
from .._tensor import Tensor, wrap
from ..autograd.grad_mode import no_grad
from ..backend import xp
from .where import where

__all__ = ["as_float", "floating", "nan_safe", "no_bool", "not_a_tensor", "out_", "pick",
           "quiet", "raw", "require_self_tensor", "require_tensors"]

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
