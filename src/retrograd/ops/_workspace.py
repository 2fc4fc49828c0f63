"""A small, bounded cache of large arrays that kernels reuse from one step to the next.

Why: a training step allocates the same large temporaries every time (im2col columns,
col2im accumulators, activations, masks). Handed back to the C allocator at the end of a
step, they are returned to the OS and faulted in again, page by page, on the next one:
thousands of minor page faults a step, each costing more than the arithmetic on its page.
Like cuDNN's and oneDNN's workspaces, the cache keeps those buffers and hands them out again.

Safety: NumPy makes every view of an array hold a reference to the array that owns the
memory (``view.base``), and so does every Tensor, saved value or NumPy ufunc output built on
it. A cached buffer is handed out again only when its reference count shows that the cache
alone still holds it (``sys.getrefcount``, calibrated at import for this interpreter), so a
buffer that a live tensor, a saved value or a user's array still views is never reused.
Counts and the cache itself are guarded by one lock, so two threads never get the same one.

Bound: the cache holds at most ``limit`` bytes (``retrograd.cpu.set_cache_limit``); past it,
the least recently used buffers are dropped (a buffer still in use stays alive through its
views and is freed by NumPy when they go). ``retrograd.cpu.empty_cache()`` drops them all.
Arrays under ``MIN_BYTES`` are left to malloc, whose small-block heap already reuses them.
"""

from __future__ import annotations

import bisect
import os
import sys
import threading

import numpy as np

__all__ = ["MIN_BYTES", "empty", "empty_cache", "get_limit", "reserved", "set_limit"]

#: Smaller requests bypass the cache: malloc serves them from its heap without page faults.
MIN_BYTES = 1 << 16

_ndarray = np.ndarray
_uint8 = np.uint8
_refcount = sys.getrefcount
_lock = threading.Lock()
#: nbytes -> list of entries [last use, buffer]; each buffer a 1-d uint8 array it owns.
_pool: dict[int, list] = {}
_sizes: list[int] = []  # the keys of _pool, sorted
#: A request may take a free buffer up to FIT_NUM / FIT_DEN times its size.
FIT_NUM, FIT_DEN = 5, 4
_state = {"held": 0, "clock": 0,
          "limit": int(os.environ.get("RETROGRAD_CACHE_LIMIT", 256 << 20))}


def _refs(entry) -> int:
    return _refcount(entry[1])


# The count of a buffer that only the cache holds, measured on a probe entry through the
# same call as the real test (interpreters differ in how many references a call adds).
_FREE = _refs([0, np.empty(1, _uint8)])


def empty(shape, dtype, m=np):
    """An uninitialised C-contiguous array of ``shape`` and ``dtype``, from the cache when
    a buffer of that size is free, else newly allocated (and cached when it fits).

    >>> a = empty((512, 512), np.float32)
    >>> a.shape, a.dtype, a.flags.c_contiguous
    ((512, 512), dtype('float32'), True)
    """
    dtype = np.dtype(dtype)
    size = dtype.itemsize
    for e in shape:
        size *= e
    if m is not np or size < MIN_BYTES:
        return m.empty(shape, dtype)
    return _take(size).view(dtype).reshape(shape)


def zeros(shape, dtype, m=np):
    """``empty`` filled with zeros (a memset on memory that is already mapped)."""
    out = empty(shape, dtype, m)
    out.fill(0)
    return out


def _take(size: int):
    """A free cached buffer of ``size`` to ``size * FIT`` bytes (the smallest), else a new
    one; a new buffer replaces the free ones it could stand in for, so buffers of nearby
    sizes that are never in use together (a step's forward and backward columns) end up
    sharing one."""
    with _lock:
        st = _state
        st["clock"] += 1
        first = bisect.bisect_left(_sizes, size)
        for i in range(first, len(_sizes)):
            have = _sizes[i]
            if have * FIT_DEN > size * FIT_NUM:
                break
            for e in _pool[have]:
                if _refs(e) == _FREE:
                    e[0] = st["clock"]
                    return e[1][:size] if have != size else e[1]
        buf = np.empty(size, _uint8)
        if size <= st["limit"]:
            for i in range(first - 1, -1, -1):
                have = _sizes[i]
                if size * FIT_DEN > have * FIT_NUM:
                    break
                _drop(have, [e for e in _pool[have] if _refs(e) == _FREE])
            if size not in _pool:
                _pool[size] = []
                bisect.insort(_sizes, size)
            _pool[size].append([st["clock"], buf])
            st["held"] += size
            if st["held"] > st["limit"]:
                _evict(st["limit"])
        return buf


def _drop(size: int, victims: list) -> None:
    entries = _pool[size]
    for e in victims:
        entries.remove(e)
        _state["held"] -= size
    if not entries:
        del _pool[size]
        _sizes.remove(size)


def _evict(limit: int) -> None:
    """Drop least recently used buffers until at most ``limit`` bytes are held."""
    st = _state
    order = sorted(((size, e) for size, entries in _pool.items() for e in entries),
                   key=lambda pair: pair[1][0])
    for size, e in order:
        if st["held"] <= limit:
            break
        _drop(size, [e])


def empty_cache() -> None:
    """Release every cached buffer (those still in use are freed when their views go)."""
    with _lock:
        _pool.clear()
        _sizes.clear()
        _state["held"] = 0


def reserved() -> int:
    """Bytes the cache holds, free or in use."""
    return _state["held"]


def in_use() -> int:
    """Bytes of cached buffers that some array still views."""
    with _lock:
        return sum(size for size, entries in _pool.items() for e in entries
                   if _refs(e) != _FREE)


def set_limit(nbytes: int) -> None:
    """Hold at most ``nbytes`` in the cache (0 turns it off); drops buffers past it now."""
    if nbytes < 0:
        raise ValueError(f"set_cache_limit(): expected a non-negative byte count, got {nbytes}")
    with _lock:
        _state["limit"] = int(nbytes)
        _evict(int(nbytes))


def get_limit() -> int:
    return _state["limit"]
