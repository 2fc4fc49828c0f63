"""Products: einsum (the primitive, with a gradient for every operand), tensordot, bmm, mv,
dot/vdot, outer/ger, inner, the add* fused forms (addmm, addmv, baddbmm, addbmm), kron and
cross; and matmul/mm with the ``@`` operator (importable from ``arithmetic`` too)."""

from __future__ import annotations

import string
from collections import Counter

import numpy as np

from .._dims import wrap_dim
from .._tensor import Tensor
from ..backend import xp
from ._core import Primitive, register_method
from ._helpers import out_
from ._out import c_type_name, dtype_name, takes_out, write_out
from .complex import conj
from .diagonal import _arr
from .indexing import getitem
from .shape import expand, reshape, squeeze, transpose, unsqueeze
from .unary import where

__all__ = ["addbmm", "addmm", "addmv", "baddbmm", "bmm", "cross", "dot", "einsum", "ger",
           "inner", "kron", "matmul", "mm", "mv", "outer", "tensordot", "vdot"]


class Einsum(Primitive):
    """einsum over explicit subscripts.  d/dx_k = einsum of grad with the other operands,
    conjugated (multilinear, so holomorphic), into x_k's subscripts (repeated subscripts via
    identity, summed-only ones via ones)."""

    __slots__ = ("ins", "rhs")
    promote = True
    formula = "einsum(grad, conj(others) -> subscripts of x_k)"

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
    g = Einsum.generic(grad, *[conj(ops[j]) for j in others], ins=(ctx.rhs, *[ctx.ins[j]
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
    if out_sub != target:
        g = Einsum.generic(g, *consts, ins=tuple(ins), rhs=out_sub)
    if 0 in shape and tuple(g.shape) != tuple(shape):
        # x_k has size 0 where another operand's size 1 broadcast against it: the
        # gradient's size 1 there spreads over no elements.
        g = expand(g, shape)
    return g


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
    _check_einsum_dtypes(operands, ins, rhs)
    return Einsum.generic(*operands, ins=ins, rhs=rhs)


def _check_einsum_dtypes(operands, ins, rhs) -> None:
    """einsum does not promote where PyTorch contracts with a matrix product: a subscript
    summed away (not in the output) that two operands hold with size > 1. Elsewhere (only
    elementwise products, or an empty operand) PyTorch promotes, and so do we."""
    arrays = [op._data for op in operands if isinstance(op, Tensor)]
    if len({a.dtype for a in arrays}) < 2 or not all(a.size for a in arrays):
        return
    for c in set("".join(ins)) - set(rhs):
        holders = sum(any(n > 1 for n, s in zip(a.shape, sub) if s == c)
                      for a, sub in zip(arrays, ins))
        if holders >= 2:
            first = arrays[0].dtype
            other = next(a.dtype for a in arrays if a.dtype != first)
            raise RuntimeError(f"einsum(): expected scalar type {dtype_name(first)} but "
                               f"found {dtype_name(other)}")


@register_method("tensordot")
@takes_out("tensordot")
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
    da = [wrap_dim(d, a.ndim) for d in da]
    db = [wrap_dim(d, b.ndim) for d in db]
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j] and 1 not in (a.shape[i], b.shape[j]):
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a.shape[i]} in dim {i} and second has size {b.shape[j]} in "
                               f"dim {j}")
    letters = iter(string.ascii_letters)
    sa = [next(letters) for _ in range(a.ndim)]
    sb = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(da, db):
        # A size-1 dim broadcasts against the other's (PyTorch): keeping the two subscripts
        # apart sums each operand over its own dim, which is that broadcast contraction.
        if a.shape[i] == b.shape[j]:
            sb[j] = sa[i]
    rhs = "".join(c for i, c in enumerate(sa) if i not in da) + \
        "".join(c for j, c in enumerate(sb) if j not in db)
    return Einsum.generic(a, b, ins=("".join(sa), "".join(sb)), rhs=rhs)


# ------------------------------------------------------------------------- products

