"""The engine's steps around the loop (which is in engine.py): the gradients a pass starts
from, user hooks on nodes and leaves, saved values handed back as Tensors under
``create_graph``, zeros for outputs that got no gradient, accumulation into a leaf's
``.grad``, and the stacking of per-sample gradients for ``is_grads_batched``."""

from __future__ import annotations

import weakref

import numpy as np

from .._dtype import from_numpy_dtype
from .._tensor import Tensor, wrap
from .graph import leaf_lock

_ndarray = np.ndarray


def _run_pre_hooks(node, grads: list, create_graph: bool) -> list:
    hooks = node._get_pre_hooks()
    if not hooks:
        return grads
    tensors = [_as_tensor(g) for g in grads]
    for hook in list(hooks.values()):
        res = hook(tuple(tensors))
        if res is not None:
            tensors = list(res)
    return [t if create_graph or t is None else t._data for t in tensors]


def _as_tensor(g):
    if g is None or isinstance(g, Tensor):
        return g
    return wrap(g if type(g) is _ndarray else np.asarray(g))


def _run_post_hooks(node, hooks, res, grads, create_graph):
    grad_inputs = tuple(_as_tensor(r) for r in res)
    grad_outputs = tuple(_as_tensor(g) for g in grads)
    for hook in list(hooks.values()):
        new = hook(grad_inputs, grad_outputs)
        if new is not None:
            grad_inputs = tuple(new)
    return tuple(r if create_graph or r is None else r._data for r in grad_inputs)


def _materialize(node, grads: list, create_graph: bool) -> list:
    """Zeros for outputs that received no gradient (PyTorch's materialize_grads)."""
    shapes = getattr(node, "_out_meta", None)
    out = []
    for k, g in enumerate(grads):
        if g is None and shapes is not None and k < len(shapes):
            z = np.zeros(shapes[k][0], shapes[k][1])
            g = wrap(z) if create_graph else z
        out.append(g)
    return out


def _unpack(node, meta, saved) -> tuple:
    """Saved values as Tensors connected to the graph, for a differentiable backward."""
    out = []
    for j, s in enumerate(saved):
        kind = meta[4 * j]  # per saved value: kind, source, vc, version (graph.py)
        if kind is None:
            out.append(s)
        elif kind == 0:
            t = meta[4 * j + 1]
            if t._data.dtype != s.dtype:
                t = t.to(from_numpy_dtype(s.dtype))
            out.append(t)
        else:
            out.append(wrap(s, node, meta[4 * j + 1]))
    return tuple(out)


def _unpack_hooked(saved, create_graph: bool) -> tuple:
    """Unpack hooked saved values; under create_graph, reattach them where they were in
    the graph (as PyTorch does), whatever the pack hook did to them."""
    out = []
    for packed, unpack, link in saved:
        if unpack is None:
            out.append(packed)
            continue
        t = unpack(packed)
        if not isinstance(t, Tensor):
            raise TypeError("unpack_hook should return a Tensor, got " + type(t).__name__)
        if not create_graph:
            out.append(t._data)
            continue
        if link is not None:
            fn, nr, acc = link
            t = wrap(t._data, fn, nr)
            if fn is None:
                t._requires_grad = True
                t._extras.acc = weakref.ref(acc)
        out.append(t)
    return tuple(out)


def _accumulate(t: Tensor, g, create_graph: bool, handed: set) -> None:
    """Add ``g`` into ``t.grad``: in place when possible, never aliasing another grad.

    Holds the leaf's lock while it reads and writes ``.grad``: backward passes in other
    threads may be accumulating into the same leaf.
    """
    extra = t._extra
    if extra is not None and extra.hooks:
        gt = _as_tensor(g)
        for hook in list(extra.hooks.values()):
            res = hook(gt)
            if res is not None:
                gt = res
        g = gt if create_graph else gt._data
    if create_graph:
        gt = g if isinstance(g, Tensor) else wrap(g)
        with leaf_lock(t):
            t._grad = gt if t._grad is None else t._grad + gt
    else:
        if type(g) is not _ndarray:
            g = np.array(g, dtype=t._data.dtype)
        if g.dtype != t._data.dtype:
            g = g.astype(t._data.dtype)
        with leaf_lock(t):
            current = t._grad
            if current is None:
                # Keep g only if nobody else holds it: a view, a read-only or non-contiguous
                # array, or one handed out already would alias another gradient.
                if g.base is not None or id(g) in handed:
                    g = g.copy()
                else:
                    flags = g.flags  # a new object on each read: read once
                    if not (flags.writeable and flags.c_contiguous):
                        g = g.copy()
                handed.add(id(g))
                t._grad = wrap(g)
            elif current._requires_grad:
                t._grad = wrap(current._data + g)
            else:
                current._data += g
    extra = t._extra  # a hook above may have made it
    if extra is not None and extra.post_hooks:
        for hook in list(extra.post_hooks.values()):
            hook(t)


def _root_grads(outputs: tuple, grad_outputs, create_graph: bool) -> list:
    """The gradient each output starts with: ones for scalars, else what the user gave."""
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,) * len(outputs) if grad_outputs is None \
            else (grad_outputs,)
    grad_outputs = tuple(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(
            f"got {len(grad_outputs)} tensors in grad_outputs, expected {len(outputs)}"
        )
    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(out, Tensor):
            raise TypeError(f"backward: outputs must be Tensors, got {type(out).__name__}")
        if g is None:
            if out._requires_grad and out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if out._data.dtype.kind != "f":
                raise RuntimeError(
                    f"grad can be implicitly created only for real scalar outputs but got "
                    f"{out.dtype}"
                )
            arr = np.ones(out._data.shape, out._data.dtype)
            grads.append(wrap(arr) if create_graph else arr)
            continue
        if not isinstance(g, Tensor):
            raise TypeError(
                f"backward: gradient must be a Tensor or None, got {type(g).__name__}"
            )
        if g._data.shape != out._data.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and "
                f"output[{i}] has a shape of {out.shape}."
            )
        if g._data.dtype != out._data.dtype:
            g = g.to(out.dtype)
        grads.append(g if create_graph else g._data)
    return grads


def _stack(rs: list):
    """Stack per-sample gradients along a new dim 0, with Tensor methods only (this module
    may not import ops): each sample is expanded into its row of a zero-padded block."""
    if not any(r._requires_grad for r in rs):
        return wrap(np.stack([r._data for r in rs]))
    n = len(rs)
    out = None
    for b, r in enumerate(rs):
        row = np.zeros((n,) + (1,) * r._data.ndim, r._data.dtype)
        row[b] = 1
        term = r.unsqueeze(0) * wrap(row)
        out = term if out is None else out + term
    return out
