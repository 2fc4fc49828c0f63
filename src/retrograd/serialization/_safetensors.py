"""safetensors files: ``save_safetensors`` and ``load_safetensors``, no pickle at all.

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

``load_safetensors`` reads and checks the whole header before it allocates anything, so a
bad file raises :class:`InvalidFileError` (a ``ValueError``) naming the file and the problem,
and never yields partial state.
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
from collections import Counter, OrderedDict
from typing import Any

import numpy as np

from .. import _dtype as dtypes
from .._device import device as Device
from .._tensor import Tensor, wrap
from ..backend import to_numpy
from ..nn import Parameter
from ._common import bad_file, check_shape, json_depth, native, source_name

__all__ = ["load_safetensors", "save_safetensors"]

_FORMAT_KEY = "retrograd"
_FORMAT_VERSION = 1
# safetensors refuses headers above 100 MB; so do we (a huge length is a corrupt file).
_MAX_HEADER = 100 * 1024 * 1024

_TO_ST = {"float64": "F64", "float32": "F32", "float16": "F16", "int64": "I64",
          "int32": "I32", "int16": "I16", "int8": "I8", "uint8": "U8", "bool": "BOOL",
          "complex64": "C64", "uint16": "U16", "uint32": "U32", "uint64": "U64"}
_FROM_ST = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4",
            "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?", "C64": "<c8",
            "BF16": "<u2", "U16": "<u2", "U32": "<u4", "U64": "<u8"}
# Known to safetensors but without a NumPy (hence retrograd) dtype: refused by name.
_UNSUPPORTED_ST = {"F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C32"}
# A safetensors header is flat (entries of a few scalars and lists); the structure entry
# nests one JSON level per container. Deeper than this is a hostile or broken file.
_MAX_HEADER_DEPTH = 8
_MAX_STRUCTURE_DEPTH = 600
_DEVICE = re.compile(r"(cpu|cuda|meta|mps)(:(0|[1-9][0-9]{0,8}))?")


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
            f"retrograd.save_safetensors can't save an object of type {type(obj).__name__}: "
            "only tensors, NumPy arrays, numbers, strings, bools, None, dtypes and "
            "dicts/lists/tuples of them are saved (no pickle). Save a module's or an "
            "optimizer's state_dict(), or use retrograd.save with a non-.safetensors path."
        )


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def save_safetensors(obj: Any, f) -> None:
    """Save ``obj`` (tensors in dicts/lists/tuples, numbers, strings...) to ``f`` as safetensors.

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
            raise TypeError(f"retrograd.save_safetensors: unsupported dtype {arr.dtype}")
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


