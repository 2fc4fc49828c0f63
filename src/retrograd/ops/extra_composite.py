"""Composite ops PyTorch users reach for that retrograd lacked: written with differentiable
primitives, so they need no backward of their own (ravel, diff, cov, corrcoef, renorm,
logcumsumexp, cdist, dist, block_diag, addr, trapezoid, cumulative_trapezoid, diagflat,
sum_to_size), plus the integer-valued helpers that take no gradient (bincount, histc,
searchsorted, bucketize, isin, tril_indices, triu_indices, unravel_index).
"""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype as dtypes
from .._tensor import Tensor, wrap
from ._core import register_method
from .complex import complex as complex_
from .creation import empty, full_like, tensor, zeros
from .joining import cat, stack
from .pointwise import logaddexp
from .unary import sqrt
from .where import where

__all__ = ["addr", "block_diag", "bincount", "bucketize", "cdist", "corrcoef", "cov",
           "cumulative_trapezoid", "diagflat", "diff", "dist", "histc", "isin",
           "logcumsumexp", "ravel", "renorm", "searchsorted", "trapezoid", "trapz",
           "tril_indices", "triu_indices", "unravel_index"]


# ---------------------------------------------------------------------- differentiable

def ravel(input):
    """input flattened to 1-D (a view where possible).  The gradient is reshaped back."""
    return input.reshape(-1)


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along dim.  d/dx_i (x_{i+1} - x_i) = (-1, +1)."""
    if n < 0:
        raise RuntimeError(f"diff expects n to be non-negative, order must be non-negative "
                           f"but got {n}")
    if input.dim() == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    parts = [p for p in (prepend, input, append) if p is not None]
    parts = [p if isinstance(p, Tensor) else full_like(input.select(dim, 0).unsqueeze(dim), p)
             for p in parts]
    x = cat(parts, dim) if len(parts) > 1 else input
    for _ in range(n):
        size = x.shape[dim]
        if x.dtype == dtypes.bool:
            x = x.narrow(dim, 1, size - 1) ^ x.narrow(dim, 0, size - 1)
        else:
            x = x.narrow(dim, 1, max(size - 1, 0)) - x.narrow(dim, 0, max(size - 1, 0))
    return x


def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance of the rows (variables) over the columns (observations)."""
    if input.dim() > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                         f"input with {input.dim()} dimensions")
    for what, w in (("fweights", fweights), ("aweights", aweights)):
        if w is not None and w.dim() > 1:
            raise RuntimeError(f"cov(): expected {what} to have one or fewer dimensions but "
                               f"got {what} with {w.dim()} dimensions")
    x = input.reshape(1, -1) if input.dim() < 2 else input
    if not (x.is_floating_point() or x.is_complex()):
        x = x.to(dtypes.get_default_dtype())
    w = fweights
    if aweights is not None:
        w = aweights if w is None else w * aweights
    if w is None:
        mean = x.mean(1, keepdim=True)
        norm = x.shape[1] - correction
    else:
        total = w.sum()
        mean = (x * w).sum(1, keepdim=True) / total
        if correction == 0:
            norm = total
        elif aweights is None:
            norm = total - correction
        else:
            norm = total - correction * (w * aweights).sum() / total
    xc = x - mean
    xw = xc if w is None else xc * w
    if not isinstance(norm, Tensor):
        norm = max(norm, 0)  # PyTorch: no observations left gives inf / nan, not a flip
    else:
        norm = norm.clamp(min=0)
    # conj: the covariance of complex variables is E[(x - mean) conj(x - mean)]
    return ((xw @ xc.transpose(0, 1).conj()) / norm).squeeze()  # one variable: a 0-d result


def corrcoef(input):
    """Pearson correlation coefficients of the rows, clipped to [-1, 1]."""
    c = cov(input)
    if c.dim() == 0:
        return c / c
    d = c.diagonal().sqrt()
    r = c / d.unsqueeze(1) / d.unsqueeze(0)
    if r.is_complex():  # PyTorch clips the real and imaginary parts each
        return complex_(r.real.clamp(-1, 1), r.imag.clamp(-1, 1))
    return r.clamp(-1, 1)


def renorm(input, p, dim, maxnorm):
    """Each slice along dim rescaled so its p-norm is at most maxnorm."""
    if input.dim() < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.dim()} "
                           f"dimensions")
    if p <= 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported (got p = {p})")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    dims = [d for d in range(input.dim()) if d != dim % max(input.dim(), 1)]
    norms = input.norm(p, dim=dims, keepdim=True) if dims else input.abs()
    scale = maxnorm / (norms + 1e-7)
    factor = where(norms > maxnorm, scale, 1.0)
    return input * factor.to(input.dtype)


