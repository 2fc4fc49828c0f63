"""Table-driven tests of the elementwise op library (issue: the full differentiable op
library): every row is checked against NumPy/SciPy, finite differences (gradcheck and
gradgradcheck), PyTorch (forward, gradient, double gradient) and forward mode."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sp
import torch  # the oracle: a missing install fails the tests, never skips them
from helpers import arr, assert_same, both_tensors
from optable import (
    OpCase,
)

import retrograd

U = [((2, 3),), ((),), ((4,),)]
B = [((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1), (1, 5)), ((), (3,))]
T3 = [((2, 3), (2, 3), (2, 3)), ((2, 3), (3,), ()), ((3, 1), (1, 2), (3, 2))]
NC = [((3, 2), (2, 3))]  # fn transposes the first input: a non-contiguous operand
UE = [*U, ((0, 3),)]  # with an empty tensor
BE = [*B, ((0, 3), (3,))]


def _uniform(*domains):
    """make(): input i uniform on domains[i]."""
    def make(rng, shapes):
        return [np.asarray(rng.uniform(lo, hi, size=s)) for (lo, hi), s in zip(domains, shapes)]

    return make


def _away_from_ints(lo, hi):
    """Uniform values that stay 0.1 away from integers and half-integers (rounding steps)."""
    def make(rng, shapes):
        out = []
        for s in shapes:
            v = rng.uniform(lo, hi, size=s)
            out.append(np.asarray(np.floor(v * 2) / 2 + 0.1 + 0.3 * rng.uniform(size=s)))
        return out

    return make


def _rem(x, y):
    return np.remainder(x, y)


CASES = [
    # arithmetic
    OpCase("add_alpha_int", lambda L, a, b: L.add(a, b, alpha=3), lambda a, b: a + 3 * b, B),
    OpCase("sub_alpha", lambda L, a, b: L.sub(a, b, alpha=0.5), lambda a, b: a - 0.5 * b, B),
    OpCase("rsub_method", lambda L, a, b: a.t().sub(b), lambda a, b: a.T - b, NC),
    OpCase("div_t", lambda L, a, b: L.div(a.t(), b), lambda a, b: a.T / b, NC,
           domain=(0.5, 2)),
    OpCase("div_floor", lambda L, a, b: L.div(a, b, rounding_mode="floor"), np.floor_divide,
           B, make=_uniform((-3, 3), (0.5, 2))),
    OpCase("div_trunc", lambda L, a, b: L.div(a, b, rounding_mode="trunc"),
           lambda a, b: np.trunc(a / b), B, make=_uniform((-3, 3), (-2, -0.5))),
    OpCase("floor_divide", lambda L, a, b: a // b, np.floor_divide, B, grad=False,
           make=_uniform((-3, 3), (0.5, 2))),
    OpCase("remainder", lambda L, a, b: a % b, _rem, B, make=_uniform((-3, 3), (0.5, 2))),
    OpCase("remainder_neg", lambda L, a, b: L.remainder(a, b), _rem, B,
           make=_uniform((-3, 3), (-2, -0.5))),
    OpCase("remainder_scalar", lambda L, a: L.remainder(a, 0.7), lambda a: _rem(a, 0.7), U),
    OpCase("fmod", lambda L, a, b: L.fmod(a, b), np.fmod, B, make=_uniform((-3, 3), (0.5, 2))),
    OpCase("fmod_scalar", lambda L, a: a.fmod(-0.7), lambda a: np.fmod(a, -0.7), U),
    OpCase("pow_tensor_t", lambda L, a, b: L.pow(a.t(), b), lambda a, b: a.T ** b, NC,
           domain=(0.5, 2)),
    OpCase("pow_neg_scalar", lambda L, a: a ** -1.5, lambda a: a ** -1.5, U, domain=(0.5, 2)),
    OpCase("pow_zero", lambda L, a: a ** 0, lambda a: a ** 0, U),
    OpCase("rpow_float", lambda L, a: 1.7 ** a, lambda a: 1.7 ** a, U),
    OpCase("float_power", lambda L, a, b: L.float_power(a, b), np.power, B, domain=(0.5, 2)),
    OpCase("float_power_scalar", lambda L, a: a.float_power(3), lambda a: a ** 3, U),
    OpCase("neg_method", lambda L, a: a.negative(), np.negative, U),
    # exp / log
    OpCase("reciprocal", lambda L, a: a.reciprocal(), np.reciprocal, U, domain=(0.5, 2)),
    OpCase("rsqrt", lambda L, a: a.rsqrt(), lambda a: 1 / np.sqrt(a), U, domain=(0.5, 2)),
    OpCase("square", lambda L, a: L.square(a), np.square, U),
    OpCase("exp2", lambda L, a: a.exp2(), np.exp2, UE),
    OpCase("expm1", lambda L, a: L.expm1(a), np.expm1, U),
    OpCase("log2", lambda L, a: a.log2(), np.log2, U, domain=(0.5, 3)),
    OpCase("log10", lambda L, a: L.log10(a), np.log10, U, domain=(0.5, 3)),
    OpCase("log1p", lambda L, a: a.log1p(), np.log1p, U, domain=(-0.5, 2)),
    # trigonometric / hyperbolic
    OpCase("tan", lambda L, a: a.tan(), np.tan, U, domain=(-1.2, 1.2)),
    OpCase("asin", lambda L, a: a.asin(), np.arcsin, U, domain=(-0.9, 0.9)),
    OpCase("acos", lambda L, a: L.acos(a), np.arccos, U, domain=(-0.9, 0.9)),
    OpCase("atan", lambda L, a: a.arctan(), np.arctan, U),
    OpCase("sinh", lambda L, a: a.sinh(), np.sinh, U),
    OpCase("cosh", lambda L, a: a.cosh(), np.cosh, U),
    OpCase("asinh", lambda L, a: a.asinh(), np.arcsinh, U),
    OpCase("acosh", lambda L, a: a.acosh(), np.arccosh, U, domain=(1.2, 3)),
    OpCase("atanh", lambda L, a: L.arctanh(a), np.arctanh, U, domain=(-0.9, 0.9)),
    OpCase("sinc", lambda L, a: a.sinc(), np.sinc, U, domain=(-2, 2)),
    OpCase("deg2rad", lambda L, a: a.deg2rad(), np.deg2rad, U),
    OpCase("rad2deg", lambda L, a: L.rad2deg(a), np.rad2deg, U),
    OpCase("atan2", lambda L, a, b: L.atan2(a, b), np.arctan2, BE),
    OpCase("arctan2_t", lambda L, a, b: a.t().arctan2(b), lambda a, b: np.arctan2(a.T, b), NC),
    OpCase("hypot", lambda L, a, b: L.hypot(a, b), np.hypot, B),
    # special functions
    OpCase("sigmoid_method", lambda L, a: a.sigmoid(), sp.expit, U, domain=(-5, 5)),
    OpCase("logit", lambda L, a: a.logit(), sp.logit, U, domain=(0.1, 0.9)),
    OpCase("logit_eps", lambda L, a: L.logit(a, eps=0.2), lambda a: sp.logit(np.clip(a, .2, .8)),
           U, domain=(0.05, 0.95)),
    OpCase("erf", lambda L, a: a.erf(), sp.erf, UE),
    OpCase("erfc", lambda L, a: L.erfc(a), sp.erfc, U, domain=(-3, 3)),
    OpCase("erfinv", lambda L, a: a.erfinv(), sp.erfinv, U, domain=(-0.95, 0.95)),
    OpCase("lgamma", lambda L, a: a.lgamma(), sp.gammaln, UE, domain=(0.2, 5)),
    OpCase("lgamma_neg", lambda L, a: L.lgamma(a), sp.gammaln, U, domain=(-2.9, -2.1)),
    OpCase("digamma", lambda L, a: a.digamma(), sp.digamma, U, domain=(0.3, 5)),
    OpCase("digamma_neg", lambda L, a: L.digamma(a), sp.digamma, U, domain=(-1.9, -1.1)),
    OpCase("polygamma1", lambda L, a: L.polygamma(1, a), lambda a: sp.polygamma(1, a), U,
           domain=(0.3, 4)),
    OpCase("polygamma3", lambda L, a: a.polygamma(3), lambda a: sp.polygamma(3, a), U,
           domain=(0.5, 4), rtol=1e-5),
    # rounding (zero gradients)
    OpCase("floor", lambda L, a: a.floor(), np.floor, U, make=_away_from_ints(-3, 3)),
    OpCase("ceil", lambda L, a: a.ceil(), np.ceil, U, make=_away_from_ints(-3, 3)),
    OpCase("round", lambda L, a: a.round(), np.round, U, make=_away_from_ints(-3, 3)),
    OpCase("round_decimals", lambda L, a: L.round(a * 10, decimals=-1),
           lambda a: np.round(a * 10, -1), U, make=_away_from_ints(-3, 3)),
    OpCase("trunc", lambda L, a: a.trunc(), np.trunc, U, make=_away_from_ints(-3, 3)),
    OpCase("fix", lambda L, a: L.fix(a), np.trunc, U, make=_away_from_ints(-3, 3)),
    OpCase("frac", lambda L, a: a.frac(), lambda a: a - np.trunc(a), U,
           make=_away_from_ints(-3, 3)),
    OpCase("sign", lambda L, a: a.sign(), np.sign, U),
    OpCase("nan_to_num", lambda L, a: a.nan_to_num(), np.nan_to_num, U),
    # clamp family
    OpCase("clamp_tensor", lambda L, a, b, c: L.clamp(a, min=b, max=c + 1.0),
           lambda a, b, c: np.minimum(np.maximum(a, b), c + 1.0), T3),
    OpCase("clamp_tensor_min", lambda L, a, b: a.clamp(min=b), np.maximum, B),
    OpCase("clamp_tensor_max", lambda L, a, b: L.clip(a, max=b), np.minimum, B),
    OpCase("clamp_min_scalar", lambda L, a: a.clamp_min(0.2), lambda a: np.maximum(a, .2), U),
    OpCase("clamp_max_scalar", lambda L, a: L.clamp_max(a, 0.2), lambda a: np.minimum(a, .2), U),
    OpCase("clamp_min_tensor", lambda L, a, b: L.clamp_min(a, b), np.maximum, B),
    OpCase("clamp_max_t", lambda L, a, b: L.clamp_max(a.t(), b), lambda a, b: np.minimum(a.T, b),
           NC),
    # max / min family
    OpCase("maximum", lambda L, a, b: L.maximum(a, b), np.maximum, BE),
    OpCase("minimum", lambda L, a, b: a.minimum(b), np.minimum, B),
    OpCase("max_binary", lambda L, a, b: L.max(a, b), np.maximum, B),
    OpCase("fmax", lambda L, a, b: L.fmax(a, b), np.fmax, B),
    OpCase("fmin_t", lambda L, a, b: a.t().fmin(b), lambda a, b: np.fmin(a.T, b), NC),
    # ternary and log-sum
    OpCase("lerp_scalar", lambda L, a, b: L.lerp(a, b, 0.3), lambda a, b: a + 0.3 * (b - a), B),
    OpCase("lerp_scalar_hi", lambda L, a, b: a.lerp(b, 0.8), lambda a, b: a + 0.8 * (b - a), B),
    OpCase("lerp_tensor", lambda L, a, b, c: L.lerp(a, b, c), lambda a, b, c: a + c * (b - a),
           T3),
    OpCase("addcmul", lambda L, a, b, c: L.addcmul(a, b, c, value=-0.5),
           lambda a, b, c: a - 0.5 * b * c, [*T3, ((0, 2), (2,), ())]),
    OpCase("addcdiv", lambda L, a, b, c: a.addcdiv(b, c, value=2),
           lambda a, b, c: a + 2 * b / c, T3, make=_uniform((-2, 2), (-2, 2), (0.5, 2))),
    OpCase("xlogy", lambda L, a, b: L.xlogy(a, b), sp.xlogy, B,
           make=_uniform((-2, 2), (0.5, 3))),
    OpCase("xlogy_scalar_other", lambda L, a: L.xlogy(a, 3.0), lambda a: sp.xlogy(a, 3.0), U),
    OpCase("xlogy_scalar_self", lambda L, b: L.xlogy(2.0, b), lambda b: sp.xlogy(2, b), U,
           domain=(0.5, 3)),
    OpCase("logaddexp", lambda L, a, b: L.logaddexp(a, b), np.logaddexp, B),
    OpCase("logaddexp2", lambda L, a, b: a.logaddexp2(b), np.logaddexp2, B),
]


# ---------------------------------------------------------------------- helpers

# ---------------------------------------------------------------------- kinks and ties

KINKS = {
    "abs_at_0": (lambda L, x: x.abs(), [0.0, -1.0, 2.0]),
    "relu_at_0": (lambda L, x: x.relu(), [0.0, -1.0, 2.0]),
    "clamp_at_bounds": (lambda L, x: x.clamp(-1.0, 1.0), [-1.0, 1.0, 0.5, 3.0, -3.0]),
    "clamp_min_at_bound": (lambda L, x: x.clamp_min(0.5), [0.5, 0.2, 0.7]),
    "clamp_crossed_bounds": (lambda L, x: L.clamp(x, 1.0, -1.0), [-2.0, 0.0, 2.0]),
    "sign": (lambda L, x: x.sign(), [0.0, -1.0, 2.0]),
    "floor_at_int": (lambda L, x: x.floor(), [1.0, -2.0, 0.5]),
    "ceil_at_int": (lambda L, x: x.ceil(), [1.0, -2.0, 0.5]),
    "round_at_half": (lambda L, x: x.round(), [0.5, 1.5, -2.5]),
    "trunc_at_int": (lambda L, x: x.trunc(), [1.0, -2.0, 0.5]),
    "sinc_at_0": (lambda L, x: x.sinc(), [0.0, 0.5]),
    "nan_to_num_inf": (lambda L, x: L.nan_to_num(x, nan=1.0, posinf=2.0),
                       [float("nan"), float("inf"), -float("inf"), 1.5]),
    "max_all_ties": (lambda L, x: x.max(), [1.0, 3.0, 3.0]),
}


@pytest.mark.parametrize("name", list(KINKS))
def test_kink_gradients_match_pytorch(name):
    fn, values = KINKS[name]
    r, t = both_tensors(values)
    ro, to = fn(retrograd, r), fn(torch, t)
    assert_same(ro, to)
    ro.sum().backward()
    to.sum().backward()
    np.testing.assert_array_equal(arr(r.grad), t.grad.numpy())


TIES = {
    "maximum": lambda L, a, b: L.maximum(a, b),
    "minimum": lambda L, a, b: L.minimum(a, b),
    "fmax": lambda L, a, b: L.fmax(a, b),
    "fmin": lambda L, a, b: L.fmin(a, b),
    "max_binary": lambda L, a, b: L.max(a, b),
    "clamp_tensor": lambda L, a, b: L.clamp(a, min=b, max=b + 1),
    "clamp_crossed_tensor": lambda L, a, b: L.clamp(a, min=b + 1, max=b),
    "remainder": lambda L, a, b: L.remainder(a, b),
    "fmod": lambda L, a, b: L.fmod(a, b),
}


@pytest.mark.parametrize("name", list(TIES))
def test_tie_and_nan_gradients_match_pytorch(name):
    """Ties split gradients as PyTorch does (maximum/minimum: half each; fmax/fmin: all to
    the first); NaN propagation and the gradient at NaN follow PyTorch too."""
    a_vals = [1.0, 2.0, 3.0, float("nan"), 1.0, -2.5]
    b_vals = [1.0, 3.0, 2.0, 1.0, float("nan"), 0.5]
    ra, ta = both_tensors(a_vals)
    rb, tb = both_tensors(b_vals)
    fn = TIES[name]
    ro, to = fn(retrograd, ra, rb), fn(torch, ta, tb)
    assert_same(ro, to)
    g = [0.5, 1.0, 2.0, 3.0, 4.0, 5.0]
    ro.backward(retrograd.tensor(g, dtype=retrograd.float64))
    to.backward(torch.tensor(g, dtype=torch.float64))
    np.testing.assert_array_equal(arr(ra.grad), ta.grad.numpy())
    np.testing.assert_array_equal(arr(rb.grad), tb.grad.numpy())


# ---------------------------------------------------------------------- NaN-safe masking

SINGULAR = {
    # op, a point where the derivative is infinite/undefined
    "sqrt": (lambda L, x: x.sqrt(), 0.0),
    "rsqrt": (lambda L, x: x.rsqrt(), 0.0),
    "reciprocal": (lambda L, x: x.reciprocal(), 0.0),
    "log": (lambda L, x: x.log(), 0.0),
    "log2": (lambda L, x: x.log2(), 0.0),
    "log10": (lambda L, x: x.log10(), 0.0),
    "log1p": (lambda L, x: x.log1p(), -1.0),
    "asin": (lambda L, x: x.asin(), 1.0),
    "acos": (lambda L, x: x.acos(), -1.0),
    "atanh": (lambda L, x: x.atanh(), 1.0),
    "acosh": (lambda L, x: x.acosh(), 1.0),
    "erfinv": (lambda L, x: x.erfinv(), 1.0),
    "lgamma": (lambda L, x: x.lgamma(), 0.0),
    "digamma": (lambda L, x: x.digamma(), 0.0),
    "logit": (lambda L, x: x.logit(), 0.0),
    "pow_half": (lambda L, x: x ** 0.5, 0.0),
    "pow_neg": (lambda L, x: x ** -2, 0.0),
    "pow_tensor": (lambda L, x: x ** (x * 0 + 0.5), 0.0),
    "rpow_base0": (lambda L, x: 0.0 ** (x - 1), 0.0),
    "div_by": (lambda L, x: 1.0 / x, 0.0),
    "div_zero_by_zero": (lambda L, x: x / x, 0.0),
    "atan2": (lambda L, x: L.atan2(x, x), 0.0),
    "hypot": (lambda L, x: L.hypot(x, x), 0.0),
    "xlogy": (lambda L, x: L.xlogy(x + 1, x), 0.0),
    "addcdiv": (lambda L, x: L.addcdiv(x, x + 1, x), 0.0),
}


@pytest.mark.parametrize("name", list(SINGULAR))
def test_masked_singular_gradient_is_zero_not_nan(name):
    """``where(mask, f(x), 0)`` at a point where f' is infinite: the masked branch gets an
    exact zero gradient, so the result is 0 (PyTorch gives NaN here)."""
    fn, point = SINGULAR[name]
    x = retrograd.tensor([point, 0.5], requires_grad=True)
    keep = retrograd.tensor([False, True])
    y = retrograd.where(keep, fn(retrograd, x), 0.0)
    y.sum().backward()
    assert x.grad[0].item() == 0.0
    # PyTorch differs exactly here: document that the difference is real.
    if name in ("sqrt", "log", "asin"):
        tx = torch.tensor([point, 0.5], requires_grad=True)
        torch.where(torch.tensor([False, True]), fn(torch, tx), 0.0).sum().backward()
        assert np.isnan(tx.grad[0].item())


def test_where_sqrt_at_zero_gives_zero_gradient():
    """The example from the issue: PyTorch gives NaN here, retrograd gives 0."""
    x = retrograd.tensor([0.0, 4.0], requires_grad=True)
    retrograd.where(x > 0, x.sqrt(), 0).sum().backward()
    np.testing.assert_array_equal(arr(x.grad), [0.0, 0.25])
    tx = torch.tensor([0.0, 4.0], requires_grad=True)
    torch.where(tx > 0, tx.sqrt(), 0).sum().backward()
    assert np.isnan(tx.grad[0].item())


def test_masked_singular_gradient_under_create_graph():
    x = retrograd.tensor([0.0, 4.0], requires_grad=True)
    y = retrograd.where(x > 0, x.sqrt(), 0.0).sum()
    (g,) = retrograd.autograd.grad(y, x, create_graph=True)
    np.testing.assert_allclose(arr(g), [0.0, 0.25])
    (gg,) = retrograd.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(arr(gg), [0.0, -1 / 32])


# ---------------------------------------------------------------------- dtypes

UNARY_FLOAT_OPS = ["exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt",
                   "reciprocal", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh",
                   "tanh", "asinh", "acosh", "atanh", "sigmoid", "logit", "erf", "erfc",
                   "erfinv", "lgamma", "digamma", "sinc", "deg2rad", "rad2deg"]
UNARY_KEEP_OPS = ["abs", "neg", "sign", "floor", "ceil", "round", "trunc", "square",
                  "nan_to_num"]


@pytest.mark.parametrize("op", UNARY_FLOAT_OPS + UNARY_KEEP_OPS)
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool", "float16", "float32"])
def test_unary_dtypes_and_values_match_pytorch(op, dtype):
    """Integer and bool inputs of float math give float32; float16 stays float16 and computes
    correctly."""
    base = [0.0, 1.0, 0.25, 2.0, 0.75] if dtype in ("float16", "float32") else [0, 1, 1, 2, 3]
    if dtype == "bool":
        base = [True, False, True, True, False]
    r = retrograd.tensor(base, dtype=getattr(retrograd, dtype))
    t = torch.tensor(base, dtype=getattr(torch, dtype))
    try:
        expected = getattr(t, op)()
    except (RuntimeError, NotImplementedError) as e:
        with pytest.raises(type(e)):
            getattr(r, op)()
        return
    got = getattr(r, op)()
    tol = 2e-3 if dtype == "float16" else 2e-6
    assert_same(got, expected, atol=tol, rtol=tol)


# ---------------------------------------------------------------------- special functions

def test_special_functions_match_scipy_over_wide_ranges():
    """erf/erfc/erfinv/lgamma/digamma/polygamma in float64, NumPy-only, to ~1e-9 relative."""
    from retrograd.ops import _special

    x = np.concatenate([np.linspace(-6, 6, 2001), [0.0, 1e-300, 1e-8, -1e-8, 26.0]])
    np.testing.assert_allclose(_special.erf(x), sp.erf(x), rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(_special.erfc(x), sp.erfc(x), rtol=1e-11, atol=1e-300)
    y = np.concatenate([np.linspace(-0.999999, 0.999999, 2001), [1 - 1e-15, -1 + 1e-15, 1e-12]])
    np.testing.assert_allclose(_special.erfinv(y), sp.erfinv(y), rtol=1e-11)
    g = np.concatenate([np.linspace(-9.95, 40, 2001), [1e-6, 0.5, 1e5, 171.3]])
    np.testing.assert_allclose(_special.lgamma(g), sp.gammaln(g), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(_special.digamma(g), sp.digamma(g), rtol=1e-9, atol=1e-9)
    for n in (1, 2, 4):
        np.testing.assert_allclose(_special.polygamma(n, g), sp.polygamma(n, g), rtol=1e-9)


EDGES = [float("nan"), float("inf"), -float("inf"), 0.0, -0.0, 1.0, -1.0, -2.0, 2.0]


@pytest.mark.parametrize("op", ["erf", "erfc", "erfinv", "lgamma", "digamma", "expm1",
                                "log1p", "sinc", "logit", "rsqrt", "reciprocal", "exp2",
                                "frac", "round", "ceil", "sign"])
def test_special_values_match_pytorch(op):
    """NaN, infinities, signed zeros and poles give PyTorch's values."""
    r = getattr(retrograd.tensor(EDGES, dtype=retrograd.float64), op)()
    t = getattr(torch.tensor(EDGES, dtype=torch.float64), op)()
    assert_same(r, t)
    defined = ~np.isnan(t.numpy())
    np.testing.assert_array_equal(np.signbit(arr(r))[defined], np.signbit(t.numpy())[defined])


