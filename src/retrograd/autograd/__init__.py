"""Reverse-mode automatic differentiation: ``backward``, ``grad``, ``Function``,
``Variable`` and the grad-mode switches."""

from . import forward_ad, graph, hooks
from .anomaly_mode import detect_anomaly, set_detect_anomaly
from .engine import backward, grad
from .function import Function, FunctionCtx, InplaceFunction, NestedIOFunction, once_differentiable
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .variable import Variable

__all__ = [
    "Function", "FunctionCtx", "InplaceFunction", "NestedIOFunction", "Variable", "backward",
    "detect_anomaly", "set_detect_anomaly",
    "enable_grad", "grad", "graph", "inference_mode", "is_grad_enabled",
    "is_inference_mode_enabled", "no_grad", "once_differentiable", "set_grad_enabled",
]

from .gradcheck import gradcheck, gradgradcheck

__all__ += ["gradcheck", "gradgradcheck"]
