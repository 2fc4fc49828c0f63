"""Normalization, dropout, embedding, one_hot and attention of retrograd.nn.functional
(issue: the full differentiable op library)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers import softmax
from optable import (
    OpCase,
)

import retrograd
import retrograd.nn.functional as F
from retrograd.autograd import gradcheck, gradgradcheck

RM = np.array([0.1, -0.2, 0.3])
RV = np.array([0.5, 1.5, 2.0])
IDX = np.array([[0, 2, 2], [5, 0, 1]])
BAG = np.array([0, 2, 2, 5, 1, 0, 3])
OFF = np.array([0, 3, 3, 5])
B3 = np.array([0.3, -1.0, 0.5])
B4 = np.array([0.2, -0.4, 1.0, 0.0])
MASK = np.array([[True, False, True, True, False], [True, True, False, False, False],
                 [True, True, True, True, True]])


def _f(L):
    return L.nn.functional


def _t(L, a):
    return L.tensor(a)


def _norm(x, axes, eps=1e-5):
    m = x.mean(axes, keepdims=True)
    v = x.var(axes, keepdims=True)
    return (x - m) / np.sqrt(v + eps)


def _native_gn(lib, x, w):
    out, mean, rstd = lib.native_group_norm(x, w, _t(lib, B4), 2, 4, 3, 2, 1e-5)
    return out, mean + rstd


def _sdpa(q, k, v, scale=None, mask=None):
    s = q @ k.swapaxes(-1, -2) * (scale or 1 / np.sqrt(q.shape[-1]))
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    return softmax(s) @ v


CASES = [
    OpCase("batch_norm_train",
           lambda L, x, w: _f(L).batch_norm(x, _t(L, RM.copy()), _t(L, RV.copy()), w, _t(L, B3),
                                            training=True),
           lambda x, w: _norm(x, (0, 2)) * w[:, None] + B3[:, None], [((4, 3, 2), (3,))]),
    OpCase("batch_norm_train_2d",
           lambda L, x: _f(L).batch_norm(x, None, None, training=True, momentum=0.3, eps=1e-3),
           lambda x: _norm(x, (0,), 1e-3), [((5, 3),)]),
    OpCase("batch_norm_eval",
           lambda L, x, w: _f(L).batch_norm(x, _t(L, RM), _t(L, RV), w, _t(L, B3)),
           lambda x, w: (x - RM[:, None, None]) / np.sqrt(RV[:, None, None] + 1e-5)
           * w[:, None, None] + B3[:, None, None], [((2, 3, 2, 2), (3,))]),
    OpCase("instance_norm", lambda L, x, w: _f(L).instance_norm(x, weight=w, bias=_t(L, B3)),
           lambda x, w: _norm(x, (2,)) * w[:, None] + B3[:, None], [((2, 3, 4), (3,))]),
    OpCase("layer_norm", lambda L, x, w: _f(L).layer_norm(x, (4,), w, _t(L, B4)),
           lambda x, w: _norm(x, (-1,)) * w + B4, [((2, 3, 4), (4,)), ((3, 4), (4,))]),
    OpCase("layer_norm_bias", lambda L, x, b: _f(L).layer_norm(x, (4,), _t(L, B4), b) * b,
           lambda x, b: (_norm(x, (-1,)) * B4 + b) * b, [((3, 4), (4,))]),
    OpCase("layer_norm_2dims", lambda L, x: _f(L).layer_norm(x, (3, 4), eps=1e-3),
           lambda x: _norm(x, (-2, -1), 1e-3), [((2, 3, 4),)]),
    OpCase("group_norm", lambda L, x, w: _f(L).group_norm(x, 2, w, _t(L, B4)),
           lambda x, w: _norm(x.reshape(2, 2, -1), (2,)).reshape(x.shape) * w[:, None]
           + B4[:, None], [((2, 4, 3), (4,))]),
    OpCase("rms_norm", lambda L, x, w: _f(L).rms_norm(x, (4,), w, 1e-6),
           lambda x, w: x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-6) * w,
           [((3, 4), (4,))]),
    OpCase("local_response_norm", lambda L, x: _f(L).local_response_norm(x, 3, 0.5, 0.75, 2.0),
           None, [((2, 4, 3),), ((1, 3, 2, 2),)]),
    OpCase("embedding", lambda L, w: _f(L).embedding(_t(L, IDX), w), lambda w: w[IDX],
           [((6, 4),)]),
    OpCase("embedding_bag_mean", lambda L, w: _f(L).embedding_bag(_t(L, BAG), w, _t(L, OFF)),
           None, [((6, 3),)]),
    OpCase("embedding_bag_max_padding",
           lambda L, w: _f(L).embedding_bag(_t(L, BAG), w, _t(L, OFF), mode="max", padding_idx=2),
           None, [((6, 3),)]),
    OpCase("embedding_bag_sum_weights",
           lambda L, w, p: _f(L).embedding_bag(_t(L, BAG), w, _t(L, OFF), mode="sum",
                                               per_sample_weights=p),
           None, [((6, 3), (7,))], gradgrad=False),
    OpCase("embedding_bag_2d", lambda L, w: _f(L).embedding_bag(_t(L, IDX), w, mode="sum"),
           lambda w: w[IDX].sum(1), [((6, 3),)]),
    OpCase("sdpa", lambda L, q, k, v: _f(L).scaled_dot_product_attention(q, k, v), _sdpa,
           [((2, 3, 4), (2, 5, 4), (2, 5, 4))]),
    OpCase("sdpa_causal_scale",
           lambda L, q, k, v: _f(L).scaled_dot_product_attention(q, k, v, is_causal=True,
                                                                 scale=0.3),
           lambda q, k, v: _sdpa(q, k, v, 0.3, np.tril(np.ones((4, 4), bool))),
           [((2, 4, 3), (2, 4, 3), (2, 4, 3))]),
    OpCase("sdpa_bool_mask",
           lambda L, q, k, v: _f(L).scaled_dot_product_attention(q, k, v, _t(L, MASK)),
           lambda q, k, v: _sdpa(q, k, v, mask=MASK), [((2, 3, 4), (2, 5, 4), (2, 5, 4))]),
    OpCase("sdpa_float_mask",
           lambda L, q, k, v, m: _f(L).scaled_dot_product_attention(q, k, v, m), None,
           [((2, 3, 4), (2, 5, 4), (2, 5, 4), (3, 5))]),
    # The statistics are outputs too, whose gradients join only when both come in (as in
    # PyTorch): their sum gives both, so the checks see the true derivative.
    OpCase("native_group_norm", lambda L, x, w: _native_gn(L, x, w),
           lambda x, w: (_norm(x.reshape(2, 2, -1), (2,)).reshape(x.shape) * w[:, None]
                         + B4[:, None], x.reshape(2, 2, -1).mean(2)
                         + 1 / np.sqrt(x.reshape(2, 2, -1).var(2) + 1e-5)),
           [((2, 4, 3), (4,))]),
]


# ---------------------------------------------------------------------- running statistics

@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 5), (2, 3, 2, 2)])
def test_batch_norm_running_stats_match_pytorch(shape):
    import torch
    x = np.random.default_rng(0).standard_normal(shape) * 2 + 1
    rm, rv = retrograd.zeros(3, dtype=retrograd.float64), retrograd.ones(3,
                                                                          dtype=retrograd.float64)
    tm, tv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    for _ in range(3):
        F.batch_norm(retrograd.tensor(x), rm, rv, training=True, momentum=0.2)
        torch.nn.functional.batch_norm(torch.tensor(x), tm, tv, training=True, momentum=0.2)
    np.testing.assert_allclose(rm.numpy(), tm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(rv.numpy(), tv.numpy(), rtol=1e-12)
    before = rm.numpy().copy()
    F.batch_norm(retrograd.tensor(x), rm, rv, training=False)
    np.testing.assert_array_equal(rm.numpy(), before)


def test_instance_norm_running_stats_match_pytorch():
    import torch
    x = np.random.default_rng(1).standard_normal((2, 3, 5))
    rm, rv = retrograd.zeros(3, dtype=retrograd.float64), retrograd.ones(3,
                                                                          dtype=retrograd.float64)
    tm, tv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    F.instance_norm(retrograd.tensor(x), rm, rv, momentum=0.3)
    torch.nn.functional.instance_norm(torch.tensor(x), tm, tv, momentum=0.3)
    np.testing.assert_allclose(rm.numpy(), tm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(rv.numpy(), tv.numpy(), rtol=1e-12)


def test_batch_norm_float32_and_version_bump():
    rm = retrograd.zeros(3)
    F.batch_norm(retrograd.randn(4, 3), rm, retrograd.ones(3), training=True)
    assert rm._version == 1 and rm.dtype == retrograd.float32
    assert rm.abs().sum().item() > 0


def test_normalization_errors():
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when "
                                         r"training, got input size torch.Size\(\[1, 3\]\)"):
        F.batch_norm(retrograd.randn(1, 3), retrograd.zeros(3), retrograd.ones(3),
                     training=True)
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements not 2"):
        F.batch_norm(retrograd.randn(4, 3), retrograd.zeros(2), retrograd.ones(2))
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[4\], expected input with "
                                           r"shape \[\*, 4\], but got input of size\[3, 5\]"):
        F.layer_norm(retrograd.randn(3, 5), (4,))
    with pytest.raises(RuntimeError, match=r"divisible by num_groups, but got input of shape "
                                           r"\[2, 6, 3\] and num_groups=4"):
        F.group_norm(retrograd.randn(2, 6, 3), 4)
    with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
        F.instance_norm(retrograd.randn(1, 3, 1))


# ---------------------------------------------------------------------- dropout

def test_dropout_statistics_and_scaling():
    retrograd.manual_seed(0)
    x = retrograd.ones(200, 100)
    out = F.dropout(x, 0.3).numpy()
    kept = out != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(out[kept], 1 / 0.7, rtol=1e-6)
    assert out.dtype == np.float32


def test_dropout_gradient_uses_the_same_mask():
    retrograd.manual_seed(1)
    x = retrograd.randn(50, 20, dtype=retrograd.float64, requires_grad=True)
    out = F.dropout(x, 0.5)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (out.detach().numpy() != 0) * 2.0)


def test_dropout_train_eval_and_edge_probabilities():
    x = retrograd.randn(4, 5)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert (F.dropout(x, 1.0).numpy() == 0).all()
    assert F.alpha_dropout(x, 0.5) is x  # training defaults to False
    with pytest.raises(ValueError, match=r"dropout probability has to be between 0 and 1, "
                                         r"but got 1\.5"):
        F.dropout(x, 1.5)


def test_dropout_is_reproducible_with_manual_seed():
    x = retrograd.ones(10, 10)
    retrograd.manual_seed(7)
    a = F.dropout(x).numpy()
    retrograd.manual_seed(7)
    b = F.dropout(x).numpy()
    np.testing.assert_array_equal(a, b)


def test_dropout_inplace():
    retrograd.manual_seed(2)
    x = retrograd.ones(30, 30)
    out = F.dropout(x, 0.5, inplace=True)
    assert out is x and x._version == 1
    assert set(np.unique(x.numpy())) == {0.0, 2.0}
    y = retrograd.randn(30, 30, requires_grad=True) * 1
    F.dropout(y, 0.5, inplace=True).sum().backward()


@pytest.mark.parametrize(("fn", "shape"), [(F.dropout1d, (20, 30, 8)), (F.dropout1d, (30, 8)),
                                           (F.dropout2d, (20, 30, 4, 4)),
                                           (F.dropout3d, (20, 30, 2, 2, 2)),
                                           (F.dropout3d, (30, 2, 2, 2))])
def test_feature_dropout_zeroes_whole_channels(fn, shape):
    retrograd.manual_seed(3)
    out = fn(retrograd.ones(*shape), 0.4).numpy()
    lead = 2 if len(shape) in (3, 4, 5) and shape[0] == 20 else 1
    per_channel = out.reshape(*shape[:lead], -1)
    assert np.all(per_channel == per_channel[..., :1])  # a channel is all kept or all zero
    assert abs((per_channel[..., 0] != 0).mean() - 0.6) < 0.08
    np.testing.assert_allclose(per_channel[per_channel != 0], 1 / 0.6, rtol=1e-6)


def test_feature_dropout_dimension_rules():
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but received a "
                                           "4D input"):
        F.dropout1d(retrograd.randn(2, 3, 4, 5))
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        F.dropout2d(retrograd.randn(2, 3, 4))
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout3d"):
        F.dropout3d(retrograd.randn(2, 3), training=False)


def test_alpha_dropout_keeps_mean_and_variance():
    retrograd.manual_seed(4)
    x = retrograd.randn(400, 400)
    out = F.alpha_dropout(x, 0.2, training=True).numpy()
    assert abs(out.mean()) < 0.02 and abs(out.std() - 1) < 0.02
    out = F.feature_alpha_dropout(retrograd.randn(400, 40, 10), 0.2, training=True).numpy()
    assert abs(out.mean()) < 0.03 and abs(out.std() - 1) < 0.03
    per_channel = out.reshape(400, 40, -1)
    dropped = np.isclose(per_channel, -1.7580993408473766 * 1.0 / np.sqrt(
        (1.7580993408473766**2 * 0.2 + 1) * 0.8) + 1.7580993408473766 * 0.2 / np.sqrt(
        (1.7580993408473766**2 * 0.2 + 1) * 0.8))
    assert (dropped.all(-1) | ~dropped.any(-1)).all()


# ---------------------------------------------------------------------- embedding, one_hot

def test_embedding_padding_row_gets_no_gradient_and_freq_scaling():
    import torch
    w = np.random.default_rng(0).standard_normal((6, 3))
    idx = np.array([[0, 2, 2], [5, 0, 0]])
    r = retrograd.tensor(w, requires_grad=True)
    t = torch.tensor(w, requires_grad=True)
    F.embedding(retrograd.tensor(idx), r, padding_idx=0, scale_grad_by_freq=True).sum() \
        .backward()
    torch.nn.functional.embedding(torch.tensor(idx), t, padding_idx=0,
                                  scale_grad_by_freq=True).sum().backward()
    np.testing.assert_allclose(r.grad.numpy(), t.grad.numpy())
    assert (r.grad.numpy()[0] == 0).all()


def test_embedding_padding_double_backward_matches_pytorch():
    """padding_idx makes the gradient differ from the true derivative (the padding row gets
    none), so gradcheck cannot apply; PyTorch is the reference."""
    import torch
    w = np.random.default_rng(0).standard_normal((6, 3))
    idx = np.array([[0, 2, 2], [5, 0, 1]])
    g = np.random.default_rng(1).standard_normal((2, 3, 3))
    results = []
    for L in (retrograd, torch):
        a = L.tensor(w, requires_grad=True)
        out = L.nn.functional.embedding(L.tensor(idx), a, padding_idx=2) ** 2
        (ga,) = L.autograd.grad(out, a, L.tensor(g), create_graph=True)
        (gga,) = L.autograd.grad((ga * ga).sum(), a)
        results.append((ga.detach().numpy(), gga.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert (results[0][0][2] == 0).all()


def test_embedding_max_norm_renormalizes_rows_in_place():
    import torch
    w = np.random.default_rng(1).standard_normal((5, 4)) * 3
    r, t = retrograd.tensor(w.copy()), torch.tensor(w.copy())
    idx = np.array([1, 3, 3])
    out = F.embedding(retrograd.tensor(idx), r, max_norm=1.0)
    expect = torch.nn.functional.embedding(torch.tensor(idx), t, max_norm=1.0)
    np.testing.assert_allclose(out.numpy(), expect.numpy(), rtol=1e-12)
    np.testing.assert_allclose(r.numpy(), t.numpy(), rtol=1e-12)
    assert r._version == 1


def test_embedding_errors_and_torch_spelling():
    w = retrograd.randn(5, 2)
    with pytest.raises(IndexError, match="index out of range in self"):
        F.embedding(retrograd.tensor([0, 7]), w)
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        F.embedding(retrograd.tensor([0]), w, padding_idx=5)
    with pytest.raises(RuntimeError, match="Expected tensor for argument #1 'indices'"):
        F.embedding(retrograd.tensor([0.0]), w)
    np.testing.assert_array_equal(retrograd.embedding(w, retrograd.tensor([3, 1])).numpy(),
                                  w.numpy()[[3, 1]])


def test_one_hot():
    out = F.one_hot(retrograd.tensor([[0, 2], [1, 1]]), 4)
    assert out.dtype == retrograd.int64 and tuple(out.shape) == (2, 2, 4)
    np.testing.assert_array_equal(out.numpy()[0], [[1, 0, 0, 0], [0, 0, 1, 0]])
    assert tuple(F.one_hot(retrograd.tensor([0, 3])).shape) == (2, 4)
    with pytest.raises(RuntimeError, match=r"Class values must be smaller than num_classes\."):
        F.one_hot(retrograd.tensor([0, 3]), 3)
    with pytest.raises(RuntimeError, match=r"Class values must be non-negative\."):
        F.one_hot(retrograd.tensor([0, -1]), 3)
    with pytest.raises(RuntimeError, match="one_hot is only applicable to index tensor"):
        F.one_hot(retrograd.tensor([0.0, 1.0]))


# ---------------------------------------------------------------------- attention

def test_sdpa_dropout_and_gqa():
    import torch
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal(s) for s in [(1, 4, 3, 2), (1, 2, 5, 2), (1, 2, 5, 2)])
    ours = F.scaled_dot_product_attention(*map(retrograd.tensor, (q, k, v)), enable_gqa=True)
    theirs = torch.nn.functional.scaled_dot_product_attention(
        *map(torch.tensor, (q, k, v)), enable_gqa=True)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-12)
    retrograd.manual_seed(0)
    qq = retrograd.tensor(q[:, :2])
    out = F.scaled_dot_product_attention(qq, retrograd.tensor(k), retrograd.tensor(v),
                                         dropout_p=0.999)
    assert np.abs(out.numpy()).max() < np.abs(F.scaled_dot_product_attention(
        qq, retrograd.tensor(k), retrograd.tensor(v)).numpy()).max() * 1e3
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set"):
        F.scaled_dot_product_attention(qq, qq, qq, retrograd.tensor(np.ones((3, 3), bool)),
                                       is_causal=True)


def test_batch_norm_double_backward_gradgradcheck():
    x = retrograd.tensor(np.random.default_rng(5).standard_normal((3, 2, 2)),
                         requires_grad=True)
    w = retrograd.tensor([0.5, 2.0], dtype=retrograd.float64, requires_grad=True)

    def f(a, b):
        return F.batch_norm(a, None, None, b, None, training=True)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gradcheck(f, (x, w)) and gradgradcheck(f, (x, w))


def test_standardize_node_and_float16():
    x = retrograd.randn(4, 3, 5, requires_grad=True)
    out = F.layer_norm(x, (5,))
    assert out.grad_fn.name() == "StandardizeBackward0"
    h = F.batch_norm(retrograd.randn(6, 3).half(), None, None, training=True)
    assert h.dtype == retrograd.float16
    np.testing.assert_allclose(h.float().numpy().mean(0), 0, atol=2e-3)
    np.testing.assert_allclose(h.float().numpy().std(0), 1, atol=2e-3)
