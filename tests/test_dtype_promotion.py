"""PyTorch's type promotion for every binary op, checked against PyTorch itself: dimensioned
tensors beat 0-d tensors beat Python scalars within a category, a higher category always
wins, integer true division gives the default float, and errors are raised where PyTorch
raises them."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch  # the oracle: a missing install fails the tests, never skips them
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import retrograd

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]

BINARY = {
    "add": lambda L, a, b: L.add(a, b),
    "sub": lambda L, a, b: a - b,
    "mul": lambda L, a, b: a * b,
    "div": lambda L, a, b: a / b,
    "div_floor": lambda L, a, b: L.div(a, b, rounding_mode="floor"),
    "div_trunc": lambda L, a, b: L.div(a, b, rounding_mode="trunc"),
    "floor_divide": lambda L, a, b: a // b,
    "remainder": lambda L, a, b: a % b,
    "fmod": lambda L, a, b: L.fmod(a, b),
    "pow": lambda L, a, b: a ** b,
    "atan2": lambda L, a, b: L.atan2(a, b),
    "maximum": lambda L, a, b: L.maximum(a, b),
    "minimum": lambda L, a, b: L.minimum(a, b),
    "fmax": lambda L, a, b: L.fmax(a, b),
    "fmin": lambda L, a, b: L.fmin(a, b),
    "xlogy": lambda L, a, b: L.xlogy(a, b),
    "hypot": lambda L, a, b: L.hypot(a, b),
    "logaddexp": lambda L, a, b: L.logaddexp(a, b),
    "eq": lambda L, a, b: a == b,
    "lt": lambda L, a, b: a < b,
    "ge": lambda L, a, b: L.ge(a, b),
    "logical_and": lambda L, a, b: L.logical_and(a, b),
    "bitwise_and": lambda L, a, b: a & b,
    "bitwise_or": lambda L, a, b: a | b,
    "bitwise_xor": lambda L, a, b: L.bitwise_xor(a, b),
    "lshift": lambda L, a, b: a << b,
    "rshift": lambda L, a, b: a >> b,
    "where": lambda L, a, b: L.where(L.tensor([True, False, True]), a, b),
}

# Operand kinds: a dimensioned tensor, a 0-d tensor, or a Python scalar.
SCALARS = [True, 3, 2.5, -2]


def _operands():
    ops = [("t", d) for d in DTYPES] + [("0d", d) for d in DTYPES] + [("py", s) for s in SCALARS]
    return ops


def _make(lib, kind, spec, seed):
    if kind == "py":
        return spec
    rng = np.random.default_rng(seed)
    shape = (3,) if kind == "t" else ()
    if spec == "bool":
        vals = rng.integers(0, 2, size=shape).astype(bool)
    elif spec.startswith(("int", "uint")):
        vals = rng.integers(1, 4, size=shape)
    else:
        vals = rng.uniform(0.5, 3.0, size=shape).round(2)
    return lib.tensor(vals.tolist(), dtype=getattr(lib, spec))


def _run(lib, fn, a, b):
    try:
        return fn(lib, a, b), None
    except Exception as e:  # compared below: PyTorch's and ours must both raise
        return None, e


@pytest.mark.parametrize("op", list(BINARY))
def test_binary_result_dtype_and_value_match_pytorch(op):
    fn = BINARY[op]
    mismatches = []
    for (ka, sa), (kb, sb) in itertools.product(_operands(), repeat=2):
        if ka == "py" and kb == "py":
            continue
        ra, rb = _make(retrograd, ka, sa, 1), _make(retrograd, kb, sb, 2)
        ta, tb = _make(torch, ka, sa, 1), _make(torch, kb, sb, 2)
        expected, terr = _run(torch, fn, ta, tb)
        got, rerr = _run(retrograd, fn, ra, rb)
        label = f"{op}({ka}:{sa}, {kb}:{sb})"
        if isinstance(terr, TypeError) and "invalid combination of arguments" in str(terr):
            continue  # PyTorch's signature parser refuses a Python number there; we accept it
        if terr is not None:
            if rerr is None:
                mismatches.append(f"{label}: torch raised {type(terr).__name__}: {terr}")
            continue
        if rerr is not None:
            mismatches.append(f"{label}: raised {type(rerr).__name__}: {rerr}")
            continue
        if str(got.dtype) != str(expected.dtype):
            mismatches.append(f"{label}: dtype {got.dtype} != {expected.dtype}")
            continue
        tol = 1e-2 if "float16" in (str(sa), str(sb)) else 1e-5
        if not np.allclose(got.numpy().astype(np.float64), expected.numpy().astype(np.float64),
                           rtol=tol, atol=tol, equal_nan=True):
            mismatches.append(f"{label}: {got.numpy()} != {expected.numpy()}")
    assert not mismatches, "\n".join(m[:200] for m in mismatches[:15])


def test_int_true_division_gives_default_float():
    a = retrograd.tensor([1, 2, 3])
    assert (a / a).dtype == retrograd.float32
    assert (a / 2).dtype == retrograd.float32
    retrograd.set_default_dtype(retrograd.float64)
    try:
        assert (a / a).dtype == retrograd.float64
    finally:
        retrograd.set_default_dtype(retrograd.float32)


def test_float16_with_float32_zero_dim_stays_float16():
    h = retrograd.tensor([1.0, 2.0], dtype=retrograd.float16)
    z = retrograd.tensor(3.0, dtype=retrograd.float32)
    assert (h * z).dtype == retrograd.float16
    assert (h * retrograd.tensor([3.0])).dtype == retrograd.float32
    assert retrograd.result_type(h, z) == retrograd.float16


def test_uint8_int8_promote_to_int16():
    u = retrograd.tensor([5], dtype=retrograd.uint8)
    i = retrograd.tensor([7], dtype=retrograd.int8)
    out = u - i
    assert out.dtype == retrograd.int16
    assert out.tolist() == [-2]


ERRORS = [
    (lambda L: L.tensor([1, 2]) ** -1, RuntimeError, "Integers to negative integer powers"),
    (lambda L: L.tensor([True]) - L.tensor([True]), RuntimeError, "two bool tensors"),
    (lambda L: L.tensor([True]) - L.tensor([1]), RuntimeError, "with a bool tensor"),
    (lambda L: -L.tensor([True]), RuntimeError, "Negation, the `-` operator, on a bool"),
    (lambda L: L.add(L.tensor([1]), L.tensor([1]), alpha=1.5), RuntimeError,
     "alpha must not be a floating point number"),
    (lambda L: L.add(L.tensor([1]), L.tensor([1]), alpha=True), RuntimeError,
     "Boolean alpha only supported"),
    (lambda L: L.tensor([1, 2]) // 0, RuntimeError, "ZeroDivisionError"),
    (lambda L: L.tensor([1, 2]) % L.tensor([1, 0]), RuntimeError, "ZeroDivisionError"),
    (lambda L: L.div(L.tensor([1.0]), 2, rounding_mode="round"), RuntimeError,
     "rounding_mode to be one of None, 'trunc', or 'floor'"),
    (lambda L: L.tensor([1.0]) & L.tensor([1.0]), NotImplementedError,
     "\"bitwise_and_cpu\" not implemented for 'Float'"),
    (lambda L: ~L.tensor([1.0]), TypeError, "only implemented on integer and Boolean"),
    (lambda L: L.isclose(L.tensor([1]), L.tensor([1.0])), RuntimeError, "Long did not match Float"),
    (lambda L: L.lerp(L.tensor([1.0]), L.tensor([1.0], dtype=L.float64), 0.5), RuntimeError,
     "expected dtype float for `end` but got dtype double"),
    (lambda L: L.addcdiv(L.tensor([1.0]), L.tensor([1]), L.tensor([2])), RuntimeError,
     "Integer division with addcdiv is no longer supported"),
    (lambda L: L.tensor([1]).frac(), NotImplementedError,
     "\"frac_cpu\" not implemented for 'Long'"),
    (lambda L: L.hypot(L.tensor([1]), L.tensor([1])), NotImplementedError,
     "\"hypot_cpu\" not implemented for 'Long'"),
    (lambda L: L.tensor([1, 2]).sqrt_(), RuntimeError,
     "result type Float can't be cast to the desired output type Long"),
    (lambda L: L.tensor([1.0]).float_power_(2), RuntimeError,
     "the base given to float_power_ has dtype Float"),
    (lambda L: L.clamp(L.tensor([1.0])), RuntimeError, "At least one of 'min' or 'max'"),
    (lambda L: L.tensor([1.0, 2.0]) + L.tensor([1.0, 2.0, 3.0]), RuntimeError,
     "The size of tensor a (2) must match the size of tensor b (3)"),
]


@pytest.mark.parametrize(("fn", "exc", "msg"), ERRORS)
def test_errors_match_pytorch(fn, exc, msg):
    with pytest.raises(exc) as theirs:
        fn(torch)
    assert msg in str(theirs.value)
    with pytest.raises(exc) as ours:
        fn(retrograd)
    assert msg in str(ours.value)


# ---------------------------------------------------------------------- property test

@st.composite
def _broadcastable_pair(draw):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
    a_shape, b_shape = shapes.input_shapes
    dtypes = st.sampled_from(["float32", "float64", "int64", "int32"])
    return a_shape, b_shape, draw(dtypes), draw(dtypes), draw(st.integers(0, 2**16))


PROPERTY_OPS = {
    "add": lambda L, a, b: a + b,
    "mul": lambda L, a, b: a * b,
    "div": lambda L, a, b: a / b,
    "maximum": lambda L, a, b: L.maximum(a, b),
    "atan2": lambda L, a, b: L.atan2(a, b),
}


@settings(max_examples=40, deadline=None)
@given(_broadcastable_pair(), st.sampled_from(sorted(PROPERTY_OPS)))
def test_broadcast_pairs_match_pytorch(pair, op):
    """Random broadcastable shapes and dtypes: value, dtype, and gradients (for float
    operands) equal PyTorch's."""
    a_shape, b_shape, da, db, seed = pair
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.5, 3, size=a_shape)
    b = rng.uniform(0.5, 3, size=b_shape)
    fn = PROPERTY_OPS[op]

    def build(lib, vals, d):
        grad = d.startswith("float")
        return lib.tensor(vals.astype(d).tolist() if vals.ndim else vals.astype(d).item(),
                          dtype=getattr(lib, d), requires_grad=grad)

    ra, rb = build(retrograd, a, da), build(retrograd, b, db)
    ta, tb = build(torch, a, da), build(torch, b, db)
    ro, to = fn(retrograd, ra, rb), fn(torch, ta, tb)
    assert str(ro.dtype) == str(to.dtype)
    assert tuple(ro.shape) == tuple(to.shape)
    np.testing.assert_allclose(ro.detach().numpy(), to.detach().numpy(), rtol=1e-5, atol=1e-6)
    if to.requires_grad:
        g = rng.standard_normal(tuple(to.shape))
        ro.backward(retrograd.tensor(g, dtype=ro.dtype))
        to.backward(torch.tensor(g, dtype=to.dtype))
        for r, t in ((ra, ta), (rb, tb)):
            if t.grad is not None:
                assert r.grad is not None and tuple(r.grad.shape) == tuple(t.grad.shape)
                assert str(r.grad.dtype) == str(t.grad.dtype)
                np.testing.assert_allclose(r.grad.numpy(), t.grad.numpy(), rtol=1e-4,
                                           atol=1e-5)
