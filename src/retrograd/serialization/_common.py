"""What the file formats share: the error class, file naming, and dtype tables."""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np

# NumPy refuses arrays of more than 64 dimensions; PyTorch's own limit is close to it.
MAX_DIMS = 64
# The largest byte count an array may span (NumPy's index type is a signed 64-bit int).
MAX_NBYTES = 2**63 - 1


class InvalidFileError(ValueError):
    """A file that ``retrograd.load`` can't read: damaged, truncated, malformed or using a
    feature retrograd lacks. The message names the file and the problem."""


def source_name(f: Any) -> str:
    """How messages name the file: its path, or the file object's ``name``."""
    if isinstance(f, (str, os.PathLike)):
        return os.fspath(f)
    name = getattr(f, "name", None)
    return name if isinstance(name, str) else f"<{type(f).__name__}>"


def bad_file(source: str, problem: str) -> InvalidFileError:
    return InvalidFileError(f"retrograd.load: invalid file {source!r}: {problem}")


def check_shape(shape: Any, itemsize: int, what: str, source: str) -> tuple[int, ...]:
    """Validate a shape read from a file before anything is allocated for it."""
    if not (isinstance(shape, (list, tuple))
            and all(type(s) is int and s >= 0 for s in shape)):
        raise bad_file(source, f"{what} has a bad shape {shape!r} (expected non-negative ints)")
    if len(shape) > MAX_DIMS:
        raise bad_file(source, f"{what} has {len(shape)} dimensions, more than {MAX_DIMS}")
    # NumPy checks the product of the non-zero sizes, even when another size is 0.
    span = itemsize
    for s in shape:
        span *= max(s, 1)
    if span > MAX_NBYTES:
        raise bad_file(source, f"{what} has an impossible shape {list(shape)} "
                               f"({span} bytes is beyond any array's size)")
    return tuple(shape)


def json_depth(text: str) -> int:
    """The deepest nesting of ``[``/``{`` in a JSON text, strings skipped.

    Linear and without recursion (a running sum in NumPy), so a hostile file is measured and
    refused before ``json.loads`` could exhaust the stack on it.
    """
    bare = _JSON_STRING.sub("", text).encode("utf-8", "surrogatepass")
    codes = np.frombuffer(bare, dtype=np.uint8)
    steps = (np.isin(codes, _OPENERS).astype(np.int64)
             - np.isin(codes, _CLOSERS).astype(np.int64))
    return int(np.cumsum(steps).max(initial=0))


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_OPENERS = np.frombuffer(b"[{", dtype=np.uint8)
_CLOSERS = np.frombuffer(b"]}", dtype=np.uint8)


def native(arr: np.ndarray) -> np.ndarray:
    """``arr`` in this machine's byte order (a no-op for native arrays)."""
    return arr if arr.dtype.isnative else arr.astype(arr.dtype.newbyteorder("="))
