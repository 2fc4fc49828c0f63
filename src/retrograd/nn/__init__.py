"""``retrograd.nn``: modules, parameters, initialisation and the functional interface."""

from . import functional, init, utils
from .modules import *
from .modules import __all__ as _modules_all
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter

__all__ = ["Buffer", "Parameter", "UninitializedBuffer", "UninitializedParameter",
           "functional", "init", "utils", *_modules_all]
from . import parallel
