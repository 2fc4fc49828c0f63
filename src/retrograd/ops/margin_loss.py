"""Distance, similarity and margin losses of ``retrograd.nn.functional`` (composites)."""

from __future__ import annotations

import math

import numpy as np

from ._core import replayable
from ._loss_common import _check_reduction, _const, _legacy, _reduce
from ._out import dtype_name
from .activation import Softplus
from .scatter import TakeAlong
from .unary import where

__all__ = ["cosine_embedding_loss", "cosine_similarity", "hinge_embedding_loss",
           "margin_ranking_loss", "multi_margin_loss", "multilabel_margin_loss",
           "multilabel_soft_margin_loss", "pairwise_distance", "pdist", "soft_margin_loss",
           "triplet_margin_loss", "triplet_margin_with_distance_loss"]


def _broadcast_check(a, b):
    sa, sb = tuple(a.shape), tuple(b.shape)
    n = max(len(sa), len(sb))
    pa, pb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    for i in range(n - 1, -1, -1):
        if pa[i] != pb[i] and 1 not in (pa[i], pb[i]):
            raise RuntimeError(f"The size of tensor a ({pa[i]}) must match the size of tensor b "
                               f"({pb[i]}) at non-singleton dimension {i}")


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1/|x1| * x2/|x2|, dim); each norm is clamped at eps without blocking grad."""
    _broadcast_check(x1, x2)
    shape = np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    # Broadcast first: a size-1 dim of one input is normalized at its broadcast length.
    x1, x2 = x1.expand(*shape), x2.expand(*shape)

    def unit(x):
        n = x.norm(2, dim, keepdim=True)
        n = n + _const(np.maximum(n._data, eps) - n._data, n)
        return x / n

    return (unit(x1) * unit(x2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dimension."""
    _broadcast_check(x1, x2)
    dim = max(x1.dim(), x2.dim()) - 1
    return (x1 - x2 + eps).norm(p, dim if dim >= 0 else None, keepdim=keepdim)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    reduction = _legacy(size_average, reduce, reduction)
    d = input1.dim() - 1
    prod = (input1 * input2).sum(d)
    mag1 = (input1 * input1).sum(d) + 1e-12
    mag2 = (input2 * input2).sum(d) + 1e-12
    cos = prod / (mag1 * mag2).sqrt()
    loss = where(target == 1, 1 - cos, 0.0) + where(target == -1, (cos - margin).clamp(min=0),
                                                       0.0)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    reduction = _legacy(size_average, reduce, reduction)
    if not (input1.dim() == input2.dim() == target.dim()):
        raise RuntimeError(
            f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} ")
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    reduction = _legacy(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    d_ap = pairwise_distance(anchor, positive, p, eps)
    d_an = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_pn = pairwise_distance(positive, negative, p, eps)
        d_an = where(d_pn < d_an, d_pn, d_an)
    return _reduce((d_ap - d_an + margin).clamp(min=0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    reduction = _legacy(size_average, reduce, reduction)
    loss = where(target != 1, (margin - input).clamp(min=0), 0.0) + \
        where(target != -1, input, 0.0)
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    reduction = _legacy(size_average, reduce, reduction)
    return _reduce(Softplus.generic(-input * target, threshold=math.inf), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    reduction = _legacy(size_average, reduce, reduction)
    sp_neg = Softplus.generic(-input, threshold=math.inf)  # -logsigmoid(x)
    sp_pos = Softplus.generic(input, threshold=math.inf)  # -logsigmoid(-x)
    loss = target * sp_neg + (1 - target) * sp_pos
    if weight is not None:
        loss = loss * weight
    cdim = input.dim() - 1
    loss = loss.sum(cdim) / input.shape[cdim]
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    return _reduce(loss, reduction)


def pdist(input, p=2):
    """||x_i - x_j||_p for every pair of rows i < j, in row-major order."""
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    i, j = np.triu_indices(input.shape[0], 1)
    return (input[i] - input[j]).norm(p, 1)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    if margin <= 0:
        raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater than "
                         f"0, got {margin} instead")
    dist = distance_function if distance_function is not None else pairwise_distance
    d_ap = dist(anchor, positive)
    d_an = dist(anchor, negative)
    if swap:
        d_pn = dist(positive, negative)
        d_an = where(d_pn < d_an, d_pn, d_an)
    return _reduce((d_ap - d_an + margin).clamp(min=0), reduction)


def _margin_input(input):
    """(N, C) view of a margin loss's input: a non-empty vector or matrix (N may be 0)."""
    d = input.dim()
    if d > 2 or (d == 1 and input.shape[0] == 0) or (d == 2 and input.shape[1] == 0):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch "
                           f"size, but got: {list(input.shape)}")
    return input if d == 2 else input.reshape(1, -1)


def _long_target(target):
    data = target._data
    if data.dtype != np.int64:
        raise RuntimeError(f"expected scalar type Long but found {dtype_name(data.dtype)}")
    return data


def _target_parts(t, c, weight, dtype):
    """The targets as a column, where each row's target class is, and the weights of the
    targets' classes as a column (None without weight)."""
    t = t.reshape(-1, 1)
    scale = None if weight is None else np.asarray(weight[t[:, 0]][:, None], dtype=dtype)
    return t, t == np.arange(c), scale


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """sum over i != y of max(0, margin - x[y] + x[i])^p / C (times weight[y])."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    x = _margin_input(input)
    n, c = x.shape
    if target.dim() > 1 or target.numel() != n:
        raise RuntimeError(f"multi_margin_loss: target tensor should be 1-D with size equal to "
                           f"the number of input samples (batch size). Expected target size "
                           f"[{n}], but got {list(target.shape)}. ")
    t = _long_target(target)
    if weight is not None and weight.numel() != c:
        raise RuntimeError(f"inconsistent weight size, expected {c} but got "
                           f"{list(weight.shape)}")
    if t.size and (t.min() < 0 or t.max() >= c):
        raise RuntimeError("target out of range")
    # Arrays made from the targets: a captured step makes them again (replayable).
    column, others, scale = replayable(_target_parts, t, c, None if weight is None else
                                       weight._data, x._data.dtype)
    picked = TakeAlong.generic(x, dim=1, index=column)
    z = (x - picked + margin).clamp(min=0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * scale
    loss = where(others, 0.0, z).sum(1) / c
    if input.dim() < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """sum over target classes j and non-target classes i of max(0, 1 - (x[j] - x[i])) / C;
    ``target`` lists class indices, ended by the first -1."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    x = _margin_input(input)
    n, c = x.shape
    if tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: "
                           f"{list(input.shape)}")
    t = _long_target(target).reshape(n, c)
    if t.size and (t.min() < -1 or t.max() >= c):
        raise RuntimeError("argument #2 'target' is out of range")
    # A class listed twice counts twice (PyTorch sums over the listed entries).
    count = np.zeros((n, c), np.int64)
    for row in range(n):
        for k in t[row]:
            if k < 0:
                break
            count[row, k] += 1
    pairs = count[:, :, None] * (count == 0)[:, None, :]
    z = (x.unsqueeze(1) - x.unsqueeze(2) + 1).clamp(min=0)
    loss = (z * _const(pairs.astype(x._data.dtype), z)).sum((1, 2)) / c
    if input.dim() < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)
