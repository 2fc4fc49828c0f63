"""The op-test table: one row per op, checked forward against NumPy, backward and double
backward against float64 finite differences, and forward/gradient/double gradient against
PyTorch (the oracle, installed by the test extra).

A row names a callable taking the tensor module (``retrograd`` or ``torch``) first and the
input tensors after it, so the very same expression runs under both libraries.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

import retrograd
from retrograd.autograd import gradcheck, gradgradcheck


@dataclasses.dataclass
class OpCase:
    """One op under test.

    Attributes:
        name: a label for the test id.
        fn: ``fn(lib, *tensors)`` -> Tensor or tuple; ``lib`` is retrograd or torch.
        ref: ``ref(*arrays)`` -> NumPy result (None to skip the NumPy comparison).
        shapes: input shapes (one tuple per input) for each variant to test.
        domain: (low, high) of the uniform inputs.
        grad: whether the op is differentiable (backward checks).
        gradgrad: whether to check double backward.
        int_inputs: indices of inputs that are integer tensors (indices, not differentiated).
        atol, rtol: tolerances for the forward comparisons.
        make: optional ``make(rng, shapes) -> list of arrays`` for special inputs.
        fd: whether the finite-difference checks (gradcheck, gradgradcheck, forward mode)
            apply; False for ops whose result jumps under any perturbation (a mode with
            ties), which are compared with PyTorch instead.
        torch: fields to override for the PyTorch comparison only, where PyTorch's own
            derivative fails (ours is still checked against finite differences).
    """

    name: str
    fn: Callable
    ref: Callable | None
    shapes: Sequence[tuple]
    domain: tuple = (-2.0, 2.0)
    grad: bool = True
    gradgrad: bool = True
    int_inputs: tuple = ()
    atol: float = 1e-6
    rtol: float = 1e-5
    make: Callable | None = None
    fd: bool = True
    torch: dict | None = None

    def __str__(self) -> str:
        return self.name


def make_inputs(case: OpCase, shapes, seed: int = 0, dtype=np.float64) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    if case.make is not None:
        return case.make(rng, shapes)
    lo, hi = case.domain
    out = []
    for i, s in enumerate(shapes):
        if i in case.int_inputs:
            out.append(rng.integers(0, 3, size=s))
        else:
            out.append(rng.uniform(lo, hi, size=s).astype(dtype))
    return out


def to_tensors(lib, arrays, case: OpCase, requires_grad: bool = True):
    ts = []
    for i, a in enumerate(arrays):
        t = lib.tensor(a.copy()) if isinstance(a, np.ndarray) else a
        if requires_grad and i not in case.int_inputs and isinstance(a, np.ndarray) \
                and a.dtype.kind == "f":
            t.requires_grad_(True)
        ts.append(t)
    return ts


def as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def numpy_of(t) -> np.ndarray:
    return np.asarray(t.detach().numpy() if hasattr(t, "detach") else t)


def check_forward_numpy(case: OpCase, shapes) -> None:
    arrays = make_inputs(case, shapes)
    out = as_tuple(case.fn(retrograd, *to_tensors(retrograd, arrays, case, False)))
    ref = as_tuple(case.ref(*arrays))
    for o, r in zip(out, ref):
        np.testing.assert_allclose(numpy_of(o), np.asarray(r), atol=case.atol, rtol=case.rtol)


def check_gradients(case: OpCase, shapes) -> None:
    arrays = make_inputs(case, shapes)
    ts = to_tensors(retrograd, arrays, case)
    diff = [t for t in ts if isinstance(t, retrograd.Tensor) and t.requires_grad]
    if not diff:
        return

    def f(*args):
        return case.fn(retrograd, *args)

    assert gradcheck(f, tuple(ts), eps=1e-6, atol=1e-5, rtol=1e-3)
    if case.gradgrad:
        assert gradgradcheck(f, tuple(ts), eps=1e-6, atol=1e-5, rtol=1e-3)


def check_against_torch(case: OpCase, shapes) -> None:
    """Forward, gradient and double gradient equal PyTorch's on the same inputs."""
    import torch

    if case.torch:
        case = dataclasses.replace(case, **case.torch)
    arrays = make_inputs(case, shapes, seed=1)
    rt = to_tensors(retrograd, arrays, case, requires_grad=case.grad)
    tt = to_tensors(torch, arrays, case, requires_grad=case.grad)
    ro = as_tuple(case.fn(retrograd, *rt))
    to = as_tuple(case.fn(torch, *tt))
    assert len(ro) == len(to)
    for a, b in zip(ro, to):
        assert tuple(a.shape) == tuple(b.shape), (a.shape, b.shape)
        assert str(a.dtype) == str(b.dtype), (a.dtype, b.dtype)
        np.testing.assert_allclose(numpy_of(a), b.detach().numpy(force=True), atol=1e-6, rtol=1e-5)
    if not case.grad:
        return
    rdiff = [t for t in rt if isinstance(t, retrograd.Tensor) and t.requires_grad]
    tdiff = [t for t in tt if isinstance(t, torch.Tensor) and t.requires_grad]
    routs = [o for o in ro if o.requires_grad]
    touts = [o for o in to if o.requires_grad]
    if not routs:
        return
    rng = np.random.default_rng(2)
    gos = [rng.standard_normal(tuple(o.shape)) for o in routs]
    rg = retrograd.autograd.grad(routs, rdiff, [retrograd.tensor(g) for g in gos],
                                 create_graph=True, allow_unused=True)
    tg = torch.autograd.grad(touts, tdiff, [torch.tensor(g) for g in gos], create_graph=True,
                             allow_unused=True)
    for a, b in zip(rg, tg):
        if b is None:
            assert a is None or np.allclose(numpy_of(a), 0)
            continue
        np.testing.assert_allclose(numpy_of(a), b.detach().numpy(force=True), atol=1e-6, rtol=1e-5)
    if not case.gradgrad:
        return
    rsum = [g for g in rg if g is not None and g.requires_grad]
    tsum = [g for g in tg if g is not None and g.requires_grad]
    if not rsum or not tsum:
        return
    vs = [rng.standard_normal(tuple(g.shape)) for g in rsum]
    rgg = retrograd.autograd.grad(rsum, rdiff, [retrograd.tensor(v) for v in vs],
                                  allow_unused=True)
    tgg = torch.autograd.grad(tsum, tdiff, [torch.tensor(v) for v in vs], allow_unused=True)
    for a, b in zip(rgg, tgg):
        if b is None:
            assert a is None or np.allclose(numpy_of(a), 0)
            continue
        assert a is not None
        np.testing.assert_allclose(numpy_of(a), b.detach().numpy(force=True), atol=1e-6, rtol=1e-5)


