"""MultiheadAttention and the Transformer layers against torch (eval mode: no dropout)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import make_randn
from nn_common import close, compare_grads, copy_weights, pair

import retrograd as R

randn = make_randn(0)


def _inputs(*arrays, grad=True):
    return ([R.tensor(a, requires_grad=grad) for a in arrays],
            [torch.tensor(a, requires_grad=grad) for a in arrays])


MHA_CASES = [
    ({}, {}),
    ({"batch_first": True}, {}),
    ({"bias": False}, {"need_weights": False}),
    ({}, {"average_attn_weights": False}),
    ({"add_bias_kv": True}, {}),
    ({"add_zero_attn": True}, {"key_padding_mask": "bool"}),
    ({"kdim": 3, "vdim": 5}, {}),
    ({}, {"attn_mask": "bool"}),
    ({}, {"attn_mask": "float", "key_padding_mask": "bool"}),
    ({}, {"attn_mask": "3d"}),
]


def _masks(kind_kwargs, L, S, N, H):
    """The same masks as numpy arrays (converted per library by the caller)."""
    out = {}
    for key, kind in kind_kwargs.items():
        if key == "attn_mask":
            if kind == "bool":
                m = np.triu(np.ones((L, S), bool), 1)
            elif kind == "float":
                m = randn(L, S)
            else:
                m = randn(N * H, L, S)
            out[key] = m
        elif key == "key_padding_mask":
            m = np.zeros((N, S), bool)
            m[0, -2:] = True
            out[key] = m
        else:
            out[key] = kind
    return out


@pytest.mark.parametrize("ctor,call", MHA_CASES, ids=[str(c) for c in MHA_CASES])
def test_multihead_attention_matches_torch(ctor, call):
    E, H, L, S, N = 8, 2, 4, 5, 3
    ours, theirs = pair("MultiheadAttention", E, H, **ctor)
    assert repr(ours) == repr(theirs)
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    kdim, vdim = ctor.get("kdim", E), ctor.get("vdim", E)
    bf = ctor.get("batch_first", False)
    shape = (lambda n, s, e: (s, n, e)) if not bf else (lambda n, s, e: (n, s, e))
    q, k, v = randn(*shape(N, L, E)), randn(*shape(N, S, kdim)), randn(*shape(N, S, vdim))
    (rq, rk, rv), (tq, tk, tv) = _inputs(q, k, v)
    masks = _masks(call, L, S, N, H)

    def conv(lib):
        return {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in masks.items()}

    ro = ours(rq, rk, rv, **conv(R))
    to = theirs(tq, tk, tv, **conv(torch))
    close(ro[0], to[0])
    if to[1] is None:
        assert ro[1] is None
    else:
        close(ro[1], to[1])
    cot = randn(*to[0].shape)
    (ro[0] * R.tensor(cot)).sum().backward()
    (to[0] * torch.tensor(cot)).sum().backward()
    for a, b in ((rq, tq), (rk, tk), (rv, tv)):
        close(a.grad, b.grad)
    compare_grads(ours, theirs)


def test_multihead_attention_unbatched_self_attention():
    ours, theirs = pair("MultiheadAttention", 4, 2)
    x = randn(3, 4)
    ro = ours(R.tensor(x), R.tensor(x), R.tensor(x))
    to = theirs(torch.tensor(x), torch.tensor(x), torch.tensor(x))
    close(ro[0], to[0])
    close(ro[1], to[1])


LAYER_CASES = [
    {}, {"norm_first": True}, {"activation": "gelu", "batch_first": True},
]


@pytest.mark.parametrize("kwargs", LAYER_CASES, ids=[str(c) for c in LAYER_CASES])
def test_encoder_layer_matches_torch(kwargs):
    ours, theirs = pair("TransformerEncoderLayer", 8, 2, 16, **kwargs)
    ours.eval()
    theirs.eval()
    assert repr(ours) == repr(theirs)
    x = randn(3, 4, 8)
    mask = np.zeros((3, 4), bool) if kwargs.get("batch_first") else np.zeros((4, 3), bool)
    mask[0, -1] = True
    (rx,), (tx,) = _inputs(x)
    ro = ours(rx, src_key_padding_mask=R.tensor(mask))
    to = theirs(tx, src_key_padding_mask=torch.tensor(mask))
    close(ro, to, atol=1e-4)
    ro.sum().backward()
    to.sum().backward()
    close(rx.grad, tx.grad, atol=1e-4)
    compare_grads(ours, theirs, atol=1e-4)


@pytest.mark.parametrize("kwargs", LAYER_CASES, ids=[str(c) for c in LAYER_CASES])
def test_decoder_layer_matches_torch(kwargs):
    ours, theirs = pair("TransformerDecoderLayer", 8, 2, 16, **kwargs)
    ours.eval()
    theirs.eval()
    assert repr(ours) == repr(theirs)
    tgt, mem = randn(3, 4, 8), randn(5, 4, 8)
    if kwargs.get("batch_first"):
        tgt, mem = tgt.transpose(1, 0, 2).copy(), mem.transpose(1, 0, 2).copy()
    causal = np.triu(np.full((3, 3), -np.inf, np.float32), 1)
    (rt, rm), (tt, tm) = _inputs(tgt, mem)
    ro = ours(rt, rm, tgt_mask=R.tensor(causal))
    to = theirs(tt, tm, tgt_mask=torch.tensor(causal))
    close(ro, to, atol=1e-4)
    ro.sum().backward()
    to.sum().backward()
    close(rt.grad, tt.grad, atol=1e-4)
    close(rm.grad, tm.grad, atol=1e-4)
    compare_grads(ours, theirs, atol=1e-4)


def test_full_transformer_matches_torch():
    def build(lib):
        return lib.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=2,
                                  num_decoder_layers=1, dim_feedforward=16, dropout=0.0)

    ours, theirs = build(R), build(torch)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    copy_weights(ours, theirs)
    src, tgt = randn(5, 2, 8), randn(4, 2, 8)
    mask = R.nn.Transformer.generate_square_subsequent_mask(4)
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(4)
    np.testing.assert_array_equal(mask.numpy(), tmask.numpy())
    (rs, rt), (ts, tt) = _inputs(src, tgt)
    ro = ours(rs, rt, tgt_mask=mask)
    to = theirs(ts, tt, tgt_mask=tmask)
    close(ro, to, atol=1e-4)
    ro.sum().backward()
    to.sum().backward()
    close(rs.grad, ts.grad, atol=1e-4)
    compare_grads(ours, theirs, atol=1e-4)


def test_transformer_encoder_stack_and_errors():
    layer = R.nn.TransformerEncoderLayer(8, 2, 16)
    enc = R.nn.TransformerEncoder(layer, 3)
    assert len(enc.layers) == 3 and enc.layers[0] is not enc.layers[1]
    assert enc.layers[0].linear1.weight is not enc.layers[1].linear1.weight
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        R.nn.TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        R.nn.MultiheadAttention(6, 4)
    t = R.nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        t(R.zeros(3, 2, 8), R.zeros(3, 1, 8))


def test_is_causal_hint_needs_a_mask_like_torch():
    for lib in (R, torch):
        m = lib.nn.MultiheadAttention(4, 2)
        x = lib.zeros(3, 1, 4)
        with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal"):
            m(x, x, x, is_causal=True, need_weights=False)
    ours, theirs = pair("TransformerEncoderLayer", 4, 2, 8, dropout=0.0)
    x = randn(3, 2, 4)
    mask = R.nn.Transformer.generate_square_subsequent_mask(3)
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(3)
    close(ours(R.tensor(x), src_mask=mask, is_causal=True),
          theirs(torch.tensor(x), src_mask=tmask, is_causal=True), atol=1e-4)
