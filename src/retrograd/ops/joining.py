"""Joining and splitting: cat, stack, split, chunk, unbind, tensor_split, the h/v/d/column
stacks, meshgrid, cartesian_prod, broadcast_tensors and atleast_nd.

cat, stack, split and unbind are primitives (PyTorch's CatBackward0, StackBackward0,
SplitBackward0, UnbindBackward0); the rest are written with them and the view ops.
"""

from __future__ import annotations

import numpy as np

from .._dims import wrap_dim
from .._size import Size
from .._tensor import Tensor
from ..backend import xp
from ._core import Primitive, register_method
from ._helpers import int_arg, int_list
from ._out import takes_out
from .indexing import getitem
from .shape import expand, reshape, unsqueeze

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "broadcast_shapes", "broadcast_tensors",
           "cartesian_prod", "cat", "chunk", "column_stack", "concat", "concatenate", "dstack",
           "hsplit", "hstack", "meshgrid", "row_stack", "split", "stack", "tensor_split",
           "unbind", "vsplit", "vstack"]


def _along(dim: int, key) -> tuple:
    """An index that applies ``key`` to dimension ``dim`` (``dim`` >= 0)."""
    return (slice(None),) * dim + (key, Ellipsis)


class Cat(Primitive):
    """The inputs joined along ``dim``.  d/dx_i = the slice of grad that x_i filled."""

    __slots__ = ("dim", "empty", "sizes")
    promote = True
    formula = "grad.narrow(dim, offset_i, size_i)"

    def forward(ctx, *xs, dim=0):
        if not xs:
            raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
        # PyTorch still skips 1-d empty tensors whatever their partners' shapes.
        ctx.empty = tuple(x.ndim == 1 and x.shape[0] == 0 for x in xs)
        parts = [x for x, e in zip(xs, ctx.empty) if not e]
        if not parts:
            ctx.dim, ctx.sizes = 0, tuple(0 for _ in xs)
            return xp(xs[0]).concatenate(xs)
        ref = parts[0]
        for i, x in enumerate(xs):
            if x.ndim == 0:
                raise RuntimeError(
                    f"zero-dimensional tensor (at position {i}) cannot be concatenated")
        d = wrap_dim(dim, ref.ndim)
        for i, x in enumerate(xs):
            if x.ndim == 1 and x.shape[0] == 0:
                continue
            if x.ndim != ref.ndim:
                raise RuntimeError(
                    f"Tensors must have same number of dimensions: got {ref.ndim} and {x.ndim}")
            for k in range(ref.ndim):
                if k != d and x.shape[k] != ref.shape[k]:
                    raise RuntimeError(
                        f"Sizes of tensors must match except in dimension {d}. Expected size "
                        f"{ref.shape[k]} but got size {x.shape[k]} for tensor number {i} in "
                        f"the list.")
        ctx.dim = d
        ctx.sizes = tuple(0 if (x.ndim == 1 and x.shape[0] == 0) else x.shape[d] for x in xs)
        return xp(ref).concatenate(parts, axis=d)

    def backward(ctx, grad):
        out = []
        start = 0
        for n, need, empty in zip(ctx.sizes, ctx.needs_input_grad, ctx.empty):
            if not need:
                out.append(None)
            elif empty:  # a skipped 1-d empty input
                out.append(getitem(reshape(grad, (-1,)), slice(0, 0)))
            else:
                out.append(getitem(grad, _along(ctx.dim, slice(start, start + n))))
            start += n
        return tuple(out)

    def jvp(ctx, *ts):
        return cat(ts, ctx.dim)


