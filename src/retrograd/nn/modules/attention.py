"""``MultiheadAttention``: scaled dot-product attention over ``num_heads`` projections."""

from __future__ import annotations

import math

from ..._tensor import Tensor
from .. import functional as F
from .. import init
from ._params import optional_param, param
from .linear import NonDynamicallyQuantizableLinear
from .module import Module

__all__ = ["MultiheadAttention"]


def _lib():
    import retrograd

    return retrograd


def _proj(x: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
    out = x @ w.t()
    return out if b is None else out + b


def _as_float_mask(mask: Tensor | None, dtype) -> Tensor | None:
    """Boolean masks (True = blocked) become additive -inf/0 masks."""
    if mask is None:
        return None
    lib = _lib()
    if mask.dtype == lib.bool:
        zero = lib.zeros((), dtype=dtype)
        return lib.where(mask, zero + float("-inf"), zero)
    return mask.to(dtype)


def _pad_last(mask: Tensor | None) -> Tensor | None:
    """One more (unmasked) key column, for bias_k/bias_v or the zero-attention slot."""
    if mask is None:
        return None
    lib = _lib()
    pad = lib.zeros((*mask.shape[:-1], 1), dtype=mask.dtype)
    return lib.cat([mask, pad], -1)


def multi_head_attention_forward(query, key, value, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight,
                                 out_proj_bias, training=True, key_padding_mask=None,
                                 need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None,
                                 average_attn_weights=True, is_causal=False):
    """PyTorch's ``F.multi_head_attention_forward`` on (L, N, E) inputs (or unbatched)."""
    lib = _lib()
    unbatched = query.dim() == 2
    if unbatched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
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
        k = lib.cat([k, bias_k.expand(1, bsz, embed_dim)], 0)
        v = lib.cat([v, bias_v.expand(1, bsz, embed_dim)], 0)
        attn_mask = _pad_last(attn_mask)
        key_padding_mask = _pad_last(key_padding_mask)

    # (L, N, E) -> (N * H, L, head_dim)
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    v = v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    if add_zero_attn:
        zeros = lib.zeros((bsz * num_heads, 1, head_dim), dtype=q.dtype)
        k = lib.cat([k, zeros], 1)
        v = lib.cat([v, zeros], 1)
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
    weights = F.softmax(scores, dim=-1)
    if dropout_p > 0.0 and training:
        weights = F.dropout(weights, dropout_p, True)
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


class MultiheadAttention(Module):
    """Attention(Q, K, V) over ``num_heads`` heads, with PyTorch's parameter layout
    (``in_proj_weight`` stacks W_q, W_k, W_v)."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim=None, vdim=None,
                 batch_first: bool = False, device=None, dtype=None) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} "
                f"and num_heads={num_heads} instead"
            )
        super().__init__()
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.add_zero_attn = add_zero_attn
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self.head_dim, leftover = divmod(embed_dim, num_heads)
        if leftover:
            raise AssertionError("embed_dim must be divisible by num_heads")
        # One stacked (3E, E) projection when query, key and value share the embedding
        # size; three separate ones otherwise. The unused names stay as None slots.
        self._qkv_same_embed_dim = self.kdim == self.vdim == embed_dim
        stacked = self._qkv_same_embed_dim
        optional_param(self, "in_proj_weight", stacked, (3 * embed_dim, embed_dim), device,
                       dtype)
        for name, width in (("q", embed_dim), ("k", self.kdim), ("v", self.vdim)):
            optional_param(self, f"{name}_proj_weight", not stacked, (embed_dim, width),
                           device, dtype)
        optional_param(self, "in_proj_bias", bias, (3 * embed_dim,), device, dtype)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias,
                                                        device=device, dtype=dtype)
        if add_bias_kv:
            self.bias_k = param((1, 1, embed_dim), device, dtype)
            self.bias_v = param((1, 1, embed_dim), device, dtype)
        else:
            self.bias_k = self.bias_v = None
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                key_padding_mask: Tensor | None = None, need_weights: bool = True,
                attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        is_batched = query.dim() == 3
        if self.batch_first and is_batched:
            query, key, value = (x.transpose(0, 1) for x in (query, key, value))
        out, weights = multi_head_attention_forward(
            query, key, value, self.num_heads, self.in_proj_weight, self.in_proj_bias,
            self.bias_k, self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight,
            self.out_proj.bias, training=self.training, key_padding_mask=key_padding_mask,
            need_weights=need_weights, attn_mask=attn_mask,
            use_separate_proj_weight=not self._qkv_same_embed_dim,
            q_proj_weight=self.q_proj_weight, k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight, average_attn_weights=average_attn_weights,
            is_causal=is_causal,
        )
        if self.batch_first and is_batched:
            out = out.transpose(0, 1)
        return out, weights
