"""Which array module serves a device: NumPy for "cpu", CuPy for "cuda".

Ops never name ``np`` on a tensor's data path; they ask ``xp(array)`` for the module of
the array in hand, so the same op code runs on both devices.
"""

from __future__ import annotations

import numpy as np

_ndarray = np.ndarray
_cupy = None


def cupy():
    """The CuPy module, imported on first use; a clear error when it is missing."""
    global _cupy
    if _cupy is None:
        try:
            import cupy as cp
        except ImportError as e:  # pragma: no cover - depends on the machine
            raise RuntimeError(
                "CUDA tensors need CuPy: pip install 'retrograd[cuda]' (and a CUDA GPU)"
            ) from e
        _cupy = cp
    return _cupy


def xp(array):
    """The array module (numpy or cupy) that owns ``array``."""
    if type(array) is _ndarray or _cupy is None:
        return np
    return _cupy.get_array_module(array)


def is_cuda_array(array) -> bool:
    return type(array) is not _ndarray and _cupy is not None and isinstance(array, _cupy.ndarray)


def to_numpy(array) -> np.ndarray:
    """A NumPy array with the same values (a copy only for device arrays)."""
    if type(array) is _ndarray:
        return array
    if is_cuda_array(array):
        return array.get()
    return np.asarray(array)