def test_polygamma_and_round_decimals_match_pytorch():
    x = [0.3, 1.7, 4.0, -0.5, 12.25]
    for n in range(4):
        assert_same(retrograd.polygamma(n, retrograd.tensor(x, dtype=retrograd.float64)),
                     torch.polygamma(n, torch.tensor(x, dtype=torch.float64)), rtol=1e-7)
    v = [1.2345, -2.5, 0.125, 1234.5678, -0.0049]
    for d in (-2, -1, 1, 2, 3):
        assert_same(retrograd.round(retrograd.tensor(v), decimals=d),
                     torch.round(torch.tensor(v), decimals=d))


# ---------------------------------------------------------------------- float16

@pytest.mark.parametrize("op", ["add", "mul", "div", "atan2", "maximum", "hypot", "xlogy",
                                "logaddexp", "pow", "remainder", "fmod"])
def test_float16_binary_ops_compute_correctly(op):
    a = [0.5, 1.25, 2.0, 3.5]
    b = [1.5, 0.75, 2.0, 0.25]
    r = getattr(retrograd, op)(retrograd.tensor(a, dtype=retrograd.float16),
                               retrograd.tensor(b, dtype=retrograd.float16))
    t = getattr(torch, op)(torch.tensor(a, dtype=torch.float16),
                           torch.tensor(b, dtype=torch.float16))
    assert_same(r, t, atol=2e-3, rtol=2e-3)


