"""CUDA streams and events, over CuPy's: retrograd's CUDA ops run on CuPy's current stream,
so ``with retrograd.cuda.stream(s):`` really moves the work onto ``s``, and events time it.

Without CUDA, making a ``Stream`` or an ``Event`` raises ``RuntimeError`` and
``current_stream()`` ``AssertionError``, as in PyTorch built without CUDA;
``stream(None)`` is a context that does nothing.
"""

from __future__ import annotations

from typing import Any

from .._device import NO_CUDA, cuda_device_count

__all__ = ["Event", "Stream", "StreamContext", "current_stream", "default_stream", "stream"]


def _require(what: str):
    if cuda_device_count() == 0:
        raise RuntimeError(f"{what} requires CUDA support: {NO_CUDA}")
    from . import _cupy

    return _cupy()


class Stream:
    """A queue of GPU work; ``priority`` as CUDA's (lower is more urgent)."""

    def __init__(self, device: Any = None, priority: int = 0, *, _wrap: Any = None) -> None:
        cp = _require("retrograd.cuda.Stream")
        from . import _index

        self.device_index = _index(device)
        if _wrap is not None:
            self._stream = _wrap
        else:
            with cp.cuda.Device(self.device_index):
                self._stream = cp.cuda.Stream(non_blocking=False, priority=priority)

    def synchronize(self) -> None:
        """Wait until all work queued on this stream has finished."""
        self._stream.synchronize()

    def query(self) -> bool:
        """Whether all work queued on this stream has finished."""
        return bool(self._stream.done)

    def wait_event(self, event: Event) -> None:
        """Make future work on this stream wait for ``event``."""
        self._stream.wait_event(event._event)

    def wait_stream(self, stream: Stream) -> None:
        """Make future work on this stream wait for the work queued so far on ``stream``."""
        self.wait_event(stream.record_event())

    def record_event(self, event: Event | None = None) -> Event:
        event = Event() if event is None else event
        event.record(self)
        return event

    @property
    def cuda_stream(self) -> int:
        return int(self._stream.ptr)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Stream) and self.cuda_stream == other.cuda_stream

    def __hash__(self) -> int:
        return hash((self.cuda_stream, self.device_index))

    def __repr__(self) -> str:
        return (f"<retrograd.cuda.Stream device=cuda:{self.device_index} "
                f"cuda_stream={self.cuda_stream:#x}>")


class Event:
    """A marker in a stream: wait for it, or time the work between two of them."""

    def __init__(self, enable_timing: bool = False, blocking: bool = False,
                 interprocess: bool = False) -> None:
        cp = _require("retrograd.cuda.Event")
        self._cp = cp
        self._event = cp.cuda.Event(block=blocking, disable_timing=not enable_timing,
                                    interprocess=interprocess)

    def record(self, stream: Stream | None = None) -> None:
        """Mark the current point of ``stream`` (default: the current stream)."""
        self._event.record(None if stream is None else stream._stream)

    def wait(self, stream: Stream | None = None) -> None:
        (current_stream() if stream is None else stream).wait_event(self)

    def query(self) -> bool:
        return bool(self._event.done)

    def synchronize(self) -> None:
        self._event.synchronize()

    def elapsed_time(self, end_event: Event) -> float:
        """Milliseconds between this event and ``end_event`` (both recorded, with timing)."""
        return float(self._cp.cuda.get_elapsed_time(self._event, end_event._event))


def current_stream(device: Any = None) -> Stream:
    """The stream CUDA work of ``device`` is queued on now."""
    if cuda_device_count() == 0:
        raise AssertionError(NO_CUDA)
    from . import _cupy

    return Stream(device, _wrap=_cupy().cuda.get_current_stream())


def default_stream(device: Any = None) -> Stream:
    """The device's default (null) stream."""
    if cuda_device_count() == 0:
        raise AssertionError(NO_CUDA)
    from . import _cupy

    return Stream(device, _wrap=_cupy().cuda.Stream.null)


class StreamContext:
    """Runs the block's CUDA work on ``stream``; with ``None`` it does nothing."""

    def __init__(self, stream: Stream | None) -> None:
        self.stream = stream
        self._inner = None

    def __enter__(self) -> Stream | None:
        if self.stream is not None:
            self._inner = self.stream._stream
            self._inner.__enter__()
        return self.stream

    def __exit__(self, *exc: Any) -> None:
        if self._inner is not None:
            self._inner.__exit__(*exc)
            self._inner = None


def stream(stream: Stream | None) -> StreamContext:
    """``with retrograd.cuda.stream(s):`` queues the block's CUDA work on ``s``."""
    return StreamContext(stream)
