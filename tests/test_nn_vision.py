"""Vision ops (issue: the full differentiable op library): pad, interpolate/upsample,
pixel_shuffle/pixel_unshuffle, against NumPy, finite differences and PyTorch."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch  # the oracle: a missing install fails the tests, never skips them
from optable import (
    OpCase,
)
from test_nn_conv import _both_raise, assert_matches_torch

import retrograd
import retrograd.nn.functional as F

TF = torch.nn.functional


def np_pixel_shuffle(x, r):
    n, c, h, w = x.shape
    return x.reshape(n, c // (r * r), r, r, h, w).transpose(0, 1, 4, 2, 5, 3).reshape(
        n, c // (r * r), h * r, w * r)


CASES = [
    OpCase("pad_constant", lambda L, x: L.nn.functional.pad(x, (1, 2)),
           lambda x: np.pad(x, [(0, 0)] * (x.ndim - 1) + [(1, 2)]), [((2, 3),), ((4,),)]),
    OpCase("pad_constant_value_crop", lambda L, x: L.nn.functional.pad(x, (-1, 2, 1, 0), value=3),
           lambda x: np.pad(x[..., 1:], [(0, 0), (1, 0), (0, 2)], constant_values=3),
           [((2, 3, 4),)]),
    OpCase("pad_reflect", lambda L, x: L.nn.functional.pad(x, (2, 1, 1, 2), mode="reflect"),
           lambda x: np.pad(x, [(0, 0), (0, 0), (1, 2), (2, 1)], mode="reflect"),
           [((1, 2, 3, 4),)]),
    OpCase("pad_replicate", lambda L, x: L.nn.functional.pad(x, (2, 1), mode="replicate"),
           lambda x: np.pad(x, [(0, 0), (0, 0), (2, 1)], mode="edge"), [((1, 2, 3),)]),
    OpCase("pad_circular", lambda L, x: L.nn.functional.pad(x, (1, 2, 2, 0), mode="circular"),
           lambda x: np.pad(x, [(0, 0), (2, 0), (1, 2)], mode="wrap"), [((2, 3, 4),)]),
    OpCase("pad_reflect_3d", lambda L, x: L.nn.functional.pad(x, (1,) * 6, mode="reflect"),
           lambda x: np.pad(x, [(0, 0)] * 2 + [(1, 1)] * 3, mode="reflect"),
           [((1, 1, 2, 3, 2),)]),
    OpCase("interp_nearest", lambda L, x: L.nn.functional.interpolate(x, scale_factor=2),
           lambda x: x.repeat(2, -1).repeat(2, -2), [((1, 2, 2, 3),)]),
    OpCase("interp_nearest_size", lambda L, x: L.nn.functional.interpolate(x, size=5), None,
           [((1, 2, 3),)]),
    OpCase("interp_linear", lambda L, x: L.nn.functional.interpolate(
        x, scale_factor=1.5, mode="linear"), None, [((1, 2, 4),)]),
    OpCase("interp_bilinear_ac", lambda L, x: L.nn.functional.interpolate(
        x, size=(3, 5), mode="bilinear", align_corners=True), None, [((1, 1, 2, 3),)]),
    OpCase("interp_bilinear", lambda L, x: L.nn.functional.interpolate(
        x, size=(4, 2), mode="bilinear"), None, [((1, 2, 3, 3),)]),
    OpCase("interp_bicubic", lambda L, x: L.nn.functional.interpolate(
        x, size=(4, 5), mode="bicubic"), None, [((1, 1, 3, 3),)]),
    OpCase("interp_trilinear", lambda L, x: L.nn.functional.interpolate(
        x, scale_factor=(1, 2, 1.5), mode="trilinear"), None, [((1, 1, 2, 2, 2),)]),
    OpCase("interp_area", lambda L, x: L.nn.functional.interpolate(x, size=(2, 3), mode="area"),
           None, [((1, 2, 5, 4),)]),
    OpCase("upsample_bilinear", lambda L, x: L.nn.functional.interpolate(
        x, scale_factor=2, mode="bilinear", align_corners=True), None, [((1, 1, 2, 3),)]),
    OpCase("affine_grid", lambda L, t: L.nn.functional.affine_grid(t, (2, 1, 3, 4), False), None,
           [((2, 2, 3),)]),
    OpCase("affine_grid_3d", lambda L, t: L.nn.functional.affine_grid(t, (1, 1, 2, 3, 2), True),
           None, [((1, 3, 4),)]),
    OpCase("grid_sample", lambda L, x, g: L.nn.functional.grid_sample(x, g, align_corners=False),
           None, [((1, 2, 3, 4), (1, 2, 3, 2))], domain=(-1.2, 1.2)),
    OpCase("grid_sample_border_ac", lambda L, x, g: L.nn.functional.grid_sample(
        x, g, padding_mode="border", align_corners=True), None,
           [((1, 1, 3, 3), (1, 2, 2, 2))], domain=(-1.2, 1.2)),
    OpCase("grid_sample_reflection", lambda L, x, g: L.nn.functional.grid_sample(
        x, g, padding_mode="reflection", align_corners=False), None,
           [((1, 1, 3, 3), (1, 2, 2, 2))], domain=(-1.4, 1.4)),
    OpCase("grid_sample_nearest", lambda L, x, g: L.nn.functional.grid_sample(
        x, g, mode="nearest", align_corners=False), None,
           [((1, 2, 3, 3), (1, 2, 2, 2))], domain=(-1.1, 1.1)),
    OpCase("pixel_shuffle", lambda L, x: L.pixel_shuffle(x, 2), lambda x: np_pixel_shuffle(x, 2),
           [((1, 8, 2, 3),)]),
    OpCase("pixel_unshuffle", lambda L, x: L.pixel_unshuffle(x, 2), None, [((2, 1, 4, 2),)]),
    OpCase("channel_shuffle", lambda L, x: L.nn.functional.channel_shuffle(x, 3),
           lambda x: x.reshape(2, 3, 2, 2).transpose(0, 2, 1, 3).reshape(2, 6, 2),
           [((2, 6, 2),)]),
    OpCase("pixel_shuffle_batch", lambda L, x: L.nn.functional.pixel_shuffle(x, 3), None,
           [((2, 2, 9, 1, 2),), ((9, 2, 2),)]),
]


# ---------------------------------------------------------------------- option combinations

PADS = [(1, 2), (0, 3, 2, 1), (1, 1, 2, 0, 0, 1), (-1, 2, 1, -2), (2, -1, -2, 1, 1, 0)]


@pytest.mark.parametrize(("pad", "mode"), list(itertools.product(
    PADS, ["constant", "reflect", "replicate", "circular"])), ids=str)
def test_pad_modes_match_torch(pad, mode):
    rng = np.random.default_rng(0)
    nd = len(pad) // 2
    x = rng.standard_normal((2, 3, 5, 4, 4)[:nd + 2])
    assert_matches_torch(lambda L, F, x: F.pad(x, pad, mode=mode), x)


INTERP = [
    dict(size=s, mode=m, align_corners=a)
    for s, m, a in itertools.product([(7, 4), (3, 9), (1, 1)], ["bilinear", "bicubic"],
                                     [False, True])
] + [
    dict(scale_factor=f, mode=m, align_corners=a, recompute_scale_factor=r)
    for f, m, a, r in itertools.product([2, (0.6, 1.7)], ["bilinear", "bicubic"],
                                        [False, True], [None, True])
] + [
    dict(size=s, mode=m) for s, m in itertools.product([(7, 4), (3, 9)],
                                                       ["nearest", "nearest-exact", "area"])
] + [
    dict(scale_factor=f, mode=m) for f, m in itertools.product([3, (0.5, 1.5), 2.3],
                                                               ["nearest", "nearest-exact"])
]


@pytest.mark.parametrize("opts", INTERP, ids=str)
def test_interpolate_options_match_torch(opts):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 5, 6))
    assert_matches_torch(lambda L, F, x: F.interpolate(x, **opts), x)


@pytest.mark.parametrize("mode", ["nearest", "linear", "area", "nearest-exact"])
def test_interpolate_1d_3d_match_torch(mode):
    rng = np.random.default_rng(2)
    x1 = rng.standard_normal((2, 3, 7))
    assert_matches_torch(lambda L, F, x: F.interpolate(x, scale_factor=1.6, mode=mode), x1)
    m3 = "trilinear" if mode == "linear" else mode
    x3 = rng.standard_normal((1, 2, 3, 4, 5))
    assert_matches_torch(lambda L, F, x: F.interpolate(x, size=(4, 2, 7), mode=m3), x3)


@pytest.mark.parametrize(("mode", "padding_mode", "align_corners"), list(itertools.product(
    ["bilinear", "nearest"], ["zeros", "border", "reflection"], [False, True])), ids=str)
def test_grid_sample_options_match_torch(mode, padding_mode, align_corners):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 5, 6))
    theta = rng.standard_normal((2, 2, 3)) * 0.8

    def warp(L, F, x, theta):
        grid = F.affine_grid(theta, (2, 3, 4, 7), align_corners=align_corners)
        return F.grid_sample(x, grid, mode=mode, padding_mode=padding_mode,
                             align_corners=align_corners)

    assert_matches_torch(warp, x, theta)


def test_grid_sample_float32_and_errors():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    g = rng.uniform(-1.2, 1.2, (1, 3, 3, 2)).astype(np.float32)
    assert_matches_torch(lambda L, F, x, g: F.grid_sample(x, g, align_corners=False), x, g,
                         atol=1e-5, rtol=1e-4)
    _both_raise(lambda L, F: F.grid_sample(L.ones(1, 1, 2, 2), L.zeros(1, 1, 1, 2), mode="foo",
                                           align_corners=False),
                ValueError, "expected mode to be 'bilinear', 'nearest' or 'bicubic'")
    _both_raise(lambda L, F: F.grid_sample(L.ones(1, 1, 2, 2), L.zeros(1, 1, 1, 2),
                                           padding_mode="foo", align_corners=False),
                ValueError, "expected padding_mode to be 'zeros', 'border', or 'reflection'")
    _both_raise(lambda L, F: F.affine_grid(L.zeros(1, 3, 3), (1, 1, 2, 2), align_corners=False),
                ValueError, "Expected a batch of 2D affine matrices of shape Nx2x3")


def test_float32_resize_and_shuffle():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 8, 6, 5)).astype(np.float32)
    assert_matches_torch(lambda L, F, x: F.interpolate(F.pixel_shuffle(x, 2), scale_factor=0.7,
                                                       mode="bilinear"), x, atol=1e-5)
    assert_matches_torch(lambda L, F, x: F.pad(F.pixel_unshuffle(x, 1), (1, 2, 3, 0),
                                               mode="reflect"), x, atol=1e-5)
    out = F.interpolate(retrograd.tensor(x), scale_factor=2, mode="bilinear")
    assert out.dtype == retrograd.float32


def test_upsample_aliases_warn_and_match_torch():
    x = np.random.default_rng(4).standard_normal((1, 2, 3, 3))
    for name in ["upsample_bilinear", "upsample_nearest"]:
        with pytest.warns(UserWarning, match="deprecated"):
            r = getattr(F, name)(retrograd.tensor(x), scale_factor=2)
        with pytest.warns(UserWarning, match="deprecated"):
            t = getattr(TF, name)(torch.tensor(x), scale_factor=2)
        np.testing.assert_allclose(r.numpy(), t.numpy(), atol=1e-12)
    with pytest.warns(UserWarning, match="deprecated"):
        r = F.upsample(retrograd.tensor(x), size=(4, 5), mode="bilinear")
    np.testing.assert_allclose(r.numpy(), TF.interpolate(torch.tensor(x), size=(4, 5),
                                                         mode="bilinear").numpy(), atol=1e-12)


def test_pad_grad_fn_and_version():
    x = retrograd.ones(2, 2, requires_grad=True)
    y = F.pad(x, (1, 1), value=2.0)
    assert y.grad_fn.name() == "ConstantPadNdBackward0"
    np.testing.assert_array_equal(y.detach().numpy(), [[2, 1, 1, 2], [2, 1, 1, 2]])
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2, 2], [2, 2]])


def test_vision_errors_match_torch():
    _both_raise(lambda L, F: F.pad(L.ones(1, 3, 3, 3), (3,), mode="reflect"), RuntimeError,
                "Padding length must be divisible by 2")
    _both_raise(lambda L, F: F.pad(L.ones(1, 3, 3, 3), (3, 3, 3, 3), mode="reflect"),
                RuntimeError, "Padding size should be less than the corresponding input "
                "dimension, but got: padding (3, 3) at dimension 3 of input [1, 3, 3, 3]")
    _both_raise(lambda L, F: F.pad(L.ones(1, 3, 3, 3), (1, 1), mode="reflect"),
                NotImplementedError, "Padding size 2 is not supported for 4D input tensor")
    _both_raise(lambda L, F: F.pad(L.ones(1, 3, 3, 3), (1, 1), mode="foo"), NotImplementedError,
                "foo")
    _both_raise(lambda L, F: F.interpolate(L.ones(1, 3, 3, 3), mode="bilinear"), ValueError,
                "either size or scale_factor should be defined")
    _both_raise(lambda L, F: F.interpolate(L.ones(1, 3, 3, 3), 2, 2), ValueError,
                "only one of size or scale_factor should be defined")
    _both_raise(lambda L, F: F.interpolate(L.ones(1, 3, 3), size=3, mode="bilinear"),
                NotImplementedError, "Got 3D input, but bilinear mode needs 4D input")
    _both_raise(lambda L, F: F.interpolate(L.ones(1, 3, 3), size=3, align_corners=True),
                ValueError, "align_corners option can only be set with the interpolating modes")
    _both_raise(lambda L, F: F.interpolate(L.ones(1, 3, 3, 3), size=3, mode="foo"),
                NotImplementedError, "(got foo)")
    _both_raise(lambda L, F: F.pixel_shuffle(L.ones(1, 3, 3, 3), 2), RuntimeError,
                "input.size(-3)=3 is not divisible by 4")
    _both_raise(lambda L, F: F.pixel_unshuffle(L.ones(1, 3, 3, 4), 2), RuntimeError,
                "input.size(-2)=3 is not divisible by 2")
