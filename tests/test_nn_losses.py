"""Losses of retrograd.nn.functional against NumPy, finite differences and PyTorch
(issue: the full differentiable op library)."""

from __future__ import annotations

import numpy as np
import pytest
from optable import (
    OpCase,
)

import retrograd
import retrograd.nn.functional as F
from retrograd.autograd import gradcheck, gradgradcheck

P2 = [((3, 4), (3, 4))]
IDX = np.array([1, 0, 3])
IDX_IGN = np.array([1, -100, 3])
IDX_3D = np.array([[0, 2], [3, 3]])
W4 = np.array([0.5, 2.0, 1.0, 1.5])
MULTI = np.array([[3, 0, -1, 1], [1, 2, 3, 0], [-1, 1, 1, 1]])
SIGNS = np.array([1.0, -1.0, 1.0])
SIGNS34 = np.array([[1.0, -1.0, 1.0, -1.0], [-1.0, 1.0, 1.0, -1.0], [1.0, 1.0, -1.0, -1.0]])


def _f(L):
    return L.nn.functional


def _t(L, a):
    return L.tensor(a)


def _log_softmax(x, d=1):
    s = x - x.max(d, keepdims=True)
    return s - np.log(np.exp(s).sum(d, keepdims=True))


def _ce(x, t, w=None, ignore=-100):
    lp = _log_softmax(x)
    valid = t != ignore
    ts = np.where(valid, t, 0)
    wt = (w[ts] if w is not None else np.ones(len(t))) * valid
    return -(lp[np.arange(len(t)), ts] * wt).sum() / wt.sum()


def _huber(d, delta):
    a = np.abs(d)
    return np.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))


def _sp(x):
    return np.logaddexp(0, x)


def _ctc(L, lp):
    return _f(L).ctc_loss(lp.log_softmax(2), _t(L, np.array([[1, 2, 2], [3, 1, 0]])),
                          _t(L, np.array([5, 4])), _t(L, np.array([3, 2])))