def logcumsumexp(input, dim):
    """log(cumsum(exp(input))) along dim, shifted by the running max for stability."""
    if input.dim() == 0:
        return input.clone()
    if input.is_complex():
        return _logcumsumexp_complex(input, dim)
    top = input.detach().amax(dim, keepdim=True)
    top = where(top.isfinite(), top, 0.0)
    return (input - top).exp().cumsum(dim).log() + top


def _logcumsumexp_complex(input, dim):
    """The running logaddexp along dim, one step at a time: PyTorch's imaginary parts (a
    log of the cumsum would wrap them to the principal branch)."""
    if input.shape[dim] == 0:
        return input.clone()
    steps = [input.select(dim, 0)]
    for i in range(1, input.shape[dim]):
        steps.append(logaddexp(steps[-1], input.select(dim, i)))
    return stack(steps, dim)


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """Pairwise p-norm distances between the rows of x1 (..., P, M) and x2 (..., R, M)."""
    if x1.dim() < 2 or x2.dim() < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.dim()}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    d = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return _vector_norm(d, p, -1)


def _vector_norm(d, p, dim):
    if p == 0:
        # The count of nonzeros, recorded (sign's derivative is 0) so it has a grad_fn.
        return d.sign().abs().sum(dim)
    if p == math.inf:
        return d.abs().amax(dim)
    if d.is_complex():
        if p == 0:
            return d.sgn().abs().sum(dim)
        d = d.abs() if p != 2 else d
    if p == 2:
        sq = (d * d.conj()).real.sum(dim) if d.is_complex() else (d * d).sum(dim)
        # sqrt's slope at 0 is infinite; the NaN-safe rows give 0 there, as PyTorch does.
        return sqrt(sq)
    return d.abs().pow(p).sum(dim).pow(1.0 / p)


def dist(input, other, p=2):
    """The p-norm of input - other (broadcast)."""
    return _vector_norm((input - other).reshape(-1), p, 0)


def block_diag(*tensors):
    """A block-diagonal matrix of the given 0-, 1- or 2-D tensors."""
    mats = []
    for i, t in enumerate(tensors):
        if t.dim() > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {t.dim()} dimensions")
        mats.append(t.reshape(1, -1) if t.dim() < 2 else t)
    if not mats:
        return empty(1, 0)
    dtype = mats[0].dtype
    for m in mats[1:]:
        dtype = dtypes.promote_types(dtype, m.dtype)
    cols = sum(m.shape[1] for m in mats)
    rows, left = [], 0
    for m in mats:
        right = cols - left - m.shape[1]
        rows.append(cat([zeros(m.shape[0], left, dtype=dtype), m.to(dtype),
                            zeros(m.shape[0], right, dtype=dtype)], 1))
        left += m.shape[1]
    return cat(rows, 0)


def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * outer(vec1, vec2)."""
    if vec1.dim() != 1 or vec2.dim() != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec1, but got {vec1.dim()}-D")
    outer = vec1.unsqueeze(1) * vec2.unsqueeze(0)
    if input.dtype == bool:
        result = (input & bool(beta)) | (outer & bool(alpha)) if beta else outer & bool(alpha)
    else:
        result = outer * alpha if beta == 0 else input * beta + outer * alpha
    result = result.expand(outer.shape) if tuple(result.shape) != tuple(outer.shape) else result
    if out is not None:
        out.copy_(result)
        return out
    return result


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoid rule along dim: sum of (y_i + y_{i+1}) / 2 * dx_i."""
    return _trapezoid_terms(y, x, dx, dim).sum(dim)


def trapz(y, x=None, *, dx=None, dim=-1):
    """trapezoid under its older name."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoid rule along dim (one element shorter than y)."""
    return _trapezoid_terms(y, x, dx, dim).cumsum(dim)


def _trapezoid_terms(y, x, dx, dim):
    if not (y.is_floating_point() or y.is_complex()):
        y = y.to(dtypes.get_default_dtype())
    n = y.shape[dim]
    if n == 0:
        return y.narrow(dim, 0, 0)
    mid = (y.narrow(dim, 1, n - 1) + y.narrow(dim, 0, n - 1)) / 2
    if x is None:
        return mid * (1.0 if dx is None else dx)
    if x.dim() == 1:
        shape = [1] * y.dim()
        shape[dim] = -1
        x = x.reshape(shape)
    steps = diff(x, dim=dim)
    return mid * steps


def diagflat(input, offset=0):
    """A 2-D matrix with input's flattened elements on diagonal ``offset``."""
    return input.reshape(-1).diag(offset)


