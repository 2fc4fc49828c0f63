"""Run under ``mpiexec -n 2``: one case of the distributed tests (see test_distributed.py).
Each check prints "PASS <name>"; a failure raises (and the other rank reports it)."""

from __future__ import annotations

import datetime
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

import retrograd as torch
import retrograd.distributed as dist
from retrograd.nn.parallel import DistributedDataParallel as DDP


def data(rank, shape=(2, 3), dtype=np.float64):
    return (np.arange(np.prod(shape)).reshape(shape) + 10 * rank + 1).astype(dtype)


def check(name, got, expected):
    np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-12, atol=1e-12)
    say(f"PASS {name} rank {dist.get_rank()}")


def say(line: str) -> None:
    """One write per line: the ranks share a pipe, and a single small write is atomic."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def collectives():
    r, n = dist.get_rank(), dist.get_world_size()
    every = [data(i) for i in range(n)]
    for op, fn in [(dist.ReduceOp.SUM, np.sum), (dist.ReduceOp.PRODUCT, np.prod),
                   (dist.ReduceOp.MAX, np.max), (dist.ReduceOp.MIN, np.min),
                   (dist.ReduceOp.AVG, np.mean)]:
        t = torch.tensor(data(r))
        dist.all_reduce(t, op=op)
        check(f"all_reduce {op}", t.numpy(), fn(np.stack(every), axis=0))
    t = torch.tensor(data(r))
    work = dist.all_reduce(t, async_op=True)
    work.wait()
    check("all_reduce async", t.numpy(), np.sum(every, axis=0))
    t = torch.tensor(data(r)).t()  # non-contiguous
    dist.all_reduce(t)
    check("all_reduce non-contiguous", t.numpy(), np.sum(every, axis=0).T)
    t = torch.tensor(data(r))
    dist.broadcast(t, src=1)
    check("broadcast", t.numpy(), every[1])
    t = torch.tensor(data(r))
    dist.reduce(t, dst=0)
    check("reduce", t.numpy(), np.sum(every, axis=0) if r == 0 else every[r])
    outs = [torch.zeros(2, 3, dtype=torch.float64) for _ in range(n)]
    dist.all_gather(outs, torch.tensor(data(r)))
    check("all_gather", np.stack([o.numpy() for o in outs]), np.stack(every))
    out = torch.zeros(2 * n, 3, dtype=torch.float64)
    dist.all_gather_into_tensor(out, torch.tensor(data(r)))
    check("all_gather_into_tensor", out.numpy(), np.concatenate(every))
    out = torch.zeros(1, 3, dtype=torch.float64)
    dist.reduce_scatter_tensor(out, torch.tensor(data(r)))
    check("reduce_scatter_tensor", out.numpy(), np.sum(every, axis=0)[r:r + 1])
    out = torch.zeros(3, dtype=torch.float64)
    dist.reduce_scatter(out, [torch.tensor(data(r)[i]) for i in range(n)])
    check("reduce_scatter", out.numpy(), np.sum(every, axis=0)[r])
    glist = [torch.zeros(2, 3, dtype=torch.float64) for _ in range(n)] if r == 0 else None
    dist.gather(torch.tensor(data(r)), glist, dst=0)
    if r == 0:
        check("gather", np.stack([g.numpy() for g in glist]), np.stack(every))
    t = torch.zeros(2, 3, dtype=torch.float64)
    dist.scatter(t, [torch.tensor(e) for e in every] if r == 1 else None, src=1)
    check("scatter", t.numpy(), every[r])
    dist.barrier()
    objs = [None] * n
    dist.all_gather_object(objs, {"rank": r})
    assert objs == [{"rank": i} for i in range(n)]
    lst = [r, "x"]
    dist.broadcast_object_list(lst, src=1)
    assert lst == [1, "x"]
    say(f"PASS objects rank {r}")
    g = dist.new_group([0, 1])
    t = torch.tensor(data(r))
    dist.all_reduce(t, group=g)
    check("new_group all_reduce", t.numpy(), np.sum(every, axis=0))
    assert dist.get_world_size(g) == n and dist.get_backend() == "mpi"


def _model(seed):
    torch.manual_seed(seed)
    nn = torch.nn
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))


def _batch():
    g = np.random.default_rng(42)
    return (torch.tensor(g.standard_normal((16, 4))), torch.tensor(g.integers(0, 3, 16)))


def _sgd(params, lr=0.1):
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad = None


def ddp_equals_full_batch():
    r, n = dist.get_rank(), dist.get_world_size()
    model = _model(seed=100 + r).double()  # every rank starts from different weights
    ddp = DDP(model)
    ref = _model(seed=0).double()
    ref.load_state_dict(model.state_dict())  # the weights rank 0 broadcast
    x, y = _batch()
    local = slice(r * 16 // n, (r + 1) * 16 // n)
    F = torch.nn.functional
    for _ in range(20):
        F.cross_entropy(ddp(x[local]), y[local]).backward()
        _sgd(model.parameters())
        F.cross_entropy(ref(x), y).backward()
        _sgd(ref.parameters())
    for p, q in zip(model.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), atol=1e-6)
    say(f"PASS ddp rank {r}")


def ddp_no_sync():
    r = dist.get_rank()
    model = _model(seed=7).double()
    ddp = DDP(model)
    ref = _model(seed=0).double()
    ref.load_state_dict(model.state_dict())
    x, y = _batch()
    F = torch.nn.functional
    # Two micro-batches per rank, synced once: equals one step on the whole batch (sum of
    # the four quarter-batch mean losses / 2 per rank, averaged over ranks = full mean * 2).
    quarters = [slice(i * 4, (i + 1) * 4) for i in range(4)]
    mine = quarters[2 * r:2 * r + 2]
    with ddp.no_sync():
        F.cross_entropy(ddp(x[mine[0]]), y[mine[0]]).backward()
    F.cross_entropy(ddp(x[mine[1]]), y[mine[1]]).backward()
    (F.cross_entropy(ref(x), y) * 2).backward()
    for p, q in zip(model.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), atol=1e-10)
    say(f"PASS no_sync rank {r}")


def ddp_unused():
    r = dist.get_rank()
    nn = torch.nn

    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(3, 2)
            self.b = nn.Linear(3, 2)

        def forward(self, x):
            return self.a(x)

    ddp = DDP(TwoHeads().double(), find_unused_parameters=True)
    ddp(torch.ones(4, 3, dtype=torch.float64)).sum().backward()
    assert ddp.module.a.weight.grad is not None and ddp.module.b.weight.grad is None
    plain = DDP(TwoHeads().double())
    try:
        plain(torch.ones(4, 3, dtype=torch.float64)).sum().backward()
    except RuntimeError as e:
        assert "find_unused_parameters=True" in str(e) and "b.weight" in str(e)
    else:
        raise AssertionError("unused parameters were not reported")
    say(f"PASS unused rank {r}")


def sampler():
    from retrograd.utils.data.distributed import DistributedSampler

    r = dist.get_rank()
    s = DistributedSampler(list(range(11)), shuffle=True, seed=3)
    s.set_epoch(2)
    mine = list(s)
    parts = [None, None]
    dist.all_gather_object(parts, mine)
    assert len(mine) == 6 and len(s) == 6
    merged = sorted(parts[0] + parts[1])
    assert set(merged) == set(range(11)) and len(merged) == 12
    assert list(s) == mine  # same epoch, same order
    s.set_epoch(3)
    assert list(s) != mine
    say(f"PASS sampler rank {r}")


def fault_raise():
    if dist.get_rank() == 1:
        raise ValueError("boom on purpose")
    dist.all_reduce(torch.ones(3))


def fault_mismatch():
    dist.all_reduce(torch.ones(3 + dist.get_rank()))


def fault_missing():
    if dist.get_rank() == 1:
        time.sleep(4)
        return
    dist.all_reduce(torch.ones(3))


def fault_mismatch_deep():
    # The shapes differ in the 9th dimension only: every dimension must be compared.
    dist.all_reduce(torch.ones(*(1,) * 8, 3 + dist.get_rank()))


def fault_mismatch_numel():
    dist.all_reduce(torch.ones(*(1,) * 8, 1000 if dist.get_rank() == 0 else 100_000))


def fault_exit():
    if dist.get_rank() == 1:
        sys.stdout.flush()
        os._exit(0)  # code 0: plain mpiexec would end the job "successfully"
    dist.all_reduce(torch.ones(3))


CASES = {f.__name__: f for f in [collectives, ddp_equals_full_batch, ddp_no_sync, ddp_unused,
                                  sampler, fault_raise, fault_mismatch, fault_missing,
                                  fault_mismatch_deep, fault_mismatch_numel, fault_exit]}

if __name__ == "__main__":
    timeout = float(os.environ.get("DIST_TIMEOUT", "20"))
    dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=timeout))
    for name in sys.argv[1:]:
        CASES[name]()
    dist.barrier()
    dist.destroy_process_group()
