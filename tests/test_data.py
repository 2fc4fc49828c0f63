"""retrograd.utils.data next to torch.utils.data where the behaviour is deterministic."""

from collections import namedtuple

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import retrograd
import retrograd.utils.data as rdata


def _np(x):
    """Nested batches as NumPy / Python values, for comparing the two libraries."""
    if isinstance(x, (retrograd.Tensor, torch.Tensor)):
        return ("tensor", str(x.dtype), x.numpy().tolist())
    if isinstance(x, dict):
        return {k: _np(v) for k, v in x.items()}
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, *(_np(v) for v in x))
    if isinstance(x, (list, tuple)):
        return type(x)(_np(v) for v in x)
    return x


Pair = namedtuple("Pair", "a b")


def _samples(lib):
    return {
        "tensors": [lib.tensor([i, i + 1.0]) for i in range(3)],
        "ints": [1, 2, 3],
        "floats": [0.5, 1.5, 2.5],
        "bools": [True, False, True],
        "strings": ["a", "b", "c"],
        "numpy": [np.full((2, 2), i, dtype=np.float32) for i in range(3)],
        "numpy_scalars": [np.float32(i) for i in range(3)],
        "tuples": [(i, float(i), "s") for i in range(3)],
        "lists": [[i, i * 2] for i in range(3)],
        "dicts": [{"x": lib.tensor([i]), "y": i, "z": {"w": float(i)}} for i in range(3)],
        "namedtuples": [Pair(i, lib.tensor(float(i))) for i in range(3)],
    }


@pytest.mark.parametrize("kind", list(_samples(torch)))
def test_default_collate_matches_torch(kind):
    ours = rdata.default_collate(_samples(retrograd)[kind])
    theirs = tdata.default_collate(_samples(torch)[kind])
    assert _np(ours) == _np(theirs)
    assert type(ours).__name__ == type(theirs).__name__


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal"):
        rdata.default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        rdata.default_collate([object(), object()])
    with pytest.raises(TypeError, match="found <U1"):
        rdata.default_collate([np.array(["a"]), np.array(["b"])])


def _dataset(lib, n=10):
    x = lib.arange(n * 3, dtype=lib.float32).reshape(n, 3)
    y = lib.arange(n)
    return lib.utils.data.TensorDataset(x, y)


