"""Creating tensors: ``tensor``, ``zeros``/``ones``/``full``/``empty``, ranges, ``eye``,
random tensors, the ``*_like`` and ``new_*`` families and the legacy constructors."""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import _dtype as dtypes
from .._device import placement
from .._size import Size
from .._tensor import Tensor, _init_leaf, wrap
from ..autograd.grad_mode import state as _state
from ..backend import cupy, to_numpy
from ..random import rng
from ._core import register_method, replayable
from ._helpers import int_arg
from ._out import creates_into_out, write_out

__all__ = [
    "arange", "as_tensor", "empty", "empty_like", "eye", "from_numpy", "full", "full_like",
    "linspace", "logspace", "normal", "ones", "ones_like", "rand", "rand_like", "randint",
    "randint_like", "randn", "randn_like", "randperm", "scalar_tensor", "tensor", "zeros",
    "zeros_like",
]


def _sizes(size, negative: str = "", op: str = "") -> tuple:
    """The ints of ``f(2, 3)`` or ``f((2, 3))``; ``negative``: the op's own message for a
    negative size (PyTorch's zeros words it differently from the rest). ``f()`` is
    PyTorch's TypeError: a 0-d tensor is asked for with ``f(())``."""
    if not size:
        raise TypeError(f'{op}() missing 1 required positional arguments: "size"')
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        size = tuple(size[0])
    elif len(size) == 1 and not isinstance(size[0], (int, np.integer, Tensor)):
        raise TypeError(f"{op}(): argument 'size' must be tuple of ints, not "
                        f"{type(size[0]).__name__}")
    out = []
    for i, s in enumerate(size):
        if isinstance(s, Tensor):
            s = s.item()
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"{op}(): argument 'size' must be tuple of ints, but found element "
                            f"of type {type(s).__name__} at pos {i}")
        if s < 0:
            raise RuntimeError(negative or f"Trying to create tensor with negative dimension "
                               f"{s}: {list(size)}")
        out.append(int(s))
    return tuple(out)


def _cast(arr, npd):
    return arr.astype(npd)


def _finish(arr, dtype=None, device=None, requires_grad=False) -> Tensor:
    if dtype is not None:
        npd = dtypes.to_dtype(dtype)._np
        if arr.dtype != npd:
            arr = replayable(_cast, arr, npd)
    if placement(device) == "cuda":
        arr = cupy().asarray(arr)
    t = wrap(arr)
    if _state.capture is not None:  # a capturing compile: a value made by a factory
        _state.capture.constant(t)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _infer_dtype(data) -> np.dtype:
    """PyTorch's inference: bool < int64 < default float < complex over all elements; no
    element at all (``[]``, ``[[], []]``) is the default float dtype."""
    kind = -1
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, (bool, np.bool_)):
            kind = max(kind, 0)
            continue
        if isinstance(x, (int, np.integer)):
            kind = max(kind, 1)
        elif isinstance(x, (float, np.floating)):
            kind = max(kind, 2)
        elif isinstance(x, (complex, np.complexfloating)):
            kind = 3
        elif isinstance(x, Tensor):
            stack.append(x.item() if x.dim() == 0 else x.tolist())
        elif isinstance(x, (list, tuple)):
            stack.extend(x)
        elif isinstance(x, np.ndarray):
            return x.dtype
        else:
            raise TypeError(f"Could not infer dtype of {type(x).__name__}")
    return [np.bool_, np.int64, dtypes.get_default_dtype()._np,
            dtypes.default_for_category(3)._np, dtypes.get_default_dtype()._np][kind]


def _to_array(data, dtype=None) -> np.ndarray:
    if isinstance(data, Tensor):
        arr = to_numpy(data._data).copy()
    elif isinstance(data, np.ndarray):
        arr = np.array(data, copy=True)
    elif hasattr(data, "__array__") and not isinstance(data, (list, tuple)):
        arr = np.array(data)
    else:
        if isinstance(data, (list, tuple)):
            data = _unwrap_nested(data)
        npd = dtypes.to_dtype(dtype)._np if dtype is not None else _infer_dtype(data)
        try:
            arr = np.array(data, dtype=npd)
        except OverflowError:
            raise RuntimeError(
                f"value cannot be converted to type {np.dtype(npd).name} without overflow"
            ) from None
        except ValueError as e:
            raise ValueError(f"expected sequence of equal-length lists: {e}") from None
        if arr.dtype == object:
            raise TypeError(f"Could not infer dtype of {type(data).__name__}")
    return arr


