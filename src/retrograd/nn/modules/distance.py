"""PyTorch's module path for ``PairwiseDistance``/``CosineSimilarity``; they live in ``fold``."""

from .fold import CosineSimilarity, PairwiseDistance

__all__ = ["CosineSimilarity", "PairwiseDistance"]
