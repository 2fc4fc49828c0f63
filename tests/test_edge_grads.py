"""Gradients at edge values, against PyTorch: signed zeros at atan2's origin, NaN where a
negative base meets a non-integer power (also at -inf, where C's pow says 0)."""

import math

import pytest
import torch

import retrograd


def _grads(lib, fn, *values):
    xs = [lib.tensor(v, requires_grad=True) for v in values]
    fn(*xs).sum().backward()
    return [x.grad.tolist() for x in xs]


def _same(a, b):
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(p, q) for p, q in zip(a, b))
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1, a) == math.copysign(1, b)


@pytest.mark.parametrize("y,x", [(0.0, 0.0), (-0.0, 0.0), (0.0, -0.0), (-0.0, -0.0),
                                 (1.0, 2.0), (-3.0, 0.5)])
def test_atan2_gradient_at_and_near_the_origin(y, x):
    ours = _grads(retrograd, retrograd.atan2, y, x)
    theirs = _grads(torch, torch.atan2, y, x)
    assert _same(ours, theirs), (ours, theirs)


@pytest.mark.parametrize("exponent", [0.5, 1.5, -0.5, 2.0, -1.0, 3.0])
def test_pow_gradient_at_infinities_and_negative_bases(exponent):
    values = [[-math.inf, math.inf, -1.0, -0.0, 0.0, 2.0]]
    ours = _grads(retrograd, lambda t: t ** exponent, *values)
    theirs = _grads(torch, lambda t: t ** exponent, *values)
    assert _same(ours, theirs), (ours, theirs)


@pytest.mark.parametrize("exponent", [0.5, -0.5, 1.5, -1.5])
def test_pow_values_at_infinities_and_signed_zeros(exponent):
    values = [-math.inf, math.inf, -1.0, -0.0, 0.0, 4.0]
    ours = (retrograd.tensor(values) ** exponent).tolist()
    theirs = (torch.tensor(values) ** exponent).tolist()
    assert _same(ours, theirs), (ours, theirs)