def _unwrap_nested(data):
    if isinstance(data, Tensor):
        return to_numpy(data._data).tolist()
    if isinstance(data, (list, tuple)):
        return [_unwrap_nested(d) for d in data]
    return data


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """A new leaf tensor holding a copy of ``data``; the dtype is inferred as PyTorch does
    (Python ints give int64, floats the default float dtype).

    >>> import retrograd as torch
    >>> torch.tensor([1, 2]).dtype
    torch.int64
    """
    arr = _to_array(data, dtype)
    return _finish(arr, dtype, device, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a Tensor or ndarray when it can."""
    if isinstance(data, Tensor):
        return data.to(dtype) if dtype is not None else data
    if isinstance(data, np.ndarray) and (dtype is None or
                                         dtypes.to_dtype(dtype)._np == data.dtype):
        dtypes.from_numpy_dtype(data.dtype)
        return wrap(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``ndarray`` (changes show on both sides)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    dtypes.from_numpy_dtype(ndarray.dtype)
    return wrap(ndarray)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(np.array(s, dtype=(dtypes.to_dtype(dtype) if dtype else
                                      dtypes.get_default_dtype())._np), None, device,
                   requires_grad)


def _default(dtype):
    return (dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype())._np


def _module(device):
    """The array module that makes tensors for ``device``: numpy for cpu, cupy for cuda."""
    if placement(device) == "cuda":
        return cupy()
    return np


_MAX_BYTES = 2**63 - 1


def _alloc(make, shape: tuple, npd):
    """``make()`` for an array of ``shape`` and dtype ``npd``, with PyTorch's errors: a size
    whose byte count overflows, and an allocation that fails (NumPy's MemoryError)."""
    nbytes = np.dtype(npd).itemsize
    for s in shape:
        nbytes *= s
    if nbytes > _MAX_BYTES:
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(shape)}")
    try:
        return make()
    except MemoryError:
        raise RuntimeError(f"DefaultCPUAllocator: can't allocate memory: you tried to allocate "
                           f"{nbytes} bytes.") from None


@creates_into_out("zeros")
def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    shape = _sizes(size, "zeros: Dimension size must be non-negative.", "zeros")
    npd, m = _default(dtype), _module(device)
    return _finish(_alloc(lambda: m.zeros(shape, npd), shape, npd), None, device, requires_grad)


@creates_into_out("ones")
def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    shape, npd, m = _sizes(size, op="ones"), _default(dtype), _module(device)
    return _finish(_alloc(lambda: m.ones(shape, npd), shape, npd), None, device, requires_grad)


@creates_into_out("empty")
def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          memory_format=None, pin_memory=False) -> Tensor:
    shape, npd, m = _sizes(size, op="empty"), _default(dtype), _module(device)
    return _finish(_alloc(lambda: m.empty(shape, npd), shape, npd), None, device, requires_grad)


