"""The op machinery: ``Primitive`` (forward and backward side by side) and ``apply``.

A primitive's ``forward(ctx, *arrays, **attrs)`` computes on raw arrays and may keep values
for backward with ``ctx.save(...)``: its inputs, its outputs, or constants (masks, indices,
shapes). Its ``backward(ctx, grad)`` is one formula written with operators and the generic
functions of ``retrograd.ops``. In a plain backward the engine calls it with raw arrays (grad
and every saved value are arrays) and it runs on NumPy alone; under ``create_graph=True`` the
engine hands it Tensors (grad, and the saved inputs and outputs as the Tensors themselves,
connected to the graph), so the same formula records a differentiable backward. Constants stay
constants.

``apply`` does everything else once, for every op: dtype promotion, then recording through
``autograd._record`` (edges, creation site, saved-value versions, views, "graph was cut"
notes). Gradients are summed back to each input's shape and cast to its dtype by the engine
(DESIGN.md, 3). The one- and two-input, one-output case is recorded inline in ``apply``;
everything else goes through ``_finish``.
"""

from __future__ import annotations

import numpy as np

try:  # Cython's pure-Python mode: C types for the compiled form (_core.pxd), or nothing
    import cython
except ImportError:
    from .. import _cython_shim as cython

from .. import _dtype as dtypes
from .._site import creation_site
from .._tensor import Tensor, TensorBase, wrap
from ..autograd._record import (
    INPUT,
    OUTPUT,
    accumulator,
    anomaly_trace,
    edge,
    map_saved,
    mark_view,
    note_cut,
    record_edges,
)
from ..autograd.forward_ad import attach_tangent
from ..autograd.grad_mode import not_recording as _not_recording
from ..autograd.grad_mode import state as _state
from ..autograd.graph import Node

if not cython.compiled:  # compiled, the C versions come from _arrays.pxd (see _core.pxd)
    from .._arrays import dtype_of, is_float

__all__ = ["METHODS", "REGISTRY", "Primitive", "accumulator", "edge", "register_method",
           "checked", "replayable", "result_dtype"]

_new_tensor = TensorBase.__new__
# A node is made with Node's own constructor: compiled, Node is an extension type
# (autograd/graph.pxd), and object.__new__ refuses to make one.
_new_node = Node.__new__
_ndarray = np.ndarray
_asarray = np.asarray
_BOOL = np.dtype(np.bool_)

#: Every primitive class, by class name; feeds the derivative reference and the op tests.
REGISTRY: dict[str, type] = {}
#: Functions installed as Tensor methods, by method name.
METHODS: dict[str, object] = {}


def register_method(*names: str):
    """Decorator: also make the function a Tensor method under each of ``names``
    (its own name when none is given)."""

    def deco(fn):
        for name in names or (fn.__name__,):
            METHODS[name] = fn
            setattr(Tensor, name, fn)
        return fn

    return deco


