"""Tensor printing on NumPy arrays, written here from PyTorch's printed output.

Tensors print as PyTorch prints them (its documented ``set_printoptions`` and the output
it produces are the spec): the same choice between fixed, integer
and scientific notation, the same column widths, line wrapping, summarization with
``...`` and suffixes (``dtype=``, ``device=``, ``grad_fn=``, ``requires_grad=``).

The module imports nothing from retrograd, so it can be loaded on its own. Floating
data is formatted from a float64 copy; PyTorch formats ``tensor.item()`` and
``tensor.tolist()``, which are the same exact doubles, so nothing is lost or rounded
differently, float16 included.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from typing import Any

import numpy as np

__all__ = [
    "get_printoptions",
    "parameter_repr",
    "printoptions",
    "set_printoptions",
    "tensor_repr",
]


@dataclasses.dataclass
class _PrinterOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrinterOptions()

# profile name -> (precision, threshold, edgeitems, linewidth)
_PROFILES: dict[str, tuple[int, float, int, int]] = {
    "default": (4, 1000, 3, 80),
    "short": (2, 1000, 2, 80),
    "full": (4, math.inf, 3, 80),
}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set options for printing, as ``torch.set_printoptions``.

    Args:
        precision: Digits after the decimal point for floating output (default 4).
        threshold: Number of elements above which a tensor is summarized (default 1000).
        edgeitems: Items kept at the start and end of each summarized dimension (default 3).
        linewidth: Characters per line before wrapping (default 80).
        profile: ``"default"``, ``"short"`` or ``"full"``; the other arguments override it.
        sci_mode: Force (True) or forbid (False) scientific notation; None chooses
            automatically. Unlike the other options it is always set, so leaving it out
            resets it to None, as in PyTorch.

    Example:
        >>> set_printoptions(precision=2)
        >>> tensor_repr(np.array([1.12345]), dtype_name="torch.float64",
        ...             default_dtype_name="torch.float64")
        'tensor([1.12])'
        >>> set_printoptions(profile="default")
    """
    if profile in _PROFILES:
        (PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems,
         PRINT_OPTS.linewidth) = _PROFILES[profile]
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The current print options, as keyword arguments for :func:`set_printoptions`."""
    return dataclasses.asdict(PRINT_OPTS)


class printoptions(contextlib.ContextDecorator):
    """Temporarily change the print options; takes the arguments of :func:`set_printoptions`.

    Example:
        >>> with printoptions(precision=1):
        ...     tensor_repr(np.array([1.25, 2.0]), dtype_name="torch.float64")
        'tensor([1.2, 2.0], dtype=torch.float64)'
    """

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self._saved: list[dict[str, Any]] = []

    def __enter__(self) -> None:
        self._saved.append(get_printoptions())
        set_printoptions(**self._kwargs)

    def __exit__(self, *exc: object) -> None:
        set_printoptions(**self._saved.pop())


class _Formatter:
    """Chooses a notation and a column width for all the elements of one tensor."""

    def __init__(self, data: np.ndarray, floating: bool) -> None:
        self.floating_dtype = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = data.reshape(-1)

        if not floating:
            for value in flat.tolist():
                self.max_width = max(self.max_width, len(f"{value}"))
            return

        values = flat[np.isfinite(flat) & (flat != 0)]
        if values.size == 0:
            return
        magnitudes = np.abs(values)
        smallest, largest = magnitudes.min(), magnitudes.max()
        self.int_mode = bool(np.all(values == np.ceil(values)))
        if PRINT_OPTS.sci_mode is None:
            with np.errstate(over="ignore"):  # an infinite ratio is simply > 1000
                ratio = largest / smallest
            self.sci_mode = bool(ratio > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4)
        else:
            self.sci_mode = PRINT_OPTS.sci_mode

        precision = PRINT_OPTS.precision
        if self.sci_mode:
            widths = [len(f"{{:.{precision}e}}".format(v)) for v in values.tolist()]
        elif self.int_mode:
            # The "+ 1" makes room for the "." that marks the tensor as floating.
            widths = [len(f"{v:.0f}") + 1 for v in values.tolist()]
        else:
            widths = [len(f"{{:.{precision}f}}".format(v)) for v in values.tolist()]
        self.max_width = max(self.max_width, *widths)

    def width(self) -> int:
        return self.max_width

    def format(self, value: Any) -> str:
        if self.floating_dtype:
            if self.sci_mode:
                out = f"{{:{self.max_width}.{PRINT_OPTS.precision}e}}".format(value)
            elif self.int_mode:
                out = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    out += "."
            else:
                out = f"{{:.{PRINT_OPTS.precision}f}}".format(value)
        else:
            out = f"{value}"
        return (self.max_width - len(out)) * " " + out


def _complex_str(value: complex, real_fmt: _Formatter, imag_fmt: _Formatter) -> str:
    real_str = real_fmt.format(value.real)
    imag_str = (imag_fmt.format(value.imag) + "j").lstrip()
    # The imaginary part carries its own sign when negative (or "-0.0").
    if imag_str[0] in "+-":
        return real_str + imag_str
    return real_str + "+" + imag_str


def _val_str(value: Any, fmt1: _Formatter, fmt2: _Formatter | None) -> str:
    if fmt2 is not None:
        return _complex_str(value, fmt1, fmt2)
    return fmt1.format(value)


def _vector_str(
    data: np.ndarray, indent: int, summarize: bool, fmt1: _Formatter, fmt2: _Formatter | None
) -> str:
    # An element takes its width plus ", "; a complex one its imaginary part and "j" too.
    element_length = fmt1.width() + 2
    if fmt2 is not None:
        element_length += fmt2.width() + 1
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / element_length))

    edge = PRINT_OPTS.edgeitems
    if summarize and not edge:
        items = ["..."]
    elif summarize and data.shape[0] > 2 * edge:
        items = (
            [_val_str(v, fmt1, fmt2) for v in data[:edge].tolist()]
            + [" ..."]
            + [_val_str(v, fmt1, fmt2) for v in data[-edge:].tolist()]
        )
    else:
        items = [_val_str(v, fmt1, fmt2) for v in data.tolist()]

    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str_with_formatter(
    data: np.ndarray, indent: int, summarize: bool, fmt1: _Formatter, fmt2: _Formatter | None
) -> str:
    dim = data.ndim
    if dim == 0:
        return _val_str(data.item(), fmt1, fmt2)
    if dim == 1:
        return _vector_str(data, indent, summarize, fmt1, fmt2)

    edge, size = PRINT_OPTS.edgeitems, data.shape[0]
    if summarize and size > 2 * edge:
        slices = (
            [_tensor_str_with_formatter(data[i], indent + 1, summarize, fmt1, fmt2)
             for i in range(edge)]
            + ["..."]
            + [_tensor_str_with_formatter(data[i], indent + 1, summarize, fmt1, fmt2)
               for i in range(size - edge, size)]
        )
    else:
        slices = [
            _tensor_str_with_formatter(data[i], indent + 1, summarize, fmt1, fmt2)
            for i in range(size)
        ]
    # Sub-tensors of a k-d tensor are separated by k - 1 line breaks.
    return "[" + ("," + "\n" * (dim - 1) + " " * (indent + 1)).join(slices) + "]"


def _summarized_data(data: np.ndarray) -> np.ndarray:
    """The elements that a summarized print shows: the formatter looks at those only.

    PyTorch builds this by recursion and ``torch.stack``; keeping the first and last
    ``edgeitems`` along every long axis gives the same array in one pass per axis.
    """
    edge = PRINT_OPTS.edgeitems
    if not edge:
        # As in PyTorch: a vector keeps everything (its data[-0:] is all of it), while a
        # matrix or more keeps nothing.
        return data if data.ndim <= 1 else np.empty([0] * data.ndim, dtype=data.dtype)
    for axis, size in enumerate(data.shape):
        if size > 2 * edge:
            data = data.take(np.r_[0:edge, size - edge : size], axis=axis)
    return data


def _tensor_str(data: np.ndarray, indent: int, floating: bool) -> str:
    if data.size == 0:
        return "[]"
    summarize = data.size > PRINT_OPTS.threshold
    shown = _summarized_data(data) if summarize else data
    if np.iscomplexobj(data):
        real_fmt = _Formatter(shown.real, floating=True)
        imag_fmt = _Formatter(shown.imag, floating=True)
        return _tensor_str_with_formatter(data, indent, summarize, real_fmt, imag_fmt)
    return _tensor_str_with_formatter(data, indent, summarize, _Formatter(shown, floating), None)


def _add_suffixes(tensor_str: str, suffixes: list[str], indent: int) -> str:
    parts = [tensor_str]
    # PyTorch's own count, "+ 1" included, decides where a suffix wraps.
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def _as_numpy(data: Any) -> np.ndarray:
    if not isinstance(data, np.ndarray) and hasattr(data, "get"):
        data = data.get()  # a CuPy array: bring it to the host
    arr = np.asarray(data)
    if arr.dtype.kind == "f":
        return arr.astype(np.float64)
    if arr.dtype.kind == "c":
        return arr.astype(np.complex128)
    return arr


def _is_floating_name(dtype_name: str) -> bool:
    name = dtype_name.removeprefix("torch.")
    return name.startswith(("float", "bfloat")) or name in ("half", "double")


def tensor_repr(
    data: Any,
    *,
    dtype_name: str,
    default_dtype_name: str = "torch.float32",
    requires_grad: bool = False,
    grad_fn_name: str | None = None,
    is_leaf: bool = True,
    device: str = "cpu",
    tensor_contents: str | None = None,
) -> str:
    """The ``repr`` of a tensor, character for character as PyTorch writes it.

    Args:
        data: The values, a NumPy array (or a CuPy array, copied to the host).
        dtype_name: The tensor's dtype as PyTorch names it, e.g. ``"torch.int32"``.
        default_dtype_name: The default floating dtype; tensors of it, of
            ``torch.int64`` and of ``torch.bool`` print no ``dtype=``.
        requires_grad: Whether the tensor requires grad.
        grad_fn_name: Name of the node that made the tensor, e.g. ``"AddBackward0"``.
        is_leaf: Whether the tensor is a leaf; ``requires_grad=True`` is printed for
            leaves without a ``grad_fn`` only.
        device: The device as a string; anything but ``"cpu"`` is printed.
        tensor_contents: Text printed in place of the values, as in
            ``torch.Tensor.__repr__(tensor_contents=...)``.

    Returns:
        The text, e.g. ``"tensor([1., 2.], requires_grad=True)"``.

    Example:
        >>> tensor_repr(np.array([[1, 2], [3, 40]]), dtype_name="torch.int64")
        'tensor([[ 1,  2],\\n        [ 3, 40]])'
        >>> tensor_repr(np.array([1e-5, 1.0], dtype=np.float32), dtype_name="torch.float32")
        'tensor([1.0000e-05, 1.0000e+00])'
    """
    arr = _as_numpy(data)
    dtype_name, default_dtype_name = str(dtype_name), str(default_dtype_name)
    floating = arr.dtype.kind == "f" or (arr.dtype.kind != "c" and _is_floating_name(dtype_name))
    if floating and arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []

    device = str(device)
    if device != "cpu":
        # A CUDA tensor always knows its index, so torch never prints a bare "cuda".
        suffixes.append(f"device='{'cuda:0' if device == 'cuda' else device}'")

    default_complex = (
        "torch.complex128" if default_dtype_name == "torch.float64" else "torch.complex64"
    )
    has_default_dtype = dtype_name in (
        default_dtype_name, default_complex, "torch.int64", "torch.bool"
    )
    if arr.size == 0:
        # Explicitly print the shape if it is not (0,), to match NumPy; with no elements
        # to go by, even int64 must name its dtype.
        if arr.ndim != 1:
            suffixes.append("size=" + str(tuple(arr.shape)))
        if dtype_name != default_dtype_name:
            suffixes.append("dtype=" + dtype_name)
        tensor_str = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append("size=" + str(tuple(arr.shape)))
        if not has_default_dtype:
            suffixes.append("dtype=" + dtype_name)
        tensor_str = "" if tensor_contents is not None else _tensor_str(arr, indent, floating)
    if tensor_contents is not None:
        tensor_str = tensor_contents

    if grad_fn_name is not None:
        suffixes.append(f"grad_fn=<{grad_fn_name}>")
    elif requires_grad and is_leaf:
        suffixes.append("requires_grad=True")

    return _add_suffixes(prefix + tensor_str, suffixes, indent)


def parameter_repr(
    data: Any,
    *,
    dtype_name: str,
    default_dtype_name: str = "torch.float32",
    requires_grad: bool = True,
    grad_fn_name: str | None = None,
    is_leaf: bool = True,
    device: str = "cpu",
    tensor_contents: str | None = None,
) -> str:
    """The ``repr`` of an ``nn.Parameter``: ``"Parameter containing:\\n"`` and the tensor's.

    Takes the arguments of :func:`tensor_repr`; ``requires_grad`` defaults to True, as a
    Parameter's does.

    Example:
        >>> print(parameter_repr(np.array([1.5, 2.0]), dtype_name="torch.float32"))
        Parameter containing:
        tensor([1.5000, 2.0000], requires_grad=True)
    """
    return "Parameter containing:\n" + tensor_repr(
        data,
        dtype_name=dtype_name,
        default_dtype_name=default_dtype_name,
        requires_grad=requires_grad,
        grad_fn_name=grad_fn_name,
        is_leaf=is_leaf,
        device=device,
        tensor_contents=tensor_contents,
    )
