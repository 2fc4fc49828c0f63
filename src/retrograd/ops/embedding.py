"""Embeddings of ``retrograd.nn.functional``: ``embedding``, ``embedding_bag``, ``one_hot``.

``embedding`` is a gather primitive whose backward (a scatter-add that skips ``padding_idx``
and may scale by frequency) is itself a primitive, so double backward works.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from .._tensor import Tensor, wrap
from ..autograd.grad_mode import no_grad
from ..backend import xp
from ._core import Primitive, checked, replayable
from .inplace import bump_version
from .unary import where

__all__ = ["embedding", "embedding_bag", "one_hot"]


class EmbeddingGather(Primitive):
    """weight[indices] * scale (scale masks padding / weights by frequency in double
    backward; plain embedding has none).  d/dweight = scatter-add of grad * scale."""

    __slots__ = ("indices", "num", "scale")
    _name = "EmbeddingDenseBackwardBackward0"
    formula = "index_add(zeros, indices, grad * scale)"

    def forward(ctx, weight, indices=None, scale=None):
        ctx.indices, ctx.num, ctx.scale = indices, weight.shape[0], scale
        out = weight[indices]
        return out if scale is None else out * scale[..., None]

    def backward(ctx, grad):
        return EmbeddingScatter.generic(grad, indices=ctx.indices, num=ctx.num, scale=ctx.scale)

    def jvp(ctx, tw):
        return EmbeddingGather.generic(tw, indices=ctx.indices, scale=ctx.scale)


class EmbeddingScatter(Primitive):
    """zeros(num, D) with rows grad * scale added at ``indices``.  d/dgrad = gather."""

    __slots__ = ("indices", "num", "scale")
    _name = "EmbeddingDenseBackward0"
    formula = "gather(grad, indices) * scale"

    def forward(ctx, grad, indices=None, num=0, scale=None):
        ctx.indices, ctx.num, ctx.scale = indices, num, scale
        d = grad.shape[-1]
        out = xp(grad).zeros((num, d), dtype=grad.dtype)
        rows = grad.reshape(-1, d)
        if scale is not None:
            rows = rows * scale.reshape(-1, 1)
        xp(out).add.at(out, indices.reshape(-1), rows)
        return out

    def backward(ctx, grad):
        return EmbeddingGather.generic(grad, indices=ctx.indices, scale=ctx.scale)

    def jvp(ctx, tg):
        return EmbeddingScatter.generic(tg, indices=ctx.indices, num=ctx.num, scale=ctx.scale)


def _embedding_scale(idx, padding_idx, by_freq, dtype):
    if padding_idx is None and not by_freq:
        return None
    scale = np.ones(idx.shape, dtype)
    if by_freq:
        _, inverse, counts = np.unique(idx, return_inverse=True, return_counts=True)
        scale = (1.0 / counts[inverse.reshape(idx.shape)]).astype(dtype)
    if padding_idx is not None:
        scale = np.where(idx == padding_idx, 0, scale).astype(dtype)
    return scale


class _Embed(Primitive):
    """weight[indices]; backward skips ``padding_idx`` and may scale by frequency."""

    __slots__ = ("indices", "num", "scale")
    _name = "EmbeddingBackward0"
    formula = "index_add(zeros, indices, grad * scale)"

    def forward(ctx, weight, indices=None, scale=None):
        ctx.indices, ctx.num, ctx.scale = indices, weight.shape[0], scale
        return weight[indices]

    def backward(ctx, grad):
        return EmbeddingScatter.generic(grad, indices=ctx.indices, num=ctx.num, scale=ctx.scale)

    def jvp(ctx, tw):
        return EmbeddingGather.generic(tw, indices=ctx.indices)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` picked by the integer ``input``."""
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    num = weight.shape[0]
    if padding_idx is not None:
        if padding_idx >= num or padding_idx < -num:
            raise AssertionError("Padding_idx must be within num_embeddings")
        if padding_idx < 0:
            padding_idx += num
    idx = input._data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got {input.type()} instead (while checking arguments for "
            "embedding)")
    idx = idx.astype(np.int64, copy=False)
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        raise IndexError("index out of range in self")
    if max_norm is not None:
        _renorm_rows(weight, idx, max_norm, norm_type)
    scale = None if padding_idx is None and not scale_grad_by_freq else replayable(
        _embedding_scale, idx, padding_idx, scale_grad_by_freq, weight._data.dtype)
    return _Embed.generic(weight, indices=idx, scale=scale)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2,
                  scale_grad_by_freq=False, mode="mean", sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
    """Sums, means or maxima of bags of embedding rows (without the [N, L, D] intermediate
    being visible); entries equal to ``padding_idx`` are left out of their bag."""
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, but got {mode}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
            "GitHub.")
    ndim = input._data.ndim
    if ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences.")
        off = None
        psw = per_sample_weights.reshape(-1) if per_sample_weights is not None else None
    elif ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        off = offsets._data if isinstance(offsets, Tensor) else np.asarray(offsets)
        psw = per_sample_weights
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{ndim}")
    num = weight.shape[0]
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num
    # The bags come from the indices' and offsets' values: a captured step makes them again.
    idx, member = replayable(_bags, input._data, off, include_last_offset, padding_idx)
    rows = embedding(wrap(idx), weight, padding_idx, max_norm, norm_type, scale_grad_by_freq)
    if mode == "max":
        width = checked(_widest, member)  # the gathered shape: a guard of a captured step
        take, valid, filled = replayable(_bag_slots, member, width)
        gathered = where(valid, rows[take], -math.inf)
        out = gathered.max(1).values
        return where(filled, out, 0.0)
    matrix = wrap(replayable(_bag_matrix, member, weight._data.dtype, mode == "mean"))
    if psw is not None:
        matrix = matrix * psw
    return matrix.matmul(rows)


