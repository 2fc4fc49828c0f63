"""``Identity``, ``Linear``, ``Bilinear``, ``LazyLinear``."""

from __future__ import annotations

import math
from typing import Any

from ... import ops as _ops  # noqa: F401  (Tensor methods are installed by the ops package)
from ..._tensor import Tensor
from ...ops.creation import empty
from .. import init
from ..parameter import Parameter, UninitializedParameter
from .module import Module

__all__ = ["Bilinear", "Identity", "LazyLinear", "Linear"]


def _linear(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    from .. import functional as F

    fn = getattr(F, "linear", None)
    if fn is not None:
        return fn(x, weight, bias)
    out = x @ weight.t()
    return out if bias is None else out + bias


class Identity(Module):
    """Returns its input; takes and ignores any constructor arguments."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """y = x W^T + b.  W: (out_features, in_features), initialised U(-1/sqrt(in), 1/sqrt(in)).

    >>> import retrograd as torch
    >>> torch.nn.Linear(400, 120)
    Linear(in_features=400, out_features=120, bias=True)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(empty((out_features, in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        return _linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class LazyLinear(Linear):
    """A Linear whose ``in_features`` is read from the first input."""

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        Module.__init__(self)
        self.in_features = 0
        self.out_features = out_features
        self._dtype = dtype
        self.weight = UninitializedParameter()
        if bias:
            self.bias = UninitializedParameter()
        else:
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        if self.in_features != 0:
            super().reset_parameters()

    def forward(self, input: Tensor) -> Tensor:
        if isinstance(self.weight, UninitializedParameter):
            self.in_features = input.shape[-1]
            self.weight.materialize((self.out_features, self.in_features), dtype=self._dtype)
            if self.bias is not None:
                self.bias.materialize((self.out_features,), dtype=self._dtype)
            self.reset_parameters()
            self.__class__ = Linear
            del self.__dict__["_dtype"]
        return _linear(input, self.weight, self.bias)


class Bilinear(Module):
    """y = x1^T A x2 + b.  A: (out, in1, in2), initialised U(-1/sqrt(in1), 1/sqrt(in1))."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(empty((out_features, in1_features, in2_features), dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.size(1))
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        from .. import functional as F

        fn = getattr(F, "bilinear", None)
        if fn is not None:
            return fn(input1, input2, self.weight, self.bias)
        # out[..., o] = sum_ij x1[..., i] W[o, i, j] x2[..., j]
        left = input1.unsqueeze(-2).unsqueeze(-2) @ self.weight  # (..., o, 1, in2)
        out = (left.squeeze(-2) * input2.unsqueeze(-2)).sum(-1)
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