class Stack(Primitive):
    """The inputs stacked along a new dim.  d/dx_i = grad.select(dim, i)."""

    __slots__ = ("dim",)
    promote = True
    formula = "grad.select(dim, i)"

    def forward(ctx, *xs, dim=0):
        if not xs:
            raise RuntimeError("stack expects a non-empty TensorList")
        for i, x in enumerate(xs):
            if x.shape != xs[0].shape:
                raise RuntimeError(
                    f"stack expects each tensor to be equal size, but got "
                    f"{list(xs[0].shape)} at entry 0 and {list(x.shape)} at entry {i}")
        d = wrap_dim(dim, xs[0].ndim + 1)
        ctx.dim = d
        return xp(xs[0]).stack(xs, axis=d)

    def backward(ctx, grad):
        return tuple(getitem(grad, _along(ctx.dim, i)) if need else None
                     for i, need in enumerate(ctx.needs_input_grad))

    def jvp(ctx, *ts):
        return stack(ts, ctx.dim)


class Split(Primitive):
    """Consecutive views along ``dim`` of the given sizes.  d/dx = cat(grads, dim)."""

    __slots__ = ("dim",)
    is_view = True
    multi_view = True
    formula = "cat(grads, dim)"

    def forward(ctx, x, sizes=(), dim=0):
        d = wrap_dim(dim, x.ndim)
        ctx.dim = d
        outs, start = [], 0
        for n in sizes:
            outs.append(x[_along(d, slice(start, start + n))])
            start += n
        return tuple(outs)

    def backward(ctx, *grads):
        return cat(_all_grads(ctx, grads), ctx.dim)

    def jvp(ctx, tx):
        return tuple(getitem(tx, _along(ctx.dim, slice(a, b)))
                     for a, b in _bounds([s[ctx.dim] for s, _ in ctx._out_meta]))


class SplitWithSizes(Split):
    __slots__ = ()


class Unbind(Primitive):
    """The slices along ``dim`` as views.  d/dx = stack(grads, dim)."""

    __slots__ = ("dim",)
    is_view = True
    multi_view = True
    formula = "stack(grads, dim)"

    def forward(ctx, x, dim=0):
        d = wrap_dim(dim, x.ndim)
        ctx.dim = d
        return tuple(x[_along(d, i)] for i in range(x.shape[d]))

    def backward(ctx, *grads):
        return stack(_all_grads(ctx, grads), ctx.dim)

    def jvp(ctx, tx):
        return tuple(getitem(tx, _along(ctx.dim, i)) for i in range(len(ctx._out_meta)))


def _all_grads(ctx, grads) -> list:
    """One gradient per output: zeros for the outputs nothing reached."""
    out = list(grads) + [None] * (len(ctx._out_meta) - len(grads))
    some = next(g for g in out if g is not None)
    m = xp(some._data if isinstance(some, Tensor) else some)  # zeros on the grads' device
    for k, g in enumerate(out):
        if g is None:
            shape, dt = ctx._out_meta[k]
            out[k] = m.zeros(shape, dt)
    return out


def _bounds(sizes):
    start = 0
    for n in sizes:
        yield start, start + n
        start += n


# ---------------------------------------------------------------------- public functions

def _tensors(tensors, name: str, nonempty: bool = False) -> tuple:
    if isinstance(tensors, Tensor):
        raise TypeError(f"{name}(): argument 'tensors' must be tuple of Tensors, not Tensor")
    tensors = tuple(tensors)
    if nonempty and not tensors:
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    return tensors


@takes_out("cat", "join", apart=True)
def cat(tensors, dim=0, *, out=None):
    """Join tensors along an existing dim."""
    if not isinstance(tensors, Tensor) and len(tensors) == 0:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    return Cat.generic(*_tensors(tensors, "cat"), dim=int_arg("cat", "dim", dim))


concat = concatenate = cat


@takes_out("stack", "join")
def stack(tensors, dim=0, *, out=None):
    """Join equally shaped tensors along a new dim."""
    tensors = _tensors(tensors, "stack", nonempty=True)
    wrap_dim(dim, tensors[0].ndim + 1, "stack")  # the dim first, then the sizes (PyTorch)
    return Stack.generic(*tensors, dim=dim)


