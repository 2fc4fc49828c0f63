"""Data-parallel building blocks over MPI, with ``torch.distributed``'s API.

``init_process_group(backend="mpi")`` takes rank and size from MPI (start the ranks with
``python -m retrograd.distributed.run -n 2 train.py`` or ``mpiexec -n 2 python train.py``).
Collectives work in place on the NumPy buffer behind each tensor (no copies for contiguous
tensors). Every collective checks that all ranks passed matching tensors, reports a rank
that never arrives after the group's timeout, and stops with the failed rank's error when
another rank raised.
"""

from __future__ import annotations

import datetime
import os
from typing import Any

import numpy as np

from .._tensor import wrap
from ..ops.inplace import bump_version
from ._mpi import DistError, Transport, install_fault_handler, local_pids, mpi

__all__ = [
    "DistError", "GroupMember", "ProcessGroup", "ReduceOp", "Work", "all_gather",
    "all_gather_into_tensor", "all_gather_object", "all_reduce", "barrier", "broadcast",
    "broadcast_object_list", "destroy_process_group", "gather", "get_backend", "get_rank",
    "get_world_size", "init_process_group", "is_available", "is_initialized", "is_mpi_available",
    "new_group", "reduce", "reduce_scatter", "reduce_scatter_tensor", "scatter",
]


class ReduceOp:
    """Reduction operations, as ``torch.distributed.ReduceOp``."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MAX = "max"
    MIN = "min"


class ProcessGroup:
    """A set of ranks sharing a communicator."""

    def __init__(self, transport: Transport, ranks: list[int]) -> None:
        self.transport = transport
        self.ranks = ranks

    def rank(self) -> int:
        return self.transport.rank

    def size(self) -> int:
        return self.transport.size


class GroupMember:
    WORLD: ProcessGroup | None = None
    NON_GROUP_MEMBER = object()


_default: dict[str, Any] = {"group": None, "abort": None, "pids": None}


def is_available() -> bool:
    return True


def is_mpi_available() -> bool:
    try:
        mpi()
    except RuntimeError:
        return False
    return True


def is_initialized() -> bool:
    return _default["group"] is not None


def _seconds(timeout) -> float:
    if timeout is None:
        return float(os.environ.get("RETROGRAD_DIST_TIMEOUT", 1800))
    if isinstance(timeout, datetime.timedelta):
        return timeout.total_seconds()
    return float(timeout)


def init_process_group(backend: str | None = "mpi", init_method: str | None = None,
                       timeout=None, world_size: int = -1, rank: int = -1, store=None,
                       group_name: str = "", pg_options=None, device_id=None) -> None:
    """Join the default group: every process started by mpiexec, rank and size from MPI."""
    if is_initialized():
        raise RuntimeError("trying to initialize the default process group twice!")
    if backend not in (None, "mpi"):
        raise ValueError(f"retrograd.distributed supports the 'mpi' backend only, got "
                         f"{backend!r} (gloo and nccl are not available on NumPy/CuPy arrays)")
    MPI = mpi()
    world = MPI.COMM_WORLD
    if world_size not in (-1, world.Get_size()):
        raise ValueError(f"world_size={world_size} but MPI started {world.Get_size()} ranks")
    if rank not in (-1, world.Get_rank()):
        raise ValueError(f"rank={rank} but MPI says this process is rank {world.Get_rank()}")
    abort = world.Dup()
    _default["abort"] = abort
    _default["pids"] = local_pids(world)
    group = ProcessGroup(Transport(world.Dup(), _seconds(timeout), abort, _default["pids"]),
                         list(range(world.Get_size())))
    _default["group"] = group
    GroupMember.WORLD = group
    install_fault_handler(abort)


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    if group is None or group is _default["group"]:
        _default["group"] = None
        GroupMember.WORLD = None


def _group(group) -> ProcessGroup:
    g = group if group is not None else _default["group"]
    if g is None:
        raise RuntimeError("Default process group has not been initialized, please make sure "
                           "to call init_process_group.")
    return g


def get_rank(group: ProcessGroup | None = None) -> int:
    return _group(group).rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    return _group(group).size()


def get_backend(group: ProcessGroup | None = None) -> str:
    _group(group)
    return "mpi"


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization=False):
    """A group of ``ranks`` (all ranks when None). Every rank must call it."""
    MPI = mpi()
    world = _group(None)
    ranks = sorted(range(world.size())) if ranks is None else sorted(ranks)
    color = 0 if world.rank() in ranks else MPI.UNDEFINED
    comm = world.transport.comm.Split(color, world.rank())
    if comm == MPI.COMM_NULL:
        return GroupMember.NON_GROUP_MEMBER
    t = _seconds(timeout) if timeout is not None else world.transport.timeout
    pids = [_default["pids"][r] for r in ranks]
    return ProcessGroup(Transport(comm, t, _default["abort"], pids), ranks)


class Work:
    """The handle of an ``async_op=True`` collective."""

    def __init__(self, transport: Transport, requests, what: str, finish=None) -> None:
        self._t = transport
        self._reqs = requests
        self._what = what
        self._finish = finish
        self._done = False

    def wait(self, timeout=None) -> bool:
        if not self._done:
            self._t.wait(self._reqs, self._what)
            if self._finish is not None:
                self._finish()
            self._done = True
        return True

    def is_completed(self) -> bool:
        if self._done:
            return True
        return bool(mpi().Request.Testall(self._reqs))


def _mpi_op(op):
    MPI = mpi()
    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
            ReduceOp.MAX: MPI.MAX, ReduceOp.MIN: MPI.MIN}[op]


def _buffer(tensor):
    """The contiguous array to communicate, and how to put results back."""
    arr = tensor._data
    if arr.flags.c_contiguous:
        return arr, None
    tmp = np.ascontiguousarray(arr)
    return tmp, lambda: arr.__setitem__(Ellipsis, tmp)


def _run(t: Transport, request, what: str, async_op: bool, finish=None):
    work = Work(t, [request], what, finish)
    if async_op:
        return work
    work.wait()
    return None


def _written(tensor, back) -> None:
    """Received values are in ``tensor``'s buffer: copy them in (``back``, when the buffer
    was a contiguous copy) and bump its version."""
    if back is not None:
        back()
    bump_version(tensor)


def _unstack_into(tensors, parts) -> None:
    """tensors[r] = parts[r] in place, for each rank r."""
    for out, part in zip(tensors, parts):
        out._data[...] = part
        bump_version(out)


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce ``tensor`` across ranks in place (every rank gets the result)."""
    g = _group(group)
    t = g.transport
    buf, back = _buffer(tensor)
    t.check_peers("all_reduce", buf)
    req = t.comm.Iallreduce(mpi().IN_PLACE, buf, _mpi_op(op))

    def finish():
        if op == ReduceOp.AVG:
            if buf.dtype.kind in "fc":
                buf[...] /= g.size()
            else:
                buf[...] //= g.size()
        _written(tensor, back)

    return _run(t, req, "all_reduce", async_op, finish)