def _bags(idx, off, include_last_offset, padding_idx):
    """The flat int64 indices and ``member[b, i]``: whether bag b holds index i."""
    idx = idx.astype(np.int64)
    if idx.ndim == 2:
        starts = np.arange(0, idx.size, idx.shape[1] if idx.shape[1] else 1)[:idx.shape[0]]
        ends = starts + idx.shape[1]
        idx = idx.reshape(-1)
    else:
        off = off.astype(np.int64)
        bounds = off if include_last_offset else np.append(off, idx.size)
        starts, ends = bounds[:-1], np.minimum(bounds[1:], idx.size)
    pos = np.arange(idx.size)
    member = (pos >= starts[:, None]) & (pos < ends[:, None])
    if padding_idx is not None:
        member &= idx != padding_idx
    return idx, member


def _widest(member) -> int:
    return max(int(member.sum(1).max(initial=0)), 1)


def _bag_slots(member, width):
    """Per bag, the positions of its indices padded to ``width`` (``take``), which slots
    hold one (``valid``, with a trailing unit dim), and which bags hold any (``filled``, as
    a column)."""
    take = np.zeros((len(member), width), np.int64)
    valid = np.zeros((len(member), width), bool)
    for b in range(len(member)):
        where_b = np.flatnonzero(member[b])
        take[b, :where_b.size] = where_b
        valid[b, :where_b.size] = True
    return take, valid[..., None], valid.any(1)[:, None]


def _bag_matrix(member, dt, mean):
    """The (bags, indices) matrix summing (or averaging) each bag's rows."""
    mat = member.astype(dt)
    if mean:
        mat = mat / np.maximum(mat.sum(1, keepdims=True), 1)
    return mat


def _renorm_rows(weight, idx, max_norm, norm_type):
    """PyTorch's embedding_renorm_: rows used by ``idx`` rescaled to norm <= max_norm."""
    with no_grad():
        data = weight._data
        rows = np.unique(idx)
        w = data[rows]
        norms = np.linalg.norm(w, ord=norm_type, axis=1) if w.size else np.zeros(0)
        big = norms > max_norm
        if big.any():
            data[rows[big]] = w[big] * (max_norm / (norms[big] + 1e-7))[:, None]
            bump_version(weight)


def one_hot(tensor, num_classes=-1):
    """int64 tensor of shape ``(*tensor.shape, num_classes)`` with ones at the indices."""
    try:
        num_classes = operator.index(num_classes)
    except TypeError:
        raise TypeError(f"one_hot(): argument 'num_classes' must be int, not "
                        f"{type(num_classes).__name__}") from None
    data = tensor._data
    if data.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if data.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(data.max()) + 1
    if data.size:
        if data.min() < 0:
            raise RuntimeError("Class values must be non-negative.")
        if data.max() >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    out = (data[..., None] == np.arange(num_classes)).astype(np.int64)
    return wrap(out)
