"""``export``: run the model once with a tracer on, turn each primitive into ONNX nodes.

Every retrograd op goes through ``Primitive.apply``, which calls the per-thread
``state.tracer`` with the primitive, its inputs, attributes and results; composites (tanh
written with exp, batch norm, attention) arrive as the primitives they are built from.
Comparisons (``x > 0`` in ELU and friends) make bool tensors outside ``apply``; while a
trace runs, the Tensor comparison methods and ``retrograd.gt`` and friends report to the
tracer too. Anything else computed outside the ops is caught by tracing twice.
"""

from __future__ import annotations

import enum
import inspect
import sys
import warnings

import numpy as np
import onnx
from onnx import helper

from .._tensor import Tensor, wrap
from ..autograd.grad_mode import enable_grad, refresh_special, state
from ..ops import activation as _activation
from ..ops import inplace as _inplace
from ..utils._nest import tensors_in
from . import _modules, _ops_nn, _ops_shape  # noqa: F401  (_ops_* fill EMITTERS)
from ._builder import Builder, value_info
from ._ops import EMITTERS
from .errors import OnnxExporterError, UnsupportedOperatorError

DEFAULT_OPSET = 20
MIN_OPSET, MAX_OPSET = 14, 21


class TrainingMode(enum.IntEnum):
    """The module mode ``export`` runs the model in."""

    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


_exporting = [False]


def is_in_onnx_export() -> bool:
    """Whether an ``export`` is running (in any thread)."""
    return _exporting[0]


class _Compare:
    """Stands for a comparison in the trace (comparisons are not primitives)."""

    __slots__ = ("op",)

    def __init__(self, op: str) -> None:
        self.op = op

    def name(self) -> str:
        return self.op


_COMPARISONS = {"__gt__": "Greater", "__lt__": "Less", "__ge__": "GreaterOrEqual",
                "__le__": "LessOrEqual", "__eq__": "Equal", "__ne__": "NotEqual",
                "gt": "Greater", "lt": "Less", "ge": "GreaterOrEqual", "le": "LessOrEqual",
                "eq": "Equal", "ne": "NotEqual"}


def _traced_comparison(method, op: str):
    marker = _Compare(op)

    def compare(self, other, *args, **kwargs):
        out = method(self, other, *args, **kwargs)
        tracer = state.tracer
        if tracer is not None and isinstance(out, Tensor):
            tracer(marker, (self, other), {}, (out,))
        return out

    compare.__wrapped__ = method  # type: ignore[attr-defined]
    return compare


class _Tracer:
    """Receives every primitive and writes its ONNX nodes into the builder."""

    def __init__(self, builder: Builder, fold: bool) -> None:
        self.b = builder
        self.fold = fold

    def __call__(self, node, args, attrs, results) -> None:
        b = self.b
        if self.fold and not any(b.known(a) for a in args) and \
                not any(b.known(a) for a in attrs.values() if hasattr(a, "shape")):
            return  # constant folding: the results stay constants (their values)
        kind = "_Compare" if type(node) is _Compare else type(node).op
        fn = EMITTERS.get(kind)
        if fn is None:
            raise UnsupportedOperatorError(node.name(), b.opset, None)
        outs = [b.fresh(kind) for _ in results]
        fn(b, node, args, attrs, results, outs)
        for r, o in zip(results, outs):
            if not b.is_missing(r):
                b.bind(r, o)


    def stored(self, x: Tensor, out, cls) -> None:
        """An in-place op wrote ``out`` into ``x`` (``ops.inplace._store``); the version
        bump follows."""
        b = self.b
        name = b.name_of(out)
        if name is None:
            return  # computed outside the trace: x's version check reports it on use
        shape = x._data.shape
        if getattr(out, "shape", ()) != shape:
            name = b.emit("Expand", [name, b.ints(shape)])
        if getattr(out, "dtype", None) != x._data.dtype:
            name = b.emit("Cast", [name], to=helper.np_dtype_to_tensor_dtype(x._data.dtype))
        b.bind(x, b.emit("Identity", [name]), pending=1)


def _traced_store(store):
    def traced(x, out, cls):
        store(x, out, cls)
        tracer = state.tracer
        if tracer is not None:
            tracer.stored(x, out, cls)

    return traced


def _split_args(args, kwargs):
    if isinstance(args, Tensor):
        return (args,), dict(kwargs or {})
    args = tuple(args)
    if args and isinstance(args[-1], dict) and kwargs is None:
        return args[:-1], dict(args[-1])
    return args, dict(kwargs or {})


