"""Dropout modules (active in training mode only)."""

from __future__ import annotations

from ..._tensor import Tensor
from .. import functional as F
from ._shared import variants
from .module import Module

__all__ = ["AlphaDropout", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d",
           "FeatureAlphaDropout"]


class _DropoutNd(Module):
    _fn = "dropout"

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return getattr(F, self._fn)(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


Dropout, Dropout1d, Dropout2d, Dropout3d, AlphaDropout, FeatureAlphaDropout = variants(
    _DropoutNd, "_fn", Dropout="dropout", Dropout1d="dropout1d", Dropout2d="dropout2d",
    Dropout3d="dropout3d", AlphaDropout="alpha_dropout",
    FeatureAlphaDropout="feature_alpha_dropout")
