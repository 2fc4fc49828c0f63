"""``retrograd._printing`` against PyTorch's own ``repr``, character for character."""

from __future__ import annotations

import doctest
import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch  # the oracle: a missing install fails the tests, never skips them
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# Loaded by path: the module imports nothing from retrograd, whose __init__ may be in flux.
_PATH = Path(__file__).resolve().parents[1] / "src" / "retrograd" / "_printing.py"
_spec = importlib.util.spec_from_file_location("retrograd_printing", _PATH)
assert _spec is not None and _spec.loader is not None
P = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = P  # dataclasses looks its module up there
_spec.loader.exec_module(P)

DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8,
          np.bool_, np.complex64, np.complex128]
FLOATS = [np.float16, np.float32, np.float64]


@pytest.fixture(autouse=True)
def _default_printoptions():
    yield
    torch.set_printoptions(profile="default")
    P.set_printoptions(profile="default")
    torch.set_default_dtype(torch.float32)


def ours(arr: np.ndarray, **kwargs) -> str:
    t = torch.from_numpy(np.array(arr))
    return P.tensor_repr(arr, dtype_name=str(t.dtype),
                         default_dtype_name=str(torch.get_default_dtype()), **kwargs)


def check(arr: np.ndarray) -> None:
    assert ours(arr) == repr(torch.from_numpy(np.array(arr)))


def both_printoptions(**kwargs) -> None:
    torch.set_printoptions(**kwargs)
    P.set_printoptions(**kwargs)


# ---------------------------------------------------------------- fixed cases

RNG = np.random.default_rng(0)

CASES = {
    "scalar_float": np.array(1.5),
    "scalar_int_valued": np.array(3.0, dtype=np.float32),
    "scalar_int": np.array(-7),
    "scalar_bool": np.array(True),
    "scalar_nan": np.array(np.nan),
    "scalar_tiny": np.array(1e-20, dtype=np.float32),
    "int_mode": np.array([1.0, 2.0, -3.0]),
    "fixed": np.array([1.5, -2.25, 3.125], dtype=np.float32),
    "sci_ratio": np.array([1.0, 1001.0], dtype=np.float32),
    "sci_small": np.array([1e-5, 0.5]),
    "sci_large": np.array([1e9, 2.0]),
    "sci_int_mode": np.array([1.0, 1e10]),
    "magnitudes": np.array([1e-5, 1e-2, 1.0, 1e3, 1e8], dtype=np.float32),
    "nan_inf": np.array([np.nan, np.inf, -np.inf, 1.0, 2.0]),
    "nan_inf_fixed": np.array([np.nan, np.inf, -np.inf, 1.5]),
    "nan_inf_sci": np.array([np.nan, np.inf, -np.inf, 1e-7]),
    "only_nonfinite": np.array([np.nan, np.inf, -np.inf]),
    "zeros": np.zeros(4),
    "neg_zero": np.array([-0.0, 0.0, 1.0]),
    "neg_zero_fixed": np.array([-0.0, 0.5]),
    "neg_zero_sci": np.array([-0.0, 1e-9]),
    "negatives": -np.arange(12, dtype=np.float64).reshape(3, 4) / 7,
    "float16": np.array([0.1, 65504.0, -3.0, 6e-8], dtype=np.float16),
    "float16_fixed": np.array([0.1, 0.2, 0.3333], dtype=np.float16),
    "int8": np.array([-128, 0, 127], dtype=np.int8),
    "uint8": np.array([[0, 255], [17, 3]], dtype=np.uint8),
    "int16": np.array([-32768, 5], dtype=np.int16),
    "int32": np.arange(-5, 5, dtype=np.int32).reshape(2, 5),
    "int64_big": np.array([2**62, -(2**63)], dtype=np.int64),
    "bool": np.array([[True, False], [False, True]]),
    "complex": np.array([1 + 2j, -0.5j, np.nan + 1j]),
    "complex_sci": np.array([1e-6 + 1e6j, 3 - 4j], dtype=np.complex64),
    "d3": RNG.standard_normal((2, 3, 4)),
    "d4": RNG.standard_normal((2, 2, 3, 2)).astype(np.float32),
    "d4_int": RNG.integers(-100, 100, (2, 3, 2, 2)),
    "long_row": RNG.standard_normal(40),
    "long_row_int": RNG.integers(0, 10**6, 60),
    "long_rows_2d": RNG.standard_normal((3, 30)) * 1e3,
    "long_rows_3d_sci": RNG.standard_normal((2, 2, 20)) * 1e-6,
    "big_1d": RNG.standard_normal(2000),
    "big_2d": RNG.standard_normal((50, 50)).astype(np.float32),
    "big_3d": RNG.integers(0, 1000, (10, 10, 20)),
    "big_bool": RNG.integers(0, 2, (40, 30)).astype(bool),
    "big_outliers_hidden": np.concatenate([np.ones(3), np.full(1000, 1e-9), np.ones(3)]),
    "big_narrow": RNG.standard_normal((1001, 1)),
    "big_4d": RNG.standard_normal((7, 3, 8, 7)).astype(np.float16),
    "big_complex": RNG.standard_normal(1200) + 1j,
    "empty": np.zeros(0),
    "empty_int": np.zeros(0, dtype=np.int64),
    "empty_0_3": np.zeros((0, 3)),
    "empty_2_0_4_int32": np.zeros((2, 0, 4), dtype=np.int32),
    "empty_bool": np.zeros((0, 1), dtype=bool),
    "empty_f16": np.zeros(0, dtype=np.float16),
}


