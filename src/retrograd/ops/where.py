"""``where``: the selection every NaN-safe derivative and every masked formula is built on."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..backend import xp
from ._core import Primitive, register_method, result_dtype

__all__ = ["where"]


class Where(Primitive):
    """cond ? x : y.  d/dx = grad where cond, d/dy = grad elsewhere (NaN-safe: the other
    branch gets an exact zero)."""

    promote = False
    formula = "where(c, grad, 0), where(c, 0, grad)"

    def forward(ctx, cond, x, y):
        ctx.save(cond)
        m = xp(cond)
        out = m.where(cond, x, y)
        if type(x) is not type(y):
            # A number beside an array keeps the array's float dtype (a weak scalar).
            like = x if hasattr(x, "dtype") else y
            if hasattr(like, "dtype") and out.dtype != like.dtype and \
                    like.dtype.kind == "f" and out.dtype.kind == "f":
                out = out.astype(like.dtype)
        return out

    def backward(ctx, grad):
        (cond,) = ctx.saved
        _, nx, ny = ctx.needs_input_grad
        return None, where(cond, grad, 0) if nx else None, where(cond, 0, grad) if ny else None

    def jvp(ctx, tc, tx, ty):
        (cond,) = ctx.saved
        return where(cond, 0.0 if tx is None else tx, 0.0 if ty is None else ty)


def where(condition, input=None, other=None, *, out=None):
    """``input`` where ``condition`` holds, else ``other``; ``where(cond)`` is nonzero."""
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    if isinstance(condition, Tensor):
        for what, v in (("input", input), ("other", other)):  # the parser checks types first
            # (arrays pass: backward and jvp formulas call where on them)
            if isinstance(v, (str, list, tuple, dict, set)) or v is None:
                raise TypeError(f"where(): argument '{what}' must be Tensor or Number, not "
                                f"{type(v).__name__}")
        if condition._data.dtype != np.bool_:
            raise RuntimeError(
                f"where expected condition to be a boolean tensor, but got a tensor with "
                f"dtype {condition.dtype}"
            )
        result = Where.apply(condition, *_promote_pair(input, other))
        if out is None:
            return result
        from ._helpers import out_

        return out_(result, out)
    return Where.generic(condition, input, other)


def _promote_pair(a, b):
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a._data.dtype != b._data.dtype:
        d = result_dtype((a, b))
        return a.to(d), b.to(d)
    if isinstance(a, Tensor) != isinstance(b, Tensor):
        t = a if isinstance(a, Tensor) else b
        s = b if isinstance(a, Tensor) else a
        d = result_dtype((t, s))
        if d._np != t._data.dtype:
            t = t.to(d)
        return (t, s) if isinstance(a, Tensor) else (s, t)
    return a, b


@register_method("where")
def _where_method(self, condition, other):
    return where(condition, self, other)