# ---------------------------------------------------------------------- comparison and logic

CMP_VALUES = ([1.0, float("nan"), 2.5, -3.0, float("inf"), 0.0],
              [1.0, float("nan"), 2.0, -3.5, float("inf"), -0.0])


@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge", "logical_and",
                                "logical_or", "logical_xor", "isclose", "maximum", "fmax",
                                "fmin", "minimum"])
@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("float64", "int64"),
                                    ("int32", "bool"), ("uint8", "int8")])
def test_comparisons_match_pytorch(op, dtypes):
    da, db = dtypes
    if op == "isclose" and da != db:
        return  # isclose refuses mixed dtypes (tested in test_dtype_promotion)

    def build(lib, vals, d):
        if d == "bool":
            vals = [bool(v) for v in vals]
        elif not d.startswith("float"):
            vals = [int(v) if np.isfinite(v) else 7 for v in vals]
            if d == "uint8":
                vals = [abs(v) for v in vals]
        return lib.tensor(vals, dtype=getattr(lib, d))

    ra, rb = build(retrograd, CMP_VALUES[0], da), build(retrograd, CMP_VALUES[1], db)
    ta, tb = build(torch, CMP_VALUES[0], da), build(torch, CMP_VALUES[1], db)
    assert_same(getattr(retrograd, op)(ra, rb), getattr(torch, op)(ta, tb))
    if op in ("eq", "lt", "ge"):
        assert_same(getattr(ra, op)(2), getattr(ta, op)(2))
        assert_same(getattr(ra, op)(rb[None]), getattr(ta, op)(tb[None]))


