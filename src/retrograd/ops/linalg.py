"""Linear algebra: products (bmm, mv, dot, einsum, tensordot, ...), diagonals and triangles,
and the decompositions of ``torch.linalg`` (det, slogdet, inv, solve, cholesky, qr, eigh,
svd) with their matrix-calculus gradients. Everything batches over leading dimensions.

Decomposition gradients are PyTorch's: valid for distinct eigenvalues / singular values;
``eigh`` and ``cholesky`` read one triangle, so their gradients are the symmetric ones.
"""

from __future__ import annotations

import string
from collections import Counter

import numpy as np

from .._tensor import Tensor, _wrap_dim
from ..backend import xp
from ._core import Primitive, register_method
from .reduction import _result

__all__ = ["LinAlgError", "addbmm", "addmm", "addmv", "baddbmm", "bmm", "cholesky", "cross",
           "det", "diag", "diag_embed", "diagonal", "dot", "einsum", "ger", "inner", "inverse",
           "kron", "logdet", "matrix_power", "mv", "outer", "pinverse", "qr", "slogdet", "svd",
           "tensordot", "trace", "tril", "triu", "vdot"]


class LinAlgError(RuntimeError):
    """A matrix was singular or not positive-definite (``torch.linalg.LinAlgError``)."""


# --------------------------------------------------------------------------- helpers

def _mT(a):
    from .shape import transpose

    return transpose(a, -1, -2)


def _arr(x):
    """The array behind a Tensor (or the array itself)."""
    return x._data if isinstance(x, Tensor) else x


def _eye_like(x, n: int):
    return xp(_arr(x)).eye(n, dtype=bool)


def _sq(x, name: str) -> None:
    """PyTorch's checks for a batch of square floating matrices."""
    if x.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if x.shape[-1] != x.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{x.shape[-2]} by {x.shape[-1]} matrices")
    _float(x, name)


def _float(x, name: str) -> None:
    if x.dtype.kind not in "fc":
        names = {"i": "Long" if x.dtype.itemsize == 8 else "Int", "b": "Bool", "u": "Byte"}
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {names.get(x.dtype.kind, str(x.dtype))}")


def _zero_pivot(a) -> int:
    """1-based index of the first zero pivot of LU with partial pivoting (as LAPACK's info)."""
    a = np.array(a, dtype=np.float64)
    n = a.shape[0]
    for k in range(n):
        p = k + int(np.argmax(np.abs(a[k:, k])))
        if a[p, k] == 0:
            return k + 1
        a[[k, p]] = a[[p, k]]
        a[k + 1:] -= np.outer(a[k + 1:, k] / a[k, k], a[k])
    return n


def _singular(name: str, x, msg) -> LinAlgError:
    batch = x.reshape(-1, *x.shape[-2:])
    for b, mat in enumerate(batch):
        if np.linalg.matrix_rank(np.asarray(mat)) < mat.shape[0] or not np.isfinite(mat).all():
            prefix = f"(Batch element {b}): " if x.ndim > 2 else ""
            return LinAlgError(f"{name}: {prefix}{msg(mat)}")
    return LinAlgError(f"{name}: {msg(batch[0])}")


def _inv_msg(mat) -> str:
    return (f"The diagonal element {_zero_pivot(mat)} is zero, the inversion could not be "
            "completed because the input matrix is singular.")


def _inv(x):
    try:
        return xp(x).linalg.inv(x)
    except np.linalg.LinAlgError:
        raise _singular("linalg.inv", x, _inv_msg) from None


# ------------------------------------------------------------------ diagonal primitives

def _diag_index(n: int, m: int, offset: int):
    length = max(0, min(n + min(offset, 0), m - max(offset, 0)))
    r = np.arange(length)
    return (r - min(offset, 0), r + max(offset, 0))


class Diagonal(Primitive):
    """the diagonal of dims (dim1, dim2), appended as the last dim.  d/dx = grad placed back
    on that diagonal of zeros."""

    __slots__ = ("dim1", "dim2", "offset", "shape")
    formula = "diagonal_scatter(zeros, grad, offset, dim1, dim2)"

    def forward(ctx, x, offset=0, dim1=0, dim2=1):
        d1, d2 = _wrap_dim(dim1, x.ndim), _wrap_dim(dim2, x.ndim)
        if d1 == d2:
            raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
        ctx.offset, ctx.dim1, ctx.dim2, ctx.shape = offset, d1, d2, x.shape
        return xp(x).diagonal(x, offset, d1, d2).copy()

    def backward(ctx, grad):
        return DiagonalScatter.generic(grad, shape=ctx.shape, offset=ctx.offset,
                                       dim1=ctx.dim1, dim2=ctx.dim2)

    def jvp(ctx, tx):
        return Diagonal.generic(tx, offset=ctx.offset, dim1=ctx.dim1, dim2=ctx.dim2)


