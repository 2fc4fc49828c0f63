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


class _Style:
    """How every element of one tensor is written: a notation and one common width.

    ``kind`` is ``"plain"`` (integers and bools: ``str``), ``"whole"`` (floats that are all
    integral: ``3.``), ``"fixed"`` (``3.1416``) or ``"sci"`` (``3.1416e+00``).
    """

    __slots__ = ("kind", "width")

    def __init__(self, kind: str, width: int) -> None:
        self.kind, self.width = kind, width

    def write(self, value: Any) -> str:
        digits = PRINT_OPTS.precision
        if self.kind == "sci":
            text = f"{value:{self.width}.{digits}e}"
        elif self.kind == "fixed":
            text = f"{value:.{digits}f}"
        elif self.kind == "whole":
            text = f"{value:.0f}" if math.isinf(value) or math.isnan(value) else f"{value:.0f}."
        else:
            text = str(value)
        return text.rjust(self.width)


def _style_for(values: np.ndarray, floating: bool) -> _Style:
    """The notation PyTorch picks for these values, and the widest element's width."""
    if not floating:
        return _Style("plain", max([1, *(len(str(v)) for v in values.reshape(-1).tolist())]))
    flat = values.reshape(-1)
    shown = flat[np.isfinite(flat) & (flat != 0)]
    if shown.size == 0:  # only zeros, infs and nans: written as "0.", "inf", "nan"
        return _Style("whole", 1)
    size = np.abs(shown)
    low, high = size.min(), size.max()
    if PRINT_OPTS.sci_mode is not None:
        sci = bool(PRINT_OPTS.sci_mode)
    else:
        with np.errstate(over="ignore"):  # an overflowing ratio is just "large"
            sci = bool(high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4)
    if sci:
        kind = "sci"
    elif bool(np.all(shown == np.ceil(shown))):
        kind = "whole"
    else:
        kind = "fixed"
    probe = _Style(kind, 0)
    return _Style(kind, max([1, *(len(probe.write(v)) for v in shown.tolist())]))


class _Cells:
    """Writes one element (real, or complex as a pair of styles) as its final text."""

    def __init__(self, real: _Style, imag: _Style | None = None) -> None:
        self.real, self.imag = real, imag
        # An element's share of a line: its text and the ", " after it.
        self.span = real.width + 2 + (imag.width + 1 if imag is not None else 0)

    def __call__(self, value: Any) -> str:
        if self.imag is None:
            return self.real.write(value)
        im = self.imag.write(value.imag).lstrip() + "j"
        return self.real.write(value.real) + (im if im[0] in "+-" else "+" + im)


def _kept(length: int, summarize: bool) -> list[int | None]:
    """Indices printed along an axis of ``length``; None marks the elided middle."""
    edge = PRINT_OPTS.edgeitems
    if summarize and length > 2 * edge:
        return [*range(edge), None, *range(length - edge, length)]
    return list(range(length))


def _vector(row: np.ndarray, indent: int, summarize: bool, cells: _Cells) -> str:
    if summarize and not PRINT_OPTS.edgeitems:
        words = ["..."]
    elif summarize:  # only the kept elements are converted: the row may be huge
        words = [" ..." if i is None else cells(row[i].item())
                 for i in _kept(row.shape[0], summarize)]
    else:
        words = [cells(v) for v in row.tolist()]
    per_line = max(1, (PRINT_OPTS.linewidth - indent) // cells.span)
    lines = [", ".join(words[i:i + per_line]) for i in range(0, len(words), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(data: np.ndarray, indent: int, summarize: bool, cells: _Cells) -> str:
    if data.ndim == 0:
        return cells(data.item())
    if data.ndim == 1:
        return _vector(data, indent, summarize, cells)
    parts = ["..." if i is None else _nested(data[i], indent + 1, summarize, cells)
             for i in _kept(data.shape[0], summarize)]
    # Blocks of a k-d tensor are set apart by k - 1 newlines, aligned under the "[".
    return "[" + ("," + "\n" * (data.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _summarized_data(data: np.ndarray) -> np.ndarray:
    """The elements that a summarized print shows: the notation is chosen from those only.

    Keeping the first and last ``edgeitems`` along every long axis, one ``take`` per axis.
    """
    edge = PRINT_OPTS.edgeitems
    if not edge:
        # With no edge items a vector still counts all its elements, a matrix or more none.
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
        cells = _Cells(_style_for(shown.real, True), _style_for(shown.imag, True))
    else:
        cells = _Cells(_style_for(shown, floating))
    return _nested(data, indent, summarize, cells)


def _add_suffixes(body: str, suffixes: list[str], indent: int) -> str:
    """Append ", suffix" items, moving one to its own line when it would pass linewidth."""
    out = [body]
    # PyTorch counts the last line's length one higher than it is; so do we, to wrap alike.
    used = len(body) - body.rfind("\n") + 1
    for suffix in suffixes:
        if used + len(suffix) + 2 > PRINT_OPTS.linewidth:
            out.append(",\n" + " " * indent + suffix)
            used = indent + len(suffix)
        else:
            out.append(", " + suffix)
            used += len(suffix) + 2
    return "".join(out) + ")"


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
        # PyTorch prints "cuda:0" for a tensor on the current CUDA device, never "cuda".
        suffixes.append(f"device='{'cuda:0' if device == 'cuda' else device}'")

    default_complex = (
        "torch.complex128" if default_dtype_name == "torch.float64" else "torch.complex64"
    )
    has_default_dtype = dtype_name in (
        default_dtype_name, default_complex, "torch.int64", "torch.bool"
    )
    if arr.size == 0:
        # An empty tensor shows its shape unless it is (0,), and names any dtype other
        # than the default floating one (int64 too: no element shows it is integral).
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


def parameter_repr(data: Any, *, dtype_name: str, requires_grad: bool = True,
                   **kwargs: Any) -> str:
    """The ``repr`` of an ``nn.Parameter``: ``"Parameter containing:\\n"`` and the tensor's.

    Takes the arguments of :func:`tensor_repr`; ``requires_grad`` defaults to True, as a
    Parameter's does.

    Example:
        >>> print(parameter_repr(np.array([1.5, 2.0]), dtype_name="torch.float32"))
        Parameter containing:
        tensor([1.5000, 2.0000], requires_grad=True)
    """
    return "Parameter containing:\n" + tensor_repr(data, dtype_name=dtype_name,
                                                    requires_grad=requires_grad, **kwargs)
