"""Convolutions (issue: the full differentiable op library): conv1d/2d/3d,
conv_transpose1d/2d/3d, unfold, fold, against NumPy, finite differences and PyTorch."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch  # the oracle: a missing install fails the tests, never skips them
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view
from optable import (
    OpCase,
)

import retrograd
import retrograd.nn.functional as F

TF = torch.nn.functional


def assert_matches_torch(fn, *arrays, atol=1e-6, rtol=1e-5, gradgrad=True, seed=0):
    """fn(lib, F, *tensors) under retrograd and torch: forward, gradient (for random output
    cotangents) and double gradient agree. Float64 unless the arrays are float32."""
    rng = np.random.default_rng(seed)
    rt = [retrograd.tensor(a.copy(), requires_grad=a.dtype.kind == "f") for a in arrays]
    tt = [torch.tensor(a.copy(), requires_grad=a.dtype.kind == "f") for a in arrays]
    ro, to = fn(retrograd, F, *rt), fn(torch, TF, *tt)
    ro = ro if isinstance(ro, tuple) else (ro,)
    to = to if isinstance(to, tuple) else (to,)
    for a, b in zip(ro, to):
        assert tuple(a.shape) == tuple(b.shape)
        assert str(a.dtype) == str(b.dtype)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=atol, rtol=rtol)
    ro = [o for o in ro if o.requires_grad]
    to = [o for o in to if o.requires_grad]
    assert len(ro) == len(to)
    if not ro:
        return
    gos = [rng.standard_normal(tuple(o.shape)).astype(arrays[0].dtype) for o in ro]
    rdiff = [t for t in rt if t.requires_grad]
    tdiff = [t for t in tt if t.requires_grad]
    rg = retrograd.autograd.grad(ro, rdiff, [retrograd.tensor(g) for g in gos],
                                 create_graph=True, allow_unused=True)
    tg = torch.autograd.grad(to, tdiff, [torch.tensor(g) for g in gos], create_graph=True,
                             allow_unused=True)
    for a, b in zip(rg, tg):
        if b is None:
            assert a is None or not np.any(a.detach().numpy())
            continue
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=atol,
                                   rtol=rtol)
    if not gradgrad:
        return
    # Gradients that depend on no input (e.g. a bias's) are constants here; PyTorch still
    # gives them a graph, so pick the pairs by retrograd's flags.
    keep = [i for i, g in enumerate(rg) if g is not None and g.requires_grad]
    if not keep:
        return
    vs = [rng.standard_normal(tuple(rg[i].shape)).astype(arrays[0].dtype) for i in keep]
    rgg = retrograd.autograd.grad([rg[i] for i in keep], rdiff,
                                  [retrograd.tensor(v) for v in vs], allow_unused=True)
    tgg = torch.autograd.grad([tg[i] for i in keep], tdiff, [torch.tensor(v) for v in vs],
                              allow_unused=True)
    for a, b in zip(rgg, tgg):
        if b is None:
            assert a is None or not np.any(a.detach().numpy())
            continue
        assert a is not None
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=atol,
                                   rtol=rtol)


# ---------------------------------------------------------------------- NumPy references

def np_conv(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Direct N-d cross-correlation through sliding_window_view (independent of im2col)."""
    nd = x.ndim - 2
    s = (stride,) * nd if isinstance(stride, int) else stride
    p = (padding,) * nd if isinstance(padding, int) else padding
    d = (dilation,) * nd if isinstance(dilation, int) else dilation
    x = np.pad(x, [(0, 0), (0, 0)] + [(e, e) for e in p])
    k = w.shape[2:]
    span = tuple(d[i] * (k[i] - 1) + 1 for i in range(nd))
    win = sliding_window_view(x, span, axis=tuple(range(2, 2 + nd)))
    win = win[(Ellipsis,) + tuple(slice(None, None, e) for e in d)]
    win = win[(slice(None), slice(None)) + tuple(slice(None, None, e) for e in s)]
    cg, og = x.shape[1] // groups, w.shape[0] // groups
    letters = "hijl"[:nd]
    outs = []
    for g in range(groups):
        xs = win[:, g * cg:(g + 1) * cg]
        ws = w[g * og:(g + 1) * og]
        outs.append(np.einsum(f"nc{letters}{letters.upper()},oc{letters.upper()}->no{letters}",
                              xs, ws))
    out = np.concatenate(outs, axis=1)
    if b is not None:
        out = out + b.reshape((1, -1) + (1,) * nd)
    return out