def sum_to_size(self, *size):
    """self summed over the dimensions that broadcast to ``size``."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    shape = tuple(self.shape)
    lead = len(shape) - len(size)
    if lead < 0 or any(s not in (1, t) for s, t in zip(size, shape[lead:])):
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.")
    out = self.sum(tuple(range(lead))) if lead else self
    dims = tuple(i for i, s in enumerate(size) if s == 1 and out.shape[i] != 1)
    return out.sum(dims, keepdim=True) if dims else out


# ---------------------------------------------------------------------- integer-valued

def bincount(input, weights=None, minlength=0):
    """Counts of each non-negative integer (weighted sums with ``weights``)."""
    data = input._data
    if input.dim() != 1 or data.dtype.kind not in "iu":
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if data.size and data.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is None:
        return wrap(np.bincount(data, minlength=minlength).astype(np.int64))
    w = weights._data
    result = np.bincount(data, weights=w, minlength=minlength)
    return wrap(result.astype(w.dtype if w.dtype.kind == "f" and w.dtype != np.float16
                              else np.float64))


def histc(input, bins=100, min=0, max=0, *, out=None):
    """A histogram of ``bins`` equal bins over [min, max] (the data's range when equal)."""
    data = input._data
    if data.dtype.kind != "f":
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{input.dtype}'")
    if bins <= 0:
        raise RuntimeError("torch.histc: bins must be > 0")
    lo, hi = float(min), float(max)
    if lo == hi and data.size:
        lo, hi = float(data.min()), float(data.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    counts, _ = np.histogram(data, bins=bins, range=(lo, hi))
    result = wrap(counts.astype(data.dtype))
    if out is not None:
        out.copy_(result)
        return out
    return result


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None, out=None):
    """Indices where the values of input would be inserted to keep each row sorted."""
    seq = sorted_sequence._data
    vals = input._data if isinstance(input, Tensor) else np.asarray(input)
    if side is not None:
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites")
        right = side == "right"
    if sorter is not None:
        seq = np.take_along_axis(seq, sorter._data, -1)
    how = "right" if right else "left"
    if seq.ndim == 1:
        result = np.searchsorted(seq, vals, side=how)
    else:
        if seq.shape[:-1] != vals.shape[:-1]:
            raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension "
                               "or the first N-1 dimensions of boundaries tensor and input "
                               "value tensor must match")
        flat_s = seq.reshape(-1, seq.shape[-1])
        flat_v = vals.reshape(-1, vals.shape[-1])
        result = np.stack([np.searchsorted(s, v, side=how) for s, v in zip(flat_s, flat_v)])
        result = result.reshape(vals.shape)
    res = wrap(np.asarray(result).astype(np.int32 if out_int32 else np.int64))
    if out is not None:
        out.copy_(res)
        return out
    return res


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """The bucket of each value of input among the 1-D sorted ``boundaries``."""
    if boundaries.dim() != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim("
                           f"{boundaries.dim()})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element of ``elements`` is among ``test_elements``."""
    e = elements._data if isinstance(elements, Tensor) else np.asarray(elements)
    t = test_elements._data if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    return wrap(np.asarray(np.isin(e, t, assume_unique=assume_unique, invert=invert)))


def _tri_indices(row, col, offset, upper, dtype):
    r, c = np.triu_indices(row, offset, col) if upper else np.tril_indices(row, offset, col)
    dt = dtype or dtypes.int64
    return tensor(np.stack([r, c]).reshape(2, -1), dtype=dt)


def tril_indices(row, col, offset=0, *, dtype=None, device="cpu", layout=None):
    """The (2, N) indices of the lower triangle of a row x col matrix."""
    return _tri_indices(row, col, offset, False, dtype)


def triu_indices(row, col, offset=0, *, dtype=None, device="cpu", layout=None):
    """The (2, N) indices of the upper triangle of a row x col matrix."""
    return _tri_indices(row, col, offset, True, dtype)


def unravel_index(indices, shape):
    """Flat indices -> a tuple of coordinate tensors for ``shape``."""
    data = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    if data.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if any(s < 0 for s in shape):
        raise ValueError("'shape' cannot have negative values, but got " + str(shape))
    total = math.prod(shape)
    if data.size and (data.min() < -total or data.max() >= total):
        raise ValueError("'indices' must be in range [-numel, numel - 1]")
    coords = np.unravel_index(np.where(data < 0, data + total, data), shape)
    return tuple(wrap(np.asarray(c, dtype=np.int64)) for c in coords)


for _name in ("ravel", "diff", "renorm", "logcumsumexp", "dist", "addr", "diagflat",
              "sum_to_size", "bincount", "histc", "cov", "corrcoef", "isin"):
    register_method(_name)(globals()[_name])
del _name


@register_method("renorm_")
def renorm_(self, p, dim, maxnorm):
    return self.copy_(renorm(self, p, dim, maxnorm))


@register_method("addr_")
def addr_(self, vec1, vec2, *, beta=1, alpha=1):
    return self.copy_(addr(self, vec1, vec2, beta=beta, alpha=alpha))
