"""``stft`` and ``istft``: the short-time Fourier transform and its least-squares inverse,
written with differentiable ops (no backward of their own), so gradients, double backward and
forward mode come from the ops they use.

stft: pad the signal by n_fft // 2 on both sides (``center``), cut it into frames of
win_length samples hop_length apart, multiply each by the window, zero-pad it to n_fft with
the window in the middle, and take its DFT (``rfft`` when onesided):

    X[w, m] = sum_k window[k] x[m hop + left + k] exp(-2 pi i w (left + k) / n_fft)

with left = (n_fft - win_length) // 2 (0 in the signal when ``align_to_window``, which starts
frame m at m hop). istft inverts it by Griffin and Lim's least squares: each frame's inverse
DFT times the window, overlap-added, divided by the overlap-added squared window (the
envelope), which must not vanish (NOLA).

Framing and overlap-adding both cut the signal into blocks of hop_length samples: frame m
is blocks m .. m + K - 1 laid end to end (K = ceil(size / hop)), so both are K slices and
pads rather than a gather and a scatter-add.
"""

from __future__ import annotations

import warnings

from .. import _dtype as dtypes
from .._tensor import Tensor
from ._core import checked, register_method, result_dtype
from .complex import complex as _complex
from .complex import view_as_real
from .creation import zeros
from .joining import stack
from .spectral import C2C, C2R, R2C
from .vision import pad

__all__ = ["istft", "stft"]

_NOLA_TOL = 1e-11  # the envelope below this counts as zero, as in PyTorch


# ---------------------------------------------------------------------- framing

