"""Fixes from the op-database and "nothing silently wrong" issues, each checked against
torch (the oracle): 0-d self in the index/scatter family, out= everywhere, dtype checks,
half-precision accumulation, and PyTorch's errors instead of NumPy's."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import retrograd

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


# ---------------------------------------------------------------------- linear algebra

_A = [[1., 2.], [3., 4.], [5., 7.]]
_B = [[1.], [2.], [4.]]
_RANK1 = [[1., 1.], [1., 1.], [1., 1.]]
_WIDE = [[1., 2., 3.], [3., 4., 5.]]


def _lstsq(a, b, driver):
    return lambda L: tuple(L.linalg.lstsq(L.tensor(a), L.tensor(b), driver=driver))


@pytest.mark.parametrize("driver", [None, "gelsy", "gelsd", "gelss", "gels"])
@pytest.mark.parametrize("case", ["tall", "rank1", "wide", "vector", "batch"])
def test_lstsq_outputs_per_driver(driver, case):
    a, b = {"tall": (_A, _B), "rank1": (_RANK1, _B), "wide": (_WIDE, [[1.], [2.]]),
            "vector": (_A, [1., 2., 4.]), "batch": ([_A, _RANK1], [_B, _B])}[case]
    t, r = both(_lstsq(a, b, driver))
    if t[0] != "ok":  # gels on a rank-deficient matrix
        assert issubclass(t[0], RuntimeError) and issubclass(r[0], RuntimeError), (t, r)
        assert t[1] == r[1]
        return
    _close(t[1], r[1], 1e-4)


def test_lstsq_rejects_what_torch_rejects():
    raises_like_torch(lambda L: L.linalg.lstsq(L.tensor(_A), L.tensor(_B), driver="foo"))
    raises_like_torch(lambda L: L.linalg.lstsq(L.tensor(_A), L.tensor(_B, dtype=L.float64)))


def test_lstsq_gradients():
    same(lambda L: grad(L, lambda a: L.linalg.lstsq(a, L.tensor(_B)).solution, _A))
    same(lambda L: grad(L, lambda a: L.linalg.lstsq(a, L.tensor(_B), driver="gelsd")
                        .residuals, _A))


@pytest.mark.parametrize("shape", [(2, 2), (2, 3), (3, 2)])
def test_nuclear_norm_gradient_at_zero(shape):
    same(lambda L: grad(L, lambda x: L.linalg.matrix_norm(x, "nuc"), np.zeros(shape).tolist()))


_W3 = [[1., -2., 3.], [0.5, 4., -1.], [2., 1., 1.]]


@pytest.mark.parametrize("a,w", [
    ([[1., 2.], [2., 4.], [3., 6.]], [[1., 2., 3.], [4., 5., 6.]]),
    ([[1., 2., 3.], [2., 4., 6.], [3., 6., 9.]], _W3),
    ([[1., 2., 3.], [2., 4., 6.], [1., 0., 1.]], _W3),
    ([[0.] * 3] * 3, _W3),
], ids=["3x2_rank1", "3x3_rank1", "3x3_rank2", "zero"])
def test_pinv_gradient_rank_deficient(a, w):
    same(lambda L: grad(L, lambda x: L.linalg.pinv(x) * L.tensor(w), a))
    same(lambda L: grad(L, lambda x: L.linalg.pinv(x) * L.tensor(w, dtype=L.float64), a,
                        dtype=L.float64))


@pytest.mark.parametrize("mode", ["reduced", "complete"])
def test_qr_backward_wide(mode):
    def f(L, x):
        q, r = L.linalg.qr(x, mode=mode)
        return q.sum() + (r * r).sum() + (q[:, :1] * r[:1]).sum()

    same(lambda L: grad(L, lambda x: f(L, x), [[1., 2., 3.], [4., 5., 7.]]))
    x = retrograd.randn(2, 2, 4, dtype=retrograd.float64, requires_grad=True)
    assert retrograd.autograd.gradcheck(lambda a: tuple(retrograd.linalg.qr(a, mode=mode)), (x,))


def test_qr_backward_tall_complete_is_runtime_error():
    raises_like_torch(lambda L: grad(L, lambda x: L.linalg.qr(x, mode="complete")[0],
                                     [[1., 2.], [4., 5.], [4., 7.]]))


@pytest.mark.parametrize("fn", [
    lambda L: L.bmm(L.ones(1, 2, 2, dtype=L.long), L.ones(1, 2, 2)),
    lambda L: L.mv(L.ones(2, 2, dtype=L.long), L.ones(2)),
    lambda L: L.dot(L.tensor([1, 2]), L.tensor([1., 2.])),
])
def test_products_do_not_promote(fn):
    t, r = both(fn)
    assert t[0] is RuntimeError and r[0] is RuntimeError, (t, r)


# ---------------------------------------------------------------------- float-only nn ops

F_INT = {
    "softmax": lambda L: L.nn.functional.softmax(L.tensor([1, 2]), 0),
    "log_softmax": lambda L: L.nn.functional.log_softmax(L.tensor([1, 2]), 0),
    "softmin": lambda L: L.nn.functional.softmin(L.tensor([1, 2]), 0),
    "torch_softmax": lambda L: L.softmax(L.tensor([1, 2]), 0),
    "method_log_softmax": lambda L: L.tensor([1, 2]).log_softmax(0),
    "gelu": lambda L: L.nn.functional.gelu(L.tensor([1, 2])),
    "silu": lambda L: L.nn.functional.silu(L.tensor([1, 2])),
    "elu": lambda L: L.nn.functional.elu(L.tensor([1, 2])),
    "selu": lambda L: L.nn.functional.selu(L.tensor([1, 2])),
    "celu": lambda L: L.nn.functional.celu(L.tensor([1, 2])),
    "leaky_relu": lambda L: L.nn.functional.leaky_relu(L.tensor([1, 2])),
    "softplus": lambda L: L.nn.functional.softplus(L.tensor([1, 2])),
    "mish": lambda L: L.nn.functional.mish(L.tensor([1, 2])),
    "logsigmoid": lambda L: L.nn.functional.logsigmoid(L.tensor([1, 2])),
    "hardswish": lambda L: L.nn.functional.hardswish(L.tensor([1, 2])),
    "hardsigmoid": lambda L: L.nn.functional.hardsigmoid(L.tensor([1, 2])),
    "hardshrink": lambda L: L.nn.functional.hardshrink(L.tensor([1, 2])),
    "softshrink": lambda L: L.nn.functional.softshrink(L.tensor([1, 2])),
    "glu": lambda L: L.nn.functional.glu(L.tensor([1, 2])),
    "rrelu": lambda L: L.nn.functional.rrelu(L.tensor([1, 2])),
    "layer_norm": lambda L: L.nn.functional.layer_norm(L.tensor([[1, 2]]), (2,)),
    "group_norm": lambda L: L.nn.functional.group_norm(L.tensor([[1, 2]]), 1),
    "rms_norm": lambda L: L.nn.functional.rms_norm(L.tensor([[1, 2]]), (2,)),
}


@pytest.mark.parametrize("name", sorted(F_INT))
def test_float_only_ops_reject_integers(name):
    raises_like_torch(F_INT[name], "not implemented for 'Long'")


@pytest.mark.parametrize("fn", [
    lambda L: L.softmax(L.tensor([1, 2]), 0, dtype=L.float32),
    lambda L: L.nn.functional.log_softmax(L.tensor([1, 2]), 0, dtype=L.float64),
    lambda L: L.nn.functional.relu(L.tensor([1, -2])),
    lambda L: L.nn.functional.hardtanh(L.tensor([1, -2])),
])
def test_integer_inputs_torch_accepts(fn):
    same(fn)


@pytest.mark.parametrize("fn", [
    lambda L: L.nn.functional.hardtanh(L.tensor([1.]), 2., 1.),
    lambda L: L.nn.functional.rrelu(L.tensor([-1.]), 0.5, 0.1, training=True),
    lambda L: L.nn.functional.rrelu(L.tensor([-1.]), 0.5, 0.1),
    lambda L: L.nn.functional.prelu(L.ones(2, 3), L.ones(3, 1)),
    lambda L: L.nn.functional.prelu(L.ones(2, 3), L.ones(1, 1)),
    lambda L: L.nn.functional.embedding(L.tensor([0]), L.ones(2, 3, 4)),
    lambda L: L.nn.functional.rms_norm(L.ones(2, 3), []),
    lambda L: L.nn.functional.layer_norm(L.ones(2, 3), ()),
])
def test_nn_inputs_torch_rejects(fn):
    raises_like_torch(fn)


# ---------------------------------------------------------------------- losses

def test_bce_of_saturated_sigmoid_has_torchs_finite_gradient():
    z = [-30., -104., -200., 30., 90., 200., 0.5]
    y = [1., 1., 1., 0., 0., 0., 1.]
    t, r = both(lambda L: grad(L, lambda x: L.nn.functional.binary_cross_entropy(
        L.sigmoid(x), L.tensor(y)), z))
    assert np.isfinite(r[1][2]).all()
    _close(t[1], r[1], 1e-4)


def test_bce_gradients_in_input_and_target():
    def f(L):
        p = L.tensor([0., 1., 0.3, 0.9], requires_grad=True)
        t = L.tensor([0.5, 0.2, 1., 0.], requires_grad=True)
        L.nn.functional.binary_cross_entropy(p, t, reduction="sum").backward()
        return p.grad, t.grad

    same(f)
    p = retrograd.tensor([0.2, 0.7], dtype=retrograd.float64, requires_grad=True)
    t = retrograd.tensor([0.4, 0.9], dtype=retrograd.float64, requires_grad=True)
    assert retrograd.autograd.gradcheck(
        lambda a, b: retrograd.nn.functional.binary_cross_entropy(a, b), (p, t))
    assert retrograd.autograd.gradgradcheck(
        lambda a, b: retrograd.nn.functional.binary_cross_entropy(a, b), (p, t))


_LOGITS = [[1., 2., 3.], [1., 0., -1.], [0.5, 0.2, 0.1], [2., 1., 0.]]


@pytest.mark.parametrize("kw", [
    {"target": [0, 1, 2, 1], "ignore_index": 1},
    {"target": [0, -100, 2, -100]},
    {"target": [2, 2, 2, 2], "ignore_index": 2},
    {"target": [0, 1, 2, 1], "ignore_index": 1, "label_smoothing": 0.2},
])
def test_cross_entropy_ignore_index_mean(kw):
    kw = dict(kw)
    target = kw.pop("target")
    same(lambda L: L.nn.functional.cross_entropy(L.tensor(_LOGITS), L.tensor(target), **kw))
    same(lambda L: grad(L, lambda x: L.nn.functional.cross_entropy(x, L.tensor(target), **kw),
                        _LOGITS))


def test_cross_entropy_weight_dtype_must_match():
    raises_like_torch(lambda L: L.nn.functional.cross_entropy(
        L.tensor(_LOGITS, dtype=L.float64), L.tensor([0, 1, 2, 1]), weight=L.ones(3)))


@pytest.mark.parametrize("a,b,dim", [
    ([[1., 2., 3.]], [[1.], [2.]], -1),
    ([[1., 2.], [3., 4.], [5., 6.]], [[[1., 0.], [0., 1.], [1., 1.]]], -2),
    ([[1., 2.], [3., 4.]], [[2., 1.]], 1),
])
def test_cosine_similarity_broadcasts_before_normalizing(a, b, dim):
    r = same(lambda L: L.nn.functional.cosine_similarity(L.tensor(a), L.tensor(b), dim=dim))
    assert (np.abs(np.asarray(r[1][2])) <= 1 + 1e-6).all()
    same(lambda L: grad(L, lambda x: L.nn.functional.cosine_similarity(x, L.tensor(b), dim=dim),
                        a))


def test_multilabel_margin_loss_counts_repeated_targets():
    x = [[0.1, 0.2, 0.4, 0.8], [0.3, -0.2, 0.5, 0.1]]
    t = [[3, 3, 0, -1], [1, 1, 1, 2]]
    same(lambda L: L.nn.functional.multilabel_margin_loss(L.tensor(x), L.tensor(t)))
    same(lambda L: grad(L, lambda v: L.nn.functional.multilabel_margin_loss(v, L.tensor(t)), x))


@pytest.mark.parametrize("margin", [0.0, -1.0])
def test_triplet_margin_loss_rejects_nonpositive_margin(margin):
    raises_like_torch(lambda L: L.nn.functional.triplet_margin_loss(
        L.ones(2, 3), L.ones(2, 3), L.zeros(2, 3), margin=margin))


# ---------------------------------------------------------------------- tensordot

@pytest.mark.parametrize("sa,sb,dims", [
    ((2, 1), (3, 4), ([1], [0])),
    ((2, 3), (1, 4), ([1], [0])),
    ((2, 1), (1, 4), 1),
    ((1, 2, 3), (3, 1, 5), ([0, 2], [1, 0])),
    ((2,), (3,), 0),
])
def test_tensordot_size_one_contracted_dims_broadcast(sa, sb, dims):
    a = np.arange(np.prod(sa), dtype=float).reshape(sa) + 1
    b = np.arange(np.prod(sb), dtype=float).reshape(sb) - 2
    same(lambda L: L.tensordot(L.tensor(a), L.tensor(b), dims=dims))
    same(lambda L: grad(L, lambda x: L.tensordot(x, L.tensor(b), dims=dims) ** 2, a))
    same(lambda L: grad(L, lambda y: L.tensordot(L.tensor(a), y, dims=dims) ** 2, b))


def test_tensordot_still_rejects_mismatched_sizes():
    raises_like_torch(lambda L: L.tensordot(L.ones(2, 2), L.ones(3, 4), dims=([1], [0])))
