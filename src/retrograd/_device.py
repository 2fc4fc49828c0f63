"""``device``: where a tensor's data lives, and which devices this process can use.

Data lives on "cpu" (NumPy) or, when CuPy finds a CUDA GPU, on "cuda". Every other
device type PyTorch names ("mps", "xpu", ...) can be written down as a ``device``, as in
PyTorch, but asking for data there raises PyTorch's error for a build without it.
``placement`` is the one check creation functions and ``.to()`` make: it resolves the
default device (``set_default_device``) and refuses a device that is not there.
"""

from __future__ import annotations

import re
import threading
from typing import Any

__all__ = ["device", "get_default_device", "set_default_device"]

# The device types PyTorch's parser accepts, in its order (its error message lists them).
DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
                "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                "privateuseone")

# Device types a ``device`` may name today ("meta" was accepted before placement() existed).
_HELD = ("cpu", "cuda", "meta")

NO_CUDA = ("retrograd's CUDA backend is not available: it needs CuPy and a CUDA GPU "
           "(pip install 'retrograd[cuda]')")
NO_ACCELERATOR = "Cannot access accelerator device when none is available."


class device:
    """A device: ``device('cpu')``, ``device('cuda', 0)``, ``device('cuda:1')``; an int is an
    index on the current accelerator.  Used as a context manager it is the default device
    of tensors created inside the block.

    >>> device('cuda:1')
    device(type='cuda', index=1)
    >>> str(device('cpu'))
    'cpu'
    """

    __slots__ = ("_previous", "index", "type")

    def __init__(self, type: str | device | int, index: int | None = None) -> None:
        self._previous = []
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int) and not isinstance(type, bool):
            if not cuda_device_count():
                raise RuntimeError(NO_ACCELERATOR)
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments - got "
                            f"({_type_name(type)}), but expected one of: (torch.device device), "
                            "(str type, int index = -1)")
        self.type, parsed = _parse(type)
        if self.type not in _HELD:
            # PyTorch lets any known type be named and fails on use; until every creation
            # function and .to() calls placement(), failing here keeps such a device from
            # silently meaning "cpu".
            _no_backend(self.type)
        if parsed is not None and index is not None:
            raise RuntimeError("type (string) must not include an index because index was "
                               f"passed explicitly: {type}")
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, int):
                raise TypeError(f"device(): argument 'index' (position 2) must be int, not "
                                f"{_type_name(index)}")
            if index < 0:
                raise RuntimeError("Device index must not be negative")
        self.index = parsed if index is None else index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = device(other)
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (str(self),))

    def __enter__(self) -> device:
        self._previous.append(_state.default)
        set_default_device(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        _state.default = self._previous.pop()


def _type_name(obj: Any) -> str:
    return type(obj).__name__


def _parse(text: str) -> tuple[str, int | None]:
    if text == "cpu" or text == "cuda":  # most devices ever made: skip the regexes
        return text, None
    kind, colon, index = text.partition(":")
    if re.fullmatch(r"[A-Za-z_]+", kind) and kind not in DEVICE_TYPES:
        _unknown_type(text)
    if kind not in DEVICE_TYPES or (colon and not re.fullmatch(r"0|[1-9][0-9]*", index)):
        raise RuntimeError(f"Invalid device string: '{text}'")
    return kind, int(index) if colon else None


def _unknown_type(text: str):
    raise RuntimeError(f"Expected one of {', '.join(DEVICE_TYPES)} device type at start of "
                       f"device string: {text}")


CPU = device("cpu")


# --- what this process has ------------------------------------------------------------------

_cuda_count: int | None = None


def cuda_device_count() -> int:
    """GPUs CuPy can use (0 without CuPy or without a driver); probed once, lazily, so that
    ``import retrograd`` never loads CuPy."""
    global _cuda_count
    if _cuda_count is None:
        _cuda_count = _probe_cuda()
    return _cuda_count


def _probe_cuda() -> int:
    import importlib.util

    if importlib.util.find_spec("cupy") is None:
        return 0
    try:
        import cupy

        return int(cupy.cuda.runtime.getDeviceCount())
    except Exception:  # no driver, no GPU, a broken install: all mean "no CUDA here"
        return 0


def placement(dev: Any) -> str:
    """Where data asked for on ``dev`` goes: "cpu" or "cuda"; ``None`` means the default
    device.  A device this process does not have raises PyTorch's error for it."""
    if dev is None:
        dev = _state.default
        if dev is None:
            return "cpu"
    if dev == "cpu" if type(dev) is str else dev is CPU:  # the common case, without parsing
        return "cpu"
    if not isinstance(dev, device):
        dev = device(dev)
    if dev.type == "cpu":
        return "cpu"
    if dev.type == "cuda":
        count = cuda_device_count()
        if count == 0:
            raise AssertionError(NO_CUDA)
        if dev.index is not None and dev.index >= count:
            raise RuntimeError("CUDA error: invalid device ordinal")
        return "cuda"
    _no_backend(dev.type)  # "meta" too: retrograd has no tensors without data


def _no_backend(kind: str):
    """PyTorch's error for a device type this build has no backend for."""
    raise RuntimeError(f"retrograd is not linked with support for {kind} devices: tensors live "
                       "on cpu, or on cuda through CuPy")


# --- the default device ---------------------------------------------------------------------

# True once ops/creation.py's _finish and ops/conversion.py's to() call placement(); until
# then a non-cpu default device would be silently ignored, so it is refused instead.
CREATION_USES_PLACEMENT = False


class _DefaultDevice(threading.local):
    # Thread-local, as PyTorch's device context manager (a TorchFunctionMode) is per thread.
    default: device | None = None


_state = _DefaultDevice()


def set_default_device(device_: Any) -> None:
    """Make ``device_`` the device of tensors created without a ``device`` argument
    (``None``: back to "cpu").  An int means that index on the accelerator."""
    if device_ is None:
        _state.default = None
        return
    dev = device(device_)
    if dev.type != "cpu" and not CREATION_USES_PLACEMENT:
        raise RuntimeError(f"set_default_device({str(dev)!r}): retrograd's creation functions "
                           "do not consult a default device other than cpu yet; pass "
                           "device= to them, or move tensors with .to()")
    if dev.type == "cpu" and dev.index is None:
        _state.default = None  # the built-in default: no per-call work
    else:
        _state.default = dev


def get_default_device() -> device:
    """The device ``set_default_device`` chose (``cpu`` by default); for "cuda" without an
    index, the current CUDA device.  Raises when that device is not available, as PyTorch."""
    dev = _state.default
    if dev is None:
        return CPU
    placement(dev)
    if dev.type == "cuda" and dev.index is None:
        from .cuda import current_device

        return device("cuda", current_device())
    return dev
