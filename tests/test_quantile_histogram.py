"""quantile and nanquantile, histogram and histogramdd, index_reduce (issue 13) against
PyTorch: randomized values and gradients, forward mode, degenerate ranges, ties, in-place
forms and error classes. Their op-table rows and op_db samples are in test_reduce_more.py.
"""

import warnings

import numpy as np
import pytest
import torch
from helpers import assert_same, both, both_raise
from hypothesis import given, settings
from hypothesis import strategies as st

import retrograd
import retrograd.autograd.forward_ad as fwAD

# ---------------------------------------------------------------------- quantile

MODES = ["linear", "lower", "higher", "midpoint", "nearest"]


@settings(max_examples=60, deadline=None)
@given(shape=st.lists(st.integers(1, 5), min_size=0, max_size=3),
       mode=st.sampled_from(MODES), nan=st.booleans(), keepdim=st.booleans(),
       dim=st.integers(-3, 3) | st.none(), qs=st.lists(st.floats(0, 1), min_size=0, max_size=3),
       dtype=st.sampled_from(["float32", "float64"]), seed=st.integers(0, 2**16))
def test_quantile_matches_pytorch(shape, mode, nan, keepdim, dim, qs, dtype, seed):
    """Values and gradients (input and q) of quantile and nanquantile, NaN slices included
    (a NaN in a slice of at most 16 elements, where PyTorch's tie order is the input's)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    if nan and x.size:
        x.flat[rng.integers(x.size)] = np.nan
    if dim is not None and not -max(len(shape), 1) <= dim < max(len(shape), 1):
        dim = None
    if x.size > 16 and nan:
        nan = False
        x = np.nan_to_num(x)
    q_np = np.array(qs, dtype=dtype) if qs else 0.3
    for fn in ("quantile", "nanquantile"):
        res = []
        for L in (retrograd, torch):
            t = L.tensor(x, requires_grad=True)
            q = L.tensor(q_np, requires_grad=True) if qs else q_np
            out = getattr(L, fn)(t, q, dim, keepdim, interpolation=mode)
            g = np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(dtype)
            grads = L.autograd.grad(out, [t] + ([q] if qs else []), L.tensor(g),
                                    allow_unused=True)
            res.append((out, grads))
        (ro, rgs), (to, tgs) = res
        assert_same(ro, to, atol=1e-5 if dtype == "float32" else 1e-7)
        for a, b, leaf in zip(rgs, tgs, (x, q_np)):
            expected = np.zeros(np.shape(leaf)) if b is None else np.nan_to_num(b.numpy())
            got = np.zeros(np.shape(leaf)) if a is None else np.nan_to_num(a.numpy())
            np.testing.assert_allclose(got, expected, atol=1e-4)


def test_quantile_forward_mode_matches_pytorch():
    x = np.random.default_rng(2).standard_normal((3, 6))
    q, tq, tx = np.array([0.2, 0.55]), np.array([1.0, -2.0]), np.ones((3, 6))
    results = []
    for L, ad in ((retrograd, fwAD), (torch, torch.autograd.forward_ad)):
        with ad.dual_level():
            out = L.quantile(ad.make_dual(L.tensor(x), L.tensor(tx)),
                             ad.make_dual(L.tensor(q), L.tensor(tq)), dim=1)
            results.append(ad.unpack_dual(out).tangent)
    assert_same(results[0], results[1])


def test_quantile_method_and_out():
    x = retrograd.tensor([[0.0, 3.0, 1.0], [2.0, 2.5, -1.0]])
    out = retrograd.empty(2)
    res = x.quantile(0.5, dim=1, out=out)
    assert res is out
    np.testing.assert_allclose(out.numpy(), [1.0, 2.0])
    np.testing.assert_allclose(x.nanquantile(1.0).numpy(), 3.0)


def test_quantile_errors():
    x = np.zeros((2, 3))
    both_raise(lambda L: L.quantile(L.tensor(x), 1.5))
    both_raise(lambda L: L.quantile(L.tensor(x), L.tensor([0.5, 1.5], dtype=L.float64)))
    both_raise(lambda L: L.quantile(L.tensor(x), L.tensor([0.5], dtype=L.float32)))
    both_raise(lambda L: L.quantile(L.tensor(x), L.full((2, 2), 0.5, dtype=L.float64)))
    both_raise(lambda L: L.quantile(L.tensor([1, 2]), 0.5))
    both_raise(lambda L: L.quantile(L.tensor(x), 0.5, interpolation="cubic"))
    both_raise(lambda L: L.nanquantile(L.zeros(2, 0), 0.5, dim=0))
    both_raise(lambda L: L.quantile(L.tensor(x), 0.5, dim=2))
    (r, t) = both_raise(lambda L: L.nanquantile(L.tensor(x), -0.1))
    assert str(r) == str(t)


# ---------------------------------------------------------------------- histogram

@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 25), bins=st.integers(1, 9), ints=st.booleans(),
       dtype=st.sampled_from(["float32", "float64"]), weighted=st.booleans(),
       density=st.booleans(), span=st.none() | st.tuples(st.integers(-4, 0), st.integers(0, 4)),
       seed=st.integers(0, 2**16))
def test_histogram_matches_pytorch(n, bins, ints, dtype, weighted, density, span, seed):
    """Counts, weights, density and PyTorch's edges to the bit; integer data lies on edges."""
    rng = np.random.default_rng(seed)
    x = (rng.integers(-5, 6, n) if ints else rng.standard_normal(n) * 3).astype(dtype)
    w = rng.uniform(0, 2, n).astype(dtype)
    kw = {"density": density}
    if span is not None:
        kw["range"] = (float(span[0]), float(span[1]))
    r, t = both(lambda L: L.histogram(L.tensor(x), bins, weight=L.tensor(w) if weighted
                                      else None, **kw))
    assert_same(r.hist, t.hist)
    assert str(r.bin_edges.dtype) == str(t.bin_edges.dtype)
    np.testing.assert_array_equal(r.bin_edges.numpy(), t.bin_edges.numpy())


