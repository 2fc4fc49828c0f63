"""Dataset combinators next to torch.utils.data's: same samples, lengths and errors."""

import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import retrograd
import retrograd.utils.data as rdata
from retrograd.utils.data.dataset import StackDataset


def _plain(x):
    if isinstance(x, (retrograd.Tensor, torch.Tensor)):
        return ("tensor", x.numpy().tolist())
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_plain(v) for v in x)
    return x


def _error(fn):
    try:
        fn()
    except Exception as e:  # the class and the text are what we compare
        return type(e).__name__, str(e)
    return None


class _Stream:
    """An IterableDataset built for either library."""

    @staticmethod
    def make(mod, items):
        class S(mod.IterableDataset):
            def __iter__(self):
                return iter(items)

            def __len__(self):
                return len(items)

        return S()


def _build(lib, mod):
    x = lib.arange(12.0).reshape(6, 2)
    y = lib.arange(6)
    td = mod.TensorDataset(x, y)
    return td, [10, 11, 12, 13]


@pytest.mark.parametrize("index", [0, 5, 6, 9, -1, -10, [0, 3], slice(1, 4)])
def test_tensor_and_concat_datasets_match_torch(index):
    out = []
    for lib, mod in ((retrograd, rdata), (torch, tdata)):
        td, lst = _build(lib, mod)
        cat = mod.ConcatDataset([td, lst])
        both = td + td
        rows = [len(td), len(cat), cat.cumulative_sizes, len(both), type(both).__name__]
        if isinstance(index, int):
            rows.append(_plain(cat[index]) if -10 <= index < 10 else None)
            rows.append(_plain(both[index]))
        else:
            rows.append(_plain(td[index]))
        out.append(rows)
    assert out[0] == out[1]


def test_dataset_errors_match_torch():
    for make in (
        lambda lib, mod: mod.ConcatDataset([]),
        lambda lib, mod: mod.ConcatDataset([_build(lib, mod)[1], _Stream.make(mod, [1])]),
        lambda lib, mod: mod.ConcatDataset([_build(lib, mod)[1]])[-5],
        lambda lib, mod: mod.TensorDataset(lib.zeros(2), lib.zeros(3)),
        lambda lib, mod: list(mod.ChainDataset([_build(lib, mod)[0]])),
        lambda lib, mod: mod.Dataset()[0],
    ):
        assert _error(lambda: make(retrograd, rdata)) == _error(lambda: make(torch, tdata))


def test_subset_and_chain_match_torch():
    out = []
    for lib, mod in ((retrograd, rdata), (torch, tdata)):
        td, lst = _build(lib, mod)
        sub = mod.Subset(td, [4, 0, 2])
        lsub = mod.Subset(lst, [3, 1])
        chain = mod.ChainDataset([_Stream.make(mod, [1, 2]), _Stream.make(mod, [3])])
        joined = _Stream.make(mod, [7]) + _Stream.make(mod, [8, 9])
        out.append([len(sub), _plain(sub[1]), _plain(sub[[0, 2]]), _plain(sub.__getitems__([2, 0])),
                    lsub.__getitems__([0, 1]), list(chain), len(chain), list(joined),
                    type(joined).__name__])
    assert out[0] == out[1]


@pytest.mark.parametrize("keyword", [False, True])
def test_stack_dataset_matches_torch(keyword):
    out = []
    for lib, mod, stack in ((retrograd, rdata, StackDataset), (torch, tdata, tdata.StackDataset)):
        td, _ = _build(lib, mod)
        sub = mod.Subset(list(range(100, 106)), [5, 4, 3, 2, 1, 0])
        ds = stack(a=td, b=sub) if keyword else stack(td, sub)
        out.append([len(ds), _plain(ds[2]), _plain(ds.__getitems__([0, 5, 1]))])
    assert out[0] == out[1]


def test_stack_dataset_errors_match_torch():
    cases = (((), {}), (([1, 2], [1]), {}), (([1],), {"b": [2]}), ((), {"a": [1], "b": []}))
    for args, kw in cases:
        assert _error(lambda: StackDataset(*args, **kw)) == \
            _error(lambda: tdata.StackDataset(*args, **kw))

    class Short:
        def __len__(self):
            return 3

        def __getitems__(self, idx):
            return [0]

    with pytest.raises(ValueError, match=r"output size mismatch\. Expected 2, got 1"):
        StackDataset([1, 2, 3], Short()).__getitems__([0, 1])


@pytest.mark.parametrize(("n", "lengths"), [
    (10, [0.7, 0.3]), (11, [0.5, 0.25, 0.25]), (3, [0.1, 0.1, 0.8]), (7, [3, 4]),
    (5, [1.0]), (9, [0.2, 0.2, 0.2, 0.2, 0.2]),
])
def test_random_split_sizes_and_warnings_match_torch(n, lengths):
    results = []
    for lib, mod in ((retrograd, rdata), (torch, tdata)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            parts = mod.random_split(range(n), lengths, generator=lib.Generator().manual_seed(3))
        items = [list(p) for p in parts]
        # a partition of the dataset, whatever the permutation
        assert sorted(i for part in items for i in part) == list(range(n))
        results.append(([len(p) for p in parts], [str(w.message) for w in caught]))
    assert results[0] == results[1]


def test_random_split_is_random_and_reproducible():
    def split(seed):
        g = retrograd.Generator().manual_seed(seed)
        return [list(p) for p in rdata.random_split(range(20), [0.5, 0.5], generator=g)]

    assert split(1) == split(1)
    assert split(1) != split(2)
    firsts = [split(s)[0][0] for s in range(40)]
    assert len(set(firsts)) > 5


def test_random_split_errors_match_torch():
    for lengths in ([0.5, 0.6], [-0.5, 1.5], [1, 1], [2, 3]):
        assert _error(lambda: rdata.random_split(range(4), lengths)) == \
            _error(lambda: tdata.random_split(range(4), lengths))


def test_subset_of_numpy_backed_dataset_fetches_in_one_call():
    calls = []

    class Batched(rdata.Dataset):
        def __getitem__(self, i):
            return i

        def __getitems__(self, idx):
            calls.append(list(idx))
            return [np.int64(i) * 2 for i in idx]

        def __len__(self):
            return 10

    loader = rdata.DataLoader(rdata.Subset(Batched(), [9, 8, 7, 6]), batch_size=4)
    (batch,) = list(loader)
    assert batch.tolist() == [18, 16, 14, 12]
    assert calls == [[9, 8, 7, 6]]
