"""quantile and nanquantile: composites that pick the two order statistics around each
quantile's position and interpolate between them.

The positions come from an argsort of the data (constants of the graph); the picked values
are a ``gather`` from the input, so the gradient reaches exactly the elements the result was
made of. With rank r = q (n - 1), lo = floor(r), w = r - lo and a, b the lo-th and hi-th
smallest elements, linear interpolation gives a + w (b - a):
d/da = 1 - w, d/db = w, d/dq = (n - 1)(b - a). The other modes pick one element (or the
midpoint, d/da = d/db = 1/2) and are constant in q.
"""

from __future__ import annotations

import numpy as np

from .._dims import wrap_dim
from .._tensor import Tensor, wrap
from ..backend import xp
from ._core import checked, register_method, replayable
from ._out import write_out
from .reduction import _movedim
from .scatter import gather
from .shape import reshape, unsqueeze
from .where import where

__all__ = ["nanquantile", "quantile"]

_MODES = ("linear", "lower", "higher", "midpoint", "nearest")


def _check(input, q, interpolation):
    """PyTorch's argument checks, in its words (all ops say "quantile()")."""
    if input._data.dtype not in (np.float32, np.float64):
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise RuntimeError("quantile() q must be a scalar or 1D tensor")
        if q.dtype != input.dtype:
            raise RuntimeError("quantile() q tensor must be same dtype as the input tensor")
        values = q._data
        if values.size and not bool(((values >= 0) & (values <= 1)).all()):
            raise RuntimeError("quantile() q values must be in the range [0, 1]")
    elif not 0 <= q <= 1:
        raise RuntimeError(f"quantile() q must be in the range [0, 1] but got {q:g}")
    if interpolation not in _MODES:
        raise RuntimeError("quantile() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    if input._data.size == 0:
        raise RuntimeError("quantile() input tensor must be non-empty")


def _positions(data, q_arr, ignore_nan, mode):
    """For the sorted slices of ``data`` (last axis): where each quantile falls, as
    (lo, hi, rank_floor, count, nan_result) arrays shaped q's shape + data's batch shape +
    (1,); nan_result marks the slices whose quantile is NaN whatever q is."""
    m = xp(data)
    n = data.shape[-1]
    nan = m.isnan(data)
    count = (~nan).sum(axis=-1, keepdims=True) if ignore_nan else m.full(
        data.shape[:-1] + (1,), n)
    q_b = q_arr.reshape(q_arr.shape + (1,) * data.ndim)
    # the rank in the input's dtype, as PyTorch computes it (float32 rounds "nearest" alike)
    rank = q_b * (count - 1).astype(data.dtype)
    lo = m.floor(rank)
    if mode == "nearest":
        lo = hi = m.round(rank)  # half to even, as torch.round
    elif mode == "lower":
        hi = lo
    elif mode == "higher":
        lo = hi = m.ceil(rank)
    else:
        hi = m.ceil(rank)
    floor = m.floor(rank)
    lo = m.clip(lo, 0, n - 1).astype(np.int64)
    hi = m.clip(hi, 0, n - 1).astype(np.int64)
    if ignore_nan:
        nan_result = count == 0
    else:
        # A slice holding NaN has quantile NaN: point at its NaN (sorted last).
        nan_result = nan.any(axis=-1, keepdims=True)
        lo = m.where(nan_result, n - 1, lo)
        hi = m.where(nan_result, n - 1, hi)
    return lo, hi, floor, count, nan_result


def _picks(data, q_arr, ignore_nan, mode):
    """The indices of the two order statistics around each quantile (into ``data``), the
    rank's scale (count - 1) and floor, and where the result is NaN whatever q is."""
    m = xp(data)
    lo, hi, floor, count, nan_result = _positions(data, q_arr, ignore_nan, mode)
    order = m.argsort(data, axis=-1, kind="stable")  # NaN sorts last, as in PyTorch
    if q_arr.ndim:
        order = order[None]
    return (m.take_along_axis(order, lo, axis=-1), m.take_along_axis(order, hi, axis=-1),
            (count - 1).astype(data.dtype), floor, m.broadcast_to(nan_result, floor.shape))


def _any(mask) -> bool:
    return bool(mask.any())


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, out, op):
    _check(input, q, interpolation)
    x = reshape(input, (-1,)) if dim is None or input.ndim == 0 else input
    d = -1 if dim is None else wrap_dim(dim, input.ndim)
    x = _movedim(x, d, -1) if x.ndim > 1 else x
    data = x._data
    m = xp(data)
    q_arr = q._data if isinstance(q, Tensor) else m.asarray(q, dtype=data.dtype)
    # Positions come from the data's values: a captured step computes them again.
    low_at, high_at, scale, floor, nan_mask = replayable(_picks, data, q_arr, ignore_nan,
                                                         interpolation)
    if q_arr.ndim:  # one row of results per quantile: the data repeated along a new dim 0
        x = x.unsqueeze(0).expand(q_arr.shape[0], *x.shape)
    low = gather(x, -1, wrap(low_at))
    if interpolation in ("linear", "midpoint"):
        if interpolation == "midpoint":
            weight = 0.5
        else:
            q_b = reshape(q, q_arr.shape + (1,) * data.ndim) if isinstance(q, Tensor) else \
                q_arr.reshape(q_arr.shape + (1,) * data.ndim)
            weight = q_b * wrap(scale) - wrap(floor)
            if checked(_any, nan_mask):  # a NaN quantile does not move with q (d/dq = 0)
                weight = where(wrap(nan_mask), 0.0, weight)
        high = gather(x, -1, wrap(high_at))
        res = low + weight * (high - low)
    else:
        res = low
    res = res.squeeze(-1)
    if keepdim:
        res = _keep(res, input.ndim, dim, d, q_arr.ndim)
    return write_out(res, out, op)


def _keep(res, ndim, dim, d, qdims):
    """The reduced dim(s) back as size 1 (all of them when ``dim`` is None)."""
    if ndim == 0:
        return res
    if dim is None:
        return reshape(res, tuple(res.shape[:qdims]) + (1,) * ndim)
    return unsqueeze(res, d + qdims)


@register_method("quantile")
def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """The ``q``-th quantiles of ``input`` along ``dim`` (of all elements when None); a 1-D
    ``q`` puts the quantiles along a new first dim. A slice holding NaN gives NaN.

    Linear interpolation: d/da = 1 - w, d/db = w, d/dq = (n - 1)(b - a), where the quantile
    lies at fraction w between the order statistics a and b.

    >>> import retrograd as torch
    >>> torch.quantile(torch.arange(4.), 0.6, interpolation="nearest")
    tensor(2.)
    """
    return _quantile(input, q, dim, keepdim, interpolation, False, out, "quantile")


@register_method("nanquantile")
def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """``quantile`` ignoring NaN: each slice's quantiles over its non-NaN elements (NaN where
    all are NaN). Derivatives as quantile's, with n the count of non-NaN elements."""
    return _quantile(input, q, dim, keepdim, interpolation, True, out, "nanquantile")
