"""``torch.save``'s two containers: the zip archive (default since PyTorch 1.6) and the
legacy stream of pickles.

Zip layout, as found by unzipping a ``torch.save`` file (``<a>`` is any archive name)::

    <a>/data.pkl       protocol-2 pickle of the object; tensors refer to storages by key
    <a>/data/<key>     each storage's raw bytes, little-endian (stored, not compressed)
    <a>/byteorder      "little"        <a>/version   "3"
    <a>/.format_version, <a>/.storage_alignment ...  (informational)

Legacy layout: five things back to back: a pickled magic number, a pickled protocol
version (1001), a pickled ``sys_info`` dict, the object's pickle, a pickled list of storage
keys; then, for each key, an 8-byte little-endian element count and the raw bytes.
"""

from __future__ import annotations

import io
import pickle
import struct
import zipfile
from collections.abc import Callable
from typing import Any

import numpy as np

from ._common import InvalidFileError, bad_file
from ._pickler import StorageTable, TorchPickler
from ._torch_names import Storage, StorageType

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001
# Where record data starts in the zip, as PyTorch aligns it (lets a reader map it in place).
_ALIGN = 64
# Deflate can't shrink data more than ~1032:1; a record claiming more is a zip bomb.
_MAX_DEFLATE_RATIO = 1100

Unpickle = Callable[[bytes, int, Callable[[Any], Any]], tuple[Any, int]]


# ------------------------------------------------------------------------------ writing
def _aligned(zf: zipfile.ZipFile, name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    start = zf.fp.tell() + 30 + len(name.encode("utf-8")) + 4  # local header + extra's head
    pad = -start % _ALIGN
    info.extra = struct.pack("<HH", 0x4652, pad) + b"\0" * pad  # an unregistered id: skipped
    return info


def _record(zf: zipfile.ZipFile, name: str, data) -> None:
    with zf.open(_aligned(zf, name), "w", force_zip64=len(data) >= 2**31) as out:
        out.write(data)


def write_zip(obj: Any, f, archive: str) -> None:
    body = io.BytesIO()
    table = StorageTable()
    TorchPickler(body, table).dump(obj)
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as zf:
        _record(zf, f"{archive}/data.pkl", body.getvalue())
        _record(zf, f"{archive}/byteorder", b"little")
        for rec in table.records:
            _record(zf, f"{archive}/data/{rec.key}", memoryview(rec.array.view(np.uint8)))
        _record(zf, f"{archive}/version", b"3\n")
        _record(zf, f"{archive}/.format_version", b"1")
        _record(zf, f"{archive}/.storage_alignment", str(_ALIGN).encode())


def write_legacy(obj: Any, f) -> None:
    body = io.BytesIO()
    table = StorageTable()
    TorchPickler(body, table, legacy=True).dump(obj)
    sys_info = {"protocol_version": _LEGACY_PROTOCOL, "little_endian": True,
                "type_sizes": {"short": 2, "int": 4, "long": 4}}
    for header in (LEGACY_MAGIC, _LEGACY_PROTOCOL, sys_info):
        f.write(pickle.dumps(header, protocol=2))
    f.write(body.getvalue())
    f.write(pickle.dumps([rec.key for rec in table.records], protocol=2))
    for rec in table.records:
        count = rec.array.nbytes if rec.type_name == "UntypedStorage" else rec.array.size
        f.write(struct.pack("<q", count))
        f.write(memoryview(rec.array.view(np.uint8)))


# ------------------------------------------------------------------------------ reading
def _check_pid(pid: Any, src: str) -> tuple[StorageType, str, int, Any]:
    if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"):
        raise bad_file(src, f"unknown persistent id {str(pid)[:80]}")
    stype, key, _location, numel = pid[1:5]
    if not isinstance(stype, StorageType) or not isinstance(key, str) \
            or type(numel) is not int or numel < 0:
        raise bad_file(src, f"bad storage reference {str(pid)[:80]}")
    return stype, key, numel, pid[5] if len(pid) == 6 else None


def _readable(info: zipfile.ZipInfo, expected: int | None, archive_size: int, src: str) -> None:
    """Refuse a record before reading it if its sizes are impossible."""
    if expected is not None and info.file_size != expected:
        raise bad_file(src, f"record {info.filename} holds {info.file_size} bytes but the "
                            f"pickle declares {expected}")
    if info.compress_type == zipfile.ZIP_STORED:
        if info.file_size > archive_size:
            raise bad_file(src, f"record {info.filename} claims {info.file_size} bytes, more "
                                f"than the whole file ({archive_size})")
    elif info.file_size > _MAX_DEFLATE_RATIO * info.compress_size + 1024:
        raise bad_file(src, f"record {info.filename} claims to inflate {info.compress_size} "
                            f"bytes to {info.file_size}")


def read_zip(f, src: str, unpickle: Unpickle, big_endian_ok: bool = True) -> Any:
    try:
        zf = zipfile.ZipFile(f)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, struct.error) as e:
        raise bad_file(src, f"not a readable zip archive ({e})") from None
    with zf:
        try:
            return _read_zip(zf, src, unpickle)
        except (InvalidFileError, pickle.UnpicklingError):
            raise
        except Exception as e:  # zipfile's many ways to fail on a damaged archive
            raise bad_file(src, f"damaged zip archive ({type(e).__name__}: {e})") from None


