"""``compile(mode="reduce-overhead")``: capture a step once, check it, replay it.

A compiled function goes through these states for each input signature (shapes, dtypes,
``requires_grad`` of its tensor arguments, its other arguments, grad mode):

1. **capture**: the first call runs eagerly while a ``Recorder`` listens at retrograd's hook
   points (``_capture``); the record becomes a straight-line replay function
   (``_program``), unless something in the step cannot be replayed (the reason is kept).
2. **check**: the next call snapshots every tensor the step touches (and the generator),
   replays, restores the snapshot, runs eagerly, and compares outputs, parameters,
   gradients, optimizer state and generator bit for bit. Equal: the capture is trusted.
   Different: the function stays eager, with the first difference as the reason. The
   eager results are the ones returned.
3. **replay**: later calls check the guards (tensor shapes and dtypes, module training
   flags and parameter identity, values the step read into Python) and run the replay
   function on the new inputs; a failing guard runs the call eagerly and captures again,
   up to ``config.recompile_limit`` times, after which the function stays eager.

Tensors a replay returns carry no graph and hold arrays the next replay does not reuse.
``explain(fn)`` says what happened; the ``retrograd.compiler`` logger says it as it
happens.
"""

from __future__ import annotations

import contextlib
import logging
import types
import weakref
from typing import Any

import numpy as np

from .. import _tensor
from .. import random as _random
from .._tensor import Tensor, wrap
from ..autograd.grad_mode import refresh_special
from ..autograd.grad_mode import state as _state
from ..nn.modules.module import Module
from ..utils._nest import tensors_in
from ._capture import Recorder, Refused
from ._program import GuardFailed, build

log = logging.getLogger("retrograd.compiler")


class config:
    """Switches of the reduce-overhead mode (as ``torch._dynamo.config``)."""

    #: Captures per compiled function before it stays eager (PyTorch's default too).
    recompile_limit = 8
    #: Check each new capture against eager before trusting it.
    verify = True


_ALL: weakref.WeakSet = weakref.WeakSet()


class _Entry:
    """One capture: the replay function, its guards and its state."""

    __slots__ = ("guards", "outputs", "replay", "replays", "source", "status", "template",
                 "touched")

    def __init__(self) -> None:
        self.status = "eager"
        self.replays = 0


class _Placeholder:
    __slots__ = ("k",)

    def __init__(self, k: int) -> None:
        self.k = k


class CapturedFunction:
    """What ``compile(fn, mode="reduce-overhead")`` runs calls through."""

    def __init__(self, fn) -> None:
        self.fn = fn
        self.entries: dict = {}
        self.captures = 0
        self.eager_reason: str | None = None
        self.events: list[str] = []
        _ALL.add(self)

    # ------------------------------------------------------------------ calls
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.eager_reason is not None or _state.special or _tensor.observer is not None:
            return self.fn(*args, **kwargs)
        flat = tensors_in((args, kwargs)) if kwargs or not all(
            isinstance(a, Tensor) for a in args) else args
        key = _signature(args, kwargs)
        entry = self.entries.get(key)
        if entry is None:
            return self._capture(key, args, kwargs, flat)
        if entry.status == "eager":
            return self.fn(*args, **kwargs)
        bad = _guards_fail(entry.guards)
        if bad is not None:
            self._note(f"guard failed: {bad}")
            return self._capture(key, args, kwargs, flat)
        if entry.status == "unchecked":
            return self._check(key, entry, args, kwargs, flat)
        try:
            arrays = entry.replay(*flat)
        except GuardFailed as e:
            self._note(f"guard failed: {e}")
            return self._capture(key, args, kwargs, flat)
        entry.replays += 1
        return _rebuild(entry.template, arrays)

    def _note(self, text: str) -> None:
        self.events.append(text)
        log.info("%s: %s", _name(self.fn), text)

    def _give_up(self, reason: str) -> None:
        self.eager_reason = reason
        self._note(f"runs eagerly from now on: {reason}")

    # ------------------------------------------------------------------ capture
    def _capture(self, key, args, kwargs, flat):
        if self.captures >= config.recompile_limit:
            self._give_up(f"captured {self.captures} times (config.recompile_limit)")
            return self.fn(*args, **kwargs)
        self.captures += 1
        modules, known = _reachable(_roots(self.fn, args, kwargs))
        rec = Recorder(flat, known)
        guards = _module_guards(modules)
        _state.capture = rec
        _tensor.observer = rec
        refresh_special()
        try:
            out = self.fn(*args, **kwargs)
        finally:
            _state.capture = None
            _tensor.observer = None
            refresh_special()
        entry = _Entry()
        self.entries[key] = entry
        try:
            if rec.refusal is not None:
                raise Refused(rec.refusal)
            outputs = tensors_in(out)
            if any(t._requires_grad for t in outputs) and \
                    not any(i[0] == "bwd" for i in rec.tape):
                raise Refused("an output needs a graph (backward runs outside the compiled "
                              "function): compile the whole training step")
            entry.source, env = build(rec, outputs)
            exec(compile(entry.source, f"<replay of {_name(self.fn)}>", "exec"), env)
            entry.replay = env["replay"]
        except Refused as e:
            self._give_up(str(e))
            return out
        entry.template = _template(out, outputs)
        entry.guards = guards
        entry.touched = (list(rec.tensors), _optimizers(rec))
        entry.status = "unchecked" if config.verify else "replay"
        n_ops = sum(1 for i in rec.tape if i[0] == "fwd")
        self._note(f"captured {n_ops} primitives, {len(rec.tensors)} outside tensors")
        return out

    # ------------------------------------------------------------------ check
    def _check(self, key, entry, args, kwargs, flat):
        tensors, optimizers = entry.touched
        touched = (tensors + [t for t in flat if not any(t is x for x in tensors)], optimizers)
        snap = _Snapshot(*touched)
        try:
            arrays = entry.replay(*flat)
        except GuardFailed as e:
            snap.restore()
            self._note(f"guard failed: {e}")
            return self._capture(key, args, kwargs, flat)
        after = _Snapshot(*touched)
        snap.restore()
        out = self.fn(*args, **kwargs)
        diff = _first_difference(arrays, tensors_in(out)) or after.differs_from_now()
        if diff is not None:
            entry.status = "eager"
            self._give_up(f"a replay differs from eager: {diff}")
        else:
            entry.status = "replay"
            self._note("replay matches eager bit for bit")
        return out

    # ------------------------------------------------------------------ info
    def reset(self) -> None:
        self.entries.clear()
        self.captures = 0
        self.eager_reason = None
        self.events.clear()

    def explain(self) -> str:
        lines = [f"{_name(self.fn)}: compile(mode='reduce-overhead')"]
        if self.eager_reason is not None:
            lines.append(f"  eager: {self.eager_reason}")
        for k, e in enumerate(self.entries.values()):
            lines.append(f"  capture {k}: {e.status}, replayed {e.replays} times")
        lines += [f"  - {ev}" for ev in self.events[-20:]]
        return "\n".join(lines)


