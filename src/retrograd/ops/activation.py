"""Activation functions of ``retrograd.nn.functional`` (PyTorch's names and defaults);
the softmax family lives in ``softmax.py`` and is re-exported here.

Most are composites of core ops (no derivative of their own, so they differentiate to any
order). Primitives are kept where speed, stability or PyTorch's kink conventions need them:
softplus, hardtanh (strict interior mask), leaky_relu and hardswish.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .._dims import wrap_dim
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..autograd.grad_mode import state as _state
from ..backend import xp
from ..random import rng
from . import unary as _unary
from ._core import Primitive, register_method
from ._out import dtype_name, write_out
from ._special import erf as erf64
from .inplace import _check_leaf, _snapshot, _store, bump_version, inplace_apply, inplace_write
from .linear import bilinear, linear
from .pointwise import erf
from .softmax import (
    _torch_log_softmax,
    _torch_softmax,
    gumbel_softmax,
    log_softmax,
    softmax,
    softmin,
)
from .unary import exp, sigmoid, tanh, where

__all__ = ["bilinear", "celu", "celu_", "elu", "elu_", "gelu", "glu", "gumbel_softmax",
           "hardshrink", "hardsigmoid", "hardswish", "hardtanh", "hardtanh_", "leaky_relu",
           "leaky_relu_", "linear", "log_softmax", "logsigmoid", "mish", "normalize", "prelu",
           "relu", "relu6", "relu_", "rrelu", "rrelu_", "selu", "selu_", "sigmoid", "silu",
           "softmax", "softmin", "softplus", "softshrink", "softsign", "tanh", "tanhshrink",
           "threshold", "threshold_"]


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _float_only(kernel: str, dtype_at: int | None = None):
    """Decorator: the op exists only for floating inputs; an integer or bool input is
    PyTorch's NotImplementedError naming its kernel (rather than a truncated result).
    ``dtype_at``: the position of a ``dtype=`` argument that casts the input first."""

    def deco(fn):
        @functools.wraps(fn)
        def checked(input, *args, **kwargs):
            dtype = kwargs.get("dtype")
            if dtype is None and dtype_at is not None and len(args) > dtype_at:
                dtype = args[dtype_at]
            if dtype is None and isinstance(input, Tensor) and \
                    input._data.dtype.kind not in "fc":
                raise NotImplementedError(f'"{kernel}" not implemented for '
                                          f"'{dtype_name(input._data.dtype)}'")
            return fn(input, *args, **kwargs)

        return checked

    return deco




# ---------------------------------------------------------------------- primitives

class Hardtanh(Primitive):
    """clamp(x, lo, hi).  d/dx = grad where lo < x < hi (bounds excluded, as PyTorch)."""

    __slots__ = ("mask",)
    formula = "grad * (lo < x < hi)"

    def forward(ctx, x, min_val=-1.0, max_val=1.0):
        ctx.mask = (x > min_val) & (x < max_val)
        return xp(x).clip(x, min_val, max_val).astype(x.dtype, copy=False)

    def backward(ctx, grad):
        return where(ctx.mask, grad, 0)

    def jvp(ctx, tx):
        return where(ctx.mask, tx, 0)


class LeakyRelu(Primitive):
    """x > 0 ? x : slope * x.  d/dx = 1 or slope (slope at 0, as PyTorch)."""

    __slots__ = ("mask", "slope")
    formula = "grad * (x > 0 ? 1 : slope)"

    def forward(ctx, x, negative_slope=0.01):
        ctx.mask = x > 0
        ctx.slope = negative_slope
        return xp(x).where(ctx.mask, x, x * negative_slope).astype(x.dtype, copy=False)

    def backward(ctx, grad):
        return where(ctx.mask, grad, grad * ctx.slope)

    def jvp(ctx, tx):
        return where(ctx.mask, tx, tx * ctx.slope)


class Hardswish(Primitive):
    """x * relu6(x + 3) / 6.  d/dx = 0 (x <= -3), x/3 + 1/2 (-3 < x < 3), 1 (x >= 3)."""

    formula = "grad * (x <= -3 ? 0 : x < 3 ? x / 3 + 0.5 : 1)"

    def forward(ctx, x):
        ctx.save(x)
        return (x * xp(x).clip(x + 3, 0, 6) / 6).astype(x.dtype, copy=False)

    def _slope(ctx):
        (x,) = ctx.saved
        return where(x <= -3, 0.0, where(x < 3, x / 3 + 0.5, 1.0))

    def backward(ctx, grad):
        return grad * ctx._slope()

    def jvp(ctx, tx):
        return tx * ctx._slope()


class Softplus(Primitive):
    """log(1 + exp(beta x)) / beta, x itself where beta x > threshold.
    d/dx = sigmoid(beta x) (1 above the threshold)."""

    __slots__ = ("beta", "threshold")
    formula = "grad * (beta x > threshold ? 1 : sigmoid(beta x))"

    def forward(ctx, x, beta=1.0, threshold=20.0):
        ctx.save(x)
        ctx.beta, ctx.threshold = beta, threshold
        m = xp(x)
        z = x * beta
        # log1p(exp(-|z|)) + max(z, 0) never overflows.
        soft = (m.log1p(m.exp(-m.abs(z))) + m.maximum(z, 0)) / beta
        return m.where(z > threshold, x, soft).astype(x.dtype, copy=False)

    def _slope(ctx):
        (x,) = ctx.saved
        z = x * ctx.beta
        return where(z > ctx.threshold, 1.0, sigmoid(z))

    def backward(ctx, grad):
        return grad * ctx._slope()

    def jvp(ctx, tx):
        return tx * ctx._slope()


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_TANH_K = math.sqrt(2 / math.pi)
_ERFC_COEF = (0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806,
              0.09678418, 0.37409196, 1.00002368, -1.26551223)


def _erf_single(z):
    """erf to single precision (Chebyshev fit of erfc, fractional error < 1.2e-7): one exp
    instead of the series the float64 erf needs."""
    m = xp(z)
    a = m.abs(z)
    t = 1 / (1 + 0.5 * a)
    poly = t * 0 + _ERFC_COEF[0]
    for c in _ERFC_COEF[1:]:
        poly = poly * t + c
    erfc = t * m.exp(-a * a + poly)
    return m.where(z >= 0, 1 - erfc, erfc - 1)


class Gelu(Primitive):
    """x * Phi(x) (approximate='tanh': 0.5 x (1 + tanh(k (x + 0.044715 x^3)))).
    d/dx = Phi(x) + x phi(x) (tanh form: its exact derivative).  A plain backward reuses the
    forward's Phi; under create_graph the derivative is built from differentiable ops."""

    __slots__ = ("approximate", "cdf")
    formula = "grad * (Phi(x) + x * phi(x))"

    def forward(ctx, x, approximate="none"):
        ctx.approximate = approximate
        m = xp(x)
        if approximate == "tanh":
            cdf = 0.5 * (1 + m.tanh(_TANH_K * (x + 0.044715 * x * x * x)))
        elif x.dtype == np.float64:

            cdf = 0.5 * (1 + erf64(x * _SQRT_HALF))
        else:
            work = x.astype(np.float32, copy=False)
            cdf = 0.5 * (1 + _erf_single(work * _SQRT_HALF))
        ctx.cdf = cdf
        ctx.save(x)
        return (x * cdf).astype(x.dtype, copy=False)

    def _slope(ctx):
        (x,) = ctx.saved
        if isinstance(x, Tensor):
            if ctx.approximate == "tanh":
                t = tanh((x + x * x * x * 0.044715) * _TANH_K)
                return (t + 1) * 0.5 + x * 0.5 * (1 - t * t) * _TANH_K * (
                    x * x * (3 * 0.044715) + 1)
            cdf = (erf(x * _SQRT_HALF) + 1) * 0.5
            return cdf + x * exp(x * x * -0.5) * _INV_SQRT_2PI
        m = xp(x)
        cdf = ctx.cdf
        if ctx.approximate == "tanh":
            t = 2 * cdf - 1
            d = 0.5 * x * (1 - t * t) * _TANH_K * (1 + 3 * 0.044715 * x * x)
        else:
            d = x * m.exp(-0.5 * x * x) * _INV_SQRT_2PI
        return (cdf + d).astype(x.dtype, copy=False)

    def backward(ctx, grad):
        return grad * ctx._slope()

    def jvp(ctx, tx):
        return tx * ctx._slope()


