"""Grad mode: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``.

The flags live on one small class so the hot path reads a single attribute.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

__all__ = [
    "enable_grad", "inference_mode", "is_grad_enabled", "is_inference_mode_enabled",
    "no_grad", "set_grad_enabled",
]


class _State:
    grad_enabled = True
    inference = False
    # Forward-mode AD: > 0 while a dual_level is active.
    forward_level = 0
    # Anomaly mode: record forward stacks and check backward results for NaN.
    anomaly = False
    anomaly_check_nan = True


state = _State


def is_grad_enabled() -> bool:
    """Whether operations record graph."""
    return _State.grad_enabled


def is_inference_mode_enabled() -> bool:
    return _State.inference


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
        self.prev = _State.grad_enabled
        _State.grad_enabled = False

    def __exit__(self, *exc: Any) -> None:
        _State.grad_enabled = self.prev


class enable_grad(_DecoratorContextManager):
    """Enable graph recording inside the block, e.g. within ``no_grad``."""

    def __init__(self) -> None:
        self.prev = False

    def __enter__(self) -> None:
        self.prev = _State.grad_enabled
        _State.grad_enabled = True

    def __exit__(self, *exc: Any) -> None:
        _State.grad_enabled = self.prev


class set_grad_enabled(_DecoratorContextManager):
    """Set grad mode to ``mode``; takes effect at once, and as a context manager restores
    the previous mode on exit."""

    def __init__(self, mode: bool) -> None:
        self.prev = _State.grad_enabled
        self.mode = bool(mode)
        _State.grad_enabled = self.mode

    def __call__(self, func):
        _State.grad_enabled = self.prev
        return super().__call__(func)

    def __enter__(self) -> None:
        _State.grad_enabled = self.mode

    def __exit__(self, *exc: Any) -> None:
        _State.grad_enabled = self.prev

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
        self.prev = (_State.grad_enabled, _State.inference)
        if self.mode:
            _State.grad_enabled = False
            _State.inference = True

    def __exit__(self, *exc: Any) -> None:
        _State.grad_enabled, _State.inference = self.prev

    def clone(self):
        return self.__class__(self.mode)
