"""nn.functional odds and ends checked against PyTorch: the exception class on misuse of
adaptive pooling, group norm and the margin losses, and the shapes they accept at the edges."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import arr, both, both_raise

import retrograd

# (expression on ``F`` and ``T``): each raises in PyTorch, and the same class here.
MISUSE = [
    "F.adaptive_avg_pool2d(T.ones(2, 2), (2, 2))",  # ValueError from the size defaults
    "F.adaptive_avg_pool3d(T.ones(2, 2, 2), (2, 2, 2))",
    "F.adaptive_max_pool2d(T.ones(3), (2, 2))",
    "F.adaptive_avg_pool2d(T.ones(2, 3, 4), (2,))",
    "F.adaptive_max_pool2d(T.ones(2, 3, 4, 5), ())",
    "F.adaptive_avg_pool1d(T.ones(2, 3, 4), ())",
    "F.adaptive_max_pool1d(T.ones(2, 3, 4), (1, 2))",
    "F.adaptive_max_pool1d(T.ones(4), (1,))",
    "F.adaptive_avg_pool1d(T.ones(2, 3, 4), (-1,))",
    "F.adaptive_max_pool3d(T.ones(1, 1, 1, 1, 1), (-1, 0, 2))",
    "F.adaptive_avg_pool2d(T.ones(2, 3, 0, 5), (1, 2))",
    "F.adaptive_max_pool2d(T.ones(2, 0, 4, 5), (1, 2))",
    "F.group_norm(T.ones(1), 1)",
    "F.group_norm(T.ones(1, 2), 2)",
    "F.group_norm(T.ones(2, 7, 4), 2)",
    "F.group_norm(T.ones(2, 6), -3)",
    "F.group_norm(T.ones(2, 6, 4), 2, T.ones(6, 1))",
    "F.group_norm(T.ones(2, 6, 4), 2, None, T.ones(5))",
    "F.multi_margin_loss(T.ones(5, 4), T.zeros(5).long(), reduction='abc')",
    "F.multi_margin_loss(T.ones(5, 0), T.zeros(5).long())",
    "F.multi_margin_loss(T.ones(0), T.zeros(5).long())",
    "F.multi_margin_loss(T.ones(2, 4), T.tensor([0, 4]))",
    "F.multi_margin_loss(T.ones(2, 4), T.tensor([[0], [1]]))",
    "F.multi_margin_loss(T.ones(2, 4), T.tensor([0., 1.]))",
    "F.multi_margin_loss(T.ones(2, 4), T.tensor([0, 1]), weight=T.ones(3))",
    "F.multi_margin_loss(T.ones(2, 4), T.tensor([0, 1]), weight=T.ones(4, 1))",
    "F.multilabel_margin_loss(T.ones(5, 4), T.zeros(5, 4).long(), reduction='abc')",
    "F.multilabel_margin_loss(T.ones(5, 0), T.zeros(5, 4).long())",
    "F.multilabel_margin_loss(T.ones(0), T.zeros(0).long())",
    "F.multilabel_margin_loss(T.ones(2, 4, 3), T.zeros(2, 4, 3).long())",
    "F.multilabel_margin_loss(T.ones(2, 4), T.zeros(2, 3).long())",
    "F.multilabel_margin_loss(T.ones(2, 4), T.tensor([[0, -1, 7, 0], [0, 1, 2, 3]]))",
]


@pytest.mark.parametrize("expr", MISUSE)
def test_misuse_raises_pytorchs_class(expr):
    both_raise(lambda lib: eval(expr, {"T": lib, "F": lib.nn.functional}))


# Accepted at the edges: an empty output size, an empty batch, None keeping a size.
EDGES = [
    "F.adaptive_max_pool2d(T.ones(2, 3, 4, 5), (1, 0))",
    "F.adaptive_max_pool1d(T.ones(2, 3, 4), (0,))",
    "F.adaptive_avg_pool3d(T.ones(1, 1, 1, 1, 1), (1, 0, 2))",
    "F.adaptive_avg_pool2d(T.ones(2, 0, 4, 5), (1, 2))",
    "F.adaptive_max_pool2d(T.ones(0, 4, 5), (1, 2))",
    "F.adaptive_avg_pool2d(T.ones(2, 3, 4, 5), (None, 2))",
    "F.group_norm(T.ones(0, 6), 3)",
    "F.multi_margin_loss(T.ones(0, 4), T.zeros(0).long(), reduction='none')",
    "F.multilabel_margin_loss(T.ones(0, 4), T.zeros(0, 4).long(), reduction='none')",
]


@pytest.mark.parametrize("expr", EDGES)
def test_edges_match_pytorch(expr):
    ours, theirs = both(lambda lib: eval(expr, {"T": lib, "F": lib.nn.functional}))
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(arr(ours), arr(theirs))  # NaN: the mean of nothing


def test_logit_takes_eps_positionally():
    ours, theirs = both(lambda lib: lib.logit(lib.tensor([0.05, 0.5, 0.97]), 0.1))
    np.testing.assert_allclose(arr(ours), arr(theirs), rtol=1e-6)
    ours, theirs = both(lambda lib: lib.tensor([0.05, 0.5, 0.97]).logit(0.1))
    np.testing.assert_allclose(arr(ours), arr(theirs), rtol=1e-6)


def test_normal_with_number_mean_takes_layout():
    ours, theirs = both(lambda lib: lib.normal(1.6, 0.3, [2, 3], dtype=lib.float64,
                                               layout=lib.strided, device="cpu"))
    assert tuple(ours.shape) == tuple(theirs.shape) == (2, 3)
    assert str(ours.dtype) == str(theirs.dtype)


LAZY = [
    ("LazyConv1d", (4, 3), (2, 5, 7)),
    ("LazyConvTranspose2d", (4, 3), (2, 5, 6, 6)),
    ("LazyLinear", (3,), (2, 4)),
    ("LazyBatchNorm1d", (), (3, 4)),
]


@pytest.mark.parametrize(("name", "args", "shape"), LAZY)
@pytest.mark.parametrize("cast", ["double", "to"])
def test_lazy_module_values_follow_a_cast_made_before_the_first_input(name, args, shape, cast):
    def run(lib):
        m = getattr(lib.nn, name)(*args)
        m = m.double() if cast == "double" else m.to(lib.float64)
        before = [str(p.dtype) for p in m.parameters()]
        m(lib.ones(shape, dtype=lib.float64))
        return before, [str(t.dtype) for t in (*m.parameters(), *m.buffers())]

    ours, theirs = both(run)
    assert ours == theirs
    assert ours[1] and set(ours[1]) <= {"torch.float64", "torch.int64"}


def test_lazy_module_made_with_a_dtype_reports_it_before_the_first_input():
    ours, theirs = both(lambda lib: lib.nn.LazyConv2d(4, 3, dtype=lib.float64).weight.dtype)
    assert str(ours) == str(theirs) == "torch.float64"


def test_native_layer_norm_matches_pytorch_with_and_without_weight():
    from retrograd.ops.native import native_layer_norm

    rng = np.random.default_rng(0)
    x, w, go = rng.standard_normal((4, 2, 3)), rng.standard_normal((2, 3)), \
        rng.standard_normal((4, 2, 3))
    for weight in (w, None):
        got = []
        for lib, fn in ((torch, torch.native_layer_norm), (retrograd, native_layer_norm)):
            xt = lib.tensor(x, requires_grad=True)
            wt = None if weight is None else lib.tensor(weight, requires_grad=True)
            outs = fn(xt, (2, 3), wt, None, 0.5)
            leaves = [xt] if wt is None else [xt, wt]
            grads = lib.autograd.grad(outs[0], leaves, lib.tensor(go))
            got.append([arr(t) for t in (*outs, *grads)])
        for a, b in zip(*got):
            np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)
    with pytest.raises(RuntimeError, match="same shape as normalized_shape"):
        native_layer_norm(retrograd.ones(1, 2, 3), (1, 2, 3), retrograd.ones(1, 2), None, 1e-5)


GRID_CASES = [(2, "bicubic", p, ac) for p in ("zeros", "border", "reflection")
              for ac in (False, True)] + \
    [(3, m, p, False) for m in ("bilinear", "nearest") for p in ("zeros", "reflection")] + \
    [(3, "bilinear", "border", True)]


@pytest.mark.parametrize(("nd", "mode", "padding", "ac"), GRID_CASES)
def test_grid_sample_bicubic_and_volumes_match_pytorch(nd, mode, padding, ac):
    """Values, first gradients (input and grid) and the grid's second derivative through
    the input gradient, against PyTorch; grid points reach outside [-1, 1]."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3) + (4, 5, 3)[:nd][::-1])
    grid = rng.uniform(-1.4, 1.4, (2,) + (3, 2, 4)[:nd] + (nd,))
    go = rng.standard_normal((2, 3) + (3, 2, 4)[:nd])
    v = rng.standard_normal(x.shape)
    got = []
    for lib in (torch, retrograd):
        xt, gt = lib.tensor(x, requires_grad=True), lib.tensor(grid, requires_grad=True)
        out = lib.nn.functional.grid_sample(xt, gt, mode=mode, padding_mode=padding,
                                            align_corners=ac)
        gx, gg = lib.autograd.grad(out, [xt, gt], lib.tensor(go), create_graph=True)
        res = [out, gx, gg]
        if mode != "nearest":
            res.append(lib.autograd.grad((gx * lib.tensor(v)).sum(), gt)[0])
        got.append([arr(t) for t in res])
    for a, b in zip(*got):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)


