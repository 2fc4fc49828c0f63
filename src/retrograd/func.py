"""Function transforms in the style of ``torch.func``: ``grad``, ``grad_and_value``, ``vjp``,
``jvp``, ``jacrev``, ``jacfwd``, ``hessian`` and ``vmap``.

They are built on the ordinary engine: ``grad`` differentiates with ``create_graph=True`` so
transforms nest (``grad(grad(f))``), and ``vmap`` runs the function once per batch element
and stacks the results (correct for any function; not a vectorizing compiler).
"""

from __future__ import annotations

from typing import Any

from ._tensor import Tensor
from .autograd import forward_ad as fwAD
from .autograd.engine import grad as _grad
from .autograd.grad_mode import enable_grad
from .ops.creation import zeros_like

__all__ = ["grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp", "vjp", "vmap"]


def _tree_map(fn, tree):
    if isinstance(tree, Tensor):
        return fn(tree)
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return type(tree)(*[_tree_map(fn, t) for t in tree])
    if isinstance(tree, (tuple, list)):
        return type(tree)(_tree_map(fn, t) for t in tree)
    if isinstance(tree, dict):
        return {k: _tree_map(fn, v) for k, v in tree.items()}
    return tree


def _leaves(tree) -> list:
    out: list = []
    _tree_map(lambda t: out.append(t), tree)
    return out


def _argnums_tuple(argnums) -> tuple:
    return (argnums,) if isinstance(argnums, int) else tuple(argnums)


def _fresh(t: Tensor) -> Tensor:
    """A differentiable stand-in for an argument: connected to outer transforms when the
    argument already requires grad, else a new leaf."""
    if t.requires_grad:
        return t.view_as(t)
    return fwAD.fresh_leaf(t)


def grad_and_value(func, argnums=0, has_aux: bool = False):
    """``(grad of func w.r.t. args[argnums], func(*args))``; func must return a scalar."""

    def wrapper(*args, **kwargs):
        nums = _argnums_tuple(argnums)
        outer_requires = any(isinstance(a, Tensor) and a.requires_grad
                             for a in _leaves(list(args)))
        with enable_grad():
            args = list(args)
            for i in nums:
                args[i] = _tree_map(_fresh, args[i])
            out = func(*args, **kwargs)
            aux = None
            if has_aux:
                if not (isinstance(out, tuple) and len(out) == 2):
                    raise RuntimeError("grad_and_value(f)(*args): output of function f should "
                                       "be a tuple: (output, aux) if has_aux is True")
                out, aux = out
            if not isinstance(out, Tensor) or out.numel() != 1:
                raise RuntimeError(
                    "grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, "
                    f"got tensor with {out.dim() if isinstance(out, Tensor) else '?'} dims. "
                    "Maybe you wanted to use the vjp or jacrev APIs instead?"
                )
            targets = [_leaves(args[i]) for i in nums]
            flat = [t for group in targets for t in group]
            if out.requires_grad:
                gs = list(_grad(out, flat, create_graph=True, allow_unused=True))
            else:
                gs = [None] * len(flat)

            gs = [zeros_like(t) if g is None else g for g, t in zip(gs, flat)]
            if not outer_requires:
                gs = [g.detach() for g in gs]
                out = out.detach()
            it = iter(gs)
            grads = tuple(_tree_map(lambda _: next(it), args[i]) for i in nums)
        g = grads[0] if isinstance(argnums, int) else grads
        if has_aux:
            return g, (out, aux)
        return g, out

    return wrapper


def grad(func, argnums=0, has_aux: bool = False):
    """The gradient of a scalar ``func`` w.r.t. ``args[argnums]``, as a function."""
    gv = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        if has_aux:
            return g, value[1]
        return g

    return wrapper


def vjp(func, *primals, has_aux: bool = False):
    """``(func(*primals), vjp_fn)``; ``vjp_fn(cotangents)`` returns one grad per primal."""
    with enable_grad():
        ps = [_tree_map(_fresh, p) for p in primals]
        out = func(*ps)
        aux = None
        if has_aux:
            out, aux = out
    flat_in = _leaves(ps)
    flat_out = _leaves(out)

    def vjp_fn(cotangents, retain_graph: bool = True, create_graph: bool | None = None):
        cts = _leaves(cotangents)
        if len(cts) != len(flat_out):
            raise RuntimeError(f"Expected pytree structure of cotangents to be the same as "
                               f"pytree structure of outputs to the function; got "
                               f"{len(cts)} cotangents for {len(flat_out)} outputs")

        with enable_grad():
            pairs = [(o, c) for o, c in zip(flat_out, cts) if o.requires_grad]
            gs = _grad([o for o, _ in pairs], flat_in, [c for _, c in pairs],
                       retain_graph=retain_graph, create_graph=True,
                       allow_unused=True) if pairs else [None] * len(flat_in)
        gs = [zeros_like(t) if g is None else g for g, t in zip(gs, flat_in)]
        it = iter(gs)
        return tuple(_tree_map(lambda _: next(it), p) for p in ps)

    detached = _tree_map(lambda t: t.detach(), out)
    if has_aux:
        return detached, vjp_fn, aux
    return detached, vjp_fn