@pytest.mark.parametrize("op", ["isnan", "isinf", "isposinf", "isneginf", "isfinite",
                                "logical_not", "isreal"])
@pytest.mark.parametrize("dtype", ["float32", "float16", "int64", "bool"])
def test_predicates_match_pytorch(op, dtype):
    vals = CMP_VALUES[0] if dtype.startswith("float") else [1, 0, 3, 0, 2, 1]
    r = getattr(retrograd, op)(retrograd.tensor(vals, dtype=getattr(retrograd, dtype)))
    t = getattr(torch, op)(torch.tensor(vals, dtype=getattr(torch, dtype)))
    assert_same(r, t)


def test_isclose_allclose_equal_match_pytorch():
    a = [1.0, 1.0 + 1e-6, float("nan"), float("inf"), 1e-9, 100.0]
    b = [1.0, 1.0, float("nan"), float("inf"), 0.0, 100.01]
    ra, rb = retrograd.tensor(a), retrograd.tensor(b)
    ta, tb = torch.tensor(a), torch.tensor(b)
    for kw in ({}, {"equal_nan": True}, {"rtol": 1e-3, "atol": 0.0}):
        assert_same(retrograd.isclose(ra, rb, **kw), torch.isclose(ta, tb, **kw))
        assert retrograd.allclose(ra, rb, **kw) == torch.allclose(ta, tb, **kw)
    assert retrograd.allclose(ra[:2], rb[:2]) and torch.allclose(ta[:2], tb[:2])
    assert retrograd.equal(ra[:2], ra[:2]) and not retrograd.equal(ra[:2], rb[:2])
    assert not retrograd.equal(ra, ra)  # NaN != NaN, as torch.equal
    assert torch.equal(ta, ta) is False


