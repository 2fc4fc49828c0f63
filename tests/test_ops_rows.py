"""The row machinery (retrograd/ops/_table.py): a new elementwise op declared as one row gets
a correct backward, double backward and forward mode, its node name, and a formula text
rendered from the very expression its backward runs."""

from __future__ import annotations

import operator

import numpy as np
import pytest
from optable import OpCase, check_forward_ad, check_gradients

import retrograd
from retrograd.ops._table import _is_identity, binary, unary

# Declared here, outside the library: no Tensor method, so nothing leaks into other tests.
cube = unary("cube", lambda x: x * x * x, d=lambda x: 3 * x * x, method=False, inplace=False,
             module=__name__, doc="input ** 3.")
inv_sqrt = unary("inv_sqrt", lambda x: 1 / np.sqrt(x), d=lambda out: -0.5 * out * out * out,
                 nan_safe=True, quiet=True, method=False, inplace=False, module=__name__,
                 doc="1 / sqrt(input).")
scaled_diff = binary("scaled_diff", lambda x, y, k=2.0: k * (x - y),
                     d=(lambda k: k, lambda k: -k), attrs={"k": 2.0}, method=False,
                     inplace=False, module=__name__, doc="k * (input - other).")


def test_a_row_is_a_primitive_with_pytorch_style_names():
    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    assert cube(x).grad_fn.name() == "CubeBackward0"
    assert cube.primitive.op == "Cube"
    assert cube.primitive.__name__ == "CubeBackward0"  # the node's name, as PyTorch's
    assert scaled_diff(x, x).grad_fn.name() == "ScaledDiffBackward0"


def test_the_formula_is_the_derivative_source():
    assert cube.primitive.formula == "grad * (3 * x * x)"
    assert inv_sqrt.primitive.formula == "grad * (-0.5 * out * out * out) (NaN-safe)"
    assert scaled_diff.primitive.formula == "grad * k, grad * (-k)"
    assert "Derivative: grad * (3 * x * x)" in cube.primitive.__doc__


def test_first_second_order_and_forward_mode_of_new_rows():
    for case in (OpCase("cube", lambda L, a: cube(a), None, [((2, 3),)]),
                 OpCase("inv_sqrt", lambda L, a: inv_sqrt(a), None, [((4,),)], domain=(0.5, 2)),
                 OpCase("scaled_diff", lambda L, a, b: scaled_diff(a, b, k=-1.5), None,
                        [((2, 3), (3,))])):
        check_gradients(case, case.shapes[0])
        check_forward_ad(case, case.shapes[0])


def test_values_and_integer_inputs():
    x = retrograd.tensor([1, 2, 3])
    out = cube(x)
    assert out.dtype == retrograd.float32  # float math on integers: the default float
    np.testing.assert_array_equal(out.numpy(), [1.0, 8.0, 27.0])
    r = scaled_diff(retrograd.tensor([3.0]), retrograd.tensor([1.0]))
    np.testing.assert_array_equal(r.numpy(), [4.0])


def test_nan_safe_row_gives_zero_where_the_gradient_is_zero():
    x = retrograd.tensor([0.0, 4.0], requires_grad=True)
    y = retrograd.where(retrograd.tensor([False, True]), inv_sqrt(x), 0.0)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, -0.5 / 8])


# ---------------------------------------------------------------------- hot-path row features

product = binary("row_product", operator.mul, d=(lambda y: y, lambda x: x), method=False,
                 inplace=False, module=__name__, operator="_rows_test_product",
                 doc="input * other.")
_plain_calls = []


def _plain_add(x, y):
    _plain_calls.append(1)
    return x + y


def _refuse_bool(x, y):
    if any(getattr(v, "dtype", None) == retrograd.bool or type(v) is bool for v in (x, y)):
        raise RuntimeError("shifted: bool operands are refused")


shifted = binary("row_shifted", lambda x, y, s=1.0: x + s * y, d=(1, lambda s: s),
                 attrs={"s": 1.0}, plain=_plain_add, check_bool=_refuse_bool, method=False,
                 inplace=False, module=__name__, doc="input + s * other.")


@pytest.fixture
def product_operator():
    yield retrograd.Tensor._rows_test_product
    del retrograd.Tensor._rows_test_product


def test_an_identity_derivative_multiplies_by_the_saved_value():
    assert _is_identity(lambda y: y) and not _is_identity(lambda y: -y)
    assert not _is_identity(lambda x, y: x) and not _is_identity(abs)
    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    y = retrograd.tensor([3.0, -4.0], requires_grad=True)
    product(x, y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, -4.0])
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 2.0])
    # complex: backward multiplies by conj(d)
    z = retrograd.tensor([1 + 2j], requires_grad=True)
    w = retrograd.tensor([3 - 1j])
    product(z, w).real.sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), [3 + 1j])
    for case in (OpCase("row_product", lambda L, a, b: product(a, b), None, [((2, 3), (3,))]),):
        check_gradients(case, case.shapes[0])
        check_forward_ad(case, case.shapes[0])


def test_a_row_operator_is_a_tensor_method(product_operator):
    x = retrograd.tensor([2.0], requires_grad=True)
    out = x._rows_test_product(5.0)
    assert out.grad_fn.name() == "RowProductBackward0"
    assert product_operator.__name__ == "_rows_test_product"
    out.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5.0])


