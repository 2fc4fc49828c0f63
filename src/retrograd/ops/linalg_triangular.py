"""Triangular and Cholesky-factor solves: ``linalg.solve_triangular``, ``triangular_solve``,
``cholesky_solve``, ``cholesky_inverse`` and ``linalg.cholesky_ex``.

Forward reads only the triangle named by ``upper`` (LAPACK's convention). The triangular
solve's gradient for A is restricted to that triangle (strictly, when unitriangular); the
Cholesky-factor ops differentiate ``L L^H`` with L a full matrix, as PyTorch does.
"""

from __future__ import annotations

import numpy as np

from .._tensor import wrap
from ..backend import xp
from ._core import Primitive, register_method
from ._out import dtype_name, takes_out, write_out
from .decompositions import Cholesky, LinAlgError, _adj, _float, _mT
from .diagonal import _arr, tril, triu
from .reduction import _result
from .shape import clone

__all__ = ["cholesky_inverse", "cholesky_solve", "triangular_solve"]


# --------------------------------------------------------------------------- helpers

def _solve_batch(a, b, lower: bool, unit: bool):
    """A^{-1} B for triangular A (only its triangle read), batched and broadcast. A zero
    on the diagonal gives inf/NaN, as substitution does (no error: PyTorch's behaviour)."""
    import scipy.linalg as sl

    m = xp(a)
    dtype = np.result_type(a.dtype, b.dtype)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    shape = batch + b.shape[-2:]
    if 0 in shape or a.shape[-1] == 0:
        return m.zeros(shape, dtype)
    a = m.broadcast_to(a.astype(dtype, copy=False), batch + a.shape[-2:])
    b = m.broadcast_to(b.astype(dtype, copy=False), shape)
    try:
        out = sl.solve_triangular(a, b, lower=lower, unit_diagonal=unit, check_finite=False)
    except (np.linalg.LinAlgError, ValueError):
        trsm = sl.blas.get_blas_funcs("trsm", dtype=dtype)
        flat_a, flat_b = a.reshape(-1, *a.shape[-2:]), b.reshape(-1, *shape[-2:])
        with np.errstate(all="ignore"):
            out = m.stack([trsm(1.0, x, y, lower=int(lower), diag=int(unit))
                           for x, y in zip(flat_a, flat_b)]).reshape(shape)
    return m.asarray(out, dtype)


def _triangle(x, upper: bool, unit: bool):
    """The part of ``x`` a triangular solve reads: upper or lower, strictly when unit."""
    return triu(x, int(unit)) if upper else tril(x, -int(unit))


class SolveTriangular(Primitive):
    """X = A^{-1} B for a triangular A.  d/dB = A^{-H} grad (the solve with A^H, whose
    triangle is the other one); d/dA = -(d/dB) X^H restricted to A's triangle."""

    __slots__ = ("unit", "upper")
    _name = "LinalgSolveTriangularBackward0"
    promote = True
    formula = "gB = solve_triangular(A^H, grad), gA = tri(-gB @ X^H)"

    def forward(ctx, a, b, upper=False, unitriangular=False):
        ctx.upper, ctx.unit = upper, unitriangular
        out = _solve_batch(a, b, not upper, unitriangular)
        ctx.save(a, out)
        return out

    def backward(ctx, grad):
        a, out = ctx.saved
        gb = SolveTriangular.generic(_adj(a), grad, upper=not ctx.upper,
                                     unitriangular=ctx.unit)
        return _triangle(-(gb @ _adj(out)), ctx.upper, ctx.unit), gb

    def jvp(ctx, ta, tb):
        a, out = ctx.saved
        rhs = 0 if tb is None else tb
        if ta is not None:
            rhs = rhs - _triangle(ta, ctx.upper, ctx.unit) @ out
        return SolveTriangular.generic(a, rhs, upper=ctx.upper, unitriangular=ctx.unit)


