"""compile(mode="reduce-overhead") against eager retrograd, PyTorch eager and the NumPy floor.

Usage: python bench/bench_compile.py [--rounds 5] [--only chain,mlp,conv]

Each round runs every library once per workload, each in its own process with one thread
(``workloads.py``), alternating, and prints the medians over rounds with the ratios: the
compiled step against PyTorch eager, against eager retrograd, and against the floor (the
same computation written by hand as NumPy calls, where there is one).
"""

from __future__ import annotations

import argparse
import statistics
import sys

from run import run_one

LIBS = ("torch", "retrograd", "compiled", "numpy")
FLOOR = {"chain", "mlp"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", default="chain,mlp,conv")
    args = ap.parse_args()
    rows = []
    for workload in args.only.split(","):
        libs = [lib for lib in LIBS if lib != "numpy" or workload in FLOOR]
        times: dict = {lib: [] for lib in libs}
        for _ in range(args.rounds):
            for lib in libs:
                res = run_one(lib, workload, 1)
                if "error" in res:
                    sys.exit(f"{workload} {lib}: {res['error']}")
                times[lib].append(res["seconds"])
        med = {lib: statistics.median(v) for lib, v in times.items()}
        ratio = [c / t for c, t in zip(times["compiled"], times["torch"])]
        rows.append((workload, med, statistics.median(ratio)))
    print("| workload | PyTorch eager | retrograd eager | compiled | NumPy floor | "
          "compiled / PyTorch | compiled / eager | compiled / floor |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for workload, med, ratio in rows:
        ms = {k: f"{v * 1e3:.3f} ms" for k, v in med.items()}
        floor = med.get("numpy")
        vs_floor = "n/a" if floor is None else f"{med['compiled'] / floor:.2f}x"
        print(f"| {workload} | {ms['torch']} | {ms['retrograd']} | {ms['compiled']} | "
              f"{ms.get('numpy', 'n/a')} | {ratio:.2f}x | "
              f"{med['compiled'] / med['retrograd']:.2f}x | {vs_floor} |")


if __name__ == "__main__":
    main()
