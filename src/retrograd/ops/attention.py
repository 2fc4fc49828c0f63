"""``scaled_dot_product_attention`` of ``retrograd.nn.functional`` (a composite)."""

from __future__ import annotations

import math

import numpy as np

from .activation import softmax
from .dropout import dropout
from .unary import where

__all__ = ["scaled_dot_product_attention"]


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(q k^T * scale + mask) v, with optional causal mask and dropout."""
    seq_l, seq_s = query.shape[-2], key.shape[-2]
    factor = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    if enable_gqa:
        rep = query.shape[-3] // key.shape[-3]
        heads = np.repeat(np.arange(key.shape[-3]), rep)
        key = key[..., heads, :, :]
        value = value[..., heads, :, :]
    scores = query.matmul(key.transpose(-2, -1)) * factor
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not "
                               "be set when is_causal=True")
        allowed = np.tril(np.ones((seq_l, seq_s), bool))
        scores = where(allowed, scores, -math.inf)
    if attn_mask is not None:
        if attn_mask._data.dtype == np.bool_:
            scores = where(attn_mask._data, scores, -math.inf)
        else:
            scores = scores + attn_mask
    attn = softmax(scores, -1)
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p, training=True)
    return attn.matmul(value)
