"""``DistributedSampler``: each process of a data-parallel job reads its own share."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from ...random import Generator
from .dataset import Dataset
from .sampler import Sampler

__all__ = ["DistributedSampler"]


def _process_group_info() -> tuple[int, int]:
    try:
        from ... import distributed as dist
    except ImportError:
        dist = None
    if dist is None or not getattr(dist, "is_available", lambda: False)() or \
            not dist.is_initialized():
        raise RuntimeError("Requires distributed package to be available")
    return dist.get_world_size(), dist.get_rank()


class DistributedSampler(Sampler):
    """The indices of ``dataset`` for process ``rank`` of ``num_replicas``, as PyTorch's.

    Every process sees ``ceil(len / num_replicas)`` indices (the list is padded by repeating
    its start, or truncated with ``drop_last``). With ``shuffle`` the order comes from
    ``seed + epoch``, the same in every process; call :meth:`set_epoch` at each epoch.
    """

    def __init__(self, dataset: Dataset, num_replicas: int | None = None,
                 rank: int | None = None, shuffle: bool = True, seed: int = 0,
                 drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            world, me = _process_group_info()
            num_replicas = world if num_replicas is None else num_replicas
            rank = me if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        if drop_last and len(dataset) % num_replicas != 0:
            self.num_samples = math.ceil((len(dataset) - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(len(dataset) / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        if self.shuffle:
            # A fresh stream per epoch: every process computes the same permutation.

            g = Generator().manual_seed(self.seed + self.epoch)
            indices = g._rng.permutation(len(self.dataset)).tolist()
        else:
            indices = list(range(len(self.dataset)))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            else:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[: self.total_size]
        if len(indices) != self.total_size:  # pragma: no cover - by construction
            raise AssertionError(f"Number of indices ({len(indices)}) does not match "
                                 f"total_size ({self.total_size})")
        return iter(np.asarray(indices[self.rank:self.total_size:self.num_replicas]).tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch that seeds the shuffle (call before each epoch's iterator)."""
        self.epoch = epoch
