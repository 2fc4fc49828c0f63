"""Recording one eager run of a step: what ``compile(mode="reduce-overhead")`` replays.

While a step runs eagerly under capture, retrograd's own hook points report to a
``Recorder`` (never an ndarray subclass):

- ``Primitive.apply`` (through ``_special``): every primitive, its inputs, attributes and
  outputs;
- the engine: each backward pass's roots, then every node it runs and every leaf it
  accumulates into, in the engine's own order;
- the optimizer (one ``_update_param`` per parameter, ``zero_grad``), BatchNorm's running
  statistics, ``.grad`` assignments: recorded as Python calls to repeat;
- ``item()``, ``tolist()``, ``numpy()``: values the step read into Python, which become
  guards (the step may have branched on them).

Every array is named by identity: an input of the step (``i3``), an output of a recorded
primitive or a gradient buffer (``v12``), or the live ``_data`` of a tensor that existed
before (``e4._data``: parameters, buffers, optimizer state, constants). ``codegen`` turns
the record into one straight-line Python function of NumPy calls (see ``_program``).
Whatever the recorder cannot replay faithfully it *refuses*, with the reason; the step
then stays eager.
"""

from __future__ import annotations

import threading

import numpy as np

from .._tensor import Tensor
from ..autograd._record import edge
from ._flat import flat_lowering

_ndarray = np.ndarray


class Refused(Exception):
    """The step cannot be replayed; the message says why."""


