"""Elementwise special functions that PyTorch does not differentiate (its Bessel functions
and orthogonal polynomials): their results never require grad, as in PyTorch, so they are
plain functions on arrays rather than primitives.

PyTorch's rules for them, learned by running it: the input is a Tensor (the polynomials take
one Python number, never two); integer and bool inputs compute in the default float dtype;
float16 and complex inputs raise NotImplementedError naming the kernel (``"bessel_j0_cpu"
not implemented for 'Half'``); ``out=`` is accepted.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype as dtypes
from .._tensor import Tensor, wrap
from ._core import _broadcast_message, replayable, result_dtype
from ._out import dtype_name, write_out

__all__ = ["binary_nograd", "unary_nograd"]


def _check_kind(name: str, np_dtype) -> None:
    if np_dtype == np.float16 or np_dtype.kind == "c":
        raise NotImplementedError(f'"{name}_cpu" not implemented for '
                                  f"'{dtype_name(np_dtype)}'")


def _float_dtype(args):
    """The result dtype: PyTorch's promotion, integers and bool to the default float."""
    target = result_dtype(args)
    if target.category <= dtypes.INT:
        target = dtypes.get_default_dtype()
    return target._np


def _compute(kernel, arrays, np_dtype):
    """``kernel`` on float64 copies of ``arrays`` (SciPy's loops are float64), cast back."""
    with np.errstate(all="ignore"):
        out = kernel(*(np.asarray(a, dtype=np.float64) for a in arrays))
    return np.asarray(out).astype(np_dtype, copy=False)


def _broadcast_compute(kernel, arrays, np_dtype):
    return _compute(kernel, tuple(np.broadcast_arrays(*(np.asarray(v) for v in arrays))),
                    np_dtype)


def unary_nograd(name: str, kernel, doc: str):
    """``torch.special.<name>(input, *, out=None)`` computing ``kernel`` (float64 arrays)."""
    op = f"special_{name}"

    def fn(input, *, out=None):
        if not isinstance(input, Tensor):
            raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not "
                            f"{type(input).__name__}")
        _check_kind(name, input._data.dtype)
        np_dtype = _float_dtype((input,))
        return write_out(wrap(replayable(_compute, kernel, (input._data,), np_dtype)), out, op)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc + "  Not differentiable (as in PyTorch): the result never requires grad."
    return fn


def binary_nograd(name: str, kernel, doc: str, names=("x", "n")):
    """``torch.special.<name>(x, n, *, out=None)``: Tensors, or one Tensor and one number."""
    op = f"special_{name}"

    def fn(x, n, *, out=None):
        if not isinstance(x, Tensor) and not isinstance(n, Tensor):
            a, b = names
            raise TypeError(
                f"{op}() received an invalid combination of arguments - got "
                f"({type(x).__name__}, {type(n).__name__}), but expected one of:\n"
                f" * (Tensor {a}, Tensor {b}, *, Tensor out = None)\n"
                f" * (Number {a}, Tensor {b}, *, Tensor out = None)\n"
                f" * (Tensor {a}, Number {b}, *, Tensor out = None)\n")
        arrays = []
        for v in (x, n):
            if isinstance(v, Tensor):
                _check_kind(name, v._data.dtype)
                arrays.append(v._data)
            else:
                arrays.append(v)
        np_dtype = _float_dtype((x, n))
        try:
            np.broadcast_shapes(*(np.shape(v) for v in arrays))
        except ValueError:
            shapes = [v._data.shape for v in (x, n)]
            raise RuntimeError(_broadcast_message(op, shapes)) from None
        return write_out(wrap(replayable(_broadcast_compute, kernel, tuple(arrays), np_dtype)),
                         out, op)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc + "  Not differentiable (as in PyTorch): the result never requires grad."
    return fn
