"""Dtype and device conversion: ``to``, ``float``, ``double``, ``type``, ``cpu``, ``cuda``."""

from __future__ import annotations

from .. import _dtype as dtypes
from .._device import device as Device
from .._device import placement
from .._tensor import Tensor
from ..backend import cupy, is_cuda_array, to_numpy
from ._core import Primitive, register_method

__all__ = ["to"]


class ToCopy(Primitive):
    """x converted to another dtype and/or device.  d/dx = grad converted back."""

    __slots__ = ("src_cuda", "src_dtype")
    formula = "grad.to(x.dtype, x.device)"

    def forward(ctx, x, dtype=None, cuda=None):
        ctx.src_dtype = x.dtype
        ctx.src_cuda = is_cuda_array(x)
        if cuda is not None and cuda != ctx.src_cuda:
            x = cupy().asarray(x) if cuda else to_numpy(x)
            if dtype is None:
                return x
        if dtype is None:
            return x.copy()
        return x.astype(dtype)

    def backward(ctx, grad):
        return ToCopy.generic(grad, dtype=ctx.src_dtype, cuda=ctx.src_cuda)

    def jvp(ctx, tx):
        return ToCopy.generic(tx, dtype=ctx._out_meta[0][1])


_TYPE_NAMES = {
    "torch.FloatTensor": dtypes.float32, "torch.DoubleTensor": dtypes.float64,
    "torch.HalfTensor": dtypes.float16, "torch.LongTensor": dtypes.int64,
    "torch.IntTensor": dtypes.int32, "torch.ShortTensor": dtypes.int16,
    "torch.CharTensor": dtypes.int8, "torch.ByteTensor": dtypes.uint8,
    "torch.BoolTensor": dtypes.bool,
}
_LEGACY = {v: k for k, v in _TYPE_NAMES.items()}


def _parse_to(args, kwargs):
    dtype = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    for a in args:
        if isinstance(a, Tensor):
            dtype, dev = a.dtype, a.device
        elif isinstance(a, (str, Device)) and not (isinstance(a, str) and a.startswith("torch.")):
            dev = a
        elif isinstance(a, int) and not isinstance(a, bool):
            dev = Device(a)  # an accelerator index, as in PyTorch (refused without one)
        elif isinstance(a, (list, tuple, dict)):
            raise TypeError(f"to() received an invalid combination of arguments - got "
                            f"({type(a).__name__}): expected a dtype, a device or a Tensor")
        elif a is not None and not isinstance(a, bool):
            dtype = a
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {list(kwargs)}")
    return (None if dtype is None else dtypes.to_dtype(dtype)), \
        (None if dev is None else Device(dev)), copy


def to(self, *args, **kwargs):
    """A tensor with the given dtype and/or device; ``self`` when nothing changes."""
    dtype, dev, copy = _parse_to(args, dict(kwargs))
    cuda = None if dev is None else placement(dev) == "cuda"
    same_dtype = dtype is None or dtype._np == self._data.dtype
    same_dev = cuda is None or cuda == is_cuda_array(self._data)
    if same_dtype and same_dev and not copy:
        return self
    return ToCopy.apply(self, dtype=None if dtype is None else dtype._np, cuda=cuda)


def type_(self, dtype=None, non_blocking=False, **kwargs):
    """With no argument, the legacy type name ('torch.FloatTensor'); else ``to(dtype)``."""
    if dtype is None:
        name = _LEGACY.get(self.dtype, "torch.Tensor")
        if self.is_cuda:
            name = name.replace("torch.", "torch.cuda.")
        return name
    if isinstance(dtype, str) and dtype in _TYPE_NAMES:
        dtype = _TYPE_NAMES[dtype]
    return to(self, dtypes.to_dtype(dtype))


def view_dtype(self, dtype):
    """Reinterpret the bytes as another dtype of the same size (not differentiable)."""
    from .._tensor import wrap

    d = dtypes.to_dtype(dtype)
    out = wrap(self._data.view(d._np))
    out._vc = self._vc
    out._base = self._base if self._base is not None else self
    return out


def _cast(name: str, d) -> None:
    """Install the Tensor method ``name`` (``x.float()``...): ``to`` that dtype."""
    def cast(self, memory_format=None):
        return to(self, d)

    cast.__name__ = cast.__qualname__ = name
    cast.__doc__ = f"``self.to({d})``."
    register_method(name)(cast)


_cast("float", dtypes.float32)
_cast("double", dtypes.float64)
_cast("half", dtypes.float16)
_cast("bfloat16", dtypes.float32)  # no bfloat16 in NumPy: the nearest wider float
_cast("long", dtypes.int64)
_cast("int", dtypes.int32)
_cast("short", dtypes.int16)
_cast("char", dtypes.int8)
_cast("byte", dtypes.uint8)
_cast("bool", dtypes.bool)
_cast("cfloat", dtypes.complex64)
_cast("cdouble", dtypes.complex128)
register_method("to")(to)
register_method("type")(type_)
register_method("type_as")(lambda self, other: to(self, other.dtype))
register_method("cpu")(lambda self, memory_format=None: to(self, "cpu"))
register_method("cuda")(lambda self, device=None, non_blocking=False, memory_format=None:
                        to(self, "cuda" if device is None else Device(
                            device if not isinstance(device, int) else f"cuda:{device}")))
