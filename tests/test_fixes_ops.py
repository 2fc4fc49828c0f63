"""Fixes from the op-database and "nothing silently wrong" issues, each checked against
torch (the oracle): 0-d self in the index/scatter family, out= everywhere, dtype checks,
half-precision accumulation, and PyTorch's errors instead of NumPy's."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import retrograd

torch = pytest.importorskip("torch")

LIBS = (torch, retrograd)


def _value(r):
    if isinstance(r, (torch.Tensor, retrograd.Tensor)):
        return (str(r.dtype), tuple(r.shape), r.detach().double().numpy().tolist())
    if isinstance(r, tuple):
        return tuple(_value(x) for x in r)
    return r


def both(fn):
    """Run ``fn(L)`` for torch and retrograd; each gives a value or (error class, message)."""
    out = []
    for L in LIBS:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out.append(("ok", _value(fn(L))))
        except Exception as e:
            out.append((type(e), str(e)))
    return out


def same(fn, rtol=1e-4):
    t, r = both(fn)
    assert t[0] == r[0], (t, r)
    if t[0] == "ok":
        _close(t[1], r[1], rtol)
    return r


def _close(a, b, rtol):
    if isinstance(a, tuple) and len(a) == 3 and isinstance(a[0], str):
        assert a[0] == b[0] and a[1] == b[1], (a, b)
        np.testing.assert_allclose(np.asarray(b[2], float), np.asarray(a[2], float), rtol=rtol,
                                   atol=1e-6, equal_nan=True)
    elif isinstance(a, tuple):
        assert len(a) == len(b), (a, b)
        for x, y in zip(a, b):
            _close(x, y, rtol)
    else:
        assert a == b, (a, b)


def raises_like_torch(fn, text=None):
    """Both raise the same class; ours contains torch's message (or ``text``)."""
    t, r = both(fn)
    assert t[0] is not str and isinstance(t[0], type), t
    assert r[0] is t[0], (t, r)
    assert (text or t[1]) in r[1], (t, r)


def grad(L, f, x, dtype=None):
    x = L.tensor(x, requires_grad=True, dtype=dtype)
    f(x).sum().backward()
    return x.grad


# ---------------------------------------------------------------------- 0-d self

ZERO_D = {
    "index_add": lambda L: L.tensor(1.).index_add(0, L.tensor([0]), L.tensor(2.)),
    "index_add_alpha": lambda L: L.tensor(1.).index_add(-1, L.tensor([0]), L.tensor(2.),
                                                        alpha=3),
    "index_fill": lambda L: L.tensor(1.).index_fill(0, L.tensor([0]), 5.),
    "index_copy": lambda L: L.tensor(1.).index_copy(0, L.tensor([0]), L.tensor(3.)),
    "scatter": lambda L: L.tensor(1.).scatter(0, L.tensor(0), L.tensor(3.)),
    "scatter_value": lambda L: L.tensor(1.).scatter(0, L.tensor(0), 4.),
    "scatter_1d_index": lambda L: L.tensor(1.).scatter(0, L.tensor([0]), L.tensor([3.])),
    "scatter_add": lambda L: L.tensor(1.).scatter_add(0, L.tensor([0, 0]), L.tensor([3., 4.])),
    "scatter_reduce_prod": lambda L: L.tensor(2.).scatter_reduce(0, L.tensor(0), L.tensor(3.),
                                                                 "prod"),
    "scatter_reduce_amax": lambda L: L.tensor(1.).scatter_reduce(0, L.tensor([0]),
                                                                 L.tensor([3.]), "amax"),
    "scatter_reduce_mean": lambda L: L.tensor(1.).scatter_reduce(
        0, L.tensor(0), L.tensor(3.), "mean", include_self=False),
    "masked_select": lambda L: L.tensor(1.).masked_select(L.tensor(True)),
    "masked_select_false": lambda L: L.tensor(1.).masked_select(L.tensor(False)),
    "getitem_mask": lambda L: (lambda x: x[x > 0])(L.tensor(1.)),
    "getitem_mask_empty": lambda L: (lambda x: x[x > 0])(L.tensor(-1.)),
    "index_add_bad_source": lambda L: L.tensor(1.).index_add(0, L.tensor([0]), L.tensor([2.])),
    "index_add_bad_index": lambda L: L.tensor(1.).index_add(0, L.tensor([1]), L.tensor(2.)),
}


@pytest.mark.parametrize("name", sorted(ZERO_D))
def test_zero_dim_self_matches_torch(name):
    same(ZERO_D[name])


