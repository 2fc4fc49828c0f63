"""Layers that ONNX has one op for: exported as that op instead of their primitives.

While an export runs, the forward of each such module is wrapped: when the call fits the
ONNX op (checked by the handler's ``fits``), the layer computes as usual with the tracer
paused and the handler writes the one op; otherwise the call is traced as primitives.

- BatchNorm (eval, running statistics) -> BatchNormalization
- AvgPool (no ceil_mode, no divisor_override) -> AveragePool
- AdaptiveAvgPool to size 1 -> GlobalAveragePool
- LayerNorm (opset 17+) -> LayerNormalization
- Dropout while training -> Dropout (training_mode)
- RNN / LSTM / GRU -> RNN / LSTM / GRU (``_rnn``)
"""

from __future__ import annotations

import numpy as np

from .. import nn
from .._tensor import Tensor
from ..autograd.grad_mode import refresh_special, state
from . import _rnn
from .errors import UnsupportedOperatorError


def _tuple(value, n: int) -> list[int]:
    return list(value) if isinstance(value, (tuple, list)) else [value] * n


def _batched(x, n_spatial_min: int = 1) -> bool:
    return isinstance(x, Tensor) and x.dim() >= 2 + n_spatial_min


class _BatchNormOp:
    @staticmethod
    def fits(m, b, x) -> bool:
        return (not m.training and m.running_mean is not None and isinstance(x, Tensor)
                and x.dim() >= 2)

    @staticmethod
    def emit(b, m, x, out) -> None:
        dt = x._data.dtype
        c = x.shape[1]
        scale = b.value(m.weight) if m.weight is not None else b.constant(np.ones(c, dt))
        bias = b.value(m.bias) if m.bias is not None else b.constant(np.zeros(c, dt))
        y = b.emit("BatchNormalization", [b.value(x), scale, bias, b.value(m.running_mean),
                                          b.value(m.running_var)], epsilon=float(m.eps))
        b.bind(out, y)


class _AvgPoolOp:
    @staticmethod
    def fits(m, b, x) -> bool:
        return (_batched(x) and not m.ceil_mode
                and getattr(m, "divisor_override", None) is None)

    @staticmethod
    def emit(b, m, x, out) -> None:
        nd = x.dim() - 2
        pads = _tuple(m.padding, nd)
        y = b.emit("AveragePool", [b.value(x)], kernel_shape=_tuple(m.kernel_size, nd),
                   strides=_tuple(m.stride, nd), pads=pads + pads,
                   count_include_pad=int(bool(m.count_include_pad)))
        b.bind(out, y)


class _GlobalAvgPoolOp:
    @staticmethod
    def fits(m, b, x) -> bool:
        return _batched(x) and all(s == 1 for s in _tuple(m.output_size, x.dim() - 2))

    @staticmethod
    def emit(b, m, x, out) -> None:
        b.bind(out, b.emit("GlobalAveragePool", [b.value(x)]))


class _LayerNormOp:
    @staticmethod
    def fits(m, b, x) -> bool:
        return b.opset >= 17 and isinstance(x, Tensor) and x._data.dtype.kind == "f" \
            and x._data.dtype != np.float16

    @staticmethod
    def emit(b, m, x, out) -> None:
        dt = x._data.dtype
        shape = tuple(m.normalized_shape)
        weight = getattr(m, "weight", None)
        bias = getattr(m, "bias", None)
        scale = b.value(weight) if weight is not None else b.constant(np.ones(shape, dt))
        shift = b.value(bias) if bias is not None else b.constant(np.zeros(shape, dt))
        y = b.emit("LayerNormalization", [b.value(x), scale, shift], axis=-len(shape),
                   epsilon=float(m.eps))
        b.bind(out, y)


class _DropoutOp:
    """Dropout while training (TrainingMode.TRAINING): ONNX Dropout with training_mode, a
    fresh mask on every run. In eval it is the identity and traces as nothing."""

    @staticmethod
    def fits(m, b, x) -> bool:
        return m.training and m.p > 0 and isinstance(x, Tensor)

    @staticmethod
    def emit(b, m, x, out) -> None:
        if type(m).__name__ != "Dropout":
            raise UnsupportedOperatorError(f"{type(m).__name__} in training mode", b.opset,
                                           None)
        dt = x._data.dtype
        y = b.emit("Dropout", [b.value(x), b.scalar(m.p, dt), b.scalar(True, np.bool_)])
        b.bind(out, y)


class _RecurrentOp:
    @staticmethod
    def fits(m, b, x, hx=None) -> bool:
        return (m.mode in _rnn.LAYOUT and not m.proj_size and isinstance(x, Tensor)
                and x.dim() == 3)

    @staticmethod
    def emit(b, m, x, *rest) -> None:
        hx = rest[0] if len(rest) == 2 else None
        _rnn.emit(b, m, x, hx, *rest[-1])


# Handlers by the public retrograd.nn classes a module derives from (the first match wins).
_HANDLERS = (
    ((nn.RNNBase,), _RecurrentOp),
    ((nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d), _BatchNormOp),
    ((nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d), _AvgPoolOp),
    ((nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d), _GlobalAvgPoolOp),
    ((nn.LayerNorm,), _LayerNormOp),
    ((nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d), _DropoutOp),
)


def _handler(m):
    for classes, handler in _HANDLERS:
        if isinstance(m, classes):
            return handler
    return None


def install(model, builder) -> list:
    """Wrap the forward of every module of ``model`` that has an ONNX op; returns them."""
    wrapped = []
    for m in model.modules() if hasattr(model, "modules") else ():
        handler = _handler(m)
        if handler is not None:
            object.__setattr__(m, "forward",
                               _wrap(m, type(m).forward.__get__(m), builder, handler))
            wrapped.append(m)
    return wrapped


def uninstall(wrapped: list) -> None:
    for m in wrapped:
        m.__dict__.pop("forward", None)


def _wrap(module, original, builder, handler):
    def forward(*args, **kwargs):
        if kwargs or not handler.fits(module, builder, *args):
            return original(*args, **kwargs)
        tracer = state.tracer
        state.tracer = None
        refresh_special()
        try:
            out = original(*args)
        finally:
            state.tracer = tracer
            refresh_special()
        handler.emit(builder, module, *args, out)
        return out

    return forward
