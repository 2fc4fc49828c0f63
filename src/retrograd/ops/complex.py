"""Complex numbers: conjugation, real and imaginary parts, the real view of a complex tensor and
back, building complex tensors (``complex``, ``polar``), ``angle`` and ``sgn``.

Gradients follow PyTorch's convention for a real loss L of a complex z = a + ib: the gradient
stored for z is dL/da + i dL/db (twice the conjugate Wirtinger derivative), so gradient descent
on z works unchanged. For an op w = f(z) with incoming gradient g this gives

    grad_z = conj(dw/dz) * g + dw/d(conj z) * conj(g)

which for the parts of a complex number reads: real(z) passes g back as g + 0i, imag(z) as
0 + ig, and complex(a, b) splits g into real(g) and imag(g). Conjugation is done eagerly
(``conj`` returns a new tensor), so the lazy-conjugation flags of PyTorch are always False
(docs/differences.md).
"""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype as dtypes
from .._tensor import Tensor
from ..backend import xp
from ._core import Primitive, register_method
from ._helpers import out_
from .where import where

__all__ = ["angle", "complex", "conj", "conj_physical", "imag", "is_conj", "is_neg", "polar",
           "real", "resolve_conj", "resolve_neg", "sgn", "view_as_complex", "view_as_real"]

_COMPLEX_OF = {np.dtype(np.float32): np.complex64, np.dtype(np.float64): np.complex128}


def _is_complex(x) -> bool:
    return getattr(x, "dtype", None) is not None and np.dtype(_np_dtype(x)).kind == "c"


def _np_dtype(x):
    return x._data.dtype if isinstance(x, Tensor) else x.dtype


def _zeros(like):
    """A constant array of zeros shaped and typed like ``like`` (array or Tensor)."""
    arr = like._data if isinstance(like, Tensor) else like
    return xp(arr).zeros(arr.shape, arr.dtype)


# ---------------------------------------------------------------------- conjugation

class Conj(Primitive):
    """conj(x) = a - ib, as a new tensor.  The gradient is conj(grad) (conj is its own
    adjoint); the tangent is conj(tangent)."""

    __slots__ = ()
    formula = "conj(grad)"

    def forward(ctx, x):
        return xp(x).conj(x)

    def backward(ctx, grad):
        return conj(grad)

    def jvp(ctx, tx):
        return conj(tx)


@register_method()
def conj(input):
    """The complex conjugate: a new tensor for complex input, the input itself otherwise
    (as PyTorch, whose ``conj`` of a real tensor is the tensor).

    >>> import retrograd as torch
    >>> torch.conj(torch.tensor([1 + 2j]))
    tensor([1.-2.j])
    """
    if not _is_complex(input):
        return input
    return Conj.generic(input)


@register_method()
def conj_physical(input):
    """``conj``: conjugation is always physical here (never a lazy flag)."""
    return conj(input)


@register_method()
def resolve_conj(input):
    """The input itself: no tensor carries a lazy conjugation flag (``is_conj`` is False)."""
    return input


@register_method()
def resolve_neg(input):
    """The input itself: no tensor carries a lazy negation flag (``is_neg`` is False)."""
    return input


@register_method()
def conj_physical_(self):
    """Conjugate in place."""
    from .inplace import inplace_apply

    if not _is_complex(self):
        return self
    return inplace_apply(Conj, self)


@register_method()
def is_conj(input) -> bool:
    """Always False: ``conj`` conjugates eagerly, so no tensor is a lazy conjugate."""
    return False


@register_method()
def is_neg(input) -> bool:
    """Always False: no tensor carries a lazy negation flag."""
    return False


# ---------------------------------------------------------------------- parts

class Real(Primitive):
    """The real part a of z = a + ib, a view.  d/dz: grad + 0i."""

    __slots__ = ()
    is_view = True
    formula = "complex(grad, 0)"

    def forward(ctx, x):
        return x.real

    def backward(ctx, grad):
        return complex(grad, _zeros(grad))

    def jvp(ctx, tx):
        return real(tx)


class Imag(Primitive):
    """The imaginary part b of z = a + ib, a view.  d/dz: 0 + i grad."""

    __slots__ = ()
    is_view = True
    formula = "complex(0, grad)"

    def forward(ctx, x):
        return x.imag

    def backward(ctx, grad):
        return complex(_zeros(grad), grad)

    def jvp(ctx, tx):
        return imag(tx)


def real(input):
    """The real part, a view sharing memory (the input itself when it is real, as PyTorch)."""
    if not _is_complex(input):
        return input
    return Real.generic(input)


def imag(input):
    """The imaginary part, a view sharing memory; complex input only."""
    if not _is_complex(input):
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return Imag.generic(input)


def _part_property(get):
    def fget(self):
        return get(self)

    def fset(self, value):
        # Writing a part writes through the view into the complex tensor (as NumPy and
        # PyTorch): a copy_ into the view, so versions and autograd see it.
        get(self).copy_(value if isinstance(value, Tensor) else _scalar_like(self, value))

    return property(fget, fset, doc=get.__doc__)