def test_plain_forward_serves_calls_without_attributes():
    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    y = retrograd.tensor([10.0, 20.0], requires_grad=True)
    _plain_calls.clear()
    out = shifted(x, y)
    assert _plain_calls == [1]
    np.testing.assert_array_equal(out.detach().numpy(), [11.0, 22.0])
    out.sum().backward()  # the derivative at the default attribute: 1
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 1.0])
    y.grad = None
    out = shifted(x, y, s=-3.0)
    assert _plain_calls == [1]  # an attribute: the row's own forward
    np.testing.assert_array_equal(out.detach().numpy(), [-29.0, -58.0])
    out.sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [-3.0, -3.0])


def test_check_bool_refuses_bool_operands_before_promotion():
    x = retrograd.tensor([1.0])
    np.testing.assert_array_equal(shifted(x, 2.0).numpy(), [3.0])
    np.testing.assert_array_equal(shifted(x, retrograd.tensor([2])).numpy(), [3.0])
    with pytest.raises(RuntimeError, match="bool operands"):
        shifted(x, True)
    with pytest.raises(RuntimeError, match="bool operands"):
        shifted(retrograd.tensor([True]), x)
    with pytest.raises(RuntimeError, match="bool operands"):  # one dtype: the fast path
        shifted(retrograd.tensor([True]), retrograd.tensor([False]), s=2.0)


_SUB_CASES = {
    "bool - bool": lambda t: t.ones(2, dtype=t.bool) - t.ones(2, dtype=t.bool),
    "sub(bool, bool, alpha=2)": lambda t: t.sub(t.ones(2, dtype=t.bool),
                                                t.ones(2, dtype=t.bool), alpha=2),
    "float - True": lambda t: t.ones(2) - True,
    "True - float": lambda t: True - t.ones(2),
    "float - bool tensor": lambda t: t.ones(2) - t.ones(2, dtype=t.bool),
    "bool tensor - 1.5": lambda t: t.ones(2, dtype=t.bool) - 1.5,
    "float tensor - bool 0-d": lambda t: t.ones(2) - t.tensor(True),
    "bool.sub_(bool)": lambda t: t.ones(2, dtype=t.bool).sub_(t.ones(2, dtype=t.bool)),
}


@pytest.mark.parametrize("case", list(_SUB_CASES))
def test_sub_refuses_bool_as_pytorch_does(case):
    import torch  # the oracle

    with pytest.raises(RuntimeError) as theirs:
        _SUB_CASES[case](torch)
    with pytest.raises(RuntimeError) as ours:
        _SUB_CASES[case](retrograd)
    assert str(ours.value) == str(theirs.value)


def test_sub_without_bool_still_promotes():
    x = retrograd.tensor([3, 4], dtype=retrograd.int32)
    assert (x - retrograd.tensor([1.5])).dtype == retrograd.float32
    assert (x - 1).dtype == retrograd.int32
    np.testing.assert_array_equal((x - retrograd.tensor([1], dtype=retrograd.int64)).numpy(),
                                  [2, 3])


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "complex64"])
def test_a_float_number_operand_gives_numpys_values(dtype):
    """Binary arithmetic passes a float number to NumPy as a 0-d array of the tensor's dtype
    (faster); the values must be exactly those of the Python float."""
    arr = (np.arange(1, 7).reshape(2, 3) / 7).astype(dtype)
    x = retrograd.tensor(arr, requires_grad=True)
    for op, expect in ((lambda t: t * 1.0001, arr * 1.0001), (lambda t: t + 0.3, arr + 0.3),
                       (lambda t: t - 1e-3, arr - 1e-3), (lambda t: t / 3.0, arr / 3.0),
                       (lambda t: 2.5 - t, 2.5 - arr)):
        out = op(x)
        assert out.detach().numpy().dtype == arr.dtype
        np.testing.assert_array_equal(out.detach().numpy(), expect)
    (x * 1.0001).real.sum().backward() if dtype.startswith("complex") else \
        (x * 1.0001).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full_like(arr, 1.0001))


def test_a_unary_rows_method_calls_the_primitive_directly():
    x = retrograd.tensor([0.5, -1.0], requires_grad=True)
    out = x.tanh()
    assert out.grad_fn.name() == "TanhBackward0"
    assert retrograd.Tensor.tanh.__doc__ == retrograd.tanh.__doc__
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 - np.tanh([0.5, -1.0]) ** 2, rtol=1e-6)
    with pytest.raises(TypeError, match="tanh"):  # a method takes no out= (PyTorch)
        x.detach().tanh(out=x.detach())


def test_a_unary_rows_method_takes_its_attributes():
    scale = unary("row_scale", lambda x, k=2.0: k * x, d=lambda k: k, attrs={"k": 2.0},
                  inplace=False, module=__name__, doc="k * input.")
    try:
        x = retrograd.tensor([1.0, 2.0], requires_grad=True)
        np.testing.assert_array_equal(x.row_scale().detach().numpy(), [2.0, 4.0])
        out = x.row_scale(k=-1.5)
        np.testing.assert_array_equal(out.detach().numpy(), [-1.5, -3.0])
        out.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [-1.5, -1.5])
        assert scale(x, k=3.0).grad_fn.name() == "RowScaleBackward0"
    finally:
        del retrograd.Tensor.row_scale
