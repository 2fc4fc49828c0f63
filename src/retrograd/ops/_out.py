"""``out=``: writing an op's result into a caller's tensor, with PyTorch's checks.

PyTorch's rules, learned by running it:

* ``out`` must be a Tensor (a tuple of Tensors for ops with several results);
* under grad mode, an op whose result (or whose ``out``) requires grad refuses ``out=``:
  the result written into ``out`` would have no graph;
* an ``out`` with the result's shape is written in place; an empty one is resized silently;
  a non-empty one of another shape is resized with a deprecation warning;
* dtypes: ops that take ``dtype=`` (sum, cumsum, ...) compute in whatever ``out`` holds
  ("cast"); most ops accept an ``out`` of the same or a higher category (bool < integer <
  floating < complex, "promote"); ops whose output dtype is fixed by their inputs
  (gather, sort, tril, ...) want exactly the result's dtype ("exact"); cat and the other
  joins check like "promote" but raise TypeError ("join").
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

from .. import _dtype as dtypes
from .._tensor import Tensor
from ..autograd.grad_mode import state as _state
from ..backend import xp
from .inplace import bump_version

__all__ = ["c_type_name", "check_apart", "check_out_dtype", "creates_into_out", "dtype_name",
           "takes_out", "write_out"]

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
          "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
          "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}
# The C type names PyTorch's "Expected out tensor to have dtype ..." message uses.
_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
            "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
            "uint8": "unsigned char", "bool": "bool", "bfloat16": "c10::BFloat16",
            "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def dtype_name(np_dtype) -> str:
    """PyTorch's scalar-type name of a NumPy dtype: Float, Long, Bool, ..."""
    return _NAMES.get(str(np_dtype), str(np_dtype))


def c_type_name(np_dtype) -> str:
    """The C++ type name PyTorch's kernels print for a NumPy dtype: float, long int, ..."""
    return _C_NAMES.get(str(np_dtype), str(np_dtype))


def check_out_dtype(result_dtype, out_dtype, mode: str, op: str) -> None:
    """Raise PyTorch's RuntimeError when ``out_dtype`` cannot hold the result (see module
    docstring for the modes)."""
    if mode == "cast" or result_dtype == out_dtype:
        return
    if mode == "exact":
        raise RuntimeError(
            f"{op}(): Expected out tensor to have dtype "
            f"{_C_NAMES.get(str(result_dtype), str(result_dtype))}, but got "
            f"{_C_NAMES.get(str(out_dtype), str(out_dtype))} instead")
    if _CATEGORY[result_dtype.kind] > _CATEGORY[out_dtype.kind]:
        if mode == "join":  # cat and friends raise a TypeError in PyTorch's words
            raise TypeError(f"torch.{op}(): input types can't be cast to the desired output "
                            f"type {dtype_name(out_dtype)}")
        raise RuntimeError(f"{op}(): result type {dtype_name(result_dtype)} can't be cast to "
                           f"the desired output type {dtype_name(out_dtype)}")


def _check_grad(result, out, op: str) -> None:
    if _state.grad_enabled and (out._requires_grad or (
            isinstance(result, Tensor) and result._requires_grad)):
        raise RuntimeError(f"{op}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")


def _write_one(result, out, op: str, mode: str):
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}(): argument 'out' must be Tensor, not {type(out).__name__}")
    _check_grad(result, out, op)
    data = result._data if isinstance(result, Tensor) else result
    dst = out._data
    check_out_dtype(data.dtype, dst.dtype, mode, op)
    if dst.shape != data.shape:
        if dst.size:
            warnings.warn(
                f"An output with one or more elements was resized since it had shape "
                f"{list(dst.shape)}, which does not match the required output shape "
                f"{list(data.shape)}. This behavior is deprecated, and in a future PyTorch "
                "release outputs will not be resized unless they have zero elements. You can "
                "explicitly reuse an out tensor t by resizing it, inplace, to zero elements "
                "with t.resize_(0).", UserWarning, stacklevel=4)
        out._data = xp(dst).empty(data.shape, dst.dtype)
        dst = out._data
    dst[...] = data
    bump_version(out)
    return out


