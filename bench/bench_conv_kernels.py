"""conv2d + max_pool2d forward and backward time, retrograd against PyTorch, one thread each.

Network: batch 64 of 1x28x28 -> conv(1, 16, 3) -> max_pool(2) -> conv(16, 32, 3) -> max_pool(2)
-> sum; weights require grad. Prints each library's median step time and the
ratio retrograd / torch (the target is <= 1.2).

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python bench/bench_conv_kernels.py
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

import retrograd  # noqa: E402
import retrograd.nn.functional as RF  # noqa: E402


def step(lib, F, x, w1, b1, w2, b2):
    h = F.max_pool2d(F.conv2d(x, w1, b1), 2)
    h = F.max_pool2d(F.conv2d(h, w2, b2), 2)
    h.sum().backward()
    for p in (w1, b1, w2, b2):
        p.grad = None


# CPU time of this thread (both libraries run on one thread): steadier than wall time on a
# shared machine. BENCH_CLOCK=wall for wall-clock time.
CLOCK = time.perf_counter if os.environ.get("BENCH_CLOCK") == "wall" else time.thread_time


def timeit(libs, arrays, repeat=30):
    """Median step time of each library; the steps alternate so that both see the same
    machine state."""
    setups = []
    for lib, F in libs:
        x = lib.tensor(arrays[0])
        params = [lib.tensor(a, requires_grad=True) for a in arrays[1:]]
        for _ in range(3):
            step(lib, F, x, *params)
        setups.append((lib, F, x, params))
    times = [[] for _ in libs]
    for _ in range(repeat):
        for k, (lib, F, x, params) in enumerate(setups):
            t0 = CLOCK()
            step(lib, F, x, *params)
            times[k].append(CLOCK() - t0)
    return [statistics.median(t) for t in times]


def main() -> None:
    import torch
    import torch.nn.functional as TF

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in
              [(64, 1, 28, 28), (16, 1, 3, 3), (16,), (32, 16, 3, 3), (32,)]]
    ratios = []
    for _ in range(5):
        tr, tt = timeit([(retrograd, RF), (torch, TF)], arrays)
        ratios.append(tr / tt)
        print(f"retrograd {tr * 1e3:7.2f} ms   torch {tt * 1e3:7.2f} ms   ratio {tr / tt:5.2f}")
    print(f"median ratio retrograd/torch: {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
