"""In-place ops: the values change in the same memory, and autograd still sees the truth.

An in-place op is recorded as its out-of-place twin applied to a snapshot of the old value;
the tensor then takes the new node as its ``grad_fn``. Writing through a view rebases the
view's base (PyTorch's CopySlices): the base's new node puts the view's new value into the
base's old value, so gradients reach both the base's history and the written value.
"""

from __future__ import annotations

import numpy as np

from .._dtype import from_numpy_dtype
from .._tensor import Tensor, wrap
from ..autograd._record import bump_version
from ..autograd.forward_ad import _set_tangent, get_tangent
from ..autograd.grad_mode import state as _state
from ..backend import xp
from ._core import Primitive, _op_error, _promote
from .creation import zeros_like

__all__ = ["bump_version", "inplace_apply", "inplace_result", "inplace_write"]


def _check_leaf(x: Tensor) -> None:
    if x._grad_fn is None and x._requires_grad:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation."
        )
    base = x._base
    if base is not None and base._grad_fn is None and base._requires_grad:
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place "
            "operation."
        )


def _snapshot(x: Tensor) -> Tensor:
    """A tensor standing for ``x``'s current value and graph position (shares memory)."""
    old = wrap(x._data, x._grad_fn, x._output_nr)
    old._requires_grad = x._requires_grad
    extra = x._extra
    if x._grad_fn is None and x._requires_grad and extra is not None and extra.acc:
        old._extras.acc = extra.acc
    if _state.forward_level and extra is not None and extra.tangent is not None:
        old._extras.tangent = extra.tangent
    return old


def _has_tangent(x, args) -> bool:
    if not _state.forward_level:
        return False

    return get_tangent(x) is not None or any(get_tangent(a) is not None for a in args)


def inplace_apply(cls, x: Tensor, *args, **attrs) -> Tensor:
    """Run primitive ``cls`` on ``(x, *args)`` and store the result into ``x``."""
    if not isinstance(x, Tensor):
        raise TypeError(f"in-place op expects a Tensor, got {type(x).__name__}")
    recording = _state.grad_enabled and (
        x._requires_grad or any(isinstance(a, Tensor) and a._requires_grad for a in args)
    )
    if not recording and not _has_tangent(x, args) and _state.capture is None:
        node = cls.__new__(cls)
        node.saved = ()
        arrays = [x._data, *[a._data if isinstance(a, Tensor) else a for a in args]]
        try:
            if cls.check_bool is not None:  # before promotion hides a bool (sub_)
                cls.check_bool(x, *args)
            if cls.promote:
                arrays = _promote((x, *args), arrays)
            out = cls.forward(node, *arrays, **attrs)
        except (ValueError, TypeError, IndexError) as e:  # as Primitive.apply translates
            raise _op_error(cls, (x, *args), e) from None
        _store(x, out, cls)
        bump_version(x)
        return x
    if recording:
        _check_leaf(x)
    old = _snapshot(x)
    new = cls.apply(old, *args, **attrs)
    if recording:
        inplace_write(x, old, new, cls)
    else:
        _store(x, new._data, cls)
        bump_version(x)
    _forward_write(x, new)
    return x


def inplace_result(x: Tensor, fn) -> Tensor:
    """Store ``fn(x)`` (any out-of-place computation of x's shape) into ``x`` in place."""
    if not isinstance(x, Tensor):
        raise TypeError(f"in-place op expects a Tensor, got {type(x).__name__}")
    if not _state.grad_enabled and not _state.forward_level and _state.capture is None:
        out = fn(x)
        _store(x, out._data, None)
        bump_version(x)
        return x
    if x._requires_grad and _state.grad_enabled:
        _check_leaf(x)
    old = _snapshot(x)
    new = fn(old)
    if not new._requires_grad or not _state.grad_enabled:
        _store(x, new._data, None)
        bump_version(x)
    else:
        _check_leaf(x)
        inplace_write(x, old, new)
    _forward_write(x, new)
    return x


def _forward_write(x: Tensor, new: Tensor) -> None:
    """Forward AD: x's tangent becomes new's, written in place so that the tangents of x's
    base and of its other views (views of the base's tangent) see the change."""
    if not _state.forward_level:
        return

    tn = get_tangent(new)
    if tn is None:
        return
    tx = get_tangent(x)
    if tx is None:
        base = x._base
        chain = _view_chain(x) if base is not None else None
        if chain is not None:
            tb = get_tangent(base)
            if tb is None:
                tb = wrap(xp(base._data).zeros_like(base._data))
                _set_tangent(base, tb)
            prev, _state.forward_level = _state.forward_level, 0
            try:
                tx = replay(tb, chain)
            finally:
                _state.forward_level = prev
        else:
            tx = wrap(xp(x._data).zeros_like(x._data))
        _set_tangent(x, tx)
    if tx._data.flags.writeable:
        tx._data[...] = tn._data
    else:
        m = xp(tn._data)
        _set_tangent(x, wrap(m.array(m.broadcast_to(tn._data, x._data.shape))))


