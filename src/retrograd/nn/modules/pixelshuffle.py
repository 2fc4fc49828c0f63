"""PyTorch's module path for ``PixelShuffle``/``PixelUnshuffle``; they live in ``vision``."""

from .vision import PixelShuffle, PixelUnshuffle

__all__ = ["PixelShuffle", "PixelUnshuffle"]