def test_histogram_edge_bins_and_out():
    x = [1.0, 2.0, 2.0, 3.5, 9.0, float("nan")]
    edges = [0.0, 2.0, 3.5]
    r, t = both(lambda L: L.histogram(L.tensor(x), L.tensor(edges)))
    assert_same(r.hist, t.hist)  # 2.0 opens the second bin; 3.5 closes it
    hist, bin_edges = retrograd.empty(2), retrograd.empty(3)
    res = retrograd.tensor(x).histogram(retrograd.tensor(edges), out=(hist, bin_edges))
    assert res.hist is hist and res.bin_edges is bin_edges
    np.testing.assert_allclose(hist.numpy(), [1.0, 3.0])
    assert repr(res).startswith("torch.return_types.histogram(")


def test_histogram_degenerate_ranges():
    for fn in (lambda L: L.histogram(L.tensor([1.0, 1.0]), 3),
               lambda L: L.histogram(L.tensor([], dtype=L.float32), 2),
               lambda L: L.histogram(L.tensor([1.0, 2.0]), 2, range=(1.0, 1.0)),
               lambda L: L.histogram(L.tensor([1.0, 2.0]), 2, range=(5.0, 6.0), density=True)):
        r, t = both(fn)
        assert_same(r.hist, t.hist)
        assert_same(r.bin_edges, t.bin_edges)


def test_histogramdd_shapes_and_weights():
    x = np.random.default_rng(3).standard_normal((2, 6, 3))
    w = np.random.default_rng(4).uniform(0, 1, (2, 6))
    r, t = both(lambda L: L.histogramdd(L.tensor(x), [2, 3, 4], weight=L.tensor(w),
                                        density=True))
    assert_same(r.hist, t.hist)
    assert len(r.bin_edges) == 3
    for a, b in zip(r.bin_edges, t.bin_edges):
        assert_same(a, b)
    r, t = both(lambda L: L.histogramdd(L.ones(2, 3, 2), 2))
    assert_same(r.hist, t.hist)


def test_histogram_errors():
    x = [[0.0, 1.0], [1.0, 2.0]]
    both_raise(lambda L: L.histogram(L.tensor([1.0, 2.0]), 2, range=(2.0, 1.0)))
    both_raise(lambda L: L.histogram(L.tensor([1.0, 2.0]), 0))
    both_raise(lambda L: L.histogram(L.tensor([1.0, float("nan")]), 2))
    both_raise(lambda L: L.histogram(L.tensor([1.0, float("inf")]), 2))
    both_raise(lambda L: L.histogram(L.tensor([1, 2]), 2))
    both_raise(lambda L: L.histogram(L.tensor([1.0, 2.0]), 2, weight=L.tensor([1.0])))
    both_raise(lambda L: L.histogram(L.tensor([1.0, 2.0]), L.tensor([0.0])))
    both_raise(lambda L: L.histogram(L.tensor([1.0]), L.tensor([0.0, 1.0]), range=(0.0, 1.0)))
    both_raise(lambda L: L.histogram(L.tensor([1.0]), L.tensor([0.0, 1.0], dtype=L.float64)))
    both_raise(lambda L: L.histogramdd(L.tensor([1.0, 2.0]), 2))
    both_raise(lambda L: L.histogramdd(L.tensor(x), [2]))
    both_raise(lambda L: L.histogramdd(L.tensor(x), 2, range=[0.0, 1.0]))
    both_raise(lambda L: L.histogramdd(L.tensor(x), [L.tensor([0.0, 1.0]), 3]))
    (r, t) = both_raise(lambda L: L.histogram(L.tensor([1.0, 2.0]), 2, range=(2.5, 1.25)))
    assert str(r) == str(t)


