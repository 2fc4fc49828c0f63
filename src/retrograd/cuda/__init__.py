"""``retrograd.cuda``: the CUDA devices this process has, as ``torch.cuda``.

retrograd's CUDA tensors are CuPy arrays, so every answer here comes from CuPy: with CuPy
and a GPU, ``is_available()`` is True and the queries report the real devices; without
them, the functions answer as PyTorch does on a machine without CUDA: ``is_available()``
is False, ``device_count()`` 0, the memory counters 0, the seeding functions do nothing,
and the calls that need a device (``current_device``, ``get_device_name``,
``synchronize``, ...) raise ``AssertionError`` (PyTorch's class for "no CUDA").

Random numbers for CUDA tensors come from retrograd's one (CPU) generator and are then
copied to the GPU, so there is no separate CUDA generator: ``manual_seed`` and friends do
nothing, and ``retrograd.manual_seed`` seeds CUDA tensors' numbers too.

>>> import retrograd
>>> retrograd.cuda.is_available() == (retrograd.cuda.device_count() > 0)
True
"""

from __future__ import annotations

from typing import Any

from .._device import NO_CUDA, cuda_device_count
from .._device import device as _device
from ..random import get_rng_state as cpu_state
from ..random import initial_seed as cpu_initial_seed
from ..random import set_rng_state as cpu_set
from .memory import (
    empty_cache,
    max_memory_allocated,
    max_memory_reserved,
    mem_get_info,
    memory_allocated,
    memory_reserved,
    memory_stats,
    reset_max_memory_allocated,
    reset_peak_memory_stats,
    track_peaks,
)
from .streams import Event, Stream, StreamContext, current_stream, default_stream, stream

from . import jiterator  # isort: skip  (torch.cuda.jiterator: kernels from code strings)

__all__ = [
    "Event", "OutOfMemoryError", "Stream", "StreamContext", "current_device", "current_stream",
    "default_stream", "device", "device_count", "device_of", "empty_cache",
    "get_arch_list", "get_device_capability", "get_device_name", "get_device_properties",
    "get_rng_state",
    "get_rng_state_all", "init", "initial_seed", "is_available", "is_bf16_supported",
    "is_initialized", "manual_seed", "manual_seed_all", "max_memory_allocated",
    "max_memory_reserved", "mem_get_info", "memory_allocated", "memory_reserved",
    "memory_stats", "reset_max_memory_allocated", "reset_peak_memory_stats", "seed",
    "seed_all", "set_device", "set_rng_state", "set_rng_state_all", "stream", "synchronize",
]

_initialized = False


class OutOfMemoryError(RuntimeError):
    """Raised when the GPU has no memory left for an allocation."""


def is_available() -> bool:
    """Whether CUDA tensors can be made: CuPy is installed and sees at least one GPU."""
    return cuda_device_count() > 0


def device_count() -> int:
    """How many GPUs CuPy sees (0 without CuPy or without a GPU)."""
    return cuda_device_count()


def is_initialized() -> bool:
    """Whether this process has started using CUDA through ``retrograd.cuda``."""
    return _initialized


def init() -> None:
    """Start CUDA in this process; raises ``AssertionError`` when there is none."""
    _cupy()


def _cupy():
    """CuPy, after making sure a GPU is there (PyTorch's lazy init)."""
    global _initialized
    if cuda_device_count() == 0:
        raise AssertionError(NO_CUDA)
    import cupy

    if not _initialized:

        track_peaks(cupy)
        _initialized = True
    return cupy


def _index(device: Any, optional: bool = True) -> int:
    """A CUDA device index from an int, "cuda:1", ``device('cuda', 1)`` or None (current)."""
    if isinstance(device, str):
        device = _device(device)
    if isinstance(device, _device):
        if device.type != "cuda":
            raise ValueError(f"Expected a cuda device, but got: {device}")
        device = device.index
    if device is None:
        if not optional:
            raise ValueError("Expected a torch.device with a specified index or an integer, "
                             "but got:None")
        return current_device()
    return int(device)


def current_device() -> int:
    """The index of the GPU that new CUDA tensors go to."""
    return int(_cupy().cuda.runtime.getDevice())


def set_device(device: Any) -> None:
    """Make ``device`` the current GPU; a negative index does nothing, as in PyTorch."""
    if isinstance(device, (str, _device)):
        dev = _device(device)
        if dev.type != "cuda":
            raise ValueError(f"Expected a cuda device, but got: {dev}")
        device = 0 if dev.index is None else dev.index
    if device is None or int(device) < 0:
        return
    _cupy().cuda.runtime.setDevice(int(device))


