"""compile and jit: the same computation as the eager code, PyTorch's arguments and errors."""

import warnings

import numpy as np
import pytest
import torch

import retrograd
from retrograd import compiler, jit, nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.helper(self.drop(self.fc(x)))

    def helper(self, y):
        return y.relu() if self.training else y


def _net():
    retrograd.manual_seed(0)
    return Net()


def _same(a, b):
    return np.allclose(a.detach().numpy(), b.detach().numpy())


@pytest.mark.parametrize("form", ["call", "decorator", "decorator_args"])
def test_compile_function_forms(form):
    def f(x, k=2):
        return (x * k).sin()

    if form == "call":
        g = retrograd.compile(f)
    elif form == "decorator":
        @retrograd.compile
        def g(x, k=2):
            return (x * k).sin()
    else:
        @retrograd.compile(mode="max-autotune", fullgraph=True, dynamic=False)
        def g(x, k=2):
            return (x * k).sin()
    x = retrograd.linspace(-1, 1, 5, requires_grad=True)
    out = g(x, k=3)
    assert _same(out, f(x, k=3))
    out.sum().backward()
    assert _same(x.grad, (x * 3).cos() * 3)
    assert g.__name__ in ("f", "g") and g is not f and callable(g.__wrapped__)


def test_compile_module_wraps_and_shares():
    net = _net().eval()
    c = retrograd.compile(net, backend="eager")
    assert type(c).__name__ == "OptimizedModule" and c._orig_mod is net
    assert c.fc is net.fc and c.fc.weight is net.fc.weight
    assert list(c.state_dict()) == ["_orig_mod.fc.weight", "_orig_mod.fc.bias"]
    x = retrograd.randn(4, 3)
    assert _same(c(x), net(x))
    c.train()
    assert net.training  # train()/eval() reach the original, as in PyTorch
    calls = []
    net.register_forward_hook(lambda m, i, o: calls.append(1))
    c(x)
    assert calls == [1]


def test_compile_disable_and_errors_match_torch():
    def f(x):
        return x

    assert retrograd.compile(f, disable=True) is f
    # torch.compile's messages, recorded (asking torch here would import its compiler: slow).
    for kw, message in [
            (dict(mode="bad"), "Unrecognized mode=bad, should be one of: default, "),
            (dict(mode="max-autotune", options={}),
             "Either mode or options can be specified, but both can't be specified at the "
             "same time."),
            (dict(backend="nope"), "Invalid backend: 'nope', see "
                                   "`torch._dynamo.list_backends()` for available backends.")]:
        with pytest.raises(RuntimeError) as ours:
            retrograd.compile(f, **kw)
        assert str(ours.value).startswith(message), kw
    with pytest.raises(AssertionError, match="A callable function is expected"):
        retrograd.compile(3)
    assert isinstance(retrograd.compile(f, backend=lambda gm, example_inputs: gm), type(f))
    assert "inductor" in compiler.list_backends() and "eager" not in compiler.list_backends()
    assert "eager" in compiler.list_backends(exclude_tags=())


def test_compile_modes_plug_in():
    seen = []

    def counting(fn, spec):
        def run(*args, **kwargs):
            seen.append(spec.mode)
            return fn(*args, **kwargs)
        return run

    resets = []
    saved = compiler.MODES["reduce-overhead"]
    try:
        compiler.register_mode("reduce-overhead", counting, reset=lambda: resets.append(1))
        g = retrograd.compile(lambda x: x + 1, mode="reduce-overhead")
        assert g(retrograd.ones(1)).item() == 2.0 and seen == ["reduce-overhead"]
        m = retrograd.compile(nn.Identity(), mode="reduce-overhead")
        m(retrograd.ones(1))
        assert seen == ["reduce-overhead"] * 2
        retrograd.compiler.reset()
        assert resets == [1]
    finally:
        compiler.MODES["reduce-overhead"] = saved


