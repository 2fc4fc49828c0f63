"""The backward engine: iterative and dependency-counted (DESIGN.md, decision 4).

One pass counts, for every node reachable from the roots, how many edges point at it.
A node runs once all of those have delivered their gradient (summed once, in a buffer);
then its saved values are released unless ``retain_graph``. No recursion anywhere, so a
chain of a million nodes backpropagates as easily as a chain of ten.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, wrap
from .grad_mode import state as _state
from .graph import FREED, AccumulateGrad, PackedSaved, format_site

__all__ = ["backward", "grad", "queue_callback"]

_ndarray = np.ndarray


def _as_tuple(x) -> tuple:
    if x is None:
        return ()
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


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
            if out._data.dtype.kind not in "fc":
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


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the leaves (or of
    ``inputs``), as ``torch.autograd.backward``."""
    if grad_variables is not None:
        grad_tensors = grad_variables
    outputs = _as_tuple(tensors)
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if not inputs:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    if retain_graph is None:
        retain_graph = create_graph
    grads = _root_grads(outputs, grad_tensors, create_graph)
    _run(outputs, grads, retain_graph, create_graph, inputs, accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False,
         materialize_grads=False) -> tuple:
    """The gradients of ``outputs`` with respect to ``inputs``, without touching ``.grad``
    (``torch.autograd.grad``)."""
    single = isinstance(inputs, Tensor)
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"grad(): inputs must be Tensors, got {type(t).__name__}")
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    if is_grads_batched:
        return _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph,
                             allow_unused, materialize_grads)
    grads = _root_grads(outputs, grad_outputs, create_graph)
    results = _run(outputs, grads, retain_graph, create_graph, inputs, accumulate=False)
    out = []
    for t, g in zip(inputs, results):
        if g is None:
            if materialize_grads:
                g = np.zeros_like(t._data)
                out.append(wrap(g))
                continue
            if not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior."
                )
            out.append(None)
        else:
            out.append(g if isinstance(g, Tensor) else wrap(np.asarray(g)))
    del single
    return tuple(out)


def _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                  materialize_grads):
    """``is_grads_batched``: the first dim of each grad_output indexes independent vjps."""
    from .. import stack

    grad_outputs = _as_tuple(grad_outputs)
    n = grad_outputs[0].shape[0]
    per_input: list[list] = [[] for _ in inputs]
    for b in range(n):
        res = grad(outputs, inputs, [g[b] for g in grad_outputs], retain_graph=True,
                   create_graph=create_graph, allow_unused=allow_unused,
                   materialize_grads=materialize_grads)
        for i, r in enumerate(res):
            per_input[i].append(r)
    return tuple(None if any(r is None for r in rs) else stack(rs) for rs in per_input)


class _Capture:
    """Where ``grad()`` (or ``backward(inputs=...)``) collects the gradient of each input."""

    __slots__ = ("by_edge", "results")

    def __init__(self, inputs) -> None:
        from ..ops._core import edge

        self.results: list = [None] * len(inputs)
        self.by_edge: dict = {}
        for i, t in enumerate(inputs):
            node, nr = edge(t)
            self.by_edge.setdefault(node, []).append((nr, i))


def _count_dependencies(roots) -> dict:
    deps: dict = {}
    seen = set(roots)
    stack = list(seen)
    while stack:
        node = stack.pop()
        for nxt, _ in node.next_functions:
            if nxt is not None:
                deps[nxt] = deps.get(nxt, 0) + 1
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
    return deps


def _needed(roots, deps: dict, targets: dict) -> set:
    """Nodes from which some target is reachable (the only ones worth running)."""
    counts = dict(deps)
    order = []
    ready = [r for r in set(roots) if counts.get(r, 0) == 0]
    while ready:
        node = ready.pop()
        order.append(node)
        for nxt, _ in node.next_functions:
            if nxt is not None:
                counts[nxt] -= 1
                if counts[nxt] == 0:
                    ready.append(nxt)
    needed = set()
    for node in reversed(order):
        if node in targets or any(n in needed for n, _ in node.next_functions
                                  if n is not None):
            needed.add(node)
    return needed


