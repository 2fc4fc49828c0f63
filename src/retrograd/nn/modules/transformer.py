"""Transformer encoder/decoder layers and stacks, as in "Attention Is All You Need"."""

from __future__ import annotations

import copy
from collections.abc import Callable

from ..._tensor import Tensor
from .. import functional as F
from .. import init
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm

__all__ = ["Transformer", "TransformerDecoder", "TransformerDecoderLayer",
           "TransformerEncoder", "TransformerEncoderLayer"]


def _get_clones(module: Module, n: int) -> ModuleList:
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


def _get_activation_fn(activation: str) -> Callable[[Tensor], Tensor]:
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


def _generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
    """A float mask with -inf above the diagonal (position i sees positions <= i)."""
    import retrograd

    dtype = dtype or retrograd.get_default_dtype()
    blocked = retrograd.arange(sz).unsqueeze(0) > retrograd.arange(sz).unsqueeze(1)
    zero = retrograd.zeros((), dtype=dtype, device=device)
    return retrograd.where(blocked, zero + float("-inf"), zero)


class _ResidualLayer(Module):
    """The body shared by the encoder and decoder layers.

    A layer is a list of sublayers, each wrapped as ``x + branch(norm(x))`` (``norm_first``)
    or ``norm(x + branch(x))``: self-attention, for the decoder attention over the encoder's
    memory, and the feed-forward block. The children are registered in PyTorch's order
    (which ``repr`` and ``state_dict`` show): attentions, linear1, dropout, linear2, the
    norms, the per-sublayer dropouts, and the activation when it is a Module. ``_attentions``
    names the attention sublayers.
    """

    _attentions: tuple[str, ...] = ()

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable = "relu",
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        like = {"device": device, "dtype": dtype}
        for name in self._attentions:
            setattr(self, name, MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                   batch_first=batch_first, **like))
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **like)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **like)
        self.norm_first = norm_first
        sublayers = len(self._attentions) + 1
        for k in range(1, sublayers + 1):
            setattr(self, f"norm{k}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **like))
        for k in range(1, sublayers + 1):
            setattr(self, f"dropout{k}", Dropout(dropout))
        self.activation = (_get_activation_fn(activation) if isinstance(activation, str)
                           else activation)

    def _attend(self, attention: Module, x: Tensor, memory: Tensor | None, mask, padding,
                is_causal: bool, dropout: Module) -> Tensor:
        source = x if memory is None else memory
        out = attention(x, source, source, attn_mask=mask, key_padding_mask=padding,
                        need_weights=False, is_causal=is_causal)[0]
        return dropout(out)

    def _feed_forward(self, x: Tensor, dropout: Module) -> Tensor:
        hidden = self.dropout(self.activation(self.linear1(x)))
        return dropout(self.linear2(hidden))

    def _residuals(self, x: Tensor, branches: list[Callable[[Tensor], Tensor]]) -> Tensor:
        for k, branch in enumerate(branches, 1):
            norm = getattr(self, f"norm{k}")
            x = x + branch(norm(x)) if self.norm_first else norm(x + branch(x))
        return x


class TransformerEncoderLayer(_ResidualLayer):
    """Self-attention then a feed-forward block, each with a residual and a LayerNorm."""

    _attentions = ("self_attn",)

    def forward(self, src: Tensor, src_mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None, is_causal: bool = False) -> Tensor:
        return self._residuals(src, [
            lambda h: self._attend(self.self_attn, h, None, src_mask, src_key_padding_mask,
                                   is_causal, self.dropout1),
            lambda h: self._feed_forward(h, self.dropout2),
        ])


class TransformerDecoderLayer(_ResidualLayer):
    """Self-attention, attention over the encoder's memory, then a feed-forward block."""

    _attentions = ("self_attn", "multihead_attn")

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False) -> Tensor:
        return self._residuals(tgt, [
            lambda h: self._attend(self.self_attn, h, None, tgt_mask, tgt_key_padding_mask,
                                   tgt_is_causal, self.dropout1),
            lambda h: self._attend(self.multihead_attn, h, memory, memory_mask,
                                   memory_key_padding_mask, memory_is_causal, self.dropout2),
            lambda h: self._feed_forward(h, self.dropout3),
        ])


class TransformerEncoder(Module):
    """``num_layers`` deep copies of ``encoder_layer``, then an optional norm."""

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int,
                 norm: Module | None = None, enable_nested_tensor: bool = True,
                 mask_check: bool = True) -> None:
        super().__init__()
        self.layers = _get_clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check

    def forward(self, src: Tensor, mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None,
                is_causal: bool | None = None) -> Tensor:
        output = src
        for mod in self.layers:
            output = mod(output, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                         is_causal=bool(is_causal))
        if self.norm is not None:
            output = self.norm(output)
        return output


class TransformerDecoder(Module):
    """``num_layers`` deep copies of ``decoder_layer``, then an optional norm."""

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int,
                 norm: Module | None = None) -> None:
        super().__init__()
        self.layers = _get_clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        output = tgt
        for mod in self.layers:
            output = mod(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                         tgt_key_padding_mask=tgt_key_padding_mask,
                         memory_key_padding_mask=memory_key_padding_mask,
                         tgt_is_causal=bool(tgt_is_causal),
                         memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """An encoder-decoder transformer; parameters with dim > 1 are Xavier-uniform."""

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable = "relu",
                 custom_encoder: Module | None = None, custom_decoder: Module | None = None,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        like = {"device": device, "dtype": dtype}

        def stack(custom: Module | None, layer_cls: type, stack_cls: type, num_layers: int):
            """``custom``, else ``num_layers`` layers of ``layer_cls`` and a final LayerNorm."""
            if custom is not None:
                return custom
            layer = layer_cls(d_model, nhead, dim_feedforward, dropout, activation,
                              layer_norm_eps, batch_first, norm_first, bias, **like)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **like)
            return stack_cls(layer, num_layers, norm)

        self.encoder = stack(custom_encoder, TransformerEncoderLayer, TransformerEncoder,
                             num_encoder_layers)
        self.decoder = stack(custom_decoder, TransformerDecoderLayer, TransformerDecoder,
                             num_decoder_layers)
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(self, src: Tensor, tgt: Tensor, src_mask: Tensor | None = None,
                tgt_mask: Tensor | None = None, memory_mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None,
                src_is_causal: bool | None = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        batch_dim = 0 if self.batch_first else 1
        if src.dim() == 3 and src.shape[batch_dim] != tgt.shape[batch_dim]:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
        return _generate_square_subsequent_mask(sz, device, dtype)

    def _reset_parameters(self) -> None:
        for p in self.parameters():
            if p.dim() > 1:
                init.xavier_uniform_(p)