def _frames(x: Tensor, hop: int, size: int, count: int) -> Tensor:
    """(..., L) -> (..., count, size): frame m is x[m hop : m hop + size]. Samples past the
    end (zero-padded) only fill block parts that the final trim to ``size`` drops."""
    k = -(-size // hop)
    need = (count + k - 1) * hop
    length = x.shape[-1]
    x = x[..., :need] if length >= need else pad(x, (0, need - length))
    blocks = x.reshape(*x.shape[:-1], count + k - 1, hop)
    if k == 1:
        return blocks[..., :count, :size]
    parts = stack([blocks[..., j:j + count, :] for j in range(k)], dim=-2)
    return parts.reshape(*x.shape[:-1], count, k * hop)[..., :size]


def _overlap_add(frames: Tensor, hop: int) -> Tensor:
    """(..., T, n) -> (..., (T - 1) hop + n): the sum of frame m shifted to m hop, the adjoint
    of ``_frames``. Block j of every frame lands j blocks later: K padded adds."""
    count, n = frames.shape[-2], frames.shape[-1]
    k = -(-n // hop)
    lead = frames.shape[:-2]
    blocks = pad(frames, (0, k * hop - n)).reshape(*lead, count, k, hop)
    total = None
    for j in range(k):
        part = pad(blocks[..., j, :], (0, 0, j, k - 1 - j))
        total = part if total is None else total + part
    return total.reshape(*lead, (count + k - 1) * hop)[..., :(count - 1) * hop + n]


# ---------------------------------------------------------------------- checks

def _tensor_input(name: str, x) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(x).__name__}")
    return x


def _describe(name: str, x: Tensor, n_fft, hop, win_length, window) -> str:
    """The call as PyTorch prints it in errors: the op, shapes and sizes."""
    w = None if window is None else f"{window.dtype}{list(window.shape)}"
    return (f"{name}({x.dtype}{list(x.shape)}, n_fft={n_fft}, hop_length={hop}, "
            f"win_length={win_length}, window={w})")


def _check_window(name: str, x: Tensor, window, n_fft, hop, win_length, message, stacklevel):
    if window is None:
        warnings.warn(message, UserWarning, stacklevel=stacklevel + 1)
        return
    if window.dim() != 1 or window.shape[0] != win_length:
        what = (f"expected a 1D window tensor of size equal to win_length={win_length}, but "
                f"got window with size {list(window.shape)}") if name == "stft" else \
            "Invalid window shape. window has to be 1D and length of `win_length`"
        raise RuntimeError(f"{_describe(name, x, n_fft, hop, win_length, window)} : {what}")


def _fft_dtype(name: str, x: Tensor, window) -> dtypes.dtype:
    """The dtype both input and window compute in (PyTorch promotes them together)."""
    dt = result_dtype((x, window)) if window is not None else x.dtype
    if dt not in (dtypes.float32, dtypes.float64, dtypes.complex64, dtypes.complex128):
        raise RuntimeError(f"{name}: unsupported dtype {dt}: the FFT takes float32, float64, "
                           f"complex64 or complex128 tensors")
    return dt


def _cast(t: Tensor, dt: dtypes.dtype) -> Tensor:
    """t in dtype dt; real to complex as t + 0i, whose gradient is the real part of grad."""
    if t.dtype == dt:
        return t
    if dt.is_complex and not t.is_complex():
        return _complex(t.to(dt.to_real()), zeros((), dtype=dt.to_real(), device=t.device))
    return t.to(dt)


def _padded_window(window, win_length: int, n_fft: int, left: int):
    """The window zero-padded to n_fft with ``left`` zeros first (None: rectangular)."""
    if window is None or win_length == n_fft:
        return window
    return pad(window, (left, n_fft - win_length - left))


# ---------------------------------------------------------------------- stft

@register_method("stft")
def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
         pad_mode="reflect", normalized=False, onesided=None, return_complex=None,
         align_to_window=None):
    """The short-time Fourier transform of a (batch of) signal(s): (B?, L) -> (B?, N, T),
    N = n_fft // 2 + 1 when onesided, n_fft otherwise; T frames hop_length apart.

    >>> import retrograd as torch
    >>> torch.stft(torch.ones(8), 4, window=torch.ones(4), return_complex=True).shape
    torch.Size([3, 9])
    """
    x = _tensor_input("stft", input)
    if not x.is_complex() and return_complex is None:
        raise RuntimeError("stft requires the return_complex parameter be given for real "
                           "inputs, and will further require that return_complex=True in a "
                           "future PyTorch release.")
    if return_complex is False:
        warnings.warn("stft with return_complex=False is deprecated. In a future pytorch "
                      "release, stft will return complex tensors for all inputs, and "
                      "return_complex=False will raise an error.\nNote: you can still call "
                      "torch.view_as_real on the complex output to recover the old return "
                      "format.", UserWarning, stacklevel=2)
    if center and align_to_window is not None:
        raise RuntimeError("stft align_to_window should only be set when center = false")
    hop = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    if x.dim() not in (1, 2):
        raise RuntimeError(f"{_describe('stft', x, n_fft, hop, win_length, window)} : "
                           f"expected a 1D or 2D tensor")
    if not (x.is_floating_point() or x.is_complex()):
        raise RuntimeError(f"{_describe('stft', x, n_fft, hop, win_length, window)} : "
                           f"expected a tensor of floating point or complex values")
    xb = x if x.dim() == 2 else x.unsqueeze(0)
    if center:
        # As a (1, B, L) batch, so reflect padding sees one padded dim.
        p = n_fft // 2
        xb = pad(xb.unsqueeze(0), (p, p), mode=pad_mode).squeeze(0)
    frames = _stft_frames(xb, n_fft, hop, win_length, window, bool(align_to_window))
    complex_in = x.is_complex() or (window is not None and window.is_complex())
    if onesided is None:
        onesided = not complex_in
    elif onesided and complex_in:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    norm = "ortho" if normalized else "backward"
    if onesided:
        spectrum = R2C.apply(frames, dims=(frames.dim() - 1,), norm=norm)
    else:
        frames = _cast(frames, frames.dtype.to_complex())
        spectrum = C2C.apply(frames, dims=(frames.dim() - 1,), norm=norm, inverse=False)
    out = spectrum.transpose(-1, -2)
    if x.dim() == 1:
        out = out.squeeze(0)
    keep_complex = return_complex if return_complex is not None else True
    return out if keep_complex else view_as_real(out)


