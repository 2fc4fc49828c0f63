"""RandomSampler with replacement draws lazily: a huge num_samples costs no memory."""

import itertools
import tracemalloc

import numpy as np
import torch.utils.data as tdata

import retrograd
import retrograd.utils.data as rdata


def test_huge_num_samples_with_replacement_is_lazy():
    n = 10**10
    ours = rdata.RandomSampler(range(7), replacement=True, num_samples=n,
                               generator=retrograd.Generator().manual_seed(0))
    theirs = tdata.RandomSampler(range(7), replacement=True, num_samples=n)
    assert len(ours) == len(theirs) == n
    tracemalloc.start()
    try:
        first = list(itertools.islice(iter(ours), 20_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # all 10**10 int64 indices would be 80 GB; a chunk is a few tens of kB
    assert peak < 2_000_000
    assert all(type(i) is int for i in first)  # plain ints, as torch yields
    counts = np.bincount(first, minlength=7)
    assert counts.size == 7  # only indices of the data source
    # uniform: every count within 5 standard deviations of 20000 / 7
    expected = len(first) / 7
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected))


def test_replacement_draws_exactly_num_samples_across_chunks():
    for num in (1, 4095, 4096, 4097, 10_001):
        s = rdata.RandomSampler(range(3), replacement=True, num_samples=num,
                                generator=retrograd.Generator().manual_seed(1))
        got = list(s)
        assert len(got) == num == len(list(tdata.RandomSampler(range(3), replacement=True,
                                                                num_samples=num)))
        assert set(got) <= {0, 1, 2}


def test_replacement_is_reproducible_with_a_generator():
    def draw(seed):
        g = retrograd.Generator().manual_seed(seed)
        return list(rdata.RandomSampler(range(50), replacement=True, num_samples=9000,
                                        generator=g))

    assert draw(3) == draw(3)
    assert draw(3) != draw(4)
