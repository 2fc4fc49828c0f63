"""In-place safety, view write-through and hooks (issue: autograd beyond the basics)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

import retrograd as rg


def _line_of(marker: str) -> int:
    src, start = inspect.getsourcelines(test_modified_saved_tensor_names_both_lines)
    for i, line in enumerate(src):
        if marker in line:
            return start + i
    raise AssertionError(marker)


def test_modified_saved_tensor_names_both_lines():
    x = rg.ones(2, 3, requires_grad=True)
    h = x * 1
    y = h.exp()  # CREATE
    out = y.sum()
    y.mul_(2)  # MODIFY
    with pytest.raises(RuntimeError) as info:
        out.backward()
    msg = str(info.value)
    assert "ExpBackward0" in msg and "[2, 3]" in msg
    assert "is at version 1; expected version 0" in msg
    assert f"test_autograd_safety.py:{_line_of('# CREATE')}" in msg
    assert f"test_autograd_safety.py:{_line_of('# MODIFY')}" in msg


def test_modified_input_of_mul_detected_through_view():
    a = rg.ones(3, requires_grad=True)
    b = a * 1
    c = b * b
    b.view(3)[0] = 5.0  # modifies b through a view: b's version moves too
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        c.sum().backward()


@pytest.mark.parametrize("modified", [0, 1, 2])
def test_three_input_ops_check_the_version_of_each_saved_input(modified):
    # apply records ops of three inputs (linear, lerp, addcmul) inline: each saved input
    # keeps its own version check, whichever position it has.
    xs = [rg.rand(2, 3, requires_grad=True) for _ in range(3)]
    hs = [x * 1 for x in xs]
    out = rg.lerp(hs[0], hs[1], hs[2]).sum()  # saves all three inputs
    hs[modified].add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()


def test_linear_with_and_without_bias_records_three_edges_like_pytorch():
    g = np.random.default_rng(3)
    x, w, b = (g.standard_normal(s) for s in ((4, 5), (3, 5), (3,)))
    for with_bias in (True, False):
        mine = [rg.tensor(a, requires_grad=True) for a in (x, w, b)]
        theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
        rg.nn.functional.linear(mine[0], mine[1], mine[2] if with_bias else None).pow(2).sum() \
            .backward()
        torch.nn.functional.linear(theirs[0], theirs[1], theirs[2] if with_bias else None) \
            .pow(2).sum().backward()
        for m, t in zip(mine, theirs):
            if t.grad is None:
                assert m.grad is None
            else:
                np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-12)
    w_only = rg.tensor(w, requires_grad=True)
    y = rg.nn.functional.linear(rg.tensor(x), w_only, rg.tensor(b))  # only w needs grad
    edges = y.grad_fn.next_functions
    assert [type(f).__name__ if f is not None else None for f, _ in edges] == \
        [None, "AccumulateGrad", None]
    w_only.data.mul_(1)  # .data: no version bump, so backward runs
    y.sum().backward()
    np.testing.assert_allclose(w_only.grad.numpy(), np.tile(x.sum(0), (3, 1)), rtol=1e-12)


def test_copyslices_gradients_match_pytorch():
    def run(L):
        a = L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        y = L.tensor([7.0, 8.0, 9.0], requires_grad=True)
        x = a.clone()
        x[0] = y
        x[:, 1] *= 2
        (x * x).sum().backward()
        return a.grad.numpy(), y.grad.numpy(), x.grad_fn.name()

    ra, ry, rname = run(rg)
    ta, ty, tname = run(torch)
    np.testing.assert_allclose(ra, ta)
    np.testing.assert_allclose(ry, ty)
    assert rname == tname == "torch::autograd::CopySlices"


def test_node_hooks():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    seen = {}

    def pre(grad_outputs):
        seen["pre"] = grad_outputs[0].tolist()
        return (grad_outputs[0] * 10,)

    def post(grad_inputs, grad_outputs):
        seen["post"] = (grad_inputs[0].tolist(), grad_outputs[0].tolist())

    h1 = y.grad_fn.register_prehook(pre)
    h2 = y.grad_fn.register_hook(post)
    y.sum().backward()
    assert seen["pre"] == [1.0, 1.0]
    assert seen["post"] == ([30.0, 30.0], [10.0, 10.0])
    assert x.grad.tolist() == [30.0, 30.0]
    h1.remove()
    h2.remove()


def test_post_accumulate_grad_hook():
    p = rg.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    handle = p.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.tolist()))
    (p * 2).sum().backward()
    (p * 2).sum().backward()
    assert calls == [[2.0, 2.0], [4.0, 4.0]]
    handle.remove()
    (p * 2).sum().backward()
    assert len(calls) == 2


def test_leaf_hook_can_replace_gradient_and_mark_dirty_function():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g * 0 + 7)
    (x * x).sum().backward()
    assert x.grad.tolist() == [7.0, 7.0]


def _cut_error(t) -> str:
    with pytest.raises(RuntimeError) as e:
        t.sum().backward()
    return str(e.value)


def test_cut_note_names_the_no_grad_op_and_its_line():
    x = rg.ones(3, requires_grad=True)
    with rg.no_grad():
        y = x * 2; line = inspect.currentframe().f_lineno  # noqa: E702
    msg = _cut_error(y)
    assert "does not require grad and does not have a grad_fn" in msg
    assert f"The graph was cut here: Mul (an op run under no_grad()) at {__file__}:{line}" in msg


def test_cut_note_survives_a_view_taken_under_no_grad():
    # A view op under no_grad both notes the cut and marks the view; neither may erase the
    # other (the view relation is still needed by in-place ops on the view).
    x = rg.ones(2, 3, requires_grad=True)
    with rg.no_grad():
        v = x.view(6); line = inspect.currentframe().f_lineno  # noqa: E702
    assert v._base is x
    msg = _cut_error(v)
    assert f"The graph was cut here: View (an op run under no_grad()) at {__file__}:{line}" \
        in msg


def test_cut_note_of_detach_and_of_integer_results_propagates():
    x = rg.ones(3, requires_grad=True)
    d = x.detach(); line = inspect.currentframe().f_lineno  # noqa: E702
    msg = _cut_error(d * 3)  # an op on the cut tensor carries the note on
    assert f"The graph was cut here: detach() at {__file__}:{line}" in msg
    assert "ToCopy (an integer-valued op)" in _cut_error(x.long().float())


def test_an_optimizer_step_is_named_as_the_in_place_change():
    """The optimizer finds the user's step() line once per step and records it for every
    parameter it changes."""
    import inspect

    import retrograd

    lin = retrograd.nn.Linear(3, 2)
    opt = retrograd.optim.SGD(lin.parameters(), lr=0.1, momentum=0.9)
    x = retrograd.ones(4, 3, requires_grad=True)
    lin(x).sum().backward()
    out = (lin.weight * 2.0).sum()  # saves the weight
    line = inspect.currentframe().f_lineno + 1
    opt.step()
    with pytest.raises(RuntimeError, match=rf"modified in place at .*:{line} \(in test_an_opt"):
        out.backward()
    for p in lin.parameters():
        assert p._vc[1][0].co_name == "test_an_optimizer_step_is_named_as_the_in_place_change"
