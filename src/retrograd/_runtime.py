"""Process-wide switches: CPU threads, deterministic algorithms, float32 matmul precision.

Threads: retrograd's parallel work is NumPy's BLAS (matmul, conv through im2col, linalg),
so ``set_num_threads`` sizes the BLAS and OpenMP thread pools through ``threadpoolctl``
(an optional dependency: ``pip install 'retrograd[threads]'``). Without it the pools
cannot be resized from inside the process; ``set_num_threads`` then warns and changes
nothing, and ``get_num_threads`` reports what the BLAS was started with. retrograd runs
independent ops one after another in the calling thread: there is no inter-op pool, so
``get_num_interop_threads()`` is 1.

Determinism: every CPU kernel of retrograd is deterministic, so the flag of
``use_deterministic_algorithms`` holds on CPU by construction; kernels that are not
(CUDA atomics) call ``alert_not_deterministic`` and raise, or warn with ``warn_only``.
"""

from __future__ import annotations

import functools
import os
import warnings

__all__ = ["are_deterministic_algorithms_enabled", "get_deterministic_debug_mode",
           "get_float32_matmul_precision", "get_num_interop_threads", "get_num_threads",
           "is_deterministic_algorithms_warn_only_enabled", "set_deterministic_debug_mode",
           "set_float32_matmul_precision", "set_num_interop_threads", "set_num_threads",
           "use_deterministic_algorithms"]


# --- threads ----------------------------------------------------------------------------------

@functools.cache
def threadpoolctl():
    """The threadpoolctl module, or None when it is not installed.  DataLoader calls this
    before forking workers, so that each worker finds it imported."""
    try:
        import threadpoolctl
    except ImportError:
        return None
    return threadpoolctl


def _controller():
    """threadpoolctl's view of the thread pools loaded in this process, or None."""
    module = threadpoolctl()
    return None if module is None else module.ThreadpoolController()


def _check_positive(name: str, n) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise RuntimeError(f"{name} expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError(f"{name} expects a positive integer")
    return n


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def get_num_threads() -> int:
    """The threads NumPy's BLAS uses for one op (what ``set_num_threads`` sets)."""
    controller = _controller()
    if controller is not None:
        counts = [lib.num_threads for lib in controller.select(user_api="blas").lib_controllers]
        if counts:
            return max(counts)
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return _cpus()


def set_num_threads(n: int) -> None:
    """Use ``n`` threads in BLAS and OpenMP pools (through threadpoolctl).

    Without threadpoolctl this warns and changes nothing: the pools' size is then fixed by
    OPENBLAS_NUM_THREADS / OMP_NUM_THREADS when the process starts.
    """
    _check_positive("set_num_threads", n)
    if not limit_threads_if_possible(n):
        warnings.warn("set_num_threads has no effect: threadpoolctl is not installed (pip "
                      "install 'retrograd[threads]'); set OPENBLAS_NUM_THREADS or "
                      "OMP_NUM_THREADS before starting Python instead.", RuntimeWarning,
                      stacklevel=2)


def limit_threads_if_possible(n: int) -> bool:
    """Set the pools to ``n`` threads when threadpoolctl is there; quietly False if not."""
    controller = _controller()
    if controller is None:
        return False
    # The limiter is not kept to be restored: the new size lasts until the next call.
    controller.limit(limits=n)
    return True


def get_num_interop_threads() -> int:
    """1: retrograd runs independent ops one at a time in the calling thread."""
    return 1


def set_num_interop_threads(n: int) -> None:
    """Checks ``n`` as PyTorch does; there is no inter-op pool to size, so a value other
    than 1 warns that it has no effect."""
    _check_positive("set_num_interop_threads", n)
    if n != 1:
        warnings.warn("set_num_interop_threads has no effect: retrograd runs independent ops "
                      "one at a time in the calling thread (get_num_interop_threads() is 1).",
                      RuntimeWarning, stacklevel=2)


# --- deterministic algorithms -----------------------------------------------------------------

class _Determinism:
    enabled = False
    warn_only = False


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Refuse (or with ``warn_only``, warn about) kernels whose results may vary run to run.

    retrograd's CPU kernels are all deterministic; on CUDA, kernels that accumulate with
    atomics raise ``RuntimeError`` while this is on.
    """
    if not isinstance(mode, bool):
        raise TypeError(f"_set_deterministic_algorithms(): argument 'mode' (position 1) must "
                        f"be bool, not {type(mode).__name__}")
    if not isinstance(warn_only, bool):
        raise TypeError(f"_set_deterministic_algorithms(): argument 'warn_only' must be bool, "
                        f"not {type(warn_only).__name__}")
    _Determinism.enabled = mode
    _Determinism.warn_only = warn_only if mode else False


def are_deterministic_algorithms_enabled() -> bool:
    return _Determinism.enabled


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _Determinism.warn_only


_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def set_deterministic_debug_mode(debug_mode: str | int) -> None:
    """0/"default": off; 1/"warn": warn on nondeterministic kernels; 2/"error": raise."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError("invalid value of debug_mode, expected one of `default`, `warn`, "
                               f"`error`, but got {debug_mode}")
        debug_mode = _DEBUG_MODES[debug_mode]
    elif isinstance(debug_mode, bool) or not isinstance(debug_mode, int):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got "
                           f"{debug_mode}")
    use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> int:
    if not _Determinism.enabled:
        return 0
    return 1 if _Determinism.warn_only else 2


def alert_not_deterministic(caller: str) -> None:
    """For kernels without a deterministic version: raise (or warn) when determinism is on."""
    if not _Determinism.enabled:
        return
    msg = (f"{caller} does not have a deterministic implementation, but you set "
           "'torch.use_deterministic_algorithms(True)'. You can turn off determinism just for "
           "this operation, or you can use the 'warn_only=True' option, if that's acceptable "
           "for your application.")
    if _Determinism.warn_only:
        warnings.warn(msg, UserWarning, stacklevel=3)
    else:
        raise RuntimeError(msg)


# --- float32 matmul precision -------------------------------------------------------------------

_PRECISIONS = ("highest", "high", "medium")


class _Matmul:
    precision = "highest"


def set_float32_matmul_precision(precision: str) -> None:
    """Allow ("high", "medium") or forbid ("highest") reduced-precision float32 matmuls.

    Recorded and reported; retrograd always multiplies float32 in full float32 precision
    (NumPy's and CuPy's default), which every setting permits.
    """
    if not isinstance(precision, str):
        raise RuntimeError(f"set_float32_matmul_precision expects a str, but got "
                           f"{type(precision).__name__}")
    if precision not in _PRECISIONS:
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      "setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    _Matmul.precision = precision


def get_float32_matmul_precision() -> str:
    return _Matmul.precision