@creates_into_out("full")
def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``; the dtype follows the value."""
    if dtype is None:
        if isinstance(fill_value, Tensor):
            fill_value = fill_value.item()
        dtype = dtypes.default_for_category(dtypes.scalar_category(fill_value))
    if not isinstance(size, (tuple, list)):  # full(3, v) is PyTorch's TypeError, not (3,)
        raise TypeError(f"full(): argument 'size' must be tuple of ints, not "
                        f"{type(size).__name__}")
    shape = _sizes((tuple(size),), op="full")
    npd, m = dtypes.to_dtype(dtype)._np, _module(device)
    return _finish(_alloc(lambda: m.full(shape, fill_value, npd), shape, npd), None, device,
                   requires_grad)


@creates_into_out("arange")
def arange(start, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 for integer args."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    for what, v in zip(("start", "end", "step"), vals, strict=True):
        if not isinstance(v, (int, float, np.number)):  # bool is an int, as in PyTorch
            raise TypeError(f"arange(): argument '{what}' must be Number, not "
                            f"{type(v).__name__}")
    if vals[2] == 0:
        raise RuntimeError("step must be nonzero")
    if (vals[1] - vals[0]) / vals[2] < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    is_int = all(isinstance(v, (int, np.integer)) for v in vals)
    if dtype is None:
        dtype = dtypes.int64 if is_int else dtypes.get_default_dtype()
    n = max(0, math.ceil((vals[1] - vals[0]) / vals[2]))
    m = _module(device)
    # Integer ranges are exact; others are start + i * step in float64, as PyTorch computes.
    arr = m.arange(*vals) if is_int else vals[0] + m.arange(n, dtype=np.float64) * vals[2]
    return _finish(arr.astype(dtypes.to_dtype(dtype)._np), None, device, requires_grad)


def _steps(steps, op) -> int:
    if isinstance(steps, Tensor) and steps.dim() == 0 and not steps.is_floating_point():
        steps = steps.item()
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise TypeError(f"{op}(): argument 'steps' must be int, not {type(steps).__name__}")
    steps = int(steps)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    return steps


def _endpoint(value, what, op) -> float:
    """start or end: a real number or a 0-d Tensor (PyTorch's parser and its dim check)."""
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(f"{op} only supports 0-dimensional start and end tensors, but "
                               f"got {what} with {value.dim()} dimension(s).")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{op}(): argument '{what}' must be a number or a 0-d Tensor, not "
                        f"{type(value).__name__}")
    return float(value)


@creates_into_out("linspace")
def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    start, end = _endpoint(start, "start", "linspace"), _endpoint(end, "end", "linspace")
    arr = _module(device).linspace(start, end, _steps(steps, "linspace"))
    return _finish(arr.astype(_default(dtype)), None, device, requires_grad)


@creates_into_out("logspace")
def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    start, end = _endpoint(start, "start", "logspace"), _endpoint(end, "end", "logspace")
    if isinstance(base, bool) or not isinstance(base, (int, float, np.number)):
        raise TypeError(f"logspace(): argument 'base' must be float, not {type(base).__name__}")
    arr = _module(device).logspace(start, end, _steps(steps, "logspace"), base=base)
    return _finish(arr.astype(_default(dtype)), None, device, requires_grad)


@creates_into_out("eye")
def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None,
        requires_grad=False) -> Tensor:
    n = int_arg("eye", "n", n)
    cols = n if m is None else int_arg("eye", "m", m)
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if cols < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {cols}")
    npd, mod = _default(dtype), _module(device)
    return _finish(_alloc(lambda: mod.eye(n, cols, dtype=npd), (n, cols), npd), None, device,
                   requires_grad)


# Random tensors are drawn by the CPU generator (seeded by manual_seed) and then moved to the
# device, so a seed gives the same numbers on every device.

@creates_into_out("rand")
def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False) -> Tensor:
    """Uniform samples on [0, 1)."""
    d, shape = _default(dtype), _sizes(size, op="rand")
    draw = d if d in (np.float32, np.float64) else np.float64
    arr = replayable(lambda: _alloc(lambda: rng(generator).random(shape, dtype=draw), shape,
                                    draw).astype(d, copy=False))
    return _finish(arr, None, device, requires_grad)


@creates_into_out("randn")
def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False) -> Tensor:
    """Standard normal samples."""
    d, shape = _default(dtype), _sizes(size, op="randn")
    draw = d if d in (np.float32, np.float64) else np.float64
    arr = replayable(lambda: _alloc(lambda: rng(generator).standard_normal(shape, dtype=draw),
                                    shape, draw).astype(d, copy=False))
    return _finish(arr, None, device, requires_grad)


