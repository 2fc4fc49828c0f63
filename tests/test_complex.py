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


# ------------------------------------------------- complex samples of real ops (issue 14)
# Each op fixed for complex input by the op_db sweep's complex samples: value and the
# gradient of a real loss through a complex weight (a missing conj changes the gradient).

SQ = RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3))
HPD = SQ @ SQ.conj().T + 3 * np.eye(3)
TALL = RNG.standard_normal((4, 2)) + 1j * RNG.standard_normal((4, 2))
VEC = RNG.standard_normal((4,)) + 1j * RNG.standard_normal((4,))
IMG = RNG.standard_normal((1, 2, 5, 5)) + 1j * RNG.standard_normal((1, 2, 5, 5))
KER = RNG.standard_normal((2, 2, 3, 3)) + 1j * RNG.standard_normal((2, 2, 3, 3))


def _weighted(f):
    """loss = Re(sum(y * c)) over f's outputs, c complex and varying over the elements."""
    def loss(lib, *xs):
        total = 0
        for y in (lambda r: r if isinstance(r, tuple) else (r,))(f(lib, *xs)):
            w = lib.arange(y.numel(), dtype=lib.float64).reshape(y.shape) / 5
            total = total + (y * lib.complex(w - 1, w.cos())).real.sum()
        return total
    return loss


REAL_OPS = [
    ("prod", lambda L, z: L.prod(z, 1), (Z0,)),
    ("prod_all", lambda L, z: z.prod(), (Z0,)),
    ("cumprod", lambda L, z: L.cumprod(z, 1), (Z0,)),
    ("cumprod_zero", lambda L, z: L.cumprod(z * L.tensor([1.0, 0.0, 1.0]), 1), (Z0,)),
    ("vector_norm_2", lambda L, z: L.linalg.vector_norm(z, dim=1), (Z0,)),
    ("vector_norm_1", lambda L, z: L.linalg.vector_norm(z, 1), (Z0,)),
    ("vector_norm_3", lambda L, z: L.linalg.vector_norm(z, 3, dim=0), (Z0,)),
    ("vector_norm_inf", lambda L, z: L.linalg.vector_norm(z, float("inf"), dim=1), (Z0,)),
    ("norm", lambda L, z: z.norm(), (Z0,)),
    ("linalg_norm", lambda L, z: L.linalg.norm(z, dim=1), (Z0,)),
    ("matrix_norm_fro", lambda L, z: L.linalg.matrix_norm(z), (SQ,)),
    ("var", lambda L, z: L.var(z, 1), (Z0,)),
    ("std_mean", lambda L, z: L.std_mean(z, 0), (Z0,)),
    ("dist", lambda L, z, w: L.dist(z, w), (Z0, W0)),
    ("pairwise_distance",
     lambda L, z, w: L.nn.functional.pairwise_distance(z, w), (Z0, W0)),
    ("normalize", lambda L, z: L.nn.functional.normalize(z, dim=1), (Z0,)),
    ("einsum", lambda L, z, w: L.einsum("ij,kj->ik", z, w), (Z0, W0)),
    ("tensordot", lambda L, z, w: L.tensordot(z, w, ([1], [1])), (Z0, W0)),
    ("inner", lambda L, z, w: L.inner(z, w), (Z0, W0)),
    ("vdot", lambda L, z, w: L.vdot(z, w), (VEC, VEC[::-1].copy())),
    ("linear", lambda L, z, w: L.nn.functional.linear(z, w), (Z0, W0)),
    ("linear_bias", lambda L, z, w: L.nn.functional.linear(z, w, w[0, :2]), (Z0, W0[:, :]
                                                                           .copy())),
    ("conv2d", lambda L, x, k: L.nn.functional.conv2d(x, k, padding=1), (IMG, KER)),
    ("conv_transpose2d", lambda L, x, k: L.nn.functional.conv_transpose2d(x, k), (IMG, KER)),
    ("conv1d", lambda L, x, k: L.nn.functional.conv1d(x[:, :, 0], k[..., 0]), (IMG, KER)),
    ("cov", lambda L, z: L.cov(z), (Z0,)),
    ("corrcoef", lambda L, z: L.corrcoef(z), (Z0,)),
    ("trapezoid", lambda L, z: L.trapezoid(z, dim=1), (Z0,)),
    ("cumulative_trapezoid", lambda L, z: L.cumulative_trapezoid(z, dim=1), (Z0,)),
    ("ldexp", lambda L, z: L.ldexp(z, L.tensor([1, 2, 3])), (Z0,)),
    ("logaddexp", lambda L, z, w: L.logaddexp(z * 4, w * 4), (Z0, W0)),
    ("logsumexp", lambda L, z: L.logsumexp(z * 4, 1), (Z0,)),
    ("logcumsumexp", lambda L, z: L.logcumsumexp(z * 4, 1), (Z0,)),
    ("cholesky", lambda L, a: L.linalg.cholesky(a), (HPD,)),
    ("cholesky_upper", lambda L, a: L.linalg.cholesky(a, upper=True), (HPD,)),
    ("lstsq", lambda L, a, b: L.linalg.lstsq(a, b, driver="gelsd")[:2], (TALL, TALL[:, :1]
                                                                         .copy())),
]


