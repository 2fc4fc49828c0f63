"""The backward engine: iterative and dependency-counted (DESIGN.md, decision 4).

One pass counts, for every node reachable from the roots, how many edges point at it.
A node runs once all of those have delivered their gradient (summed once, in a buffer);
then its saved values are released unless ``retain_graph``. No recursion anywhere, so a
chain of a million nodes backpropagates as easily as a chain of ten.

How formulas run: in a plain backward every gradient is a raw array and each node's
formula gets its saved values as raw arrays, so backward is NumPy alone. Under
``create_graph=True`` gradients are Tensors, grad mode is on, and the saved inputs and
outputs are handed over as Tensors connected to the graph (constants stay arrays), so the
same formulas record the graph of the backward itself. The engine, not the ops, sums each
input's gradient back to the input's shape and casts it to its dtype ("deliver"), on arrays
with NumPy and on Tensors with Tensor methods: this module imports nothing from ``ops``.

Per thread: the grad mode set during a pass and the queued final callbacks belong to the
thread running it; accumulation into a leaf shared by passes in several threads holds the
leaf's lock.
"""

from __future__ import annotations

import numpy as np

try:  # Cython's pure-Python mode: C types for the compiled form (engine.pxd), or nothing
    import cython
except ImportError:
    from .. import _cython_shim as cython

from .._dtype import from_numpy_dtype
from .._tensor import Tensor, wrap
from ._engine_hooks import (
    _accumulate,
    _as_tensor,
    _materialize,
    _root_grads,
    _run_post_hooks,
    _run_pre_hooks,
    _stack,
    _unpack,
    _unpack_hooked,
)
from ._messages import _annotate, _freed_message, _no_grad_message, _version_message
from ._record import edge
from .anomaly_mode import check_backward_result
from .grad_mode import set_grad_mode
from .grad_mode import state as _state
from .graph import FREED, AccumulateGrad, PackedSaved, flags

if not cython.compiled:  # compiled, same_meta comes from _arrays.pxd (see engine.pxd)
    from .._arrays import same_meta

__all__ = ["backward", "grad", "queue_callback"]

_ndarray = np.ndarray


def _as_tuple(x) -> tuple:
    if x is None:
        return ()
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


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
    return tuple(out)


def _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                  materialize_grads):
    """``is_grads_batched``: the first dim of each grad_output indexes independent vjps."""
    grad_outputs = _as_tuple(grad_outputs)
    n = grad_outputs[0].shape[0]
    per_input: list[list] = [[] for _ in inputs]
    for b in range(n):
        res = grad(outputs, inputs, [g[b] for g in grad_outputs], retain_graph=True,
                   create_graph=create_graph, allow_unused=allow_unused,
                   materialize_grads=materialize_grads)
        for i, r in enumerate(res):
            per_input[i].append(r)
    return tuple(None if any(r is None for r in rs) else _stack(rs) for rs in per_input)


class _Capture:
    """Where ``grad()`` (or ``backward(inputs=...)``) collects the gradient of each input."""

    __slots__ = ("by_edge", "results")

    def __init__(self, inputs) -> None:
        self.results: list = [None] * len(inputs)
        self.by_edge: dict = {}
        for i, t in enumerate(inputs):
            node, nr = edge(t)
            self.by_edge.setdefault(node, []).append((nr, i))


def _count_dependencies(roots) -> dict:
    """For every node reachable from ``roots``: how many edges point at it."""
    deps: dict = {}
    stack = list(dict.fromkeys(roots))
    is_root = set(stack)
    node = stack.pop()
    while True:
        walk = None  # the next node to walk, kept out of the stack: a chain never uses it
        edges = node._edges
        for i in range(0, len(edges), 4):
            nxt = edges[i]
            if nxt is not None:
                if nxt in deps:
                    deps[nxt] += 1
                else:  # first edge into nxt: walk on from it (once; roots are walked)
                    deps[nxt] = 1
                    if nxt not in is_root:
                        if walk is not None:
                            stack.append(walk)
                        walk = nxt
        if walk is not None:
            node = walk
        elif stack:
            node = stack.pop()
        else:
            return deps