def test_grid_sampler_enums_and_misuse():
    x, g = np.random.default_rng(2).standard_normal((1, 2, 3, 3)), np.zeros((1, 2, 2, 2))
    ours, theirs = both(lambda lib: lib.grid_sampler_2d(lib.tensor(x), lib.tensor(g) + 0.3,
                                                        2, 1, True))
    np.testing.assert_allclose(arr(ours), arr(theirs), rtol=1e-12)
    both_raise(lambda lib: lib.grid_sampler_2d(lib.ones(1, 1, 2, 2, 2), lib.zeros(1, 1, 1, 1, 3),
                                               0, 0, False))
    both_raise(lambda lib: lib.nn.functional.grid_sample(
        lib.ones(1, 1, 2, 2, 2), lib.zeros(1, 1, 1, 1, 3), mode="bicubic", align_corners=False))
    both_raise(lambda lib: lib.nn.functional.grid_sample(
        lib.ones(1, 1, 2, 2), lib.zeros(1, 1, 1, 3), align_corners=False))
    both_raise(lambda lib: lib.nn.functional.grid_sample(
        lib.ones(1, 1, 0, 2), lib.zeros(1, 1, 1, 2), align_corners=False))


FRACTIONAL = [
    (2, (3, 3), {"output_size": (4, 5)}, (2, 3, 9, 8), np.float64),
    (2, 2, {"output_ratio": (0.5, 0.7)}, (3, 7, 9), np.float64),  # unbatched
    (2, (2, 1), {"output_size": 6}, (1, 2, 7, 7), np.float32),
    (3, 2, {"output_size": (2, 3, 2)}, (2, 3, 5, 5, 5), np.float64),
    (3, (1, 2, 3), {"output_ratio": (0.5, 0.5, 0.5)}, (1, 2, 6, 7, 8), np.float32),
]


