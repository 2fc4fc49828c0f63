"""``DistributedDataParallel``: every rank runs the same model on its share of the batch;
gradients are averaged across ranks during backward, in buckets.

Rank 0's parameters and buffers are broadcast at construction (so ranks may start from
different random weights) and buffers again before each forward. Each parameter's
post-accumulate-grad hook marks it ready; a bucket whose parameters are all ready (and
whose predecessors have been launched, so every rank launches buckets in the same order)
starts a non-blocking all-reduce while backward goes on. A callback at the end of backward
waits for the buckets and writes the averaged gradients back into ``.grad``.
"""

from __future__ import annotations

import contextlib

import numpy as np

from ... import distributed as dist
from ..._tensor import Tensor, wrap
from ...autograd.engine import queue_callback
from ...autograd.grad_mode import no_grad
from ..modules.module import Module

__all__ = ["DistributedDataParallel"]


class _Bucket:
    __slots__ = ("flat", "offsets", "params", "ready", "work")

    def __init__(self, params) -> None:
        self.params = params
        sizes = [p.numel() for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        self.flat = np.zeros(int(self.offsets[-1]), dtype=params[0]._data.dtype)
        self.ready: set = set()
        self.work = None


class DistributedDataParallel(Module):
    """Wraps ``module`` for data-parallel training (see the module docstring)."""

    def __init__(self, module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, process_group=None, bucket_cap_mb: float = 25,
                 find_unused_parameters: bool = False, check_reduction: bool = False,
                 gradient_as_bucket_view: bool = False, static_graph: bool = False) -> None:
        super().__init__()
        if not dist.is_initialized():
            raise RuntimeError("Default process group has not been initialized, please make "
                               "sure to call init_process_group.")
        self.module = module
        self.process_group = process_group
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.dim = dim
        with no_grad():
            for p in module.parameters():
                dist.broadcast(p, 0, group=process_group)
            for b in module.buffers():
                dist.broadcast(b, 0, group=process_group)
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        self._names = {id(p): n for n, p in named}
        self._buckets = self._make_buckets([p for _, p in reversed(named)],
                                           int(bucket_cap_mb * 2**20))
        self._bucket_of = {id(p): i for i, b in enumerate(self._buckets) for p in b.params}
        self._next = 0
        self._pending = False
        self._unused: list = []
        for _, p in named:
            p.register_post_accumulate_grad_hook(self._grad_ready)

    @staticmethod
    def _make_buckets(params, cap_bytes: int) -> list:
        buckets, current, size = [], [], 0
        for p in params:
            nbytes = p.numel() * p.element_size()
            if current and (size + nbytes > cap_bytes or p._data.dtype != current[0]._data.dtype):
                buckets.append(_Bucket(current))
                current, size = [], 0
            current.append(p)
            size += nbytes
        if current:
            buckets.append(_Bucket(current))
        return buckets

    # ------------------------------------------------------------------ forward
    def forward(self, *inputs, **kwargs):
        if self.broadcast_buffers:
            with no_grad():
                for b in self.module.buffers():
                    dist.broadcast(b, 0, group=self.process_group)
        out = self.module(*inputs, **kwargs)
        if self.find_unused_parameters and self.require_backward_grad_sync:
            self._unused = self._find_unused(out)
        return out

    def _find_unused(self, out) -> list:
        used: set = set()
        stack = [o.grad_fn for o in _tensors(out) if isinstance(o, Tensor) and o.grad_fn]
        seen: set = set()
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            var = getattr(node, "variable", None)
            if var is not None:
                used.add(id(var))
            stack.extend(n for n, _ in node.next_functions if n is not None)
        return [p for b in self._buckets for p in b.params if id(p) not in used]

    @contextlib.contextmanager
    def no_sync(self):
        """Accumulate gradients locally; the first backward after the block syncs them."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    # ------------------------------------------------------------------ backward
    def _grad_ready(self, p) -> None:
        if not self.require_backward_grad_sync:
            return
        if not self._pending:
            self._pending = True
            queue_callback(self._finalize)
            for q in self._unused:
                self._buckets[self._bucket_of[id(q)]].ready.add(id(q))
        bucket = self._buckets[self._bucket_of[id(p)]]
        bucket.ready.add(id(p))
        self._launch_ready()

    def _launch_ready(self) -> None:
        while self._next < len(self._buckets):
            b = self._buckets[self._next]
            if len(b.ready) < len(b.params):
                return
            self._launch(b)
            self._next += 1

    def _launch(self, b: _Bucket) -> None:
        for p, lo, hi in zip(b.params, b.offsets[:-1], b.offsets[1:]):
            if p.grad is None:
                b.flat[lo:hi] = 0
            else:
                b.flat[lo:hi] = p.grad._data.reshape(-1)
        b.work = dist.all_reduce(wrap(b.flat), group=self.process_group, async_op=True)

    def _finalize(self) -> None:
        missing = [p for b in self._buckets[self._next:] for p in b.params
                   if id(p) not in b.ready]
        if missing and not self.find_unused_parameters:
            self._reset()
            names = ", ".join(self._names[id(p)] for p in missing)
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a "
                "new one. This error indicates that your module has parameters that were not "
                "used in producing loss. You can enable unused parameter detection by passing "
                "the keyword argument `find_unused_parameters=True` to "
                "`torch.nn.parallel.DistributedDataParallel`.\nParameters which did not receive "
                f"grad for rank {dist.get_rank(self.process_group)}: {names}"
            )
        for b in self._buckets[self._next:]:
            self._launch(b)
        size = dist.get_world_size(self.process_group)

        for b in self._buckets:
            b.work.wait()
            b.flat /= size
            for p, lo, hi in zip(b.params, b.offsets[:-1], b.offsets[1:]):
                part = b.flat[lo:hi].reshape(p.shape)
                if p.grad is None:
                    if not part.any() and id(p) in {id(q) for q in self._unused}:
                        continue
                    p.grad = wrap(part.copy())
                else:
                    p.grad._data[...] = part
        self._reset()

    def _reset(self) -> None:
        for b in self._buckets:
            b.ready.clear()
            b.work = None
        self._next = 0
        self._pending = False
        self._unused = []


def _tensors(out):
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, dict):
        return [t for v in out.values() for t in _tensors(v)]
    if isinstance(out, (list, tuple)):
        return [t for v in out for t in _tensors(v)]
    return []
