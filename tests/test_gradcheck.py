"""Public gradcheck / gradgradcheck: options, and failure reports that point at the bug."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import Function, gradcheck, gradgradcheck
from retrograd.autograd.gradcheck import GradcheckError


def _x(*shape):
    return rg.tensor(np.random.default_rng(0).uniform(0.5, 1.5, shape), requires_grad=True)


class WrongExp(Function):
    """exp with a deliberately wrong derivative in one element."""

    @staticmethod
    def forward(ctx, x):
        out = x.exp()
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        g = grad * out
        g = g.clone()
        g[1] = g[1] * 1.5
        return g


@pytest.mark.parametrize("opts", [{}, {"check_forward_ad": True}, {"check_batched_grad": True},
                                  {"fast_mode": True}])
def test_correct_functions_pass(opts):
    x, w = _x(3), _x(2, 3)
    assert gradcheck(lambda a, b: (b @ a).tanh() * a.sum(), (x, w), **opts)


def test_gradgradcheck_passes():
    assert gradgradcheck(lambda a: (a.sin() * a).exp(), (_x(4),))


def test_wrong_gradient_is_reported_with_input_and_element():
    with pytest.raises(GradcheckError) as info:
        gradcheck(WrongExp.apply, (_x(3),))
    msg = str(info.value)
    assert "with respect to input 0" in msg
    assert "input element 1, output element 1" in msg
    assert not gradcheck(WrongExp.apply, (_x(3),), raise_exception=False)
    assert not gradcheck(WrongExp.apply, (_x(3),), raise_exception=False, fast_mode=True)


def test_warns_on_single_precision():
    x = rg.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="not a double precision"):
        gradcheck(lambda t: t * 2, (x,), atol=1e-2, rtol=1e-2, eps=1e-3)