def write_out(result, out, op: str, mode: str = "promote"):
    """``result`` when ``out`` is None, else ``out`` holding result's values (checked as
    PyTorch does). A tuple result (values, indices) takes a tuple ``out`` and gives back a
    result of the same named-tuple type holding the out tensors."""
    if out is None:
        return result
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise TypeError(f"{op}(): argument 'out' must be tuple of {len(result)} Tensors")
        written = [_write_one(r, o, op, "exact") for r, o in zip(result, out)]
        return type(result)(*written) if hasattr(result, "_fields") else tuple(written)
    return _write_one(result, out, op, mode)


def _self_overlapping(a) -> bool:
    """Whether several elements of ``a`` are one memory location (an expanded view)."""
    return any(step == 0 and n > 1 for step, n in zip(a.strides, a.shape))


_OVERLAP_WORK = 1000  # np.shares_memory's effort bound; past it arrays count as apart


def _shares(a, b) -> bool:
    if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
        return False  # another backend's arrays: its own kernels check
    try:
        return bool(np.shares_memory(a, b, max_work=_OVERLAP_WORK))
    except np.exceptions.TooHardError:
        return False


def check_apart(op: str, out, inputs, result, always: bool = False) -> None:
    """PyTorch's rule for ops that gather while writing ``out`` (cat, take, kthvalue, ...):
    no two elements of ``out`` and no element of an input may share one memory location.
    An ``out`` that will be resized is fresh memory, unless ``always`` (take, index_select
    and masked_select check it before resizing)."""
    outs = out if isinstance(out, (tuple, list)) else (out,)
    results = result if isinstance(result, tuple) else (result,)
    flat = []
    for v in inputs:
        flat.extend(v if isinstance(v, (tuple, list)) else (v,))
    arrays = [v._data for v in flat if isinstance(v, Tensor)]
    for o, r in zip(outs, results):
        if not isinstance(o, Tensor):
            continue  # write_out names the wrong type
        if (always or o.shape == getattr(r, "shape", None)) and _self_overlapping(o._data):
            raise RuntimeError(f"{op}(): unsupported operation: more than one element of the "
                               "written-to tensor refers to a single memory location. Please "
                               "clone() the tensor before performing the operation.")
        if any(_shares(o._data, a) for a in arrays):
            raise RuntimeError(f"{op}(): unsupported operation: some elements of the input "
                               "tensor and the written-to tensor refer to a single memory "
                               "location. Please clone() the tensor before performing the "
                               "operation.")


def takes_out(op: str, mode: str = "promote", apart: bool | str = False):
    """Decorator for an op that computes its result without ``out``: the keyword ``out`` is
    taken here and the result written into it by ``write_out``. ``apart``: ``out`` may
    not overlap itself or a Tensor argument (``check_apart``; "always": checked before any
    resize)."""

    def deco(fn):
        @functools.wraps(fn)
        def with_out(*args, out=None, **kwargs):
            if out is None:
                return fn(*args, **kwargs)
            result = fn(*args, **kwargs)
            if apart:
                check_apart(op, out, (*args, *kwargs.values()), result, apart == "always")
            return write_out(result, out, op, mode)

        return with_out

    return deco


def creates_into_out(op: str):
    """Decorator for a creation function (zeros, arange, rand, ...): with ``out``, the
    tensor is made in ``out``'s dtype (an explicit different ``dtype`` is PyTorch's
    RuntimeError) and written into it."""

    def deco(fn):
        @functools.wraps(fn)
        def with_out(*args, out=None, dtype=None, **kwargs):
            if out is None:
                return fn(*args, dtype=dtype, **kwargs)
            if not isinstance(out, Tensor):
                raise TypeError(f"{op}(): argument 'out' must be Tensor, not "
                                f"{type(out).__name__}")
            if dtype is not None and dtypes.to_dtype(dtype) != out.dtype:
                asked = dtype_name(dtypes.to_dtype(dtype)._np)
                raise RuntimeError(f"{op}(): dtype {asked} does not match dtype of out "
                                   f"parameter ({dtype_name(out._data.dtype)})")
            return write_out(fn(*args, dtype=out.dtype, **kwargs), out, op, "cast")

        return with_out

    return deco
