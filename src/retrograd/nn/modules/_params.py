"""How layers make their parameters: on the requested device and dtype, then initialised.

Every layer constructor funnels ``device=`` and ``dtype=`` through ``param`` (and buffers
through the creation functions directly), so an unsupported device fails the way
``retrograd.empty`` fails for it, and ``dtype=float64`` gives float64 parameters.
"""

from __future__ import annotations

import math
from typing import Any

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ...ops.creation import empty
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["fan_in_uniform_", "optional_param", "param"]


def param(shape: Any, device: Any = None, dtype: Any = None) -> Parameter:
    """An uninitialised Parameter of ``shape`` (values are set by the caller's init)."""
    return Parameter(empty(shape, device=device, dtype=dtype))


def optional_param(module: Module, name: str, wanted: bool, shape: Any, device: Any = None,
                   dtype: Any = None) -> None:
    """``module.<name>`` = a new Parameter, or a registered ``None`` slot when not wanted
    (so ``bias=False`` layers still list ``bias`` and print ``bias=False``)."""
    if wanted:
        setattr(module, name, param(shape, device, dtype))
    else:
        module.register_parameter(name, None)


def fan_in_uniform_(weight: Tensor, bias: Tensor | None) -> None:
    """The default init of Linear and the convolutions: weight and bias ~ U(-b, b) with
    b = 1/sqrt(fan_in), fan_in = weight.shape[1] * (kernel elements).

    (This is what kaiming_uniform_ with a = sqrt(5) works out to: gain sqrt(1/3) times
    sqrt(3 / fan_in).) A layer with no inputs (fan_in = 0) keeps a zero bias.
    """
    fan_in = math.prod(weight.shape[1:])
    if fan_in == 0:
        if bias is not None:
            with no_grad():
                bias.zero_()
        return
    bound = 1.0 / math.sqrt(fan_in)
    for t in (weight, bias):
        if t is not None and t.numel():
            init.uniform_(t, -bound, bound)
