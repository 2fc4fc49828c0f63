"""The names PyTorch's checkpoints use, and what each one means here.

A ``torch.save`` pickle refers to tensors through a handful of globals, seen by opening
such files (``unzip`` and ``python -m pickletools``):

* ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)``
  builds a tensor viewing ``storage``; ``_rebuild_tensor_v3`` adds the dtype as a 7th
  argument (for storages saved untyped: uint16/32/64); ``_rebuild_parameter(tensor,
  requires_grad, hooks)`` wraps a tensor as a Parameter.
* ``torch.FloatStorage`` and its siblings name a storage's element type inside the
  persistent id ``('storage', type, key, location, numel)``; the bytes live elsewhere (a zip
  record ``data/<key>``, or after the pickles in the legacy format).
* ``torch.float32`` and friends are dtypes; ``torch.device``, ``torch.Size`` what they say.

This module maps those names to retrograd's objects, in both directions.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np

from .. import _dtype as dtypes
from .._device import device as Device
from .._size import Size
from .._tensor import Tensor, wrap
from ..nn import Parameter
from ._common import MAX_NBYTES, InvalidFileError, check_shape

# storage class name -> NumPy element type ("UntypedStorage" holds bytes).
STORAGE_DTYPES = {
    "FloatStorage": "<f4", "DoubleStorage": "<f8", "HalfStorage": "<f2",
    "BFloat16Storage": "<u2", "LongStorage": "<i8", "IntStorage": "<i4",
    "ShortStorage": "<i2", "CharStorage": "i1", "ByteStorage": "u1", "BoolStorage": "?",
    "ComplexFloatStorage": "<c8", "ComplexDoubleStorage": "<c16", "UntypedStorage": "u1",
}
STORAGE_FOR = {np.dtype(v).name: k for k, v in STORAGE_DTYPES.items()
               if k not in ("BFloat16Storage", "UntypedStorage")}
# Saved as UntypedStorage plus the dtype, as PyTorch does for its newer integer types.
UNTYPED_DTYPES = ("uint16", "uint32", "uint64")
_UNSUPPORTED_DTYPES = ("complex32", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2",
                       "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2", "bits8",
                       "bits16", "bits1x8", "bits2x4", "bits4x2", "int1", "int2", "int3",
                       "int4", "int5", "int6", "int7", "quint8", "qint8", "qint32",
                       "quint4x2", "quint2x4")
_UNSUPPORTED_REBUILDERS = {
    "_rebuild_qtensor": "quantized tensors", "_rebuild_sparse_tensor": "sparse tensors",
    "_rebuild_nested_tensor": "nested tensors",
    "_rebuild_meta_tensor_no_storage": "meta tensors without storage",
    "_rebuild_wrapper_subclass": "tensor subclasses",
    "_rebuild_device_tensor_from_numpy": "tensors saved through NumPy for another device",
    "_rebuild_device_tensor_from_cpu_tensor": "tensors saved for another device",
}


class StorageType:
    """The object behind a ``torch.FloatStorage``-style global: a storage's element type."""

    __slots__ = ("name", "np")

    def __init__(self, name: str) -> None:
        self.name = name
        self.np = np.dtype(STORAGE_DTYPES[name])

    def __repr__(self) -> str:
        return f"torch.{self.name}"