@pytest.mark.parametrize(("nd", "k", "size", "shape", "dt"), FRACTIONAL)
def test_fractional_max_pool_matches_pytorch_for_given_samples(nd, k, size, shape, dt):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape).astype(dt)
    u = rng.random(((shape[0] if len(shape) == nd + 2 else 1), shape[-nd - 1], nd)).astype(dt)
    got = []
    for lib in (torch, retrograd):
        xt = lib.tensor(x, requires_grad=True)
        f = getattr(lib.nn.functional, f"fractional_max_pool{nd}d")
        out, idx = f(xt, k, return_indices=True, _random_samples=lib.tensor(u), **size)
        go = lib.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)).astype(dt))
        (g,) = lib.autograd.grad(out, xt, go)
        got.append((arr(out), arr(idx), arr(g), str(idx.dtype)))
    (o1, i1, g1, d1), (o2, i2, g2, d2) = got
    np.testing.assert_array_equal(o2, o1)
    np.testing.assert_array_equal(i2, i1)
    assert d1 == d2 == "torch.int64"
    np.testing.assert_allclose(g2, g1, rtol=1e-6, atol=1e-6)


def test_fractional_max_pool_module_and_misuse():
    u = retrograd.rand(1, 3, 2, dtype=retrograd.float64)
    m = retrograd.nn.FractionalMaxPool2d(2, output_ratio=0.5, _random_samples=u)
    assert list(m.state_dict()) == ["_random_samples"]
    assert tuple(m(retrograd.randn(1, 3, 6, 8, dtype=retrograd.float64)).shape) == (1, 3, 3, 4)
    both_raise(lambda lib: lib.nn.FractionalMaxPool2d(3))
    both_raise(lambda lib: lib.nn.FractionalMaxPool2d(3, output_size=2, output_ratio=0.5))
    both_raise(lambda lib: lib.nn.FractionalMaxPool3d(3, output_ratio=1.5))
    F = "nn.functional"
    for expr in ["F.fractional_max_pool2d(T.ones(1, 3, 9, 9), 3)",
                 "F.fractional_max_pool2d(T.ones(1, 3, 9, 9), 3, output_size=8)",
                 "F.fractional_max_pool2d(T.ones(1, 3, 9, 9), 3, output_ratio=0.5)",
                 "F.fractional_max_pool3d(T.ones(1, 1, 6, 6, 6), 1, output_size=(6, 5, 5))",
                 "F.fractional_max_pool2d(T.ones(9, 9), 3, output_size=2)",
                 "F.fractional_max_pool2d(T.ones(1, 3, 9, 9), 3, output_size=2, "
                 "_random_samples=T.rand(1, 3, 3))",
                 "F.fractional_max_pool2d(T.ones(1, 3, 9, 9), 3, output_size=2, "
                 "_random_samples=T.rand(1, 3, 2).double())"]:
        both_raise(lambda lib, e=expr: eval(e, {"T": lib, "F": eval(f"lib.{F}")}))


