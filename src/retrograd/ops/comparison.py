"""Comparisons, logic and bit operations: results carry no gradient.

Comparisons promote their operands as arithmetic does and return bool tensors; bitwise ops
work on integer and bool tensors and keep the promoted dtype.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, wrap
from ._core import _promote, register_method

__all__ = ["allclose", "bitwise_and", "bitwise_left_shift", "bitwise_not", "bitwise_or",
           "bitwise_right_shift", "bitwise_xor", "eq", "equal", "ge", "greater",
           "greater_equal", "gt", "isclose", "isfinite", "isinf", "isnan", "isneginf",
           "isposinf", "isreal", "le", "less", "less_equal", "logical_and", "logical_not",
           "logical_or", "logical_xor", "lt", "ne", "not_equal"]

_TYPE_WORD = {"float16": "Half", "float32": "Float", "float64": "Double", "complex64":
              "ComplexFloat", "complex128": "ComplexDouble", "int64": "Long", "int32": "Int",
              "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _raw(x):
    return x._data if isinstance(x, Tensor) else x


def _out(result, out):
    from .arithmetic import _out as out_

    return out_(result, out)


def _binary(ufunc, name: str, check=None, doc: str = "", tensors_only=False):
    def op(input, other, *, out=None):
        if tensors_only:
            from .pointwise import require_tensors

            require_tensors(name, input, other)
        if not isinstance(input, Tensor) and not isinstance(other, Tensor):
            return ufunc(input, other)
        arrays = _promote((input, other), [_raw(input), _raw(other)])
        if check is not None:
            check(name, arrays)
        try:
            with np.errstate(all="ignore"):
                res = ufunc(*arrays)
        except ValueError:
            from ._core import _broadcast_message

            raise RuntimeError(_broadcast_message(name, [np.shape(a) for a in arrays])) \
                from None
        return _out(wrap(np.asarray(res)), out)

    op.__name__ = name
    op.__doc__ = doc or f"Elementwise ``{name}``; a bool tensor, not differentiable."
    return op


def _integral_only(name, arrays) -> None:
    if "shift" in name and all(getattr(a, "dtype", np.bool_) == np.bool_ for a in arrays):
        raise NotImplementedError(f'"{name}_cpu" not implemented for \'Bool\'')
    for a in arrays:
        if isinstance(a, np.ndarray) and a.dtype.kind not in "biu":
            raise NotImplementedError(
                f'"{name}_cpu" not implemented for \'{_TYPE_WORD.get(a.dtype.name, a.dtype)}\'')
        if isinstance(a, float):
            raise NotImplementedError(f'"{name}_cpu" not implemented for \'Float\'')


def _shift(direction):
    def shift(x, y):
        """PyTorch's shifts: amounts outside [0, bits) give 0 (or -1 for right-shifted
        negatives) instead of NumPy's undefined results."""
        if not isinstance(x, np.ndarray):  # a Python int is weak: the tensor's dtype wins
            x = np.asarray(x, dtype=y.dtype)
        bits = x.dtype.itemsize * 8
        y = np.asarray(y)
        inside = (y >= 0) & (y < bits)
        amount = np.where(inside, y, 0).astype(x.dtype)
        if direction == "left":
            return np.where(inside, np.left_shift(x, amount), 0).astype(x.dtype)
        return np.where(inside, np.right_shift(x, amount),
                        np.where(x < 0, -1, 0)).astype(x.dtype)

    return shift


eq = _binary(np.equal, "eq")
ne = not_equal = _binary(np.not_equal, "ne")
lt = less = _binary(np.less, "lt")
le = less_equal = _binary(np.less_equal, "le")
gt = greater = _binary(np.greater, "gt")
ge = greater_equal = _binary(np.greater_equal, "ge")
logical_and = _binary(np.logical_and, "logical_and", tensors_only=True)
logical_or = _binary(np.logical_or, "logical_or", tensors_only=True)
logical_xor = _binary(np.logical_xor, "logical_xor", tensors_only=True)
bitwise_and = _binary(np.bitwise_and, "bitwise_and", _integral_only,
                      "Bitwise AND of integer or bool tensors.")
bitwise_or = _binary(np.bitwise_or, "bitwise_or", _integral_only,
                     "Bitwise OR of integer or bool tensors.")
bitwise_xor = _binary(np.bitwise_xor, "bitwise_xor", _integral_only,
                      "Bitwise XOR of integer or bool tensors.")
bitwise_left_shift = _binary(_shift("left"), "lshift", _integral_only,
                             "input << other (0 once every bit is shifted out).")
bitwise_right_shift = _binary(_shift("right"), "rshift", _integral_only,
                              "input >> other, arithmetic for signed types.")


def logical_not(input, *, out=None):
    """True where ``input`` is zero."""
    return _out(wrap(np.asarray(np.logical_not(_raw(input)))), out)