def _stft_frames(xb: Tensor, n_fft, hop, win_length, window, align) -> Tensor:
    """The windowed frames (B, T, n_fft) of the (padded) batch xb."""
    length = xb.shape[-1]
    span = win_length if align else n_fft
    if n_fft <= 0 or span > length:
        raise RuntimeError(f"{_describe('stft', xb, n_fft, hop, win_length, window)} : "
                           f"expected 0 < n_fft <= {length}, but got n_fft={n_fft}"
                           f"{' (win_length, as align_to_window is set)' if align else ''}")
    if hop <= 0:
        raise RuntimeError(f"{_describe('stft', xb, n_fft, hop, win_length, window)} : "
                           f"expected hop_length > 0, but got hop_length={hop}")
    if not 0 < win_length <= n_fft:
        raise RuntimeError(f"{_describe('stft', xb, n_fft, hop, win_length, window)} : "
                           f"expected 0 < win_length <= n_fft, but got win_length={win_length}")
    _check_window("stft", xb, window, n_fft, hop, win_length,
                  "A window was not provided. A rectangular window will be applied,which is "
                  "known to cause spectral leakage. Other windows such as torch.hann_window or "
                  "torch.hamming_window are recommended to reduce spectral leakage.To "
                  "suppress this warning and use a rectangular window, explicitly set "
                  "`window=torch.ones(n_fft, device=<device>)`.", stacklevel=3)
    dt = _fft_dtype("stft", xb, window)
    xb = _cast(xb, dt)
    if window is not None:
        window = _cast(window, dt)
    left = (n_fft - win_length) // 2
    count = 1 + (length - span) // hop
    frames = _frames(xb if align else xb[..., left:], hop, win_length, count)
    if window is not None:
        frames = frames * window
    if win_length < n_fft:
        frames = pad(frames, (left, n_fft - win_length - left))
    return frames


# ---------------------------------------------------------------------- istft

@register_method("istft")
def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
          normalized=False, onesided=None, length=None, return_complex=False):
    """The inverse of ``stft``: (B?, N, T) complex -> (B?, length), the least-squares signal
    whose stft is closest to ``input`` (Griffin and Lim), for a window that satisfies NOLA.

    >>> import retrograd as torch
    >>> x = torch.arange(8.)
    >>> w = torch.hann_window(4)
    >>> s = torch.stft(x, 4, hop_length=1, window=w, return_complex=True)
    >>> torch.istft(s, 4, hop_length=1, window=w, length=8)
    tensor([0., 1., 2., 3., 4., 5., 6., 7.])
    """
    x = _tensor_input("istft", input)
    if not x.is_complex():
        raise RuntimeError("istft requires a complex-valued input tensor matching the output "
                           "from stft with return_complex=True.")
    hop = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    where = _describe("istft", x, n_fft, hop, win_length, window)
    if x.dim() < 2:
        # PyTorch looks for the frequency dim at -3 of the real view: an IndexError.
        raise IndexError(f"{where} : expected a 2D (N, T) or 3D (B, N, T) tensor, but got "
                         f"{x.dim()}D")
    if x.dim() > 3:
        raise RuntimeError(f"{where} : expected a tensor with 3 or 4 dimensions, but got "
                           f"{x.dim() + 1} (counting the real and imaginary parts)")
    if not 0 < hop <= win_length:
        raise RuntimeError(f"{where} : expected 0 < hop_length <= win_length")
    if not 0 < win_length <= n_fft:
        raise RuntimeError(f"{where} : expected 0 < win_length <= n_fft")
    _check_window("istft", x, window, n_fft, hop, win_length,
                  "A window was not provided. A rectangular window will be applied.Please "
                  "provide the same window used by stft to make the inversion lossless.To "
                  "suppress this warning and use a rectangular window, explicitly set "
                  "`window=torch.ones(n_fft, device=<device>)`.", stacklevel=2)
    n_freq, count = x.shape[-2], x.shape[-1]
    if onesided is None:
        onesided = n_freq != n_fft
    if onesided and n_freq != n_fft // 2 + 1:
        raise RuntimeError(f"{where} : expected the frequency dimension (3rd to the last) of "
                           f"the input tensor to match n_fft / 2 + 1 when onesided=True, but "
                           f"got {n_freq}")
    if not onesided and n_freq != n_fft:
        raise RuntimeError(f"{where} : expected the frequency dimension (3rd to the last) of "
                           f"the input tensor to match n_fft when onesided=False, but got "
                           f"{n_freq}")
    if return_complex and onesided:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    if not return_complex and window is not None and window.is_complex():
        raise RuntimeError("Complex windows are incompatible with return_complex=False")
    if count == 0:
        raise RuntimeError(f"{where} : input tensor cannot be empty.")
    dt = _fft_dtype("istft", x, window)
    x = _cast(x, dt)
    if window is not None:
        window = _cast(window, dt if window.is_complex() else dt.to_real())
    frames = _istft_frames(x, n_fft, normalized, return_complex)
    left = (n_fft - win_length) // 2
    window = _padded_window(window, win_length, n_fft, left)
    if window is None:
        window = frames.new_ones(win_length, dtype=dt.to_real())
        window = _padded_window(window, win_length, n_fft, left)
    signal = _overlap_add(frames * window, hop)
    # window^2, not |window|^2, for a complex window too: stft multiplies by the window
    # itself, so this is what undoes it exactly (and what PyTorch computes).
    envelope = _overlap_add((window * window).expand(count, n_fft), hop)
    return _normalise(signal, envelope, n_fft, center, length, where)


