"""Dimension arguments, one home: wrapping a negative ``dim`` and checking lists of dims.

A tensor with ``ndim`` dimensions accepts ``dim`` in ``[-ndim, ndim - 1]``; a 0-d tensor
accepts 0 and -1, as in PyTorch. Out of range is PyTorch's IndexError, in its words.

>>> wrap_dim(-1, 3)
2
>>> wrap_dims((2, 0), 3)
(0, 2)
"""

from __future__ import annotations

import operator
import sys

__all__ = ["check_dim_type", "reduce_dims", "wrap_dim", "wrap_dims"]


def wrap_dim(dim, ndim: int, op: str = "") -> int:
    """``dim`` as a non-negative position among ``ndim`` dims (0-d tensors take 0 and -1).

    Raises PyTorch's IndexError ("Dimension out of range ..."), prefixed by ``op`` when
    given, and TypeError for a non-integer ``dim``.
    """
    try:
        d = operator.index(dim)
    except TypeError:
        # PyTorch's argument parser's words, naming the op the caller passed, else the public
        # function the user called (found on the error path only)
        op = op or _public_caller()
        where = f"{op}(): " if op else ""
        raise TypeError(f"{where}argument 'dim' must be int, not {type(dim).__name__}") from None
    n = ndim if ndim > 0 else 1
    if d < -n or d >= n:
        where = f"{op}(): " if op else ""
        raise IndexError(f"{where}Dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {d})")
    return d + n if d < 0 else d


# Frames of the package that are plumbing, not an op a user calls.
_PLUMBING = frozenset({"forward", "apply", "generic", "checked", "with_out", "wrapper",
                       "wrapped", "inner", "method", "call", "run", "replayable"})


def _public_caller() -> str:
    """The op the user called: the outermost frame of this package (skipping private and
    plumbing functions) below the first frame of user code; "" when none is found."""
    f = sys._getframe(2)
    name = ""
    while f is not None and f.f_globals.get("__name__", "").startswith("retrograd."):
        code = f.f_code.co_name
        if not code.startswith(("_", "<")) and code not in _PLUMBING:
            name = code
        f = f.f_back
    return name


def check_dim_type(dim, op: str, what: str = "dim") -> None:
    """PyTorch's argument parser on a ``dim``: None, an int or a list/tuple of ints, else a
    TypeError naming the op, raised before any check of the input's dtype or shape."""
    if dim is None:
        return
    for d in dim if isinstance(dim, (list, tuple)) else (dim,):
        if not isinstance(d, int) and not hasattr(d, "__index__"):
            raise TypeError(f"{op}(): argument '{what}' must be int or tuple of ints, not "
                            f"{type(dim).__name__}")


def wrap_dims(dims, ndim: int, op: str = "", *, sort: bool = True) -> tuple:
    """A dim or a sequence of dims, each wrapped, as a tuple (sorted unless ``sort=False``).

    A dim given twice is PyTorch's RuntimeError "dim d appears multiple times in the list
    of dims".
    """
    if not isinstance(dims, (list, tuple)):
        dims = (dims,)
    out = tuple(wrap_dim(d, ndim, op) for d in dims)
    seen = set()
    for d in out:
        if d in seen:
            where = f"{op}(): " if op else ""
            raise RuntimeError(f"{where}dim {d} appears multiple times in the list of dims")
        seen.add(d)
    return tuple(sorted(out)) if sort else out


def reduce_dims(dim, ndim: int, op: str = "") -> tuple | None:
    """The dims a reduction runs over: a sorted tuple, or None for all of them (``dim`` None
    or empty, or a 0-d input, which accepts dim 0 and -1 and reduces over its no dims)."""
    if dim is None:
        return None
    dims = wrap_dims(dim, ndim, op)
    return dims if dims and ndim else None
