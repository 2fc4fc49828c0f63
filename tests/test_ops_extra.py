"""The ops added for op_db coverage (ops/extra_*.py, ops/legacy_types.py): forward against
PyTorch, backward and double backward against float64 finite differences (gradcheck,
gradgradcheck) and against PyTorch's gradients."""

import numpy as np
import pytest
import scipy.special as sp
import torch
from optable import OpCase

import retrograd
from retrograd.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(0)
U = [((2, 3),), ((),), ((4,),)]
B = [((2, 3), (2, 3)), ((2, 3), (3,)), ((), (3,))]


def _uniform(*domains):
    def make(rng, shapes):
        return [np.asarray(rng.uniform(lo, hi, size=s)) for (lo, hi), s in zip(domains, shapes)]

    return make


def _ints(rng, shapes):
    return [np.asarray(rng.integers(-12, 13, size=s)) for s in shapes]


def _entr(x):
    return sp.entr(x)


# The rows of ops/extra_pointwise.py and ops/extra_special.py, checked by test_optable.py
# against NumPy/SciPy, finite differences, PyTorch and forward mode.
CASES = [
    OpCase("copysign", lambda L, a, b: L.copysign(a, b), np.copysign, B),
    OpCase("nextafter", lambda L, a, b: L.nextafter(a, b), np.nextafter, B, gradgrad=False),
    OpCase("heaviside", lambda L, a, b: L.heaviside(a, b), np.heaviside, B, grad=False),
    OpCase("signbit", lambda L, a: L.signbit(a), np.signbit, U, grad=False),
    OpCase("gcd", lambda L, a, b: L.gcd(a, b), np.gcd, B, grad=False, make=_ints),
    OpCase("lcm", lambda L, a, b: L.lcm(a, b), np.lcm, B, grad=False, make=_ints),
    OpCase("ndtr", lambda L, a: L.special.ndtr(a), sp.ndtr, U),
    OpCase("ndtri", lambda L, a: L.special.ndtri(a), sp.ndtri, U, domain=(0.05, 0.95)),
    OpCase("log_ndtr", lambda L, a: L.special.log_ndtr(a), sp.log_ndtr, U),
    OpCase("i0", lambda L, a: L.i0(a), sp.i0, U),
    OpCase("i0e", lambda L, a: L.special.i0e(a), sp.i0e, U),
    OpCase("i1", lambda L, a: L.special.i1(a), sp.i1, U),
    OpCase("i1e", lambda L, a: L.special.i1e(a), sp.i1e, U),
    OpCase("erfcx", lambda L, a: L.special.erfcx(a), sp.erfcx, U),
    OpCase("entr", lambda L, a: L.special.entr(a), _entr, U, domain=(0.1, 2.0)),
    OpCase("xlog1py", lambda L, a, b: L.special.xlog1py(a, b), sp.xlog1py, B,
           make=_uniform((-2, 2), (-0.9, 2))),
]


def _pair(*shape, positive=False, low=-2.0, high=2.0):
    a = RNG.uniform(0.5 if positive else low, high, shape)
    return (retrograd.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True))


def _np(t):
    return np.asarray(t.detach().numpy())