class DiagonalScatter(Primitive):
    """zeros(shape) with g (diagonal last) written on the diagonal of (dim1, dim2).
    d/dg = diagonal(grad)."""

    __slots__ = ("dim1", "dim2", "offset")
    formula = "diagonal(grad, offset, dim1, dim2)"

    def forward(ctx, g, shape=(), offset=0, dim1=0, dim2=1):
        m = xp(g)
        ctx.offset, ctx.dim1, ctx.dim2 = offset, dim1, dim2
        out = m.zeros(shape, dtype=g.dtype)
        view = m.moveaxis(out, (dim1, dim2), (-2, -1))
        rows, cols = _diag_index(view.shape[-2], view.shape[-1], offset)
        view[..., rows, cols] = g
        return out

    def backward(ctx, grad):
        return Diagonal.generic(grad, offset=ctx.offset, dim1=ctx.dim1, dim2=ctx.dim2)

    def jvp(ctx, tg):
        return DiagonalScatter.generic(tg, shape=ctx.out_shape, offset=ctx.offset,
                                       dim1=ctx.dim1, dim2=ctx.dim2)


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal with the given offset of the 2-d slices over (dim1, dim2)."""
    return Diagonal.generic(input, offset=offset, dim1=dim1, dim2=dim2)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices (over dims dim1, dim2 of the result) whose diagonals are input's last dim."""
    nd = input.ndim + 1
    d1, d2 = _wrap_dim(dim1, nd), _wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = input.shape[-1] + abs(offset)
    rest = iter(input.shape[:-1])
    shape = tuple(n if i in (d1, d2) else next(rest) for i in range(nd))
    return DiagonalScatter.generic(input, shape=shape, offset=offset, dim1=d1, dim2=d2)


def diag(input, diagonal=0, *, out=None):
    """1-d input: a matrix with it on the ``diagonal``; 2-d input: that diagonal."""
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim != 2:
        raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " f"{input.ndim}D")
    return Diagonal.generic(input, offset=diagonal, dim1=0, dim2=1)


def trace(input):
    """Sum of the main diagonal of a 2-d matrix."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return diagonal(input).sum()


def _triangle(input, diagonal, lower: bool):
    from .unary import where

    if input.ndim < 2:
        name = "tril" if lower else "triu"
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    m = xp(_arr(input))
    ones = m.ones(input.shape[-2:], dtype=bool)
    mask = m.tril(ones, diagonal) if lower else m.triu(ones, diagonal)
    return where(mask, input, 0)


def tril(input, diagonal=0, *, out=None):
    """The lower triangle (at and below ``diagonal``) of the last two dims; zeros above."""
    return _triangle(input, diagonal, True)


def triu(input, diagonal=0, *, out=None):
    """The upper triangle (at and above ``diagonal``) of the last two dims; zeros below."""
    return _triangle(input, diagonal, False)


# -------------------------------------------------------------------------- einsum

class Einsum(Primitive):
    """einsum over explicit subscripts.  d/dx_k = einsum of grad with the other operands
    into x_k's subscripts (repeated subscripts via identity, summed-only ones via ones)."""

    __slots__ = ("ins", "rhs")
    promote = True
    formula = "einsum(grad, others -> subscripts of x_k)"

    def forward(ctx, *ops, ins=(), rhs=""):
        ctx.ins, ctx.rhs = ins, rhs
        ctx.save(*ops)
        return xp(ops[0]).einsum(",".join(ins) + "->" + rhs, *ops, optimize=len(ops) > 2)

    def backward(ctx, grad):
        ops = ctx.saved
        return tuple(_einsum_grad(ctx, grad, ops, k) if need else None
                     for k, need in enumerate(ctx.needs_input_grad))

    def jvp(ctx, *tangents):
        ops = ctx.saved
        total = None
        for k, t in enumerate(tangents):
            if t is None:
                continue
            args = [t if j == k else op for j, op in enumerate(ops)]
            term = Einsum.generic(*args, ins=ctx.ins, rhs=ctx.rhs)
            total = term if total is None else total + term
        return total


