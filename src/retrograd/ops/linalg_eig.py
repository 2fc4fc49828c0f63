"""The general eigendecomposition: ``linalg.eig`` and ``linalg.eigvals``. Results are always
complex (complex64 from float32, complex128 from float64), as in PyTorch, with LAPACK geev's
eigenvectors: unit norm, largest component real.

An eigenvector is only defined up to a phase e^{i phi}; a loss that depends on that phase
has no gradient, and backward says so (PyTorch's error) rather than return a meaningless
one.
"""

from __future__ import annotations

import numpy as np

from ..backend import xp
from ._core import Primitive
from ._out import takes_out
from .complex import Real
from .decompositions import Solve, _adj, _bcast_col, _bcast_mat, _eye_like, _gauge_check, _sq
from .diagonal import diag_embed, diagonal
from .reduction import _result
from .unary import where

__all__: list[str] = []

_COMPLEX = {np.dtype(np.float32): np.complex64, np.dtype(np.float64): np.complex128}

_EIG_PHASE = ("linalg_eig_backward: The eigenvectors in the complex case are specified up to "
              "multiplication by e^{i phi}. The specified loss function depends on this "
              "quantity, so it is ill-defined.")


class Eig(Primitive):
    """(w, V) with A V = V diag(w).  With E = V^{-1} dA V: dw = diag(E), dV = V (F o E)
    minus each column's component along itself (the columns keep unit norm), F_ij =
    1 / (w_j - w_i).  So d/dA = V^{-H} (diag(gw) + conj(F) o G) V^H with G = V^H gV
    - V^H V diag(Re diag(V^H gV)); real for a real A."""

    __slots__ = ("real_input",)
    _name = "LinalgEigBackward0"
    formula = "V^-H (diag(gw) + conj(F) o (V^H gV - V^H V diag(Re diag(V^H gV)))) V^H"

    def forward(ctx, x):
        _sq(x, "linalg.eig")
        m = xp(x)
        ctx.real_input = x.dtype.kind != "c"
        dtype = _COMPLEX.get(x.dtype, x.dtype)
        if x.size == 0:
            w, v = m.zeros(x.shape[:-1], dtype), m.zeros(x.shape, dtype)
        else:
            w, v = m.linalg.eig(x)
        w, v = m.asarray(w, dtype), m.asarray(v, dtype)
        ctx.save(w, v)
        return w, v

    def _gaps(ctx, w):
        """conj(F): F_ij = 1 / (w_j - w_i) off the diagonal, 0 on it."""
        eye = _eye_like(w, w.shape[-1])
        diff = _bcast_mat(w) - _bcast_col(w)
        return where(eye, 0, 1 / where(eye, 1, diff)).conj()

    def backward(ctx, gw, gv=None):
        w, v = ctx.saved
        inner = diag_embed(w * 0 if gw is None else gw)
        if gv is not None:
            vgv = _adj(v) @ gv
            _gauge_check(vgv, _EIG_PHASE)
            norm = (_adj(v) @ v) * _bcast_mat(Real.generic(diagonal(vgv, 0, -2, -1)))
            inner = inner + ctx._gaps(w) * (vgv - norm)
        ga = Solve.generic(_adj(v), inner @ _adj(v))
        return Real.generic(ga) if ctx.real_input else ga

    def jvp(ctx, tx):
        w, v = ctx.saved
        e = Solve.generic(v, tx @ v)  # V^{-1} dA V
        k = ctx._gaps(w).conj() * e
        vk = v @ k
        along = Real.generic(diagonal(_adj(v) @ vk, 0, -2, -1))
        return diagonal(e, 0, -2, -1), vk - v * _bcast_mat(along)


_eig_result = _result("linalg_eig", ("eigenvalues", "eigenvectors"))


@takes_out("linalg.eig")
def eig(A):
    """``(eigenvalues, eigenvectors)`` of square matrices, complex in any case."""
    return _eig_result(*Eig.generic(A))


@takes_out("linalg.eigvals")
def eigvals(A):
    """The eigenvalues of square matrices (complex)."""
    return Eig.generic(A)[0]

