"""``Tensor``: an array, its dtype and device, and its place in the autograd graph.

No math lives here: arithmetic, dunders and most methods are installed by ``retrograd.ops``
(each op module registers its functions as Tensor methods next to their definitions), and
the autograd methods (``backward``, ``register_hook``, ``retain_grad``,
``register_post_accumulate_grad_hook``) by ``retrograd.autograd``: this module sits below
both and imports neither.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

try:  # Cython's pure-Python mode: C types for the compiled form (_tensor.pxd), or nothing
    import cython
except ImportError:
    from . import _cython_shim as cython

from . import _dtype as dtypes
from ._device import CPU, device
from ._dims import wrap_dim
from ._printing import tensor_repr
from ._site import creation_site
from ._size import Size
from .backend import is_cuda_array, to_numpy

__all__ = ["Tensor", "TensorBase", "TensorState", "wrap"]

_new = object.__new__


#: While ``compile(mode="reduce-overhead")`` captures a step: the recorder, told of values
#: read into Python and of ``.grad`` assignments (which replays must repeat or guard).
observer = None

class TensorState:
    """Per-tensor state most tensors never need (``Tensor._extra``, made by ``_extras``).

    Attributes:
        acc: weak reference to the leaf's AccumulateGrad node (autograd._record).
        cut: why the tensor is outside the graph, ``(what, creation site)``, for the
            "does not require grad" error (autograd._record, detach).
        view: ``(parent, primitive class, other args, attrs)`` that redoes this view from
            its parent (in-place ops on views replay it).
        hooks, post_hooks: a leaf's gradient hooks and post-accumulate hooks (autograd.hooks).
        retains_grad: ``retain_grad()`` was called on this non-leaf.
        tangent: the forward-AD tangent at the current level (autograd.forward_ad).
        lock: serializes gradient accumulation into this leaf across threads.
    """

    __slots__ = ("acc", "cut", "hooks", "lock", "post_hooks", "retains_grad", "tangent", "view")

    def __init__(self) -> None:
        self.acc = self.cut = self.view = self.hooks = self.post_hooks = None
        self.tangent = self.lock = None
        self.retains_grad = False

    def copy(self) -> TensorState:
        new = _new(TensorState)
        for name in TensorState.__slots__:
            setattr(new, name, getattr(self, name))
        return new


class TensorBase:
    """Tensor's fields, alone in a base class (as PyTorch's ``torch._C.TensorBase``).

    Compiled, this class is an extension type (``_tensor.pxd``), so code that knows a value
    is a TensorBase reads its fields as struct members; ``Tensor``, whose methods the op
    modules install one by one, stays an ordinary class. Make a Tensor without running
    ``__init__`` with ``TensorBase.__new__(Tensor)`` (``object.__new__`` refuses an
    extension type's subclass).

    Attributes:
        _data: the array. _grad: ``.grad``. _grad_fn: the node that made it (None for a
        leaf). _requires_grad, _output_nr: PyTorch's. _vc: ``[version, site of the last
        in-place change]``, shared with its views. _base: the tensor it is a view of.
        _extra: a TensorState or None.
    """

    __slots__ = ("__weakref__", "_base", "_data", "_extra", "_grad", "_grad_fn", "_output_nr",
                 "_requires_grad", "_vc")


_new_tensor = TensorBase.__new__


class Tensor(TensorBase):
    """A multi-dimensional array that records the operations made on it for autograd.

    ``Tensor(data)`` is PyTorch's legacy constructor (float32); use ``retrograd.tensor`` to
    infer the dtype from the data.
    """

    __slots__ = ()

    # Ensures ``ndarray <op> Tensor`` defers to the Tensor's reflected operator.
    __array_priority__ = 1000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from .ops.creation import legacy_construct

        legacy_construct(self, *args, **kwargs)

    # ----------------------------------------------------------------- storage
    @property
    def data(self) -> Tensor:
        """The same values, detached from the graph (shares memory, not the version counter)."""
        return wrap(self._data)

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data = value._data

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        """The shape, or the length of dimension ``dim``."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[wrap_dim(dim, self._data.ndim, "size")]

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    @property
    def dtype(self) -> dtypes.dtype:
        return dtypes.from_numpy_dtype(self._data.dtype)

    @property
    def device(self) -> device:
        if is_cuda_array(self._data):
            return device("cuda", self._data.device.id)
        return CPU

    @property
    def is_cuda(self) -> bool:
        return is_cuda_array(self._data)

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    def element_size(self) -> int:
        return self._data.itemsize

    def stride(self, dim: int | None = None):
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[wrap_dim(dim, self._data.ndim, "stride")]

    def is_contiguous(self, memory_format: Any = None) -> bool:
        return bool(self._data.flags.c_contiguous)

    def data_ptr(self) -> int:
        return self._data.__array_interface__["data"][0] if not self.is_cuda else \
            self._data.data.ptr

    # ----------------------------------------------------------------- autograd
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place on a leaf; returns self."""
        if self._grad_fn is not None:
            if requires_grad:
                return self
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError(
                "only Tensors of floating point and complex dtype can require gradients "
                f"(got {self.dtype})"
            )
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self) -> bool:
        return self._grad_fn is None

    @property
    def grad_fn(self):
        return self._grad_fn

    @property
    def grad(self) -> Tensor | None:
        if self._grad_fn is not None and not self.retains_grad and self._grad is None:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. "
                "Its .grad attribute won't be populated during autograd.backward(). If you "
                "indeed want the .grad field to be populated for a non-leaf Tensor, use "
                ".retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor by "
                "mistake, make sure you access the leaf Tensor instead.",
                UserWarning,
                stacklevel=2,
            )
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad expected to be a Tensor or None but got grad of type "
                    f"{type(value).__name__}"
                )
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"assigned grad has data of a different size: grad is "
                    f"{list(value.shape)}, tensor is {list(self.shape)}"
                )
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(
                    f"assigned grad has data of a different type: grad is {value.dtype}, "
                    f"tensor is {self.dtype}"
                )
        if observer is not None:
            observer.grad_set(self, value)
        self._grad = value

    @property
    def _version(self) -> int:
        return self._vc[0]

    @property
    def output_nr(self) -> int:
        return self._output_nr

    @property
    def _extras(self) -> TensorState:
        """The tensor's rarely used state (hooks, retain_grad, views, ...), made on first use."""
        extra = self._extra
        if extra is None:
            extra = self._extra = TensorState()
        return extra

    @property
    def retains_grad(self) -> bool:
        extra = self._extra
        return extra is not None and extra.retains_grad

    def detach(self) -> Tensor:
        """A new leaf sharing data and version counter, outside the graph."""
        out = wrap(self._data)
        out._vc = self._vc
        out._base = self._base if self._base is not None else self
        if self._requires_grad:
            out._extras.cut = ("detach()", creation_site(2))
        return out

    def detach_(self) -> Tensor:
        if self._base is not None and self._base._grad_fn is not None:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead."
            )
        self._grad_fn = None
        self._requires_grad = False
        self._output_nr = 0
        return self

    # ----------------------------------------------------------------- python protocol
    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar"
            )
        value = to_numpy(self._data).reshape(()).item()
        if observer is not None:
            observer.read(self, value, "item")
        return value

    def tolist(self):
        value = to_numpy(self._data).tolist()
        if observer is not None:
            observer.read(self, value, "tolist")
        return value

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The NumPy array behind this CPU tensor (shares memory)."""
        if self._requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        if is_cuda_array(self._data):
            if not force:
                raise TypeError(
                    "can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to "
                    "copy the tensor to host memory first."
                )
            return self._data.get()
        if observer is not None:
            observer.read(self, None, "numpy")
        return self._data

    def __array__(self, dtype=None, copy=None):
        arr = to_numpy(self._data)
        if dtype is not None and arr.dtype != dtype:
            return arr.astype(dtype)
        return arr.copy() if copy else arr

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                "Boolean value of Tensor with more than one value is ambiguous"
                if self._data.size > 1 else "Boolean value of Tensor with no values is ambiguous"
            )
        return bool(self.item())

    def __int__(self) -> int:
        return int(self._scalar())

    def __float__(self) -> float:
        return float(self._scalar())

    def _scalar(self):
        # int()/float() raise ValueError where item() raises RuntimeError, as in torch
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __complex__(self) -> complex:
        return complex(self._scalar())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __format__(self, format_spec: str) -> str:
        if self._data.ndim == 0 and format_spec:
            return self.item().__format__(format_spec)
        return object.__format__(self, format_spec) if format_spec else repr(self)

    def __repr__(self, *, tensor_contents: Any = None) -> str:
        fn = self._grad_fn
        return tensor_repr(
            self._data,
            dtype_name=repr(self.dtype),
            default_dtype_name=repr(dtypes.get_default_dtype()),
            requires_grad=self._requires_grad,
            grad_fn_name=fn.type_name() if fn is not None else None,
            is_leaf=fn is None,
            device=str(self.device),
        )

    __str__ = __repr__

    __hash__ = object.__hash__

    def __reduce_ex__(self, protocol):
        return (_rebuild, (to_numpy(self._data), self._requires_grad))

    def __deepcopy__(self, memo):
        if self._grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the "
                "deepcopy protocol at the moment."
            )
        out = type(self).__new__(type(self))
        _init_leaf(out, self._data.copy(), self._requires_grad)
        if self._grad is not None:
            out._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = out
        return out


def _rebuild(array: np.ndarray, requires_grad: bool) -> Tensor:
    t = wrap(array)
    t._requires_grad = requires_grad
    return t


@cython.locals(t=TensorBase)
def _init_leaf(t: Tensor, data, requires_grad: bool = False) -> None:
    t._data = data
    t._grad_fn = None
    t._requires_grad = requires_grad
    t._grad = None
    t._vc = [0]
    t._base = None
    t._output_nr = 0
    t._extra = None


@cython.locals(t=TensorBase)
def wrap(data, grad_fn=None, output_nr: int = 0) -> Tensor:
    """A Tensor around ``data`` (an ndarray, not copied), optionally the output of a node."""
    t = _new_tensor(Tensor)
    t._data = data
    t._grad_fn = grad_fn
    t._requires_grad = grad_fn is not None
    t._grad = None
    t._vc = [0]
    t._base = None
    t._output_nr = output_nr
    t._extra = None
    return t
