"""``torch.signal.windows``: the window functions of spectral analysis, as in SciPy's
``scipy.signal.windows`` and with PyTorch's arguments (``sym``, ``dtype``, ``layout``,
``device``, ``requires_grad``).

Each window is an expression of the sample positions ``k = 0, 1, ..., N - 1`` written with
tensor ops, so ``requires_grad=True`` records how the window was computed from those positions
(as PyTorch does: the result is not a leaf). A symmetric window (``sym=True``, for filter
design) of length M uses N = M; a periodic one (``sym=False``, for spectral analysis) is the
symmetric window of length M + 1 without its last sample.

>>> import retrograd as torch
>>> torch.signal.windows.hann(5)
tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable

from .. import _dtype as dtypes
from .._tensor import Tensor
from ..ops.creation import arange, full, ones
from ..ops.legacy_types import strided

__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine",
           "general_hamming", "hamming", "hann", "kaiser", "nuttall"]

# Nuttall's minimum 4-term Blackman-Harris coefficients (as in SciPy).
_NUTTALL = (0.3635819, 0.4891775, 0.1365995, 0.0106411)
_BLACKMAN = (0.42, 0.5, 0.08)


# ---------------------------------------------------------------------- shared checks

def _check_options(name: str, M, dtype, layout):
    """M as an int and the window's dtype, after PyTorch's checks (ValueError, naming the
    window function)."""
    if isinstance(M, Tensor):
        M = M.item()
    try:
        M = operator.index(M)
    except TypeError:
        raise TypeError(f"{name}(): argument 'M' must be int, not {type(M).__name__}") from None
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not None and layout is not strided:
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    dt = dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)
    if dt not in (dtypes.float32, dtypes.float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dt}")
    return M, dt


def _build(name: str, M, sym, dtype, layout, device, requires_grad,
           values: Callable[[Tensor, int], Tensor]) -> Tensor:
    """The window ``values(k, N)`` over positions k = 0..N-1 (N = M, or M + 1 trimmed back to
    M when periodic). Lengths 0 and 1 need no formula: empty, and a single 1."""
    M, dt = _check_options(name, M, dtype, layout)
    if M <= 1:
        return ones(M, dtype=dt, device=device, requires_grad=requires_grad)
    n = M if sym else M + 1
    k = arange(n, dtype=dt, device=device, requires_grad=requires_grad)
    w = values(k, n)
    return w if sym else w[:M]


def _coefficients(a) -> tuple[float, ...]:
    if isinstance(a, (str, bytes)) or not isinstance(a, Iterable):
        raise TypeError("Coefficients must be a list/tuple")
    a = tuple(float(c) for c in a)
    if not a:
        raise ValueError("Coefficients cannot be empty")
    return a


def _cosine_sum(a: tuple[float, ...]):
    """w(k) = sum_i (-1)^i a_i cos(2 pi i k / (N - 1))."""

    def values(k: Tensor, n: int) -> Tensor:
        phase = k * (2 * math.pi / (n - 1))
        w = None
        for i, c in enumerate(a):
            term = (phase * i).cos() * (c if i % 2 == 0 else -c)
            w = term if w is None else w + term
        return w

    return values


# ---------------------------------------------------------------------- the windows

def general_cosine(M, *, a, sym=True, dtype=None, layout=strided, device=None,
                   requires_grad=False) -> Tensor:
    """The generic weighted sum of cosines w[k] = sum_i (-1)^i a_i cos(2 pi i k / (M - 1)).

    >>> import retrograd as torch
    >>> torch.signal.windows.general_cosine(3, a=[0.5, 0.5])
    tensor([0., 1., 0.])
    """
    a = _coefficients(a)
    return _build("general_cosine", M, sym, dtype, layout, device, requires_grad,
                  _cosine_sum(a))


def general_hamming(M, *, alpha=0.54, sym=True, dtype=None, layout=strided, device=None,
                    requires_grad=False) -> Tensor:
    """w[k] = alpha - (1 - alpha) cos(2 pi k / (M - 1)): Hann at 0.5, Hamming at 0.54."""
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)


def hann(M, *, sym=True, dtype=None, layout=strided, device=None,
         requires_grad=False) -> Tensor:
    """The Hann window, w[k] = sin^2(pi k / (M - 1))."""
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def hamming(M, *, sym=True, dtype=None, layout=strided, device=None,
            requires_grad=False) -> Tensor:
    """The Hamming window, w[k] = 0.54 - 0.46 cos(2 pi k / (M - 1))."""
    return general_hamming(M, alpha=0.54, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def blackman(M, *, sym=True, dtype=None, layout=strided, device=None,
             requires_grad=False) -> Tensor:
    """The Blackman window: cosine coefficients (0.42, 0.5, 0.08)."""
    return _build("blackman", M, sym, dtype, layout, device, requires_grad,
                  _cosine_sum(_BLACKMAN))


def nuttall(M, *, sym=True, dtype=None, layout=strided, device=None,
            requires_grad=False) -> Tensor:
    """Nuttall's minimum 4-term Blackman-Harris window."""
    return general_cosine(M, a=_NUTTALL, sym=sym, dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)