@pytest.mark.parametrize("expr", [
    "a & b", "a | b", "a ^ b", "~a", "a << s", "a >> s", "3 << s", "a & True", "True ^ c",
    "c & d", "c | d", "~c", "L.bitwise_not(a)", "L.bitwise_and(a, 6)",
    "L.bitwise_left_shift(a, s)", "L.bitwise_right_shift(-a, s)", "a % 3", "-7 % a",
    "a // 2", "7 // a", "a % b", "a // b", "L.where(c, a, b)", "L.where(c, a, 1.5)",
    "L.where(c, 2, b)",
])
def test_operators_on_integer_and_bool_tensors(expr):
    def env(lib):
        return {"L": lib, "a": lib.tensor([5, -3, 12, 7]), "b": lib.tensor([2, 4, 5, 3]),
                "s": lib.tensor([1, 2, 0, 3]), "c": lib.tensor([True, False, True, False]),
                "d": lib.tensor([True, True, False, False])}

    assert_same(eval(expr, env(retrograd)), eval(expr, env(torch)))


def test_shifts_out_of_range_match_pytorch():
    a = [5, -3, 12, 7]
    s = [64, 70, -1, 63]
    for op in ("__lshift__", "__rshift__"):
        r = getattr(retrograd.tensor(a), op)(retrograd.tensor(s))
        t = getattr(torch.tensor(a), op)(torch.tensor(s))
        assert_same(r, t)


