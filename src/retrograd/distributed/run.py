"""Launcher: ``python -m retrograd.distributed.run -n 4 train.py [args]`` starts 4 ranks of
``train.py`` through ``mpiexec`` (MPICH from the ``distributed`` extra, or the cluster's)."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys


def find_mpiexec() -> str:
    """The mpiexec to use: $MPIEXEC, then the one next to this Python, then PATH."""
    env = os.environ.get("MPIEXEC")
    if env:
        return env
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.exists(here):
        return here
    found = shutil.which("mpiexec") or shutil.which("mpirun")
    if found is None:
        raise SystemExit("mpiexec not found: pip install 'retrograd[distributed]' (MPICH) or "
                         "load your cluster's MPI module")
    return found


def keep_ranks_on_exit(mpiexec: str) -> list[str]:
    """MPICH's mpiexec kills every rank, silently, as soon as one exits early (even with
    code 0); asked not to, the survivors see the dead peer and report it by rank."""
    try:
        out = subprocess.run([mpiexec, "--version"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return ["-disable-auto-cleanup"] if "HYDRA" in out else []


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m retrograd.distributed.run",
                                 description="Start N ranks of a training script over MPI.")
    ap.add_argument("-n", "--nproc", "--nproc-per-node", type=int, default=2, dest="n")
    ap.add_argument("--mpiexec-args", default="", help="extra arguments for mpiexec")
    ap.add_argument("script")
    ap.add_argument("args", nargs=argparse.REMAINDER)
    ns = ap.parse_args(argv)
    mpiexec = find_mpiexec()
    cmd = [mpiexec, *keep_ranks_on_exit(mpiexec), "-n", str(ns.n), *ns.mpiexec_args.split(),
           sys.executable, ns.script, *ns.args]
    return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main())
