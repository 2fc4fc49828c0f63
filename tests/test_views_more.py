"""Strided views, copying views and the scatter inverses of views (issue 13): as_strided and
its storage, unfold, the *_copy twins, select/slice/diagonal/as_strided_scatter,
unsafe_split/chunk, torch.ops.aten's slice and _safe_softmax, gradient, combinations,
fill, constant_pad_nd; their rows (CASES) and behaviour tests: shared memory, version
counters, gradients through partial views, errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch  # the oracle: a missing install fails the tests, never skips them
from helpers import arr, both_raise
from optable import OpCase

import retrograd

ST = np.lib.stride_tricks


def _windows(a, dim, size, step):
    """NumPy reference of ``unfold``."""
    n = (a.shape[dim] - size) // step + 1
    parts = [np.moveaxis(np.take(a, range(i * step, i * step + size), axis=dim), dim, -1)
             for i in range(n)]
    return np.stack(parts, axis=dim)


def _strided(a, size, stride, offset):
    flat = np.ascontiguousarray(a).reshape(-1)
    return ST.as_strided(flat[offset:], size, tuple(8 * s for s in stride))


def _strided_scatter(a, s, size, stride, offset):
    out = a.copy().reshape(-1)
    _strided(out, size, stride, offset)[...] = s
    return out.reshape(a.shape)


def _combos(a, r):
    return np.array([[a[i] for i in c] for c in itertools.combinations(range(len(a)), r)])


def _masked_row(rng, shapes):
    a = rng.uniform(-2, 2, shapes[0])
    a[0] = -np.inf
    return [a]


def _safe_softmax_ref(a):
    dead = np.isneginf(a).all(1, keepdims=True)
    live = np.where(dead, 0.0, a)
    e = np.exp(live - live.max(1, keepdims=True))
    return np.where(dead, 0.0, e / e.sum(1, keepdims=True))


CASES = [
    OpCase("as_strided", lambda L, a: L.as_strided(a, (2, 2), (1, 2), 1),
           lambda a: _strided(a, (2, 2), (1, 2), 1), [((3, 3),)]),
    OpCase("as_strided_overlap", lambda L, a: a.as_strided((3, 2), (1, 1)),
           lambda a: _strided(a, (3, 2), (1, 1), 0), [((5,),)]),
    OpCase("as_strided_expanded", lambda L, a: a[:, None].expand(3, 2).as_strided((2, 2), (1, 1)),
           lambda a: a[[[0, 1], [1, 2]]], [((3,),)]),
    OpCase("as_strided_copy", lambda L, a: L.as_strided_copy(a, (2, 3), (3, 1)),
           lambda a: a.reshape(-1)[:6].reshape(2, 3), [((4, 2),)]),
    # PyTorch's gradient of the input is wrong (its own gradcheck fails): compared with
    # PyTorch forward only; ours is checked against finite differences.
    OpCase("as_strided_scatter",
           lambda L, a, s: L.as_strided_scatter(a, s, (2, 2), (1, 2), 1),
           lambda a, s: _strided_scatter(a, s, (2, 2), (1, 2), 1), [((3, 3), (2, 2))],
           torch={"grad": False}),
    OpCase("unfold_overlap", lambda L, a: a.unfold(1, 2, 1), lambda a: _windows(a, 1, 2, 1),
           [((3, 4),)]),
    OpCase("unfold_step", lambda L, a: a.unfold(0, 2, 3), lambda a: _windows(a, 0, 2, 3),
           [((6, 2),)]),
    OpCase("unfold_0d", lambda L, a: a.unfold(0, 1, 1), lambda a: a.reshape(1), [((),)]),
    OpCase("unfold_copy", lambda L, a: L.unfold_copy(a, -1, 3, 1),
           lambda a: _windows(a, 1, 3, 1), [((2, 4),)]),
    OpCase("unsafe_split", lambda L, a: L.unsafe_split(a, 2, 1),
           lambda a: tuple(np.split(a, [2, 4], axis=1)), [((3, 5),)]),
    OpCase("unsafe_chunk", lambda L, a: L.unsafe_chunk(a, 2),
           lambda a: tuple(np.split(a, [2])), [((3, 2),)]),
    OpCase("permute_copy", lambda L, a: L.permute_copy(a, (2, 0, 1)),
           lambda a: a.transpose(2, 0, 1), [((2, 3, 4),)]),
    OpCase("expand_copy", lambda L, a: L.expand_copy(a, (2, 3, 4)),
           lambda a: np.broadcast_to(a, (2, 3, 4)), [((3, 1),)]),
    OpCase("view_copy", lambda L, a: L.view_copy(a, (4, 3)), lambda a: a.reshape(4, 3),
           [((2, 6),)]),
    OpCase("diagonal_copy", lambda L, a: L.diagonal_copy(a, 1), lambda a: np.diagonal(a, 1),
           [((3, 4),)]),
    OpCase("unbind_copy", lambda L, a: L.unbind_copy(a, 1),
           lambda a: tuple(a[:, i] for i in range(3)), [((2, 3),)]),
    OpCase("select_scatter", lambda L, a, s: L.select_scatter(a, s, 1, -1),
           lambda a, s: np.concatenate([a[:, :-1], s[:, None]], 1), [((3, 4), (3,))]),
    OpCase("slice_scatter", lambda L, a, s: L.slice_scatter(a, s, 1, 0, None, 2),
           lambda a, s: np.stack([s[:, 0], a[:, 1], s[:, 1], a[:, 3]], 1),
           [((3, 4), (3, 2))]),
    OpCase("diagonal_scatter", lambda L, a, s: L.diagonal_scatter(a, s, -1),
           lambda a, s: np.where(np.eye(4, 3, -1, dtype=bool), np.diag(s, -1)[:, :3], a),
           [((4, 3), (3,))]),
    OpCase("aten_slice", lambda L, a: L.ops.aten.slice.Tensor(a, 1, 1, -1, 2),
           lambda a: a[:, 1:-1:2], [((2, 6),)]),
    OpCase("safe_softmax", lambda L, a: L.ops.aten._safe_softmax.default(a, 1),
           _safe_softmax_ref, [((3, 4),)], make=_masked_row),
    OpCase("gradient", lambda L, a: L.gradient(a, spacing=2.0),
           lambda a: tuple(np.gradient(a, 2.0)), [((4, 5),)]),
    OpCase("gradient_order2", lambda L, a: L.gradient(a, dim=1, edge_order=2),
           lambda a: (np.gradient(a, axis=1, edge_order=2),), [((2, 5),)]),
    OpCase("gradient_coords",
           lambda L, a: L.gradient(a, spacing=(L.tensor([0.0, 1.0, 1.5, 3.0]),), dim=-1,
                                   edge_order=2),
           lambda a: (np.gradient(a, np.array([0.0, 1.0, 1.5, 3.0]), axis=-1, edge_order=2),),
           [((3, 4),)]),
    OpCase("combinations", lambda L, a: L.combinations(a, 3),
           lambda a: _combos(a, 3), [((5,),)]),
    OpCase("fill", lambda L, a, v: L.fill(a, v), lambda a, v: np.full(a.shape, v),
           [((2, 3), ())]),
    OpCase("constant_pad_nd", lambda L, a: L.constant_pad_nd(a, (1, -1, 2, 0), 1.5),
           lambda a: np.pad(a[:, :-1], ((2, 0), (1, 0)), constant_values=1.5), [((3, 4),)]),
]


# ---------------------------------------------------------------------- as_strided

def test_storage_offset_counts_elements_before_a_view():
    for lib in (retrograd, torch):
        base = lib.arange(20.0)
        assert base[5:15].storage_offset() == 5
        assert base.reshape(4, 5)[1:, 2:].storage_offset() == 7
        assert base.reshape(4, 5).t()[1].storage_offset() == 1


def test_as_strided_is_a_view_sharing_memory_and_version():
    base = retrograd.zeros(6)
    y = base.as_strided((2, 2), (2, 1))
    assert y._base is base
    base.add_(1)
    assert y._version == base._version == 1
    assert arr(y).tolist() == [[1, 1], [1, 1]]
    y.mul_(3)  # writes reach the storage
    assert arr(base).tolist() == [3, 3, 3, 3, 1, 1]
    assert base._version == 2


def test_as_strided_outside_the_input_reaches_the_base_storage():
    """A window of x[5:15] that starts before it (storage_offset=0) reads the base's memory,
    shares its version counter, and sends no gradient to the elements it does not read."""
    rb = retrograd.arange(20.0)
    tb = torch.arange(20.0)
    rv, tv = rb[5:15].requires_grad_(), tb[5:15].requires_grad_()
    for offset in (0, 13, None):
        ro = rv.as_strided((2, 2), (1, 2), offset)
        to = tv.as_strided((2, 2), (1, 2), offset)
        np.testing.assert_array_equal(arr(ro), to.detach().numpy())
        assert ro._base is rb and ro._version == rb._version
        g = np.arange(4.0).reshape(2, 2)
        rg, = retrograd.autograd.grad(ro, rv, retrograd.tensor(g, dtype=retrograd.float32))
        tg, = torch.autograd.grad(to, tv, torch.tensor(g, dtype=torch.float32))
        np.testing.assert_array_equal(arr(rg), tg.numpy())


def test_as_strided_gradient_of_an_expanded_input_matches_torch():
    """Elements of the input that share one memory place split its gradient."""
    def run(lib):
        b = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = b[:, None].expand(3, 2).as_strided((2, 2), (1, 1))
        (g,) = lib.autograd.grad(y, b, lib.tensor([[1.0, 2.0], [3.0, 5.0]]))
        return g

    np.testing.assert_allclose(arr(run(retrograd)), run(torch).numpy())


def test_write_through_as_strided_view_flows_gradient_like_torch():
    def run(lib):
        x = lib.arange(6.0, requires_grad=True)
        y = x * 1
        v = y.as_strided((2,), (2,), 1)
        v.mul_(lib.tensor([10.0, 100.0]))
        (g,) = lib.autograd.grad(y.sum(), x)
        return y.detach(), g

    (ry, rg), (ty, tg) = run(retrograd), run(torch)
    np.testing.assert_array_equal(arr(ry), ty.numpy())
    np.testing.assert_array_equal(arr(rg), tg.numpy())


@pytest.mark.parametrize("args", [((2,), (-1,)), ((5,), (1,)), ((5,), (1, 2)),
                                  ((2,), (1,), -1), ((-1,), (1,))])
def test_as_strided_misuse_raises_like_torch(args):
    errs = both_raise(lambda lib: lib.zeros(3).as_strided(*args))
    assert "as_strided" in str(errs[1]) or "storage" in str(errs[1]) or "dimension" in \
        str(errs[1]) or "strides" in str(errs[1])


def test_overlapping_as_strided_view_refuses_in_place_writes():
    """Deliberate (docs/differences.md): several elements at one address are read-only."""
    y = retrograd.zeros(6).as_strided((2, 2), (1, 1))
    with pytest.raises(RuntimeError, match="single memory location"):
        y.add_(1)


def test_as_strided_scatter_keeps_the_input_layout_like_torch():
    for lib in (retrograd, torch):
        x = lib.arange(6.0).reshape(2, 3).t()
        out = lib.as_strided_scatter(x, lib.zeros(2), (2,), (1,))
        assert out.tolist() == [[0.0, 3.0], [0.0, 4.0], [2.0, 5.0]]
    out = retrograd.as_strided_scatter(retrograd.arange(20.0)[5:15], retrograd.zeros(2), (2,),
                                       (1,))
    assert out.tolist()[:3] == [0.0, 0.0, 7.0]


def test_as_strided_scatter_gradient_zeroes_the_overwritten_window():
    x = retrograd.ones(3, 3, dtype=retrograd.float64, requires_grad=True)
    s = retrograd.ones(2, 2, dtype=retrograd.float64, requires_grad=True)
    gx, gs = retrograd.autograd.grad(retrograd.as_strided_scatter(x, s, (2, 2), (1, 2)).sum(),
                                     (x, s))
    assert arr(gx).tolist() == [[0, 0, 0], [0, 1, 1], [1, 1, 1]]
    assert arr(gs).tolist() == [[1, 1], [1, 1]]


# ---------------------------------------------------------------------- unfold, splits

def test_unfold_is_a_view_and_writes_reach_the_base():
    def run(lib):
        x = lib.arange(6.0, requires_grad=True)
        y = x * 1
        w = y.unfold(0, 2, 2)
        assert w._base is y
        w[:, 1].mul_(lib.tensor([2.0, 3.0, 4.0]))
        (g,) = lib.autograd.grad(y.sum(), x)
        return y.detach(), g

    (ry, rg), (ty, tg) = run(retrograd), run(torch)
    np.testing.assert_array_equal(arr(ry), ty.numpy())
    np.testing.assert_array_equal(arr(rg), tg.numpy())


@pytest.mark.parametrize("args", [(0, 7, 1), (0, 2, 0), (1, 2, 1)])
def test_unfold_misuse_raises_like_torch(args):
    both_raise(lambda lib: lib.arange(6.0).unfold(*args))


def test_unsafe_split_parts_share_memory_but_allow_in_place():
    for lib in (retrograd, torch):
        w = lib.arange(6.0, requires_grad=True).clone()
        a, _ = lib.unsafe_split(w, 3)
        assert a._base is None
        a.mul_(2)  # split's parts refuse this; unsafe_split's do not
        assert w.tolist() == [0.0, 2.0, 4.0, 3.0, 4.0, 5.0]
        with pytest.raises(RuntimeError, match="multiple views"):
            lib.split(w, 3)[0].mul_(2)


# ---------------------------------------------------------------------- creation

@pytest.mark.parametrize(("size", "stride"), [((2, 3), (1, 2)), ((2, 3, 4), (1, 8, 2)), ((), ())])
def test_empty_strided_has_the_requested_strides(size, stride):
    r = retrograd.empty_strided(size, stride, dtype=retrograd.float64)
    t = torch.empty_strided(size, stride, dtype=torch.float64)
    assert r.stride() == t.stride() and tuple(r.shape) == tuple(t.shape)
    assert r.new_empty_strided(size, stride).stride() == t.stride()


def test_empty_permuted_lays_dims_out_in_the_given_order():
    r = retrograd.empty_permuted((2, 3, 4), (2, 0, 1))
    t = torch.empty_permuted((2, 3, 4), (2, 0, 1))
    assert r.stride() == t.stride() and tuple(r.shape) == (2, 3, 4)
    for bad in [((2, 3), (0,)), ((2, 3), (0, 2)), ((2, 3), (1, 1))]:
        both_raise(lambda lib, bad=bad: lib.empty_permuted(*bad))


# ---------------------------------------------------------------------- the rest

def test_aten_namespace_packets():
    x = retrograd.arange(12.0).reshape(3, 4).clone()
    assert retrograd.ops.aten.slice(x, 0, 1).tolist() == x[1:].tolist()
    assert retrograd.ops.aten.slice.Tensor(x, 1, -10, 100).shape == (3, 4)
    assert retrograd.ops.aten.slice.Tensor(x, 1, 3, 1).shape == (3, 0)
    assert retrograd.ops.aten.slice.Tensor(x, 1)._base is x
    with pytest.raises(AttributeError):
        retrograd.ops.aten.slice.nope
    both_raise(lambda lib: lib.ops.aten.slice.Tensor(lib.zeros(3), 0, 0, 3, 0))


def test_safe_softmax_gives_zero_for_fully_masked_rows_like_torch():
    def run(lib):
        x = lib.tensor([[-float("inf")] * 3, [1.0, 2.0, 3.0]], requires_grad=True)
        out = lib.ops.aten._safe_softmax.default(x, 1)
        (g,) = lib.autograd.grad(out, x, lib.tensor([[1.0, 2.0, 3.0], [1.0, -1.0, 2.0]]))
        return out, g

    (ro, rg), (to, tg) = run(retrograd), run(torch)
    np.testing.assert_allclose(arr(ro), to.detach().numpy(), atol=1e-6)
    np.testing.assert_allclose(arr(rg), tg.numpy(), atol=1e-6)


@pytest.mark.parametrize("kw", [{}, {"dim": 1}, {"dim": (0, 1), "keepdim": True}])
@pytest.mark.parametrize("dtype", ["float32", "int32", "bool"])
def test_hash_tensor_matches_torch(kw, dtype):
    data = [[1.5, 0.0, -2.0], [3.0, 1.0, 0.25]]
    r = retrograd.tensor(data).to(getattr(retrograd, dtype))
    t = torch.tensor(data).to(getattr(torch, dtype))
    rh, th = retrograd.hash_tensor(r, **kw), torch.hash_tensor(t, **kw)
    assert str(rh.dtype) == str(th.dtype) == "torch.uint64"
    np.testing.assert_array_equal(arr(rh), th.numpy())


@pytest.mark.parametrize("size", [0, 2, 5])
def test_nonzero_static_pads_or_cuts_like_torch(size):
    data = [[0, 1, 0], [2, 0, 3]]
    for fill_value in (-1, 9):
        r = retrograd.nonzero_static(retrograd.tensor(data), size=size, fill_value=fill_value)
        t = torch.nonzero_static(torch.tensor(data), size=size, fill_value=fill_value)
        np.testing.assert_array_equal(arr(r), t.numpy())


@pytest.mark.parametrize("kw", [{"spacing": [1.0, 2.0, 3.0]}, {"edge_order": 3},
                                {"dim": [1, 1]}, {"dim": 0, "edge_order": 2},
                                {"spacing": [2.0], "dim": (0, 1)}])
def test_gradient_misuse_raises_like_torch(kw):
    both_raise(lambda lib: lib.gradient(lib.ones(2, 4), **kw))


def test_combinations_edge_cases_match_torch():
    for r, rep in [(3, False), (0, False), (2, True)]:
        a = retrograd.combinations(retrograd.arange(2.0), r, rep)
        b = torch.combinations(torch.arange(2.0), r, rep)
        assert tuple(a.shape) == tuple(b.shape) and a.tolist() == b.tolist()
    both_raise(lambda lib: lib.combinations(lib.ones(2, 2)))


def test_resize_as_and_zero_functions():
    for lib in (retrograd, torch):
        x = lib.arange(6.0)
        assert lib.resize_as_(x, lib.ones(2, 2)).tolist() == [[0, 1], [2, 3]]
        assert lib.zero_(x) is x and x.tolist() == [[0, 0], [0, 0]]


def test_write_through_as_strided_view_with_a_transposed_gradient_like_torch():
    """The view is redone on the incoming gradient, laid out unlike the base."""
    def run(lib):
        x = lib.arange(6.0, requires_grad=True)
        b = x * 1
        b.as_strided((2,), (1,), 3).mul_(lib.tensor([10.0, 100.0]))
        y = b.reshape(2, 3).t()
        (g,) = lib.autograd.grad((y * lib.arange(6.0).reshape(3, 2)).sum(), x)
        return y.detach(), g

    (ry, rg), (ty, tg) = run(retrograd), run(torch)
    np.testing.assert_array_equal(arr(ry), ty.numpy())
    np.testing.assert_array_equal(arr(rg), tg.numpy())
