"""Table-driven tests of the shape, joining and indexing ops (issue: the full differentiable
op library), plus their views, node names, in-place forms and misuse errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch  # the oracle: a missing install fails the tests, never skips them
from optable import (
    OpCase,
)


def _i(L, v):
    return L.tensor(v, dtype=L.int64)


def _m(L, v):
    return L.tensor(v, dtype=L.bool)


def _scatter_reduce_ref(x, idx, src, how, include_self, dim=0):
    out = x.copy()
    ufunc = {"sum": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum,
             "mean": np.add}[how]
    grids = list(np.ogrid[tuple(slice(n) for n in idx.shape)])
    grids[dim] = idx
    grids = tuple(grids)
    cnt = np.zeros(x.shape)
    np.add.at(cnt, grids, 1)
    if not include_self:
        out[cnt > 0] = {"sum": 0, "mean": 0, "prod": 1, "amax": -np.inf, "amin": np.inf}[how]
    ufunc.at(out, grids, src[tuple(slice(n) for n in idx.shape)])
    if how == "mean":
        out = out / np.maximum(cnt + include_self, 1)
    return out


def _with_zeros(rng, shapes):
    """Factors for scatter_reduce prod with zeros (index IDX_DUP): place (0, 0) has one zero
    factor in x, place (0, 1) one in src, place (1, 2) two (x and src). Double backward
    is not exact where two zeros meet, so those rows check first derivatives only."""
    a = rng.uniform(0.5, 2.0, shapes[0])
    s = rng.uniform(0.5, 2.0, shapes[1])
    a[0, 0] = 0.0
    s[0, 1] = 0.0
    s[1, 2] = 0.0
    a[1, 2] = 0.0
    return [a, s]


IDX = np.array([[0, 2, 1], [2, 0, 0]])  # distinct per column: no scatter collisions
IDX_DUP = np.array([[0, 0, 1], [0, 2, 1]])

def _nc(L, a):
    """A non-contiguous view of a."""
    return a.transpose(0, 1)


CASES = [
    # views and reshapes
    OpCase("view_nd", lambda L, a: a.view(-1, 2), lambda a: a.reshape(-1, 2), [((3, 4),)]),
    OpCase("view_0d", lambda L, a: a.view(1, 1), lambda a: a.reshape(1, 1), [((),)]),
    OpCase("view_as", lambda L, a, b: a.view_as(b), lambda a, b: a.reshape(b.shape),
           [((2, 3), (3, 2))]),
    OpCase("reshape_nc", lambda L, a: _nc(L, a).reshape(-1), lambda a: a.T.reshape(-1),
           [((3, 4),)]),
    OpCase("reshape_empty", lambda L, a: a.reshape(0, 3), lambda a: a.reshape(0, 3),
           [((3, 0),)]),
    OpCase("reshape_as", lambda L, a, b: L.reshape(a, (6,)).reshape_as(b),
           lambda a, b: a.reshape(b.shape), [((2, 3), (3, 2))]),
    OpCase("flatten_nc", lambda L, a: _nc(L, a).flatten(), lambda a: a.T.reshape(-1),
           [((3, 4),)]),
    OpCase("flatten_0d", lambda L, a: L.flatten(a), lambda a: a.reshape(1), [((),)]),
    OpCase("unflatten", lambda L, a: a.unflatten(1, (2, -1)), lambda a: a.reshape(3, 2, 2),
           [((3, 4),)]),
    OpCase("squeeze_dim", lambda L, a: a.squeeze(1), lambda a: a.squeeze(1), [((2, 1, 3),)]),
    OpCase("squeeze_tuple", lambda L, a: a.squeeze((0, 2)), lambda a: a.reshape(3),
           [((1, 3, 1),)]),
    OpCase("squeeze_0d", lambda L, a: L.squeeze(a), lambda a: a, [((),)]),
    OpCase("unsqueeze_neg", lambda L, a: L.unsqueeze(a, -1), lambda a: a[..., None],
           [((2, 3),), ((),)]),
    OpCase("transpose_neg", lambda L, a: L.transpose(a, -1, 0), lambda a: a.swapaxes(-1, 0),
           [((2, 3, 4),)]),
    OpCase("swapaxes", lambda L, a: L.swapaxes(a, 0, 1), lambda a: a.swapaxes(0, 1),
           [((2, 3),)]),
    OpCase("swapdims", lambda L, a: a.swapdims(2, 1), lambda a: a.swapaxes(2, 1),
           [((2, 3, 4),)]),
    OpCase("permute_nc", lambda L, a: _nc(L, a).permute(2, 1, 0),
           lambda a: a.swapaxes(0, 1).transpose(2, 1, 0), [((2, 3, 4),)]),
    OpCase("movedim", lambda L, a: L.movedim(a, 0, -1), lambda a: np.moveaxis(a, 0, -1),
           [((2, 3, 4),)]),
    OpCase("moveaxis_tuple", lambda L, a: a.moveaxis((0, 1), (2, 0)),
           lambda a: np.moveaxis(a, (0, 1), (2, 0)), [((2, 3, 4),)]),
    OpCase("t_1d", lambda L, a: a.t(), lambda a: a, [((3,),), ((),)]),
    OpCase("T_3d", lambda L, a: a.permute(2, 1, 0), lambda a: a.T, [((2, 3, 4),)]),
    OpCase("mT", lambda L, a: a.mT, lambda a: a.swapaxes(-1, -2), [((2, 3, 4),)]),
    OpCase("H", lambda L, a: a.H, lambda a: a.T, [((2, 3),)]),
    OpCase("expand_neg", lambda L, a: a.expand(2, -1, 3), lambda a: np.broadcast_to(a, (2, 4, 3)),
           [((4, 1),)]),
    OpCase("expand_as", lambda L, a, b: a.expand_as(b), lambda a, b: np.broadcast_to(a, b.shape),
           [((3, 1), (2, 3, 4))]),
    OpCase("broadcast_to", lambda L, a: L.broadcast_to(a, (2, 3)),
           lambda a: np.broadcast_to(a, (2, 3)), [((3,),), ((),)]),
    OpCase("broadcast_tensors", lambda L, a, b: L.broadcast_tensors(a, b),
           lambda a, b: tuple(np.broadcast_arrays(a, b)), [((3, 1), (4,))]),
    # joining and splitting
    OpCase("cat", lambda L, a, b: L.cat([a, b], 1), lambda a, b: np.concatenate([a, b], 1),
           [((2, 3), (2, 1)), ((2, 0), (2, 2))]),
    OpCase("cat_neg_nc", lambda L, a, b: L.cat((_nc(L, a), b), dim=-2),
           lambda a, b: np.concatenate([a.T, b], -2), [((3, 2), (1, 3))]),
    OpCase("cat_empty1d", lambda L, a, b: L.concat([a, b]), lambda a, b: b,
           [((0,), (2, 3))]),
    OpCase("concatenate", lambda L, a, b, c: L.concatenate([a, b, c]),
           lambda a, b, c: np.concatenate([a, b, c]), [((2,), (3,), (1,))]),
    OpCase("stack", lambda L, a, b: L.stack([a, b], 1), lambda a, b: np.stack([a, b], 1),
           [((2, 3), (2, 3)), ((0, 2), (0, 2))]),
    OpCase("stack_0d", lambda L, a, b: L.stack([a, b]), lambda a, b: np.stack([a, b]),
           [((), ())]),
    OpCase("stack_neg", lambda L, a, b: L.stack((a, b), -1), lambda a, b: np.stack([a, b], -1),
           [((2, 3), (2, 3))]),
    OpCase("hstack", lambda L, a, b: L.hstack([a, b]), lambda a, b: np.hstack([a, b]),
           [((2, 3), (2, 2)), ((3,), (2,)), ((), ())]),
    OpCase("vstack", lambda L, a, b: L.vstack([a, b]), lambda a, b: np.vstack([a, b]),
           [((2, 3), (1, 3)), ((3,), (3,))]),
    OpCase("dstack", lambda L, a, b: L.dstack([a, b]), lambda a, b: np.dstack([a, b]),
           [((2, 3), (2, 3)), ((3,), (3,))]),
    OpCase("column_stack", lambda L, a, b: L.column_stack([a, b]),
           lambda a, b: np.column_stack([a, b]), [((3,), (3, 2)), ((), ())]),
    OpCase("split_int", lambda L, a: L.split(a, 2, 1),
           lambda a: tuple(np.split(a, [2, 4], 1)), [((2, 5),)]),
    OpCase("split_sizes", lambda L, a: a.split([1, 3], 0),
           lambda a: tuple(np.split(a, [1], 0)), [((4, 2),)]),
    OpCase("split_one_used", lambda L, a: a.split(2)[1] * 3, lambda a: a[2:4] * 3, [((5,),)]),
    OpCase("chunk", lambda L, a: a.chunk(3, -1), lambda a: tuple(np.split(a, [2, 4], -1)),
           [((2, 5),)]),
    OpCase("unbind", lambda L, a: a.unbind(1), lambda a: tuple(np.moveaxis(a, 1, 0)),
           [((2, 3),)]),
    OpCase("unbind_partial", lambda L, a: L.unbind(a)[0] * 2, lambda a: a[0] * 2,
           [((3, 2),)]),
    OpCase("tensor_split_n", lambda L, a: L.tensor_split(a, 3),
           lambda a: tuple(np.array_split(a, 3)), [((7,),)]),
    OpCase("tensor_split_idx", lambda L, a: a.tensor_split([1, 4], dim=1),
           lambda a: tuple(np.split(a, [1, 4], 1)), [((2, 5),)]),
    OpCase("hsplit", lambda L, a: L.hsplit(a, 2), lambda a: tuple(np.hsplit(a, 2)),
           [((2, 4),)]),
    OpCase("vsplit", lambda L, a: L.vsplit(a, [1]), lambda a: tuple(np.vsplit(a, [1])),
           [((3, 2),)]),
    OpCase("atleast_1d", lambda L, a: L.atleast_1d(a), np.atleast_1d, [((),), ((2, 3),)]),
    OpCase("atleast_2d", lambda L, a: L.atleast_2d(a), np.atleast_2d, [((),), ((3,),)]),
    OpCase("atleast_3d", lambda L, a, b: L.atleast_3d(a, b),
           lambda a, b: tuple(np.atleast_3d(a, b)), [((3,), (2, 3)), ((), (2, 2, 2))]),
    OpCase("meshgrid_ij", lambda L, a, b: L.meshgrid(a, b, indexing="ij"),
           lambda a, b: tuple(np.meshgrid(a, b, indexing="ij")), [((3,), (2,))]),
    OpCase("meshgrid_xy", lambda L, a, b, c: L.meshgrid([a, b, c], indexing="xy"),
           lambda a, b, c: tuple(np.meshgrid(a, b, c, indexing="xy")), [((3,), (2,), (4,))]),
    OpCase("cartesian_prod", lambda L, a, b: L.cartesian_prod(a, b),
           lambda a, b: np.stack([g.ravel() for g in np.meshgrid(a, b, indexing="ij")], 1),
           [((3,), (2,))]),
    # rearranging copies
    OpCase("flip", lambda L, a: a.flip(0, -1), lambda a: np.flip(a, (0, -1)),
           [((2, 3),), ((2, 3, 2),)]),
    OpCase("flip_1d", lambda L, a: a.flip(0), lambda a: np.flip(a, 0), [((3,),), ((0,),)]),
    OpCase("flip_nc", lambda L, a: L.flip(_nc(L, a), [1]), lambda a: np.flip(a.T, 1),
           [((3, 4),)]),
    OpCase("fliplr", lambda L, a: L.fliplr(a), np.fliplr, [((2, 3),)]),
    OpCase("flipud", lambda L, a: a.flipud(), np.flipud, [((2, 3),), ((3,),)]),
    OpCase("roll", lambda L, a: a.roll(1, 0), lambda a: np.roll(a, 1, 0), [((3, 2),)]),
    OpCase("roll_flat", lambda L, a: L.roll(a, -2), lambda a: np.roll(a, -2), [((2, 3),)]),
    OpCase("roll_multi", lambda L, a: a.roll((1, 2), (0, 1)),
           lambda a: np.roll(a, (1, 2), (0, 1)), [((2, 3),)]),
    OpCase("rot90", lambda L, a: a.rot90(), lambda a: np.rot90(a), [((2, 3),)]),
    OpCase("rot90_k", lambda L, a: L.rot90(a, -3, [2, 0]), lambda a: np.rot90(a, -3, (2, 0)),
           [((2, 3, 2),)]),
    OpCase("repeat", lambda L, a: a.repeat(2, 1, 3), lambda a: np.tile(a, (2, 1, 3)),
           [((2, 3),), ((),)]),
    OpCase("repeat_nc", lambda L, a: _nc(L, a).repeat(1, 2), lambda a: np.tile(a.T, (1, 2)),
           [((2, 3),)]),
    OpCase("tile", lambda L, a: a.tile((2,)), lambda a: np.tile(a, (1, 2)), [((2, 3),)]),
    OpCase("repeat_interleave", lambda L, a: a.repeat_interleave(2, dim=0),
           lambda a: np.repeat(a, 2, 0), [((2, 3),)]),
    OpCase("repeat_interleave_t", lambda L, a: L.repeat_interleave(a, _i(L, [1, 0, 2])),
           lambda a: np.repeat(a, [1, 0, 2]), [((3,),)]),
    OpCase("repeat_interleave_flat", lambda L, a: L.repeat_interleave(a, 2),
           lambda a: np.repeat(a.reshape(-1), 2), [((2, 2),)]),
    # indexing-style ops
    OpCase("narrow", lambda L, a: a.narrow(1, 1, 2), lambda a: a[:, 1:3], [((2, 4),)]),
    OpCase("narrow_neg", lambda L, a: L.narrow(a, -1, -2, 2), lambda a: a[..., 2:4],
           [((2, 4),)]),
    OpCase("select", lambda L, a: a.select(1, -1), lambda a: a[:, -1], [((2, 3),)]),
    OpCase("index_select", lambda L, a: a.index_select(1, _i(L, [2, 0, 2])),
           lambda a: a[:, [2, 0, 2]], [((2, 3),)]),
    OpCase("index_select_0d", lambda L, a: L.index_select(a, 0, _i(L, [0])), lambda a: a,
           [((),)]),
    OpCase("masked_select", lambda L, a: a.masked_select(_m(L, [True, False, True])),
           lambda a: a[:, [0, 2]].reshape(-1), [((2, 3),)]),
    OpCase("masked_select_bcast", lambda L, a: L.masked_select(a, _m(L, [[True], [False]])),
           lambda a: np.broadcast_to(a, (2, 3))[0], [((3,),)]),
    OpCase("masked_fill", lambda L, a: a.masked_fill(_m(L, [True, False, True]), 2.5),
           lambda a: np.where([True, False, True], 2.5, a), [((2, 3),)]),
    OpCase("masked_fill_t", lambda L, a, v: L.masked_fill(a, a > 0, v),
           lambda a, v: np.where(a > 0, v, a), [((2, 3), ())]),
    OpCase("masked_scatter",
           lambda L, a, s: a.masked_scatter(_m(L, [[True, False, True], [False, True, False]]),
                                            s),
           lambda a, s: np.where([[1, 0, 1], [0, 1, 0]], [[s[0], 0, s[1]], [0, s[2], 0]], a),
           [((2, 3), (4,))]),
    OpCase("gather", lambda L, a: a.gather(0, _i(L, IDX_DUP)),
           lambda a: np.take_along_axis(a, IDX_DUP, 0), [((3, 3),)]),
    OpCase("gather_small", lambda L, a: L.gather(a, 1, _i(L, [[1], [0]])),
           lambda a: a[[0, 1], [1, 0]][:, None], [((2, 3),)]),
    OpCase("gather_nc", lambda L, a: _nc(L, a).gather(1, _i(L, [[1, 1], [0, 2], [2, 0]])),
           lambda a: np.take_along_axis(a.T, np.array([[1, 1], [0, 2], [2, 0]]), 1),
           [((3, 3),)]),
    OpCase("take_along_dim", lambda L, a: L.take_along_dim(a, _i(L, [[0], [2]]), 1),
           lambda a: a[[0, 1], [0, 2]][:, None], [((2, 3),)]),
    OpCase("take_along_dim_bcast", lambda L, a: a.take_along_dim(_i(L, [[1], [0]]), 0),
           lambda a: np.take_along_axis(a, np.broadcast_to([[1], [0]], (2, 3)), 0),
           [((2, 3),)]),
    OpCase("take_along_dim_flat", lambda L, a: a.take_along_dim(_i(L, [5, 0])),
           lambda a: a.reshape(-1)[[5, 0]], [((2, 3),)]),
    OpCase("scatter_src", lambda L, a, s: a.scatter(0, _i(L, IDX), s),
           lambda a, s: _scatter_reduce_ref(a, IDX, s, "sum", False), [((3, 3), (2, 3))]),
    OpCase("scatter_big_src", lambda L, a, s: L.scatter(a, 1, _i(L, [[2], [0]]), s),
           lambda a, s: _scatter_reduce_ref(a, np.array([[2], [0]]), s, "sum", False, 1),
           [((2, 3), (3, 4))],
           torch={"grad": False}),  # PyTorch's backward rejects a src larger than index
    OpCase("scatter_value", lambda L, a: a.scatter(0, _i(L, IDX), 1.5),
           lambda a: _scatter_reduce_ref(a, IDX, np.full((2, 3), 1.5), "sum", False),
           [((3, 3),)]),
    OpCase("scatter_add", lambda L, a, s: a.scatter_add(0, _i(L, IDX_DUP), s),
           lambda a, s: _scatter_reduce_ref(a, IDX_DUP, s, "sum", True), [((3, 3), (2, 3))]),
    OpCase("scatter_reduce_add", lambda L, a, s: a.scatter(0, _i(L, IDX_DUP), s, reduce="add"),
           lambda a, s: _scatter_reduce_ref(a, IDX_DUP, s, "sum", True), [((3, 3), (2, 3))],
           grad=False),
    *[OpCase(f"scatter_reduce_{how}_{inc}",
             lambda L, a, s, how=how, inc=inc: a.scatter_reduce(0, _i(L, IDX_DUP), s, how,
                                                                include_self=inc),
             lambda a, s, how=how, inc=inc: _scatter_reduce_ref(a, IDX_DUP, s, how, inc),
             [((3, 3), (2, 3))], domain=(0.5, 2.0) if how == "prod" else (-2.0, 2.0),
             # PyTorch's double backward of prod without self has a shape bug.
             torch={"gradgrad": False} if (how, inc) == ("prod", False) else None)
      for how in ("sum", "prod", "mean", "amax", "amin") for inc in (True, False)],
    *[OpCase(f"scatter_reduce_prod_zeros_{inc}",
             lambda L, a, s, inc=inc: a.scatter_reduce(0, _i(L, IDX_DUP), s, "prod",
                                                       include_self=inc),
             lambda a, s, inc=inc: _scatter_reduce_ref(a, IDX_DUP, s, "prod", inc),
             [((3, 3), (2, 3))], make=_with_zeros, gradgrad=False)
      for inc in (True, False)],
    OpCase("index_add", lambda L, a, s: a.index_add(0, _i(L, [0, 2, 0]), s, alpha=2.0),
           lambda a, s: a + 2 * np.stack([s[0] + s[2], 0 * s[0], s[1]]), [((3, 2), (3, 2))]),
    OpCase("index_copy", lambda L, a, s: a.index_copy(1, _i(L, [2, 0]), s),
           lambda a, s: np.stack([s[:, 1], a[:, 1], s[:, 0]], 1), [((2, 3), (2, 2))]),
    OpCase("index_fill", lambda L, a: a.index_fill(1, _i(L, [0, 2]), -1.0),
           lambda a: np.stack([-np.ones(2), a[:, 1], -np.ones(2)], 1), [((2, 3),)]),
    OpCase("index_fill_t", lambda L, a, v: L.index_fill(a, 0, _i(L, [1]), v),
           lambda a, v: np.stack([a[0], np.full(3, v)]), [((2, 3), ())]),
    OpCase("index_put", lambda L, a, v: a.index_put((_i(L, [0, 1]), _i(L, [2, 0])), v),
           lambda a, v: _put(a, ([0, 1], [2, 0]), v), [((2, 3), (2,)), ((2, 3), ())]),
    OpCase("index_put_acc", lambda L, a, v: a.index_put((_i(L, [0, 0]),), v, accumulate=True),
           lambda a, v: a + np.stack([2 * v, 0 * v]), [((2, 3), (3,))]),
    OpCase("take", lambda L, a: a.take(_i(L, [[0, 5], [-1, 2]])),
           lambda a: a.reshape(-1)[[[0, 5], [-1, 2]]], [((2, 3),)]),
    OpCase("take_nc", lambda L, a: L.take(_nc(L, a), _i(L, [1, 1, 4])),
           lambda a: a.T.reshape(-1)[[1, 1, 4]], [((2, 3),)]),
    OpCase("put", lambda L, a, s: a.put(_i(L, [4, 0]), s),
           lambda a, s: _put(a.reshape(-1), [4, 0], s).reshape(a.shape), [((2, 3), (2,))]),
    OpCase("put_acc", lambda L, a, s: L.put(a, _i(L, [4, 4]), s, accumulate=True),
           lambda a, s: a + np.eye(1, 6, 4).reshape(2, 3) * s.sum(), [((2, 3), (2,))]),
    # getitem
    OpCase("getitem_neg_int", lambda L, a: a[-1, 1], lambda a: a[-1, 1], [((3, 4),)]),
    OpCase("getitem_oob_slice", lambda L, a: a[1:10, -10:2], lambda a: a[1:10, -10:2],
           [((3, 4),)]),
    OpCase("getitem_empty_slice", lambda L, a: a[2:1], lambda a: a[2:1], [((3, 4),)]),
    OpCase("getitem_step", lambda L, a: a[::2, 1::2], lambda a: a[::2, 1::2], [((5, 4),)]),
    OpCase("getitem_tensor_idx", lambda L, a: a[_i(L, [[0, 1], [2, 2]])],
           lambda a: a[[[0, 1], [2, 2]]], [((3, 2),)]),
    OpCase("getitem_adv_sep", lambda L, a: a[[0, 1], :, [1, 0]],
           lambda a: a[[0, 1], :, [1, 0]], [((2, 3, 2),)]),
    OpCase("getitem_adv_adj", lambda L, a: a[:, [0, 1], [1, 0]],
           lambda a: a[:, [0, 1], [1, 0]], [((2, 3, 2),)]),
    OpCase("getitem_bool_list", lambda L, a: a[[True, False, True]],
           lambda a: a[[True, False, True]], [((3, 2),)]),
    OpCase("getitem_mask2d", lambda L, a: a[_m(L, [[True, False], [False, True], [1, 1]])],
           lambda a: a[np.array([[1, 0], [0, 1], [1, 1]], bool)], [((3, 2),)]),
    OpCase("getitem_0d", lambda L, a: a[...] * a[None], lambda a: a * a[None], [((),)]),
    OpCase("getitem_nc", lambda L, a: _nc(L, a)[1:, [0, 0]], lambda a: a.T[1:, [0, 0]],
           [((2, 3),)]),
    OpCase("getitem_empty", lambda L, a: a[_i(L, [], )], lambda a: a[np.array([], int)],
           [((3, 2),)]),
]


def _put(a, idx, v):
    out = a.copy()
    out[idx] = v
    return out




# ---------------------------------------------------------------------- behaviour vs torch

SAME_AS_TORCH = [
    lambda L: L.cat([L.ones(2), L.ones(2, dtype=L.float64)]).dtype,
    lambda L: L.cat([L.ones(2, dtype=L.int64), L.ones(2)]).dtype,
    lambda L: L.stack([L.tensor([1,2]), L.tensor([3,4])]),
    lambda L: [t.shape for t in L.zeros(0,3).split(2)],
    lambda L: [t.shape for t in L.zeros(5,3).chunk(4)],
    lambda L: [t.shape for t in L.zeros(6).chunk(4)],
    lambda L: [t.shape for t in L.zeros(0).chunk(3)],
    lambda L: L.arange(6).reshape(2,3)[L.tensor(1)].grad_fn,
    lambda L: (L.arange(6.).reshape(2,3).requires_grad_()*1)[L.tensor(1)].grad_fn.name(),
    lambda L: L.tensor([[1,2],[3,4]]).repeat_interleave(L.tensor([1,2]), dim=0),
    lambda L: L.repeat_interleave(L.tensor([2,1])),
    lambda L: L.tensor([3,1,2,1]).unique(sorted=True, return_inverse=True),
    lambda L: L.arange(6).reshape(2,3).flip(-1),
    lambda L: L.arange(6).reshape(2,3).roll(1),
    lambda L: L.arange(6).reshape(2,3).T.contiguous().view(-1),
    lambda L: L.arange(24).reshape(2,3,4).movedim((0,2),(2,0)).shape,
    lambda L: L.arange(6).reshape(2, 3).index_put((L.tensor([0, 0]), L.tensor([1, 1])),
                                                   L.tensor(5), accumulate=True),
    lambda L: L.arange(6.).reshape(2, 3).scatter_reduce(
        1, L.tensor([[0, 0], [1, 1]]), L.tensor([[5., 1], [2, 9]]), "mean", include_self=False),
    lambda L: L.arange(6).reshape(2, 3).scatter_reduce(
        1, L.tensor([[0, 0], [1, 1]]), L.tensor([[5, 1], [2, 9]]), "mean"),
    lambda L: L.arange(6).reshape(2, 3).scatter_reduce(
        1, L.tensor([[0, 0], [1, 1]]), L.tensor([[5, 1], [2, 9]]), "amax", include_self=False),
    lambda L: L.arange(6).reshape(2,3).masked_fill(L.tensor([True,False,True]), 7),
    lambda L: L.arange(6.).reshape(2,3).masked_fill(L.tensor([True,False,True]), L.tensor(7)),
    lambda L: L.arange(6).reshape(2,3).masked_fill(L.tensor([True,False,True]), 7.5),
    lambda L: L.arange(4.)[L.tensor([True, False, True, False])],
    lambda L: L.arange(4.)[[True, False, True, False]],
    lambda L: L.arange(12.).reshape(3,4)[1:, L.tensor([[0],[1]])].shape,
    lambda L: L.arange(12.).reshape(3,4)[None, ..., None].shape,
    lambda L: L.arange(12.).reshape(3,4)[5:9].shape,
    lambda L: L.arange(3.)[True].shape,
    lambda L: L.arange(6).reshape(2,3).take_along_dim(L.tensor([[0],[2]]), dim=1),
    lambda L: L.atleast_2d(L.tensor(1.), L.tensor([1.,2])),
    lambda L: L.tensor([1,2,3]).view(3,1).expand(3,2).contiguous().stride(),
    lambda L: L.tensor([[1,2],[3,4]]).t().is_contiguous(),
    lambda L: L.zeros(2,3).unflatten(-1, (-1, 1)).shape,
    lambda L: L.zeros(2,3).squeeze(0).shape,
    lambda L: L.zeros(1,3,1).squeeze((0,1)).shape,
    lambda L: L.zeros(2,3).H.shape,
    lambda L: L.zeros(2,3,4).T.shape,
    lambda L: L.meshgrid(L.tensor([1,2]), L.tensor([3,4,5])),
    lambda L: L.cartesian_prod(L.tensor([1,2]), L.tensor([3,4]), L.tensor([5])),
    lambda L: L.zeros(2,3).tensor_split(L.tensor([1]), dim=1)[1].shape,
    lambda L: L.zeros(2,3).tensor_split(L.tensor(2), dim=1)[1].shape,
    lambda L: L.zeros(3,4).index_select(0, L.tensor(1)).shape,
    lambda L: L.zeros(2,3).nonzero(as_tuple=True),
    lambda L: L.arange(6.).reshape(2,3).put(L.tensor([-1]), L.tensor([9.])),
    lambda L: L.arange(6.).reshape(2,3)[:, ::2].narrow(1, -1, 1),
    lambda L: L.arange(6.).reshape(2,3).split(2, dim=-1)[1],
    lambda L: L.column_stack([L.arange(3.), L.arange(3.)]),
    lambda L: L.hstack([L.zeros(2,3), L.zeros(2,1)]).shape,
    lambda L: L.broadcast_shapes((2,1),(3,)),
    lambda L: L.gather(L.tensor(5.), 0, L.tensor(0)),
    lambda L: L.tensor(5.).index_select(0, L.tensor([0])),
    lambda L: L.tensor(5.).take(L.tensor([0, 0])),
    lambda L: L.tensor(5.).flip(0),
]


def _show(r):
    return [repr(x) for x in r] if isinstance(r, (tuple, list)) else repr(r)


@pytest.mark.parametrize("k", range(len(SAME_AS_TORCH)))
def test_results_print_like_torch(k):
    """dtype promotion, shapes, strides, node names and printed values equal PyTorch's."""
    import retrograd

    fn = SAME_AS_TORCH[k]
    assert _show(fn(retrograd)) == _show(fn(torch))
