"""User-defined differentiable functions: ``autograd.Function`` with ``forward``/``backward``.

The graph node of a call is its ``ctx``: attributes set on ``ctx`` in forward are there in
backward, and ``y.grad_fn`` is that object (printed ``<MyFnBackward object at ...>``).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .._tensor import Tensor, wrap
from ._record import bump_version, record_edges
from .grad_mode import no_grad
from .grad_mode import state as _state
from .graph import FREED, Node, creation_site, format_site

__all__ = ["Function", "FunctionCtx", "InplaceFunction", "NestedIOFunction",
           "once_differentiable"]


class FunctionCtx:
    """What ``forward``/``setup_context`` may call on ``ctx``."""

    def save_for_backward(self, *tensors) -> None:
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    "save_for_backward can only save variables, but argument "
                    f"{tensors.index(t)} is of type {type(t).__name__}"
                )
        self.to_save = tensors

    def save_for_forward(self, *tensors) -> None:
        self.saved_for_forward = tensors

    def mark_dirty(self, *args) -> None:
        self.dirty_tensors = args

    def mark_non_differentiable(self, *args) -> None:
        self.non_differentiable = args

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value


class BackwardCFunction(Node, FunctionCtx):
    """The node of one call of a custom Function (it is also the ``ctx``)."""

    _wants_tensors = True
    _forward_cls: Any = None

    def name(self) -> str:
        return type(self).__name__

    @property
    def saved_tensors(self) -> tuple:
        saved = self.saved
        if saved is FREED:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of "
                "the graph are freed when you call .backward() or autograd.grad(). Specify "
                "retain_graph=True if you need to backward through the graph a second time or "
                "if you need to access saved tensors after calling backward."
            )
        out = []
        for entry in saved:
            if entry is None:
                out.append(None)
                continue
            kind, obj, vc, version = entry
            if vc[0] != version:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: [{obj.shape if kind == 'in' else '?'}] is at "
                    f"version {vc[0]}; expected version {version} instead.\n  The tensor was "
                    f"saved by {self.name()}, created at {format_site(self._where)}"
                )
            if kind == "in":
                out.append(obj)
            else:
                data, k = obj
                out.append(wrap(data, self, k) if _state.grad_enabled else wrap(data))
        return tuple(out)

    @property
    def saved_variables(self) -> tuple:
        return self.saved_tensors

    def backward(self, *grads):
        cls = self._forward_cls
        if not getattr(self, "materialize_grads", True):
            grads = tuple(None if g is None else g for g in grads)
        result = cls.backward(self, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        n = len(self.next_functions)
        if len(result) != n:
            if len(result) > n and all(r is None for r in result[n:]):
                result = result[:n]
            else:
                raise RuntimeError(
                    f"function {self.name()} returned an incorrect number of gradients "
                    f"(expected {n}, got {len(result)})"
                )
        out = []
        for i, ((fn, _), r) in enumerate(zip(self.next_functions, result)):
            meta = self._input_meta(i)
            if fn is None or r is None:
                out.append(None)
                continue
            if not isinstance(r, Tensor):
                r = wrap(np.asarray(r))
            if meta is not None and tuple(r.shape) != meta[0]:
                try:
                    np.broadcast_shapes(tuple(r.shape), meta[0])
                    ok = len(r.shape) >= len(meta[0])
                except ValueError:
                    ok = False
                if not ok:
                    raise RuntimeError(
                        f"Function {self.name()} returned an invalid gradient at index "
                        f"{len(out)} - got {list(r.shape)} but expected shape compatible with "
                        f"{list(meta[0])}"
                    )
            out.append(r)
        return tuple(out)


class _FunctionMeta(type):
    def __init__(cls, name, bases, attrs) -> None:
        backward_cls = type(name + "Backward", (BackwardCFunction,), {"_forward_cls": cls})
        cls._backward_cls = backward_cls
        super().__init__(name, bases, attrs)


class Function(FunctionCtx, metaclass=_FunctionMeta):
    """Base class of custom differentiable operations.

    Subclass with ``@staticmethod forward(ctx, *args)`` and ``@staticmethod
    backward(ctx, *grad_outputs)`` (or ``forward(*args)`` plus ``setup_context(ctx, inputs,
    output)``) and call ``MyFn.apply(*args)``.
    """

    generate_vmap_rule = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please "
            "use new-style autograd function with static forward method. (Example: "
            "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)"
        )

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function."
        )

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: Any) -> Any:
        return _SETUP_NOT_OVERRIDDEN

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    vjp = backward

    @staticmethod
    def jvp(ctx: Any, *grad_inputs: Any) -> Any:
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with "
            "forward mode AD."
        )

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        node = cls._backward_cls.__new__(cls._backward_cls)
        node.saved = ()
        node._saved_meta = None
        node.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        custom_setup = cls.setup_context is not Function.setup_context
        with no_grad():
            if custom_setup:
                output = cls.forward(*args, **kwargs)
                cls.setup_context(node, args, output)
            else:
                output = cls.forward(node, *args, **kwargs)
        record = _state.grad_enabled and any(node.needs_input_grad)
        single = not isinstance(output, tuple)
        outputs = (output,) if single else output
        if not record:
            return output
        dirty = getattr(node, "dirty_tensors", ())
        nondiff = getattr(node, "non_differentiable", ())
        record_edges(node, args)
        node._where = creation_site(2)
        results = []
        out_meta = []
        for k, o in enumerate(outputs):
            if not isinstance(o, Tensor):
                results.append(o)
                out_meta.append(None)
                continue
            out_meta.append((o._data.shape, o._data.dtype))
            if any(o is n for n in nondiff):
                results.append(o)
                continue
            if any(o is d for d in dirty):
                if o._grad_fn is None and o._requires_grad:
                    raise RuntimeError(
                        "a leaf Variable that requires grad has been used in an in-place "
                        "operation."
                    )
                bump_version(o)
                o._grad_fn, o._output_nr, o._requires_grad = node, k, True
                results.append(o)
            elif any(o is a for a in args) or o._grad_fn is not None:
                results.append(wrap(o._data, node, k))
            else:
                o._grad_fn, o._output_nr, o._requires_grad = node, k, True
                results.append(o)
        node._out_meta = tuple(out_meta)
        to_save = getattr(node, "to_save", None)
        if to_save:
            node.saved = tuple(_save_entry(t, results) for t in to_save)
            node.to_save = None
        return results[0] if single else tuple(results)


_SETUP_NOT_OVERRIDDEN = object()


def _save_entry(t, results):
    if t is None:
        return None
    for k, r in enumerate(results):
        if r is t:
            return ("out", (t._data, k), t._vc, t._vc[0])
    return ("in", t, t._vc, t._vc[0])


class InplaceFunction(Function):
    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace


class NestedIOFunction(Function):
    pass


def once_differentiable(fn):
    """Decorate a ``backward`` that cannot itself be differentiated: it runs without
    recording, and a second-order backward through it raises."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            outputs = fn(ctx, *args)
        if not _state.grad_enabled:
            return outputs
        requires = any(isinstance(a, Tensor) and a._requires_grad for a in args)
        if not requires:
            return outputs
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        marked = tuple(_delayed_error(o) if isinstance(o, Tensor) else o for o in outs)
        return marked[0] if single else marked

    return wrapper


class DelayedError(Node):
    """Stands for a gradient that cannot be differentiated again; raises if asked to."""

    _name = "DelayedError"

    def backward(self, *grads):
        raise RuntimeError(
            "trying to differentiate twice a function that was marked with "
            "@once_differentiable"
        )


def _delayed_error(t: Tensor) -> Tensor:
    node = DelayedError()
    node._edges = ()
    node.saved = ()
    node._saved_meta = None
    node._where = creation_site(3)
    return wrap(t._data, node)