@creates_into_out("randint")
def randint(low, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None,
            device=None, requires_grad=False) -> Tensor:
    """Integers uniformly from [low, high)."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list, Size)):
            raise TypeError("randint() missing required argument 'size'")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    shape = _sizes((tuple(size),))
    arr = replayable(_alloc, lambda: rng(generator).integers(low, high, size=shape,
                                                             dtype=np.int64), shape, np.int64)
    return _finish(arr, dtype or dtypes.int64, device, requires_grad)


@creates_into_out("randperm")
def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    perm = replayable(lambda: rng(generator).permutation(n).astype(np.int64))
    return _finish(perm, dtype or dtypes.int64, device, requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None,
           layout=None, device=None, pin_memory=False, requires_grad=False) -> Tensor:
    """Normal samples; ``mean``/``std`` may be tensors (broadcast) or numbers with ``size``."""
    m = to_numpy(mean._data) if isinstance(mean, Tensor) else mean
    s = to_numpy(std._data) if isinstance(std, Tensor) else std
    if isinstance(std, Tensor):
        if (s < 0).any():
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif s < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {s:g}")
    if size is None:
        size = np.broadcast_shapes(np.shape(m), np.shape(s))
    like = mean if isinstance(mean, Tensor) else std if isinstance(std, Tensor) else None
    if like is not None and device is None:
        device = like.device
    d = like._data.dtype if like is not None else _default(dtype)
    if out is not None and like is None:
        d = out._data.dtype
    shape = _sizes((tuple(size),))
    arr = replayable(lambda: _alloc(lambda: rng(generator).normal(m, s, size=shape), shape,
                                    np.float64).astype(d))
    return write_out(_finish(arr, None, device, requires_grad), out, "normal")


def _like(fn):
    def like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
             memory_format=None, **kw):
        d = dtype if dtype is not None else input.dtype
        return fn(tuple(input.shape), dtype=d, device=device or input.device,
                  requires_grad=requires_grad, **kw)

    like.__name__ = fn.__name__ + "_like"
    like.__doc__ = f"``{fn.__name__}`` with the shape (and by default dtype) of ``input``."
    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)
rand_like = _like(rand)
randn_like = _like(randn)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None,
              requires_grad=False, memory_format=None) -> Tensor:
    return full(input.shape, fill_value, dtype=dtype or input.dtype, device=device,
                requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None,
                 requires_grad=False, memory_format=None) -> Tensor:
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype, device=device)


# ---------------------------------------------------------------------- new_* methods

def _new_fn(fn):
    def new(self, *size, dtype=None, device=None, requires_grad=False, **kw):
        return fn(*size, dtype=dtype or self.dtype, device=device or self.device,
                  requires_grad=requires_grad)

    new.__name__ = "new_" + fn.__name__
    return new


register_method("new_zeros")(_new_fn(zeros))
register_method("new_ones")(_new_fn(ones))
register_method("new_empty")(_new_fn(empty))


@register_method("new_full")
def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    return full(size, fill_value, dtype=dtype or self.dtype, device=device,
                requires_grad=requires_grad)


@register_method("new_tensor")
def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    return tensor(data, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)


# ---------------------------------------------------------------------- legacy constructors

def legacy_construct(t: Tensor, *args, dtype=None, device=None, requires_grad=False) -> None:
    """``Tensor(*sizes)`` (uninitialized) or ``Tensor(data)`` (a copy), as PyTorch's."""
    npd = (dtype or dtypes.float32)._np if isinstance(dtype, dtypes.dtype) else \
        dtypes.to_dtype(dtype or dtypes.float32)._np
    if not args:
        arr = np.empty((0,), npd)
    elif all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
        arr = np.empty(tuple(int(a) for a in args), npd)
    elif len(args) == 1 and isinstance(args[0], Size):
        arr = np.empty(tuple(args[0]), npd)
    elif len(args) == 1:
        data = args[0]
        if isinstance(data, Tensor):
            arr = data._data.astype(npd, copy=False)
        elif isinstance(data, numbers.Number):
            raise TypeError(
                f"new(): data must be a sequence (got {type(data).__name__})"
            )
        else:
            arr = np.array(_unwrap_nested(data) if isinstance(data, (list, tuple)) else data,
                           dtype=npd)
    else:
        raise TypeError(f"new() received an invalid combination of arguments: {args}")
    _init_leaf(t, arr, False)
    if requires_grad:
        t.requires_grad_(True)


def _legacy_type(name: str, dt):
    def construct(*args, **kwargs):
        t = Tensor.__new__(Tensor)
        legacy_construct(t, *args, dtype=dt, **kwargs)
        return t

    construct.__name__ = name
    construct.__qualname__ = name
    construct.__doc__ = f"Legacy constructor: a {dt} tensor from data or sizes."
    return construct