def jvp(func, primals, tangents, *, strict: bool = False, has_aux: bool = False):
    """``(func(*primals), J @ tangents)`` by forward-mode AD (dual numbers)."""
    if not isinstance(primals, tuple) or not isinstance(tangents, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to be "
                           "tuples")
    if len(primals) != len(tangents):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have "
                           "the same python structure")
    with fwAD.dual_level():
        duals = [fwAD.make_dual(p, t) for p, t in zip(primals, tangents)]
        out = func(*duals)
        aux = None
        if has_aux:
            out, aux = out

        def split(t):
            p, tan = fwAD.unpack_dual(t)
            return p.detach(), (zeros_like(p) if tan is None else tan.detach())

        primal_out = _tree_map(lambda t: split(t)[0], out)
        tangent_out = _tree_map(lambda t: split(t)[1], out)
    if has_aux:
        return primal_out, tangent_out, aux
    return primal_out, tangent_out


def _partial(func, args: tuple, nums: tuple, has_aux: bool):
    """``func`` as a function of the arguments at ``nums`` alone (the others fixed to
    ``args``), returning its output without the aux."""
    def f(*sel):
        full = list(args)
        for i, s in zip(nums, sel):
            full[i] = s
        out = func(*full)
        return out[0] if has_aux else out

    return f


def jacrev(func, argnums=0, *, has_aux: bool = False, chunk_size=None):
    """The Jacobian by reverse mode: shape ``output.shape + input.shape``."""
    from .autograd.functional import jacobian

    def wrapper(*args):
        nums = _argnums_tuple(argnums)
        f = _partial(func, args, nums, has_aux)

        # create_graph keeps the rows differentiable (and carrying tangents), so jacrev
        # composes with outer transforms (hessian = jacfwd(jacrev(f))).
        jac = jacobian(f, tuple(args[i] for i in nums), create_graph=True)
        res = jac[0] if isinstance(argnums, int) and isinstance(jac, tuple) and not isinstance(
            jac[0], tuple) else jac
        if isinstance(argnums, int) and isinstance(res, tuple) and res and \
                isinstance(res[0], tuple):
            res = tuple(r[0] for r in res)
        if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
            res = _tree_map(lambda t: t if fwAD._state.forward_level else t.detach(), res)
        if has_aux:
            return res, func(*args)[1]
        return res

    return wrapper


def jacfwd(func, argnums=0, has_aux: bool = False, *, randomness: str = "error"):
    """The Jacobian by forward mode (one jvp per input element)."""
    from .autograd.functional import _jacobian_forward

    def wrapper(*args):
        nums = _argnums_tuple(argnums)
        f = _partial(func, args, nums, has_aux)

        ins = tuple(args[i] for i in nums)
        out = f(*ins)
        single_out = isinstance(out, Tensor)
        outs = (out,) if single_out else tuple(out)
        jac = _jacobian_forward(f, ins, [o.shape for o in outs])
        rows = [row[0] if isinstance(argnums, int) else row for row in jac]
        res = rows[0] if single_out else tuple(rows)
        if has_aux:
            return res, func(*args)[1]
        return res

    return wrapper


def hessian(func, argnums=0):
    """``jacfwd(jacrev(func))``: the Hessian of a scalar function."""
    return jacfwd(jacrev(func, argnums), argnums)


def vmap(func, in_dims: Any = 0, out_dims: Any = 0, randomness: str = "error", *,
         chunk_size=None):
    """Map ``func`` over a batch dimension. Runs ``func`` once per batch element and stacks
    the outputs along ``out_dims`` (correct for every function, not a vectorizing pass)."""
    import retrograd

    def wrapper(*args, **kwargs):
        dims = in_dims if isinstance(in_dims, (tuple, list)) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(
                f"vmap(f, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with "
                f"the structure of `inputs`. in_dims has structure {len(dims)} but inputs has "
                f"structure {len(args)}."
            )
        sizes = {a.shape[d] for a, d in zip(args, dims)
                 if d is not None and isinstance(a, Tensor)}
        if not sizes:
            raise ValueError("vmap(f, in_dims=..., ...)(<inputs>): at least one input must be "
                             "a Tensor with a batch dimension (in_dims not None)")
        if len(sizes) > 1:
            raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped "
                             f"dimension, got sizes {sorted(sizes)} for the mapped dimension")
        n = sizes.pop()
        results = []
        for b in range(n):
            sl = [a.select(d, b) if d is not None and isinstance(a, Tensor) else a
                  for a, d in zip(args, dims)]
            results.append(func(*sl, **kwargs))
        first = results[0]
        if isinstance(first, Tensor):
            od = out_dims if isinstance(out_dims, int) else out_dims[0]
            return retrograd.stack(results, dim=od)
        outs = []
        for k in range(len(first)):
            od = out_dims if isinstance(out_dims, int) else out_dims[k]
            outs.append(retrograd.stack([r[k] for r in results], dim=od))
        return tuple(outs)

    return wrapper
