"""Higher-level autograd: ``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``hvp``, ``vhp`` with
the signatures and output shapes of ``torch.autograd.functional``."""

from __future__ import annotations

from .._tensor import Tensor
from ..ops.creation import ones_like, zeros, zeros_like
from ..ops.joining import stack as _stack
from . import forward_ad as fwAD
from .engine import grad as _grad
from .forward_ad import fresh_leaf
from .grad_mode import enable_grad

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


def _as_tuple(x, name: str, fn: str):
    if isinstance(x, Tensor):
        return False, (x,)
    if isinstance(x, (tuple, list)):
        for i, t in enumerate(x):
            if not isinstance(t, Tensor):
                raise TypeError(f"The {name} given to {fn} must be either a Tensor or a tuple "
                                f"of Tensors but the value at index {i} has type {type(t)}.")
        return True, tuple(x)
    raise TypeError(f"The {name} given to {fn} must be either a Tensor or a tuple of Tensors "
                    f"but the given {name} has type {type(x)}.")


def _prepare(inputs, create_graph: bool):
    out = []
    for t in inputs:
        if create_graph and t.requires_grad:
            out.append(t.view_as(t))
        else:
            out.append(fresh_leaf(t))
    return tuple(out)


def stack(tensors, dim: int = 0):
    """``retrograd.stack`` (differentiable)."""
    return _stack(tensors, dim=dim)


def _untuple(is_tuple: bool, values):
    return tuple(values) if is_tuple else values[0]


def _fill_none(grads, refs, strict: bool, fn: str, what: str = "input"):

    out = []
    for i, (g, r) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(
                    f"The output of the user-provided function is independent of {what} {i}. "
                    "This is not allowed in strict mode."
                )
            g = zeros_like(r)
        out.append(g)
    return tuple(out)


def _finish(values, create_graph: bool):
    if create_graph:
        return values
    return tuple(v.detach() if isinstance(v, Tensor) else v for v in values)


def _input_vectors(v, ins, fn: str) -> tuple:
    """The vectors ``v`` (shaped like the inputs) of jvp/hvp/vhp; ones for one scalar input."""
    if v is None:
        if len(ins) != 1 or ins[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the "
                               "user-provided function is a single Tensor with a single "
                               "element.")

        return (ones_like(ins[0]),)
    _, vs = _as_tuple(v, "v", fn)
    _check_v(vs, ins, "")
    return vs


def _check_v(v, outputs, fn: str):
    if len(v) != len(outputs):
        raise RuntimeError(f"v has invalid size: should be {len(outputs)} but got {len(v)}")
    for i, (vi, o) in enumerate(zip(v, outputs)):
        if tuple(vi.shape) != tuple(o.shape):
            raise RuntimeError(f"Entry {i} in v has invalid size: should be {list(o.shape)} "
                               f"but got {list(vi.shape)}.")


def _weighted_grad(outs, ins, vs, create_graph: bool) -> tuple:
    """sum_k vs[k] * d outs[k] / d ins over the outputs that are in the graph (None or
    not requiring grad ones add nothing; ``vs`` None: scalar outputs, weight 1), one entry
    per input, None where no output depends on it."""
    keep = [k for k, o in enumerate(outs) if o is not None and o.requires_grad]
    if not keep:
        return (None,) * len(ins)
    return _grad([outs[k] for k in keep], ins, None if vs is None else [vs[k] for k in keep],
                 create_graph=create_graph, allow_unused=True)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T J)``: the vector-Jacobian product at ``inputs``."""
    with enable_grad():
        is_in_tuple, ins = _as_tuple(inputs, "inputs", "vjp")
        ins = _prepare(ins, create_graph)
        outputs = func(*ins)
        is_out_tuple, outs = _as_tuple(outputs, "outputs of the user-provided function", "vjp")
        if v is None:
            if len(outs) != 1 or outs[0].numel() != 1:
                raise RuntimeError("The vector v can only be None if the user-provided function "
                                   "returns a single Tensor with a single element.")
            vs = None
        else:
            _, vs = _as_tuple(v, "v", "vjp")
            _check_v(vs, outs, "vjp")
        grads = _weighted_grad(outs, ins, vs, create_graph)
        grads = _fill_none(grads, ins, strict, "vjp")
    return (_untuple(is_out_tuple, _finish(outs, create_graph)),
            _untuple(is_in_tuple, _finish(grads, create_graph)))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), J v)``: the Jacobian-vector product, by the double-vjp trick."""

    with enable_grad():
        _, ins = _as_tuple(inputs, "inputs", "jvp")
        ins = _prepare(ins, create_graph)
        vs = _input_vectors(v, ins, "jvp")
        outputs = func(*ins)
        is_out_tuple, outs = _as_tuple(outputs, "outputs of the user-provided function", "jvp")
        us = tuple(zeros_like(o).requires_grad_(True) for o in outs)
        g = _weighted_grad(outs, ins, us, create_graph=True)
        res = _weighted_grad(g, us, vs, create_graph)
        res = _fill_none(res, outs, strict, "jvp", "input")
    return (_untuple(is_out_tuple, _finish(outs, create_graph)),
            _untuple(is_out_tuple, _finish(res, create_graph)))


