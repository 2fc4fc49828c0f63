"""A NumPy array's dtype and shape, as the hot path reads them.

The compiled form reads them from the array's C struct (``_arrays.pxd``, cimported by the
hot modules' own .pxd files); these are the same functions for the pure form, which calls
them only where it reads the attributes anyway.
"""

from __future__ import annotations

__all__ = ["dtype_of", "is_float", "same_meta"]


def dtype_of(a):
    return a.dtype


def is_float(dt) -> bool:
    """Floating or complex: kind "f" or "c"."""
    return dt.kind in "fc"


def same_meta(a, shape, dt) -> bool:
    """``a.shape == shape and a.dtype is dt``."""
    return a.shape == shape and a.dtype is dt
