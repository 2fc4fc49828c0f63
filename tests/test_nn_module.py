"""nn.Parameter, nn.Module and the containers, compared with torch where they print or fail."""

from __future__ import annotations

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch
from helpers import both
from nn_common import close, copy_weights, needs, to_np

import retrograd as R

nn = R.nn


def _err(fn):
    with pytest.raises(Exception) as info:
        fn()
    return type(info.value), str(info.value)


# ----------------------------------------------------------------- Parameter
def test_parameter_repr_type_and_ops():
    p = nn.Parameter(R.tensor([1.0, 2.0]))
    tp = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    assert repr(p) == repr(tp)
    assert isinstance(p, R.Tensor) and p.requires_grad and p.is_leaf
    assert type(p * 2) is R.Tensor
    assert type(p.detach()) is R.Tensor
    q = nn.Parameter(R.zeros(2), requires_grad=False)
    assert repr(q) == repr(torch.nn.Parameter(torch.zeros(2), requires_grad=False))


def test_parameter_shares_memory_and_copies():
    t = R.zeros(3)
    p = nn.Parameter(t)
    with R.no_grad():
        p[0] = 5.0
    assert t[0].item() == 5.0
    d = copy.deepcopy(p)
    assert type(d) is nn.Parameter and d.requires_grad
    with R.no_grad():
        d[1] = 7.0
    assert p[1].item() == 0.0
    u = pickle.loads(pickle.dumps(p))
    assert type(u) is nn.Parameter and u.tolist() == p.tolist()


def test_parameter_errors():
    with pytest.raises(TypeError):
        nn.Parameter([1.0])
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(R.tensor([1, 2]))


