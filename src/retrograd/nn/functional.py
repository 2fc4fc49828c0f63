"""``retrograd.nn.functional``: activations, convolutions, pooling, normalization, losses.

The kernels live in ``retrograd.ops`` (one family a module); this module gathers them under
PyTorch's names.
"""

from ..ops.activation import *
from ..ops.conv import *
from ..ops.linear_cross_entropy import *
from ..ops.loss import *
from ..ops.normalization import *
from ..ops.pooling import *
from ..ops.pooling_fractional import *
from ..ops.vision import *
from .functional_mha import *
