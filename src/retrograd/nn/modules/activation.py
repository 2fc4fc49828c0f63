"""Activation modules: thin wrappers over ``nn.functional`` with PyTorch's reprs."""

from __future__ import annotations

from ..._tensor import Tensor
from ...ops.creation import empty
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ._shared import FunctionalModule, variants

# PyTorch documents MultiheadAttention under this module; it lives in attention.
from .attention import MultiheadAttention  # noqa: F401
from .module import Module

__all__ = ["CELU", "ELU", "GELU", "GLU", "SELU", "Hardshrink", "Hardsigmoid", "Hardswish",
           "Hardtanh", "LeakyReLU", "LogSigmoid", "LogSoftmax", "Mish", "PReLU", "RReLU",
           "ReLU", "ReLU6", "SiLU", "Sigmoid", "Softmax", "Softmax2d", "Softmin", "Softplus",
           "Softshrink", "Softsign", "Tanh", "Tanhshrink", "Threshold"]


class Threshold(FunctionalModule):
    _fn, _args = "threshold", ("threshold", "value", "inplace")

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__(threshold, value, inplace)


class RReLU(FunctionalModule):
    _fn, _args = "rrelu", ("lower", "upper", "inplace")

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
                 inplace: bool = False) -> None:
        super().__init__(lower, upper, inplace)

    def forward(self, input: Tensor) -> Tensor:
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)


class Hardtanh(FunctionalModule):
    _fn, _args = "hardtanh", ("min_val", "max_val", "inplace")

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0,
                 inplace: bool = False) -> None:
        super().__init__(min_val, max_val, inplace)


class ReLU6(Hardtanh):
    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class _Inplace(FunctionalModule):
    _args = ("inplace",)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(inplace)


ReLU, Hardsigmoid, Hardswish, SiLU, Mish, SELU = variants(
    _Inplace, "_fn", ReLU="relu", Hardsigmoid="hardsigmoid", Hardswish="hardswish",
    SiLU="silu", Mish="mish", SELU="selu")

class _Elementwise(FunctionalModule):
    """An activation without arguments: ``forward(input)`` is ``F.<_fn>(input)``."""


Sigmoid, Tanh, LogSigmoid, Softsign, Tanhshrink = variants(
    _Elementwise, "_fn", Sigmoid="sigmoid", Tanh="tanh", LogSigmoid="logsigmoid",
    Softsign="softsign", Tanhshrink="tanhshrink")


class ELU(FunctionalModule):
    _fn, _args = "elu", ("alpha", "inplace")

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__(alpha, inplace)


class CELU(ELU):
    _fn = "celu"


class GLU(FunctionalModule):
    _fn, _args = "glu", ("dim",)

    def __init__(self, dim: int = -1) -> None:
        super().__init__(dim)


class GELU(FunctionalModule):
    _fn, _args = "gelu", ("approximate",)

    def __init__(self, approximate: str = "none") -> None:
        super().__init__(approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Hardshrink(FunctionalModule):
    _fn, _args, _bare = "hardshrink", ("lambd",), 1

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__(lambd)


class Softshrink(Hardshrink):
    _fn = "softshrink"


class LeakyReLU(FunctionalModule):
    _fn, _args = "leaky_relu", ("negative_slope", "inplace")

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False) -> None:
        super().__init__(negative_slope, inplace)


class Softplus(FunctionalModule):
    _fn, _args = "softplus", ("beta", "threshold")

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__(beta, threshold)


class PReLU(Module):
    """max(0, x) + a * min(0, x) with a learnable ``a`` (one, or one per channel)."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None,
                 dtype=None) -> None:
        self.num_parameters = num_parameters
        super().__init__()
        self.init = init
        self.weight = Parameter(empty(num_parameters, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class _SoftmaxBase(FunctionalModule):
    _args = ("dim",)

    def __init__(self, dim: int | None = None) -> None:
        super().__init__(dim)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        if not hasattr(self, "dim"):
            self.dim = None


Softmin, Softmax, LogSoftmax = variants(_SoftmaxBase, "_fn", Softmin="softmin",
                                        Softmax="softmax", LogSoftmax="log_softmax")


class Softmax2d(Module):
    def forward(self, input: Tensor) -> Tensor:
        if input.dim() not in (3, 4):
            raise ValueError(
                f"Softmax2d: expected input to be 3D or 4D, got {input.dim()}D instead"
            )
        return F.softmax(input, -3)
