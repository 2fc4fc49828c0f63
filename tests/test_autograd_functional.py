"""autograd.functional and retrograd.func against torch.autograd.functional / torch.func."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.autograd.functional as TF

import retrograd as rg
import retrograd.autograd.functional as RF

RNG = np.random.default_rng(0)
A = RNG.standard_normal((3,))
B = RNG.standard_normal((2, 3))
V3 = RNG.standard_normal((3,))
V2 = RNG.standard_normal((2,))


def f1(L, x):
    return (x.sin() * x).exp()


def f2(L, x, w):
    return (w @ x).tanh(), (x * x).sum()


def scalar(L, x):
    return (x.sin() * x * x).sum()


def scalar2(L, x, w):
    return ((w @ x).tanh() * (x * 2)[:2]).sum()


def _cmp(a, b):
    if isinstance(b, (tuple, list)):
        # (torch returns lists where its docs promise tuples for forward-mode jacobians)
        assert isinstance(a, tuple) and len(a) == len(b)
        for x, y in zip(a, b):
            _cmp(x, y)
        return
    assert tuple(a.shape) == tuple(b.shape)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-7, atol=1e-9)


def _t(L, *arrs):
    return tuple(L.tensor(a) for a in arrs)


@pytest.mark.parametrize("name", ["vjp", "jvp"])
def test_vjp_jvp(name):
    r = getattr(RF, name)(lambda x: f1(rg, x), _t(rg, A)[0], _t(rg, V3)[0])
    t = getattr(TF, name)(lambda x: f1(torch, x), _t(torch, A)[0], _t(torch, V3)[0])
    _cmp(r, t)
    r = getattr(RF, name)(lambda x, w: f2(rg, x, w), _t(rg, A, B),
                          _t(rg, V2, np.array(1.0)) if name == "vjp" else _t(rg, V3, B))
    t = getattr(TF, name)(lambda x, w: f2(torch, x, w), _t(torch, A, B),
                          _t(torch, V2, np.array(1.0)) if name == "vjp" else _t(torch, V3, B))
    _cmp(r, t)


@pytest.mark.parametrize("strategy", ["reverse-mode", "forward-mode"])
def test_jacobian_shapes_and_values(strategy):
    kw = {"vectorize": True, "strategy": strategy}
    _cmp(RF.jacobian(lambda x: f1(rg, x), _t(rg, A)[0], **kw),
         TF.jacobian(lambda x: f1(torch, x), _t(torch, A)[0], **kw))
    _cmp(RF.jacobian(lambda x, w: f2(rg, x, w), _t(rg, A, B), **kw),
         TF.jacobian(lambda x, w: f2(torch, x, w), _t(torch, A, B), **kw))


def test_hessian_hvp_vhp():
    _cmp(RF.hessian(lambda x: scalar(rg, x), _t(rg, A)[0]),
         TF.hessian(lambda x: scalar(torch, x), _t(torch, A)[0]))
    _cmp(RF.hessian(lambda x, w: scalar2(rg, x, w), _t(rg, A, B)),
         TF.hessian(lambda x, w: scalar2(torch, x, w), _t(torch, A, B)))
    for name in ("hvp", "vhp"):
        _cmp(getattr(RF, name)(lambda x: scalar(rg, x), _t(rg, A)[0], _t(rg, V3)[0]),
             getattr(TF, name)(lambda x: scalar(torch, x), _t(torch, A)[0], _t(torch, V3)[0]))


def test_create_graph_and_strict():
    x = rg.tensor(A, requires_grad=True)
    _, g = RF.vjp(lambda t: scalar(rg, t), x, create_graph=True)
    assert g.requires_grad
    with pytest.raises(RuntimeError, match="independent of input 1"):
        RF.vjp(lambda a, b: a * 2, _t(rg, A, A), _t(rg, V3)[0], strict=True)
    with pytest.raises(ValueError, match="vectorize=True"):
        RF.jacobian(lambda t: t, _t(rg, A)[0], strategy="forward-mode")


def test_func_transforms_match_torch_func():
    import torch.func as tf

    import retrograd.func as rf

    x_r, x_t = _t(rg, A)[0], _t(torch, A)[0]
    _cmp(rf.grad(lambda x: scalar(rg, x))(x_r), tf.grad(lambda x: scalar(torch, x))(x_t))
    _cmp(rf.grad(rf.grad(lambda x: (x ** 3).sum() * 1.0 if False else (x.sin()).sum()))(
        rg.tensor(0.7)), tf.grad(tf.grad(lambda x: x.sin().sum()))(torch.tensor(0.7)))
    g, v = rf.grad_and_value(lambda x: scalar(rg, x))(x_r)
    tg, tv = tf.grad_and_value(lambda x: scalar(torch, x))(x_t)
    _cmp((g, v), (tg, tv))
    out, fn = rf.vjp(lambda x: f1(rg, x), x_r)
    tout, tfn = tf.vjp(lambda x: f1(torch, x), x_t)
    _cmp((out, fn(rg.tensor(V3))), (tout, tfn(torch.tensor(V3))))
    _cmp(rf.jvp(lambda x: f1(rg, x), (x_r,), (rg.tensor(V3),)),
         tf.jvp(lambda x: f1(torch, x), (x_t,), (torch.tensor(V3),)))
    _cmp(rf.jacrev(lambda x: f1(rg, x))(x_r), tf.jacrev(lambda x: f1(torch, x))(x_t))
    _cmp(rf.jacfwd(lambda x: f1(rg, x))(x_r), tf.jacfwd(lambda x: f1(torch, x))(x_t))
    _cmp(rf.hessian(lambda x: scalar(rg, x))(x_r), tf.hessian(lambda x: scalar(torch, x))(x_t))
    b_r, b_t = rg.tensor(B), torch.tensor(B)
    _cmp(rf.vmap(lambda r: f1(rg, r))(b_r), tf.vmap(lambda r: f1(torch, r))(b_t))
    _cmp(rf.vmap(lambda r, w: (r * w).sum(), in_dims=(0, None))(b_r, x_r),
         tf.vmap(lambda r, w: (r * w).sum(), in_dims=(0, None))(b_t, x_t))
    _cmp(rf.vmap(rf.grad(lambda r: scalar(rg, r)))(b_r),
         tf.vmap(tf.grad(lambda r: scalar(torch, r)))(b_t))
