"""Imports run one way (DESIGN.md, "Layers"): parse every module's imports, function-local
ones included, and fail on one that runs against the layer direction."""

from __future__ import annotations

import ast
import pathlib

import pytest

SRC = pathlib.Path(__file__).resolve().parents[1] / "src" / "retrograd"

# Lowest first. A module may import its own layer and the layers below it, never above.
BASE = {"_dtype", "_device", "_dims", "_size", "_printing", "_site", "backend", "_cython_shim",
        "_arrays"}
AUTOGRAD_CORE = {"grad_mode", "graph", "_record", "engine", "_engine_hooks", "_messages",
                 "function", "hooks", "anomaly_mode", "forward_ad"}

# Known upward imports, each with its owner's follow-up; the list may only shrink.
ALLOWED = {
    # Tensor(data) is PyTorch's legacy constructor; ops.creation should install __init__.
    ("retrograd._tensor", "retrograd.ops.creation"),
}


def _module_name(path: pathlib.Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: pathlib.Path):
    """Absolute names of the retrograd modules ``path`` imports, anywhere in the file."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "retrograd":
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != "retrograd":
                continue
            for alias in node.names:
                sub = f"{mod}.{alias.name}"
                yield (sub if (SRC.parent / sub.replace(".", "/")).exists()
                       or (SRC.parent / (sub.replace(".", "/") + ".py")).exists() else mod,
                       node.lineno)


def layer(mod: str) -> int:
    """0 base, 1 Tensor (and random), 2 autograd core, 3 ops, 4 the public surface built on
    ops (the package root, the rest of autograd, linalg, func, distributed), 5 nn, 6 what is
    built on nn (optim, utils, viz, serialization, compiler, jit, onnx)."""
    parts = mod.split(".")
    top = parts[1] if len(parts) > 1 else ""
    if top in BASE:
        return 0
    if top in ("_tensor", "random"):  # random makes Tensors (generator states)
        return 1
    if top == "autograd" and len(parts) > 2 and parts[2] in AUTOGRAD_CORE:
        return 2
    if top == "ops":
        return 3
    if top == "nn":
        return 5
    if top in ("optim", "utils", "viz", "serialization", "compiler", "jit", "onnx"):
        return 6
    return 4


def _modules():
    return sorted(p for p in SRC.rglob("*.py"))


def test_layers_classify_the_package():
    # Guard against a rename making the test vacuous.
    names = {_module_name(p) for p in _modules()}
    for core in AUTOGRAD_CORE:
        assert f"retrograd.autograd.{core}" in names
    assert "retrograd.ops._core" in names and "retrograd._tensor" in names
    assert layer("retrograd.autograd.engine") == 2
    assert layer("retrograd.ops.unary") == 3
    assert layer("retrograd.nn.modules.linear") == 5


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_run_one_way(path):
    me = _module_name(path)
    mine = layer(me)
    bad = []
    for target, line in _imports(path):
        if target == me or target.startswith(me + "."):
            continue
        theirs = layer(target)
        if theirs > mine and (me, target) not in ALLOWED:
            bad.append(f"line {line}: {me} (layer {mine}) imports {target} (layer {theirs})")
    assert not bad, "\n".join(bad)


def test_allowed_exceptions_still_exist():
    """An entry of ALLOWED that no longer occurs must be removed (the list only shrinks)."""
    found = set()
    for path in _modules():
        me = _module_name(path)
        for target, _ in _imports(path):
            if (me, target) in ALLOWED:
                found.add((me, target))
    assert found == ALLOWED