CASES = [
    OpCase("mse", lambda L, a, b: _f(L).mse_loss(a, b), lambda a, b: ((a - b) ** 2).mean(),
           P2 + [((), ())]),
    OpCase("mse_sum", lambda L, a, b: _f(L).mse_loss(a, b, reduction="sum"),
           lambda a, b: ((a - b) ** 2).sum(), P2),
    OpCase("mse_weight", lambda L, a, b, w: _f(L).mse_loss(a, b, weight=w),
           lambda a, b, w: ((a - b) ** 2 * w).sum() / w.sum(), [((3, 4),) * 3], domain=(0.1, 2)),
    OpCase("l1_none", lambda L, a, b: _f(L).l1_loss(a, b, reduction="none"),
           lambda a, b: np.abs(a - b), P2),
    OpCase("l1_weight", lambda L, a, b, w: _f(L).l1_loss(a, b, weight=w),
           lambda a, b, w: (np.abs(a - b) * w).sum() / w.sum(), [((3, 4),) * 3], domain=(0.1, 2)),
    OpCase("smooth_l1", lambda L, a, b: _f(L).smooth_l1_loss(a, b, beta=0.5),
           lambda a, b: (_huber(a - b, 0.5) / 0.5).mean(), P2),
    OpCase("smooth_l1_beta0", lambda L, a, b: _f(L).smooth_l1_loss(a, b, beta=0.0),
           lambda a, b: np.abs(a - b).mean(), P2),
    OpCase("huber", lambda L, a, b: _f(L).huber_loss(a, b, delta=0.7, reduction="sum"),
           lambda a, b: _huber(a - b, 0.7).sum(), P2),
    OpCase("huber_weight", lambda L, a, b, w: _f(L).huber_loss(a, b, delta=0.7, weight=w),
           lambda a, b, w: (_huber(a - b, 0.7) * w).mean(), [((3, 4),) * 3]),
    OpCase("cross_entropy", lambda L, x: _f(L).cross_entropy(x, _t(L, IDX)),
           lambda x: _ce(x, IDX), [((3, 4),)], domain=(-3, 3)),
    OpCase("ce_weight_ignore",
           lambda L, x: _f(L).cross_entropy(x, _t(L, IDX_IGN), weight=_t(L, W4)),
           lambda x: _ce(x, IDX_IGN, W4), [((3, 4),)]),
    OpCase("ce_ignore_sum", lambda L, x: _f(L).cross_entropy(x, _t(L, IDX), ignore_index=0,
                                                             reduction="sum"),
           None, [((3, 4),)]),
    OpCase("ce_smoothing", lambda L, x: _f(L).cross_entropy(x, _t(L, IDX_IGN),
                                                            label_smoothing=0.2),
           None, [((3, 4),)]),
    OpCase("ce_smoothing_weight_none",
           lambda L, x: _f(L).cross_entropy(x, _t(L, IDX_IGN), weight=_t(L, W4),
                                            label_smoothing=0.3, reduction="none"),
           None, [((3, 4),)]),
    OpCase("ce_smoothing_weight_mean",
           lambda L, x: _f(L).cross_entropy(x, _t(L, IDX_IGN), weight=_t(L, W4),
                                            label_smoothing=0.3),
           None, [((3, 4),)]),
    OpCase("ce_spatial", lambda L, x: _f(L).cross_entropy(x, _t(L, IDX_3D), weight=_t(L, W4)),
           None, [((2, 4, 2),)]),
    OpCase("ce_unbatched", lambda L, x: _f(L).cross_entropy(x, _t(L, np.array(2))),
           lambda x: -_log_softmax(x[None])[0, 2], [((4,),)]),
    OpCase("ce_probs", lambda L, x, p: _f(L).cross_entropy(x, p.softmax(1), label_smoothing=0.1),
           None, P2),
    OpCase("ce_probs_weight_none",
           lambda L, x, p: _f(L).cross_entropy(x, p.softmax(1), weight=_t(L, W4),
                                               reduction="none"), None, P2),
    OpCase("nll_sum", lambda L, x: _f(L).nll_loss(x, _t(L, IDX_IGN), reduction="sum"),
           lambda x: -(x[0, 1] + x[2, 3]), [((3, 4),)]),
    OpCase("bce", lambda L, x, y: _f(L).binary_cross_entropy(x, y),
           lambda x, y: -(y * np.log(x) + (1 - y) * np.log(1 - x)).mean(), P2,
           domain=(0.05, 0.95)),
    OpCase("bce_weight", lambda L, x, y: _f(L).binary_cross_entropy(x, y, weight=_t(L, W4),
                                                                     reduction="sum"),
           lambda x, y: -(W4 * (y * np.log(x) + (1 - y) * np.log(1 - x))).sum(), P2,
           domain=(0.05, 0.95)),
    OpCase("bce_logits", lambda L, x, y: _f(L).binary_cross_entropy_with_logits(x, y),
           lambda x, y: ((1 - y) * x + _sp(-x)).mean(), P2, domain=(-4, 4)),
    OpCase("bce_logits_pos_weight",
           lambda L, x, y: _f(L).binary_cross_entropy_with_logits(
               x * 10, y, weight=_t(L, W4[::-1].copy()), pos_weight=_t(L, W4), reduction="none"),
           lambda x, y: W4[::-1] * ((1 - y) * x * 10 + (1 + (W4 - 1) * y) * _sp(-x * 10)),
           P2, domain=(-4, 4)),
    OpCase("kl_batchmean", lambda L, x, y: _f(L).kl_div(x, y, reduction="batchmean"),
           lambda x, y: (y * (np.log(y) - x)).sum() / 3, P2, domain=(0.1, 2)),
    OpCase("kl_log_target", lambda L, x, y: _f(L).kl_div(x, y, reduction="sum", log_target=True),
           lambda x, y: (np.exp(y) * (y - x)).sum(), P2),
    OpCase("cosine_similarity", lambda L, a, b: _f(L).cosine_similarity(a, b),
           lambda a, b: (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1),
           P2 + [((3, 4), (1, 4))]),
    OpCase("pairwise_distance", lambda L, a, b: _f(L).pairwise_distance(a, b),
           lambda a, b: np.linalg.norm(a - b + 1e-6, axis=-1), P2),
    OpCase("pairwise_distance_p", lambda L, a, b: _f(L).pairwise_distance(a, b, 1.5, 1e-6, True),
           lambda a, b: (np.abs(a - b + 1e-6) ** 1.5).sum(-1, keepdims=True) ** (1 / 1.5), P2),
    OpCase("cosine_embedding",
           lambda L, a, b: _f(L).cosine_embedding_loss(a, b, _t(L, SIGNS), margin=-0.3), None,
           P2),
    OpCase("margin_ranking",
           lambda L, a, b: _f(L).margin_ranking_loss(a, b, _t(L, SIGNS34), margin=0.1),
           lambda a, b: np.maximum(-SIGNS34 * (a - b) + 0.1, 0).mean(), P2),
    OpCase("triplet", lambda L, a, p, n: _f(L).triplet_margin_loss(a, p, n, margin=2.0),
           None, [((3, 4),) * 3]),
    OpCase("triplet_swap", lambda L, a, p, n: _f(L).triplet_margin_loss(
        a, p, n, margin=3.0, p=1, swap=True, reduction="none"), None, [((3, 4),) * 3]),
    OpCase("hinge_embedding", lambda L, x: _f(L).hinge_embedding_loss(x, _t(L, SIGNS34), 0.5),
           lambda x: np.where(SIGNS34 == 1, x, np.maximum(0.5 - x, 0)).mean(), [((3, 4),)]),
    OpCase("soft_margin", lambda L, x: _f(L).soft_margin_loss(x, _t(L, SIGNS34)),
           lambda x: _sp(-x * SIGNS34).mean(), [((3, 4),)]),
    OpCase("multilabel_soft_margin",
           lambda L, x, y: _f(L).multilabel_soft_margin_loss(x, y, weight=_t(L, W4)),
           lambda x, y: (W4 * (y * _sp(-x) + (1 - y) * _sp(x))).mean(1).mean(), P2),
    OpCase("poisson_nll_full", lambda L, x, y: _f(L).poisson_nll_loss(x, y * 3, full=True),
           None, P2, domain=(0.1, 1.5)),
    OpCase("poisson_nll_rate", lambda L, x, y: _f(L).poisson_nll_loss(x, y, log_input=False,
                                                                       reduction="sum"),
           lambda x, y: (x - y * np.log(x + 1e-8)).sum(), P2, domain=(0.2, 2)),
    OpCase("gaussian_nll", lambda L, x, y, v: _f(L).gaussian_nll_loss(x, y, v, full=True),
           lambda x, y, v: (0.5 * (np.log(v) + (x - y) ** 2 / v) + 0.5 * np.log(2 * np.pi))
           .mean(), [((3, 4),) * 3], domain=(0.2, 2)),
    OpCase("gaussian_nll_homo", lambda L, x, y, v: _f(L).gaussian_nll_loss(x, y, v,
                                                                            reduction="none"),
           None, [((3, 4), (3, 4), (3,))], domain=(0.2, 2)),
    OpCase("ctc", _ctc, None, [((5, 2, 4),)], gradgrad=False),
    OpCase("pdist", lambda L, x: _f(L).pdist(x), None, [((4, 3),)], gradgrad=False),
    OpCase("pdist_p", lambda L, x: _f(L).pdist(x, 1.5), None, [((4, 3),)], gradgrad=False),
    OpCase("multi_margin", lambda L, x: _f(L).multi_margin_loss(x, _t(L, IDX)), None,
           [((3, 4),)]),
    OpCase("multi_margin_p2_weight",
           lambda L, x: _f(L).multi_margin_loss(x, _t(L, IDX), p=2, margin=0.7,
                                                weight=_t(L, W4), reduction="none"),
           None, [((3, 4),)], gradgrad=False),
    OpCase("multilabel_margin",
           lambda L, x: _f(L).multilabel_margin_loss(x, _t(L, MULTI), reduction="sum"), None,
           [((3, 4),)]),
    OpCase("triplet_with_distance",
           lambda L, a, p, n: _f(L).triplet_margin_with_distance_loss(
               a, p, n, distance_function=lambda u, v: 1 - _f(L).cosine_similarity(u, v),
               swap=True), None, [((3, 4),) * 3]),
]


