"""``retrograd.backends.cuda``: the CUDA backend's switches.

``is_built()`` says whether retrograd's CUDA backend can be used at all (CuPy is
installed). ``matmul.allow_tf32`` is tied to ``retrograd.set_float32_matmul_precision``
as in PyTorch (True means "high"); CuPy's float32 matmuls run in full float32 precision
whatever it says, which every setting permits. The scaled-dot-product-attention switches
are kept and reported; retrograd has a single (math) attention kernel.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from .. import _runtime

__all__ = ["cudnn_sdp_enabled", "enable_cudnn_sdp", "enable_flash_sdp",
           "enable_math_sdp", "enable_mem_efficient_sdp", "flash_sdp_enabled", "is_built",
           "is_flash_attention_available", "math_sdp_enabled", "matmul",
           "mem_efficient_sdp_enabled"]


def is_built() -> bool:
    """Whether retrograd's CUDA backend is installed (CuPy importable)."""
    return importlib.util.find_spec("cupy") is not None


class _CuBLASFlags:
    """``matmul``: cuBLAS switches.  Unknown names raise, as in PyTorch."""

    _names = ("allow_tf32", "allow_fp16_reduced_precision_reduction",
              "allow_bf16_reduced_precision_reduction")

    def __init__(self) -> None:
        object.__setattr__(self, "_reduced", {"allow_fp16_reduced_precision_reduction": True,
                                               "allow_bf16_reduced_precision_reduction": True})

    def __getattr__(self, name: str) -> Any:
        if name == "allow_tf32":
            return _runtime.get_float32_matmul_precision() != "highest"
        if name in self._reduced:
            return self._reduced[name]
        raise AttributeError(f"Unknown attribute {name}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "allow_tf32":
            _runtime.set_float32_matmul_precision("high" if value else "highest")
        elif name in self._reduced:
            self._reduced[name] = bool(value)
        else:
            raise AttributeError(f"Unknown attribute {name}")


matmul = _CuBLASFlags()

_sdp = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def _sdp_switch(kind: str):
    def enable(enabled: bool) -> None:
        _sdp[kind] = bool(enabled)

    def enabled() -> bool:
        return _sdp[kind]

    enable.__name__, enabled.__name__ = f"enable_{kind}_sdp", f"{kind}_sdp_enabled"
    enable.__doc__ = f"Allow (or forbid) the {kind} attention kernel; recorded only."
    enabled.__doc__ = f"Whether the {kind} attention kernel is allowed."
    return enable, enabled


enable_flash_sdp, flash_sdp_enabled = _sdp_switch("flash")
enable_mem_efficient_sdp, mem_efficient_sdp_enabled = _sdp_switch("mem_efficient")
enable_math_sdp, math_sdp_enabled = _sdp_switch("math")
enable_cudnn_sdp, cudnn_sdp_enabled = _sdp_switch("cudnn")


def is_flash_attention_available() -> bool:
    """False: retrograd has no flash-attention kernel."""
    return False
