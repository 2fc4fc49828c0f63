"""Which form of the hot path runs: compiled (C extensions built from the same ``.py``
files by Cython at install time) or pure Python.

The hot path is the modules in ``HOT``: Tensor's storage and flags, graph recording, the
one- and two-input ``apply`` paths, the engine's loop and gradient accumulation, grad mode,
the elementwise table's machinery, ``Module.__call__`` and the optimizer's loop. They are
ordinary Python (op formulas elsewhere stay interpreted, so create_graph, custom Functions,
hooks and subclasses work the same in both forms); ``setup.py`` compiles each to an
extension module beside its source when Cython and a C compiler are present, and records a
hash of each source in ``_compiled_stamp.json``. Python's import system prefers an
extension module over a ``.py`` of the same name, so this module (imported first, before
any of them) installs a finder that sends an import back to the source when

- ``RETROGRAD_PURE_PYTHON=1`` is set (the pure form, on purpose), or
- the source changed since the build (an edit in a checkout built with ``pip install -e .``):
  the stale extension would run old code, so the source runs instead, with one warning.

``status()`` says, module by module, which form is active and why; ``show_config()`` in
the package prints it. Nothing here imports NumPy: ``setup.py`` reads ``HOT`` from this file.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import sys
import warnings

__all__ = ["HOT", "STAMP", "compiled", "install", "source_hash", "status"]

# Compiled when built. Order is import order where it matters; every name is a .py file.
HOT = (
    "retrograd._site",
    "retrograd.autograd.grad_mode",
    "retrograd.autograd._record",
    "retrograd.autograd.engine",
    "retrograd.ops._core",
    "retrograd.ops._table",
    "retrograd._tensor",
    "retrograd.autograd.graph",
    "retrograd.autograd._engine_hooks",
    "retrograd.ops.linear",
    "retrograd.ops.fused",
    "retrograd.nn.modules._hooks",
    "retrograd.nn.modules.module",
    "retrograd.optim.optimizer",
    "retrograd.optim.sgd",
)
STAMP = "_compiled_stamp.json"
_ROOT = os.path.dirname(os.path.abspath(__file__))
_ENV = "RETROGRAD_PURE_PYTHON"

# module name -> ("compiled" | "pure", reason); filled by install()
_status: dict[str, tuple[str, str]] = {}


def source_hash(path: str) -> str:
    """The hash of a hot module's source: its ``.py``, the ``.pxd`` of C types beside it,
    if any, and ``_arrays.pxd``, which hot .pxd files cimport (Cython reads them all; an
    edit of any makes the extension stale)."""
    h = hashlib.sha256()
    shared = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_arrays.pxd")
    for p in (path, path[:-3] + ".pxd", shared):
        if p == path or os.path.exists(p):
            with open(p, "rb") as f:
                h.update(f.read())
    return h.hexdigest()


def _paths(name: str) -> tuple[str, str | None]:
    """The module's source file and its built extension (None when there is none)."""
    base = os.path.join(_ROOT, *name.split(".")[1:])
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        if os.path.exists(base + suffix):
            return base + ".py", base + suffix
    return base + ".py", None


def _read_stamp() -> dict:
    try:
        with open(os.path.join(_ROOT, STAMP)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


class _SourceFinder:
    """A meta-path finder that loads the listed modules from their ``.py`` files."""

    def __init__(self, names: dict[str, str]):
        self.names = names

    def find_spec(self, name, path=None, target=None):
        source = self.names.get(name)
        if source is None:
            return None
        return importlib.util.spec_from_file_location(name, source)


def install() -> None:
    """Decide each hot module's form and route the pure ones to their source."""
    if _status:
        return
    stamp = _read_stamp()
    hashes = stamp.get("sources", {})
    forced = os.environ.get(_ENV, "") not in ("", "0")
    found = {name: _paths(name) for name in HOT}
    stale = [os.path.relpath(source, os.path.dirname(_ROOT))
             for name, (source, ext) in found.items()
             if ext is not None and hashes.get(name) != source_hash(source)]
    missing = [name for name, (_, ext) in found.items() if ext is None]
    # All or nothing: a compiled caller pushes no frames, and _site counts frames
    # differently in the two forms, so the forms never mix.
    if forced:
        why = f"{_ENV}=1"
    elif stamp.get("failed"):
        why = f"the build failed: {stamp['failed']}"
    elif stale:
        why = "source changed since the build"
    elif missing:
        why = stamp.get("failed") or "not built"
    else:
        why = ""
    to_source: dict[str, str] = {}
    for name, (source, ext) in found.items():
        if why:
            _status[name] = ("pure", why)
            if ext is not None:
                to_source[name] = source
        else:
            _status[name] = ("compiled", os.path.basename(ext))
    if to_source:
        sys.meta_path.insert(0, _SourceFinder(to_source))
    if stale and not forced:
        warnings.warn(
            f"retrograd: {', '.join(stale)} changed since the compiled core was built; "
            "running those modules as pure Python. Rebuild with `pip install -e .`.",
            RuntimeWarning, stacklevel=3)
    elif stamp.get("failed") and not forced:
        warnings.warn(
            f"retrograd: the compiled core could not be built ({stamp['failed']}); running "
            f"the pure-Python form. Set {_ENV}=1 to choose it and silence this warning.",
            RuntimeWarning, stacklevel=3)


def compiled() -> bool:
    """Whether the whole hot path runs compiled (every module in ``HOT`` loaded from C)."""
    return all(_loaded_form(name) == "compiled" for name in HOT)


def _loaded_form(name: str) -> str:
    mod = sys.modules.get(name)
    if mod is None:
        return _status.get(name, ("pure", ""))[0]
    loader = getattr(mod.__spec__, "loader", None)
    return "compiled" if isinstance(loader, importlib.machinery.ExtensionFileLoader) else "pure"


def status() -> dict[str, tuple[str, str]]:
    """module name -> (form actually loaded, why)."""
    out = {}
    for name in HOT:
        form, why = _status.get(name, ("pure", "not imported"))
        loaded = _loaded_form(name)
        out[name] = (loaded, why if loaded == form else "loaded before retrograd's finder")
    return out
