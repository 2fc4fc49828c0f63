"""``torch.special``'s orthogonal polynomials p_n(x): Chebyshev T, U, V, W and their shifted
forms, Hermite H and He, Laguerre L and Legendre P, computed by SciPy (imported on first use).

PyTorch's rules, learned by running it: the degree n is truncated toward zero (2.7 -> 2,
-0.5 -> 0), and a negative or non-finite n gives 0; x and n may be Tensors or one of them a
number; the result is not differentiable (it never requires grad) in either argument. The
shared rules (dtypes, errors, ``out=``) are in ``_nograd``.

Chebyshev V and W, which SciPy lacks, come from U: V_n = U_n - U_(n-1) and
W_n = U_n + U_(n-1) (with U_(-1) = 0); a shifted polynomial is p_n(2x - 1).
"""

from __future__ import annotations

import numpy as np

from ._nograd import binary_nograd

__all__ = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
           "chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
           "laguerre_polynomial_l", "legendre_polynomial_p", "shifted_chebyshev_polynomial_t",
           "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
           "shifted_chebyshev_polynomial_w"]

_INT64_LIMIT = 2.0 ** 63  # a degree past int64 is PyTorch's negative (and gives 0)


def _degree(n):
    """The integer degree and where it is valid (finite, >= 0 after truncation)."""
    k = np.trunc(n)
    valid = np.isfinite(k) & (k >= 0) & (k < _INT64_LIMIT)
    return np.where(valid, k, 0).astype(np.int64), valid


def _finish(value, x, k, valid, p1):
    """0 for an invalid degree; p_0 = 1 and p_1 exactly, so that an infinite x gives
    1 and +-inf there (SciPy's general formulas give NaN), as PyTorch."""
    value = np.where(k == 1, p1(x), value)
    return np.where(valid, np.where(k == 0, 1.0, value), 0.0)


def _scipy_poly(name, p1):
    """A kernel ``(x, n) -> p_n(x)`` from scipy.special.eval_<name>; p1 is p_1."""
    def kernel(x, n):
        from scipy import special

        k, valid = _degree(n)
        return _finish(getattr(special, "eval_" + name)(k, x), x, k, valid, p1)

    return kernel


def _chebyshev_vw(sign):
    """V (sign -1) or W (sign +1) from U: U_k(x) + sign * U_(k-1)(x); p_1 = 2x + sign."""
    def kernel(x, n):
        from scipy import special

        k, valid = _degree(n)
        u = special.eval_chebyu(k, x)
        below = np.where(k > 0, special.eval_chebyu(np.maximum(k - 1, 0), x), 0.0)
        return _finish(u + sign * below, x, k, valid, lambda x: 2 * x + sign)

    return kernel


def _shifted(kernel):
    def shifted(x, n):
        return kernel(2 * x - 1, n)

    return shifted


_T, _U = _scipy_poly("chebyt", lambda x: x), _scipy_poly("chebyu", lambda x: 2 * x)
_V, _W = _chebyshev_vw(-1), _chebyshev_vw(1)

chebyshev_polynomial_t = binary_nograd(
    "chebyshev_polynomial_t", _T, "The Chebyshev polynomial of the first kind T_n(x).")
chebyshev_polynomial_u = binary_nograd(
    "chebyshev_polynomial_u", _U, "The Chebyshev polynomial of the second kind U_n(x).")
chebyshev_polynomial_v = binary_nograd(
    "chebyshev_polynomial_v", _V, "The Chebyshev polynomial of the third kind V_n(x).")
chebyshev_polynomial_w = binary_nograd(
    "chebyshev_polynomial_w", _W, "The Chebyshev polynomial of the fourth kind W_n(x).")
shifted_chebyshev_polynomial_t = binary_nograd(
    "shifted_chebyshev_polynomial_t", _shifted(_T), "T_n(2x - 1), orthogonal on [0, 1].")
shifted_chebyshev_polynomial_u = binary_nograd(
    "shifted_chebyshev_polynomial_u", _shifted(_U), "U_n(2x - 1), orthogonal on [0, 1].")
shifted_chebyshev_polynomial_v = binary_nograd(
    "shifted_chebyshev_polynomial_v", _shifted(_V), "V_n(2x - 1), orthogonal on [0, 1].")
shifted_chebyshev_polynomial_w = binary_nograd(
    "shifted_chebyshev_polynomial_w", _shifted(_W), "W_n(2x - 1), orthogonal on [0, 1].")
hermite_polynomial_h = binary_nograd(
    "hermite_polynomial_h", _scipy_poly("hermite", lambda x: 2 * x),
    "The physicists' Hermite polynomial H_n(x).")
hermite_polynomial_he = binary_nograd(
    "hermite_polynomial_he", _scipy_poly("hermitenorm", lambda x: x),
    "The probabilists' Hermite polynomial He_n(x).")
laguerre_polynomial_l = binary_nograd(
    "laguerre_polynomial_l", _scipy_poly("laguerre", lambda x: 1 - x),
    "The Laguerre polynomial L_n(x).")
legendre_polynomial_p = binary_nograd(
    "legendre_polynomial_p", _scipy_poly("legendre", lambda x: x),
    "The Legendre polynomial P_n(x).")
