"""Indexing and setitem against PyTorch: random index expressions (hypothesis), gradients
through ``x[idx] = v`` and in-place writes through views, views sharing memory and version
counters, node names, and PyTorch's exceptions on misuse."""

from __future__ import annotations

import numpy as np
import pytest
import torch  # the oracle: a missing install fails the tests, never skips them
from helpers import arr, both
from hypothesis import given, settings
from hypothesis import strategies as st
from optable import (
    OpCase,
)

import retrograd

# ---------------------------------------------------------------------- setitem as table rows

def _set(idx, scale=1.0):
    def fn(L, a, v):
        x = a * 1
        x[idx] = v * scale
        return x
    return fn


def _ref(idx):
    def ref(a, v):
        x = a.copy()
        x[idx] = v
        return x
    return ref


def _chain(L, a, v):
    x = a.clone()
    x[0] = v
    x[:, 1] *= 2
    return x


def _chain_ref(a, v):
    x = a.copy()
    x[0] = v
    x[:, 1] *= 2
    return x


def _view_of_view(L, a, v):
    x = a * 1
    w = x.t()[1:]
    w[:, ::2] = v
    return x


def _view_of_view_ref(a, v):
    x = a.copy()
    x.T[1:][:, ::2] = v
    return x


CASES = [
    OpCase("set_int", _set(1), _ref(1), [((3, 4), (4,)), ((3, 4), ())]),
    OpCase("set_slice", _set((slice(None), slice(1, 3))), _ref((slice(None), slice(1, 3))),
           [((3, 4), (3, 2)), ((3, 4), (2,))]),
    OpCase("set_leading_ones", _set(0), _ref(0), [((3, 4), (1, 4))]),
    OpCase("set_list", _set([0, 2]), _ref([0, 2]), [((3, 4), (2, 4)), ((3, 4), (4,))]),
    OpCase("set_adv_sep", _set(([0, 1], slice(None), [1, 0])),
           _ref(([0, 1], slice(None), [1, 0])), [((2, 3, 2), (2, 3))]),
    OpCase("set_ellipsis_none", _set((Ellipsis, None, 1)), _ref((Ellipsis, None, 1)),
           [((3, 4), (3, 1))]),
    OpCase("set_0d", _set(()), _ref(()), [((), ())]),
    OpCase("set_chain", _chain, _chain_ref, [((3, 4), (4,))]),
    OpCase("set_view_of_view", _view_of_view, _view_of_view_ref, [((3, 4), (3, 2))]),
]


def test_setitem_mask_gradients_match_torch():
    rng = np.random.default_rng(0)
    a0, v0 = rng.standard_normal((3, 4)), rng.standard_normal(())

    def run(L):
        a = L.tensor(a0, requires_grad=True)
        v = L.tensor(v0, requires_grad=True)
        x = a * 2
        x[x > 0] = v
        x[x < -1] *= 3
        (x * x).sum().backward()
        return arr(x), arr(a.grad), arr(v.grad)

    for r, t in zip(*both(run)):
        np.testing.assert_allclose(r, t)


def test_setitem_without_grad_writes_in_place_and_bumps_version():
    x = retrograd.zeros(2, 3)
    v = x[0]
    x[0, 1:] = retrograd.tensor([1.0, 2.0])
    x[[1, 1]] = 5.0
    assert x.tolist() == [[0.0, 1.0, 2.0], [5.0, 5.0, 5.0]]
    assert v.tolist() == [0.0, 1.0, 2.0]
    assert x._version == 2 and v._version == 2


def test_setitem_on_leaf_requiring_grad_raises_like_torch():
    for lib in (retrograd, torch):
        a = lib.zeros(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="view of a leaf Variable that requires grad"):
            a[0] = 1.0
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            a.masked_fill_(a > 0, 1.0)


# ---------------------------------------------------------------------- random index expressions

SHAPE = (4, 3, 5)


