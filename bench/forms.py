"""The compiled form, the pure form and PyTorch on one workload, in rotation: one process
each per round (compiled, pure, PyTorch, compiled, ...), every figure printed.

Usage: python bench/forms.py [chain|mlp|deep|big|conv] [ROUNDS]

On a shared machine a whole process lands in a fast or a slow stretch: the same PyTorch
step can take 10 ms in one process and 20 ms in the next. ``run.py``'s median of per-round
ratios hides that; this prints each round, then the medians, the minimums (noise only adds
time, so the fastest run is the closest to the cost) and both kinds of ratio.
"""

from __future__ import annotations

import os
import statistics
import sys

from run import REPEATS, run_one

FORMS = (("compiled", "retrograd", {}), ("pure", "retrograd", {"RETROGRAD_PURE_PYTHON": "1"}),
         ("torch", "torch", {}))


def main() -> None:
    workload = sys.argv[1] if len(sys.argv) > 1 else "chain"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    if workload not in REPEATS:
        raise SystemExit(f"unknown workload {workload!r}: one of {', '.join(REPEATS)}")
    times: dict = {name: [] for name, _, _ in FORMS}
    for r in range(rounds):
        for name, lib, env in FORMS:
            saved = dict(os.environ)
            os.environ.update(env)
            try:
                res = run_one(lib, workload, 1)
            finally:
                os.environ.clear()
                os.environ.update(saved)
            if "error" in res:
                raise SystemExit(f"{name}: {res['error']}")
            times[name].append(res["seconds"])
        print(f"round {r}: " + "  ".join(f"{k} {v[-1] * 1e3:.3f} ms" for k, v in times.items()),
              flush=True)
    torch_times = times["torch"]
    for name in ("compiled", "pure"):
        mine = times[name]
        pairs = statistics.median(a / b for a, b in zip(mine, torch_times))
        print(f"{name}: median {statistics.median(mine) * 1e3:.3f} ms, "
              f"min {min(mine) * 1e3:.3f} ms; vs PyTorch: median of pair ratios {pairs:.2f}x, "
              f"ratio of minimums {min(mine) / min(torch_times):.2f}x")
    print(f"torch: median {statistics.median(torch_times) * 1e3:.3f} ms, "
          f"min {min(torch_times) * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
