"""The op machinery: ``Primitive`` (forward and backward side by side) and ``apply``.

A primitive's ``forward(ctx, *arrays, **attrs)`` computes on raw arrays and may keep values
with ``ctx.save(...)``; its ``backward(ctx, grad)`` is one formula written with operators
and the generic functions of ``retrograd.ops`` so that it runs on raw arrays during a plain
backward and on Tensors (building graph) under ``create_graph=True``.

``apply`` does everything else once, for every op: dtype promotion, graph edges, the
creation site, saved-tensor bookkeeping, views and their version counters. Gradients are
summed back to each input's shape and cast to its dtype by the engine (DESIGN.md, 3).
"""

from __future__ import annotations

import numpy as np

from .. import _dtype as dtypes
from .._tensor import Tensor, wrap
from ..autograd.grad_mode import state as _state
from ..autograd.graph import _PKG_DIR as _PKG_PREFIX
from ..autograd.graph import (
    AccumulateGrad,
    Node,
    PackedSaved,
    _saved_hooks,
    creation_site,
    format_site,
)

__all__ = ["REGISTRY", "Primitive", "accumulator", "edge", "register_method", "METHODS"]

_new = object.__new__
_ndarray = np.ndarray
_asarray = np.asarray

#: Every primitive class, by class name; feeds the derivative reference and the op tests.
REGISTRY: dict[str, type] = {}
#: Functions installed as Tensor methods, by method name.
METHODS: dict[str, object] = {}

INPUT, OUTPUT = 0, 1


def register_method(*names: str):
    """Decorator: also make the function a Tensor method under each of ``names``
    (its own name when none is given)."""

    def deco(fn):
        for name in names or (fn.__name__,):
            METHODS[name] = fn
            setattr(Tensor, name, fn)
        return fn

    return deco


def accumulator(t: Tensor) -> AccumulateGrad:
    """The leaf's AccumulateGrad node; one per leaf while some graph holds it."""
    extra = t._extra
    if extra is None:
        extra = t._extra = {}
    ref = extra.get("acc")
    acc = ref() if ref is not None else None
    if acc is None:
        import weakref

        acc = AccumulateGrad(t)
        extra["acc"] = weakref.ref(acc)
    return acc


def edge(t) -> tuple:
    """The ``(node, output_nr)`` through which a gradient reaches ``t``."""
    if isinstance(t, Tensor) and t._requires_grad:
        fn = t._grad_fn
        if fn is None:
            return (accumulator(t), 0)
        return (fn, t._output_nr)
    return (None, 0)


