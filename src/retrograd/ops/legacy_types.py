"""PyTorch's legacy tensor types as classes (``torch.FloatTensor`` ...) and the layout and
memory-format constants (``torch.strided``, ``torch.contiguous_format``, ...).

A legacy type constructs as before (``FloatTensor(2, 3)``, ``FloatTensor([1, 2])``), and
``isinstance(t, torch.FloatTensor)`` is true exactly when ``t`` is a CPU tensor of that
dtype, as in PyTorch; ``t.type(torch.FloatTensor)`` converts to it.
"""

from __future__ import annotations

from .. import _dtype as dtypes
from .._tensor import Tensor
from . import conversion, creation
from ._core import register_method

__all__ = ["BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor", "FloatTensor",
           "HalfTensor", "IntTensor", "LongTensor", "ShortTensor", "channels_last",
           "channels_last_3d", "contiguous_format", "layout", "memory_format",
           "preserve_format", "strided"]


class _LegacyMeta(type):
    """The metaclass: construction builds a plain Tensor; isinstance checks the dtype."""

    def __call__(cls, *args, **kwargs):
        return cls._construct(*args, **kwargs)

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and not obj.is_cuda

    def __repr__(cls):
        return f"<class 'torch.{cls.__name__}'>"


def _legacy(name: str, dt) -> type:
    construct = creation._legacy_type(name, dt)
    return _LegacyMeta(name, (), {"dtype": dt, "_construct": staticmethod(construct),
                                  "__doc__": construct.__doc__, "__module__": "retrograd"})


FloatTensor = _legacy("FloatTensor", dtypes.float32)
DoubleTensor = _legacy("DoubleTensor", dtypes.float64)
HalfTensor = _legacy("HalfTensor", dtypes.float16)
LongTensor = _legacy("LongTensor", dtypes.int64)
IntTensor = _legacy("IntTensor", dtypes.int32)
ShortTensor = _legacy("ShortTensor", dtypes.int16)
CharTensor = _legacy("CharTensor", dtypes.int8)
ByteTensor = _legacy("ByteTensor", dtypes.uint8)
BoolTensor = _legacy("BoolTensor", dtypes.bool)


@register_method("type")
def type_(self, dtype=None, non_blocking=False, **kwargs):
    """The legacy type name with no argument; else the tensor converted to ``dtype`` (a
    dtype, a name such as 'torch.FloatTensor', or a legacy type class)."""
    if isinstance(dtype, _LegacyMeta):
        dtype = dtype.dtype
    return conversion.type_(self, dtype, non_blocking, **kwargs)


class _NamedConstant:
    """A module-level constant printed as ``torch.<name>``, pickled by that name."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"torch.{self._name}"

    def __reduce__(self):
        return self._name


class layout(_NamedConstant):
    """A tensor layout; only ``strided`` (dense) tensors exist here."""

    __slots__ = ()


class memory_format(_NamedConstant):
    """A memory format. NumPy arrays here are row-major; the formats are accepted wherever
    PyTorch takes one, and ``contiguous`` / ``clone`` give a row-major result for all."""

    __slots__ = ()


strided = layout("strided")
contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