def _einsum_grad(ctx, grad, ops, k):
    sub = ctx.ins[k]
    others = [j for j in range(len(ops)) if j != k]
    avail = set(ctx.rhs).union(*[ctx.ins[j] for j in others])
    target = "".join(dict.fromkeys(c for c in sub if c in avail))
    g = Einsum.generic(grad, *[ops[j] for j in others], ins=(ctx.rhs, *[ctx.ins[j]
                       for j in others]), rhs=target)
    shape = ops[k].shape
    size = {c: shape[i] for i, c in enumerate(sub)}
    free = iter(c for c in string.ascii_letters if c not in set(ctx.rhs).union(*ctx.ins))
    seen, out_sub, ins, consts = set(), "", [target], []
    m = xp(_arr(ops[k]))
    dtype = _arr(ops[k]).dtype
    for c in sub:
        if c in seen:  # repeated subscript: a fresh one tied to it by the identity
            f = next(free)
            ins.append(c + f)
            consts.append(m.eye(size[c], dtype=dtype))
            out_sub += f
            continue
        seen.add(c)
        if c not in avail:  # summed within this operand only: the gradient is constant there
            ins.append(c)
            consts.append(m.ones(size[c], dtype=dtype))
        out_sub += c
    if out_sub == target:
        return g
    return Einsum.generic(g, *consts, ins=tuple(ins), rhs=out_sub)


def _parse_einsum(equation: str, ndims):
    eq = equation.replace(" ", "")
    lhs, _, rhs = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(ndims):
        raise RuntimeError("einsum(): more operands were provided than specified in the "
                           "equation" if len(ndims) > len(ins) else
                           "einsum(): fewer operands were provided than specified in the "
                           "equation")
    used = set(c for c in eq if c.isalpha())
    free = [c for c in string.ascii_letters if c not in used]
    n_ell = max([nd - (len(s) - 3) for s, nd in zip(ins, ndims) if "..." in s], default=0)
    ell = "".join(free[:n_ell])
    out = []
    for s, nd in zip(ins, ndims):
        if "..." in s:
            k = nd - (len(s) - 3)
            s = s.replace("...", ell[n_ell - k:] if k else "")
        if len(s) != nd:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(s)}) "
                               f"does not match the number of dimensions ({nd}) for operand "
                               f"{len(out)} and no ellipsis was given")
        out.append(s)
    if "->" not in eq:
        counts = Counter("".join(out))
        rhs = ell + "".join(sorted((c for c in counts if counts[c] == 1 and c not in ell),
                                   key=lambda c: (c.isupper() is False, c)))
    else:
        rhs = rhs.replace("...", ell)
    return tuple(out), rhs


def einsum(equation, *operands):
    """Einstein summation, e.g. ``einsum('ij,jk->ik', a, b)``; differentiable in every
    operand (including repeated subscripts like ``'ii->i'``)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ins, rhs = _parse_einsum(equation, [op.ndim for op in operands])
    return Einsum.generic(*operands, ins=ins, rhs=rhs)


def tensordot(a, b, dims=2, out=None):
    """Contract ``a``'s last ``dims`` dims with ``b``'s first (or the listed dim pairs)."""
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    da = [_wrap_dim(d, a.ndim) for d in da]
    db = [_wrap_dim(d, b.ndim) for d in db]
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a.shape[i]} in dim {i} and second has size {b.shape[j]} in "
                               f"dim {j}")
    letters = iter(string.ascii_letters)
    sa = [next(letters) for _ in range(a.ndim)]
    sb = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(da, db):
        sb[j] = sa[i]
    rhs = "".join(c for i, c in enumerate(sa) if i not in da) + \
        "".join(c for j, c in enumerate(sb) if j not in db)
    return Einsum.generic(a, b, ins=("".join(sa), "".join(sb)), rhs=rhs)


# ------------------------------------------------------------------------- products

def bmm(input, mat2, *, out=None):
    """Batched matrix product of (b, n, m) and (b, m, p) tensors."""
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if input.ndim != 3 else
                           "batch2 must be a 3D tensor")
    b, _, m = input.shape
    if tuple(mat2.shape[:2]) != (b, m):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{b}, {m}] but got: [{mat2.shape[0]}, {mat2.shape[1]}].")
    return _out(input @ mat2, out)


def mv(input, vec, *, out=None):
    """Matrix-vector product."""
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.ndim}, "
                           f"{input.ndim}, {vec.ndim}")
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input.shape[0]}), mat "
                           f"({input.shape[0]}x{input.shape[1]}), vec ({vec.shape[0]})")
    return _out(input @ vec, out)


def dot(input, other, *, out=None):
    """Inner product of two 1-d tensors."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D "
                           "tensors")
    if input.shape[0] != other.shape[0]:
        n, k = input.shape[0], other.shape[0]
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{n}] and src [{k}] to "
                           f"have the same number of elements, but got {n} and {k} elements "
                           "respectively")
    if input.dtype != other.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{repr(input.dtype)[6:].capitalize()} and "
                           f"{repr(other.dtype)[6:].capitalize()}")
    return _out(input @ other, out)


vdot = dot  # real tensors: no conjugation


def outer(input, vec2, *, out=None):
    """Outer product of two 1-d tensors."""
    from .shape import unsqueeze

    return _out(unsqueeze(input, 1) * unsqueeze(vec2, 0), out)


ger = outer


