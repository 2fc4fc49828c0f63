"""index_reduce (and Tensor.index_reduce_): slices of ``source`` reduced into ``input`` at the
positions a vector ``index`` names along ``dim``.

It is scatter_reduce with the vector index spread over source's shape, so it is a composite
and its derivatives are ScatterReduce's: for amax/amin the gradient is shared evenly among
the elements equal to the result, for mean it is divided by the count, and for prod it is the
product of the other factors (exact where factors are zero).
"""

from __future__ import annotations

import numpy as np

from .._dims import wrap_dim
from .._tensor import Tensor
from ._core import register_method
from .indexing import inplace_twin
from .scatter import ScatterReduce
from .shape import reshape

__all__ = ["index_reduce"]

_REDUCTIONS = ("prod", "mean", "amax", "amin")


def _type_name(dtype) -> str:
    names = {"float64": "Double", "float32": "Float", "float16": "Half", "int64": "Long",
             "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
             "bool": "Bool", "bfloat16": "BFloat16"}
    name = str(dtype).split(".")[-1]
    return names.get(name, name)


def _vector(index, source, dim):
    """The index as a 1-D int64 array, checked as PyTorch does."""
    if not isinstance(index, Tensor):
        raise TypeError(f"index_reduce(): index must be a Tensor, not {type(index).__name__}")
    if index.ndim > 1:
        raise IndexError(f"index_reduce_(): Index is supposed to be a vector, but got dim: "
                         f"{index.ndim} with type: {_type_name(index.dtype)} and size: "
                         f"{list(index.shape)}")
    if index._data.dtype not in (np.int32, np.int64):
        raise RuntimeError("index_reduce_(): Expected dtype int32/int64 for index but got: "
                           f"{_type_name(index.dtype)}")
    idx = index._data.reshape(-1).astype(np.int64)
    count = source.shape[dim] if source.ndim else 1
    if idx.size != count:
        raise RuntimeError(f"index_reduce_(): Number of indices ({idx.size}) should be equal "
                           f"to source.size(dim): ({count}), for dim: {dim}")
    return idx


def _check_source(input, source, dim):
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"index_reduce_(): self ({_type_name(input.dtype)}) and source "
                           f"({_type_name(source.dtype)}) must have the same scalar type")
    same = source.ndim == input.ndim and all(
        a == b for k, (a, b) in enumerate(zip(input.shape, source.shape)) if k != dim)
    if not same:
        raise RuntimeError("source tensor shape must match self tensor shape, excluding the "
                           f"specified dimension. Got self.shape = {list(input.shape)} "
                           f"source.shape = {list(source.shape)}")


@register_method("index_reduce")
def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """``input`` with ``source[..., i, ...]`` reduced into ``input[..., index[i], ...]`` along
    ``dim`` by ``reduce`` ("prod", "mean", "amax" or "amin"); ``include_self=False`` leaves
    input's own values out of the places the index names.

    Derivatives (scatter_reduce's): amax/amin: grad shared among the elements equal to the
    result; mean: grad / count; prod: grad * the product of the other factors.
    """
    if reduce not in _REDUCTIONS:
        raise RuntimeError("index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    d = wrap_dim(dim, input.ndim)
    _check_source(input, source, d)
    idx = _vector(index, source, d)
    size = input.shape[d] if input.ndim else 1
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        raise IndexError("index out of range in self")
    if input.ndim == 0:  # a 0-d self reduces like a 1-element vector
        res = index_reduce(reshape(input, (1,)), 0, index.reshape(-1), reshape(source, (1,)),
                           reduce, include_self=include_self)
        return reshape(res, ())
    spread = [1] * source.ndim
    spread[d] = -1
    full = np.ascontiguousarray(np.broadcast_to(idx.reshape(spread), tuple(source.shape)))
    return ScatterReduce.generic(input, source, dim=d, index=full, reduce=reduce,
                                 include_self=include_self)


inplace_twin(index_reduce)