@pytest.mark.parametrize("batch_size", [1, 3, 4, 10, 16])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sequential_batches_match_torch(batch_size, drop_last):
    ours = rdata.DataLoader(_dataset(retrograd), batch_size=batch_size, drop_last=drop_last)
    theirs = tdata.DataLoader(_dataset(torch), batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert [_np(b) for b in ours] == [_np(b) for b in theirs]


def test_no_auto_batching_matches_torch():
    ours = list(rdata.DataLoader(_dataset(retrograd, 4), batch_size=None))
    theirs = list(tdata.DataLoader(_dataset(torch, 4), batch_size=None))
    assert [_np(b) for b in ours] == [_np(b) for b in theirs]
    arrays = [np.ones(2) * i for i in range(3)]
    ours = list(rdata.DataLoader(arrays, batch_size=None))
    theirs = list(tdata.DataLoader(arrays, batch_size=None))
    assert [_np(b) for b in ours] == [_np(b) for b in theirs]


def test_shuffle_is_a_permutation_and_deterministic_with_a_generator():
    ds = _dataset(retrograd, 23)

    def labels(seed):
        loader = rdata.DataLoader(ds, batch_size=5, shuffle=True,
                                  generator=retrograd.Generator().manual_seed(seed))
        return [b[1].tolist() for b in loader]

    a, b, c = labels(0), labels(0), labels(1)
    assert a == b and a != c
    assert [len(x) for x in a] == [5, 5, 5, 5, 3]
    assert sorted(i for batch in a for i in batch) == list(range(23))
    # Two epochs of one loader give two different orders.
    loader = rdata.DataLoader(ds, batch_size=23, shuffle=True,
                              generator=retrograd.Generator().manual_seed(0))
    e1, e2 = (next(iter(loader))[1].tolist() for _ in range(2))
    assert e1 != e2
    # Without a generator, retrograd.manual_seed makes shuffling reproducible.
    retrograd.manual_seed(3)
    o1 = [x[1].tolist() for x in rdata.DataLoader(ds, batch_size=4, shuffle=True)]
    retrograd.manual_seed(3)
    o2 = [x[1].tolist() for x in rdata.DataLoader(ds, batch_size=4, shuffle=True)]
    assert o1 == o2


def test_samplers_lengths_match_torch():
    data = list(range(17))
    w = [0.1, 0.0, 2.0, 1.0, 0.5]
    pairs = [
        (rdata.SequentialSampler(data), tdata.SequentialSampler(data)),
        (rdata.RandomSampler(data), tdata.RandomSampler(data)),
        (rdata.RandomSampler(data, replacement=True, num_samples=40),
         tdata.RandomSampler(data, replacement=True, num_samples=40)),
        (rdata.RandomSampler(data, num_samples=40), tdata.RandomSampler(data, num_samples=40)),
        (rdata.SubsetRandomSampler([3, 5, 7]), tdata.SubsetRandomSampler([3, 5, 7])),
        (rdata.WeightedRandomSampler(w, 12), tdata.WeightedRandomSampler(w, 12)),
        (rdata.WeightedRandomSampler(w, 3, replacement=False),
         tdata.WeightedRandomSampler(w, 3, replacement=False)),
    ]
    for ours, theirs in pairs:
        assert len(ours) == len(theirs) == len(list(ours)) == len(list(theirs))
    for bs in (1, 4, 17, 20):
        for drop in (False, True):
            ours = rdata.BatchSampler(rdata.SequentialSampler(data), bs, drop)
            theirs = tdata.BatchSampler(tdata.SequentialSampler(data), bs, drop)
            assert len(ours) == len(theirs)
            assert list(ours) == list(theirs)


def test_sampler_contents():
    g = retrograd.Generator().manual_seed(0)
    perm = list(rdata.RandomSampler(range(10), generator=g))
    assert sorted(perm) == list(range(10))
    draws = list(rdata.RandomSampler(range(25), num_samples=60, generator=g))
    assert sorted(draws[:25]) == list(range(25)) and sorted(draws[25:50]) == list(range(25))
    with_rep = list(rdata.RandomSampler(range(4), replacement=True, num_samples=200,
                                        generator=g))
    assert set(with_rep) == {0, 1, 2, 3}
    sub = list(rdata.SubsetRandomSampler([3, 5, 7], generator=g))
    assert sorted(sub) == [3, 5, 7]
    weighted = list(rdata.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 400, generator=g))
    assert set(weighted) == {1, 3}
    assert 0.65 < weighted.count(3) / 400 < 0.85
    no_rep = list(rdata.WeightedRandomSampler([1.0, 1.0, 0.0, 1.0], 3, replacement=False,
                                              generator=g))
    assert sorted(no_rep) == [0, 1, 3]
    a = list(rdata.RandomSampler(range(50), generator=retrograd.Generator().manual_seed(7)))
    b = list(rdata.RandomSampler(range(50), generator=retrograd.Generator().manual_seed(7)))
    assert a == b


def test_sampler_errors_match_torch():
    for lib in (rdata, tdata):
        with pytest.raises(ValueError, match="num_samples should be a positive integer"):
            lib.RandomSampler(range(3), num_samples=0)
        with pytest.raises(ValueError, match="batch_size should be a positive integer"):
            lib.BatchSampler(range(3), 0, False)
        with pytest.raises(ValueError, match="drop_last should be a boolean"):
            lib.BatchSampler(range(3), 2, 1)
        with pytest.raises(ValueError, match="weights should be a 1d sequence"):
            lib.WeightedRandomSampler([[1.0, 2.0]], 2)


