"""``torch.fft``: discrete Fourier transforms, differentiable in both modes.

Every transform is one of the primitives of ``ops/spectral.py`` (complex-to-complex, real-to-
complex, complex-to-real) after the input is fitted to ``n`` / ``s`` (zero-padded or trimmed);
``hfft`` and ``ihfft`` are ``irfft`` and ``rfft`` of the conjugate with the dual norm. Dtypes
follow PyTorch: integer input computes in the default float dtype, float32 gives complex64,
float64 complex128; half precision is refused as on PyTorch's CPU.

>>> import retrograd as torch
>>> torch.fft.fft(torch.tensor([1., 2., 3., 4.]))
tensor([10.+0.j, -2.+2.j, -2.+0.j, -2.-2.j])
"""

from __future__ import annotations

import numpy as np

from . import _dtype as dtypes
from ._tensor import Tensor, wrap
from .ops._core import replayable
from .ops.complex import complex as _complex
from .ops.complex import conj as _conj
from .ops.rearrange import roll as _roll
from .ops.spectral import C2C, C2R, R2C, FftFit, dual

__all__ = ["fft", "fft2", "fftfreq", "fftn", "fftshift", "hfft", "hfft2", "hfftn", "ifft",
           "ifft2", "ifftn", "ifftshift", "ihfft", "ihfft2", "ihfftn", "irfft", "irfft2",
           "irfftn", "rfft", "rfft2", "rfftfreq", "rfftn"]

_NORMS = ("backward", "forward", "ortho")


# ---------------------------------------------------------------------- argument checks

def _norm(norm) -> str:
    if norm is None:
        return "backward"
    if norm not in _NORMS:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm


def _wrap_dim(dim: int, ndim: int) -> int:
    if ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    lo, hi = -max(ndim, 1), max(ndim, 1) - 1
    if not lo <= dim <= hi:
        raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], "
                         f"but got {dim})")
    return dim % max(ndim, 1)


def _dims_and_sizes(x: Tensor, s, dim) -> tuple[tuple, tuple]:
    """The transformed dims and the signal size wanted along each (``s`` as PyTorch: None
    keeps sizes, -1 keeps one size; without ``dim`` it means the last ``len(s)`` dims)."""
    ndim = x.dim()
    if isinstance(dim, int):
        dim = (dim,)
    if isinstance(s, int):
        s = (s,)
    if dim is None:
        dims = tuple(range(ndim)) if s is None else tuple(range(ndim - len(s), ndim))
        if any(d < 0 for d in dims):
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has "
                               f"{ndim} dimensions.")
    else:
        dims = tuple(_wrap_dim(d, ndim) for d in dim)
        if len(set(dims)) != len(dims):
            raise RuntimeError("FFT dims must be unique")
        if s is not None and len(s) != len(dims):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
    shape = x.shape
    sizes = tuple(shape[d] if s is None or s[i] == -1 else int(s[i])
                  for i, d in enumerate(dims))
    for n in sizes:
        if n < 1:
            raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return dims, sizes


def _astype(a, dtype):
    return a.astype(dtype)


