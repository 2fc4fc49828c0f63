"""Helpers shared by the loss modules: PyTorch's reduction handling and constants."""

from __future__ import annotations

import warnings

import numpy as np

from ..backend import xp
from ._core import _broadcast_message, result_dtype
from ._out import dtype_name
from .shape import expand


def _legacy(size_average, reduce, reduction, stacklevel=3):
    """PyTorch's mapping of the deprecated ``size_average``/``reduce`` flags."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    out = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{out}' instead.", UserWarning, stacklevel=stacklevel)
    return out


def _check_reduction(reduction):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _reduce(loss, reduction):
    _check_reduction(reduction)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _size_warning(input, target):
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(
            f"Using a target size ({target.size()}) that is different to the input size "
            f"({input.size()}). This will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.", UserWarning, stacklevel=3)


def _weighted(loss, weight, input, reduction):
    if weight is None:
        return _reduce(loss, reduction)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    _check_reduction(reduction)
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def _const(value, like):
    """A constant array in ``like``'s dtype (never differentiated)."""
    return xp(like._data).asarray(value, dtype=like._data.dtype)


# ---------------------------------------------------------------------- argument checks

def _broadcast_pair(name, input, target, reduction):
    """input and target as PyTorch's regression losses take them: broadcast first (a size
    mismatch is reported before anything else), the reduction checked next, and then both
    promote as equals (a 0-d float64 target gives a float64 loss)."""
    a, b = tuple(input.shape), tuple(target.shape)
    try:
        shape = np.broadcast_shapes(a, b)
    except ValueError:
        raise RuntimeError(_broadcast_message(name, [a, b])) from None
    _check_reduction(reduction)
    return (input if a == shape else expand(input, shape),
            target if b == shape else expand(target, shape))


def _into(value, like):
    """``value`` cast to ``like``'s dtype, for losses whose kernel writes its result in that
    dtype: PyTorch's RuntimeError when the promoted result could not be stored there."""
    have, want = value._data.dtype, like._data.dtype
    if have == want:
        return value
    promoted = result_dtype((value, like))._np
    if _KIND_RANK[promoted.kind] > _KIND_RANK[want.kind]:
        raise RuntimeError(f"result type {dtype_name(promoted)} can't be cast to the desired "
                           f"output type {dtype_name(want)}")
    return value.to(like.dtype)


_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _zero_dim_cross_entropy(target) -> None:
    """A 0-d input has no class dim: PyTorch's errors, by what the target makes of it (a
    target of the input's shape reads as class probabilities)."""
    if target.dim() == 0:  # (an integer one was refused by the caller)
        raise IndexError("Dimension specified as 1 but tensor has no dimensions")
    raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got 1)")