# name, function of (lib, *tensors), input shapes, positive inputs, differentiable
DIFFERENTIABLE = [
    ("copysign", lambda L, x, y: L.copysign(x, y), [(3, 4), (4,)], False),
    ("ldexp", lambda L, x: L.ldexp(x, L.tensor([1, 2, 3])), [(2, 3)], False),
    ("ravel", lambda L, x: L.ravel(x.transpose(0, 1)), [(2, 3)], False),
    ("diff", lambda L, x: L.diff(x, n=2, dim=0), [(5, 3)], False),
    ("diff_prepend", lambda L, x, p: L.diff(x, dim=1, prepend=p), [(2, 3), (2, 1)], False),
    ("cov", lambda L, x: L.cov(x), [(3, 5)], False),
    ("cov_weights", lambda L, x, a: L.cov(x, aweights=a, correction=0), [(2, 4), (4,)], True),
    ("corrcoef", lambda L, x: L.corrcoef(x), [(3, 5)], False),
    ("renorm", lambda L, x: L.renorm(x, 2, 0, 1.0), [(3, 4)], False),
    ("logcumsumexp", lambda L, x: L.logcumsumexp(x, 1), [(2, 5)], False),
    ("cdist", lambda L, x, y: L.cdist(x, y), [(3, 4), (2, 4)], False),
    ("cdist_p1", lambda L, x, y: L.cdist(x, y, p=1), [(2, 3, 4), (2, 2, 4)], False),
    ("dist", lambda L, x, y: L.dist(x, y, 3), [(3, 4), (4,)], False),
    ("block_diag", lambda L, x, y: L.block_diag(x, y), [(2, 3), (2,)], False),
    ("addr", lambda L, m, a, b: L.addr(m, a, b, beta=0.5, alpha=2), [(3, 2), (3,), (2,)],
     False),
    ("trapezoid", lambda L, y: L.trapezoid(y, dx=0.5), [(3, 5)], False),
    ("trapezoid_x", lambda L, y, x: L.trapezoid(y, x), [(3, 5), (5,)], False),
    ("trapz", lambda L, y: L.trapz(y, dim=0), [(3, 5)], False),
    ("cumulative_trapezoid", lambda L, y: L.cumulative_trapezoid(y), [(2, 4)], False),
    ("diagflat", lambda L, x: L.diagflat(x, 1), [(2, 2)], False),
    ("sum_to_size", lambda L, x: x.sum_to_size(1, 3), [(2, 4, 3)], False),
    ("special.ndtr", lambda L, x: L.special.ndtr(x), [(2, 3)], False),
    ("special.ndtri", lambda L, x: L.special.ndtri(x / 3), [(2, 3)], True),
    ("special.log_ndtr", lambda L, x: L.special.log_ndtr(x), [(2, 3)], False),
    ("i0", lambda L, x: L.i0(x), [(2, 3)], False),
    ("special.i0e", lambda L, x: L.special.i0e(x), [(2, 3)], False),
    ("special.i1", lambda L, x: L.special.i1(x), [(2, 3)], False),
    ("special.i1e", lambda L, x: L.special.i1e(x), [(2, 3)], False),
    ("special.erfcx", lambda L, x: L.special.erfcx(x), [(2, 3)], False),
    ("special.entr", lambda L, x: L.special.entr(x), [(2, 3)], True),
    ("special.xlog1py", lambda L, x, y: L.special.xlog1py(x, y), [(2, 3), (3,)], True),
]


@pytest.mark.parametrize("name,fn,shapes,positive", DIFFERENTIABLE,
                         ids=[c[0] for c in DIFFERENTIABLE])
def test_forward_backward_vs_torch_and_finite_differences(name, fn, shapes, positive):
    pairs = [_pair(*s, positive=positive) for s in shapes]
    ours = fn(retrograd, *(p[0] for p in pairs))
    theirs = fn(torch, *(p[1] for p in pairs))
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=1e-10, atol=1e-12)
    g = RNG.standard_normal(tuple(theirs.shape))
    ours_g = retrograd.autograd.grad(ours, [p[0] for p in pairs], retrograd.tensor(g))
    theirs_g = torch.autograd.grad(theirs, [p[1] for p in pairs], torch.tensor(g))
    for a, b in zip(ours_g, theirs_g):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-9, atol=1e-12)
    inputs = tuple(p[0] for p in pairs)
    assert gradcheck(lambda *xs: fn(retrograd, *xs), inputs)
    assert gradgradcheck(lambda *xs: fn(retrograd, *xs), inputs)


@pytest.mark.parametrize("fn", [
    lambda L: L.heaviside(L.tensor([-1.0, 0.0, 2.0]), L.tensor([0.5])),
    lambda L: L.nextafter(L.tensor([1.0, -1.0]), L.tensor([2.0, -3.0])),
    lambda L: L.gcd(L.tensor([4, 6, 0, -9]), L.tensor([6, 9, 5, 6])),
    lambda L: L.lcm(L.tensor([4, 6, 0, -9]), L.tensor([6, 9, 5, 6])),
    lambda L: L.signbit(L.tensor([-0.0, 0.0, -2.0, 3.0])),
    lambda L: L.sgn(L.tensor([-2.0, 0.0, 3.0])),
    lambda L: L.positive(L.tensor([-2.0, 3.0])),
    lambda L: L.frexp(L.tensor([8.0, 3.0, -0.1, 0.0])),
    lambda L: L.bincount(L.tensor([0, 1, 1, 5]), minlength=7),
    lambda L: L.bincount(L.tensor([0, 1, 1]), weights=L.tensor([0.5, 1.0, 2.0])),
    lambda L: L.histc(L.tensor([1.0, 2.0, 1.0, 0.2]), bins=4, min=0, max=3),
    lambda L: L.histc(L.tensor([1.0, 2.0, 1.0]), bins=3),
    lambda L: L.searchsorted(L.tensor([1, 3, 5, 7]), L.tensor([3, 6, 9])),
    lambda L: L.searchsorted(L.tensor([[1, 3], [2, 4]]), L.tensor([[3], [1]]), right=True),
    lambda L: L.bucketize(L.tensor([3, 6, 9]), L.tensor([1, 3, 5, 7]), out_int32=True),
    lambda L: L.isin(L.tensor([[1, 2], [3, 4]]), L.tensor([2, 3])),
    lambda L: L.tril_indices(4, 3, -1),
    lambda L: L.triu_indices(3, 4, 1),
    lambda L: L.unravel_index(L.tensor([5, -1, 0]), (2, 3)),
    lambda L: L.ones(2, 3).type(L.DoubleTensor),
    lambda L: L.FloatTensor(2, 3).shape,
    lambda L: (isinstance(L.ones(2), L.FloatTensor), isinstance(L.ones(2), L.LongTensor),
               isinstance(L.ones(2).long(), L.LongTensor)),
    lambda L: (repr(L.strided), repr(L.channels_last), repr(L.preserve_format),
               repr(L.contiguous_format)),
    lambda L: L.ones(1, 2, 2, 2).contiguous(memory_format=L.channels_last),
    lambda L: L.special.i1(L.tensor([0.0, -1.5])),
    lambda L: L.special.entr(L.tensor([0.0, -1.0, 0.5])),
    lambda L: L.special.xlog1py(L.tensor([0.0, 2.0]), L.tensor([-1.0, 0.5])),
])
def test_nondifferentiable_forward_matches_torch(fn):
    ours, theirs = fn(retrograd), fn(torch)
    for a, b in zip(ours if isinstance(ours, tuple) else (ours,),
                    theirs if isinstance(theirs, tuple) else (theirs,)):
        if isinstance(b, torch.Tensor):
            assert str(a.dtype) == str(b.dtype)
            np.testing.assert_allclose(_np(a), _np(b), rtol=1e-6)  # exact for integers
        else:
            assert a == b


