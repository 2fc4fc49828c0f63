"""Strided views over a tensor's storage: ``as_strided`` (any sizes, strides and storage
offset), ``storage_offset``, ``as_strided_scatter``, the sliding windows of
``Tensor.unfold``, and the allocators ``empty_strided``, ``new_empty_strided`` and
``empty_permuted`` that honour a requested layout.

A tensor's *storage* is the memory its array was carved from: the first array up the
``base`` chain that owns its memory (a view of a view of ``x`` reaches ``x``'s memory).
Storage positions count elements of the tensor's dtype from the lowest address of that
memory, so ``x[5:15].storage_offset()`` is 5, as in PyTorch.

The derivatives go through the storage too: ``StorageMap`` adds values into storage
positions and reads other positions back. It is linear, and its transpose is the same map
the other way round, so every derivative order comes from one class.
"""

from __future__ import annotations

import numpy as np

from .._dims import wrap_dim
from .._tensor import Tensor
from ..backend import xp
from ._core import Primitive, register_method
from ._out import takes_out
from .creation import _alloc, _default, _finish, _module, _sizes
from .shape import clone

__all__ = ["as_strided", "as_strided_copy", "as_strided_scatter", "empty_permuted",
           "empty_strided", "unfold_copy"]


# ---------------------------------------------------------------------- storage geometry

def _ptr(a) -> int:
    return a.__array_interface__["data"][0] if type(a) is np.ndarray else a.data.ptr


def _root(a):
    """The array that owns the memory ``a`` was carved from. NumPy's stride tricks and our
    ``_Window`` put a non-array between a view and its source; look through them."""
    kind = type(a)
    while True:
        b = a.base
        if not isinstance(b, kind):
            b = getattr(b, "base", None)
            if not isinstance(b, kind):
                return a
        a = b


def _extent(a) -> tuple[int, int]:
    """The lowest address of ``a``'s elements and the address just past its highest."""
    lo = hi = _ptr(a)
    if a.size == 0:
        return lo, hi
    for n, s in zip(a.shape, a.strides):
        if s < 0:
            lo += (n - 1) * s
        else:
            hi += (n - 1) * s
    return lo, hi + a.itemsize


def storage_of(a) -> tuple[int, int]:
    """``(lowest address, length in a's elements)`` of the storage behind array ``a``."""
    lo, hi = _extent(_root(a))
    return lo, (hi - lo) // a.itemsize


def _grid(size, stride, offset: int) -> np.ndarray:
    """The storage position of every element of a (size, stride, offset) layout."""
    pos = np.full(tuple(size), offset, dtype=np.int64)
    nd = len(size)
    for k, (n, s) in enumerate(zip(size, stride)):
        pos += (np.arange(n, dtype=np.int64) * s).reshape((n,) + (1,) * (nd - k - 1))
    return pos


def _positions(a, lo: int) -> np.ndarray:
    """The storage position of every element of array ``a`` (storage starting at ``lo``)."""
    item = a.itemsize
    return _grid(a.shape, [s // item for s in a.strides], (_ptr(a) - lo) // item)


def _needed(size, stride, offset: int) -> int:
    """How many storage elements a layout reaches (0 when it has no elements)."""
    if any(n == 0 for n in size):
        return 0
    return offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1


class _Window:
    """Memory seen through ``__array_interface__``; ``base`` keeps the owner alive and lets
    ``_root`` find it."""

    def __init__(self, owner, interface: dict) -> None:
        self.base = owner
        self.__array_interface__ = interface


def _window(a, size, stride, offset: int):
    """A view of array ``a``'s storage with the given layout (positions in a's elements)."""
    lo, n = storage_of(a)
    need = _needed(size, stride, offset)
    if need > n:
        item = a.itemsize
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, "
            f"and itemsize {item} requiring a storage size of {need * item} are out of bounds "
            f"for storage of size {n * item}")
    item = a.itemsize
    if type(a) is not np.ndarray:  # a CuPy array: the same window through a memory pointer
        root = _root(a)
        mem = root.data + (lo - _ptr(root) + offset * item)
        return xp(a).ndarray(tuple(size), a.dtype, memptr=mem,
                             strides=tuple(s * item for s in stride))
    root = _root(a)
    face = {"version": 3, "shape": tuple(size), "typestr": a.dtype.str,
            "descr": a.dtype.descr, "data": (lo + offset * item, not root.flags.writeable),
            "strides": tuple(s * item for s in stride)}
    return np.asarray(_Window(root, face))


def _overlaps(pos: np.ndarray) -> bool:
    return pos.size > 1 and np.unique(pos).size < pos.size


def _check_layout(size, stride, offset, op: str = "as_strided") -> None:
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"{op}: Negative strides are not supported at the moment, got "
                           f"strides: {list(stride)}")
    if any(n < 0 for n in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(size)}: "
                           f"{list(size)}")
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")