def test_zero_dim_mask_index_gradient():
    same(lambda L: grad(L, lambda x: x[x > 0] * 3, 2.))
    same(lambda L: grad(L, lambda x: x.index_add(0, L.tensor([0]), x * 2), 2.))
    same(lambda L: grad(L, lambda x: x.scatter(0, L.tensor(0), x * 5) + x, 2.))


# ---------------------------------------------------------------------- index/scatter checks

CHECKS = {
    "index_add_shape": lambda L: L.zeros(3, 2).index_add(0, L.tensor([0, 1]), L.ones(2, 3)),
    "index_add_rank": lambda L: L.zeros(3, 2).index_add(0, L.tensor([0, 1]), L.ones(2, 2, 1)),
    "index_add_count": lambda L: L.zeros(3, 2).index_add(0, L.tensor([0, 1]), L.ones(3, 2)),
    "index_copy_shape": lambda L: L.zeros(3, 2).index_copy(0, L.tensor([0, 1]), L.ones(2, 3)),
    "index_copy_rank": lambda L: L.zeros(3, 2).index_copy(0, L.tensor([0, 1]), L.ones(2, 2, 1)),
    "scatter_dtype": lambda L: L.zeros(3).scatter(0, L.tensor([0]), L.ones(1, dtype=L.float64)),
    "scatter_add_dtype": lambda L: L.zeros(3).scatter_add(0, L.tensor([0]),
                                                          L.ones(1, dtype=L.float64)),
    "scatter_reduce_dtype": lambda L: L.zeros(3).scatter_reduce(
        0, L.tensor([0]), L.ones(1, dtype=L.float64), "sum"),
    "index_add_dtype": lambda L: L.zeros(3).index_add(0, L.tensor([0]),
                                                      L.ones(1, dtype=L.float64)),
    "index_copy_dtype": lambda L: L.zeros(3).index_copy(0, L.tensor([0]),
                                                        L.ones(1, dtype=L.float64)),
    "masked_scatter_dtype": lambda L: L.zeros(3).masked_scatter(
        L.tensor([True, False, True]), L.ones(3, dtype=L.float64)),
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_index_family_rejects_what_torch_rejects(name):
    raises_like_torch(CHECKS[name])


def test_index_add_matching_source_still_works():
    same(lambda L: L.zeros(3, 2).index_add(0, L.tensor([0, 0]), L.ones(2, 2), alpha=2))
    same(lambda L: L.zeros(3, 2).index_copy(1, L.tensor([1, 0]), L.arange(6.).reshape(3, 2)))


# ---------------------------------------------------------------------- out=

def _out_case(L, op, *args, out_dtype=None, out_shape=(0,), **kw):
    out = L.empty(out_shape, dtype=out_dtype or L.float32)
    res = op(L)(*args(L), out=out, **kw)
    assert (res is out) or isinstance(res, tuple)
    return out


OUT = {
    "gather": lambda L: _out_case(L, lambda L: L.gather,
                                  lambda L: (L.arange(6.).reshape(2, 3), 1, L.tensor([[0], [2]]))),
    "gather_resize": lambda L: _out_case(L, lambda L: L.gather, lambda L: (
        L.arange(6.).reshape(2, 3), 1, L.tensor([[0], [2]])), out_shape=(5,)),
    "gather_dtype": lambda L: _out_case(L, lambda L: L.gather, lambda L: (
        L.arange(6.).reshape(2, 3), 1, L.tensor([[0], [2]])), out_dtype=L.int64),
    "cat": lambda L: _out_case(L, lambda L: L.cat, lambda L: ([L.ones(2), L.zeros(1)],),
                               out_dtype=L.float64),
    "cat_dtype": lambda L: _out_case(L, lambda L: L.cat, lambda L: ([L.ones(2), L.zeros(1)],),
                                     out_dtype=L.int32),
    "stack": lambda L: _out_case(L, lambda L: L.stack, lambda L: ([L.ones(2), L.zeros(2)],)),
    "stack_dtype": lambda L: _out_case(L, lambda L: L.stack,
                                       lambda L: ([L.ones(2), L.zeros(2)],), out_dtype=L.int64),
    "sum_cast": lambda L: _out_case(L, lambda L: L.sum, lambda L: (L.arange(6.).reshape(2, 3), 0),
                                    out_dtype=L.int64),
    "cumsum": lambda L: _out_case(L, lambda L: L.cumsum, lambda L: (L.arange(4.), 0)),
    "tril_dtype": lambda L: _out_case(L, lambda L: L.tril, lambda L: (L.ones(2, 2),),
                                      out_dtype=L.int64),
    "zeros": lambda L: _out_case(L, lambda L: L.zeros, lambda L: (2, 3), out_dtype=L.bool),
    "zeros_dtype": lambda L: _out_case(L, lambda L: L.zeros, lambda L: (2,), dtype=L.float32,
                                       out_dtype=L.int64),
    "arange": lambda L: _out_case(L, lambda L: L.arange, lambda L: (4,), out_dtype=L.float64),
    "argmax_dtype": lambda L: _out_case(L, lambda L: L.argmax, lambda L: (L.ones(2, 2), 1)),
    "sort": lambda L: L.sort(L.tensor([3., 1., 2.]), out=(L.empty(0), L.empty(0, dtype=L.long))),
    "sort_dtype": lambda L: L.sort(L.tensor([3., 1.]), out=(L.empty(0), L.empty(0))),
    "max_dim": lambda L: L.max(L.tensor([[3., 1.]]), 1,
                               out=(L.empty(0), L.empty(0, dtype=L.long))),
    "requires_grad": lambda L: L.sum(L.ones(2, requires_grad=True), 0, out=L.empty(0)),
}


@pytest.mark.parametrize("name", sorted(OUT))
def test_out_is_written_with_torchs_checks(name):
    same(OUT[name])


def test_out_nonempty_resize_warns():
    out = retrograd.ones(5)
    with pytest.warns(UserWarning, match="was resized"):
        retrograd.cat([retrograd.ones(2), retrograd.zeros(1)], out=out)
    assert out.tolist() == [1.0, 1.0, 0.0]


def test_out_same_shape_keeps_memory():
    out = retrograd.zeros(3)
    before = out._data
    retrograd.cumsum(retrograd.ones(3), 0, out=out)
    assert out._data is before and out.tolist() == [1.0, 2.0, 3.0]


# ---------------------------------------------------------------------- shapes, keywords

def test_flip_dims_keyword():
    same(lambda L: L.flip(L.arange(4).reshape(2, 2), dims=(0,)))
    same(lambda L: L.arange(4).reshape(2, 2).flip(dims=[1]))
    same(lambda L: L.arange(4).reshape(2, 2).flip(0, 1))


# ---------------------------------------------------------------------- half precision

HALF = [1e4, -1e4, 0, 5]


@pytest.mark.parametrize("fn", [
    lambda L: L.tensor(HALF, dtype=L.float16).norm(),
    lambda L: L.tensor(HALF, dtype=L.float16).std(),
    lambda L: L.tensor(HALF, dtype=L.float16).var(),
    lambda L: L.linalg.vector_norm(L.tensor(HALF, dtype=L.float16), 3),
    lambda L: L.nn.functional.normalize(L.tensor([HALF], dtype=L.float16)),
    lambda L: L.tensor([6e4, 6e4, -6e4], dtype=L.float16).cumsum(0),
    lambda L: grad(L, lambda x: x.norm(), HALF, dtype=L.float16),
], ids=["norm", "std", "var", "vector_norm3", "normalize", "cumsum", "norm_grad"])
def test_half_reductions_accumulate_in_float32(fn):
    same(fn, rtol=2e-3)


def test_cumprod_zero_dim_gradient():
    same(lambda L: grad(L, lambda x: x.cumprod(0), 0.))
    same(lambda L: grad(L, lambda x: x.cumprod(0), 3.))


def test_unique_keeps_each_nan():
    t, r = both(lambda L: L.unique(L.tensor([float("nan"), 1.0, float("nan")]),
                                   return_inverse=True, return_counts=True))
    assert r[0] == "ok" and len(r[1][0][2]) == len(t[1][0][2]) == 3
    assert r[1][1] == t[1][1] and r[1][2] == t[1][2]


# ---------------------------------------------------------------------- creation errors

@pytest.mark.parametrize("fn", [
    lambda L: L.empty(2**62),
    lambda L: L.zeros(2**40, 2**40),
    lambda L: L.randint(5, 2, (3,)),
    lambda L: L.randint(5, 5, (3,)),
    lambda L: L.normal(0, -1, (3,)),
    lambda L: L.normal(L.zeros(3), -1.0),
    lambda L: L.normal(L.zeros(3), -L.ones(3)),
    lambda L: L.randperm(-1),
    lambda L: L.linspace(0, 1, -1),
    lambda L: L.eye(-1),
])
def test_creation_errors_are_torchs(fn):
    raises_like_torch(fn)