# ----------------------------------------------------------------- Module
def _net(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = lib.nn.Linear(4, 3)
            self.register_buffer("steps", lib.zeros(1))
            self.register_buffer("scratch", lib.ones(2), persistent=False)
            self.block = lib.nn.Sequential(lib.nn.Linear(3, 3, bias=False), lib.nn.Linear(3, 2))
            self.scale = lib.nn.Parameter(lib.ones(1))

        def forward(self, x):
            return self.block(self.fc1(x)) * self.scale

    return Net()


def test_module_structure_matches_torch():
    ours, theirs = both(_net)
    assert repr(ours) == repr(theirs)
    for fn in ("named_parameters", "named_buffers", "named_children", "named_modules"):
        assert [k for k, _ in getattr(ours, fn)()] == [k for k, _ in getattr(theirs, fn)()], fn
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [k for k, _ in ours.named_parameters(prefix="m", recurse=False)] == \
        [k for k, _ in theirs.named_parameters(prefix="m", recurse=False)]
    assert sorted(set(dir(ours)) & {"fc1", "block", "steps", "scale", "forward"}) == \
        ["block", "fc1", "forward", "scale", "steps"]


def test_forward_backward_matches_torch():
    ours, theirs = both(_net)
    copy_weights(ours, theirs)
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    ro, to = ours(R.tensor(x)), theirs(torch.tensor(x))
    close(ro, to)
    ro.sum().backward()
    to.sum().backward()
    for p, q in zip(ours.parameters(), theirs.parameters()):
        close(p.grad, q.grad)


def test_shared_modules_and_remove_duplicate():
    def build(lib):
        lin = lib.nn.Linear(2, 2)
        return lib.nn.Sequential(lin, lib.nn.ReLU(), lin)

    ours, theirs = both(build)
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    assert [k for k, _ in ours.named_parameters(remove_duplicate=False)] == \
        [k for k, _ in theirs.named_parameters(remove_duplicate=False)]
    assert [k for k, _ in ours.named_modules(remove_duplicate=False)] == \
        [k for k, _ in theirs.named_modules(remove_duplicate=False)]
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_attribute_routing_and_delattr():
    m = nn.Module()
    m.w = nn.Parameter(R.ones(2))
    m.sub = nn.Linear(1, 1)
    m.register_buffer("b", R.zeros(1))
    assert list(m._parameters) == ["w"] and list(m._modules) == ["sub"]
    assert list(m._buffers) == ["b"]
    m.b = R.ones(1)  # reassigning a buffer keeps it a buffer
    assert m._buffers["b"].tolist() == [1.0]
    m.w = None
    assert m._parameters["w"] is None and [k for k, _ in m.named_parameters()] == \
        ["sub.weight", "sub.bias"]
    del m.sub
    assert "sub" not in m._modules
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'sub'"):
        _ = m.sub
    m.plain = 3
    assert m.__dict__["plain"] == 3


@pytest.mark.parametrize("case", ["tensor_as_param", "int_as_module", "param_before_init",
                                  "bad_buffer_name", "buffer_exists", "non_tensor_buffer"])
def test_assignment_errors_match_torch(case):
    def run(lib):
        m = lib.nn.Linear(1, 1)
        if case == "tensor_as_param":
            m.weight = lib.ones(1, 1)
        elif case == "int_as_module":
            s = lib.nn.Sequential(lib.nn.ReLU())
            setattr(s, "0", 5)
        elif case == "param_before_init":
            class Bad(lib.nn.Module):
                def __init__(self):
                    self.p = lib.nn.Parameter(lib.ones(1))

            Bad()
        elif case == "bad_buffer_name":
            m.register_buffer("a.b", lib.ones(1))
        elif case == "buffer_exists":
            m.register_buffer("weight", lib.ones(1))
        elif case == "non_tensor_buffer":
            m.register_buffer("x", 5)

    ours, theirs = _err(lambda: run(R)), _err(lambda: run(torch))
    assert ours[0] is theirs[0]
    assert ours[1] == theirs[1], (ours, theirs)


def test_state_dict_roundtrip_and_errors():
    ours, theirs = both(lambda lib: lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.BatchNorm1d(2)))
    sd = ours.state_dict()
    assert list(sd) == list(theirs.state_dict())
    assert not sd["0.weight"].requires_grad and type(sd["0.weight"]) is R.Tensor
    assert repr(ours.load_state_dict(sd)) == repr(theirs.load_state_dict(theirs.state_dict()))

    def broken(lib, m):
        d = OrderedDict(m.state_dict())
        del d["0.bias"]
        d["extra"] = lib.zeros(1)
        d["0.weight"] = lib.zeros(5, 5)
        return d

    ours_err = _err(lambda: ours.load_state_dict(broken(R, ours)))
    theirs_err = _err(lambda: theirs.load_state_dict(broken(torch, theirs)))
    assert ours_err == theirs_err
    d = OrderedDict(ours.state_dict())
    del d["0.bias"]
    d["extra"] = R.zeros(1)
    td = OrderedDict(theirs.state_dict())
    del td["0.bias"]
    td["extra"] = torch.zeros(1)
    res, tres = ours.load_state_dict(d, strict=False), theirs.load_state_dict(td, strict=False)
    assert (res.missing_keys, res.unexpected_keys) == (tres.missing_keys, tres.unexpected_keys)


def test_load_state_dict_copies_values_in_place():
    m = nn.Linear(2, 2)
    w = m.weight
    m.load_state_dict({"weight": R.ones(2, 2), "bias": R.zeros(2)})
    assert m.weight is w and m.weight.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    m.load_state_dict({"weight": R.zeros(2, 2), "bias": R.zeros(2)}, assign=True)
    assert m.weight is not w and isinstance(m.weight, nn.Parameter)


def test_train_eval_apply_requires_grad_zero_grad():
    m = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    assert m.training and m[1].training
    m.eval()
    assert not m.training and not m[1].training
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "Dropout", "Sequential"]
    m(R.ones(1, 2)).sum().backward()
    assert m[0].weight.grad is not None
    m.zero_grad(set_to_none=False)
    assert m[0].weight.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    m.zero_grad()
    assert m[0].weight.grad is None
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    with pytest.raises(ValueError, match="boolean"):
        m.train("yes")


