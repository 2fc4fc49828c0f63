"""Rearranging copies: flip (fliplr, flipud), roll, rot90, repeat, tile and
repeat_interleave. Each primitive's gradient undoes its rearrangement (flip back, roll
back, rotate back, sum the repeats)."""

from __future__ import annotations

import numpy as np

from .._dims import wrap_dim, wrap_dims
from .._tensor import Tensor, wrap
from ..backend import xp
from ._core import Primitive, checked, register_method, replayable
from ._helpers import int_list
from .creation import tensor
from .index_ops import index_select
from .shape import reshape

__all__ = ["flip", "fliplr", "flipud", "repeat_interleave", "roll", "rot90", "tile"]


class Flip(Primitive):
    """x reversed along ``dims``.  d/dx = flip(grad, dims)."""

    __slots__ = ("dims",)
    formula = "flip(grad, dims)"

    def forward(ctx, x, dims=()):
        ctx.dims = wrap_dims(dims, x.ndim, "flip", sort=False)
        return xp(x).flip(x, ctx.dims).copy() if ctx.dims and x.ndim else x.copy()

    def backward(ctx, grad):
        return Flip.generic(grad, dims=ctx.dims)

    def jvp(ctx, tx):
        return Flip.generic(tx, dims=ctx.dims)


class Roll(Primitive):
    """x shifted cyclically.  d/dx = roll(grad, -shifts, dims)."""

    __slots__ = ("dims", "shifts")
    formula = "roll(grad, -shifts, dims)"

    def forward(ctx, x, shifts=(), dims=None):
        ctx.shifts, ctx.dims = shifts, dims
        if dims is None:
            return xp(x).roll(x.reshape(-1), shifts).reshape(x.shape)
        return xp(x).roll(x, shifts, tuple(wrap_dim(d, x.ndim) for d in dims))

    def backward(ctx, grad):
        return Roll.generic(grad, shifts=tuple(-s for s in ctx.shifts), dims=ctx.dims)

    def jvp(ctx, tx):
        return Roll.generic(tx, shifts=ctx.shifts, dims=ctx.dims)


class Rot90(Primitive):
    """x rotated by k quarter turns in the plane ``dims``.  d/dx = rot90(grad, -k, dims)."""

    __slots__ = ("dims", "k")
    formula = "rot90(grad, -k, dims)"

    def forward(ctx, x, k=1, dims=(0, 1)):
        ctx.k, ctx.dims = k, dims
        return xp(x).rot90(x, k, tuple(wrap_dim(d, x.ndim) for d in dims)).copy()

    def backward(ctx, grad):
        return Rot90.generic(grad, k=-ctx.k, dims=ctx.dims)

    def jvp(ctx, tx):
        return Rot90.generic(tx, k=ctx.k, dims=ctx.dims)


class Repeat(Primitive):
    """x tiled ``repeats`` times along each dim.  d/dx = grad summed over the copies."""

    __slots__ = ("repeats", "shape")
    formula = "grad.reshape(r0, s0, r1, s1, ...).sum(r dims)"

    def forward(ctx, x, repeats=()):
        ctx.repeats, ctx.shape = repeats, x.shape
        lead = (1,) * (len(repeats) - x.ndim)
        return xp(x).tile(x.reshape(lead + x.shape), repeats)

    def backward(ctx, grad):
        from .reduction import sum

        reps = ctx.repeats
        sizes = (1,) * (len(reps) - len(ctx.shape)) + tuple(ctx.shape)
        split_shape = tuple(v for pair in zip(reps, sizes) for v in pair)
        g = sum(reshape(grad, split_shape), tuple(range(0, 2 * len(reps), 2)))
        return reshape(g, ctx.shape)

    def jvp(ctx, tx):
        return Repeat.generic(tx, repeats=ctx.repeats)


