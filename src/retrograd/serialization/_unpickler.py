"""Reading pickles that may be hostile: an allowlist of globals, checked twice.

A pickle is a program: ``GLOBAL os system`` followed by ``REDUCE`` runs a shell command.
``weights_only=True`` loading (the default) only lets a pickle name the globals listed here
(tensor rebuilders, storage types, dtypes, containers) plus what the caller allowlisted with
:func:`add_safe_globals`. The opcode stream is first scanned without executing anything
(:func:`scan`): unknown or class-building opcodes, out-of-range memo indices and lengths past
the end of the data stop the load there. Then the C unpickler runs with :class:`Restricted`,
whose ``find_class`` answers only from the allowlist, so no callable outside it can be
reached, whatever the opcodes say.
"""

from __future__ import annotations

import contextlib
import io
import pickle
import pickletools
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

from ._common import InvalidFileError, bad_file

__all__ = ["add_safe_globals", "clear_safe_globals", "get_safe_globals", "safe_globals"]

# Opcodes that import or instantiate by name outside find_class's view (INST, OBJ) or go
# through copyreg's extension registry (EXT*): PyTorch's weights-only reader refuses them too.
_DENIED_OPCODES = {"INST", "OBJ", "EXT1", "EXT2", "EXT4"}
_MEMO_WRITES = {"PUT", "BINPUT", "LONG_BINPUT"}
# Modules whose globals are never useful in a checkpoint and always dangerous.
_BLOCKED_MODULES = {"os", "posix", "nt", "subprocess", "sys", "socket", "shutil", "runpy",
                    "importlib", "pty", "ctypes", "code", "codeop", "webbrowser", "multiprocessing",
                    "signal", "pickle", "_pickle", "marshal", "io", "tempfile", "pathlib"}

_user_globals: dict[str, Any] = {}


def _qualified_name(obj: Any) -> str:
    module = getattr(obj, "__module__", None)
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if not isinstance(module, str) or not isinstance(name, str):
        raise TypeError(f"can't allowlist {obj!r}: it has no __module__ and __qualname__; "
                        "pass (obj, 'module.name') instead")
    return f"{module}.{name}"


def add_safe_globals(safe_globals: list) -> None:
    """Allow ``weights_only`` loading to use these classes/functions, as PyTorch's function.

    Args:
        safe_globals: objects, or ``(obj, "module.name")`` pairs when the pickle names the
            object differently from its ``__module__.__qualname__``.
    """
    for entry in safe_globals:
        if isinstance(entry, tuple):
            if len(entry) != 2 or not isinstance(entry[1], str):
                raise TypeError(f"expected (obj, 'module.name'), got {entry!r}")
            obj, name = entry
        else:
            obj, name = entry, _qualified_name(entry)
        _user_globals[name] = obj


def get_safe_globals() -> list:
    """The globals added with :func:`add_safe_globals` (the built-in allowlist not included)."""
    return [obj if _qualified_name_or_none(obj) == name else (obj, name)
            for name, obj in _user_globals.items()]


def _qualified_name_or_none(obj: Any) -> str | None:
    try:
        return _qualified_name(obj)
    except TypeError:
        return None


def clear_safe_globals() -> None:
    """Forget every global added with :func:`add_safe_globals`."""
    _user_globals.clear()


class safe_globals(contextlib.ContextDecorator):
    """``with safe_globals([MyClass]): load(...)`` allowlists ``MyClass`` for the block only."""

    def __init__(self, safe_globals: list) -> None:
        self.globals = safe_globals
        self.saved: dict[str, Any] = {}

    def __enter__(self) -> None:
        self.saved = dict(_user_globals)
        add_safe_globals(self.globals)

    def __exit__(self, *exc: object) -> None:
        _user_globals.clear()
        _user_globals.update(self.saved)


def refusal(full_name: str) -> pickle.UnpicklingError:
    """PyTorch's error (class and wording) for a global outside the allowlist."""
    module = full_name.rpartition(".")[0]
    if module.partition(".")[0] in _BLOCKED_MODULES:
        detail = (f"Trying to load unsupported GLOBAL {full_name} whose module {module} is "
                  "blocked.")
    else:
        detail = (f"Unsupported global: GLOBAL {full_name} was not an allowed global by "
                  "default. Please use `retrograd.serialization.add_safe_globals"
                  f"([{full_name}])` or the `retrograd.serialization.safe_globals"
                  f"([{full_name}])` context manager to allowlist this global if you trust "
                  "this class/function.")
    return pickle.UnpicklingError(
        "Weights only load failed. This file can still be loaded, to do so you have two "
        "options, do those steps only if you trust the source of the checkpoint.\n\t(1) "
        "Re-running `retrograd.load` with `weights_only` set to `False` will likely succeed, "
        "but it can result in arbitrary code execution. Do it only if you got the file from a "
        "trusted source.\n\t(2) Alternatively, to load with `weights_only=True` please check "
        f"the recommended steps in the following error message.\n\tWeightsUnpickler error: "
        f"{detail}")


def _plain_name(module: str, name: str) -> str:
    # Protocol 2 pickles spell builtins as Python 2 did.
    return f"{'builtins' if module == '__builtin__' else module}.{name}"


