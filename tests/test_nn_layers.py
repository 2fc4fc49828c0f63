"""Every layer against torch: repr, parameter names, forward, input and parameter gradients.

Each row builds the layer in both libraries with the same arguments, copies retrograd's weights
into torch through numpy, runs the same input forward and a fixed cotangent backward.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from helpers import make_randn
from hypothesis import given, settings
from hypothesis import strategies as st
from nn_common import close, copy_weights, needs, pair, run_both, to_np

import retrograd as R

randn = make_randn(0)


# (layer name, constructor args, kwargs, input shapes, functional kernels it needs)
LAYERS = [
    ("Identity", (3,), {}, [(2, 3)], ()),
    ("Linear", (4, 3), {}, [(2, 4)], ()),
    ("Linear", (4, 3), {"bias": False}, [(2, 5, 4)], ()),
    ("Bilinear", (3, 2, 4), {}, [(5, 3), (5, 2)], ()),
    ("Conv1d", (2, 4, 3), {"stride": 2, "padding": 1}, [(2, 2, 9)], ("conv1d",)),
    ("Conv2d", (2, 4, 3), {"groups": 2, "dilation": 2, "bias": False}, [(2, 2, 8, 8)],
     ("conv2d",)),
    ("Conv2d", (3, 2, (3, 2)), {"padding": "same"}, [(1, 3, 5, 6)], ("conv2d",)),
    ("Conv2d", (2, 2, 3), {"padding": 1, "padding_mode": "reflect"}, [(1, 2, 5, 5)],
     ("conv2d", "pad")),
    ("Conv3d", (2, 3, 2), {}, [(1, 2, 4, 4, 4)], ("conv3d",)),
    ("ConvTranspose1d", (2, 3, 3), {"stride": 2, "output_padding": 1}, [(2, 2, 5)],
     ("conv_transpose1d",)),
    ("ConvTranspose2d", (4, 2, 3), {"stride": 2, "padding": 1, "groups": 2}, [(1, 4, 4, 4)],
     ("conv_transpose2d",)),
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1}, [(2, 3, 9)], ("max_pool1d",)),
    ("MaxPool2d", (2,), {}, [(2, 3, 6, 6)], ("max_pool2d",)),
    ("MaxPool2d", (3,), {"stride": 2, "ceil_mode": True}, [(1, 2, 8, 8)], ("max_pool2d",)),
    ("AvgPool1d", (2,), {}, [(2, 3, 8)], ("avg_pool1d",)),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False},
     [(1, 2, 7, 7)], ("avg_pool2d",)),
    ("AdaptiveAvgPool1d", (3,), {}, [(2, 2, 7)], ("adaptive_avg_pool1d",)),
    ("AdaptiveAvgPool2d", ((2, 3),), {}, [(2, 2, 7, 8)], ("adaptive_avg_pool2d",)),
    ("AdaptiveMaxPool2d", (2,), {}, [(2, 2, 7, 8)], ("adaptive_max_pool2d",)),
    ("BatchNorm1d", (3,), {}, [(4, 3)], ("batch_norm",)),
    ("BatchNorm1d", (3,), {"affine": False}, [(4, 3, 5)], ("batch_norm",)),
    ("BatchNorm2d", (3,), {"momentum": None}, [(2, 3, 4, 4)], ("batch_norm",)),
    ("LayerNorm", ((3, 4),), {}, [(2, 3, 4)], ("layer_norm",)),
    ("LayerNorm", (4,), {"elementwise_affine": False}, [(2, 4)], ("layer_norm",)),
    ("GroupNorm", (2, 4), {}, [(2, 4, 3, 3)], ("group_norm",)),
    ("InstanceNorm2d", (3,), {}, [(2, 3, 4, 4)], ("instance_norm",)),
    ("InstanceNorm2d", (3,), {"affine": True, "track_running_stats": True},
     [(2, 3, 4, 4)], ("instance_norm",)),
    ("Flatten", (), {}, [(2, 3, 4)], ()),
    ("Unflatten", (1, (2, 3)), {}, [(4, 6)], ()),
    ("Upsample", (), {"scale_factor": 2}, [(1, 2, 3, 3)], ("interpolate",)),
    ("Upsample", (), {"size": (5, 4), "mode": "bilinear"}, [(1, 2, 3, 3)], ("interpolate",)),
    ("PixelShuffle", (2,), {}, [(1, 8, 2, 3)], ("pixel_shuffle",)),
    ("ZeroPad2d", ((1, 2, 0, 1),), {}, [(1, 2, 3, 3)], ("pad",)),
    ("ConstantPad1d", (2, 3.5), {}, [(1, 2, 3)], ("pad",)),
    ("ReflectionPad2d", (1,), {}, [(1, 2, 3, 3)], ("pad",)),
    ("ReplicationPad1d", ((1, 2),), {}, [(1, 2, 4)], ("pad",)),
    ("Dropout", (0.3,), {}, [(3, 4)], ()),
    ("Dropout2d", (0.3,), {}, [(2, 3, 4, 4)], ()),
    ("AlphaDropout", (0.3,), {}, [(3, 4)], ()),
    ("PReLU", (3,), {}, [(2, 3, 4)], ("prelu",)),
    ("PReLU", (), {}, [(2, 3)], ("prelu",)),
    ("Conv1d", (2, 3, 3), {"padding": 2, "padding_mode": "circular"}, [(1, 2, 6)],
     ("conv1d", "pad")),
    ("ConvTranspose3d", (2, 2, 2), {"stride": 2}, [(1, 2, 2, 3, 2)], ("conv_transpose3d",)),
    ("MaxPool3d", (2,), {}, [(1, 2, 4, 4, 4)], ("max_pool3d",)),
    ("AvgPool3d", (2,), {"stride": 1}, [(1, 2, 3, 3, 3)], ("avg_pool3d",)),
    ("AdaptiveMaxPool1d", (3,), {}, [(2, 2, 7)], ("adaptive_max_pool1d",)),
    ("AdaptiveAvgPool3d", (2,), {}, [(1, 2, 4, 5, 3)], ("adaptive_avg_pool3d",)),
    ("LPPool2d", (2, 2), {}, [(1, 2, 4, 4)], ("lp_pool2d",)),
    ("LPPool1d", (3, 2), {"stride": 1}, [(1, 2, 5)], ("lp_pool1d",)),
    ("BatchNorm3d", (2,), {}, [(2, 2, 3, 2, 2)], ("batch_norm",)),
    ("InstanceNorm1d", (3,), {"affine": True}, [(3, 5)], ("instance_norm",)),
    ("RMSNorm", (4,), {"eps": 1e-6}, [(2, 3, 4)], ("rms_norm",)),
    ("LocalResponseNorm", (3,), {}, [(2, 5, 3)], ("local_response_norm",)),
    ("Softmax2d", (), {}, [(2, 3, 2, 2)], ("softmax",)),
    ("CircularPad2d", (1,), {}, [(1, 2, 3, 3)], ("pad",)),
    ("ChannelShuffle", (2,), {}, [(1, 4, 2, 2)], ()),
    ("PixelUnshuffle", (2,), {}, [(1, 2, 4, 4)], ("pixel_unshuffle",)),
    ("Fold", ((4, 5), 2), {}, [(1, 8, 12)], ("fold",)),
    ("Unfold", (2,), {"padding": 1, "stride": 2}, [(1, 2, 4, 5)], ("unfold",)),
    ("CosineSimilarity", (), {"dim": 0}, [(3, 4), (3, 4)], ("cosine_similarity",)),
    ("PairwiseDistance", (), {"keepdim": True}, [(3, 4), (3, 4)], ("pairwise_distance",)),
]

ACTIVATIONS = [
    ("ReLU", ()), ("ReLU6", ()), ("LeakyReLU", (0.2,)), ("ELU", ()), ("CELU", (0.5,)),
    ("SELU", ()), ("GELU", ()), ("GELU", ("tanh",)), ("SiLU", ()), ("Mish", ()),
    ("Sigmoid", ()), ("Tanh", ()), ("Hardtanh", (-0.5, 0.7)), ("Hardsigmoid", ()),
    ("Hardswish", ()), ("Softplus", (2.0,)), ("Softsign", ()), ("Softshrink", ()),
    ("Hardshrink", ()), ("Tanhshrink", ()), ("LogSigmoid", ()), ("Softmax", (1,)),
    ("LogSoftmax", (-1,)), ("Softmin", (0,)), ("GLU", ()), ("Threshold", (0.1, 20.0)),
]


def _id(row):
    return row[0] + "-" + "-".join(f"{k}={v}" for k, v in row[2].items())


@pytest.mark.parametrize("row", LAYERS, ids=[_id(r) for r in LAYERS])
def test_layer_matches_torch(row):
    name, args, kwargs, shapes, kernels = row
    missing = [k for k in kernels if not hasattr(R.nn.functional, k)]
    assert not missing, f"nn.functional lacks {missing}"
    ours, theirs = pair(name, *args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if "Dropout" in name:
        ours.eval()
        theirs.eval()
    run_both(ours, theirs, *[randn(*s) for s in shapes])
    for b, tb in zip(ours.buffers(), theirs.buffers()):
        close(b, tb)


@pytest.mark.parametrize("name,args", ACTIVATIONS, ids=[a[0] + str(a[1]) for a in ACTIVATIONS])
def test_activation_matches_torch(name, args):
    ours, theirs = pair(name, *args)
    assert repr(ours) == repr(theirs)
    x = randn(2, 3, 4)
    x[np.abs(x) < 0.05] = 0.3  # keep away from kinks
    run_both(ours, theirs, x)


def test_batchnorm_running_stats_and_eval():
    ours, theirs = pair("BatchNorm2d", 3, momentum=0.3)
    for _ in range(3):
        x = randn(4, 3, 2, 2) * 2 + 1
        close(ours(R.tensor(x)), theirs(torch.tensor(x)))
    close(ours.running_mean, theirs.running_mean)
    close(ours.running_var, theirs.running_var)
    assert ours.num_batches_tracked.item() == 3 and ours.num_batches_tracked.dtype == R.int64
    ours.eval()
    theirs.eval()
    x = randn(2, 3, 2, 2)
    close(ours(R.tensor(x)), theirs(torch.tensor(x)))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 2D input\)"):
        ours(R.zeros(2, 3))


def test_batchnorm_state_dict_without_num_batches_tracked():
    bn = R.nn.BatchNorm1d(2)
    sd = bn.state_dict()
    del sd["num_batches_tracked"]
    sd._metadata[""] = {"version": 1}
    bn.load_state_dict(sd)  # older checkpoints lack the counter; accepted as PyTorch does


def test_linear_default_init_bounds():
    m = R.nn.Linear(50, 40)
    w, b = to_np(m.weight), to_np(m.bias)
    bound = 1 / np.sqrt(50)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(b).max() <= bound
    conv = R.nn.Conv2d(3, 8, 3)
    assert np.abs(to_np(conv.weight)).max() <= 1 / np.sqrt(27)


def test_lazy_linear_materialises_on_first_call():
    m = R.nn.LazyLinear(3)
    out = m(R.ones(2, 5))
    assert out.shape == (2, 3) and type(m) is R.nn.Linear
    assert m.weight.shape == (3, 5) and m.in_features == 5
    assert repr(m) == "Linear(in_features=5, out_features=3, bias=True)"


@needs("embedding")
def test_embedding_padding_idx_and_max_norm():
    ours, theirs = pair("Embedding", 10, 3, padding_idx=2)
    assert repr(ours) == repr(theirs)
    assert to_np(ours.weight)[2].tolist() == [0.0, 0.0, 0.0]
    idx = np.array([[1, 2, 2], [4, 2, 9]])
    run_both(ours, theirs, idx)
    assert to_np(ours.weight.grad)[2].tolist() == [0.0, 0.0, 0.0]
    ours, theirs = pair("Embedding", 6, 4, max_norm=1.0)
    with torch.no_grad():
        theirs.weight.mul_(3)
    with R.no_grad():
        ours.weight.mul_(3)
    run_both(ours, theirs, np.array([0, 3, 3]))
    close(ours.weight, theirs.weight)


def test_embedding_from_pretrained():
    w = randn(4, 2)
    ours = R.nn.Embedding.from_pretrained(R.tensor(w))
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(w))
    assert not ours.weight.requires_grad and repr(ours) == repr(theirs)
    close(ours(R.tensor([3, 0])), theirs(torch.tensor([3, 0])))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_matches_torch(mode):
    ours, theirs = pair("EmbeddingBag", 8, 3, mode=mode)
    assert repr(ours) == repr(theirs)
    idx = np.array([1, 2, 4, 5, 4, 3, 2, 7])
    offsets = np.array([0, 2, 5])
    ro = ours(R.tensor(idx), R.tensor(offsets))
    to = theirs(torch.tensor(idx), torch.tensor(offsets))
    close(ro, to)
    cot = randn(*to.shape)
    (ro * R.tensor(cot)).sum().backward()
    (to * torch.tensor(cot)).sum().backward()
    close(ours.weight.grad, theirs.weight.grad)
    idx2 = np.array([[1, 2, 3], [4, 4, 0]])
    close(ours(R.tensor(idx2)), theirs(torch.tensor(idx2)))


def test_embedding_bag_per_sample_weights():
    ours, theirs = pair("EmbeddingBag", 5, 2, mode="sum")
    idx, off, w = np.array([0, 1, 2, 4]), np.array([0, 1]), randn(4)
    close(ours(R.tensor(idx), R.tensor(off), per_sample_weights=R.tensor(w)),
          theirs(torch.tensor(idx), torch.tensor(off), per_sample_weights=torch.tensor(w)))


def test_dropout_training_statistics():
    d = R.nn.Dropout(0.25)
    out = to_np(d(R.ones(2000)))
    kept = out != 0
    assert 0.65 < kept.mean() < 0.85
    np.testing.assert_allclose(out[kept], 1 / 0.75, rtol=1e-6)
    d.eval()
    assert to_np(d(R.ones(5))).tolist() == [1.0] * 5
    with pytest.raises(ValueError, match=r"between 0 and 1, but got 1\.5"):
        R.nn.Dropout(1.5)


# ----------------------------------------------------------------- losses
LOSSES = [
    ("MSELoss", {}, "float"), ("L1Loss", {"reduction": "sum"}, "float"),
    ("SmoothL1Loss", {"beta": 0.5}, "float"), ("HuberLoss", {"delta": 0.7}, "float"),
    ("CrossEntropyLoss", {}, "class"), ("CrossEntropyLoss", {"label_smoothing": 0.1}, "class"),
    ("CrossEntropyLoss", {"reduction": "none", "ignore_index": 1}, "class"),
    ("NLLLoss", {}, "logprob"), ("BCELoss", {}, "prob"), ("BCEWithLogitsLoss", {}, "binary"),
    ("KLDivLoss", {"reduction": "batchmean"}, "logprob_dist"),
    ("SoftMarginLoss", {}, "sign"), ("MultiLabelSoftMarginLoss", {}, "binary"),
]


def _loss_inputs(kind):
    x = randn(4, 3)
    if kind == "float":
        return [x, randn(4, 3)]
    if kind == "class":
        return [x, np.array([0, 2, 1, 2])]
    if kind == "logprob":
        return [x - np.log(np.exp(x).sum(1, keepdims=True)), np.array([0, 2, 1, 2])]
    if kind == "prob":
        return [1 / (1 + np.exp(-x)), (randn(4, 3) > 0).astype(np.float32)]
    if kind == "binary":
        return [x, (randn(4, 3) > 0).astype(np.float32)]
    if kind == "logprob_dist":
        p = np.exp(randn(4, 3))
        return [x - np.log(np.exp(x).sum(1, keepdims=True)), p / p.sum(1, keepdims=True)]
    return [x, np.sign(randn(4, 3)).astype(np.float32)]


THREE_INPUT_LOSSES = [
    ("CosineEmbeddingLoss", {"margin": 0.2}), ("MarginRankingLoss", {"margin": 0.1}),
    ("TripletMarginLoss", {"margin": 0.5, "swap": True}), ("GaussianNLLLoss", {}),
]


@pytest.mark.parametrize("name,kwargs", THREE_INPUT_LOSSES, ids=[n for n, _ in THREE_INPUT_LOSSES])
def test_three_input_loss_matches_torch(name, kwargs):
    ours, theirs = pair(name, **kwargs)
    assert repr(ours) == repr(theirs)
    a, b = randn(4, 3), randn(4, 3)
    if name == "CosineEmbeddingLoss":
        third, grads = np.array([1.0, -1.0, 1.0, -1.0], np.float32), (True, True, False)
    elif name == "MarginRankingLoss":
        a, b = randn(4), randn(4)
        third, grads = np.array([1.0, -1.0, 1.0, -1.0], np.float32), (True, True, False)
    elif name == "GaussianNLLLoss":
        third, grads = np.exp(randn(4, 3)), (True, False, True)
    else:
        third, grads = randn(4, 3), (True, True, True)
    run_both(ours, theirs, a, b, third, grad_inputs=grads)


@pytest.mark.parametrize("name,kwargs,kind", [
    ("PoissonNLLLoss", {}, "float"), ("PoissonNLLLoss", {"log_input": False, "full": True},
                                      "positive"),
    ("HingeEmbeddingLoss", {"margin": 0.5}, "sign"),
])
def test_more_losses_match_torch(name, kwargs, kind):
    ours, theirs = pair(name, **kwargs)
    assert repr(ours) == repr(theirs)
    x, y = randn(4, 3), np.abs(randn(4, 3)) * 3
    if kind == "positive":
        x = np.abs(x) + 0.1
    if kind == "sign":
        y = np.sign(randn(4, 3)).astype(np.float32)
    run_both(ours, theirs, x, y.astype(np.float32), grad_inputs=(True, False))


@pytest.mark.parametrize("n", [1, 2])
def test_max_unpool_inverts_max_pool(n):
    pool_r = getattr(R.nn, f"MaxPool{n}d")(2, return_indices=True)
    pool_t = getattr(torch.nn, f"MaxPool{n}d")(2, return_indices=True)
    unpool_r, unpool_t = pair(f"MaxUnpool{n}d", 2)
    assert repr(unpool_r) == repr(unpool_t) and repr(pool_r) == repr(pool_t)
    x = randn(1, 2, *([4] * n))
    rx, tx = R.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ro, ri = pool_r(rx)
    to, ti = pool_t(tx)
    assert ri.tolist() == ti.tolist()
    ru, tu = unpool_r(ro, ri), unpool_t(to, ti)
    close(ru, tu)
    ru.sum().backward()
    tu.sum().backward()
    close(rx.grad, tx.grad)


def test_rrelu_eval_and_threshold():
    ours, theirs = pair("RReLU", 0.1, 0.3)
    assert repr(ours) == repr(theirs)
    ours.eval()
    theirs.eval()
    run_both(ours, theirs, randn(3, 4))
    ours.train()
    out = to_np(ours(R.tensor(-np.ones((200,), np.float32))))
    assert np.all((out <= -0.1 + 1e-6) & (out >= -0.3 - 1e-6)) and out.std() > 0.01


def test_conv_transpose_output_size():
    ours, theirs = pair("ConvTranspose2d", 2, 3, 3, stride=2)
    x = randn(1, 2, 4, 4)
    ro = ours(R.tensor(x), output_size=[10, 9])
    to = theirs(torch.tensor(x), output_size=[10, 9])
    assert ro.shape == to.shape == (1, 3, 10, 9)
    close(ro, to)
    with pytest.raises(ValueError) as a:
        ours(R.tensor(x), output_size=[20, 9])
    with pytest.raises(ValueError) as b:
        theirs(torch.tensor(x), output_size=[20, 9])
    assert str(a.value) == str(b.value)


def test_conv_constructor_errors_match_torch():
    for kwargs in ({"groups": 2}, {"padding": "full"}, {"padding_mode": "wrap"},
                   {"padding": "same", "stride": 2}):
        with pytest.raises(ValueError) as a:
            R.nn.Conv2d(3, 4, 3, **kwargs)
        with pytest.raises(ValueError) as b:
            torch.nn.Conv2d(3, 4, 3, **kwargs)
        assert _sorted_sets(str(a.value)) == _sorted_sets(str(b.value)), kwargs


def _sorted_sets(msg: str) -> str:
    """Set literals print in hash order, which differs between runs: sort their items."""
    import re

    return re.sub(r"\{([^}]*)\}",
                  lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}", msg)


@pytest.mark.parametrize("name,kwargs,kind", LOSSES, ids=[_id((n, 0, k)) for n, k, _ in LOSSES])
def test_loss_matches_torch(name, kwargs, kind):
    ours, theirs = pair(name, **kwargs)
    assert repr(ours) == repr(theirs)
    inputs = _loss_inputs(kind)
    run_both(ours, theirs, inputs[0], inputs[1], grad_inputs=(True, False))


def test_weighted_losses_register_weight_buffer():
    w = np.array([0.2, 1.0, 3.0], dtype=np.float32)
    ours = R.nn.CrossEntropyLoss(weight=R.tensor(w))
    theirs = torch.nn.CrossEntropyLoss(weight=torch.tensor(w))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    run_both(ours, theirs, randn(5, 3), np.array([0, 1, 2, 2, 1]))
    ours = R.nn.BCEWithLogitsLoss(pos_weight=R.tensor(w))
    theirs = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(w))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    run_both(ours, theirs, randn(4, 3), (randn(4, 3) > 0).astype(np.float32))


@pytest.mark.parametrize("size_average,reduce,expected",
                         [(False, None, "sum"), (None, False, "none"), (True, True, "mean")])
def test_legacy_reduction_arguments(size_average, reduce, expected):
    with warnings.catch_warnings(record=True) as ours_w:
        warnings.simplefilter("always")
        ours = R.nn.MSELoss(size_average=size_average, reduce=reduce)
    with warnings.catch_warnings(record=True) as theirs_w:
        warnings.simplefilter("always")
        theirs = torch.nn.MSELoss(size_average=size_average, reduce=reduce)
    assert ours.reduction == theirs.reduction == expected
    assert [str(w.message) for w in ours_w] == [str(w.message) for w in theirs_w]
    assert [w.category for w in ours_w] == [w.category for w in theirs_w]


def test_copy_weights_roundtrip_helper_detects_difference():
    ours, theirs = pair("Linear", 2, 2)
    with torch.no_grad():
        theirs.weight.add_(1.0)
    with pytest.raises(AssertionError):
        close(ours.weight, theirs.weight)
    copy_weights(ours, theirs)
    close(ours.weight, theirs.weight)


REPRS = [
    ("Dropout1d", (0.2,)), ("Dropout3d", ()), ("FeatureAlphaDropout", (0.1, True)),
    ("ZeroPad1d", (2,)), ("ZeroPad3d", ((1, 0, 1, 0, 2, 1),)), ("ConstantPad3d", (1, 0.5)),
    ("ReflectionPad1d", ((1, 2),)), ("ReplicationPad3d", (1,)), ("CircularPad1d", (1,)),
    ("UpsamplingNearest2d", (None, 2)), ("UpsamplingBilinear2d", ((4, 4),)),
    ("Upsample", (None, (2.0, 3.0), "bilinear", True)), ("LazyLinear", (3,)),
    ("Identity", (1, 2)), ("Bilinear", (2, 3, 4, False)), ("RMSNorm", ((2, 3), 1e-5, False)),
    ("LPPool2d", (2.5, 3, 1, True)), ("AdaptiveMaxPool2d", ((2, 3), True)),
    ("MaxPool2d", ((2, 3), (1, 2), 1, 2, True, True)), ("AvgPool3d", (2, 1, 0, True)),
    ("BatchNorm2d", (3, 1e-3, None, False, False)), ("GroupNorm", (1, 4, 1e-3, False)),
    ("InstanceNorm3d", (2, 1e-3, 0.2, True, True)), ("Embedding", (5, 2, None, 1.0, 1.0, True)),
    ("EmbeddingBag", (5, 2, None, 2.0, False, "sum", False, None, True, 0)),
    ("Softmax", ()), ("Softplus", (1.5, 10)), ("PReLU", (4, 0.1)), ("Hardtanh", (-2.0, 2.0, True)),
    ("LeakyReLU", (0.1, True)), ("ELU", (0.5, True)), ("Threshold", (0.1, 2.0, True)),
    ("ConvTranspose2d", (2, 4, 3, 2, 1, 1, 2, False, 2)),
    ("Conv3d", (2, 4, 3, 1, "valid", 1, 1, True, "replicate")),
    ("Transformer", (8, 2, 1, 1, 16, 0.0, "gelu")),
    ("GRU", (2, 3, 1, False, True, 0.0, True)), ("RNNCell", (2, 3, True, "relu")),
    ("MultiheadAttention", (8, 2, 0.1, True, True, True, 3, 5)),
] + [(name, ()) for name in (
    "L1Loss", "MSELoss", "NLLLoss", "PoissonNLLLoss", "GaussianNLLLoss", "KLDivLoss", "BCELoss",
    "BCEWithLogitsLoss", "HingeEmbeddingLoss", "MultiLabelMarginLoss", "SmoothL1Loss",
    "HuberLoss", "SoftMarginLoss", "CrossEntropyLoss", "MultiLabelSoftMarginLoss",
    "CosineEmbeddingLoss", "MarginRankingLoss", "MultiMarginLoss", "TripletMarginLoss",
    "TripletMarginWithDistanceLoss", "CTCLoss",
)]


@pytest.mark.parametrize("name,args", REPRS, ids=[r[0] for r in REPRS])
def test_repr_and_state_keys_match_torch(name, args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = getattr(R.nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]


@settings(max_examples=25, deadline=None)
@given(batch=st.lists(st.integers(1, 3), min_size=0, max_size=2), fin=st.integers(1, 5),
       fout=st.integers(1, 5), bias=st.booleans())
def test_linear_any_shape_matches_torch(batch, fin, fout, bias):
    ours, theirs = pair("Linear", fin, fout, bias=bias)
    run_both(ours, theirs, randn(*batch, fin))


_LINEAR_MISUSE = {
    "input list": lambda t: t.nn.functional.linear([1.0], t.ones(1, 1)),
    "weight list": lambda t: t.nn.functional.linear(t.ones(1, 1), [[1.0]]),
    "bias list": lambda t: t.nn.functional.linear(t.ones(1, 1), t.ones(1, 1), [1.0]),
    "0-d input": lambda t: t.nn.functional.linear(t.tensor(1.0), t.ones(2, 2)),
    "shapes": lambda t: t.nn.functional.linear(t.ones(2, 3), t.ones(4, 2)),
    "dtypes": lambda t: t.nn.functional.linear(t.ones(2, 3), t.ones(4, 3, dtype=t.float64)),
}


@pytest.mark.parametrize("case", list(_LINEAR_MISUSE))
def test_linear_refuses_misuse_as_torch_does(case):
    with pytest.raises(Exception) as theirs:
        _LINEAR_MISUSE[case](torch)
    with pytest.raises(theirs.type) as ours:
        _LINEAR_MISUSE[case](R)
    assert str(ours.value) == str(theirs.value)


def test_linear_bias_shapes_match_torch():
    for x, w, b in (((2, 3), (4, 3), (4,)), ((3,), (4, 3), None), ((2, 3), (4, 3), (2, 4)),
                    ((5, 2, 3), (4, 3), ())):
        args = [np.random.default_rng(0).standard_normal(s).astype(np.float32)
                for s in (x, w) + ((b,) if b is not None else ())]
        ours = R.nn.functional.linear(*[R.tensor(a) for a in args])
        theirs = torch.nn.functional.linear(*[torch.tensor(a) for a in args])
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)


@settings(max_examples=25, deadline=None)
@given(size=st.integers(5, 8), k=st.integers(1, 3), stride=st.integers(1, 2),
       padding=st.integers(0, 1), groups=st.sampled_from([1, 2]))
def test_conv2d_any_geometry_matches_torch(size, k, stride, padding, groups):
    ours, theirs = pair("Conv2d", 2, 4, k, stride=stride, padding=padding, groups=groups)
    run_both(ours, theirs, randn(1, 2, size, size + 1))


def test_linear_reads_what_self_weight_gives():
    """Linear reads its registered parameters from their dict; a weight that is no longer
    a registered parameter, or a subclass's, is read through ``self.weight`` as before."""
    x = R.ones(1, 3)
    lin = R.nn.Linear(3, 2)
    expect = x.matmul(lin.weight.t()) + lin.bias
    assert np.array_equal(lin(x).detach().numpy(), expect.detach().numpy())

    del lin.weight
    lin.weight = R.full((2, 3), 2.0)  # a plain tensor attribute now
    assert np.allclose(lin(x).detach().numpy(), (6.0 + lin.bias).detach().numpy())

    class Scaled(R.nn.Linear):
        def __getattr__(self, name):
            value = super().__getattr__(name)
            return value * 2 if name == "weight" else value

    d = Scaled(3, 2)
    want = x.matmul(d._parameters["weight"].t() * 2) + d.bias
    assert np.allclose(d(x).detach().numpy(), want.detach().numpy())