def _default_input_names(model, n: int) -> list[str]:
    try:
        params = [p.name for p in inspect.signature(model.forward).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else f"input_{i}" for i in range(n)]


def _dims(shape, axes) -> list:
    """A shape with the dynamic axes replaced by their symbolic names."""
    dims: list = list(shape)
    for ax, label in axes.items():
        dims[ax] = label
    return dims


def _dynamic(dynamic_axes, name: str) -> dict:
    spec = (dynamic_axes or {}).get(name)
    if spec is None:
        return {}
    if isinstance(spec, dict):
        return {int(k): str(v) for k, v in spec.items()}
    return {int(k): f"{name}_dynamic_axes_{i + 1}" for i, k in enumerate(spec)}


def _set_mode(model, training) -> list:
    """Put the model in the export's mode; returns what to restore."""
    modules = list(model.modules()) if hasattr(model, "modules") else []
    saved = [(m, m.training) for m in modules]
    if training == TrainingMode.EVAL:
        for m in modules:
            m.training = False
    elif training == TrainingMode.TRAINING:
        for m in modules:
            m.training = True
    return saved


#: The retrograd package: ``torch.gt(x, 0)`` looks its comparison functions up there.
_PACKAGE = sys.modules[__package__.rsplit(".", 1)[0]]
_FUNCTIONS = {"gt": "Greater", "greater": "Greater", "lt": "Less", "less": "Less",
              "ge": "GreaterOrEqual", "greater_equal": "GreaterOrEqual",
              "le": "LessOrEqual", "less_equal": "LessOrEqual", "eq": "Equal",
              "ne": "NotEqual", "not_equal": "NotEqual"}


def _trace(model, args, kwargs, b: Builder, fold: bool):
    """Run ``model`` once with the tracer writing into ``b``; returns its result."""
    originals = {(Tensor, k): getattr(Tensor, k) for k in _COMPARISONS
                 if k in Tensor.__dict__}
    originals.update({(_PACKAGE, k): getattr(_PACKAGE, k) for k in _FUNCTIONS
                      if hasattr(_PACKAGE, k)})
    stores = {m: m._store for m in (_inplace, _activation)}
    prev = state.tracer
    _exporting[0] = True
    layers = _modules.install(model, b)
    try:
        for (owner, k), fn in originals.items():
            op = _COMPARISONS[k] if owner is Tensor else _FUNCTIONS[k]
            setattr(owner, k, _traced_comparison(fn, op))
        for m, store in stores.items():
            m._store = _traced_store(store)
        state.tracer = _Tracer(b, fold)
        refresh_special()
        # Grad on: in-place ops on tensors that require grad then run as traced
        # primitives (under no_grad they would write raw arrays).
        with enable_grad():
            return model(*args, **kwargs)
    finally:
        state.tracer = prev
        refresh_special()
        for (owner, k), fn in originals.items():
            setattr(owner, k, fn)
        for m, store in stores.items():
            m._store = store
        _exporting[0] = False
        _modules.uninstall(layers)


def _rolled(value):
    """``value`` with every Tensor's elements rotated by one place: other values from the
    same domain (valid indices stay valid, positive inputs stay positive)."""
    if isinstance(value, Tensor):
        data = value._data
        return wrap(np.roll(data.ravel(), 1).reshape(data.shape))
    if isinstance(value, (list, tuple)):
        return type(value)(_rolled(v) for v in value)
    if isinstance(value, dict):
        return {k: _rolled(v) for k, v in value.items()}
    return value


def _check_constants(model, args, kwargs, b, opset, params, export_params, names, fold):
    """Trace again on other input values: a constant that changed was computed from the
    inputs outside the traced ops, and the graph would be wrong for other inputs."""
    args2, kwargs2 = _rolled(args), _rolled(kwargs)
    again = Builder(opset, params, export_params)
    for t, name in zip(tensors_in((args2, kwargs2)), names):
        again.bind(t, name)
    try:
        _trace(model, args2, kwargs2, again, fold)
    except Exception as e:  # the model rejects other values (sorted lengths, ...)
        warnings.warn(f"onnx.export: the model did not run on other input values ({e!r}), "
                      "so its constants were not checked for input dependence",
                      stacklevel=4)
        return
    first, second = b.const_log, again.const_log
    same = len(first) == len(second) and all(
        x.shape == y.shape and np.array_equal(x, y, equal_nan=x.dtype.kind in "fc")
        for x, y in zip(first, second))
    if not same:
        raise OnnxExporterError(
            "a tensor the model uses depends on its inputs but was computed outside "
            "retrograd's ops (e.g. from .item(), .numpy() or a NumPy array), so the "
            "exported graph would hold it as a constant; compute it with tensor ops")