class Primitive(Node):
    """Base class of every differentiable primitive. The instance is the graph node (ctx).

    Class attributes a primitive may set:
        promote: promote its tensor inputs to one dtype first (binary arithmetic).
        check_bool: ``check_bool(*args)`` refuses bool operands before promotion (sub).
        nondiff_outputs: indices of outputs that never carry gradient (e.g. argmax indices).
        is_view: the output is a view of the first input (shares memory and version).
        formula: the derivative in words, for the generated reference.

    ``apply`` reads ``promote``, ``forward`` and ``is_view`` once per class, when the class
    is made (``_apply_flags``): they are not meant to change afterwards.
    """

    __slots__ = ()
    promote = False
    check_bool = None
    nondiff_outputs: tuple = ()
    is_view = False
    formula = ""

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        # ``op``: the primitive's own name (registry, error messages, ONNX). The class takes
        # the node's PyTorch name, so ``type(loss.grad_fn).__name__`` is "MseLossBackward0".
        op = cls.op = cls.__dict__.get("op", cls.__name__)
        cls._apply_flags = (bool(cls.promote), getattr(cls, "forward", None),
                            bool(cls.is_view))
        if "_name" not in cls.__dict__:
            cls._name = op + "Backward0"
        other = REGISTRY.get(op)
        if other is not None and other.__module__ != cls.__module__:
            raise TypeError(f"two primitives are named {op}: in {other.__module__} and "
                            f"{cls.__module__} (the registry and the derivative reference need "
                            "unique names)")
        REGISTRY[op] = cls
        cls.__name__ = cls.__qualname__ = cls._name.rsplit("::", 1)[-1]

    def save(self, *values) -> None:
        """Keep values for backward: inputs, outputs or constants (see the module doc)."""
        self.saved = values

    @property
    def out_shape(self) -> tuple:
        """The shape of the (first) output; set before a jvp rule runs."""
        return self._out_meta[0][0]

    @property
    def needs_input_grad(self) -> tuple:
        """Per input: does it take part in backward (its edge leads to a node)."""
        e = self._edges
        if len(e) == 8:  # binary ops ask on every backward
            return (e[0] is not None, e[4] is not None)
        return tuple([e[i] is not None for i in range(0, len(e), 4)])

    @classmethod
    def generic(cls, *args, **attrs):
        """Run on Tensors (recording graph) or on raw arrays (plain forward)."""
        for a in args:
            if isinstance(a, Tensor):
                return cls.apply(*args, **attrs)
        ctx = _new_node(cls)
        ctx.saved = ()
        return cls.forward(ctx, *args, **attrs)

    @classmethod
    @cython.locals(node=Node, result=TensorBase, ta=TensorBase, tb=TensorBase, tc=TensorBase)
    def apply(cls, *args, **attrs):
        """Run forward on the arrays behind ``args`` and record a node when needed."""
        promote, forward, is_view = cls._apply_flags
        # Compiled, dtypes are read from the arrays' C structs (_arrays.pxd); the pure form
        # reads the attributes, which costs it less than a call.
        compiled = cython.compiled
        node = _new_node(cls)
        node.saved = ()
        # One and two inputs are nearly every call: unwrap them without a loop. ``ta`` and
        # ``tb`` are ``a`` and ``b`` once known to be Tensors: compiled, they are typed
        # (_core.pxd), so their fields are read as struct members.
        nargs = len(args)
        a_is_t = b_is_t = c_is_t = False
        if nargs == 2 or nargs == 3:  # three: linear's (x, w, b), where the last may be None
            a = args[0]
            b = args[1]
            a_is_t = isinstance(a, TensorBase)
            b_is_t = isinstance(b, TensorBase)
            if a_is_t:
                ta = a
                x = ta._data
                grad = ta._requires_grad
            else:
                x = a
                grad = False
            if b_is_t:
                tb = b
                y = tb._data
                grad = grad or tb._requires_grad
            else:
                y = b
            if nargs == 2:
                arrays = (x, y)
            else:
                c = args[2]
                c_is_t = isinstance(c, TensorBase)
                if c_is_t:
                    tc = c
                    z = tc._data
                    grad = grad or tc._requires_grad
                else:
                    z = c
                arrays = (x, y, z)
        elif nargs == 1:
            a = args[0]
            a_is_t = isinstance(a, TensorBase)
            if a_is_t:
                ta = a
                arrays = (ta._data,)
                grad = ta._requires_grad
            else:
                arrays = args
                grad = False
        else:
            arrays, grad = _unwrap(args)
        try:
            if promote:
                # Binary arithmetic is the hot path: its two common cases are checked inline.
                if nargs == 2 and type(x) is _ndarray:
                    dt = dtype_of(x) if compiled else x.dtype
                    if type(y) is _ndarray:
                        if dt is not (dtype_of(y) if compiled else y.dtype) or dt is _BOOL:
                            arrays = _promoted(cls, args, arrays)  # else: PyTorch's result
                    elif type(y) is float:
                        if is_float(dt) if compiled else dt.kind in "fc":
                            # A float number with a float tensor: as a 0-d array of the
                            # tensor's dtype (the value NumPy would compute with), since
                            # NumPy's ufuncs take an array operand much faster than a float.
                            arrays = (x, _asarray(y, dt))
                        else:
                            arrays = _promoted(cls, args, arrays)
                    else:
                        arrays = _promoted(cls, args, arrays)
                else:
                    arrays = _promoted(cls, args, arrays)
            if attrs:
                out = forward(node, *arrays, **attrs)
            elif nargs == 1:  # a positional call builds no argument tuple
                out = forward(node, arrays[0])
            elif nargs == 2:
                out = forward(node, arrays[0], arrays[1])
            elif nargs == 3:
                out = forward(node, arrays[0], arrays[1], arrays[2])
            else:
                out = forward(node, *arrays)
        except (ValueError, TypeError, IndexError) as e:
            raise _op_error(cls, args, e) from None
        if type(out) is not _ndarray:
            if type(out) is tuple:
                return _finish(cls, node, args, arrays, out, attrs, grad, True)
            out = _as_array(node, out)
        # ``record``: grad mode on and nothing special (saved-tensor hooks, anomaly mode,
        # forward AD, a tracer: those go through _finish).
        # ``_not_recording`` empty: every thread records, this one included.
        if not (grad and (nargs <= 2 or (nargs == 3 and a_is_t and b_is_t))
                and (not _not_recording or _state.record)
                and (is_float(dtype_of(out)) if compiled else out.dtype.kind in "fc")):
            return _finish(cls, node, args, arrays, (out,), attrs, grad, False)
        # The hot path: one output, one or two inputs (or three, the first two Tensors),
        # recording. The edges (graph.py: node, output_nr, shape, dtype per input, flat) and
        # the output Tensor are built inline.
        if b_is_t:
            e = tb._data
            edt = dtype_of(e) if compiled else e.dtype
            if tb._requires_grad:
                fb = tb._grad_fn
                if fb is None:
                    fb, nb = accumulator(b), 0
                else:
                    nb = tb._output_nr
            else:
                fb = None
                nb = 0
        if a_is_t:
            d = ta._data
            ddt = dtype_of(d) if compiled else d.dtype
            if ta._requires_grad:
                fn = ta._grad_fn
                if fn is None:
                    fn, nr = accumulator(a), 0
                else:
                    nr = ta._output_nr
            else:
                fn = None
                nr = 0
            if nargs == 1:
                node._edges = (fn, nr, d.shape, ddt)
            elif nargs == 3:
                if c_is_t:
                    f = tc._data
                    if tc._requires_grad:
                        fc = tc._grad_fn
                        if fc is None:
                            fc, nc = accumulator(c), 0
                        else:
                            nc = tc._output_nr
                    else:
                        fc = None
                        nc = 0
                    node._edges = (fn, nr, d.shape, ddt, fb, nb, e.shape, edt, fc, nc, f.shape,
                                   dtype_of(f) if compiled else f.dtype)
                else:
                    node._edges = (fn, nr, d.shape, ddt, fb, nb, e.shape, edt, None, 0, None,
                                   None)
            elif b_is_t:
                node._edges = (fn, nr, d.shape, ddt, fb, nb, e.shape, edt)
            else:
                node._edges = (fn, nr, d.shape, ddt, None, 0, None, None)
        else:  # a number first: b is the Tensor that requires grad
            node._edges = (None, 0, None, None, fb, nb, e.shape, edt)
        node._where = creation_site(2)
        result = _new_tensor(Tensor)
        result._data = out
        result._grad_fn = node
        result._requires_grad = True
        result._grad = None
        result._vc = [0]
        result._base = None
        result._output_nr = 0
        result._extra = None
        if is_view:  # before the saved values: a view saves its parent's version
            mark_view(result, args, out, cls, attrs)
        saved = node.saved
        if not saved:
            node._saved_meta = None
        elif len(saved) == 1 and saved[0] is out:  # d/dx written with the output (exp, tanh)
            vc = result._vc
            node._saved_meta = (OUTPUT, 0, vc, vc[0])
        elif len(saved) == 2 and nargs >= 2 and saved[0] is arrays[0] and saved[1] is arrays[1]:
            # The inputs themselves (mul, linear): a version entry for each Tensor among them
            # (with three inputs, both are Tensors).
            if not b_is_t:
                vc = ta._vc
                node._saved_meta = (INPUT, a, vc, vc[0], None, None, None, None)
            elif not a_is_t:
                vc = tb._vc
                node._saved_meta = (None, None, None, None, INPUT, b, vc, vc[0])
            else:
                vc = ta._vc
                wc = tb._vc
                node._saved_meta = (INPUT, a, vc, vc[0], INPUT, b, wc, wc[0])
        else:
            node._saved_meta = _saved_meta(saved, args, arrays, out, result._vc)
        return result


