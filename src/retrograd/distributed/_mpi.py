"""The MPI transport under ``retrograd.distributed``: groups, non-blocking collectives with
polling (so a dead or missing rank is reported instead of hanging), shape checks across
ranks, and fault propagation (a rank that raises tells the others which rank failed)."""

from __future__ import annotations

import os
import sys
import time
import traceback
import zlib

import numpy as np

_TAG_META = 7001
_TAG_ABORT = 7002
_MAX_DIMS = 64  # NumPy's limit: every dimension of any array fits in the message
_META_LEN = 4 + _MAX_DIMS  # op, sequence, dtype, ndim, then the shape, zero-padded


class DistError(RuntimeError):
    """A collective could not complete: a peer failed, never arrived, or disagreed."""


def mpi():
    try:
        from mpi4py import MPI
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise RuntimeError(
            "retrograd.distributed needs mpi4py and an MPI library: "
            "pip install 'retrograd[distributed]' (mpi4py and MPICH)"
        ) from e
    return MPI


_DTYPES = [np.float32, np.float64, np.float16, np.int64, np.int32, np.int16, np.int8, np.uint8,
           np.bool_, np.complex64, np.complex128, np.uint16, np.uint32, np.uint64]
_DTYPE_CODE = {np.dtype(d): i for i, d in enumerate(_DTYPES)}


class Transport:
    """One communicator plus what is needed to wait on it safely."""

    def __init__(self, comm, timeout: float, abort_comm, pids: list | None = None) -> None:
        self.comm = comm
        # pids[r]: process id of rank r when it runs on this host (None elsewhere), to tell
        # a peer that died (os._exit, a signal) from a slow one without waiting the timeout.
        self.pids = pids or [None] * comm.Get_size()
        self.meta_comm = comm.Dup()
        self.abort_comm = abort_comm
        self.timeout = timeout
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.seq = 0

    # ------------------------------------------------------------------ waiting
    def wait(self, requests, what: str, missing_of=None) -> None:
        """Wait for ``requests``; raise if a peer failed or the timeout passes."""
        MPI = mpi()
        deadline = time.monotonic() + self.timeout
        spins = 0
        next_look = time.monotonic() + 0.05
        while True:
            if MPI.Request.Testall(requests):
                return
            check_abort(self.abort_comm)
            now = time.monotonic()
            if now > next_look:
                next_look = now + 0.05
                self.check_alive(what)
            if now > deadline:
                detail = ""
                if missing_of is not None:
                    missing = missing_of()
                    if missing:
                        detail = f": rank(s) {missing} never arrived"
                raise DistError(
                    f"{what} timed out after {self.timeout:.1f} s on rank {self.rank}"
                    f"{detail} (a rank may have stopped or be stuck before this collective)"
                )
            spins += 1
            if spins > 200:
                time.sleep(0.0005)

    def check_alive(self, what: str) -> None:
        """Raise naming a peer whose process has ended (it can no longer take part)."""
        for r, pid in enumerate(self.pids):
            if pid is not None and r != self.rank and not _process_alive(pid):
                raise DistError(
                    f"{what} on rank {self.rank}: rank {r} (pid {pid}) has exited without "
                    "reporting an error (os._exit, a signal or a crash in native code)")

    def check_peers(self, op: str, array) -> None:
        """Exchange (op, shape, dtype) with every peer; raise naming who disagrees."""
        if self.size == 1:
            return
        self.seq += 1
        meta = np.zeros(_META_LEN, dtype=np.int64)
        meta[0] = zlib.crc32(op.encode())  # hash() differs between processes
        meta[1] = self.seq
        if array is not None:
            meta[2] = _DTYPE_CODE.get(array.dtype, 99)
            meta[3] = array.ndim
            meta[4:4 + array.ndim] = array.shape
        else:
            meta[2] = -1
        peers = [r for r in range(self.size) if r != self.rank]
        recv = {r: np.empty(_META_LEN, dtype=np.int64) for r in peers}
        reqs = [self.meta_comm.Irecv(recv[r], source=r, tag=_TAG_META) for r in peers]
        sends = [self.meta_comm.Isend(meta, dest=r, tag=_TAG_META) for r in peers]
        status = dict(zip(peers, reqs))

        def missing():
            return [r for r, q in status.items() if not q.Test()]

        self.wait(reqs + sends, op, missing)
        for r in peers:
            other = recv[r]
            if other[0] != meta[0] or other[1] != meta[1]:
                raise DistError(
                    f"{op} on rank {self.rank} was matched with a different collective on rank "
                    f"{r}: every rank must call the same collectives in the same order"
                )
            if array is not None and other[2] >= 0 and not np.array_equal(other[2:], meta[2:]):
                raise DistError(
                    f"{op}: tensors differ across ranks: rank {self.rank} has "
                    f"{_describe(meta)}, rank {r} has {_describe(other)}"
                )


def _describe(meta) -> str:
    name = np.dtype(_DTYPES[meta[2]]).name if 0 <= meta[2] < len(_DTYPES) else "unknown"
    shape = [int(n) for n in meta[4:4 + meta[3]]]
    return f"shape {shape} dtype {name}"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    try:  # an exited child not yet reaped by its launcher is a zombie: dead for us
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def local_pids(comm) -> list:
    """Every rank's pid where it shares this host, else None (one allgather at start-up)."""
    import socket

    host = socket.gethostname()
    every = comm.allgather((host, os.getpid()))
    return [pid if h == host else None for h, pid in every]


# ---------------------------------------------------------------------- faults

_abort_comm = None


def check_abort(comm) -> None:
    """Raise if another rank announced that it failed."""
    MPI = mpi()
    if comm is None:
        return
    status = MPI.Status()
    if comm.Iprobe(source=MPI.ANY_SOURCE, tag=_TAG_ABORT, status=status):
        msg = comm.recv(source=status.Get_source(), tag=_TAG_ABORT)
        raise DistError(f"rank {status.Get_source()} failed: {msg}")


def install_fault_handler(abort_comm) -> None:
    """On an uncaught exception, tell every other rank which rank failed and why."""
    global _abort_comm
    _abort_comm = abort_comm
    previous = sys.excepthook

    def hook(exc_type, exc, tb):
        previous(exc_type, exc, tb)
        try:
            if not isinstance(exc, DistError) or "failed:" not in str(exc):
                text = "".join(traceback.format_exception_only(exc_type, exc)).strip()
                rank = abort_comm.Get_rank()
                reqs = [abort_comm.isend(text, dest=r, tag=_TAG_ABORT)
                        for r in range(abort_comm.Get_size()) if r != rank]
                deadline = time.monotonic() + 2.0
                while reqs and time.monotonic() < deadline:
                    reqs = [q for q in reqs if not q.Test()]
                    time.sleep(0.01)
                time.sleep(0.5)
        finally:
            sys.stderr.flush()
            sys.stdout.flush()
            os._exit(1)

    sys.excepthook = hook