def bartlett(M, *, sym=True, dtype=None, layout=strided, device=None,
             requires_grad=False) -> Tensor:
    """The triangular window that reaches zero at both ends, w[k] = 1 - |2k / (M - 1) - 1|."""
    return _build("bartlett", M, sym, dtype, layout, device, requires_grad,
                  lambda k, n: 1 - (k * (2 / (n - 1)) - 1).abs())


def cosine(M, *, sym=True, dtype=None, layout=strided, device=None,
           requires_grad=False) -> Tensor:
    """The sine window, w[k] = sin(pi (k + 1/2) / M)."""
    return _build("cosine", M, sym, dtype, layout, device, requires_grad,
                  lambda k, n: ((k + 0.5) * (math.pi / n)).sin())


def exponential(M, *, center=None, tau=1.0, sym=True, dtype=None, layout=strided, device=None,
                requires_grad=False) -> Tensor:
    """The Poisson window, w[k] = exp(-|k - center| / tau); ``center`` defaults to the middle
    (and may be given only for a periodic window)."""
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")

    def values(k, n):
        middle = (n - 1) / 2 if center is None else center
        return (-(k - middle).abs() / tau).exp()

    return _build("exponential", M, sym, dtype, layout, device, requires_grad, values)


def gaussian(M, *, std=1.0, sym=True, dtype=None, layout=strided, device=None,
             requires_grad=False) -> Tensor:
    """The Gaussian window, w[k] = exp(-(k - (M - 1) / 2)^2 / (2 std^2))."""
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    return _build("gaussian", M, sym, dtype, layout, device, requires_grad,
                  lambda k, n: (-(((k - (n - 1) / 2) / std) ** 2) / 2).exp())


def kaiser(M, *, beta=12.0, sym=True, dtype=None, layout=strided, device=None,
           requires_grad=False) -> Tensor:
    """The Kaiser window, w[k] = I0(beta sqrt(1 - (2k / (M - 1) - 1)^2)) / I0(beta)."""
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    return _build("kaiser", M, sym, dtype, layout, device, requires_grad,
                  lambda k, n: kaiser_values(k, n, beta))


def kaiser_values(k: Tensor, n: int, beta: float) -> Tensor:
    """I0(beta sqrt(1 - r^2)) / I0(beta) with r = 2k / (n - 1) - 1; 1 - r^2 is clamped at 0
    because rounding can push it just below at the ends."""
    r = k * (2 / (n - 1)) - 1
    peak = full((), float(beta), dtype=k.dtype, device=k.device).i0()
    return ((1 - r * r).clamp(min=0).sqrt() * beta).i0() / peak
