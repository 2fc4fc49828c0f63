"""retrograd.cuda.jiterator: as torch.cuda.jiterator on this GPU-less machine (making works,
calling raises AssertionError), and its CuPy glue against a stand-in CuPy whose
ElementwiseKernel runs a NumPy twin of each test kernel."""

from __future__ import annotations

import sys
import types
import warnings

import numpy as np
import pytest
from helpers import both_raise

import retrograd
from retrograd import _device, backend
from retrograd.cuda import jiterator

UNARY = "template <typename T> T unary(T x) { return x * x + x; }"
TWO_OUT = """
    template <typename T>
    T helper(T a) { return a; }
    template <typename T>
    void binary_2outputs(T i0, T i1, T& out0, T& out1) {
        if (i0 > i1) { out0 = helper(i0); } else { out0 = i1; }
        out1 = i0 - i1;
    }
"""
EXTRA = "template <typename T> T axpby(T x, T y, T alpha, T beta) { return alpha * x + beta * y; }"


def _opdb_jitted():
    from torch.testing._internal.common_methods_invocations import op_db

    return [op.op for op in op_db if op.name.startswith("jiterator_")]


def test_entry_points_of_pytorch_own_kernels():
    """op_db's five jiterator kernels: the same entry point, output count and extra
    arguments as PyTorch finds."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = _opdb_jitted()
    assert len(found) == 5
    for f in found:
        make = jiterator._create_multi_output_jit_fn if f.return_by_ref else \
            jiterator._create_jit_fn
        args = (f.num_outputs,) if f.return_by_ref else ()
        ours = make(f.code_string, *args, **f.kwargs_dict)
        assert (ours.kernel_name, ours.num_outputs, ours.return_by_ref, ours.kwargs_dict) == \
            (f.kernel_name, f.num_outputs, f.return_by_ref, f.kwargs_dict)


def test_calling_without_a_gpu_raises_like_pytorch():
    assert not retrograd.cuda.is_available()  # this machine; the glue is tested below
    errs = both_raise(lambda lib: lib.cuda.jiterator._create_jit_fn(UNARY)(lib.ones(3)))
    assert isinstance(errs[1], AssertionError) and str(errs[1]) == str(errs[0])
    both_raise(lambda lib: lib.cuda.jiterator._create_multi_output_jit_fn(TWO_OUT, 2)(
        lib.ones(2), lib.ones(2)))


@pytest.mark.parametrize("code", ["not code", "", "int x = 3;"])
def test_unparsable_code_raises_like_pytorch(code):
    errs = both_raise(lambda lib: lib.cuda.jiterator._create_jit_fn(code))
    assert type(errs[1]) is Exception and "Couldn't parse code" in str(errs[1])


def test_entry_point_is_the_last_top_level_function():
    assert jiterator._entry_name(TWO_OUT) == "binary_2outputs"  # not `if`, not `helper`
    assert jiterator.kernel_source("axpby", 2, ("alpha", "beta"), 1, False) == (
        "T in0, T in1, T alpha, T beta", "T out0", "out0 = axpby(in0, in1, alpha, beta)")
    assert jiterator.kernel_source("f", 1, (), 2, True) == (
        "T in0", "T out0, T out1", "f(in0, out0, out1)")


# ---------------------------------------------------------------------- the CuPy glue

class _DeviceArray(np.ndarray):
    """A NumPy array that the stand-in CuPy calls its own (device 0)."""

    device = types.SimpleNamespace(id=0)


TWINS = {  # NumPy twins of the test kernels, by entry point
    "unary": lambda x: x * x + x,
    "binary_2outputs": lambda a, b: (np.where(a > b, a, b), a - b),
    "axpby": lambda x, y, alpha, beta: alpha * x + beta * y,
}


@pytest.fixture
def fake_gpu(monkeypatch):
    calls = []

    class ElementwiseKernel:
        def __init__(self, in_params, out_params, operation, name, preamble):
            calls.append((in_params, out_params, operation, name, preamble))
            self.twin = TWINS[name.removeprefix("jiterator_")]

        def __call__(self, *args):
            assert len({a.dtype for a in args}) == 1  # everything is T
            out = self.twin(*np.broadcast_arrays(*[np.asarray(a) for a in args]))
            if isinstance(out, tuple):
                return tuple(np.asarray(o).view(_DeviceArray) for o in out)
            return np.asarray(out).view(_DeviceArray)

    fake = types.SimpleNamespace(ndarray=_DeviceArray, ElementwiseKernel=ElementwiseKernel,
                                 get_array_module=lambda a: np)
    monkeypatch.setitem(sys.modules, "cupy", fake)
    monkeypatch.setattr(backend, "_cupy", fake)
    monkeypatch.setattr(_device, "_cuda_count", 1)
    return calls


def _on_gpu(values, dtype):
    return retrograd.from_numpy(np.asarray(values, dtype=dtype).view(_DeviceArray))


def test_kernels_run_through_cupy(fake_gpu):
    fn = jiterator._create_jit_fn(UNARY)
    x = _on_gpu([1.0, 2.0, -3.0], np.float32)
    assert x.is_cuda
    out = fn(x)
    assert out.is_cuda and out.dtype == retrograd.float32 and not out.requires_grad
    np.testing.assert_allclose(np.asarray(out._data), [2.0, 6.0, 6.0])
    fn(x)  # compiled once per input count
    assert len(fake_gpu) == 1 and fake_gpu[0][2] == "out0 = unary(in0)"
    assert fake_gpu[0][4] == UNARY  # the code string is the preamble


def test_promotion_broadcast_extra_args_and_outputs(fake_gpu):
    fn = jiterator._create_jit_fn(EXTRA, alpha=2, beta=1)
    x = _on_gpu([[1], [2]], np.int64)
    y = _on_gpu([0.5, 0.25], np.float64)
    out = fn(x, y)  # int64 and float64 meet in float64; (2, 1) and (2,) broadcast
    assert out.dtype == retrograd.float64 and out.shape == (2, 2)
    np.testing.assert_allclose(np.asarray(out._data), [[2.5, 2.25], [4.5, 4.25]])
    np.testing.assert_allclose(np.asarray(fn(x, y, beta=-1)._data), [[1.5, 1.75], [3.5, 3.75]])
    two = jiterator._create_multi_output_jit_fn(TWO_OUT, 2)
    hi, diff = two(_on_gpu([1.0, 5.0], np.float64), _on_gpu([3.0, 2.0], np.float64))
    np.testing.assert_allclose(np.asarray(hi._data), [3.0, 5.0])
    np.testing.assert_allclose(np.asarray(diff._data), [-2.0, 3.0])


def test_misuse_is_refused(fake_gpu):
    fn = jiterator._create_jit_fn(EXTRA, alpha=1, beta=1)
    x = _on_gpu([1.0], np.float32)
    with pytest.raises(ValueError, match="all inputs must be CUDA tensors, got cpu"):
        fn(x, retrograd.ones(1))
    with pytest.raises(TypeError, match="gamma is not an extra argument"):
        fn(x, x, gamma=2.0)
    with pytest.raises(ValueError, match="1 to 8 tensor inputs"):
        fn(*[x] * 9)


def test_doctests():
    import doctest

    result = doctest.testmod(jiterator)
    assert result.attempted > 0 and result.failed == 0
