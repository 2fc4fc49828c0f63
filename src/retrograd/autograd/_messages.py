"""The engine's error messages: a modified saved value, a freed graph, an output that does
not require grad, and the note naming the node a backward formula failed in. They name the
line of user code that created (and, for an in-place change, modified) the node."""

from __future__ import annotations

from .._dtype import from_numpy_dtype
from .._tensor import Tensor
from ._record import cut_message
from .anomaly_mode import forward_trace
from .graph import format_site


def _annotate(e: Exception, node) -> None:
    note = f"(while running {node.name()})\n{forward_trace(node)}"
    if hasattr(e, "add_note"):
        e.add_note(note)


def _version_message(node, j: int) -> str:
    """Saved value ``j`` of ``node`` was modified in place after it was saved."""
    kind, src, vc, version = node._saved_meta[4 * j:4 * j + 4]
    if kind == 0:
        t = src
        shape, dtype = list(t._data.shape), t.dtype
        what = ""
        if isinstance(t, Tensor) and t._grad_fn is not None:
            what = f", which is output {t._output_nr} of {t._grad_fn.name()},"
    else:
        shape, dtype, what = "?", "?", f", which is output {src} of {node.name()},"
        data = node.saved[j]
        shape = list(data.shape)
        dtype = from_numpy_dtype(data.dtype)
    tname = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
             "int64": "LongTensor", "int32": "IntTensor", "bool": "BoolTensor"}.get(
        repr(dtype)[6:], "Tensor")
    msg = (
        "one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: [torch.{tname} {shape}]{what} is at version {vc[0]}; expected "
        f"version {version} instead.\n"
        f"  The tensor was saved by {node.name()}, created at "
        f"{format_site(getattr(node, '_where', None))}"
    )
    if len(vc) > 1 and vc[1] is not None:
        msg += f"\n  It was modified in place at {format_site(vc[1])}"
    return msg


def _freed_message(node) -> str:
    return (
        "Trying to backward through the graph a second time (or directly access saved "
        "tensors after they have already been freed). Saved intermediate values of the graph "
        "are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if "
        "you need to backward through the graph a second time or if you need to access saved "
        f"tensors after calling backward.\n  The freed node is {node.name()}, created at "
        f"{format_site(getattr(node, '_where', None))}"
    )


def _no_grad_message(i: int, t: Tensor) -> str:
    msg = f"element {i} of tensors does not require grad and does not have a grad_fn"
    cut = cut_message(t)
    if cut is not None:
        msg += f"\n  The graph was cut here: {cut}"
    return msg
