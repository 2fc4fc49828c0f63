"""``torch.linalg``'s functions and PyTorch's older top-level names for them (det, slogdet,
inv, solve, cholesky, qr, eigh, svd, pinv, lstsq, matrix_power, matrix and vector norms),
written over the primitives of ``decompositions``. This module also gathers the linear
algebra family (products, diagonals) for ``retrograd``'s namespace.
"""

from __future__ import annotations

import numpy as np

from .._dims import wrap_dim
from .._tensor import Tensor, wrap
from ..backend import xp
from ._core import Primitive, register_method
from ._out import dtype_name, takes_out, write_out
from .decompositions import (
    Cholesky,
    Det,
    Eigh,
    Inv,
    LinAlgError,
    Qr,
    Slogdet,
    Solve,
    Svd,
    _eye_like,
    _float,
    _mT,
)
from .diagonal import _arr, diag, diag_embed, diagonal, trace, tril, triu
from .indexing import getitem
from .linalg_factor import geqrf, ormqr
from .linalg_lu import (
    linalg_lu_solve,
    lu,
    lu_factor_ex,
    lu_solve,
    lu_unpack,
    raise_batch,
    singular_info,
    zero_info,
)
from .linalg_triangular import (
    _adj,
    cholesky_inverse,
    cholesky_solve,
    triangular_solve,
)
from .norms import vector_norm
from .products import (
    _cross,
    addbmm,
    addmm,
    addmv,
    baddbmm,
    bmm,
    cross,
    dot,
    einsum,
    ger,
    inner,
    kron,
    mv,
    outer,
    tensordot,
    vdot,
)
from .reduction import _result
from .shape import permute, reshape, squeeze, unsqueeze
from .unary import log, where

__all__ = ["addbmm", "addmm", "addmv", "baddbmm", "bmm", "cholesky", "cholesky_inverse",
           "cholesky_solve", "cross", "det", "diag", "diag_embed", "diagonal", "dot", "einsum",
           "geqrf", "ger", "inner", "inverse", "kron", "LinAlgError", "logdet", "lu", "lu_solve",
           "lu_unpack", "matrix_power", "mv", "ormqr", "outer", "pinverse", "qr", "slogdet", "svd",
           "tensordot", "trace", "triangular_solve", "tril", "triu", "vdot"]




# ------------------------------------------------------------------- linalg functions

@register_method("det")
def det(A, *, out=None):
    """Determinant of square matrices."""
    return write_out(Det.generic(A), out, "linalg.det")


@register_method("slogdet")
@takes_out("slogdet")
def slogdet(A, *, out=None):
    """``(sign, logabsdet)`` of the determinant."""
    return _slogdet_old(*Slogdet.generic(A))


@takes_out("linalg.slogdet")
def linalg_slogdet(A, *, out=None):
    return _slogdet_result(*Slogdet.generic(A))


_slogdet_result = _result("linalg_slogdet", ("sign", "logabsdet"))
_slogdet_old = _result("slogdet", ("sign", "logabsdet"))


@register_method("logdet")
def logdet(input):
    """log(det(A)); NaN for a negative determinant."""
    sign, logabs = slogdet(input)
    return logabs + log(sign)


def inv(A, *, out=None):
    """Inverse of square matrices; LinAlgError (a RuntimeError) when singular."""
    return write_out(Inv.generic(A), out, "linalg.inv")


inverse = inv


_solve_ex_result = _result("linalg_solve_ex", ("result", "info"))


@takes_out("linalg.solve_ex")
def solve_ex(A, B, *, left=True, check_errors=False):
    """``(result, info)`` of ``linalg.solve``; a singular A gives LAPACK's info (and
    inf/NaN entries, no gradient) instead of an error unless ``check_errors``."""
    square = A.ndim >= 2 and A.shape[-1] == A.shape[-2]
    info = singular_info(A) if square else None
    if info is None or not info.any():
        return _solve_ex_result(solve(A, B, left=left), wrap(zero_info(A, info)))
    if check_errors:
        raise_batch(A, info, "torch.linalg.solve_ex",
                    lambda i: "The solver failed because the input matrix is singular.")
    lu, piv = lu_factor_ex(A)[:2]
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    b = unsqueeze(B, -1) if vector else B
    with np.errstate(all="ignore"):
        x = linalg_lu_solve(lu, piv, b, left=left)
    return _solve_ex_result(squeeze(x, -1) if vector else x, wrap(info))


