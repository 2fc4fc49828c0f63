"""retrograd.signal.windows and the top-level *_window functions against torch and
scipy.signal.windows; stft and istft against torch (values, gradients, double backward,
forward mode, errors)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal.windows as sw
import torch
from helpers import both_raise
from hypothesis import given, settings
from hypothesis import strategies as st
from optable import OpCase

import retrograd

# ---------------------------------------------------------------------- windows

# name -> (keyword parameters, SciPy's call with those parameters)
WINDOWS = {
    "bartlett": ({}, lambda M, sym: sw.bartlett(M, sym=sym)),
    "blackman": ({}, lambda M, sym: sw.blackman(M, sym=sym)),
    "cosine": ({}, lambda M, sym: sw.cosine(M, sym=sym)),
    "exponential": ({"tau": 2.5}, lambda M, sym: sw.exponential(M, tau=2.5, sym=sym)),
    "gaussian": ({"std": 1.7}, lambda M, sym: sw.gaussian(M, 1.7, sym=sym)),
    "general_cosine": ({"a": [0.4, 0.35, 0.25]},
                       lambda M, sym: sw.general_cosine(M, [0.4, 0.35, 0.25], sym=sym)),
    "general_hamming": ({"alpha": 0.6}, lambda M, sym: sw.general_hamming(M, 0.6, sym=sym)),
    "hamming": ({}, lambda M, sym: sw.hamming(M, sym=sym)),
    "hann": ({}, lambda M, sym: sw.hann(M, sym=sym)),
    "kaiser": ({"beta": 7.0}, lambda M, sym: sw.kaiser(M, 7.0, sym=sym)),
    "nuttall": ({}, lambda M, sym: sw.nuttall(M, sym=sym)),
}


def _window(lib, name, M, **kw):
    return getattr(lib.signal.windows, name)(M, **kw)


@pytest.mark.parametrize("name", sorted(WINDOWS))
@pytest.mark.parametrize("M", [0, 1, 2, 7, 10])
@pytest.mark.parametrize("sym", [True, False])
def test_window_matches_scipy_and_torch(name, M, sym):
    params, ref = WINDOWS[name]
    for dtype, tol in (("float64", 1e-12), ("float32", 1e-6)):
        r = _window(retrograd, name, M, sym=sym, dtype=getattr(retrograd, dtype), **params)
        t = _window(torch, name, M, sym=sym, dtype=getattr(torch, dtype), **params)
        assert str(r.dtype) == str(t.dtype) == f"torch.{dtype}"
        assert tuple(r.shape) == tuple(t.shape) == (M,)
        np.testing.assert_allclose(r.numpy(), t.numpy(), atol=tol)
        np.testing.assert_allclose(r.numpy(), ref(M, sym), atol=tol)


@settings(max_examples=30, deadline=None)
@given(M=st.integers(2, 40), sym=st.booleans(), p=st.floats(0.05, 20.0),
       alpha=st.floats(0.0, 1.0))
def test_window_parameters_match_scipy(M, sym, p, alpha):
    """Any length and any valid shape parameter gives SciPy's window."""
    W = retrograd.signal.windows
    f64 = {"sym": sym, "dtype": retrograd.float64}
    pairs = [
        (W.gaussian(M, std=p, **f64), sw.gaussian(M, p, sym=sym)),
        (W.kaiser(M, beta=p, **f64), sw.kaiser(M, p, sym=sym)),
        (W.exponential(M, tau=p, **f64), sw.exponential(M, tau=p, sym=sym)),
        (W.general_hamming(M, alpha=alpha, **f64), sw.general_hamming(M, alpha, sym=sym)),
        (W.general_cosine(M, a=[alpha, p, 1.0], **f64),
         sw.general_cosine(M, [alpha, p, 1.0], sym=sym)),
    ]
    if not sym:
        pairs.append((W.exponential(M, center=p, tau=2.0, **f64),
                      sw.exponential(M, center=p, tau=2.0, sym=False)))
    for r, ref in pairs:
        np.testing.assert_allclose(r.numpy(), ref, rtol=1e-9, atol=1e-12)


def test_window_default_dtype_device_and_layout():
    w = retrograd.signal.windows.hann(4, device="cpu", layout=retrograd.strided)
    assert w.dtype == retrograd.float32 and w.device == retrograd.device("cpu")
    retrograd.set_default_dtype(retrograd.float64)
    try:
        assert retrograd.signal.windows.cosine(3).dtype == retrograd.float64
    finally:
        retrograd.set_default_dtype(retrograd.float32)


