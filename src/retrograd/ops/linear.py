"""The affine maps of ``nn.functional``: linear (y = x W^T + b, through the fused Linear
primitive when it applies) and bilinear (y_k = x1^T W_k x2 + b_k)."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ._out import c_type_name, dtype_name
from .fused import Linear, LinearNoBias

__all__ = ["bilinear", "linear"]


def linear(input, weight, bias=None):
    """input @ weight.T + bias."""
    # Checked on the arrays (ndim, shape): Tensor.dim() and Tensor.shape cost a call and a
    # Size each, and this runs once per layer per step.
    if not (isinstance(input, Tensor) and isinstance(weight, Tensor)
            and (bias is None or isinstance(bias, Tensor))):
        _refuse_non_tensor(input, weight, bias)
    x, w = input._data, weight._data
    if x.ndim == 0 or w.ndim == 0:
        raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are "
                           f"{x.ndim}D and {w.ndim}D")
    if w.ndim == 2:
        if x.shape[-1] != w.shape[1]:
            rows = int(np.prod(x.shape[:-1]))
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                               f"({rows}x{x.shape[-1]} and {w.shape[1]}x{w.shape[0]})")
        _same_dtypes(input, weight, bias)
        if bias is None:
            return LinearNoBias.apply(input, weight, None)
        if bias._data.ndim <= 1:
            return Linear.apply(input, weight, bias)
    out = input.matmul(weight.t())  # t() refuses a weight of more than 2 dims, as PyTorch
    return out + bias if bias is not None else out


def _refuse_non_tensor(input, weight, bias) -> None:
    """PyTorch's argument parser: linear takes Tensors (and None for the bias)."""
    for pos, (what, v) in enumerate((("input", input), ("weight", weight), ("bias", bias)), 1):
        if not isinstance(v, Tensor) and (v is not None or pos < 3):
            raise TypeError(f"linear(): argument '{what}' (position {pos}) must be Tensor, "
                            f"not {type(v).__name__}")


def _same_dtypes(input, weight, bias) -> None:
    """No promotion in linear (PyTorch's addmm / mm kernels refuse mixed dtypes)."""
    w = weight._data.dtype
    if bias is not None and bias._data.dtype != w:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got "
                           f"{dtype_name(bias._data.dtype)} and {dtype_name(w)}")
    if input._data.dtype != w:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{c_type_name(input._data.dtype)} != {c_type_name(w)}")


def bilinear(input1, input2, weight, bias=None):
    """y_k = x1^T W_k x2 + b_k over the last dimension."""
    out_f, in1, in2 = weight.shape
    if input1.shape[-1] != in1 or input2.shape[-1] != in2 or \
            tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise RuntimeError(
            f"bilinear(): input dimensions do not match: got {input1.shape[-1]} and "
            f"{input2.shape[-1]} for weight of shape {list(weight.shape)}")
    lead = tuple(input1.shape[:-1])
    a = input1.reshape(-1, in1)
    b = input2.reshape(-1, in2)
    t = a.matmul(weight.permute(1, 0, 2).reshape(in1, out_f * in2)).reshape(-1, out_f, in2)
    out = (t * b.unsqueeze(1)).sum(-1)
    if bias is not None:
        out = out + bias
    return out.reshape(*lead, out_f)