# ---------------------------------------------------------------------- in-place and out=

INPLACE = [
    ("add_", (2.0,), {"alpha": 3}), ("sub_", (1.5,), {}), ("mul_", (2.0,), {}),
    ("div_", (4.0,), {}), ("div_", (0.3,), {"rounding_mode": "floor"}), ("pow_", (2,), {}),
    ("remainder_", (0.7,), {}), ("fmod_", (0.7,), {}), ("floor_divide_", (0.3,), {}),
    ("neg_", (), {}), ("abs_", (), {}), ("sign_", (), {}), ("reciprocal_", (), {}),
    ("square_", (), {}), ("sqrt_", (), {}), ("rsqrt_", (), {}), ("exp_", (), {}),
    ("exp2_", (), {}), ("expm1_", (), {}), ("log_", (), {}), ("log2_", (), {}),
    ("log10_", (), {}), ("log1p_", (), {}), ("sin_", (), {}), ("cos_", (), {}),
    ("tan_", (), {}), ("asin_", (), {}), ("acos_", (), {}), ("atan_", (), {}),
    ("arcsin_", (), {}), ("sinh_", (), {}), ("cosh_", (), {}), ("tanh_", (), {}),
    ("asinh_", (), {}), ("atanh_", (), {}), ("sigmoid_", (), {}), ("logit_", (0.1,), {}),
    ("erf_", (), {}), ("erfc_", (), {}), ("erfinv_", (), {}), ("lgamma_", (), {}),
    ("digamma_", (), {}), ("polygamma_", (1,), {}), ("floor_", (), {}), ("ceil_", (), {}),
    ("round_", (), {}), ("round_", (), {"decimals": 1}), ("trunc_", (), {}), ("fix_", (), {}),
    ("frac_", (), {}), ("clamp_", (0.2, 0.6), {}), ("clip_", (None, 0.5), {}),
    ("clamp_min_", (0.3,), {}), ("clamp_max_", (0.3,), {}), ("sinc_", (), {}),
    ("deg2rad_", (), {}), ("rad2deg_", (), {}), ("nan_to_num_", (), {}),
    ("float_power_", (2,), {}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), INPLACE, ids=[f"{n}{i}" for i, (n, _, _) in
                                                                    enumerate(INPLACE)])