def inner(input, other, *, out=None):
    """Sum of products over the last dims (a scalar times a tensor when one is 0-d)."""
    if input.ndim == 0 or other.ndim == 0:
        return _out(input * other, out)
    return _out(tensordot(input, other, ([-1], [-1])), out)


def _scaled(x, s):
    return x if s == 1 else x * s


def _addmul(input, prod, beta, alpha):
    res = _scaled(prod, alpha)
    if beta == 0:  # input is ignored (NaN in it does not propagate); its gradient is zero
        from .unary import where

        return res + where(np.zeros((), bool), input, 0)
    return res + _scaled(input, beta)


def _bshape(a, b):
    return np.broadcast_shapes(tuple(a.shape), tuple(b.shape))


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (mat1 @ mat2)``."""
    from .arithmetic import mm

    return _out(_addmul(input, mm(mat1, mat2), beta, alpha), out)


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (mat @ vec)``."""
    return _out(_addmul(input, mv(mat, vec), beta, alpha), out)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    return _out(_addmul(input, bmm(batch1, batch2), beta, alpha), out)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * sum_b batch1[b] @ batch2[b]``."""
    return _out(_addmul(input, bmm(batch1, batch2).sum(0), beta, alpha), out)


def kron(input, other, *, out=None):
    """Kronecker product."""
    from .shape import reshape

    n = max(input.ndim, other.ndim)
    a = reshape(input, (1,) * (n - input.ndim) + tuple(input.shape))
    b = reshape(other, (1,) * (n - other.ndim) + tuple(other.shape))
    a2 = reshape(a, tuple(s for d in a.shape for s in (d, 1)))
    b2 = reshape(b, tuple(s for d in b.shape for s in (1, d)))
    return _out(reshape(a2 * b2, tuple(x * y for x, y in zip(a.shape, b.shape))), out)


def _cross(input, other, dim, name):
    from .indexing import getitem

    shape = _bshape(input, other)
    a, b = input.expand(*shape), other.expand(*shape)
    d = _wrap_dim(dim, len(shape))
    if input.shape[_wrap_dim(dim, input.ndim)] != 3 or other.shape[_wrap_dim(dim, other.ndim)] \
            != 3:
        raise RuntimeError(f"{name}: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[dim]} and {other.shape[dim]}")
    pre = (slice(None),) * d

    def take(x, idx):
        return getitem(x, (*pre, idx))

    return take(a, [1, 2, 0]) * take(b, [2, 0, 1]) - take(a, [2, 0, 1]) * take(b, [1, 2, 0])


def cross(input, other, dim=None, *, out=None):
    """Cross product of 3-vectors along ``dim`` (the first dim of size 3 when None)."""
    if dim is None:
        shape = _bshape(input, other)
        dim = next((i for i, s in enumerate(shape) if s == 3), -1)
    return _out(_cross(input, other, dim, "linalg.cross"), out)


def _out(result, out):
    from .arithmetic import _out as write

    return write(result, out)



# ---------------------------------------------------------------------- decompositions

def _bcast_mat(v):
    """(..., n) -> (..., 1, n): scale columns."""
    from .shape import unsqueeze

    return unsqueeze(v, -2)


def _bcast_col(v):
    from .shape import unsqueeze

    return unsqueeze(v, -1)


class Det(Primitive):
    """det(A).  d/dA = grad * det(A) * inv(A)^T."""

    __slots__ = ()
    _name = "LinalgDetBackward0"
    formula = "grad * det * inv(A)^T"

    def forward(ctx, x):
        _sq(x, "linalg.det")
        out = xp(x).asarray(xp(x).linalg.det(x))
        ctx.save(x, out)
        return out

    def backward(ctx, grad):
        x, out = ctx.saved
        return _bcast_col(_bcast_col(grad)) * _cofactor(x, out)

    def jvp(ctx, tx):
        x, out = ctx.saved
        return (_cofactor(x, out) * tx).sum((-2, -1))


def _cofactor(x, det):
    """The cofactor matrix det(A) A^{-T}; through the SVD when some A is singular, as
    PyTorch does: U diag(prod of the other singular values) Vh * det(U) det(Vh)."""
    from .reduction import _prod_others

    if (_arr(det) != 0).all():
        return _bcast_col(_bcast_col(det)) * _mT(inv(x))
    u, s, vh = Svd.generic(x, full_matrices=False)
    m = xp(_arr(s))
    sign = m.linalg.det(_arr(u)) * m.linalg.det(_arr(vh))
    others = _prod_others(s, None, (s.ndim - 1,), False, s.shape)
    return (u * _bcast_mat(others)) @ vh * m.asarray(sign)[..., None, None]


class Slogdet(Primitive):
    """(sign, log|det A|).  d/dA logabsdet = inv(A)^T; sign is locally constant (gradient 0)."""

    __slots__ = ()
    _name = "LinalgSlogdetBackward0"
    formula = "grad_logabsdet * inv(A)^T"

    def forward(ctx, x):
        _sq(x, "linalg.slogdet")
        sign, logabs = xp(x).linalg.slogdet(x)
        sign = xp(x).asarray(sign, dtype=x.dtype)
        ctx.save(x, sign)
        return sign, xp(x).asarray(logabs, dtype=x.dtype)

    def backward(ctx, grad_sign, grad=None):
        x, _ = ctx.saved
        if grad is None:
            return None
        return _bcast_col(_bcast_col(grad)) * _mT(inv(x))

    def jvp(ctx, tx):
        x, sign = ctx.saved
        return sign * 0, (_mT(inv(x)) * tx).sum((-2, -1))


class Inv(Primitive):
    """inv(A).  d/dA = -inv^T @ grad @ inv^T."""

    __slots__ = ()
    _name = "LinalgInvExBackward0"
    formula = "-out^T @ grad @ out^T"

    def forward(ctx, x):
        _sq(x, "linalg.inv")
        out = _inv(x)
        ctx.save(out)
        return out

    def backward(ctx, grad):
        (out,) = ctx.saved
        return -(_mT(out) @ grad @ _mT(out))

    def jvp(ctx, tx):
        (out,) = ctx.saved
        return -(out @ tx @ out)


class Solve(Primitive):
    """X = A^{-1} B.  d/dB = A^{-T} grad, d/dA = -d/dB @ X^T."""

    __slots__ = ()
    _name = "LinalgSolveExBackward0"
    promote = True
    formula = "gB = solve(A^T, grad), gA = -gB @ X^T"

    def forward(ctx, a, b):
        _sq(a, "linalg.solve")
        if a.shape[-1] != b.shape[-2]:
            raise RuntimeError(
                f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                f"({a.shape[-2]}x{a.shape[-1]} and {b.shape[-2]}x{b.shape[-1]})")
        try:
            out = xp(a).linalg.solve(a, b)
        except np.linalg.LinAlgError:
            raise LinAlgError("torch.linalg.solve: The solver failed because the input matrix "
                              "is singular.") from None
        ctx.save(a, out)
        return out

    def backward(ctx, grad):
        a, out = ctx.saved
        gb = Solve.generic(_mT(a), grad)
        return -(gb @ _mT(out)), gb

    def jvp(ctx, ta, tb):
        a, out = ctx.saved
        rhs = tb if ta is None else (-(ta @ out) if tb is None else tb - ta @ out)
        return Solve.generic(a, rhs)


def _phi(x):
    """Lower triangle with the diagonal halved."""
    from .unary import where

    n = x.shape[-1]
    m = xp(_arr(x))
    return where(m.eye(n, dtype=bool), x * 0.5, where(m.tril(m.ones((n, n), bool), -1), x, 0))


class Cholesky(Primitive):
    """L with A = L L^T.  d/dA = sym(L^{-T} Φ(L^T gL) L^{-1}), Φ = tril with halved diag."""

    __slots__ = ()
    _name = "LinalgCholeskyExBackward0"
    formula = "sym(L^-T phi(L^T grad) L^-1)"

    def forward(ctx, x):
        _sq(x, "linalg.cholesky")
        m = xp(x)
        try:
            out = m.linalg.cholesky(x)
        except np.linalg.LinAlgError:
            raise _singular_pd(x) from None
        ctx.save(out)
        return out

    def backward(ctx, grad):
        (L,) = ctx.saved
        Linv = inv(L)
        g = _mT(Linv) @ _phi(_mT(L) @ tril(grad)) @ Linv
        return (g + _mT(g)) * 0.5

    def jvp(ctx, tx):
        (L,) = ctx.saved
        Linv = inv(L)
        return L @ _phi(Linv @ tx @ _mT(Linv))


def _singular_pd(x) -> LinAlgError:
    batch = x.reshape(-1, *x.shape[-2:])
    for b, mat in enumerate(batch):
        for k in range(1, mat.shape[0] + 1):
            try:
                np.linalg.cholesky(np.asarray(mat[:k, :k]))
            except np.linalg.LinAlgError:
                prefix = f"(Batch element {b}): " if x.ndim > 2 else ""
                return LinAlgError(
                    f"linalg.cholesky: {prefix}The factorization could not be completed because "
                    f"the input is not positive-definite (the leading minor of order {k} is not "
                    "positive-definite).")
    return LinAlgError("linalg.cholesky: The factorization could not be completed because the "
                       "input is not positive-definite.")


class Qr(Primitive):
    """(Q, R) = qr(A) for m >= n.  d/dA = (gQ + Q copyltu(M)) R^{-T}, M = R gR^T - gQ^T Q."""

    __slots__ = ("mode",)
    _name = "LinalgQrBackward0"
    formula = "(gQ + Q copyltu(R gR^T - gQ^T Q)) R^-T"

    def forward(ctx, x, mode="reduced"):
        _float(x, "linalg.qr")
        if x.ndim < 2:
            raise RuntimeError("linalg.qr: The input tensor A must have at least 2 dimensions.")
        if mode not in ("reduced", "complete", "r"):
            raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                               "'reduced' (default), 'r', or 'complete'")
        ctx.mode = mode
        m = xp(x)
        q, r = m.linalg.qr(x, mode="complete" if mode == "complete" else "reduced")
        if mode == "r":
            q = m.zeros((0,), x.dtype)
        ctx.save(q, r)
        return q, r

    def backward(ctx, gq, gr=None):
        q, r = ctx.saved
        gr = r * 0 if gr is None else gr
        gq = q * 0 if gq is None else gq
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                               "when mode='r'. Please use linalg.qr(A, mode='reduced') if you "
                               "are going to differentiate through linalg.qr.")
        if q.shape[-2] < r.shape[-1] or (ctx.mode == "complete" and q.shape[-2] > r.shape[-1]):
            raise NotImplementedError(
                "The QR decomposition is not differentiable when mode='complete' and "
                "nrows > ncols, or when nrows < ncols.")
        mm = r @ _mT(gr) - _mT(gq) @ q
        copyltu = tril(mm) + _mT(tril(mm, -1))
        return (gq + q @ copyltu) @ _mT(inv(r))

    def jvp(ctx, tx):
        q, r = ctx.saved
        rinv = inv(r)
        c = _mT(q) @ tx @ rinv
        low = tril(c, -1)
        omega = low - _mT(low)
        tr = (c - omega) @ r
        return (tx - q @ tr) @ rinv, tr


class Eigh(Primitive):
    """(L, V) of a symmetric matrix.  d/dA = V (diag(gL) + skew(V^T gV) / E) V^T,
    E_ij = L_j - L_i."""

    __slots__ = ()
    _name = "LinalgEighBackward0"
    formula = "V (diag(gL) + skew(V^T gV) / (L_j - L_i)) V^T"

    def forward(ctx, x, UPLO="L"):
        _sq(x, "linalg.eigh")
        w, v = xp(x).linalg.eigh(x, UPLO=UPLO)
        ctx.save(w, v)
        return w, v

    def _gaps(ctx, w):
        from .unary import where

        n = w.shape[-1]
        e = _bcast_mat(w) - _bcast_col(w)
        return where(_eye_like(w, n), 1, e), _eye_like(w, n)

    def backward(ctx, gw, gv=None):
        from .unary import where

        w, v = ctx.saved
        gw = w * 0 if gw is None else gw
        if gv is None:
            return v @ (_bcast_col(gw) * _mT(v))
        e, eye = ctx._gaps(w)
        vgv = _mT(v) @ gv
        inner = where(eye, diag_embed(gw), (vgv - _mT(vgv)) * 0.5 / e)
        return v @ inner @ _mT(v)

    def jvp(ctx, tx):
        from .unary import where

        w, v = ctx.saved
        e, eye = ctx._gaps(w)
        p = _mT(v) @ tx @ v
        return diagonal(p, 0, -2, -1), v @ where(eye, 0, p / e)


class Svd(Primitive):
    """(U, S, Vh) = svd(A).  d/dA = U [(skew(U^T gU) S + S skew(V^T gV)) / E + diag(gS)] Vh
    + projections for non-square A; E_ij = S_j^2 - S_i^2."""

    __slots__ = ("full",)
    _name = "LinalgSvdBackward0"
    formula = "U ((skew(U^T gU) S + S skew(Vh gVh^T)) / E + diag(gS)) Vh + ..."

    def forward(ctx, x, full_matrices=True):
        _float(x, "linalg.svd")
        if x.ndim < 2:
            raise RuntimeError("linalg.svd: The input tensor A must have at least 2 dimensions.")
        ctx.full = full_matrices
        u, s, vh = xp(x).linalg.svd(x, full_matrices=full_matrices)
        ctx.save(u, s, vh)
        return u, s, vh

    def _parts(ctx):
        from .indexing import getitem
        from .unary import where

        u, s, vh = ctx.saved
        k = s.shape[-1]
        if ctx.full:
            u, vh = getitem(u, (..., slice(0, k))), getitem(vh, (..., slice(0, k), slice(None)))
        s2 = s * s
        eye = _eye_like(s, k)
        e = where(eye, 1, _bcast_mat(s2) - _bcast_col(s2))
        return u, s, vh, e, eye

    def backward(ctx, gu, gs=None, gvh=None):
        from .indexing import getitem

        u, s, vh, e, _ = ctx._parts()
        if gs is None:
            gs = s * 0
        if gu is None and gvh is None:
            return u @ (_bcast_col(gs) * vh)
        gu = ctx.saved[0] * 0 if gu is None else gu
        gvh = ctx.saved[2] * 0 if gvh is None else gvh
        k = s.shape[-1]
        if ctx.full:
            gu, gvh = getitem(gu, (..., slice(0, k))), getitem(gvh, (..., slice(0, k),
                                                                      slice(None)))
        m, n = u.shape[-2], vh.shape[-1]
        ugu = _mT(u) @ gu
        vgv = vh @ _mT(gvh)
        inner = ((ugu - _mT(ugu)) * _bcast_mat(s) + _bcast_col(s) * (vgv - _mT(vgv))) / e \
            + diag_embed(gs)
        ga = u @ inner @ vh
        if m > k:
            ga = ga + ((gu - u @ ugu) / _bcast_mat(s)) @ vh
        if n > k:
            ga = ga + u @ _mT((_mT(gvh) - _mT(vh) @ vgv) / _bcast_mat(s))
        return ga

    def jvp(ctx, tx):
        from .unary import where

        u, s, vh, e, eye = ctx._parts()
        k = s.shape[-1]
        m, n = u.shape[-2], vh.shape[-1]
        v = _mT(vh)
        p = _mT(u) @ tx @ v
        f = where(eye, 0, 1 / e)
        ps = p * _bcast_mat(s)
        sp = _bcast_col(s) * p
        du = u @ (f * (ps + _mT(ps)))
        dv = v @ (f * (sp + _mT(sp)))
        if m > k:
            du = du + (tx @ v - u @ p) / _bcast_mat(s)
        if n > k:
            dv = dv + (_mT(tx) @ u - v @ _mT(p)) / _bcast_mat(s)
        if ctx.full and (m > k or n > k):
            raise NotImplementedError("linalg.svd: forward-mode AD needs full_matrices=False")
        return du, diagonal(p, 0, -2, -1), _mT(dv)


# ------------------------------------------------------------------- linalg functions

def det(A, *, out=None):
    """Determinant of square matrices."""
    return _out(Det.generic(A), out)


def slogdet(A, *, out=None):
    """``(sign, logabsdet)`` of the determinant."""
    return _slogdet_old(*Slogdet.generic(A))


def linalg_slogdet(A, *, out=None):
    return _slogdet_result(*Slogdet.generic(A))


_slogdet_result = _result("linalg_slogdet", ("sign", "logabsdet"))
_slogdet_old = _result("slogdet", ("sign", "logabsdet"))


def logdet(input):
    """log(det(A)); NaN for a negative determinant."""
    from .unary import log

    sign, logabs = slogdet(input)
    return logabs + log(sign)


def inv(A, *, out=None):
    """Inverse of square matrices; LinAlgError (a RuntimeError) when singular."""
    return _out(Inv.generic(A), out)


inverse = inv


def solve(A, B, *, left=True, out=None):
    """X with ``A X = B`` (``X A = B`` when ``left=False``); B may be a (batch of) vector(s)."""
    from .shape import squeeze, unsqueeze

    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    if not left:
        return _out(_mT(solve(_mT(A), _mT(B))), out)
    if vector:
        return _out(squeeze(Solve.generic(A, unsqueeze(B, -1)), -1), out)
    return _out(Solve.generic(A, B), out)


def cholesky(A, upper=False, *, out=None):
    """Lower (or upper) Cholesky factor of symmetric positive-definite matrices."""
    L = Cholesky.generic(A)
    return _out(_mT(L) if upper else L, out)


_qr_result = _result("linalg_qr", ("Q", "R"))
_qr_old = _result("qr", ("Q", "R"))


def linalg_qr(A, mode="reduced", *, out=None):
    return _qr_result(*Qr.generic(A, mode=mode))


def qr(input, some=True, *, out=None):
    """``(Q, R)`` (reduced when ``some``, complete otherwise)."""
    return _qr_old(*Qr.generic(input, mode="reduced" if some else "complete"))


_eigh_result = _result("linalg_eigh", ("eigenvalues", "eigenvectors"))


def eigh(A, UPLO="L", *, out=None):
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices."""
    return _eigh_result(*Eigh.generic(A, UPLO=UPLO))