def _check_solve(A, B, name: str) -> None:
    _float(_arr(A), name)
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if B.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor B must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """X with ``A X = B`` (``X A = B`` when not ``left``) for triangular A; only the
    triangle named by ``upper`` is read (its diagonal taken as ones when unitriangular)."""
    name = "linalg.solve_triangular"
    _check_solve(A, B, name)
    n = A.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        rows, cols = B.shape[-2:] if left else B.shape[-2:][::-1]
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {rows}x{cols})")
    if left:
        x = SolveTriangular.generic(A, B, upper=upper, unitriangular=unitriangular)
    else:  # X A = B  <=>  A^T X^T = B^T, and A^T has the other triangle
        x = _mT(SolveTriangular.generic(_mT(A), _mT(B), upper=not upper,
                                        unitriangular=unitriangular))
    return write_out(x, out, name)


_triangular_result = _result("triangular_solve", ("solution", "cloned_coefficient"))


@register_method("triangular_solve")
@takes_out("triangular_solve")
def triangular_solve(input, A, upper=True, transpose=False, unitriangular=False, *, out=None):
    """The older ``(solution, cloned_coefficient)`` form: solves ``A X = input`` (``A^T X =
    input`` when ``transpose``)."""
    _check_same_dtype(input, A, "b")
    _check_solve(A, input, "triangular_solve")
    if input.shape[-2] != A.shape[-1]:
        raise RuntimeError(f"Incompatible matrix sizes for triangular_solve: each A matrix is "
                           f"{A.shape[-1]} by {A.shape[-1]} but each b matrix is "
                           f"{input.shape[-2]} by {input.shape[-1]}")
    coef = _mT(A) if transpose else A
    x = SolveTriangular.generic(coef, input, upper=upper != transpose,
                                unitriangular=unitriangular)
    return _triangular_result(x, clone(A))


def _check_same_dtype(b, A, bname: str) -> None:
    if _arr(b).dtype != _arr(A).dtype:
        raise RuntimeError(f"Expected {bname} and A to have the same dtype, but found {bname} "
                           f"of type {dtype_name(_arr(b).dtype)} and A of type "
                           f"{dtype_name(_arr(A).dtype)} instead.")


# --------------------------------------------------------------- Cholesky factor ops

def _gram(f, upper: bool):
    """A = L L^H (lower) or U^H U (upper), the matrix a Cholesky factor stands for."""
    return _adj(f) @ f if upper else f @ _adj(f)


def _factor_solve(f, b, upper: bool):
    """A^{-1} B with A = _gram(f, upper), by two triangular solves."""
    if upper:
        y = SolveTriangular.generic(_adj(f), b, upper=False)
        return SolveTriangular.generic(f, y, upper=True)
    y = SolveTriangular.generic(f, b, upper=False)
    return SolveTriangular.generic(_adj(f), y, upper=True)


def _factor_grad(f, ga, upper: bool):
    """The gradient for the factor given the gradient for A = _gram(f): (gA + gA^H) f
    (times f on the left when upper), with f a full matrix."""
    sym = ga + _adj(ga)
    return f @ sym if upper else sym @ f


def _gram_tangent(f, tf, upper: bool):
    return _adj(tf) @ f + _adj(f) @ tf if upper else tf @ _adj(f) + f @ _adj(tf)


class CholeskySolve(Primitive):
    """X = (L L^H)^{-1} B.  d/dB = cholesky_solve(grad, L); with gA = -(d/dB) X^H,
    d/dL = (gA + gA^H) L (U (gA + gA^H) when upper)."""

    __slots__ = ("upper",)
    promote = True
    formula = "gB = cholesky_solve(grad, L), gL = -(gB X^H + X gB^H) L"

    def forward(ctx, b, f, upper=False):
        ctx.upper = upper
        out = _factor_solve(f, b, upper)
        ctx.save(f, out)
        return out

    def backward(ctx, grad):
        f, out = ctx.saved
        gb = CholeskySolve.generic(grad, f, upper=ctx.upper)
        return gb, _factor_grad(f, -(gb @ _adj(out)), ctx.upper)

    def jvp(ctx, tb, tf):
        f, out = ctx.saved
        rhs = 0 if tb is None else tb
        if tf is not None:
            rhs = rhs - _gram_tangent(f, tf, ctx.upper) @ out
        return CholeskySolve.generic(rhs, f, upper=ctx.upper)


