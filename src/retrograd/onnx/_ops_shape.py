"""ONNX for the shape, joining and indexing primitives.

Shapes seen in the trace are concrete; ``Reshape`` keeps a leading run of unchanged dims as
0 ("copy from the input") and writes -1 for the next, so a reshape that keeps or flattens
the batch dimension still holds when ``dynamic_axes`` lets that dimension vary.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ._ops import axis, emitter, ndim
from .errors import UnsupportedOperatorError

_INT64_MAX = np.iinfo(np.int64).max
_INT64_MIN = np.iinfo(np.int64).min


def reshape_spec(in_shape, out_shape) -> list[int]:
    """The ``Reshape`` shape input for a concrete ``in_shape -> out_shape``."""
    spec = list(out_shape)
    i = 0
    while i < min(len(in_shape), len(out_shape)) and in_shape[i] == out_shape[i]:
        spec[i] = 0
        i += 1
    if i < len(spec) and 0 not in out_shape:
        spec[i] = -1
    return spec


@emitter("Reshape", "View")
def _reshape(b, node, args, attrs, results, outs):
    x = args[0]
    spec = reshape_spec(x._data.shape, results[0]._data.shape)
    b.emit("Reshape", [b.value(x), b.ints(spec)], outs)


@emitter("Transpose", "T", "Permute")
def _transpose(b, node, args, attrs, results, outs):
    rank = ndim(args[0])
    if type(node).op == "Permute":
        perm = [axis(d, rank) for d in attrs["dims"]]
    else:
        perm = list(range(rank))
        d0, d1 = axis(node.d0, rank), axis(node.d1, rank)
        if rank >= 2:
            perm[d0], perm[d1] = perm[d1], perm[d0]
    b.emit("Transpose", [b.value(args[0])], outs, perm=perm)


@emitter("Unsqueeze")
def _unsqueeze(b, node, args, attrs, results, outs):
    b.emit("Unsqueeze", [b.value(args[0]), b.ints([node.dim])], outs)


@emitter("Squeeze", "SqueezeDim", "SqueezeDims")
def _squeeze(b, node, args, attrs, results, outs):
    in_shape, out_shape = args[0]._data.shape, results[0]._data.shape
    dim = attrs.get("dim")
    rank = len(in_shape)
    if dim is None:
        dims = [i for i, s in enumerate(in_shape) if s == 1]
    else:
        dims = [axis(d, rank) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))]
        dims = [d for d in dims if in_shape[d] == 1]
    if len(in_shape) == len(out_shape):
        b.emit("Identity", [b.value(args[0])], outs)
    else:
        b.emit("Squeeze", [b.value(args[0]), b.ints(dims)], outs)


@emitter("Expand")
def _expand(b, node, args, attrs, results, outs):
    b.emit("Expand", [b.value(args[0]), b.ints(results[0]._data.shape)], outs)


@emitter("Cat")
def _cat(b, node, args, attrs, results, outs):
    parts = [a for a, empty in zip(args, node.empty) if not empty]
    b.emit("Concat", [b.value(a) for a in parts], outs, axis=int(node.dim))


@emitter("Stack")
def _stack(b, node, args, attrs, results, outs):
    rank = results[0]._data.ndim
    d = axis(attrs.get("dim", 0), rank)
    axes = b.ints([d])
    parts = [b.emit("Unsqueeze", [b.value(a), axes]) for a in args]
    b.emit("Concat", parts, outs, axis=d)


@emitter("Split", "SplitWithSizes", "Unbind")
def _split(b, node, args, attrs, results, outs):
    x = args[0]
    d = node.dim
    sizes = [r._data.shape[d] if type(node).op != "Unbind" else 1 for r in results]
    if type(node).op == "Unbind":
        parts = b.emit("Split", [b.value(x), b.ints(sizes)], len(results), axis=d)
        axes = b.ints([d])
        for p, o in zip(parts if isinstance(parts, list) else [parts], outs):
            b.emit("Squeeze", [p, axes], [o])
        return
    b.emit("Split", [b.value(x), b.ints(sizes)], outs, axis=d)


@emitter("Slice", "Select", "Index")
def _index(b, node, args, attrs, results, outs):
    idx = node.idx
    if not node.basic:
        _advanced(b, node, args, idx, outs)
        return
    basic_index(b, b.value(args[0]), args[0]._data.shape, idx, outs)


def basic_index(b, x: str, shape, idx, outs) -> None:
    """``x[idx]`` for ints, slices, None and Ellipsis: one Slice, then Squeeze the int
    dims, then Unsqueeze the None dims."""
    items = list(idx) if isinstance(idx, tuple) else [idx]
    consumed = sum(1 for it in items if it is not None and it is not Ellipsis)
    if Ellipsis in items:
        k = items.index(Ellipsis)
        items[k:k + 1] = [slice(None)] * (len(shape) - consumed)
    items += [slice(None)] * (len(shape) - consumed)
    starts, ends, axes, steps, ints, nones = [], [], [], [], [], []
    dim = out_dim = 0
    for it in items:
        if it is None:
            nones.append(out_dim)
            out_dim += 1
            continue
        if isinstance(it, slice):
            step = 1 if it.step is None else int(it.step)
            if it != slice(None) and it != slice(None, None, 1):
                lo = _INT64_MIN if step < 0 else 0
                hi = _INT64_MIN if step < 0 else _INT64_MAX
                starts.append(int(it.start) if it.start is not None else (
                    _INT64_MAX if step < 0 else lo))
                ends.append(int(it.stop) if it.stop is not None else hi)
                axes.append(dim)
                steps.append(step)
            out_dim += 1
        else:
            i = int(it)
            starts.append(i)
            ends.append(i + 1 if i != -1 else _INT64_MAX)
            axes.append(dim)
            steps.append(1)
            ints.append(dim)
        dim += 1
    y = x
    if axes:
        y = b.emit("Slice", [y, b.ints(starts), b.ints(ends), b.ints(axes), b.ints(steps)])
    if ints:
        y = b.emit("Squeeze", [y, b.ints(ints)])
    if nones:
        y = b.emit("Unsqueeze", [y, b.ints(nones)])
    b.emit("Identity", [y], outs)


def _advanced(b, node, args, idx, outs) -> None:
    """One integer index array (on any one dim, the others full slices): Gather."""
    items = list(idx) if isinstance(idx, tuple) else [idx]
    arrays = [i for i, it in enumerate(items) if isinstance(it, (np.ndarray, Tensor, list))]
    full = all(it == slice(None) for i, it in enumerate(items) if i not in arrays)
    if len(arrays) != 1 or not full:
        raise UnsupportedOperatorError(f"{node.name()} (advanced indexing {idx!r})",
                                       b.opset, None)
    k = arrays[0]
    index = items[k]
    if isinstance(index, list):
        index = np.asarray(index)
    dt = index._data.dtype if isinstance(index, Tensor) else index.dtype
    if dt == np.bool_:
        raise UnsupportedOperatorError(f"{node.name()} (boolean mask indexing)", b.opset, None)
    b.emit("Gather", [b.value(args[0]), b.value(index)], outs, axis=k)


@emitter("_Embed", "EmbeddingGather")
def _embedding(b, node, args, attrs, results, outs):
    indices = attrs.get("indices", getattr(node, "indices", None))
    b.emit("Gather", [b.value(args[0]), b.value(indices)], outs, axis=0)


@emitter("IndexSelect")
def _index_select(b, node, args, attrs, results, outs):
    _advanced(b, node, args, node.idx, outs)


@emitter("ConstantPadNd")
def _pad(b, node, args, attrs, results, outs):
    x = args[0]
    rank = ndim(x)
    pairs = list(node.pads)  # (before, after) for the last len(pairs) dims, in dim order
    before = [0] * (rank - len(pairs)) + [int(lo) for lo, _ in pairs]
    after = [0] * (rank - len(pairs)) + [int(hi) for _, hi in pairs]
    value = b.scalar(attrs.get("value", 0), results[0]._data.dtype)
    b.emit("Pad", [b.value(x), b.ints(before + after), value], outs, mode="constant")


@emitter("Repeat")
def _repeat(b, node, args, attrs, results, outs):
    x = b.value(args[0])
    repeats = list(node.repeats)
    extra = len(repeats) - ndim(args[0])
    if extra > 0:  # repeat() may add leading dims
        x = b.emit("Unsqueeze", [x, b.ints(range(extra))])
    b.emit("Tile", [x, b.ints(repeats)], outs)


@emitter("Flip")
def _flip(b, node, args, attrs, results, outs):
    dims = list(node.dims)
    n = len(dims)
    b.emit("Slice", [b.value(args[0]), b.ints([-1] * n), b.ints([_INT64_MIN] * n),
                     b.ints(dims), b.ints([-1] * n)], outs)
