"""The classic autograd tutorial runs unchanged and prints what PyTorch prints."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "examples", "tutorial.py")


def _run(source: str) -> list[str]:
    env = dict(os.environ, PYTHONPATH=os.path.join(HERE, "..", "src"))
    out = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True,
                         env=env, check=True)
    return out.stdout


def test_tutorial_prints_what_pytorch_prints():
    with open(EXAMPLE) as f:
        source = f.read()
    ours = _run(source)
    theirs = _run(source.replace("import retrograd as torch", "import torch")
                  .replace("from retrograd.autograd", "from torch.autograd"))
    addr = re.compile(r"0x[0-9a-f]+")
    ours_lines = addr.sub("0x?", ours).splitlines()
    theirs_lines = addr.sub("0x?", theirs).splitlines()
    # The deterministic first part is identical, line for line.
    expected_head = [
        "tensor([[1., 1.],",
        "        [1., 1.]], requires_grad=True)",
        "tensor([[3., 3.],",
        "        [3., 3.]], grad_fn=<AddBackward0>)",
        "<AddBackward0 object at 0x?>",
        "tensor([[27., 27.],",
        "        [27., 27.]], grad_fn=<MulBackward0>) tensor(27., grad_fn=<MeanBackward0>)",
        "tensor([[4.5000, 4.5000],",
        "        [4.5000, 4.5000]])",
    ]
    assert ours_lines[:9] == expected_head
    assert theirs_lines[:9] == expected_head
    # The random part has the same shape of output: y with grad_fn, then x.grad.
    assert ours_lines[9].endswith("grad_fn=<MulBackward0>)")
    assert ours_lines[10].startswith("tensor([")


def test_tutorial_gradient_is_power_of_two_times_weights():
    import retrograd as torch
    from retrograd.autograd import Variable

    torch.manual_seed(3)
    x = Variable(torch.randn(3), requires_grad=True)
    y = x * 2
    k = 1
    while y.data.norm() < 1000:
        y = y * 2
        k += 1
    weights = torch.FloatTensor([0.1, 1.0, 0.0001])
    y.backward(weights)
    np.testing.assert_allclose(x.grad.numpy(), 2.0**k * np.array([0.1, 1.0, 0.0001],
                                                                 dtype=np.float32), rtol=1e-6)
    assert x.grad.dtype == torch.float32


def test_first_part_values():
    import retrograd as torch
    from retrograd.autograd import Variable

    x = Variable(torch.ones(2, 2), requires_grad=True)
    y = x + 2
    assert y.grad_fn.name() == "AddBackward0"
    assert x.grad_fn is None and x.is_leaf and not y.is_leaf
    z = y * y * 3
    out = z.mean()
    assert out.item() == 27.0
    out.backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 2), 4.5, np.float32))
    assert repr(x.grad) == "tensor([[4.5000, 4.5000],\n        [4.5000, 4.5000]])"
