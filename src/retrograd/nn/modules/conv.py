"""Convolution layers: ``Conv1d/2d/3d``, ``ConvTranspose1d/2d/3d`` and their ``Lazy`` forms.

One class (``_ConvNd``) holds everything; the public classes only fix the number of spatial
dimensions (``_dims``) and whether the convolution is transposed. The weight is
``(out, in/groups, *kernel)``, or ``(in, out/groups, *kernel)`` when transposed, and is
initialised like Linear's over ``fan_in = weight.shape[1] * kernel elements``.
"""

from __future__ import annotations

from typing import Any

from ..._tensor import Tensor
from .. import functional as F
from ._params import fan_in_uniform_
from .lazy import LazyModuleMixin, lazy_class
from .linear import _Affine

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
           "ConvTranspose3d", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
           "LazyConvTranspose2d", "LazyConvTranspose3d"]

_PADDING_WORDS = {"same", "valid"}
_PADDING_MODES = {"zeros", "reflect", "replicate", "circular"}


def _per_dim(value: Any, dims: int) -> tuple:
    """An int (same for every spatial dim) or a sequence, as a tuple of length ``dims``."""
    return tuple(value) if isinstance(value, list | tuple) else (value,) * dims


def _pad_amounts(padding: Any, kernel: tuple, dilation: tuple) -> list[int]:
    """``F.pad``'s argument (last dim first, before/after) that realises ``padding``.

    'same' splits each dim's total ``dilation * (kernel - 1)`` with the extra one after.
    """
    if padding == "valid":
        return [0] * (2 * len(kernel))
    if padding == "same":
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        pairs = [(t // 2, t - t // 2) for t in totals]
    else:
        pairs = [(p, p) for p in padding]
    return [amount for pair in reversed(pairs) for amount in pair]


def _check_conv_args(in_channels: int, out_channels: int, groups: int, padding: Any,
                     stride: tuple, padding_mode: str) -> None:
    if groups <= 0:
        raise ValueError("groups must be a positive integer")
    for what, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
        if channels % groups:
            raise ValueError(f"{what} must be divisible by groups")
    if isinstance(padding, str):
        if padding not in _PADDING_WORDS:
            raise ValueError(
                f"Invalid padding string {padding!r}, should be one of {_PADDING_WORDS}")
        if padding == "same" and set(stride) != {1}:
            raise ValueError("padding='same' is not supported for strided convolutions")
    if padding_mode not in _PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {_PADDING_MODES}, but got "
                         f"padding_mode='{padding_mode}'")


class _ConvNd(_Affine):
    """A convolution over ``_dims`` spatial dimensions, plain or transposed."""

    _dims = 2
    _transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device=None, dtype=None,
                 output_padding: Any = 0) -> None:
        super().__init__()
        n = self._dims
        stride = _per_dim(stride, n)
        if self._transposed and padding_mode != "zeros":
            raise ValueError(
                f'Only "zeros" padding mode is supported for {type(self).__name__}')
        _check_conv_args(in_channels, out_channels, groups, padding, stride, padding_mode)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _per_dim(kernel_size, n)
        self.stride = stride
        self.padding = padding if isinstance(padding, str) else _per_dim(padding, n)
        self.dilation = _per_dim(dilation, n)
        self.transposed = self._transposed
        self.output_padding = _per_dim(output_padding, n)
        self.groups = groups
        self.padding_mode = padding_mode
        self._reversed_padding_repeated_twice = _pad_amounts(self.padding, self.kernel_size,
                                                             self.dilation)
        self._build(bias, device, dtype)

    def _param_shapes(self) -> dict[str, tuple[int, ...]]:
        first, second = self.out_channels, self.in_channels
        if self.transposed:
            first, second = second, first
        return {"weight": (first, second // self.groups, *self.kernel_size),
                "bias": (self.out_channels,)}

    def reset_parameters(self) -> None:
        fan_in_uniform_(self.weight, self.bias)

    def extra_repr(self) -> str:
        parts = [f"{self.in_channels}, {self.out_channels}",
                 f"kernel_size={self.kernel_size}", f"stride={self.stride}"]
        # Each option is shown only when it differs from its neutral value.
        for name, neutral in (("padding", 0), ("dilation", 1), ("output_padding", 0)):
            value = getattr(self, name)
            if value != (neutral,) * len(value):
                parts.append(f"{name}={value}")
        if self.groups != 1:
            parts.append(f"groups={self.groups}")
        if self.bias is None:
            parts.append("bias=False")
        if self.padding_mode != "zeros":
            parts.append(f"padding_mode={self.padding_mode}")
        return ", ".join(parts)

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        conv = getattr(F, f"conv{self._dims}d")
        if self.padding_mode == "zeros":
            return conv(input, weight, bias, self.stride, self.padding, self.dilation,
                        self.groups)
        # Non-zero padding modes pad first, then convolve without padding.
        padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
        return conv(padded, weight, bias, self.stride, (0,) * self._dims, self.dilation,
                    self.groups)

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(input, self.weight, self.bias)


class _ConvTransposeNd(_ConvNd):
    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", device=None,
                 dtype=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype, output_padding)

    def _output_padding(self, input: Tensor, output_size: Any, stride: Any, padding: Any,
                        kernel_size: Any, num_spatial_dims: int, dilation: Any = None) -> tuple:
        """The output_padding that makes the output ``output_size`` (spatial dims, or all)."""
        if output_size is None:
            return self.output_padding
        n = num_spatial_dims
        lead = input.dim() - n  # 2 for a batch, 1 for a single sample
        if len(output_size) == lead + n:
            output_size = output_size[lead:]
        if len(output_size) != n:
            raise ValueError(
                f"ConvTranspose{n}D: for {input.dim()}D input, output_size must have {n} "
                f"or {lead + n} elements (got {len(output_size)})")
        dilation = dilation or (1,) * n
        smallest = [(input.shape[lead + d] - 1) * stride[d] - 2 * padding[d]
                    + dilation[d] * (kernel_size[d] - 1) + 1 for d in range(n)]
        largest = [lo + s - 1 for lo, s in zip(smallest, stride)]
        if any(not lo <= want <= hi for want, lo, hi in zip(output_size, smallest, largest)):
            raise ValueError(
                f"requested an output size of {output_size}, but valid sizes range from "
                f"{smallest} to {largest} (for an input of {input.size()[2:]})")
        return tuple(want - lo for want, lo in zip(output_size, smallest))

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        extra = self._output_padding(input, output_size, self.stride, self.padding,
                                     self.kernel_size, self._dims, self.dilation)
        conv = getattr(F, f"conv_transpose{self._dims}d")
        return conv(input, self.weight, self.bias, self.stride, self.padding, extra,
                    self.groups, self.dilation)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) or (C, L) input."""

    _dims = 1


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W) or (C, H, W) input.

    >>> import retrograd as torch
    >>> torch.nn.Conv2d(1, 6, 5)
    Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))
    """

    _dims = 2


