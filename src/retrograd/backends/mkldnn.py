"""``retrograd.backends.mkldnn``: retrograd does not use oneDNN (mkldnn), so
``is_available()`` is False; ``enabled`` and ``deterministic`` are kept and have no effect."""

from __future__ import annotations

import sys

from ._flags import install, set_flags

__all__ = ["flags", "is_available"]


def is_available() -> bool:
    """False: retrograd's CPU kernels are NumPy's, not oneDNN's."""
    return False


def flags(enabled: bool = False, deterministic: bool = False, allow_tf32: bool = True):
    """Context manager setting the oneDNN flags inside the block."""
    return set_flags(sys.modules[__name__], {"enabled": enabled, "deterministic": deterministic,
                                             "allow_tf32": allow_tf32})


install(__name__, {
    "enabled": (True, "set_enabled_mkldnn"),
    "deterministic": (False, "set_deterministic_mkldnn"),
    "allow_tf32": (False, "set_allow_tf32_mkldnn"),
})