def _run(outputs, root_grads, retain_graph, create_graph, inputs, accumulate):
    from ..ops._core import edge

    buffers: dict = {}
    roots = []
    handed: set = set()
    for i, (t, g) in enumerate(zip(outputs, root_grads)):
        if not t._requires_grad:
            raise RuntimeError(_no_grad_message(i, t))
        node, nr = edge(t)
        roots.append(node)
        _add_to_buffer(buffers, node, nr, g)
        handed.add(id(g))
    capture = _Capture(inputs) if inputs is not None else None
    deps = _count_dependencies(roots)
    needed = _needed(roots, deps, capture.by_edge) if capture is not None else None
    ready = []
    for r in dict.fromkeys(roots):
        if deps.get(r, 0) == 0:
            ready.append(r)
    prev_mode = _state.grad_enabled
    _state.grad_enabled = create_graph
    try:
        while ready:
            node = ready.pop()
            grads = buffers.pop(node, None)
            hooks_done = False
            if capture is not None:
                targets = capture.by_edge.get(node)
                if targets is not None and grads is not None:
                    grads = _run_pre_hooks(node, grads, create_graph)
                    hooks_done = True
                    for nr, i in targets:
                        if nr < len(grads):
                            capture.results[i] = grads[nr]
                if node not in needed or type(node) is AccumulateGrad:
                    _release_edges(node, deps, ready)
                    continue
            if type(node) is AccumulateGrad:
                if grads is not None and grads[0] is not None:
                    _accumulate(node.variable, grads[0], create_graph, handed)
                continue
            if grads is None:
                _release_edges(node, deps, ready)
                continue
            in_grads = _call_node(node, grads, retain_graph, create_graph, hooks_done)
            n_in = len(in_grads)
            for i, (nxt, nr) in enumerate(node.next_functions):
                if nxt is None:
                    continue
                g = in_grads[i] if i < n_in else None
                if g is not None:
                    shape, dt = node._in_meta[i]
                    arr = g._data if create_graph else g
                    if arr.shape != shape:
                        g = _sum_to(g, shape)
                        arr = g._data if create_graph else g
                    if arr.dtype is not dt and arr.dtype != dt:
                        g = g.to(_dtype_of(dt)) if create_graph else arr.astype(dt)
                    buf = buffers.get(nxt)
                    if buf is None and nr == 0:
                        buffers[nxt] = [g]
                    else:
                        _add_to_buffer(buffers, nxt, nr, g)
                c = deps[nxt] - 1
                deps[nxt] = c
                if c == 0:
                    ready.append(nxt)
    finally:
        _state.grad_enabled = prev_mode
        callbacks = _final_callbacks[:]
        _final_callbacks.clear()
    for fn in callbacks:
        fn()
    if capture is None:
        return None
    if accumulate:
        for t, g in zip(inputs, capture.results):
            if g is not None:
                _accumulate(t, g, create_graph, handed)
        return None
    return capture.results


_final_callbacks: list = []


def queue_callback(fn) -> None:
    """Run ``fn()`` once the backward pass now in progress has finished (as PyTorch's
    ``Variable._execution_engine.queue_callback``; DistributedDataParallel uses it)."""
    _final_callbacks.append(fn)


def _release_edges(node, deps: dict, ready: list) -> None:
    for nxt, _ in node.next_functions:
        if nxt is not None:
            c = deps[nxt] - 1
            deps[nxt] = c
            if c == 0:
                ready.append(nxt)


def _add_to_buffer(buffers: dict, node, nr: int, g) -> None:
    buf = buffers.get(node)
    if buf is None:
        if nr == 0:
            buffers[node] = [g]
        else:
            buf = buffers[node] = [None] * (nr + 1)
            buf[nr] = g
        return
    if len(buf) <= nr:
        buf.extend([None] * (nr + 1 - len(buf)))
    old = buf[nr]
    buf[nr] = g if old is None else old + g


def _sum_to(g, shape):
    from ..ops.reduction import sum_to

    return sum_to(g, shape)


def _dtype_of(np_dtype):
    from .._dtype import from_numpy_dtype

    return from_numpy_dtype(np_dtype)


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


def _call_node(node, grads: list, retain_graph: bool, create_graph: bool,
               hooks_done: bool = False) -> tuple:
    """Run one node's backward: hooks, saved-tensor checks, the formula, release."""
    if node._pre_hooks and not hooks_done:
        grads = _run_pre_hooks(node, grads, create_graph)
    saved = node.saved
    meta = None
    if saved:
        if saved is FREED:
            raise RuntimeError(_freed_message(node))
        meta = node._saved_meta
        if meta is not None:
            _check_versions(node, meta)
            if create_graph:
                node.saved = _unpack(node, meta, saved)
        elif type(saved) is PackedSaved:
            meta = True  # restore the packed values after the formula ran
            node.saved = _unpack_hooked(saved, create_graph)
    if len(grads) > 1 or grads[0] is None:
        grads = _materialize(node, grads, create_graph)
    try:
        if node._wants_tensors:
            res = node.backward(*[_as_tensor(g) for g in grads])
            if not isinstance(res, tuple):
                res = (res,)
            if not create_graph:
                res = tuple(r._data if isinstance(r, Tensor) else r for r in res)
        else:
            res = node.backward(*grads)
            if type(res) is not tuple:
                res = (res,)
    except Exception as e:
        _annotate(e, node)
        raise
    finally:
        if meta is not None and (create_graph or meta is True):
            node.saved = saved
    if node._hooks:
        res = _run_post_hooks(node, node._hooks, res, grads, create_graph)
    if _state.anomaly and _state.anomaly_check_nan:
        from .anomaly_mode import check_backward_result

        check_backward_result(node, res)
    if saved and not retain_graph:
        node.saved = FREED
        node._saved_meta = None
    return res


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


