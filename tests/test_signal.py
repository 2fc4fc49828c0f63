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
