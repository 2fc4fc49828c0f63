"""``retrograd.backends.mkl``: whether NumPy's BLAS (retrograd's CPU matmuls) is Intel MKL."""

from __future__ import annotations

from ._blas import blas_name

__all__ = ["is_available"]


def is_available() -> bool:
    return "mkl" in blas_name()