def test_window_requires_grad_records_the_computation():
    """As in PyTorch, requires_grad records how the window is made from its positions: the
    result takes part in autograd but is not a leaf (lengths 0 and 1 are leaves)."""
    for lib in (retrograd, torch):
        w = lib.signal.windows.kaiser(5, beta=3.0, requires_grad=True)
        assert w.requires_grad and not w.is_leaf
        assert lib.signal.windows.hann(1, requires_grad=True).is_leaf
        assert lib.signal.windows.hann(0, requires_grad=True).requires_grad
    w = retrograd.signal.windows.gaussian(6, std=2.0, sym=False, requires_grad=True)
    (w * w).sum().backward()  # runs back to the hidden positions without error


@pytest.mark.parametrize(("call", "cls"), [
    (lambda W, T: W.hann(-1), ValueError),
    (lambda W, T: W.bartlett(-3), ValueError),
    (lambda W, T: W.kaiser(3, dtype=T.int64), ValueError),
    (lambda W, T: W.cosine(3, dtype=T.float16), ValueError),
    (lambda W, T: W.nuttall(3, dtype=T.complex64), ValueError),
    (lambda W, T: W.exponential(3, tau=0.0), ValueError),
    (lambda W, T: W.exponential(3, center=1.0), ValueError),
    (lambda W, T: W.gaussian(3, std=-1.0), ValueError),
    (lambda W, T: W.kaiser(3, beta=-0.5), ValueError),
    (lambda W, T: W.general_cosine(3, a=None), TypeError),
    (lambda W, T: W.general_cosine(3, a=[]), ValueError),
    (lambda W, T: W.general_cosine(3), TypeError),
    (lambda W, T: W.hann(4.0), TypeError),
])
def test_window_errors_match_torch(call, cls):
    errs = both_raise(lambda lib: call(lib.signal.windows, lib))
    assert isinstance(errs[1], cls)


def test_window_error_names_the_function():
    with pytest.raises(ValueError, match="kaiser requires non-negative window length, got M=-2"):
        retrograd.signal.windows.kaiser(-2)
    with pytest.raises(ValueError, match=r"general_cosine expects float32 or float64 dtypes, "
                                         r"got: torch\.int32"):
        retrograd.signal.windows.hamming(2, dtype=retrograd.int32)


class _Sparse:
    def __repr__(self):
        return "torch.sparse_coo"


def test_window_refuses_other_layouts():
    with pytest.raises(ValueError, match=r"strided tensors only, got: torch\.sparse_coo"):
        retrograd.signal.windows.blackman(3, layout=_Sparse())


TOP = ["hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"]


@pytest.mark.parametrize("name", TOP)
@pytest.mark.parametrize("M", [0, 1, 2, 9])
@pytest.mark.parametrize("periodic", [True, False])
def test_top_level_window_matches_torch(name, M, periodic):
    for dtype, tol in (("float64", 1e-12), ("float32", 1e-6), ("float16", 2e-3)):
        r = getattr(retrograd, name)(M, periodic, dtype=getattr(retrograd, dtype))
        t = getattr(torch, name)(M, periodic, dtype=getattr(torch, dtype))
        assert str(r.dtype) == str(t.dtype) and tuple(r.shape) == tuple(t.shape)
        np.testing.assert_allclose(r.float().numpy(), t.float().numpy(), atol=tol)
    r, t = getattr(retrograd, name)(M), getattr(torch, name)(M)  # periodic by default
    np.testing.assert_allclose(r.numpy(), t.numpy(), atol=1e-6)


def test_top_level_window_parameters_and_leaf():
    r, t = retrograd.hamming_window(7, False, 0.5, 0.3), torch.hamming_window(7, False, 0.5, 0.3)
    np.testing.assert_allclose(r.numpy(), t.numpy(), atol=1e-6)
    r, t = retrograd.kaiser_window(7, True, 3.5), torch.kaiser_window(7, True, 3.5)
    np.testing.assert_allclose(r.numpy(), t.numpy(), atol=1e-6)
    np.testing.assert_allclose(retrograd.kaiser_window(6, beta=2.0).numpy(),
                               sw.kaiser(6, 2.0, sym=False), atol=1e-6)
    w = retrograd.hann_window(8, requires_grad=True)
    assert w.is_leaf and w.requires_grad
    (w * 2).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), np.full(8, 2.0))


