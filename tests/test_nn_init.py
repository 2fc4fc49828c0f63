"""nn.init: gains and fans equal torch's; fills have the right distribution and shape."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from nn_common import to_np

import retrograd as R

init = R.nn.init


@pytest.mark.parametrize("args", [("linear",), ("conv2d",), ("sigmoid",), ("tanh",), ("relu",),
                                  ("leaky_relu",), ("leaky_relu", 0.2), ("selu",)])
def test_calculate_gain_matches_torch(args):
    assert init.calculate_gain(*args) == torch.nn.init.calculate_gain(*args)


def test_calculate_gain_errors_match_torch():
    for args in (("softmax",), ("leaky_relu", "x")):
        with pytest.raises(ValueError) as a:
            init.calculate_gain(*args)
        with pytest.raises(ValueError) as b:
            torch.nn.init.calculate_gain(*args)
        assert str(a.value) == str(b.value)


@pytest.mark.parametrize("shape", [(3, 4), (5, 2, 3), (4, 3, 2, 2)])
def test_fan_in_and_fan_out_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(R.empty(shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def test_fan_errors_match_torch():
    with pytest.raises(ValueError) as a:
        init._calculate_fan_in_and_fan_out(R.empty(3))
    with pytest.raises(ValueError) as b:
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(3))
    assert str(a.value) == str(b.value)
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(R.empty(3, 3), mode="fan_avg")


def test_fills_are_in_place_and_not_recorded():
    w = R.nn.Parameter(R.empty(20, 30))
    out = init.uniform_(w, -0.5, 0.5)
    assert out is w and w.is_leaf and w.grad_fn is None and w.requires_grad
    vals = to_np(w)
    assert vals.min() >= -0.5 and vals.max() <= 0.5 and vals.std() > 0.2
    init.constant_(w, 0.3)
    assert np.all(to_np(w) == np.float32(0.3))
    init.zeros_(w)
    assert not to_np(w).any()
    init.ones_(w)
    assert np.all(to_np(w) == 1)


@pytest.mark.parametrize("fn,expected_std", [
    (lambda t: init.normal_(t, 1.0, 0.5), 0.5),
    (lambda t: init.xavier_normal_(t, gain=2.0), 2.0 * math.sqrt(2.0 / (200 + 100))),
    (lambda t: init.xavier_uniform_(t), math.sqrt(2.0 / (200 + 100))),
    (lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
     math.sqrt(2.0) / math.sqrt(200)),
    (lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)), 1 / math.sqrt(100) / math.sqrt(3)),
    (lambda t: init.trunc_normal_(t, std=0.02, a=-0.04, b=0.04), 0.02 * 0.88),
])
def test_distributions_have_the_expected_spread(fn, expected_std):
    t = R.empty(200, 100)
    fn(t)
    assert abs(to_np(t).std() - expected_std) < 0.05 * expected_std


def test_bounds_of_uniform_inits():
    t = R.empty(64, 32)
    init.kaiming_uniform_(t, a=math.sqrt(5))
    assert np.abs(to_np(t)).max() <= 1 / math.sqrt(32)
    init.trunc_normal_(t, mean=0.0, std=1.0, a=-0.5, b=0.7)
    assert to_np(t).min() >= -0.5 and to_np(t).max() <= 0.7


def test_eye_and_dirac_equal_torch():
    for shape in [(3, 5), (4, 2)]:
        a, b = R.empty(shape), torch.empty(shape)
        init.eye_(a)
        torch.nn.init.eye_(b)
        np.testing.assert_array_equal(to_np(a), b.numpy())
    for shape, groups in [((4, 2, 3), 1), ((6, 3, 3, 3), 2), ((2, 2, 1, 3, 3), 1)]:
        a, b = R.empty(shape), torch.empty(shape)
        init.dirac_(a, groups)
        torch.nn.init.dirac_(b, groups)
        np.testing.assert_array_equal(to_np(a), b.numpy())
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(R.empty(2, 2, 2))


@pytest.mark.parametrize("shape", [(6, 4), (3, 8), (4, 2, 3)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape):
    t = R.empty(shape)
    init.orthogonal_(t, gain=2.0)
    flat = to_np(t).reshape(shape[0], -1)
    gram = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(gram, 4.0 * np.eye(gram.shape[0]), atol=1e-5)


def test_sparse_zeroes_a_fraction_of_each_column():
    t = R.empty(10, 6)
    init.sparse_(t, sparsity=0.3)
    zeros = (to_np(t) == 0).sum(0)
    assert np.all(zeros >= 3)


def test_generator_makes_fills_reproducible():
    a, b = R.empty(5, 5), R.empty(5, 5)
    init.kaiming_normal_(a, generator=R.Generator().manual_seed(7))
    init.kaiming_normal_(b, generator=R.Generator().manual_seed(7))
    np.testing.assert_array_equal(to_np(a), to_np(b))
    init.kaiming_normal_(b, generator=R.Generator().manual_seed(8))
    assert not np.array_equal(to_np(a), to_np(b))


def test_fill_keeps_dtype():
    t = R.empty(4, 4, dtype=R.float64)
    init.xavier_uniform_(t)
    assert t.dtype == R.float64


def test_deprecated_names_warn():
    with pytest.warns(FutureWarning, match="nn.init.uniform_"):
        init.uniform(R.empty(2))
