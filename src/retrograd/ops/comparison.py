"""Comparisons, logic and bit operations: results carry no gradient.

Comparisons promote their operands as arithmetic does and return bool tensors; bitwise ops
work on integer and bool tensors and keep the promoted dtype. Each op is declared once
(``_binary``, ``_predicate``), which makes its function, its Tensor method, its in-place
form and its operators.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, wrap
from ..backend import xp
from ._core import _broadcast_message, _promote, register_method, replayable
from ._helpers import not_a_tensor, out_, require_self_tensor, require_tensors
from .inplace import bump_version

__all__ = ["allclose", "bitwise_and", "bitwise_left_shift", "bitwise_not", "bitwise_or",
           "bitwise_right_shift", "bitwise_xor", "eq", "equal", "ge", "greater",
           "greater_equal", "gt", "isclose", "isfinite", "isinf", "isnan", "isneginf",
           "isposinf", "isreal", "le", "less", "less_equal", "logical_and", "logical_not",
           "logical_or", "logical_xor", "lt", "ne", "not_equal"]

_TYPE_WORD = {"float16": "Half", "float32": "Float", "float64": "Double", "complex64":
              "ComplexFloat", "complex128": "ComplexDouble", "int64": "Long", "int32": "Int",
              "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
_OPERANDS = (Tensor, int, float, bool, complex, np.ndarray, np.number)


def _raw(x):
    return x._data if isinstance(x, Tensor) else x


def _module(*values):
    """The array module of the first array among ``values`` (NumPy for plain numbers)."""
    for v in values:
        if hasattr(v, "dtype") and hasattr(v, "shape"):
            return xp(v)
    return np


def _out(result, out):
    return out_(result, out)


def _compare(fn, m, x, y, dts):
    """``fn(m, x, y)`` after casting x and y to the promoted dtypes ``dts``, as an array."""
    if dts[0] is not None:
        x = x.astype(dts[0])
    if dts[1] is not None:
        y = y.astype(dts[1])
    with np.errstate(all="ignore"):
        return m.asarray(fn(m, x, y))


def _binary(name, fn, *, aliases=(), check=None, doc="", tensors_only=False, dunder=None,
            method=None, number_self=False):
    """Declare a binary comparison or bit op: ``fn(m, x, y)`` on arrays of module ``m``.
    Installs the function, the methods (``name``, ``aliases``), their in-place forms and
    the operator ``dunder`` (with its reflected and in-place twins). ``number_self``: the
    op also takes a number as ``input`` (``bitwise_and(2, t)``), as PyTorch does."""
    def op(input, other, *, out=None):
        if tensors_only:
            require_tensors(name, input, other)
        else:
            require_self_tensor(name, input, other, number_self=number_self)
        if not isinstance(input, Tensor) and not isinstance(other, Tensor):
            return fn(_module(input, other), input, other)
        arrays = _promote((input, other), [_raw(input), _raw(other)])
        if check is not None:
            check(name, arrays)
        m = _module(*arrays)
        # The tensors' own arrays and the dtypes promotion gave them: a capturing compile
        # then replays the comparison on the replayed arrays (ops._core.replayable).
        x = input._data if isinstance(input, Tensor) else arrays[0]
        y = other._data if isinstance(other, Tensor) else arrays[1]
        dts = (getattr(arrays[0], "dtype", None) if x is not arrays[0] else None,
               getattr(arrays[1], "dtype", None) if y is not arrays[1] else None)
        try:
            res = replayable(_compare, fn, m, x, y, dts)
        except ValueError:
            raise RuntimeError(_broadcast_message(name, [np.shape(a) for a in arrays])) \
                from None
        return _out(wrap(res), out)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc or f"Elementwise ``{name}``; a bool tensor, not differentiable."
    op.dunder = dunder
    names = (method or name, *aliases)
    register_method(*names)(op)
    register_method(*(a + "_" for a in names))(_inplace(op))
    if dunder is not None:
        register_method(f"__{dunder}__")(_operator(op))
        if dunder not in ("eq", "ne", "lt", "le", "gt", "ge"):
            register_method(f"__r{dunder}__")(_operator(op, reflected=True))
            register_method(f"__i{dunder}__")(_inplace(op))
    return op


def _ufunc(name):
    return lambda m, x, y: getattr(m, name)(x, y)


def _integral_only(name, arrays) -> None:
    if "shift" in name and all(getattr(a, "dtype", np.bool_) == np.bool_ for a in arrays):
        raise NotImplementedError(f'"{name}_cpu" not implemented for \'Bool\'')
    for a in arrays:
        if hasattr(a, "dtype") and hasattr(a, "shape") and a.dtype.kind not in "biu":
            raise NotImplementedError(
                f'"{name}_cpu" not implemented for \'{_TYPE_WORD.get(a.dtype.name, a.dtype)}\'')
        if isinstance(a, float):
            raise NotImplementedError(f'"{name}_cpu" not implemented for \'Float\'')


def _shift(direction):
    def shift(m, x, y):
        """PyTorch's shifts: amounts outside [0, bits) give 0 (or -1 for right-shifted
        negatives) instead of NumPy's undefined results."""
        if not hasattr(x, "dtype"):  # a Python int is weak: the tensor's dtype wins
            x = m.asarray(x, dtype=y.dtype)
        bits = x.dtype.itemsize * 8
        y = m.asarray(y)
        inside = (y >= 0) & (y < bits)
        amount = m.where(inside, y, 0).astype(x.dtype)
        if direction == "left":
            return m.where(inside, m.left_shift(x, amount), 0).astype(x.dtype)
        return m.where(inside, m.right_shift(x, amount),
                       m.where(x < 0, -1, 0)).astype(x.dtype)

    return shift


