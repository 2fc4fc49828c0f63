"""``torch.cuda.jiterator``: elementwise CUDA kernels compiled at run time from a C++ code
string whose last function is the per-element entry point.

PyTorch compiles the string into its elementwise kernel template with NVRTC; here CuPy's
``ElementwiseKernel`` does that job: the code string becomes the kernel's preamble and the
kernel body calls the entry function on each element, with the inputs promoted to one dtype
``T`` and broadcast together, the extra arguments (the keyword arguments given when the
function was made, overridable per call) passed as scalars of type ``T``, and one output per
``num_outputs``, returned by value or (``_create_multi_output_jit_fn``) by reference.

On a machine without a GPU this does what PyTorch does there: making a jitted function works
(the code string is parsed for its entry point), and calling it raises ``AssertionError``.
Jitted functions are not differentiable, as in PyTorch.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .._device import cuda_device_count
from .._tensor import Tensor, wrap
from ..ops._core import result_dtype

__all__: list[str] = []  # PyTorch's entry points here are private: _create_jit_fn & co.

_NO_GPU = "Jiterator is only supported on CUDA and ROCm GPUs, none are available."
_MAX_INPUTS = 8

# A function definition: a name, a parameter list without nested parentheses, a body.
_DEFINITION = re.compile(r"([A-Za-z_]\w*)\s*\(([^()]*)\)\s*(?:const\s*)?\{")


def _entry_name(code_string: str) -> str:
    """The name of the last function the code defines at the top level (outside any braces);
    PyTorch's plain ``Exception`` when there is none."""
    found, depth, pos = None, 0, 0
    for m in _DEFINITION.finditer(code_string):
        depth += code_string.count("{", pos, m.start()) - code_string.count("}", pos, m.start())
        pos = m.start()
        if depth == 0:
            found = m.group(1)
    if found is None:
        raise Exception(f"Couldn't parse code, please check correctness:\n {code_string}")
    return found


def kernel_source(name: str, n_inputs: int, extra: tuple[str, ...], num_outputs: int,
                  return_by_ref: bool) -> tuple[str, str, str]:
    """CuPy ElementwiseKernel's (in_params, out_params, operation) that call ``name`` on
    inputs in0.., then the extra arguments, then (by reference) the outputs out0.."""
    ins = [f"in{i}" for i in range(n_inputs)] + list(extra)
    outs = [f"out{i}" for i in range(num_outputs)]
    in_params = ", ".join(f"T {p}" for p in ins)
    out_params = ", ".join(f"T {p}" for p in outs)
    if return_by_ref:
        operation = f"{name}({', '.join(ins + outs)})"
    else:
        operation = f"{outs[0]} = {name}({', '.join(ins)})"
    return in_params, out_params, operation


class _JittedFunction:
    """A kernel made from ``code_string``, compiled on first call for each input count."""

    def __init__(self, code_string: str, return_by_ref: bool, num_outputs: int,
                 **kwargs) -> None:
        self.code_string = code_string
        self.return_by_ref = return_by_ref
        self.num_outputs = num_outputs
        self.kernel_name = _entry_name(code_string)
        self.kwargs_dict = kwargs
        self.is_cuda_available = cuda_device_count() > 0
        self._kernels: dict[int, object] = {}

    def __call__(self, *tensors: Tensor, **kwargs):
        if cuda_device_count() == 0:
            raise AssertionError(_NO_GPU)
        if not 0 < len(tensors) <= _MAX_INPUTS:
            raise ValueError(f"jiterator only supports 1 to {_MAX_INPUTS} tensor inputs, got "
                             f"{len(tensors)}")
        for t in tensors:
            if not isinstance(t, Tensor) or not t.is_cuda:
                where = type(t).__name__ if not isinstance(t, Tensor) else str(t.device)
                raise ValueError(f"{self.kernel_name}: all inputs must be CUDA tensors, got "
                                 f"{where}")
        for k in kwargs:
            if k not in self.kwargs_dict:
                raise TypeError(f"{self.kernel_name}: {k} is not an extra argument declared "
                                f"when the function was made ({list(self.kwargs_dict)})")
        values = {**self.kwargs_dict, **kwargs}
        npd = result_dtype(tensors)._np
        arrays = [t._data.astype(npd, copy=False) for t in tensors]
        scalars = [npd.type(v) for v in values.values()]
        out = self._kernel(len(tensors))(*arrays, *scalars)
        if self.num_outputs == 1:
            return wrap(out)
        return [wrap(o) for o in out]

    def _kernel(self, n_inputs: int):
        if n_inputs not in self._kernels:
            import cupy  # present: a GPU was found through it

            in_params, out_params, operation = kernel_source(
                self.kernel_name, n_inputs, tuple(self.kwargs_dict), self.num_outputs,
                self.return_by_ref)
            self._kernels[n_inputs] = cupy.ElementwiseKernel(
                in_params, out_params, operation, name=f"jiterator_{self.kernel_name}",
                preamble=self.code_string)
        return self._kernels[n_inputs]


def _create_jit_fn(code_string: str, **kwargs) -> Callable:
    """An elementwise kernel from C++ code whose last function returns the result by value;
    ``kwargs`` name its extra arguments and their defaults.

    >>> import retrograd
    >>> fn = retrograd.cuda.jiterator._create_jit_fn(
    ...     "template <typename T> T axpy(T x, T y, T alpha) { return alpha * x + y; }",
    ...     alpha=1.0)
    >>> fn.kernel_name
    'axpy'
    """
    return _JittedFunction(code_string, return_by_ref=False, num_outputs=1, **kwargs)


def _create_multi_output_jit_fn(code_string: str, num_outputs: int, **kwargs) -> Callable:
    """An elementwise kernel whose entry function writes ``num_outputs`` results through
    reference parameters placed after its inputs (and extra arguments)."""
    return _JittedFunction(code_string, return_by_ref=True, num_outputs=num_outputs, **kwargs)