def inplace_write(x: Tensor, old: Tensor, new: Tensor, cls=None) -> Tensor:
    """Make ``x`` hold ``new`` (computed from the snapshot ``old``) in place."""
    node = new._grad_fn
    base = x._base
    recipe = _view_chain(x) if base is not None and node is not None else None
    if node is not None and node.saved:
        saved = node.saved
        if any(s is old._data for s in saved):
            # The node needs the old value: give it a copy the write below cannot touch.
            copy = old._data.copy()
            node.saved = tuple(copy if s is old._data else s for s in saved)
            if _state.capture is not None:  # a capturing compile copies it on replay too
                _state.capture.saved_copied(node, old._data, copy)
            old._data = copy
    _store(x, new._data, cls)
    bump_version(x)
    if node is None:
        return x
    if recipe is None:
        x._grad_fn = node
        x._output_nr = new._output_nr
        x._requires_grad = True
        return x
    # Writing through a view: the base's new value is its old value with the view replaced.
    old_base = _snapshot(base)
    new_base = SetView.apply(old_base, new, chain=recipe)
    base._grad_fn = new_base._grad_fn
    base._output_nr = 0
    base._requires_grad = True
    again = replay(base, recipe)
    x._grad_fn = again._grad_fn
    x._output_nr = again._output_nr
    x._requires_grad = True
    return x


def _store(x: Tensor, out, cls) -> None:
    data = x._data
    shape = getattr(out, "shape", ())
    name = cls.op.lower() + "_" if cls is not None else "in-place op"
    if shape != data.shape:
        try:
            joint = np.broadcast_shapes(shape, data.shape)
        except ValueError:
            joint = None
        if joint != data.shape:
            raise RuntimeError(
                f"{name}(): output with shape {list(data.shape)} doesn't match the broadcast "
                f"shape {list(joint or shape)}"
            )
    if not data.flags.writeable:
        # An expanded (stride-0) view: several elements share one memory location.
        raise RuntimeError(
            f"{name}(): unsupported operation: more than one element of the written-to tensor "
            "refers to a single memory location. Please clone() the tensor before performing "
            "the operation.")
    out_dtype = getattr(out, "dtype", None)
    if out_dtype is not None and out_dtype != data.dtype and not _can_cast(out_dtype,
                                                                            data.dtype):

        raise RuntimeError(
            f"result type {_type_word(from_numpy_dtype(out_dtype))} can't be cast to the "
            f"desired output type {_type_word(from_numpy_dtype(data.dtype))}"
        )
    if out is not data:
        data[...] = out
        if _state.capture is not None:  # a capturing compile repeats the write
            _state.capture.call(write_into, data, out)


def write_into(data, out) -> None:
    """``data[...] = out``: an in-place op's result stored into the tensor's memory."""
    data[...] = out


def _can_cast(src, dst) -> bool:
    if dst.kind == "b":
        return src.kind == "b"
    if dst.kind in "iu":
        return src.kind in "biu"
    if dst.kind == "f":
        return src.kind in "biuf"
    return True


def _type_word(d) -> str:
    return {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
            "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool"}.get(repr(d)[6:], repr(d))


def _view_chain(x: Tensor):
    """The view ops that lead from ``x._base`` to ``x``, oldest first; None if unknown."""
    chain = []
    t = x
    base = x._base
    while t is not base:
        rec = t._extra.view if t._extra is not None else None
        if rec is None:
            return None
        parent, cls, rest, attrs = rec
        if getattr(cls, "multi_view", False):
            raise RuntimeError(
                f"Output {t._output_nr} of {cls.op} is a view and is being "
                "modified inplace. This view is the output of a function that returns "
                "multiple views. Such functions do not allow the output views to be modified "
                "inplace. You should replace the inplace operation by an out-of-place one."
            )
        chain.append((cls, rest, attrs))
        t = parent
    chain.reverse()
    return tuple(chain)


def replay(t, chain):
    """Apply a view chain to ``t`` (a Tensor or a raw array)."""
    for cls, rest, attrs in chain:
        t = cls.generic(t, *rest, **attrs)
    return t


class SetView(Primitive):
    """``base`` with the region that ``chain`` selects replaced by ``value``.

    d/dbase = grad with that region zeroed; d/dvalue = the region of grad.
    """

    __slots__ = ("chain",)
    formula = "grad with region zeroed, grad[region]"

    def forward(ctx, base, value, chain=()):
        ctx.chain = chain
        out = xp(base).array(base, copy=True)
        view = replay(out, chain)
        view[...] = value
        return out

    def backward(ctx, grad):
        region = replay(grad, ctx.chain)
        if isinstance(region, Tensor):

            zero = zeros_like(region)
        else:
            zero = xp(region).zeros_like(region)
        return SetView.generic(grad, zero, chain=ctx.chain), region

    def jvp(ctx, tb, tv):
        return SetView.generic(tb, tv, chain=ctx.chain)

    _name = "torch::autograd::CopySlices"
