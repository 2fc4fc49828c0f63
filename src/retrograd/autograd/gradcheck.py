"""``gradcheck`` and ``gradgradcheck``: analytic gradients against finite differences.

On failure the report names the input, the output and the element that disagree, with
both values, so a wrong derivative points at itself.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._tensor import Tensor, wrap
from . import forward_ad as fwAD
from .engine import grad as autograd_grad

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytic and numerical gradients disagree."""


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _diff_inputs(inputs):
    return [(i, t) for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]


def _outputs(func, inputs):
    out = _as_tuple(func(*inputs))
    return [o for o in out if isinstance(o, Tensor)]


def _numerical_jacobian(func, inputs, eps):
    """J[k][i] has shape (numel(input i), numel(output k)), by central differences."""
    diff = _diff_inputs(inputs)
    # Not under no_grad: func may itself differentiate (gradgradcheck).
    outs = _outputs(func, inputs)
    jac = [[np.zeros((t.numel(), o.numel()), dtype=np.float64) for _, t in diff]
           for o in outs]
    for j, (_, t) in enumerate(diff):
        flat = t._data.reshape(-1) if t._data.flags.c_contiguous else None
        if flat is None:
            raise ValueError("gradcheck needs contiguous inputs")
        for e in range(flat.size):
            orig = flat[e].copy()
            flat[e] = orig + eps
            plus = [o._data.astype(np.float64).reshape(-1).copy()
                    for o in _outputs(func, inputs)]
            flat[e] = orig - eps
            minus = [o._data.astype(np.float64).reshape(-1).copy()
                     for o in _outputs(func, inputs)]
            flat[e] = orig
            for k in range(len(outs)):
                jac[k][j][e] = (plus[k] - minus[k]) / (2 * eps)
    return outs, jac


def _analytical_jacobian(func, inputs, outs_shape_only=None):
    diff = _diff_inputs(inputs)
    outs = _outputs(func, inputs)
    jac = [[np.zeros((t.numel(), o.numel()), dtype=np.float64) for _, t in diff] for o in outs]
    for k, o in enumerate(outs):
        if not o.requires_grad:
            continue
        for e in range(o.numel()):
            g = np.zeros(o.shape, dtype=o._data.dtype)
            g.reshape(-1)[e] = 1
            grads = autograd_grad([o], [t for _, t in diff], [wrap(g)], retain_graph=True,
                                  allow_unused=True)
            for j, gr in enumerate(grads):
                if gr is not None:
                    jac[k][j][:, e] = gr._data.astype(np.float64).reshape(-1)
    return jac


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0,
              check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
              check_batched_grad: bool = False, check_batched_forward_grad: bool = False,
              check_forward_ad: bool = False, check_backward_ad: bool = True,
              fast_mode: bool = False, masked=None) -> bool:
    """Check ``func``'s gradients w.r.t. its inputs that require grad against central
    finite differences; returns True, or raises GradcheckError naming the failing element."""
    inputs = _as_tuple(inputs)
    for t in inputs:
        if isinstance(t, Tensor) and t.requires_grad and t._data.dtype != np.float64:
            warnings.warn(
                f"Input #{inputs.index(t)} requires gradient and is not a double precision "
                "floating point. This check will likely fail if all the inputs are not of "
                "double precision floating point. ",
                UserWarning, stacklevel=2,
            )
    if not _diff_inputs(inputs):
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but none of "
            "the them have requires_grad=True."
        )
    if fast_mode:
        return _fast_check(func, inputs, eps, atol, rtol, raise_exception)
    outs, numerical = _numerical_jacobian(func, inputs, eps)
    diff = _diff_inputs(inputs)
    if check_backward_ad:
        analytical = _analytical_jacobian(func, inputs)
        if not _compare(analytical, numerical, outs, diff, atol, rtol, raise_exception, ""):
            return False
    if check_forward_ad:
        forward = _forward_jacobian(func, inputs, outs)
        if not _compare(forward, numerical, outs, diff, atol, rtol, raise_exception,
                        "forward-mode "):
            return False
    if check_batched_grad and check_backward_ad:
        batched = _batched_jacobian(func, inputs)
        if not _compare(batched, numerical, outs, diff, atol, rtol, raise_exception,
                        "batched-grad "):
            return False
    return True