def _name(fn) -> str:
    return getattr(fn, "__qualname__", None) or type(fn).__name__


def _static(v):
    if isinstance(v, Tensor):
        return ("T", v._data.shape, v._data.dtype.str, v._requires_grad)
    if isinstance(v, (list, tuple)):
        return (type(v).__name__, tuple(_static(x) for x in v))
    if isinstance(v, dict):
        return ("dict", tuple((k, _static(x)) for k, x in v.items()))
    try:
        hash(v)
    except TypeError:
        return ("id", id(v))
    return ("v", type(v).__name__, v)


def _signature(args, kwargs) -> tuple:
    key = [_state.grad_enabled]
    for a in args:  # tensors first: nearly every argument of a step
        if isinstance(a, Tensor):
            d = a._data
            key.append((d.shape, d.dtype, a._requires_grad))
        else:
            key.append(_static(a))
    if kwargs:
        key.append(_static(kwargs))
    return tuple(key)


def _template(out, outputs):
    index = {id(t): k for k, t in enumerate(outputs)}

    def walk(v):
        if isinstance(v, Tensor):
            return _Placeholder(index[id(v)])
        if isinstance(v, (list, tuple)) and type(v) in (list, tuple):
            return type(v)(walk(x) for x in v)
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        return v

    return walk(out)


def _rebuild(template, arrays):
    if type(template) is _Placeholder:
        return wrap(arrays[template.k])
    if type(template) in (list, tuple):
        return type(template)(_rebuild(x, arrays) for x in template)
    if type(template) is dict:
        return {k: _rebuild(x, arrays) for k, x in template.items()}
    return template


# ---------------------------------------------------------------------- guards
def _roots(fn, args, kwargs) -> list:
    """What the step can reach by name: the callable (and the object of a bound method), its
    closure, the globals its code names, and the arguments."""
    target = fn.__func__ if isinstance(fn, types.MethodType) else fn
    found = [getattr(fn, "__self__", None), fn, *args, *kwargs.values()]
    code = getattr(target, "__code__", None)
    if code is not None:
        for cell in target.__closure__ or ():
            with contextlib.suppress(ValueError):  # an empty cell
                found.append(cell.cell_contents)
        g = getattr(target, "__globals__", {})
        found += [g[n] for n in code.co_names if n in g]
    return found


def _reachable(roots) -> tuple[list, list]:
    """The modules (with their submodules) and the tensors the roots hold: directly, in
    containers, as parameters, buffers or attributes of modules, as optimizer state, or as
    attributes of plain objects (two levels deep)."""
    modules: dict[int, Module] = {}
    tensors: dict[int, Tensor] = {}
    seen: set = set()
    stack = [(r, 0) for r in roots]
    while stack:
        v, depth = stack.pop()
        if v is None or id(v) in seen or isinstance(v, (str, bytes, int, float, type,
                                                        types.ModuleType)):
            continue
        seen.add(id(v))
        if isinstance(v, Tensor):
            tensors[id(v)] = v
        elif isinstance(v, Module):
            for m in v.modules():
                modules[id(m)] = m
                for t in (*m._parameters.values(), *m._buffers.values()):
                    if t is not None:
                        tensors[id(t)] = t
                stack += [(x, 2) for x in vars(m).values() if not isinstance(x, dict)]
        elif hasattr(v, "param_groups") and hasattr(v, "state"):  # an optimizer
            for group in v.param_groups:
                stack += [(p, 2) for p in group["params"]]
            for st in v.state.values():
                stack += [(x, 2) for x in st.values()]
        elif isinstance(v, (list, tuple, set, frozenset)) and depth < 3:
            stack += [(x, depth + 1) for x in v]
        elif isinstance(v, dict) and depth < 3:
            stack += [(x, depth + 1) for x in v.values()]
        elif depth < 2 and hasattr(v, "__dict__") and not callable(v):
            stack += [(x, depth + 1) for x in vars(v).values()]
        elif depth < 2 and isinstance(v, types.MethodType):
            stack.append((v.__self__, depth + 1))
    return list(modules.values()), list(tensors.values())