def _needed(roots, deps: dict, targets: dict) -> set:
    """Nodes from which some target is reachable (the only ones worth running)."""
    counts = dict(deps)
    order = []
    ready = [r for r in set(roots) if counts.get(r, 0) == 0]
    while ready:
        node = ready.pop()
        order.append(node)
        edges = node._edges
        for i in range(0, len(edges), 4):
            nxt = edges[i]
            if nxt is not None:
                counts[nxt] -= 1
                if counts[nxt] == 0:
                    ready.append(nxt)
    needed = set()
    for node in reversed(order):
        edges = node._edges
        if node in targets or any(edges[i] in needed for i in range(0, len(edges), 4)):
            needed.add(node)
    return needed


class _Pass:
    """The state of one backward pass: gradient buffers, dependency counts, the ready list,
    and what to capture for ``grad(inputs=...)``.

    Buffers: ``first[node]`` holds the summed gradient of output 0 (almost every node has
    one output, so no list per node); ``rest[node]`` a list for nodes with several outputs.
    """

    __slots__ = ("capture", "create_graph", "deps", "first", "handed", "needed", "ready",
                 "rest", "retain_graph")

    def __init__(self, retain_graph: bool, create_graph: bool) -> None:
        self.first: dict = {}
        self.rest: dict = {}
        self.handed: set = set()
        self.retain_graph = retain_graph
        self.create_graph = create_graph
        self.capture = None
        self.needed = None

    def buffer(self, node, nr: int, g) -> None:
        """Add ``g`` to what output ``nr`` of ``node`` has received."""
        if nr == 0:
            old = self.first.get(node)
            self.first[node] = g if old is None else old + g
            return
        buf = self.rest.get(node)
        if buf is None:
            buf = self.rest[node] = []
        if len(buf) < nr:
            buf.extend([None] * (nr - len(buf)))
        old = buf[nr - 1]
        buf[nr - 1] = g if old is None else old + g

    def take(self, node):
        """Pop the node's gradients: ``(grad0,)`` style list, or None if it got none."""
        g0 = self.first.pop(node, None)
        rest = self.rest.pop(node, None) if self.rest else None
        if rest is None:
            return None if g0 is None else [g0]
        return [g0, *rest]

    def release(self, node) -> None:
        """The node will not run: its inputs stop waiting for it."""
        deps = self.deps
        edges = node._edges
        for i in range(0, len(edges), 4):
            nxt = edges[i]
            if nxt is not None:
                c = deps[nxt] - 1
                deps[nxt] = c
                if c == 0:
                    self.ready.append(nxt)


def _deliver(run: _Pass, nxt, nr: int, g, shape: tuple, dt) -> None:
    """Hand ``g`` to output ``nr`` of ``nxt``, summed to the input's ``shape`` and cast to
    its dtype ``dt`` (broadcasting and promotion are undone here, once, for every op)."""
    if run.create_graph:
        arr = g._data
        if arr.shape != shape:
            g = _sum_to_tensor(g, shape)
        if g._data.dtype != dt:
            if g._data.dtype.kind == "c" and dt.kind != "c":
                g = g.real  # a real input of a complex op: the real part (PyTorch)
            g = g.to(from_numpy_dtype(dt))
    else:
        if g.shape != shape:
            g = _sum_to_array(g, shape)
        if g.dtype != dt:
            if g.dtype.kind == "c" and dt.kind != "c":
                g = g.real  # a real input of a complex op: the real part (PyTorch)
            g = g.astype(dt)
    run.buffer(nxt, nr, g)


def _sum_axes(have: tuple, shape: tuple) -> tuple:
    lead = len(have) - len(shape)
    return tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and have[i + lead] != 1)


def _sum_to_array(g, shape: tuple):
    """Sum an array over the dimensions broadcasting added to reach ``g.shape``."""
    if type(g) is not _ndarray:
        g = np.asarray(g)
    axes = _sum_axes(g.shape, shape)
    out = g.sum(axis=axes, keepdims=True) if axes else g
    return out.reshape(shape) if out.shape != shape else out


def _sum_to_tensor(g, shape: tuple):
    """``_sum_to_array`` with Tensor methods, so the sum is differentiable (create_graph)."""
    axes = _sum_axes(g._data.shape, shape)
    if axes:
        g = g.sum(axes, keepdim=True)
    return g.reshape(shape) if g._data.shape != shape else g


