"""The autograd API and the engine (issue: Tensor and the autograd engine, items 4, 5, 7)."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
import torch

import retrograd as rg
from retrograd.autograd import Function, Variable


def test_requires_grad_forms():
    a = rg.ones(2, requires_grad=True)
    b = rg.ones(2)
    b.requires_grad = True
    c = rg.ones(2).requires_grad_()
    assert a.requires_grad and b.requires_grad and c.requires_grad
    assert (a * 2).requires_grad and not (rg.ones(2) * 2).requires_grad
    with pytest.raises(RuntimeError, match="only Tensors of floating point"):
        rg.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf"):
        (a * 2).requires_grad_(False)


def test_grad_fn_names_and_next_functions():
    x = rg.ones(2, 2, requires_grad=True)
    w = rg.ones(2, 2, requires_grad=True)
    names = {
        "AddBackward0": x + 1, "SubBackward0": x - w, "MulBackward0": x * w,
        "DivBackward0": x / w, "MeanBackward0": x.mean(), "SumBackward0": x.sum(),
        "SumBackward1": x.sum(0), "MmBackward0": x.mm(w), "PowBackward0": x ** 2,
        "ExpBackward0": x.exp(), "TBackward0": x.t(), "ViewBackward0": x.view(4),
        "TanhBackward0": x.tanh(), "MaxBackward1": x.max(), "MaxBackward0": x.max(0)[0],
        "NegBackward0": -x, "SelectBackward0": x[0], "SliceBackward0": x[1:],
    }
    for name, t in names.items():
        assert t.grad_fn.name() == name
        assert repr(t.grad_fn).startswith(f"<{name} object at 0x")
    y = x * w
    (acc_x, _), (acc_w, _) = y.grad_fn.next_functions
    assert repr(acc_x).startswith("<AccumulateGrad object at")
    assert acc_x.variable is x and acc_w.variable is w
    z = (x + 2).mean()
    assert z.grad_fn.next_functions[0][0].name() == "AddBackward0"
    assert (x + 2).grad_fn.next_functions[1] == (None, 0)


def test_gradients_accumulate_and_zero():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]
    x.grad = None
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_backward_arguments_and_autograd_backward():
    x = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    y.backward(rg.tensor([1.0, 0.5, 0.0]), retain_graph=True)
    assert x.grad.tolist() == [2.0, 2.0, 0.0]
    x.grad = None
    rg.autograd.backward([y.sum()], inputs=[x])
    assert x.grad.tolist() == [2.0, 4.0, 6.0]
    a = rg.tensor(1.0, requires_grad=True)
    b = rg.tensor(2.0, requires_grad=True)
    (a * b).backward(inputs=[a])
    assert a.grad.item() == 2.0 and b.grad is None


def test_autograd_grad_options():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    unused = rg.tensor([1.0], requires_grad=True)
    y = (x ** 3).sum()
    (g,) = rg.autograd.grad(y, x, create_graph=True)
    assert g.tolist() == [3.0, 12.0] and g.requires_grad
    (gg,) = rg.autograd.grad(g.sum(), x)
    assert gg.tolist() == [6.0, 12.0]
    assert x.grad is None
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        rg.autograd.grad((x * 2).sum(), [x, unused])
    _g1, g2 = rg.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert g2 is None
    _g1, g2 = rg.autograd.grad((x * 2).sum(), [x, unused], materialize_grads=True)
    assert g2.tolist() == [0.0]
    y = x * 2
    (gy,) = rg.autograd.grad(y, x, grad_outputs=rg.ones(2))
    assert gy.tolist() == [2.0, 2.0]


def test_grad_of_intermediate():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    out = (h * h).sum()
    (gh,) = rg.autograd.grad(out, h)
    assert gh.tolist() == [6.0, 12.0]


def test_retain_grad_and_hooks():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    seen = []
    handle = h.register_hook(lambda g: seen.append(g.tolist()))
    doubled = x.register_hook(lambda g: g * 2)
    (h * h).sum().backward()
    assert h.grad.tolist() == [4.0, 8.0]
    assert seen == [[4.0, 8.0]]
    assert x.grad.tolist() == [16.0, 32.0]
    handle.remove()
    doubled.remove()
    x.grad = None
    h2 = x * 2
    (h2 * h2).sum().backward()
    assert seen == [[4.0, 8.0]] and x.grad.tolist() == [8.0, 16.0]


def test_grad_mode_context_managers_and_decorators():
    x = rg.ones(2, requires_grad=True)
    with rg.no_grad():
        assert not (x * 2).requires_grad
        assert not rg.is_grad_enabled()
        with rg.enable_grad():
            assert (x * 2).requires_grad
    with rg.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert rg.is_grad_enabled()
    with rg.inference_mode():
        assert not (x * 2).requires_grad

    @rg.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad
    assert rg.is_grad_enabled()
    rg.set_grad_enabled(False)
    assert not rg.is_grad_enabled()
    rg.set_grad_enabled(True)


def test_variable_legacy_constructor():
    t = rg.ones(2)
    v = Variable(t, requires_grad=True)
    assert isinstance(v, rg.Tensor) and isinstance(v, Variable) and v.requires_grad
    assert np.shares_memory(v.detach().numpy(), t.numpy())
    with pytest.warns(UserWarning, match="volatile was removed"):
        Variable(t, volatile=True)


class Exp(Function):
    @staticmethod
    def forward(ctx, i):
        result = i.exp()
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return grad_output * result


class MulConst(Function):
    @staticmethod
    def forward(x, k):
        return x * k

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.k = inputs[1]

    @staticmethod
    def backward(ctx, grad):
        assert ctx.needs_input_grad == (True, False)
        return grad * ctx.k, None


class Twice(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.mark_dirty(x)
        return x.mul_(2)

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


class ArgMaxish(Function):
    @staticmethod
    def forward(ctx, x):
        idx = x.argmax() if hasattr(x, "argmax") else rg.tensor(0)
        ctx.mark_non_differentiable(idx)
        ctx.set_materialize_grads(False)
        return x.clone(), idx

    @staticmethod
    def backward(ctx, g, g_idx):
        return g


def test_custom_function():
    x = rg.tensor([0.5, 1.0], requires_grad=True)
    y = Exp.apply(x)
    assert y.grad_fn.name() == "ExpBackward"
    assert y.grad_fn.next_functions[0][0].variable is x
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.5, 1.0]), rtol=1e-6)
    x.grad = None
    MulConst.apply(x, 3.0).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    a = rg.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1
    c = Twice.apply(b)
    assert c is b and b.tolist() == [2.0, 4.0] and b.grad_fn.name() == "TwiceBackward"
    c.sum().backward()
    assert a.grad.tolist() == [2.0, 2.0]
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        Twice.apply(rg.ones(2, requires_grad=True))


def test_custom_function_double_backward_and_once_differentiable():
    x = rg.tensor([0.5, 1.0], requires_grad=True)
    (g,) = rg.autograd.grad(Exp.apply(x).sum(), x, create_graph=True)
    (gg,) = rg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), np.exp([0.5, 1.0]), rtol=1e-6)

    class Sq(Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return t * t

        @staticmethod
        @rg.autograd.once_differentiable
        def backward(ctx, grad):
            (t,) = ctx.saved_tensors
            return grad * 2 * t

    v = rg.ones(2, requires_grad=True)
    (g,) = rg.autograd.grad(Sq.apply(x), x, grad_outputs=v, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.sum().backward()


def test_long_chain_has_no_recursion_limit():
    x = rg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(1_000_000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0]
    del y
    gc.collect()


def test_diamond_sums_once():
    x = rg.tensor(3.0, requires_grad=True)
    a = x * 2
    b = a * a + a.exp() * 0 + a
    b.backward()
    assert x.grad.item() == pytest.approx(2 * (2 * 6 + 1))
    calls = []
    x2 = rg.tensor(1.0, requires_grad=True)
    shared = x2 * 2
    shared.register_hook(lambda g: calls.append(g.item()))
    (shared * 3 + shared * 4).backward()
    assert calls == [7.0]


def test_saved_tensors_freed_after_backward():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    out = (y * y).sum()
    node = out.grad_fn.next_functions[0][0]
    assert node.saved
    out.backward()
    from retrograd.autograd.graph import FREED

    assert node.saved is FREED
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        out.backward()
    x.grad = None
    z = (x.exp() * 2).sum()
    z.backward(retain_graph=True)
    z.backward()
    assert x.grad.tolist() == pytest.approx((np.exp([1.0, 2.0]) * 4).tolist())


def test_outputs_do_not_keep_big_arrays_alive_after_backward():
    x = rg.randn(1000, requires_grad=True)
    y = x.exp()
    ref = weakref.ref(y.grad_fn.saved[0])
    out = y.sum() * 2
    out.backward()
    gc.collect()
    # exp saved its output, which is still y's own data; the node no longer holds it.
    assert y.grad_fn.saved is not None and ref() is y._data


def test_create_graph_builds_differentiable_graph_for_core_ops():
    x = rg.tensor([0.3, 0.7], dtype=rg.float64, requires_grad=True)
    tx = torch.tensor([0.3, 0.7], dtype=torch.float64, requires_grad=True)

    def f(lib, t):
        return ((t.sin() * t.exp() / (t + 2)).sqrt() ** 2.5 + t.tanh().sigmoid()).sum()

    (g,) = rg.autograd.grad(f(rg, x), x, create_graph=True)
    (tg,) = torch.autograd.grad(f(torch, tx), tx, create_graph=True)
    g.sum().backward()
    tg.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10)


def test_creation_site_is_recorded():
    x = rg.ones(2, requires_grad=True)
    y = x * 2  # the line under test
    site = y.grad_fn.creation_site
    assert "test_autograd_engine.py" in site and "test_creation_site_is_recorded" in site