def bitwise_not(input, *, out=None):
    """Bitwise NOT of an integer tensor; logical NOT of a bool tensor."""
    a = _raw(input)
    if a.dtype.kind not in "biu":
        raise NotImplementedError(
            f'"bitwise_not_cpu" not implemented for \'{_TYPE_WORD.get(a.dtype.name)}\'')
    return _out(wrap(np.asarray(np.invert(a))), out)


def _unary_test(ufunc, name: str, doc: str):
    def test(input):
        a = _raw(input)
        if a.dtype.kind in "biu":
            fill = name == "isfinite"
            return wrap(np.full(a.shape, fill, dtype=np.bool_))
        return wrap(np.asarray(ufunc(a)))

    test.__name__ = name
    test.__doc__ = doc
    return test


isnan = _unary_test(np.isnan, "isnan", "True where the element is NaN.")
isinf = _unary_test(np.isinf, "isinf", "True where the element is +inf or -inf.")
isposinf = _unary_test(np.isposinf, "isposinf", "True where the element is +inf.")
isneginf = _unary_test(np.isneginf, "isneginf", "True where the element is -inf.")
isfinite = _unary_test(np.isfinite, "isfinite", "True where the element is neither inf nor NaN.")


def isreal(input):
    """True where the element has no imaginary part (always, for real dtypes)."""
    a = _raw(input)
    return wrap(np.asarray(np.imag(a) == 0 if a.dtype.kind == "c" else np.ones(a.shape, bool)))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other|, elementwise (both must share a dtype)."""
    a, b = _raw(input), _raw(other)
    if a.dtype != b.dtype:
        raise RuntimeError(f"{_TYPE_WORD.get(a.dtype.name)} did not match "
                           f"{_TYPE_WORD.get(b.dtype.name)}")
    if a.dtype.kind in "biu":
        a, b = a.astype(np.float64), b.astype(np.float64)
    with np.errstate(all="ignore"):
        close = a == b
        close = close | (np.isfinite(a) & np.isfinite(b)
                         & (np.abs(a - b) <= atol + rtol * np.abs(b)))
    if equal_nan:
        close = close | (np.isnan(a) & np.isnan(b))
    return wrap(np.asarray(close))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """Whether every element of ``input`` is close to ``other`` (see ``isclose``)."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input, other) -> bool:
    """True when both have the same shape and elements."""
    return input.shape == other.shape and bool(np.array_equal(_raw(input), _raw(other)))


def _reflect(fn, reflected=False):
    def method(self, other):
        if other is None or not isinstance(other, (Tensor, int, float, bool, complex,
                                                   np.ndarray, np.number)):
            return NotImplemented
        return fn(other, self) if reflected else fn(self, other)

    return method


def _invert(self):
    if self._data.dtype.kind not in "biu":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return bitwise_not(self)


def _inplace(fn):
    """``x.op_(y)``: the result is cast into ``x``'s dtype and memory (no gradient)."""

    def method(self, *args):
        from .inplace import bump_version

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


_FUNCS = {"eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge, "not_equal": ne,
          "less": lt, "less_equal": le, "greater": gt, "greater_equal": ge,
          "logical_and": logical_and, "logical_or": logical_or, "logical_xor": logical_xor,
          "logical_not": logical_not, "bitwise_and": bitwise_and, "bitwise_or": bitwise_or,
          "bitwise_xor": bitwise_xor, "bitwise_not": bitwise_not,
          "bitwise_left_shift": bitwise_left_shift,
          "bitwise_right_shift": bitwise_right_shift}

for _name, _fn in {**_FUNCS, "equal": equal, "isclose": isclose, "allclose": allclose,
                   "isnan": isnan, "isinf": isinf, "isposinf": isposinf, "isneginf": isneginf,
                   "isfinite": isfinite, "isreal": isreal}.items():
    register_method(_name)(_fn)

for _name, _fn in _FUNCS.items():
    register_method(_name + "_")(_inplace(_fn))

for _name, _fn in {"__eq__": eq, "__ne__": ne, "__lt__": lt, "__le__": le, "__gt__": gt,
                   "__ge__": ge, "__and__": bitwise_and, "__or__": bitwise_or,
                   "__xor__": bitwise_xor, "__lshift__": bitwise_left_shift,
                   "__rshift__": bitwise_right_shift}.items():
    register_method(_name)(_reflect(_fn))

for _name, _fn in {"__rand__": bitwise_and, "__ror__": bitwise_or, "__rxor__": bitwise_xor,
                   "__rlshift__": bitwise_left_shift,
                   "__rrshift__": bitwise_right_shift}.items():
    register_method(_name)(_reflect(_fn, reflected=True))

for _name, _fn in {"__iand__": bitwise_and, "__ior__": bitwise_or, "__ixor__": bitwise_xor,
                   "__ilshift__": bitwise_left_shift,
                   "__irshift__": bitwise_right_shift}.items():
    register_method(_name)(_inplace(_fn))

register_method("__invert__")(_invert)
Tensor.__hash__ = object.__hash__  # __eq__ is elementwise; identity hashing stays.