def _jacobian_rows(outs, ins, create_graph, strict):
    """jac[i][j]: d outs[i] / d ins[j], shaped outs[i].shape + ins[j].shape (reverse mode)."""

    jac = []
    for i, o in enumerate(outs):
        rows: list[list] = [[] for _ in ins]
        flat = o.reshape(-1)
        for k in range(flat.numel()):
            if o.requires_grad:
                gs = _grad(flat[k], ins, retain_graph=True, create_graph=create_graph,
                           allow_unused=True)
            else:
                gs = (None,) * len(ins)
            for j, (g, t) in enumerate(zip(gs, ins)):
                if g is None:
                    if strict:
                        raise RuntimeError(
                            f"Output {i} of the user-provided function is independent of "
                            f"input {j}. This is not allowed in strict mode."
                        )
                    g = zeros_like(t)
                rows[j].append(g)
        jac.append(tuple(
            (stack(r) if r else zeros((0, *t.shape), dtype=t.dtype)).reshape(
                (*o.shape, *t.shape)) for r, t in zip(rows, ins)))
    return jac


def _jacobian_forward(func, ins, outs_shapes):

    per_out: list[list[list]] = [[[] for _ in ins] for _ in outs_shapes]
    for j, t in enumerate(ins):
        for k in range(t.numel()):
            with fwAD.dual_level():
                duals = []
                for jj, tt in enumerate(ins):
                    tangent = zeros_like(tt)
                    if jj == j:
                        tangent.view(-1)[k] = 1.0
                    duals.append(fwAD.make_dual(tt.detach(), tangent))
                res = func(*duals)
                res = (res,) if isinstance(res, Tensor) else tuple(res)
                for i, r in enumerate(res):
                    tan = fwAD.unpack_dual(r).tangent
                    per_out[i][j].append(zeros_like(r).detach() if tan is None else tan)
    out = []
    for i, shape in enumerate(outs_shapes):
        row = []
        for j, t in enumerate(ins):
            cols = stack(per_out[i][j], dim=-1) if per_out[i][j] else None
            row.append(cols.reshape((*shape, *t.shape)))
        out.append(tuple(row))
    return out


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: shape ``output.shape + input.shape``, nested
    as ``jac[i][j]`` for tuple outputs and inputs."""
    if strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode". '
                         "Hint: If your function has more outputs than inputs, "
                         '"forward-mode" tends to be more performant. Otherwise, prefer to use '
                         '"reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError("torch.autograd.functional.jacobian: `create_graph=True` "
                                      'and `strategy="forward-mode"` are not supported together '
                                      "(yet). Please either set `create_graph=False` or "
                                      '`strategy="reverse-mode"`.')
        if not vectorize:
            raise ValueError('torch.autograd.functional.jacobian: `strategy="forward-mode"` '
                             "only works when `vectorize=True`.")
    with enable_grad():
        is_in_tuple, ins = _as_tuple(inputs, "inputs", "jacobian")
        ins = _prepare(ins, create_graph)
        outputs = func(*ins)
        is_out_tuple, outs = _as_tuple(outputs, "outputs of the user-provided function",
                                       "jacobian")
        if strategy == "forward-mode":
            jac = _jacobian_forward(func, ins, [o.shape for o in outs])
        else:
            jac = _jacobian_rows(outs, ins, create_graph, strict)
    jac = [_finish(row, create_graph) for row in jac]
    if is_out_tuple:
        return tuple(_untuple(is_in_tuple, row) for row in jac)
    return _untuple(is_in_tuple, jac[0])


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar ``func``: shape ``input.shape + input.shape`` (nested
    ``h[i][j]`` for tuple inputs)."""
    is_in_tuple, _ = _as_tuple(inputs, "inputs", "hessian")
    inner = _scalar_grad_fn(func, strict, "hessian")

    def grad_fn(*args):
        gs = inner(*args)[1]
        return gs if is_in_tuple else gs[0]

    return jacobian(grad_fn, inputs, create_graph=create_graph, strict=strict,
                    vectorize=vectorize, strategy=outer_jacobian_strategy)


def _scalar_grad_fn(func, strict, name):
    def g(*args):
        out = func(*args)
        is_t, outs = _as_tuple(out, "outputs of the user-provided function", name)
        if is_t or outs[0].numel() != 1:
            raise RuntimeError(f"The function given to {name} should return a single Tensor "
                               "with a single element.")
        gs = _grad(outs[0], args, create_graph=True, allow_unused=True)
        return outs[0], _fill_none(gs, args, strict, name)

    return g


def _hessian_product(name, func, inputs, v, create_graph, strict, product):
    """``(func(inputs), product(gs, ins, vs))`` for a scalar ``func``, gs its gradient (in
    the graph), the shared frame of vhp and hvp."""
    with enable_grad():
        is_in_tuple, ins = _as_tuple(inputs, "inputs", name)
        ins = _prepare(ins, create_graph)
        vs = _input_vectors(v, ins, name)
        out, gs = _scalar_grad_fn(func, strict, name)(*ins)
        res = _fill_none(product(gs, ins, vs), ins, strict, name)
    return (_finish((out,), create_graph)[0], _untuple(is_in_tuple, _finish(res, create_graph)))


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T H)`` for a scalar ``func``."""
    def product(gs, ins, vs):
        return _weighted_grad(gs, ins, vs, create_graph)

    return _hessian_product("vhp", func, inputs, v, create_graph, strict, product)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H v)`` for a scalar ``func`` (computed as a double vjp)."""
    def product(gs, ins, vs):
        us = tuple(zeros_like(g).requires_grad_(True) for g in gs)
        double = _weighted_grad(gs, ins, us, create_graph=True)
        return _weighted_grad(double, us, vs, create_graph)

    return _hessian_product("hvp", func, inputs, v, create_graph, strict, product)