@register_method("flip")
def flip(input, *args, dims=None):
    """input reversed along ``dims`` (given as ``dims=``, one sequence, or as ints)."""
    if dims is None:
        dims = int_list("flip", "dims", args)
    elif args:
        raise TypeError("flip() got multiple values for argument 'dims'")
    elif isinstance(dims, int):
        dims = (dims,)
    return Flip.generic(input, dims=tuple(dims))


@register_method("fliplr")
def fliplr(input):
    if input.dim() < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


@register_method("flipud")
def flipud(input):
    if input.dim() < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


@register_method("roll")
def roll(input, shifts, dims=None):
    """Elements shifted cyclically along ``dims`` (the flattened tensor when None)."""
    shifts = (shifts,) if isinstance(shifts, int) else tuple(int(s) for s in shifts)
    if dims is not None:
        dims = (dims,) if isinstance(dims, int) else tuple(dims)
        if len(shifts) != len(dims):
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                               f"dims:{len(dims)}")
    elif len(shifts) != 1:
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
    return Roll.generic(input, shifts=shifts, dims=dims)


@register_method("rot90")
def rot90(input, k=1, dims=(0, 1)):
    """Rotation by 90 degrees ``k`` times from the first dim towards the second."""
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.dim() < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.dim()}")
    d0, d1 = (wrap_dim(d, input.dim()) for d in dims)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and "
                           f"dim1 = {d1}")
    return Rot90.generic(input, k=int(k) % 4, dims=(d0, d1))


@register_method("repeat")
def repeat(input, *repeats):
    """The tensor tiled: ``repeats[i]`` copies along dim i (leading dims are added)."""
    if not repeats:
        raise TypeError("repeat() missing 1 required positional argument: 'repeats'")
    if len(repeats) == 1 and not isinstance(repeats[0], (tuple, list)) and \
            not hasattr(repeats[0], "__index__"):
        raise TypeError(f"repeat(): argument 'repeats' must be tuple of ints, not "
                        f"{type(repeats[0]).__name__}")
    repeats = int_list("repeat", "repeats", repeats)
    if len(repeats) < input.dim():
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    if any(r < 0 for r in repeats):
        raise RuntimeError(f"Trying to create tensor with negative dimension "
                           f"{min(repeats)}: {list(repeats)}")
    return Repeat.generic(input, repeats=repeats)


@register_method("tile")
def tile(input, dims):
    dims = tuple(int(d) for d in dims)
    return repeat(input, (1,) * (input.dim() - len(dims)) + dims)


@register_method("repeat_interleave")
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element repeated ``repeats`` times (a number or one count per element)."""
    if repeats is None:  # repeat_interleave(repeats): indices 0.. repeated by count
        counts = np.asarray(input._data if isinstance(input, Tensor) else input)

        return tensor(np.repeat(np.arange(counts.size), counts))
    if dim is None:
        input = reshape(input, (-1,))
        dim = 0
    d = wrap_dim(dim, input.dim())
    n = input.shape[d]
    reps = repeats._data if isinstance(repeats, Tensor) else np.asarray(repeats)
    reps = np.asarray(reps).reshape(-1) if np.ndim(reps) else int(reps)
    if isinstance(reps, np.ndarray) and reps.size not in (1, n):
        raise RuntimeError("repeats must have the same size as input along dim, but got "
                           f"repeats.size(0) = {reps.size} and input.size({d}) = {n}")
    if np.any(np.asarray(reps) < 0):
        raise RuntimeError("repeats can not be negative")

    if isinstance(reps, np.ndarray):  # counts from data: the length a guard, the index made
        raw = repeats._data if isinstance(repeats, Tensor) else reps  # again in a replay
        checked(_total, raw)
        return index_select(input, d, wrap(replayable(_repeated, n, raw)))
    return index_select(input, d, tensor(np.repeat(np.arange(n), reps)))


def _total(reps) -> int:
    return int(reps.sum())


def _repeated(n, reps):
    return np.repeat(np.arange(n), reps.reshape(-1))