def test_compiler_helpers():
    def f(x):
        return x

    assert compiler.disable(f) is f and compiler.disable(recursive=False)(f) is f
    assert not compiler.is_compiling() and not compiler.is_dynamo_compiling()


def test_script_module_shares_parameters_and_runs_forward():
    net = _net()
    with pytest.warns(DeprecationWarning, match="torch.jit.script` is deprecated"):
        s = jit.script(net)
    assert isinstance(s, jit.ScriptModule) and s.original_name == "Net"
    assert s.fc.weight is net.fc.weight and list(s.state_dict()) == list(net.state_dict())
    s.eval()
    assert net.training and not s.training  # as PyTorch: a separate module object
    x = retrograd.randn(4, 3)
    assert _same(s(x), net.eval()(x))
    assert jit.script(s) is s
    with pytest.raises(RuntimeError, match="no TorchScript archive to save"):
        s.save("/tmp/never.pt")
    with pytest.raises(RuntimeError, match="no TorchScript archive to load"):
        jit.load("/tmp/never.pt")
    with pytest.raises(RuntimeError, match="no TorchScript archive to save"):
        jit.save(s, "/tmp/never.pt")


def test_script_function_and_class():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)

        def f(x, y):
            return x * y + 1

        sf = jit.script(f)

        class Pair:
            pass

        assert jit.script(Pair) is Pair
        with pytest.raises(TypeError):
            jit.script(3)
    assert isinstance(sf, jit.ScriptFunction) and sf.name == "f"
    a, b = retrograd.ones(2, requires_grad=True), retrograd.full((2,), 3.0)
    sf(a, b).sum().backward()
    assert a.grad.tolist() == [3.0, 3.0]
    with pytest.raises(RuntimeError, match="no TorchScript archive"):
        sf.save("/tmp/never.pt")


def test_trace_runs_example_once_and_keeps_python_control_flow():
    calls = []

    def f(x):
        calls.append(1)
        return x.relu() if x.sum() > 0 else -x

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        tf = jit.trace(f, retrograd.ones(2))
        assert calls == [1]
        # PyTorch's trace would replay the relu branch; here the branch follows the input.
        assert tf(-retrograd.ones(2)).tolist() == [1.0, 1.0]
        with pytest.raises(RuntimeError, match="example_kwarg_inputs or example_inputs"):
            jit.trace(f)
        net = _net()
        tm = jit.trace(net, (retrograd.randn(2, 3),), check_trace=False, strict=False)
        assert isinstance(tm, jit.TopLevelTracedModule) and tm.fc.weight is net.fc.weight
        tk = jit.trace_module(net, {"helper": retrograd.ones(2)})
        assert isinstance(tk, jit.ScriptModule)
        with pytest.raises(RuntimeError):  # a bad example fails at trace time, as in PyTorch
            jit.trace(net, retrograd.ones(2, 5))


def test_jit_decorators_and_helpers():
    def f(x):
        return x

    assert jit.ignore(f) is f and jit.ignore(drop=True)(f) is f and jit.unused(f) is f
    assert jit.export(f) is f and jit.interface(Net) is Net
    assert not jit.is_scripting() and not jit.is_tracing()
    assert jit.is_scripting() == torch.jit.is_scripting()
    assert jit.annotate(list[int], []) == [] and jit.Final is torch.jit.Final
    assert jit.Attribute(3, int).value == 3
    fut = jit.fork(lambda a, b: a + b, 1, b=2)
    assert jit.wait(fut) == 3 and fut.done()
    net = _net()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        s = jit.script(net)
    with pytest.raises(RuntimeError, match="eval mode"):
        jit.freeze(s)
    assert jit.freeze(s.eval()) is s
    assert not jit.optimize_for_inference(net).training


@pytest.mark.parametrize("module", [jit, compiler], ids=lambda m: m.__name__)
def test_doctests(module):
    import doctest

    failures, tried = doctest.testmod(module)
    assert tried > 0 and failures == 0