@pytest.mark.parametrize(("call", "cls"), [
    (lambda T: T.hann_window(-1), RuntimeError),
    (lambda T: T.blackman_window(4, dtype=T.int64), RuntimeError),
    (lambda T: T.kaiser_window(4, dtype=T.complex64), NotImplementedError),
    (lambda T: T.bartlett_window(4.0), TypeError),
    (lambda T: T.hamming_window(True), TypeError),
])
def test_top_level_window_errors_match_torch(call, cls):
    errs = both_raise(call)
    assert isinstance(errs[1], cls)


# ---------------------------------------------------------------------- stft / istft

def stft_np(x, n_fft, hop=None, win_length=None, window=None, center=True, pad_mode="reflect",
            normalized=False, onesided=None, align=False):
    """The STFT by its definition, in NumPy: frames gathered by index, windowed, zero-padded
    to n_fft with the window centred, transformed."""
    hop = hop or n_fft // 4
    win_length = win_length or n_fft
    w = np.ones(win_length) if window is None else window
    if center:
        modes = {"reflect": "reflect", "constant": "constant", "replicate": "edge",
                 "circular": "wrap"}
        x = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(n_fft // 2, n_fft // 2)], mode=modes[pad_mode])
    left = (n_fft - win_length) // 2
    span, offset = (win_length, 0) if align else (n_fft, left)
    count = 1 + (x.shape[-1] - span) // hop
    idx = np.arange(count)[:, None] * hop + offset + np.arange(win_length)
    frames = np.zeros(x.shape[:-1] + (count, n_fft), np.result_type(x, w))
    frames[..., left:left + win_length] = x[..., idx] * w
    if onesided is None:
        onesided = not (np.iscomplexobj(x) or np.iscomplexobj(w))
    norm = "ortho" if normalized else "backward"
    spec = np.fft.rfft(frames, norm=norm) if onesided else np.fft.fft(frames, norm=norm)
    return np.swapaxes(spec, -1, -2)


def istft_np(X, n_fft, hop=None, win_length=None, window=None, center=True, normalized=False,
             length=None):
    """Griffin-Lim's inverse by its definition, in NumPy, with a loop over frames (real
    output; onesided input or the first n_fft // 2 + 1 bins of a two-sided one)."""
    hop = hop or n_fft // 4
    win_length = win_length or n_fft
    w = np.zeros(n_fft)
    left = (n_fft - win_length) // 2
    w[left:left + win_length] = np.ones(win_length) if window is None else window
    norm = "ortho" if normalized else "backward"
    frames = np.fft.irfft(np.swapaxes(X, -1, -2)[..., :n_fft // 2 + 1], n=n_fft, norm=norm)
    count = X.shape[-1]
    total = n_fft + hop * (count - 1)
    y, env = np.zeros(X.shape[:-2] + (total,)), np.zeros(total)
    for m in range(count):
        y[..., m * hop:m * hop + n_fft] += frames[..., m, :] * w
        env[m * hop:m * hop + n_fft] += w * w
    start = n_fft // 2 if center else 0
    end = (total - start) if length is None else start + length
    y = y[..., start:end] / env[start:end]
    if length is not None and y.shape[-1] < length:
        y = np.concatenate([y, np.zeros(y.shape[:-1] + (length - y.shape[-1],))], -1)
    return y


def _pairs(z):
    return np.stack([z.real, z.imag], -1)


def _signal_and_window(rng, shapes):
    """A signal (or spectrum as real pairs) and a window kept away from zero (NOLA)."""
    x = rng.standard_normal(shapes[0])
    return [x] + [rng.uniform(0.5, 1.5, size=s) for s in shapes[1:]]


def _c(x):
    return x[..., 0] + 1j * x[..., 1]


CASES = [
    OpCase("stft", lambda L, x, w: L.view_as_real(
               L.stft(x, 8, hop_length=3, window=w, return_complex=True)),
           lambda x, w: _pairs(stft_np(x, 8, 3, window=w)),
           [((20,), (8,)), ((2, 13), (8,))], make=_signal_and_window),
    OpCase("stft_short_window", lambda L, x, w: L.view_as_real(L.stft(
               x, 8, hop_length=2, win_length=5, window=w, center=False, normalized=True,
               return_complex=True)),
           lambda x, w: _pairs(stft_np(x, 8, 2, 5, w, center=False, normalized=True)),
           [((2, 14), (5,))], make=_signal_and_window),
    OpCase("stft_two_sided", lambda L, x, w: L.view_as_real(L.stft(
               x, 6, hop_length=4, window=w, onesided=False, pad_mode="constant",
               return_complex=True)),
           lambda x, w: _pairs(stft_np(x, 6, 4, window=w, pad_mode="constant", onesided=False)),
           [((15,), (6,))], make=_signal_and_window),
    OpCase("stft_aligned", lambda L, x, w: L.view_as_real(L.stft(
               x, 8, hop_length=3, win_length=4, window=w, center=False, align_to_window=True,
               return_complex=True)),
           lambda x, w: _pairs(stft_np(x, 8, 3, 4, w, center=False, align=True)),
           [((16,), (4,))], make=_signal_and_window),
    OpCase("istft", lambda L, X, w: L.istft(L.view_as_complex(X), 8, hop_length=2, window=w),
           lambda X, w: istft_np(_c(X), 8, 2, window=w),
           [((5, 6, 2), (8,)), ((2, 5, 4, 2), (8,))], make=_signal_and_window),
    OpCase("istft_short_window", lambda L, X, w: L.istft(
               L.view_as_complex(X), 8, hop_length=2, win_length=6, window=w, normalized=True,
               length=9),
           lambda X, w: istft_np(_c(X), 8, 2, 6, w, normalized=True, length=9),
           [((5, 5, 2), (6,))], make=_signal_and_window),
    OpCase("istft_two_sided", lambda L, X, w: L.istft(L.view_as_complex(X), 6, hop_length=3,
                                                      window=w),
           lambda X, w: istft_np(_c(X), 6, 3, window=w), [((6, 5, 2), (6,))],
           make=_signal_and_window),
]


@settings(max_examples=40, deadline=None)
@given(data=st.data(), n_fft=st.integers(2, 12), batch=st.booleans(), cplx=st.booleans())
def test_stft_matches_torch(data, n_fft, batch, cplx):
    """Random sizes and options: the same spectrum as torch and as the definition."""
    hop = data.draw(st.integers(1, 2 * n_fft))
    win_length = data.draw(st.integers(1, n_fft))
    center = data.draw(st.booleans())
    pad_mode = data.draw(st.sampled_from(["reflect", "constant", "replicate", "circular"]))
    normalized = data.draw(st.booleans())
    onesided = data.draw(st.sampled_from([None, False] if cplx else [None, True, False]))
    align = None if center else data.draw(st.sampled_from([None, False, True]))
    length = data.draw(st.integers(n_fft, 3 * n_fft + 5))
    rng = np.random.default_rng(length * 31 + n_fft)
    x = rng.standard_normal((2, length) if batch else (length,))
    if cplx:
        x = x + 1j * rng.standard_normal(x.shape)
    w = rng.uniform(0.2, 1.0, win_length)
    kw = dict(n_fft=n_fft, hop_length=hop, win_length=win_length, center=center,
              pad_mode=pad_mode, normalized=normalized, onesided=onesided)
    r = retrograd.stft(retrograd.tensor(x), window=retrograd.tensor(w), return_complex=True,
                       align_to_window=align, **kw)
    try:
        t = torch.stft(torch.tensor(x), window=torch.tensor(w), return_complex=True,
                       align_to_window=align, **kw)
    except RuntimeError as e:
        # PyTorch's aligned frames of n_fft samples can run past the end of the signal's
        # storage (docs/differences.md); the definition below still checks ours.
        assert align and win_length < n_fft and "out of bounds for storage" in str(e)
    else:
        assert str(r.dtype) == str(t.dtype) and tuple(r.shape) == tuple(t.shape)
        np.testing.assert_allclose(r.numpy(), t.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(r.numpy(), stft_np(x, n_fft, hop, win_length, w, center,
                                                  pad_mode, normalized, onesided, bool(align)),
                               rtol=1e-10, atol=1e-10)


@pytest.mark.filterwarnings("ignore:The length of signal is shorter")
@settings(max_examples=30, deadline=None)
@given(data=st.data(), n_fft=st.integers(2, 12), batch=st.booleans())
def test_istft_inverts_stft_like_torch(data, n_fft, batch):
    """istft(stft(x)) gives x back and torch's values, for every option; where the padded
    window leaves a sample uncovered (NOLA fails), both refuse."""
    win_length = data.draw(st.integers(1, n_fft))
    hop = data.draw(st.integers(1, win_length))
    normalized = data.draw(st.booleans())
    onesided = data.draw(st.booleans())
    length = data.draw(st.integers(n_fft, 3 * n_fft + 5))
    rng = np.random.default_rng(length * 7 + win_length)
    x = rng.standard_normal((3, length) if batch else (length,))
    w = rng.uniform(0.3, 1.0, win_length)
    outs = []
    for lib in (retrograd, torch):
        win = lib.tensor(w)
        kw = dict(n_fft=n_fft, hop_length=hop, win_length=win_length, window=win,
                  normalized=normalized, onesided=onesided)
        spec = lib.stft(lib.tensor(x), return_complex=True, **kw)
        try:
            outs.append(lib.istft(spec, length=length, **kw))
        except RuntimeError as e:
            outs.append(e)
    r, t = outs
    if isinstance(t, RuntimeError):
        assert isinstance(r, RuntimeError) and "NOLA" in str(r), r
        return
    assert str(r.dtype) == str(t.dtype) == "torch.float64"
    np.testing.assert_allclose(r.numpy(), t.numpy(), rtol=1e-9, atol=1e-9)
    # The frames reach (T - 1) hop + n_fft - n_fft // 2 samples of x; the rest is zeros.
    count = 1 + (length + 2 * (n_fft // 2) - n_fft) // hop
    reach = min(length, (count - 1) * hop + n_fft - n_fft // 2)
    np.testing.assert_allclose(r.numpy()[..., :reach], x[..., :reach], rtol=1e-9, atol=1e-9)
    assert (r.numpy()[..., reach:] == 0).all()


def test_stft_dtypes_promote_and_methods():
    x = np.random.default_rng(0).standard_normal(40)
    for xd, wd, expect in (("float32", "float32", "complex64"),
                           ("float32", "float64", "complex128"),
                           ("complex64", "float32", "complex64")):
        for lib in (retrograd, torch):
            xt = lib.tensor(x).to(getattr(lib, xd))
            out = xt.stft(8, window=lib.ones(8, dtype=getattr(lib, wd)), return_complex=True)
            assert str(out.dtype) == f"torch.{expect}"
            back = out.istft(8, window=lib.ones(8, dtype=getattr(lib, wd)), length=40)
            assert str(back.dtype) == f"torch.{expect}".replace("complex64", "float32") \
                .replace("complex128", "float64")


def test_stft_return_complex_false_and_defaults_warn():
    x = retrograd.randn(30, dtype=retrograd.float64)
    with pytest.warns(UserWarning, match="return_complex=False is deprecated"):
        old = retrograd.stft(x, 8, window=retrograd.hann_window(8, dtype=retrograd.float64),
                             return_complex=False)
    new = retrograd.stft(x, 8, window=retrograd.hann_window(8, dtype=retrograd.float64),
                         return_complex=True)
    assert old.shape == (5, 16, 2)
    np.testing.assert_array_equal(old.numpy(), retrograd.view_as_real(new).numpy())
    with pytest.warns(UserWarning, match="A window was not provided") as record:
        retrograd.stft(x, 8, return_complex=True)
    assert record[0].filename == __file__  # points at the caller, as PyTorch's does
    with pytest.warns(UserWarning, match="A window was not provided"):
        retrograd.istft(new, 8)
    with pytest.warns(UserWarning, match="padded with zeros in the tail"):
        y = retrograd.istft(new, 8, window=retrograd.hann_window(8, dtype=retrograd.float64),
                            length=40)
    assert y.shape == (40,) and (y[-4:] == 0).all()


def test_stft_gradients_reach_signal_and_window_like_torch():
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 25)), rng.uniform(0.5, 1.0, 6)
    g = rng.standard_normal((2, 5, 9, 2))
    grads = []
    for lib in (retrograd, torch):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        spec = lib.stft(xt, 8, hop_length=3, win_length=6, window=wt, return_complex=True)
        back = lib.istft(spec, 8, hop_length=3, win_length=6, window=wt, length=25)
        (lib.view_as_real(spec) * lib.tensor(g)).sum().backward(retain_graph=True)
        (back * back).sum().backward()
        grads.append((xt.grad.numpy(), wt.grad.numpy()))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


STFT_ERRORS = [
    (lambda L, x: L.stft(x, 8), RuntimeError),  # return_complex is required for real input
    (lambda L, x: L.stft(x.reshape(2, 2, 10), 4, return_complex=True), RuntimeError),
    (lambda L, x: L.stft(x, 0, return_complex=True), RuntimeError),
    (lambda L, x: L.stft(x, 50, center=False, return_complex=True), RuntimeError),
    (lambda L, x: L.stft(x, 90, return_complex=True), RuntimeError),  # reflect pad too long
    (lambda L, x: L.stft(x, 8, hop_length=0, return_complex=True), RuntimeError),
    (lambda L, x: L.stft(x, 8, win_length=9, return_complex=True), RuntimeError),
    (lambda L, x: L.stft(x, 8, window=L.ones(7, dtype=x.dtype), return_complex=True),
     RuntimeError),
    (lambda L, x: L.stft(x.long(), 8, return_complex=True), RuntimeError),
    (lambda L, x: L.stft(x.to(L.complex128), 8, onesided=True), RuntimeError),
    (lambda L, x: L.stft(x, 8, pad_mode="mirror", return_complex=True), NotImplementedError),
    (lambda L, x: L.stft(x, 8, align_to_window=True, return_complex=True), RuntimeError),
    (lambda L, x: L.stft(x.half(), 8, return_complex=True), RuntimeError),
]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(("call", "cls"), STFT_ERRORS)
def test_stft_errors_match_torch(call, cls):
    x = np.random.default_rng(0).standard_normal(40)
    errs = both_raise(lambda lib: call(lib, lib.tensor(x)))
    assert isinstance(errs[1], cls)


ISTFT_ERRORS = [
    (lambda L, X: L.istft(X.real, 8), RuntimeError),  # real input
    (lambda L, X: L.istft(X, 8, onesided=False), RuntimeError),
    (lambda L, X: L.istft(X, 6), RuntimeError),  # 5 bins are not 6 // 2 + 1
    (lambda L, X: L.istft(X[0], 8), IndexError),  # 1-D
    (lambda L, X: L.istft(X.reshape(1, 1, 5, 11), 8), RuntimeError),
    (lambda L, X: L.istft(X, 8, hop_length=0), RuntimeError),
    (lambda L, X: L.istft(X, 8, win_length=9), RuntimeError),
    (lambda L, X: L.istft(X, 8, window=L.ones(7, dtype=L.float64)), RuntimeError),
    (lambda L, X: L.istft(X, 8, window=L.zeros(8, dtype=L.float64)), RuntimeError),  # NOLA
    (lambda L, X: L.istft(X[:, :0], 8), RuntimeError),
    (lambda L, X: L.istft(X[:, :1], 8), RuntimeError),  # nothing left after the centre
    (lambda L, X: L.istft(X, 8, return_complex=True), RuntimeError),  # onesided
    (lambda L, X: L.istft(X, 8, window=L.ones(8, dtype=L.complex128)), RuntimeError),
]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(("call", "cls"), ISTFT_ERRORS)
def test_istft_errors_match_torch(call, cls):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 11)) + 1j * rng.standard_normal((5, 11))
    errs = both_raise(lambda lib: call(lib, lib.tensor(X)))
    assert isinstance(errs[1], cls)


def test_istft_error_names_the_nola_failure():
    X = retrograd.ones(5, 11, dtype=retrograd.complex128)
    with pytest.raises(RuntimeError, match="NOLA"):
        retrograd.istft(X, 8, window=retrograd.zeros(8, dtype=retrograd.float64))


def test_doctests():
    import doctest

    import retrograd.ops.stft
    import retrograd.signal.window_functions
    import retrograd.signal.windows

    for module in (retrograd.ops.stft, retrograd.signal.windows,
                   retrograd.signal.window_functions):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__


def test_stft_istft_want_a_tensor():
    errs = both_raise(lambda lib: lib.istft([1.0, 2.0], 2))
    assert isinstance(errs[1], TypeError)
    # PyTorch's stft fails with AttributeError ('list' object has no attribute 'dim').
    with pytest.raises(TypeError, match=r"stft\(\): argument 'input' .* not list"):
        retrograd.stft([1.0, 2.0, 3.0], 2, return_complex=True)
