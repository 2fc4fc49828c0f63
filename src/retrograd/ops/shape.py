"""Views and shape changes: view, reshape, transpose, permute, expand, squeeze, unsqueeze,
flatten, t; plus clone and contiguous. View ops share memory with their input."""

from __future__ import annotations

import numpy as np

from .._dims import wrap_dim
from .._dtype import dtype
from .._tensor import Tensor
from ..autograd.grad_mode import state
from ..backend import xp
from ._core import Primitive, register_method
from ._helpers import int_arg, int_list
from ._out import dtype_name
from .conversion import view_dtype
from .inplace import _check_leaf, bump_version
from .reduction import sum_to

__all__ = ["adjoint", "broadcast_to", "clone", "expand", "flatten", "moveaxis", "movedim",
           "permute", "reshape", "squeeze", "swapaxes", "swapdims", "t", "transpose",
           "unflatten", "unsqueeze", "view"]


def _infer_shape(shape, numel: int, op: str) -> tuple:
    shape = tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


class View(Primitive):
    """x viewed with a new shape.  d/dx = grad reshaped to x's shape."""

    __slots__ = ("shape",)
    is_view = True
    formula = "reshape(grad, x.shape)"

    def forward(ctx, x, shape=()):
        ctx.shape = x.shape
        new = _infer_shape(shape, x.size, "view")
        try:
            return xp(x).reshape(x, new, copy=False)
        except ValueError:
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least"
                " one dimension spans across two contiguous subspaces). Use .reshape(...) "
                "instead."
            ) from None

    def backward(ctx, grad):
        return reshape(grad, ctx.shape)

    def jvp(ctx, tx):
        return reshape(tx, ctx.out_shape)


class Reshape(View):
    """x reshaped (a view when possible, else a copy).  d/dx = grad reshaped back."""

    __slots__ = ()
    _name = "ViewBackward0"

    def forward(ctx, x, shape=()):
        ctx.shape = x.shape
        return x.reshape(_infer_shape(shape, x.size, "reshape"))


class Transpose(Primitive):
    """x with dims d0 and d1 swapped.  d/dx = grad with them swapped back."""

    __slots__ = ("d0", "d1")
    is_view = True
    formula = "transpose(grad, d0, d1)"

    def forward(ctx, x, dim0=0, dim1=1):
        ctx.d0, ctx.d1 = dim0, dim1
        if x.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
            return x.view()
        return xp(x).swapaxes(x, wrap_dim(dim0, x.ndim), wrap_dim(dim1, x.ndim))

    def backward(ctx, grad):
        return transpose(grad, ctx.d0, ctx.d1)

    def jvp(ctx, tx):
        return transpose(tx, ctx.d0, ctx.d1)


class T(Transpose):
    """The 2-d transpose ``t()``; recorded as TBackward0."""

    __slots__ = ()


class Permute(Primitive):
    """x with dims reordered.  d/dx = grad with the inverse order."""

    __slots__ = ("dims",)
    is_view = True
    formula = "permute(grad, argsort(dims))"

    def forward(ctx, x, dims=()):
        if len(dims) == x.ndim:  # the count first, then each dim's range (PyTorch's order)
            dims = tuple(wrap_dim(d, x.ndim) for d in dims)
        else:
            raise RuntimeError(
                f"permute(sparse_coo): number of dimensions in the tensor input does not match "
                f"the length of the desired ordering of dimensions i.e. input.dim() = {x.ndim} "
                f"is not equal to len(dims) = {len(dims)}"
            )
        if len(set(dims)) != len(dims):
            raise RuntimeError("permute(): duplicate dims are not allowed.")
        ctx.dims = dims
        return x.transpose(dims)

    def backward(ctx, grad):
        return permute(grad, tuple(int(i) for i in np.argsort(ctx.dims)))

    def jvp(ctx, tx):
        return permute(tx, ctx.dims)


class Expand(Primitive):
    """x broadcast to ``shape`` (a read-only view).  d/dx = grad summed over the new dims."""

    __slots__ = ("shape",)
    is_view = True
    formula = "sum_to(grad, x.shape)"

    def forward(ctx, x, shape=()):
        ctx.shape = x.shape
        lead = len(shape) - x.ndim
        if lead < 0:

            raise RuntimeError(
                f"expand({_legacy_type(x.dtype)}{{{list(x.shape)}}}, "
                f"size={list(shape)}): the number of sizes provided ({len(shape)}) must be "
                f"greater or equal to the number of dimensions in the tensor ({x.ndim})"
            )
        target = tuple(x.shape[i - lead] if s == -1 and i >= lead else s
                       for i, s in enumerate(shape))
        for i in range(x.ndim):
            if x.shape[i] != 1 and x.shape[i] != target[i + lead]:
                raise RuntimeError(
                    f"The expanded size of the tensor ({target[i + lead]}) must match the "
                    f"existing size ({x.shape[i]}) at non-singleton dimension {i + lead}.  "
                    f"Target sizes: {list(shape)}.  Tensor sizes: {list(x.shape)}"
                )
        return xp(x).broadcast_to(x, target)

    def backward(ctx, grad):
        return sum_to(grad, ctx.shape)

    def jvp(ctx, tx):
        return expand(tx, ctx.out_shape)


