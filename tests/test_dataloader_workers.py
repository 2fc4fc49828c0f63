"""DataLoader with worker processes: order, worker info, sharding, errors, shutdown.

Datasets live at module level so that spawned workers can unpickle them; torch (the oracle)
is imported inside the tests that use it, so a spawned worker importing this module stays
quick.
"""

import gc
import multiprocessing as mp
import os
import pickle
import time
import warnings

import numpy as np
import pytest

import retrograd
from retrograd.utils import data as rdata
from retrograd.utils.data._worker import WorkerInfo


class Squares(rdata.Dataset):
    def __init__(self, n=10, delay=0.0):
        self.n, self.delay = n, delay

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if self.delay:
            time.sleep(self.delay)
        return retrograd.tensor([float(i), float(i * i)]), i


class WhoLoads(rdata.Dataset):
    """Each sample says which process, worker and seed produced it."""

    def __len__(self):
        return 6

    def __getitem__(self, i):
        info = rdata.get_worker_info()
        return i, os.getpid(), info.id, info.num_workers, info.seed, info.dataset is self, \
            float(retrograd.rand(()).item()), _INIT_MARK.get("id", -1)


class Failing(rdata.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 5:
            raise ValueError(f"bad index {i}")
        return i


class Dies(rdata.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        os._exit(3)


class Range(rdata.IterableDataset):
    """0..n-1, split between workers by get_worker_info() when ``shard``."""

    def __init__(self, n, shard=True, torch_info=None):
        self.n, self.shard, self.torch_info = n, shard, torch_info

    def __iter__(self):
        info = (self.torch_info or rdata.get_worker_info)()
        if info is None or not self.shard:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


_INIT_MARK: dict = {}


def _mark_init(worker_id):
    _INIT_MARK["id"] = worker_id * 100


def _batches(loader):
    out = []
    for x, y in loader:
        out.append((x.numpy().tolist(), y.tolist()))
    return out


def _no_children():
    gc.collect()
    deadline = time.monotonic() + 5
    while mp.active_children() and time.monotonic() < deadline:
        time.sleep(0.02)
    return mp.active_children() == []


@pytest.mark.parametrize("shuffle", [False, True])
def test_order_equals_single_process(shuffle):
    ds = Squares(11)

    def load(workers):
        g = retrograd.Generator().manual_seed(7)
        return _batches(rdata.DataLoader(ds, batch_size=3, shuffle=shuffle, generator=g,
                                         num_workers=workers))

    assert load(2) == load(0)
    if not shuffle:
        assert load(2)[-1] == ([[9.0, 81.0], [10.0, 100.0]], [9, 10])
    assert _no_children()


def test_worker_info_seed_and_init_fn():
    g = retrograd.Generator().manual_seed(3)
    rows = list(rdata.DataLoader(WhoLoads(), batch_size=None, num_workers=2, generator=g,
                                 worker_init_fn=_mark_init))
    assert [r[0] for r in rows] == list(range(6))
    by_worker = {r[2]: r for r in rows}
    assert sorted(by_worker) == [0, 1]
    assert {r[1] for r in rows} == {by_worker[0][1], by_worker[1][1]} and \
        by_worker[0][1] != os.getpid() != by_worker[1][1]
    assert all(r[3] == 2 and r[5] for r in rows)
    # Round robin: request i goes to worker i % 2; seeds are base + id, as in PyTorch.
    assert [r[2] for r in rows] == [0, 1, 0, 1, 0, 1]
    assert by_worker[1][4] == by_worker[0][4] + 1
    assert [r[7] for r in rows] == [0, 100] * 3
    # Different workers draw different random numbers; the same generator seed, the same.
    assert rows[0][6] != rows[1][6]
    g.manual_seed(3)
    again = list(rdata.DataLoader(WhoLoads(), batch_size=None, num_workers=2, generator=g))
    assert [r[4] for r in again] == [r[4] for r in rows]
    assert [r[6] for r in again] == [r[6] for r in rows]
    assert rdata.get_worker_info() is None


def test_worker_info_matches_torch():
    import torch
    from torch.utils import data as tdata

    class T(tdata.Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            info = tdata.get_worker_info()
            return info.id, info.num_workers, repr(info).split(", seed=")[0]

    theirs = list(tdata.DataLoader(T(), batch_size=None, num_workers=2))
    ours = [(r[2], r[3], f"WorkerInfo(id={r[2]}, num_workers={r[3]}")
            for r in rdata.DataLoader(WhoLoads(), batch_size=None, num_workers=2)][:2]
    assert ours == [tuple(t) for t in theirs]
    with pytest.raises(RuntimeError):
        WorkerInfo(id=0, num_workers=1, seed=0, dataset=None).id = 3
    del torch


@pytest.mark.parametrize("shard", [True, False])
def test_iterable_dataset_replicas_match_torch(shard):
    from torch.utils import data as tdata

    ours = [b.tolist() for b in rdata.DataLoader(Range(7, shard), batch_size=2, num_workers=2)]

    class TRange(tdata.IterableDataset):
        def __iter__(self):
            return iter(Range(7, shard, tdata.get_worker_info))

    theirs = [b.tolist() for b in tdata.DataLoader(TRange(), batch_size=2, num_workers=2)]
    assert ours == theirs
    expected = list(range(7)) if shard else sorted(list(range(7)) * 2)
    assert sorted(x for b in ours for x in b) == expected


def test_worker_exception_names_worker_and_traceback():
    with pytest.raises(ValueError) as info:
        list(rdata.DataLoader(Failing(), batch_size=2, num_workers=2))
    msg = str(info.value)
    assert msg.startswith("Caught ValueError in DataLoader worker process 0.\n"
                          "Original Traceback (most recent call last):\n")
    assert "in __getitem__" in msg and msg.rstrip().endswith("ValueError: bad index 5")
    del info  # its traceback holds the iterator, which (as PyTorch's) stays usable
    assert _no_children()


def test_worker_exception_keeps_loading_later_batches():
    it = iter(rdata.DataLoader(Failing(), batch_size=2, num_workers=2))
    assert [next(it).tolist(), next(it).tolist()] == [[0, 1], [2, 3]]
    with pytest.raises(ValueError, match="worker process 0"):
        next(it)
    assert next(it).tolist() == [6, 7]
    with pytest.raises(StopIteration):
        next(it)


def test_dead_worker_and_timeout_raise():
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+.*exited unexpect"):
        list(rdata.DataLoader(Dies(), num_workers=1))
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0\.2 seconds"):
        list(rdata.DataLoader(Squares(2, delay=0.6), num_workers=1, timeout=0.2))
    assert _no_children()


def test_shutdown_when_iteration_is_abandoned():
    it = iter(rdata.DataLoader(Squares(50), batch_size=2, num_workers=2))
    next(it)
    assert len(mp.active_children()) == 2
    del it
    assert _no_children()


def test_persistent_workers_keep_their_processes():
    ds = WhoLoads()
    loader = rdata.DataLoader(ds, batch_size=None, num_workers=2, persistent_workers=True)
    first = {r[1] for r in loader}
    half = iter(loader)
    next(half)  # an abandoned epoch: its answers in flight must not leak into the next
    second = [r for r in loader]
    assert {r[1] for r in second} == first and [r[0] for r in second] == list(range(6))
    assert len(mp.active_children()) == 2
    fresh = rdata.DataLoader(ds, batch_size=None, num_workers=2)
    assert {r[1] for r in fresh}.isdisjoint({r[1] for r in fresh})
    del loader, half
    assert _no_children()


def test_persistent_iterable_restarts_each_epoch():
    loader = rdata.DataLoader(Range(5), batch_size=None, num_workers=2, persistent_workers=True)
    assert sorted(int(x) for x in loader) == list(range(5))
    assert sorted(int(x) for x in loader) == list(range(5))
    del loader
    assert _no_children()


def test_spawn_context():
    loader = rdata.DataLoader(Squares(5), batch_size=2, num_workers=1,
                              multiprocessing_context="spawn")
    assert _batches(loader) == _batches(rdata.DataLoader(Squares(5), batch_size=2))
    assert _no_children()


def test_in_order_false_gives_every_batch():
    loader = rdata.DataLoader(Squares(9), batch_size=2, num_workers=2, in_order=False)
    got = sorted(y for _, ys in _batches(loader) for y in ys)
    assert got == list(range(9))


def test_tensors_cross_processes_as_arrays():
    t = retrograd.tensor([[1.5, 2.0]], requires_grad=True)
    back = pickle.loads(pickle.dumps(t))
    assert back.requires_grad and back.is_leaf
    assert np.array_equal(back.detach().numpy(), t.detach().numpy())
    ys = [y for _, y in rdata.DataLoader(Squares(3), batch_size=None, num_workers=1)]
    assert ys == [0, 1, 2]


def test_argument_errors_match_torch():
    from torch.utils import data as tdata

    cases = [dict(num_workers=0, prefetch_factor=2), dict(num_workers=0, persistent_workers=True),
             dict(num_workers=2, multiprocessing_context="bogus"),
             dict(num_workers=0, multiprocessing_context="spawn"), dict(num_workers=-1),
             dict(timeout=-1)]
    for kw in cases:
        with pytest.raises(ValueError) as theirs:
            tdata.DataLoader(list(range(4)), **kw)
        with pytest.raises(ValueError) as ours:
            rdata.DataLoader(list(range(4)), **kw)
        head = str(theirs.value).split("[")[0]
        assert str(ours.value).startswith(head), kw


def test_pin_memory_warns_like_torch():
    from torch.utils import data as tdata

    def warned(mod):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            list(mod.DataLoader(list(range(3)), batch_size=2, pin_memory=True))
        return [str(x.message) for x in w]

    assert warned(rdata) == warned(tdata)
    assert len(iter(rdata.DataLoader(list(range(5)), batch_size=2, num_workers=1))) == 3


def _bad_init(worker_id):
    raise KeyError(f"no config for worker {worker_id}")


def test_worker_init_fn_error_is_raised_in_order():
    with pytest.raises(KeyError) as info:
        list(rdata.DataLoader(Squares(4), batch_size=2, num_workers=2, worker_init_fn=_bad_init))
    msg = str(info.value)  # KeyError's message keeps its newlines readable
    assert msg.startswith("Caught KeyError in DataLoader worker process 0.\nOriginal Traceback")
    assert "in _bad_init" in msg and "no config for worker 0" in msg
    del info
    assert _no_children()


def test_iterable_without_batching_and_drop_last():
    loader = rdata.DataLoader(Range(5), batch_size=None, num_workers=2)
    assert sorted(int(x) for x in loader) == list(range(5))
    loader = rdata.DataLoader(Range(7), batch_size=2, drop_last=True, num_workers=2)
    # Worker 0 holds 0,2,4,6 and worker 1 holds 1,3,5: each drops its own short tail.
    assert [b.tolist() for b in loader] == [[0, 2], [1, 3], [4, 6]]


class BlasThreads(rdata.Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        return retrograd.get_num_threads()


def test_workers_run_blas_single_threaded():
    import threadpoolctl  # noqa: F401
    assert list(rdata.DataLoader(BlasThreads(), batch_size=None, num_workers=1)) == [1, 1]


@pytest.mark.parametrize("name", ["dataloader", "_worker"])
def test_doctests(name):
    import doctest
    import importlib

    module = importlib.import_module(f"retrograd.utils.data.{name}")
    failures, tried = doctest.testmod(module)
    assert tried > 0 and failures == 0