def np_conv_transpose(x, w, stride=1, padding=0):
    """conv_transpose as scatter of x * w (groups=1, dilation=1), by loops over pixels."""
    nd = x.ndim - 2
    k = w.shape[2:]
    size = tuple((x.shape[2 + i] - 1) * stride + k[i] for i in range(nd))
    out = np.zeros((x.shape[0], w.shape[1]) + size)
    for pos in itertools.product(*[range(e) for e in x.shape[2:]]):
        sl = tuple(slice(pos[i] * stride, pos[i] * stride + k[i]) for i in range(nd))
        out[(slice(None), slice(None)) + sl] += np.einsum(
            "nc,co...->no...", x[(slice(None), slice(None)) + pos], w)
    crop = tuple(slice(padding, size[i] - padding) for i in range(nd))
    return out[(slice(None), slice(None)) + crop]


def np_unfold(x, k, stride=1):
    win = sliding_window_view(x, k, axis=(2, 3))[:, :, ::stride, ::stride]
    n, c, oh, ow = win.shape[:4]
    return win.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * k[0] * k[1], oh * ow)


# ---------------------------------------------------------------------- the op table

X1, W1 = (1, 2, 5), (3, 2, 3)
X2, W2 = (1, 2, 5, 5), (3, 2, 3, 3)
X3, W3 = (1, 2, 3, 4, 3), (2, 2, 2, 2, 2)

CASES = [
    OpCase("conv1d", lambda L, x, w: L.conv1d(x, w), np_conv, [(X1, W1), ((2, 2, 4), (1, 2, 1))]),
    OpCase("conv1d_bias_stride_pad", lambda L, x, w, b: L.conv1d(x, w, b, 2, 1),
           lambda x, w, b: np_conv(x, w, b, 2, 1), [(X1, W1, (3,))], gradgrad=False),
    OpCase("conv2d", lambda L, x, w: L.conv2d(x, w), np_conv, [(X2, W2)]),
    OpCase("conv2d_stride_pad_dil", lambda L, x, w: L.conv2d(x, w, None, 2, 1, 2),
           lambda x, w: np_conv(x, w, None, 2, 1, 2), [(X2, W2)]),
    OpCase("conv2d_groups", lambda L, x, w: L.conv2d(x, w, groups=2, padding=(1, 0)),
           lambda x, w: np_conv(x, w, padding=(1, 0), groups=2), [((1, 4, 4, 4), (2, 2, 2, 3))]),
    OpCase("conv2d_bias", lambda L, x, w, b: L.conv2d(x, w, b), np_conv,
           [(X2, W2, (3,))], gradgrad=False),
    OpCase("conv2d_same", lambda L, x, w: L.nn.functional.conv2d(x, w, padding="same"),
           lambda x, w: np_conv(x, w, padding=1), [(X2, W2)]),
    OpCase("conv2d_unbatched", lambda L, x, w: L.conv2d(x, w), lambda x, w: np_conv(
        x[None], w)[0], [((2, 4, 4), (1, 2, 2, 2))]),
    OpCase("conv3d", lambda L, x, w: L.conv3d(x, w, padding=(0, 1, 0)),
           lambda x, w: np_conv(x, w, padding=(0, 1, 0)), [(X3, W3)]),
    OpCase("conv_transpose1d", lambda L, x, w: L.conv_transpose1d(x, w, stride=2, padding=1),
           lambda x, w: np_conv_transpose(x, w, 2, 1), [((1, 2, 3), (2, 3, 3))]),
    OpCase("conv_transpose2d", lambda L, x, w: L.conv_transpose2d(x, w, stride=2),
           lambda x, w: np_conv_transpose(x, w, 2), [((1, 2, 3, 3), (2, 2, 2, 2))]),
    OpCase("conv_transpose2d_opad_groups",
           lambda L, x, w: L.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1,
                                              groups=2, dilation=1), None,
           [((1, 2, 3, 2), (2, 1, 3, 2))]),
    OpCase("conv_transpose3d", lambda L, x, w: L.conv_transpose3d(x, w),
           lambda x, w: np_conv_transpose(x, w), [((1, 2, 2, 2, 2), (2, 1, 2, 1, 2))]),
    OpCase("unfold", lambda L, x: L.nn.functional.unfold(x, (2, 3), stride=2),
           lambda x: np_unfold(x, (2, 3), 2), [((1, 2, 4, 5),)]),
    OpCase("unfold_pad_dil", lambda L, x: L.nn.functional.unfold(x, 2, 2, 1, 1), None,
           [((2, 1, 3, 4),)]),
    OpCase("fold", lambda L, x: L.nn.functional.fold(x, (4, 5), (2, 3), stride=(2, 1)), None,
           [((1, 12, 6),)]),
]


