"""Benchmark workloads, written once against the PyTorch API and run on either library.

Usage: python bench/workloads.py LIB WORKLOAD [REPEATS]
LIB is "retrograd", "torch", "compiled" (retrograd through compile(mode="reduce-overhead"))
or "numpy" (the hand-written floor: chain, mlp, big and memory).
Prints one JSON line: {"seconds": median seconds per iteration, ...}.
"""

from __future__ import annotations

import gc
import itertools
import json
import os
import statistics
import sys
import time
import tracemalloc

import numpy as np

#: Set by ``main`` for the "compiled" library: retrograd with every step run through
#: ``compile(mode="reduce-overhead")`` (captured once, replayed after).
COMPILED = False


def _maybe_compiled(torch, step):
    return torch.compile(step, mode="reduce-overhead") if COMPILED else step


def load(lib: str):
    if lib == "torch":
        import torch

        torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "1")))
        return torch
    import retrograd

    return retrograd


def _time(step, repeats: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def chain_forward(x):
    """The chain's 1000 small elementwise ops, from ``x``."""
    y = x
    for _ in range(250):
        y = y * 1.0001
        y = y + 0.5
        y = y.tanh()
        y = y - 0.25
    return y


def _chain_step(torch):
    """One chain step: 1000 small elementwise ops on a (2, 2) tensor, then backward."""
    x = torch.ones(2, 2, requires_grad=True)

    def step():
        chain_forward(x).sum().backward()
        x.grad = None

    return step


def chain(torch, repeats):
    """1000 small elementwise ops on a (2, 2) tensor with grad, forward then backward."""
    return {"seconds": _time(_maybe_compiled(torch, _chain_step(torch)), repeats), "ops": 1000}


def _mlp_step(torch, sizes, batch, opt_name, n_classes):
    nn = torch.nn
    layers = []
    for a, b in itertools.pairwise(sizes):
        layers += [nn.Linear(a, b), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    g = np.random.default_rng(0)
    x = torch.tensor(g.standard_normal((batch, sizes[0])).astype(np.float32))
    y = torch.tensor(g.integers(0, n_classes, batch))
    if opt_name == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    return step


def mlp(torch, repeats):
    """64-128-128-10 MLP, ReLU, cross-entropy, SGD with momentum, batch 64."""
    step = _mlp_step(torch, [64, 128, 128, 10], 64, "sgd", 10)
    return {"seconds": _time(_maybe_compiled(torch, step), repeats)}


def big(torch, repeats):
    """784-1024-1024-10 MLP, batch 256, Adam, one training step."""
    return {"seconds": _time(_mlp_step(torch, [784, 1024, 1024, 10], 256, "adam", 10), repeats)}


def _rss_kib(field: str) -> int:
    """VmRSS / VmHWM of this process in KiB (Linux); 0 where /proc is missing."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _memory_profile(step, repeats: int) -> dict:
    """Minor page faults per step (getrusage ru_minflt, median over steps) and the process's
    peak RSS during a step (VmHWM reset before each step; the maximum over steps), with how
    much of it the step added on top of the RSS before it."""
    import resource

    faults, peaks, added = [], [], []
    for _ in range(repeats):
        gc.collect()
        reset = _reset_peak_rss()
        before = _rss_kib("VmRSS:")
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        step()
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
        if reset:
            peaks.append(_rss_kib("VmHWM:"))
            added.append(peaks[-1] - before)
    out = {"minflt": statistics.median(faults)}
    if peaks:
        out["peak_rss_mib"] = max(peaks) / 1024
        out["step_added_rss_mib"] = statistics.median(added) / 1024
    else:
        out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _conv_step(torch):
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3),
                          nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(800, 10))
    g = np.random.default_rng(0)
    x = torch.tensor(g.standard_normal((64, 1, 28, 28)).astype(np.float32))
    y = torch.tensor(g.integers(0, 10, 64))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    return step


def conv(torch, repeats):
    """Batch 64 of 1x28x28: Conv(1,16,3)-ReLU-MaxPool(2)-Conv(16,32,3)-ReLU-MaxPool(2)-Linear.
    Also reports minor page faults per step and the peak RSS a step adds."""
    step = _maybe_compiled(torch, _conv_step(torch))
    return {"seconds": _time(step, repeats), **_memory_profile(step, repeats)}


def _numpy_chain_step():
    """The floor of ``chain``: the same forward and backward written as NumPy calls."""
    x = np.ones((2, 2))

    def step():
        saved = []
        y = x
        for _ in range(250):
            y = y * 1.0001
            y = y + 0.5
            y = np.tanh(y)
            saved.append(y)
            y = y - 0.25
        g = np.ones_like(y)
        for t in reversed(saved):
            g = g * (1 - t * t)
            g = g * 1.0001
        return g

    return step


def _numpy_mlp_sgd_step():
    """The floor of ``mlp``: forward, backward and SGD with momentum in NumPy calls."""
    g = np.random.default_rng(0)
    sizes = [64, 128, 128, 10]
    ps = []
    for a, b in itertools.pairwise(sizes):
        bound = 1 / np.sqrt(a)
        ps += [g.uniform(-bound, bound, (b, a)).astype(np.float32),
               g.uniform(-bound, bound, b).astype(np.float32)]
    bufs = [np.zeros_like(p) for p in ps]
    x = g.standard_normal((64, 64)).astype(np.float32)
    y = g.integers(0, 10, 64)

    def step():
        acts, h = [x], x
        for i in range(3):
            h = h @ ps[2 * i].T + ps[2 * i + 1]
            if i < 2:
                h = np.maximum(h, 0)
            acts.append(h)
        z = h - h.max(1, keepdims=True)
        e = np.exp(z)
        p = e / e.sum(1, keepdims=True)
        p[np.arange(64), y] -= 1
        grad = p / 64
        grads = [None] * 6
        for i in range(2, -1, -1):
            grads[2 * i] = grad.T @ acts[i]
            grads[2 * i + 1] = grad.sum(0)
            if i:
                grad = (grad @ ps[2 * i]) * (acts[i] > 0)
        for p_, g_, b in zip(ps, grads, bufs):
            b *= 0.9
            b += g_
            p_ -= 0.01 * b

    return step


def deep(torch, repeats):
    """Backward through a 1,000,000-node chain: time per node and peak memory."""
    n = 1_000_000
    x = torch.ones(1, requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0
    out = y.sum()
    del y
    t0 = time.perf_counter()
    out.backward()
    seconds = time.perf_counter() - t0
    return {"seconds": seconds / n, "per": "node"}


class _NumpyMLP:
    """The floor: a hand-written NumPy forward/backward + Adam of the `big` network."""

    def __init__(self, sizes, batch):
        g = np.random.default_rng(0)
        self.params = []
        for a, b in itertools.pairwise(sizes):
            bound = 1 / np.sqrt(a)
            self.params.append(g.uniform(-bound, bound, (b, a)).astype(np.float32))
            self.params.append(g.uniform(-bound, bound, b).astype(np.float32))
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0
        self.x = g.standard_normal((batch, sizes[0])).astype(np.float32)
        self.y = g.integers(0, sizes[-1], batch)

    def step(self):
        ps = self.params
        acts = [self.x]
        h = self.x
        n_layers = len(ps) // 2
        for i in range(n_layers):
            h = h @ ps[2 * i].T + ps[2 * i + 1]
            if i < n_layers - 1:
                h = np.maximum(h, 0)
            acts.append(h)
        z = h - h.max(1, keepdims=True)
        e = np.exp(z)
        p = e / e.sum(1, keepdims=True)
        p[np.arange(len(self.y)), self.y] -= 1
        g = p / len(self.y)
        grads = [None] * len(ps)
        for i in range(n_layers - 1, -1, -1):
            grads[2 * i] = g.T @ acts[i]
            grads[2 * i + 1] = g.sum(0)
            if i:
                g = (g @ ps[2 * i]) * (acts[i] > 0)
        self.t += 1
        b1, b2, lr, eps = 0.9, 0.999, 1e-3, 1e-8
        for p_, g_, m, v in zip(ps, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * g_
            v *= b2
            v += (1 - b2) * g_ * g_
            mhat = m / (1 - b1**self.t)
            vhat = v / (1 - b2**self.t)
            p_ -= lr * mhat / (np.sqrt(vhat) + eps)


def memory(torch, repeats):
    """Peak traced memory (tracemalloc) of one `big` step."""
    if torch is None:
        model = _NumpyMLP([784, 1024, 1024, 10], 256)
        step = model.step
    else:
        step = _mlp_step(torch, [784, 1024, 1024, 10], 256, "adam", 10)
    step()
    gc.collect()
    # retrograd's workspace cache would serve the traced step from buffers allocated before
    # tracing started; empty it so that the step's own memory is counted.
    getattr(getattr(torch, "cpu", None), "empty_cache", lambda: None)()
    tracemalloc.start()
    step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"seconds": 0.0, "peak_bytes": peak}


WORKLOADS = {"chain": chain, "mlp": mlp, "big": big, "conv": conv, "deep": deep,
             "memory": memory}


def main():
    lib, name = sys.argv[1], sys.argv[2]
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    global COMPILED
    COMPILED = lib == "compiled"
    if lib == "numpy":
        if name == "memory":
            result = memory(None, repeats)
        elif name == "chain":
            result = {"seconds": _time(_numpy_chain_step(), repeats)}
        elif name == "mlp":
            result = {"seconds": _time(_numpy_mlp_sgd_step(), repeats)}
        else:
            result = {"seconds": _time(_NumpyMLP([784, 1024, 1024, 10], 256).step, repeats)}
    else:
        try:
            result = WORKLOADS[name](load("retrograd" if COMPILED else lib), repeats)
        except (AttributeError, ImportError) as e:
            result = {"error": f"unavailable: {e}"}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
