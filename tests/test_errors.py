"""Misuse raises PyTorch's exception class with a message a person can act on."""

from __future__ import annotations

import pytest
from helpers import both_raise

import retrograd


def test_backward_on_non_scalar_without_gradient():
    _t, r = both_raise(lambda L: (L.ones(2, requires_grad=True) * 2).backward())
    assert "grad can be implicitly created only for scalar outputs" in str(r)


def test_backward_twice_through_freed_graph():
    def f(L):
        x = L.ones(2, requires_grad=True)
        y = (x.exp() * 2).sum()
        y.backward()
        y.backward()

    _t, r = both_raise(f)
    assert "Trying to backward through the graph a second time" in str(r)
    assert "retain_graph=True" in str(r)
    assert "test_errors.py" in str(r)  # names where the freed node was created


def test_backward_on_tensor_without_grad():
    t, r = both_raise(lambda L: L.ones(2).sum().backward())
    assert str(r) == str(t)


def test_inplace_on_leaf_requiring_grad():
    _t, r = both_raise(lambda L: L.ones(2, requires_grad=True).add_(1))
    assert "a leaf Variable that requires grad is being used in an in-place operation" in str(r)


def test_requires_grad_on_integer_tensor():
    _t, r = both_raise(lambda L: L.tensor([1, 2], requires_grad=True))
    assert "floating point" in str(r)


def test_gradient_argument_of_wrong_shape():
    t, r = both_raise(lambda L: (L.ones(2, requires_grad=True) * 2).backward(L.ones(3)))
    assert str(r) == str(t)


def test_mismatched_shapes_name_both():
    _t, r = both_raise(lambda L: L.ones(2, 3) + L.ones(4))
    msg = str(r)
    assert "The size of tensor a (3) must match the size of tensor b (4)" in msg
    assert "[2, 3]" in msg and "[4]" in msg


def test_matmul_shape_mismatch():
    _t, r = both_raise(lambda L: L.ones(2, 3).mm(L.ones(2, 3)))
    assert "2x3" in str(r)


def test_modified_saved_tensor_names_op_and_lines():
    def f(L):
        x = L.ones(3, requires_grad=True)
        y = x.exp()  # creates ExpBackward0
        z = y.sum()
        y.add_(1)  # modifies the saved output
        z = (y * 0).sum() + z
        z.backward()

    _t, r = both_raise(f)
    msg = str(r)
    assert "modified by an inplace operation" in msg and "ExpBackward0" in msg
    assert "test_errors.py" in msg


def test_bad_dim_is_index_error():
    _t, r = both_raise(lambda L: L.ones(2, 3).sum(2))
    assert "Dimension out of range" in str(r)


@pytest.mark.parametrize("call,op", [
    (lambda L: L.ones(2).roll(1, 5), "roll"),
    (lambda L: L.roll(L.ones(2, 3), 1, -3), "roll"),
    (lambda L: L.ones(2).cumsum(3), "cumsum"),
])
def test_dim_error_names_the_op_once(call, op):
    _t, r = both_raise(call)
    msg = str(r)
    assert msg.startswith(f"{op}(): Dimension out of range"), msg
    assert msg.count(f"{op}(") == 1, msg


@pytest.mark.parametrize("call,op", [
    (lambda L: L.ones(2).sum("x"), "sum"),
    (lambda L: L.ones(2).std(1.5), "std"),
    (lambda L: L.ones(2).argmax((0,)), "argmax"),
    (lambda L: L.ones(2).all("x"), "all"),
    (lambda L: L.softmax(L.ones(2), ()), "softmax"),
    # the helper is not told the op: the public function the user called is named
    (lambda L: L.ones(2).chunk(1, "x"), "chunk"),
    (lambda L: L.ones(2).size("x"), "size"),
    (lambda L: L.nansum(L.ones(2), "x"), "nansum"),
    (lambda L: L.nn.functional.glu(L.ones(2), "x"), "glu"),
    (lambda L: L.cross(L.ones(3), L.ones(3), "x"), "cross"),
])
def test_non_integer_dim_is_a_type_error_naming_the_op(call, op):
    _t, r = both_raise(call)
    assert isinstance(r, TypeError)
    assert str(r).startswith(f"{op}(): argument 'dim' must be int"), str(r)


def test_tensor_of_no_elements_has_the_default_float_dtype():
    assert retrograd.tensor([]).dtype == retrograd.float32
    assert retrograd.tensor([[], []]).shape == (2, 0)
    assert retrograd.tensor([[], []]).dtype == retrograd.float32
    assert retrograd.tensor([], dtype=retrograd.int64).dtype == retrograd.int64
    assert retrograd.tensor([True]).dtype == retrograd.bool
    old = retrograd.get_default_dtype()
    retrograd.set_default_dtype(retrograd.float64)
    try:
        assert retrograd.tensor([]).dtype == retrograd.float64
    finally:
        retrograd.set_default_dtype(old)


@pytest.mark.parametrize("name", ["ones", "zeros", "empty", "rand", "randn"])
def test_creation_without_a_size_is_a_type_error(name):
    _t, r = both_raise(lambda L: getattr(L, name)())
    assert isinstance(r, TypeError) and name in str(r)
    assert getattr(retrograd, name)(()).shape == ()  # a 0-d tensor is asked for with ()
