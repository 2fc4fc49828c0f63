"""``multi_head_attention_forward``: the functional form of ``nn.MultiheadAttention``, a
composite of projections, scaled dot products, softmax and dropout."""

from __future__ import annotations

import math

from .. import _dtype as dtypes
from .._tensor import Tensor
from ..ops.creation import zeros
from ..ops.dropout import dropout
from ..ops.joining import cat
from ..ops.softmax import softmax
from ..ops.where import where

__all__ = ["multi_head_attention_forward"]


def _proj(x: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
    out = x @ w.t()
    return out if b is None else out + b


def _as_float_mask(mask: Tensor | None, dtype) -> Tensor | None:
    """Boolean masks (True = blocked) become additive -inf/0 masks."""
    if mask is None:
        return None
    if mask.dtype == dtypes.bool:
        zero = zeros((), dtype=dtype)
        return where(mask, zero + float("-inf"), zero)
    return mask.to(dtype)


def _pad_last(mask: Tensor | None) -> Tensor | None:
    """One more (unmasked) key column, for bias_k/bias_v or the zero-attention slot."""
    if mask is None:
        return None
    pad = zeros((*mask.shape[:-1], 1), dtype=mask.dtype)
    return cat([mask, pad], -1)


def _heads(x, static, name, batch_heads, head_dim):
    """(S, N, E) -> (N * H, S, head_dim), or the given precomputed ``static`` one."""
    if static is None:
        return x.reshape(x.shape[0], batch_heads, head_dim).transpose(0, 1)
    if static.shape[0] != batch_heads or static.shape[2] != head_dim:
        raise AssertionError(f"expecting {name} of shape (N * num_heads, S, head_dim) = "
                             f"({batch_heads}, S, {head_dim}), but got {tuple(static.shape)}")
    return static


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """Multi-head attention on (L, N, E) query and (S, N, E) key/value (or unbatched):
    project, split into ``num_heads`` heads, softmax(q k^T / sqrt(head_dim) + masks) v,
    join and project out. Returns ``(output, weights)`` (weights averaged over heads when
    ``average_attn_weights``; None unless ``need_weights``). ``static_k``/``static_v``
    (N * num_heads, S, head_dim) replace the projected keys/values."""
    unbatched = query.dim() == 2
    if unbatched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim, leftover = divmod(embed_dim, num_heads)
    if leftover:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    w_q, w_k, w_v = ((q_proj_weight, k_proj_weight, v_proj_weight) if use_separate_proj_weight
                     else in_proj_weight.chunk(3))
    if in_proj_bias is None:
        b_q = b_k = b_v = None
    else:
        b_q, b_k, b_v = (in_proj_bias[:embed_dim], in_proj_bias[embed_dim:2 * embed_dim],
                         in_proj_bias[2 * embed_dim:])
    q, k, v = _proj(query, w_q, b_q), _proj(key, w_k, b_k), _proj(value, w_v, b_v)

    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer "
            "module method `generate_square_subsequent_mask` to create this mask."
        )
    attn_mask = _as_float_mask(attn_mask, q.dtype)
    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(
                    f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but should "
                    f"be {(tgt_len, src_len)}."
                )
            attn_mask = attn_mask.unsqueeze(0)
        elif tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
            raise RuntimeError(
                f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but should be "
                f"{(bsz * num_heads, tgt_len, src_len)}."
            )
    key_padding_mask = _as_float_mask(key_padding_mask, q.dtype)

    if bias_k is not None and bias_v is not None:
        k = cat([k, bias_k.expand(1, bsz, embed_dim)], 0)
        v = cat([v, bias_v.expand(1, bsz, embed_dim)], 0)
        attn_mask = _pad_last(attn_mask)
        key_padding_mask = _pad_last(key_padding_mask)

    # (L, N, E) -> (N * H, L, head_dim)
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = _heads(k, static_k, "static_k", bsz * num_heads, head_dim)
    v = _heads(v, static_v, "static_v", bsz * num_heads, head_dim)
    if add_zero_attn:
        slot = zeros((bsz * num_heads, 1, head_dim), dtype=q.dtype)
        k = cat([k, slot], 1)
        v = cat([v, slot], 1)
        attn_mask = _pad_last(attn_mask)
        key_padding_mask = _pad_last(key_padding_mask)
    src_len = k.shape[1]

    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise AssertionError(
                f"expecting key_padding_mask shape of {(bsz, src_len)}, but got "
                f"{tuple(key_padding_mask.shape)}"
            )
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(bsz, num_heads, 1, src_len)
        kpm = kpm.reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm

    scores = (q * (1.0 / math.sqrt(head_dim))) @ k.transpose(-2, -1)
    if attn_mask is not None:
        scores = scores + attn_mask
    weights = softmax(scores, dim=-1)
    if dropout_p > 0.0 and training:
        weights = dropout(weights, dropout_p, True)
    out = weights @ v  # (N * H, L, head_dim)
    out = out.transpose(0, 1).reshape(tgt_len, bsz, embed_dim)
    out = _proj(out, out_proj_weight, out_proj_bias)
    if unbatched:
        out = out.squeeze(1)
    if not need_weights:
        return out, None
    weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
    if average_attn_weights:
        weights = weights.mean(1)
    if unbatched:
        weights = weights.squeeze(0)
    return out, weights