# ---------------------------------------------------------------------- primitives

class StorageMap(Primitive):
    """Values moved through a flat storage of ``n`` elements: each element of ``x`` (times
    ``w_in``) is added at its position in ``src``, then the positions ``dst`` are read back
    (times ``w_out``).  Linear, so d/dx = the same map from dst to src, weights swapped."""

    __slots__ = ("dst", "n", "src", "w_in", "w_out")
    formula = "storage_map(grad, dst -> src, weights swapped)"

    def forward(ctx, x, src=None, dst=None, n=0, w_in=None, w_out=None):
        ctx.src, ctx.dst, ctx.n, ctx.w_in, ctx.w_out = src, dst, n, w_in, w_out
        m = xp(x)
        flat = m.zeros(n, dtype=x.dtype)
        vals = x if w_in is None else x * m.asarray(w_in, dtype=x.dtype)
        m.add.at(flat, m.asarray(src).reshape(-1), vals.reshape(-1))
        out = flat[m.asarray(dst)]
        return out if w_out is None else out * m.asarray(w_out, dtype=x.dtype)

    def backward(ctx, grad):
        return StorageMap.generic(grad, src=ctx.dst, dst=ctx.src, n=ctx.n, w_in=ctx.w_out,
                                  w_out=ctx.w_in)

    def jvp(ctx, tx):
        return StorageMap.generic(tx, src=ctx.src, dst=ctx.dst, n=ctx.n, w_in=ctx.w_in,
                                  w_out=ctx.w_out)


def _shared_weight(pos: np.ndarray, n: int):
    """1 / (how many elements share each one's storage position), or None if none share."""
    counts = np.bincount(pos.reshape(-1), minlength=n)
    if pos.size == 0 or counts.max() <= 1:
        return None
    return 1.0 / counts[pos]


class AsStrided(Primitive):
    """x's storage read with sizes ``size``, strides ``stride`` from ``storage_offset`` (a
    view).  d/dx = grad added into the storage positions it was read from, then read back
    at x's own positions (divided among the elements of x that share one position).

    ``layout = (shape, strides, offset, n)`` says where x's elements sit in a storage of n
    elements; it is given when the view is redone on another array shaped like x (a
    gradient, or a copy of the base, when writing through the view), whose own memory may
    be laid out differently: the view is then taken of that array's memory where the layout
    allows, else read out as a copy."""

    __slots__ = ("n", "out_pos", "weight", "x_pos")
    is_view = True
    formula = "storage_map(grad, out positions -> x positions) / sharing count"

    def forward(ctx, x, size=(), stride=(), storage_offset=0, layout=None):
        ctx.out_pos = _grid(size, stride, storage_offset)
        if layout is None:
            out = _window(x, size, stride, storage_offset)
            lo, ctx.n = storage_of(x)
            ctx.x_pos = _positions(x, lo)
        else:
            shape, strides, offset, ctx.n = layout
            ctx.x_pos = _grid(shape, strides, offset)
            out = _redo(x, ctx.x_pos, ctx.n, ctx.out_pos)
        ctx.weight = _shared_weight(ctx.x_pos, ctx.n)
        if type(out) is np.ndarray and out.flags.writeable and _overlaps(ctx.out_pos):
            out.flags.writeable = False  # several elements at one address: writes would race
        return out

    def backward(ctx, grad):
        return StorageMap.generic(grad, src=ctx.out_pos, dst=ctx.x_pos, n=ctx.n,
                                  w_out=ctx.weight)

    def jvp(ctx, tx):
        return StorageMap.generic(tx, src=ctx.x_pos, dst=ctx.out_pos, n=ctx.n, w_in=ctx.weight)


