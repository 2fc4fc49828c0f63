"""Every differentiable primitive, one family a module; importing this package installs
their Tensor methods."""

from . import (
    arithmetic,
    comparison,
    conversion,
    creation,
    indexing,
    inplace,
    reduction,
    shape,
    unary,
)
from . import tensor_methods
from ._core import METHODS, REGISTRY, Primitive
