"""Per-kernel times of the `conv` workload, retrograd against PyTorch, one thread each.

Network (bench/workloads.py `conv`): batch 64 of 1x28x28 -> conv(1, 16, 3) -> relu ->
max_pool(2) -> conv(16, 32, 3) -> relu -> max_pool(2). Each kernel's forward and backward is
timed alone at the shapes it sees in that network (backward: the node's backward on a fresh
graph, called directly in both libraries), the two libraries alternating run by run so that
both see the same machine state. Prints a markdown table of median CPU times
(``time.thread_time``: steadier than wall time on a shared machine; BENCH_CLOCK=wall for
wall time), the ratio, and minor page faults per call.

    python bench/bench_conv_kernels.py [--repeat 40] [--rounds 3]
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

import retrograd  # noqa: E402

CLOCK = time.perf_counter if os.environ.get("BENCH_CLOCK") == "wall" else time.thread_time


def kernels(lib, rng):
    """(name, make) pairs; make() builds inputs and returns (forward, backward) thunks."""
    F = lib.nn.functional

    def arr(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    x0 = arr(64, 1, 28, 28)
    w1, b1, w2, b2 = arr(16, 1, 3, 3), arr(16), arr(32, 16, 3, 3), arr(32)
    h1 = arr(64, 16, 26, 26)
    p1 = arr(64, 16, 13, 13)
    h2 = arr(64, 32, 11, 11)

    def case(fn, inputs, grad_shape):
        """Forward on fresh leaves; backward of a fresh forward with a fixed gradient."""
        tens = [lib.tensor(a, requires_grad=rg) for a, rg in inputs]
        g = lib.tensor(arr(*grad_shape))

        def fwd():
            fn(*tens)

        def bwd_setup():
            for t in tens:
                t.grad = None
            return fn(*tens)

        return fwd, bwd_setup, g

    return [
        ("conv1 (1->16, 28x28)",
         lambda: case(F.conv2d, [(x0, False), (w1, True), (b1, True)], (64, 16, 26, 26))),
        ("relu1 (64x16x26x26)", lambda: case(F.relu, [(h1, True)], (64, 16, 26, 26))),
        ("max_pool1 (26 -> 13)",
         lambda: case(lambda t: F.max_pool2d(t, 2), [(h1, True)], (64, 16, 13, 13))),
        ("conv2 (16->32, 13x13)",
         lambda: case(F.conv2d, [(p1, True), (w2, True), (b2, True)], (64, 32, 11, 11))),
        ("relu2 (64x32x11x11)", lambda: case(F.relu, [(h2, True)], (64, 32, 11, 11))),
        ("max_pool2 (11 -> 5)",
         lambda: case(lambda t: F.max_pool2d(t, 2), [(h2, True)], (64, 32, 5, 5))),
    ]


def _node_backward(lib, y, g):
    """The backward of y's node alone, on the gradient g: no engine, no leaf accumulation
    (retrograd's engine copies a gradient that is a view into a leaf's .grad, PyTorch's
    does not: not a kernel cost). PyTorch: ``grad_fn(g)``; retrograd: the node's formula
    on arrays."""
    if lib.__name__ == "torch":
        return lambda: y.grad_fn(g)
    node, arr = y.grad_fn, g._data
    return lambda: node.backward(arr)


def _minflt() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def measure(libs, repeat: int):
    """{(kernel, phase): {lib: (median seconds, median faults)}}."""
    built = {lib.__name__: {name: make() for name, make in kernels(lib, np.random.default_rng(0))}
             for lib in libs}
    names = [name for name, _ in kernels(libs[0], np.random.default_rng(0))]
    out = {}
    for name in names:
        for phase in ("forward", "backward"):
            times = {lib.__name__: [] for lib in libs}
            faults = {lib.__name__: [] for lib in libs}
            for i in range(repeat + 3):
                for lib in libs:
                    fwd, bwd_setup, g = built[lib.__name__][name]
                    if phase == "forward":
                        f0, t0 = _minflt(), CLOCK()
                        fwd()
                        t1, f1 = CLOCK(), _minflt()
                    else:
                        y = bwd_setup()
                        node = _node_backward(lib, y, g)
                        f0, t0 = _minflt(), CLOCK()
                        res = node()
                        t1, f1 = CLOCK(), _minflt()
                        del y, res
                    if i >= 3:  # warm-up calls fill caches (and retrograd's workspaces)
                        times[lib.__name__].append(t1 - t0)
                        faults[lib.__name__].append(f1 - f0)
            out[(name, phase)] = {k: (statistics.median(times[k]), statistics.median(faults[k]))
                                  for k in times}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    rounds = [measure([retrograd, torch], args.repeat) for _ in range(args.rounds)]
    print("| kernel | pass | retrograd | PyTorch | ratio | faults/call (retrograd, PyTorch) |")
    print("|---|---|---|---|---|---|")
    tot = {"retrograd": 0.0, "torch": 0.0}
    for key in rounds[0]:
        r = statistics.median(rd[key]["retrograd"][0] for rd in rounds)
        t = statistics.median(rd[key]["torch"][0] for rd in rounds)
        ratio = statistics.median(rd[key]["retrograd"][0] / rd[key]["torch"][0] for rd in rounds)
        fr = statistics.median(rd[key]["retrograd"][1] for rd in rounds)
        ft = statistics.median(rd[key]["torch"][1] for rd in rounds)
        tot["retrograd"] += r
        tot["torch"] += t
        print(f"| {key[0]} | {key[1]} | {r * 1e3:.3f} ms | {t * 1e3:.3f} ms | {ratio:.2f}x | "
              f"{fr:.0f}, {ft:.0f} |")
    print(f"| all | both | {tot['retrograd'] * 1e3:.2f} ms | {tot['torch'] * 1e3:.2f} ms | "
          f"{tot['retrograd'] / tot['torch']:.2f}x | |")


if __name__ == "__main__":
    main()
