"""What NumPy's BLAS is: its name from NumPy's build configuration, its threading layer from
threadpoolctl when that is installed."""

from __future__ import annotations

import functools


@functools.cache
def blas_name() -> str:
    """NumPy's BLAS as NumPy's build reports it ('scipy-openblas', 'mkl-sdl', ...)."""
    import numpy as np

    try:
        config = np.show_config(mode="dicts")
        return str(config["Build Dependencies"]["blas"]["name"]).lower()
    except Exception:  # an older NumPy without mode="dicts": unknown
        return ""


def threading_layers() -> set[str]:
    """The threading layers of the loaded thread pools ('openmp', 'pthreads', ...)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return set()
    layers = set()
    for lib in threadpool_info():
        layers.add(lib.get("user_api") if lib.get("user_api") == "openmp"
                   else lib.get("threading_layer", ""))
    return layers