def broadcast(tensor, src: int, group=None, async_op: bool = False):
    """Copy ``tensor`` from rank ``src`` to every rank, in place."""
    g = _group(group)
    t = g.transport
    buf, back = _buffer(tensor)
    t.check_peers("broadcast", buf)
    req = t.comm.Ibcast(buf, root=_local(g, src))

    def finish():
        _written(tensor, back)

    return _run(t, req, "broadcast", async_op, finish)


def _local(g: ProcessGroup, rank: int) -> int:
    if rank not in g.ranks:
        raise ValueError(f"rank {rank} is not part of the group {g.ranks}")
    return g.ranks.index(rank)


def _rooted(what: str, group, tensor, rank: int):
    """The start of a collective rooted at global ``rank``: the group, its transport,
    ``tensor``'s buffer and copy-back (see ``_buffer``), and the root's index in the group."""
    g = _group(group)
    buf, back = _buffer(tensor)
    root = _local(g, rank)
    g.transport.check_peers(what, buf)
    return g, g.transport, buf, back, root


def reduce(tensor, dst: int, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce ``tensor`` across ranks into rank ``dst``'s tensor."""
    g = _group(group)
    t = g.transport
    buf, back = _buffer(tensor)
    t.check_peers("reduce", buf)
    root = _local(g, dst)
    MPI = mpi()
    if t.rank == root:
        req = t.comm.Ireduce(MPI.IN_PLACE, buf, _mpi_op(op), root=root)
    else:
        req = t.comm.Ireduce(buf, None, _mpi_op(op), root=root)

    def finish():
        if t.rank == root:
            if op == ReduceOp.AVG:
                buf[...] /= g.size()
            _written(tensor, back)

    return _run(t, req, "reduce", async_op, finish)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op: bool = False):
    """Concatenate every rank's ``input_tensor`` along dim 0 into ``output_tensor``."""
    g = _group(group)
    t = g.transport
    send, _ = _buffer(input_tensor)
    recv, back = _buffer(output_tensor)
    if recv.size != send.size * g.size():
        raise ValueError(f"all_gather_into_tensor: output has {recv.size} elements, expected "
                         f"{send.size} x {g.size()} ranks = {send.size * g.size()}")
    t.check_peers("all_gather_into_tensor", send)
    req = t.comm.Iallgather(send, recv)

    def finish():
        _written(output_tensor, back)

    return _run(t, req, "all_gather_into_tensor", async_op, finish)