class Primitive(Node):
    """Base class of every differentiable primitive. The instance is the graph node (ctx).

    Class attributes a primitive may set:
        promote: promote its tensor inputs to one dtype first (binary arithmetic).
        nondiff_outputs: indices of outputs that never carry gradient (e.g. argmax indices).
        is_view: the output is a view of the first input (shares memory and version).
        formula: the derivative in words, for the generated reference.
    """

    __slots__ = ()
    promote = False
    nondiff_outputs: tuple = ()
    is_view = False
    formula = ""

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "_name" not in cls.__dict__:
            cls._name = cls.__name__ + "Backward0"
        other = REGISTRY.get(cls.__name__)
        if other is not None and other.__module__ != cls.__module__:
            raise TypeError(f"two primitives are named {cls.__name__}: in {other.__module__} and "
                            f"{cls.__module__} (the registry and the derivative reference need "
                            "unique names)")
        REGISTRY[cls.__name__] = cls

    def save(self, *values) -> None:
        """Keep values for backward: inputs, outputs or other arrays."""
        self.saved = values

    @property
    def out_shape(self) -> tuple:
        """The shape of the (first) output; set before a jvp rule runs."""
        return self._out_meta[0][0]

    @property
    def needs_input_grad(self) -> tuple:
        return tuple(fn is not None for fn, _ in self.next_functions)

    @classmethod
    def generic(cls, *args, **attrs):
        """Run on Tensors (recording graph) or on raw arrays (plain forward)."""
        for a in args:
            if isinstance(a, Tensor):
                return cls.apply(*args, **attrs)
        ctx = _new(cls)
        ctx.saved = ()
        return cls.forward(ctx, *args, **attrs)

    @classmethod
    def apply(cls, *args, **attrs):
        """Run forward on the arrays behind ``args`` and record a node when needed."""
        node = _new(cls)
        node.saved = ()
        arrays = []
        record = False
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a._data)
                if a._requires_grad:
                    record = True
            else:
                arrays.append(a)
        if cls.promote and _needs_promotion(arrays):
            arrays = _promote(args, arrays)
        try:
            out = cls.forward(node, *arrays, **attrs)
        except (ValueError, TypeError, IndexError) as e:
            raise _op_error(cls, args, e) from None
        if type(out) is tuple:
            return _finish_multi(cls, node, args, arrays, out, record and _state.grad_enabled)
        if type(out) is not _ndarray:
            out = _as_array(node, out)
        if record and _state.grad_enabled and out.dtype.kind in "fc":
            _record(node, args)
            node._site = creation_site(2)
            result = wrap(out, node)
            if node.saved:
                _map_saved(node, args, arrays, (result,))
            else:
                node._saved_meta = None
            if _state.anomaly:
                _anomaly_trace(node)
        else:
            result = wrap(out)
            if record or _state.grad_enabled:
                _note_cut(cls, args, result, record)
        if cls.is_view:
            _mark_view(result, args, out, cls, attrs)
        if _state.forward_level:
            from ..autograd.forward_ad import attach_tangent

            attach_tangent(node, args, arrays, (result,), attrs)
        return result


_NO_EDGE = (None, 0)


def _record(node, args) -> None:
    """Graph edges and input metadata for a node that will take part in backward."""
    node._pre_hooks = None
    node._hooks = None
    if len(args) == 1:
        a = args[0]
        d = a._data
        fn = a._grad_fn
        node.next_functions = ((fn, a._output_nr) if fn is not None else (accumulator(a), 0),)
        node._in_meta = ((d.shape, d.dtype),)
        return
    if len(args) == 2:
        a, b = args
        if isinstance(a, Tensor) and not isinstance(b, Tensor):
            d = a._data
            fn = a._grad_fn
            node.next_functions = ((fn, a._output_nr) if fn is not None
                                   else (accumulator(a), 0), _NO_EDGE)
            node._in_meta = ((d.shape, d.dtype), None)
            return
    edges = []
    meta = []
    for a in args:
        if isinstance(a, Tensor):
            d = a._data
            meta.append((d.shape, d.dtype))
            if a._requires_grad:
                fn = a._grad_fn
                edges.append((fn, a._output_nr) if fn is not None else (accumulator(a), 0))
            else:
                edges.append(_NO_EDGE)
        else:
            meta.append(None)
            edges.append(_NO_EDGE)
    node.next_functions = tuple(edges)
    node._in_meta = tuple(meta)


def _note_cut(cls, args, result: Tensor, had_grad: bool) -> None:
    """Remember why ``result`` is outside the graph, for the "does not require grad" error.

    Called only off the recording path: when an input needed grad but the output will not
    (no_grad, an integer result) or when an input already carries such a note.
    """
    if had_grad:
        why = ("an integer-valued op" if result._data.dtype.kind not in "fc"
               else "an op run under no_grad()")
        result._extra = {"cut": f"{cls.__name__} ({why}) at {format_site(creation_site(3))}"}
        return
    for a in args:
        if isinstance(a, Tensor) and a._extra is not None:
            cut = a._extra.get("cut")
            if cut is not None:
                result._extras["cut"] = cut
                return


def _anomaly_trace(node) -> None:
    import traceback

    stack = traceback.extract_stack()
    node.metadata["traceback_"] = [f for f in stack if not f.filename.startswith(_PKG_PREFIX)]


