"""Misuse that PyTorch refuses, refused alike (issues 13 and 17): the exception class matches
torch's (the oracle), the message names the op or is torch's own, and nothing is silently
computed. Each row runs under both libraries; where torch returns, retrograd must return the
same values.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_differential_fuzz import _same_class

import retrograd


def _f(L):
    return L.nn.functional


def _expanded(L, n):
    """A tensor whose n elements share one memory location."""
    return L.zeros(1).expand(n)


# (id, call(L), words the message must hold: the op's name or torch's own words)
REFUSED = [
    ("eq_number_input", lambda L: L.eq(2, L.tensor([1, 2])), "eq"),
    ("lt_two_numbers", lambda L: L.lt(2, 3), "lt"),
    ("bitwise_and_two_numbers", lambda L: L.bitwise_and(2, 3), "bitwise_and"),
    ("fmod_number_input", lambda L: L.fmod(2, L.tensor([1, 2])), "fmod"),
    ("rsub_number_input", lambda L: L.rsub(2, L.tensor([1, 2])), "rsub"),
    ("pow_two_numbers", lambda L: L.pow(2, 3), "pow"),
    ("clamp_max_number_input", lambda L: L.clamp_max(2, L.tensor([1, 2])), "clamp_max"),
    ("radd_unbound", lambda L: L.Tensor.__radd__(2, L.tensor([1])), "__radd__"),
    ("rmul_unbound", lambda L: L.Tensor.__rmul__(2, 3), "__rmul__"),
    ("rand_unbound", lambda L: L.Tensor.__rand__(2, L.tensor([1])), "__rand__"),
    ("cat_out_is_input", lambda L: (lambda a: L.cat([a, a], out=a))(L.ones(2)),
     "unsupported operation"),
    ("cat_out_expanded", lambda L: L.cat([L.ones(2), L.ones(2)], out=_expanded(L, 4)),
     "unsupported operation"),
    ("take_out_view_of_index", lambda L: (lambda i: L.take(L.ones(3), i[1:], out=i[:-1]))(
        L.tensor([0, 1, 2])), "unsupported operation"),
    ("index_select_out_expanded", lambda L: L.index_select(
        L.ones(3), 0, L.tensor([0]), out=_expanded(L, 3)), "unsupported operation"),
    ("masked_select_out_is_mask", lambda L: (lambda m: L.masked_select(m.clone(), m, out=m))(
        L.tensor([True, False])), "unsupported operation"),
    ("kthvalue_out_is_input", lambda L: (lambda t: L.kthvalue(
        t, 1, out=(t, L.empty((), dtype=L.int64))))(L.ones(3)), "unsupported operation"),
    ("take_out_dtype", lambda L: L.take(L.ones(3), L.tensor([0]),
                                        out=L.empty(1, dtype=L.float64)), "take"),
    ("complex_out_dtype", lambda L: L.complex(L.ones(2, dtype=L.float64),
                                              L.ones(2, dtype=L.float64),
                                              out=L.empty(2, dtype=L.complex64)),
     "ComplexDouble"),
    ("hsplit_zero_sections", lambda L: L.hsplit(L.ones(4, 4), 0), "hsplit"),
    ("hsplit_str", lambda L: L.hsplit(L.ones(4, 4), "ab"), "hsplit"),
    ("tensor_split_none", lambda L: L.tensor_split(L.ones(4), None), "tensor_split"),
    ("vstack_empty", lambda L: L.vstack([]), "vstack"),
    ("stack_empty", lambda L: L.stack([]), "stack"),
    ("linspace_float_steps", lambda L: L.linspace(0, 1, 3.0), "linspace"),
    ("logspace_1d_end", lambda L: L.logspace(0, L.tensor([1, 2]), 3), "logspace"),
    ("masked_fill_complex_into_float", lambda L: L.ones(2).masked_fill(L.tensor(True), 1j),
     "without overflow"),
    ("masked_fill_300_into_uint8", lambda L: L.zeros(2, dtype=L.uint8).masked_fill(
        L.tensor(True), 300), "without overflow"),
    ("masked_fill_inf_into_long", lambda L: L.zeros(2, dtype=L.int64).masked_fill(
        L.tensor(True), float("inf")), "without overflow"),
    ("fill_none", lambda L: L.ones(2).fill_(None), "fill_"),
    ("view_none", lambda L: L.ones(2).view(None), "view"),
    ("permute_float", lambda L: L.ones(2, 3).permute(1.5, 0), "permute"),
    ("permute_nothing", lambda L: L.ones(2).permute(), "permute"),
    ("repeat_nothing", lambda L: L.ones(2).repeat(), "repeat"),
    ("narrow_float_start", lambda L: L.ones(3).narrow(0, 1.5, 1), "narrow"),
    ("tril_float_diagonal", lambda L: L.ones(3, 3).tril(1.5), "tril"),
    ("squeeze_none", lambda L: L.ones(2, 1).squeeze(None), "squeeze"),
    ("max_none", lambda L: L.max(L.ones(2), None), "max"),
    ("prod_tuple", lambda L: L.ones(2, 3).prod((0, 1)), "prod"),
    ("logsumexp_none", lambda L: L.logsumexp(L.ones(2), None), "logsumexp"),
    ("full_int_size", lambda L: L.full(3, 1.0), "full"),
    ("add_tuple_alpha", lambda L: L.add(L.ones(2), L.ones(2), alpha=(2,)), "add"),
    ("amax_empty_before_repeated", lambda L: L.ones(0, 3).amax((0, 0)), "amax"),
    ("argmax_bool", lambda L: L.ones(2, dtype=L.bool).argmax(), "argmax"),
    ("lerp_long", lambda L: L.lerp(L.ones(2, dtype=L.int64), L.ones(2, dtype=L.int64), 2),
     "lerp"),
    ("topk_bool", lambda L: L.ones(3, dtype=L.bool).topk(1), "topk"),
    ("index_select_negative", lambda L: L.ones(3).index_select(0, L.tensor([-1])),
     "index out of range"),
    ("take_from_empty", lambda L: L.ones(0).take(L.tensor([0])), "take"),
    ("matmul_mixed", lambda L: L.ones(2, 3) @ L.ones(3, 2, dtype=L.float64), "dtype"),
    ("matmul_shapes_before_dtypes", lambda L: L.ones(2, 3) @ L.ones(4, 2, dtype=L.float64),
     "shapes cannot be multiplied"),
    ("matmul_bool", lambda L: L.ones(2, 3, dtype=L.bool) @ L.ones(3, 2, dtype=L.bool),
     "Bool"),
    ("dot_dtype_before_sizes", lambda L: L.dot(L.ones(3), L.ones(2, dtype=L.float64)),
     "dtype"),
    ("einsum_contracting_mixed", lambda L: L.einsum(
        "ij,jk->ik", L.ones(2, 3), L.ones(3, 2, dtype=L.float64)), "expected scalar type"),
    ("linear_mixed", lambda L: _f(L).linear(L.ones(2, 3), L.ones(4, 3, dtype=L.float64)),
     "dtype"),
    ("linear_0d", lambda L: _f(L).linear(L.tensor(1.0), L.tensor(1.0)), "linear"),
    ("mv_0d", lambda L: L.mv(L.tensor(1.0), L.tensor(1.0)), "no dimensions"),
    ("matmul_int_float", lambda L: L.ones(2, 3, dtype=L.int64) @ L.ones(3, 2), "dtype"),
    # PyTorch's argument parser: a TypeError naming the op, before any other check
    ("div_int_rounding_mode", lambda L: L.div(L.ones(2), L.ones(2), rounding_mode=0), "div"),
    ("pow_tuple", lambda L: L.pow(L.ones(2), (1,)), "pow"),
    ("mul__str", lambda L: L.ones(2).mul_("x"), "mul"),
    ("clamp_list", lambda L: L.clamp(L.ones(2), min=[0]), "clamp"),
    ("where_tuple_float_condition", lambda L: L.where(L.ones(2), L.ones(2), ()), "where"),
    ("lerp_tuple", lambda L: L.lerp(L.ones(2), L.ones(2), ()), "lerp"),
    ("std_str_dim_int_input", lambda L: L.ones(2, dtype=L.int64).std("x"), "std"),
    ("var_tuple_of_str", lambda L: L.var(L.ones(2), ("x",)), "var"),
    ("all_str", lambda L: L.ones(2).all("x"), "all"),
    ("argsort_tuple", lambda L: L.ones(2).argsort((0,)), "argsort"),
    ("argmax_tuple_bool", lambda L: L.ones(2, dtype=L.bool).argmax((0,)), "argmax"),
    ("sum_str", lambda L: L.ones(2).sum("x"), "sum()"),
    ("repeat_none", lambda L: L.ones(2).repeat(None), "repeat"),
    ("flip_none", lambda L: L.ones(2).flip(None), "flip"),
    ("split_none_0d", lambda L: L.ones(()).split(None), "split"),
    ("chunk_tuple", lambda L: L.ones(2).chunk(()), "chunk"),
    ("narrow_0d_tuple", lambda L: L.ones(()).narrow(0, (), 1), "narrow"),
    ("select_0d_tuple", lambda L: L.ones(()).select(0, ()), "select"),
    ("unbind_0d_tuple", lambda L: L.ones(()).unbind(()), "unbind"),
    ("movedim_0d_tuple_int", lambda L: L.ones(()).movedim((), 0), "movedim"),
    ("cat_0d_tuple_dim", lambda L: L.cat([L.ones(()), L.ones(())], ()), "cat"),
    ("one_hot_tuple", lambda L: _f(L).one_hot(L.ones(2), ()), "one_hot"),
    ("zeros_none", lambda L: L.zeros(None), "zeros"),
    ("ones_nested", lambda L: L.ones(2, ()), "ones"),
    ("arange_tuple", lambda L: L.arange(()), "arange"),
    ("eye_tuple", lambda L: L.eye(()), "eye"),
    ("ones_no_size", lambda L: L.ones(), "ones"),
    ("zeros_no_size", lambda L: L.zeros(), "zeros"),
    ("empty_no_size", lambda L: L.empty(), "empty"),
    ("rand_no_size", lambda L: L.rand(), "rand"),
    ("leaky_relu_list", lambda L: _f(L).leaky_relu(L.ones(2), [1]), "leaky_relu"),
    ("leaky_relu_list_int_input", lambda L: _f(L).leaky_relu(L.ones(2, dtype=L.int64), [1]),
     "leaky_relu"),
    ("gelu_int_approximate", lambda L: _f(L).gelu(L.ones(2), approximate=1), "gelu"),
    # the order of PyTorch's checks
    ("gelu_bool_bad_approximate", lambda L: _f(L).gelu(L.ones(2, dtype=L.bool),
                                                       approximate="x"), "approximate"),
    ("log_softmax_bool_bad_dim", lambda L: _f(L).log_softmax(L.ones(2, dtype=L.bool), 5),
     "Dimension out of range"),
    ("softmax_int", lambda L: _f(L).softmax(L.ones(2, dtype=L.int64), 0), "softmax"),
    ("softmin_bool", lambda L: _f(L).softmin(L.ones(0, dtype=L.bool), 0), "bool"),
    ("index_select_empty_dim", lambda L: L.ones(0, 2).index_select(0, L.tensor([0])),
     "self indexing axis dim should be positive"),
    ("index_select_empty_other_dim", lambda L: L.ones(2, 0).index_select(0, L.tensor([5])),
     "INDICES element is out of DATA bounds, id=5 axis_dim=2"),
    ("index_select_0d_two", lambda L: L.ones(()).index_select(0, L.tensor([0, 0])),
     "Index to scalar can have only 1 value, got 2"),
    ("getitem_count_before_bounds", lambda L: L.ones(0)[0, 1], "too many indices"),
    ("setitem_count_before_bounds", lambda L: L.ones(0).__setitem__((0, 1), 1.0),
     "too many indices"),
    ("getitem_ellipsis_too_many", lambda L: L.ones(3, 2)[..., 0, 0, 0], "too many indices"),
    ("getitem_str", lambda L: L.ones(3)["x"], "str"),
    ("copy_src_would_grow_self", lambda L: L.ones(0).copy_(L.ones(1, 1, 0)),
     "doesn't match the broadcast shape"),
    ("norm_str_dim_bool", lambda L: L.ones(2, dtype=L.bool).norm(dim="x"), "norm"),
    ("mean_str_dim_bool", lambda L: L.ones(2, dtype=L.bool).mean("x"), "mean"),
    ("round_str_decimals_bool", lambda L: L.ones(2, dtype=L.bool).round(decimals="x"),
     "round"),
    ("permute_count_before_range", lambda L: L.ones(2, 3).permute(0, 5, 1), "permute"),
    ("cross_entropy_bool_3d", lambda L: _f(L).cross_entropy(
        L.ones(2, 3, 4, dtype=L.bool), L.zeros(2, 4, dtype=L.int64)),
     '"log_softmax_kernel_impl" not implemented'),
    ("nll_loss_0d_float_target_empty_batch", lambda L: _f(L).nll_loss(
        L.ones(0, 0), L.tensor(1.0)), "expected target dtype"),
    ("scatter_empty_index_src_dtype", lambda L: L.zeros(2).scatter(
        0, L.zeros(1, 0, dtype=L.int64), L.ones(3, dtype=L.int64)), "dtype"),
    ("scatter_0d_src_2d_index", lambda L: L.zeros(2, 3).scatter(
        0, L.tensor([[0]]), L.tensor(4.0)), "src"),
]

RETURNS = [
    ("radd", lambda L: 2 + L.tensor([1, 2])),
    ("rand", lambda L: 6 & L.tensor([3, 5])),
    ("bitwise_and_number_input", lambda L: L.bitwise_and(6, L.tensor([3, 5]))),
    ("pow_number_base", lambda L: L.pow(2, L.tensor([1, 2]))),
    ("remainder_number_input", lambda L: L.remainder(7, L.tensor([3, 5]))),
    ("clamp_max_number", lambda L: L.clamp_max(L.tensor([1, 5]), 2)),
    ("rmod_unbound_tensor_other", lambda L: L.Tensor.__rmod__(2, L.tensor([3, 5]))),
    ("take_into_out", lambda L: L.take(L.arange(4.0), L.tensor([3, 0]), out=L.empty(2))),
    ("cat_into_fresh_out", lambda L: L.cat([L.ones(2), L.zeros(1)], out=L.empty(0))),
    ("masked_fill_fitting_complex_tensor", lambda L: L.ones(2).masked_fill(
        L.tensor(True), L.tensor(2 + 0j))),
    ("hsplit_0d_tensor_sections", lambda L: L.hsplit(L.arange(8.0).reshape(2, 4),
                                                     L.tensor(2))[1]),
    ("linspace_0d_tensor_ends", lambda L: L.linspace(L.tensor(0), L.tensor(1), 3)),
    ("topk_0d_k0", lambda L: L.tensor(2.0).topk(0).values),
    ("einsum_elementwise_mixed", lambda L: L.einsum(
        "ij,ij->ij", L.ones(2, 2), L.ones(2, 2, dtype=L.float64))),
    ("einsum_size1_contraction_mixed", lambda L: L.einsum(
        "ij,jk->ik", L.ones(3, 1), L.ones(1, 2, dtype=L.float64))),
    ("bmm_empty_mixed", lambda L: L.bmm(L.ones(1, 2, 2), L.ones(1, 2, 0, dtype=L.float64))),
    # an empty input skips softmax's dtype check; the result keeps the dtype
    ("softmax_empty_int", lambda L: _f(L).softmax(L.ones(2, 0, dtype=L.int64), 1)),
    ("log_softmax_empty_bool", lambda L: L.log_softmax(L.ones(0, dtype=L.bool), 0)),
    ("index_select_empty_other_dim_in_range", lambda L: L.ones(2, 0).index_select(
        0, L.tensor([1, 0]))),
    ("gather_empty_index", lambda L: L.ones(2).gather(0, L.zeros(1, 0, dtype=L.int64))),
    ("scatter_empty_index_any_rank", lambda L: L.arange(3.0).scatter(
        0, L.zeros(1, 0, dtype=L.int64), L.ones(3, 3))),
    ("scatter_0d_self_empty_index", lambda L: L.tensor(2.0).scatter(
        0, L.zeros(1, 0, dtype=L.int64), 1.0)),
    ("scatter_0d_index_into_vector", lambda L: L.zeros(2).scatter(0, L.tensor(1), 1.0)),
    ("scatter_0d_index_0d_src", lambda L: L.zeros(2).scatter(0, L.tensor(1), L.tensor(5.0))),
    ("scatter_add_0d_index", lambda L: L.zeros(2).scatter_add(0, L.tensor(1), L.ones(3))),
    ("one_hot_0d_tensor_classes", lambda L: _f(L).one_hot(L.tensor([0, 2]), L.tensor(3))),
    ("leaky_relu_tensor_slope", lambda L: _f(L).leaky_relu(L.tensor([-2.0, 1.0]),
                                                           L.tensor(0.5))),
    # no element: the default float dtype (not bool)
    ("tensor_empty_list", lambda L: L.tensor([])),
    ("tensor_empty_nested", lambda L: L.tensor([[], []])),
    ("tensor_empty_long", lambda L: L.tensor([], dtype=L.int64)),
    ("tensor_bools", lambda L: L.tensor([[True], [False]])),
    ("ones_0d", lambda L: L.ones(())),
    ("zeros_like_0d", lambda L: L.zeros_like(L.tensor(3.0))),
]


def _run(L, fn):
    try:
        return None, fn(L)
    except Exception as e:  # compared by class
        return e, None


@pytest.mark.parametrize("row", REFUSED, ids=lambda r: r[0])
def test_refused_alike(row) -> None:
    _, fn, words = row
    te, _ = _run(torch, fn)
    re_, out = _run(retrograd, fn)
    assert te is not None, "the row should be misuse for torch"
    assert re_ is not None, f"torch raised {te!r}; retrograd returned {out!r}"
    assert _same_class(re_, te), f"retrograd raised {re_!r}, torch {te!r}"
    assert words in str(re_), (str(re_), words)
    assert "numpy" not in str(re_).lower() and "ndarray" not in str(re_)


def test_reflected_dunders_answer_not_implemented_without_a_tensor() -> None:
    for name in ("__rsub__", "__rmod__", "__rpow__"):
        expected = getattr(torch.Tensor, name)(2, 3)
        assert expected is NotImplemented
        assert getattr(retrograd.Tensor, name)(2, 3) is NotImplemented, name


@pytest.mark.parametrize("row", RETURNS, ids=lambda r: r[0])
def test_accepted_alike(row) -> None:
    _, fn = row
    t = fn(torch)
    r = fn(retrograd)
    assert str(r.dtype) == str(t.dtype)
    assert tuple(r.shape) == tuple(t.shape)
    np.testing.assert_allclose(np.asarray(r.numpy()), t.numpy())


def test_einsum_backward_through_a_broadcast_empty_dim() -> None:
    """(2, 0) x (1, 1): b's size-1 j broadcasts against a's 0; both gradients exist."""
    grads = []
    for L in (torch, retrograd):
        a = L.ones(2, 0, requires_grad=True)
        b = L.ones(1, 1, requires_grad=True)
        L.einsum("ij,jk->ik", a, b).sum().backward()
        grads.append((a.grad, b.grad))
    for t, r in zip(grads[0], grads[1]):
        assert tuple(r.shape) == tuple(t.shape)
        np.testing.assert_allclose(r.numpy(), t.numpy())
