"""Embedding and EmbeddingBag options against torch: values, gradients, reprs, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from nn_common import close, pair, to_np

import retrograd as R


def _backward_both(ours, theirs, r_out, t_out):
    cot = np.random.default_rng(1).standard_normal(tuple(t_out.shape)).astype(np.float32)
    (r_out * R.tensor(cot)).sum().backward()
    (t_out * torch.tensor(cot)).sum().backward()
    close(r_out, t_out)
    close(ours.weight.grad, theirs.weight.grad)


@pytest.mark.parametrize("kwargs", [
    {"padding_idx": -2},
    {"scale_grad_by_freq": True},
    {"scale_grad_by_freq": True, "padding_idx": 0},
    {"max_norm": 0.5, "norm_type": 1.0},
])
def test_embedding_options(kwargs):
    R.manual_seed(0)
    ours, theirs = pair("Embedding", 7, 3, **kwargs)
    assert repr(ours) == repr(theirs)
    idx = np.array([[0, 5, 5, 2], [5, 1, 0, 0]])
    _backward_both(ours, theirs, ours(R.tensor(idx)), theirs(torch.tensor(idx)))
    close(ours.weight, theirs.weight)  # max_norm renormalises looked-up rows in place


@pytest.mark.parametrize("kwargs", [
    {"mode": "sum", "padding_idx": 1},
    {"mode": "mean", "padding_idx": -1, "include_last_offset": True},
    {"mode": "max", "max_norm": 0.7},
    {"mode": "sum", "padding_idx": 5},
])
def test_embedding_bag_options(kwargs):
    R.manual_seed(0)
    ours, theirs = pair("EmbeddingBag", 6, 3, **kwargs)
    assert repr(ours) == repr(theirs)
    idx, off = np.array([1, 2, 5, 5, 1, 3, 0]), np.array([0, 2, 4, 7])
    if not kwargs.get("include_last_offset"):
        off = off[:-1]
    r_out = ours(R.tensor(idx), R.tensor(off))
    t_out = theirs(torch.tensor(idx), torch.tensor(off))
    _backward_both(ours, theirs, r_out, t_out)


def test_embedding_bag_per_sample_weights_grad_and_2d_input():
    ours, theirs = pair("EmbeddingBag", 5, 2, mode="sum")
    idx, w = np.array([[0, 1, 4], [2, 2, 3]]), np.array([[0.5, -1, 2], [1, 3, -2]], np.float32)
    rw, tw = R.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    r_out = ours(R.tensor(idx), per_sample_weights=rw)
    t_out = theirs(torch.tensor(idx), per_sample_weights=tw)
    _backward_both(ours, theirs, r_out, t_out)
    close(rw.grad, tw.grad)
    mean_bag = R.nn.EmbeddingBag(5, 2)
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        mean_bag(R.tensor(idx), per_sample_weights=rw)


def test_from_pretrained_both_kinds():
    w = np.arange(12, dtype=np.float32).reshape(4, 3)
    for freeze in (True, False):
        ours = R.nn.EmbeddingBag.from_pretrained(R.tensor(w), freeze=freeze, mode="max",
                                                 padding_idx=2)
        theirs = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(w), freeze=freeze,
                                                       mode="max", padding_idx=2)
        assert ours.weight.requires_grad == theirs.weight.requires_grad == (not freeze)
        assert repr(ours) == repr(theirs)
        np.testing.assert_array_equal(to_np(ours.weight), w)  # the padding row is kept as given
        emb = R.nn.Embedding.from_pretrained(R.tensor(w), freeze=freeze, padding_idx=1)
        assert emb.weight.requires_grad == (not freeze) and emb.padding_idx == 1
        np.testing.assert_array_equal(to_np(emb.weight), w)


@pytest.mark.parametrize("build", [
    lambda nn: nn.Embedding(5, 3, padding_idx=5),
    lambda nn: nn.Embedding(5, 3, padding_idx=-6),
    lambda nn: nn.EmbeddingBag(5, 3, padding_idx=-6),
    lambda nn: nn.Embedding(5, 3, _weight=nn.Parameter(nn.Linear(2, 2).weight.detach())),
    lambda nn: nn.EmbeddingBag(5, 3, _weight=nn.Linear(2, 2).weight.detach()),
    lambda nn: nn.Embedding.from_pretrained(nn.Linear(3, 1).bias.detach()),
])
def test_construction_errors_match_torch(build):
    with pytest.raises(AssertionError) as ours:
        build(R.nn)
    with pytest.raises(AssertionError) as theirs:
        build(torch.nn)
    assert str(ours.value) == str(theirs.value)


def test_sparse_flag_repr():
    assert repr(R.nn.Embedding(5, 3, sparse=True, norm_type=1.0)) == repr(
        torch.nn.Embedding(5, 3, sparse=True, norm_type=1.0))
