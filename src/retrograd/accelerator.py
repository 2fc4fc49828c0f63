"""``retrograd.accelerator``: the device-agnostic view of the accelerator, as
``torch.accelerator``.  retrograd's one accelerator type is CUDA (through CuPy); where
there is none, ``is_available()`` is False, ``current_accelerator()`` None, and the calls
that need a device raise PyTorch's ``RuntimeError``.

>>> import retrograd
>>> retrograd.accelerator.is_available() == retrograd.cuda.is_available()
True
"""

from __future__ import annotations

import warnings
from typing import Any

from . import cuda as _cuda
from ._device import NO_ACCELERATOR, cuda_device_count, device

__all__ = ["current_accelerator", "current_device_idx", "current_device_index",
           "current_stream", "device_count", "device_index", "empty_cache", "is_available",
           "max_memory_allocated", "max_memory_reserved", "memory_allocated",
           "memory_reserved", "memory_stats", "reset_peak_memory_stats", "set_device_idx",
           "set_device_index", "set_stream", "synchronize"]


def is_available() -> bool:
    """Whether an accelerator (a CUDA GPU through CuPy) can be used."""
    return cuda_device_count() > 0


def device_count() -> int:
    return cuda_device_count()


def current_accelerator(check_available: bool = False) -> device | None:
    """``device(type='cuda')`` when CUDA is there, else None."""
    return device("cuda") if is_available() else None


def _require() -> None:
    if not is_available():
        raise RuntimeError(NO_ACCELERATOR)


def current_device_index() -> int:
    _require()
    return _cuda.current_device()


def set_device_index(device: Any) -> None:
    _require()
    _cuda.set_device(device)


def current_device_idx() -> int:
    warnings.warn("Use `current_device_index` instead.", FutureWarning, stacklevel=2)
    return current_device_index()


def set_device_idx(device: Any) -> None:
    warnings.warn("Use `set_device_index` instead.", FutureWarning, stacklevel=2)
    set_device_index(device)


def synchronize(device: Any = None) -> None:
    _require()
    _cuda.synchronize(device)


def current_stream(device: Any = None) -> _cuda.Stream:
    _require()
    return _cuda.current_stream(device)


def set_stream(stream: _cuda.Stream) -> None:
    """Make ``stream`` the current stream of its device."""
    if not isinstance(stream, _cuda.Stream):
        raise TypeError(f"set_stream(): expected a Stream, got {type(stream).__name__}")
    _require()
    stream._stream.use()


class device_index:
    """Context manager: ``device`` is the current accelerator index inside the block;
    ``None`` does nothing."""

    def __init__(self, device: int | None, /) -> None:
        self.idx = device
        self._inner = None

    def __enter__(self) -> None:
        if self.idx is None:
            return
        _require()
        self._inner = _cuda.device(self.idx)
        self._inner.__enter__()

    def __exit__(self, *exc: Any) -> None:
        if self._inner is not None:
            self._inner.__exit__(*exc)
            self._inner = None


def _memory(fn):
    def counter(device: Any = None, /):
        _require()
        return fn(device)

    counter.__name__ = fn.__name__
    counter.__doc__ = fn.__doc__
    return counter


memory_allocated = _memory(_cuda.memory_allocated)
max_memory_allocated = _memory(_cuda.max_memory_allocated)
memory_reserved = _memory(_cuda.memory_reserved)
max_memory_reserved = _memory(_cuda.max_memory_reserved)
memory_stats = _memory(_cuda.memory_stats)
reset_peak_memory_stats = _memory(_cuda.reset_peak_memory_stats)


def empty_cache() -> None:
    _require()
    _cuda.empty_cache()
