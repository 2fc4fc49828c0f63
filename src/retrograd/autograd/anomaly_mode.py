"""Anomaly mode: ``detect_anomaly`` and ``set_detect_anomaly``.

While on, every node keeps the user's forward stack, and a backward that produces NaN (or
Inf) raises at once, naming the forward op, the line that created it and that stack.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np

from .._site import format_site
from .._tensor import Tensor
from .grad_mode import refresh_special
from .grad_mode import state as _state

__all__ = ["detect_anomaly", "is_anomaly_check_nan_enabled", "is_anomaly_enabled",
           "set_detect_anomaly"]


def is_anomaly_enabled() -> bool:
    return _state.anomaly


def is_anomaly_check_nan_enabled() -> bool:
    return _state.anomaly_check_nan


class detect_anomaly:
    """Context manager (and decorator) turning anomaly detection on."""

    def __init__(self, check_nan: bool = True) -> None:
        self.prev = (_state.anomaly, _state.anomaly_check_nan)
        self.check_nan = check_nan
        warnings.warn(
            "Anomaly Detection has been enabled. This mode will increase the runtime and should "
            "only be enabled for debugging.",
            stacklevel=2,
        )

    def __enter__(self) -> None:
        self.prev = (_state.anomaly, _state.anomaly_check_nan)
        _state.anomaly = True
        _state.anomaly_check_nan = self.check_nan
        refresh_special()

    def __exit__(self, *exc: Any) -> None:
        _state.anomaly, _state.anomaly_check_nan = self.prev
        refresh_special()

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            prev = (_state.anomaly, _state.anomaly_check_nan)
            _state.anomaly, _state.anomaly_check_nan = True, self.check_nan
            refresh_special()
            try:
                return func(*args, **kwargs)
            finally:
                _state.anomaly, _state.anomaly_check_nan = prev
                refresh_special()

        return wrapper


class set_detect_anomaly:
    """Turn anomaly detection on or off; also a context manager restoring the old mode."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = (_state.anomaly, _state.anomaly_check_nan)
        _state.anomaly = bool(mode)
        _state.anomaly_check_nan = check_nan
        refresh_special()

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: Any) -> None:
        _state.anomaly, _state.anomaly_check_nan = self.prev
        refresh_special()


def check_backward_result(node, results) -> None:
    """Raise if a backward result holds NaN/Inf (anomaly mode with check_nan)."""
    for i, r in enumerate(results):
        if r is None:
            continue
        arr = r._data if isinstance(r, Tensor) else np.asarray(r)
        if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
            kind = "nan" if np.isnan(arr).any() else "inf"
            raise RuntimeError(
                f"Function '{node.name()}' returned {kind} values in its {i}th output.\n"
                + forward_trace(node)
            )


def forward_trace(node) -> str:
    """Where the node was created, and the forward stack when anomaly mode recorded it."""
    lines = [f"  The forward op was created at {format_site(getattr(node, '_site', None))}"]
    meta = getattr(node, "_meta", None)
    stack = meta.get("traceback_") if meta else None
    if stack:
        lines.append("  Traceback of forward call that caused the error:")
        for f in stack:
            lines.append(f'    File "{f.filename}", line {f.lineno}, in {f.name}')
            if f.line:
                lines.append(f"      {f.line}")
    return "\n".join(lines)
