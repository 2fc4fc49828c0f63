"""Activation checkpointing: trade compute for memory.

``checkpoint(fn, *args)`` runs ``fn`` without keeping the values its ops save for backward
(a saved-tensor hook replaces each by an index); the first time backward needs one, ``fn``
is run again (with the random-number state it saw the first time, so dropout masks match)
and the recomputed values are handed out. These are PyTorch's ``use_reentrant=False``
semantics; ``use_reentrant=True`` is accepted and behaves the same.
"""

from __future__ import annotations

import warnings
from typing import Any

from ..autograd.grad_mode import enable_grad
from ..autograd.graph import saved_tensors_hooks
from ..random import default_generator

__all__ = ["checkpoint", "checkpoint_sequential"]


class _Recompute:
    """Shared by all values saved inside one checkpointed call."""

    def __init__(self, function, args, kwargs, rng_state) -> None:
        self.function = function
        self.args = args
        self.kwargs = kwargs
        self.rng_state = rng_state
        self.count = 0
        self.values: list | None = None

    def pack(self, _tensor) -> int:
        index = self.count
        self.count += 1
        return index

    def unpack(self, index: int):
        if self.values is None:
            self._recompute()
        value = self.values[index]
        return value

    def _recompute(self) -> None:
        values: list = []

        def record(t):
            values.append(t.detach())
            return len(values) - 1

        def refuse(_):
            raise RuntimeError("checkpoint: recomputed values are not unpacked again")

        current = default_generator.get_state() if self.rng_state is not None else None
        if self.rng_state is not None:
            default_generator.set_state(self.rng_state)
        try:
            with enable_grad(), saved_tensors_hooks(record, refuse):
                self.function(*self.args, **self.kwargs)
        finally:
            if current is not None:
                default_generator.set_state(current)
        if len(values) != self.count:
            raise RuntimeError(
                "torch.utils.checkpoint: A different number of tensors was saved during the "
                f"original forward and recomputation.\nNumber of tensors saved during forward: "
                f"{self.count}\nNumber of tensors saved during recomputation: {len(values)}"
            )
        self.values = values


def checkpoint(function, *args, use_reentrant: bool | None = None, context_fn=None,
               determinism_check: str = "default", debug: bool = False,
               preserve_rng_state: bool = True, **kwargs) -> Any:
    """Run ``function(*args, **kwargs)`` without storing its intermediate values; they are
    recomputed during backward."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. "
            "retrograd implements use_reentrant=False semantics for both values.",
            stacklevel=2,
        )
    state = default_generator.get_state() if preserve_rng_state else None
    rec = _Recompute(function, args, kwargs, state)
    with saved_tensors_hooks(rec.pack, rec.unpack):
        return function(*args, **kwargs)


def checkpoint_sequential(functions, segments: int, input, use_reentrant: bool | None = None,
                          **kwargs) -> Any:
    """Run a sequence of modules in ``segments`` chunks, checkpointing all but the last."""
    if use_reentrant is None:
        use_reentrant = False
    if hasattr(functions, "children") and not isinstance(functions, (list, tuple)):
        functions = list(functions.children())
    functions = list(functions)

    def run(start: int, end: int):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x

        return forward

    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant, **kwargs)
    return run(end + 1, len(functions) - 1)(input)