def _read_zip(zf: zipfile.ZipFile, src: str, unpickle: Unpickle) -> Any:
    names = [n for n in zf.namelist() if n == "data.pkl" or n.endswith("/data.pkl")]
    if not names:
        raise bad_file(src, "the zip archive has no data.pkl: not a torch.save checkpoint")
    pkl = min(names, key=len)
    prefix = pkl[: -len("data.pkl")]
    size = zf.fp.seek(0, io.SEEK_END)
    order = "little"
    if f"{prefix}byteorder" in zf.NameToInfo:
        order = zf.read(f"{prefix}byteorder").decode("ascii", "replace").strip()
        if order not in ("little", "big"):
            raise bad_file(src, f"unknown byteorder {order!r}")
    info = zf.getinfo(pkl)
    _readable(info, None, size, src)
    body = zf.read(info)
    storages: dict[str, Storage] = {}

    def storage(pid: Any) -> Storage:
        stype, key, numel, _view = _check_pid(pid, src)
        found = storages.get(key)
        if found is not None:
            return found
        name = f"{prefix}data/{key}"
        if name not in zf.NameToInfo:
            raise bad_file(src, f"storage {key!r} has no record {name}")
        record = zf.getinfo(name)
        _readable(record, numel * stype.np.itemsize, size, src)
        arr = np.empty(numel, dtype=stype.np.newbyteorder("<" if order == "little" else ">"))
        with zf.open(record) as fh:
            got = fh.readinto(memoryview(arr.view(np.uint8)))
        if got != record.file_size:
            raise bad_file(src, f"record {name} is truncated")
        found = storages[key] = Storage(_native(arr), stype.name == "BFloat16Storage")
        return found

    obj, end = unpickle(body, 0, storage)
    if end != len(body):
        raise bad_file(src, f"{len(body) - end} stray bytes after the pickle in {pkl}")
    return obj


def pickles_of(f, src: str) -> tuple[bytes, int]:
    """The bytes holding a torch.save file's pickles, and how many there are back to back:
    data.pkl of a zip archive (one), or the legacy stream (five, then raw storage bytes)."""
    head = f.read(4)
    f.seek(-len(head), io.SEEK_CUR)
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(f) as zf:
                names = [n for n in zf.namelist() if n == "data.pkl" or n.endswith("/data.pkl")]
                if not names:
                    raise bad_file(src, "the zip archive has no data.pkl")
                info = zf.getinfo(min(names, key=len))
                _readable(info, None, zf.fp.seek(0, io.SEEK_END), src)
                return zf.read(info), 1
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, struct.error) as e:
            if isinstance(e, InvalidFileError):
                raise
            raise bad_file(src, f"not a readable zip archive ({e})") from None
    return f.read(), 5


def _native(arr: np.ndarray) -> np.ndarray:
    return arr if arr.dtype.isnative else arr.byteswap().view(arr.dtype.newbyteorder("="))


def read_legacy(blob: bytes, src: str, unpickle: Unpickle) -> Any:
    """The pre-1.6 format; ``blob`` is the whole file."""
    def no_storage(pid: Any) -> Any:
        raise bad_file(src, "a header pickle refers to a storage")

    magic, pos = unpickle(blob, 0, no_storage)
    if magic != LEGACY_MAGIC:
        raise bad_file(src, "not a PyTorch checkpoint (no zip archive, wrong magic number)")
    protocol, pos = unpickle(blob, pos, no_storage)
    if protocol != _LEGACY_PROTOCOL:
        raise bad_file(src, f"unsupported legacy protocol version {protocol!r}")
    sys_info, pos = unpickle(blob, pos, no_storage)
    if not isinstance(sys_info, dict) or sys_info.get("little_endian") is not True:
        raise bad_file(src, "only little-endian legacy checkpoints are supported")
    storages: dict[str, Storage] = {}
    declared: dict[str, int] = {}
    made: list[Storage] = []

    def storage(pid: Any) -> Any:
        if isinstance(pid, tuple) and len(pid) == 4 and pid[0] == "module":
            # ("module", class, file, source): a pickled Module's class, already through
            # find_class (so allowlisted, or the caller trusts the file); the source is not
            # compared as PyTorch does.
            return pid[1]
        stype, key, numel, view = _check_pid(pid, src)
        root = storages.get(key)
        if root is None:
            if numel * stype.np.itemsize > len(blob):
                raise bad_file(src, f"storage {key!r} declares {numel} elements, more than "
                                    "the file holds")
            # Filled from the data section once every pickle is read.
            root = storages[key] = Storage(np.empty(numel, stype.np.newbyteorder("=")),
                                           stype.name == "BFloat16Storage")
            declared[key] = numel
        out = root if view is None else _legacy_view(root, view, src)
        made.append(out)
        return out

    obj, pos = unpickle(blob, pos, storage)
    keys, pos = unpickle(blob, pos, no_storage)
    if not isinstance(keys, list) or sorted(keys) != sorted(storages):
        raise bad_file(src, "the storage key list does not match the storages used")
    for key in keys:
        arr = storages[key].array
        if pos + 8 > len(blob):
            raise bad_file(src, "truncated storage data")
        (count,) = struct.unpack("<q", blob[pos:pos + 8])
        if count != declared[key] or pos + 8 + arr.nbytes > len(blob):
            raise bad_file(src, f"storage {key!r}: {count} elements where {declared[key]} "
                                "were declared, or truncated data")
        arr.view(np.uint8)[:] = np.frombuffer(blob, np.uint8, arr.nbytes, pos + 8)
        pos += 8 + arr.nbytes
    for made_storage in made:
        made_storage.refresh()
    return obj


def _legacy_view(root: Storage, view: Any, src: str) -> Storage:
    """Old files named a slice of a storage as (view key, offset, size)."""
    if not (isinstance(view, tuple) and len(view) == 3
            and all(type(v) is int and v >= 0 for v in view[1:])):
        raise bad_file(src, f"bad storage view {view!r}")
    _key, offset, size = view
    if offset + size > root.array.size:
        raise bad_file(src, f"storage view {view!r} runs past its storage")
    return Storage(root.array[offset:offset + size], root.bfloat16)
