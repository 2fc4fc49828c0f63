"""ONNX for each traced primitive: arithmetic, activations, reductions, linear algebra.

An emitter is ``fn(b, node, args, attrs, results, outs)``: ``b`` the ``Builder``, ``node``
the primitive's instance (what its forward kept on ``ctx``), ``args``/``attrs`` what
``apply`` got, ``results`` the Tensors it made and ``outs`` their value names, which the
emitter must produce. Shape ops, indexing and the layers live in ``_ops_shape.py`` and
``_ops_nn.py``; all three fill ``EMITTERS``.
"""

from __future__ import annotations

import math

import numpy as np
from onnx import helper

from .._tensor import Tensor
from .errors import UnsupportedOperatorError

#: Primitive class name -> emitter.
EMITTERS: dict = {}


def emitter(*names: str):
    def deco(fn):
        for name in names:
            EMITTERS[name] = fn
        return fn

    return deco


def dtype_of(results) -> np.dtype:
    return results[0]._data.dtype


def ins(b, args, results) -> list[str]:
    """Value names of ``args`` in the result's dtype (PyTorch promotes the inputs of
    arithmetic; ONNX wants them equal): Python numbers take it, tensors are cast."""
    like = dtype_of(results)
    names = []
    for a in args:
        name = b.value(a, like)
        if isinstance(a, Tensor) and a._data.dtype != like:
            name = b.emit("Cast", [name], to=_onnx_type(like))
        names.append(name)
    return names


def ndim(x) -> int:
    return x._data.ndim if isinstance(x, Tensor) else np.ndim(x)


def axis(dim: int, rank: int) -> int:
    return dim + rank if dim < 0 else dim


# ---------------------------------------------------------------------- elementwise
_UNARY = {
    "Neg": "Neg", "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt", "Abs": "Abs", "Relu": "Relu",
    "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Erf": "Erf", "Sin": "Sin", "Cos": "Cos",
    "Tan": "Tan", "Asin": "Asin", "Acos": "Acos", "Atan": "Atan", "Sinh": "Sinh",
    "Cosh": "Cosh", "Asinh": "Asinh", "Acosh": "Acosh", "Atanh": "Atanh",
    "Floor": "Floor", "Ceil": "Ceil", "Sign": "Sign", "Reciprocal": "Reciprocal",
    "Round": "Round", "Hardswish": "HardSwish", "Clone": "Identity", "Copy": "Identity",
}
_BINARY = {"Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "PowTensor": "Pow",
           "Maximum": "Max", "Minimum": "Min", "Fmax": "Max", "Fmin": "Min",
           "MatMul": "MatMul", "Mm": "MatMul", "Pow": "Pow", "PowScalarBase": "Pow"}


def _unary(b, node, args, attrs, results, outs):
    b.emit(_UNARY[type(node).op], [b.value(args[0])], outs)


def _binary(b, node, args, attrs, results, outs):
    x, y = ins(b, args[:2], results)
    alpha = getattr(node, "alpha", 1)
    if alpha != 1:  # add(x, y, alpha=a): x + a * y
        y = b.emit("Mul", [y, b.scalar(alpha, dtype_of(results))])
    if type(node).op == "Pow" and not isinstance(args[1], Tensor):
        # The exponent keeps its own type: an int power of a float stays exact.
        y = b.scalar(args[1], dtype_of(results))
    b.emit(_BINARY[type(node).op], [x, y], outs)


for _n in _UNARY:
    EMITTERS[_n] = _unary
for _n in _BINARY:
    EMITTERS[_n] = _binary


@emitter("Rsqrt")
def _rsqrt(b, node, args, attrs, results, outs):
    b.emit("Reciprocal", [b.emit("Sqrt", [b.value(args[0])])], outs)


@emitter("Log1p", "Expm1", "Log2", "Log10", "Exp2")
def _log_family(b, node, args, attrs, results, outs):
    x = b.value(args[0])
    dt = dtype_of(results)
    kind = type(node).op
    if kind == "Log1p":
        b.emit("Log", [b.emit("Add", [x, b.scalar(1, dt)])], outs)
    elif kind == "Expm1":
        b.emit("Sub", [b.emit("Exp", [x]), b.scalar(1, dt)], outs)
    elif kind == "Exp2":
        b.emit("Pow", [b.scalar(2, dt), x], outs)
    else:
        base = 2.0 if kind == "Log2" else 10.0
        b.emit("Div", [b.emit("Log", [x]), b.scalar(math.log(base), dt)], outs)


