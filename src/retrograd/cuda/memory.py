"""GPU memory counters, from CuPy's memory pool (the allocator of retrograd's CUDA tensors).

Without CUDA they answer as PyTorch does there: 0 bytes, an empty ``memory_stats()``, and
``empty_cache()`` does nothing. CuPy keeps no peak, so the peaks are tracked here: an
allocator wrapped around CuPy's pool notes the pool's size after each allocation (a peak
can only follow an allocation). Tracking starts when ``retrograd.cuda`` first touches the
GPU, which every CUDA query does.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from .._device import NO_CUDA, cuda_device_count

__all__ = ["empty_cache", "max_memory_allocated", "max_memory_reserved", "mem_get_info",
           "memory_allocated", "memory_reserved", "memory_stats", "reset_max_memory_allocated",
           "reset_peak_memory_stats"]

# device index -> [peak bytes in use, peak bytes held by the pool]
_peaks: dict[int, list[int]] = {}


def track_peaks(cupy) -> None:
    """Route CuPy's allocations through a wrapper that records the peaks of its pool."""
    pool = cupy.get_default_memory_pool()
    runtime = cupy.cuda.runtime

    def malloc(size: int):
        ptr = pool.malloc(size)
        peak = _peaks.setdefault(runtime.getDevice(), [0, 0])
        peak[0] = max(peak[0], pool.used_bytes())
        peak[1] = max(peak[1], pool.total_bytes())
        return ptr

    cupy.cuda.set_allocator(malloc)


def _pool(device: Any):
    """(cupy, device index) or None when there is no CUDA (the counters then read 0)."""
    if cuda_device_count() == 0:
        return None
    from . import _cupy, _index

    cp = _cupy()
    return cp, _index(device)


def _read(device: Any, what: str) -> int:
    found = _pool(device)
    if found is None:
        return 0
    cp, idx = found
    with cp.cuda.Device(idx):
        pool = cp.get_default_memory_pool()
        return int(pool.used_bytes() if what == "used" else pool.total_bytes())


def memory_allocated(device: Any = None) -> int:
    """Bytes of GPU memory held by live CUDA tensors on ``device``."""
    return _read(device, "used")


def memory_reserved(device: Any = None) -> int:
    """Bytes of GPU memory held by the allocator's pool (live tensors plus cached blocks)."""
    return _read(device, "total")


def _peak(device: Any, slot: int) -> int:
    found = _pool(device)
    if found is None:
        return 0
    return _peaks.get(found[1], [0, 0])[slot]


def max_memory_allocated(device: Any = None) -> int:
    """The most bytes live tensors held at once since tracking began or the last reset."""
    return _peak(device, 0)


def max_memory_reserved(device: Any = None) -> int:
    """The most bytes the pool held at once since tracking began or the last reset."""
    return _peak(device, 1)


def reset_peak_memory_stats(device: Any = None) -> None:
    """Start the peaks over from the current usage; needs CUDA (``AssertionError``)."""
    if cuda_device_count() == 0:
        raise AssertionError(NO_CUDA)
    _, idx = _pool(device)
    _peaks[idx] = [memory_allocated(idx), memory_reserved(idx)]


reset_max_memory_allocated = reset_peak_memory_stats


def memory_stats(device: Any = None) -> OrderedDict:
    """PyTorch's counter names for current and peak bytes; empty without CUDA."""
    if cuda_device_count() == 0:
        return OrderedDict()
    return OrderedDict([
        ("allocated_bytes.all.current", memory_allocated(device)),
        ("allocated_bytes.all.peak", max_memory_allocated(device)),
        ("reserved_bytes.all.current", memory_reserved(device)),
        ("reserved_bytes.all.peak", max_memory_reserved(device)),
    ])


def empty_cache() -> None:
    """Give the pool's unused blocks back to the driver; does nothing without CUDA."""
    if cuda_device_count() == 0:
        return
    from . import _cupy

    _cupy().get_default_memory_pool().free_all_blocks()


def mem_get_info(device: Any = None) -> tuple[int, int]:
    """(free, total) bytes of the GPU, as the driver reports them."""
    from . import _cupy, _index

    cp = _cupy()
    with cp.cuda.Device(_index(device)):
        free, total = cp.cuda.runtime.memGetInfo()
    return int(free), int(total)
