"""A grad_fn's type is named as PyTorch names it (issue 13, item 5): tutorials print
``type(loss.grad_fn).__name__`` and walk ``next_functions``; both read as in PyTorch."""

import pytest
import torch

import retrograd


def _chain(lib, fn):
    """Type names of the first two levels of ``next_functions`` below the result's node."""
    x = lib.tensor([[0.2, 0.7, 0.4], [0.9, 0.1, 0.6]], requires_grad=True)
    y = lib.tensor([[0.3, 0.5, 0.5], [1.0, 0.0, 0.2]])
    node = fn(lib, x, y).grad_fn
    names = [type(node).__name__]
    for nxt, _ in node.next_functions:
        if nxt is not None:
            names.append(type(nxt).__name__)
    return names


CASES = {
    "mse_loss": lambda L, x, y: L.nn.functional.mse_loss(x, y),
    "smooth_l1_loss": lambda L, x, y: L.nn.functional.smooth_l1_loss(x, y),
    "huber_loss": lambda L, x, y: L.nn.functional.huber_loss(x, y),
    "binary_cross_entropy": lambda L, x, y: L.nn.functional.binary_cross_entropy(x, y),
    "add": lambda L, x, y: x + y,
    "mul_sum": lambda L, x, y: (x * y).sum(),
    "mean": lambda L, x, y: x.mean(),
    "tanh_mean": lambda L, x, y: x.tanh().mean(),
    "relu": lambda L, x, y: L.relu(x),
    "exp": lambda L, x, y: x.exp(),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_node_type_names_match_pytorch(name):
    fn = CASES[name]
    assert _chain(retrograd, fn) == _chain(torch, fn)


def test_primitive_keeps_its_own_name_for_errors():
    x = retrograd.ones(2, 3)
    with pytest.raises(RuntimeError, match=r"^add\(\)"):
        x + retrograd.ones(4)
    assert type((x.requires_grad_() * 2).grad_fn).op == "Mul"
