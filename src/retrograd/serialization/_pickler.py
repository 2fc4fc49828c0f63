"""Writing ``torch.save``'s pickle: tensors become rebuild calls over shared storages.

The pure-Python pickler is used because it lets a subclass write ``GLOBAL torch._utils
_rebuild_tensor_v2`` for a name that is not importable here (see :class:`Global`); every other
object pickles as usual, so a whole Module or optimizer saves with its class as a global,
as under PyTorch.
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np

from .. import _dtype as dtypes
from .._device import device as Device
from .._size import Size
from .._tensor import Tensor
from ..backend import to_numpy
from ._torch_names import STORAGE_FOR, UNTYPED_DTYPES, Global, empty_hooks


class StorageRecord:
    """One storage to write: a 1-D array, its key (record name) and PyTorch type name."""

    __slots__ = ("array", "key", "type_name")

    def __init__(self, array: np.ndarray, key: str, type_name: str) -> None:
        self.array, self.key, self.type_name = array, key, type_name

    def persistent_id(self, legacy: bool) -> tuple:
        numel = self.array.nbytes if self.type_name == "UntypedStorage" else self.array.size
        module = "torch.storage" if self.type_name == "UntypedStorage" else "torch"
        pid = ("storage", Global.of(f"{module}.{self.type_name}"), self.key, "cpu", numel)
        return (*pid, None) if legacy else pid


class StorageTable:
    """Groups tensors by the memory they view, so views of one array share one storage."""

    def __init__(self) -> None:
        self.records: list[StorageRecord] = []
        self.by_root: dict[tuple[int, str], StorageRecord] = {}
        self.keep: list[np.ndarray] = []  # roots stay alive so that their ids stay unique

    def place(self, arr: np.ndarray) -> tuple[StorageRecord, int, tuple[int, ...]]:
        """(storage, element offset, element strides) of ``arr``."""
        shared = self._shared(arr)
        if shared is not None:
            return shared
        flat = np.ascontiguousarray(arr).reshape(-1)
        strides = tuple(int(s) // arr.itemsize for s in np.empty(arr.shape, arr.dtype).strides)
        return self._new(flat), 0, strides

    def _shared(self, arr: np.ndarray):
        root = arr
        while isinstance(root.base, np.ndarray):
            root = root.base
        # Share only what PyTorch can express: same element type, native order, element-
        # aligned non-negative strides inside one contiguous block. Anything else is copied.
        if arr.size == 0 or not arr.dtype.isnative or not (
                root.flags.c_contiguous or root.flags.f_contiguous):
            return None
        step = arr.itemsize
        begin = arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]
        if begin % step or root.nbytes % step or any(s < 0 or s % step for s in arr.strides):
            return None
        key = (id(root), arr.dtype.str)
        record = self.by_root.get(key)
        if record is None:
            flat = root.ravel(order="K").view(np.uint8).view(arr.dtype)
            record = self.by_root[key] = self._new(flat)
            self.keep.append(root)
        return record, begin // step, tuple(s // step for s in arr.strides)

    def _new(self, flat: np.ndarray) -> StorageRecord:
        name = flat.dtype.name
        type_name = "UntypedStorage" if name in UNTYPED_DTYPES else STORAGE_FOR[name]
        if type_name == "UntypedStorage":
            flat = flat.view(np.uint8)
        record = StorageRecord(flat, str(len(self.records)), type_name)
        self.records.append(record)
        return record


class _PlainTensor:
    """The tensor inside a saved Parameter (PyTorch saves it with requires_grad=False)."""

    __slots__ = ("tensor",)

    def __init__(self, tensor: Tensor) -> None:
        self.tensor = tensor


class TorchPickler(pickle._Pickler):
    """Protocol-2 pickler writing tensors, dtypes, devices and sizes under torch's names."""

    dispatch = pickle._Pickler.dispatch.copy()

    def __init__(self, file, table: StorageTable, legacy: bool = False) -> None:
        super().__init__(file, protocol=2)
        self.table = table
        self.legacy = legacy

    def persistent_id(self, obj: Any) -> Any:
        if type(obj) is StorageRecord:
            return obj.persistent_id(self.legacy)
        return None

    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        if isinstance(obj, Tensor):
            if kind.__name__ == "Parameter":
                return (Global.of("torch._utils._rebuild_parameter"),
                        (_PlainTensor(obj), obj.requires_grad, empty_hooks()))
            return self._tensor(obj, obj.requires_grad)
        if kind is _PlainTensor:
            return self._tensor(obj.tensor, False)
        if kind is Device:
            return Global.of("torch.device"), (str(obj),)
        if kind is Size:
            return Global.of("torch.Size"), (tuple(obj),)
        return NotImplemented

    def _tensor(self, t: Tensor, requires_grad: bool) -> tuple:
        arr = to_numpy(t._data)
        record, offset, strides = self.table.place(arr)
        args = (record, offset, tuple(arr.shape), strides, requires_grad, empty_hooks())
        if arr.dtype.name in UNTYPED_DTYPES:
            return (Global.of("torch._utils._rebuild_tensor_v3"),
                    (*args, Global.of(f"torch.{arr.dtype.name}")))
        return Global.of("torch._utils._rebuild_tensor_v2"), args

    def save_named_global(self, obj: Global) -> None:
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
        self.memoize(obj)

    def save_dtype(self, obj: dtypes.dtype) -> None:
        self.save(Global.of(f"torch.{obj._name}"))
        self.memoize(obj)

    dispatch[Global] = save_named_global
    dispatch[dtypes.dtype] = save_dtype
