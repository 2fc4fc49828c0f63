"""Pooling layers: max, average, adaptive and power-average (LP) pooling over 1, 2 or 3 dims.

Each kind is one class parameterised by ``_n`` (its number of dims); the public ``...1d/2d/3d``
classes only set it, and ``forward`` calls ``nn.functional``'s kernel of that rank.
"""

from __future__ import annotations

from typing import Any

from ..._tensor import Tensor
from .. import functional as F
from ._shared import dims
from .fold import MaxUnpool1d, MaxUnpool2d, MaxUnpool3d  # noqa: F401  (PyTorch's home for them)
from .module import Module

__all__ = ["AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d",
           "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
           "FractionalMaxPool2d", "FractionalMaxPool3d", "LPPool1d", "LPPool2d", "LPPool3d",
           "MaxPool1d", "MaxPool2d", "MaxPool3d"]


class _Pool(Module):
    """Shared by every pooling kind: which functional kernel runs, and the repr."""

    _n = 2
    _kernel = ""  # the functional name without its rank, e.g. "max_pool"
    _shown: tuple[str, ...] = ()  # the attributes extra_repr lists

    def _function(self):
        return getattr(F, f"{self._kernel}{self._n}d")

    def extra_repr(self) -> str:
        return ", ".join(f"{name}={getattr(self, name)}" for name in self._shown)


class _WindowPool(_Pool):
    """Pooling over sliding windows: ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size: Any, stride: Any, padding: Any) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding


class _MaxPoolNd(_WindowPool):
    _kernel = "max_pool"
    _shown = ("kernel_size", "stride", "padding", "dilation", "ceil_mode")

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 dilation: Any = 1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__(kernel_size, stride, padding)
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Any:
        return self._function()(input, self.kernel_size, self.stride, self.padding,
                                self.dilation, ceil_mode=self.ceil_mode,
                                return_indices=self.return_indices)


class _AvgPoolNd(_WindowPool):
    _kernel = "avg_pool"
    _shown = ("kernel_size", "stride", "padding")

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__(kernel_size, stride, padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        extra = () if self._n == 1 else (self.divisor_override,)
        return self._function()(input, self.kernel_size, self.stride, self.padding,
                                self.ceil_mode, self.count_include_pad, *extra)


class _AdaptiveMaxPoolNd(_Pool):
    _kernel = "adaptive_max_pool"
    _shown = ("output_size",)

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Any:
        return self._function()(input, self.output_size, self.return_indices)


class _AdaptiveAvgPoolNd(_Pool):
    _kernel = "adaptive_avg_pool"
    _shown = ("output_size",)

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return self._function()(input, self.output_size)


class _LPPoolNd(_Pool):
    """(sum over the window of x^p)^(1/p)."""

    _kernel = "lp_pool"
    _shown = ("norm_type", "kernel_size", "stride", "ceil_mode")

    def __init__(self, norm_type: float, kernel_size: Any, stride: Any = None,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Tensor:
        return self._function()(input, float(self.norm_type), self.kernel_size, self.stride,
                                self.ceil_mode)


MaxPool1d, MaxPool2d, MaxPool3d = dims(_MaxPoolNd, "MaxPool")


class AvgPool1d(_AvgPoolNd):
    """1-D average pooling; sizes are kept as 1-tuples and there is no divisor_override."""

    _n = 1

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        def one(v: Any) -> tuple:
            return tuple(v) if isinstance(v, list | tuple) else (v,)

        super().__init__(one(kernel_size), one(kernel_size if stride is None else stride),
                         one(padding), ceil_mode, count_include_pad)
        del self.divisor_override


AvgPool2d, AvgPool3d = dims(_AvgPoolNd, "AvgPool", ns=(2, 3))
AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d = dims(_AdaptiveAvgPoolNd,
                                                               "AdaptiveAvgPool")
AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d = dims(_AdaptiveMaxPoolNd,
                                                               "AdaptiveMaxPool")
LPPool1d, LPPool2d, LPPool3d = dims(_LPPoolNd, "LPPool")


class _FractionalMaxPoolNd(_Pool):
    """Max over windows of ``kernel_size`` at pseudo-random starts (F.fractional_max_pool*),
    to ``output_size`` or ``output_ratio`` (in (0, 1)) times the input size. Given
    ``_random_samples`` (a buffer, N x C x dims), the windows are fixed."""

    _kernel = "fractional_max_pool"

    def __init__(self, kernel_size: Any, output_size: Any = None, output_ratio: Any = None,
                 return_indices: bool = False, _random_samples: Tensor | None = None) -> None:
        super().__init__()
        n = self._n
        name = type(self).__name__
        self.kernel_size = _per_dim(kernel_size, n)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = None if output_size is None else _per_dim(output_size, n)
        self.output_ratio = None if output_ratio is None else _per_dim(output_ratio, n)
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a pooling "
                             f"ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input: Tensor) -> Any:
        return self._function()(input, self.kernel_size, self.output_size, self.output_ratio,
                                self.return_indices, _random_samples=self._random_samples)


def _per_dim(value: Any, n: int) -> tuple:
    return tuple(value) if isinstance(value, list | tuple) else (value,) * n


FractionalMaxPool2d, FractionalMaxPool3d = dims(_FractionalMaxPoolNd, "FractionalMaxPool",
                                                ns=(2, 3))
