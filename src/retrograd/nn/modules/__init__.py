"""The layers of ``retrograd.nn``."""

from . import (  # PyTorch's module paths for layers that live elsewhere here
    activation,
    attention,
    batchnorm,
    channelshuffle,
    container,
    conv,
    distance,
    dropout,
    flatten,
    fold,
    instancenorm,
    lazy,
    linear,
    linear_cross_entropy,
    loss,
    module,
    normalization,
    padding,
    pixelshuffle,
    pooling,
    rnn,
    sparse,
    transformer,
    upsampling,
    vision,
)
from .activation import *
from .attention import *
from .container import *
from .conv import *
from .dropout import *
from .flatten import *
from .fold import *
from .linear import *
from .linear_cross_entropy import *
from .loss import *
from .module import *
from .normalization import *
from .padding import *
from .pooling import *
from .rnn import *
from .sparse import *
from .transformer import *
from .vision import *

__all__ = [
    name
    for mod in (activation, attention, container, conv, dropout, flatten, fold,
                linear, linear_cross_entropy, loss, module,
                normalization, padding, pooling, rnn, sparse, transformer,
                vision)
    for name in mod.__all__
]
