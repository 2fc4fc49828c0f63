"""``Embedding`` and ``EmbeddingBag``: lookup tables over a ``(num_embeddings, dim)`` weight.

Both share one constructor (``_Table``): resolve ``padding_idx`` to a row number, take a
given weight or draw one from N(0, 1), and zero the padding row. The lookups themselves are
``nn.functional.embedding`` / ``embedding_bag``.
"""

from __future__ import annotations

from typing import Any

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ...ops.creation import empty
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["Embedding", "EmbeddingBag"]


def _padding_row(padding_idx: int | None, rows: int, label: str) -> int | None:
    """``padding_idx`` as a row number (negative counts from the end), or None."""
    if padding_idx is None:
        return None
    if not -rows <= padding_idx < rows:
        raise AssertionError(f"{label} must be within num_embeddings")
    return padding_idx % rows


def _flags(module: Module, names: list[str], defaults: dict[str, Any]) -> list[str]:
    """``name=value`` for each attribute that differs from its default (repr order kept)."""
    shown = []
    for name in names:
        value = getattr(module, name)
        if name not in defaults or value != defaults[name]:
            shown.append(f"{name}={value!r}")
    return shown


class _Table(Module):
    """The weight table and the options both embedding modules take."""

    _padding_label = "padding_idx"

    def _build(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None,
               max_norm: float | None, norm_type: float, scale_grad_by_freq: bool,
               sparse: bool, weight: Tensor | None, device: Any, dtype: Any) -> None:
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = _padding_row(padding_idx, num_embeddings, self._padding_label)
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if weight is None:
            self.weight = Parameter(
                empty((num_embeddings, embedding_dim), device=device, dtype=dtype))
            self.reset_parameters()
            return
        if tuple(weight.shape) != (num_embeddings, embedding_dim):
            raise AssertionError(
                "Shape of weight does not match num_embeddings and embedding_dim")
        self.weight = Parameter(weight)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self) -> None:
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0

    @staticmethod
    def _check_pretrained(embeddings: Tensor) -> tuple[int, int]:
        if embeddings.dim() != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        return tuple(embeddings.shape)


class Embedding(_Table):
    """A lookup table: index ``i`` gives row ``i`` of ``weight`` (drawn from N(0, 1)).

    The ``padding_idx`` row starts at zero and gets no gradient.

    >>> import retrograd as torch
    >>> torch.nn.Embedding(10, 3, padding_idx=0)
    Embedding(10, 3, padding_idx=0)
    """

    _padding_label = "Padding_idx"

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False,
                 _weight: Tensor | None = None, _freeze: bool = False, device=None,
                 dtype=None) -> None:
        super().__init__()
        self._build(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type,
                    scale_grad_by_freq, sparse, _weight, device, dtype)
        self.weight.requires_grad_(not _freeze)

    def forward(self, input: Tensor) -> Tensor:
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm,
                           self.norm_type, self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        shown = _flags(self, ["padding_idx", "max_norm", "norm_type", "scale_grad_by_freq",
                              "sparse"],
                       {"padding_idx": None, "max_norm": None, "norm_type": 2,
                        "scale_grad_by_freq": False, "sparse": False})
        return ", ".join([f"{self.num_embeddings}, {self.embedding_dim}", *shown])

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, padding_idx=None,
                        max_norm=None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, sparse: bool = False) -> Embedding:
        """An Embedding whose weight is ``embeddings`` (frozen unless ``freeze=False``)."""
        rows, dim = cls._check_pretrained(embeddings)
        return cls(rows, dim, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=embeddings, _freeze=freeze)


class EmbeddingBag(_Table):
    """Sums, averages or takes the max of the embeddings in each bag of indices.

    Bags are the rows of a 2-D input, or runs of a 1-D input that start at ``offsets``.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight: Tensor | None = None,
                 include_last_offset: bool = False, padding_idx: int | None = None,
                 device=None, dtype=None) -> None:
        super().__init__()
        self._build(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type,
                    scale_grad_by_freq, sparse, _weight, device, dtype)
        self.mode = mode
        self.include_last_offset = include_last_offset

    def forward(self, input: Tensor, offsets: Tensor | None = None,
                per_sample_weights: Tensor | None = None) -> Tensor:
        if per_sample_weights is not None and self.mode != "sum":
            raise NotImplementedError(
                "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                f"supported for mode='sum' (got mode='{self.mode}'). Please open a feature "
                "request on GitHub."
            )
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                               self.scale_grad_by_freq, self.mode, self.sparse,
                               per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self) -> str:
        shown = _flags(self, ["max_norm", "norm_type", "scale_grad_by_freq", "mode",
                              "padding_idx"],
                       {"max_norm": None, "norm_type": 2, "scale_grad_by_freq": False,
                        "padding_idx": None})
        return ", ".join([f"{self.num_embeddings}, {self.embedding_dim}", *shown])

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, max_norm=None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        mode: str = "mean", sparse: bool = False, include_last_offset=False,
                        padding_idx=None) -> EmbeddingBag:
        """An EmbeddingBag whose weight is ``embeddings`` (frozen unless ``freeze=False``)."""
        rows, dim = cls._check_pretrained(embeddings)
        bag = cls(rows, dim, max_norm, norm_type, scale_grad_by_freq, mode, sparse,
                  embeddings, include_last_offset, padding_idx)
        bag.weight.requires_grad_(not freeze)
        return bag