def solve(A, B, *, left=True, out=None):
    """X with ``A X = B`` (``X A = B`` when ``left=False``); B may be a (batch of) vector(s)."""
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    if not left:
        return write_out(_mT(solve(_mT(A), _mT(B))), out, "linalg.solve")
    if vector:
        return write_out(squeeze(Solve.generic(A, unsqueeze(B, -1)), -1), out, "linalg.solve")
    return write_out(Solve.generic(A, B), out, "linalg.solve")


@register_method("cholesky")
def cholesky(A, upper=False, *, out=None):
    """Lower (or upper) Cholesky factor of symmetric positive-definite matrices."""
    L = Cholesky.generic(A)
    return write_out(_adj(L) if upper else L, out, "linalg.cholesky")  # U = L^H


_qr_result = _result("linalg_qr", ("Q", "R"))
_qr_old = _result("qr", ("Q", "R"))


@takes_out("linalg.qr")
def linalg_qr(A, mode="reduced", *, out=None):
    return _qr_result(*Qr.generic(A, mode=mode))


@register_method("qr")
@takes_out("qr")
def qr(input, some=True, *, out=None):
    """``(Q, R)`` (reduced when ``some``, complete otherwise)."""
    return _qr_old(*Qr.generic(input, mode="reduced" if some else "complete"))


_eigh_result = _result("linalg_eigh", ("eigenvalues", "eigenvectors"))