@pytest.mark.parametrize("fn", [
    lambda L: L.gcd(L.tensor([1.0]), L.tensor([2.0])),
    lambda L: L.cdist(L.ones(3), L.ones(2, 3)),
    lambda L: L.bincount(L.tensor([-1, 2])),
    lambda L: L.multinomial(L.tensor([0.5, 0.5]), 3),
    lambda L: L.empty(3).normal_(0, -1),
    lambda L: L.empty(3).uniform_(2, 1),
    lambda L: L.ones(3, requires_grad=True).normal_(),
    lambda L: L.renorm(L.ones(2), -1, 0, 1.0),
])
def test_errors_match_torch_class(fn):
    with pytest.raises(Exception) as theirs:
        fn(torch)
    with pytest.raises(type(theirs.value)):
        fn(retrograd)


def test_samplers_statistics():
    retrograd.manual_seed(0)
    n = 20000
    checks = [
        (retrograd.empty(n).normal_(1.0, 2.0), 1.0, 4.0),
        (retrograd.empty(n).uniform_(2.0, 4.0), 3.0, 4.0 / 12),
        (retrograd.empty(n).exponential_(2.0), 0.5, 0.25),
        (retrograd.empty(n).geometric_(0.25), 4.0, 0.75 / 0.0625),
        (retrograd.empty(n).bernoulli_(0.3), 0.3, 0.21),
        (retrograd.bernoulli(retrograd.full((n,), 0.7)), 0.7, 0.21),
        (retrograd.empty(n).log_normal_(0.0, 0.5), np.exp(0.125),
         (np.exp(0.25) - 1) * np.exp(0.25)),
    ]
    for t, mean, var in checks:
        a = _np(t)
        assert abs(a.mean() - mean) < 5 * np.sqrt(var / n), (mean, a.mean())
        assert abs(a.var() - var) < 0.1 * var
    c = _np(retrograd.empty(n).cauchy_(1.0, 2.0))
    assert abs(np.median(c) - 1.0) < 0.1
    r = _np(retrograd.empty(n, dtype=retrograd.int64).random_(3, 7))
    assert set(np.unique(r)) == {3, 4, 5, 6}


def test_multinomial():
    retrograd.manual_seed(0)
    probs = retrograd.tensor([[0.0, 1.0, 3.0], [1.0, 0.0, 0.0]])
    draws = _np(retrograd.multinomial(probs, 4000, replacement=True))
    assert draws.shape == (2, 4000) and draws.dtype == np.int64
    assert abs((draws[0] == 2).mean() - 0.75) < 0.03 and (draws[0] != 0).all()
    assert (draws[1] == 0).all()
    once = _np(retrograd.multinomial(retrograd.tensor([1.0, 2.0, 3.0, 4.0]), 4))
    assert sorted(once) == [0, 1, 2, 3]


def test_inplace_sampler_keeps_version_and_dtype():
    x = retrograd.zeros(3, dtype=retrograd.float32)
    v = x._version
    assert x.normal_() is x and x.dtype == retrograd.float32 and x._version > v
