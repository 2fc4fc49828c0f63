"""Autograd state is per thread (DESIGN.md, decision 9), and backward passes in several
threads may share leaves."""

from __future__ import annotations

import threading

import numpy as np

import retrograd as torch
from retrograd import nn
from retrograd.autograd.anomaly_mode import is_anomaly_enabled


def _run_threads(targets):
    errors = []

    def guard(fn):
        def run():
            try:
                fn()
            except BaseException as e:  # re-raised in the main thread below
                errors.append(e)
        return run

    threads = [threading.Thread(target=guard(fn)) for fn in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def _train(seed: int, lock=None, steps: int = 30):
    """Seed, build and train a small model; ``lock`` guards the (global) generator."""
    with lock or threading.Lock():
        torch.manual_seed(seed)
        model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    g = np.random.default_rng(seed)
    x = torch.tensor(g.standard_normal((16, 4)).astype(np.float32))
    y = torch.tensor(g.standard_normal((16, 1)).astype(np.float32))
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [p.detach().numpy().copy() for p in model.parameters()]


def test_two_threads_train_like_sequential_bit_for_bit():
    expected = {s: _train(s) for s in (1, 2)}
    got = {}
    lock = threading.Lock()

    def job(seed):
        def run():
            got[seed] = _train(seed, lock)
        return run

    _run_threads([job(1), job(2)])
    for s in (1, 2):
        assert got[s][0] == expected[s][0]
        for a, b in zip(got[s][1], expected[s][1]):
            assert np.array_equal(a, b)


def test_no_grad_in_one_thread_is_invisible_in_another():
    inside = threading.Event()
    checked = threading.Event()
    seen = {}

    def holder():
        with torch.no_grad():
            seen["holder"] = torch.is_grad_enabled()
            inside.set()
            checked.wait(10)
            x = torch.ones(2, requires_grad=True)
            seen["holder_requires_grad"] = (x * 2).requires_grad

    def other():
        inside.wait(10)
        seen["other"] = torch.is_grad_enabled()
        x = torch.ones(2, requires_grad=True)
        seen["other_requires_grad"] = (x * 2).requires_grad
        checked.set()

    _run_threads([holder, other])
    assert seen == {"holder": False, "holder_requires_grad": False, "other": True,
                    "other_requires_grad": True}
    assert torch.is_grad_enabled()


def test_inference_and_anomaly_mode_are_per_thread():
    seen = {}
    with torch.inference_mode(), torch.autograd.set_detect_anomaly(True):
        def probe():
            seen["inference"] = torch.is_inference_mode_enabled()
            seen["anomaly"] = is_anomaly_enabled()
            seen["grad"] = torch.is_grad_enabled()
        _run_threads([probe])
        assert torch.is_inference_mode_enabled() and is_anomaly_enabled()
    assert seen == {"inference": False, "anomaly": False, "grad": True}


def test_forward_ad_level_is_per_thread():
    import retrograd.autograd.forward_ad as fwAD

    seen = {}
    with fwAD.dual_level():
        x = fwAD.make_dual(torch.ones(3), torch.full((3,), 2.0))

        def probe():
            # No level is open in this thread: the same tensor shows no tangent, and a new
            # level can be opened here.
            seen["tangent"] = fwAD.unpack_dual(x).tangent
            with fwAD.dual_level():
                y = fwAD.make_dual(torch.ones(2), torch.ones(2))
                seen["inner"] = fwAD.unpack_dual(y * 3).tangent.tolist()
        _run_threads([probe])
        assert fwAD.unpack_dual(x * 5).tangent.tolist() == [10.0, 10.0, 10.0]
    assert seen == {"tangent": None, "inner": [3.0, 3.0]}


def test_saved_tensors_hooks_are_per_thread():
    packed = []

    def pack(t):
        packed.append(threading.get_ident())
        return t

    x = torch.ones(3, requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        def other():
            (x * x).sum()
        _run_threads([other])
        (x * x).sum()
    assert packed == [threading.get_ident()] * 2


def test_concurrent_backward_into_one_shared_leaf_sums_exactly():
    w = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    ones = np.ones(3)
    n_threads, n_iter = 4, 1000

    def worker():
        for _ in range(n_iter):
            (w * 1.0 + 1.0).sum().backward()

    _run_threads([worker] * n_threads)
    np.testing.assert_array_equal(w.grad.numpy(), ones * n_threads * n_iter)


def test_concurrent_backward_on_independent_graphs():
    results = {}

    def worker(k):
        def run():
            x = torch.full((4, 3), float(k), dtype=torch.float64, requires_grad=True)
            for _ in range(200):
                y = (x * x).tanh().sum(0)
                z = (y * torch.arange(3.0, dtype=torch.float64)).sum()
                (gx,) = torch.autograd.grad(z, x, retain_graph=True)
            x.grad = None
            z.backward()
            results[k] = (gx.numpy().copy(), x.grad.numpy().copy())
        return run

    _run_threads([worker(k) for k in range(4)])
    for k in range(4):
        x = np.full((4, 3), float(k))
        expected = (1 - np.tanh(x * x) ** 2) * 2 * x * np.arange(3.0)
        np.testing.assert_allclose(results[k][0], expected, rtol=1e-6)
        np.testing.assert_allclose(results[k][1], expected, rtol=1e-6)


def test_queued_callbacks_run_in_the_thread_that_queued_them():
    from retrograd.autograd.engine import queue_callback

    ran = []
    x = torch.ones(2, requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: queue_callback(lambda: ran.append(threading.get_ident())))

    def other():
        (torch.ones(2, requires_grad=True) * 3).sum().backward()

    y.sum().backward()
    _run_threads([other])
    assert ran == [threading.get_ident()]


def test_the_hot_paths_record_flag_follows_grad_mode_and_special_modes():
    """``state.record`` (grad on, nothing special) is what Primitive.apply reads: every way
    of changing grad mode or a special mode keeps it equal to what it stands for, per
    thread, and a special mode still records through the general path."""
    from retrograd.autograd.grad_mode import state

    def consistent():
        return state.record == (state.grad_enabled and not state.special)

    x = torch.ones(2, requires_grad=True)
    managers = [torch.no_grad, torch.enable_grad, lambda: torch.set_grad_enabled(False),
                lambda: torch.set_grad_enabled(True), torch.inference_mode,
                torch.autograd.detect_anomaly,
                lambda: torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t)]
    for outer in managers:
        for inner in managers:
            with outer():
                assert consistent()
                with inner():
                    assert consistent()
                    y = x * 2.0
                    assert y.requires_grad == state.grad_enabled
                    if y.requires_grad:
                        y.sum().backward()
                assert consistent()
            assert consistent() and state.record
    x.grad = None
    with torch.no_grad():
        seen = []
        t = threading.Thread(target=lambda: seen.append((state.record, consistent())))
        t.start()
        t.join()
        assert seen == [(True, True)] and not state.record
    # Recorded while a special mode is on (anomaly): through _finish, with its stack trace.
    with torch.autograd.detect_anomaly():
        assert not state.record
        y = (x * 3.0).tanh()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3.0 / np.cosh(3.0) ** 2, rtol=1e-5)
    assert y.grad_fn.next_functions[0][0].metadata.get("traceback_")