def _run_post_hooks(node, hooks, res, grads, create_graph):
    grad_inputs = tuple(_as_tensor(r) for r in res)
    grad_outputs = tuple(_as_tensor(g) for g in grads)
    for hook in list(hooks.values()):
        new = hook(grad_inputs, grad_outputs)
        if new is not None:
            grad_inputs = tuple(new)
    return tuple(r if create_graph or r is None else r._data for r in grad_inputs)


def _annotate(e: Exception, node) -> None:
    from .anomaly_mode import forward_trace

    note = f"(while running {node.name()})\n{forward_trace(node)}"
    if hasattr(e, "add_note"):
        e.add_note(note)


def _check_versions(node, meta) -> None:
    for m in meta:
        if m is not None and m[2][0] != m[3]:
            raise RuntimeError(_version_message(node, m))


def _version_message(node, m) -> str:
    from .._tensor import Tensor as _T

    kind, src, vc, version = m
    if kind == 0:
        t = src
        shape, dtype = list(t._data.shape), t.dtype
        what = ""
        if isinstance(t, _T) and t._grad_fn is not None:
            what = f", which is output {t._output_nr} of {t._grad_fn.name()},"
    else:
        shape, dtype, what = "?", "?", f", which is output {src} of {node.name()},"
        data = node.saved[next(i for i, x in enumerate(node._saved_meta) if x is m)]
        shape = list(data.shape)
        dtype = _dtype_of(data.dtype)
    tname = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
             "int64": "LongTensor", "int32": "IntTensor", "bool": "BoolTensor"}.get(
        repr(dtype)[6:], "Tensor")
    msg = (
        "one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: [torch.{tname} {shape}]{what} is at version {vc[0]}; expected "
        f"version {version} instead.\n"
        f"  The tensor was saved by {node.name()}, created at "
        f"{format_site(getattr(node, '_site', None))}"
    )
    if len(vc) > 1 and vc[1] is not None:
        msg += f"\n  It was modified in place at {format_site(vc[1])}"
    return msg


def _unpack(node, meta, saved) -> tuple:
    """Saved values as Tensors connected to the graph, for a differentiable backward."""
    out = []
    for s, m in zip(saved, meta):
        if m is None:
            out.append(s)
        elif m[0] == 0:
            t = m[1]
            if t._data.dtype != s.dtype:
                t = t.to(_dtype_of(s.dtype))
            out.append(t)
        else:
            out.append(wrap(s, node, m[1]))
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
                import weakref

                t._requires_grad = True
                t._extra = {"acc": weakref.ref(acc)}
        out.append(t)
    return tuple(out)


def _freed_message(node) -> str:
    return (
        "Trying to backward through the graph a second time (or directly access saved "
        "tensors after they have already been freed). Saved intermediate values of the graph "
        "are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if "
        "you need to backward through the graph a second time or if you need to access saved "
        f"tensors after calling backward.\n  The freed node is {node.name()}, created at "
        f"{format_site(getattr(node, '_site', None))}"
    )


def _no_grad_message(i: int, t: Tensor) -> str:
    msg = f"element {i} of tensors does not require grad and does not have a grad_fn"
    cut = t._extra.get("cut") if t._extra else None
    if cut is not None:
        msg += f"\n  The graph was cut here: {cut}"
    return msg


def _accumulate(t: Tensor, g, create_graph: bool, handed: set) -> None:
    """Add ``g`` into ``t.grad``: in place when possible, never aliasing another grad."""
    extra = t._extra
    if extra is not None:
        hooks = extra.get("hooks")
        if hooks:
            gt = _as_tensor(g)
            for hook in list(hooks.values()):
                res = hook(gt)
                if res is not None:
                    gt = res
            g = gt if create_graph else gt._data
    if create_graph:
        gt = g if isinstance(g, Tensor) else wrap(g)
        t._grad = gt if t._grad is None else t._grad + gt
    else:
        if type(g) is not _ndarray:
            g = np.array(g, dtype=t._data.dtype)
        if g.dtype != t._data.dtype:
            g = g.astype(t._data.dtype)
        current = t._grad
        if current is None:
            if g.base is not None or not g.flags.writeable or id(g) in handed \
                    or not g.flags.c_contiguous:
                g = g.copy()
            handed.add(id(g))
            t._grad = wrap(g)
        elif current._requires_grad:
            t._grad = wrap(current._data + g)
        else:
            current._data += g
    if extra is not None:
        post = extra.get("post_hooks")
        if post:
            for hook in list(post.values()):
                hook(t)