def _fail(msg: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(msg)
    return False


def _compare(jac, numerical, outs, diff, atol, rtol, raise_exception, kind: str) -> bool:
    for k in range(len(outs)):
        for j, (i, _) in enumerate(diff):
            a, n = jac[k][j], numerical[k][j]
            bad = ~np.isclose(a, n, rtol=rtol, atol=atol)
            if bad.any():
                e_in, e_out = np.argwhere(bad)[0]
                return _fail(
                    f"{kind.capitalize()}Jacobian mismatch for output {k} with respect to "
                    f"input {i},\nnumerical:{wrap(n)}\nanalytical:{wrap(a)}\n"
                    f"first mismatch at input element {e_in}, output element {e_out}: "
                    f"analytical {a[e_in, e_out]!r} vs numerical {n[e_in, e_out]!r}\n",
                    raise_exception)
    return True


def _forward_jacobian(func, inputs, outs):
    """Columns of the Jacobian by forward mode: one dual-number pass per input element."""
    diff = _diff_inputs(inputs)
    jac = [[np.zeros((t.numel(), o.numel()), dtype=np.float64) for _, t in diff] for o in outs]
    for j, (i, t) in enumerate(diff):
        for e in range(t.numel()):
            tangent = np.zeros(t.shape, dtype=t._data.dtype)
            tangent.reshape(-1)[e] = 1
            with fwAD.dual_level():
                args = list(inputs)
                args[i] = fwAD.make_dual(t.detach(), wrap(tangent))
                res = [o for o in _as_tuple(func(*args)) if isinstance(o, Tensor)]
                for k, r in enumerate(res):
                    tan = fwAD.unpack_dual(r).tangent
                    if tan is not None:
                        jac[k][j][e] = tan._data.astype(np.float64).reshape(-1)
    return jac


def _batched_jacobian(func, inputs):
    """The Jacobian from one ``is_grads_batched`` call per output (all basis vectors)."""
    diff = _diff_inputs(inputs)
    outs = _outputs(func, inputs)
    jac = [[np.zeros((t.numel(), o.numel()), dtype=np.float64) for _, t in diff] for o in outs]
    for k, o in enumerate(outs):
        if not o.requires_grad or o.numel() == 0:
            continue
        basis = np.eye(o.numel(), dtype=o._data.dtype).reshape((o.numel(), *o.shape))
        grads = autograd_grad([o], [t for _, t in diff], [wrap(basis)], retain_graph=True,
                              allow_unused=True, is_grads_batched=True)
        for j, g in enumerate(grads):
            if g is not None:
                jac[k][j] = g._data.astype(np.float64).reshape(o.numel(), -1).T
    return jac


def _fast_check(func, inputs, eps, atol, rtol, raise_exception) -> bool:
    """Fast mode: compare u^T J v analytically and numerically for random u, v."""
    rng = np.random.default_rng(0)
    diff = _diff_inputs(inputs)
    outs = _outputs(func, inputs)
    us = [rng.standard_normal(o.shape) for o in outs]
    vs = [rng.standard_normal(t.shape) for _, t in diff]
    # Numerical: directional derivative along v, projected on u.
    saved = [t._data.copy() for _, t in diff]
    for (_, t), v in zip(diff, vs):
        t._data += eps * v.astype(t._data.dtype)
    plus = [o._data.astype(np.float64) for o in _outputs(func, inputs)]
    for (_, t), v, s in zip(diff, vs, saved):
        t._data[...] = s - eps * v.astype(t._data.dtype)
    minus = [o._data.astype(np.float64) for o in _outputs(func, inputs)]
    for (_, t), s in zip(diff, saved):
        t._data[...] = s
    numeric = sum(float((u * (p - m) / (2 * eps)).sum()) for u, p, m in zip(us, plus, minus))
    pairs = [(o, u) for o, u in zip(outs, us) if o.requires_grad]
    grads = autograd_grad([o for o, _ in pairs], [t for _, t in diff],
                          [wrap(u.astype(o._data.dtype)) for o, u in pairs], allow_unused=True)
    analytic = sum(float((g._data.astype(np.float64) * v).sum())
                   for g, v in zip(grads, vs) if g is not None)
    if not np.isclose(analytic, numeric, rtol=rtol, atol=atol):
        return _fail(f"Jacobian mismatch (fast mode): u^T J v is {analytic!r} analytically but "
                     f"{numeric!r} numerically", raise_exception)
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True, nondet_tol: float = 0.0,
                  check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
                  check_batched_grad: bool = False, check_fwd_over_rev: bool = False,
                  check_rev_over_rev: bool = True, fast_mode: bool = False,
                  masked: bool = False) -> bool:
    """Check second derivatives: gradcheck of the map (inputs, v) -> vjp(func, inputs, v)."""
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        outs = _outputs(func, inputs)
        grad_outputs = tuple(
            wrap(rng.standard_normal(o.shape).astype(o._data.dtype)).requires_grad_(True)
            for o in outs if o.requires_grad
        )
    grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)

    def vjp(*args):
        ins, gos = args[:n_in], args[n_in:]
        outs = [o for o in _outputs(func, ins) if o.requires_grad]
        diff = [t for _, t in _diff_inputs(ins)]
        grads = autograd_grad(outs, diff, gos, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(vjp, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