def _redo(y, x_pos, n: int, out_pos):
    """The window ``out_pos`` of a storage in which the elements of ``y`` (shaped like x)
    sit at ``x_pos``: a view of y's memory when the window is strided there, else a copy
    (zeros where no element of y sits)."""
    owner = np.full(n, -1, dtype=np.int64)
    owner[x_pos.reshape(-1)] = np.arange(x_pos.size)
    which = owner[out_pos]
    lo, _ = storage_of(y)
    where_y = _positions(y, lo).reshape(-1)
    if which.size and (which >= 0).all():
        pos = where_y[which]
        stride = _strides_of(pos)
        if min(stride, default=0) >= 0 and np.array_equal(
                pos, _grid(pos.shape, stride, _offset_of(pos))):
            return _window(y, pos.shape, stride, _offset_of(pos))
    m = xp(y)
    flat = m.concatenate([y.reshape(-1), m.zeros(1, dtype=y.dtype)])
    return flat[m.asarray(np.where(which >= 0, which, x_pos.size))]


class AsStridedScatter(Primitive):
    """A copy of x (same layout) with ``src`` written into the window (size, stride,
    storage_offset) of the copy's storage.  d/dx = grad with the window's elements zeroed;
    d/dsrc = grad read through the window."""

    __slots__ = ("keep", "n", "out_pos", "window", "x_pos")
    formula = "grad * (not in window), storage_map(grad, x positions -> window)"

    def forward(ctx, x, src, size=(), stride=(), storage_offset=0):
        ctx.window = {"size": size, "stride": stride, "storage_offset": storage_offset}
        out = x.copy(order="K")
        _window(out, size, stride, storage_offset)[...] = src
        lo, n = storage_of(out)
        ctx.n, ctx.x_pos = n, _positions(out, lo)
        ctx.out_pos = _grid(size, stride, storage_offset)
        written = np.zeros(n, dtype=bool)
        written[ctx.out_pos.reshape(-1)] = True
        ctx.keep = ~written[ctx.x_pos]
        return out

    def backward(ctx, grad):
        nx, ns = ctx.needs_input_grad
        keep = xp(grad._data if isinstance(grad, Tensor) else grad).asarray(ctx.keep)
        gx = grad * keep if nx else None
        gs = StorageMap.generic(grad, src=ctx.x_pos, dst=ctx.out_pos, n=ctx.n) if ns else None
        return gx, gs

    def jvp(ctx, tx, ts):
        return AsStridedScatter.generic(tx, ts, **ctx.window)


def _strides_of(pos: np.ndarray) -> tuple:
    """The strides of a layout from its position grid (a dim of size <= 1 reads 0)."""
    out = []
    for k, n in enumerate(pos.shape):
        if n <= 1:
            out.append(0)
        else:
            step = [0] * pos.ndim
            step[k] = 1
            out.append(int(pos[tuple(step)] - pos[(0,) * pos.ndim]))
    return tuple(out)


def _offset_of(pos: np.ndarray) -> int:
    return int(pos[(0,) * pos.ndim]) if pos.size else 0