# ---------------------------------------------------------------------- index_reduce

@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, pytest.param(False, id="no_self")])
def test_index_reduce_ties_and_zeros_match_pytorch(reduce, include_self):
    """Gradients where maxima tie (shared evenly) and where factors are zero (exact)."""
    x = np.array([[1.0, 2.0], [3.0, 0.0], [5.0, 6.0]])
    src = np.array([[1.0, 2.0], [3.0, 0.0], [1.0, 6.0], [0.0, 2.0]])
    index = [0, 1, 0, 0]
    res = []
    for L in (retrograd, torch):
        a, s = L.tensor(x, requires_grad=True), L.tensor(src, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTorch: index_reduce is in beta
            out = L.index_reduce(a, 0, L.tensor(index), s, reduce, include_self=include_self)
        g = np.arange(6.0).reshape(3, 2)
        res.append((out, L.autograd.grad(out, [a, s], L.tensor(g))))
    assert_same(res[0][0], res[1][0])
    for a, b in zip(res[0][1], res[1][1]):
        assert_same(a, b)


def test_index_reduce_in_place_and_dims():
    x = np.arange(12.0).reshape(3, 4)
    src = np.ones((3, 2)) * 20

    def run(L):
        t = L.tensor(x)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = t.index_reduce_(1, L.tensor([3, 0]), L.tensor(src), "amax",
                                  include_self=False)
        assert res is t
        return t

    r, t = both(run)
    assert_same(r, t)
    r, t = both(lambda L: L.index_reduce(L.tensor([1, 5, 2]), 0, L.tensor([1, 1]),
                                         L.tensor([4, 9]), "mean"))
    assert_same(r, t)
    r, t = both(lambda L: L.index_reduce(L.tensor(2.0), 0, L.tensor([0]), L.tensor(3.0),
                                         "prod"))
    assert_same(r, t)


def test_index_reduce_errors():
    x, s = np.zeros((3, 2)), np.ones((4, 2))
    index = [0, 1, 0, 2]
    both_raise(lambda L: L.index_reduce(L.tensor(x), 0, L.tensor(index), L.tensor(s), "sum"))
    both_raise(lambda L: L.index_reduce(L.tensor(x), 0, L.tensor(index).float(), L.tensor(s),
                                        "prod"))
    both_raise(lambda L: L.index_reduce(L.tensor(x), 0, L.tensor(index[:3]), L.tensor(s),
                                        "prod"))
    both_raise(lambda L: L.index_reduce(L.tensor(x), 0, L.tensor([[0, 1], [0, 2]]),
                                        L.tensor(s), "prod"))
    both_raise(lambda L: L.index_reduce(L.tensor(x), 0, L.tensor([0, 1, 0, 3]), L.tensor(s),
                                        "amax"))
    both_raise(lambda L: L.index_reduce(L.tensor(x), 0, L.tensor(index), L.tensor(s).float(),
                                        "amin"))
    both_raise(lambda L: L.index_reduce(L.tensor(x), 0, L.tensor(index), L.ones(4, 3,
                                        dtype=L.float64), "mean"))


@pytest.mark.parametrize("fn", ["quantile", "nanquantile"])
def test_quantile_nan_slices_give_q_no_gradient(fn):
    """A slice whose quantile is NaN (any NaN for quantile, all NaN for nanquantile) sends
    q no gradient, and the input's gradient goes where PyTorch sends it."""
    x = np.array([[np.nan, 1.0, 4.0], [np.nan, 2.0, np.nan]])
    res = []
    for L in (retrograd, torch):
        t = L.tensor(x.T.copy(), requires_grad=True)
        q = L.tensor([0.3, 0.7], dtype=L.float64, requires_grad=True)
        all_nan = L.tensor(np.full((3, 1), np.nan))
        out = getattr(L, fn)(L.cat([t, all_nan], 1) if fn == "nanquantile" else t, q, 0)
        res.append(L.autograd.grad(out, [t, q], L.ones_like(out)))
    for a, b in zip(*res):
        assert_same(a, b)
