"""Fused primitives for the hot composites of training (DESIGN: "the hot path is short").

``Linear`` is ``x @ w.T + b`` as one node instead of three (matmul, transpose, add with
broadcasting), with one BLAS call per gradient.
"""

from __future__ import annotations

from ._core import Primitive
from .reduction import sum as _sum
from .shape import reshape, transpose

__all__: list[str] = []


class Linear(Primitive):
    """x @ w^T + b.  d/dx = grad @ w, d/dw = grad^T @ x (batch dims folded),
    d/db = grad summed over all but the last dim."""

    __slots__ = ()
    _name = "AddmmBackward0"
    formula = "grad @ w, grad^T @ x, sum(grad)"

    def forward(ctx, x, w, b=None):
        ctx.save(x, w)
        out = x @ w.T
        if b is not None:
            out += b
        return out

    def backward(ctx, grad):
        x, w = ctx.saved
        if getattr(x, "_data", x).dtype.kind == "c":  # grad @ conj(w), grad^T @ conj(x)
            x, w = x.conj(), w.conj()
        nx, nw, nb = ctx.needs_input_grad
        gx = grad @ w if nx else None
        gw = gb = None
        if nw:
            if x.ndim == 2:  # .T and .sum(0) read the same on arrays and Tensors
                gw = grad.T @ x
            elif x.ndim == 1:
                gw = reshape(grad, (-1, 1)) @ reshape(x, (1, -1))
            else:
                g2 = reshape(grad, (-1, grad.shape[-1]))
                gw = transpose(g2, 0, 1) @ reshape(x, (-1, x.shape[-1]))
        if nb:
            if grad.ndim == 2:
                gb = grad.sum(0)
            else:
                gb = _sum(grad, dim=tuple(range(grad.ndim - 1))) if grad.ndim > 1 else grad
        return gx, gw, gb

    def jvp(ctx, tx, tw, tb):
        x, w = ctx.saved
        out = tx @ transpose(w, -1, -2) + x @ transpose(tw, -1, -2)
        return out if tb is None else out + tb


class LinearNoBias(Linear):
    __slots__ = ()
    _name = "MmBackward0"