@pytest.mark.parametrize(("name", "f", "inputs"), REAL_OPS, ids=[r[0] for r in REAL_OPS])
def test_complex_input_of_real_ops_like_torch(name, f, inputs):
    assert_same_grads(_weighted(f), *inputs)
    ours, theirs = (f(lib, *[lib.tensor(x) for x in inputs]) for lib in (retrograd, torch))
    for a, b in zip(*((r if isinstance(r, tuple) else (r,)) for r in (ours, theirs))):
        assert str(a.dtype) == str(b.dtype), name  # a norm or a variance is real


def test_logaddexp_gradient_without_overflow():
    """Far apart, the derivative exp(x - out) is finite: 1 for the large operand as in
    PyTorch, 0 (PyTorch: NaN, its exp(y - x) overflows) for the small one."""
    z = np.array([10000 + 0j, -3 + 1j])
    (v_r, g_r), (v_t, g_t) = grads_of(_weighted(lambda L, a, b: L.logaddexp(a, b)), z,
                                      z[::-1].copy())
    np.testing.assert_allclose(v_r, v_t)
    for ours, theirs in zip(g_r, g_t):
        big = np.abs(ours) > 0.5
        np.testing.assert_allclose(ours[big], theirs[big])
        assert np.isfinite(ours).all() and big.sum() == 1 and (ours[~big] == 0).all()


def test_complex_samplers_fill_both_parts():
    x = retrograd.zeros(20000, dtype=retrograd.complex128)
    x.uniform_(1.0, 2.0)
    assert x.real.min().item() >= 1 and x.imag.max().item() < 2
    assert abs(x.imag.mean().item() - 1.5) < 0.02
    x.normal_(1.0, 2.0)  # PyTorch: each part N(mean, std**2 / 2)
    assert abs(x.real.mean().item() - 1) < 0.05 and abs(x.imag.mean().item() - 1) < 0.05
    assert abs(x.imag.std().item() - 2 / np.sqrt(2)) < 0.05
    with pytest.raises(RuntimeError, match="normal_ expects floating point"):
        retrograd.zeros(3, dtype=retrograd.int64).normal_()


FORWARD_DECOMPOSITIONS = {
    "svd": (SQ, lambda L, x: (lambda u, s, vh: (s, (u * s.unsqueeze(-2)) @ vh, u.abs(),
                                                vh.abs()))(*L.linalg.svd(x))),
    "svd_tall": (TALL, lambda L, x: (lambda u, s, vh: (s, u @ u.mH, vh.abs()))(
        *L.linalg.svd(x, full_matrices=False))),
    "svd_wide": (TALL.T.copy(), lambda L, x: (lambda u, s, vh: (s, vh.mH @ vh, u.abs()))(
        *L.linalg.svd(x, full_matrices=False))),
    "svdvals": (SQ, lambda L, x: (L.linalg.svdvals(x),)),
    "slogdet": (SQ, lambda L, x: tuple(L.linalg.slogdet(x))),
    "eigh": (HPD, lambda L, x: (lambda w, v: (w, v.abs(), (v * w.unsqueeze(-2)) @ v.mH))(
        *L.linalg.eigh(x))),
    "eig": (SQ, lambda L, x: (lambda w, v: (w, v.abs()))(*L.linalg.eig(x))),
    "matrix_norm_2": (SQ, lambda L, x: (L.linalg.matrix_norm(x, 2),
                                        L.linalg.matrix_norm(x, "nuc"))),
    "vector_norm": (SQ, lambda L, x: (L.linalg.vector_norm(x, 3, dim=1),)),
}


@pytest.mark.parametrize("name", sorted(FORWARD_DECOMPOSITIONS))
def test_forward_mode_of_complex_decompositions_like_torch(name):
    """Tangents of gauge-invariant outputs (values, |vectors|, products that cancel the
    phases) against torch's forward AD."""
    a, f = FORWARD_DECOMPOSITIONS[name]
    t = np.asarray(RNG.standard_normal(a.shape) + 1j * RNG.standard_normal(a.shape))
    if name == "eigh":
        t = t + t.conj().T
    results = []
    for lib in (retrograd, torch):
        fwd = lib.autograd.forward_ad
        with fwd.dual_level():
            outs = f(lib, fwd.make_dual(lib.tensor(a), lib.tensor(t)))
            results.append([arr(fwd.unpack_dual(o).tangent) for o in outs])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-10)