@st.composite
def index_exprs(draw):
    """A random mix of ints, slices, None, Ellipsis, int lists and masks for SHAPE."""
    items = []
    n_adv = 0
    n_dims = draw(st.integers(0, len(SHAPE)))
    for dim in range(n_dims):
        n = SHAPE[dim]
        while draw(st.integers(0, 4)) == 0:
            items.append(None)
        kind = draw(st.sampled_from(["int", "slice", "full", "list", "mask"]))
        if kind == "int":
            items.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            start = draw(st.one_of(st.none(), st.integers(-n - 2, n + 2)))
            stop = draw(st.one_of(st.none(), st.integers(-n - 2, n + 2)))
            step = draw(st.one_of(st.none(), st.integers(1, 3)))
            items.append(slice(start, stop, step))
        elif kind == "list" and n_adv < 2:
            n_adv += 1
            # advanced indices broadcast together: keep them the same length
            items.append(draw(st.lists(st.integers(-n, n - 1), min_size=2, max_size=2)))
        elif kind == "mask" and n_adv == 0:
            n_adv = 2
            items.append(np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))))
        else:
            items.append(slice(None))
    full = [k for k, i in enumerate(items) if isinstance(i, slice) and i == slice(None)]
    if draw(st.booleans()):
        # An Ellipsis stands for a run of full slices (or for the trailing dims).
        if full and n_dims == len(SHAPE):
            k = draw(st.sampled_from(full))
            items[k:k + 1] = [Ellipsis]
        elif n_dims < len(SHAPE):
            items.append(Ellipsis)
    return tuple(items)


def _to_lib(L, idx):
    out = []
    for i in idx:
        if isinstance(i, (np.ndarray, list)):
            out.append(L.tensor(i))
        else:
            out.append(i)
    return tuple(out)


@settings(max_examples=30, deadline=None)
@given(index_exprs())
def test_random_indexing_matches_torch(idx):
    rng = np.random.default_rng(0)
    a0 = rng.standard_normal(SHAPE)

    def run(L):
        a = L.tensor(a0, requires_grad=True)
        out = a[_to_lib(L, idx)]
        g = np.arange(out.numel(), dtype=np.float64).reshape(tuple(out.shape))
        (out * L.tensor(g)).sum().backward()
        return arr(out), arr(a.grad), out._base is not None

    r, t = run(retrograd), run(torch)
    np.testing.assert_allclose(r[0], t[0])
    assert r[0].shape == t[0].shape
    np.testing.assert_allclose(r[1], t[1])
    assert r[2] == t[2]


@settings(max_examples=30, deadline=None)
@given(index_exprs(), st.booleans())
def test_random_setitem_matches_torch(idx, scalar):
    rng = np.random.default_rng(1)
    a0 = rng.standard_normal(SHAPE)
    target = tuple(torch.zeros(SHAPE)[_to_lib(torch, idx)].shape)
    v0 = rng.standard_normal(() if scalar else target)

    def run(L):
        a = L.tensor(a0, requires_grad=True)
        v = L.tensor(v0, requires_grad=True)
        x = a * 1
        x[_to_lib(L, idx)] = v
        w = L.tensor(np.arange(a0.size, dtype=np.float64).reshape(SHAPE))
        (x * w).sum().backward()
        return arr(x), arr(a.grad), arr(v.grad)

    has_repeats = any(isinstance(i, list) and len(set(np.asarray(i) % 7)) < len(i) for i in idx)
    for k, (r, t) in enumerate(zip(run(retrograd), run(torch))):
        if has_repeats and k == 2:
            continue  # which of the repeated writes wins is unspecified
        np.testing.assert_allclose(r, t)


# ---------------------------------------------------------------------- views

