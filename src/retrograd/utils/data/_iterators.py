"""The iterators a ``DataLoader`` hands out: one loading in this process, one feeding worker
processes.

Both draw a base seed from the loader's generator (or the default one) when they start an
epoch, so a seeded program shuffles the same way whatever ``num_workers`` is. The
multi-process iterator keeps ``prefetch_factor * num_workers`` requests in flight, sends them
round robin, and yields answers in request order, so its batches equal the single-process
ones.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing as mp
import os
import queue
import time
import warnings
import weakref

from ..._device import cuda_device_count
from ..._runtime import threadpoolctl
from ...random import rng
from ._worker import Fetcher, IterableEnd, WorkerError, worker_loop

__all__ = ["MultiProcessIter", "SingleProcessIter"]

# Seconds between looks at the workers' health while waiting for a batch.
_HEALTH_CHECK = 0.1
# Seconds a worker gets to finish at shutdown before it is terminated (it may be stuck in a
# slow __getitem__ whose result nobody wants any more).
_JOIN_GRACE = 1.0


def _draw_base_seed(generator) -> int:
    return int(rng(generator).integers(0, 2**63 - 1))


def _fetcher(loader) -> Fetcher:
    return Fetcher(loader.dataset, loader._dataset_kind, loader._auto_collation,
                   loader.collate_fn, loader.batch_size, loader.drop_last)


def _pin_memory_message() -> str:
    if cuda_device_count() == 0:  # PyTorch's words for the same situation
        return ("'pin_memory' argument is set as true but no accelerator is found, then "
                "device pinned memory won't be used.")
    return ("'pin_memory' has no effect in retrograd: batches stay in pageable NumPy memory "
            "and are copied to the GPU by .to('cuda').")


class _LoaderIter:
    """What both iterators share: the loader's length and the per-epoch sampler pass."""

    def __init__(self, loader) -> None:
        # A weak reference: a loader keeps its persistent iterator, and a cycle between them
        # would leave the workers' shutdown to the cycle collector, after their queues close.
        self._loader = weakref.ref(loader)
        self._sampler = loader._index_sampler
        self._generator = loader.generator
        self._kind = loader._dataset_kind
        self._base_seed = _draw_base_seed(self._generator)
        self._indices = iter(self._sampler) if self._kind == "map" else None
        if loader.pin_memory:
            warnings.warn(_pin_memory_message(), stacklevel=3)

    def __iter__(self):
        return self

    def __len__(self) -> int:
        loader = self._loader()
        if loader is None:
            raise TypeError("len() of a DataLoader iterator whose DataLoader is gone")
        return len(loader)


class SingleProcessIter(_LoaderIter):
    """Loads each batch in the calling process, when it is asked for."""

    def __init__(self, loader) -> None:
        super().__init__(loader)
        self._fetcher = _fetcher(loader)
        self._fetcher.restart()

    def __next__(self):
        indices = next(self._indices) if self._kind == "map" else None
        return self._fetcher.fetch(indices)


def resolve_context(context):
    """A multiprocessing context from a start-method name, a context, or None (the default)."""
    if context is None:
        return mp.get_context()
    if isinstance(context, str):
        if context not in mp.get_all_start_methods():
            raise ValueError("multiprocessing_context option should specify a valid start "
                             f"method in {list(mp.get_all_start_methods())!r}, but got "
                             f"multiprocessing_context={context!r}")
        return mp.get_context(context)
    if not isinstance(context, mp.context.BaseContext):
        raise TypeError("multiprocessing_context option should be a valid context object or a "
                        "string specifying the start method, but got "
                        f"multiprocessing_context={context!r}")
    return context