def _saved_meta(saved, args, arrays, out, out_vc):
    """``map_saved`` for the hot path (one output, one to three inputs): identity checks
    against the inputs, then the output."""
    meta = None
    n = len(saved)
    for j in range(n):
        s = saved[j]
        if type(s) is not _ndarray:
            continue
        t = None
        for i in range(len(arrays)):
            if s is arrays[i]:
                t = args[i]
                break
        if t is not None:
            if not isinstance(t, Tensor):
                continue
            vc = t._vc
            m = (INPUT, t, vc, vc[0])
        elif s is out:
            m = (OUTPUT, 0, out_vc, out_vc[0])
        else:
            continue
        if n == 1:
            return m
        if meta is None:
            meta = [None] * (4 * n)
        meta[4 * j:4 * j + 4] = m
    return None if meta is None else tuple(meta)


def _finish(cls, node, args, arrays, outs, attrs, grad, multi):
    """Everything ``apply``'s hot path does not cover: several outputs, more than two
    inputs, no recording (grad off, integer results). Returns a tuple when ``multi``."""
    outs = tuple(o if type(o) is _ndarray else _as_array(node, o) for o in outs)
    if grad and _state.grad_enabled and (multi or outs[0].dtype.kind in "fc"):
        record_edges(node, args)
        node._where = creation_site(2)
        if multi:
            node._out_meta = tuple((o.shape, o.dtype) for o in outs)
        nondiff = cls.nondiff_outputs
        results = tuple(
            wrap(o) if i in nondiff else wrap(o, node, i) for i, o in enumerate(outs)
        )
        if cls.is_view:  # before the saved values: a view saves its parent's version
            _mark_views(cls, args, results, outs, attrs, multi)
        if _state.special:
            _special(node, args, arrays, results, attrs, True)
            return results if multi else results[0]
        if node.saved:
            map_saved(node, args, arrays, results)
        else:
            node._saved_meta = None
    else:
        results = tuple([wrap(o) for o in outs])
        if grad or _state.grad_enabled:
            for r in results:
                note_cut(cls, args, r, grad)
        if cls.is_view:
            _mark_views(cls, args, results, outs, attrs, multi)
        if _state.special:
            _special(node, args, arrays, results, attrs, False)
    return results if multi else results[0]


