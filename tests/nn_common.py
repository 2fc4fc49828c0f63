"""Shared helpers for the nn tests: build a layer in both libraries with the same weights."""

from __future__ import annotations

import numpy as np
import torch

import retrograd as R

F = R.nn.functional
# torch's intra-op threads thrash on small CI machines (an LSTM step takes ~100x longer).
torch.set_num_threads(1)


def needs(*names: str):
    """Mark a test as using these ``nn.functional`` / top-level kernels; a missing one fails
    (at collection), it never skips."""
    missing = [n for n in names if not (hasattr(F, n) or hasattr(R, n))]
    assert not missing, f"retrograd lacks the kernels {missing}"
    return lambda fn: fn


def to_np(t) -> np.ndarray:
    if t is None or isinstance(t, np.ndarray):
        return t
    return t.detach().numpy().copy()


def copy_weights(src, dst) -> None:
    """Copy a retrograd module's state into a torch module (through numpy)."""
    dst.load_state_dict({k: torch.tensor(to_np(v)) for k, v in src.state_dict().items()})


def pair(name: str, *args, **kwargs):
    """The same layer in retrograd and torch, with retrograd's weights copied into torch."""
    ours = getattr(R.nn, name)(*args, **kwargs)
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    copy_weights(ours, theirs)
    return ours, theirs


def close(a, b, atol: float = 1e-5, rtol: float = 1e-4) -> None:
    np.testing.assert_allclose(to_np(a), to_np(b), atol=atol, rtol=rtol)


def compare_grads(ours, theirs, atol: float = 1e-5) -> None:
    pairs = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        q = pairs[name]
        if q.grad is None:
            assert p.grad is None, name
            continue
        np.testing.assert_allclose(to_np(p.grad), to_np(q.grad), atol=atol, rtol=1e-4,
                                   err_msg=name)


def run_both(ours, theirs, *inputs, dtype=np.float32, grad_inputs=True, reduce=None):
    """Forward the same numpy inputs through both; backward a fixed random cotangent."""
    rin, tin = [], []
    if isinstance(grad_inputs, bool):
        grad_inputs = (grad_inputs,) * len(inputs)
    for x, want in zip(inputs, grad_inputs):
        x = np.asarray(x)
        want = want and x.dtype.kind == "f"
        rin.append(R.tensor(x, requires_grad=want))
        tin.append(torch.tensor(x, requires_grad=want))
    ro, to = ours(*rin), theirs(*tin)
    ro1 = ro[0] if isinstance(ro, tuple) else ro
    to1 = to[0] if isinstance(to, tuple) else to
    close(ro1, to1)
    cot = np.random.default_rng(0).standard_normal(tuple(to1.shape)).astype(to_np(to1).dtype)
    (ro1 * R.tensor(cot)).sum().backward()
    (to1 * torch.tensor(cot)).sum().backward()
    for a, b in zip(rin, tin):
        if b.grad is not None:
            close(a.grad, b.grad)
    compare_grads(ours, theirs)
    return ro, to
