"""Utilities with ``torch.utils``'s layout: ``retrograd.utils.data`` (datasets, samplers,
``DataLoader``) and ``retrograd.utils.checkpoint``."""

import importlib.util as _importlib_util

from . import data

if _importlib_util.find_spec(__name__ + ".checkpoint") is not None:
    from . import checkpoint