class MultiProcessIter(_LoaderIter):
    """Loads batches in ``num_workers`` processes; yields them in request order."""

    def __init__(self, loader) -> None:
        super().__init__(loader)
        ctx = resolve_context(loader.multiprocessing_context)
        self._n = loader.num_workers
        self._prefetch = loader.prefetch_factor
        self._timeout = loader.timeout
        self._in_order = loader.in_order
        self._persistent = loader.persistent_workers
        self._closed = False
        self._done = ctx.Event()
        self._results = ctx.Queue()
        self._queues = []
        self._workers = []
        fetcher = _fetcher(loader)
        threadpoolctl()  # imported here once, not in every forked worker (which limit threads)
        for wid in range(self._n):
            q = ctx.Queue()
            # Daemonic: a worker must never outlive the program that started it.
            w = ctx.Process(target=worker_loop, daemon=True, args=(
                fetcher, q, self._results, self._done, wid, self._n, self._base_seed + wid,
                loader.worker_init_fn, os.getpid()))
            w.start()
            self._queues.append(q)
            self._workers.append(w)
        self._epoch = 0
        self._start_epoch(first=True)

    def _start_epoch(self, first: bool = False) -> None:
        """Begin a pass over the data; answers still in flight from the last one are dropped."""
        if not first:
            # A persistent iterator re-used: a new sampler pass; the workers keep their seeds
            # (as in PyTorch, no new base seed is drawn).
            if self._kind == "map":
                self._indices = iter(self._sampler)
        self._epoch += 1
        self._next_task = 0          # next request number to send
        self._next_yield = 0         # next request number to yield (in_order)
        self._pending: dict = {}     # request number -> worker, sent and not yet yielded
        self._arrived: dict = {}     # request number -> answer that came early
        self._active = [True] * self._n
        self._rotation = itertools.cycle(range(self._n))
        self._sampler_done = False
        for _ in range(self._prefetch * self._n):
            self._send()

    def _send(self) -> None:
        if self._sampler_done:
            return
        for _ in range(self._n):
            wid = next(self._rotation)
            if self._active[wid]:
                break
        else:
            return  # every replica of the iterable dataset is exhausted
        indices = None
        if self._kind == "map":
            indices = next(self._indices, StopIteration)
            if indices is StopIteration:
                self._sampler_done = True
                return
        self._queues[wid].put((self._epoch, self._next_task, indices))
        self._pending[self._next_task] = wid
        self._next_task += 1

    def __next__(self):
        while True:
            task = self._ready_task()
            if task is None:
                if not self._pending:
                    if not self._persistent:
                        self._shutdown()
                    raise StopIteration
                self._receive()
                continue
            answer = self._arrived.pop(task)
            del self._pending[task]
            if self._in_order:
                self._next_yield = task + 1
            self._send()
            if isinstance(answer, IterableEnd):
                self._active[answer.worker_id] = False
                continue
            if isinstance(answer, WorkerError):
                answer.reraise()
            return answer

    def _ready_task(self):
        """The request whose answer can be yielded now, or None."""
        if not self._in_order:
            return next(iter(self._arrived), None)
        while self._next_yield < self._next_task:
            task = self._next_yield
            if task in self._arrived:
                return task
            if task in self._pending and self._active[self._pending[task]]:
                return None
            # Sent to a replica that has since run dry: no batch will come for it.
            self._pending.pop(task, None)
            self._next_yield += 1
        return None

    def _receive(self) -> None:
        epoch, task, wid, answer = self._get()
        if epoch != self._epoch or task not in self._pending:
            return  # an answer from an abandoned epoch
        if isinstance(answer, IterableEnd):
            self._active[wid] = False
        self._arrived[task] = answer

    def _get(self):
        """The next answer from any worker, watching for dead workers and for ``timeout``."""
        start = time.monotonic()
        while True:
            wait = _HEALTH_CHECK
            if self._timeout > 0:
                wait = min(wait, max(0.0, start + self._timeout - time.monotonic()))
            try:
                return self._results.get(timeout=wait)
            except queue.Empty:
                pass
            dead = [w.pid for w in self._workers if w.exitcode is not None]
            if dead:
                self._shutdown()
                pids = ", ".join(str(p) for p in dead)
                raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly")
            if self._timeout > 0 and time.monotonic() - start >= self._timeout:
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")

    def _shutdown(self) -> None:
        """Stop every worker and release the queues; safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        self._done.set()
        for q in self._queues:
            with contextlib.suppress(OSError, ValueError):
                q.put(None)
        for w in self._workers:
            w.join(timeout=_JOIN_GRACE)
            if w.is_alive():  # stuck in user code: do not wait for it
                w.terminate()
                w.join()
        for q in (*self._queues, self._results):
            q.cancel_join_thread()
            q.close()

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            self._shutdown()
