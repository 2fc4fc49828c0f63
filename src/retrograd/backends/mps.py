"""``retrograd.backends.mps``: retrograd has no Metal (Apple GPU) backend."""

from __future__ import annotations

__all__ = ["is_available", "is_built", "is_macos_or_newer"]


def is_built() -> bool:
    """False: retrograd has no MPS backend."""
    return False


def is_available() -> bool:
    """False: retrograd has no MPS backend."""
    return False


def is_macos_or_newer(major: int, minor: int) -> bool:
    raise RuntimeError("Cannot execute isOnMacOSorNewer() without MPS backend.")