def params(cases: Sequence[OpCase], prefix: str = ""):
    """pytest parameters: one per (case, shape variant)."""
    import pytest

    return [pytest.param(c, s, id=f"{prefix}{c.name}-{'x'.join(map(str, s[0])) or 'scalar'}-{i}")
            for c in cases for i, s in enumerate(c.shapes)]


def check_forward_ad(case: OpCase, shapes) -> None:
    """The op's jvp rule (forward mode) equals a central finite difference along a random
    tangent, in float64."""
    import retrograd.autograd.forward_ad as fwAD

    arrays = make_inputs(case, shapes, seed=3)
    rng = np.random.default_rng(4)
    ts = to_tensors(retrograd, arrays, case, requires_grad=False)
    float_idx = [i for i, a in enumerate(arrays)
                 if isinstance(a, np.ndarray) and a.dtype.kind == "f" and i not in case.int_inputs]
    if not float_idx:
        return
    tangents = {i: rng.standard_normal(arrays[i].shape) for i in float_idx}
    with fwAD.dual_level():
        duals = [fwAD.make_dual(t, retrograd.tensor(tangents[i])) if i in tangents else t
                 for i, t in enumerate(ts)]
        outs = as_tuple(case.fn(retrograd, *duals))
        jvps = [fwAD.unpack_dual(o).tangent for o in outs]
    eps = 1e-6

    def run(sign):
        args = [retrograd.tensor(a + sign * eps * tangents[i]) if i in tangents else t
                for i, (a, t) in enumerate(zip(arrays, ts))]
        return [numpy_of(o).astype(np.float64) for o in as_tuple(case.fn(retrograd, *args))]

    plus, minus = run(1), run(-1)
    for o, j, p, m in zip(outs, jvps, plus, minus):
        if not o.is_floating_point():
            continue
        numeric = (p - m) / (2 * eps)
        assert j is not None, f"{case.name}: no tangent on a floating output"
        np.testing.assert_allclose(numpy_of(j), numeric, atol=1e-5, rtol=1e-3)


def _graph_classes(outputs) -> set:
    """The node classes on the graph behind ``outputs`` (a Tensor or nested tuples)."""
    stack, found, seen = [], set(), set()

    def push(x):
        if isinstance(x, (list, tuple)):
            for item in x:
                push(item)
        elif isinstance(x, retrograd.Tensor) and x.grad_fn is not None:
            stack.append(x.grad_fn)

    push(outputs)
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        found.add(type(node))
        stack.extend(fn for fn, _ in getattr(node, "next_functions", ()) or ())
    return found


def primitives_reached(case: OpCase) -> set[str]:
    """Class names of the primitives a row runs (first shape variant): on its forward graph
    and, for a differentiable row, on the graph its backward records under create_graph
    (which the row's gradgradcheck differentiates)."""
    import warnings

    arrays = make_inputs(case, case.shapes[0])
    ts = to_tensors(retrograd, arrays, case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = case.fn(retrograd, *ts)
        classes = _graph_classes(out)
        outs = [o for o in as_tuple(out) if isinstance(o, retrograd.Tensor) and o.requires_grad]
        diff = [t for t in ts if isinstance(t, retrograd.Tensor) and t.requires_grad]
        if case.grad and outs and diff:
            seeds = [retrograd.ones_like(o).requires_grad_() for o in outs]  # as gradgradcheck
            grads = retrograd.autograd.grad(outs, diff, seeds,
                                            create_graph=True, allow_unused=True)
            classes |= _graph_classes(list(grads))
    return {getattr(cls, "op", cls.__name__) for cls in classes}