@register_method("cholesky_solve")
@takes_out("cholesky_solve")
def cholesky_solve(input, input2, upper=False, *, out=None):
    """X with ``A X = input`` where ``A = L L^H`` (``U^H U`` when upper) and ``input2`` is
    the factor."""
    _check_same_dtype(input, input2, "b")
    if input.ndim < 2 or input2.ndim < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {input.ndim} "
                           "dimensions instead" if input.ndim < 2 else
                           f"u should have at least 2 dimensions, but has {input2.ndim} "
                           "dimensions instead")
    if input2.shape[-1] != input2.shape[-2]:
        raise RuntimeError(f"A must be batches of square matrices, but they are "
                           f"{input2.shape[-2]} by {input2.shape[-1]} matrices")
    if input.shape[-2] != input2.shape[-1]:
        raise RuntimeError(f"Incompatible matrix sizes for cholesky_solve: each A matrix is "
                           f"{input2.shape[-1]} by {input2.shape[-1]} but each b matrix is "
                           f"{input.shape[-2]} by {input.shape[-1]}")
    _float(_arr(input), "cholesky_solve")
    return CholeskySolve.generic(input, input2, upper=upper)


class CholeskyInverse(Primitive):
    """inv(L L^H).  With gA = -out^H grad out^H, d/dL = (gA + gA^H) L (U (gA + gA^H)
    when upper), L a full matrix."""

    __slots__ = ("upper",)
    formula = "gL = -(out (grad + grad^H) out) L"

    def forward(ctx, f, upper=False):
        ctx.upper = upper
        m = xp(f)
        eye = m.broadcast_to(m.eye(f.shape[-1], dtype=f.dtype), f.shape)
        out = _factor_solve(f, eye, upper)
        ctx.save(f, out)
        return out

    def backward(ctx, grad):
        f, out = ctx.saved
        return _factor_grad(f, -(_adj(out) @ grad @ _adj(out)), ctx.upper)

    def jvp(ctx, tf):
        f, out = ctx.saved
        return -(out @ _gram_tangent(f, tf, ctx.upper) @ out)


@register_method("cholesky_inverse")
@takes_out("cholesky_inverse")
def cholesky_inverse(input, upper=False, *, out=None):
    """inv(A) of ``A = L L^H`` from its Cholesky factor (``U^H U`` when upper)."""
    _float(_arr(input), "cholesky_inverse")
    if input.ndim < 2:
        raise RuntimeError("cholesky_inverse: The input tensor A must have at least 2 "
                           "dimensions.")
    if input.shape[-1] != input.shape[-2]:
        raise RuntimeError(f"cholesky_inverse: A must be batches of square matrices, but they "
                           f"are {input.shape[-2]} by {input.shape[-1]} matrices")
    return CholeskyInverse.generic(input, upper=upper)


_cholesky_ex_result = _result("linalg_cholesky_ex", ("L", "info"))


def _potrf_info(data):
    """LAPACK's info per matrix (0, or the order of the first non-positive leading minor)
    and the factors as potrf leaves them (partial where it stopped), lower triangles."""
    from scipy.linalg import lapack

    m = xp(data)
    flat = data.reshape(-1, *data.shape[-2:])
    potrf = lapack.get_lapack_funcs("potrf", dtype=data.dtype)
    factors, infos = [], []
    for mat in flat:
        c, info = potrf(mat, lower=1, clean=1)
        factors.append(c)
        infos.append(info)
    shape = data.shape
    factor = m.stack(factors).reshape(shape) if factors else m.zeros(shape, data.dtype)
    return factor, m.asarray(infos, m.int32).reshape(shape[:-2])


@takes_out("linalg.cholesky_ex")
def cholesky_ex(A, *, upper=False, check_errors=False):
    """``(L, info)``: the Cholesky factor and LAPACK's info (0 on success, else the order of
    the leading minor that is not positive-definite, with L as far as potrf got: that
    partial factor carries no gradient)."""
    data = _arr(A)
    m = xp(data)
    try:
        L = Cholesky.generic(A)
        info = m.zeros(data.shape[:-2], m.int32)
    except LinAlgError as e:
        if check_errors:
            raise LinAlgError(str(e).replace("linalg.cholesky:", "linalg.cholesky_ex:")) from None
        L, info = _potrf_info(data)
        L = wrap(L)
    return _cholesky_ex_result(_adj(L) if upper else L, wrap(info))