def _operator(fn, reflected=False):
    """An operator method: NotImplemented for operands a Tensor does not take."""
    if reflected:
        def method(self, other):
            if not isinstance(self, Tensor):  # an unbound call: Tensor.__rand__(2, t)
                raise not_a_tensor(f"__r{fn.dunder}__", self)
            if other is None or not isinstance(other, _OPERANDS):
                return NotImplemented
            return fn(other, self)

        return method

    def method(self, other):
        if other is None or not isinstance(other, _OPERANDS):
            return NotImplemented
        return fn(self, other)

    return method


def _inplace(fn):
    """``x.op_(y)``: the result is cast into ``x``'s dtype and memory (no gradient)."""

    def method(self, *args):
        res = fn(self, *args)
        if res.shape != self.shape:
            raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the "
                               f"broadcast shape {list(res.shape)}")
        if self._data.dtype.kind in "biu" and res._data.dtype.kind not in "biu":
            raise RuntimeError(f"result type {_TYPE_WORD.get(res._data.dtype.name)} can't be "
                               f"cast to the desired output type "
                               f"{_TYPE_WORD.get(self._data.dtype.name)}")
        self._data[...] = res._data
        bump_version(self)
        return self

    return method


# ---------------------------------------------------------------------- the ops

eq = _binary("eq", _ufunc("equal"), dunder="eq")
ne = not_equal = _binary("ne", _ufunc("not_equal"), aliases=("not_equal",), dunder="ne")
lt = less = _binary("lt", _ufunc("less"), aliases=("less",), dunder="lt")
le = less_equal = _binary("le", _ufunc("less_equal"), aliases=("less_equal",), dunder="le")
gt = greater = _binary("gt", _ufunc("greater"), aliases=("greater",), dunder="gt")
ge = greater_equal = _binary("ge", _ufunc("greater_equal"), aliases=("greater_equal",),
                             dunder="ge")
logical_and = _binary("logical_and", _ufunc("logical_and"), tensors_only=True)
logical_or = _binary("logical_or", _ufunc("logical_or"), tensors_only=True)
logical_xor = _binary("logical_xor", _ufunc("logical_xor"), tensors_only=True)
bitwise_and = _binary("bitwise_and", _ufunc("bitwise_and"), check=_integral_only, dunder="and",
                      number_self=True, doc="Bitwise AND of integer or bool tensors.")
bitwise_or = _binary("bitwise_or", _ufunc("bitwise_or"), check=_integral_only, dunder="or",
                     number_self=True, doc="Bitwise OR of integer or bool tensors.")