def _mark_views(cls, args, results, outs, attrs, multi) -> None:
    for r, o in zip(results, outs):
        mark_view(r, args, o, cls, {} if multi else attrs)


def _special(node, args, arrays, results, attrs, recorded: bool) -> None:
    """Saved-tensor hooks, anomaly mode, forward-mode AD and the tracer, behind the one
    ``state.special`` flag."""
    if recorded:
        if not node.saved:
            node._saved_meta = None
        else:
            map_saved(node, args, arrays, results)  # packs under saved-tensor hooks
        if _state.anomaly:
            anomaly_trace(node)
    if _state.forward_level:
        attach_tangent(node, args, arrays, results, attrs)
    if _state.tracer is not None:  # retrograd.onnx's export: every primitive, as it runs
        _state.tracer(node, args, attrs, results)
    if _state.capture is not None:  # compile(mode="reduce-overhead") capturing a step
        _state.capture.primitive(node, args, arrays, attrs, results)


def replayable(make, *args):
    """``make(*args)``: arrays computed outside any primitive that a step must compute anew
    each time (random masks and samples). A capturing ``compile`` records the call, so
    that its replay draws from the generator where eager would."""
    out = make(*args)
    if _state.capture is not None:
        _state.capture.made(make, args, out)
    return out


def checked(test, *args):
    """``test(*args)``: a decision made from a tensor's values outside any primitive (a
    range check choosing a fast path). A capturing ``compile`` turns it into a guard that
    each replay checks first."""
    value = test(*args)
    if _state.capture is not None:
        _state.capture.checked(test, args, value)
    return value


