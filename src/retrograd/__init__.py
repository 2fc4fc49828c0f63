"""retrograd: define-by-run reverse-mode automatic differentiation on NumPy, with PyTorch's
API. ``import retrograd as torch`` and the classic autograd tutorial runs as written.

>>> import retrograd as torch
>>> x = torch.ones(2, 2, requires_grad=True)
>>> out = ((x + 2) * (x + 2) * 3).mean()
>>> out.backward()
>>> x.grad
tensor([[4.5000, 4.5000],
        [4.5000, 4.5000]])
"""

# First: decides whether the hot-path modules load compiled or from source.
from . import _compiled as _compiled_form

_compiled_form.install()

from . import __config__, _dtype, autograd, linalg, viz
from . import ops as _ops
from ._device import device
from ._dtype import (
    bfloat16,
    bool,
    cdouble,
    cfloat,
    complex64,
    complex128,
    double,
    dtype,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    set_default_dtype,
    short,
    uint8,
)
from ._printing import get_printoptions, printoptions, set_printoptions
from ._size import Size
from ._tensor import Tensor
from .autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .ops._core import result_dtype as _result_dtype
from .ops.arithmetic import *
from .ops.comparison import *
from .ops.conv import conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d
from .ops.conversion import *
from .ops.creation import *
from .ops.cumulative import *
from .ops.joining import *
from .ops.linalg import *
from .ops.linalg_func import matrix_exp
from .ops.linalg_lowrank import pca_lowrank, svd_lowrank
from .ops.norms import *
from .ops.pointwise import *
from .ops.pooling import adaptive_avg_pool1d, avg_pool1d, max_pool1d, max_pool2d, max_pool3d
from .ops.rearrange import *
from .ops.reduction import *
from .ops.shape import *
from .ops.sorting import *
from .ops.tensor_methods import *
from .ops.unary import *
from .ops.vision import pixel_shuffle, pixel_unshuffle
from .random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .serialization import load, save

from . import optim, utils  # isort: skip  (they use the tensor API above)

# nn kernels that PyTorch also exposes at the top level (torch.softmax, torch.dropout, ...)
for _m in (_ops.activation, _ops.loss, _ops.normalization):
    globals().update(_m.TORCH_NAMES)
del _m

__version__ = "0.1.0"


def show_config() -> None:
    """Print how this retrograd was built: whether the hot path runs compiled or as pure
    Python, module by module (``__config__.show()`` returns the same text)."""
    print(__config__.show(), end="")


def is_tensor(obj) -> _dtype._builtin_bool:
    """Whether ``obj`` is a retrograd Tensor."""
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> _dtype._builtin_int:
    return input.numel()


def result_type(tensor1, tensor2) -> dtype:
    """The dtype an arithmetic op on these operands gives."""
    return _result_dtype((tensor1, tensor2))


def is_floating_point(input: Tensor) -> _dtype._builtin_bool:
    return input.is_floating_point()


from . import (
    func,
    nn,
    serialization,
)

# serialization/dtypes
from ._dtype import uint16, uint32, uint64

# devices, jit, compile
# isort: split
from . import _runtime, accelerator, backends, compiler, cuda, jit
from ._device import get_default_device, set_default_device
from ._runtime import (
    are_deterministic_algorithms_enabled,
    get_deterministic_debug_mode,
    get_float32_matmul_precision,
    get_num_interop_threads,
    get_num_threads,
    is_deterministic_algorithms_warn_only_enabled,
    set_deterministic_debug_mode,
    set_float32_matmul_precision,
    set_num_interop_threads,
    set_num_threads,
    use_deterministic_algorithms,
)
from .compiler import compile
from .cuda import OutOfMemoryError

# complex/fft
# isort: split
from . import fft
from .ops.complex import (
    angle,
    complex,
    conj,
    conj_physical,
    imag,
    is_conj,
    is_neg,
    polar,
    real,
    resolve_conj,
    resolve_neg,
    sgn,
    view_as_complex,
    view_as_real,
)

# opdb additions
# isort: split
from . import special
from .ops.extra_composite import *
from .ops.extra_pointwise import *
from .ops.extra_random import *
from .ops.extra_special import i0
from .ops.gamma_zeta import igamma, igammac, mvlgamma
from .ops.legacy_types import *

# strided and copying views
# isort: split
from .ops import aten as _aten
from .ops.assorted import *
from .ops.copies import *
from .ops.strided import *

# signal: windows, stft/istft
# isort: split
from . import signal
from .ops.stft import istft, stft
from .signal.window_functions import *

# reductions: torch.masked, quantile, histogram, index_reduce
# isort: split
from . import masked
from .ops.histogram import histogram, histogramdd
from .ops.index_reduce import index_reduce
from .ops.quantile import nanquantile, quantile

# native normalizations, grid samplers, torch.ops.aten
# isort: split
from .ops.grid_sample import grid_sampler, grid_sampler_2d, grid_sampler_3d
from .ops.native import (
    native_batch_norm,
    native_dropout_backward,
    native_group_norm,
    native_layer_norm,
)

# workspace cache
from . import cpu  # isort: skip  (torch.cpu: empty_cache, memory_reserved)


# tensorboard/onnx: `retrograd.onnx` loads on first use (importing onnx takes seconds).
def __getattr__(name: str):
    if name == "onnx":
        import importlib  # lazily, for the import time (not to dodge a cycle)

        return importlib.import_module(__name__ + ".onnx")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