class Squeeze(View):
    """x without size-1 dims, a view with a new shape.  d/dx = grad reshaped back."""

    __slots__ = ()

    def forward(ctx, x, dim=None):
        ctx.shape = x.shape
        if dim is None:
            return x.squeeze()
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = tuple(wrap_dim(d, x.ndim) for d in dims)
        keep = tuple(d for d in dims if x.ndim and x.shape[d] == 1)
        return x.squeeze(axis=keep) if keep else x.view()


class SqueezeDim(Squeeze):
    __slots__ = ()
    _name = "SqueezeBackward1"


class SqueezeDims(Squeeze):
    __slots__ = ()
    _name = "SqueezeBackward2"


class Unsqueeze(Primitive):
    """x with a new size-1 dim.  d/dx = grad with it removed."""

    __slots__ = ("dim",)
    is_view = True
    formula = "squeeze(grad, dim)"

    def forward(ctx, x, dim=0):
        d = wrap_dim(dim, x.ndim + 1)
        ctx.dim = d
        return xp(x).expand_dims(x, d)

    def backward(ctx, grad):
        return squeeze(grad, ctx.dim)

    def jvp(ctx, tx):
        return unsqueeze(tx, ctx.dim)


class Clone(Primitive):
    """A copy.  d/dx = grad."""

    formula = "grad"

    def forward(ctx, x):
        return x.copy()

    def backward(ctx, grad):
        return grad

    def jvp(ctx, tx):
        return tx


def _legacy_type(np_dtype) -> str:
    """How PyTorch's messages name a CPU tensor type: the legacy class (torch.FloatTensor)
    where one exists, else the dispatch name (CPUBoolType, CPUComplexFloatType)."""
    word = dtype_name(np_dtype)
    if np_dtype.kind in "iuf" and word != "BFloat16":
        return f"torch.{word}Tensor"
    return f"CPU{word}Type"


# ---------------------------------------------------------------------- public functions

def _shape_args(shape, op="view", what="size") -> tuple:
    return int_list(op, what, shape)


@register_method("view")
def view(input, *shape):
    """The same data with another shape (no copy); -1 infers one dim."""
    if len(shape) == 1 and isinstance(shape[0], (dtype, np.dtype, type)):
        return view_dtype(input, shape[0])
    return View.generic(input, shape=_shape_args(shape))


@register_method("reshape")
def reshape(input, *shape):
    """The data with another shape: a view when possible, else a copy."""
    return Reshape.generic(input, shape=_shape_args(shape, "reshape", "shape"))


@register_method("transpose")
def transpose(input, dim0, dim1):
    return Transpose.generic(input, dim0=dim0, dim1=dim1)


@register_method("t")
def t(input):
    """Transpose of a tensor of at most 2 dims."""
    if input.dim() > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input.dim()}D")
    return T.generic(input, dim0=0, dim1=-1 if input.dim() == 2 else 0)


@register_method("permute")
def permute(input, *dims):
    if not dims:
        raise TypeError("permute() missing 1 required positional argument: 'dims'")
    return Permute.generic(input, dims=_shape_args(dims, "permute", "dims"))


@register_method("expand")
def expand(input, *sizes):
    """Broadcast to ``sizes`` without copying; -1 keeps a dim."""
    return Expand.generic(input, shape=_shape_args(sizes, "expand"))


_ALL = object()  # squeeze() without dim (an explicit None is PyTorch's TypeError)


@register_method("squeeze")
def squeeze(input, dim=_ALL):
    if dim is _ALL:
        return Squeeze.generic(input)
    if isinstance(dim, (tuple, list)):
        seen = set()
        for d in dim:
            w = wrap_dim(d, input.dim(), "squeeze")
            if w in seen:
                raise RuntimeError(f"dim {w} appears multiple times in the list of dims")
            seen.add(w)
        return SqueezeDims.generic(input, dim=tuple(dim))
    return SqueezeDim.generic(input, dim=int_arg("squeeze", "dim", dim))


@register_method("unsqueeze")
def unsqueeze(input, dim):
    return Unsqueeze.generic(input, dim=dim)