def _header(blob: bytes, src: str) -> tuple[int, dict[str, Any]]:
    """The header's length and JSON object, checked for size and nesting before parsing."""
    if len(blob) < 8:
        raise bad_file(src, f"{len(blob)} bytes is too short for the 8-byte header length")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > _MAX_HEADER:
        raise bad_file(src, f"header length {n} is larger than the limit of {_MAX_HEADER} bytes")
    if 8 + n > len(blob):
        raise bad_file(src, f"header length {n} runs past the end of the file ({len(blob)} "
                            "bytes): truncated?")
    try:
        text = blob[8:8 + n].decode("utf-8")
    except UnicodeDecodeError as e:
        raise bad_file(src, f"header is not valid JSON (not UTF-8: {e})") from None
    if json_depth(text) > _MAX_HEADER_DEPTH:
        raise bad_file(src, f"header JSON is nested deeper than {_MAX_HEADER_DEPTH} levels")
    try:
        header = json.loads(text)
    except ValueError as e:
        raise bad_file(src, f"header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise bad_file(src, "header JSON is not an object")
    return n, header


def _entry(name: str, info: Any, src: str) -> tuple:
    """(begin, end, name, NumPy dtype, shape, safetensors dtype) of one checked entry."""
    if not isinstance(info, dict):
        raise bad_file(src, f"entry {name!r} is not an object")
    dt, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if dt in _UNSUPPORTED_ST:
        raise bad_file(src, f"entry {name!r} has unsupported dtype {dt} (retrograd has no "
                            "such dtype)")
    if not isinstance(dt, str) or dt not in _FROM_ST:
        raise bad_file(src, f"entry {name!r} has unsupported dtype {dt!r}")
    np_dtype = np.dtype(_FROM_ST[dt])
    shape = check_shape(shape, np_dtype.itemsize, f"entry {name!r}", src)
    if not (isinstance(offsets, list) and len(offsets) == 2
            and all(type(o) is int for o in offsets) and 0 <= offsets[0] <= offsets[1]):
        raise bad_file(src, f"entry {name!r} has bad data_offsets {offsets!r}")
    nbytes = math.prod(shape) * np_dtype.itemsize
    if offsets[1] - offsets[0] != nbytes:
        raise bad_file(src, f"entry {name!r}: data_offsets {offsets} span "
                            f"{offsets[1] - offsets[0]} bytes but {dt} of shape {list(shape)} "
                            f"needs {nbytes}")
    return offsets[0], offsets[1], name, np_dtype, shape, dt


def _parse(blob: bytes, src: str) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    """Check the safetensors layout; return (metadata, arrays), arrays in offset order."""
    n, header = _header(blob, src)
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise bad_file(src, "__metadata__ must map strings to strings")
    data = memoryview(blob)[8 + n:]
    entries = sorted((_entry(name, info, src) for name, info in header.items()),
                     key=lambda e: (e[0], e[1]))
    end = 0
    for begin, stop, name, *_ in entries:
        if begin != end:
            raise bad_file(src, f"entry {name!r} starts at byte {begin}, expected {end} "
                                "(overlapping or missing data)")
        end = stop
    if end != len(data):
        raise bad_file(src, f"the tensors need {end} data bytes but the file has {len(data)}"
                            + (": truncated?" if end > len(data) else ""))
    arrays = {}
    for begin, stop, name, np_dtype, shape, dt in entries:
        arr = np.frombuffer(data[begin:stop], dtype=np_dtype).reshape(shape)
        if dt == "BF16":  # bfloat16 is the top half of a float32
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        arrays[name] = native(arr).copy()
    return metadata, arrays


_TAGS = ("__float__", "__complex__", "__dtype__", "__device__", "__ndarray__")


def _number(value: Any) -> bool:
    return type(value) in (int, float)


class _Reader:
    """Rebuilds the saved structure from its JSON form, checking every node."""

    def __init__(self, arrays: dict[str, np.ndarray], src: str) -> None:
        self.arrays = arrays
        self.src = src
        self.tensors: dict[tuple, Tensor] = {}

    def bad(self, problem: str):
        return bad_file(self.src, problem)

    def tensor(self, name: Any, entry: dict) -> Tensor:
        if not isinstance(name, str) or name not in self.arrays:
            raise self.bad(f"structure refers to a missing tensor {name!r}")
        key = (name, entry.get("requires_grad") is True, entry.get("parameter") is True,
               entry.get("complex128") is True)
        if key in self.tensors:  # shared tensors stay shared
            return self.tensors[key]
        arr = self.arrays[name]
        if key[3]:
            if arr.dtype != np.float64 or arr.shape[-1:] != (2,):
                raise self.bad(f"tensor {name!r} marked complex128 is not (..., 2) float64")
            arr = np.ascontiguousarray(arr).view(np.complex128)[..., 0]
        if key[1] and arr.dtype.kind not in "fc":
            raise self.bad(f"tensor {name!r} of dtype {arr.dtype} is marked requires_grad, "
                           "but only floating point and complex tensors can require gradients")
        t = wrap(arr)
        if key[2]:

            t = Parameter(t, requires_grad=key[1])
        elif key[1]:
            t.requires_grad_(True)
        self.tensors[key] = t
        return t

    def decode(self, node: Any) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict):
            raise self.bad(f"unexpected {type(node).__name__} in the structure")
        if "__tensor__" in node:
            return self.tensor(node["__tensor__"], node)
        if len(node) != 1:
            raise self.bad(f"unknown structure entry with keys {sorted(node)}")
        ((tag, value),) = node.items()
        if tag in ("__dict__", "__odict__", "__counter__"):
            return self.mapping(tag, value)
        if tag in ("__list__", "__tuple__"):
            if not isinstance(value, list):
                raise self.bad(f"{tag} must hold a list")
            items = [self.decode(v) for v in value]
            return items if tag == "__list__" else tuple(items)
        if tag == "__float__" and value in ("inf", "-inf", "nan"):
            return float(value)
        if tag == "__complex__" and isinstance(value, list) and len(value) == 2 \
                and all(_number(v) for v in value):
            return complex(value[0], value[1])
        if tag == "__dtype__" and isinstance(value, str) and \
                isinstance(getattr(dtypes, value, None), dtypes.dtype):
            return getattr(dtypes, value)
        if tag == "__device__" and isinstance(value, str) and _DEVICE.fullmatch(value):
            return Device(value)
        if tag == "__ndarray__":
            return self.tensor(value, {})._data
        if tag in _TAGS:
            raise self.bad(f"bad structure entry {{{tag!r}: {_short(value)}}}")
        raise self.bad(f"unknown structure tag {tag!r}")

    def mapping(self, tag: str, value: Any) -> dict:
        if not isinstance(value, list) or not all(
                isinstance(kv, list) and len(kv) == 2 for kv in value):
            raise self.bad(f"{tag} must be a list of [key, value] pairs")
        out = {"__odict__": OrderedDict, "__counter__": Counter}.get(tag, dict)()
        for k, v in value:
            k = self.decode(k)
            try:
                out[k] = self.decode(v)
            except TypeError:
                raise self.bad(f"unhashable dict key {_short(k)}") from None
        return out


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def load_safetensors(f) -> Any:
    """Load a safetensors file: what :func:`save_safetensors` saved, or any safetensors file
    (e.g. written by ``safetensors.torch.save_file``) as a ``{name: Tensor}`` dict.

    Args:
        f: a path, or a binary file object positioned at the start of the file.

    Raises:
        InvalidFileError: (a ``ValueError``) the file is not a valid safetensors file; the
            message names the file and what is wrong (truncated data, bad header JSON, wrong
            offsets, an impossible shape, a huge header length, an unsupported dtype...).
    """
    src = source_name(f)
    if hasattr(f, "read"):
        blob = f.read()
    else:
        with open(os.fspath(f), "rb") as fh:
            blob = fh.read()
    if not isinstance(blob, (bytes, bytearray)):
        raise TypeError("retrograd.load: the file object must be opened in binary mode")
    metadata, arrays = _parse(bytes(blob), src)
    reader = _Reader(arrays, src)
    text = metadata.get(_FORMAT_KEY)
    if text is None:  # a plain safetensors file (e.g. written by safetensors.torch)
        return {name: reader.tensor(name, {}) for name in arrays}
    if json_depth(text) > _MAX_STRUCTURE_DEPTH:
        raise bad_file(src, f"the retrograd structure entry is nested deeper than "
                            f"{_MAX_STRUCTURE_DEPTH} levels")
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise bad_file(src, f"the retrograd structure entry is not valid JSON ({e})") from None
    if not isinstance(doc, dict) or doc.get("version") != _FORMAT_VERSION or "object" not in doc:
        raise bad_file(src, "the retrograd structure entry has an unknown version or layout")
    obj = reader.decode(doc["object"])
    used = {key[0] for key in reader.tensors}
    if used != set(arrays):
        raise bad_file(src, f"tensors not referenced by the structure: "
                            f"{sorted(set(arrays) - used)}")
    return obj
