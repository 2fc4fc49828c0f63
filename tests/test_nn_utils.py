"""nn.utils: gradient clipping and parameter/vector conversion against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from nn_common import close, copy_weights, to_np

import retrograd as R


def _models_with_grads():
    ours = R.nn.Sequential(R.nn.Linear(3, 4), R.nn.Linear(4, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    copy_weights(ours, theirs)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32) * 3
    (ours(R.tensor(x)) ** 2).sum().backward()
    (theirs(torch.tensor(x)) ** 2).sum().backward()
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf"), 3])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = _models_with_grads()
    rn = R.nn.utils.clip_grad_norm_(ours.parameters(), max_norm, norm_type=norm_type)
    tn = torch.nn.utils.clip_grad_norm_(theirs.parameters(), max_norm, norm_type=norm_type)
    assert isinstance(rn, R.Tensor) and rn.dim() == 0
    np.testing.assert_allclose(rn.item(), tn.item(), rtol=1e-5)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        close(p.grad, q.grad)


def test_clip_grad_norm_single_tensor_and_no_grads():
    p = R.nn.Parameter(R.tensor([3.0, 4.0]))
    p.grad = R.tensor([3.0, 4.0])
    assert R.nn.utils.clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(to_np(p.grad), [0.6, 0.8], rtol=1e-5)
    q = R.nn.Parameter(R.ones(2))
    assert R.nn.utils.clip_grad_norm_([q], 1.0).item() == 0.0


def test_clip_grad_norm_nonfinite():
    p = R.nn.Parameter(R.ones(2))
    p.grad = R.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError) as a:
        R.nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    tp = torch.nn.Parameter(torch.ones(2))
    tp.grad = torch.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError) as b:
        torch.nn.utils.clip_grad_norm_([tp], 1.0, error_if_nonfinite=True)
    assert str(a.value) == str(b.value)
    total = R.nn.utils.clip_grad_norm_([p], 1.0)
    assert total.item() == float("inf")


def test_clip_grad_value_matches_torch():
    ours, theirs = _models_with_grads()
    R.nn.utils.clip_grad_value_(ours.parameters(), 0.7)
    torch.nn.utils.clip_grad_value_(theirs.parameters(), 0.7)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        close(p.grad, q.grad)
        assert np.abs(to_np(p.grad)).max() <= 0.7 + 1e-7


def test_parameters_to_vector_and_back():
    ours, theirs = _models_with_grads()
    rv = R.nn.utils.parameters_to_vector(ours.parameters())
    tv = torch.nn.utils.parameters_to_vector(theirs.parameters())
    close(rv, tv)
    assert rv.requires_grad and rv.grad_fn is not None
    new = np.arange(rv.numel(), dtype=np.float32)
    R.nn.utils.vector_to_parameters(R.tensor(new), ours.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(new), theirs.parameters())
    for p, q in zip(ours.parameters(), theirs.parameters()):
        close(p, q)
        assert isinstance(p, R.nn.Parameter)
    with pytest.raises(TypeError, match=r"expected torch\.Tensor, but got: list"):
        R.nn.utils.vector_to_parameters([1.0], ours.parameters())
