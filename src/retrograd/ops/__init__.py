"""Every differentiable primitive, one family a module; importing this package installs
their Tensor methods."""

from . import (
    activation,
    arithmetic,
    comparison,
    conv,
    conversion,
    creation,
    fused,
    indexing,
    inplace,
    joining,
    linalg,
    loss,
    normalization,
    pointwise,
    pooling,
    reduction,
    shape,
    tensor_methods,
    unary,
    vision,
)
from ._core import METHODS, REGISTRY, Primitive