def _module_guards(modules) -> list:
    return [(m, m.training, tuple(map(id, m._parameters.values()))) for m in modules]


def _guards_fail(guards) -> str | None:
    for m, training, params in guards:
        if m.training is not training:
            return f"{type(m).__name__}.training is now {m.training}"
        if tuple(map(id, m._parameters.values())) != params:
            return f"{type(m).__name__}'s parameters were replaced"
    return None


def _optimizers(rec: Recorder) -> list:
    found = []
    for ins in rec.tape:
        if ins[0] == "call":
            owner = getattr(ins[1], "__self__", None)
            if owner is not None and hasattr(owner, "param_groups") and \
                    not any(owner is o for o in found):
                found.append(owner)
    return found


# ---------------------------------------------------------------------- snapshots
def _bits(a) -> tuple:
    a = np.asarray(a)
    return (a.shape, a.dtype.str, a.tobytes())


class _Snapshot:
    """Copies of everything a step may change: tensors (values and gradients), optimizer
    state, the default generator."""

    def __init__(self, tensors: list, optimizers: list) -> None:
        self.tensors = [(t, t._data.copy(), t._grad, None if t._grad is None
                         else t._grad._data.copy()) for t in tensors]
        self.optimizers = []
        for opt in optimizers:
            states = {}
            for p, st in opt.state.items():
                states[p] = (st, {k: (v, v._data.copy()) if isinstance(v, Tensor) else (v, None)
                                  for k, v in st.items()})
            self.optimizers.append((opt, states))
        self.rng = _random.get_rng_state()

    def restore(self) -> None:
        for t, data, grad, gdata in self.tensors:
            t._data[...] = data
            t._grad = grad
            if grad is not None:
                grad._data[...] = gdata
        for opt, states in self.optimizers:
            for p in list(opt.state):
                if p not in states:
                    del opt.state[p]
            for p, (st, items) in states.items():
                st.clear()
                for k, (v, data) in items.items():
                    if data is not None:
                        v._data[...] = data
                    st[k] = v
                opt.state[p] = st
        _random.set_rng_state(self.rng)

    def differs_from_now(self) -> str | None:
        for t, data, grad, gdata in self.tensors:
            if _bits(t._data) != _bits(data):
                return f"a tensor of shape {list(data.shape)} (values)"
            if (t._grad is None) != (grad is None):
                return f"a tensor of shape {list(data.shape)} (whether .grad is set)"
            if grad is not None and _bits(t._grad._data) != _bits(gdata):
                return f"a tensor of shape {list(data.shape)} (.grad)"
        for opt, states in self.optimizers:
            for p, (_st, items) in states.items():
                now = opt.state.get(p, {})
                for k, (_v, data) in items.items():
                    if data is not None and _bits(now[k]._data) != _bits(data):
                        return f"{type(opt).__name__} state {k!r}"
        if not _same_rng(_random.get_rng_state(), self.rng):
            return "the random generator's state"
        return None


def _same_rng(a, b) -> bool:
    return repr(a) == repr(b)


def _first_difference(arrays, outputs) -> str | None:
    if len(arrays) != len(outputs):
        return "the number of outputs"
    for k, (a, t) in enumerate(zip(arrays, outputs)):
        if _bits(a) != _bits(t._data):
            return f"output {k}"
    return None


# ---------------------------------------------------------------------- the mode
def wrap_reduce_overhead(fn, spec) -> CapturedFunction:
    """The ``"reduce-overhead"`` entry of ``compiler.MODES``."""
    return CapturedFunction(fn)


def reset_all() -> None:
    for c in list(_ALL):
        c.reset()


def explain(fn) -> str:
    """What ``compile(mode="reduce-overhead")`` did with ``fn`` (a compiled function or
    module): captured, checked, replayed, or eager and why."""
    target = getattr(fn, "_retrograd_capture", None)
    if target is None and isinstance(fn, CapturedFunction):
        target = fn
    if target is None:
        run = getattr(fn, "_run", None)
        target = getattr(run, "_retrograd_capture", run)
    if not isinstance(target, CapturedFunction):
        return f"{_name(fn)}: not compiled with mode='reduce-overhead'"
    return target.explain()


__all__ = ["CapturedFunction", "config", "explain", "reset_all", "wrap_reduce_overhead"]