def test_bias_gradgradcheck():
    rng = np.random.default_rng(0)
    x, w, b = (retrograd.tensor(rng.standard_normal(s), requires_grad=True)
               for s in [(1, 2, 4, 4), (2, 2, 2, 2), (2,)])
    assert retrograd.autograd.gradgradcheck(lambda *a: retrograd.conv2d(*a, padding=1),
                                            (x, w, b))
    assert retrograd.autograd.gradgradcheck(
        lambda *a: F.conv_transpose2d(*a, stride=2), (x, w, b))


# ---------------------------------------------------------------------- option combinations

CONV2D_OPTIONS = [
    dict(stride=s, padding=p, dilation=d, groups=g)
    for s, p, d, g in itertools.product([1, (2, 1)], [0, (1, 2), "same", "valid"], [1, (2, 1)],
                                        [1, 2])
    if not (p == "same" and s != 1)
]


@pytest.mark.parametrize("opts", CONV2D_OPTIONS, ids=str)
def test_conv2d_options_match_torch(opts):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 4, 7, 6))
    w = rng.standard_normal((6, 4 // opts["groups"], 3, 2))
    b = rng.standard_normal(6)
    assert_matches_torch(lambda L, F, x, w, b: F.conv2d(x, w, b, **opts), x, w, b)


CONVT_OPTIONS = [
    dict(stride=s, padding=p, output_padding=op, dilation=d, groups=g)
    for s, p, op, d, g in itertools.product([1, (3, 2)], [0, (1, 0)], [0, 1], [1, 2], [1, 2])
    if op < max(s if isinstance(s, int) else min(s), d)
]


@pytest.mark.parametrize("opts", CONVT_OPTIONS, ids=str)
def test_conv_transpose2d_options_match_torch(opts):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 4, 4, 3))
    w = rng.standard_normal((4, 6 // opts["groups"], 3, 2))
    b = rng.standard_normal(6)
    assert_matches_torch(lambda L, F, x, w, b: F.conv_transpose2d(x, w, b, **opts), x, w, b)


@pytest.mark.parametrize("nd", [1, 3])
@pytest.mark.parametrize("transposed", [False, True])
def test_conv_1d_3d_match_torch(nd, transposed):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4) + (5, 4, 3)[:nd])
    opts = dict(stride=2, padding=1, dilation=1, groups=2)
    if transposed:
        w = rng.standard_normal((4, 3) + (3, 2, 2)[:nd])
        name = f"conv_transpose{nd}d"
        opts["output_padding"] = 1
    else:
        w = rng.standard_normal((6, 2) + (3, 2, 2)[:nd])
        name = f"conv{nd}d"
    b = rng.standard_normal(6)
    assert_matches_torch(lambda L, F, x, w, b: getattr(F, name)(x, w, b, **opts), x, w, b)


@pytest.mark.parametrize("opts", [dict(kernel_size=2), dict(kernel_size=(2, 3), dilation=(2, 1),
                                                             padding=1, stride=(1, 2))], ids=str)
def test_unfold_fold_match_torch(opts):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 5, 6))
    assert_matches_torch(lambda L, F, x: F.unfold(x, **opts), x)
    cols = TF.unfold(torch.tensor(x), **opts).numpy()
    assert_matches_torch(lambda L, F, c: F.fold(c, (5, 6), **opts), cols)


