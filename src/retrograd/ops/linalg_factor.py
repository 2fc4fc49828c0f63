"""Compact factorizations in LAPACK's storage: ``geqrf`` (QR as Householder reflectors),
``linalg.householder_product`` and ``ormqr`` (using them), and ``linalg.ldl_factor(_ex)`` /
``linalg.ldl_solve`` (Bunch-Kaufman symmetric indefinite).

The reflector ops are written with differentiable ops (each reflector H_i = I - tau_i v_i
v_i^H applied in turn), so they need no derivative of their own; v_i is read from below
the diagonal of column i (its diagonal entry is 1), as LAPACK stores it. geqrf and the LDL
ops have no derivative in PyTorch either.
"""

from __future__ import annotations

import numpy as np

from .._tensor import wrap
from ..backend import xp
from ._core import Primitive, register_method
from ._out import dtype_name, takes_out, write_out
from .complex import Conj
from .decompositions import _float, _mT
from .diagonal import _arr, tril
from .indexing import getitem
from .linalg_lu import raise_batch
from .reduction import _result
from .shape import unsqueeze

__all__ = ["geqrf", "ormqr"]


def _lapack(name, data):
    from scipy.linalg import lapack

    return lapack.get_lapack_funcs(name, dtype=data.dtype)


def _each(data, fn):
    """fn on each matrix of a batch; the results stacked back under the batch shape."""
    flat = data.reshape(-1, *data.shape[-2:])
    parts = [fn(mat) for mat in flat]
    return [xp(data).stack([p[i] for p in parts]).reshape(data.shape[:-2] + parts[0][i].shape)
            for i in range(len(parts[0]))] if parts else None


# ------------------------------------------------------------------------- geqrf

class Geqrf(Primitive):
    """(a, tau) = LAPACK geqrf: R on and above the diagonal of a, the reflectors below it.
    No derivative (none in PyTorch either)."""

    __slots__ = ()
    formula = "not differentiable"

    def forward(ctx, x):
        m = xp(x)
        k = min(x.shape[-2:])
        if x.size == 0:
            return m.zeros(x.shape, x.dtype), m.zeros(x.shape[:-2] + (k,), x.dtype)
        geqrf = _lapack("geqrf", x)
        a, tau = _each(x, lambda mat: geqrf(mat)[:2])
        return m.asarray(a, x.dtype), m.asarray(tau, x.dtype)

    def backward(ctx, grad_a, grad_tau=None):
        raise NotImplementedError("the derivative for 'geqrf' is not implemented.")


_geqrf_result = _result("geqrf", ("a", "tau"))


@register_method("geqrf")
@takes_out("geqrf")
def geqrf(input):
    """QR in LAPACK's compact form: ``(a, tau)``, R in a's upper triangle and the Householder
    vectors below its diagonal, with their scales in tau."""
    if input.ndim < 2:
        raise RuntimeError("torch.geqrf: input must have at least 2 dimensions.")
    _kernel_dtype(input, "geqrf_cpu")
    return _geqrf_result(*Geqrf.generic(input))


def _kernel_dtype(x, kernel: str) -> None:
    """PyTorch's CPU kernels refuse integer and bool tensors with NotImplementedError."""
    if _arr(x).dtype.kind not in "fc":
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{dtype_name(_arr(x).dtype)}'")


# ------------------------------------------------------------ Householder reflectors

def _reflectors(A, k: int):
    """V (m x k): column i is v_i, 1 on the diagonal, A's entries below it, 0 above."""
    m = xp(_arr(A))
    rows = A.shape[-2]
    low = tril(getitem(A, (..., slice(None), slice(0, k))), -1)
    return low + m.eye(rows, k, dtype=_arr(A).dtype)


def _conj(x):
    return Conj.generic(x) if _arr(x).dtype.kind == "c" else x


