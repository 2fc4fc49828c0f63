"""Every differentiable primitive, one family a module; importing this package installs
their Tensor methods."""

# opdb additions
from . import (
    activation,
    arithmetic,
    comparison,
    conv,
    conversion,
    creation,
    cumulative,
    extra_composite,
    extra_pointwise,
    extra_random,
    fused,
    index_ops,
    indexing,
    inplace,
    joining,
    legacy_types,
    linalg,
    loss,
    normalization,
    norms,
    pointwise,
    pooling,
    reduction,
    scatter,
    shape,
    sorting,
    tensor_methods,
    unary,
    vision,
)
from ._core import METHODS, REGISTRY, Primitive