def test_float32_forward_and_grad_match_torch():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3, 12, 12)).astype(np.float32)
    w = rng.standard_normal((8, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(8).astype(np.float32)
    assert_matches_torch(lambda L, F, x, w, b: F.conv2d(x, w, b, stride=2, padding=1), x, w, b,
                         atol=1e-4, rtol=1e-4)
    assert_matches_torch(lambda L, F, x, w: F.conv_transpose2d(x, w, None, 2, 1, 1),
                         x, w.transpose(1, 0, 2, 3).copy(), atol=1e-4, rtol=1e-4)
    out = retrograd.conv2d(retrograd.tensor(x), retrograd.tensor(w))
    assert out.dtype == retrograd.float32


def test_double_backward_gradient_penalty():
    """A WGAN-style penalty: d/dw of |d out/d x|^2 flows through the conv's backward."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 2, 5, 5))
    w = rng.standard_normal((3, 2, 3, 3))

    def penalty(L, F, x, w):
        out = F.conv2d(x, w, padding=1).tanh().sum()
        (gx,) = L.autograd.grad(out, x, create_graph=True)
        return (gx * gx).sum()

    assert_matches_torch(penalty, x, w, gradgrad=False)


@settings(max_examples=25, deadline=None)
@given(h=st.integers(3, 8), w=st.integers(3, 8), k=st.integers(1, 3), s=st.integers(1, 3),
       p=st.integers(0, 2), d=st.integers(1, 2))
def test_conv2d_shapes_property(h, w, k, s, p, d):
    """Any geometry PyTorch accepts gives PyTorch's output and input gradient."""
    if h + 2 * p < d * (k - 1) + 1 or w + 2 * p < d * (k - 1) + 1:
        return
    rng = np.random.default_rng(h * 100 + w)
    x = rng.standard_normal((1, 2, h, w))
    wt = rng.standard_normal((2, 2, k, k))
    assert_matches_torch(lambda L, F, x, wt: F.conv2d(x, wt, stride=s, padding=p, dilation=d),
                         x, wt, gradgrad=False)


# ---------------------------------------------------------------------- misuse

def _both_raise(fn, exc, *fragments):
    msgs = []
    for lib, Fm in ((retrograd, F), (torch, TF)):
        with pytest.raises(exc) as info:
            fn(lib, Fm)
        msgs.append(str(info.value))
    for frag in fragments:
        assert frag in msgs[0], (frag, msgs[0])
        assert frag in msgs[1], (frag, msgs[1])


def test_conv_errors_match_torch():
    _both_raise(lambda L, F: F.conv2d(L.ones(1, 1, 28, 28), L.ones(16, 3, 3, 3)), RuntimeError,
                "Given groups=1, weight of size [16, 3, 3, 3], expected input[1, 1, 28, 28] "
                "to have 3 channels, but got 1 channels instead")
    _both_raise(lambda L, F: F.conv2d(L.ones(1, 3, 2, 2), L.ones(16, 3, 3, 3)), RuntimeError,
                "Kernel size can't be greater than actual input size")
    _both_raise(lambda L, F: F.conv2d(L.ones(1, 3, 5, 5), L.ones(4, 3, 3, 3), stride=2,
                                      padding="same"), RuntimeError,
                "padding='same' is not supported for strided convolutions")
    _both_raise(lambda L, F: F.conv2d(L.ones(1, 3, 5, 5), L.ones(4, 3, 3, 3), padding="foo"),
                RuntimeError, "Invalid padding string")
    _both_raise(lambda L, F: F.conv2d(L.ones(3, 5), L.ones(4, 3, 3, 3)), RuntimeError,
                "Expected 3D (unbatched) or 4D (batched) input to conv2d")
    _both_raise(lambda L, F: F.conv2d(L.ones(1, 3, 5, 5), L.ones(4, 3, 3, 3), L.ones(3)),
                RuntimeError, "expected bias to be 1-dimensional with 4 elements")
    _both_raise(lambda L, F: F.conv2d(L.ones(1, 3, 5, 5, dtype=L.float64), L.ones(4, 3, 3, 3)),
                RuntimeError, "expected scalar type Double but found Float")
    _both_raise(lambda L, F: F.conv_transpose2d(L.ones(1, 4, 5, 5), L.ones(4, 3, 3, 3),
                                                stride=2, output_padding=2), RuntimeError,
                "output padding must be smaller than either stride or dilation")
    _both_raise(lambda L, F: F.unfold(L.ones(1, 3, 3, 3), 4), RuntimeError,
                "but its components must be at least one")


def test_conv_is_differentiable_through_its_node():
    x = retrograd.ones(1, 1, 3, 3, requires_grad=True)
    w = retrograd.ones(1, 1, 2, 2, requires_grad=True)
    out = retrograd.conv2d(x, w)
    assert out.grad_fn.name() == "ConvolutionBackward0"
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    np.testing.assert_array_equal(w.grad.numpy()[0, 0], [[4, 4], [4, 4]])


def test_empty_batch_and_noncontiguous_inputs_match_torch():
    rng = np.random.default_rng(7)
    empty = rng.standard_normal((0, 4, 5, 6))
    w = rng.standard_normal((6, 2, 3, 2))
    assert_matches_torch(lambda L, F, x, w: F.conv2d(x, w, groups=2, padding=1), empty, w)
    assert_matches_torch(lambda L, F, x: F.max_pool2d(F.avg_pool2d(x, 2, 1), 2), empty)
    x = rng.standard_normal((2, 4, 6, 7))
    wt = rng.standard_normal((3, 4, 3, 2))
    assert_matches_torch(lambda L, F, x, w: F.conv2d(x.transpose(2, 3)[..., ::2], w, stride=2),
                         x, wt)
    assert_matches_torch(lambda L, F, x: F.max_pool2d(x.transpose(2, 3)[:, ::2], 2, 1), x)


# ---------------------------------------------------------------- workspace-backed kernels

@pytest.mark.parametrize("opts", [dict(), dict(padding=1), dict(dilation=2, padding=2),
                                  dict(groups=2, padding=(0, 1)), dict(stride=(1, 2))])
def test_input_gradient_paths_match_torch_float32(opts):
    """Stride 1 takes the wide-row col2im (padding columns spill zeros into the next image),
    other strides the strided accumulation; both in float32 at the workload's size."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((8, 4, 13, 11)).astype(np.float32)
    w = rng.standard_normal((6, 4 // opts.get("groups", 1), 3, 3)).astype(np.float32)
    assert_matches_torch(lambda L, F, x, w: F.conv2d(x, w, **opts), x, w, atol=1e-4,
                         rtol=1e-4, gradgrad=False)


def test_input_gradient_with_non_finite_weights_matches_torch():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 2, 6, 6))
    w = rng.standard_normal((3, 2, 3, 3))
    w[0, 1, 2, 2] = np.inf  # the wide-row path would smear inf * 0 = nan into other pixels
    g = rng.standard_normal((2, 3, 4, 4))
    rx = retrograd.tensor(x, requires_grad=True)
    F.conv2d(rx, retrograd.tensor(w)).backward(retrograd.tensor(g))
    tx = torch.tensor(x, requires_grad=True)
    TF.conv2d(tx, torch.tensor(w)).backward(torch.tensor(g))
    np.testing.assert_allclose(rx.grad.numpy(), tx.grad.numpy(), rtol=1e-6)


def test_retain_graph_second_backward_redoes_the_columns():
    rng = np.random.default_rng(5)
    x = retrograd.tensor(rng.standard_normal((2, 3, 7, 7)), requires_grad=True)
    w = retrograd.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    out = F.conv2d(x, w, padding=1).square().sum()
    out.backward(retain_graph=True)
    first = w.grad.numpy().copy(), x.grad.numpy().copy()
    out.backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * first[0], rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), 2 * first[1], rtol=1e-12)


def test_conv_output_kept_across_steps_is_not_overwritten():
    """Outputs come from the workspace cache; one a user keeps is never reused."""
    rng = np.random.default_rng(6)
    x = retrograd.tensor(rng.standard_normal((16, 8, 20, 20)).astype(np.float32))
    w = retrograd.tensor(rng.standard_normal((16, 8, 3, 3)).astype(np.float32),
                         requires_grad=True)
    kept = F.conv2d(x, w)
    snapshot = kept.detach().numpy().copy()
    for _ in range(3):
        F.conv2d(x * 2, w).sum().backward()
    np.testing.assert_array_equal(kept.detach().numpy(), snapshot)
