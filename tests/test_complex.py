"""Complex tensors against torch: conj and its flags, real/imag views, view_as_real/complex,
complex, polar, angle, sgn, promotion, and PyTorch's complex gradient convention (for a real
loss L of z = a + ib, z.grad = dL/da + i dL/db)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from helpers import both_raise
from optable import (
    OpCase,
    check_against_torch,
    check_forward_ad,
    check_forward_numpy,
    check_gradients,
    params,
)

import retrograd

RNG = np.random.default_rng(7)
Z0 = RNG.standard_normal((2, 3)) + 1j * RNG.standard_normal((2, 3))
W0 = RNG.standard_normal((2, 3)) + 1j * RNG.standard_normal((2, 3))
R0 = RNG.standard_normal((2, 3))


def run_rows(case, shapes) -> None:
    """The four checks tests/test_optable.py runs on a row."""
    check_forward_numpy(case, shapes)
    check_gradients(case, shapes)
    check_against_torch(case, shapes)
    check_forward_ad(case, shapes)


def arr(t) -> np.ndarray:
    """Either library's tensor as an array (torch's lazy conjugates resolved)."""
    return np.asarray(t.detach().resolve_conj().resolve_neg().numpy())


def grads_of(loss, *inputs):
    """Per library: (loss value, gradients of every input) for ``loss(lib, *tensors)``."""
    out = []
    for lib in (retrograd, torch):
        ts = [lib.tensor(x, requires_grad=True) for x in inputs]
        value = loss(lib, *ts)
        value.backward()
        out.append((arr(value), [None if t.grad is None else arr(t.grad) for t in ts]))
    return out


def assert_same_grads(loss, *inputs):
    (v_r, g_r), (v_t, g_t) = grads_of(loss, *inputs)
    np.testing.assert_allclose(v_r, v_t, rtol=1e-10, atol=1e-12)
    for a, b in zip(g_r, g_t):
        if a is None or b is None:
            assert a is None and b is None, (a, b)
            continue
        assert a.dtype == b.dtype, (a.dtype, b.dtype)
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------- values and views

@pytest.mark.parametrize("fn", [
    lambda lib, z: lib.conj(z), lambda lib, z: z.conj(), lambda lib, z: z.conj_physical(),
    lambda lib, z: lib.real(z), lambda lib, z: lib.imag(z), lambda lib, z: z.real,
    lambda lib, z: z.imag, lambda lib, z: lib.view_as_real(z), lambda lib, z: z.angle(),
    lambda lib, z: lib.angle(z), lambda lib, z: z.sgn(), lambda lib, z: lib.sgn(z * 0),
    lambda lib, z: z.abs(), lambda lib, z: lib.polar(z.real, z.imag),
    lambda lib, z: lib.complex(z.real, z.imag.clone()),
    lambda lib, z: lib.view_as_complex(lib.view_as_real(z)),
    lambda lib, z: lib.resolve_conj(z.conj()), lambda lib, z: lib.conj_physical(z),
])
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_values_like_torch(fn, dtype):
    r = fn(retrograd, retrograd.tensor(Z0, dtype=getattr(retrograd, dtype)))
    t = fn(torch, torch.tensor(Z0, dtype=getattr(torch, dtype)))
    assert str(r.dtype) == str(t.dtype)
    assert tuple(r.shape) == tuple(t.shape)
    np.testing.assert_allclose(arr(r), arr(t), rtol=1e-6)


@pytest.mark.parametrize("fn", [
    lambda lib, x: lib.conj(x) is x, lambda lib, x: x.real is x, lambda lib, x: lib.real(x) is x,
    lambda lib, x: arr(lib.angle(x)), lambda lib, x: arr(x.sgn()), lambda lib, x: x.is_conj(),
    lambda lib, x: x.conj().is_conj(), lambda lib, x: x.is_neg(), lambda lib, x: lib.is_conj(x),
    lambda lib, x: arr(lib.angle(lib.tensor([-2, 0, 3]))),
    lambda lib, x: str(lib.angle(lib.tensor([-2, 0, 3])).dtype),
])
def test_real_input_like_torch(fn):
    x0 = np.array([-1.5, 0.0, -0.0, 2.0, np.nan])
    r, t = fn(retrograd, retrograd.tensor(x0)), fn(torch, torch.tensor(x0))
    np.testing.assert_array_equal(r, t)


def test_eager_conjugation_flags_are_consistent():
    z = retrograd.tensor(Z0)
    c = z.conj()
    assert not c.is_conj() and not retrograd.is_conj(c) and not c.is_neg()
    assert c.resolve_conj() is c and retrograd.resolve_neg(c) is c
    assert not np.shares_memory(c.numpy(), z.numpy())  # a new tensor, never a flag
    np.testing.assert_array_equal(c.numpy(), np.conj(Z0))
    np.testing.assert_array_equal(c.numpy(), z.conj_physical().numpy())
    d = retrograd.tensor(Z0)
    assert d.conj_physical_() is d
    np.testing.assert_array_equal(d.numpy(), np.conj(Z0))
    with pytest.raises(RuntimeError, match="non-complex"):
        retrograd.tensor(R0).imag


def test_parts_are_writable_views():
    z = retrograd.tensor(Z0)
    re, im = z.real, z.imag
    assert np.shares_memory(re.numpy(), z.numpy()) and np.shares_memory(im.numpy(), z.numpy())
    re.mul_(2)
    np.testing.assert_allclose(z.numpy().real, 2 * Z0.real)
    z.imag = retrograd.tensor(R0)
    np.testing.assert_array_equal(z.numpy().imag, R0)
    z.real = 5
    np.testing.assert_array_equal(z.numpy().real, 5)
    pairs = retrograd.view_as_real(z)
    pairs[0, 0, 1] = 9.0
    assert z.numpy()[0, 0] == 5 + 9j
    back = retrograd.view_as_complex(pairs)
    assert np.shares_memory(back.numpy(), z.numpy())
    assert retrograd.view_as_real(z[:, ::2]).shape == (2, 2, 2)  # strided input still a view


def test_view_of_complex_tracks_versions():
    """A saved complex tensor changed through its real view is caught by backward."""
    z = retrograd.tensor(Z0, requires_grad=True)
    y = z * 1
    loss = y.sin().real.sum()  # sin saves its input y
    with retrograd.no_grad():
        y.real.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


@pytest.mark.parametrize("call", [
    lambda lib: lib.view_as_real(lib.ones(2)),
    lambda lib: lib.view_as_complex(lib.ones(3)),
    lambda lib: lib.view_as_complex(lib.ones(2, 2).t()),
    lambda lib: lib.view_as_complex(lib.ones(2, 2, dtype=lib.int32)),
    lambda lib: lib.complex(lib.ones(1), lib.ones(1, dtype=lib.float64)),
    lambda lib: lib.complex(lib.ones(1, dtype=lib.int64), lib.ones(1, dtype=lib.int64)),
    lambda lib: lib.polar(lib.ones(1, dtype=lib.int64), lib.ones(1, dtype=lib.int64)),
    lambda lib: lib.ones(2).imag,
])
def test_errors_like_torch(call):
    errs = both_raise(call)
    assert str(errs[0]) == str(errs[1])


@pytest.mark.parametrize("make", [
    lambda lib: lib.ones(2) * 1j,
    lambda lib: lib.ones(2, dtype=lib.float64) * 1j,
    lambda lib: lib.arange(3) * (1 + 1j), lambda lib: lib.ones(2) + lib.ones(2, dtype=lib.cdouble),
    lambda lib: lib.ones(2, dtype=lib.cfloat) * lib.ones(2, dtype=lib.float64),
    lambda lib: lib.ones(2).cfloat(), lambda lib: lib.ones(2).cdouble(),
    lambda lib: lib.tensor([1 + 2j]), lambda lib: lib.zeros(2, dtype=lib.complex64).sum(),
    lambda lib: lib.ones(2, dtype=lib.cfloat) * lib.tensor(2.0, dtype=lib.float64),
])
def test_promotion_like_torch(make):
    r, t = make(retrograd), make(torch)
    assert str(r.dtype) == str(t.dtype)
    np.testing.assert_allclose(arr(r), arr(t))


# ---------------------------------------------------------------------- gradients of our ops

OWN_OPS = {
    "conj": lambda lib, z, w: (lib.conj(z).imag * w.real).sum() + lib.conj(w).imag.pow(2).sum(),
    "real": lambda lib, z, w: (z.real * w.imag).sum() + lib.real(w).pow(3).sum(),
    "imag": lambda lib, z, w: (z.imag.pow(2) * w.real).sum(),
    "view_as_real": lambda lib, z, w: (lib.view_as_real(z) ** 2 * lib.view_as_real(w)).sum(),
    "view_as_complex": lambda lib, z, w: lib.view_as_complex(
        lib.view_as_real(z) * 2).imag.sum() + lib.view_as_complex(lib.view_as_real(w)).abs().sum(),
    "complex": lambda lib, z, w: lib.complex(z.real.sin(), w.imag ** 2).angle().sum(),
    "polar": lambda lib, z, w: lib.polar(z.abs(), w.real).imag.pow(2).sum(),
    "angle": lambda lib, z, w: (z.angle() * w.real).sum(),
    "sgn": lambda lib, z, w: (z.sgn().real * w.real + z.sgn().imag * w.imag).sum(),
    "abs": lambda lib, z, w: z.abs().pow(3).sum() + w.abs().sum(),
    "sum_mean": lambda lib, z, w: z.sum().abs() + (w.mean() - z.mean()).angle(),
    "add_sub": lambda lib, z, w: (z + w).abs().sum() + (z - 2 * w).imag.sum(),
}


@pytest.mark.parametrize("name", sorted(OWN_OPS))
def test_complex_grads_like_torch(name):
    assert_same_grads(OWN_OPS[name], Z0, W0)


def test_grads_at_zero_like_torch():
    z0 = np.array([0j, 1 + 1j, -2.0 + 0j])
    assert_same_grads(lambda lib, z: z.angle().sum() + z.sgn().real.sum(), z0)


def test_double_backward_of_parts_like_torch():
    """Hessian-vector products through real/imag/complex/view_as_real/angle."""
    v0 = RNG.standard_normal((2, 3)) + 1j * RNG.standard_normal((2, 3))
    out = []
    for lib in (retrograd, torch):
        z = lib.tensor(Z0, requires_grad=True)
        loss = (lib.view_as_real(z) ** 3).sum() + z.angle().sin().sum() + \
            (lib.complex(z.real ** 2, z.imag.exp()).imag * z.real).sum()
        (g,) = lib.autograd.grad(loss, z, create_graph=True)
        v = lib.tensor(v0)
        (h,) = lib.autograd.grad((g.real * v.real + g.imag * v.imag).sum(), z)
        out.append(arr(h))
    np.testing.assert_allclose(out[0], out[1], rtol=1e-9)


def test_forward_mode_of_parts():
    """jvp of the parts: tangents pass through view_as_complex / real / imag / angle."""
    x0, t0 = RNG.standard_normal((3, 2)), RNG.standard_normal((3, 2))

    def f(lib, x):
        z = lib.view_as_complex(x)
        return lib.view_as_real(lib.complex(z.angle(), z.imag * z.real).conj_physical())

    fwd = retrograd.autograd.forward_ad
    with fwd.dual_level():
        dual = fwd.make_dual(retrograd.tensor(x0), retrograd.tensor(t0))
        tangent = arr(fwd.unpack_dual(f(retrograd, dual)).tangent)
    _, expected = torch.func.jvp(lambda x: f(torch, x), (torch.tensor(x0),),
                                 (torch.tensor(t0),))
    np.testing.assert_allclose(tangent, arr(expected), rtol=1e-10)


# ---------------------------------------------------------------------- existing arithmetic
# The backward formulas of holomorphic rows use conj(d) for complex inputs (PyTorch:
# grad * conj(dw/dz)); forward mode uses d. One place does it: ops/_table.py's _term.

ARITHMETIC = [
    ("neg", lambda lib, z, w: (-z).real.sum() + (-w).imag.pow(2).sum(), ()),
    ("mul", lambda lib, z, w: (z * w).abs().sum(), ()),
    ("mul_scalar", lambda lib, z, w: (z * (2 - 3j)).real.sum(), ()),
    ("div", lambda lib, z, w: (z / w).abs().sum(), ()),
    ("matmul", lambda lib, z, w: (z @ w.mT).abs().sum(), ()),
    ("exp", lambda lib, z, w: z.exp().abs().sum(), ()),
    ("pow", lambda lib, z, w: (z ** 2).real.sum(), ()),
]


@pytest.mark.parametrize("name,loss", [pytest.param(n, f, marks=m, id=n)
                                       for n, f, m in ARITHMETIC])
def test_arithmetic_grads_like_torch(name, loss):
    assert_same_grads(loss, Z0, W0)


def test_complex_gradient_into_real_input_takes_real_part_quietly():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_same_grads(lambda lib, x: (x * lib.tensor(W0)).real.sum(), R0)


def test_real_input_gradient_is_real_part():
    """A real input of a complex op gets the real part (through the ops of this module)."""
    assert_same_grads(lambda lib, x: lib.complex(x, x * 2).angle().sum(), R0)
    assert_same_grads(lambda lib, x: lib.polar(x.exp(), x).imag.sum(), R0)


def test_backward_of_complex_scalar_is_refused():
    z = retrograd.tensor(Z0, requires_grad=True)
    with pytest.raises(RuntimeError, match="real scalar outputs"):
        z.sum().backward()


# ---------------------------------------------------------------------- op-table rows
# Real in, real out (through view_as_complex / view_as_real), so gradcheck, gradgradcheck,
# forward mode and the torch comparison of tests/optable.py apply unchanged. The runner is
# tests/test_optable.py once "test_complex" is in its FAMILIES; run_rows below runs them here
# until then.

def _c(x):
    return x[..., 0] + 1j * x[..., 1]


def _pairs(z):
    return np.stack([z.real, z.imag], -1)


CASES = [
    OpCase("conj_physical", lambda L, x: L.view_as_real(L.view_as_complex(x).conj_physical()),
           lambda x: x * [1, -1], [((3, 2),), ((2, 3, 2),)]),
    OpCase("real", lambda L, x: L.view_as_complex(x).real, lambda x: x[..., 0], [((4, 2),)]),
    OpCase("imag", lambda L, x: L.view_as_complex(x).imag, lambda x: x[..., 1], [((4, 2),)]),
    OpCase("complex", lambda L, a, b: L.view_as_real(L.complex(a, b)),
           lambda a, b: np.stack(np.broadcast_arrays(a, b), -1), [((3,), (3,)), ((2, 3), (3,))]),
    OpCase("polar", lambda L, a, b: L.view_as_real(L.polar(a, b)),
           lambda a, b: np.stack([a * np.cos(b), a * np.sin(b)], -1), [((3,), (3,))],
           domain=(0.5, 2)),
    OpCase("angle", lambda L, x: L.view_as_complex(x).angle(), lambda x: np.angle(_c(x)),
           [((4, 2),)]),
    OpCase("sgn", lambda L, x: L.view_as_real(L.view_as_complex(x).sgn()),
           lambda x: _pairs(_c(x) / np.abs(_c(x))), [((4, 2),)], domain=(0.5, 2)),
    # abs of complex input: d = sgn(x), not conjugated (|z| is not holomorphic); see _ABS.
]

_ABS = OpCase("abs_complex", lambda L, x: L.view_as_complex(x).abs(), lambda x: np.abs(_c(x)),
              [((4, 2),)], domain=(0.5, 2))


def test_abs_of_complex_double_backward():
    check_gradients(_ABS, _ABS.shapes[0])


def test_abs_of_complex_forward_mode():
    check_forward_ad(_ABS, _ABS.shapes[0])


@pytest.mark.parametrize(("case", "shapes"), params(CASES))
def test_rows(case, shapes):
    run_rows(case, shapes)


def test_inplace_through_part_views_like_torch():
    """In-place writes into .real / .imag / view_as_real of a non-leaf replay through the
    views for backward, as PyTorch's."""
    def loss(lib, leaf):
        z = leaf.clone()
        z.real.mul_(3)
        z.imag.add_(lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64))
        pairs = lib.view_as_real(z)
        pairs[0, 0, 1] = 5.0
        return (z.real ** 2 + z.imag ** 3).sum()

    assert_same_grads(loss, Z0)


def test_doctests():
    import doctest

    import retrograd.fft
    import retrograd.ops.complex

    for module in (retrograd.ops.complex, retrograd.fft):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, (module.__name__, result)


@pytest.mark.parametrize("name", ["mul", "exp", "abs", "conj", "sin", "angle"])
def test_forward_mode_with_a_complex_primal(name):
    """make_dual takes complex primals, and the tangents match torch's."""
    fns = {"mul": lambda x: x * x, "exp": lambda x: x.exp(), "abs": lambda x: x.abs(),
           "conj": lambda x: x.conj(), "sin": lambda x: x.sin(), "angle": lambda x: x.angle()}
    results = []
    for lib in (retrograd, torch):
        fwd = lib.autograd.forward_ad
        z = lib.tensor([1 + 2j, -0.5 + 0.25j], dtype=lib.complex128)
        t = lib.tensor([0.5 - 1j, 2 + 0j], dtype=lib.complex128)
        with fwd.dual_level():
            out = fns[name](fwd.make_dual(z, t))
            results.append(np.asarray(fwd.unpack_dual(out).tangent.tolist()))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12, atol=1e-12)
