"""Grad mode: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``.

Every flag here is per thread, as in PyTorch (DESIGN.md, decision 9): ``state`` is one
``threading.local`` whose class attributes are the defaults a new thread starts with, so the
hot path reads a single attribute and a ``no_grad`` in one thread is invisible in another.
"""

from __future__ import annotations

import functools
import inspect
import threading
from typing import Any

__all__ = [
    "enable_grad", "inference_mode", "is_grad_enabled", "is_inference_mode_enabled",
    "no_grad", "set_grad_enabled",
]


class _State(threading.local):
    """Per-thread autograd state; the class attributes are each new thread's defaults.

    Immutable defaults only (tuples, not lists): a class attribute is shared by every
    thread until the thread assigns its own value.
    """

    grad_enabled = True
    inference = False
    # Forward-mode AD: > 0 while a dual_level is active.
    forward_level = 0
    # Anomaly mode: record forward stacks and check backward results for NaN.
    anomaly = False
    anomaly_check_nan = True
    # True while anomaly mode, a forward-AD level or saved-tensor hooks may be on, so the
    # hot path reads one flag instead of three; set by whoever turns one on
    # (see ``refresh_special``).
    special = False
    # grad_enabled and not special: the one flag the op hot path reads. Kept in step by
    # ``set_grad_mode`` and ``refresh_special``, the only writers of the two it combines.
    record = True
    # The saved_tensors_hooks stack, innermost last: (pack, unpack) pairs.
    saved_hooks: tuple = ()
    # Callbacks queued for the end of the backward pass running in this thread.
    final_callbacks: tuple = ()
    # How many backward passes are running in this thread (a hook may start another).
    backward_depth = 0
    # Weak references to the tensors holding a tangent at the current forward-AD level.
    duals: tuple = ()
    # ``tracer(node, args, attrs, results)`` sees every primitive run (retrograd.onnx).
    tracer = None
    # ``retrograd.compile(mode="reduce-overhead")``'s recorder while it captures a step:
    # primitives, backward passes, optimizer updates and values read into Python report to it.
    capture = None


state = _State()

# The threads whose ``state.record`` is False, by ident. While it is empty every thread
# records, so the op hot path tests it instead of reading its thread's ``record`` (a
# threading.local attribute costs a lookup of the thread's own dict). ``_set_record`` keeps
# it: add and discard are single calls, so no lock is needed. A thread that ends while not
# recording leaves its ident behind, which only sends the hot path to ``state.record``.
not_recording: set = set()
_get_ident = threading.get_ident


def _set_record(record: bool) -> None:
    if record != state.record:
        state.record = record
        if record:
            not_recording.discard(_get_ident())
        else:
            not_recording.add(_get_ident())


def refresh_special() -> None:
    """Recompute ``state.special`` after anomaly mode, the forward-AD level, the
    saved-tensor hooks or the tracer changed."""
    special = state.special = bool(state.anomaly or state.forward_level or state.saved_hooks
                                   or state.tracer is not None or state.capture is not None)
    _set_record(state.grad_enabled and not special)


def set_grad_mode(mode: bool) -> None:
    """Set this thread's grad mode (every writer of ``state.grad_enabled`` goes through
    here, so that ``state.record`` and ``not_recording`` follow)."""
    state.grad_enabled = mode
    _set_record(bool(mode) and not state.special)


def is_grad_enabled() -> bool:
    """Whether operations record graph."""
    return state.grad_enabled


def is_inference_mode_enabled() -> bool:
    return state.inference


class _DecoratorContextManager:
    """A context manager that also decorates functions (and generator functions)."""

    def __call__(self, func):
        if inspect.isclass(func):
            raise RuntimeError("grad-mode decorators apply to functions, not classes")
        if inspect.isgeneratorfunction(func):

            @functools.wraps(func)
            def gen_wrapper(*args, **kwargs):
                gen = func(*args, **kwargs)
                with self.clone():
                    response = gen.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        gen.close()
                        raise
                    except BaseException as e:
                        with self.clone():
                            response = gen.throw(e)
                    else:
                        with self.clone():
                            response = gen.send(request)

            return gen_wrapper

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)

        return wrapper

    def clone(self):
        return self.__class__()

    def __enter__(self) -> None:
        raise NotImplementedError

    def __exit__(self, *exc: Any) -> None:
        raise NotImplementedError


class no_grad(_DecoratorContextManager):
    """Disable graph recording inside the block or decorated function.

    >>> import retrograd as torch
    >>> x = torch.ones(2, requires_grad=True)
    >>> with torch.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    def __init__(self) -> None:
        self.prev = False

    def __enter__(self) -> None:
        self.prev = state.grad_enabled
        set_grad_mode(False)

    def __exit__(self, *exc: Any) -> None:
        set_grad_mode(self.prev)


class enable_grad(_DecoratorContextManager):
    """Enable graph recording inside the block, e.g. within ``no_grad``."""

    def __init__(self) -> None:
        self.prev = False

    def __enter__(self) -> None:
        self.prev = state.grad_enabled
        set_grad_mode(True)

    def __exit__(self, *exc: Any) -> None:
        set_grad_mode(self.prev)


class set_grad_enabled(_DecoratorContextManager):
    """Set grad mode to ``mode``; takes effect at once, and as a context manager restores
    the previous mode on exit."""

    def __init__(self, mode: bool) -> None:
        self.prev = state.grad_enabled
        self.mode = bool(mode)
        set_grad_mode(self.mode)

    def __call__(self, func):
        set_grad_mode(self.prev)
        return super().__call__(func)

    def __enter__(self) -> None:
        set_grad_mode(self.mode)

    def __exit__(self, *exc: Any) -> None:
        set_grad_mode(self.prev)

    def clone(self):
        return self.__class__(self.mode)


class inference_mode(_DecoratorContextManager):
    """Like ``no_grad``; tensors made inside are marked as inference tensors."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = mode
        self.prev = (True, False)

    def __call__(self, func):
        if isinstance(func, bool):
            # ``@inference_mode(False)`` style is handled by __init__; a bare bool call
            # means the decorator was used without parentheses on a non-function.
            raise TypeError("inference_mode expects a function")
        return super().__call__(func)

    def __enter__(self) -> None:
        self.prev = (state.grad_enabled, state.inference)
        if self.mode:
            set_grad_mode(False)
            state.inference = True

    def __exit__(self, *exc: Any) -> None:
        set_grad_mode(self.prev[0])
        state.inference = self.prev[1]

    def clone(self):
        return self.__class__(self.mode)
