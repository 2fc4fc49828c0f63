"""``save`` and ``load``: PyTorch's checkpoint format, read safely, and safetensors.

``save(obj, f)`` writes what ``torch.save`` writes (a zip archive holding a protocol-2
pickle and the raw storages), so ``torch.load(f)`` opens it; a path ending in
``.safetensors`` gets a safetensors file instead (see :func:`save_safetensors`).

``load(f)`` recognises the format from the file's first bytes: a zip archive or PyTorch's
legacy pickle stream (both from ``torch.save``), else safetensors. Pickles are read as
``torch.load(weights_only=True)`` reads them: only tensors, storages, dtypes, devices,
containers, primitive values and the globals allowlisted with :func:`add_safe_globals` are
accepted; any other global stops the load with ``pickle.UnpicklingError`` before anything
runs. ``weights_only=False`` (for a whole saved Module or optimizer) unpickles freely and so
can run code from the file: use it only on files you trust.

A damaged or malformed file raises :class:`InvalidFileError` (a ``ValueError``) naming the
file and the problem.
"""

from __future__ import annotations

import io
import os
import pickle
from typing import Any

from ._archive import LEGACY_MAGIC, pickles_of, read_legacy, read_zip, write_legacy, write_zip
from ._common import InvalidFileError, bad_file, source_name
from ._safetensors import load_safetensors, save_safetensors
from ._torch_names import torch_globals
from ._unpickler import (
    _MISSING,
    add_safe_globals,
    allowlist_lookup,
    clear_safe_globals,
    get_safe_globals,
    named_globals,
    run,
    safe_globals,
)

__all__ = ["InvalidFileError", "add_safe_globals", "clear_safe_globals", "get_safe_globals",
           "get_unsafe_globals_in_checkpoint", "load", "load_safetensors", "safe_globals", "save",
           "save_safetensors"]

_LEGACY_PREFIX = pickle.dumps(LEGACY_MAGIC, protocol=2)[:4]


def _is_safetensors_path(f: Any) -> bool:
    return isinstance(f, (str, os.PathLike)) and os.fspath(f).endswith(".safetensors")


def _archive_name(f: Any) -> str:
    if isinstance(f, (str, os.PathLike)):
        stem = os.path.splitext(os.path.basename(os.fspath(f)))[0]
        if stem and stem.isidentifier():
            return stem
    return "archive"


def save(obj: Any, f, pickle_module: Any = None, pickle_protocol: int = 2,
         _use_new_zipfile_serialization: bool = True, _disable_byteorder_record: bool = False
         ) -> None:
    """Save ``obj`` to ``f`` in ``torch.save``'s format (or safetensors for ``*.safetensors``).

    Tensors that view one array are saved over one storage and load as views of one array
    again; Parameters, ``requires_grad``, dtypes and devices are kept. Any other picklable
    object (a whole Module, an optimizer) is pickled with its class as a global, as under
    PyTorch; loading those needs ``load(..., weights_only=False)``.

    Args:
        obj: what to save, typically ``model.state_dict()``.
        f: a path (written atomically through a temporary file) or a binary file object.
        _use_new_zipfile_serialization: False writes PyTorch's legacy (pre-1.6) format.

    >>> import io, retrograd as torch
    >>> buf = io.BytesIO(); torch.save({"w": torch.ones(2)}, buf)
    >>> torch.load(io.BytesIO(buf.getvalue()))
    {'w': tensor([1., 1.])}
    """
    if _is_safetensors_path(f):
        save_safetensors(obj, f)
        return

    def write(out) -> None:
        if _use_new_zipfile_serialization:
            write_zip(obj, out, _archive_name(f))
        else:
            write_legacy(obj, out)

    if hasattr(f, "write"):
        write(f)
        return
    path = os.fspath(f)
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as out:
            write(out)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def load(f, map_location: Any = None, pickle_module: Any = None, *,
         weights_only: bool | None = None, mmap: Any = None, **pickle_load_args: Any) -> Any:
    """Load a ``torch.save`` checkpoint (zip or legacy) or a safetensors file.

    Args:
        f: a path or a binary file object.
        map_location: accepted for compatibility; tensors load on the CPU.
        weights_only: True (the default, as in PyTorch 2.6+) accepts only tensors,
            containers, primitive values and allowlisted globals; False unpickles anything,
            which runs code the file names: only for files you trust.

    Raises:
        pickle.UnpicklingError: the pickle names a global outside the allowlist (PyTorch's
            message, naming it); nothing from the file has run.
        InvalidFileError: a damaged or malformed file (a ``ValueError``; the message names
            the file and the problem).
    """
    src = source_name(f)
    trusted = weights_only is False
    if hasattr(f, "read"):
        if not (hasattr(f, "seekable") and f.seekable()):
            f = io.BytesIO(f.read())
        return _load_stream(f, src, trusted)
    with open(os.fspath(f), "rb") as fh:
        if _is_safetensors_path(f):
            return load_safetensors(fh)
        return _load_stream(fh, src, trusted)