# ---------------------------------------------------------------------- helpers

def _inplace(fn, x: Tensor, *args, **kwargs) -> Tensor:
    """Run the composite ``fn`` and write its result into ``x`` (autograd sees the truth)."""
    if not (_state.grad_enabled and x._requires_grad):
        with no_grad():
            out = fn(x, *args, **kwargs)
        _store(x, out._data, None)
        bump_version(x)
        return x
    _check_leaf(x)
    old = _snapshot(x)
    old._data = old._data.copy()  # inner nodes may keep the old values
    return inplace_write(x, old, fn(old, *args, **kwargs))


def _maybe_inplace(fn, input, inplace, *args, **kwargs):
    return _inplace(fn, input, *args, **kwargs) if inplace else fn(input, *args, **kwargs)


# ---------------------------------------------------------------------- public functions

def relu(input, inplace=False):
    """max(input, 0); in place with ``inplace=True``."""
    return relu_(input) if inplace else _unary.relu(input)


def relu_(input):
    return inplace_apply(_unary.Relu, input)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if inplace:
        return hardtanh_(input, min_val, max_val)
    return Hardtanh.generic(input, min_val=min_val, max_val=max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return inplace_apply(Hardtanh, input, min_val=min_val, max_val=max_val)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def _check_slope(op, negative_slope):
    """The parser's check of a Number argument, made before the input's dtype is."""
    if not isinstance(negative_slope, (int, float, np.number, np.ndarray, Tensor)):
        raise TypeError(f"{op}(): argument 'negative_slope' must be Number, not "
                        f"{type(negative_slope).__name__}")


def leaky_relu(input, negative_slope=0.01, inplace=False):
    _check_slope("leaky_relu", negative_slope)
    if inplace:
        return leaky_relu_(input, negative_slope)
    return _leaky_relu(input, negative_slope)


@_float_only("leaky_relu_cpu")
def _leaky_relu(input, negative_slope):
    return LeakyRelu.generic(input, negative_slope=negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    _check_slope("leaky_relu_", negative_slope)
    return _leaky_relu_(input, negative_slope)


@_float_only("leaky_relu_cpu")
def _leaky_relu_(input, negative_slope):
    return inplace_apply(LeakyRelu, input, negative_slope=negative_slope)


def _elu(x, alpha=1.0, scale=1.0, input_scale=1.0):
    neg = (exp(x.clamp(max=0) * input_scale) - 1) * alpha
    out = where(x > 0, x, neg)
    return out * scale if scale != 1.0 else out


@_float_only("elu_cpu")
def elu(input, alpha=1.0, inplace=False):
    return _maybe_inplace(_elu, input, inplace, alpha)


@_float_only("elu_cpu")
def elu_(input, alpha=1.0):
    return _inplace(_elu, input, alpha)


@_float_only("elu_cpu")
def selu(input, inplace=False):
    return _maybe_inplace(_elu, input, inplace, _SELU_ALPHA, _SELU_SCALE)


@_float_only("elu_cpu")
def selu_(input):
    return _inplace(_elu, input, _SELU_ALPHA, _SELU_SCALE)


@_float_only("elu_cpu")
def celu(input, alpha=1.0, inplace=False):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _maybe_inplace(_elu, input, inplace, alpha, 1.0, 1.0 / alpha)


@_float_only("elu_cpu")
def celu_(input, alpha=1.0):
    return celu(input, alpha, True)


def gelu(input, approximate="none"):
    """x * Phi(x); approximate='tanh' uses 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    # PyTorch checks ``approximate`` (its type, then its value) before the input's dtype
    if not isinstance(approximate, str):
        raise TypeError(f"gelu(): argument 'approximate' must be str, not "
                        f"{type(approximate).__name__}")
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return _gelu(input, approximate)


@_float_only("GeluKernelImpl")
def _gelu(input, approximate):
    return Gelu.generic(input, approximate=approximate)


@_float_only("silu_cpu")
def silu(input, inplace=False):
    return _maybe_inplace(lambda x: x * sigmoid(x), input, inplace)


@_float_only("softplus_cpu")
def softplus(input, beta=1.0, threshold=20.0):
    return Softplus.generic(input, beta=beta, threshold=threshold)


@_float_only("mish_cpu")
def mish(input, inplace=False):
    return _maybe_inplace(lambda x: x * tanh(Softplus.generic(x)), input, inplace)


def softsign(input):
    return input / (input.abs() + 1)


@_float_only("hardsigmoid_cpu")
def hardsigmoid(input, inplace=False):
    return _maybe_inplace(lambda x: Hardtanh.generic(x + 3, min_val=0.0, max_val=6.0) / 6,
                          input, inplace)


@_float_only("hardswish_cpu")
def hardswish(input, inplace=False):
    return inplace_apply(Hardswish, input) if inplace else Hardswish.generic(input)


@_float_only("log_sigmoid_cpu")
def logsigmoid(input):
    return -Softplus.generic(-input, threshold=math.inf)


def tanhshrink(input):
    return input - tanh(input)


@_float_only("softshrink_check")
def softshrink(input, lambd=0.5):
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return where(input > lambd, input - lambd, where(input < -lambd, input + lambd, 0.0))


@register_method("hardshrink")
@_float_only("hardshrink_cpu")
def hardshrink(input, lambd=0.5):
    return where(input.abs() > lambd, input, 0.0)


def _threshold(x, threshold, value):
    return where(x > threshold, x, float(value))


def threshold(input, threshold, value, inplace=False):
    return _maybe_inplace(_threshold, input, inplace, threshold, value)


def threshold_(input, threshold, value):
    return _inplace(_threshold, input, threshold, value)


def _rrelu(x, lower, upper, training):
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if not training:
        return LeakyRelu.generic(x, negative_slope=(lower + upper) / 2)

    noise = rng().uniform(lower, upper, size=x.shape).astype(x._data.dtype)
    return where(x >= 0, x, x * noise)


@_float_only("leaky_relu_cpu")
def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    return _maybe_inplace(_rrelu, input, inplace, lower, upper, training)


@_float_only("leaky_relu_cpu")
def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return _inplace(_rrelu, input, lower, upper, training)


@register_method("prelu")
def prelu(input, weight):
    """x > 0 ? x : w * x, ``w`` per channel (dim 1) or one shared value."""
    if weight.dim() > 1:
        raise RuntimeError("prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.dim()}")
    w = weight
    if weight.numel() != 1:
        if input.dim() < 2 or weight.numel() != input.shape[1]:
            raise RuntimeError(
                f"Mismatch of parameter numbers and input channel size. Found parameter "
                f"numbers = {weight.numel()} and channel size = "
                f"{input.shape[1] if input.dim() >= 2 else 1}.")
        w = weight.reshape(-1, *([1] * (input.dim() - 2)))
    else:
        w = weight.reshape(())
    return where(input > 0, input, input * w)


@_float_only("glu_cpu")
def glu(input, dim=-1):
    """a * sigmoid(b), where a and b are the two halves of ``input`` along ``dim``."""
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = wrap_dim(dim, input.dim())
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    pre = (slice(None),) * d
    return input[(*pre, slice(0, n // 2))] * sigmoid(input[(*pre, slice(n // 2, n))])


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p over dim, eps)."""
    denom = input.norm(p, dim, keepdim=True).clamp(min=eps).expand_as(input)
    return write_out(input / denom, out, "normalize")


#: What PyTorch also has at the top level (``torch.softmax`` ...); retrograd/__init__ adds them.
TORCH_NAMES = {"celu": celu, "celu_": celu_, "selu": selu, "selu_": selu_, "rrelu": rrelu,
               "rrelu_": rrelu_, "relu_": relu_, "threshold": threshold,
               "threshold_": threshold_, "softmax": _torch_softmax,
               "log_softmax": _torch_log_softmax, "hardshrink": hardshrink, "prelu": prelu,
               "bilinear": bilinear}

# softmax and log_softmax are written in softmax.py; here they become Tensor methods with
# the torch-level signature (dim, dtype).
register_method("softmax")(_torch_softmax)
register_method("log_softmax")(_torch_log_softmax)
