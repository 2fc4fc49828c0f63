"""Tensor basics: dtypes and promotion, Size, creation, conversions, NumPy sharing, Python
protocols, views and in-place ops (issue: Tensor and the autograd engine, items 2-3)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import retrograd as rg


def test_default_dtypes_match_pytorch():
    assert rg.tensor([1, 2]).dtype == rg.int64
    assert rg.tensor([1.0, 2]).dtype == rg.float32
    assert rg.tensor([True, False]).dtype == rg.bool
    assert rg.tensor(3).dtype == rg.int64 and rg.tensor(3).dim() == 0
    assert rg.zeros(2).dtype == rg.float32
    assert rg.arange(5).dtype == rg.int64
    assert rg.arange(0, 1, 0.25).dtype == rg.float32
    assert rg.full((2,), 3).dtype == rg.int64
    assert rg.full((2,), 3.0).dtype == rg.float32
    assert rg.Tensor([1, 2]).dtype == rg.float32
    assert rg.LongTensor([1, 2]).dtype == rg.int64
    assert str(rg.float32) == "torch.float32"


@pytest.mark.parametrize("a_dtype", ["float16", "float32", "float64", "int32", "int64", "uint8",
                                     "int8", "bool"])
@pytest.mark.parametrize("b", ["int", "float", "bool", "0d_float64", "0d_int64", "t_int32",
                               "t_float16"])
@pytest.mark.parametrize("op", ["add", "mul", "truediv"])
def test_promotion_matches_pytorch(a_dtype, b, op):
    def make(lib):
        a = lib.ones(3, dtype=getattr(lib, a_dtype))
        other = {"int": 2, "float": 2.5, "bool": True,
                 "0d_float64": lib.tensor(2.0, dtype=lib.float64),
                 "0d_int64": lib.tensor(2), "t_int32": lib.ones(3, dtype=lib.int32),
                 "t_float16": lib.ones(3, dtype=lib.float16)}[b]
        return a, other

    ta, tb = make(torch)
    ra, rb = make(rg)
    fn = {"add": lambda x, y: x + y, "mul": lambda x, y: x * y,
          "truediv": lambda x, y: x / y}[op]
    try:
        expected = fn(ta, tb)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            fn(ra, rb)
        return
    got = fn(ra, rb)
    assert str(got.dtype) == str(expected.dtype)
    np.testing.assert_allclose(got.numpy().astype(float), expected.numpy().astype(float))


def test_size_and_shape_api():
    t = rg.zeros(2, 3)
    assert repr(t.shape) == "torch.Size([2, 3])"
    assert t.size() == (2, 3) and t.size(1) == 3 and t.size(-1) == 3
    assert t.dim() == 2 and t.numel() == 6 and len(t) == 2
    assert t.T.shape == (3, 2)
    assert str(t.device) == "cpu" and t.device == rg.device("cpu")
    with pytest.raises(IndexError, match="Dimension out of range"):
        t.size(2)


def test_creation_functions():
    assert rg.eye(3).numpy().tolist() == np.eye(3).tolist()
    np.testing.assert_allclose(rg.linspace(0, 1, 5).numpy(), np.linspace(0, 1, 5))
    np.testing.assert_allclose(rg.logspace(0, 2, 3).numpy(), [1, 10, 100])
    assert rg.empty(2, 3).shape == (2, 3)
    assert rg.zeros_like(rg.ones(2, dtype=rg.float64)).dtype == rg.float64
    x = rg.ones(2, 2)
    assert x.new_zeros(3).shape == (3,) and x.new_zeros(3).dtype == rg.float32
    assert x.new_full((2,), 7).tolist() == [7.0, 7.0]
    assert x.new_tensor([1, 2]).dtype == rg.float32
    assert rg.randint(0, 5, (100,)).max().item() < 5
    assert sorted(rg.randperm(5).tolist()) == [0, 1, 2, 3, 4]
    assert rg.normal(0.0, 1.0, size=(3,)).shape == (3,)
    assert rg.rand(2, 2).dtype == rg.float32


def test_manual_seed_and_generator_reproduce():
    rg.manual_seed(0)
    a = rg.randn(4)
    rg.manual_seed(0)
    b = rg.randn(4)
    assert rg.equal(a, b)
    g = rg.Generator().manual_seed(5)
    c = rg.rand(3, generator=g)
    g.manual_seed(5)
    assert rg.equal(c, rg.rand(3, generator=g))


def test_conversions():
    t = rg.tensor([1.5, -2.5])
    assert t.long().tolist() == [1, -2] and t.long().dtype == rg.int64
    assert t.int().dtype == rg.int32 and t.half().dtype == rg.float16
    assert t.double().dtype == rg.float64 and t.bool().tolist() == [True, True]
    assert t.to(rg.float64).dtype == rg.float64
    assert t.to(t) is t
    assert t.type() == "torch.FloatTensor"
    assert t.type("torch.DoubleTensor").dtype == rg.float64
    assert rg.tensor(2.5).item() == 2.5 and isinstance(rg.tensor(3).item(), int)
    assert rg.tensor([[1, 2]]).tolist() == [[1, 2]]
    assert f"{rg.tensor(3.14159):.2f}" == "3.14"
    assert float(rg.tensor([2.0])) == 2.0 and int(rg.tensor(7)) == 7
    assert bool(rg.tensor([1])) and not bool(rg.tensor(0.0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(rg.ones(2))
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        rg.ones(2).item()


def test_numpy_sharing_both_ways():
    a = np.zeros(3, dtype=np.float32)
    t = rg.from_numpy(a)
    a[0] = 5
    assert t[0].item() == 5
    t[1] = 7
    assert a[1] == 7
    n = t.numpy()
    n[2] = 9
    assert t.tolist() == [5, 7, 9]
    assert np.asarray(t) is a or np.shares_memory(np.asarray(t), a)
    with pytest.raises(RuntimeError, match="requires grad"):
        rg.ones(2, requires_grad=True).numpy()


def test_iteration_and_len():
    t = rg.arange(6).view(2, 3)
    rows = list(t)
    assert len(rows) == 2 and rows[1].tolist() == [3, 4, 5]
    with pytest.raises(TypeError):
        len(rg.tensor(1.0))


def test_views_share_memory_and_version():
    base = rg.zeros(2, 3)
    views = [base.view(6), base.reshape(3, 2), base.transpose(0, 1), base.t(), base.permute(1, 0),
             base[0], base[:, 1:], base.unsqueeze(0), base.flatten(), base.T]
    for v in views:
        assert np.shares_memory(v.numpy(), base.numpy())
    base.add_(1)
    for v in views:
        assert v._version == base._version == 1
    v = base.view(6)
    v[0] = 10
    assert base[0, 0].item() == 10
    d = base.detach()
    assert d._version == base._version and np.shares_memory(d.numpy(), base.numpy())
    assert np.shares_memory(base.data.numpy(), base.numpy())
    e = rg.ones(1, 3).expand(4, 3)
    assert e.shape == (4, 3) and np.shares_memory(e.numpy(), e.numpy())


@pytest.mark.parametrize("method,args,expected", [
    ("add_", (2,), [3.0, 4.0]), ("sub_", (1,), [0.0, 1.0]), ("mul_", (3,), [3.0, 6.0]),
    ("div_", (2,), [0.5, 1.0]), ("zero_", (), [0.0, 0.0]), ("fill_", (4,), [4.0, 4.0]),
    ("clamp_", (1.5, 1.75), [1.5, 1.75]), ("neg_", (), [-1.0, -2.0]), ("pow_", (2,), [1.0, 4.0]),
])
def test_inplace_methods_mutate_and_return_self(method, args, expected):
    t = rg.tensor([1.0, 2.0])
    keep = t.numpy()
    out = getattr(t, method)(*args)
    assert out is t
    assert t.tolist() == expected
    assert np.shares_memory(keep, t.numpy())
    assert t._version == 1


def test_augmented_assignment_is_in_place():
    t = rg.tensor([1.0, 2.0])
    ident = id(t)
    t += 1
    t *= 2
    t -= 1
    t /= 3
    assert id(t) == ident and t.tolist() == pytest.approx([1.0, 5.0 / 3])
    c = rg.zeros(2)
    c.copy_(rg.tensor([3.0, 4.0]))
    assert c.tolist() == [3.0, 4.0]


def test_sgd_update_under_no_grad_keeps_leaf():
    w = rg.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    with rg.no_grad():
        w -= 0.1 * w.grad
    assert w.is_leaf and w.requires_grad and w.grad_fn is None
    np.testing.assert_allclose(w.detach().numpy(), [0.8, 1.6], rtol=1e-6)


def test_deepcopy_of_leaf():
    w = rg.tensor([1.0, 2.0], requires_grad=True)
    c = copy.deepcopy(w)
    assert c.requires_grad and c is not w and c.tolist() == w.tolist()
    assert not np.shares_memory(c.detach().numpy(), w.detach().numpy())


def test_printing_matches_pytorch():
    cases = [lambda L: L.tensor([1.5, 2.25]), lambda L: L.tensor([1, 2]),
             lambda L: L.tensor([1e-8, 1.0]), lambda L: L.arange(2000.0),
             lambda L: L.tensor([1.0], dtype=L.float64), lambda L: L.zeros(0, 3),
             lambda L: L.tensor([True]), lambda L: L.ones(2, requires_grad=True),
             lambda L: L.ones(2, requires_grad=True) * 2, lambda L: L.tensor(3.5)]
    for make in cases:
        assert repr(make(rg)) == repr(make(torch))


def test_out_of_range_integers_raise_like_pytorch():
    for values, dtype in [([-3, 256], "uint8"), ([200], "int8")]:
        with pytest.raises(RuntimeError) as theirs:
            torch.tensor(values, dtype=getattr(torch, dtype))
        with pytest.raises(RuntimeError) as ours:
            rg.tensor(values, dtype=getattr(rg, dtype))
        assert str(ours.value) == str(theirs.value)
