"""Data-parallel throughput of the `big` MLP (784-1024-1024-10, Adam) with 1 and 2 ranks.

Usage: python bench/bench_ddp.py   (starts the ranks itself through mpiexec)
Each rank processes a per-rank batch of 256; throughput = ranks * 256 / step time.
Scaling efficiency = throughput(2 ranks) / (2 * throughput(1 rank)).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "src")


def worker(steps: int = 15) -> None:
    sys.path.insert(0, SRC)
    import numpy as np

    import retrograd as torch
    import retrograd.distributed as dist
    from retrograd.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group("mpi")
    nn = torch.nn
    model = nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(),
                          nn.Linear(1024, 10))
    ddp = DDP(model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = np.random.default_rng(dist.get_rank())
    x = torch.tensor(g.standard_normal((256, 784)).astype(np.float32))
    y = torch.tensor(g.integers(0, 10, 256))
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for i in range(steps + 3):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss_fn(ddp(x), y).backward()
        opt.step()
        dist.barrier()
        if i >= 3:
            times.append(time.perf_counter() - t0)
    if dist.get_rank() == 0:
        print(json.dumps({"ranks": dist.get_world_size(), "step": statistics.median(times)}))


def main() -> None:
    from retrograd.distributed.run import find_mpiexec

    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    results = {}
    for n in (1, 2):
        out = subprocess.run([find_mpiexec(), "-n", str(n), sys.executable, __file__, "--worker"],
                             capture_output=True, text=True, env=env, check=True)
        results[n] = json.loads(out.stdout.strip().splitlines()[-1])["step"]
    thr = {n: n * 256 / t for n, t in results.items()}
    print("| ranks | step time | samples/s |\n|---|---|---|")
    for n in (1, 2):
        print(f"| {n} | {results[n] * 1e3:.1f} ms | {thr[n]:.0f} |")
    print(f"\nscaling efficiency (2 ranks): {thr[2] / (2 * thr[1]):.2f}")


if __name__ == "__main__":
    if "--worker" in sys.argv:
        worker()
    else:
        sys.path.insert(0, SRC)
        main()