def test_inplace_variants_match_pytorch(name, args, kwargs):
    """``x.op_()`` changes x in place (same object, bumped version) to PyTorch's values, and
    gradients flow through it to the leaf as in PyTorch."""
    vals = [0.15, 0.35, 0.55, 0.8]
    rl, tl = both_tensors(vals)
    r, t = rl * 1.0, tl * 1.0
    v0 = r._version
    assert getattr(r, name)(*args, **kwargs) is r
    getattr(t, name)(*args, **kwargs)
    assert r._version > v0
    assert_same(r, t)
    # PyTorch has no derivative for floor_divide_ and for in-place asinh/atanh.
    if name not in ("floor_divide_", "asinh_", "atanh_"):
        r.sum().backward()
        t.sum().backward()
        np.testing.assert_allclose(arr(rl.grad), tl.grad.numpy(), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(("name", "args"), [
    ("atan2_", "y"), ("arctan2_", "y"), ("hypot_", "y"), ("xlogy_", "y"), ("lerp_", "y,0.3"),
    ("lerp_", "y,w"), ("addcmul_", "y,w"), ("addcdiv_", "y,w"), ("remainder_", "y"),
    ("fmod_", "y"), ("pow_", "y"), ("clamp_", "w,y"),
])
def test_binary_inplace_variants_match_pytorch(name, args):
    def run(lib, rg):
        x0 = lib.tensor([0.2, 0.5, 0.9], dtype=lib.float64, requires_grad=rg)
        y = lib.tensor([0.7, 0.3, 1.1], dtype=lib.float64, requires_grad=rg)
        w = lib.tensor([0.4, 0.6, 0.5], dtype=lib.float64, requires_grad=rg)
        x = x0 * 1.0
        getattr(x, name)(*eval(f"({args},)", {"y": y, "w": w}))
        if rg:
            x.sum().backward()
            return x, [v.grad for v in (x0, y, w)]
        return x, []

    rx, rgs = run(retrograd, True)
    tx, tgs = run(torch, True)
    assert_same(rx, tx)
    for a, b in zip(rgs, tgs):
        if b is None:
            assert a is None or not arr(a).any()
        else:
            np.testing.assert_allclose(arr(a), b.numpy(), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("expr", ["L.atan2(a, b, out=o)", "L.exp2(a, out=o)",
                                  "L.maximum(a, b, out=o)", "L.clamp(a, 0.3, out=o)",
                                  "L.add(a, b, alpha=2, out=o)", "L.erf(a, out=o)",
                                  "L.remainder(a, b, out=o)", "L.lerp(a, b, 0.5, out=o)",
                                  "L.round(a, decimals=1, out=o)", "L.sqrt(a, out=o)"])
def test_out_argument(expr):
    def run(lib):
        env = {"L": lib, "a": lib.tensor([0.2, 0.5, 0.9]), "b": lib.tensor([0.7, 0.3, 1.1]),
               "o": lib.empty(3)}
        res = eval(expr, env)
        assert res is env["o"]
        return res

    assert_same(run(retrograd), run(torch))


def test_float_power_is_double_and_square_is_pow():
    x = retrograd.tensor([1.5, 2.0], requires_grad=True)
    y = retrograd.float_power(x, 2)
    assert y.dtype == retrograd.float64
    assert x.square().grad_fn.name() == "PowBackward0"
    assert retrograd.tensor([1, 2]).float_power(retrograd.tensor([2])).dtype == retrograd.float64
    y.sum().backward()
    assert x.grad.dtype == retrograd.float32
    np.testing.assert_allclose(arr(x.grad), [3.0, 4.0])


@pytest.mark.parametrize(("expr", "node"), [
    ("x + y", "AddBackward0"), ("x ** 2", "PowBackward0"), ("x ** y", "PowBackward1"),
    ("2 ** x", "PowBackward2"), ("L.div(x, y, rounding_mode='floor')", "DivBackward2"),
    ("x % y", "RemainderBackward1"), ("x % 2", "RemainderBackward0"),
    ("L.fmod(x, y)", "FmodBackward1"), ("L.fmod(x, 2)", "FmodBackward0"),
    ("x.clamp(0, 1)", "ClampBackward1"), ("x.clamp(y)", "ClampBackward0"),
    ("x.clamp_min(0.5)", "ClampMinBackward0"), ("L.lerp(x, y, 0.3)", "LerpBackward0"),
    ("L.lerp(x, y, y)", "LerpBackward1"), ("L.xlogy(2, y)", "XlogyBackward1"),
    ("x.round(decimals=1)", "RoundBackward1"), ("x.log1p()", "Log1PBackward0"),
    ("L.max(x, y)", "MaximumBackward0"), ("x.square()", "PowBackward0"),
])
def test_node_names_match_pytorch(expr, node):
    def run(lib):
        env = {"L": lib, "x": lib.tensor([0.3, 0.6], requires_grad=True),
               "y": lib.tensor([0.5, 0.4], requires_grad=True)}
        return eval(expr, env).grad_fn.name()

    assert run(retrograd) == run(torch) == node


def test_floor_divide_is_not_differentiable():
    x = retrograd.tensor([1.5, 2.5], requires_grad=True)
    y = x // 0.7
    with pytest.raises(RuntimeError, match="derivative for 'floor_divide' is not implemented"):
        y.sum().backward()
