"""``linear_cross_entropy``: cross entropy of ``linear(input, linear_weight)`` against a
target, a composite of ``linear`` and ``cross_entropy`` (so every derivative order comes
from theirs).

With ``options`` (a ``LinearCrossEntropyOptions``), the batch is processed in chunks of
``batch_chunk_size`` rows: only one chunk's logits exist at a time, which is what saves
memory when the number of classes is large. The chunk losses are summed and, for 'mean',
divided by the same normalizer ``cross_entropy`` uses (the total class weight of the
targets that count, or the number of samples with class probabilities).
"""

from __future__ import annotations

import warnings

import numpy as np

from ._loss_common import _check_reduction
from .joining import cat
from .linear import linear
from .loss import cross_entropy

__all__ = ["linear_cross_entropy"]

# Rows per chunk when options leave batch_chunk_size unset: about this many logits a chunk.
_CHUNK_LOGITS = 1 << 20


def _shape_str(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _check(input, linear_weight, target, linear_bias, ignore_index):
    if input.dim() not in (1, 2):
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.dim()}")
    if linear_weight.dim() < 2:
        raise RuntimeError(f"expected linear_weight with dimensionality at least 2, got "
                           f"{linear_weight.dim()}")
    if input.shape[-1] != linear_weight.shape[-1]:
        raise RuntimeError(f"expected equal input and linear_weight last dimensions "
                           f"(in_features), got {input.shape[-1]} and "
                           f"{linear_weight.shape[-1]}, respectively")
    if ignore_index is not None and target.is_floating_point():
        raise RuntimeError("ignore_index cannot be specified when target contains "
                           "probabilities")
    if linear_weight.dim() > 2 and input.dim() == 1:
        raise RuntimeError(f"K-dimensional loss defined by linear_weight shape "
                           f"{_shape_str(tuple(linear_weight.shape))} requires batched input, "
                           f"(N, {input.shape[-1]}), got unbatched input with shape "
                           f"{_shape_str(tuple(input.shape))}")
    if linear_bias is not None and tuple(linear_bias.shape) != tuple(linear_weight.shape[:-1]):
        raise RuntimeError(f"expected linear_bias shape "
                           f"{_shape_str(tuple(linear_weight.shape[:-1]))}, got "
                           f"{_shape_str(tuple(linear_bias.shape))}")


def _logits(input, linear_weight, linear_bias):
    """(N, C, *d) logits of (N, in) input for a (C, *d, in) weight (or (C,) / (N, C))."""
    classes = tuple(linear_weight.shape[:-1])
    w = linear_weight.reshape(-1, linear_weight.shape[-1])
    b = None if linear_bias is None else linear_bias.reshape(-1)
    out = linear(input, w, b)
    return out if len(classes) == 1 else out.reshape(input.shape[0], *classes)


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None,
                         reduction="mean", ignore_index=None, label_smoothing=0.0,
                         options=None):
    """``cross_entropy(linear(input, linear_weight, linear_bias), target, ...)``.

    ``linear_weight`` is (C, in_features), or (C, d_1, ..., d_K, in_features) for a
    K-dimensional loss over a batched input; ``ignore_index`` None means -100 for class
    indices. ``options`` computes the same loss in batch chunks (see the module doc)."""
    _check(input, linear_weight, target, linear_bias, ignore_index)
    _check_reduction(reduction)
    ii = -100 if ignore_index is None else ignore_index
    kwargs = dict(weight=weight, ignore_index=ii, label_smoothing=label_smoothing)
    chunked = options is not None and input.dim() == 2
    if chunked and linear_weight.dim() > 2:
        warnings.warn("linear_cross_entropy: the chunked path supports only (C, in_features) "
                      "weights; using the reference path", UserWarning, stacklevel=2)
        chunked = False
    if not chunked:
        logits = _logits(input, linear_weight, linear_bias)
        return cross_entropy(logits, target, reduction=reduction, **kwargs)
    n, c = input.shape[0], linear_weight.shape[0]
    rows = getattr(options, "batch_chunk_size", None) or max(1, _CHUNK_LOGITS // max(c, 1))
    part = "none" if reduction == "none" else "sum"
    losses = [cross_entropy(_logits(input[i:i + rows], linear_weight, linear_bias),
                            target[i:i + rows], reduction=part, **kwargs)
              for i in range(0, n, rows)]
    if reduction == "none":
        return cat(losses) if losses else cross_entropy(
            _logits(input, linear_weight, linear_bias), target, reduction="none", **kwargs)
    total = losses[0]
    for extra in losses[1:]:
        total = total + extra
    if reduction == "sum":
        return total
    return total / _mean_normalizer(target, weight, ii, n)


def _mean_normalizer(target, weight, ignore_index, n) -> float:
    """What cross_entropy's 'mean' divides the summed loss by."""
    t = target._data
    if t.dtype.kind == "f":
        return float(n)
    t = np.asarray(t)
    keep = t != ignore_index
    if weight is None:
        return float(keep.sum())
    w = np.asarray(weight._data)
    return float(w[np.where(keep, t, 0)][keep].sum()) if keep.any() else 0.0