class Unfold(Primitive):
    """Windows of ``size`` elements every ``step`` along ``dim``, as a new last dim (a view;
    read-only where windows overlap).  d/dx = each window's grad added back where it was
    read."""

    __slots__ = ("dim", "shape", "size", "step")
    is_view = True
    formula = "unfold_backward(grad, x.shape, dim, size, step)"

    def forward(ctx, x, dim=0, size=1, step=1):
        ctx.dim, ctx.size, ctx.step, ctx.shape = dim, size, step, x.shape
        if x.ndim == 0:
            return x.reshape(1)
        count = (x.shape[dim] - size) // step + 1
        shape = x.shape[:dim] + (count,) + x.shape[dim + 1:] + (size,)
        st = x.strides
        strides = st[:dim] + (st[dim] * step,) + st[dim + 1:] + (st[dim],)
        m = xp(x)
        out = m.lib.stride_tricks.as_strided(x, shape, strides)
        if m is np and step < size and count > 1:
            out.flags.writeable = False  # overlapping windows: writes would race
        return out

    def backward(ctx, grad):
        return UnfoldBackward.generic(grad, shape=ctx.shape, dim=ctx.dim, size=ctx.size,
                                      step=ctx.step)

    def jvp(ctx, tx):
        return Unfold.generic(tx, dim=ctx.dim, size=ctx.size, step=ctx.step)


class UnfoldBackward(Primitive):
    """Windows (the last dim) added back into a tensor of ``shape`` along ``dim``.
    d/dg = unfold(grad, dim, size, step)."""

    __slots__ = ("dim", "size", "step")
    formula = "unfold(grad, dim, size, step)"

    def forward(ctx, g, shape=(), dim=0, size=1, step=1):
        ctx.dim, ctx.size, ctx.step = dim, size, step
        if not shape:
            return g.reshape(())
        out = xp(g).zeros(shape, dtype=g.dtype)
        count = g.shape[dim]
        lead = (slice(None),) * dim
        for k in range(size):  # window element k of every window: distinct positions
            out[lead + (slice(k, k + step * (count - 1) + 1, step),)] += g[..., k]
        return out

    def backward(ctx, grad):
        return Unfold.generic(grad, dim=ctx.dim, size=ctx.size, step=ctx.step)

    def jvp(ctx, tg):
        return UnfoldBackward.generic(tg, shape=ctx.out_shape, dim=ctx.dim, size=ctx.size,
                                      step=ctx.step)


# ---------------------------------------------------------------------- public functions

def _ints(seq, what: str) -> tuple:
    if isinstance(seq, (int, np.integer)):
        return (int(seq),)
    try:
        return tuple(int(s) for s in seq)
    except TypeError:
        raise TypeError(f"as_strided(): argument '{what}' must be tuple of ints") from None


@register_method("storage_offset")
def offset_in_storage(self) -> int:
    """How many elements of storage lie before this tensor's first element."""
    lo, _ = storage_of(self._data)
    return (_ptr(self._data) - lo) // self._data.itemsize


