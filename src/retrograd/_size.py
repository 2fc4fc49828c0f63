"""``Size``: the shape of a tensor, a tuple that prints as ``torch.Size([2, 3])``."""

from __future__ import annotations


class Size(tuple):
    """A tuple of ints describing a tensor's shape."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"torch.Size([{', '.join(str(d) for d in self)}])"

    __str__ = __repr__

    def numel(self) -> int:
        n = 1
        for d in self:
            n *= d
        return n

    def __getitem__(self, item):  # type: ignore[override]
        out = tuple.__getitem__(self, item)
        return Size(out) if isinstance(item, slice) else out

    def __add__(self, other):  # type: ignore[override]
        return Size(tuple.__add__(self, tuple(other)))
