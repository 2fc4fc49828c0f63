"""What a node's box or line says: op name, shapes, creation line, attributes, saved values."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd.function import BackwardCFunction
from ..autograd.graph import FREED, AccumulateGrad, Node
from ._graph import Graph, meta_text, short_site

# Custom Function ctx attributes that are bookkeeping, not the user's.
_CTX_INTERNAL = {"to_save", "dirty_tensors", "non_differentiable", "materialize_grads",
                 "saved_for_forward", "needs_input_grad"}
_NODE_SLOTS = {"variable", "next_functions", "saved"}


def leaf_text(g: Graph, node: AccumulateGrad) -> tuple[str | None, str]:
    """The leaf's parameter name (or None) and its shape and dtype."""
    v = node.variable
    return g.leaf_name(node), meta_text((v._data.shape, v._data.dtype))


def value_text(value, limit: int = 40) -> str:
    """A short description of an attribute value: arrays and tensors by shape."""
    if isinstance(value, Tensor):
        return "tensor " + meta_text((value._data.shape, value._data.dtype))
    if hasattr(value, "shape") and hasattr(value, "dtype") and not np.isscalar(value):
        return "array " + meta_text((value.shape, value.dtype))
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def attr_items(node) -> list[tuple[str, str]]:
    """The node's non-tensor attributes (``dim``, ``keepdim``, ...): its ``__slots__`` below
    ``Node``, and for custom Functions what forward set on ``ctx``."""
    items = []
    for cls in reversed(type(node).__mro__):
        if not issubclass(cls, Node) or cls is Node:
            continue
        slots = cls.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name.startswith("_") or name in _NODE_SLOTS:
                continue
            value = getattr(node, name, _MISSING)
            if value is not _MISSING:
                items.append((name, value_text(value)))
    for name, value in getattr(node, "__dict__", {}).items():
        if not name.startswith("_") and name not in _CTX_INTERNAL:
            items.append((name, value_text(value)))
    return items


_MISSING = object()


def saved_items(g: Graph, node) -> list[str]:
    """One line per value ``node`` saved for backward: where it came from, its shape and the
    version it was saved at (flagging values modified in place since)."""
    saved = getattr(node, "saved", ())
    if saved is FREED:
        return ["freed (backward already ran; use retain_graph=True to keep them)"]
    if not saved:
        return []
    if isinstance(node, BackwardCFunction):
        return [_custom_saved(g, e) for e in saved]
    metas = getattr(node, "_saved_meta", None) or (None,) * (4 * len(saved))
    return [_saved_text(g, value, metas[4 * j:4 * j + 4]) for j, value in enumerate(saved)]


def _version(vc, version) -> str:
    text = f"version {version}"
    if vc[0] != version:
        text += f" (now {vc[0]}: modified in place)"
    return text


def _saved_text(g: Graph, value, meta: tuple) -> str:
    kind, obj, vc, version = meta
    if kind is None:
        return value_text(value)
    shape = meta_text((value.shape, value.dtype)) if hasattr(value, "shape") else ""
    if kind == 0:
        name = g.names.get(id(obj))
        where = f"input {name}" if name else "input"
    else:
        where = f"output {obj}" if obj else "output"
    return f"{where} {shape} {_version(vc, version)}"


def _custom_saved(g: Graph, entry) -> str:
    if entry is None:
        return "None"
    kind, obj, vc, version = entry
    if kind == "in":
        name = g.names.get(id(obj))
        head = f"input {name}" if name else "input"
        return f"{head} {meta_text((obj._data.shape, obj._data.dtype))} {_version(vc, version)}"
    data, k = obj
    head = f"output {k}" if k else "output"
    return f"{head} {meta_text((data.shape, data.dtype))} {_version(vc, version)}"


def node_parts(g: Graph, pos: int) -> tuple[str, str, str]:
    """(title, shapes, creation line) of the node at ``pos``."""
    node = g.nodes[pos]
    if isinstance(node, AccumulateGrad):
        name, shape = leaf_text(g, node)
        return (f"AccumulateGrad[{name}]" if name else "AccumulateGrad"), shape, ""
    return node.name(), g.out_text(pos), short_site(node)