class Recorder:
    """The record of one eager run: ``tape`` (instructions in program order) plus the
    names of every array it touched."""

    def __init__(self, inputs: list, known: list) -> None:
        self.thread = threading.get_ident()
        self.names: dict[int, str] = {}      # id(array) -> expression naming it
        self.keep: list = []                  # arrays kept alive so ids stay unique
        self.ext: dict[int, int] = {}         # id(tensor) -> index into self.tensors
        self.tensors: list = []               # tensors read live at replay (e0, e1, ...)
        self.nodes: dict[int, tuple] = {}     # id(node) -> (ctx name, node)
        self.tape: list = []
        self.refusal: str | None = None
        self.n_vars = 0
        self.last_write: dict[str, int] = {}  # expression -> tape index that last wrote it
        self.first_effect: int | None = None  # first tape index changing outside state
        self.in_backward = False
        self.shape_guards: dict[str, tuple] = {}  # output name -> its shape at capture
        self.lowered: dict[int, object] = {}  # id(node) -> its row, for flat rows
        self.forwards: dict[int, tuple] = {}  # id(node) -> its "fwd" record (flat rows)
        self.flat: dict[int, object] = {}     # id(node) -> its lowering (``_flat``)
        self.inputs = inputs
        # The tensors the step can reach from outside (parameters, buffers, optimizer state,
        # tensors in its closure and globals), read live at replay. Any other tensor whose
        # array no recorded op produced is data the replay could not recompute.
        self.before = {id(t): t for t in known}
        self.before_arrays = {id(t._data): t for t in known}
        for k, t in enumerate(inputs):
            self._name(t._data, f"i{k}")
            self.last_write[f"i{k}"] = -1  # there before the step began

    # ------------------------------------------------------------------ naming
    def refuse(self, reason: str) -> None:
        if self.refusal is None:
            self.refusal = reason

    def _name(self, arr, name: str) -> str:
        self.names[id(arr)] = name
        self.keep.append(arr)
        self.last_write[name] = len(self.tape)
        return name

    def fresh(self, arr) -> str:
        self.n_vars += 1
        return self._name(arr, f"v{self.n_vars}")

    def tensor_ref(self, t: Tensor) -> str:
        """``tK`` for the step's K-th input tensor, else ``eK``: a tensor from outside the
        step, read live at replay."""
        for k, x in enumerate(self.inputs):
            if x is t:
                return f"t{k}"
        k = self.ext.get(id(t))
        if k is None:
            k = self.ext[id(t)] = len(self.tensors)
            self.tensors.append(t)
        return f"e{k}"

    def array_expr(self, t: Tensor) -> str:
        """The expression giving ``t``'s array at replay."""
        name = self.names.get(id(t._data))
        if name is None:
            owner = self.before_arrays.get(id(t._data))
            if owner is not None:  # a new tensor over an older one's memory (a snapshot)
                t = owner
            elif id(t) not in self.before and not any(t is x for x in self.inputs):
                self.refuse(f"a {t.dtype} tensor of shape {list(t._data.shape)} was made "
                            "outside retrograd's recorded ops (not by a primitive, a factory "
                            "or a random draw it can replay)")
            name = self.tensor_ref(t) + "._data"
            self.names[id(t._data)] = name
            self.keep.append(t._data)
            self.last_write.setdefault(name, -1)
        return name

    def resolve(self, value):
        """A spec rebuilding ``value`` at replay: arrays the step made by name, inside
        tuples, lists and dicts too; everything else a constant."""
        if type(value) is _ndarray:
            name = self.names.get(id(value))
            if name is None:
                owner = self.before_arrays.get(id(value))
                if owner is not None:  # an outside tensor's array: read live at replay
                    return self.array_expr(owner)
                self._no_step_view(value)
            return name if name is not None else ("const", value)
        if type(value) in (tuple, list):
            parts = [self.resolve(v) for v in value]
            if all(isinstance(p, tuple) and p[0] == "const" for p in parts):
                return ("const", value)
            return ("seq", type(value), parts)
        if type(value) is dict:
            parts = {k: self.resolve(v) for k, v in value.items()}
            if all(isinstance(p, tuple) and p[0] == "const" for p in parts.values()):
                return ("const", value)
            return ("map", parts)
        return ("const", value)

    def _no_step_view(self, value) -> None:
        """Refuse a constant that is a view of an array the step computed or took as input:
        a replay would read the captured call's values through it."""
        base = value.base
        while type(base) is _ndarray:
            name = self.names.get(id(base))
            if name is not None and name[0] in "vi":
                self.refuse(f"a view of {name} (an array the step computed) reached an op "
                            "outside the recorded ops (make it through ops._core.replayable)")
                return
            base = base.base

    def _effect(self) -> None:
        if self.first_effect is None:
            self.first_effect = len(self.tape)

    def _mine(self) -> bool:
        return threading.get_ident() == self.thread

    # ------------------------------------------------------------------ primitives
    def primitive(self, node, args, arrays, attrs, results) -> None:
        if not self._mine():
            return
        if self.in_backward:
            self.refuse(f"{type(node).op} recorded during backward (create_graph or a "
                        "hook computing with tensors)")
            return
        if node._wants_tensors:
            self.refuse(f"custom autograd.Function {type(node).op}")
            return
        ins = []
        for a, arr in zip(args, arrays):
            if isinstance(a, Tensor):
                expr = self.array_expr(a)
                if arr is not a._data:  # dtype promotion cast the input
                    if type(arr) is not _ndarray or arr.dtype == a._data.dtype:
                        self.refuse(f"{type(node).op}: an input changed before forward")
                    expr = ("cast", expr, arr.dtype)
                ins.append(expr)
            else:
                if _holds_tensor(arr):
                    self.refuse(f"{type(node).op} takes tensors inside a container")
                ins.append(self.resolve(arr))
        given = attrs
        if attrs:
            for v in attrs.values():
                if _holds_tensor(v):
                    self.refuse(f"{type(node).op} takes a tensor as an attribute")
            spec = self.resolve(attrs)
            if spec[0] != "const":  # an attribute holds an array the step computed
                ins.append(("attrs", spec))
                attrs = {}
        outs = []
        for r in results:
            arr = r._data
            name = self.names.get(id(arr))
            if name is not None and any(arr is x for x in arrays if type(x) is _ndarray):
                self._effect()  # written in place: the write may reach outside state
            outs.append(self.fresh(arr))
        # A mask computed in the step (x[x > 0], masked_select) makes the output's shape
        # depend on the data: the replay checks the shape it gets.
        masked = any(_step_mask(self, a) for a in (*arrays, *attrs.values()))
        if masked:
            if self.first_effect is not None:
                self.refuse(f"{type(node).op} with a mask computed in the step (a shape "
                            "that depends on the data) after the step changed state")
            self.shape_guards[outs[0]] = results[0]._data.shape
        ctx = f"c{len(self.tape)}"
        self.nodes[id(node)] = (ctx, node)
        self.keep.append(node)
        ins_record = ("fwd", ctx, node, ins, attrs, outs)
        if _lowerable(node, ins, attrs, outs, arrays):
            self.lowered[id(node)] = type(node).row
            self.forwards[id(node)] = ins_record
        elif len(outs) == 1:
            low = flat_lowering(node, ins, given or {}, arrays)
            if low is not None:
                self.flat[id(node)] = low
                self.forwards[id(node)] = ins_record
        self.tape.append(ins_record)

    # ------------------------------------------------------------------ backward
    def backward_begin(self, outputs, grads, retain_graph, create_graph, inputs) -> None:
        if not self._mine():
            return
        if create_graph:
            self.refuse("backward(create_graph=True)")
        if inputs is not None:
            self.refuse("autograd.grad / backward(inputs=...)")
        roots = []
        for t, g in zip(outputs, grads):
            node, nr = edge(t)
            if type(g) is not _ndarray:
                self.refuse("a gradient that is not an array")
                return
            name = self.names.get(id(g))
            gexpr = name if name is not None else ("const", g)
            roots.append((node, nr, gexpr, t))
        self._effect()
        self.tape.append(("bwd", roots, []))
        self.in_backward = True

    def backward_end(self) -> None:
        if self._mine():
            self.in_backward = False

    def _events(self) -> list | None:
        if not self.tape or self.tape[-1][0] != "bwd":
            self.refuse("backward ran outside the recorded pass")
            return None
        return self.tape[-1][2]

    def ran(self, node, grads, res) -> None:
        if not self._mine():
            return
        events = self._events()
        if events is None:
            return
        if id(node) not in self.nodes:
            self.refuse(f"backward reached {node.name()}, recorded before the step began")
            return
        if getattr(node, "_hooks", None) or getattr(node, "_pre_hooks", None):
            self.refuse(f"a hook on {node.name()}")
            return
        shapes = tuple(None if r is None else (np.shape(r), np.asarray(r).dtype) for r in res)
        events.append(("run", id(node), [g is not None for g in grads], shapes))

    def accumulated(self, acc) -> None:
        if not self._mine():
            return
        events = self._events()
        if events is None:
            return
        t = acc.variable
        ref = self.tensor_ref(t)
        grad = self.fresh(t._grad._data)
        events.append(("acc", id(acc), ref, grad))

    # ------------------------------------------------------------------ Python effects
    def call(self, fn, *args) -> None:
        """Replay will call ``fn(*args)``: tensors stay the same objects (or the replayed
        array when they hold one), arrays become their replayed values."""
        if not self._mine():
            return
        spec = []
        for a in args:
            if isinstance(a, Tensor):
                name = self.names.get(id(a._data))
                spec.append(("wrap", name) if name is not None and name[0] == "v"
                            else ("ref", self.tensor_ref(a)))
            else:
                spec.append(self.resolve(a))
        self._effect()
        self.tape.append(("call", fn, spec))

    def made(self, fn, args, out) -> None:
        """Arrays made outside any primitive (``ops._core.replayable``): replay makes them
        again with the same call."""
        if not self._mine():
            return
        spec = []
        for a in args:
            if isinstance(a, Tensor) or _holds_tensor(a):
                self.refuse(f"{getattr(fn, '__name__', fn)} takes a tensor")
                return
            spec.append(self.resolve(a))
        many = type(out) is tuple
        if many and any(isinstance(o, (tuple, list)) for o in out):
            self.refuse(f"{getattr(fn, '__name__', fn)} returns nested arrays (return one "
                        "flat tuple so that each array is named)")
            return
        outs = [None if o is None else self.fresh(o) for o in (out if many else (out,))]
        self.tape.append(("make", fn, spec, outs, many))

    def constant(self, t: Tensor) -> None:
        """A factory's tensor (zeros, tensor(...), arange, ...): replay starts from a copy
        of its value at capture, fresh each time (the step may write into it)."""
        if not self._mine() or id(t._data) in self.names:
            return
        snap = t._data.copy()
        self.tape.append(("make", np.copy, [("const", snap)], [self.fresh(t._data)], False))

    def saved_copied(self, node, array, copy) -> None:
        """An in-place op is about to overwrite ``array``, which ``node`` saved: the node
        keeps ``copy`` instead, and so must its replay."""
        if not self._mine():
            return
        entry = self.nodes.get(id(node))
        name = self.names.get(id(array))
        if entry is None or name is None:
            self.refuse("an in-place write over a value saved outside the recorded step")
            return
        self.lowered.pop(id(node), None)  # a flat row keeps no context to hold the copy
        self.flat.pop(id(node), None)
        self.tape.append(("call", _resave, [("ctx", entry[0]), name]))
        self._name(copy, entry[0] + ".saved")

    def checked(self, test, args, value) -> None:
        """A decision taken from values outside any primitive: a guard of the replay."""
        if not self._mine():
            return
        spec = [self.resolve(a) for a in args]
        at = max([self.last_write.get(n, -1) for n in _names(spec)], default=-1)
        if self.first_effect is not None and at >= self.first_effect:
            self.refuse(f"{getattr(test, '__name__', test)} decides from values computed "
                        "after the step changed state")
            return
        self.tape.append(("check", test, spec, value, at))

    def grad_set(self, t: Tensor, value) -> None:
        if not self._mine():
            return
        self._effect()
        if value is None:
            self.tape.append(("call", _set_grad, [("ref", self.tensor_ref(t)), ("const", None)]))
            return
        name = self.names.get(id(value._data))
        if name is None:
            self.refuse(".grad set to a tensor from outside the step")
            return
        self.tape.append(("call", _set_grad, [("ref", self.tensor_ref(t)), ("wrap", name)]))

    def read(self, t: Tensor, value, how: str) -> None:
        """A value read into Python: a guard, checked as soon as the replayed value exists."""
        if not self._mine():
            return
        if how == "numpy":
            self.refuse("numpy() inside the step (its array escapes the replay)")
            return
        name = self.array_expr(t)
        at = self.last_write.get(name, -1)
        if self.first_effect is not None and at >= self.first_effect:
            self.refuse(f"{how}() reads a value computed after the step changed state")
            return
        self.tape.append(("read", name, how, value, at))


