"""``retrograd.cpu``: the CPU device, and its workspace cache.

PyTorch's device modules (``torch.cuda``, ``torch.mps``, ``torch.xpu``) spell the cache calls
``empty_cache()`` and ``memory_reserved()``; retrograd's CPU kernels keep large scratch
arrays in a bounded cache (see ``retrograd.ops._workspace``), so these have work to do here.

>>> import retrograd as torch
>>> torch.cpu.empty_cache()
>>> torch.cpu.memory_reserved()
0
"""

from __future__ import annotations

from .ops import _workspace

__all__ = ["current_device", "device_count", "empty_cache", "get_cache_limit",
           "is_available", "memory_reserved", "set_cache_limit", "synchronize"]


def empty_cache() -> None:
    """Release the cached kernel workspaces (im2col columns, accumulators, activations)
    to the allocator. Buffers a tensor still uses are freed when that tensor goes."""
    _workspace.empty_cache()


def memory_reserved(device=None) -> int:
    """Bytes held by the workspace cache, in use or free."""
    return _workspace.reserved()


def set_cache_limit(nbytes: int) -> None:
    """Cap the workspace cache at ``nbytes`` (default 256 MiB, or the environment variable
    ``RETROGRAD_CACHE_LIMIT``); 0 turns caching off."""
    _workspace.set_limit(nbytes)


def get_cache_limit() -> int:
    """The workspace cache's cap in bytes."""
    return _workspace.get_limit()


def is_available() -> bool:
    return True


def device_count() -> int:
    return 1


def current_device() -> str:
    return "cpu"


def synchronize(device=None) -> None:
    """CPU kernels run synchronously: nothing to wait for."""
