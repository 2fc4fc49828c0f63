"""``retrograd.backends.openmp``: whether an OpenMP runtime serves retrograd's CPU threads.

retrograd itself starts no OpenMP threads; its parallel CPU work is NumPy's BLAS, so this
is True when that BLAS (or another loaded pool) runs on OpenMP, as threadpoolctl reports.
Without threadpoolctl nothing can be learnt, and the answer is False.
"""

from __future__ import annotations

from ._blas import threading_layers

__all__ = ["is_available"]


def is_available() -> bool:
    return "openmp" in threading_layers()