def _load_stream(fh, src: str, trusted: bool) -> Any:
    start = fh.tell()
    head = fh.read(4)
    if not isinstance(head, bytes):
        raise TypeError("retrograd.load: the file object must be opened in binary mode")
    fh.seek(start)
    if head in (b"PK\x03\x04", b"PK\x05\x06"):  # a zip archive (or an empty one)
        return read_zip(fh if start == 0 else io.BytesIO(fh.read()), src,
                        _unpickler(src, trusted))
    if head == _LEGACY_PREFIX:
        return read_legacy(fh.read(), src, _unpickler(src, trusted))
    return load_safetensors(fh)


def get_unsafe_globals_in_checkpoint(f) -> list[str]:
    """The globals a ``torch.save`` checkpoint names that ``weights_only`` loading would
    refuse (``"module.name"`` strings), found without running anything in the file.

    Allowlist the ones you trust with :func:`add_safe_globals`.
    """
    src = source_name(f)
    if hasattr(f, "read"):
        return _unsafe_globals(f, src)
    with open(os.fspath(f), "rb") as fh:
        return _unsafe_globals(fh, src)


def _unsafe_globals(fh, src: str) -> list[str]:
    lookup = allowlist_lookup(torch_globals())

    def allowed(name: str) -> bool:
        try:
            return lookup(name) is not _MISSING
        except InvalidFileError:  # a torch feature retrograd lacks: refused, but not unsafe
            return True

    data, count = pickles_of(fh, src)
    unsafe: list[str] = []
    start = 0
    for _ in range(count):
        names, start = named_globals(data, start, src)
        unsafe += [n for n in names if not allowed(n) and n not in unsafe]
    return unsafe


def _unpickler(src: str, trusted: bool):
    """``(data, start, storage) -> (object, end)`` for the chosen trust level."""
    table = torch_globals()
    if not trusted:
        lookup = allowlist_lookup(table)
        return lambda data, start, storage: run(data, start, lookup, storage, src)
    return lambda data, start, storage: _trusting_load(data, start, table, storage, src)


class _Trusting(pickle.Unpickler):
    """``weights_only=False``: any global, with PyTorch's names mapped to retrograd's."""

    def __init__(self, stream, table: dict[str, Any], storage) -> None:
        super().__init__(stream)
        self.table = table
        self.storage = storage

    def find_class(self, module: str, name: str) -> Any:
        found = self.table.get(f"{module}.{name}")
        if isinstance(found, Exception):
            raise found
        if found is not None:
            return found
        if module == "torch" or module.startswith("torch."):
            module = "retrograd" + module[len("torch"):]
        return super().find_class(module, name)

    def persistent_load(self, pid: Any) -> Any:
        return self.storage(pid)


def _trusting_load(data: bytes, start: int, table, storage, src: str) -> tuple[Any, int]:
    stream = io.BytesIO(data)
    stream.seek(start)
    try:
        return _Trusting(stream, table, storage).load(), stream.tell()
    except InvalidFileError as e:
        if str(e).startswith("retrograd.load"):
            raise
        raise bad_file(src, str(e)) from None
    except (pickle.UnpicklingError, EOFError) as e:
        raise bad_file(src, f"damaged pickle data ({e})") from None
