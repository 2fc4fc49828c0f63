"""``save`` and ``load`` without pickle: nothing in a file is ever executed.

Files are `safetensors <https://github.com/huggingface/safetensors>`_, written with NumPy and
``json`` only::

    8 bytes    little-endian u64: N, the header's length
    N bytes    JSON header: {"__metadata__": {str: str}, name: {"dtype", "shape",
               "data_offsets": [begin, end]}, ...}, space-padded to a multiple of 8
    the rest   the tensors' bytes, little-endian, C order, back to back

The Python structure around the tensors (dicts with any keys, lists, tuples, OrderedDicts,
Counters, numbers, strings, bools, None, dtypes: a model's, an optimizer's or a scheduler's
``state_dict``) is kept as JSON in ``__metadata__["retrograd"]``, where a tensor appears as a
reference to its entry.
A flat ``{str: Tensor}`` dict (a ``state_dict``) stores each tensor under its own key, so
``safetensors.torch.load_file`` reads it as PyTorch's state dict, and a file written by
``safetensors`` (which has no structure entry) loads as a ``{name: Tensor}`` dict.

``load`` reads and checks the whole file before it builds anything, so a bad file raises
(``ValueError`` naming the problem) and never yields partial state.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections import Counter, OrderedDict
from typing import Any

import numpy as np

from . import _dtype as dtypes
from ._device import device as Device
from ._tensor import Tensor, wrap
from .backend import to_numpy

__all__ = ["load", "save"]

_FORMAT_KEY = "retrograd"
_FORMAT_VERSION = 1
# safetensors refuses headers above 100 MB; so do we (a huge length is a corrupt file).
_MAX_HEADER = 100 * 1024 * 1024

_TO_ST = {"float64": "F64", "float32": "F32", "float16": "F16", "int64": "I64",
          "int32": "I32", "int16": "I16", "int8": "I8", "uint8": "U8", "bool": "BOOL",
          "complex64": "C64"}
_FROM_ST = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4",
            "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?", "C64": "<c8",
            "BF16": "<u2", "U16": "<u2", "U32": "<u4", "U64": "<u8"}


class _Writer:
    """Flattens an object into (structure as JSON-able data, named arrays)."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.by_id: dict[int, str] = {}
        self.complex128: dict[str, bool] = {}
        self.keep: list = []  # keeps saved objects alive so that id() stays unique

    def name_for(self, path: str) -> str:
        name = path or "tensor"
        i = 1
        while name in self.arrays or name == "__metadata__":
            name = f"{path}.{i}"
            i += 1
        return name

    def tensor(self, t: Tensor, path: str) -> dict:
        entry: dict[str, Any] = {}
        if t._requires_grad:
            entry["requires_grad"] = True
        if type(t).__name__ == "Parameter":
            entry["parameter"] = True
        name = self.by_id.get(id(t))
        if name is None:
            arr = to_numpy(t._data)
            if not arr.flags.c_contiguous:
                arr = arr.copy(order="C")
            is_c128 = arr.dtype == np.complex128
            if is_c128:  # no C128 in safetensors: store (re, im) pairs as float64
                arr = arr.view(np.float64).reshape(*arr.shape, 2)
            name = self.name_for(path)
            self.arrays[name] = arr
            self.by_id[id(t)] = name
            self.complex128[name] = is_c128
        if self.complex128[name]:
            entry["complex128"] = True
        entry["__tensor__"] = name
        return entry

    def encode(self, obj: Any, path: str) -> Any:
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"__float__": repr(obj)}
        if isinstance(obj, Tensor):
            return self.tensor(obj, path)
        if isinstance(obj, np.ndarray):
            t = wrap(obj)
            self.keep.append(t)
            return {"__ndarray__": self.tensor(t, path)["__tensor__"]}
        if isinstance(obj, np.generic):
            return self.encode(obj.item(), path)
        if isinstance(obj, complex):
            return {"__complex__": [obj.real, obj.imag]}
        if isinstance(obj, dtypes.dtype):
            return {"__dtype__": obj._name}
        if isinstance(obj, Device):
            return {"__device__": str(obj)}
        if isinstance(obj, dict):
            items = [[self.encode(k, ""), self.encode(v, _join(path, k))]
                     for k, v in obj.items()]
            tag = ("__odict__" if isinstance(obj, OrderedDict)
                   else "__counter__" if isinstance(obj, Counter) else "__dict__")
            return {tag: items}
        if isinstance(obj, list):
            return {"__list__": [self.encode(v, _join(path, i)) for i, v in enumerate(obj)]}
        if isinstance(obj, tuple):
            return {"__tuple__": [self.encode(v, _join(path, i)) for i, v in enumerate(obj)]}
        raise TypeError(
            f"retrograd.save can't save an object of type {type(obj).__name__}: only tensors, "
            "NumPy arrays, numbers, strings, bools, None, dtypes and dicts/lists/tuples of "
            "them are saved (no pickle). Save a module's or an optimizer's state_dict()."
        )


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def save(obj: Any, f, _use_new_zipfile_serialization: bool = True, **kwargs: Any) -> None:
    """Save ``obj`` (tensors in dicts/lists/tuples, numbers, strings...) to ``f``.

    Args:
        obj: the object to save, typically ``model.state_dict()`` or ``optimizer.state_dict()``.
        f: a path (written atomically through a temporary file) or a binary file object.

    Raises:
        TypeError: for objects other than the ones above (nothing is pickled).
    """
    writer = _Writer()
    structure = writer.encode(obj, "")
    header: dict[str, Any] = {"__metadata__": {
        "format": "pt",
        _FORMAT_KEY: json.dumps({"version": _FORMAT_VERSION, "object": structure},
                                separators=(",", ":")),
    }}
    offset = 0
    for name, arr in writer.arrays.items():
        st = _TO_ST.get(arr.dtype.name)
        if st is None:  # pragma: no cover - every retrograd dtype has an entry
            raise TypeError(f"retrograd.save: unsupported dtype {arr.dtype}")
        header[name] = {"dtype": st, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    chunks = [struct.pack("<Q", len(text)), text]
    for arr in writer.arrays.values():
        le = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
        chunks.append(le.tobytes())
    if hasattr(f, "write"):
        for chunk in chunks:
            f.write(chunk)
        return
    path = os.fspath(f)
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _bad(msg: str) -> ValueError:
    return ValueError(f"retrograd.load: invalid file: {msg}")


def _parse(blob: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Check the safetensors layout; return (metadata, arrays), arrays in offset order."""
    if len(blob) < 8:
        raise _bad(f"{len(blob)} bytes is too short for the 8-byte header length")
    (n,) = struct.unpack("<Q", blob[:8])
    if 8 + n > len(blob) and (blob[:4] == b"PK\x03\x04" or blob[:1] == b"\x80"):
        raise _bad("this looks like a torch.save (zip/pickle) checkpoint; retrograd never "
                   "unpickles. Convert it with safetensors.torch.save_file(torch.load(...), "
                   "path) and load that file")
    if n > _MAX_HEADER:
        raise _bad(f"header length {n} is larger than the limit of {_MAX_HEADER} bytes")
    if 8 + n > len(blob):
        raise _bad(f"header length {n} runs past the end of the file ({len(blob)} bytes): "
                   "truncated?")
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise _bad(f"header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise _bad("header JSON is not an object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise _bad("__metadata__ must map strings to strings")
    data = memoryview(blob)[8 + n:]
    entries = []
    for name, info in header.items():
        if not isinstance(info, dict):
            raise _bad(f"entry {name!r} is not an object")
        dt, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if dt not in _FROM_ST:
            raise _bad(f"entry {name!r} has unsupported dtype {dt!r}")
        if not (isinstance(shape, list) and all(type(s) is int and s >= 0 for s in shape)):
            raise _bad(f"entry {name!r} has a bad shape {shape!r}")
        if not (isinstance(offsets, list) and len(offsets) == 2
                and all(type(o) is int for o in offsets) and 0 <= offsets[0] <= offsets[1]):
            raise _bad(f"entry {name!r} has bad data_offsets {offsets!r}")
        np_dtype = np.dtype(_FROM_ST[dt])
        nbytes = math.prod(shape) * np_dtype.itemsize
        if offsets[1] - offsets[0] != nbytes:
            raise _bad(f"entry {name!r}: data_offsets {offsets} span {offsets[1] - offsets[0]} "
                       f"bytes but {dt} of shape {shape} needs {nbytes}")
        entries.append((offsets[0], offsets[1], name, np_dtype, shape, dt))
    entries.sort(key=lambda e: (e[0], e[1]))
    end = 0
    for begin, stop, name, *_ in entries:
        if begin != end:
            raise _bad(f"entry {name!r} starts at byte {begin}, expected {end} "
                       "(overlapping or missing data)")
        end = stop
    if end != len(data):
        raise _bad(f"the tensors need {end} data bytes but the file has {len(data)}"
                   + (": truncated?" if end > len(data) else ""))
    arrays = {}
    for begin, stop, name, np_dtype, shape, dt in entries:
        arr = np.frombuffer(data[begin:stop], dtype=np_dtype).reshape(shape)
        if dt == "BF16":  # bfloat16 is the top half of a float32
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        arrays[name] = arr.astype(arr.dtype.newbyteorder("="), copy=True)
    return metadata, arrays


class _Reader:
    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.arrays = arrays
        self.tensors: dict[str, Tensor] = {}

    def tensor(self, name: Any, entry: dict) -> Tensor:
        if not isinstance(name, str) or name not in self.arrays:
            raise _bad(f"structure refers to a missing tensor {name!r}")
        key = (name, bool(entry.get("requires_grad")), bool(entry.get("parameter")))
        if key in self.tensors:  # shared tensors stay shared
            return self.tensors[key]
        arr = self.arrays[name]
        if entry.get("complex128"):
            if arr.dtype != np.float64 or arr.shape[-1:] != (2,):
                raise _bad(f"tensor {name!r} marked complex128 is not (..., 2) float64")
            arr = np.ascontiguousarray(arr).view(np.complex128)[..., 0]
        t = wrap(arr)
        if entry.get("parameter"):
            try:
                from .nn import Parameter
            except ImportError:  # pragma: no cover - nn is part of the package
                Parameter = None
            if Parameter is not None:
                t = Parameter(t, requires_grad=bool(entry.get("requires_grad")))
        elif entry.get("requires_grad"):
            t.requires_grad_(True)
        self.tensors[key] = t
        return t

    def decode(self, node: Any) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict):
            raise _bad(f"unexpected {type(node).__name__} in the structure")
        if "__tensor__" in node:
            return self.tensor(node["__tensor__"], node)
        if len(node) != 1:
            raise _bad(f"unknown structure entry with keys {sorted(node)}")
        ((tag, value),) = node.items()
        if tag in ("__dict__", "__odict__", "__counter__"):
            if not isinstance(value, list) or not all(
                    isinstance(kv, list) and len(kv) == 2 for kv in value):
                raise _bad(f"{tag} must be a list of [key, value] pairs")
            out = {"__odict__": OrderedDict, "__counter__": Counter}.get(tag, dict)()
            for k, v in value:
                k = self.decode(k)
                try:
                    out[k] = self.decode(v)
                except TypeError:
                    raise _bad(f"unhashable dict key {k!r}") from None
            return out
        if tag in ("__list__", "__tuple__"):
            if not isinstance(value, list):
                raise _bad(f"{tag} must hold a list")
            items = [self.decode(v) for v in value]
            return items if tag == "__list__" else tuple(items)
        if tag == "__float__" and value in ("inf", "-inf", "nan"):
            return float(value)
        if tag == "__complex__" and isinstance(value, list) and len(value) == 2:
            return complex(float(value[0]), float(value[1]))
        if tag == "__dtype__" and isinstance(value, str) and \
                isinstance(getattr(dtypes, value, None), dtypes.dtype):
            return getattr(dtypes, value)
        if tag == "__device__" and isinstance(value, str):
            try:
                return Device(value)
            except (RuntimeError, ValueError) as e:
                raise _bad(f"bad device {value!r}") from e
        if tag == "__ndarray__":
            return self.tensor(value, {})._data
        raise _bad(f"unknown structure tag {tag!r}")


def load(f, map_location: Any = None, pickle_module: Any = None, *, weights_only: bool = True,
         mmap: Any = None, **kwargs: Any) -> Any:
    """Load an object saved by :func:`save`, or any safetensors file as ``{name: Tensor}``.

    Args:
        f: a path or a binary file object.
        map_location, weights_only, mmap: accepted for PyTorch compatibility; tensors load
            on the CPU and loading never runs code, whatever these say.

    Raises:
        ValueError: the file is not a valid safetensors file (the message says what is wrong:
            truncated data, bad header JSON, wrong offsets, a huge header length...).
    """
    if hasattr(f, "read"):
        blob = f.read()
    else:
        with open(os.fspath(f), "rb") as fh:
            blob = fh.read()
    if not isinstance(blob, (bytes, bytearray)):
        raise TypeError("retrograd.load: the file object must be opened in binary mode")
    metadata, arrays = _parse(bytes(blob))
    reader = _Reader(arrays)
    text = metadata.get(_FORMAT_KEY)
    if text is None:  # a plain safetensors file (e.g. written by safetensors.torch)
        return {name: reader.tensor(name, {}) for name in arrays}
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise _bad(f"the retrograd structure entry is not valid JSON ({e})") from None
    if not isinstance(doc, dict) or doc.get("version") != _FORMAT_VERSION or "object" not in doc:
        raise _bad("the retrograd structure entry has an unknown version or layout")
    obj = reader.decode(doc["object"])
    used = {name for name, _, _ in reader.tensors}
    if used != set(arrays):
        raise _bad(f"tensors not referenced by the structure: {sorted(set(arrays) - used)}")
    return obj