@emitter("Where")
def _where(b, node, args, attrs, results, outs):
    cond = b.value(args[0], np.bool_)
    b.emit("Where", [cond] + ins(b, args[1:3], results), outs)


@emitter("MaskedFill")
def _masked_fill(b, node, args, attrs, results, outs):
    """x.masked_fill(mask, v) is IndexPut(x, v, idx=mask): Where(mask, v, x)."""
    mask = attrs.get("idx")
    if not isinstance(mask, (np.ndarray, Tensor)) or np.dtype(
            getattr(mask, "dtype", None) if isinstance(mask, np.ndarray)
            else mask._data.dtype) != np.bool_:
        raise UnsupportedOperatorError(f"{node.name()} (index {mask!r})", b.opset, None)
    # masked_fill broadcasts the mask with np.broadcast_to: find the traced array below
    # the view (Where broadcasts the same way).
    src = mask
    while isinstance(src, np.ndarray) and not b.known(src) and src.base is not None:
        src = src.base
    if not (b.known(src) and np.ndim(src) <= np.ndim(mask)
            and np.array_equal(np.broadcast_to(src, np.shape(mask)), mask)):
        src = mask
    x, fill = ins(b, args[:2], results)
    b.emit("Where", [b.value(src), fill, x], outs)


@emitter("Clamp", "ClampMin", "ClampMax", "Hardtanh", "ClampTensor", "ClampMinTensor",
         "ClampMaxTensor")
def _clamp(b, node, args, attrs, results, outs):
    kind = type(node).op
    dt = dtype_of(results)
    lo = hi = None
    if kind == "Hardtanh":
        lo, hi = attrs.get("min_val", -1.0), attrs.get("max_val", 1.0)
    elif kind in ("Clamp", "ClampTensor"):
        lo = args[1] if len(args) > 1 else attrs.get("min")
        hi = args[2] if len(args) > 2 else attrs.get("max")
    elif kind.startswith("ClampMin"):
        lo = args[1] if len(args) > 1 else attrs.get("min")
    else:
        hi = args[1] if len(args) > 1 else attrs.get("max")
    x = b.value(args[0])
    if isinstance(lo, Tensor) or isinstance(hi, Tensor):  # tensor bounds broadcast: Max/Min
        if lo is not None:
            x = b.emit("Max", [x, b.value(lo, dt)])
        if hi is not None:
            x = b.emit("Min", [x, b.value(hi, dt)])
        b.emit("Identity", [x], outs)
        return
    bounds = [b.scalar(v, dt) if v is not None else "" for v in (lo, hi)]
    while bounds and bounds[-1] == "":
        bounds.pop()
    b.emit("Clip", [x, *bounds], outs)


# ---------------------------------------------------------------------- activations
@emitter("LeakyRelu")
def _leaky_relu(b, node, args, attrs, results, outs):
    b.emit("LeakyRelu", [b.value(args[0])], outs,
           alpha=float(attrs.get("negative_slope", getattr(node, "slope", 0.01))))


@emitter("Gelu")
def _gelu(b, node, args, attrs, results, outs):
    approximate = attrs.get("approximate", "none")
    x = b.value(args[0])
    if b.opset >= 20:
        b.emit("Gelu", [x], outs, approximate=approximate)
        return
    dt = dtype_of(results)
    if approximate == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = b.emit("Pow", [x, b.scalar(3, dt)])
        inner = b.emit("Add", [x, b.emit("Mul", [cube, b.scalar(0.044715, dt)])])
        t = b.emit("Tanh", [b.emit("Mul", [inner, b.scalar(math.sqrt(2 / math.pi), dt)])])
    else:  # 0.5 x (1 + erf(x / sqrt 2))
        t = b.emit("Erf", [b.emit("Div", [x, b.scalar(math.sqrt(2.0), dt)])])
    half_x = b.emit("Mul", [x, b.scalar(0.5, dt)])
    b.emit("Mul", [half_x, b.emit("Add", [t, b.scalar(1, dt)])], outs)


@emitter("Softplus")
def _softplus(b, node, args, attrs, results, outs):
    # Above the threshold PyTorch returns x; log(1 + e^z) equals z there to float rounding.
    beta = float(attrs.get("beta", 1.0))
    x = b.value(args[0])
    if beta == 1.0:
        b.emit("Softplus", [x], outs)
        return
    dt = dtype_of(results)
    z = b.emit("Softplus", [b.emit("Mul", [x, b.scalar(beta, dt)])])
    b.emit("Div", [z, b.scalar(beta, dt)], outs)