def test_dataloader_option_errors_match_torch():
    class Stream(retrograd.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(3))

    ds = _dataset(retrograd)
    cases = [
        (dict(sampler=rdata.SequentialSampler(ds), shuffle=True),
         "mutually exclusive with shuffle"),
        (dict(batch_sampler=rdata.BatchSampler(range(10), 2, False), batch_size=3),
         "batch_sampler option is mutually exclusive"),
        (dict(batch_size=None, drop_last=True), "batch_size=None option disables"),
        (dict(num_workers=-1), "num_workers option should be non-negative"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            rdata.DataLoader(ds, **kwargs)
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        rdata.DataLoader(Stream(), shuffle=True)


def test_iterable_dataset_batches_match_torch():
    class Stream:
        def __init__(self, lib):
            self.lib = lib

        def __iter__(self):
            return iter([{"i": i, "t": self.lib.tensor([i, -i])} for i in range(7)])

        def __len__(self):
            return 7

    ours_ds = type("S", (Stream, rdata.IterableDataset), {})(retrograd)
    theirs_ds = type("S", (Stream, tdata.IterableDataset), {})(torch)
    for drop in (False, True):
        ours = rdata.DataLoader(ours_ds, batch_size=3, drop_last=drop)
        theirs = tdata.DataLoader(theirs_ds, batch_size=3, drop_last=drop)
        assert len(ours) == len(theirs)
        assert [_np(b) for b in ours] == [_np(b) for b in theirs]
    chained = list(ours_ds + ours_ds)
    assert len(chained) == 14


def test_batch_sampler_collate_fn_and_workers():
    ds = _dataset(retrograd)
    loader = rdata.DataLoader(ds, batch_sampler=[[0, 1], [5, 2, 9]], num_workers=2,
                              worker_init_fn=lambda i: None,
                              collate_fn=lambda batch: [int(y) for _, y in batch])
    assert list(loader) == [[0, 1], [5, 2, 9]]
    assert len(loader) == 2
    assert rdata.get_worker_info() is None


def test_datasets_match_torch():
    ours, theirs = _dataset(retrograd, 6), _dataset(torch, 6)
    assert len(ours) == len(theirs) == 6
    assert _np(ours[2]) == _np(theirs[2])
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        rdata.TensorDataset(retrograd.zeros(3), retrograd.zeros(4))
    rc, tc = ours + _dataset(retrograd, 4), theirs + _dataset(torch, 4)
    assert isinstance(rc, rdata.ConcatDataset) and len(rc) == len(tc) == 10
    assert rc.cumulative_sizes == tc.cumulative_sizes
    for i in (0, 5, 6, 9, -1, -10):
        assert _np(rc[i]) == _np(tc[i])
    with pytest.raises(ValueError, match="absolute value of index"):
        rc[-11]
    rs, ts = rdata.Subset(rc, [9, 0, 3]), tdata.Subset(tc, [9, 0, 3])
    assert len(rs) == 3 and _np(rs[0]) == _np(ts[0])
    assert [_np(b) for b in rdata.DataLoader(rs, batch_size=2)] == \
        [_np(b) for b in tdata.DataLoader(ts, batch_size=2)]


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.5, 0.25, 0.25], [0.33, 0.33, 0.34],
                                     [1, 1, 1, 7]])
def test_random_split_lengths_match_torch(lengths):
    data = list(range(10))
    ours = rdata.random_split(data, lengths, generator=retrograd.Generator().manual_seed(0))
    theirs = tdata.random_split(data, lengths, generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    flat = [x for s in ours for x in (s[i] for i in range(len(s)))]
    assert sorted(flat) == data
    again = rdata.random_split(data, lengths, generator=retrograd.Generator().manual_seed(0))
    assert [list(s.indices) for s in ours] == [list(s.indices) for s in again]


def test_random_split_errors():
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        rdata.random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
        rdata.random_split(range(10), [1.5, -0.5])


def test_training_loop_with_dataloader():
    # End to end: a linear regression fitted through a shuffled DataLoader.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = x @ np.array([1.0, -2.0, 0.5], dtype=np.float32) + 0.3
    ds = rdata.TensorDataset(retrograd.tensor(x), retrograd.tensor(y))
    w = retrograd.zeros(3, requires_grad=True)
    b = retrograd.zeros(1, requires_grad=True)
    opt = retrograd.optim.SGD([w, b], lr=0.1)
    loader = rdata.DataLoader(ds, batch_size=16, shuffle=True,
                              generator=retrograd.Generator().manual_seed(0))
    for _ in range(60):
        for xb, yb in loader:
            opt.zero_grad()
            loss = ((xb @ w + b - yb) ** 2).mean()
            loss.backward()
            opt.step()
    np.testing.assert_allclose(w.detach().numpy(), [1.0, -2.0, 0.5], atol=1e-3)
    np.testing.assert_allclose(b.detach().numpy(), [0.3], atol=1e-3)


@pytest.mark.parametrize(("n", "replicas", "drop_last"),
                         [(10, 3, False), (10, 3, True), (9, 3, False), (2, 5, False),
                          (11, 4, True)])
def test_distributed_sampler_matches_torch_without_shuffle(n, replicas, drop_last):
    data = list(range(n))
    for rank in range(replicas):
        ours = rdata.DistributedSampler(data, replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = tdata.DistributedSampler(data, replicas, rank, shuffle=False,
                                          drop_last=drop_last)
        assert len(ours) == len(theirs)
        assert list(ours) == list(theirs)


def test_distributed_sampler_shuffle_partitions_the_data():
    data = list(range(20))
    shares = [rdata.DistributedSampler(data, 4, r, seed=5) for r in range(4)]
    first = [list(s) for s in shares]
    assert sorted(i for share in first for i in share) == data
    for s in shares:
        s.set_epoch(1)
    assert [list(s) for s in shares] != first
    with pytest.raises(ValueError, match="Invalid rank 4"):
        rdata.DistributedSampler(data, 4, 4)