def test_ctc_double_backward_and_reductions():
    """PyTorch has no double backward for ctc_loss; ours is a composite and has one."""
    import torch
    lp = retrograd.tensor(np.random.default_rng(0).standard_normal((5, 2, 4)),
                          requires_grad=True)
    assert gradgradcheck(lambda x: _ctc(retrograd, x), (lp,), eps=1e-6, atol=1e-5, rtol=1e-3)
    tl = torch.tensor(lp.detach().numpy()).log_softmax(2)
    flat = np.array([1, 2, 2, 3, 1])
    for red in ("none", "sum", "mean"):
        ours = F.ctc_loss(lp.log_softmax(2), retrograd.tensor(flat), (5, 4), (3, 2),
                          reduction=red)
        theirs = torch.nn.functional.ctc_loss(tl, torch.tensor(flat), (5, 4), (3, 2),
                                              reduction=red)
        np.testing.assert_allclose(ours.detach().numpy(), theirs.numpy(), rtol=1e-10)


def test_ctc_impossible_alignment_is_inf_or_zero():
    lp = retrograd.tensor(np.log(np.full((2, 1, 3), 1 / 3)), requires_grad=True)
    target = retrograd.tensor([[1, 1, 1]])
    out = F.ctc_loss(lp, target, (2,), (3,), reduction="none")
    assert np.isinf(out.detach().numpy()).all()
    out = F.ctc_loss(lp, target, (2,), (3,), reduction="sum", zero_infinity=True)
    assert out.item() == 0.0
    out.backward()
    assert np.all(lp.grad.numpy() == 0)


