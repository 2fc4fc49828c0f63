"""The ONNX graph under construction: value names for tensors, nodes, initializers.

Every Tensor the traced program touches gets an ONNX value name: graph inputs by
``input_names``, parameters and buffers by their module path (``fc1.weight``), the results
of traced primitives by a fresh name. A Tensor the trace never produced (made by a creation
op, a NumPy array, a Python number) becomes a constant initializer. Identities are held
alive for the whole export, so an ``id`` is never reused for another tensor.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from .._tensor import Tensor
from .errors import OnnxExporterError, UnsupportedOperatorError

#: A value a primitive computes that has no ONNX counterpart (max-pool indices, ...).
_MISSING = "\x00missing"


class Builder:
    """Nodes and initializers of one export, and the tensor -> value-name map."""

    def __init__(self, opset: int, params: dict, export_params: bool) -> None:
        self.opset = opset
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.param_inputs: list[onnx.ValueInfoProto] = []
        self.export_params = export_params
        self._params = params  # id(tensor) -> (path, tensor), named on first use
        self._names: dict[int, str] = {}
        self._why: dict[int, str] = {}
        self._versions: dict[int, tuple] = {}
        self._alive: list = []
        self._used: set[str] = set()
        self._count = 0
        #: The arrays of the tensors that became constants, in order (see ``_export``).
        self.const_log: list[np.ndarray] = []

    # ------------------------------------------------------------------ names
    def fresh(self, hint: str) -> str:
        """A value name not used before (``hint`` plus a counter)."""
        self._count += 1
        name = f"/{hint}_{self._count}_output"
        while name in self._used:
            self._count += 1
            name = f"/{hint}_{self._count}_output"
        self._used.add(name)
        return name

    def bind(self, obj, name: str, pending: int = 0) -> None:
        """Make ``obj`` (a Tensor, or the array behind one) stand for the value ``name``.

        A Tensor's version counter is noted (plus ``pending`` bumps about to happen): a
        later in-place change the trace did not see makes its value stale."""
        self._names[id(obj)] = name
        self._alive.append(obj)
        self._used.add(name)
        if isinstance(obj, Tensor):
            self._names[id(obj._data)] = name
            self._alive.append(obj._data)
            self._versions[id(obj)] = (obj._vc, obj._vc[0] + pending)
            if obj._grad_fn is not None:
                self._names[(id(obj._grad_fn), obj._output_nr)] = name
                self._alive.append(obj._grad_fn)

    def _lookup(self, obj) -> str | None:
        """The name of ``obj`` by identity, else (a Tensor) by the array it shares (a
        ``detach()``), else by its graph position (an in-place op's snapshot)."""
        name = self._names.get(id(obj))
        if name is None and isinstance(obj, Tensor):
            name = self._names.get(id(obj._data))
            if name is None and obj._grad_fn is not None:
                name = self._names.get((id(obj._grad_fn), obj._output_nr))
        return name

    def name_of(self, obj) -> str | None:
        """The value name already standing for ``obj``, if any (no constant is made)."""
        name = self._lookup(obj)
        return None if name is _MISSING else name

    def missing(self, obj, why: str) -> None:
        """``obj`` has no ONNX value; using it later raises naming ``why``."""
        self._names[id(obj)] = _MISSING
        self._why[id(obj)] = why
        self._alive.append(obj)

    def is_missing(self, obj) -> bool:
        return self._names.get(id(obj)) is _MISSING

    def known(self, obj) -> bool:
        """Whether ``obj`` is a graph value (an input, a parameter or a traced result)."""
        return id(obj) in self._params or self._lookup(obj) is not None

    # ------------------------------------------------------------------ values
    def value(self, arg, like=None) -> str:
        """The value name of a Tensor, array, Python number or None (the empty name).

        ``like``: a NumPy dtype for Python numbers (they take the op's dtype, as in
        PyTorch's promotion of weak scalars)."""
        if arg is None:
            return ""
        name = self._lookup(arg)
        if name is not None:
            if name is _MISSING:
                raise UnsupportedOperatorError(self._why[id(arg)], self.opset, None)
            seen = self._versions.get(id(arg))
            if seen is not None and seen[0][0] != seen[1]:
                raise OnnxExporterError(
                    f"a tensor of shape {list(arg._data.shape)} was modified in place by an "
                    "op the trace cannot follow (on a tensor that does not require grad, or "
                    "written through indexing); export a model that does not modify it")
            return name
        entry = self._params.get(id(arg))
        if entry is not None:
            return self._param(arg, entry[0])
        if isinstance(arg, Tensor):
            array = np.asarray(arg._data)
        elif isinstance(arg, np.ndarray):
            array = arg
        else:
            array = np.asarray(arg, dtype=like)
        name = self.constant(array)
        if isinstance(arg, (Tensor, np.ndarray)):
            self.bind(arg, name)
            self.const_log.append(array.copy())
        return name

    def _param(self, tensor: Tensor, path: str) -> str:
        self.bind(tensor, path)
        array = np.asarray(tensor._data)
        if self.export_params:
            self.initializers.append(numpy_helper.from_array(array, path))
        else:
            self.param_inputs.append(value_info(path, array.dtype, array.shape))
        return path

    def constant(self, array, hint: str = "Constant") -> str:
        """A new initializer holding ``array``."""
        name = self.fresh(hint).replace("_output", "")
        self.initializers.append(numpy_helper.from_array(np.array(array, order="C"), name))
        return name

    def ints(self, values) -> str:
        """An int64 1-D constant (axes, shapes, starts/ends)."""
        return self.constant(np.asarray(list(values), dtype=np.int64), "Ints")

    def scalar(self, value, dtype) -> str:
        """A 0-d constant of ``dtype``."""
        return self.constant(np.asarray(value, dtype=dtype), "Scalar")

    # ------------------------------------------------------------------ nodes
    def emit(self, op: str, inputs, outputs=None, **attrs):
        """Append a node; returns its output name (or names when ``outputs`` is a count
        above one or a list)."""
        if outputs is None or isinstance(outputs, int):
            n = outputs or 1
            names = [self.fresh(op) for _ in range(n)]
        else:
            names = list(outputs)
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(helper.make_node(op, list(inputs), names,
                                           name=f"/{op}_{len(self.nodes)}", **attrs))
        return names[0] if (outputs is None or outputs == 1) else names


def value_info(name: str, dtype, shape) -> onnx.ValueInfoProto:
    """A graph input/output description; a str dim is symbolic, None unknown."""
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    return helper.make_tensor_value_info(name, elem, list(shape))
