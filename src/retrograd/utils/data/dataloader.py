"""``DataLoader``: batches from a dataset through a sampler and a collate function.

With ``num_workers=0`` loading runs in the calling process. With ``num_workers > 0`` that
many worker processes load batches ahead (``prefetch_factor`` each), started with the
platform's default method or ``multiprocessing_context`` (fork, spawn, forkserver); batches
come back in the same order as with ``num_workers=0``. Tensors cross processes pickled as
NumPy arrays. ``pin_memory`` has no effect: there is no accelerator memory to pin for.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from ...random import Generator
from ._iterators import MultiProcessIter, SingleProcessIter, resolve_context
from ._utils.collate import default_collate, default_convert
from ._worker import get_worker_info
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info"]


class DataLoader:
    """Iterate over ``dataset`` in (optionally shuffled) batches.

    Args:
        dataset: a map-style ``Dataset`` (``__getitem__``/``__len__``) or an ``IterableDataset``.
        batch_size: samples per batch; ``None`` turns automatic batching off.
        shuffle: reshuffle at every epoch (a ``RandomSampler`` drawing from ``generator``).
        sampler, batch_sampler: custom index orders (mutually exclusive with the options
            above, as in PyTorch).
        collate_fn: merges a list of samples into a batch (``default_collate``).
        drop_last: drop the last, incomplete batch.
        num_workers: worker processes that load batches ahead (0: load in this process).
        pin_memory: accepted; warns and has no effect (no accelerator memory to pin for).
        timeout: seconds to wait for a batch from the workers before a ``RuntimeError``
            (0: wait for ever).
        worker_init_fn: called in each worker with its id, after seeding, before loading.
        multiprocessing_context: a start method name ('fork', 'spawn', 'forkserver') or a
            ``multiprocessing`` context; the platform's default when ``None``.
        generator: the ``retrograd.Generator`` used for shuffling and for the workers' base
            seed (``get_worker_info().seed`` is base seed + worker id).
        prefetch_factor: batches each worker loads ahead (2 when ``num_workers > 0``).
        persistent_workers: keep the worker processes alive across epochs.
        in_order: yield batches in sampler order (``False``: as soon as any is ready).

    >>> import retrograd as torch
    >>> from retrograd.utils.data import DataLoader, TensorDataset
    >>> ds = TensorDataset(torch.arange(5), torch.arange(5) * 10)
    >>> [b[1].tolist() for b in DataLoader(ds, batch_size=2)]
    [[0, 10], [20, 30], [40]]
    """

    def __init__(self, dataset: Dataset, batch_size: int | None = 1,
                 shuffle: bool | None = None, sampler: Sampler | None = None,
                 batch_sampler: Sampler | None = None, num_workers: int = 0,
                 collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable | None = None, multiprocessing_context: Any = None,
                 generator: Generator | None = None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None and prefetch_factor < 1:
            raise ValueError(f"prefetch_factor option should be a positive integer, but got "
                             f"prefetch_factor={prefetch_factor}")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if multiprocessing_context is not None:
            if num_workers == 0:
                raise ValueError("multiprocessing_context can only be used with multi-process "
                                 f"loading (num_workers > 0), but got num_workers={num_workers}")
            resolve_context(multiprocessing_context)  # a bad name fails here, not at iter()
        if num_workers > 0:
            _check_worker_number(num_workers)
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self._iterator = None
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.persistent_workers = persistent_workers
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = "iterable"
            if shuffle not in {False, None}:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            self._dataset_kind = "map"
            shuffle = bool(shuffle)

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")

        if sampler is None and self._dataset_kind == "map":
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None and self._dataset_kind == "map":
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None or (
            self._dataset_kind == "iterable" and self.batch_size is not None)

    @property
    def _index_sampler(self):
        return self.batch_sampler if self.batch_sampler is not None else self.sampler

    def __iter__(self) -> Iterator:
        if self.num_workers == 0:
            return SingleProcessIter(self)
        if not self.persistent_workers:
            return MultiProcessIter(self)
        # Persistent workers: one set of processes serves every epoch.
        if self._iterator is None:
            self._iterator = MultiProcessIter(self)
        else:
            self._iterator._start_epoch()
        return self._iterator

    def __len__(self) -> int:
        if self._dataset_kind == "iterable":
            length = len(self.dataset)
            if self.batch_size is not None:
                if self.drop_last:
                    return length // self.batch_size
                return -(-length // self.batch_size)
            return length
        return len(self._index_sampler)


def _check_worker_number(num_workers: int) -> None:
    """Warn, as PyTorch does, when more workers are asked for than there are CPUs to run them."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS and Windows
        cpus = os.cpu_count() or 1
    if num_workers > cpus:
        warnings.warn(f"This DataLoader will create {num_workers} worker processes in total. Our "
                      f"suggested max number of worker in current system is {cpus}, which is "
                      "smaller than what this DataLoader is going to create. Please be aware "
                      "that excessive worker creation might get DataLoader running slow or even "
                      "freeze, lower the worker number to avoid potential slowness/freeze if "
                      "necessary.", UserWarning, stacklevel=3)
