"""``OptimizedModule``: what ``compile`` returns for a Module."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..nn.modules.module import Module


class OptimizedModule(Module):
    """Wraps ``_orig_mod``; calls go through the compile mode's runner of
    ``_orig_mod.__call__`` (so hooks run), attribute reads fall through to ``_orig_mod``."""

    def __init__(self, mod: Module, run: Callable) -> None:
        super().__init__()
        self._orig_mod = mod
        object.__setattr__(self, "_run", run)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self._run(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._modules["_orig_mod"], name)