def eigvalsh(A, UPLO="L", *, out=None):
    return eigh(A, UPLO).eigenvalues


_svd_result = _result("linalg_svd", ("U", "S", "Vh"))
_svd_old = _result("svd", ("U", "S", "V"))


def linalg_svd(A, full_matrices=True, *, driver=None, out=None):
    return _svd_result(*Svd.generic(A, full_matrices=full_matrices))


def svd(input, some=True, compute_uv=True, *, out=None):
    """``torch.svd``: ``(U, S, V)`` with V (not Vh); reduced when ``some``."""
    u, s, vh = Svd.generic(input, full_matrices=not some)
    return _svd_old(u, s, _mT(vh))


def svdvals(A, *, driver=None, out=None):
    """Singular values, descending."""
    return _out(Svd.generic(A, full_matrices=False)[1], out)


def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """Moore-Penrose pseudo-inverse through the SVD; singular values at most
    ``max(atol, rtol * largest)`` are treated as zero."""
    from .unary import where

    u, s, vh = Svd.generic(A, full_matrices=False)
    data = s._data if isinstance(s, Tensor) else s
    smax = data.max(-1, keepdims=True, initial=0)
    if atol is None and rtol is None:
        rtol = max(A.shape[-2:]) * np.finfo(data.dtype).eps
    cut = np.maximum(atol or 0, (rtol or 0) * smax)
    keep = data > cut
    sinv = where(keep, 1 / where(keep, s, 1), 0)
    return _out(_mT(vh) @ (_bcast_col(sinv) * _mT(u)), out)