LCE = [  # (input shape, weight shape, target kind, kwargs, chunk rows or None)
    ((7, 5), (4, 5), "index", {}, None),
    ((7, 5), (4, 5), "index", {"reduction": "sum", "label_smoothing": 0.2}, 3),
    ((7, 5), (4, 5), "index", {"weight": True, "ignore_index": 1}, 2),
    ((7, 5), (4, 5), "index", {"weight": True, "label_smoothing": 0.1}, 3),
    ((7, 5), (4, 5), "probs", {"label_smoothing": 0.3}, 4),
    ((7, 5), (4, 5), "index", {"reduction": "none", "bias": True}, 2),
    ((6, 5), (4, 2, 3, 5), "index", {"bias": True, "weight": True}, None),
    ((6, 5), (4, 3, 5), "probs", {"reduction": "sum"}, None),
    ((5,), (4, 5), "index", {}, 2),  # unbatched: one sample, never chunked
]


@pytest.mark.parametrize(("xs", "ws", "kind", "kw", "rows"), LCE)
def test_linear_cross_entropy_matches_pytorch(xs, ws, kind, kw, rows):
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    b = rng.standard_normal(ws[:-1])
    batch = xs[:-1] + ws[1:-1]
    if kind == "index":
        t = rng.integers(0, ws[0], batch)
    else:
        t = rng.random(xs[:-1] + ws[:-1])
        t /= t.sum(axis=0 if len(xs) == 1 else 1, keepdims=True)
    cw = rng.random(ws[0]) + 0.5
    got = []
    for lib in (torch, retrograd):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        bt = lib.tensor(b, requires_grad=True)
        args = {k: v for k, v in kw.items() if k not in ("weight", "bias")}
        if kw.get("weight"):
            args["weight"] = lib.tensor(cw)
        if kw.get("bias"):
            args["linear_bias"] = bt
        if rows:
            args["options"] = lib.nn.LinearCrossEntropyOptions(batch_chunk_size=rows,
                                                               allow_retain_graph=True)
        loss = lib.nn.functional.linear_cross_entropy(xt, wt, lib.tensor(t), **args)
        leaves = [xt, wt] + ([bt] if kw.get("bias") else [])
        grads = lib.autograd.grad(loss.sum(), leaves)
        got.append([arr(loss), *[arr(g) for g in grads]])
    for a, c in zip(*got):
        np.testing.assert_allclose(c, a, rtol=1e-10, atol=1e-12)


