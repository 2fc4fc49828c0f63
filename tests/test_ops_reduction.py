"""Reductions (issue: the full differentiable op library): one table row per op, checked
against NumPy, finite differences (first and second order), PyTorch and forward mode; tie
conventions and misuse against PyTorch; a property test over random shapes and dims."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from optable import (
    OpCase,
)

import retrograd

ONE = [((2, 3),), ((),), ((4,),), ((2, 3, 2),)]
MAT = [((3, 4),), ((2, 3, 4),)]
VEC3 = [((2, 3, 4),)]


def _ints(lo=0, hi=3):
    """Integer-valued floats: ties on purpose (mode, conventions)."""
    return lambda rng, shapes: [rng.integers(lo, hi, size=s).astype(np.float64) for s in shapes]


def _with_zero(rng, shapes):
    x = rng.uniform(0.5, 2, size=shapes[0]) * rng.choice([-1, 1], size=shapes[0])
    x.reshape(-1)[1] = 0.0
    return [x]


def _with_nan(rng, shapes):
    x = rng.uniform(-2, 2, size=shapes[0])
    x.reshape(-1)[::3] = np.nan
    return [x]


def _lower_median(a, axis=None):
    s = np.sort(a, axis=axis) if axis is not None else np.sort(a.reshape(-1))
    n = s.shape[axis if axis is not None else 0]
    return np.take(s, (n - 1) // 2, axis=axis if axis is not None else 0)


def _lse(a, axis):
    m = a.max(axis=axis, keepdims=True)
    return (np.log(np.exp(a - m).sum(axis=axis, keepdims=True)) + m).squeeze(axis)


def _cummax(a, axis):
    return np.maximum.accumulate(a, axis=axis)


def _topk(a, k, axis=-1):
    return -np.sort(-a, axis=axis).take(range(k), axis=axis)


CASES = [
    OpCase("sum", lambda L, a: L.sum(a), np.sum, ONE + [((0, 3),)]),
    OpCase("sum_neg_dim", lambda L, a: a.sum(-1), lambda a: a.sum(-1), MAT),
    OpCase("sum_dims_keepdim", lambda L, a: a.sum((0, -1), keepdim=True),
           lambda a: a.sum((0, -1), keepdims=True), VEC3),
    OpCase("sum_empty_dim", lambda L, a: a.sum(0), lambda a: a.sum(0), [((0, 3),)]),
    OpCase("sum_0d_dim", lambda L, a: a.sum(0, keepdim=True), lambda a: a, [((),)]),
    OpCase("amax_0d_dim", lambda L, a: L.amax(a, -1), lambda a: a, [((),)]),
    OpCase("logsumexp_0d", lambda L, a: L.logsumexp(a, 0), lambda a: a, [((),)]),
    OpCase("prod_0d_dim", lambda L, a: a.prod(0), lambda a: a, [((),)]),
    OpCase("sum_dtype", lambda L, a: L.sum(a, 1, dtype=L.float64), lambda a: a.sum(1), MAT),
    OpCase("mean", lambda L, a: a.mean(), np.mean, ONE),
    OpCase("mean_dims", lambda L, a: a.mean((0, 2), keepdim=True),
           lambda a: a.mean((0, 2), keepdims=True), VEC3),
    OpCase("nansum", lambda L, a: L.nansum(a, 1), lambda a: np.nansum(a, 1), MAT,
           make=_with_nan),
    OpCase("nanmean", lambda L, a: L.nanmean(a), np.nanmean, MAT, make=_with_nan),
    OpCase("prod", lambda L, a: a.prod(), np.prod, ONE),
    OpCase("prod_dim", lambda L, a: a.prod(-1, keepdim=True),
           lambda a: a.prod(-1, keepdims=True), MAT),
    OpCase("prod_with_zero", lambda L, a: a.prod(1), lambda a: a.prod(1), [((2, 3),)],
           make=_with_zero),
    OpCase("prod_all_with_zero", lambda L, a: a.prod(), np.prod, [((2, 3),)], make=_with_zero),
    OpCase("max_all", lambda L, a: a.max(), np.max, ONE),
    OpCase("min_all", lambda L, a: L.min(a), np.min, ONE),
    OpCase("max_dim", lambda L, a: L.max(a, -1), lambda a: (a.max(-1), a.argmax(-1)), MAT),
    OpCase("min_dim_keepdim", lambda L, a: a.min(0, keepdim=True),
           lambda a: (a.min(0, keepdims=True), a.argmin(0)[None]), MAT),
    OpCase("max_0d_dim", lambda L, a: a.max(0), lambda a: (a, np.int64(0)), [((),)]),
    OpCase("amax", lambda L, a: L.amax(a, (0, -1)), lambda a: a.max((0, -1)), VEC3),
    OpCase("amin_keepdim", lambda L, a: a.amin(1, keepdim=True),
           lambda a: a.min(1, keepdims=True), MAT),
    OpCase("amax_all", lambda L, a: a.amax(), np.max, ONE),
    OpCase("aminmax", lambda L, a: L.aminmax(a, dim=1, keepdim=True),
           lambda a: (a.min(1, keepdims=True), a.max(1, keepdims=True)), MAT),
    OpCase("max_binary", lambda L, a, b: L.max(a, b), np.maximum, [((2, 3), (3,))]),
    OpCase("min_binary", lambda L, a, b: a.min(b), np.minimum, [((2, 3), (2, 3))]),
    OpCase("argmax", lambda L, a: a.argmax(1), lambda a: a.argmax(1), MAT, grad=False),
    OpCase("argmin_flat", lambda L, a: L.argmin(a), lambda a: a.argmin(), MAT, grad=False),
    OpCase("argmax_keepdim", lambda L, a: a.argmax(-1, keepdim=True),
           lambda a: a.argmax(-1)[..., None], MAT, grad=False),
    OpCase("var", lambda L, a: a.var(), lambda a: a.var(ddof=1), [((2, 3),), ((5,),)]),
    OpCase("var_dim_biased", lambda L, a: L.var(a, 1, keepdim=True, correction=0),
           lambda a: a.var(1, keepdims=True), MAT),
    OpCase("var_unbiased_false", lambda L, a: a.var(-1, False), lambda a: a.var(-1), MAT),
    OpCase("std", lambda L, a: a.std(), lambda a: a.std(ddof=1), [((2, 3),)]),
    OpCase("std_dims", lambda L, a: a.std((0, 2), correction=2),
           lambda a: a.std((0, 2), ddof=2), VEC3),
    OpCase("var_mean", lambda L, a: L.var_mean(a, 0),
           lambda a: (a.var(0, ddof=1), a.mean(0)), MAT),
    OpCase("std_mean", lambda L, a: L.std_mean(a, -1, keepdim=True),
           lambda a: (a.std(-1, ddof=1, keepdims=True), a.mean(-1, keepdims=True)), MAT),
    OpCase("norm_fro", lambda L, a: a.norm(), np.linalg.norm, [((2, 3),), ((5,),)]),
    OpCase("norm_dim", lambda L, a: a.norm(dim=1), lambda a: np.linalg.norm(a, axis=1), MAT),
    OpCase("norm_p1", lambda L, a: a.norm(1, -1), lambda a: np.abs(a).sum(-1), MAT),
    OpCase("norm_p3", lambda L, a: L.norm(a, 3, (0, 1), keepdim=True),
           lambda a: (np.abs(a) ** 3).sum((0, 1), keepdims=True) ** (1 / 3), MAT),
    OpCase("norm_inf", lambda L, a: a.norm(float("inf"), 1),
           lambda a: np.abs(a).max(1), MAT),
    OpCase("norm_ninf", lambda L, a: a.norm(-float("inf")), lambda a: np.abs(a).min(), MAT),
    OpCase("norm_p0", lambda L, a: a.norm(0, 0), lambda a: (a != 0).sum(0).astype(float), MAT),
    OpCase("norm_fro_dims", lambda L, a: L.norm(a, "fro", (1, 2)),
           lambda a: np.sqrt((a * a).sum((1, 2))), VEC3),
    OpCase("norm_nuc", lambda L, a: L.norm(a, "nuc"), lambda a: np.linalg.norm(a, "nuc"),
           [((3, 2),)]),
    OpCase("logsumexp", lambda L, a: L.logsumexp(a, 1), lambda a: _lse(a, 1), MAT),
    OpCase("logsumexp_dims", lambda L, a: a.logsumexp((0, 2), keepdim=True),
           lambda a: _lse(a, (0, 2))[:, None][None], VEC3),
    OpCase("cumsum", lambda L, a: a.cumsum(-1), lambda a: a.cumsum(-1), MAT + [((),)]),
    OpCase("cumsum_dim0", lambda L, a: L.cumsum(a, 0), lambda a: a.cumsum(0), MAT),
    OpCase("cumprod", lambda L, a: a.cumprod(1), lambda a: a.cumprod(1), MAT,
           domain=(0.5, 1.5)),
    OpCase("cumprod_with_zero", lambda L, a: a.cumprod(1), lambda a: a.cumprod(1),
           [((2, 4),)], make=_with_zero),
    OpCase("cummax", lambda L, a: L.cummax(a, 1).values, lambda a: _cummax(a, 1), MAT),
    OpCase("cummin", lambda L, a: a.cummin(-1)[0], lambda a: np.minimum.accumulate(a, -1),
           MAT),
    OpCase("cummax_idx", lambda L, a: a.cummax(0), None, [((4, 3),)], fd=False),
    OpCase("median", lambda L, a: a.median(), _lower_median, [((2, 3),), ((4,),), ((5,),)]),
    OpCase("nanmedian", lambda L, a: a.nanmedian(), _lower_median, [((2, 3),), ((5,),)]),
    OpCase("median_dim", lambda L, a: L.median(a, 1),
           lambda a: (_lower_median(a, 1), a.argsort(1)[:, (a.shape[1] - 1) // 2]), MAT[:1]),
    OpCase("median_dim_keepdim", lambda L, a: a.median(-1, keepdim=True).values,
           lambda a: _lower_median(a, -1)[..., None], [((2, 3, 5),)]),
    OpCase("nanmedian", lambda L, a: L.nanmedian(a, 1).values,
           lambda a: np.array([_lower_median(r[~np.isnan(r)]) for r in a]), [((3, 6),)],
           make=_with_nan),
    OpCase("kthvalue", lambda L, a: L.kthvalue(a, 2, 0),
           lambda a: (np.sort(a, 0)[1], a.argsort(0)[1]), MAT[:1]),
    OpCase("kthvalue_keepdim", lambda L, a: a.kthvalue(3, keepdim=True).values,
           lambda a: np.sort(a, -1)[..., 2:3], MAT),
    OpCase("mode", lambda L, a: a.mode(1), None, [((4, 7),)], make=_ints(), fd=False),
    OpCase("sort", lambda L, a: a.sort(), lambda a: (np.sort(a, -1), a.argsort(-1)), MAT),
    OpCase("sort_desc_dim0", lambda L, a: L.sort(a, 0, descending=True).values,
           lambda a: -np.sort(-a, 0), MAT),
    OpCase("sort_stable_ties", lambda L, a: L.sort(a, stable=True, descending=True), None,
           [((3, 6),)], make=_ints(), grad=False),
    OpCase("argsort", lambda L, a: L.argsort(a, dim=0, stable=True), None, [((6, 3),)],
           make=_ints(), grad=False),
    OpCase("topk", lambda L, a: a.topk(2), lambda a: _topk(a, 2), MAT),
    OpCase("topk_smallest", lambda L, a: L.topk(a, 2, 0, largest=False).values,
           lambda a: np.sort(a, 0)[:2], MAT),
    OpCase("all", lambda L, a: (a > 0).all(1), lambda a: (a > 0).all(1), MAT, grad=False),
    OpCase("any", lambda L, a: L.any(a > 1.5), lambda a: (a > 1.5).any(), MAT, grad=False),
    OpCase("all_float", lambda L, a: L.all(a, 0, keepdim=True), lambda a: a.all(0)[None],
           MAT, grad=False, make=_ints()),
    OpCase("count_nonzero", lambda L, a: L.count_nonzero(a, (0, 1)),
           lambda a: np.count_nonzero(a, (0, 1)), VEC3, grad=False, make=_ints()),
]



# ------------------------------------------------------------------ tie conventions

TIES = np.array([[1.0, 3.0, 3.0, 2.0], [0.0, 0.0, -1.0, 0.0]])


def _grads(fn):
    """(retrograd grad, torch grad) of sum(fn(x) * w) at the tied input."""
    out = []
    for lib in (retrograd, torch):
        x = lib.tensor(TIES.copy(), requires_grad=True)
        y = fn(lib, x)
        y = y[0] if isinstance(y, tuple) else y
        w = lib.tensor(np.arange(1.0, 1.0 + y.numel()).reshape(tuple(y.shape)))
        (g,) = lib.autograd.grad((y * w).sum(), x)
        out.append(g.detach().numpy())
    return out


@pytest.mark.parametrize("fn", [
    lambda L, x: x.max(), lambda L, x: x.min(), lambda L, x: L.amax(x, 1),
    lambda L, x: L.amin(x, 0, keepdim=True), lambda L, x: x.max(1), lambda L, x: x.min(0),
    lambda L, x: x.median(), lambda L, x: x.norm(float("inf"), 1),
    lambda L, x: L.cummax(x, 1), lambda L, x: L.cummin(x, 1), lambda L, x: x.mode(1),
    lambda L, x: x.sort(dim=1, stable=True),
    lambda L, x: x.amax(),
], ids=["max", "min", "amax", "amin_keepdim", "max_dim", "min_dim", "median", "norm_inf",
        "cummax", "cummin", "mode", "sort", "amax_all"])
def test_tie_gradients_match_pytorch(fn):
    mine, theirs = _grads(fn)
    np.testing.assert_allclose(mine, theirs)


def test_max_all_ties_share_the_gradient_evenly():
    x = retrograd.tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5]


def test_median_even_count_is_the_lower_one():
    x = retrograd.tensor([[4.0, 1.0, 3.0, 2.0]])
    assert x.median().item() == 2.0
    values, indices = x.median(1)
    assert values.tolist() == [2.0] and indices.tolist() == [3]


def test_cummax_ties_take_the_latest_index():
    _, i = retrograd.cummax(retrograd.tensor([1.0, 3.0, 3.0, 2.0, 3.0]), 0)
    assert i.tolist() == [0, 1, 2, 2, 4]


def test_named_results_and_methods():
    x = retrograd.tensor([[1.0, 5.0], [4.0, 2.0]])
    r = x.max(1)
    assert r.values.tolist() == [5.0, 4.0] and r.indices.tolist() == [1, 0]
    assert x.topk(1, 0).indices.tolist() == [[1, 0]]
    assert x.sort(0).values.tolist() == [[1.0, 2.0], [4.0, 5.0]]
    assert retrograd.argsort(x, 1, descending=True).tolist() == [[1, 0], [0, 1]]


def test_out_argument():
    out = retrograd.zeros(2)
    res = retrograd.sum(retrograd.ones(2, 3), 1, out=out)
    assert res is out and out.tolist() == [3.0, 3.0]


def test_integer_and_bool_dtypes_follow_pytorch():
    for lib in (retrograd, torch):
        i = lib.tensor([[1, 2], [3, 4]])
        b = lib.tensor([True, False, True])
        got = [i.sum(), i.prod(0), b.sum(), i.cumsum(1), i.amax(), i.max(1).values,
               b.any(), lib.count_nonzero(i), i.argmax()]
        if lib is retrograd:
            mine = [(str(t.dtype), t.tolist()) for t in got]
        else:
            theirs = [(str(t.dtype), t.tolist()) for t in got]
    assert mine == theirs


def test_float16_sum_and_mean_accumulate_in_float32():
    x = np.full(4096, 0.1, dtype=np.float16)
    for fn in (lambda L, t: t.sum(), lambda L, t: t.mean()):
        mine = fn(retrograd, retrograd.tensor(x))
        theirs = fn(torch, torch.tensor(x))
        assert mine.dtype == retrograd.float16
        np.testing.assert_allclose(mine.item(), theirs.item(), rtol=1e-3)


def test_double_backward_of_max_and_prod_builds_graph():
    x = retrograd.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (g,) = retrograd.autograd.grad(x.prod(), x, create_graph=True)
    (h,) = retrograd.autograd.grad(g.sum(), x)
    assert h.tolist() == [5.0, 4.0, 3.0]


# --------------------------------------------------------------------------- misuse

@pytest.mark.parametrize("call", [
    lambda L, x: x.sum(3), lambda L, x: x.mean(-4), lambda L, x: x.max(2),
    lambda L, x: L.amax(x, 5), lambda L, x: x.var(2), lambda L, x: x.cumsum(2),
    lambda L, x: x.sort(2), lambda L, x: L.logsumexp(x, 2), lambda L, x: x.median(-3),
    lambda L, x: x.argmax(2), lambda L, x: x.norm(dim=2), lambda L, x: x.prod(2),
])
def test_bad_dim_raises_index_error(call):
    x = retrograd.ones(2, 3)
    with pytest.raises(IndexError, match="Dimension out of range"):
        call(retrograd, x)
    with pytest.raises(IndexError):
        call(torch, torch.ones(2, 3))


def test_empty_reductions_raise_like_pytorch():
    with pytest.raises(RuntimeError, match=r"max\(\): Expected reduction dim"):
        retrograd.zeros(0).max()
    with pytest.raises(IndexError, match="to have non-zero size"):
        retrograd.zeros(2, 0).max(1)
    with pytest.raises(RuntimeError, match="kthvalue"):
        retrograd.ones(3).kthvalue(4)
    assert retrograd.zeros(0, 3).sum(0).tolist() == [0.0, 0.0, 0.0]


def test_mean_and_var_of_integers_raise():
    with pytest.raises(RuntimeError, match=r"mean.*Long"):
        retrograd.tensor([1, 2]).mean()
    with pytest.raises(RuntimeError, match="std and var"):
        retrograd.tensor([1, 2]).var()


# ------------------------------------------------------------------ property test

_REDUCTIONS = {
    "sum": lambda L, x, d, k: x.sum(d, keepdim=k),
    "mean": lambda L, x, d, k: x.mean(d, keepdim=k),
    "amax": lambda L, x, d, k: L.amax(x, d, keepdim=k),
    "var": lambda L, x, d, k: x.var(d, keepdim=k),
    "std": lambda L, x, d, k: x.std(d, keepdim=k),
    "prod": lambda L, x, d, k: x.prod(d, keepdim=k),
    "logsumexp": lambda L, x, d, k: L.logsumexp(x, d, keepdim=k),
    "max": lambda L, x, d, k: x.max(d, keepdim=k).values,
    "norm": lambda L, x, d, k: x.norm(dim=d, keepdim=k),
    "cumsum": lambda L, x, d, k: x.cumsum(d),
}


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
       name=st.sampled_from(sorted(_REDUCTIONS)), data=st.data())
def test_reductions_match_pytorch_over_random_shapes(shape, name, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    keepdim = data.draw(st.booleans())
    arr = np.random.default_rng(len(shape) * 7 + dim).uniform(0.5, 2, size=shape)
    fn = _REDUCTIONS[name]
    results = []
    for lib in (retrograd, torch):
        x = lib.tensor(arr.copy(), requires_grad=True)
        y = fn(lib, x, dim, keepdim)
        (g,) = lib.autograd.grad(y.sum(), x)
        results.append((tuple(y.shape), y.detach().numpy(), g.detach().numpy()))
    (s1, y1, g1), (s2, y2, g2) = results
    assert s1 == s2
    np.testing.assert_allclose(y1, y2, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(g1, g2, rtol=1e-6, atol=1e-9)


def test_result_tuples_print_like_pytorch():
    x = [[1.0, 5.0], [4.0, 2.0]]
    assert repr(retrograd.tensor(x).max(1)) == repr(torch.tensor(x).max(1))
    assert repr(retrograd.tensor(x).sort(0)) == repr(torch.tensor(x).sort(0))


def test_inplace_cumulative_ops_match_pytorch():
    arr = np.random.default_rng(0).uniform(0.5, 2, size=(3, 4))
    grads = []
    for lib in (retrograd, torch):
        x = lib.tensor(arr, requires_grad=True)
        y = x * 1.5
        y.cumsum_(1)
        y.cumprod_(0)
        (g,) = lib.autograd.grad((y * y).sum(), x)
        grads.append(g.detach().numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10)


def test_std_of_constant_input_has_zero_gradient_like_pytorch():
    for lib in (retrograd, torch):
        x = lib.ones(2, 3, dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad(x.std(1).sum(), x)
        assert g.tolist() == [[0.0] * 3] * 2
