"""``torch.masked``: reductions and normalizations that ignore the elements ``mask`` marks False.

Each function takes a boolean ``mask`` broadcastable to ``input`` (None keeps every element)
and is a composite: the masked-out elements are replaced by the reduction's identity (0 for
sum, 1 for prod, -inf for amax and logsumexp, NaN for median), then the plain op runs. The
replacement is a ``where``, whose gradient sends nothing to the replaced elements, so a
masked-out element's gradient is 0 and no derivative of its own is needed. Where every
element of a slice is masked out the result is what the identity gives: 0 for sum, -inf for
amax, NaN for mean, var, median and softmax (PyTorch leaves these values unspecified and
gives the same).

>>> import retrograd as torch
>>> x = torch.tensor([[-3., -2., -1.], [0., 1., 2.]])
>>> mask = torch.tensor([[True, False, True], [False, False, False]])
>>> torch.masked.sum(x, 1, mask=mask)
tensor([-4.,  0.])
"""

from __future__ import annotations

import numpy as np

from ._dims import wrap_dim, wrap_dims
from ._dtype import bool as bool_
from ._dtype import get_default_dtype
from ._tensor import Tensor
from .ops.arithmetic import sqrt
from .ops.cumulative import cumprod as _cumprod
from .ops.cumulative import cumsum as _cumsum
from .ops.norms import logsumexp as _logsumexp
from .ops.norms import vector_norm
from .ops.pointwise import logaddexp as _logaddexp
from .ops.reduction import amax as _amax
from .ops.reduction import amin as _amin
from .ops.reduction import argmax as _argmax
from .ops.reduction import argmin as _argmin
from .ops.reduction import prod as _prod
from .ops.reduction import sum as _sum
from .ops.softmax import log_softmax as _log_softmax
from .ops.softmax import softmax as _softmax
from .ops.sorting import nanmedian
from .ops.unary import clamp
from .ops.where import where

__all__ = ["amax", "amin", "argmax", "argmin", "cumprod", "cumsum", "log_softmax", "logaddexp",
           "logsumexp", "mean", "median", "norm", "normalize", "prod", "softmax", "softmin",
           "std", "sum", "var"]


# ---------------------------------------------------------------------- shared pieces

def _mask(input, mask):
    """``mask`` as a boolean tensor of ``input``'s shape, or None (every element kept)."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"masked: mask must be a Tensor, got {type(mask).__name__}")
    if mask.ndim > input.ndim:
        raise IndexError("_input_mask expected broadcastable mask (got mask dimensionality "
                         "higher than of the input)")
    if mask.dtype != bool_:
        mask = mask.bool()
    return mask.detach().expand(*input.shape)


def _fill(x, mask, value):
    """``x`` with its masked-out elements replaced by ``value``."""
    return x if mask is None else where(mask, x, value)


def _dims(dim, ndim):
    """The reduced dims as a sorted tuple: all of them for None or ()."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    return wrap_dims(dim, ndim)


def _cast(input, dtype):
    return input if dtype is None else input.to(dtype)


def _count(input, mask, dims, keepdim):
    """How many elements each output reduces over (masked-out ones not counted)."""
    if mask is None:
        n = 1
        for d in dims:
            n *= input.shape[d] if input.ndim else 1
        return n
    return _sum(mask, dims, keepdim)


def _is_float(x) -> bool:
    return x.dtype.is_floating_point or x.dtype.is_complex


def _extreme(x, largest: bool, op: str):
    """The identity of amax (the smallest value of x's dtype) or of amin (the largest);
    asked for only where a mask needs it (PyTorch's amax of bools works without a mask)."""
    kind = x.dtype._np.kind
    if kind == "b":
        raise NotImplementedError(f"identity of {op} on {x.dtype} input")
    if kind in "iu":
        info = np.iinfo(x.dtype._np)
        return int(info.min if largest else info.max)
    return -float("inf") if largest else float("inf")


def _fill_extreme(x, input, mask, largest: bool, op: str):
    """x (``input`` or a cast of it) with the masked-out elements set to the identity of amax
    (largest) or amin, so that they never win."""
    m = _mask(input, mask)
    return x if m is None else _fill(x, m, _extreme(x, largest, op))


# ---------------------------------------------------------------------- reductions

