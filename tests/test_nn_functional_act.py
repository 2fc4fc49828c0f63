"""Activations of retrograd.nn.functional against NumPy, finite differences and PyTorch
(issue: the full differentiable op library)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from helpers import sigmoid, softmax
from optable import (
    OpCase,
)

import retrograd
import retrograd.nn.functional as F

UNARY = [((2, 3),), ((),), ((4, 1, 2),)]
SMALL = [((2, 3),)]
_erf = np.vectorize(math.erf)


def _f(L):
    return L.nn.functional


def _softplus(x, beta=1.0, threshold=20.0):
    z = x * beta
    return np.where(z > threshold, x, np.logaddexp(0, z) / beta)


def _elu(x, alpha=1.0, scale=1.0, input_scale=1.0):
    return scale * np.where(x > 0, x, alpha * (np.exp(np.minimum(x, 0) * input_scale) - 1))


SELU = (1.6732632423543772848170429916717, 1.0507009873554804934193349852946)

CASES = [
    OpCase("relu", lambda L, x: _f(L).relu(x), lambda x: np.maximum(x, 0), UNARY),
    OpCase("relu6", lambda L, x: _f(L).relu6(x * 4), lambda x: np.clip(x * 4, 0, 6), UNARY),
    OpCase("leaky_relu", lambda L, x: _f(L).leaky_relu(x, 0.2),
           lambda x: np.where(x > 0, x, 0.2 * x), UNARY),
    OpCase("elu", lambda L, x: _f(L).elu(x, 1.5), lambda x: _elu(x, 1.5), UNARY),
    OpCase("selu", lambda L, x: _f(L).selu(x), lambda x: _elu(x, *SELU), UNARY),
    OpCase("celu", lambda L, x: _f(L).celu(x, 0.7), lambda x: _elu(x, 0.7, 1, 1 / 0.7), UNARY),
    OpCase("gelu", lambda L, x: _f(L).gelu(x),
           lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))), UNARY, domain=(-4, 4)),
    OpCase("gelu_tanh", lambda L, x: _f(L).gelu(x, approximate="tanh"),
           lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
           UNARY),
    OpCase("silu", lambda L, x: _f(L).silu(x), lambda x: x * sigmoid(x), UNARY),
    OpCase("mish", lambda L, x: _f(L).mish(x), lambda x: x * np.tanh(_softplus(x)), UNARY),
    OpCase("softplus", lambda L, x: _f(L).softplus(x), _softplus, UNARY, domain=(-30, 30)),
    OpCase("softplus_beta", lambda L, x: _f(L).softplus(x, 2.0, 3.0),
           lambda x: _softplus(x, 2.0, 3.0), UNARY, domain=(-3, 3)),
    OpCase("softsign", lambda L, x: _f(L).softsign(x), lambda x: x / (1 + np.abs(x)), UNARY),
    OpCase("hardtanh", lambda L, x: _f(L).hardtanh(x, -0.5, 1.0),
           lambda x: np.clip(x, -0.5, 1.0), UNARY),
    OpCase("hardsigmoid", lambda L, x: _f(L).hardsigmoid(x),
           lambda x: np.clip(x + 3, 0, 6) / 6, UNARY, domain=(-4, 4)),
    OpCase("hardswish", lambda L, x: _f(L).hardswish(x),
           lambda x: x * np.clip(x + 3, 0, 6) / 6, UNARY, domain=(-4, 4)),
    OpCase("logsigmoid", lambda L, x: _f(L).logsigmoid(x), lambda x: -_softplus(-x, 1, 1e9),
           UNARY, domain=(-30, 30)),
    OpCase("tanhshrink", lambda L, x: _f(L).tanhshrink(x), lambda x: x - np.tanh(x), UNARY),
    OpCase("softshrink", lambda L, x: _f(L).softshrink(x, 0.7),
           lambda x: np.where(x > 0.7, x - 0.7, np.where(x < -0.7, x + 0.7, 0)), UNARY),
    OpCase("hardshrink", lambda L, x: _f(L).hardshrink(x, 0.7),
           lambda x: np.where(np.abs(x) > 0.7, x, 0), UNARY),
    OpCase("threshold", lambda L, x: _f(L).threshold(x, 0.5, -2.0),
           lambda x: np.where(x > 0.5, x, -2.0), UNARY),
    OpCase("glu", lambda L, x: _f(L).glu(x, 1), lambda x: x[:, :2] * sigmoid(x[:, 2:]),
           [((3, 4),), ((2, 4, 3),)]),
    OpCase("softmax", lambda L, x: _f(L).softmax(x, 1), lambda x: softmax(x, 1),
           [((3, 4),), ((2, 3, 2),)], domain=(-5, 5)),
    OpCase("softmax_0d", lambda L, x: _f(L).softmax(x, 0), lambda x: np.ones_like(x), [((),)]),
    OpCase("softmin", lambda L, x: _f(L).softmin(x, -1), lambda x: softmax(-x, -1), SMALL),
    OpCase("log_softmax", lambda L, x: _f(L).log_softmax(x, -1),
           lambda x: np.log(softmax(x, -1)), [((3, 4),), ((5,),)], domain=(-5, 5)),
    OpCase("log_softmax_dim0", lambda L, x: L.log_softmax(x, 0),
           lambda x: np.log(softmax(x, 0)), [((3, 4),)]),
    OpCase("tensor_softmax", lambda L, x: x.softmax(-1), lambda x: softmax(x, -1), SMALL),
    OpCase("normalize", lambda L, x: _f(L).normalize(x),
           lambda x: x / np.linalg.norm(x, axis=1, keepdims=True), [((3, 4),), ((2, 3, 2),)]),
    OpCase("normalize_p1", lambda L, x: _f(L).normalize(x, p=1.0, dim=0),
           lambda x: x / np.abs(x).sum(0, keepdims=True), SMALL, domain=(0.5, 2)),
    OpCase("linear", lambda L, x, w, b: _f(L).linear(x, w, b), lambda x, w, b: x @ w.T + b,
           [((3, 4), (2, 4), (2,)), ((2, 3, 4), (5, 4), (5,))]),
    OpCase("linear_nobias", lambda L, x, w: _f(L).linear(x, w), lambda x, w: x @ w.T,
           [((3, 4), (2, 4))]),
    OpCase("bilinear", lambda L, a, b, w, c: _f(L).bilinear(a, b, w, c),
           lambda a, b, w, c: np.einsum("ni,kij,nj->nk", a, w, b) + c,
           [((3, 2), (3, 4), (5, 2, 4), (5,))]),
    OpCase("prelu", lambda L, x, w: _f(L).prelu(x, w), None, [((2, 3, 4), (3,)), ((4, 3), (1,))]),
]


# ---------------------------------------------------------------------- kinks and conventions

KINKS = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 0.7, 1.0, 3.0, 6.0])


@pytest.mark.parametrize("name", ["relu", "relu6", "leaky_relu", "elu", "selu", "celu",
                                  "hardtanh", "hardsigmoid", "hardswish", "softshrink",
                                  "hardshrink", "threshold", "softplus", "logsigmoid", "mish",
                                  "gelu", "silu"])
def test_gradient_at_kinks_matches_pytorch(name):
    import torch
    args = {"softshrink": (0.5,), "hardshrink": (0.5,), "threshold": (0.5, -1.0),
            "hardtanh": (-0.5, 1.0)}.get(name, ())
    r = retrograd.tensor(KINKS, requires_grad=True)
    t = torch.tensor(KINKS, requires_grad=True)
    getattr(F, name)(r, *args).sum().backward()
    getattr(torch.nn.functional, name)(t, *args).sum().backward()
    np.testing.assert_allclose(r.grad.numpy(), t.grad.numpy(), atol=1e-12)


def test_softmax_is_stable_for_large_logits():
    x = retrograd.tensor([[1000.0, 1001.0, -1000.0]], dtype=retrograd.float32)
    out = F.log_softmax(x, 1).numpy()
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, [[-1.3132616, -0.3132617, -2001.3132]], rtol=1e-6)
    np.testing.assert_allclose(F.softmax(x, 1).numpy().sum(), 1.0, rtol=1e-6)


def test_log_softmax_float32_matches_pytorch_to_1e6():
    import torch
    x = np.random.default_rng(0).standard_normal((8, 50)).astype(np.float32) * 10
    ours = F.log_softmax(retrograd.tensor(x), 1).numpy()
    theirs = torch.nn.functional.log_softmax(torch.tensor(x), 1).numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-5, rtol=1e-6)


def test_softmax_dtype_argument_and_implicit_dim_warning():
    x = retrograd.randn(2, 3)
    assert F.softmax(x, 1, dtype=retrograd.float64).dtype == retrograd.float64
    assert retrograd.softmax(x, 1, retrograd.float64).dtype == retrograd.float64
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        out = F.softmax(x)
    np.testing.assert_allclose(out.numpy().sum(1), [1, 1], rtol=1e-6)


def test_float16_softmax_and_gelu():
    x = retrograd.tensor([[-2.0, 0.5, 3.0]], dtype=retrograd.float16)
    assert F.softmax(x, 1).dtype == retrograd.float16
    assert F.gelu(x).dtype == retrograd.float16
    np.testing.assert_allclose(F.softmax(x, 1).numpy().astype(np.float32),
                               softmax(np.array([[-2.0, 0.5, 3.0]]), 1), atol=1e-3)


def test_node_names_match_pytorch():
    x = retrograd.randn(3, requires_grad=True)
    assert F.log_softmax(x, 0).grad_fn.name() == "LogSoftmaxBackward0"
    assert F.softmax(x, 0).grad_fn.name() == "SoftmaxBackward0"
    assert F.relu6(x).grad_fn.name() == "HardtanhBackward0"
    assert F.leaky_relu(x).grad_fn.name() == "LeakyReluBackward0"
    assert F.softplus(x).grad_fn.name() == "SoftplusBackward0"


# ---------------------------------------------------------------------- in-place variants

@pytest.mark.parametrize(("name", "call"), [
    ("relu", lambda F, x: F.relu(x, inplace=True)),
    ("relu_", lambda F, x: F.relu_(x)),
    ("elu", lambda F, x: F.elu(x, 0.5, inplace=True)),
    ("elu_", lambda F, x: F.elu_(x, 0.5)),
    ("selu", lambda F, x: F.selu(x, inplace=True)),
    ("celu", lambda F, x: F.celu(x, 0.5, inplace=True)),
    ("leaky_relu_", lambda F, x: F.leaky_relu_(x, 0.3)),
    ("hardtanh_", lambda F, x: F.hardtanh_(x, -0.5, 0.5)),
    ("relu6", lambda F, x: F.relu6(x, inplace=True)),
    ("threshold_", lambda F, x: F.threshold_(x, 0.1, 9.0)),
    ("silu", lambda F, x: F.silu(x, inplace=True)),
    ("mish", lambda F, x: F.mish(x, inplace=True)),
    ("hardswish", lambda F, x: F.hardswish(x, inplace=True)),
    ("hardsigmoid", lambda F, x: F.hardsigmoid(x, inplace=True)),
])
def test_inplace_variants_match_pytorch(name, call):
    import torch
    a = np.random.default_rng(5).uniform(-2, 2, (3, 4))
    r = retrograd.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    r2, t2 = r * 1, t * 1
    out = call(F, r2)
    call(torch.nn.functional, t2)
    assert out is r2
    assert r2._version == 1
    np.testing.assert_allclose(r2.detach().numpy(), t2.detach().numpy(), atol=1e-12)
    g = np.random.default_rng(6).standard_normal(a.shape)
    r2.backward(retrograd.tensor(g))
    t2.backward(torch.tensor(g))
    np.testing.assert_allclose(r.grad.numpy(), t.grad.numpy(), atol=1e-12)


def test_inplace_on_leaf_requiring_grad_raises():
    x = retrograd.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        F.elu_(x)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        F.relu_(x)


def test_inplace_without_grad_writes_values():
    x = retrograd.tensor([-1.0, 2.0])
    assert F.threshold_(x, 0.0, 5.0) is x
    assert x.tolist() == [5.0, 2.0]
    retrograd.selu_(x)
    np.testing.assert_allclose(x.numpy(), 1.0507009873554805 * np.array([5.0, 2.0]))


# ---------------------------------------------------------------------- misuse and extras

def test_misuse_errors():
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 is "
                                           "size 3"):
        F.glu(retrograd.randn(2, 3), 1)
    with pytest.raises(IndexError, match="Dimension out of range"):
        F.softmax(retrograd.randn(2, 3), 2)
    with pytest.raises(RuntimeError, match="lambda must be greater or equal to 0"):
        F.softshrink(retrograd.randn(2), -1.0)
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        F.gelu(retrograd.randn(2), approximate="fast")
    with pytest.raises(RuntimeError, match=r"shapes cannot be multiplied \(2x3 and 5x4\)"):
        F.linear(retrograd.randn(2, 3), retrograd.randn(4, 5))


def test_rrelu_eval_is_leaky_with_mean_slope_and_training_is_random():
    x = retrograd.tensor([-1.0, 2.0] * 500)
    np.testing.assert_allclose(F.rrelu(x).numpy()[:2], [-(1 / 8 + 1 / 3) / 2, 2.0])
    retrograd.manual_seed(0)
    out = F.rrelu(x, training=True).numpy()
    slopes = -out[::2]
    assert slopes.min() >= 1 / 8 and slopes.max() <= 1 / 3 and slopes.std() > 0.03
    assert (out[1::2] == 2.0).all()


def test_top_level_and_method_spellings():
    x = retrograd.randn(2, 3)
    np.testing.assert_allclose(retrograd.log_softmax(x, 1).numpy(),
                               F.log_softmax(x, 1).numpy())
    np.testing.assert_allclose(x.softmax(0).numpy(), F.softmax(x, 0).numpy())
    assert retrograd.relu_ is F.relu_
    y = x.clone()
    retrograd.relu_(y)
    assert (y.numpy() >= 0).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        retrograd.celu(x)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_float32_matches_pytorch(approximate):
    import torch
    x = np.linspace(-8, 8, 4001).astype(np.float32)
    r = retrograd.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    ours = F.gelu(r, approximate=approximate)
    theirs = torch.nn.functional.gelu(t, approximate=approximate)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), atol=2e-6,
                               rtol=1e-6)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(r.grad.numpy(), t.grad.numpy(), atol=3e-6, rtol=1e-6)


def test_gumbel_softmax_soft_and_hard():
    retrograd.manual_seed(0)
    logits = retrograd.tensor(np.log([[0.7, 0.2, 0.1]] * 4000), requires_grad=True)
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.detach().numpy().sum(1), 1, rtol=1e-6)
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
    values = hard.detach().numpy()
    assert set(np.unique(values)) <= {0.0, 1.0} and (values.sum(1) == 1).all()
    np.testing.assert_allclose(values.mean(0), [0.7, 0.2, 0.1], atol=0.03)
    (hard * retrograd.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert np.abs(logits.grad.numpy()).sum() > 0  # straight-through gradient
