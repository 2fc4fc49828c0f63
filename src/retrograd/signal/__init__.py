"""``torch.signal``: signal processing; so far its ``windows`` namespace."""

from . import windows

__all__ = ["windows"]
