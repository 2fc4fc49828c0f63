"""``retrograd.backends.cudnn``: retrograd never calls cuDNN (its CUDA convolutions are
CuPy matmuls), so ``is_available()`` is False and ``version()`` None; the flags are kept,
checked and restored as in PyTorch, and have no effect."""

from __future__ import annotations

from typing import Any

from ._flags import install, set_flags

__all__ = ["flags", "is_acceptable", "is_available", "version"]


def is_available() -> bool:
    """False: retrograd has no cuDNN kernels."""
    return False


def version() -> int | None:
    """None: no cuDNN library is used."""
    return None


def is_acceptable(tensor: Any) -> bool:
    """Whether cuDNN would take this tensor: never, as no cuDNN is used."""
    return False


def flags(enabled: bool = False, benchmark: bool = False, benchmark_limit: int = 10,
          deterministic: bool = False, allow_tf32: bool = True):
    """Context manager setting the cuDNN flags inside the block (PyTorch's defaults)."""
    import sys

    return set_flags(sys.modules[__name__], {
        "enabled": enabled, "benchmark": benchmark, "benchmark_limit": benchmark_limit,
        "deterministic": deterministic, "allow_tf32": allow_tf32})


install(__name__, {
    "enabled": (True, "set_enabled_cudnn"),
    "benchmark": (False, "set_benchmark_cudnn"),
    "deterministic": (False, "set_deterministic_cudnn"),
    "allow_tf32": (True, "set_allow_tf32_cudnn"),
    "benchmark_limit": (None, None),
})
