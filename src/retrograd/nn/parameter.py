"""``Parameter``: a Tensor that a Module registers as one of its learnable weights."""

from __future__ import annotations

from typing import Any

from .. import _dtype as dtypes
from .._printing import parameter_repr
from .._tensor import Tensor, _init_leaf, wrap
from ..backend import to_numpy
from ..ops.creation import empty

__all__ = ["Buffer", "Parameter", "UninitializedBuffer", "UninitializedParameter",
           "is_lazy"]


class Parameter(Tensor):
    """A leaf tensor that, assigned as a Module attribute, joins ``module.parameters()``.

    ``Parameter(data, requires_grad=True)`` shares ``data``'s memory. Ops on a Parameter give
    plain Tensors.

    >>> import retrograd as torch
    >>> torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    Parameter containing:
    tensor([1., 2.], requires_grad=True)
    """

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> Parameter:
        if data is None:

            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(
                f"Parameter(): argument 'data' must be Tensor, not {type(data).__name__}"
            )
        out = Tensor.__new__(cls)
        _init_leaf(out, data._data, False)
        if requires_grad:
            out.requires_grad_(True)
        return out

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        pass

    def __repr__(self, *, tensor_contents: Any = None) -> str:
        return parameter_repr(
            self._data,
            dtype_name=repr(self.dtype),
            default_dtype_name=repr(dtypes.get_default_dtype()),
            requires_grad=self._requires_grad,
            device=str(self.device),
        )

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (to_numpy(self._data), self._requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        out = type(self).__new__(type(self), None, False)
        _init_leaf(out, self._data.copy(), self._requires_grad)
        if self._grad is not None:
            out._grad = self._grad.__deepcopy__(memo)
        out.__dict__.update(
            {k: v for k, v in self.__dict__.items()}
        )
        memo[id(self)] = out
        return out


def _rebuild_parameter(array, requires_grad: bool) -> Parameter:
    return Parameter(wrap(array), requires_grad)


class Buffer(Tensor):
    """Marks a tensor to be registered as a buffer when assigned to a Module attribute.

    ``Buffer(data, persistent=True)`` returns a plain Tensor-like marker; the Module stores
    ``data`` itself.
    """

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True) -> Buffer:
        if data is None:

            data = empty(0)
        out = Tensor.__new__(cls)
        _init_leaf(out, data._data, data.requires_grad)
        out.persistent = persistent
        return out

    def __init__(self, data: Tensor | None = None, *, persistent: bool = True) -> None:
        pass


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet (for lazy modules)."""

    def __new__(cls, requires_grad: bool = True, device=None, dtype=None):
        return super().__new__(cls, None, requires_grad)

    def __init__(self, requires_grad: bool = True, device=None, dtype=None) -> None:
        # Where and as what the values will be made once the shape is known.
        self._factory = (device, dtype)

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Give this parameter ``shape`` (uninitialised values); it becomes a Parameter."""
        default_device, default_dtype = self.__dict__.pop("_factory", (None, None))
        data = empty(shape, device=device or default_device, dtype=dtype or default_dtype)
        self._data = data._data
        self.__class__ = Parameter

    def __repr__(self, *, tensor_contents: Any = None) -> str:
        return "<UninitializedParameter>"


class UninitializedBuffer(Tensor):
    def __new__(cls, requires_grad: bool = False, device=None, dtype=None):
        out = Tensor.__new__(cls)
        _init_leaf(out, empty(0)._data, False)
        return out

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def materialize(self, shape, device=None, dtype=None) -> None:
        self._data = empty(shape, device=device, dtype=dtype)._data

    def __repr__(self, *, tensor_contents: Any = None) -> str:
        return "<UninitializedBuffer>"


def is_lazy(param: Any) -> bool:
    return isinstance(param, (UninitializedParameter, UninitializedBuffer))
