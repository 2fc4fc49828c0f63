"""retrograd.distributed and DistributedDataParallel, run with ``mpiexec -n 2``."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from retrograd.distributed.run import find_mpiexec

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "dist_worker.py")


def _mpirun(*cases, timeout=60, env=None):
    cmd = [find_mpiexec(), "-n", "2", sys.executable, WORKER, *cases]
    full_env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", **(env or {}))
    t0 = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env)
    return out, time.monotonic() - t0


def test_collectives_against_numpy():
    out, _ = _mpirun("collectives")
    assert out.returncode == 0, out.stderr
    for name in ["all_reduce sum", "all_reduce product", "all_reduce max", "all_reduce min",
                 "all_reduce avg", "all_reduce async", "all_reduce non-contiguous", "broadcast",
                 "reduce", "all_gather", "all_gather_into_tensor", "reduce_scatter_tensor",
                 "reduce_scatter", "scatter", "objects", "new_group all_reduce"]:
        for rank in (0, 1):
            assert f"PASS {name} rank {rank}" in out.stdout, (name, out.stdout)
    assert "PASS gather rank 0" in out.stdout


def test_ddp_training_equals_full_batch_and_no_sync_and_unused():
    out, _ = _mpirun("ddp_equals_full_batch", "ddp_no_sync", "ddp_unused", "sampler")
    assert out.returncode == 0, out.stderr
    for name in ["ddp", "no_sync", "unused", "sampler"]:
        for rank in (0, 1):
            assert f"PASS {name} rank {rank}" in out.stdout


@pytest.mark.parametrize("case,message", [
    ("fault_raise", "rank 1 failed: ValueError: boom on purpose"),
    ("fault_mismatch", "tensors differ across ranks"),
    ("fault_missing", "rank(s) [1] never arrived"),
])
def test_faults_end_with_a_clear_error(case, message):
    out, elapsed = _mpirun(case, timeout=60, env={"DIST_TIMEOUT": "2"})
    assert out.returncode != 0
    assert message in out.stderr, out.stderr[-3000:]
    assert elapsed < 30


@pytest.mark.parametrize("case,shapes", [
    ("fault_mismatch_deep", ("[1, 1, 1, 1, 1, 1, 1, 1, 3]", "[1, 1, 1, 1, 1, 1, 1, 1, 4]")),
    ("fault_mismatch_numel", ("[1, 1, 1, 1, 1, 1, 1, 1, 1000]",
                              "[1, 1, 1, 1, 1, 1, 1, 1, 100000]")),
])
def test_shape_check_compares_every_dimension(case, shapes):
    # Only the 9th dimension differs; before, only 8 were exchanged and this exited 0.
    out, _ = _mpirun(case, env={"DIST_TIMEOUT": "10"})
    assert out.returncode != 0
    assert "tensors differ across ranks" in out.stderr, out.stderr[-3000:]
    for shape in shapes:
        assert f"shape {shape} dtype float32" in out.stderr
    assert "np.int64" not in out.stderr  # plain ints in the message


def test_rank_that_os_exits_is_named():
    # rank 1 leaves with os._exit(0): plain mpiexec would kill rank 0 silently and exit 0.
    out = subprocess.run([sys.executable, "-m", "retrograd.distributed.run", "-n", "2", WORKER,
                          "fault_exit"], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, PYTHONPATH=os.path.join(HERE, "..", "src"),
                                  DIST_TIMEOUT="30", OMP_NUM_THREADS="1"))
    assert out.returncode != 0
    assert "all_reduce on rank 0: rank 1 (pid" in out.stderr, out.stderr[-3000:]
    assert "has exited without reporting an error" in out.stderr
    assert "timed out" not in out.stderr  # found by its pid, not by waiting 30 s


def test_launcher_runs_ranks(tmp_path):
    script = tmp_path / "hello.py"
    src = os.path.join(HERE, "..", "src")
    script.write_text(
        f"import sys; sys.path.insert(0, {src!r})\n"
        "import retrograd.distributed as dist\n"
        "dist.init_process_group('mpi')\n"
        "line = f'hello from {dist.get_rank()} of {dist.get_world_size()}\\n'\n"
        "sys.stdout.write(line); sys.stdout.flush()\n")
    out = subprocess.run([sys.executable, "-m", "retrograd.distributed.run", "-n", "2",
                          str(script)], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, PYTHONPATH=os.path.join(HERE, "..", "src")))
    assert out.returncode == 0, out.stderr
    assert "hello from 0 of 2" in out.stdout and "hello from 1 of 2" in out.stdout


def test_data_parallel_demo_trains():
    demo = os.path.join(HERE, "..", "examples", "digits_ddp.py")
    out = subprocess.run([sys.executable, "-m", "retrograd.distributed.run", "-n", "2", demo,
                          "--epochs", "4"], capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, PYTHONPATH=os.path.join(HERE, "..", "src"),
                                  OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1"))
    assert out.returncode == 0, out.stderr
    acc = float(out.stdout.split("test accuracy")[1].split("%")[0])
    assert acc > 90.0, out.stdout