bitwise_xor = _binary("bitwise_xor", _ufunc("bitwise_xor"), check=_integral_only, dunder="xor",
                      number_self=True, doc="Bitwise XOR of integer or bool tensors.")
bitwise_left_shift = _binary("lshift", _shift("left"), check=_integral_only, dunder="lshift",
                             number_self=True, method="bitwise_left_shift",
                             doc="input << other (0 once every bit is shifted out).")
bitwise_right_shift = _binary("rshift", _shift("right"), check=_integral_only,
                              dunder="rshift", number_self=True, method="bitwise_right_shift",
                              doc="input >> other, arithmetic for signed types.")


@register_method("logical_not")
def logical_not(input, *, out=None):
    """True where ``input`` is zero."""
    a = _raw(input)
    return _out(wrap(replayable(_apply, "logical_not", a)), out)


@register_method("bitwise_not")
def bitwise_not(input, *, out=None):
    """Bitwise NOT of an integer tensor; logical NOT of a bool tensor."""
    a = _raw(input)
    if a.dtype.kind not in "biu":
        raise NotImplementedError(
            f'"bitwise_not_cpu" not implemented for \'{_TYPE_WORD.get(a.dtype.name)}\'')
    return _out(wrap(replayable(_apply, "invert", a)), out)


def _apply(name, a):
    m = xp(a)
    return m.asarray(getattr(m, name)(a))


register_method("logical_not_")(_inplace(logical_not))
register_method("bitwise_not_")(_inplace(bitwise_not))


@register_method("__invert__")
def _invert(self):
    if self._data.dtype.kind not in "biu":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return bitwise_not(self)


def _predicate(name: str, doc: str, *, on_integers: bool = False):
    """Declare a test of each element (``isnan``...): integer and bool elements are always
    finite, so the answer there is ``on_integers`` everywhere."""
    def test(input):
        a = _raw(input)
        m = xp(a)
        if a.dtype.kind in "biu":
            return wrap(m.full(a.shape, on_integers, dtype=m.bool_))
        return wrap(m.asarray(getattr(m, name)(a)))

    test.__name__ = test.__qualname__ = name
    test.__doc__ = doc
    register_method(name)(test)
    return test


isnan = _predicate("isnan", "True where the element is NaN.")
isinf = _predicate("isinf", "True where the element is +inf or -inf.")
isposinf = _predicate("isposinf", "True where the element is +inf.")
isneginf = _predicate("isneginf", "True where the element is -inf.")
isfinite = _predicate("isfinite", "True where the element is neither inf nor NaN.",
                      on_integers=True)


@register_method("isreal")
def isreal(input):
    """True where the element has no imaginary part (always, for real dtypes)."""
    a = _raw(input)
    m = xp(a)
    return wrap(m.asarray(m.imag(a) == 0 if a.dtype.kind == "c" else m.ones(a.shape, bool)))


@register_method("isclose")
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other|, elementwise (both must share a dtype)."""
    a, b = _raw(input), _raw(other)
    if a.dtype != b.dtype:
        raise RuntimeError(f"{_TYPE_WORD.get(a.dtype.name)} did not match "
                           f"{_TYPE_WORD.get(b.dtype.name)}")
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if tol < 0:  # ":g" prints the number as PyTorch's C++ stream does (-1, -1e-09)
            raise RuntimeError(f"{name} must be greater than or equal to zero, but got {tol:g}")
    m = xp(a)
    if a.dtype.kind in "biu":
        a, b = a.astype(m.float64), b.astype(m.float64)
    with np.errstate(all="ignore"):
        close = a == b
        close = close | (m.isfinite(a) & m.isfinite(b)
                         & (m.abs(a - b) <= atol + rtol * m.abs(b)))
    if equal_nan:
        close = close | (m.isnan(a) & m.isnan(b))
    return wrap(m.asarray(close))


@register_method("allclose")
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """Whether every element of ``input`` is close to ``other`` (see ``isclose``)."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


@register_method("equal")
def equal(input, other) -> bool:
    """True when both have the same shape and elements."""
    a = _raw(input)
    return input.shape == other.shape and bool(xp(a).array_equal(a, _raw(other)))


Tensor.__hash__ = object.__hash__  # __eq__ is elementwise; identity hashing stays.
