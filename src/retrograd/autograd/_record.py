"""Recording: how a forward op becomes a graph node.

``ops._core.Primitive.apply`` and ``Function.apply`` run forward, then call these to connect
the node: the edges to the nodes its inputs came from (``edge``, ``accumulator``), the
inputs' shapes and dtypes, the values saved for backward with their versions (``map_saved``,
or ``pack_saved`` under saved_tensors_hooks), the view relation of an output to its input
(``mark_view``) and, for a result left outside the graph, why (``note_cut``).

Saved values: a node may save its inputs, its outputs or constants. ``map_saved`` finds each
saved array among the inputs and outputs by identity, so the engine can check its version
before backward and, under ``create_graph=True``, hand the formula the Tensor itself (which
builds graph) instead of the array; anything else is a constant.
"""

from __future__ import annotations

import traceback
import weakref

import numpy as np

from .._site import PKG_DIR, creation_site, format_site
from .._tensor import Tensor, wrap
from .grad_mode import state as _state
from .graph import AccumulateGrad, PackedSaved

__all__ = ["INPUT", "OUTPUT", "accumulator", "bump_version", "cut_message", "edge",
           "map_saved", "mark_view", "note_cut", "record_edges"]

_ndarray = np.ndarray

#: Kinds of a saved value in ``node._saved_meta``.
INPUT, OUTPUT = 0, 1


def accumulator(t: Tensor) -> AccumulateGrad:
    """The leaf's AccumulateGrad node; one per leaf while some graph holds it."""
    extra = t._extras
    ref = extra.acc
    acc = ref() if ref is not None else None
    if acc is None:
        acc = AccumulateGrad(t)
        extra.acc = weakref.ref(acc)
    return acc


def edge(t) -> tuple:
    """The ``(node, output_nr)`` through which a gradient reaches ``t``."""
    if isinstance(t, Tensor) and t._requires_grad:
        fn = t._grad_fn
        if fn is None:
            return (accumulator(t), 0)
        return (fn, t._output_nr)
    return (None, 0)


def record_edges(node, args) -> None:
    """``node._edges`` (graph.py) for any number of inputs (apply inlines 1 and 2)."""
    edges = []
    for a in args:
        if isinstance(a, Tensor):
            d = a._data
            if a._requires_grad:
                fn = a._grad_fn
                if fn is None:
                    edges += (accumulator(a), 0, d.shape, d.dtype)
                else:
                    edges += (fn, a._output_nr, d.shape, d.dtype)
            else:
                edges += (None, 0, d.shape, d.dtype)
        else:
            edges += (None, 0, None, None)
    node._edges = tuple(edges)


def map_saved(node, args, arrays, results) -> None:
    """Set ``node._saved_meta`` (graph.py): for each saved array that is an input or an
    output, where it came from and the version it had (Nones for constants; None overall
    if no entry)."""
    if _state.saved_hooks:
        pack_saved(node, args, arrays, results)
        return
    saved = node.saved
    meta = None
    for j, s in enumerate(saved):
        if type(s) is not _ndarray:
            continue
        m = None
        for i, arr in enumerate(arrays):
            if s is arr:
                t = args[i]
                if isinstance(t, Tensor):
                    vc = t._vc
                    m = (INPUT, t, vc, vc[0])
                break
        else:
            for k, r in enumerate(results):
                if s is r._data:
                    vc = r._vc
                    m = (OUTPUT, k, vc, vc[0])
                    break
        if m is not None:
            if meta is None:
                meta = [None] * (4 * len(saved))
            meta[4 * j:4 * j + 4] = m
    node._saved_meta = None if meta is None else tuple(meta)


def pack_saved(node, args, arrays, results) -> None:
    """Run the active saved_tensors_hooks' pack hook on every saved tensor, keeping only
    the graph position (not the data) to reconnect the unpacked value."""
    pack, unpack = _state.saved_hooks[-1]
    packed = []
    for s in node.saved:
        if type(s) is not _ndarray:
            packed.append((s, None, None))
            continue
        t = None
        link = None
        for i, arr in enumerate(arrays):
            if s is arr and isinstance(args[i], Tensor):
                t = args[i]
                if t._requires_grad:
                    fn = t._grad_fn
                    link = (fn, t._output_nr, None if fn is not None else accumulator(t))
                break
        else:
            for r in results:
                if s is r._data:
                    t = r
                    link = (node, r._output_nr, None)
                    break
        if t is None:
            t = wrap(s)
        packed.append((pack(t), unpack, link))
    node.saved = PackedSaved(packed)
    node._saved_meta = None


def mark_view(result: Tensor, args, out, cls, attrs) -> None:
    """Share the parent's version counter and remember how to redo the view from it."""
    parent = args[0]
    if not isinstance(parent, Tensor) or (
            out.size and not np.may_share_memory(out, parent._data)):
        return
    result._vc = parent._vc
    result._base = parent._base if parent._base is not None else parent
    # A field of its own: a "graph was cut" note already on the result stays.
    result._extras.view = (parent, cls, args[1:], attrs)


def note_cut(cls, args, result: Tensor, had_grad: bool) -> None:
    """Remember why ``result`` is outside the graph, for the "does not require grad" error.

    Called only off the recording path: when an input needed grad but the output will not
    (no_grad, an integer result) or when an input already carries such a note. The note is
    ``(what, site)``; it becomes text only if the error is raised.
    """
    if had_grad:
        why = ("an integer-valued op" if result._data.dtype.kind not in "fc"
               else "an op run under no_grad()")
        result._extras.cut = (f"{getattr(cls, 'op', cls.__name__)} ({why})", creation_site(3))
        return
    for a in args:
        if isinstance(a, Tensor):
            extra = a._extra
            if extra is not None and extra.cut is not None:
                result._extras.cut = extra.cut
                return


def cut_message(t: Tensor) -> str | None:
    """``what at file:line`` of the note ``note_cut`` or ``detach`` left on ``t``, if any."""
    extra = t._extra
    cut = extra.cut if extra is not None else None
    if cut is None:
        return None
    return f"{cut[0]} at {format_site(cut[1])}"


def anomaly_trace(node) -> None:
    """Anomaly mode: keep the user's part of the forward stack on the node."""
    stack = traceback.extract_stack()
    node.metadata["traceback_"] = [f for f in stack if not f.filename.startswith(PKG_DIR)]


def bump_version(t: Tensor, site: tuple | None = None) -> None:
    """Record an in-place change of ``t`` (and of every view sharing its counter), made at
    ``site`` (by default the caller's creation site; a loop of changes made by one user
    call, such as an optimizer step, passes the site it found once)."""
    vc = t._vc
    vc[0] += 1
    if site is None:
        site = creation_site(2)
    if len(vc) > 1:
        vc[1] = site
    else:
        vc.append(site)