@register_method("split")
def split(tensor, split_size_or_sections, dim=0):
    """Views of ``split_size`` along ``dim`` (the last may be smaller), or of given sizes."""
    if not isinstance(split_size_or_sections, (int, np.integer, list, tuple)):
        raise TypeError(f"split(): argument 'split_size_or_sections' must be int or tuple of "
                        f"ints, not {type(split_size_or_sections).__name__}")
    if tensor.dim() == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    n = tensor.shape[wrap_dim(dim, tensor.dim())]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size < 0 or (size == 0 and n != 0):
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}" if size == 0 else
                               f"split expects split_size be non-negative, but got "
                               f"split_size={size}")
        sizes = [size] * (n // size) + ([n % size] if n % size else []) if n else [0]
        return Split.generic(tensor, sizes=tuple(sizes), dim=dim)
    sizes = int_list("split_with_sizes", "split_sizes", (split_size_or_sections,))
    if sum(sizes) != n or any(s < 0 for s in sizes):
        raise RuntimeError(
            f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
            f"at dimension {dim}), but got split_sizes={list(sizes)}")
    return SplitWithSizes.generic(tensor, sizes=sizes, dim=dim)


@register_method("split_with_sizes")
def split_with_sizes(input, split_sizes, dim=0):
    return split(input, list(split_sizes), dim)


@register_method("chunk")
def chunk(input, chunks, dim=0):
    """At most ``chunks`` views of equal size (the last may be smaller)."""
    chunks = int_arg("chunk", "chunks", chunks)
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    if input.dim() == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    n = input.shape[wrap_dim(dim, input.dim())]
    size = max(-(-n // chunks), 1) if n else 0
    if n == 0:
        return split(input, [0] * chunks, dim) if chunks > 1 else split(input, [0], dim)
    return split(input, size, dim)


@register_method("unbind")
def unbind(input, dim=0):
    """The slices along ``dim`` as a tuple of views."""
    dim = int_arg("unbind", "dim", dim)
    if input.dim() == 0 and dim not in (0, -1):
        wrap_dim(dim, 0, "unbind")
    if input.dim() == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    return Unbind.generic(input, dim=dim)


@register_method("tensor_split")
def tensor_split(input, indices_or_sections, dim=0):
    """Views split at indices, or into ``sections`` nearly equal parts."""
    _check_sections("tensor_split", indices_or_sections, Tensor)
    d = wrap_dim(dim, input.dim())
    n = input.shape[d]
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        ios = ios.item() if ios.dim() == 0 else ios.tolist()
    if isinstance(ios, (int, np.integer)):
        k = int(ios)
        if k <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        q, r = divmod(n, k)
        sizes = [q + 1] * r + [q] * (k - r)
        bounds = list(_bounds(sizes))
    else:
        cuts = [0] + [int(i) for i in ios] + [n]
        bounds = [(cuts[i], cuts[i + 1]) for i in range(len(cuts) - 1)]
    return tuple(getitem(input, _along(d, slice(a, max(a, b)))) for a, b in bounds)


def _check_sections(name, ios, *more) -> None:
    """An int, a sequence of ints (or, where ``more`` says, a Tensor): PyTorch's parser
    refuses anything else with a TypeError."""
    ok = (isinstance(ios, (int, np.integer, *more)) and not isinstance(ios, bool)) or (
        isinstance(ios, (list, tuple)) and all(isinstance(i, (int, np.integer)) for i in ios))
    if not ok:
        raise TypeError(f"{name}(): argument 'indices_or_sections' must be an int or a "
                        f"sequence of ints, not {type(ios).__name__}")


def _split_nd(name, axis, min_dim):
    def fn(input, indices_or_sections):
        if input.dim() < min_dim:
            raise RuntimeError(
                f"torch.{name} requires a tensor with at least {min_dim} dimension, but got a "
                f"tensor with {input.dim()} dimensions!")
        d = 0 if name == "hsplit" and input.dim() == 1 else axis
        if isinstance(indices_or_sections, Tensor) and indices_or_sections.dim() == 0:
            indices_or_sections = indices_or_sections.item()
        _check_sections(name, indices_or_sections)
        if isinstance(indices_or_sections, (int, np.integer)):
            n = input.shape[d]
            if indices_or_sections == 0 or n % indices_or_sections:
                raise RuntimeError(
                    f"torch.{name} attempted to split along dimension {d}, but the size of the "
                    f"dimension {n} is not divisible by the split_size {indices_or_sections}!")
        return tensor_split(input, indices_or_sections, d)

    fn.__name__ = name
    return register_method(name)(fn)


hsplit = _split_nd("hsplit", 1, 1)
vsplit = _split_nd("vsplit", 0, 2)
dsplit = _split_nd("dsplit", 2, 3)


def atleast_1d(*tensors):
    return _atleast(tensors, 1)


def atleast_2d(*tensors):
    return _atleast(tensors, 2)


def atleast_3d(*tensors):
    return _atleast(tensors, 3)


def _atleast(tensors, n):
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    if len(tensors) == 1 and not single:
        tensors = tuple(tensors[0])
    out = []
    for t in tensors:
        if t.dim() >= n:
            out.append(t)
        elif t.dim() == 0:
            out.append(reshape(t, (1,) * n))
        elif n == 2 or t.dim() == 2:
            out.append(unsqueeze(t, 0) if n == 2 else unsqueeze(t, -1))
        else:  # a 1-d tensor to 3-d: (1, N, 1)
            out.append(unsqueeze(unsqueeze(t, 0), -1))
    return out[0] if single else tuple(out)


@takes_out("hstack", "join")
def hstack(tensors, *, out=None):
    ts = atleast_1d(*_tensors(tensors, "hstack", nonempty=True))
    return cat(ts, 0 if ts[0].dim() == 1 else 1)


@takes_out("vstack", "join")
def vstack(tensors, *, out=None):
    return cat(atleast_2d(*_tensors(tensors, "vstack", nonempty=True)), 0)


row_stack = vstack


@takes_out("dstack", "join")
def dstack(tensors, *, out=None):
    return cat(atleast_3d(*_tensors(tensors, "dstack", nonempty=True)), 2)


@takes_out("column_stack", "join")
def column_stack(tensors, *, out=None):
    ts = [reshape(t, (-1, 1)) if t.dim() <= 1 else t
          for t in _tensors(tensors, "column_stack", nonempty=True)]
    return cat(ts, 1)


def broadcast_shapes(*shapes):
    try:
        return Size(np.broadcast_shapes(*[(s,) if isinstance(s, int) else tuple(s)
                                          for s in shapes]))
    except ValueError:
        raise RuntimeError(
            f"shape mismatch: objects cannot be broadcast to a single shape: "
            f"{', '.join(str(list(s)) for s in shapes)}") from None


def broadcast_tensors(*tensors):
    """Views of the tensors expanded to their common shape."""
    if len(tensors) == 1 and not isinstance(tensors[0], Tensor):
        tensors = tuple(tensors[0])
    try:
        shape = np.broadcast_shapes(*[tuple(t.shape) for t in tensors])
    except ValueError:
        raise RuntimeError(
            "The size of tensor a must match the size of tensor b: shapes "
            f"{', '.join(str(list(t.shape)) for t in tensors)} cannot be broadcast") from None
    return tuple(expand(t, shape) for t in tensors)


def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-d tensors; ``indexing`` is "ij" (default) or "xy"."""
    if len(tensors) == 1 and not isinstance(tensors[0], Tensor):
        tensors = tuple(tensors[0])
    indexing = indexing or "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    for t in tensors:
        if t.dim() > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list "
                               f"but got: {t}")
    ts = [reshape(t, (-1,)) for t in tensors]
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.shape[0] for t in ts)
    grids = []
    for i, t in enumerate(ts):
        view = [1] * len(ts)
        view[i] = shape[i]
        grids.append(expand(reshape(t, tuple(view)), shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def cartesian_prod(*tensors):
    """All tuples of one element from each 1-d tensor, as rows."""
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(g, (-1,)) for g in grids], 1)


__all__ += ["dsplit", "split_with_sizes"]