def pinverse(input, rcond=1e-15):
    return pinv(input, rtol=rcond)


def matrix_power(A, n, *, out=None):
    """A @ A @ ... (n times); A^-1 powers for negative n; identity for n = 0."""
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but "
                           f"they are {A.shape[-2] if A.ndim > 1 else 1} by {A.shape[-1]} "
                           "matrices")
    if n == 0:
        from .unary import where

        eye = _eye_like(A, A.shape[-1])
        return _out(where(eye, 1, 0 * A) if A.requires_grad else where(eye, A * 0 + 1, 0),
                    out)
    if n < 0:
        A, n = inv(A), -n
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return _out(result, out)


_lstsq_result = _result("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))


def lstsq(A, B, rcond=None, *, driver=None):
    """Least-squares solution of ``A X = B`` (through the pseudo-inverse)."""
    from .creation import tensor
    from .shape import squeeze, unsqueeze

    vector = B.ndim == A.ndim - 1
    b = unsqueeze(B, -1) if vector else B
    x = pinv(A, rtol=rcond) @ b
    data = A._data
    rank = np.linalg.matrix_rank(data)
    empty = tensor(np.zeros((0,), data.dtype))
    return _lstsq_result(squeeze(x, -1) if vector else x, empty,
                         tensor(np.asarray(rank, dtype=np.int64)), empty)


def _matrix_dims(A, dim):
    d0, d1 = (_wrap_dim(d, A.ndim) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, "
                           f"{dim[1]})")
    return d0, d1


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """Matrix norms: 'fro', 'nuc', 2, -2 (singular values), 1, -1, inf, -inf (abs sums)."""
    from .reduction import amax, amin, sum, vector_norm
    from .shape import permute, reshape

    if dtype is not None:
        A = A.to(dtype)
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    _float(A._data, "linalg.matrix_norm")
    d0, d1 = _matrix_dims(A, dim)
    if ord == "fro":
        return _out(vector_norm(A, 2, (d0, d1), keepdim), out)
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
    return _out(reshape(res, shape), out)


def linalg_norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    """``torch.linalg.norm``: a vector norm (1-d, an int dim, or ord None) or a matrix norm
    (2-d, a 2-tuple dim, or a string ord)."""
    from .reduction import vector_norm

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
    return _out(_cross(input, other, dim, "linalg.cross"), out)


def vecdot(x, y, *, dim=-1, out=None):
    return _out((x * y).sum(dim), out)


def multi_dot(tensors, *, out=None):
    res = tensors[0]
    for t in tensors[1:]:
        res = res @ t
    return _out(res, out)


for _name, _fn in {"bmm": bmm, "mv": mv, "dot": dot, "vdot": vdot, "outer": outer, "ger": ger,
                   "inner": inner, "addmm": addmm, "addmv": addmv, "addbmm": addbmm,
                   "baddbmm": baddbmm, "kron": kron, "trace": trace, "diag": diag,
                   "diagonal": diagonal, "diag_embed": diag_embed, "tril": tril, "triu": triu,
                   "cross": cross, "det": det, "slogdet": slogdet, "logdet": logdet,
                   "inverse": inverse, "cholesky": cholesky, "qr": qr, "svd": svd,
                   "pinverse": pinverse, "matrix_power": matrix_power, "tensordot": tensordot,
                   }.items():
    register_method(_name)(_fn)


def _inplace_via_copy(fn):
    def method(self, *args, **kwargs):
        return self.copy_(fn(self, *args, **kwargs))

    method.__name__ = fn.__name__ + "_"
    method.__doc__ = f"In-place ``{fn.__name__}``."
    return method


for _fn in (tril, triu):
    register_method(_fn.__name__ + "_")(_inplace_via_copy(_fn))
