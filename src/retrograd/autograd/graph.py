"""Graph nodes: ``Node`` (what ``grad_fn`` holds) and ``AccumulateGrad`` for leaves.

A node knows the nodes its inputs came from (``next_functions``), what it saved for
backward, the shapes and dtypes of its inputs, and where in the user's code it was made.

Per input, a node keeps four things in one flat tuple, ``_edges``: the node the input's
gradient goes to (None when it needs none), that node's output number, and the input's
shape and dtype (None and None for a non-Tensor input). Flat, because the graph of a forward
lives until backward: every tuple it holds is an object Python's cyclic GC walks again and
again: a pair per edge, a (shape, dtype) per input and the two tuples holding them were four
of the seven such objects a recorded binary op left behind (docs/performance.md).
``next_functions``, PyTorch's ``((node, output_nr), ...)``, is built from it when asked.

How nodes are recorded (edges, saved values, views, cut notes) is ``_record``; how they run
is ``engine``.

What a node may save, and how its backward sees it: a primitive saves its inputs, its
outputs, or constants (masks, indices, shapes). In a plain backward the formula gets raw
arrays for all of them, and runs on arrays. Under ``create_graph=True`` the engine hands it
the input Tensors and output Tensors (reconnected to this node) in place of those arrays, so
the same formula builds graph; constants stay constants.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from typing import Any

from .._site import creation_site, format_site, site_line
from .grad_mode import refresh_special
from .grad_mode import state as _state

__all__ = ["AccumulateGrad", "Node", "RemovableHandle", "creation_site", "format_site",
           "save_on_cpu", "saved_tensors_hooks"]


class flags:
    """Process-wide switches the hot paths read as one class attribute."""

    # Set for good once any node hook (pre or post, tensor hooks on non-leaves included)
    # is registered: until then the engine never looks for hooks on a node.
    node_hooks = False


class RemovableHandle:
    """Returned by every ``register_*hook``; ``remove()`` takes the hook away.

    The one handle class of the package (autograd, nn.Module and optimizer hooks).
    """

    # itertools.count is atomic under the GIL: ids stay unique across threads.
    _ids = itertools.count()

    def __init__(self, hooks_dict: dict, *, extra_dict: Any = None) -> None:
        self.hooks_dict = hooks_dict
        self.id = next(RemovableHandle._ids)
        self.extra_dicts = () if extra_dict is None else (
            tuple(extra_dict) if isinstance(extra_dict, (list, tuple)) else (extra_dict,))

    def remove(self) -> None:
        self.hooks_dict.pop(self.id, None)
        for d in self.extra_dicts:
            d.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


FREED = object()  # marks saved values released after backward


class Node:
    """A backward function in the graph (``tensor.grad_fn``).

    Attributes:
        _edges: per input ``node, output_nr, shape, dtype`` in one flat tuple (module doc);
            the engine sums and casts each input's gradient to its shape and dtype.
        next_functions: one ``(node, output_nr)`` pair per input; ``(None, 0)`` where the
            input needs no gradient (made from ``_edges``).
        saved: what forward kept for backward (raw arrays during a plain backward).
        _saved_meta: None, or per saved value four entries in one flat tuple (as
            ``_edges``): ``INPUT, tensor, vc, version`` / ``OUTPUT, output_nr, vc,
            version``, or four Nones for a constant (see ``_record.map_saved``).
        _where: the creation site ``(code, instruction offset)``; ``_site`` gives the line.
        _pre_hooks, _hooks: hook dicts, unset until a hook is registered (``flags``).
    """

    __slots__ = ("__weakref__", "_edges", "_hooks", "_meta", "_out_meta", "_pre_hooks",
                 "_saved_meta", "_where", "saved")

    _name = "Node"
    # Custom autograd.Functions get and return Tensors in backward, never raw arrays.
    _wants_tensors = False

    def name(self) -> str:
        return self._name

    @property
    def next_functions(self) -> tuple:
        """One ``(node, output_nr)`` pair per input, ``(None, 0)`` where no gradient flows."""
        e = self._edges
        return tuple([(e[i], e[i + 1]) for i in range(0, len(e), 4)])

    def _input_meta(self, i: int) -> tuple | None:
        """``(shape, dtype)`` of input ``i``, or None when it was not a Tensor."""
        e = self._edges
        shape = e[4 * i + 2]
        return None if shape is None else (shape, e[4 * i + 3])

    def __repr__(self) -> str:
        return f"<{self.type_name()} object at {hex(id(self))}>"

    def type_name(self) -> str:
        """The node's class name as PyTorch prints it (``name()`` without a namespace)."""
        return self.name().rsplit("::", 1)[-1]

    @property
    def metadata(self) -> dict:
        meta = getattr(self, "_meta", None)
        if meta is None:
            meta = self._meta = {}
        return meta

    @property
    def _site(self) -> tuple | None:
        """``(code object, line)`` where the node was made, or None (the graph picture's
        form; the node stores the instruction offset and converts here)."""
        where = self._where
        if where is None:
            return None
        return (where[0], site_line(where))

    @property
    def creation_site(self) -> str:
        """The user's ``file:line`` that created this node."""
        return format_site(getattr(self, "_where", None))

    def _hook_dict(self, attr: str) -> OrderedDict:
        d = getattr(self, attr, None)  # unset on nodes recorded before any hook existed
        if d is None:
            d = OrderedDict()
            setattr(self, attr, d)
        flags.node_hooks = True
        return d

    def register_hook(self, fn) -> RemovableHandle:
        """``fn(grad_inputs, grad_outputs)`` runs after this node's backward; it may return
        replacement ``grad_inputs``."""
        d = self._hook_dict("_hooks")
        handle = RemovableHandle(d)
        d[handle.id] = fn
        return handle

    def register_prehook(self, fn) -> RemovableHandle:
        """``fn(grad_outputs)`` runs before this node's backward; it may return replacement
        ``grad_outputs``."""
        d = self._hook_dict("_pre_hooks")
        handle = RemovableHandle(d)
        d[handle.id] = fn
        return handle

    def backward(self, *grads):  # pragma: no cover - every concrete node overrides it
        raise NotImplementedError

    def _get_pre_hooks(self):
        return getattr(self, "_pre_hooks", None)

    def _get_hooks(self):
        return getattr(self, "_hooks", None)