def _share_view(out: Tensor, input: Tensor, attrs: dict) -> Tensor:
    """The view shares the version counter and base of ``input`` (also when it lies outside
    ``input``'s own elements), and is redone from the base itself: the window may reach
    storage that no view between them covers."""
    if isinstance(input, Tensor):
        base = input._base if input._base is not None else input
        out._vc = input._vc
        out._base = base
        data = base._data
        lo, n = storage_of(data)
        item = data.itemsize
        layout = (data.shape, tuple(s // item for s in data.strides), (_ptr(data) - lo) // item,
                  n)
        out._extras.view = (base, AsStrided, (), {**attrs, "layout": layout})
    return out


@register_method("as_strided")
def as_strided(input, size, stride, storage_offset=None):
    """A view of ``input``'s storage with the given sizes, strides (in elements) and storage
    offset (``input``'s own by default). Elements of the view may share memory."""
    size, stride = _ints(size, "size"), _ints(stride, "stride")
    offset = offset_in_storage(input) if storage_offset is None else int(storage_offset)
    _check_layout(size, stride, offset)
    attrs = {"size": size, "stride": stride, "storage_offset": offset}
    return _share_view(AsStrided.generic(input, **attrs), input, attrs)


@takes_out("as_strided_copy", "exact")
def as_strided_copy(input, size, stride, storage_offset=None):
    """``as_strided`` copied into fresh memory."""
    return clone(as_strided(input, size, stride, storage_offset))


@register_method("as_strided_scatter")
def as_strided_scatter(input, src, size, stride, storage_offset=None):
    """A copy of ``input`` (same layout) with ``src`` written into the strided window of the
    copy's storage; the window starts at ``storage_offset`` (0 by default)."""
    size, stride = _ints(size, "size"), _ints(stride, "stride")
    offset = 0 if storage_offset is None else int(storage_offset)
    _check_layout(size, stride, offset, "as_strided_scatter")
    if tuple(src.shape) != size:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size "
                           f"= {list(src.shape)}, slice size = {list(size)}")
    if src.dtype != input.dtype:
        src = src.to(input.dtype)
    return AsStridedScatter.generic(input, src, size=size, stride=stride,
                                    storage_offset=offset)


@register_method("unfold")
def unfold(input, dimension, size, step):
    """Every window of ``size`` elements, ``step`` apart, along ``dimension``: a view with
    one more dim (the window) at the end."""
    d = wrap_dim(dimension, input.dim(), "unfold")
    n = input.shape[d] if input.dim() else 1
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is "
                           f"{size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    return Unfold.generic(input, dim=d, size=int(size), step=int(step))


@takes_out("unfold_copy", "exact")
def unfold_copy(input, dimension, size, step):
    """``input.unfold(dimension, size, step)`` copied into fresh memory."""
    return clone(unfold(input, dimension, size, step))


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False) -> Tensor:
    """An uninitialized tensor laid out with the given strides (its storage is just large
    enough for them)."""
    size, stride = _ints(size, "size"), _ints(stride, "stride")
    _check_layout(size, stride, 0, "empty_strided")
    npd, m = _default(dtype), _module(device)
    need = _needed(size, stride, 0)
    flat = _alloc(lambda: m.empty(need, npd), (need,), npd)
    item = flat.itemsize
    arr = m.lib.stride_tricks.as_strided(flat, size, tuple(s * item for s in stride))
    return _finish(arr, None, None, requires_grad)


@register_method("new_empty_strided")
def new_empty_strided(self, size, stride, *, dtype=None, layout=None, device=None,
                      requires_grad=False, pin_memory=False) -> Tensor:
    return empty_strided(size, stride, dtype=dtype or self.dtype,
                         device=device or self.device, requires_grad=requires_grad)


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None,
                   requires_grad=False, pin_memory=False) -> Tensor:
    """An uninitialized tensor of ``size`` whose dims lie in memory in the order
    ``physical_layout`` (outermost first)."""
    size = _sizes((tuple(size),))
    order = tuple(int(d) for d in physical_layout)
    if len(order) != len(size):
        raise RuntimeError("Number of dimensions in size does not match the length of the "
                           "physical_layout")
    nd = len(size)
    if any(not -nd <= d < nd for d in order) if nd else order:
        raise RuntimeError(f"Dimension out of range (expected to be in range of [{-nd}, "
                           f"{nd - 1}], but got {order})")
    order = tuple(d % nd for d in order) if nd else order
    if len(set(order)) != len(order):
        raise RuntimeError("Duplicate dim not allowed")
    physical = tuple(size[d] for d in order)
    npd = _default(dtype)
    arr = _alloc(lambda: _module(device).empty(physical, npd), physical, npd)
    return _finish(arr.transpose(tuple(int(i) for i in np.argsort(order))), None, None,
                   requires_grad)
