"""Creation sites: where in the user's code a node or an in-place change was made.

A site is ``(code object, instruction offset)`` of the first frame outside the retrograd
package (DESIGN.md, decision 6). Recording it costs a frame walk over a per-code-object cache
and one tuple; the offset becomes ``file:line`` only when a message, anomaly mode or the graph
picture asks for it. No frame is kept, so nothing the frame references stays alive.
"""

from __future__ import annotations

import os
import sys

try:  # Cython's pure-Python mode: C types for the compiled form, or nothing
    import cython
except ImportError:
    from . import _cython_shim as cython

__all__ = ["creation_site", "format_site", "site_line"]

PKG_DIR = os.path.dirname(os.path.realpath(__file__)) + os.sep

# File name -> whether it is in the package. Keyed by file name, not code object: a
# string caches its hash, while hashing a code object hashes its constants every time.
_in_package: dict = {}
_getframe = sys._getframe


def _probe() -> bool:
    return _getframe(0).f_code.co_name != "_probe"


# Compiled (see _compiled.py), functions push no frames: ``_getframe(0)`` is already the
# nearest Python frame, and counting ``depth`` frames up from it would skip the user's.
# The hot path is compiled all or nothing, so this one flag covers every caller.
_COMPILED = _probe()


def _classify(filename: str) -> bool:
    inside = _in_package[filename] = os.path.realpath(filename).startswith(PKG_DIR)
    return inside


@cython.locals(known=dict)
def creation_site(depth: int = 2) -> tuple | None:
    """(code object, instruction offset) of the first caller frame outside the package,
    starting ``depth`` frames above this function's caller's caller (as ``sys._getframe``;
    compiled, from the nearest Python frame, since compiled callers push none)."""
    f = _getframe(0 if _COMPILED else depth)
    known = _in_package
    while f is not None:
        code = f.f_code
        inside = known.get(code.co_filename)
        if inside is None:
            inside = _classify(code.co_filename)
        if not inside:
            return (code, f.f_lasti)
        f = f.f_back
    return None


def site_line(site: tuple | None) -> int | None:
    """The source line of a site's instruction offset (``co_lines`` maps offsets to lines)."""
    if site is None:
        return None
    code, offset = site
    for start, end, line in code.co_lines():
        if start <= offset < end:
            return line
    return code.co_firstlineno


def format_site(site: tuple | None) -> str:
    """``file:line (in function)`` of a creation site, or "<unknown>"."""
    if site is None:
        return "<unknown>"
    code = site[0]
    return f"{code.co_filename}:{site_line(site)} (in {code.co_name})"