@register_method("bmm")
def bmm(input, mat2, *, out=None):
    """Batched matrix product of (b, n, m) and (b, m, p) tensors."""
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if input.ndim != 3 else
                           "batch2 must be a 3D tensor")
    b, _, m = input.shape
    if tuple(mat2.shape[:2]) != (b, m):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{b}, {m}] but got: [{mat2.shape[0]}, {mat2.shape[1]}].")
    # No promotion in products, as in PyTorch, which skips the check for an empty operand.
    if input._data.dtype != mat2._data.dtype and input._data.size and mat2._data.size:
        raise RuntimeError(f"expected scalar type {dtype_name(input._data.dtype)} but found "
                           f"{dtype_name(mat2._data.dtype)}")
    return write_out(MatMul.generic(input, mat2), out, "bmm")


@register_method("mv")
def mv(input, vec, *, out=None):
    """Matrix-vector product."""
    if input.ndim == 0:  # PyTorch reads its size 0 first
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    if input.ndim != 2 or vec.ndim != 1:
        # (the first count is that of the result vector PyTorch's kernel writes)
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.ndim}, "
                           f"{vec.ndim}")
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input.shape[0]}), mat "
                           f"({input.shape[0]}x{input.shape[1]}), vec ({vec.shape[0]})")
    _check_same_dtype(input, vec)
    return write_out(input @ vec, out, "mv")


@register_method("dot")
def dot(input, other, *, out=None):
    """Inner product of two 1-d tensors."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D "
                           "tensors")
    _check_same_dtype(input, other)  # before the sizes, as PyTorch
    if input.shape[0] != other.shape[0]:
        n, k = input.shape[0], other.shape[0]
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{n}] and src [{k}] to "
                           f"have the same number of elements, but got {n} and {k} elements "
                           "respectively")
    return write_out(input @ other, out, "dot")


def vdot(input, other, *, out=None):
    """``sum(conj(input) * other)`` of two 1-d tensors (``dot`` for real ones)."""
    return dot(conj(input), other, out=out)


@register_method("outer")
def outer(input, vec2, *, out=None):
    """Outer product of two 1-d tensors."""
    for name, v in (("self", input), ("vec2", vec2)):
        if v.dim() != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {v.dim()}-D")
    return write_out(unsqueeze(input, 1) * unsqueeze(vec2, 0), out, "outer")


ger = outer


@register_method("inner")
def inner(input, other, *, out=None):
    """Sum of products over the last dims (a scalar times a tensor when one is 0-d)."""
    if input.ndim == 0 or other.ndim == 0:
        return write_out(input * other, out, "inner")
    return write_out(tensordot(input, other, ([-1], [-1])), out, "inner")


def _scaled(x, s):
    return x if s == 1 else x * s


def _addmul(input, prod, beta, alpha):
    res = _scaled(prod, alpha)
    if beta == 0:  # input is ignored (NaN in it does not propagate); its gradient is zero

        return res + where(np.zeros((), bool), input, 0)
    return res + _scaled(input, beta)


def _bshape(a, b):
    return np.broadcast_shapes(tuple(a.shape), tuple(b.shape))


@register_method("addmm")
def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (mat1 @ mat2)``."""
    for name, m in (("self", input), ("mat1", mat1)):
        if isinstance(m, Tensor) and m._data.dtype != mat2._data.dtype:
            raise RuntimeError(f"{name} and mat2 must have the same dtype, but got "
                               f"{dtype_name(m._data.dtype)} and {dtype_name(mat2._data.dtype)}")
    return write_out(_addmul(input, mm(mat1, mat2), beta, alpha), out, "addmm")


@register_method("addmv")
def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (mat @ vec)``."""
    return write_out(_addmul(input, mv(mat, vec), beta, alpha), out, "addmv")


@register_method("baddbmm")
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    return write_out(_addmul(input, bmm(batch1, batch2), beta, alpha), out, "baddbmm")


@register_method("addbmm")
def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * sum_b batch1[b] @ batch2[b]``."""
    return write_out(_addmul(input, bmm(batch1, batch2).sum(0), beta, alpha), out, "addbmm")