def test_to_double_keeps_parameter_objects_and_int_buffers():
    m = nn.BatchNorm1d(3)
    w = m.weight
    m.double()
    assert m.weight is w and m.weight.dtype == R.float64
    assert m.running_mean.dtype == R.float64 and m.num_batches_tracked.dtype == R.int64
    m.to(R.float32)
    assert m.weight.dtype == R.float32
    m.half()
    assert m.weight.dtype == R.float16
    m.float()
    assert m.weight.dtype == R.float32 and m.cpu() is m
    with pytest.raises(TypeError, match="floating point or complex"):
        m.to(R.int32)


def test_get_submodule_parameter_buffer():
    m = _net(R)
    assert m.get_submodule("block.1") is m.block[1]
    assert m.get_parameter("block.1.bias") is m.block[1].bias
    assert m.get_buffer("steps") is m.steps
    t = _net(torch)
    assert _err(lambda: m.get_submodule("block.9")) == _err(lambda: t.get_submodule("block.9"))
    assert _err(lambda: m.get_parameter("steps")) == _err(lambda: t.get_parameter("steps"))


def test_forward_hooks_match_torch():
    def run(lib):
        m = lib.nn.Linear(2, 2)
        with lib.no_grad():
            m.weight.fill_(1.0)
            m.bias.fill_(0.0)
        log = []
        h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
        m.register_forward_pre_hook(lambda mod, args, kwargs: log.append(("kw", kwargs)) or
                                    None, with_kwargs=True)
        m.register_forward_hook(lambda mod, args, out: out + 1)
        m.register_forward_hook(lambda mod, args, out: log.append("first"), prepend=True)
        out1 = m(lib.ones(1, 2)).tolist()
        h1.remove()
        out2 = m(lib.ones(1, 2)).tolist()
        return out1, out2, log

    assert run(R) == run(torch)


def test_full_backward_hooks_match_torch():
    def run(lib):
        m = lib.nn.Linear(3, 2)
        with lib.no_grad():
            m.weight.copy_(lib.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]]))
        seen = {}

        def pre(mod, grad_output):
            seen["pre"] = [g.tolist() for g in grad_output]
            return (grad_output[0] * 2,)

        def post(mod, grad_input, grad_output):
            seen["gi"] = [g.tolist() for g in grad_input]
            seen["go"] = [g.tolist() for g in grad_output]
            return (grad_input[0] + 1,)

        m.register_full_backward_pre_hook(pre)
        m.register_full_backward_hook(post)
        x = lib.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
        (m(x) * lib.tensor([[1.0, -1.0]])).sum().backward()
        return seen, x.grad.tolist(), m.weight.grad.tolist()

    ours, theirs = run(R), run(torch)
    assert ours[0] == theirs[0]
    np.testing.assert_allclose(ours[1], theirs[1])
    np.testing.assert_allclose(ours[2], theirs[2])


# ----------------------------------------------------------------- containers
def test_sequential_indexing_and_editing():
    def run(lib):
        s = lib.nn.Sequential(lib.nn.Linear(1, 2), lib.nn.ReLU(), lib.nn.Linear(2, 3))
        out = [repr(s[0]), repr(s[-1]), repr(s[1:]), len(s)]
        s.append(lib.nn.Tanh())
        s.insert(1, lib.nn.Sigmoid())
        s.extend([lib.nn.Identity()])
        del s[0]
        out += [repr(s), len(s)]
        s2 = lib.nn.Sequential(OrderedDict([("a", lib.nn.ReLU()), ("b", lib.nn.Tanh())]))
        out += [repr(s2), repr(s2[1]), repr(s2 + s2)]
        return out

    assert run(R) == run(torch)
    with pytest.raises(IndexError, match="index 5 is out of range"):
        nn.Sequential(nn.ReLU())[5]