def build_model(model, args, input_names=None, output_names=None, opset_version=None,
                do_constant_folding=True, export_params=True, dynamic_axes=None,
                training=TrainingMode.EVAL, kwargs=None) -> onnx.ModelProto:
    """Trace ``model(*args, **kwargs)`` and return the ONNX model (see ``export``)."""
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise ValueError(f"Unsupported ONNX opset version: {opset} (retrograd exports "
                         f"{MIN_OPSET} to {MAX_OPSET})")
    args, kwargs = _split_args(args, kwargs)
    params = {}
    if hasattr(model, "state_dict"):
        for path, t in model.state_dict(keep_vars=True).items():
            params.setdefault(id(t), (path, t))
    b = Builder(opset, params, export_params)
    inputs = tensors_in((args, kwargs))
    names = list(input_names or [])
    names += _default_input_names(model, len(inputs))[len(names):]
    graph_inputs = []
    for t, name in zip(inputs, names):
        b.bind(t, name)
        graph_inputs.append(value_info(name, t._data.dtype,
                                       _dims(t._data.shape, _dynamic(dynamic_axes, name))))
    saved = _set_mode(model, training)
    try:
        result = _trace(model, args, kwargs, b, do_constant_folding)
        if not any(m.training for m, _ in saved):
            _check_constants(model, args, kwargs, b, opset, params, export_params, names,
                             do_constant_folding)
    finally:
        for m, mode in saved:
            m.training = mode
    outputs = tensors_in(result)
    out_names = list(output_names or [])
    out_names += [f"output_{i}" if len(outputs) > 1 else "output"
                  for i in range(len(out_names), len(outputs))]
    dynamic = bool(dynamic_axes)
    graph_outputs = []
    for t, name in zip(outputs, out_names):
        b.emit("Identity", [b.value(t)], [name])
        axes = _dynamic(dynamic_axes, name)
        shape = [axes.get(i, None if dynamic else s) for i, s in enumerate(t._data.shape)]
        graph_outputs.append(value_info(name, t._data.dtype, shape))
    graph = helper.make_graph(b.nodes, "main_graph", graph_inputs + b.param_inputs,
                              graph_outputs, b.initializers)
    proto = helper.make_model(graph, producer_name="retrograd",
                              opset_imports=[helper.make_opsetid("", opset)])
    proto.ir_version = min(proto.ir_version, 10)
    try:
        onnx.checker.check_model(proto)
    except onnx.checker.ValidationError as e:
        raise OnnxExporterError(f"the exported graph is not valid ONNX: {e}") from None
    return proto


def export(model, args=(), f=None, *, kwargs=None, export_params: bool = True,
           verbose: bool | None = False, training=TrainingMode.EVAL, input_names=None,
           output_names=None, operator_export_type=None, opset_version=None,
           do_constant_folding: bool = True, dynamic_axes=None,
           keep_initializers_as_inputs=None, custom_opsets=None,
           export_modules_as_functions=False, dynamo: bool = False, **unused):
    """Export ``model`` to ONNX by running it once on ``args`` (see ``torch.onnx.export``).

    Args:
        model: a Module (or any callable on Tensors).
        args: the example inputs: a Tensor or a tuple (a trailing dict holds keyword
            arguments).
        f: a path or a binary file object the model is written to; None: not written.
        input_names, output_names: names of the graph's inputs and outputs, in order
            (default: the forward's argument names; "output" / "output_i").
        dynamic_axes: ``{name: [axis, ...]}`` or ``{name: {axis: "label"}}``: those
            dims of the input or output are symbolic.
        opset_version: the ONNX opset (default 20, from 14 to 21).
        do_constant_folding: ops on constants only are computed now, not exported.
        export_params: parameters as initializers (False: as extra graph inputs).
        training: TrainingMode.EVAL (default), PRESERVE or TRAINING.

    Parameters and buffers become initializers named by their module path
    ("fc1.weight"). An op without an ONNX mapping raises ``UnsupportedOperatorError``.

    Returns:
        The ``onnx.ModelProto``.
    """
    proto = build_model(model, args, input_names, output_names, opset_version,
                        do_constant_folding, export_params, dynamic_axes, training, kwargs)
    if verbose:
        print(helper.printable_graph(proto.graph), file=sys.stdout)
    if f is not None:
        onnx.save_model(proto, f)
    return proto
