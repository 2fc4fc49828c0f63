"""docs/derivatives.md is generated from the op registry and the op-test tables; it must be
regenerated (``python scripts/gen_derivatives.py``) whenever an op, a formula or a test row
changes."""

from __future__ import annotations

import difflib
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import gen_derivatives


def test_derivatives_doc_is_current():
    text = gen_derivatives.build()
    with open(gen_derivatives.DOC, encoding="utf-8") as f:
        committed = f.read()
    if text != committed:
        diff = list(difflib.unified_diff(committed.splitlines(), text.splitlines(),
                                         "committed", "generated", lineterm="", n=0))
        pytest.fail("docs/derivatives.md is stale: run python scripts/gen_derivatives.py\n"
                    + "\n".join(diff[:40]), pytrace=False)


def test_summary_counts_every_primitive():
    """The generated summary counts what the registry holds (the generator can fail)."""
    registry = gen_derivatives.load_registry()
    from retrograd.ops._core import REGISTRY

    library = {cls for cls in REGISTRY.values() if cls.__module__.startswith("retrograd.")}
    assert library - set(registry.values()) == {
        cls for cls in library if gen_derivatives.is_abstract(cls)}
    with open(gen_derivatives.DOC, encoding="utf-8") as f:
        doc = f.read()
    assert f"Primitives in the registry: **{len(registry)}**" in doc
    for key, cls in registry.items():
        assert f"| `{key}` | `{cls._name}` |" in doc