@emitter("Softmax", "LogSoftmax")
def _softmax(b, node, args, attrs, results, outs):
    dim = getattr(node, "dim", attrs.get("dim", -1))
    b.emit(type(node).op, [b.value(args[0])], outs, axis=int(dim))


# ---------------------------------------------------------------------- linear algebra
@emitter("Linear", "LinearNoBias")
def _linear(b, node, args, attrs, results, outs):
    x, w = args[0], args[1]
    bias = args[2] if len(args) > 2 else None
    xn, wn = b.value(x), b.value(w)
    if ndim(x) == 2:
        names = [xn, wn] + ([b.value(bias)] if bias is not None else [])
        b.emit("Gemm", names, outs, transB=1)
        return
    y = b.emit("MatMul", [xn, b.emit("Transpose", [wn], perm=[1, 0])])
    if bias is None:
        b.emit("Identity", [y], outs)
    else:
        b.emit("Add", [y, b.value(bias)], outs)


# ---------------------------------------------------------------------- reductions
def reduce(b, op: str, x: str, axes, keepdims: bool, outs) -> None:
    """``op`` over ``axes`` (None: all), with the axes as an input from the opset where
    the op takes them so (ReduceSum 13, the others 18)."""
    inputs = [x]
    extra = {}
    if axes is not None:
        if op == "ReduceSum" or b.opset >= 18:
            inputs.append(b.ints(axes))
        else:
            extra["axes"] = list(axes)
    b.emit(op, inputs, outs, keepdims=int(keepdims), **extra)


@emitter("Sum", "Mean", "SumDim", "MeanDim", "Amax", "Amin", "MaxAll", "MinAll", "Prod",
         "_ProdDim")
def _reduce(b, node, args, attrs, results, outs):
    kind = type(node).op
    op = {"Sum": "ReduceSum", "SumDim": "ReduceSum", "Mean": "ReduceMean",
          "MeanDim": "ReduceMean", "Amax": "ReduceMax", "MaxAll": "ReduceMax",
          "Amin": "ReduceMin", "MinAll": "ReduceMin", "Prod": "ReduceProd",
          "_ProdDim": "ReduceProd"}[kind]
    dims = getattr(node, "dims", None)
    if dims is None and "dim" in attrs and attrs["dim"] is not None:
        d = attrs["dim"]
        rank = ndim(args[0])
        dims = tuple(axis(i, rank) for i in (d if isinstance(d, (tuple, list)) else (d,)))
    keep = bool(getattr(node, "keepdim", attrs.get("keepdim", False)))
    x = b.value(args[0])
    if results[0]._data.dtype != args[0]._data.dtype:
        x = b.emit("Cast", [x], to=_onnx_type(results[0]._data.dtype))
    reduce(b, op, x, dims, keep, outs)


def _onnx_type(dtype) -> int:
    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


@emitter("Norm")
def _norm(b, node, args, attrs, results, outs):
    """p-norm over ``dims``: ReduceL1/ReduceL2, max |x| for inf, else (sum |x|^p)^(1/p)."""
    x = b.value(args[0])
    p, dims, keep = node.p, node.dims, bool(node.keepdim)
    dt = dtype_of(results)
    if p in (1, 2):
        reduce(b, f"ReduceL{int(p)}", x, dims, keep, outs)
    elif p == float("inf"):
        reduce(b, "ReduceMax", b.emit("Abs", [x]), dims, keep, outs)
    else:
        powered = b.emit("Pow", [b.emit("Abs", [x]), b.scalar(p, dt)])
        total = b.fresh("ReduceSum")
        reduce(b, "ReduceSum", powered, dims, keep, [total])
        b.emit("Pow", [total, b.scalar(1.0 / p, dt)], outs)


@emitter("Cumsum")
def _cumsum(b, node, args, attrs, results, outs):
    x = b.value(args[0])
    if results[0]._data.dtype != args[0]._data.dtype:
        x = b.emit("Cast", [x], to=_onnx_type(results[0]._data.dtype))
    b.emit("CumSum", [x, b.constant(np.asarray(node.dim, np.int64))], outs)


@emitter("ToCopy")
def _to_copy(b, node, args, attrs, results, outs):
    b.emit("Cast", [b.value(args[0])], outs, to=_onnx_type(results[0]._data.dtype))


@emitter("_Compare")
def _compare(b, node, args, attrs, results, outs):
    x, y = args
    like = (x if isinstance(x, Tensor) else y)._data.dtype
    xn, yn = b.value(x, like), b.value(y, like)
    op = node.op
    if op == "NotEqual":
        b.emit("Not", [b.emit("Equal", [xn, yn])], outs)
    else:
        b.emit(op, [xn, yn], outs)