def _floating(x: Tensor, name: str) -> Tensor:
    """Integer and bool input computes in the default float dtype; half is refused."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(x).__name__}")
    kind = x._data.dtype.kind
    if kind in "biu":
        return wrap(replayable(_astype, x._data, dtypes.get_default_dtype()._np))
    if x._data.dtype.itemsize < 4 or (kind == "c" and x._data.dtype.itemsize < 8):
        raise RuntimeError("Unsupported dtype Half")
    if x.dtype not in (dtypes.float32, dtypes.float64, dtypes.complex64, dtypes.complex128):
        raise RuntimeError(f"Unsupported dtype {x.dtype}")
    return x


def _as_complex(x: Tensor) -> Tensor:
    """Real input enters a complex transform as x + 0i (its gradient is the real part)."""
    if x._data.dtype.kind == "c":
        return x
    return _complex(x, wrap(replayable(np.zeros_like, x._data)))


def _fit(x: Tensor, dims, sizes) -> Tensor:
    """Zero-pad or trim x to ``sizes`` along ``dims``; x itself when nothing changes."""
    shape = x.shape
    changes = tuple((d, n) for d, n in zip(dims, sizes) if shape[d] != n)
    return FftFit.apply(x, sizes=changes) if changes else x


def _out(result: Tensor, out):
    from .ops._table import out_

    return out_(result, out)


# ---------------------------------------------------------------------- complex to complex

def _c2c(input, s, dim, norm, inverse, name, out):
    x = _as_complex(_floating(input, name))
    dims, sizes = _dims_and_sizes(x, s, dim)
    x = _fit(x, dims, sizes)
    return _out(C2C.apply(x, dims=dims, norm=_norm(norm), inverse=inverse), out)


def fft(input, n=None, dim=-1, norm=None, *, out=None):
    """The one-dimensional DFT along ``dim``, of ``n`` points (zero-padded or trimmed).
    Its gradient is ``ifft`` of grad with the dual norm."""
    return _c2c(input, None if n is None else (n,), (dim,), norm, False, "fft", out)


def ifft(input, n=None, dim=-1, norm=None, *, out=None):
    """The one-dimensional inverse DFT along ``dim``."""
    return _c2c(input, None if n is None else (n,), (dim,), norm, True, "ifft", out)


def fft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """The two-dimensional DFT (over the last two dims by default)."""
    return _c2c(input, s, dim, norm, False, "fft2", out)


def ifft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """The two-dimensional inverse DFT."""
    return _c2c(input, s, dim, norm, True, "ifft2", out)


def fftn(input, s=None, dim=None, norm=None, *, out=None):
    """The N-dimensional DFT over ``dim`` (every dim, or the last ``len(s)``, by default)."""
    return _c2c(input, s, dim, norm, False, "fftn", out)


def ifftn(input, s=None, dim=None, norm=None, *, out=None):
    """The N-dimensional inverse DFT."""
    return _c2c(input, s, dim, norm, True, "ifftn", out)


# ---------------------------------------------------------------------- real input

def _need_axis(dims, name: str) -> None:
    """The halved last dim needs a last dim."""
    if not dims:
        raise RuntimeError(f"{name} must transform at least one axis")


def _r2c(input, s, dim, norm, name):
    x = _floating(input, name)
    if x._data.dtype.kind == "c":
        raise RuntimeError(f"{name.rstrip('2n')} expects a real input tensor, but got "
                           f"{dtypes._torch_scalar_name(x.dtype)}")
    dims, sizes = _dims_and_sizes(x, s, dim)
    _need_axis(dims, name)
    return R2C.apply(_fit(x, dims, sizes), dims=dims, norm=_norm(norm))


def rfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The DFT of a real signal: only the n // 2 + 1 non-negative frequencies (the rest are
    their conjugates). Its gradient zero-pads grad back to n and takes the real part of
    the adjoint transform."""
    return _out(_r2c(input, None if n is None else (n,), (dim,), norm, "rfft"), out)


def rfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """``rfftn`` over two dims."""
    return _out(_r2c(input, s, dim, norm, "rfft2"), out)


def rfftn(input, s=None, dim=None, norm=None, *, out=None):
    """The N-dimensional DFT of a real signal; the last dim of ``dim`` is halved."""
    return _out(_r2c(input, s, dim, norm, "rfftn"), out)


