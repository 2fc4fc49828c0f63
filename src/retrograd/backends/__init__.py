"""``retrograd.backends``: what each compute library behind PyTorch's ops would be, as
``torch.backends``, answered for retrograd.

retrograd computes with NumPy (CPU) and CuPy (CUDA). It never calls cuDNN, oneDNN
(mkldnn) or Metal (mps), so those report ``is_available() == False``; their flags
(``cudnn.benchmark``, ``cudnn.deterministic``, ...) are settable and checked as in PyTorch,
and change nothing, as on a PyTorch machine without that library. ``mkl`` and ``openmp``
describe the BLAS NumPy was built with. (Not to be confused with ``retrograd.backend``,
which picks the array module of a tensor.)

>>> import retrograd
>>> retrograd.backends.cudnn.benchmark = True
>>> retrograd.backends.cudnn.benchmark
True
>>> retrograd.backends.cudnn.benchmark = False
"""

from . import cpu, cuda, cudnn, mkl, mkldnn, mps, openmp

__all__ = ["cpu", "cuda", "cudnn", "mkl", "mkldnn", "mps", "openmp"]