def _run(outputs, root_grads, retain_graph, create_graph, inputs, accumulate):
    run = _Pass(retain_graph, create_graph)
    roots = []
    for i, (t, g) in enumerate(zip(outputs, root_grads)):
        if not t._requires_grad:
            raise RuntimeError(_no_grad_message(i, t))
        node, nr = edge(t)
        roots.append(node)
        run.buffer(node, nr, g)
        run.handed.add(id(g))
    if inputs is not None:
        run.capture = _Capture(inputs)
    run.deps = deps = _count_dependencies(roots)
    if run.capture is not None:
        run.needed = _needed(roots, deps, run.capture.by_edge)
    run.ready = [r for r in dict.fromkeys(roots) if r not in deps]
    if _state.capture is not None:  # compile(mode="reduce-overhead") capturing a step
        _state.capture.backward_begin(outputs, root_grads, retain_graph, create_graph, inputs)
    prev_mode = _state.grad_enabled
    outer = _state.final_callbacks
    # Callbacks queued outside any pass run after this one; a nested pass has its own.
    nested = _state.backward_depth > 0
    _state.final_callbacks = [] if nested else list(outer)
    _state.backward_depth += 1
    set_grad_mode(create_graph)
    try:
        _loop(run)
    finally:
        if _state.capture is not None:
            _state.capture.backward_end()
        set_grad_mode(prev_mode)
        _state.backward_depth -= 1
        callbacks = _state.final_callbacks
        _state.final_callbacks = outer if nested else ()
    for fn in callbacks:
        fn()
    capture = run.capture
    if capture is None:
        return None
    if accumulate:
        for t, g in zip(inputs, capture.results):
            if g is not None:
                _accumulate(t, g, create_graph, run.handed)
        return None
    return capture.results


def _loop(run: _Pass) -> None:
    """Run nodes as they become ready: take their gradients, run the formula, deliver the
    results along their edges, release the nodes they were waiting for."""
    deps, ready, first, capture = run.deps, run.ready, run.first, run.capture
    create_graph, retain_graph = run.create_graph, run.retain_graph
    hooks = flags.node_hooks
    check_nan = _state.anomaly and _state.anomaly_check_nan
    plain = not (create_graph or check_nan)
    rest = run.rest  # gradients of outputs 1, 2, ...: only multi-output nodes fill it
    rec = _state.capture  # a capturing compile sees every node the pass runs, in order
    general = hooks or capture is not None or rec is not None
    acc_type = AccumulateGrad
    compiled = cython.compiled  # compiled, same_meta reads the array's C struct (_arrays.pxd)
    node = None  # the next node to run when it is known without the ready list
    while node is not None or ready:
        if node is None:
            node = ready.pop()
        if general or rest or type(node) is acc_type:
            hooks_done = False
            grads = run.take(node)
            if capture is not None:
                grads, skip, hooks_done = _capture(run, node, grads)
                if skip:
                    node = None
                    continue
            if type(node) is AccumulateGrad:
                if grads is not None and grads[0] is not None:
                    _accumulate(node.variable, grads[0], create_graph, run.handed)
                    if rec is not None:
                        rec.accumulated(node)
                node = None
                continue
            if grads is None:
                run.release(node)
                node = None
                continue
            res = _call_node(node, grads, retain_graph, create_graph,
                             hooks and not hooks_done, check_nan)
            if rec is not None:
                rec.ran(node, grads, res)
        else:  # one output, no hooks, nothing to capture: nearly every node
            g = first.pop(node, None)
            if g is None:
                run.release(node)
                node = None
                continue
            saved = node.saved
            meta = node._saved_meta
            if plain and not node._wants_tensors and (not saved or meta is not None):
                # A plain backward of a primitive: check versions, run the formula on
                # arrays, free what it saved. Everything else is _call_node's.
                if meta is not None:  # per saved value: kind, source, vc, version
                    for j in range(2, len(meta), 4):
                        vc = meta[j]
                        if vc is not None and vc[0] != meta[j + 1]:
                            raise RuntimeError(_version_message(node, j >> 2))
                try:
                    res = node.backward(g)
                except Exception as e:
                    _annotate(e, node)
                    raise
                if saved and not retain_graph:
                    node.saved = FREED
                    node._saved_meta = None
                if type(res) is not tuple:
                    res = (res,)
            else:
                res = _call_node(node, [g], retain_graph, create_graph, False, check_nan)
        n_res = len(res)
        edges = node._edges  # per input: node, output_nr, shape, dtype (graph.py)
        # The last input to become ready runs next, straight away: the ready list is LIFO,
        # so this is the order it would give, without a push and a pop per node.
        node = None
        for i in range(0, len(edges), 4):
            nxt = edges[i]
            if nxt is not None:
                k = i >> 2
                g = res[k] if k < n_res else None
                if g is not None:
                    nr = edges[i + 1]
                    shape = edges[i + 2]
                    dt = edges[i + 3]
                    arr = g._data if create_graph else g
                    # Shape and dtype already right and nothing buffered yet: store as is.
                    if nr == 0 and nxt not in first and (
                            same_meta(arr, shape, dt) if compiled
                            else arr.shape == shape and arr.dtype is dt):
                        first[nxt] = g
                    else:
                        _deliver(run, nxt, nr, g, shape, dt)
                c = deps[nxt] - 1
                deps[nxt] = c
                if c == 0:
                    if node is not None:
                        ready.append(node)
                    node = nxt