# ---------------------------------------------------------------------- reductions, legacy

@pytest.mark.parametrize(("size_average", "reduce", "expected"), [
    (None, False, "none"), (False, None, "sum"), (True, True, "mean"), (False, False, "none")])
def test_legacy_size_average_reduce_mapping(size_average, reduce, expected):
    x = retrograd.tensor([[1.0, 2.0], [3.0, 5.0]])
    y = retrograd.zeros(2, 2)
    with pytest.warns(UserWarning, match=f"please use reduction='{expected}' instead"):
        old = F.mse_loss(x, y, size_average=size_average, reduce=reduce)
    np.testing.assert_allclose(old.numpy(), F.mse_loss(x, y, reduction=expected).numpy())


def test_nll_all_ignored_mean_is_nan_as_pytorch():
    x = retrograd.randn(2, 3, requires_grad=True)
    out = F.nll_loss(x, retrograd.tensor([-100, -100]))
    assert np.isnan(out.item())


def test_cross_entropy_float32_matches_pytorch_closely():
    import torch
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((16, 10)) * 5).astype(np.float32)
    t = rng.integers(0, 10, 16)
    r = retrograd.tensor(x, requires_grad=True)
    tt = torch.tensor(x, requires_grad=True)
    ours = F.cross_entropy(r, retrograd.tensor(t))
    theirs = torch.nn.functional.cross_entropy(tt, torch.tensor(t))
    assert ours.dtype == retrograd.float32
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-6)
    ours.backward()
    theirs.backward()
    np.testing.assert_allclose(r.grad.numpy(), tt.grad.numpy(), atol=1e-7)


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_fast_path_any_layout_matches_pytorch(layout, dtype):
    # The (N, C) mean loss gathers the targets and writes their gradient by flat index: an
    # input that is not C-ordered must give the same loss and gradient.
    import torch
    rng = np.random.default_rng(7)
    base = (rng.standard_normal((24, 14)) * 3).astype(dtype)
    t = rng.integers(0, 7, 12)
    views = {"C": lambda a: a[:12, :7], "F": lambda a: a[:7, :12].T,
             "strided": lambda a: a[::2, ::2]}
    r = retrograd.tensor(base, requires_grad=True)
    tt = torch.tensor(base, requires_grad=True)
    make = views[layout]
    ours = F.cross_entropy(make(r), retrograd.tensor(t))
    theirs = torch.nn.functional.cross_entropy(make(tt), torch.tensor(t))
    assert ours.grad_fn.name() == "NllLossBackward0"
    tol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=tol)
    ours.backward()
    theirs.backward()
    np.testing.assert_allclose(r.grad.numpy(), tt.grad.numpy(), rtol=tol, atol=tol / 10)


def test_cross_entropy_is_one_fused_node_before_reduction():
    x = retrograd.randn(4, 3, requires_grad=True)
    out = F.cross_entropy(x, retrograd.tensor([0, 1, 2, 0]), reduction="none")
    assert out.grad_fn.name() == "CrossEntropyIndexBackward0"


# ---------------------------------------------------------------------- misuse

