"""DataLoader throughput with worker processes, retrograd against PyTorch.

The dataset's ``__getitem__`` waits 2 ms (standing in for reading and decoding a file) and
returns a 3x32x32 float tensor and a label; 256 samples in batches of 16. For each
``num_workers`` in (0, 1, 2, 4) the script times whole epochs (wall clock: the point is
the overlap of waiting) of retrograd's and PyTorch's DataLoader, alternating the two
libraries, and prints the median epoch time, the speedup over ``num_workers=0`` and the
ratio retrograd / torch. Worker start-up is part of each epoch, as without
``persistent_workers``; ``--persistent`` keeps the workers and times the later epochs.

    python bench/bench_dataloader.py [--repeats 5] [--delay-ms 2] [--samples 256] [--persistent]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

import retrograd
from retrograd.utils import data as rdata

N, BATCH, DELAY = 256, 16, 0.002


class SlowRetrograd(rdata.Dataset):
    def __len__(self):
        return N

    def __getitem__(self, i):
        time.sleep(DELAY)
        return retrograd.full((3, 32, 32), float(i)), i


def _torch_dataset():
    import torch
    from torch.utils import data as tdata

    class SlowTorch(tdata.Dataset):
        def __len__(self):
            return N

        def __getitem__(self, i):
            time.sleep(DELAY)
            return torch.full((3, 32, 32), float(i)), i

    return tdata.DataLoader, SlowTorch()


def make_loader(loader_cls, dataset, workers: int, persistent: bool):
    return loader_cls(dataset, batch_size=BATCH, num_workers=workers,
                      persistent_workers=persistent and workers > 0)


def epoch_time(loader) -> float:
    start = time.perf_counter()
    count = 0
    for x, _ in loader:
        count += x.shape[0]
    assert count == N
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--delay-ms", type=float, default=2.0)
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--persistent", action="store_true",
                        help="persistent_workers=True; one warm-up epoch is not timed")
    args = parser.parse_args()
    global N, DELAY
    N, DELAY = args.samples, args.delay_ms / 1000
    # Both libraries warn when workers outnumber CPUs; sleeping workers do not need a CPU each.
    warnings.filterwarnings("ignore", message="This DataLoader will create")
    try:
        tloader, tdataset = _torch_dataset()
    except ImportError:
        tloader = None
    ours = (rdata.DataLoader, SlowRetrograd())
    print(f"{N} samples x {DELAY * 1000:.0f} ms sleep, batch {BATCH}, "
          f"{args.repeats} epochs each; cpus: {os.cpu_count()}")
    print(f"{'workers':>7} {'retrograd s':>12} {'speedup':>8} {'torch s':>9} {'speedup':>8} "
          f"{'ratio':>6}")
    base = {}
    for workers in (0, 1, 2, 4):
        mine, theirs = [], []
        our_loader = make_loader(*ours, workers, args.persistent)
        their_loader = (make_loader(tloader, tdataset, workers, args.persistent)
                        if tloader is not None else None)
        if args.persistent:  # start the workers outside the timed epochs
            epoch_time(our_loader)
            if their_loader is not None:
                epoch_time(their_loader)
        for _ in range(args.repeats):
            mine.append(epoch_time(our_loader))
            if their_loader is not None:
                theirs.append(epoch_time(their_loader))
        m = statistics.median(mine)
        t = statistics.median(theirs) if theirs else float("nan")
        base.setdefault("m", m)
        base.setdefault("t", t)
        print(f"{workers:>7} {m:>12.3f} {base['m'] / m:>7.2f}x {t:>9.3f} {base['t'] / t:>7.2f}x "
              f"{m / t:>6.2f}")


if __name__ == "__main__":
    main()
