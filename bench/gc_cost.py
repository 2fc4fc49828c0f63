"""What Python's cyclic GC costs the chain workload, and why.

Usage: python bench/gc_cost.py [--lib retrograd|torch] [--pairs N]

Prints, for one forward of the chain (1000 recorded ops on a (2, 2) tensor):

- how many GC-tracked objects each recorded op creates, and how many of them survive a
  young-generation collection, by type (tuples by the types they hold);
- the collections of each generation over 20 steps and their time (``gc.callbacks``);
- the step time with the GC on and off, alternating in one process (a diagnostic, not a
  benchmark: ``bench/run.py`` and ``bench/forms.py`` time whole processes).

Run it with ``RETROGRAD_PURE_PYTHON=1`` for the pure form.
"""

from __future__ import annotations

import collections
import gc
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "src"))

import workloads  # noqa: E402


def survivors(torch) -> None:
    x = torch.ones(2, 2, requires_grad=True)
    workloads.chain_forward(x)
    gc.collect()
    gc.disable()
    try:
        before = {id(o) for o in gc.get_objects()}
        y = workloads.chain_forward(x)
        made = [o for o in gc.get_objects() if id(o) not in before]
        gc.collect(0)
        kept = [o for o in gc.get_objects() if id(o) not in before]
    finally:
        gc.enable()

    def kind(o):
        if type(o) is tuple:
            return "tuple(" + ", ".join(type(e).__name__ for e in o) + ")"
        return type(o).__name__

    print(f"tracked objects made per op: {len(made) / 1000:.2f}; surviving a young "
          f"collection: {len(kept) / 1000:.2f}")
    for k, n in collections.Counter(map(kind, kept)).most_common(12):
        print(f"  {n / 1000:5.2f}  {k}")
    del y


def collections_and_times(torch, pairs: int) -> None:
    step = workloads._chain_step(torch)
    for _ in range(5):
        step()
    spent: collections.Counter = collections.Counter()
    count: collections.Counter = collections.Counter()
    start = [0.0]

    def watch(phase, info):
        if phase == "start":
            start[0] = time.perf_counter()
        else:
            spent[info["generation"]] += time.perf_counter() - start[0]
            count[info["generation"]] += 1

    gc.callbacks.append(watch)
    try:
        for _ in range(20):
            step()
    finally:
        gc.callbacks.remove(watch)
    print("over 20 steps: " + ", ".join(
        f"gen {g}: {count[g]} collections, {spent[g] / 20 * 1e3:.3f} ms a step"
        for g in sorted(count)))

    def run(n=10):
        t = time.perf_counter()
        for _ in range(n):
            step()
        return (time.perf_counter() - t) / n * 1e3

    on, off = [], []
    for _ in range(pairs):
        on.append(run())
        gc.disable()
        try:
            off.append(run())
        finally:
            gc.enable()
    print(f"step with GC on: median {statistics.median(on):.2f} ms, min {min(on):.2f}; "
          f"off: median {statistics.median(off):.2f} ms, min {min(off):.2f}")


def main() -> None:
    args = sys.argv[1:]
    lib = args[args.index("--lib") + 1] if "--lib" in args else "retrograd"
    pairs = int(args[args.index("--pairs") + 1]) if "--pairs" in args else 15
    torch = workloads.load(lib)
    if lib == "retrograd":
        survivors(torch)
    collections_and_times(torch, pairs)


if __name__ == "__main__":
    main()
