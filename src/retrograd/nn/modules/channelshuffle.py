"""PyTorch's module path for ``ChannelShuffle``; it lives in ``vision``."""

from .vision import ChannelShuffle

__all__ = ["ChannelShuffle"]