def _apply(V, tau, C, order, left: bool, adjoint: bool):
    """C multiplied by each reflector H_i (H_i^H when adjoint) in ``order``; on the left,
    H C = C - tau v (v^H C); on the right, C H = C - (C v) tau v^H."""
    for i in order:
        v = getitem(V, (..., slice(None), slice(i, i + 1)))  # (..., m, 1)
        t = getitem(tau, (..., slice(i, i + 1)))
        t = _conj(t) if adjoint else t
        if left:
            C = C - unsqueeze(t, -1) * (v @ (_mT(_conj(v)) @ C))
        else:
            C = C - ((C @ v) * unsqueeze(t, -1)) @ _mT(_conj(v))
    return C


def _check_reflectors(A, tau, name: str) -> None:
    if A.ndim < 2:
        raise RuntimeError(f"torch.{name}: input must have at least 2 dimensions.")
    if tau.ndim != A.ndim - 1:
        raise RuntimeError(f"torch.{name}: Expected tau to have one dimension less than "
                           f"input, but got tau.ndim equal to {tau.ndim} and input.ndim is "
                           f"equal to {A.ndim}")
    if tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise RuntimeError(f"torch.{name}: Expected batch dimensions of tau to be equal to "
                           f"input.shape[:-2], but got {list(tau.shape[:-1])}")


def householder_product(A, tau, *, out=None):
    """The first n columns of H_1 H_2 ... H_k, H_i = I - tau_i v_i v_i^H, from geqrf's
    compact form (A is m x n with m >= n >= k)."""
    name = "linalg.householder_product"
    _check_reflectors(A, tau, name)
    if A.shape[-2] < A.shape[-1]:
        raise RuntimeError(f"torch.{name}: input.shape[-2] must be greater than or equal to "
                           "input.shape[-1]")
    if A.shape[-1] < tau.shape[-1]:
        raise RuntimeError(f"torch.{name}: input.shape[-1] must be greater than or equal to "
                           "tau.shape[-1]")
    if _arr(A).dtype != _arr(tau).dtype:
        raise RuntimeError(f"torch.{name}: tau dtype {dtype_name(_arr(tau).dtype)} does not "
                           f"match input dtype {dtype_name(_arr(A).dtype)}")
    _kernel_dtype(A, "orgqr_cpu")
    k = tau.shape[-1]
    m = xp(_arr(A))
    rows, cols = A.shape[-2:]
    eye = m.broadcast_to(m.eye(rows, cols, dtype=_arr(A).dtype), A.shape)
    q = _apply(_reflectors(A, k), tau, eye, range(k - 1, -1, -1), True, False)
    return write_out(q, out, name)


@register_method("ormqr")
@takes_out("ormqr")
def ormqr(input, input2, input3, left=True, transpose=False):
    """``Q @ C`` for Q = H_1 ... H_k from geqrf's compact form (``Q^H`` when transpose,
    ``C @ Q`` when not left), without forming Q."""
    A, tau, C = input, input2, input3
    _check_reflectors(A, tau, "ormqr")
    along = -2 if left else -1
    if C.shape[along] != A.shape[-2]:
        side = "other.shape[-2]" if left else "other.shape[-1]"
        raise RuntimeError(f"torch.ormqr: {side} must be equal to input.shape[-2]")
    if tau.shape[-1] != min(C.shape[along], A.shape[-1]):
        raise RuntimeError(f"torch.ormqr: tau.shape[-1] must be equal to min(other.shape"
                           f"[{along}], input.shape[-1])")
    if _arr(A).dtype != _arr(C).dtype:
        raise RuntimeError(f"torch.ormqr: Expected input and other to have the same dtype, "
                           f"but input has dtype{dtype_name(_arr(A).dtype)} and other has "
                           f"dtype {dtype_name(_arr(C).dtype)}")
    _kernel_dtype(A, "ormqr_cpu")
    k = tau.shape[-1]
    # Q C applies H_k first; Q^H C applies H_1^H first; C Q applies H_1 first.
    forward_order = left == transpose
    order = range(k) if forward_order else range(k - 1, -1, -1)
    return _apply(_reflectors(A, k), tau, C, order, left, transpose)


# ---------------------------------------------------------------------------- LDL