def test_views_share_memory_and_version():
    a = retrograd.arange(12.0).reshape(3, 4).clone()
    views = [a.view(4, 3), a.t(), a[1:], a[:, 1], a.narrow(1, 1, 2), a.select(0, 1),
             a.unsqueeze(0), a.expand(2, 3, 4), a.permute(1, 0), a.movedim(0, 1),
             a.unflatten(1, (2, 2)), a.split(2)[0], a.chunk(2, 1)[1], a.unbind()[2],
             a.swapaxes(0, 1), a.mT, a.view(4, 3)[1:].t()[0], a.squeeze(), a.flatten()]
    for v in views:
        assert v._base is a
    a.add_(1)
    for v in views:
        assert v._version == a._version == 1
    assert views[-3].tolist() == (np.arange(12.0).reshape(4, 3)[1:].T[0] + 1).tolist()
    copies = [a.flip(0), a.roll(1), a[[0, 1]], a.repeat(1, 1), a.t().reshape(-1),
              retrograd.cat([a, a]), a.index_select(0, retrograd.tensor([0]))]
    for c in copies:
        assert c._base is None


def test_view_of_non_contiguous_raises_like_torch():
    for lib in (retrograd, torch):
        with pytest.raises(RuntimeError, match="view size is not compatible with input tensor"):
            lib.arange(6.0).reshape(2, 3).t().view(-1)
    r = retrograd.arange(6.0).reshape(2, 3).t().view(3, 1, 2)  # viewable splits still work
    assert r.shape == (3, 1, 2)


def test_in_place_view_ops_match_torch():
    def run(L):
        a = L.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        b = a * 1
        b.t_()
        b.unsqueeze_(0)
        b.squeeze_(0)
        b.transpose_(0, 1)
        b[0].mul_(3)
        (b * L.tensor(np.arange(6.0).reshape(2, 3))).sum().backward()
        return tuple(b.shape), b._version, arr(a.grad)

    r, t = both(run)
    assert r[:2] == t[:2]
    np.testing.assert_allclose(r[2], t[2])


def test_multi_output_views_refuse_in_place_writes():
    for lib in (retrograd, torch):
        b = lib.ones(4, 2, requires_grad=True) * 1
        for parts in (b.unbind(), b.split(2), b.chunk(2)):
            with pytest.raises(RuntimeError, match="returns multiple views"):
                parts[0].mul_(2)


def test_in_place_index_ops_match_torch():
    def run(L):
        a = L.tensor(np.arange(6.0).reshape(2, 3) - 2.0, requires_grad=True)
        b = a * 1
        b.masked_fill_(b > 2, 0.5)
        b.index_add_(1, L.tensor([0, 0]), a[:, :2])
        b.scatter_(0, L.tensor([[1, 0, 1]]), a[:1] * 2)
        b.index_fill_(0, L.tensor([1]), 2.0)
        b.put_(L.tensor([0]), a[0, :1])
        b.index_put_((L.tensor([0]),), a[1, 1] * 1)
        b.index_copy_(0, L.tensor([1]), a[:1] * 4)
        b.scatter_add_(1, L.tensor([[1], [1]]), a[:, :1])
        b.masked_scatter_(b > 1, a.flip(0))
        b.scatter_reduce_(1, L.tensor([[0], [2]]), a[:, :1], "amax")
        (b * b).sum().backward()
        return arr(b), b.grad_fn.name(), b._version, arr(a.grad)

    r, t = both(run)
    np.testing.assert_allclose(r[0], t[0])
    assert r[1:3] == t[1:3]
    np.testing.assert_allclose(r[3], t[3])


# ---------------------------------------------------------------------- node names