def test_not_recording_names_exactly_the_threads_that_do_not_record():
    """``apply`` skips the thread-local read while ``not_recording`` is empty, so the set
    must hold this thread's ident whenever this thread does not record, and the other
    threads must keep recording meanwhile."""
    from retrograd.autograd.grad_mode import not_recording

    me = threading.get_ident()
    assert me not in not_recording
    x = torch.ones(2, requires_grad=True)
    with torch.no_grad():
        assert me in not_recording
        assert not (x * 2).requires_grad
        seen = []
        t = threading.Thread(target=lambda: seen.append(((x * 2).requires_grad,
                                                         threading.get_ident() in not_recording)))
        t.start()
        t.join()
        assert seen == [(True, False)]
        with torch.enable_grad():
            assert me not in not_recording and (x * 2).requires_grad
        assert me in not_recording
    assert me not in not_recording and (x * 2).requires_grad

    def other():
        with torch.no_grad():
            ready.set()
            release.wait()
            seen.append((x * 2).requires_grad)

    ready, release, seen = threading.Event(), threading.Event(), []
    t = threading.Thread(target=other)
    t.start()
    ready.wait()
    assert not_recording and me not in not_recording
    assert (x * 2).requires_grad  # the set is not empty: this thread reads its own flag
    release.set()
    t.join()
    assert seen == [False] and me not in not_recording