@register_method("kron")
def kron(input, other, *, out=None):
    """Kronecker product."""
    n = max(input.ndim, other.ndim)
    a = reshape(input, (1,) * (n - input.ndim) + tuple(input.shape))
    b = reshape(other, (1,) * (n - other.ndim) + tuple(other.shape))
    a2 = reshape(a, tuple(s for d in a.shape for s in (d, 1)))
    b2 = reshape(b, tuple(s for d in b.shape for s in (1, d)))
    return write_out(reshape(a2 * b2, tuple(x * y for x, y in zip(a.shape, b.shape))), out, "kron")


def _cross(input, other, dim, name):
    shape = _bshape(input, other)
    a, b = input.expand(*shape), other.expand(*shape)
    d = wrap_dim(dim, len(shape))
    if input.shape[wrap_dim(dim, input.ndim)] != 3 or other.shape[wrap_dim(dim, other.ndim)] \
            != 3:
        raise RuntimeError(f"{name}: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[dim]} and {other.shape[dim]}")
    pre = (slice(None),) * d

    def take(x, idx):
        return getitem(x, (*pre, idx))

    return take(a, [1, 2, 0]) * take(b, [2, 0, 1]) - take(a, [2, 0, 1]) * take(b, [1, 2, 0])


@register_method("cross")
def cross(input, other, dim=None, *, out=None):
    """Cross product of 3-vectors along ``dim`` (the first dim of size 3 when None)."""
    if dim is None:
        shape = _bshape(input, other)
        dim = next((i for i, s in enumerate(shape) if s == 3), -1)
    return write_out(_cross(input, other, dim, "linalg.cross"), out, "cross")



register_method("vdot")(vdot)
register_method("ger")(ger)


# ---------------------------------------------------------------------- matmul

class MatMul(Primitive):
    """x @ y.  d/dx = grad @ y^T, d/dy = x^T @ grad (1-d operands treated as rows/columns)."""

    __slots__ = ()
    promote = True
    formula = "grad @ y^T, x^T @ grad"

    def forward(ctx, x, y):
        if x.ndim == 0 or y.ndim == 0:
            raise RuntimeError(
                f"both arguments to matmul need to be at least 1D, but they are {x.ndim}D and "
                f"{y.ndim}D"
            )
        if x.dtype == np.bool_ or y.dtype == np.bool_:
            _no_bool_product(x, y)
        ctx.save(x, y)
        return x @ y

    def backward(ctx, grad):
        x, y = ctx.saved
        if _is_complex(x) or _is_complex(y):  # grad @ y^H, x^H @ grad
            x, y = x.conj(), y.conj()
        nx, ny = ctx.needs_input_grad
        if x.ndim == 1 and y.ndim == 1:
            return (grad * y if nx else None), (grad * x if ny else None)
        if x.ndim == 1:
            # (k) @ (..., k, n): batch dims of gx are summed away by the engine.
            gx = _squeeze(y @ _unsqueeze(grad, -1), -1) if nx else None
            gy = _unsqueeze(x, -1) @ _unsqueeze(grad, -2) if ny else None
            return gx, gy
        if y.ndim == 1:
            gx = _unsqueeze(grad, -1) @ _unsqueeze(y, -2) if nx else None
            gy = _squeeze(_mT(x) @ _unsqueeze(grad, -1), -1) if ny else None
            return gx, gy
        gx = grad @ _mT(y) if nx else None
        gy = _mT(x) @ grad if ny else None
        return gx, gy

    def jvp(ctx, tx, ty):
        x, y = ctx.saved
        return _add_opt(None if tx is None else tx @ y, None if ty is None else x @ ty)


class Mm(MatMul):
    """``mm``: MatMul restricted to 2-d operands; recorded as MmBackward0."""

    __slots__ = ()


