"""Every differentiable primitive, one family a module; importing this package installs
their Tensor methods."""

from . import (
    activation,
    arithmetic,
    comparison,
    conv,
    conversion,
    creation,
    cumulative,
    fused,
    index_ops,
    indexing,
    inplace,
    joining,
    linalg,
    loss,
    normalization,
    norms,
    pointwise,
    pooling,
    rearrange,
    reduction,
    scatter,
    shape,
    sorting,
    tensor_methods,
    unary,
    vision,
)
from ._core import METHODS, REGISTRY, Primitive

# opdb additions
# isort: split
from . import extra_composite, extra_pointwise, extra_random, extra_special, legacy_types

# torch.special: igamma, igammac, zeta, mvlgamma (issue 13)
# isort: split
from . import gamma_zeta