class Storage:
    """Loaded storage: a 1-D array every tensor of the file that used it views."""

    __slots__ = ("array", "bfloat16", "typed_views")

    def __init__(self, array: np.ndarray, bfloat16: bool = False) -> None:
        self.array = array
        self.bfloat16 = bfloat16
        self.typed_views: dict[np.dtype, np.ndarray] = {}

    def as_dtype(self, np_dtype: np.dtype | None) -> np.ndarray:
        """The storage's elements, reinterpreting untyped bytes as ``np_dtype`` if given."""
        if self.bfloat16:  # the top half of float32, widened once for every viewer
            if "f" not in self.typed_views:
                self.typed_views["f"] = np.empty(self.array.shape, np.float32)
                self.refresh()
            return self.typed_views["f"]
        if np_dtype is None or np_dtype == self.array.dtype:
            return self.array
        view = self.typed_views.get(np_dtype)
        if view is None:
            if self.array.dtype != np.uint8 or self.array.size % np_dtype.itemsize:
                raise InvalidFileError(f"a {self.array.dtype} storage of {self.array.size} "
                                       f"elements can't be read as {np_dtype}")
            view = self.typed_views[np_dtype] = self.array.view(np_dtype)
        return view


    def refresh(self) -> None:
        """Widen bfloat16 bits again after ``array`` was filled (legacy files fill late)."""
        wide = self.typed_views.get("f")
        if wide is not None:
            wide.view(np.uint32)[:] = self.array.astype(np.uint32) << 16