def _istft_frames(x: Tensor, n_fft: int, normalized: bool, return_complex: bool) -> Tensor:
    """Each frame's inverse DFT: (B?, N, T) -> (B?, T, n_fft); real (irfft of the first
    n_fft // 2 + 1 bins) unless ``return_complex``."""
    spectra = x.transpose(-1, -2)
    norm = "ortho" if normalized else "backward"
    last = (spectra.dim() - 1,)
    if return_complex:
        return C2C.apply(spectra, dims=last, norm=norm, inverse=True)
    half = n_fft // 2 + 1
    if spectra.shape[-1] != half:
        spectra = spectra[..., :half]
    return C2R.apply(spectra, dims=last, norm=norm, n=n_fft)


def _nola(envelope) -> bool:
    """The nonzero overlap-add condition: the window envelope is nowhere below the tolerance."""
    return bool(abs(envelope).min() >= _NOLA_TOL)


def _normalise(signal: Tensor, envelope: Tensor, n_fft: int, center: bool, length, where):
    """Trim the centre padding (or to ``length``), divide by the window envelope, and pad
    with zeros to ``length`` when the frames do not reach it."""
    total = signal.shape[-1]
    start = n_fft // 2 if center else 0
    end = (total - n_fft // 2 if center else total) if length is None else start + length
    signal, envelope = signal[..., start:end], envelope[start:end]
    if envelope.numel() == 0:
        raise RuntimeError(f"{where} : no samples are left once the {start} samples of centre "
                           f"padding are removed; give the length of the signal")
    if not checked(_nola, envelope._data):  # a guard of a captured step, not a value read
        smallest = float(envelope.detach().abs().min())
        raise RuntimeError(f"{where} : the window overlap-add envelope is {smallest:.3g} at "
                           f"some sample (below {_NOLA_TOL}): the window and hop_length do not "
                           f"satisfy the nonzero overlap-add (NOLA) condition")
    signal = signal / envelope
    if length is not None and signal.shape[-1] < length:
        warnings.warn("The length of signal is shorter than the length parameter. Result is "
                      "being padded with zeros in the tail. Please check your center and "
                      "hop_length settings.", UserWarning, stacklevel=3)
        signal = pad(signal, (0, length - signal.shape[-1]))
    return signal