def _needs_promotion(arrays) -> bool:
    """False in the common cases where NumPy already gives PyTorch's result dtype."""
    if len(arrays) == 2:
        x, y = arrays
        if type(x) is _ndarray:
            ty = type(y)
            if ty is _ndarray:
                if x.dtype is y.dtype:
                    return False
            elif ty is float:
                if x.dtype.kind in "fc":
                    return False
            elif ty is int and (x.dtype.kind in "fc" or (
                    x.dtype.kind == "i" and x.dtype.itemsize == 8 and -2**62 < y < 2**62)):
                return False
    first = None
    for a in arrays:
        if type(a) is _ndarray:
            if first is None:
                first = a.dtype
            elif a.dtype is not first:
                return True
    if first is None:
        return False
    kind = first.kind
    for a in arrays:
        t = type(a)
        if t is _ndarray or t is bool or a is None:
            continue
        if t is float:
            if kind not in "fc":
                return True
        elif t is int:
            # Small ints fit every integer dtype; others may need PyTorch's wrap-around.
            if kind == "b" or (kind in "iu" and not 0 <= a <= 127):
                return True
        else:
            return True
    return False


def _finish_multi(cls, node, args, arrays, outs, record):
    outs = tuple(o if type(o) is _ndarray else _as_array(node, o) for o in outs)
    nondiff = cls.nondiff_outputs
    if not record:
        results = tuple(wrap(o) for o in outs)
    else:
        _record(node, args)
        node._site = creation_site(3)
        node._out_meta = tuple((o.shape, o.dtype) for o in outs)
        results = tuple(
            wrap(o) if i in nondiff else wrap(o, node, i) for i, o in enumerate(outs)
        )
        if node.saved:
            _map_saved(node, args, arrays, results)
        else:
            node._saved_meta = None
    if cls.is_view:
        for r, o in zip(results, outs):
            _mark_view(r, args, o, cls, {})
    if _state.forward_level:
        from ..autograd.forward_ad import attach_tangent

        attach_tangent(node, args, arrays, results, {})
    return results


def _as_array(node, value):
    """NumPy returns scalars from 0-d math; keep arrays, and keep ``saved`` pointing at them."""
    out = _asarray(value)
    if node.saved:
        node.saved = tuple(out if s is value else s for s in node.saved)
    return out


def _map_saved(node, args, arrays, results) -> None:
    """Remember where each saved array came from, so backward can check versions and,
    under create_graph, hand the formula the differentiable Tensor instead."""
    if _saved_hooks:
        _pack_saved(node, args, arrays, results)
        return
    saved = node.saved
    meta = None
    for j, s in enumerate(saved):
        if type(s) is not _ndarray:
            continue
        m = None
        for i, arr in enumerate(arrays):
            if s is arr:
                t = args[i]
                if isinstance(t, Tensor):
                    vc = t._vc
                    m = (INPUT, t, vc, vc[0])
                break
        else:
            for k, r in enumerate(results):
                if s is r._data:
                    vc = r._vc
                    m = (OUTPUT, k, vc, vc[0])
                    break
        if m is not None:
            if meta is None:
                meta = [None] * len(saved)
            meta[j] = m
    node._saved_meta = None if meta is None else tuple(meta)


def _pack_saved(node, args, arrays, results) -> None:
    """Run the active saved_tensors_hooks' pack hook on every saved tensor, keeping only
    the graph position (not the data) to reconnect the unpacked value."""
    pack, unpack = _saved_hooks[-1]
    packed = []
    for s in node.saved:
        if type(s) is not _ndarray:
            packed.append((s, None, None))
            continue
        t = None
        link = None
        for i, arr in enumerate(arrays):
            if s is arr and isinstance(args[i], Tensor):
                t = args[i]
                if t._requires_grad:
                    fn = t._grad_fn
                    link = (fn, t._output_nr, None if fn is not None else accumulator(t))
                break
        else:
            for r in results:
                if s is r._data:
                    t = r
                    link = (node, r._output_nr, None)
                    break
        if t is None:
            t = wrap(s)
        packed.append((pack(t), unpack, link))
    node.saved = PackedSaved(packed)
    node._saved_meta = None