_ldl_ex_result = _result("linalg_ldl_factor_ex", ("LD", "pivots", "info"))
_ldl_result = _result("linalg_ldl_factor", ("LD", "pivots"))


def _ldl(A, hermitian: bool, name: str):
    data = _arr(A)
    if A.ndim < 2:
        raise RuntimeError(f"torch.{name}: The input tensor A must have at least 2 "
                           "dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"torch.{name}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    _float(data, name)
    m = xp(data)
    if data.size == 0:
        return (m.zeros(data.shape, data.dtype), m.zeros(data.shape[:-1], m.int32),
                m.zeros(data.shape[:-2], m.int32))
    routine = "hetrf" if hermitian and data.dtype.kind == "c" else "sytrf"
    sytrf = _lapack(routine, data)
    ld, piv, info = _each(data, lambda mat: [m.asarray(v) for v in sytrf(mat, lower=1)])
    return m.tril(ld).astype(data.dtype), piv.astype(m.int32), info.astype(m.int32)


@takes_out("linalg.ldl_factor_ex")
def ldl_factor_ex(A, *, hermitian=False, check_errors=False):
    """``(LD, pivots, info)``: LAPACK sytrf's compact Bunch-Kaufman factors (lower
    triangle), its 1-based pivots (negative for 2x2 blocks) and info."""
    ld, piv, info = _ldl(A, hermitian, "linalg.ldl_factor_ex")
    if check_errors and info.any():
        _ldl_singular(A, info, "torch.linalg.ldl_factor_ex")
    return _ldl_ex_result(wrap(ld), wrap(piv), wrap(info))


def _ldl_singular(A, info, name):
    raise_batch(A, info, name, lambda i: f"The factorization could not be completed because "
                f"the block diagonal matrix is singular (D[{i},{i}] is exactly zero).")


@takes_out("linalg.ldl_factor")
def ldl_factor(A, *, hermitian=False):
    """``(LD, pivots)``; a singular D is an error."""
    ld, piv, info = _ldl(A, hermitian, "linalg.ldl_factor")
    if info.any():
        _ldl_singular(A, info, "torch.linalg.ldl_factor")
    return _ldl_result(wrap(ld), wrap(piv))


@takes_out("linalg.ldl_solve")
def ldl_solve(LD, pivots, B, *, hermitian=False):
    """X with ``A X = B`` from ``ldl_factor``'s output (LAPACK sytrs)."""
    ld, piv, b = _arr(LD), _arr(pivots), _arr(B)
    name = "torch.linalg.ldl_solve"
    if b.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor B must have at least 2 dimensions.")
    if ld.dtype != b.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{dtype_name(b.dtype)} and A of type {dtype_name(ld.dtype)} "
                           "instead.")
    if piv.dtype != np.int32:
        raise RuntimeError(f"{name}: Expected LD.dtype and pivots.dtype to be int32, but got "
                           f"{dtype_name(piv.dtype)}")
    if b.shape[-2] != ld.shape[-1]:
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation AX = B "
                           f"({ld.shape[-2]}x{ld.shape[-1]} and {b.shape[-2]}x{b.shape[-1]})")
    m = xp(b)
    batch = np.broadcast_shapes(ld.shape[:-2], b.shape[:-2], piv.shape[:-1])
    lds = m.broadcast_to(ld, batch + ld.shape[-2:]).reshape(-1, *ld.shape[-2:])
    pivs = m.broadcast_to(piv, batch + piv.shape[-1:]).reshape(-1, piv.shape[-1])
    bs = m.broadcast_to(b, batch + b.shape[-2:]).reshape(-1, *b.shape[-2:])
    if b.size == 0 or ld.size == 0:
        return wrap(m.zeros(batch + b.shape[-2:], b.dtype))
    routine = "hetrs" if hermitian and b.dtype.kind == "c" else "sytrs"
    sytrs = _lapack(routine, b)
    out = m.stack([sytrs(f, p, y, lower=1)[0] for f, p, y in zip(lds, pivs, bs)])
    return wrap(out.reshape(batch + b.shape[-2:]).astype(b.dtype))