class AccumulateGrad(Node):
    """The node that adds an incoming gradient into a leaf tensor's ``.grad``."""

    __slots__ = ("variable",)
    _name = "torch::autograd::AccumulateGrad"

    def __init__(self, variable) -> None:
        self.variable = variable
        self._edges = ()
        self.saved = ()
        self._saved_meta = None
        self._where = None

    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {hex(id(self))}>"


_lock_for_locks = threading.Lock()


def leaf_lock(t) -> threading.Lock:
    """The lock that serializes gradient accumulation into leaf ``t`` (concurrent backward
    passes in several threads may reach the same leaf)."""
    extra = t._extras
    lock = extra.lock
    if lock is None:
        with _lock_for_locks:  # two threads must not each make their own lock
            lock = extra.lock
            if lock is None:
                lock = extra.lock = threading.Lock()
    return lock


# ---------------------------------------------------------------- saved-tensor hooks


class PackedSaved(tuple):
    """``node.saved`` when saved_tensors_hooks were active: (packed, unpack_hook) pairs."""

    __slots__ = ()


def _push_saved_hooks(pair) -> None:
    _state.saved_hooks = (*_state.saved_hooks, pair)
    refresh_special()


def _pop_saved_hooks() -> None:
    _state.saved_hooks = _state.saved_hooks[:-1]
    refresh_special()


class saved_tensors_hooks:
    """Within this block, every tensor an op saves for backward is replaced by
    ``pack_hook(tensor)``, and ``unpack_hook(packed)`` gives it back during backward.
    The hooks apply to the thread that entered the block."""

    def __init__(self, pack_hook, unpack_hook) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> saved_tensors_hooks:
        _push_saved_hooks((self.pack_hook, self.unpack_hook))
        return self

    def __exit__(self, *exc: Any) -> None:
        _pop_saved_hooks()


class save_on_cpu(saved_tensors_hooks):
    """Keep saved tensors in host memory (a copy) and bring them back for backward."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        def pack(t):
            return (t.device, t.detach().cpu().clone())

        def unpack(packed):
            dev, t = packed
            return t.to(dev)

        super().__init__(pack, unpack)


class disable_saved_tensors_hooks:
    """Forbid saved-tensor hooks inside the block (they raise with ``error_message``)."""

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __enter__(self) -> None:
        msg = self.error_message

        def refuse(*_):
            raise RuntimeError(msg)

        _push_saved_hooks((refuse, refuse))

    def __exit__(self, *exc: Any) -> None:
        _pop_saved_hooks()