def _c2r(input, s, dim, norm, name):
    """irfftn: the last dim's output length is s[-1], or 2 * (m - 1) from its m inputs."""
    x = _as_complex(_floating(input, name))
    last_given = s is not None and s[-1] != -1
    dims, sizes = _dims_and_sizes(x, s, dim)
    _need_axis(dims, name)
    n = int(s[-1]) if last_given else 2 * (x.shape[dims[-1]] - 1)
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")
    x = _fit(x, dims, sizes[:-1] + (n // 2 + 1,))
    return C2R.apply(x, dims=dims, norm=_norm(norm), n=n)


def irfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The inverse of ``rfft``: a real signal of ``n`` points (2 * (m - 1) by default) from
    m non-negative frequencies. Its gradient is ``rfft`` of grad (dual norm), doubled on
    the frequencies that stand for a conjugate pair."""
    return _out(_c2r(input, None if n is None else (n,), (dim,), norm, "irfft"), out)


def irfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """``irfftn`` over two dims."""
    return _out(_c2r(input, s, dim, norm, "irfft2"), out)


def irfftn(input, s=None, dim=None, norm=None, *, out=None):
    """The inverse of ``rfftn``."""
    return _out(_c2r(input, s, dim, norm, "irfftn"), out)


# ---------------------------------------------------------------------- Hermitian signals

def hfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The DFT of a Hermitian-symmetric signal given by its first half: a real spectrum
    (``irfft`` of the conjugate, with the dual norm)."""
    x = _floating(input, "hfft")
    return _out(_c2r(_conj(x), None if n is None else (n,), (dim,), dual(_norm(norm)),
                     "hfft"), out)


def hfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """``hfftn`` over two dims."""
    return _out(_c2r(_conj(_floating(input, "hfft2")), s, dim, dual(_norm(norm)), "hfft2"),
                out)


def hfftn(input, s=None, dim=None, norm=None, *, out=None):
    """The N-dimensional DFT of a Hermitian-symmetric signal."""
    return _out(_c2r(_conj(_floating(input, "hfftn")), s, dim, dual(_norm(norm)), "hfftn"),
                out)


def _ihfft(input, s, dim, norm, name):
    x = _floating(input, name)
    if x._data.dtype.kind == "c":
        raise RuntimeError(f"{name.rstrip('2n')} expects a real input tensor, but got "
                           f"{dtypes._torch_scalar_name(x.dtype)}")
    return _conj(_r2c(x, s, dim, dual(_norm(norm)), name))


def ihfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The inverse of ``hfft``: the first half of the inverse DFT of a real signal (the
    conjugate of ``rfft`` with the dual norm)."""
    return _out(_ihfft(input, None if n is None else (n,), (dim,), norm, "ihfft"), out)


def ihfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """``ihfftn`` over two dims."""
    return _out(_ihfft(input, s, dim, norm, "ihfft2"), out)


def ihfftn(input, s=None, dim=None, norm=None, *, out=None):
    """The N-dimensional inverse of ``hfftn``."""
    return _out(_ihfft(input, s, dim, norm, "ihfftn"), out)


# ---------------------------------------------------------------------- helpers

def _freq_tensor(values: np.ndarray, dtype, requires_grad: bool) -> Tensor:
    dt = dtypes.get_default_dtype() if dtype is None else dtype
    t = wrap(values.astype(dt._np))
    if requires_grad:
        t.requires_grad_(True)
    return t


def fftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None,
            requires_grad=False):
    """The sample frequencies of an n-point DFT with spacing d: [0, 1, ..., -1] / (d n).

    >>> import retrograd as torch
    >>> torch.fft.fftfreq(4)
    tensor([ 0.0000,  0.2500, -0.5000, -0.2500])
    """
    return _out(_freq_tensor(np.fft.fftfreq(n, d), dtype, requires_grad), out)


def rfftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    """The n // 2 + 1 non-negative sample frequencies of ``rfft``: [0, 1, ...] / (d n)."""
    return _out(_freq_tensor(np.fft.rfftfreq(n, d), dtype, requires_grad), out)


def _shift(input, dim, sign: int):
    if dim is None:
        dim = tuple(range(input.dim()))
    elif isinstance(dim, int):
        dim = (dim,)
    dims = tuple(_wrap_dim(d, input.dim()) for d in dim)
    if not dims:
        return input
    shifts = tuple(sign * (input.shape[d] // 2) for d in dims)
    return _roll(input, shifts, dims)


def fftshift(input, dim=None):
    """Moves the zero frequency to the centre: a roll by n // 2 along each of ``dim``."""
    return _shift(input, dim, 1)


def ifftshift(input, dim=None):
    """The inverse of ``fftshift``: a roll by -(n // 2)."""
    return _shift(input, dim, -1)
