"""Run every benchmark workload in retrograd and PyTorch, alternating A B A B in separate
processes, and write the table of medians and ratios to docs/performance.md.

Usage: python bench/run.py [--rounds 5] [--threads 1] [--only chain,mlp]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

TARGETS = {"chain": "<= 0.5x PyTorch", "mlp": "<= 0.7x PyTorch",
           "big": "<= 1.0x PyTorch, <= 1.05x NumPy floor", "conv": "<= 1.2x PyTorch",
           "deep": "per-node time <= PyTorch", "memory": "<= 1.2x NumPy step"}
REPEATS = {"chain": 30, "mlp": 50, "big": 10, "conv": 10, "deep": 1, "memory": 1}
MEMORY_KEYS = ("minflt", "peak_rss_mib")


def run_one(lib: str, workload: str, threads: int) -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    env["BENCH_THREADS"] = str(threads)
    env["PYTHONPATH"] = os.path.join(ROOT, "src") + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, os.path.join(HERE, "workloads.py"), lib, workload,
                          str(REPEATS[workload])], capture_output=True, text=True, env=env,
                         check=False)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(workload: str, rounds: int, threads: int) -> dict:
    libs = ["retrograd", "torch"] + (["numpy"] if workload in ("big", "memory") else [])
    key = "peak_bytes" if workload == "memory" else "seconds"
    values: dict = {lib: [] for lib in libs}
    extra: dict = {}  # page faults and peak RSS per step, where the workload reports them
    for _ in range(rounds):
        for lib in libs:
            res = run_one(lib, workload, threads)
            if "error" in res:
                return {"error": f"{lib}: {res['error']}"}
            values[lib].append(res[key])
            for k in MEMORY_KEYS:
                if k in res:
                    extra.setdefault(lib, {}).setdefault(k, []).append(res[k])
    med = {lib: statistics.median(v) for lib, v in values.items()}
    ratios = [a / b for a, b in zip(values["retrograd"], values["torch"])]
    out = {"median": med, "ratio_torch": statistics.median(ratios)}
    if extra:
        out["memory"] = {lib: {k: statistics.median(v) for k, v in d.items()}
                         for lib, d in extra.items()}
    if "numpy" in values:
        out["ratio_numpy"] = statistics.median(
            [a / b for a, b in zip(values["retrograd"], values["numpy"])])
    return out


def fmt(workload: str, v: float) -> str:
    if workload == "memory":
        return f"{v / 2**20:.1f} MiB"
    if workload == "deep":
        return f"{v * 1e6:.2f} us/node"
    if workload == "chain":
        return f"{v * 1e3:.2f} ms ({v / 1000 * 1e6:.2f} us/op)"
    return f"{v * 1e3:.2f} ms"


def _memory_rows(workload: str, threads: int, r: dict) -> list:
    """Page faults and peak RSS next to the times, for workloads that measure them."""
    mem = r.get("memory")
    if not mem or "retrograd" not in mem or "torch" not in mem:
        return []
    a, b = mem["retrograd"], mem["torch"]
    return [f"| {workload} | {threads} | {a.get('minflt', 0):.0f}, {b.get('minflt', 0):.0f} | "
            f"{a.get('peak_rss_mib', 0):.1f} MiB, {b.get('peak_rss_mib', 0):.1f} MiB |"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--only", default=",".join(REPEATS))
    ap.add_argument("--write", default=os.path.join(ROOT, "docs", "performance.md"))
    args = ap.parse_args()
    import numpy
    import torch

    lines = [
        "# Performance: retrograd vs PyTorch (CPU)",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, NumPy {numpy.__version__}, PyTorch {torch.__version__}.",
        f"Each figure is the median of {args.rounds} alternating runs (retrograd, PyTorch, "
        "NumPy floor), each in its own process; ratios are medians of per-round ratios. "
        "Regenerate with `python bench/run.py`.",
        "",
    ]
    memory_rows: list = []
    for threads in [int(t) for t in args.threads.split(",")]:
        lines += [f"## {threads} thread(s) (OMP/OPENBLAS_NUM_THREADS={threads}, "
                  f"torch.set_num_threads({threads}))", "",
                  "| workload | retrograd | PyTorch | NumPy floor | ratio vs PyTorch | "
                  "ratio vs floor | target |",
                  "|---|---|---|---|---|---|---|"]
        for w in args.only.split(","):
            r = measure(w, args.rounds, threads)
            if "error" in r:
                row = f"| {w} | {r['error']} | | | | | {TARGETS[w]} |"
            else:
                m = r["median"]
                floor = fmt(w, m["numpy"]) if "numpy" in m else ""
                rn = f"{r['ratio_numpy']:.2f}x" if "ratio_numpy" in r else ""
                # tracemalloc cannot see PyTorch's allocator: no memory figure for it.
                theirs = "n/a" if w == "memory" else fmt(w, m["torch"])
                rt = "n/a" if w == "memory" else f"{r['ratio_torch']:.2f}x"
                row = (f"| {w} | {fmt(w, m['retrograd'])} | {theirs} | {floor} | {rt} | {rn} | "
                       f"{TARGETS[w]} |")
            print(row, flush=True)
            lines.append(row)
            memory_rows.extend(_memory_rows(w, threads, r))
        lines.append("")
        if memory_rows:
            lines += ["| workload | threads | minor page faults / step (retrograd, PyTorch) | "
                      "peak RSS during a step (retrograd, PyTorch) |", "|---|---|---|---|",
                      *memory_rows, ""]
            memory_rows.clear()
    if args.write:
        os.makedirs(os.path.dirname(args.write), exist_ok=True)
        with open(args.write, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