def all_gather(tensor_list, tensor, group=None, async_op: bool = False):
    """Fill ``tensor_list[r]`` with rank r's ``tensor``."""
    g = _group(group)
    if len(tensor_list) != g.size():
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} entries for a group "
                         f"of {g.size()} ranks")
    t = g.transport
    send, _ = _buffer(tensor)
    recv = np.empty((g.size(), *send.shape), dtype=send.dtype)
    t.check_peers("all_gather", send)
    req = t.comm.Iallgather(send, recv)

    def finish():
        _unstack_into(tensor_list, recv)

    return _run(t, req, "all_gather", async_op, finish)


def gather(tensor, gather_list=None, dst: int = 0, group=None, async_op: bool = False):
    """Collect every rank's ``tensor`` into ``gather_list`` on rank ``dst``."""
    g, t, send, _, root = _rooted("gather", group, tensor, dst)
    recv = np.empty((g.size(), *send.shape), dtype=send.dtype) if t.rank == root else None
    req = t.comm.Igather(send, recv, root=root)

    def finish():
        if t.rank == root:
            if gather_list is None or len(gather_list) != g.size():
                raise ValueError("gather: gather_list on the destination rank must hold one "
                                 "tensor per rank")
            _unstack_into(gather_list, recv)

    return _run(t, req, "gather", async_op, finish)


def scatter(tensor, scatter_list=None, src: int = 0, group=None, async_op: bool = False):
    """Rank ``src`` sends ``scatter_list[r]`` to rank r, which receives it in ``tensor``."""
    g, t, recv, back, root = _rooted("scatter", group, tensor, src)
    send = None
    if t.rank == root:
        if scatter_list is None or len(scatter_list) != g.size():
            raise ValueError("scatter: scatter_list on the source rank must hold one tensor "
                             "per rank")
        send = np.stack([np.asarray(s._data, dtype=recv.dtype) for s in scatter_list])
    req = t.comm.Iscatter(send, recv, root=root)

    def finish():
        _written(tensor, back)

    return _run(t, req, "scatter", async_op, finish)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce ``input`` across ranks and give rank r the r-th block along dim 0."""
    g = _group(group)
    t = g.transport
    send, _ = _buffer(input)
    recv, back = _buffer(output)
    t.check_peers("reduce_scatter_tensor", send)
    req = t.comm.Ireduce_scatter_block(send, recv, _mpi_op(op))

    def finish():
        if op == ReduceOp.AVG:
            recv[...] /= g.size()
        _written(output, back)

    return _run(t, req, "reduce_scatter_tensor", async_op, finish)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce the lists across ranks; rank r receives the reduced ``input_list[r]``."""
    stacked = wrap(np.stack([np.asarray(x._data) for x in input_list]))
    return reduce_scatter_tensor(output, stacked, op, group, async_op)


def barrier(group=None, async_op: bool = False, device_ids=None):
    """Wait until every rank of the group arrives."""
    g = _group(group)
    t = g.transport
    t.check_peers("barrier", None)
    req = t.comm.Ibarrier()
    return _run(t, req, "barrier", async_op)


def all_gather_object(object_list: list, obj: Any, group=None) -> None:
    """``object_list[r]`` = rank r's ``obj`` (pickled, as in PyTorch: trust your peers)."""
    g = _group(group)
    g.transport.check_peers("all_gather_object", None)
    gathered = g.transport.comm.allgather(obj)
    object_list[:] = gathered


def broadcast_object_list(object_list: list, src: int = 0, group=None, device=None) -> None:
    """Replace ``object_list``'s items with rank ``src``'s (pickled)."""
    g = _group(group)
    g.transport.check_peers("broadcast_object_list", None)
    got = g.transport.comm.bcast(list(object_list), root=_local(g, src))
    object_list[:] = got