def _capture(run: _Pass, node, grads):
    """``grad(inputs=...)``: keep the gradient reaching an input; skip nodes that lead to no
    input. Returns the grads (pre-hooks applied on a target), whether to skip the node and
    whether its pre-hooks already ran."""
    capture = run.capture
    targets = capture.by_edge.get(node)
    hooked = False
    if targets is not None and grads is not None:
        grads = _run_pre_hooks(node, grads, run.create_graph)
        hooked = True
        for nr, i in targets:
            if nr < len(grads):
                capture.results[i] = grads[nr]
    if node not in run.needed or type(node) is AccumulateGrad:
        run.release(node)
        return grads, True, hooked
    return grads, False, hooked


def queue_callback(fn) -> None:
    """Run ``fn()`` once the backward pass now in progress in this thread has finished (as
    PyTorch's ``Variable._execution_engine.queue_callback``; DistributedDataParallel uses
    it). Queued outside a pass, it runs after the next pass of this thread."""
    callbacks = _state.final_callbacks
    if type(callbacks) is tuple:
        callbacks = _state.final_callbacks = list(callbacks)
    callbacks.append(fn)


def _call_node(node, grads: list, retain_graph: bool, create_graph: bool, hooks: bool,
               check_nan: bool):
    """Run one node's backward: pre-hooks, saved-value checks, the formula, post-hooks,
    release of the saved values. Returns one gradient per input (a tuple)."""
    if hooks:
        if getattr(node, "_pre_hooks", None):
            grads = _run_pre_hooks(node, grads, create_graph)
    saved = node.saved
    meta = None
    if saved:
        if saved is FREED:
            raise RuntimeError(_freed_message(node))
        meta = node._saved_meta
        if meta is not None:
            # Version counters: was a saved value modified in place?
            for j in range(2, len(meta), 4):
                vc = meta[j]
                if vc is not None and vc[0] != meta[j + 1]:
                    raise RuntimeError(_version_message(node, j >> 2))
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
    if hooks:
        post = getattr(node, "_hooks", None)
        if post:
            res = _run_post_hooks(node, post, res, grads, create_graph)
    if check_nan:
        check_backward_result(node, res)
    if saved and not retain_graph:
        node.saved = FREED
        node._saved_meta = None
    return res


# Tensor.backward lives here, not in _tensor.py, which sits below autograd.
def _tensor_backward(self, gradient=None, retain_graph=None, create_graph=False,
                     inputs=None) -> None:
    """Accumulate d(self)/d(leaf) into each leaf's ``.grad``; ``gradient`` weights a
    non-scalar output."""
    backward(self, gradient, retain_graph, create_graph, inputs=inputs)


_tensor_backward.__name__ = _tensor_backward.__qualname__ = "backward"
Tensor.backward = _tensor_backward