def _no_bool_product(x, y) -> None:
    """PyTorch has no bool matrix products; its error names the kernel the shapes pick
    (an empty product needs no kernel, except dot)."""
    vectors = x.ndim == 1 and y.ndim == 1
    if not vectors and (x.size == 0 or y.size == 0):
        return
    if vectors:
        kernel = "dot"
    elif y.ndim == 1:
        kernel = "addmv_impl_cpu"
    elif x.ndim <= 2 or y.ndim == 2:
        kernel = "addmm_impl_cpu_"
    else:
        kernel = "bmm"
    raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


def _mT(a):
    return transpose(a, -1, -2)


def _unsqueeze(a, dim):
    return unsqueeze(a, dim)


def _squeeze(a, dim):
    return squeeze(a, dim)


def _add_opt(a, b):
    """a + b where either may be None (an input without a tangent)."""
    if a is None:
        return b
    return a if b is None else a + b


def _check_same_dtype(x, y) -> None:
    """Matrix products never promote (as PyTorch): two dtypes are an error, worded as the
    kernel PyTorch would dispatch to (dot, addmv, mm or bmm) words it."""
    if not (isinstance(x, Tensor) and isinstance(y, Tensor)):
        return
    a, b = x._data.dtype, y._data.dtype
    if a == b:
        return
    if y.ndim == 1 and x.ndim == 1:
        raise RuntimeError("dot : expected both vectors to have same dtype, but found "
                           f"{dtype_name(a)} and {dtype_name(b)}")
    if y.ndim == 1:
        raise RuntimeError("addmv input tensors must have the same dtype, but got "
                           f"{dtype_name(b)}, {dtype_name(a)}, and {dtype_name(b)}")
    if y.ndim == 2:
        raise RuntimeError("expected m1 and m2 to have the same dtype, but got: "
                           f"{c_type_name(a)} != {c_type_name(b)}")
    raise RuntimeError(f"expected scalar type {dtype_name(a)} but found {dtype_name(b)}")


@register_method("matmul")
def matmul(input, other, *, out=None):
    """Matrix product with NumPy's broadcasting rules for batches and 1-d operands."""
    if isinstance(input, Tensor) and isinstance(other, Tensor) and \
            input._data.dtype != other._data.dtype:
        if (input.ndim, other.ndim) != (1, 1) and not _matmul_fits(input.shape, other.shape):
            return MatMul.generic(input, other)  # raises: PyTorch reports the shapes first
        _check_same_dtype(input, other)
    return out_(MatMul.generic(input, other), out)


def _matmul_fits(xs, ys) -> bool:
    """Whether matmul takes operands of these shapes (inner sizes and batch broadcast)."""
    if not xs or not ys:
        return False
    inner = ys[-2] if len(ys) >= 2 else ys[0]
    if xs[-1] != inner:
        return False
    try:
        np.broadcast_shapes(tuple(xs[:-2]), tuple(ys[:-2]))
    except ValueError:
        return False
    return True


@register_method("mm")
def mm(input, mat2, *, out=None):
    """Product of two 2-d matrices."""
    if input.dim() != 2 or mat2.dim() != 2:
        raise RuntimeError(f"mm(): self must be a matrix (got {input.dim()}-D and "
                           f"{mat2.dim()}-D tensors)")
    if input.shape[1] != mat2.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({input.shape[0]}x{input.shape[1]} "
            f"and {mat2.shape[0]}x{mat2.shape[1]})"
        )
    _check_same_dtype(input, mat2)
    return out_(Mm.generic(input, mat2), out)


@register_method("__matmul__")
def _matmul_method(self, other):
    if not isinstance(other, (Tensor, np.ndarray)):
        return NotImplemented
    return matmul(self, other)


@register_method("__rmatmul__")
def _rmatmul_method(self, other):
    if not isinstance(other, (Tensor, np.ndarray)):
        return NotImplemented
    return matmul(other, self)


def _is_complex(v) -> bool:
    return getattr(v, "_data", v).dtype.kind == "c"
