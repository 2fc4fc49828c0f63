"""Forward-mode AD with dual numbers: ``dual_level``, ``make_dual``, ``unpack_dual``.

Each primitive carries a ``jvp(ctx, *tangents)`` rule next to its backward; inside a dual
level, every op whose inputs carry tangents also computes the output's tangent. Tangents
are Tensors, so reverse mode can differentiate through them (forward-over-reverse).
"""

from __future__ import annotations

import weakref
from collections import namedtuple

import numpy as np

from .._tensor import Tensor, wrap
from .grad_mode import refresh_special
from .grad_mode import state as _state

__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level",
           "make_dual", "unpack_dual"]

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])

def enter_dual_level() -> int:
    """Open this thread's forward-AD level (levels, like grad mode, are per thread)."""
    if _state.forward_level:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _state.forward_level = 1
    _state.duals = []
    refresh_special()
    return 0


def exit_dual_level(*, level: int | None = None) -> None:
    for ref in _state.duals:
        t = ref()
        if t is not None and t._extra is not None:
            t._extra.tangent = None
    _state.duals = ()
    _state.forward_level = 0
    refresh_special()


class dual_level:
    """Context manager for a forward-AD level; tangents vanish when it exits."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc) -> None:
        exit_dual_level()


def _set_tangent(t: Tensor, tangent) -> None:
    if not isinstance(tangent, Tensor):
        tangent = wrap(tangent)
    t._extras.tangent = tangent
    duals = _state.duals
    if type(duals) is tuple:  # a tangent set outside enter_dual_level (e.g. in-place)
        duals = _state.duals = list(duals)
    duals.append(weakref.ref(t))


def get_tangent(t) -> Tensor | None:
    if isinstance(t, Tensor):
        extra = t._extra
        if extra is not None:
            return extra.tangent
    return None


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A view of ``tensor`` whose tangent (directional derivative) is ``tangent``."""
    if not _state.forward_level:
        raise RuntimeError(
            "To create a dual Tensor, you must be inside a dual_level context "
            "(use `with fwAD.dual_level():`)"
        )
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the "
            f"original Tensor, this is not supported. Tensor is of size {list(tensor.shape)} "
            f"while the given forward gradient is of size {list(tangent.shape)}."
        )
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise ValueError(f"Expected primal to be floating point or complex, but got: "
                         f"{tensor.dtype}")
    _state.forward_level = 0
    try:
        out = tensor.view_as(tensor)
    finally:
        _state.forward_level = 1
    if tangent.dtype != tensor.dtype:
        tangent = tangent.to(tensor.dtype)
    _set_tangent(out, tangent)
    return out


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)``; the tangent is None outside a level or for a plain tensor."""
    tangent = get_tangent(tensor) if _state.forward_level else None
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    _state.forward_level = 0
    try:
        primal = tensor.view_as(tensor)
    finally:
        _state.forward_level = 1
    return UnpackedDualTensor(primal, tangent)


def attach_tangent(node, args, arrays, results, attrs) -> None:
    """Called by ``Primitive.apply`` inside a dual level: give the outputs their tangents."""
    tangents = [get_tangent(a) for a in args]
    if all(t is None for t in tangents):
        return
    cls = type(node)
    jvp = getattr(cls, "jvp", None)
    if jvp is None:
        what = node.name()[:-9] or getattr(cls, "op", cls.__name__)
        raise NotImplementedError(
            f"Trying to use forward AD with {what} that does not "
            "support it because it has not been implemented yet."
        )
    # Inputs without a tangent get zeros, so rules need no None cases.
    full = []
    for a, t in zip(args, tangents):
        if t is None and isinstance(a, Tensor) and a._data.dtype.kind in "fc":
            t = wrap(np.zeros_like(a._data))
        full.append(t)
    node._out_meta = tuple((r._data.shape, r._data.dtype) for r in results)
    _state.forward_level = 0
    try:
        out = jvp(node, *full)
    finally:
        _state.forward_level = 1
    outs = out if isinstance(out, tuple) else (out,)
    for r, t in zip(results, outs):
        if t is None or r._data.dtype.kind not in "fc":
            continue
        if not isinstance(t, Tensor):
            t = wrap(t)
        if tuple(t.shape) != tuple(r.shape) and t.dim() <= r.dim():
            t = t.expand(tuple(r.shape))  # a Tensor method: no import of ops here
        if t._data.dtype != r._data.dtype:
            t = t.to(r.dtype)
        _set_tangent(r, t)


def fresh_leaf(t: Tensor) -> Tensor:
    """``t.detach().requires_grad_()`` that keeps ``t``'s tangent (forward-over-reverse)."""
    out = t.detach().requires_grad_(True)
    tangent = get_tangent(t) if _state.forward_level else None
    if tangent is not None:
        _set_tangent(out, tangent)
    return out