@pytest.mark.parametrize("name", list(CASES))
def test_fixed_cases(name):
    check(CASES[name])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (1,), (5,), (2, 3), (2, 1, 3), (1, 2, 1, 2), (0,), (3, 0)])
def test_every_dtype_and_rank(dtype, shape):
    check((RNG.standard_normal(shape) * 50).astype(dtype))


@pytest.mark.parametrize(
    "options",
    [
        {"precision": 2},
        {"precision": 0},
        {"precision": 10},
        {"sci_mode": False},
        {"sci_mode": True},
        {"threshold": 5},
        {"threshold": 5, "edgeitems": 1},
        {"threshold": 5, "edgeitems": 0},
        {"linewidth": 40},
        {"linewidth": 1},
        {"profile": "short"},
        {"profile": "full"},
        {"profile": "full", "precision": 6, "sci_mode": True},
    ],
)
@pytest.mark.parametrize(
    "name", ["magnitudes", "negatives", "d3", "long_row", "big_2d", "big_3d", "int_mode",
             "nan_inf_sci", "int32", "complex", "scalar_float", "empty_0_3", "big_1d"],
)
def test_printoptions(options, name):
    both_printoptions(**options)
    assert P.get_printoptions() == dict(torch._tensor_str.get_printoptions())
    check(CASES[name])


def test_printoptions_context_restores():
    before = P.get_printoptions()
    with P.printoptions(precision=1, sci_mode=True):
        assert P.get_printoptions()["precision"] == 1
        with torch._tensor_str.printoptions(precision=1, sci_mode=True):
            check(CASES["fixed"])
    assert P.get_printoptions() == before
    check(CASES["fixed"])


def test_printoptions_decorator():
    @P.printoptions(precision=1)
    def show():
        return ours(np.array([1.25, 2.5]))

    assert show() == "tensor([1.2, 2.5], dtype=torch.float64)"
    assert P.get_printoptions()["precision"] == 4


def test_default_dtype_float64():
    torch.set_default_dtype(torch.float64)
    for arr in (np.array([1.5, 2.0]), np.array([1.5], dtype=np.float32), np.zeros((0, 2)),
                np.zeros(0, dtype=np.float32), np.array([1j]), np.array([1j], np.complex64)):
        check(arr)


# ---------------------------------------------------------------- autograd suffixes


@pytest.mark.parametrize("name", ["fixed", "d3", "big_2d", "scalar_float", "empty_0_3",
                                  "long_rows_2d", "float16"])
def test_requires_grad_and_grad_fn(name):
    arr = CASES[name]
    leaf = torch.from_numpy(np.array(arr)).requires_grad_()
    assert ours(arr, requires_grad=True) == repr(leaf)
    out = leaf * 2
    with np.errstate(over="ignore"):  # float16's 65504 doubles to inf, as in torch
        doubled = arr * 2
    assert ours(doubled, requires_grad=True, is_leaf=False,
                grad_fn_name=type(out.grad_fn).__name__) == repr(out)
    out = leaf.sum()
    assert ours(np.array(arr.sum()), requires_grad=True, is_leaf=False,
                grad_fn_name=type(out.grad_fn).__name__) == repr(out)


def test_suffix_wraps_past_linewidth():
    arr = np.arange(1.5, 9.5, dtype=np.float16)
    expected = repr(torch.from_numpy(arr).requires_grad_() * 1)
    assert expected.endswith(",\n       dtype=torch.float16, grad_fn=<MulBackward0>)")
    assert ours(arr, grad_fn_name="MulBackward0", is_leaf=False) == expected
    # With a wrapped body the suffixes follow on its last line.
    arr = np.full(12, 1.5, dtype=np.float16)
    expected = repr(torch.from_numpy(arr).requires_grad_() * 1)
    assert ours(arr, grad_fn_name="MulBackward0", is_leaf=False) == expected