@takes_out("linalg.eigh")
def eigh(A, UPLO="L", *, out=None):
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices."""
    return _eigh_result(*Eigh.generic(A, UPLO=UPLO))


@takes_out("linalg.eigvalsh", "exact")
def eigvalsh(A, UPLO="L", *, out=None):
    return eigh(A, UPLO).eigenvalues


_svd_result = _result("linalg_svd", ("U", "S", "Vh"))
_svd_old = _result("svd", ("U", "S", "V"))


@takes_out("linalg.svd")
def linalg_svd(A, full_matrices=True, *, driver=None, out=None):
    return _svd_result(*Svd.generic(A, full_matrices=full_matrices))


@register_method("svd")
@takes_out("svd")
def svd(input, some=True, compute_uv=True, *, out=None):
    """``torch.svd``: ``(U, S, V)`` with V (not Vh); reduced when ``some``."""
    u, s, vh = Svd.generic(input, full_matrices=not some)
    return _svd_old(u, s, _mT(vh))


def svdvals(A, *, driver=None, out=None):
    """Singular values, descending."""
    return write_out(Svd.generic(A, full_matrices=False)[1], out, "linalg.svdvals")


class Pinv(Primitive):
    """P = pinv(A) (through the SVD, or the eigendecomposition of the lower triangle when
    hermitian).  With R = I - A P and S = I - P A (projections off A's range and row space):
    d/dA = -P^H g P^H + R g^H P P^H + P^H P g^H S; tangent -P dA P + P P^H dA^H R
    + S dA^H P^H P (valid where the rank does not change)."""

    __slots__ = ()
    _name = "LinalgPinvBackward0"
    formula = "-P^H g P^H + (I - A P) g^H P P^H + P^H P g^H (I - P A)"

    def forward(ctx, x, atol=None, rtol=None, hermitian=False):
        out = _pinv_array(x, atol, rtol, hermitian)
        ctx.save(x, out)
        return out

    def backward(ctx, grad):
        x, p = ctx.saved
        ph = _adj(p)
        gh = _adj(grad)
        off_range = _minus_eye(x @ p)
        off_rows = _minus_eye(p @ x)
        return -(ph @ grad @ ph) + off_range @ gh @ (p @ ph) + (ph @ p) @ gh @ off_rows

    def jvp(ctx, tx):
        x, p = ctx.saved
        th = _adj(tx)
        return (-(p @ tx @ p) + (p @ _adj(p)) @ th @ _minus_eye(x @ p)
                + _minus_eye(p @ x) @ th @ (_adj(p) @ p))


def _minus_eye(m):
    """I - m for square m."""
    return xp(_arr(m)).eye(m.shape[-1], dtype=_arr(m).dtype) - m


def _pinv_array(x, atol, rtol, hermitian):
    m = xp(x)
    if hermitian:
        s, u = m.linalg.eigh(x)
        vh = m.conj(m.swapaxes(u, -1, -2))
    else:
        u, s, vh = m.linalg.svd(x, full_matrices=False)
    size = m.abs(s)
    smax = size.max(-1, keepdims=True, initial=0)
    if atol is None and rtol is None:
        rtol = max(x.shape[-2:]) * np.finfo(s.dtype).eps
    cut = np.maximum(_raw(atol) or 0, (_raw(rtol) or 0) * smax)
    keep = size > cut
    with np.errstate(all="ignore"):
        sinv = m.where(keep, 1 / m.where(keep, s, 1), 0)
    return m.conj(m.swapaxes(vh, -1, -2)) @ (sinv[..., :, None] * m.conj(m.swapaxes(u, -1, -2)))


def _raw(v):
    if isinstance(v, Tensor):
        v = v._data
    return v[..., None] if isinstance(v, np.ndarray) and v.ndim else v


def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """Moore-Penrose pseudo-inverse: singular values (eigenvalue moduli when ``hermitian``,
    reading the lower triangle) at most ``max(atol, rtol * largest)`` count as zero."""
    _float(A._data if isinstance(A, Tensor) else A, "linalg.pinv")
    return write_out(Pinv.generic(A, atol=atol, rtol=rtol, hermitian=hermitian), out,
                     "linalg.pinv")


@register_method("pinverse")
def pinverse(input, rcond=1e-15):
    return pinv(input, rtol=rcond)


@register_method("matrix_power")
def matrix_power(A, n, *, out=None):
    """A @ A @ ... (n times); A^-1 powers for negative n; identity for n = 0."""
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but "
                           f"they are {A.shape[-2] if A.ndim > 1 else 1} by {A.shape[-1]} "
                           "matrices")
    if n == 0:

        eye = _eye_like(A, A.shape[-1])
        res = where(eye, 1, 0 * A) if A.requires_grad else where(eye, A * 0 + 1, 0)
        return write_out(res, out, "linalg.matrix_power")
    if n < 0:
        A, n = inv(A), -n
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return write_out(result, out, "linalg.matrix_power")


_lstsq_result = _result("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))


_LSTSQ_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def _lstsq_checks(A, B, driver):
    if driver not in _LSTSQ_DRIVERS:
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, "
                           "gelsy, gelsd, gelss)")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError("torch.linalg.lstsq: Expected input and other to have the same dtype, "
                           f"but got input's dtype {dtype_name(A._data.dtype)} and other's "
                           f"dtype {dtype_name(B._data.dtype)}")
    _float(A._data, "torch.linalg.lstsq")
    if A.ndim < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    if B.ndim < 1:
        raise RuntimeError("torch.linalg.lstsq: other must have at least 1 dimension.")
    vector = B.ndim == A.ndim - 1
    if (B.shape[-1] if vector else B.shape[-2]) != A.shape[-2]:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size("
                           f"{-1 if vector else -2})")


def _gels_rank_error(data, rank, k):
    """gels (QR) fails on a rank-deficient matrix, naming the first zero pivot of R."""
    m = xp(data)
    mats = data.reshape(-1, *data.shape[-2:])
    bad = int(m.argmax(rank.reshape(-1) < k))
    r = m.linalg.qr(mats[bad], mode="r")
    diag = m.abs(m.diagonal(r))
    pivot = int(m.argmax(diag <= diag.max() * m.finfo(data.dtype).eps * max(data.shape[-2:])))
    prefix = f"(Batch element {bad}): " if data.ndim > 2 else ""
    return LinAlgError(f"torch.linalg.lstsq: {prefix}The least squares solution could not be "
                       "computed "
                       "because the input matrix does not have full rank (error code: "
                       f"{pivot + 1}).")


def lstsq(A, B, rcond=None, *, driver=None):
    """Least-squares solution of ``A X = B`` (through the pseudo-inverse), with what each
    LAPACK driver reports: residuals (squared column norms of ``A X - B``, for tall full-rank
    A with gels, gelsd, gelss), rank (all but gels) and singular values (gelsd, gelss)."""
    driver = "gelsy" if driver is None else driver
    _lstsq_checks(A, B, driver)
    vector = B.ndim == A.ndim - 1
    b = unsqueeze(B, -1) if vector else B
    data = A._data
    m = xp(data)
    rows, cols = data.shape[-2:]
    sv = m.linalg.svd(data, compute_uv=False)
    rtol = m.finfo(data.dtype).eps * max(rows, cols) if rcond is None or rcond < 0 else rcond
    top = sv.max(-1, keepdims=True, initial=0)
    rank = (sv > rtol * top).sum(-1).astype(m.int64)
    k = min(rows, cols)
    if driver == "gels" and (rank < k).any():
        raise _gels_rank_error(data, rank, k)
    x = pinv(A, rtol=rtol) @ b
    real = sv.dtype  # residuals and singular values are real for complex A
    empty = wrap(m.zeros((0,), real))
    if rows > cols and driver != "gelsy" and (rank == cols).all():
        r = A @ x - b
        residuals = ((r * r.conj()).real if r.is_complex() else r ** 2).sum(-2)
    else:  # none reported, yet part of the graph (zero gradient), as in PyTorch
        residuals = getitem(reshape(x, (-1,)), slice(0, 0)) if x.requires_grad else empty
        if residuals.is_complex():
            residuals = residuals.real
    return _lstsq_result(
        squeeze(x, -1) if vector else x, residuals,
        wrap(m.zeros((0,), m.int64)) if driver == "gels" else wrap(rank),
        wrap(sv) if driver in ("gelsd", "gelss") else empty)


def _matrix_dims(A, dim):
    d0, d1 = (wrap_dim(d, A.ndim) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, "
                           f"{dim[1]})")
    return d0, d1


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """Matrix norms: 'fro', 'nuc', 2, -2 (singular values), 1, -1, inf, -inf (abs sums)."""
    from .reduction import amax, amin, sum

    if dtype is not None:
        A = A.to(dtype)
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    _float(A._data, "linalg.matrix_norm")
    d0, d1 = _matrix_dims(A, dim)
    if ord == "fro":
        return write_out(vector_norm(A, 2, (d0, d1), keepdim), out, "linalg.matrix_norm")
    kept = tuple(1 if i in (d0, d1) else s for i, s in enumerate(A.shape))
    if ord in ("nuc", 2, -2):
        rest = [i for i in range(A.ndim) if i not in (d0, d1)]
        s = svdvals(permute(A, *rest, d0, d1))
        res = sum(s, -1) if ord == "nuc" else (amax(s, -1) if ord == 2 else amin(s, -1))
    elif ord in (1, -1, float("inf"), -float("inf")):
        a, b = (d0, d1) if ord in (1, -1) else (d1, d0)
        col = A.abs().sum(a, keepdim=True)
        res = amax(col, b, keepdim=True) if ord > 0 else amin(col, b, keepdim=True)
    else:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    shape = kept if keepdim else tuple(s for i, s in enumerate(A.shape) if i not in (d0, d1))
    return write_out(reshape(res, shape), out, "linalg.matrix_norm")


def linalg_norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    """``torch.linalg.norm``: a vector norm (1-d, an int dim, or ord None) or a matrix norm
    (2-d, a 2-tuple dim, or a string ord)."""
    if isinstance(dim, int):
        dim = (dim,)
    if isinstance(ord, str) or (dim is not None and len(dim) == 2) or \
            (dim is None and ord is not None and A.ndim == 2):
        if dim is None and A.ndim != 2:
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input "
                               f"must be 1D or 2D. Got {A.ndim}D.")
        return matrix_norm(A, "fro" if ord is None else ord, dim or (-2, -1), keepdim,
                           dtype=dtype, out=out)
    if dim is None and ord is not None and A.ndim != 1:
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must "
                           f"be 1D or 2D. Got {A.ndim}D.")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype, out=out)


def linalg_cross(input, other, *, dim=-1, out=None):
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    return write_out(_cross(input, other, dim, "linalg.cross"), out, "linalg.cross")


def vecdot(x, y, *, dim=-1, out=None):
    return write_out((x * y).sum(dim), out, "linalg.vecdot")


def multi_dot(tensors, *, out=None):
    res = tensors[0]
    for t in tensors[1:]:
        res = res @ t
    return write_out(res, out, "linalg.multi_dot")


register_method("inverse")(inverse)