class Conv3d(_ConvNd):
    """3-D convolution over (N, C, D, H, W) or (C, D, H, W) input."""

    _dims = 3


class ConvTranspose1d(_ConvTransposeNd):
    """The gradient of Conv1d with respect to its input, as a layer."""

    _dims = 1


class ConvTranspose2d(_ConvTransposeNd):
    """The gradient of Conv2d with respect to its input, as a layer."""

    _dims = 2


class ConvTranspose3d(_ConvTransposeNd):
    """The gradient of Conv3d with respect to its input, as a layer."""

    _dims = 3


class _LazyConv(LazyModuleMixin):
    """``in_channels`` comes from the first input's channel dim (dim 1, or 0 if unbatched)."""

    _lazy_size_attr = "in_channels"

    def _lazy_size(self, input: Any) -> int:
        return input.shape[1 if input.dim() == self._dims + 2 else 0]


def _lazy_conv(eager: type) -> type:
    """The Lazy form of a convolution class: same arguments without ``in_channels``."""

    def __init__(self, out_channels: int, kernel_size: Any, *args: Any, device=None,
                 dtype=None, **kwargs: Any) -> None:
        eager.__init__(self, 0, out_channels, kernel_size, *args, device=device, dtype=dtype,
                       **kwargs)
        self._make_lazy(device, dtype)

    return lazy_class(eager, _LazyConv, __init__, __name__)


LazyConv1d = _lazy_conv(Conv1d)
LazyConv2d = _lazy_conv(Conv2d)
LazyConv3d = _lazy_conv(Conv3d)
LazyConvTranspose1d = _lazy_conv(ConvTranspose1d)
LazyConvTranspose2d = _lazy_conv(ConvTranspose2d)
LazyConvTranspose3d = _lazy_conv(ConvTranspose3d)
