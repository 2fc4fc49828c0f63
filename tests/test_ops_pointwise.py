"""Table-driven tests of the elementwise op library (issue: the full differentiable op
library): every row is checked against NumPy/SciPy, finite differences (gradcheck and
gradgradcheck), PyTorch (forward, gradient, double gradient) and forward mode."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sp
from optable import (
    OpCase,
    check_against_torch,
    check_forward_ad,
    check_forward_numpy,
    check_gradients,
    params,
)

torch = pytest.importorskip("torch")

U = [((2, 3),), ((),), ((4,),)]
B = [((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1), (1, 5)), ((), (3,))]
T3 = [((2, 3), (2, 3), (2, 3)), ((2, 3), (3,), ()), ((3, 1), (1, 2), (3, 2))]
NC = [((3, 2), (2, 3))]  # fn transposes the first input: a non-contiguous operand


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
    OpCase("exp2", lambda L, a: a.exp2(), np.exp2, U),
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
    OpCase("atan2", lambda L, a, b: L.atan2(a, b), np.arctan2, B),
    OpCase("arctan2_t", lambda L, a, b: a.t().arctan2(b), lambda a, b: np.arctan2(a.T, b), NC),
    OpCase("hypot", lambda L, a, b: L.hypot(a, b), np.hypot, B),
    # special functions
    OpCase("sigmoid_method", lambda L, a: a.sigmoid(), sp.expit, U, domain=(-5, 5)),
    OpCase("logit", lambda L, a: a.logit(), sp.logit, U, domain=(0.1, 0.9)),
    OpCase("logit_eps", lambda L, a: L.logit(a, eps=0.2), lambda a: sp.logit(np.clip(a, .2, .8)),
           U, domain=(0.05, 0.95)),
    OpCase("erf", lambda L, a: a.erf(), sp.erf, U),
    OpCase("erfc", lambda L, a: L.erfc(a), sp.erfc, U, domain=(-3, 3)),
    OpCase("erfinv", lambda L, a: a.erfinv(), sp.erfinv, U, domain=(-0.95, 0.95)),
    OpCase("lgamma", lambda L, a: a.lgamma(), sp.gammaln, U, domain=(0.2, 5)),
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
    OpCase("clamp_max_t", lambda L, a, b: L.clamp_max(a.t(), b), lambda a, b: np.minimum(a.T, b),
           NC),
    # max / min family
    OpCase("maximum", lambda L, a, b: L.maximum(a, b), np.maximum, B),
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
           lambda a, b, c: a - 0.5 * b * c, T3),
    OpCase("addcdiv", lambda L, a, b, c: a.addcdiv(b, c, value=2),
           lambda a, b, c: a + 2 * b / c, T3, make=_uniform((-2, 2), (-2, 2), (0.5, 2))),
    OpCase("xlogy", lambda L, a, b: L.xlogy(a, b), sp.xlogy, B,
           make=_uniform((-2, 2), (0.5, 3))),
    OpCase("xlogy_scalar_self", lambda L, b: L.xlogy(2.0, b), lambda b: sp.xlogy(2, b), U,
           domain=(0.5, 3)),
    OpCase("logaddexp", lambda L, a, b: L.logaddexp(a, b), np.logaddexp, B),
    OpCase("logaddexp2", lambda L, a, b: a.logaddexp2(b), np.logaddexp2, B),
]


@pytest.mark.parametrize(("case", "shapes"), params(CASES))
def test_forward_matches_numpy(case, shapes):
    check_forward_numpy(case, shapes)


@pytest.mark.parametrize(("case", "shapes"), params([c for c in CASES if c.grad]))
def test_gradients_match_finite_differences(case, shapes):
    check_gradients(case, shapes)


@pytest.mark.parametrize(("case", "shapes"), params(CASES))
def test_matches_pytorch(case, shapes):
    check_against_torch(case, shapes)


@pytest.mark.parametrize(("case", "shapes"), params([c for c in CASES if c.grad]))
def test_forward_ad_matches_finite_differences(case, shapes):
    check_forward_ad(case, shapes)
