"""``Identity``, ``Linear``, ``Bilinear`` and ``LazyLinear``.

Linear and Bilinear declare their parameter shapes once (``_param_shapes``); the
constructor and the lazy variant both build from that table.
"""

from __future__ import annotations

import math
from typing import Any

from ..._tensor import Tensor
from .. import functional as F
from .. import init
from ._params import fan_in_uniform_, optional_param
from .lazy import LazyModuleMixin
from .module import Module

__all__ = ["Bilinear", "Identity", "LazyLinear", "Linear", "NonDynamicallyQuantizableLinear"]


class Identity(Module):
    """Returns its input; takes and ignores any constructor arguments."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class _Affine(Module):
    """A layer whose parameters are ``weight`` and an optional ``bias`` of given shapes."""

    def _param_shapes(self) -> dict[str, tuple[int, ...]]:
        raise TypeError(f"{type(self).__name__} does not declare its parameter shapes")

    def _build(self, bias: bool, device: Any, dtype: Any) -> None:
        shapes = self._param_shapes()
        optional_param(self, "weight", True, shapes["weight"], device, dtype)
        optional_param(self, "bias", bias, shapes["bias"], device, dtype)
        self.reset_parameters()


class Linear(_Affine):
    """y = x W^T + b.  W: (out_features, in_features); W and b ~ U(-1/sqrt(in), 1/sqrt(in)).

    >>> import retrograd as torch
    >>> torch.nn.Linear(400, 120)
    Linear(in_features=400, out_features=120, bias=True)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self._build(bias, device, dtype)

    def _param_shapes(self) -> dict[str, tuple[int, ...]]:
        return {"weight": (self.out_features, self.in_features), "bias": (self.out_features,)}

    def reset_parameters(self) -> None:
        fan_in_uniform_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        # ``self.weight`` reaches the parameter only after the instance and class lookups
        # have failed (Module.__getattr__). A Linear itself has nothing that could shadow
        # it, so while both parameters are registered they are read from their dict.
        params = self._parameters
        if type(self) is Linear and "weight" in params and "bias" in params:
            d = self.__dict__
            if "weight" not in d and "bias" not in d:
                return F.linear(input, params["weight"], params["bias"])
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class NonDynamicallyQuantizableLinear(Linear):
    """The Linear that MultiheadAttention uses for its output projection (same behaviour;
    PyTorch names it separately for its quantisation tooling)."""


class LazyLinear(LazyModuleMixin, Linear):
    """A Linear whose ``in_features`` is read from the last dimension of the first input."""

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(0, out_features, bias, device, dtype)
        self._make_lazy(device, dtype)


class Bilinear(_Affine):
    """y = x1^T A x2 + b.  A: (out, in1, in2); A and b ~ U(-1/sqrt(in1), 1/sqrt(in1))."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self._build(bias, device, dtype)

    def _param_shapes(self) -> dict[str, tuple[int, ...]]:
        return {"weight": (self.out_features, self.in1_features, self.in2_features),
                "bias": (self.out_features,)}

    def reset_parameters(self) -> None:
        # Unlike Linear, fan_in here is in1 alone (not in1 * in2).
        limit = 1.0 / math.sqrt(self.in1_features) if self.in1_features else 0.0
        for t in (self.weight, self.bias):
            if t is not None:
                init.uniform_(t, -limit, limit)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
