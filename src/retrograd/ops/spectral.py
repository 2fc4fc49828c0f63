"""The discrete Fourier transform as primitives: complex-to-complex, real-to-complex (the
halved spectrum of ``rfft``), complex-to-real (``irfft``), and the zero-pad-or-trim that ``n``
and ``s`` ask for. ``retrograd.fft`` builds the public functions from these.

Every transform here is linear, so its tangent is the same transform of the tangent, and its
gradient is the adjoint transform, itself one of these primitives (double backward comes
free). With ``norm`` one of "backward", "forward", "ortho", a forward transform scaled by c
has the inverse transform scaled by c as adjoint when norm is "ortho", and with "backward" and
"forward" swapped otherwise (``_DUAL``):

    fft:   y = c F x           grad_x = c F^H grad       (an ifft with the dual norm)
    rfft:  y = P c F x         grad_x = real(c F^H P^T grad)   P keeps the first n//2 + 1
    irfft: y = c F^H H x       grad_x = w * rfft(grad)   (dual norm) H: Hermitian extension

where w is 1 for the frequencies H uses once (0, and n/2 for even n) and 2 for those it
mirrors, and real x takes the real part, as PyTorch's convention for real inputs asks.
"""

from __future__ import annotations

import numpy as np

from ..backend import xp
from ._core import Primitive
from .complex import real

__all__ = ["C2C", "C2R", "R2C", "FftFit", "dual"]

_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def dual(norm: str) -> str:
    """The norm of the adjoint transform."""
    return _DUAL[norm]


def _fft_module(x):
    return xp(x).fft


class C2C(Primitive):
    """fftn (or ifftn when ``inverse``) over ``dims`` of complex x.
    d/dx = the opposite transform with the dual norm applied to grad."""

    __slots__ = ("dims", "inverse", "norm")
    _name = "FftC2CBackward0"
    formula = "ifftn(grad, dual norm) for fftn; fftn(grad, dual norm) for ifftn"

    def forward(ctx, x, dims, norm, inverse):
        ctx.dims, ctx.norm, ctx.inverse = dims, norm, inverse
        f = _fft_module(x)
        return (f.ifftn if inverse else f.fftn)(x, axes=dims, norm=norm)

    def backward(ctx, grad):
        return C2C.generic(grad, dims=ctx.dims, norm=dual(ctx.norm), inverse=not ctx.inverse)

    def jvp(ctx, tx):
        return C2C.generic(tx, dims=ctx.dims, norm=ctx.norm, inverse=ctx.inverse)


class R2C(Primitive):
    """rfftn over ``dims`` of real x: the last dim keeps n // 2 + 1 frequencies.
    d/dx = real(ifftn(grad zero-padded to n, dual norm))."""

    __slots__ = ("dims", "n", "norm")
    _name = "FftR2CBackward0"
    formula = "real(ifftn(pad(grad, n), dual norm))"

    def forward(ctx, x, dims, norm):
        ctx.dims, ctx.norm, ctx.n = dims, norm, x.shape[dims[-1]]
        return _fft_module(x).rfftn(x, axes=dims, norm=norm)

    def backward(ctx, grad):
        full = FftFit.generic(grad, sizes=((ctx.dims[-1], ctx.n),))
        return real(C2C.generic(full, dims=ctx.dims, norm=dual(ctx.norm), inverse=True))

    def jvp(ctx, tx):
        return R2C.generic(tx, dims=ctx.dims, norm=ctx.norm)


class C2R(Primitive):
    """irfftn over ``dims`` of complex x to a real signal of length n on the last dim
    (x's last dim is n // 2 + 1).  d/dx = w * rfftn(grad, dual norm), w = 2 on the
    frequencies the Hermitian extension mirrors, 1 on 0 and n/2."""

    __slots__ = ("dims", "n", "ndim", "norm")
    _name = "FftC2RBackward0"
    formula = "w * rfftn(grad, dual norm)"

    def forward(ctx, x, dims, norm, n):
        ctx.dims, ctx.norm, ctx.n, ctx.ndim = dims, norm, n, x.ndim
        sizes = [x.shape[d] for d in dims[:-1]] + [n]
        return _fft_module(x).irfftn(x, s=sizes, axes=dims, norm=norm)

    def backward(ctx, grad):
        spectrum = R2C.generic(grad, dims=ctx.dims, norm=dual(ctx.norm))
        return spectrum * _mirror_weights(ctx.n, ctx.dims[-1], ctx.ndim,
                                          _array(grad).dtype)

    def jvp(ctx, tx):
        return C2R.generic(tx, dims=ctx.dims, norm=ctx.norm, n=ctx.n)


def _array(v):
    return getattr(v, "_data", v)


def _mirror_weights(n: int, axis: int, ndim: int, dtype):
    """1 for the frequencies used once by a real signal of length n (0, and n/2 when n is
    even), 2 for those standing for a conjugate pair; shaped to broadcast along ``axis``."""
    w = np.full(n // 2 + 1, 2.0, dtype=dtype)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    shape = [1] * ndim
    shape[axis] = w.size
    return w.reshape(shape)


class FftFit(Primitive):
    """x zero-padded or trimmed to ``n`` along each ``(axis, n)`` of ``sizes`` (the ``n`` and
    ``s`` arguments of the transforms).  d/dx = grad fitted back to x's sizes (the adjoint
    of padding is trimming, and the other way round)."""

    __slots__ = ("back", "sizes")
    formula = "fit(grad, input sizes)"

    def forward(ctx, x, sizes):
        ctx.sizes = sizes
        ctx.back = tuple((axis, x.shape[axis]) for axis, _ in sizes)
        out_shape = list(x.shape)
        keep = [slice(None)] * x.ndim
        for axis, n in sizes:
            out_shape[axis] = n
            keep[axis] = slice(0, min(n, x.shape[axis]))
        keep = tuple(keep)
        out = xp(x).zeros(out_shape, x.dtype)
        out[keep] = x[keep]
        return out

    def backward(ctx, grad):
        return FftFit.generic(grad, sizes=ctx.back)

    def jvp(ctx, tx):
        return FftFit.generic(tx, sizes=ctx.sizes)
