"""Pooling (issue: the full differentiable op library): max/avg/adaptive/lp pooling and max
unpooling, against NumPy, finite differences and PyTorch."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch  # the oracle: a missing install fails the tests, never skips them
from numpy.lib.stride_tricks import sliding_window_view
from optable import (
    OpCase,
)
from test_nn_conv import _both_raise, assert_matches_torch

import retrograd
import retrograd.nn.functional as F

TF = torch.nn.functional


def distinct(rng, shapes):
    """Well-separated values, so that no finite-difference step changes an argmax."""
    out = []
    for s in shapes:
        n = int(np.prod(s))
        out.append((rng.permutation(n).reshape(s) * 0.1 - n * 0.05).astype(np.float64))
    return out


def np_pool(x, k, reduce, stride=None):
    nd = len(k)
    stride = stride or k
    win = sliding_window_view(x, k, axis=tuple(range(-nd, 0)))
    win = win[(Ellipsis,) + tuple(slice(None, None, s) for s in stride) + (slice(None),) * nd]
    return reduce(win, axis=tuple(range(-nd, 0)))


CASES = [
    OpCase("max_pool1d", lambda L, x: L.max_pool1d(x, 2), lambda x: np_pool(x, (2,), np.max),
           [((1, 2, 6),)], make=distinct),
    OpCase("max_pool2d", lambda L, x: L.max_pool2d(x, 2), lambda x: np_pool(x, (2, 2), np.max),
           [((1, 2, 4, 4),), ((2, 4, 5),)], make=distinct),
    OpCase("max_pool2d_overlap_pad",
           lambda L, x: L.nn.functional.max_pool2d(x, 3, 2, 1, ceil_mode=True), None,
           [((1, 2, 5, 6),)], make=distinct),
    OpCase("max_pool2d_dilation", lambda L, x: L.max_pool2d(x, 2, 1, 0, 2),
           lambda x: np_pool(x[..., ::1, ::1], (3, 3), lambda w, axis: w[..., ::2, ::2].max(
               axis=axis), (1, 1)), [((1, 1, 5, 5),)], make=distinct),
    OpCase("max_pool3d", lambda L, x: L.max_pool3d(x, 2), lambda x: np_pool(x, (2, 2, 2), np.max),
           [((1, 1, 4, 2, 4),)], make=distinct),
    OpCase("avg_pool1d", lambda L, x: L.avg_pool1d(x, 3, 1),
           lambda x: np_pool(x, (3,), np.mean, (1,)), [((1, 2, 5),)]),
    OpCase("avg_pool2d", lambda L, x: L.nn.functional.avg_pool2d(x, 2),
           lambda x: np_pool(x, (2, 2), np.mean), [((1, 2, 4, 4),)]),
    OpCase("avg_pool2d_pad_ceil",
           lambda L, x: L.nn.functional.avg_pool2d(x, 3, 2, 1, True, False), None,
           [((1, 2, 5, 6),)]),
    OpCase("avg_pool2d_divisor",
           lambda L, x: L.nn.functional.avg_pool2d(x, 2, 1, divisor_override=3),
           lambda x: np_pool(x, (2, 2), np.sum, (1, 1)) / 3, [((1, 1, 3, 4),)]),
    OpCase("avg_pool3d", lambda L, x: L.nn.functional.avg_pool3d(x, (1, 2, 2), padding=(0, 1, 0)),
           None, [((1, 1, 2, 3, 4),)]),
    OpCase("adaptive_avg_pool1d", lambda L, x: L.adaptive_avg_pool1d(x, 3), None,
           [((1, 2, 7),)]),
    OpCase("adaptive_avg_pool2d", lambda L, x: L.nn.functional.adaptive_avg_pool2d(x, (2, 3)),
           None, [((1, 2, 5, 4),)]),
    OpCase("adaptive_avg_pool2d_global",
           lambda L, x: L.nn.functional.adaptive_avg_pool2d(x, 1),
           lambda x: x.mean((2, 3), keepdims=True), [((2, 3, 4, 5),)]),
    OpCase("adaptive_avg_pool3d", lambda L, x: L.nn.functional.adaptive_avg_pool3d(x, (1, 2, 3)),
           None, [((1, 1, 3, 3, 4),)]),
    OpCase("adaptive_max_pool1d", lambda L, x: L.nn.functional.adaptive_max_pool1d(x, 3), None,
           [((1, 2, 7),)], make=distinct),
    OpCase("adaptive_max_pool2d", lambda L, x: L.nn.functional.adaptive_max_pool2d(x, (3, 2)),
           None, [((1, 2, 5, 4),)], make=distinct),
    OpCase("lp_pool1d", lambda L, x: L.nn.functional.lp_pool1d(x, 2, 2), None, [((1, 2, 6),)],
           domain=(0.5, 2)),
    OpCase("lp_pool2d", lambda L, x: L.nn.functional.lp_pool2d(x, 3, (2, 1), 1), None,
           [((1, 1, 3, 4),)], domain=(0.5, 2)),
    OpCase("max_unpool2d", lambda L, x: L.nn.functional.max_unpool2d(
        *L.nn.functional.max_pool2d(x, 2, return_indices=True), 2), None,
           [((1, 2, 4, 4),)], make=distinct),
    OpCase("max_unpool1d", lambda L, x: L.nn.functional.max_unpool1d(
        *L.nn.functional.max_pool1d(x, 2, return_indices=True), 2, output_size=[7]), None,
           [((1, 2, 7),)], make=distinct),
    OpCase("adaptive_max_pool3d", lambda L, x: L.nn.functional.adaptive_max_pool3d(x, 2),
           None, [((1, 1, 3, 3, 3),)], make=distinct),
    OpCase("max_unpool3d", lambda L, x: L.nn.functional.max_unpool3d(
        *L.nn.functional.max_pool3d(x, 2, return_indices=True), 2), None,
           [((1, 1, 4, 4, 4),)], make=distinct),
    # PyTorch's own double backward of this op fails ("Expected a proper Tensor").
    OpCase("max_pool2d_with_indices_backward", lambda L, g, x: _pool_backward(L, g, x), None,
           [((1, 2, 2, 2), (1, 2, 5, 5)), ((2, 2, 2), (2, 5, 5))], make=distinct,
           torch={"gradgrad": False}),
]


def _pool_backward(lib, g, x):
    """max_pool2d_with_indices_backward (ours from ops.native, PyTorch's from torch.ops.aten)
    of a 3x3, stride 2 pooling: overlapping windows share input elements."""
    _, idx = lib.nn.functional.max_pool2d(x, 3, 2, return_indices=True)
    f = torch.ops.aten.max_pool2d_with_indices_backward if lib is torch else \
        retrograd.ops.native.max_pool2d_with_indices_backward
    return f(g, x, [3, 3], [2, 2], [0, 0], [1, 1], False, idx)


# ---------------------------------------------------------------------- option combinations

MAX_OPTIONS = [
    dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=c)
    for k, s, p, d, c in itertools.product([2, (3, 2)], [None, 1, (2, 3)], [0, 1], [1, (2, 1)],
                                           [False, True])
]


@pytest.mark.parametrize("opts", MAX_OPTIONS, ids=str)
def test_max_pool2d_options_match_torch(opts):
    rng = np.random.default_rng(0)
    x = np.round(rng.standard_normal((2, 3, 7, 8)), 1)  # ties: the first occurrence wins
    assert_matches_torch(lambda L, F, x: F.max_pool2d(x, return_indices=True, **opts), x)


AVG_OPTIONS = [
    dict(kernel_size=k, stride=s, padding=p, ceil_mode=c, count_include_pad=i,
         divisor_override=dv)
    for k, s, p, c, i, dv in itertools.product([2, (3, 2)], [None, (2, 1)], [0, 1],
                                               [False, True], [True, False], [None, 5])
]


@pytest.mark.parametrize("opts", AVG_OPTIONS, ids=str)
def test_avg_pool2d_options_match_torch(opts):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 7, 8))
    assert_matches_torch(lambda L, F, x: F.avg_pool2d(x, **opts), x)


@pytest.mark.parametrize("nd", [1, 3])
def test_pool_1d_3d_options_match_torch(nd):
    rng = np.random.default_rng(2)
    x = np.round(rng.standard_normal((2, 2) + (9, 5, 6)[:nd]), 1)
    kw = dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)
    assert_matches_torch(lambda L, F, x: getattr(F, f"max_pool{nd}d")(
        x, dilation=1, return_indices=True, **kw), x)
    assert_matches_torch(lambda L, F, x: getattr(F, f"avg_pool{nd}d")(
        x, count_include_pad=False, **kw), x)
    assert_matches_torch(lambda L, F, x: getattr(F, f"adaptive_avg_pool{nd}d")(x, 4), x)
    if nd == 1:
        assert_matches_torch(lambda L, F, x: F.adaptive_max_pool1d(x, 4, True), x)
        assert_matches_torch(lambda L, F, x: F.lp_pool1d(x.abs() + 0.5, 1.5, 3, 2), x)


@pytest.mark.parametrize("size", [(3, 5), (1, 1), (None, 2), 4, (7, 8), (8, 9)], ids=str)
def test_adaptive_pool2d_match_torch(size):
    rng = np.random.default_rng(3)
    x = np.round(rng.standard_normal((2, 3, 7, 8)), 1)
    assert_matches_torch(lambda L, F, x: F.adaptive_avg_pool2d(x, size), x)
    assert_matches_torch(lambda L, F, x: F.adaptive_max_pool2d(x, size, return_indices=True), x)


def test_unbatched_and_unpool_match_torch():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 6, 7))

    def roundtrip(L, F, x):
        out, idx = F.max_pool2d(x, 2, 2, 1, return_indices=True)
        return F.max_unpool2d(out * 2, idx, 2, 2, 1, output_size=(6, 7)), idx

    assert_matches_torch(roundtrip, x)
    assert_matches_torch(lambda L, F, x: F.lp_pool2d(x * x + 0.1, 2, 3, 2), x)


def test_max_pool_ties_nan_and_float32_match_torch():
    x = np.array([[[[1.0, 1.0, 0.0, 2.0], [1.0, 0.0, 2.0, 2.0], [np.nan, 3.0, -np.inf, -np.inf],
                    [3.0, np.nan, -np.inf, -np.inf]]]], dtype=np.float32)
    for kw in [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)]:
        r = F.max_pool2d(retrograd.tensor(x), return_indices=True, **kw)
        t = TF.max_pool2d(torch.tensor(x), return_indices=True, **kw)
        np.testing.assert_array_equal(r[1].numpy(), t[1].numpy())
        np.testing.assert_array_equal(r[0].numpy(), t[0].numpy())
        assert r[0].dtype == retrograd.float32 and r[1].dtype == retrograd.int64
    xt = retrograd.tensor(x[..., :2, :2], requires_grad=True)
    F.max_pool2d(xt, 2).sum().backward()
    np.testing.assert_array_equal(xt.grad.numpy()[0, 0], [[1, 0], [0, 0]])
    rng = np.random.default_rng(5)
    y = rng.standard_normal((4, 3, 10, 10)).astype(np.float32)
    assert_matches_torch(lambda L, F, y: F.avg_pool2d(F.max_pool2d(y, 2), 2, 1, 1), y,
                         atol=1e-5, rtol=1e-5)


def test_max_pool_grad_fn_names():
    x = retrograd.ones(1, 1, 4, 4, requires_grad=True)
    assert F.max_pool2d(x, 2).grad_fn.name() == "MaxPool2DWithIndicesBackward0"
    assert F.adaptive_max_pool2d(x, 2).grad_fn.name() == "AdaptiveMaxPool2DBackward0"


def test_pool_errors_match_torch():
    _both_raise(lambda L, F: F.max_pool2d(L.ones(1, 3, 5, 5), 2, padding=2), RuntimeError,
                "pad should be at most half of effective kernel size")
    _both_raise(lambda L, F: F.max_pool2d(L.ones(1, 3, 9, 9), 3, dilation=2, padding=2),
                RuntimeError, "pad should be smaller than or equal to half of kernel size")
    _both_raise(lambda L, F: F.avg_pool2d(L.ones(1, 3, 5, 5), 2, padding=2), RuntimeError,
                "pad should be at most half of effective kernel size")
    _both_raise(lambda L, F: F.max_pool1d(L.ones(1, 3, 9), 3, dilation=2, padding=2),
                RuntimeError, "max_pool1d() padding should be at most half of kernel size")
    _both_raise(lambda L, F: F.max_pool2d(L.ones(1, 3, 1, 1), 2), RuntimeError,
                "Given input size: (3x1x1). Calculated output size: (3x0x0). Output size is "
                "too small")
    _both_raise(lambda L, F: F.avg_pool2d(L.ones(1, 3, 1, 1), 2), RuntimeError,
                "Output size is too small")


def test_with_indices_variants_match_torch():
    rng = np.random.default_rng(6)
    x = np.round(rng.standard_normal((2, 3, 7, 8)), 1)
    for nd in (1, 2, 3):
        y = x[0] if nd == 1 else (x[None] if nd == 3 else x)
        assert_matches_torch(lambda L, F, y: getattr(F, f"max_pool{nd}d_with_indices")(
            y, 2, 1, 1), y)
        assert_matches_torch(lambda L, F, y: getattr(
            F, f"adaptive_max_pool{nd}d_with_indices")(y, 3), y)


# ---------------------------------------------------------------- winners kept as uint8

@pytest.mark.parametrize("opts", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                  dict(kernel_size=2, stride=1, dilation=2),
                                  dict(kernel_size=3, ceil_mode=True)])
def test_max_pool_gradient_with_and_without_indices_match_torch(opts):
    rng = np.random.default_rng(8)
    x = np.round(rng.standard_normal((4, 3, 11, 12)), 1).astype(np.float32)  # with ties
    g = rng.standard_normal(TF.max_pool2d(torch.tensor(x), **opts).shape).astype(np.float32)
    tx = torch.tensor(x, requires_grad=True)
    tout, tidx = TF.max_pool2d(tx, return_indices=True, **opts)
    tout.backward(torch.tensor(g))
    for with_idx in (False, True):
        rx = retrograd.tensor(x, requires_grad=True)
        res = F.max_pool2d(rx, return_indices=with_idx, **opts)
        out = res[0] if with_idx else res
        out.backward(retrograd.tensor(g))
        np.testing.assert_array_equal(out.detach().numpy(), tout.detach().numpy())
        # Overlapping windows sum several gradients, in another order than PyTorch's.
        np.testing.assert_allclose(rx.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-6)
        if with_idx:
            np.testing.assert_array_equal(res[1].numpy(), tidx.numpy())


def test_max_pool_double_backward_and_retain_graph_without_indices():
    rng = np.random.default_rng(9)
    x = retrograd.tensor(rng.standard_normal((2, 2, 6, 6)), requires_grad=True)
    out = F.max_pool2d(x, 2)
    (gx,) = retrograd.autograd.grad(out.square().sum(), x, create_graph=True)
    (ggx,) = retrograd.autograd.grad(gx.sum(), x)
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    (tgx,) = torch.autograd.grad(TF.max_pool2d(tx, 2).square().sum(), tx, create_graph=True)
    (tggx,) = torch.autograd.grad(tgx.sum(), tx)
    np.testing.assert_allclose(gx.detach().numpy(), tgx.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ggx.numpy(), tggx.numpy(), rtol=1e-12)
    y = F.max_pool2d(x, 3, 1).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), first * 2, rtol=1e-12)