def test_cross_entropy_and_nll_errors():
    x = retrograd.randn(3, 5)
    with pytest.raises(IndexError, match=r"^Target 5 is out of bounds\.$"):
        F.cross_entropy(x, retrograd.tensor([0, 5, 1]))
    with pytest.raises(IndexError, match=r"Target -3 is out of bounds\."):
        F.nll_loss(x, retrograd.tensor([0, -3, 1]))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target "
                                         r"batch_size \(2\)."):
        F.nll_loss(x, retrograd.tensor([0, 1]))
    with pytest.raises(RuntimeError, match=r"Expected target size \[2, 4\], got \[2, 3\]"):
        F.cross_entropy(retrograd.randn(2, 3, 4), retrograd.tensor([[0, 1, 2], [0, 1, 2]]))
    with pytest.raises(RuntimeError, match=r"label_smoothing must be between 0\.0 and 1\.0\. "
                                           r"Got: 1\.5"):
        F.cross_entropy(x, retrograd.tensor([0, 1, 1]), label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got "
                                           "Float"):
        F.nll_loss(x, retrograd.tensor([0.0, 1, 1]))
    with pytest.raises(RuntimeError, match="weight tensor should be defined either for all 5 "
                                           r"classes or no classes but got weight tensor of "
                                           r"shape: \[4\]"):
        F.nll_loss(x, retrograd.tensor([0, 1, 2]), weight=retrograd.ones(4))
    with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
        F.cross_entropy(x, retrograd.tensor([0, 1, 2]), reduction="foo")
    with pytest.raises(NotImplementedError, match="not implemented for 'ComplexFloat'"):
        F.cross_entropy(x.to(retrograd.complex64), retrograd.tensor([0, 1, 2]))


def test_regression_and_binary_errors():
    x = retrograd.randn(3)
    with pytest.warns(UserWarning, match=r"Using a target size \(torch.Size\(\[3, 1\]\)\) that "
                                         r"is different to the input size \(torch.Size\(\[3\]\)\)"):
        F.mse_loss(x, retrograd.randn(3, 1))
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(retrograd.tensor([1.5, 0.2]), retrograd.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="Please ensure they have the same size"):
        F.binary_cross_entropy(retrograd.tensor([0.5, 0.2]), retrograd.tensor([[1.0, 0.0]]))
    with pytest.raises(ValueError, match=r"Target size \(torch.Size\(\[1, 2\]\)\) must be the "
                                         r"same as input size"):
        F.binary_cross_entropy_with_logits(retrograd.tensor([0.5, 0.2]),
                                           retrograd.tensor([[1.0, 0.0]]))
    with pytest.raises(RuntimeError, match="smooth_l1_loss does not support negative values"):
        F.smooth_l1_loss(x, x, beta=-1)
    with pytest.raises(RuntimeError, match="huber_loss does not support non-positive values"):
        F.huber_loss(x, x, delta=0)
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(retrograd.randn(3, 4), retrograd.randn(3, 4), retrograd.ones(2))
    with pytest.raises(ValueError, match="var has negative entry"):
        F.gaussian_nll_loss(x, x, -retrograd.ones(3))
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of "
                                           r"tensor b \(2\) at non-singleton dimension 0"):
        F.cosine_similarity(retrograd.randn(3, 4), retrograd.randn(2, 4))
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(x, x.exp())


def test_gradient_wrt_weighted_bce_target_and_gradcheck_with_ignore():
    x = retrograd.tensor(np.random.default_rng(3).standard_normal((4, 3)), requires_grad=True)
    t = retrograd.tensor([2, -1, 0, 2])
    assert gradcheck(lambda a: F.cross_entropy(a, t, ignore_index=-1, label_smoothing=0.1),
                     (x,), eps=1e-6, atol=1e-6)
    assert gradgradcheck(lambda a: F.cross_entropy(a, t, ignore_index=-1), (x,), eps=1e-6,
                         atol=1e-6)


def test_pdist_and_weighted_multi_margin_double_backward():
    """PyTorch lacks these double backwards; ours come from composites."""
    x = retrograd.tensor(np.random.default_rng(4).standard_normal((4, 3)), requires_grad=True)
    assert gradgradcheck(lambda a: F.pdist(a, 1.5), (x,), eps=1e-6, atol=1e-5, rtol=1e-3)
    w = retrograd.tensor(W4[:3])
    assert gradgradcheck(lambda a: F.multi_margin_loss(
        a, retrograd.tensor([0, 2, 1, 1]), p=2, margin=0.7, weight=w), (x,), eps=1e-6,
        atol=1e-5, rtol=1e-3)
