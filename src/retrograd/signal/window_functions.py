"""The top-level window functions ``torch.hann_window``, ``hamming_window``,
``blackman_window``, ``bartlett_window`` and ``kaiser_window``: periodic by default (ready for
``stft``), any floating dtype, and a leaf tensor when ``requires_grad``.

Their values are ``torch.signal.windows``' (periodic=True is sym=False), computed in float64
and rounded once to the dtype asked for, so half precision gets the correctly rounded window.

>>> import retrograd as torch
>>> torch.hann_window(4)
tensor([0.0000, 0.5000, 1.0000, 0.5000])
"""

from __future__ import annotations

import operator

from .. import _dtype as dtypes
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..ops.legacy_types import strided
from . import windows

__all__ = ["bartlett_window", "blackman_window", "hamming_window", "hann_window",
           "kaiser_window"]


def _make(name: str, window_length, periodic, dtype, layout, device, requires_grad,
          values) -> Tensor:
    """Check the arguments as PyTorch does (RuntimeError, naming the function), then
    ``values(M, sym)`` in float64, cast to ``dtype``."""
    if isinstance(window_length, bool) or not hasattr(window_length, "__index__"):
        raise TypeError(f"{name}(): argument 'window_length' (position 1) must be int, not "
                        f"{type(window_length).__name__}")
    m = operator.index(window_length)
    if m < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={m}")
    if layout is not None and layout is not strided:
        raise RuntimeError(f"{name} is not implemented for sparse types, got: {layout}")
    dt = dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)
    if dt.is_complex:
        raise NotImplementedError(f"{name} is not implemented for complex dtypes, got: {dt}")
    if not dt.is_floating_point:
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dt}")
    with no_grad():
        w = values(m, not periodic, dtype=dtypes.float64, device=device)
    return w.to(dt).requires_grad_(requires_grad)


def hann_window(window_length, periodic=True, *, dtype=None, layout=strided, device=None,
                pin_memory=False, requires_grad=False) -> Tensor:
    """The Hann window, w[n] = sin^2(pi n / (N - 1)), N = window_length (+1 when periodic)."""
    return _make("hann_window", window_length, periodic, dtype, layout, device, requires_grad,
                 lambda m, sym, **kw: windows.hann(m, sym=sym, **kw))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None,
                   layout=strided, device=None, pin_memory=False,
                   requires_grad=False) -> Tensor:
    """The Hamming window, w[n] = alpha - beta cos(2 pi n / (N - 1))."""
    return _make("hamming_window", window_length, periodic, dtype, layout, device,
                 requires_grad,
                 lambda m, sym, **kw: windows.general_cosine(m, a=[alpha, beta], sym=sym, **kw))


def blackman_window(window_length, periodic=True, *, dtype=None, layout=strided, device=None,
                    pin_memory=False, requires_grad=False) -> Tensor:
    """The Blackman window, 0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))."""
    return _make("blackman_window", window_length, periodic, dtype, layout, device,
                 requires_grad, lambda m, sym, **kw: windows.blackman(m, sym=sym, **kw))


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=strided, device=None,
                    pin_memory=False, requires_grad=False) -> Tensor:
    """The triangular window, w[n] = 1 - |2n / (N - 1) - 1|."""
    return _make("bartlett_window", window_length, periodic, dtype, layout, device,
                 requires_grad, lambda m, sym, **kw: windows.bartlett(m, sym=sym, **kw))


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=strided,
                  device=None, pin_memory=False, requires_grad=False) -> Tensor:
    """The Kaiser window, w[n] = I0(beta sqrt(1 - (2n / (N - 1) - 1)^2)) / I0(beta). I0 is
    even, so a negative beta gives the window of |beta| (PyTorch takes it unchecked here)."""
    return _make("kaiser_window", window_length, periodic, dtype, layout, device,
                 requires_grad,
                 lambda m, sym, **kw: windows.kaiser(m, beta=abs(beta), sym=sym, **kw))
