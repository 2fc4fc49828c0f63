"""PyTorch's ModuleInfo database (``module_db``) run against retrograd.

For each ModuleInfo: build the module in PyTorch and in retrograd from the same constructor
arguments (float64), copy PyTorch's parameters and buffers into retrograd's module through
``load_state_dict``, run the first samples' forward and compare the output, then the
gradients of the inputs and of every parameter for the same ``grad_outputs``. The status
reads as op_db's (``opdb_harness.CLASSES``); a module whose output changes with the seed
(dropout in training mode) is compared by shape and dtype only.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch
from opdb_harness import (
    Differs,
    _grad_outputs,
    _guard,
    _zeros_for_none,
    compare,
    flat_tensors,
    time_limit,
    to_rg,
)

import retrograd

SAMPLES = 2


def modules():
    from torch.testing._internal.common_modules import module_db

    out = {}
    for info in module_db:
        out[info.formatted_name] = info
    return out


def _samples(info):
    torch.manual_seed(0)
    made = info.module_inputs_func(info, device="cpu", dtype=torch.float64,
                                   requires_grad=True, training=True)
    return list(itertools.islice(made, SAMPLES))


def _build_torch(info, s):
    torch.manual_seed(0)
    c = s.constructor_input
    return info.module_cls(*c.args, **c.kwargs).to(torch.float64)


def _build_rg(cls, s, memo):
    c = s.constructor_input
    return cls(*to_rg(c.args, memo), **to_rg(c.kwargs, memo)).double()


def _forward(m, s, memo, convert):
    f = s.forward_input
    if convert:
        return m(*to_rg(f.args, memo), **to_rg(f.kwargs, memo))
    return m(*f.args, **f.kwargs)


def _copy_state(tm, rm):
    state = {k: retrograd.from_numpy(v.detach().numpy(force=True).copy())
             for k, v in tm.state_dict().items()}
    ours = set(rm.state_dict())
    if ours != set(state):
        raise Differs(f"forward differs: state_dict keys {sorted(ours ^ set(state))} differ")
    rm.load_state_dict(state)


def _inputs(s):
    found = []
    for v in (*s.forward_input.args, *s.forward_input.kwargs.values()):
        for t in flat_tensors(v, torch.Tensor):
            if t.requires_grad and t.is_leaf and all(t is not f for f in found):
                found.append(t)
    return found


def _random(info, s) -> bool:
    outs = []
    for seed in (1, 2):
        m = _build_torch(info, s)
        torch.manual_seed(seed)
        outs.append(flat_tensors(_forward(m, s, {}, False), torch.Tensor))
    return any(x.shape == y.shape and not torch.equal(x, y) for x, y in zip(*outs))


def check_sample(info, cls, s):
    random = _random(info, s)
    tm = _build_torch(info, s)
    torch.manual_seed(0)
    expected = _forward(tm, s, {}, False)
    memo = {}
    rm = _guard("forward", lambda: _build_rg(cls, s, memo))
    if info.is_lazy:
        with retrograd.no_grad():
            _guard("forward", lambda: _forward(rm, s, {}, True))
    _guard("forward", lambda: _copy_state(tm, rm))
    actual = _guard("forward", lambda: _forward(rm, s, memo, True))
    try:
        compare(expected, actual, "output", 1e-7, 1e-7, values=not random)
    except Differs as e:
        raise Differs(f"forward differs: {e}") from None
    if random:
        return
    t_out = [o for o in flat_tensors(expected, torch.Tensor) if o.requires_grad]
    names = [n for n, p in tm.named_parameters() if p.requires_grad]
    t_leaves = _inputs(s) + [dict(tm.named_parameters())[n] for n in names]
    if not t_out or not t_leaves:
        return
    rg_params = dict(rm.named_parameters())
    rg_leaves = [memo[id(t)] for t in _inputs(s)] + [rg_params[n] for n in names]
    gos = _grad_outputs(t_out)
    t_grads = torch.autograd.grad(t_out, t_leaves, [torch.from_numpy(g) for g in gos],
                                  allow_unused=True)

    def rg_grads():
        outs = [o for o in flat_tensors(actual, retrograd.Tensor) if o.requires_grad]
        if len(outs) != len(t_out):
            raise Differs(f"gradient differs: {len(outs)} differentiable outputs, "
                          f"expected {len(t_out)}")
        return retrograd.autograd.grad(outs, rg_leaves,
                                       [retrograd.from_numpy(g.copy()) for g in gos],
                                       allow_unused=True)

    r_grads = _guard("gradient", rg_grads)
    where = ["input"] * (len(t_leaves) - len(names)) + names
    for w, e, a in zip(where, _zeros_for_none(t_grads, t_leaves),
                       _zeros_for_none(r_grads, rg_leaves)):
        try:
            compare(e, a, f"grad {w}", 1e-6, 1e-7, nan_safe=True)
        except Differs as err:
            raise Differs(f"gradient differs: {err}") from None


def aside(info) -> str | None:
    """Why the ModuleInfo is set aside: its constructor takes a PyTorch module instance."""
    for s in _samples(info)[:1]:
        c = s.constructor_input
        if any(isinstance(v, torch.nn.Module) for v in (*c.args, *c.kwargs.values())):
            return "constructor takes a PyTorch module"
    return None


def status(info) -> str:
    cls = getattr(retrograd.nn, info.module_cls.__name__, None)
    if cls is None:
        return "missing"
    try:
        with time_limit(20), np.errstate(all="ignore"):
            for s in _samples(info):
                check_sample(info, cls, s)
    except Differs as e:
        return str(e).replace("\n", " ")
    except TimeoutError as e:
        return f"timeout: {e}"
    return "ok"
