"""``retrograd.__config__.show()``: how this retrograd was built, as PyTorch's
``torch.__config__.show()`` (a string); ``retrograd.show_config()`` prints it."""

from __future__ import annotations

import sys

from . import _compiled

__all__ = ["compiled", "show"]


def compiled() -> bool:
    """Whether the hot path (graph recording, ``apply``, the engine loop) runs compiled."""
    return _compiled.compiled()


def show() -> str:
    """A human-readable summary: Python, NumPy, and the form of each hot-path module."""
    import numpy as np

    form = "compiled (C extensions built by Cython)" if compiled() else "pure Python"
    lines = ["retrograd built with:",
             f"  - Python {sys.version.split()[0]}, NumPy {np.__version__}",
             f"  - hot path: {form}"]
    for name, (loaded, why) in _compiled.status().items():
        lines.append(f"    - {name}: {loaded} ({why})")
    return "\n".join(lines) + "\n"