def _strided(storage: Any, offset: Any, size: Any, stride: Any,
             np_dtype: np.dtype | None) -> np.ndarray:
    """A view of the storage, every number checked against its bounds first."""
    if not isinstance(storage, Storage):
        raise InvalidFileError(f"a tensor's storage is a {type(storage).__name__}")
    flat = storage.as_dtype(np_dtype)
    size = check_shape(size, flat.itemsize, "a tensor", "")
    if not (isinstance(stride, (tuple, list)) and len(stride) == len(size)
            and all(type(s) is int and 0 <= s <= MAX_NBYTES // flat.itemsize for s in stride)):
        raise InvalidFileError(f"a tensor of size {list(size)} has bad strides {stride!r}")
    if type(offset) is not int or offset < 0:
        raise InvalidFileError(f"a tensor has a bad storage offset {offset!r}")
    if 0 in size:  # nothing to read; keep the file's strides (NumPy would zero them)
        return np.lib.stride_tricks.as_strided(np.empty(0, flat.dtype), size,
                                               [s * flat.itemsize for s in stride])
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= flat.size:
        raise InvalidFileError(f"a tensor of size {list(size)}, stride {list(stride)} at "
                               f"offset {offset} reaches element {last} of a storage of "
                               f"{flat.size}")
    step = flat.itemsize
    return np.ndarray(size, dtype=flat.dtype, buffer=flat, offset=offset * step,
                      strides=[s * step for s in stride])


def _leaf(arr: np.ndarray, requires_grad: Any) -> Tensor:
    if type(requires_grad) is not bool:
        raise InvalidFileError(f"requires_grad must be a bool, got {requires_grad!r}")
    t = wrap(arr)
    if requires_grad:
        if arr.dtype.kind not in "fc":
            raise InvalidFileError(f"a {arr.dtype} tensor is marked requires_grad, but only "
                                   "floating point and complex tensors can require gradients")
        t.requires_grad_(True)
    return t


def rebuild_tensor(storage, offset, size, stride, requires_grad=False, hooks=None,
                   metadata=None) -> Tensor:
    """``_rebuild_tensor_v2`` (and the older 4-argument ``_rebuild_tensor``)."""
    return _leaf(_strided(storage, offset, size, stride, None), requires_grad)


def rebuild_tensor_typed(storage, offset, size, stride, requires_grad, hooks, dtype,
                         metadata=None) -> Tensor:
    """``_rebuild_tensor_v3``: an untyped storage read as ``dtype``."""
    if not isinstance(dtype, dtypes.dtype):
        raise InvalidFileError(f"_rebuild_tensor_v3 expects a dtype, got {dtype!r}")
    return _leaf(_strided(storage, offset, size, stride, dtype.numpy), requires_grad)


def rebuild_parameter(data, requires_grad, hooks=None, state=None):
    """``_rebuild_parameter`` and ``_rebuild_parameter_with_state``."""
    if not isinstance(data, Tensor) or type(requires_grad) is not bool:
        raise InvalidFileError("a Parameter must be rebuilt from a tensor and a bool")
    if requires_grad and data.dtype.category < dtypes.FLOAT:
        raise InvalidFileError(f"a {data.dtype} Parameter can't require gradients")
    return Parameter(data, requires_grad=requires_grad)


def rebuild_from_type(func, new_type, args, state):
    """``torch._tensor._rebuild_from_type_v2``: a tensor rebuilt then given its class."""
    if not callable(func) or not isinstance(args, tuple):
        raise InvalidFileError("_rebuild_from_type_v2 expects (function, type, args, state)")
    out = func(*args)
    if not isinstance(out, Tensor) or new_type not in (TENSOR_TYPE, Parameter):
        raise InvalidFileError(f"tensor subclass {new_type!r} is not supported")
    if new_type is Parameter and not isinstance(out, Parameter):
        out = Parameter(out, requires_grad=out.requires_grad)
    if state:
        raise InvalidFileError("tensors with extra Python state are not supported")
    return out


# ``torch.Tensor`` in a checkpoint only names a class for _rebuild_from_type_v2; a marker, not
# the class, so that a pickle can't call the legacy constructor (``Tensor(10**12)``).
TENSOR_TYPE = type("TensorType", (), {"__repr__": lambda self: "torch.Tensor"})()


def _device(spec: Any, index: Any = None) -> Device:
    if not isinstance(spec, str) or not (index is None or (type(index) is int and index >= 0)):
        raise InvalidFileError(f"bad device ({spec!r}, {index!r})")
    out = Device(spec, index) if index is not None else Device(spec)
    if out.index is not None and out.index < 0:
        raise InvalidFileError(f"bad device {spec!r}: its index is negative")
    return out


def _size(dims: Any = ()) -> Size:
    if not isinstance(dims, (tuple, list)) or not all(type(d) is int for d in dims):
        raise InvalidFileError(f"torch.Size expects a tuple of ints, got {dims!r}")
    return Size(dims)


def torch_globals() -> dict[str, Any]:
    """Every ``torch.*`` name a weights-only load accepts, mapped to retrograd's object.

    Names of PyTorch features retrograd lacks map to an InvalidFileError saying so."""
    table: dict[str, Any] = {
        "torch._utils._rebuild_tensor": rebuild_tensor,
        "torch._utils._rebuild_tensor_v2": rebuild_tensor,
        "torch._utils._rebuild_tensor_v3": rebuild_tensor_typed,
        "torch._utils._rebuild_parameter": rebuild_parameter,
        "torch._utils._rebuild_parameter_with_state": rebuild_parameter,
        "torch._tensor._rebuild_from_type_v2": rebuild_from_type,
        "torch.nn.parameter.Parameter": Parameter, "torch.Tensor": TENSOR_TYPE,
        "torch.device": _device, "torch.Size": _size,
    }
    for name in STORAGE_DTYPES:
        table[f"torch.{name}"] = StorageType(name)
    table["torch.storage.UntypedStorage"] = table["torch.UntypedStorage"]
    for name in dtypes.__all__:
        value = getattr(dtypes, name)
        if isinstance(value, dtypes.dtype):
            table[f"torch.{name}"] = value
    for name in _UNSUPPORTED_DTYPES:
        table[f"torch.{name}"] = InvalidFileError(f"unsupported dtype torch.{name}")
    for name, what in _UNSUPPORTED_REBUILDERS.items():
        table[f"torch._utils.{name}"] = InvalidFileError(f"{what} are not supported")
    return table


class Global:
    """A name written into a pickle as ``GLOBAL module name`` without importing it."""

    __slots__ = ("module", "name")
    _cache: dict[str, Global] = {}

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    def __call__(self, *args: Any) -> Any:
        # Only callable so that the pickler accepts it as a reduce function; never called.
        raise TypeError(f"{self.module}.{self.name} is a name written into checkpoints")

    @classmethod
    def of(cls, full: str) -> Global:
        """One instance per name, so the pickler's memo writes each GLOBAL once."""
        found = cls._cache.get(full)
        if found is None:
            module, _, name = full.rpartition(".")
            found = cls._cache[full] = cls(module, name)
        return found


def empty_hooks() -> OrderedDict:
    return OrderedDict()
