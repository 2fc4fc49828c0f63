"""What runs inside a ``DataLoader`` worker process: ``WorkerInfo``, ``get_worker_info``,
the fetch of one batch, and the loop that serves the main process's requests.

A worker owns a replica of the dataset (inherited under fork, unpickled under spawn). It
reads ``(epoch, task, indices)`` requests from its own queue and answers
``(epoch, task, worker_id, batch)`` on the shared result queue. An exception is not raised in
the worker: it travels back as a ``WorkerError`` carrying its class and formatted traceback,
so the main process raises it naming the worker, as PyTorch does.
"""

from __future__ import annotations

import os
import queue
import random
import sys
import traceback
from dataclasses import dataclass
from typing import Any

from ..._runtime import limit_threads_if_possible
from ...random import manual_seed

__all__ = ["WorkerInfo", "get_worker_info"]

# Set once in each worker process before worker_init_fn runs; None in the main process.
_worker_info: WorkerInfo | None = None

# How often (seconds) an idle worker looks whether it should stop: its parent died, or the
# iterator shut down without reaching it through the queue (queues finalized in a gc cycle).
POLL_INTERVAL = 0.2


class WorkerInfo:
    """Facts about the worker process this code runs in (``get_worker_info()``).

    Attributes:
        id: this worker's number, ``0 <= id < num_workers``.
        num_workers: how many workers the ``DataLoader`` started.
        seed: the seed of this worker's random state (``base_seed + id``).
        dataset: this process's replica of the dataset.
    """

    __slots__ = ("dataset", "id", "num_workers", "seed")

    def __init__(self, *, id: int, num_workers: int, seed: int, dataset: Any) -> None:
        self.id = id
        self.num_workers = num_workers
        self.seed = seed
        self.dataset = dataset

    def __setattr__(self, name: str, value: Any) -> None:
        # Frozen after construction, as PyTorch's: a dataset must not rewrite its worker id.
        if hasattr(self, name):
            raise RuntimeError(f"Cannot assign attributes to WorkerInfo objects ({name!r})")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return (f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, "
                f"dataset={self.dataset!r})")


def get_worker_info() -> WorkerInfo | None:
    """In a ``DataLoader`` worker process, its ``WorkerInfo``; in the main process ``None``.

    An ``IterableDataset`` uses it in ``__iter__`` to pick its share of the data:

    >>> from retrograd.utils.data import get_worker_info
    >>> get_worker_info() is None
    True
    """
    return _worker_info


class WorkerError:
    """An exception raised in a worker, sent to the main process to be raised there."""

    def __init__(self, exc: BaseException, where: str) -> None:
        self.exc_type = type(exc)
        self.where = where
        self.text = "".join(traceback.format_exception(exc))

    def reraise(self) -> None:
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.text}"
        if self.exc_type is KeyError:
            # KeyError's str() is the repr of its argument, which would escape the traceback.
            raise _KeyErrorMessage(msg)
        try:
            err = self.exc_type(msg)
        except Exception:
            # Classes whose constructor takes other arguments (UnicodeDecodeError, ...).
            raise RuntimeError(msg) from None
        try:
            raise err
        finally:
            del err  # no frame -> exception -> traceback -> frame cycle keeping the iterator


class _KeyErrorMessage(KeyError):
    def __str__(self) -> str:
        return self.args[0]


@dataclass(frozen=True)
class IterableEnd:
    """A worker's answer once its replica of an IterableDataset is exhausted."""

    worker_id: int


class Fetcher:
    """Turns a request into a batch: indices for a map-style dataset; for an iterable one,
    the next ``batch_size`` samples of this process's iterator over its replica."""

    def __init__(self, dataset, kind: str, auto_collation: bool, collate_fn,
                 batch_size: int | None, drop_last: bool) -> None:
        self.dataset = dataset
        self.kind = kind
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.batch_size = batch_size
        self.drop_last = drop_last
        self._it = None

    def restart(self) -> None:
        self._it = iter(self.dataset) if self.kind == "iterable" else None

    def fetch(self, indices):
        """A batch; ``StopIteration`` when an iterable dataset has no (full) batch left."""
        if self.kind == "map":
            if not self.auto_collation:
                return self.collate_fn(self.dataset[indices])
            getitems = getattr(self.dataset, "__getitems__", None)
            samples = getitems(indices) if callable(getitems) else [
                self.dataset[i] for i in indices]
            return self.collate_fn(samples)
        if self._it is None:
            self.restart()
        if not self.auto_collation:
            return self.collate_fn(next(self._it))
        batch = []
        for sample in self._it:
            batch.append(sample)
            if len(batch) == self.batch_size:
                break
        if not batch or (self.drop_last and len(batch) < self.batch_size):
            raise StopIteration
        return self.collate_fn(batch)


def _prepare_process(seed: int) -> None:
    """Seed Python's and retrograd's random state of this worker (PyTorch seeds these two),
    and keep its BLAS to one thread: N workers each running a CPU-wide BLAS pool would
    oversubscribe the machine (PyTorch's workers also run single-threaded)."""

    random.seed(seed)
    manual_seed(seed)
    limit_threads_if_possible(1)


def worker_loop(fetcher: Fetcher, index_queue, result_queue, done_event, worker_id: int,
                num_workers: int, seed: int, init_fn, parent_pid: int) -> None:
    """Serve requests until ``None`` arrives or ``done_event`` is set.

    A request is ``(epoch, task, indices)``; a new epoch restarts the iterator of an
    IterableDataset (persistent workers keep their process between epochs).
    """
    global _worker_info
    init_error = None
    try:
        _prepare_process(seed)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=fetcher.dataset)
        if init_fn is not None:
            init_fn(worker_id)
    except Exception as e:
        # Reported with the first request, so the main process raises it in order.
        init_error = WorkerError(e, f"in DataLoader worker process {worker_id}")

    epoch = None
    while True:
        try:
            request = index_queue.get(timeout=POLL_INTERVAL)
        except queue.Empty:
            if done_event.is_set() or not _alive(parent_pid):
                break
            continue
        if request is None:
            break
        req_epoch, task, indices = request
        if done_event.is_set():
            continue  # shutting down: drain without work
        if req_epoch != epoch:
            epoch = req_epoch
            fetcher._it = None  # a new pass over the iterable replica
        if init_error is not None:
            answer: Any = init_error
        else:
            try:
                answer = fetcher.fetch(indices)
            except StopIteration:
                answer = IterableEnd(worker_id)
            except Exception as e:
                answer = WorkerError(e, f"in DataLoader worker process {worker_id}")
        result_queue.put((req_epoch, task, worker_id, answer))
        del answer
    # Without this the feeder thread of result_queue could block exit on a full pipe.
    result_queue.cancel_join_thread()
    result_queue.close()


def _alive(pid: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover - os.kill(pid, 0) terminates on Windows
        return True
    return os.getppid() == pid