def _scalar_like(t, value):
    from .._tensor import wrap

    return wrap(np.asarray(value, dtype=t._data.real.dtype))


Tensor.real = _part_property(real)
Tensor.imag = _part_property(imag)


# ---------------------------------------------------------------------- real view and back

class ViewAsReal(Primitive):
    """A complex tensor seen as a real one with a last dim of 2 (real, imag), sharing memory.
    d/dz: complex(grad[..., 0], grad[..., 1])."""

    __slots__ = ()
    is_view = True
    formula = "complex(grad[..., 0], grad[..., 1])"

    def forward(ctx, x):
        if x.dtype.kind != "c":
            raise RuntimeError("view_as_real is only supported for complex tensors")
        # A trailing axis of length 1 lets NumPy reinterpret each element as two floats,
        # whatever the strides of the other axes.
        return x[..., None].view(x.real.dtype)

    def backward(ctx, grad):
        return complex(grad[..., 0], grad[..., 1])

    def jvp(ctx, tx):
        return view_as_real(tx)


class ViewAsComplex(Primitive):
    """Pairs (real, imag) along a last dim of 2 seen as complex numbers, sharing memory.
    d/dx: view_as_real(grad)."""

    __slots__ = ()
    is_view = True
    formula = "view_as_real(grad)"

    def forward(ctx, x):
        _check_pairs(x)
        return x.view(_COMPLEX_OF[x.dtype])[..., 0]

    def backward(ctx, grad):
        return view_as_real(grad)

    def jvp(ctx, tx):
        return view_as_complex(tx)


def _check_pairs(x) -> None:
    if x.dtype not in _COMPLEX_OF:
        if x.dtype == np.float16:
            raise RuntimeError("view_as_complex: complex32 (chalf) tensors are not supported "
                               "(NumPy has no complex32)")
        raise RuntimeError("view_as_complex is only supported for half, float and double "
                           f"tensors, but got a tensor of scalar type: {_type_name(x)}")
    if x.ndim == 0 or x.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if x.strides[-1] != x.itemsize:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s % (2 * x.itemsize) for s, n in zip(x.strides[:-1], x.shape[:-1]) if n > 1):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")


def _type_name(x) -> str:
    """PyTorch's scalar-type word for an array's dtype (Float, Long, ...)."""
    return dtypes._torch_scalar_name(dtypes.from_numpy_dtype(x.dtype))


def view_as_real(input):
    """The complex ``input`` as a real tensor of shape (*input.shape, 2), sharing memory.

    >>> import retrograd as torch
    >>> torch.view_as_real(torch.tensor([1 + 2j]))
    tensor([[1., 2.]])
    """
    return ViewAsReal.generic(input)


def view_as_complex(input):
    """A float tensor with a last dim of 2 seen as complex, sharing memory."""
    return ViewAsComplex.generic(input)


# ---------------------------------------------------------------------- building

class Complex(Primitive):
    """real + i imag (broadcast).  d/dreal = real(grad), d/dimag = imag(grad)."""

    __slots__ = ()
    formula = "real(grad), imag(grad)"

    def forward(ctx, re, im):
        _check_float_pair(re, im)
        m = xp(re)
        out = m.empty(m.broadcast_shapes(re.shape, im.shape), _COMPLEX_OF[re.dtype])
        out.real = re
        out.imag = im
        return out

    def backward(ctx, grad):
        return real(grad), imag(grad)

    def jvp(ctx, tr, ti):
        # A missing tangent is zero; the other one fixes its dtype (both inputs share one).
        like = _raw(ti if tr is None else tr)
        zero = xp(like).zeros(ctx.out_shape, like.dtype)
        return complex(zero if tr is None else tr, zero if ti is None else ti)


def _check_float_pair(re, im) -> None:
    for v in (re, im):
        if getattr(v, "dtype", None) is None:
            raise TypeError(f"complex(): argument must be Tensor, not {type(v).__name__}")
    if re.dtype.kind != "f" or im.dtype.kind != "f":
        raise RuntimeError("Expected both inputs to be Half, Float or Double tensors but got "
                           f"{_type_name(re)} and {_type_name(im)}")
    if re.dtype != im.dtype:
        raise RuntimeError(f"Expected object of scalar type {_type_name(re)} but got scalar "
                           f"type {_type_name(im)} for second argument")
    if re.dtype not in _COMPLEX_OF:
        raise RuntimeError("complex(): complex32 (chalf) tensors are not supported (NumPy has "
                           "no complex32)")


def complex(real, imag, *, out=None):
    """The complex tensor real + i imag; both float tensors of one dtype.

    >>> import retrograd as torch
    >>> torch.complex(torch.tensor([1.]), torch.tensor([2.]))
    tensor([1.+2.j])
    """
    result = Complex.generic(real, imag)
    if out is not None:
        _check_complex_out(result, out)
    return out_(result, out)


