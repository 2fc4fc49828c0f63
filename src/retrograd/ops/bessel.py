"""``torch.special``'s Bessel and Airy functions, computed by SciPy (imported on first use).

PyTorch does not differentiate these (their results never require grad), and neither do
we: see ``_nograd`` for the shared rules (Tensor input, integers to float, no float16).
"""

from __future__ import annotations

import numpy as np

from ._nograd import unary_nograd

__all__ = ["airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
           "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
           "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0"]

# Ai(x) ~ exp(-2/3 x^1.5) / (2 sqrt(pi) x^0.25) is below the smallest double past x ~ 105;
# SciPy gives NaN far out (1e10), the value is 0.
_AIRY_UNDERFLOW = 110.0


def _scipy(name):
    def kernel(x):
        from scipy import special

        return getattr(special, name)(x)

    return kernel


def _airy_ai(x):
    from scipy import special

    return np.where(x > _AIRY_UNDERFLOW, 0.0, special.airy(x)[0])


def _spherical_j0(x):
    from scipy import special

    return special.spherical_jn(0, x)


airy_ai = unary_nograd("airy_ai", _airy_ai, "The Airy function Ai(input).")
bessel_j0 = unary_nograd("bessel_j0", _scipy("j0"),
                         "The Bessel function of the first kind of order 0.")
bessel_j1 = unary_nograd("bessel_j1", _scipy("j1"),
                         "The Bessel function of the first kind of order 1.")
bessel_y0 = unary_nograd("bessel_y0", _scipy("y0"),
                         "The Bessel function of the second kind of order 0 (NaN below 0).")
bessel_y1 = unary_nograd("bessel_y1", _scipy("y1"),
                         "The Bessel function of the second kind of order 1 (NaN below 0).")
modified_bessel_i0 = unary_nograd("modified_bessel_i0", _scipy("i0"),
                                  "The modified Bessel function of the first kind, order 0.")
modified_bessel_i1 = unary_nograd("modified_bessel_i1", _scipy("i1"),
                                  "The modified Bessel function of the first kind, order 1.")
modified_bessel_k0 = unary_nograd("modified_bessel_k0", _scipy("k0"),
                                  "The modified Bessel function of the second kind, order 0.")
modified_bessel_k1 = unary_nograd("modified_bessel_k1", _scipy("k1"),
                                  "The modified Bessel function of the second kind, order 1.")
scaled_modified_bessel_k0 = unary_nograd("scaled_modified_bessel_k0", _scipy("k0e"),
                                         "exp(input) * modified_bessel_k0(input).")
scaled_modified_bessel_k1 = unary_nograd("scaled_modified_bessel_k1", _scipy("k1e"),
                                         "exp(input) * modified_bessel_k1(input).")
spherical_bessel_j0 = unary_nograd("spherical_bessel_j0", _spherical_j0,
                                   "The spherical Bessel function of the first kind, order 0: "
                                   "sin(input) / input.")