@pytest.mark.parametrize("name", ["fixed", "d3", "scalar_float", "empty", "float16"])
def test_parameter(name):
    arr = CASES[name]
    p = torch.nn.Parameter(torch.from_numpy(np.array(arr)))
    assert P.parameter_repr(arr, dtype_name=str(p.dtype)) == repr(p)


def test_parameter_without_grad():
    arr = np.array([[1, 2], [3, 4]], dtype=np.int32)
    p = torch.nn.Parameter(torch.from_numpy(arr), requires_grad=False)
    assert P.parameter_repr(arr, dtype_name="torch.int32", requires_grad=False) == repr(p)


def test_tensor_contents():
    t = torch.ones(2, 3, dtype=torch.float16, requires_grad=True)
    expected = torch.Tensor.__repr__(t, tensor_contents="[...]")
    got = P.tensor_repr(np.ones((2, 3), np.float16), dtype_name="torch.float16",
                        requires_grad=True, tensor_contents="[...]")
    assert got == expected


def test_device_suffix():
    # torch here is CPU-only: these are the strings a CUDA build prints.
    arr = np.array([1.0, 2.0], dtype=np.float32)
    assert P.tensor_repr(arr, dtype_name="torch.float32", device="cuda:0") == (
        "tensor([1., 2.], device='cuda:0')")
    assert P.tensor_repr(arr, dtype_name="torch.float16", device="cuda", requires_grad=True) == (
        "tensor([1., 2.], device='cuda:0', dtype=torch.float16, requires_grad=True)")


def test_cupy_like_input():
    class FakeCupy:
        def get(self):
            return np.array([1.0, 2.5])

    assert P.tensor_repr(FakeCupy(), dtype_name="torch.float64") == (
        "tensor([1.0000, 2.5000], dtype=torch.float64)")


def test_doctests():
    failures, tried = doctest.testmod(P, extraglobs={"np": np})
    assert tried > 0 and failures == 0


# ---------------------------------------------------------------- random arrays


RANDOM_SETTINGS = {"deadline": None, "database": None,
                   "suppress_health_check": [HealthCheck.too_slow]}


@st.composite
def float_elements(draw, dtype):
    kind = draw(st.sampled_from(["any", "scaled", "int", "special"]))
    if kind == "any":
        return draw(st.floats(width=np.finfo(dtype).bits, allow_subnormal=True))
    if kind == "scaled":
        mantissa = draw(st.floats(-10, 10, allow_nan=False))
        return mantissa * 10.0 ** draw(st.integers(-12, 12))
    if kind == "int":
        return float(draw(st.integers(-(10**6), 10**6)))
    return draw(st.sampled_from([0.0, -0.0, math.nan, math.inf, -math.inf]))


@st.composite
def arrays(draw, max_side=6):
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=max_side)
                 .filter(lambda s: math.prod(s) <= 3000))
    if dtype in FLOATS:
        data = np.array(draw(st.lists(float_elements(dtype), min_size=math.prod(shape),
                                      max_size=math.prod(shape))), dtype=np.float64)
        with np.errstate(over="ignore"):
            return data.astype(dtype).reshape(shape)
    if np.issubdtype(dtype, np.complexfloating):
        parts = draw(st.lists(float_elements(np.float64), min_size=2 * math.prod(shape),
                              max_size=2 * math.prod(shape)))
        data = np.empty(math.prod(shape), dtype=dtype)
        with np.errstate(over="ignore"):
            data.real, data.imag = parts[::2], parts[1::2]
        return data.reshape(shape)
    return draw(hnp.arrays(dtype, shape))


@settings(max_examples=400, **RANDOM_SETTINGS)
@given(arrays())
def test_random_arrays(arr):
    check(arr)


@settings(max_examples=150, **RANDOM_SETTINGS)
@given(
    arrays(max_side=12),
    st.fixed_dictionaries(
        {},
        optional={
            "precision": st.integers(0, 8),
            "threshold": st.integers(1, 1200),
            "edgeitems": st.integers(0, 4),
            "linewidth": st.integers(1, 200),
            "sci_mode": st.sampled_from([None, True, False]),
            "profile": st.sampled_from(["default", "short", "full"]),
        },
    ),
    st.booleans(),
)
def test_random_arrays_and_printoptions(arr, options, requires_grad):
    both_printoptions(**options)
    try:
        t = torch.from_numpy(np.array(arr))
        if requires_grad and (t.is_floating_point() or t.is_complex()):
            t.requires_grad_()
            assert ours(arr, requires_grad=True) == repr(t)
        else:
            assert ours(arr) == repr(t)
    finally:
        both_printoptions(profile="default")