def test_linear_cross_entropy_loss_module_and_misuse():
    ours, theirs = both(lambda lib: repr(lib.nn.LinearCrossEntropyLoss(4, 3, out_features=(2,),
                                                                          bias=True)))
    assert ours == theirs
    m = retrograd.nn.LinearCrossEntropyLoss(5, 4, out_features=(3,), weight=retrograd.ones(4))
    assert sorted(m.state_dict()) == ["linear.weight", "weight"]
    loss = m(retrograd.randn(2, 5), retrograd.randint(0, 4, (2, 3)))
    assert loss.shape == () and loss.requires_grad
    F = "lib.nn.functional.linear_cross_entropy"
    for args in ["T.ones(2, 3, 3), T.ones(2, 3), T.ones(3, 2)",
                 "T.ones(2, 3), T.ones(2), T.ones(2, 2)",
                 "T.ones(2, 3), T.ones(2, 4), T.ones(2, 2)",
                 "T.ones(2, 3), T.ones(2, 3), T.ones(2, 2), ignore_index=0",
                 "T.ones(3), T.ones(2, 4, 3), T.ones(2, 4)",
                 "T.ones(2, 3), T.ones(2, 3), T.ones(2), linear_bias=T.ones(3)",
                 "T.ones(2, 3), T.ones(2, 3), T.zeros(2).long(), reduction='avg'"]:
        both_raise(lambda lib, a=args: eval(f"{F}({a})", {"T": lib, "lib": lib}))
    both_raise(lambda lib: lib.nn.LinearCrossEntropyOptions(acc_policy="x"))


@pytest.mark.parametrize("extra", ["plain", "bias_kv_zero_attn", "static_kv", "separate"])
def test_multi_head_attention_forward_matches_pytorch(extra):
    rng = np.random.default_rng(5)
    e, h, lq, s, n = 4, 2, 3, 5, 2
    a = {name: rng.standard_normal(shape) for name, shape in [
        ("q", (lq, n, e)), ("k", (s, n, e)), ("v", (s, n, e)), ("w_in", (3 * e, e)),
        ("b_in", (3 * e,)), ("w_out", (e, e)), ("b_out", (e,)), ("bk", (1, 1, e)),
        ("bv", (1, 1, e)), ("mask", (lq, s)),
        ("sk", (n * h, s, e // h)), ("sv", (n * h, s, e // h)), ("wq", (e, e)),
        ("wk", (e, e)), ("wv", (e, e))]}
    got = []
    for lib in (torch, retrograd):
        t = {k: lib.tensor(v, requires_grad=True) for k, v in a.items()}
        kw = dict(training=False, attn_mask=t["mask"], need_weights=True)
        if extra == "static_kv":
            kw.update(static_k=t["sk"], static_v=t["sv"])
        if extra == "separate":
            kw.update(use_separate_proj_weight=True, q_proj_weight=t["wq"],
                      k_proj_weight=t["wk"], v_proj_weight=t["wv"])
        zero = extra == "bias_kv_zero_attn"
        out, w = lib.nn.functional.multi_head_attention_forward(
            t["q"], t["k"], t["v"], e, h, t["w_in"], t["b_in"], t["bk"] if zero else None,
            t["bv"] if zero else None, zero, 0.0, t["w_out"], t["b_out"], **kw)
        leaves = [x for x in t.values()]
        grads = lib.autograd.grad((out * out).sum() + w.sum(), leaves, allow_unused=True)
        got.append([arr(out), arr(w)] + [None if g is None else arr(g) for g in grads])
    for x, y in zip(*got):
        if x is None or y is None:
            assert x is None or not x.any()
            assert y is None or not y.any()
        else:
            np.testing.assert_allclose(y, x, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("loss", ["mse_loss", "smooth_l1_loss", "huber_loss", "l1_loss",
                                  "binary_cross_entropy"])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_regression_losses_record_pytorchs_nodes(loss, reduction):
    """One node with the input's and the target's edges, as PyTorch records (l1_loss is
    decomposed in both); double backward and jvp are checked in optable's rows."""
    def graph(lib):
        x = lib.tensor([0.2, 0.5, 0.9], requires_grad=True)
        t = lib.tensor([0.0, 0.5, 1.0], requires_grad=True)
        fn = getattr(lib.nn.functional, loss)(x, t, reduction=reduction).grad_fn
        return fn.name(), [None if f is None else f.name() for f, _ in fn.next_functions]

    ours, theirs = both(graph)
    assert ours == theirs


def test_binary_cross_entropy_weight_takes_no_gradient():
    both_raise(lambda lib: lib.nn.functional.binary_cross_entropy(
        lib.tensor([0.3]), lib.tensor([1.0]), lib.tensor([2.0], requires_grad=True)))