def _encode_latin1(text: Any, encoding: str = "latin1") -> bytes:
    """Protocol 2 stores ``bytes`` as ``_codecs.encode(str, 'latin1')``; nothing else."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise InvalidFileError(f"_codecs.encode is only accepted as (str, 'latin1'), got "
                               f"({type(text).__name__}, {encoding!r})")
    return text.encode("latin1")


def _bytearray(data: Any = b"") -> bytearray:
    """``bytearray`` of bytes only: ``bytearray(2**40)`` would allocate a terabyte."""
    if not isinstance(data, (bytes, bytearray)):
        raise InvalidFileError(f"bytearray() is only accepted from bytes, got "
                               f"{type(data).__name__}")
    return bytearray(data)


BUILTIN_GLOBALS: dict[str, Any] = {
    "collections.OrderedDict": OrderedDict, "collections.Counter": Counter,
    "builtins.set": set, "builtins.frozenset": frozenset, "builtins.complex": complex,
    "builtins.bytearray": _bytearray, "_codecs.encode": _encode_latin1,
}


def scan(data: bytes, start: int, allowed: Callable[[str], bool], src: str) -> int:
    """Walk one pickle's opcodes from ``start`` without running them; return its end.

    Raises the refusal for a ``GLOBAL`` outside the allowlist, and InvalidFileError for a
    truncated or malformed stream, a refused opcode or a memo index that would make the
    unpickler allocate far more than the data holds.
    """
    stream = io.BytesIO(data)
    stream.seek(start)
    count = 0
    try:
        for count, (op, arg, _pos) in enumerate(_ops(stream), 1):
            if op.name in _DENIED_OPCODES:
                raise bad_file(src, f"the pickle uses the {op.name} opcode, which "
                                    "weights_only loading refuses")
            if op.name == "GLOBAL":
                module, _, name = str(arg).partition(" ")
                if not allowed(_plain_name(module, name)):
                    raise refusal(_plain_name(module, name))
            if op.name in _MEMO_WRITES and not 0 <= int(arg) <= count:
                raise bad_file(src, f"the pickle writes memo slot {arg} after {count} opcodes")
    except ValueError as e:  # pickletools' word for truncated or unknown data
        if isinstance(e, InvalidFileError):
            raise
        raise bad_file(src, f"damaged pickle data ({e})") from None
    if count == 0:
        raise bad_file(src, "empty pickle data")
    return stream.tell()


_STRING_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "STRING",
               "BINSTRING", "SHORT_BINSTRING"}
_MEMO_READS = {"GET", "BINGET", "LONG_BINGET"}


def named_globals(data: bytes, start: int, src: str) -> tuple[list[str], int]:
    """Every global one pickle names (GLOBAL and STACK_GLOBAL), without running it; and its
    end. STACK_GLOBAL takes its two names from the stack: strings are followed through the
    memo, which covers how picklers write them."""
    stream = io.BytesIO(data)
    stream.seek(start)
    found: list[str] = []
    recent: list[Any] = []  # what each opcode pushed, strings only (None otherwise)
    memo: dict[int, Any] = {}
    try:
        for op, arg, _pos in _ops(stream):
            name = op.name
            if name == "GLOBAL":
                module, _, attr = str(arg).partition(" ")
                found.append(_plain_name(module, attr))
            elif name == "STACK_GLOBAL" and len(recent) >= 2 and None not in recent[-2:]:
                found.append(_plain_name(recent[-2], recent[-1]))
            elif name in _STRING_OPS:
                recent.append(arg if isinstance(arg, str) else None)
            elif name in _MEMO_WRITES or name == "MEMOIZE":
                memo[len(memo) if name == "MEMOIZE" else int(arg)] = recent[-1] if recent \
                    else None
            elif name in _MEMO_READS:
                recent.append(memo.get(int(arg)))
            elif name != "FRAME":
                recent.append(None)
    except ValueError as e:
        raise bad_file(src, f"damaged pickle data ({e})") from None
    return list(dict.fromkeys(found)), stream.tell()


def _ops(stream: io.BytesIO) -> Iterator:
    for op, arg, pos in pickletools.genops(stream):
        yield op, arg, pos
        if op.name == "STOP":
            return


class Restricted(pickle.Unpickler):
    """The C unpickler, reaching globals through the allowlist only."""

    def __init__(self, stream, lookup: Callable[[str], Any],
                 storage: Callable[[Any], Any]) -> None:
        super().__init__(stream)
        self.lookup = lookup
        self.storage = storage
        self.refused: Exception | None = None

    def find_class(self, module: str, name: str) -> Any:
        full = _plain_name(module, name)
        found = self.lookup(full)
        if found is _MISSING:
            self.refused = refusal(full)
            raise self.refused
        return found

    def persistent_load(self, pid: Any) -> Any:
        return self.storage(pid)


_MISSING = object()


def allowlist_lookup(torch_globals: dict[str, Any]) -> Callable[[str], Any]:
    """``name -> object`` over the built-in, the torch-named and the user's globals."""
    def lookup(full: str) -> Any:
        for table in (BUILTIN_GLOBALS, torch_globals, _user_globals):
            found = table.get(full, _MISSING)
            if found is not _MISSING:
                if isinstance(found, Exception):  # a torch feature retrograd lacks
                    raise found
                return found
        return _MISSING
    return lookup


def run(data: bytes, start: int, lookup: Callable[[str], Any], storage: Callable[[Any], Any],
        src: str) -> tuple[Any, int]:
    """Scan then unpickle the pickle at ``data[start:]``; return (object, end offset)."""
    try:
        end = scan(data, start, lambda full: lookup(full) is not _MISSING, src)
        unpickler = Restricted(io.BytesIO(data[start:end]), lookup, storage)
        try:
            return unpickler.load(), end
        except (InvalidFileError, pickle.UnpicklingError) as e:
            if e is unpickler.refused or isinstance(e, InvalidFileError):
                raise
            raise bad_file(src, f"damaged pickle data ({e})") from None
        except Exception as e:  # any other failure of a malformed stream: one clear class
            raise bad_file(src, f"damaged pickle data ({type(e).__name__}: {e})") from None
    except InvalidFileError as e:
        if str(e).startswith("retrograd.load"):
            raise
        raise bad_file(src, str(e)) from None  # raised without the file's name
