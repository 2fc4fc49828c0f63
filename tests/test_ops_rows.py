"""The row machinery (retrograd/ops/_table.py): a new elementwise op declared as one row gets
a correct backward, double backward and forward mode, its node name, and a formula text
rendered from the very expression its backward runs."""

from __future__ import annotations

import numpy as np
from optable import OpCase, check_forward_ad, check_gradients

import retrograd
from retrograd.ops._table import binary, unary

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