def _lowerable(node, args, attrs, outs, arrays) -> bool:
    """Whether an elementwise row's forward and backward can be written out flat: its
    plain shape (no attributes, checks, NaN masking or warnings to silence), real floating
    NumPy inputs that need no cast, one output."""
    row = getattr(type(node), "row", None)
    if row is None:
        return False
    if row.check is not None or row.quiet or row.nan_safe:
        return False
    if len(outs) != 1 or type(arrays[0]) is not _ndarray or arrays[0].dtype.kind != "f":
        return False
    for a in args:
        if isinstance(a, tuple) and a[0] == "cast":
            return False
    for a in arrays:
        if type(a) is _ndarray and a.dtype.kind != "f":
            return False
    return all(callable(d) or d is None or isinstance(d, (int, float)) for d in row.d)


def _names(spec) -> list:
    """The array names a resolved spec uses."""
    if isinstance(spec, str):
        return [spec]
    if isinstance(spec, list):
        return [n for s in spec for n in _names(s)]
    if spec[0] == "seq":
        return _names(spec[2])
    if spec[0] == "map":
        return _names(list(spec[1].values()))
    return []


def _step_mask(rec: Recorder, value) -> bool:
    """Whether ``value`` holds a bool array the step computed (an index mask)."""
    if type(value) is _ndarray:
        return value.dtype == np.bool_ and rec.names.get(id(value), "e")[0] == "v"
    if type(value) in (tuple, list):
        return any(_step_mask(rec, v) for v in value)
    return False


def _resave(ctx, array) -> None:
    ctx.saved = tuple(s.copy() if s is array else s for s in ctx.saved)


def _set_grad(t: Tensor, value) -> None:
    t._grad = value


def _holds_tensor(v) -> bool:
    if isinstance(v, Tensor):
        return True
    if isinstance(v, (list, tuple)):
        return any(_holds_tensor(x) for x in v)
    if isinstance(v, dict):
        return any(_holds_tensor(x) for x in v.values())
    return False


__all__ = ["Recorder", "Refused"]