def _check_complex_out(result, out) -> None:
    """complex and polar want ``out`` in exactly the result's dtype (no casting)."""
    got = getattr(getattr(out, "_data", None), "dtype", None)
    if got is not None and got != result._data.dtype:
        raise RuntimeError(f"Expected object of scalar type {_type_name(result._data)} but got "
                           f"scalar type {_type_name(out._data)} for argument 'out'")


def polar(abs, angle, *, out=None):
    """abs * (cos(angle) + i sin(angle)), both float tensors of one dtype. Written with
    ``complex``, ``cos`` and ``sin``, so it needs no backward of its own."""
    from .unary import cos, sin

    _check_float_pair(abs._data if isinstance(abs, Tensor) else abs,
                      angle._data if isinstance(angle, Tensor) else angle)
    result = complex(abs * cos(angle), abs * sin(angle))
    if out is not None:
        _check_complex_out(result, out)
    return out_(result, out)


# ---------------------------------------------------------------------- angle and sgn

class Angle(Primitive):
    """The argument atan2(b, a) of z = a + ib (pi for negative reals, 0 otherwise).
    d/dz = grad (-b + ia) / |z|^2 (0 at z = 0); 0 for real input."""

    __slots__ = ()
    formula = "grad * complex(-imag(x), real(x)) / |x|^2"

    def forward(ctx, x):
        m = xp(x)
        if x.dtype.kind == "c":
            ctx.save(x)
            return m.angle(x)
        ctx.save(None)
        if x.dtype.kind in "biu":
            x = x.astype(dtypes.get_default_dtype()._np)
        out = m.where(x < 0, math.pi, 0).astype(x.dtype)
        return m.where(m.isnan(x), x, out)

    def backward(ctx, grad):
        (x,) = ctx.saved
        if x is None:  # a real input: angle is piecewise constant
            return grad * 0
        re, im = real(x), imag(x)
        sq = re * re + im * im
        scale = where(_raw(sq) == 0, 0.0, grad / where(_raw(sq) == 0, 1.0, sq))
        return complex(-im * scale, re * scale)

    def jvp(ctx, tx):
        (x,) = ctx.saved
        if x is None:
            return tx * 0
        # d angle = (a db - b da) / |z|^2 = imag(conj(z) dz) / |z|^2
        re, im = real(x), imag(x)
        sq = re * re + im * im
        num = re * imag(tx) - im * real(tx)
        return where(_raw(sq) == 0, 0.0, num / where(_raw(sq) == 0, 1.0, sq))


def _raw(v):
    return v._data if isinstance(v, Tensor) else v


@register_method()
def angle(input, *, out=None):
    """The element-wise argument (in radians) of complex input; for real input pi where it is
    negative and 0 elsewhere (NaN stays NaN)."""
    return out_(Angle.generic(input), out)


class Sgn(Primitive):
    """z / |z| (0 at 0); the sign for real input.  For complex z with s = sgn(z):
    d/dz = (grad - conj(grad) s^2) / (2|z|), 0 at z = 0; 0 for real input."""

    __slots__ = ()
    formula = "(grad - conj(grad) * out^2) / (2 |x|)"

    def forward(ctx, x):
        m = xp(x)
        if x.dtype.kind != "c":
            ctx.save(None, None)
            out = m.sign(x)
            # PyTorch's sgn of NaN is 0 (NumPy's sign keeps NaN).
            return m.where(m.isnan(x), 0, out).astype(x.dtype) if x.dtype.kind == "f" else out
        out = m.sign(x)  # NumPy's complex sign is z / |z|, 0 at 0
        ctx.save(x, out)
        return out

    def backward(ctx, grad):
        x, out = ctx.saved
        if x is None:
            return grad * 0
        return _sgn_linear(x, out, grad)

    def jvp(ctx, tx):
        x, out = ctx.saved
        if x is None:
            return tx * 0
        return _sgn_linear(x, out, tx)


def _sgn_linear(x, s, v):
    """(v - s^2 conj(v)) / (2|x|), 0 at x = 0: the gradient for v = grad and the tangent for
    v = the input's tangent (the map is self-adjoint over the reals). Written with real
    arithmetic on the parts, so it is differentiable whatever the complex rows do (double
    backward goes through real, imag and complex only)."""
    c, d = real(s), imag(s)
    p, q = c * c - d * d, 2 * c * d  # s^2
    vr, vi = real(v), imag(v)
    re = vr - (vr * p + vi * q)  # v - s^2 conj(v), parts
    im = vi - (vr * q - vi * p)
    size = (real(x) * real(x) + imag(x) * imag(x)) ** 0.5
    zero = _raw(size) == 0
    scale = where(zero, 0.0, 0.5 / where(zero, 1.0, size))
    return complex(re * scale, im * scale)


@register_method()
def sgn(input, *, out=None):
    """z / |z| for complex input (0 at 0); the same as ``sign`` for real input."""
    return out_(Sgn.generic(input), out)
