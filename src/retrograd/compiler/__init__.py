"""``retrograd.compile`` and ``retrograd.compiler``: PyTorch's compilation entry points.

Arguments are checked as PyTorch checks them, so a program written for ``torch.compile``
runs unchanged. A compile *mode* is a wrapper factory in ``MODES`` (``register_mode`` adds
one). ``"reduce-overhead"`` captures a step once at retrograd's hook points, checks it
against eager bit for bit and replays it as straight-line NumPy calls (``_replay``,
docs/compile.md). The other modes run the computation eagerly, op by op, which is what
PyTorch does with compilation disabled.

>>> import retrograd
>>> @retrograd.compile
... def double(x):
...     return x * 2
>>> double(retrograd.ones(2))
tensor([2., 2.])
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..nn.modules.module import Module
from ._optimized import OptimizedModule
from ._replay import config, explain, reset_all, wrap_reduce_overhead

__all__ = ["allow_in_graph", "assume_constant_result", "config", "disable", "explain",
           "is_compiling",
           "is_dynamo_compiling", "list_backends", "register_mode", "reset"]


class InvalidBackend(RuntimeError):
    """``compile(backend=...)`` named a backend that does not exist."""


@dataclass(frozen=True)
class CompileSpec:
    """Everything ``compile`` was told, handed to the mode's wrapper factory."""

    mode: str
    backend: str | Callable
    fullgraph: bool = False
    dynamic: bool | None = None
    options: dict = field(default_factory=dict)


@dataclass
class Mode:
    """``wrap(fn, spec)`` returns what calls run through; ``reset()`` forgets caches."""

    wrap: Callable[[Callable, CompileSpec], Callable]
    reset: Callable[[], None] | None = None


def _eager(fn: Callable, spec: CompileSpec) -> Callable:
    return fn


MODES: dict[str, Mode] = {name: Mode(_eager) for name in (
    "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")}
# Capture once, replay many (``_replay``): the one mode that does more than run eagerly.
MODES["reduce-overhead"] = Mode(wrap_reduce_overhead, reset_all)

# The backends PyTorch 2.13 lists (with debug ones); each runs eagerly here.
BACKENDS = ("aot_eager", "aot_eager_decomp_partition", "cudagraphs", "eager", "inductor",
            "openxla", "tvm")
_DEBUG_BACKENDS = ("aot_eager", "aot_eager_decomp_partition", "eager")


def register_mode(name: str, wrap: Callable[[Callable, CompileSpec], Callable],
                  reset: Callable[[], None] | None = None) -> None:
    """Make ``compile(mode=name)`` run calls through ``wrap(fn, spec)``."""
    MODES[name] = Mode(wrap, reset)


def _check(model: Any, backend: Any, mode: str | None, options: dict | None) -> str:
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be "
                           "specified at the same time.")
    mode = "default" if mode is None else mode
    if mode not in MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(MODES)}")
    if isinstance(backend, str) and backend not in BACKENDS:
        raise InvalidBackend(f"Invalid backend: {backend!r}, see "
                             "`torch._dynamo.list_backends()` for available backends.")
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    return mode


def compile(model: Callable | None = None, *, fullgraph: bool = False,
            dynamic: bool | None = None, backend: str | Callable = "inductor",
            mode: str | None = None, options: dict | None = None,
            disable: bool = False, **kwargs: Any) -> Any:
    """``torch.compile``: a callable that computes what ``model`` computes.

    Use it as a call, ``compile(model)``, or as a decorator, with or without arguments. A
    ``Module`` comes back wrapped in an ``OptimizedModule`` (``._orig_mod`` is the original;
    its parameters are shared, its state_dict keys start with ``_orig_mod.``), a function as
    a function. ``disable=True`` returns ``model`` itself. ``mode`` picks the wrapper in
    ``MODES``: ``"reduce-overhead"`` captures and replays (docs/compile.md), the others run
    eagerly. ``backend`` (a name or a custom backend callable), ``fullgraph``, ``dynamic``
    and ``options`` are accepted and change nothing; a custom backend is never called
    (there is no FX graph to hand it).
    """
    if model is None:
        return functools.partial(compile, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                                 mode=mode, options=options, disable=disable, **kwargs)
    mode = _check(model, backend, mode, options)
    if disable:
        return model
    spec = CompileSpec(mode, backend, fullgraph, dynamic, dict(options or {}))
    run = MODES[mode].wrap(model, spec)
    if isinstance(model, Module):
        return OptimizedModule(model, run)

    @functools.wraps(model)
    def compiled(*args: Any, **kw: Any) -> Any:
        return run(*args, **kw)

    compiled._torchdynamo_orig_callable = model
    compiled._retrograd_capture = run
    return compiled


def reset() -> None:
    """Forget everything compiled so far (each mode's caches)."""
    for m in MODES.values():
        if m.reset is not None:
            m.reset()


def disable(fn: Callable | None = None, recursive: bool = True, *, reason: str | None = None):
    """Mark ``fn`` as never compiled; with eager execution it runs as written."""
    if fn is None:
        return functools.partial(disable, recursive=recursive, reason=reason)
    return fn


def allow_in_graph(fn: Callable) -> Callable:
    """Accepted: there is no graph, so ``fn`` runs as a call."""
    return fn


def assume_constant_result(fn: Callable) -> Callable:
    """Accepted: ``fn`` is called each time (no graph to fold its result into)."""
    return fn


def is_compiling() -> bool:
    """False: retrograd never traces code into a graph."""
    return False


def is_dynamo_compiling() -> bool:
    """False: retrograd never traces code into a graph."""
    return False


def list_backends(exclude_tags: tuple = ("debug", "experimental")) -> list[str]:
    """The backend names ``compile`` accepts (all run eagerly)."""
    if exclude_tags and "debug" in exclude_tags:
        return [b for b in BACKENDS if b not in _DEBUG_BACKENDS]
    return list(BACKENDS)