NAMED = {
    "SelectBackward0": lambda L, x: x[0],
    "SliceBackward0": lambda L, x: x[1:],
    "IndexBackward0": lambda L, x: x[[0, 1]],
    "CatBackward0": lambda L, x: L.cat([x, x]),
    "StackBackward0": lambda L, x: L.stack([x, x]),
    "SplitBackward0": lambda L, x: x.split(1)[1],
    "SplitWithSizesBackward0": lambda L, x: x.split([1, 2], 1)[0],
    "UnbindBackward0": lambda L, x: x.unbind(1)[2],
    "GatherBackward0": lambda L, x: x.gather(0, L.tensor([[1]])),
    "ScatterBackward0": lambda L, x: x.scatter(0, L.tensor([[1]]), x),
    "ScatterBackward1": lambda L, x: x.scatter(0, L.tensor([[1]]), 2.0),
    "ScatterAddBackward0": lambda L, x: x.scatter_add(0, L.tensor([[1]]), x),
    "ScatterReduceBackward0": lambda L, x: x.scatter_reduce(0, L.tensor([[1]]), x, "mean"),
    "IndexSelectBackward0": lambda L, x: x.index_select(1, L.tensor([0])),
    "IndexAddBackward0": lambda L, x: x.index_add(0, L.tensor([0]), x[:1]),
    "IndexCopyBackward0": lambda L, x: x.index_copy(0, L.tensor([0]), x[:1]),
    "IndexFillBackward0": lambda L, x: x.index_fill(0, L.tensor([0]), 1.0),
    "IndexPutBackward0": lambda L, x: x.index_put((L.tensor([0]),), x[0, 0]),
    "MaskedFillBackward0": lambda L, x: x.masked_fill(x > 0, 1.0),
    "MaskedScatterBackward0": lambda L, x: x.masked_scatter(x > 0, x),
    "MaskedSelectBackward0": lambda L, x: x.masked_select(x > 0),
    "TakeBackward0": lambda L, x: x.take(L.tensor([1])),
    "PutBackward0": lambda L, x: x.put(L.tensor([1]), x[0, :1]),
    "FlipBackward0": lambda L, x: x.flip(0),
    "RollBackward0": lambda L, x: x.roll(1),
    "Rot90Backward0": lambda L, x: x.rot90(),
    "RepeatBackward0": lambda L, x: x.tile((2,)),
    "PermuteBackward0": lambda L, x: x.movedim(0, 1),
    "TransposeBackward0": lambda L, x: x.swapaxes(0, 1),
    "SqueezeBackward2": lambda L, x: x[None].squeeze((0, 1)),
    "ExpandBackward0": lambda L, x: L.meshgrid(x[0], x[1], indexing="xy")[0],
    "ViewBackward0": lambda L, x: x.unflatten(1, (3, 1)),
}


@pytest.mark.parametrize("name", list(NAMED))
def test_node_names_match_torch(name):
    def run(L):
        x = L.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True) * 1
        return NAMED[name](L, x).grad_fn.name()

    assert both(run) == (name, name)


# ---------------------------------------------------------------------- misuse

ERRORS = [
    lambda L, x: x[5],
    lambda L, x: x[:, 7],
    lambda L, x: x[L.tensor([5])],
    lambda L, x: x[0, 0, 0],
    lambda L, x: x[L.tensor([True, False])],
    lambda L, x: x[::-1],
    lambda L, x: x[1.5],
    lambda L, x: x.transpose(0, 3),
    lambda L, x: x.squeeze(3),
    lambda L, x: x.unsqueeze(4),
    lambda L, x: x.flip(0, 0),
    lambda L, x: L.cat([x, L.zeros(2, 3)]),
    lambda L, x: L.cat([x, L.zeros(3)]),
    lambda L, x: L.cat([x, x], 2),
    lambda L, x: L.cat([]),
    lambda L, x: L.stack([x, L.zeros(2, 3)]),
    lambda L, x: x.view(-1, 5),
    lambda L, x: x.view(-1, -1),
    lambda L, x: x.reshape(5),
    lambda L, x: x.expand(3, 5),
    lambda L, x: x.expand(4),
    lambda L, x: x.permute(0, 0),
    lambda L, x: x.repeat(2),
    lambda L, x: x.split(0),
    lambda L, x: x.split([1, 1]),
    lambda L, x: x.unflatten(1, (3, 2)),
    lambda L, x: x.movedim((0, 1), (1,)),
    lambda L, x: x.narrow(0, 2, 3),
    lambda L, x: x.select(0, 3),
    lambda L, x: x.gather(0, L.tensor([[5]])),
    lambda L, x: x.gather(0, L.tensor([1])),
    lambda L, x: x.gather(0, L.zeros(2, 5, dtype=L.int64)),
    lambda L, x: x.scatter(0, L.tensor([[5]]), 1.0),
    lambda L, x: x.index_select(0, L.tensor([5])),
    lambda L, x: x.index_select(0, L.tensor([[1]])),
    lambda L, x: x.masked_select(L.tensor([1, 0, 1, 0])),
    lambda L, x: x.masked_fill(L.tensor([True, False]), 1.0),
    lambda L, x: x.masked_fill(x > 0, L.tensor([1.0, 2.0])),
    lambda L, x: x.masked_scatter(L.ones(3, 4, dtype=L.bool), L.zeros(3)),
    lambda L, x: x.index_add(0, L.tensor([0, 1]), L.zeros(3, 4)),
    lambda L, x: x.index_copy(0, L.tensor([0, 1]), L.zeros(3, 4)),
    lambda L, x: x.index_fill(0, L.tensor([7]), 1.0),
    lambda L, x: x.take(L.tensor([12])),
    lambda L, x: x.put(L.tensor([1, 2]), L.tensor([1.0])),
    lambda L, x: x.index_put((L.tensor([5]),), L.tensor(1.0)),
    lambda L, x: x.rot90(1, [0, 0]),
    lambda L, x: x[0].mT,
    lambda L, x: x[0].H,
    lambda L, x: x.unbind(2),
    lambda L, x: x.chunk(0),
    lambda L, x: L.meshgrid(x, indexing="xy"),
]