def _mark_view(result: Tensor, args, out, cls, attrs) -> None:
    """Share the parent's version counter and remember how to redo the view from it."""
    parent = args[0]
    if not isinstance(parent, Tensor) or (
            out.size and not np.may_share_memory(out, parent._data)):
        return
    result._vc = parent._vc
    result._base = parent._base if parent._base is not None else parent
    result._extra = {"view": (parent, cls, args[1:], attrs)}


def _promote(args, arrays):
    """Cast the tensor inputs to PyTorch's result dtype (Python scalars stay weak)."""
    first = None
    same = True
    for a in arrays:
        if type(a) is _ndarray:
            if first is None:
                first = a.dtype
            elif a.dtype is not first:
                same = False
                break
    if first is None:
        return arrays
    scalars = [a for a in arrays if type(a) is not _ndarray and a is not None
               and not hasattr(a, "dtype")]
    if same and not scalars:
        return arrays
    target = result_dtype(args)
    npt = target._np
    out = []
    for a in arrays:
        if type(a) is _ndarray:
            out.append(a if a.dtype == npt else a.astype(npt))
        elif a is not None and not hasattr(a, "dtype") and target.category >= dtypes.FLOAT \
                and not isinstance(a, complex):
            out.append(float(a))
        elif type(a) is int and target.category == dtypes.INT:
            out.append(_wrap_int(a, npt))
        else:
            out.append(a)
    return out


def _wrap_int(value: int, npt):
    """A Python int outside the integer dtype's range wraps around, as in PyTorch (NumPy
    would raise OverflowError): uint8 tensor + -2 adds 254."""
    info = np.iinfo(npt)
    if info.min <= value <= info.max:
        return value
    return np.array(value).astype(npt)[()]


def result_dtype(args) -> dtypes.dtype:
    """``torch.result_type`` over Tensors and Python numbers."""
    dims, zero_dims, scalars = [], [], []
    for a in args:
        if isinstance(a, Tensor):
            d = dtypes.from_numpy_dtype(a._data.dtype)
            (dims if a._data.ndim else zero_dims).append(d)
        elif isinstance(a, _ndarray):
            dims.append(dtypes.from_numpy_dtype(a.dtype))
        elif a is not None:
            scalars.append(a)
    return dtypes.result_type(dims, zero_dims, scalars)


def _shape_str(a) -> str:
    if isinstance(a, Tensor):
        return f"[{', '.join(map(str, a._data.shape))}]"
    return type(a).__name__


def _op_error(cls, args, e: Exception) -> Exception:
    """A PyTorch-class error naming the op and the shapes involved."""
    name = cls.__name__.lower()
    shapes = ", ".join(_shape_str(a) for a in args)
    msg = str(e)
    if isinstance(e, ValueError) and "broadcast" in msg:
        sa = [a._data.shape for a in args if isinstance(a, Tensor)]
        return RuntimeError(_broadcast_message(name, sa) + f" (input shapes: {shapes})")
    kind = type(e) if isinstance(e, (IndexError, TypeError)) else RuntimeError
    if getattr(e, "_retrograd", False):
        return e
    err = kind(f"{name}(): {msg} (input shapes: {shapes})")
    err._retrograd = True  # type: ignore[attr-defined]
    return err


def _broadcast_message(name: str, shapes) -> str:
    if len(shapes) >= 2:
        a, b = shapes[0], shapes[1]
        n = max(len(a), len(b))
        pa = (1,) * (n - len(a)) + tuple(a)
        pb = (1,) * (n - len(b)) + tuple(b)
        for i in range(n - 1, -1, -1):
            if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
                return (f"{name}(): The size of tensor a ({pa[i]}) must match the size of "
                        f"tensor b ({pb[i]}) at non-singleton dimension {i}")
    return f"{name}(): shapes {', '.join(str(list(s)) for s in shapes)} cannot be broadcast"