def _unwrap(args) -> tuple:
    """The arrays behind ``args`` and whether any input requires grad (three or more)."""
    arrays = []
    grad = False
    for a in args:
        if isinstance(a, Tensor):
            arrays.append(a._data)
            if a._requires_grad:
                grad = True
        else:
            arrays.append(a)
    return arrays, grad


def _promoted(cls, args, arrays):
    """Promotion's general path, which every bool operand takes: first the op's refusal of
    bool operands (sub), which must see the arguments before promotion hides a bool; then
    the cast, where one is needed."""
    if cls.check_bool is not None:
        cls.check_bool(*args)
    if _needs_promotion(arrays):
        return _promote(args, arrays)
    return arrays


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


def _as_array(node, value):
    """NumPy returns scalars from 0-d math; keep arrays, and keep ``saved`` pointing at them."""
    out = _asarray(value)
    if node.saved:
        node.saved = tuple(out if s is value else s for s in node.saved)
    return out


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
    name = cls.op.lower()
    shapes = ", ".join(_shape_str(a) for a in args)
    msg = str(e)
    if isinstance(e, ValueError) and "broadcast" in msg:
        sa = [a._data.shape for a in args if isinstance(a, Tensor)]
        return RuntimeError(_broadcast_message(name, sa) + f" (input shapes: {shapes})")
    if getattr(e, "_retrograd", False):
        return e
    if msg.startswith(("float() argument", "int() argument", "could not convert string")):
        # Python's own words on converting a list or a string to a number: say which input
        ok = (Tensor, _ndarray, int, float, complex, np.generic, type(None))
        bad = [i for i, a in enumerate(args) if not isinstance(a, ok)]
        if bad:
            what = type(args[bad[0]]).__name__
            e = TypeError(f"argument {bad[0] + 1} must be Tensor or Number, not {what}")
            msg = str(e)
    if isinstance(e, np.exceptions.AxisError):  # NumPy's "axis" is PyTorch's "dim"
        n = max(e.ndim, 1)
        msg = (f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but "
               f"got {e.axis})")
    elif "mismatch in its core dimension" in msg:  # a matmul-family gufunc
        mats = " and ".join("x".join(map(str, a._data.shape)) for a in args
                            if isinstance(a, Tensor))
        msg = f"mat1 and mat2 shapes cannot be multiplied ({mats})"
    kind = type(e) if isinstance(e, (IndexError, TypeError)) else RuntimeError
    if kind is np.exceptions.AxisError:
        kind = IndexError
    # A message from a checker that was told the public op's name (wrap_dim's "sum(): ...")
    # is prefixed already.
    head = msg.split("(", 1)[0]
    prefix = "" if head.isidentifier() and msg.startswith(f"{head}()") else f"{name}(): "
    err = kind(f"{prefix}{msg} (input shapes: {shapes})")
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
