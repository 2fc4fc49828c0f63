"""Helpers shared by the test modules: running code under both libraries, reference
math in NumPy, and seeded inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import retrograd


def both(fn):
    """``fn(lib)`` under retrograd and under torch."""
    return fn(retrograd), fn(torch)


def both_raise(fn):
    """Run ``fn(lib)`` on both libraries, expecting each to raise; the two exceptions (of
    the same class)."""
    errs = []
    for lib in (torch, retrograd):
        with pytest.raises(Exception) as info:
            fn(lib)
        errs.append(info.value)
    assert type(errs[0]) is type(errs[1]), (errs[0], errs[1])
    return errs


def both_tensors(values, dtype="float64", requires_grad=True):
    """The same values as a retrograd and a torch tensor."""
    r = retrograd.tensor(values, dtype=getattr(retrograd, dtype), requires_grad=requires_grad)
    t = torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=requires_grad)
    return r, t


def arr(t) -> np.ndarray:
    """A tensor of either library as a NumPy array."""
    return np.asarray(t.detach().numpy())


def assert_same(r, t, atol=1e-6, rtol=1e-5):
    """Same dtype, shape and values (NaN where NaN)."""
    assert str(r.dtype) == str(t.dtype), (r.dtype, t.dtype)
    assert tuple(r.shape) == tuple(t.shape)
    np.testing.assert_allclose(arr(r), t.detach().numpy(), atol=atol, rtol=rtol, equal_nan=True)


def make_randn(seed: int = 0):
    """``randn(*shape)``: float32 standard normals from a generator of the caller's own, so
    each test module draws the same values whatever ran before it."""
    rng = np.random.default_rng(seed)

    def randn(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    return randn


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(x, dim=-1):
    e = np.exp(x - x.max(dim, keepdims=True))
    return e / e.sum(dim, keepdims=True)