@pytest.mark.parametrize("k", range(len(ERRORS)))
def test_errors_match_torch(k):
    fn = ERRORS[k]
    caught = []
    for L in (retrograd, torch):
        try:
            fn(L, L.zeros(3, 4))
        except Exception as e:
            caught.append(e)
        else:
            caught.append(None)
    r, t = caught
    assert t is not None and r is not None, (r, t)
    assert type(r) is type(t), (r, t)
    assert str(t).split("\n")[0][:60] in str(r), (str(r), str(t))


# ---------------------------------------------------------------------- index queries

def test_nonzero_unique_match_torch():
    data = np.array([[3, 1, 3, 0], [1, 1, 2, 0], [3, 1, 3, 0]])

    def run(L):
        x = L.tensor(data)
        out = [x.nonzero(), *x.nonzero(as_tuple=True), L.argwhere(x > 2)]
        out += list(L.unique(x, return_inverse=True, return_counts=True))
        out += list(x.unique(dim=0, return_inverse=True, return_counts=True))
        out += list(x.unique(dim=1, return_inverse=True))
        out += list(L.unique_consecutive(x, return_inverse=True, return_counts=True))
        out += list(x.unique_consecutive(dim=1, return_counts=True))
        out += [L.tensor(5).nonzero(), L.zeros(0, 2).nonzero(), x.flatten().unique(sorted=True)]
        return [arr(o) for o in out]

    for r, t in zip(*both(run)):
        assert r.shape == t.shape and r.dtype == t.dtype
        np.testing.assert_array_equal(r, t)


def test_double_backward_through_setitem_matches_torch():
    rng = np.random.default_rng(3)
    a0, v0 = rng.standard_normal((3, 4)), rng.standard_normal(4)

    def run(L):
        a = L.tensor(a0, requires_grad=True)
        v = L.tensor(v0, requires_grad=True)
        x = a * a
        x[1] = v * v
        x[:, 2] *= a[:, 0]
        ga, gv = L.autograd.grad((x ** 3).sum(), (a, v), create_graph=True)
        (ga.sum() + (gv * gv).sum()).backward()
        return arr(a.grad), arr(v.grad)

    for r, t in zip(*both(run)):
        np.testing.assert_allclose(r, t, rtol=1e-10)


def test_in_place_view_ops_under_no_grad_keep_leaf_flags_like_torch():
    def run(L):
        a = L.zeros(2, 3, requires_grad=True)
        with L.no_grad():
            a.t_()
            a.unsqueeze_(0)
        return tuple(a.shape), a.requires_grad, a.is_leaf, a._version

    r, t = both(run)
    assert r == t