class device:
    """Context manager that makes ``device`` the current GPU inside the block; ``None`` or a
    negative index makes it do nothing."""

    def __init__(self, device: Any) -> None:
        self.idx = -1 if device is None else _index(device, optional=True)
        self.prev_idx = -1

    def __enter__(self) -> None:
        if self.idx < 0:
            return
        if cuda_device_count() == 0:
            raise RuntimeError(NO_CUDA)
        self.prev_idx = current_device()
        if self.prev_idx != self.idx:
            set_device(self.idx)

    def __exit__(self, *exc: Any) -> bool:
        if self.idx >= 0 and self.prev_idx != self.idx:
            set_device(self.prev_idx)
        return False


class device_of(device):
    """``device`` of the GPU that holds tensor ``obj``; does nothing for a CPU tensor."""

    def __init__(self, obj: Any) -> None:
        super().__init__(obj.get_device() if obj.is_cuda else -1)


def synchronize(device: Any = None) -> None:
    """Wait until every kernel queued on ``device`` (default: the current GPU) has run."""
    cp = _cupy()
    cp.cuda.Device(_index(device)).synchronize()


def _properties(device: Any) -> dict:
    return _cupy().cuda.runtime.getDeviceProperties(_index(device))


class _CudaDeviceProperties:
    """What ``get_device_properties`` returns: name, capability, memory and SM count."""

    __slots__ = ("major", "minor", "multi_processor_count", "name", "total_memory")

    def __init__(self, props: dict) -> None:
        name = props["name"]
        self.name = name.decode() if isinstance(name, bytes) else str(name)
        self.major = int(props["major"])
        self.minor = int(props["minor"])
        self.total_memory = int(props["totalGlobalMem"])
        self.multi_processor_count = int(props["multiProcessorCount"])

    def __repr__(self) -> str:
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, "
                f"minor={self.minor}, total_memory={self.total_memory >> 20}MB, "
                f"multi_processor_count={self.multi_processor_count})")


def get_device_properties(device: Any = None) -> _CudaDeviceProperties:
    return _CudaDeviceProperties(_properties(device))


def get_device_name(device: Any = None) -> str:
    """The GPU's name, e.g. 'NVIDIA H100 80GB HBM3'."""
    return get_device_properties(device).name


def get_device_capability(device: Any = None) -> tuple[int, int]:
    """The GPU's compute capability (major, minor)."""
    props = get_device_properties(device)
    return props.major, props.minor


def get_arch_list() -> list[str]:
    """The GPU architectures kernels are built for: CuPy compiles for the GPUs present, so
    their ``sm_XY`` names; empty without CUDA."""
    names = []
    for i in range(device_count()):
        major, minor = get_device_capability(i)
        names.append(f"sm_{major}{minor}")
    return sorted(set(names))


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """False: retrograd stores bfloat16 as float32 (NumPy and CuPy have no bfloat16), so no
    device computes in bfloat16 here."""
    return False


# --- random state: CUDA tensors draw from the CPU generator (see the module docstring) ------

def manual_seed(seed: int) -> None:
    """Does nothing: CUDA tensors' random numbers come from ``retrograd.manual_seed``'s
    generator."""
    int(seed)


def manual_seed_all(seed: int) -> None:
    """Does nothing (see ``manual_seed``)."""
    int(seed)


def seed() -> None:
    """Does nothing (see ``manual_seed``)."""


def seed_all() -> None:
    """Does nothing (see ``manual_seed``)."""


def initial_seed() -> int:
    """The seed of the generator CUDA tensors draw from (the default CPU generator)."""
    _cupy()

    return cpu_initial_seed()


def get_rng_state(device: Any = "cuda"):
    """The state of the generator CUDA tensors draw from (the default CPU generator)."""
    _cupy()

    return cpu_state()


def get_rng_state_all() -> list:
    """One state per GPU (an empty list without CUDA)."""
    return [get_rng_state(i) for i in range(device_count())]


def set_rng_state(new_state, device: Any = "cuda") -> None:
    """Without CUDA, does nothing (as PyTorch); else sets the default generator's state."""
    if is_available():

        cpu_set(new_state)


def set_rng_state_all(new_states) -> None:
    for state in new_states:
        set_rng_state(state)
