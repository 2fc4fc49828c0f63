"""Every op-test row of every family, checked the same four ways: forward against NumPy,
first and second derivatives against float64 finite differences, forward, gradient and
double gradient against PyTorch, and forward mode against a finite difference.

Each family's table (``CASES``) sits in its test module, beside the behaviour tests that do
not fit a row; this module is the one runner. It also holds the registry to account: every
primitive is reached by some row, or is listed in ``NO_ROW`` with the reason.
"""

from __future__ import annotations

import importlib
import warnings

import pytest
from optable import (
    check_against_torch,
    check_forward_ad,
    check_forward_numpy,
    check_gradients,
    params,
    primitives_reached,
)

#: The test modules holding a family's table, as ``CASES``.
FAMILIES = ("test_ops_core", "test_ops_pointwise", "test_ops_reduction", "test_ops_shape",
            "test_indexing", "test_linalg", "test_nn_functional_act", "test_nn_losses",
            "test_nn_norm", "test_nn_conv", "test_nn_pool", "test_nn_vision", "test_complex",
            "test_fft", "test_ops_extra", "test_special_more", "test_views_more", "test_signal",
            "test_reduce_more", "test_linalg_more")


def tables() -> dict[str, list]:
    """Each family's rows, by the short name that prefixes their test ids."""
    return {name.removeprefix("test_"): importlib.import_module(name).CASES
            for name in FAMILIES}


def _all(select) -> list:
    out = []
    for family, cases in tables().items():
        out += params([c for c in cases if select(c)], prefix=f"{family}.")
    return out


@pytest.mark.parametrize(("case", "shapes"), _all(lambda c: c.ref is not None))
def test_forward_matches_numpy(case, shapes):
    check_forward_numpy(case, shapes)


@pytest.mark.parametrize(("case", "shapes"), _all(lambda c: c.grad and c.fd))
def test_gradients_match_finite_differences(case, shapes):
    check_gradients(case, shapes)


@pytest.mark.parametrize(("case", "shapes"), _all(lambda c: True))
def test_matches_pytorch(case, shapes):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's deprecation notes (reduction=...)
        check_against_torch(case, shapes)


@pytest.mark.parametrize(("case", "shapes"), _all(lambda c: c.grad and c.fd))
def test_forward_ad_matches_finite_differences(case, shapes):
    check_forward_ad(case, shapes)


#: Primitives that no row reaches, each with the reason; the test below keeps it exact.
NO_ROW = {
    "MaxPool": "a base class: the graph nodes are MaxPool1D/2D/3DWithIndices",
    "AdaptiveMaxPool": "a base class: the graph nodes are AdaptiveMaxPool1D/2D/3D",
    "EmbeddingGather": "runs as embedding's forward-mode rule (the embedding rows' forward "
                       "check computes it) and as the third derivative of embedding; no "
                       "graph of first or second order holds it",
}


def test_every_primitive_has_a_row_or_a_reason():
    from retrograd.ops._core import REGISTRY

    reached = set()
    for cases in tables().values():
        for case in cases:
            reached |= primitives_reached(case)
    library = {name for name, cls in REGISTRY.items() if cls.__module__.startswith("retrograd.")
               and callable(getattr(cls, "forward", None))}
    missing = sorted(library - reached - set(NO_ROW))
    assert not missing, f"primitives without a test row (add one, or a reason to NO_ROW): " \
                        f"{missing}"
    stale = sorted(set(NO_ROW) & reached)
    assert not stale, f"NO_ROW lists primitives that rows now reach: {stale}"
    assert set(NO_ROW) <= library, sorted(set(NO_ROW) - library)
