"""Datasets: ``Dataset``, ``IterableDataset``, ``TensorDataset``, ``StackDataset``,
``ConcatDataset``, ``ChainDataset``, ``Subset`` and ``random_split``.

Map-style datasets answer ``ds[i]`` (and may answer a whole batch through ``__getitems__``,
which ``DataLoader`` prefers); iterable ones are streams. The combinators here are views:
they keep their parts and translate indices, never copying samples.
"""

from __future__ import annotations

import math
import warnings
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from itertools import accumulate
from typing import Any

from ..._tensor import Tensor
from ...ops.creation import randperm
from ...random import default_generator

__all__ = ["ChainDataset", "ConcatDataset", "Dataset", "IterableDataset", "StackDataset",
           "Subset", "TensorDataset", "random_split"]


class Dataset:
    """A map-style dataset: ``__getitem__(index)`` and (usually) ``__len__``."""

    def __getitem__(self, index) -> Any:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: ``__iter__``. Used by ``DataLoader`` without a sampler."""

    def __iter__(self) -> Iterator:
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other: Dataset) -> ChainDataset:
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Sample ``i`` is ``tuple(t[i] for t in tensors)``; the tensors share their first size."""

    def __init__(self, *tensors: Tensor) -> None:
        sizes = {t.size(0) for t in tensors}
        if len(sizes) > 1:
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].size(0)


def _fetch_many(dataset, indices: list) -> list:
    """``[dataset[i] for i in indices]``, through the dataset's batch fetch when it has one."""
    getitems = getattr(dataset, "__getitems__", None)
    if callable(getitems):
        return getitems(indices)
    return [dataset[i] for i in indices]


class StackDataset(Dataset):
    """Datasets side by side: sample ``i`` is the tuple of their samples ``i`` (positional
    datasets) or the dict of them (keyword datasets). All must have the same length."""

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via "
                             "``kwargs``) like input/output, but both types are given.")
        parts = list(args) or list(kwargs.values())
        if not parts:
            raise ValueError("At least one dataset should be passed")
        if len({len(p) for p in parts}) > 1:
            raise ValueError("Size mismatch between datasets")
        self._length = len(parts[0])
        self.datasets = args if args else kwargs

    def _pack(self, samples):
        if isinstance(self.datasets, dict):
            return dict(zip(self.datasets, samples))
        return tuple(samples)

    def __getitem__(self, index):
        parts = self.datasets.values() if isinstance(self.datasets, dict) else self.datasets
        return self._pack([d[index] for d in parts])

    def __getitems__(self, indices: list) -> list:
        parts = self.datasets.values() if isinstance(self.datasets, dict) else self.datasets
        columns = []
        for d in parts:
            got = _fetch_many(d, indices)
            if len(got) != len(indices):
                raise ValueError("Nested dataset's output size mismatch. Expected "
                                 f"{len(indices)}, got {len(got)}")
            columns.append(got)
        return [self._pack(row) for row in zip(*columns)]

    def __len__(self) -> int:
        return self._length


class ConcatDataset(Dataset):
    """Map-style datasets one after another; index ``i`` falls in the first dataset whose
    running total of lengths exceeds it."""

    @staticmethod
    def cumsum(sequence) -> list[int]:
        """Running totals of the lengths (``cumulative_sizes``)."""
        return list(accumulate(len(d) for d in sequence))

    def __init__(self, datasets) -> None:
        parts = list(datasets)
        if not parts:
            raise AssertionError("datasets should not be an empty iterable")
        if any(isinstance(d, IterableDataset) for d in parts):
            raise AssertionError("ConcatDataset does not support IterableDataset")
        self.datasets = parts
        self.cumulative_sizes = self.cumsum(parts)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        total = len(self)
        if idx < 0:
            if idx < -total:
                raise ValueError("absolute value of index should not exceed dataset length")
            idx += total
        which = bisect_right(self.cumulative_sizes, idx)
        offset = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - offset]


class ChainDataset(IterableDataset):
    """Iterable datasets one after another, read lazily (each is opened when reached)."""

    def __init__(self, datasets) -> None:
        self.datasets = datasets

    def __iter__(self):
        for part in self.datasets:
            if not isinstance(part, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from part

    def __len__(self) -> int:
        return sum(len(part) for part in self.datasets)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list[int]) -> list:
        return _fetch_many(self.dataset, [self.indices[i] for i in indices])

    def __len__(self) -> int:
        return len(self.indices)


def _lengths_from_fractions(fractions: Sequence[float], n: int) -> list[int]:
    """Each fraction gets ``floor(frac * n)``; the samples left over go one each to the
    splits in order, from the first (PyTorch's rule, so splits have the same sizes)."""
    for i, frac in enumerate(fractions):
        if not 0 <= frac <= 1:
            raise ValueError(f"Fraction at index {i} is not between 0 and 1")
    sizes = [math.floor(n * frac) for frac in fractions]
    short = n - sum(sizes)
    for i in range(short):
        sizes[i % len(sizes)] += 1
    for i, size in enumerate(sizes):
        if size == 0:
            warnings.warn(f"Length of split at index {i} is 0. This might result in an empty "
                          "dataset.", stacklevel=3)
    return sizes


def random_split(dataset: Dataset, lengths: Sequence[int | float],
                 generator=default_generator) -> list[Subset]:
    """Split ``dataset`` at random into non-overlapping subsets of the given lengths, or of
    the given fractions of its length (fractions summing to 1).

    >>> import retrograd as torch
    >>> a, b = torch.utils.data.random_split(range(10), [0.7, 0.3],
    ...                                      generator=torch.Generator().manual_seed(0))
    >>> len(a), len(b)
    (7, 3)
    """
    total = sum(lengths)
    if total <= 1 and math.isclose(total, 1):
        lengths = _lengths_from_fractions(lengths, len(dataset))
    if sum(lengths) != len(dataset):
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = randperm(sum(lengths), generator=generator).tolist()
    ends = list(accumulate(lengths))
    return [Subset(dataset, order[end - size:end]) for size, end in zip(lengths, ends)]