@register_method("flatten")
def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims ``start_dim``..``end_dim`` into one."""
    shape = input.shape
    nd = len(shape)
    s = wrap_dim(int_arg("flatten", "start_dim", start_dim), nd)
    e = wrap_dim(int_arg("flatten", "end_dim", end_dim), nd)
    if nd == 0:
        return reshape(input, (1,))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    n = 1
    for d in shape[s:e + 1]:
        n *= d
    return reshape(input, tuple(shape[:s]) + (n,) + tuple(shape[e + 1:]))


@register_method("clone")
def clone(input, *, memory_format=None):
    return Clone.generic(input)


@register_method("contiguous")
def contiguous(input, memory_format=None):
    if input._data.flags.c_contiguous:
        return input
    return Clone.generic(input)


swapaxes = swapdims = transpose
register_method("swapaxes", "swapdims")(transpose)


@register_method("movedim")
def movedim(input, source, destination):
    """``input`` with the dims at ``source`` moved to ``destination`` (a permute view)."""
    both_int = hasattr(source, "__index__") and hasattr(destination, "__index__")
    both_seq = isinstance(source, (list, tuple)) and isinstance(destination, (list, tuple))
    if not (both_int or both_seq):  # PyTorch's parser, before any dim is looked at
        raise TypeError(f"movedim(): arguments 'source' and 'destination' must both be int or "
                        f"both tuple of ints, not {type(source).__name__} and "
                        f"{type(destination).__name__}")
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(src)} dims) should "
            f"contain the same number of dims as destination ({list(dst)} dims)")
    nd = input.dim()
    src = tuple(wrap_dim(d, nd) for d in src)
    dst = tuple(wrap_dim(d, nd) for d in dst)
    for name, ds in (("source", src), ("destination", dst)):
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(ds)})")
    if nd == 0:  # dims 0 and -1 of a 0-d tensor name the tensor itself
        return permute(input, ())
    order = [None] * nd
    for a, b in zip(src, dst):
        order[b] = a
    rest = iter(d for d in range(nd) if d not in src)
    order = [next(rest) if o is None else o for o in order]
    return permute(input, tuple(order))


moveaxis = movedim
register_method("moveaxis")(movedim)


@register_method("unflatten")
def unflatten(input, dim, sizes):
    """Dimension ``dim`` split into ``sizes`` (one of them may be -1)."""
    d = wrap_dim(dim, input.dim())
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    shape = tuple(input.shape)
    inner = _infer_shape(sizes, shape[d], "unflatten") if -1 in sizes else sizes
    n = 1
    for s in inner:
        n *= s
    if n != shape[d]:
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim "
            f"{dim} ({shape[d]}) in the input tensor")
    return reshape(input, shape[:d] + inner + shape[d + 1:])


@register_method("broadcast_to")
def broadcast_to(input, size):
    return expand(input, tuple(size))


@register_method("adjoint")
def adjoint(input):
    return _mH(input)


def _inplace_view(self, fn, *args):
    """Apply the view op ``fn`` to ``self`` in place: ``self`` takes the view's shape and
    grad_fn (PyTorch's squeeze_, unsqueeze_, t_, transpose_)."""

    if state.grad_enabled and self._requires_grad:
        _check_leaf(self)
    old = Tensor.__new__(Tensor)
    for slot in ("_data", "_grad_fn", "_output_nr", "_requires_grad", "_vc", "_base",
                 "_extra", "_grad"):
        setattr(old, slot, getattr(self, slot))
    out = fn(old, *args)
    self._data = out._data
    if out._grad_fn is not None:  # under no_grad a leaf keeps its flags
        self._grad_fn = out._grad_fn
        self._output_nr = out._output_nr
        self._requires_grad = True
    if self._base is not None:
        view = out._extra.view if out._extra is not None else None
        self._extra = self._extra.copy() if self._extra is not None else None
        self._extras.view = view
    bump_version(self)
    return self


def _T(self):
    if self.dim() != 2:
        return permute(self, tuple(range(self.dim() - 1, -1, -1)))
    return t(self)


def _mT(self):
    if self.dim() < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. "
                           f"Got {self.dim()}-D tensor.")
    return transpose(self, -2, -1)


def _mH(self):
    if self.dim() < 2:
        raise RuntimeError(f"tensor.mH is only supported on matrices or batches of matrices. "
                           f"Got {self.dim()}-D tensor.")
    return _conj(transpose(self, -2, -1))


def _H(self):
    if self.dim() not in (0, 2):
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got "
                           f"{self.dim()}-D tensor.")
    return _conj(t(self)) if self.dim() == 2 else self


def _conj(x):
    return x.conj() if x.is_complex() else x


@register_method("view_as")
def _view_as(self, other):
    return view(self, other.shape)


@register_method("reshape_as")
def _reshape_as(self, other):
    return reshape(self, other.shape)


@register_method("expand_as")
def _expand_as(self, other):
    return expand(self, other.shape)


@register_method("squeeze_")
def squeeze_(self, *args, **kwargs):
    return _inplace_view(self, lambda x: squeeze(x, *args, **kwargs))


@register_method("unsqueeze_")
def unsqueeze_(self, *args, **kwargs):
    return _inplace_view(self, lambda x: unsqueeze(x, *args, **kwargs))


@register_method("t_")
def t_(self):
    return _inplace_view(self, t)


@register_method("transpose_")
def transpose_(self, *args, **kwargs):
    return _inplace_view(self, lambda x: transpose(x, *args, **kwargs))


Tensor.T = property(_T)  # type: ignore[attr-defined]
Tensor.mT = property(_mT)  # type: ignore[attr-defined]
Tensor.mH = property(_mH)  # type: ignore[attr-defined]
Tensor.H = property(_H)  # type: ignore[attr-defined]