def sum(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Sum of the unmasked elements over ``dim`` (all dims when None); identity 0.

    d/dx = grad where mask, else 0.
    """
    m = _mask(input, mask)
    return _sum(_fill(input, m, 0), _dims(dim, input.ndim), keepdim, dtype=dtype)


def prod(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Product of the unmasked elements over ``dim``; identity 1.

    d/dx_i = grad * prod_{j != i} x_j where mask, else 0.
    """
    x = _fill(_cast(input, dtype), _mask(input, mask), 1)
    dims = _dims(dim, input.ndim)
    if input.ndim == 0 or (len(dims) == input.ndim and not keepdim):
        return _prod(x)
    for d in reversed(dims):  # last first, so the earlier dims keep their positions
        x = _prod(x, d, keepdim)
    return x


def amax(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Largest unmasked element over ``dim``; identity -inf (the dtype's minimum for ints).

    d/dx = grad shared among the unmasked maxima.
    """
    x = _fill_extreme(_cast(input, dtype), input, mask, True, "amax")
    return _amax(x, _dims(dim, input.ndim), keepdim)


def amin(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Smallest unmasked element over ``dim``; identity inf (the dtype's maximum for ints).

    d/dx = grad shared among the unmasked minima.
    """
    x = _fill_extreme(_cast(input, dtype), input, mask, False, "amin")
    return _amin(x, _dims(dim, input.ndim), keepdim)


def _arg(fn, largest, input, dim, keepdim, dtype, mask):
    x = _fill_extreme(input, input, mask, largest, fn.__name__)
    # PyTorch returns the index in ``dtype``, by default the input's own dtype.
    return fn(x, dim, keepdim).to(input.dtype if dtype is None else dtype)


def argmax(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Index of the largest unmasked element along the int ``dim`` (of the flattened input
    when None), in ``dtype`` (default: the input's dtype). Not differentiable."""
    return _arg(_argmax, True, input, dim, keepdim, dtype, mask)


def argmin(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Index of the smallest unmasked element along ``dim``, in ``dtype`` (default: the
    input's dtype). Not differentiable."""
    return _arg(_argmin, False, input, dim, keepdim, dtype, mask)


def mean(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Mean of the unmasked elements over ``dim``: sum / count (NaN where none is unmasked).

    d/dx = grad / count where mask, else 0.
    """
    if dtype is None and not _is_float(input):
        raise ValueError("mean(): Could not infer output dtype. Input dtype must be either a "
                         f"floating point or complex dtype. Got: {input.dtype}")
    x = _cast(input, dtype)
    m = _mask(input, mask)
    dims = _dims(dim, input.ndim)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _sum(_fill(x, m, 0), dims, keepdim) / _count(x, m, dims, keepdim)


def median(input, dim=-1, *, keepdim=False, dtype=None, mask=None):
    """Median (lower middle value) of the unmasked elements along the int ``dim`` (dim 0 when
    None); NaN where none is unmasked.

    d/dx = grad at the median element, 0 elsewhere.
    """
    x = _cast(input, dtype)
    d = 0 if dim is None else wrap_dim(dim, x.ndim)
    m = _mask(input, mask)
    if _is_float(x):
        return nanmedian(_fill(x, m, float("nan")), d, keepdim).values
    if m is not None and not bool(m.any(d).all()):
        raise ValueError("masked median expects no fully masked out rows if dtype is not "
                         "floating point")
    # Integers have no NaN: take the median in float64 (exact for the values) and cast back.
    values = nanmedian(_fill(x.double(), m, float("nan")), d, keepdim).values
    return values.to(x.dtype)


def logsumexp(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """log(sum(exp(x))) over the unmasked elements; identity -inf.

    d/dx = grad * softmax(x) over the unmasked elements, 0 elsewhere.
    """
    x = _cast(input, dtype)
    res_dtype = x.dtype
    if not _is_float(x):  # integers: in the default float dtype, then back (as PyTorch)
        x = x.to(get_default_dtype())
    res = _logsumexp(_fill(x, _mask(input, mask), -float("inf")), _dims(dim, input.ndim),
                     keepdim)
    return res.to(res_dtype)


def norm(input, ord=2.0, dim=None, *, keepdim=False, dtype=None, mask=None):
    """The ``ord``-norm of the unmasked elements (``linalg.vector_norm``); identity 0, or inf
    for ord = -inf.

    d/dx = d vector_norm / dx where mask, else 0.
    """
    _no_narrowing(input, dtype)
    fill = float("inf") if ord == -float("inf") else 0.0
    # norm(z) = norm(|z|): complex input is taken by modulus (d|z| = sgn(z))
    x = _fill(input.abs() if input.dtype.is_complex else input, _mask(input, mask), fill)
    return vector_norm(x, ord, _dims(dim, input.ndim), keepdim, dtype=dtype)


def _no_narrowing(input, dtype):
    if dtype is None or not _is_float(input):
        return
    wide = np.result_type(input.dtype._np, dtype._np)
    if wide != np.dtype(dtype._np):
        raise RuntimeError(f"linalg.vector_norm: the dtype of the input "
                           f"({_c_name(input.dtype)}) should be convertible without "
                           f"narrowing to the specified dtype ({_c_name(dtype)})")


def _c_name(dtype):
    names = {"float64": "Double", "float32": "Float", "float16": "Half",
             "bfloat16": "BFloat16", "complex64": "ComplexFloat",
             "complex128": "ComplexDouble"}
    name = str(dtype).split(".")[-1]
    return names.get(name, name.capitalize())


def _variance(input, dim, unbiased, correction, keepdim, dtype, mask):
    """sum(|x - mean|^2) / max(count - correction, 0) over the unmasked elements."""
    if unbiased is not None and correction is not None:
        raise AssertionError("Only one of unbiased and correction may be given")
    if correction is None:
        correction = 0 if unbiased is False else 1
    x = _cast(input, dtype)
    if not _is_float(x):
        x = x.to(get_default_dtype())
    m = _mask(input, mask)
    dims = _dims(dim, input.ndim)
    with np.errstate(divide="ignore", invalid="ignore"):
        center = _sum(_fill(x, m, 0), dims, True) / _count(x, m, dims, True)
        dev = _fill(x - center, m, 0)
        # complex input: |dev|^2, kept complex (PyTorch's masked var is in the input dtype)
        square = dev * dev.conj() if x.dtype.is_complex else dev * dev
        denom = clamp(_count(x, m, dims, keepdim) - correction, min=0) \
            if m is not None else max(_count(x, m, dims, keepdim) - correction, 0)
        return _sum(square, dims, keepdim) / denom


def var(input, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None,
        mask=None):
    """Variance of the unmasked elements over ``dim`` with ``correction`` (1 by default, or
    0 when ``unbiased`` is False); NaN where nothing is unmasked.

    d/dx = 2 (x - mean) grad / (count - correction) where mask, else 0.
    """
    return _variance(input, dim, unbiased, correction, keepdim, dtype, mask)


def std(input, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None,
        mask=None):
    """Standard deviation: sqrt of ``var`` (same arguments).

    d/dx = d var / dx / (2 std).
    """
    return sqrt(_variance(input, dim, unbiased, correction, keepdim, dtype, mask))


# ---------------------------------------------------------------------- normalizations

def softmax(input, dim, *, dtype=None, mask=None):
    """softmax over the unmasked elements along ``dim``: 0 where masked out, NaN along a
    slice with nothing unmasked.

    d/dx = out * (grad - sum(grad * out)) where mask, else 0.
    """
    x = _fill(input, _mask(input, mask), -float("inf"))
    return _softmax(x, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None, mask=None):
    """log_softmax over the unmasked elements along ``dim``: -inf where masked out.

    d/dx = grad - softmax * sum(grad) where mask, else 0.
    """
    x = _fill(input, _mask(input, mask), -float("inf"))
    return _log_softmax(x, dim, dtype=dtype)


def softmin(input, dim, *, dtype=None, mask=None):
    """softmax(-x) over the unmasked elements along ``dim``.

    d/dx = -out * (grad - sum(grad * out)) where mask, else 0.
    """
    x = _fill(-input, _mask(input, mask), -float("inf"))
    return _softmax(x, dim, dtype=dtype)


def normalize(input, ord, dim, *, eps=1e-12, dtype=None, mask=None):
    """x / max(norm(x, ord, dim), eps) over the unmasked elements; 0 where masked out.

    d/dx: the quotient rule through ``norm``.
    """
    nrm = norm(input, ord, dim, keepdim=True, dtype=dtype, mask=mask)
    x = _fill(_cast(input, dtype), _mask(input, mask), 0)
    return x / clamp(nrm, min=eps)


def cumsum(input, dim, *, dtype=None, mask=None):
    """Running sum along ``dim`` that skips masked-out elements (each counts as 0).

    d/dx = reversed running sum of grad where mask, else 0.
    """
    return _cumsum(_fill(input, _mask(input, mask), 0), dim, dtype=dtype)


def cumprod(input, dim, *, dtype=None, mask=None):
    """Running product along ``dim`` that skips masked-out elements (each counts as 1).

    d/dx = d cumprod / dx where mask, else 0.
    """
    return _cumprod(_fill(input, _mask(input, mask), 1), dim, dtype=dtype)


def logaddexp(input, other, *, dtype=None, input_mask=None, other_mask=None):
    """log(exp(input) + exp(other)), a masked-out element of either counting as -inf.

    d/dinput = grad * sigmoid(input - other) where input_mask, else 0 (other alike).
    """
    x = _fill(_cast(input, dtype), _mask(input, input_mask), -float("inf"))
    y = _fill(_cast(other, dtype), _mask(other, other_mask), -float("inf"))
    return _logaddexp(x, y)
