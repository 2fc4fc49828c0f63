"""Count the instructions one step of a workload costs, with valgrind (deterministic, unlike
timings on a shared machine).

Usage: python bench/instructions.py [chain|mlp|conv] [STEPS] [--lib retrograd|compiled|torch]

Runs ``valgrind --tool=callgrind`` on retrograd, collecting only inside the ``map`` that runs
the STEPS timed steps (``--toggle-collect=map_next``), so imports, setup and warmup are not
counted; prints the count per step. ``--keep FILE`` keeps the callgrind output.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

_CHILD = """
import sys
sys.path.insert(0, {bench!r})
import workloads
lib = {lib!r}
workloads.COMPILED = lib == "compiled"
torch = workloads.load("torch" if lib == "torch" else "retrograd")
name, steps = sys.argv[1], int(sys.argv[2])
if name == "chain":
    step = workloads._chain_step(torch)
elif name == "conv":
    step = workloads._conv_step(torch)
else:
    step = workloads._mlp_step(torch, [64, 128, 128, 10], 64, "sgd", 10)
step = workloads._maybe_compiled(torch, step)
for _ in range(3):
    step()
list(map(lambda _: step(), range(steps)))
"""


def count(name: str, steps: int, keep: str | None = None, lib: str = "retrograd") -> int:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=os.path.join(ROOT, "src"))
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        res = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={keep or out}",
             "--toggle-collect=map_next", sys.executable,
             "-c", _CHILD.format(bench=HERE, lib=lib), name, str(steps)],
            capture_output=True, text=True, env=env, check=True)
        m = re.search(r"Collected : (\d+)", res.stderr)
        if m is None:
            raise RuntimeError(res.stderr[-2000:])
        return int(m.group(1))


def main() -> None:
    args = sys.argv[1:]
    keep = None
    if "--keep" in args:
        i = args.index("--keep")
        keep = os.path.abspath(args[i + 1])
        del args[i:i + 2]
    lib = "retrograd"
    if "--lib" in args:
        i = args.index("--lib")
        lib = args[i + 1]
        del args[i:i + 2]
    name = args[0] if args else "chain"
    steps = int(args[1]) if len(args) > 1 else 10
    per_step = count(name, steps, keep, lib) / steps
    unit = " (per op: %.0f)" % (per_step / 1000) if name == "chain" else ""
    print(f"{name} ({lib}): {per_step / 1e6:.3f} M instructions per step{unit}")


if __name__ == "__main__":
    main()