def test_module_list_and_dict():
    def run(lib):
        ml = lib.nn.ModuleList([lib.nn.Linear(2, 2) for _ in range(3)])
        ml.append(lib.nn.ReLU())
        ml.insert(0, lib.nn.Tanh())
        ml.extend([lib.nn.ReLU(), lib.nn.ReLU()])
        out = [repr(ml), len(ml), repr(ml[1:3]), [k for k, _ in ml.named_parameters()]]
        md = lib.nn.ModuleDict({"b": lib.nn.ReLU(), "a": lib.nn.Linear(1, 1)})
        md["c"] = lib.nn.Tanh()
        out += [repr(md), list(md.keys()), "a" in md, repr(md.pop("b")), len(md)]
        return out

    assert run(R) == run(torch)


def test_parameter_list_and_dict():
    def run(lib):
        pl = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2, 3)), lib.zeros(4)])
        pl.append(lib.ones(1))
        pd = lib.nn.ParameterDict({"x": lib.nn.Parameter(lib.ones(2)), "y": lib.zeros(3, 1)})
        pd["z"] = lib.ones(1)
        return [repr(pl), len(pl), [k for k, _ in pl.named_parameters()], repr(pd),
                [k for k, _ in pd.named_parameters()], list(pd.keys()),
                type(pl[1]).__name__, type(pd["y"]).__name__]

    assert run(R) == run(torch)


def test_incompatible_keys_repr():
    m = nn.Linear(1, 1)
    assert repr(m.load_state_dict(m.state_dict())) == "<All keys matched successfully>"


@needs("conv2d", "max_pool2d", "relu")
def test_lenet_program_runs_unchanged():
    source = '''
class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)
'''

    def build(lib):
        env = {"torch": lib, "nn": lib.nn, "F": lib.nn.functional}
        exec(source, env)
        return env["LeNet"]()

    ours, theirs = both(build)
    assert repr(ours) == repr(theirs)
    copy_weights(ours, theirs)
    x = np.random.default_rng(0).standard_normal((2, 1, 32, 32)).astype(np.float32)
    ro, to = ours(R.tensor(x)), theirs(torch.tensor(x))
    close(ro, to)
    target = np.array([3, 7])
    if hasattr(R.nn.functional, "cross_entropy"):
        R.nn.functional.cross_entropy(ro, R.tensor(target)).backward()
        torch.nn.functional.cross_entropy(to, torch.tensor(target)).backward()
    else:
        (ro * ro).sum().backward()
        (to * to).sum().backward()
    for (k, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(to_np(p.grad), to_np(q.grad), atol=1e-5, rtol=1e-4,
                                   err_msg=k)


def test_buffer_marker_and_init_errors_match_torch():
    def run(lib):
        class M(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.a = lib.nn.Buffer(lib.ones(2))
                self.b = lib.nn.Buffer(lib.zeros(1), persistent=False)

        m = M()
        return type(m.a).__name__, list(m.state_dict()), [k for k, _ in m.named_buffers()]

    assert run(R) == run(torch)
    assert _err(lambda: nn.Module(foo=1)) == _err(lambda: torch.nn.Module(foo=1))
    assert _err(lambda: nn.Linear(2, 2)(R.ones(2, 3)))[0] is RuntimeError
    with pytest.raises(NotImplementedError, match=r'Module \[Module\] is missing the required '
                                                  r'"forward" function'):
        nn.Module()(R.ones(1))


def test_global_module_hooks_match_torch():
    def run(lib):
        from importlib import import_module

        mm = import_module(lib.__name__ + ".nn.modules.module")
        log = []
        handles = [
            mm.register_module_forward_pre_hook(lambda m, a: log.append(("pre", type(m).__name__))),
            mm.register_module_forward_hook(lambda m, a, o: log.append(("post", type(m).__name__))),
            mm.register_module_full_backward_hook(
                lambda m, gi, go: log.append(("bw", type(m).__name__))),
        ]
        try:
            net = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Tanh())
            net(lib.ones(1, 2, requires_grad=True)).sum().backward()
        finally:
            for h in handles:
                h.remove()
        net(lib.ones(1, 2))
        return log

    assert run(R) == run(torch)
