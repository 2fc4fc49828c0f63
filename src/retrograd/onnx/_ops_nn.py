"""ONNX for the layer primitives: convolution, transposed convolution, max pooling and
normalization. (Average and adaptive average pooling, batch norm in eval and dropout are
composites: they trace as the primitives they are written with.)"""

from __future__ import annotations

import numpy as np

from ._ops import emitter, reduce


def _pads(pairs) -> list[int]:
    """PyTorch-style ((lo, hi), ...) per spatial dim -> ONNX [lo..., hi...]."""
    return [int(lo) for lo, _ in pairs] + [int(hi) for _, hi in pairs]


@emitter("Conv")
def _conv(b, node, args, attrs, results, outs):
    x, w = args[0], args[1]
    bias = args[2] if len(args) > 2 else None
    names = [b.value(x), b.value(w)] + ([b.value(bias)] if bias is not None else [])
    kernel = list(np.shape(w._data if hasattr(w, "_data") else w)[2:])
    b.emit("Conv", names, outs, kernel_shape=kernel, strides=list(attrs["stride"]),
           pads=_pads(attrs["pads"]), dilations=list(attrs["dilation"]),
           group=int(attrs["groups"]))


@emitter("ConvInputGrad")
def _conv_transpose(b, node, args, attrs, results, outs):
    """The gradient of a convolution with respect to its input is a transposed
    convolution: ConvTranspose, with output_padding making up the requested size."""
    x, w = args[0], args[1]
    in_size = x._data.shape[2:]
    kernel = w._data.shape[2:] if hasattr(w, "_data") else np.shape(w)[2:]
    stride, dilation, pads = attrs["stride"], attrs["dilation"], attrs["pads"]
    extra = []
    for i, size in enumerate(attrs["size"]):
        lo, hi = pads[i]
        natural = (in_size[i] - 1) * stride[i] - lo - hi + dilation[i] * (kernel[i] - 1) + 1
        extra.append(int(size - natural))
    b.emit("ConvTranspose", [b.value(x), b.value(w)], outs, kernel_shape=list(kernel),
           strides=list(stride), pads=_pads(pads), dilations=list(dilation),
           group=int(attrs["groups"]), output_padding=extra if any(extra) else None)


@emitter("MaxPool", "MaxPool1DWithIndices", "MaxPool2DWithIndices", "MaxPool3DWithIndices")
def _max_pool(b, node, args, attrs, results, outs):
    x = args[0]
    k, stride, pads, dilation, out = (attrs[n] for n in ("k", "stride", "pads", "dilation",
                                                          "out"))
    size = x._data.shape[2:]
    floor_out = [(size[i] + lo + hi - dilation[i] * (k[i] - 1) - 1) // stride[i] + 1
                 for i, (lo, hi) in enumerate(pads)]
    ceil = int(list(floor_out) != list(out))
    b.emit("MaxPool", [b.value(x)], [outs[0]], kernel_shape=list(k), strides=list(stride),
           pads=_pads(pads), dilations=list(dilation), ceil_mode=ceil or None)
    for r in results[1:]:  # ONNX numbers indices across the batch; PyTorch per plane
        b.missing(r, f"{node.name()} (the indices of max pooling)")


@emitter("Standardize")
def _standardize(b, node, args, attrs, results, outs):
    """(x - mean) / sqrt(var + eps) over ``dims``: LayerNormalization (scale 1, bias 0)
    when the dims are the trailing ones and the opset has it (17), else reductions."""
    x = args[0]
    shape = x._data.shape
    rank = len(shape)
    dims = sorted(d % rank for d in node.dims)
    eps = float(node.eps)
    dt = results[0]._data.dtype
    xn = b.value(x)
    trailing = dims == list(range(rank - len(dims), rank)) and dims
    if b.opset >= 17 and trailing and dt != np.float16:
        norm_shape = shape[dims[0]:]
        scale = b.constant(np.ones(norm_shape, dt), "ones")
        bias = b.constant(np.zeros(norm_shape, dt), "zeros")
        b.emit("LayerNormalization", [xn, scale, bias], [outs[0]], axis=dims[0],
               epsilon=eps)
        for r in results[1:]:
            b.missing(r, f"{node.name()} (the statistics of a normalization)")
        return
    mean = b.fresh("mean") if len(outs) < 2 else outs[1]
    reduce(b, "ReduceMean", xn, dims, True, [mean])
    centered = b.emit("Sub", [xn, mean])
    var = b.fresh("var") if len(outs) < 3 else outs[2]
    reduce(b, "ReduceMean", b.emit("Mul", [centered, centered]), dims, True, [var])
    std = b.emit("Sqrt", [b.emit("Add", [var, b.scalar(eps, dt)])])
    b.emit("Div", [centered, std], [outs[0]])
