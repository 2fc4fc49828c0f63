"""The workspace cache: reuse, safety (never hands out memory a live array views), bound,
and empty_cache; and that ops served from it stay correct when their outputs are kept."""

from __future__ import annotations

import gc
import threading

import numpy as np
import pytest

import retrograd as torch
from retrograd.ops import _workspace as ws

SHAPE = (256, 256)  # 256 KiB of float32: above MIN_BYTES


@pytest.fixture(autouse=True)
def fresh_cache():
    limit = ws.get_limit()
    ws.empty_cache()
    yield
    ws.set_limit(limit)
    ws.empty_cache()


def _addr(a) -> int:
    return a.__array_interface__["data"][0]


def test_free_buffer_is_reused():
    a = ws.empty(SHAPE, np.float32)
    addr = _addr(a)
    del a
    b = ws.empty(SHAPE, np.float32)
    assert _addr(b) == addr
    assert torch.cpu.memory_reserved() == b.nbytes


def test_buffer_viewed_by_a_live_array_is_never_handed_out():
    a = ws.empty(SHAPE, np.float32)
    view = a[10:20].T  # a view keeps the buffer alive after `a` goes
    del a
    b = ws.empty(SHAPE, np.float32)
    assert not np.shares_memory(b, view)
    del view
    c = ws.empty(SHAPE, np.float32)  # now one of the two is free again
    assert not np.shares_memory(b, c)
    assert torch.cpu.memory_reserved() == 2 * b.nbytes


def test_tensor_and_saved_value_keep_their_buffers():
    x = torch.randn(64, 16, 26, 26, requires_grad=True)
    y = torch.relu(x)  # output and saved value from the cache
    z = torch.relu(x.detach())
    assert not np.shares_memory(y.detach().numpy(), z.numpy())
    expected = np.maximum(x.detach().numpy(), 0)
    for _ in range(3):  # churn the cache while y is alive
        torch.relu(torch.randn(64, 16, 26, 26))
    np.testing.assert_array_equal(y.detach().numpy(), expected)
    y.backward(torch.ones_like(y))
    np.testing.assert_array_equal(x.grad.numpy(), (expected > 0).astype(np.float32))


def test_other_dtype_and_nearby_size_share_and_stay_separate():
    a = ws.empty((64, 1024), np.float64)  # 512 KiB
    a[...] = 1.0
    b = ws.empty((128, 1000), np.float32)  # 500 KiB: may not reuse a buffer `a` still uses
    b[...] = 2.0
    assert (a == 1.0).all()
    del a
    c = ws.empty((120, 1000), np.float32)  # fits a free 512 KiB buffer (within 1.25x)
    assert c.shape == (120, 1000) and c.dtype == np.float32 and c.flags.c_contiguous
    assert not np.shares_memory(b, c)


def test_cache_is_bounded_and_evicts_least_recently_used():
    nbytes = 256 * 256 * 4
    torch.cpu.set_cache_limit(3 * nbytes)
    keep = [ws.empty(SHAPE, np.float32) for _ in range(5)]
    assert torch.cpu.memory_reserved() <= 3 * nbytes
    keep[0][...] = 7.0  # evicted buffers still belong to their arrays
    assert (keep[0] == 7.0).all()
    del keep
    gc.collect()
    assert torch.cpu.memory_reserved() <= 3 * nbytes
    torch.cpu.set_cache_limit(0)
    assert torch.cpu.memory_reserved() == 0
    ws.empty(SHAPE, np.float32)
    assert torch.cpu.memory_reserved() == 0
    with pytest.raises(ValueError, match="set_cache_limit"):
        torch.cpu.set_cache_limit(-1)


def test_empty_cache_releases_everything():
    a = ws.empty(SHAPE, np.float32)
    ws.empty((300, 300), np.float32)
    assert torch.cpu.memory_reserved() > 0
    torch.cpu.empty_cache()
    assert torch.cpu.memory_reserved() == 0
    a[...] = 3.0  # a buffer in use stays valid
    assert (a == 3.0).all()


def test_small_requests_bypass_the_cache():
    a = ws.empty((8, 8), np.float32)
    assert a.shape == (8, 8)
    assert torch.cpu.memory_reserved() == 0


def test_threads_never_share_a_buffer():
    got, errors = [], []

    def worker():
        try:
            for _ in range(50):
                a = ws.empty(SHAPE, np.float32)
                a.fill(threading.get_ident() % 1000)
                got.append(a)
                if len(got) > 4:
                    got.pop(0)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    live = list(got)
    for i, a in enumerate(live):
        for b in live[i + 1:]:
            assert not np.shares_memory(a, b)


def test_training_steps_reuse_memory_and_match_a_fresh_cache():
    """Identical conv steps from a cold and a warm cache agree exactly, and once warm a
    step adds no buffer to the cache."""
    nn = torch.nn

    def run():
        torch.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        x = torch.randn(32, 1, 28, 28)
        out = model(x)
        out.square().sum().backward()
        return out.detach().numpy().copy(), [p.grad.numpy().copy() for p in model.parameters()]

    ref_out, ref_grads = run()
    for _ in range(3):  # the first steps settle which nearby sizes share a buffer
        run()
    reserved = torch.cpu.memory_reserved()
    assert reserved > 0
    out, grads = run()
    assert torch.cpu.memory_reserved() == reserved
    np.testing.assert_array_equal(out, ref_out)
    for g, r in zip(grads, ref_grads):
        np.testing.assert_array_equal(g, r)


@pytest.mark.parametrize("n", [3, 4095, 4096, 8191, 8192, 8193, 3 * 8192, 3 * 8192 + 5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_kernel_matches_maximum_at_every_size(n, dtype):
    # Below SIMD_BYTES, maximum(x, 0); up to one row, one 1-d call; past it, row blocks
    # and a tail. Each path must give max(x, 0) with NaN kept, in a fresh C-order array.
    from retrograd.ops import _kernels

    x = np.random.default_rng(n).standard_normal(n).astype(dtype)
    x[::7] = np.nan
    x = x.reshape(-1, 1) if n % 2 else x
    out = _kernels.relu(x)
    np.testing.assert_array_equal(out, np.maximum(x, 0))
    assert out.dtype == dtype and out.shape == x.shape and out.flags.c_contiguous
    assert not np.shares_memory(out, x)
