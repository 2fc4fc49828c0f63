"""retrograd.optim next to torch.optim: same parameters, same gradients, 20+ steps."""

import numpy as np
import pytest
import torch

import retrograd
import retrograd.optim as optim

STEPS = 25

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.01, maximize=True, eps=1e-6)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.5, amsgrad=True, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6, centered=True, momentum=0.5)),
    ("RMSprop", dict(lr=0.01, weight_decay=0.1, momentum=0.9, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.5,
                     weight_decay=0.1, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1, maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, momentum_decay=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
]

SHAPES = [(3, 4), (5,), ()]


def _grad(rng, x):
    """A gradient that depends on the parameter (a quadratic bowl) plus fixed noise."""
    return 0.5 * x + rng.standard_normal(x.shape)


def _run(lib, name, kw, dtype, steps=STEPS, groups=False, skip=None):
    """Params after ``steps`` updates, with gradients drawn from one fixed NumPy stream."""
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s) for s in SHAPES]
    npd = np.float64 if dtype == "float64" else np.float32
    params = [lib.tensor(a.astype(npd), requires_grad=True) for a in init]
    if groups:  # a second group with its own lr
        spec = [{"params": params[:2]}, {"params": params[2:], "lr": kw.get("lr", 1e-3) / 2}]
    else:
        spec = params
    opt = getattr(lib.optim, name)(spec, **kw)
    for step in range(steps):
        for i, p in enumerate(params):
            g = _grad(rng, p.detach().numpy().astype(np.float64)).astype(npd)
            if skip is not None and i == skip and step % 3 == 0:
                p.grad = None  # a parameter without a gradient is left alone
            else:
                p.grad = lib.tensor(g)
        opt.step()
    return [p.detach().numpy() for p in params], opt


@pytest.mark.parametrize(("name", "kw"), CASES, ids=[f"{n}-{i}" for i, (n, _) in
                                                     enumerate(CASES)])
def test_matches_torch_float64(name, kw):
    ours, _ = _run(retrograd, name, kw, "float64", groups=True, skip=1)
    theirs, _ = _run(torch, name, kw, "float64", groups=True, skip=1)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("name", "kw"), CASES, ids=[f"{n}-{i}" for i, (n, _) in
                                                     enumerate(CASES)])
def test_matches_torch_float32(name, kw):
    ours, _ = _run(retrograd, name, kw, "float32")
    theirs, _ = _run(torch, name, kw, "float32")
    for a, b in zip(ours, theirs):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _to_torch(obj):
    if isinstance(obj, retrograd.Tensor):
        return torch.from_numpy(obj.detach().numpy().copy())
    if isinstance(obj, dict):
        return {k: _to_torch(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_torch(v) for v in obj)
    return obj


def _to_numpy(obj):
    if isinstance(obj, (retrograd.Tensor, torch.Tensor)):
        return obj.detach().numpy()
    if isinstance(obj, dict):
        return {k: _to_numpy(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_numpy(v) for v in obj]
    return obj


def _assert_same(a, b):
    if isinstance(a, dict):
        assert sorted(a, key=str) == sorted(b, key=str)
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == np.asarray(b).dtype
        np.testing.assert_allclose(a, b, rtol=1e-10)
    else:
        assert a == b


@pytest.mark.parametrize(("name", "kw"), CASES[::3], ids=[n for n, _ in CASES[::3]])
def test_state_dict_matches_torch_format(name, kw):
    _, ours = _run(retrograd, name, kw, "float64", steps=3, groups=True, skip=1)
    _, theirs = _run(torch, name, kw, "float64", steps=3, groups=True, skip=1)
    a, b = _to_numpy(ours.state_dict()), _to_numpy(theirs.state_dict())
    assert list(a["state"]) == list(b["state"])
    _assert_same(a, b)


@pytest.mark.parametrize(("name", "kw"), CASES[1::3], ids=[n for n, _ in CASES[1::3]])
def test_state_dict_round_trip_and_torch_interchange(name, kw):
    # 10 steps, then continue from a state dict: in a fresh retrograd optimizer, and in a
    # torch optimizer loading the retrograd state dict; both must follow the uninterrupted run.
    full, _ = _run(torch, name, kw, "float64", steps=20)
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s) for s in SHAPES]
    params = [retrograd.tensor(a, requires_grad=True) for a in init]
    opt = getattr(optim, name)(params, **kw)
    for _ in range(10):
        for p in params:
            p.grad = retrograd.tensor(_grad(rng, p.detach().numpy()))
        opt.step()
    sd = opt.state_dict()
    rng_state = rng.bit_generator.state

    params2 = [retrograd.tensor(p.detach().numpy().copy(), requires_grad=True) for p in params]
    opt2 = getattr(optim, name)(params2, lr=123.0)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == kw.get("lr", opt.defaults["lr"])
    tparams = [torch.tensor(p.detach().numpy().copy(), requires_grad=True) for p in params]
    topt = getattr(torch.optim, name)(tparams, lr=123.0)
    topt.load_state_dict(_to_torch(sd))
    for ps, o in ((params2, opt2), (tparams, topt)):
        rng.bit_generator.state = rng_state
        for _ in range(10):
            for p in ps:
                g = _grad(rng, p.detach().numpy())
                p.grad = retrograd.tensor(g) if o is opt2 else torch.tensor(g)
            o.step()
        for a, b in zip(ps, full):
            np.testing.assert_allclose(a.detach().numpy(), b, rtol=1e-10)
    # The loaded state is a copy: stepping the new optimizer left the old one's alone.
    for k, v in opt.state[params[0]].items():
        if isinstance(v, retrograd.Tensor):
            assert v._data is not opt2.state[params2[0]][k]._data


def test_optimizer_base_behaviour():
    a = retrograd.ones(2, requires_grad=True)
    b = retrograd.ones(3, requires_grad=True)
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert opt.param_groups[1]["momentum"] == 0.9
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(a, lr=0.1)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        optim.Adam([a], lr=-1)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1"):
        optim.Adam([a], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Nesterov momentum requires"):
        optim.SGD([a], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([a * 2], lr=0.1)
    with pytest.raises(TypeError, match="organized in ordered collections"):
        optim.SGD([{"params": {a}}], lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([a], lr=0.1).load_state_dict(opt.state_dict())

    (a.sum() * 2).backward()
    assert a.grad is not None
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(a.grad.numpy(), [0, 0])
    opt.zero_grad()
    assert a.grad is None


def test_step_closure_hooks_and_version_counter():
    w = retrograd.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append("pre"))
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append("post"))

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        calls.append("closure")
        return loss

    loss = opt.step(closure)
    assert float(loss) == 5.0
    assert calls == ["pre", "closure", "post"]
    h1.remove()
    opt.step(closure)
    assert calls[3:] == ["closure", "post"]

    # The update bumps the version counter: a graph that saved w refuses to backward.
    v0 = w._version
    y = (w * w).sum()
    opt.step()
    assert w._version == v0 + 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_repr_and_named_params():
    a = retrograd.ones(2, requires_grad=True)
    opt = optim.SGD([("weight", a)], lr=0.5)
    assert opt.param_groups[0]["param_names"] == ["weight"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight"]
    text = repr(opt)
    assert text.startswith("SGD (\nParameter Group 0\n") and "    lr: 0.5" in text


def _rosenbrock(lib, x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("history_size", [3, 100])
def test_lbfgs_rosenbrock_matches_torch(line_search_fn, history_size):
    trajectories = []
    for lib in (retrograd, torch):
        x = lib.tensor([-1.5, 2.0], dtype=lib.float64, requires_grad=True)
        lr = 1 if line_search_fn else 0.1
        opt = lib.optim.LBFGS([x], lr=lr, max_iter=20, history_size=history_size,
                              line_search_fn=line_search_fn)
        evals = []

        def closure(lib=lib, x=x, opt=opt, evals=evals):
            opt.zero_grad()
            loss = _rosenbrock(lib, x)
            loss.backward()
            evals.append(float(loss.detach()))
            return loss

        path = []
        for _ in range(5):
            opt.step(closure)
            path.append(x.detach().numpy().copy())
        state = opt.state[x]
        trajectories.append((np.array(path), evals, state["n_iter"], state["func_evals"]))
    (p1, e1, n1, f1), (p2, e2, n2, f2) = trajectories
    assert (n1, f1) == (n2, f2)
    # torch's add_(alpha=t) fuses the multiply-add (FMA); NumPy rounds twice. The 1-ulp
    # differences grow along Rosenbrock's valley, so later evaluations agree less tightly.
    np.testing.assert_allclose(e1[:8], e2[:8], rtol=1e-12)
    np.testing.assert_allclose(e1, e2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p1, p2, rtol=1e-5, atol=1e-6)
    if line_search_fn:
        np.testing.assert_allclose(p1[-1], [1.0, 1.0], atol=1e-4)


def test_lbfgs_float32_and_errors():
    for lib in (retrograd, torch):
        w = lib.tensor([-1.2, 1.0], requires_grad=True)
        opt = lib.optim.LBFGS([w], line_search_fn="strong_wolfe", max_iter=50)

        def closure(lib=lib, w=w, opt=opt):
            opt.zero_grad()
            loss = _rosenbrock(lib, w)
            loss.backward()
            return loss

        opt.step(closure)
        assert w.dtype == lib.float32
        np.testing.assert_allclose(w.detach().numpy(), [1.0, 1.0], atol=1e-3)
    x = retrograd.ones(2, requires_grad=True)
    y = retrograd.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="per-parameter options"):
        optim.LBFGS([{"params": [x]}, {"params": [y]}])
    opt = optim.LBFGS([y], line_search_fn="armijo")
    y.grad = retrograd.ones(2)
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(lambda: (y * y).sum())


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta",
                                  "Adamax", "NAdam", "RAdam"])
def test_tensor_lr_with_scheduler_matches_torch(name):
    # A tensor lr is kept in its dtype (float32) in the update arithmetic, as in PyTorch.
    out = []
    for lib in (retrograd, torch):
        w = lib.ones(3, dtype=lib.float64, requires_grad=True)
        kw = dict(momentum=0.9) if name == "SGD" else {}
        opt = getattr(lib.optim, name)([w], lr=lib.tensor(0.05), weight_decay=0.1, **kw)
        sched = lib.optim.lr_scheduler.ExponentialLR(opt, 0.9)
        for i in range(20):
            w.grad = w.detach() * 2 + i
            opt.step()
            sched.step()
        assert isinstance(opt.param_groups[0]["lr"], lib.Tensor)
        out.append(w.detach().numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-14)


@pytest.mark.parametrize(("name", "kw"), CASES[::2], ids=[n for n, _ in CASES[::2]])
def test_complex_parameters_match_torch(name, kw):
    # Complex parameters are updated through real views of (re, im) pairs, as in PyTorch.
    out, states = [], []
    for lib in (retrograd, torch):
        rng = np.random.default_rng(1)
        inits = [rng.standard_normal(s) + 1j * rng.standard_normal(s) for s in [(2, 3), ()]]
        params = [lib.tensor(a, requires_grad=True) for a in inits]
        opt = getattr(lib.optim, name)(params, **kw)
        for _ in range(20):
            for p in params:
                x = p.detach().numpy()
                g = 0.5 * x + rng.standard_normal(x.shape) + 1j * rng.standard_normal(x.shape)
                p.grad = lib.tensor(g)
            opt.step()
        out.append([p.detach().numpy() for p in params])
        states.append(_to_numpy(opt.state_dict()))
    for a, b in zip(*out):
        assert a.dtype == np.complex128
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    _assert_same(states[0], states[1])


def test_lbfgs_complex_parameter_matches_torch():
    out = []
    for lib in (retrograd, torch):
        z = lib.tensor([1.0 + 2.0j, -0.5 + 0.3j], requires_grad=True)
        target = lib.tensor([0.2 - 1.0j, 1.5 + 0.5j])
        opt = lib.optim.LBFGS([z], line_search_fn="strong_wolfe", max_iter=10)

        def closure(lib=lib, z=z, target=target, opt=opt):
            opt.zero_grad()
            d = (z - target) * lib.tensor([1.0, 2.0])
            loss = (d.abs() ** 2).sum()
            loss.backward()
            return loss

        opt.step(closure)
        out.append(z.detach().numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-6)
    np.testing.assert_allclose(out[0], [0.2 - 1.0j, 1.5 + 0.5j], atol=1e-5)


def _to_retrograd(obj):
    if isinstance(obj, torch.Tensor):
        return retrograd.tensor(obj.detach().numpy().copy())
    if isinstance(obj, dict):
        return {k: _to_retrograd(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_retrograd(v) for v in obj)
    return obj


@pytest.mark.parametrize(("name", "kw"), CASES[2::4], ids=[n for n, _ in CASES[2::4]])
def test_torch_state_dict_loads_into_retrograd(name, kw):
    # torch runs 10 steps; retrograd loads its state dict and runs the next 10.
    full, _ = _run(torch, name, kw, "float64", steps=20)
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s) for s in SHAPES]
    tparams = [torch.tensor(a, requires_grad=True) for a in init]
    topt = getattr(torch.optim, name)(tparams, **kw)
    for _ in range(10):
        for p in tparams:
            p.grad = torch.tensor(_grad(rng, p.detach().numpy()))
        topt.step()
    params = [retrograd.tensor(p.detach().numpy().copy(), requires_grad=True) for p in tparams]
    opt = getattr(optim, name)(params, lr=9.0)
    opt.load_state_dict(_to_retrograd(topt.state_dict()))
    for _ in range(10):
        for p in params:
            p.grad = retrograd.tensor(_grad(rng, p.detach().numpy()))
        opt.step()
    for a, b in zip(params, full):
        np.testing.assert_allclose(a.detach().numpy(), b, rtol=1e-10)


def test_step_of_an_optimizer_with_tensor_updates_runs_under_no_grad():
    # Optimizers whose _update computes on arrays (SGD) skip step's no_grad block; one
    # that does not say so keeps it, so Tensor ops in its update record nothing.
    seen = []

    class Halving(retrograd.optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, {"lr": 0.5})

        @staticmethod
        def _update(p, grad, state, group):
            seen.append(retrograd.is_grad_enabled())
            state["last"] = retrograd.tensor(grad) * p  # a Tensor op: must not record
            p._data -= group["lr"] * grad

    p = retrograd.nn.Parameter(retrograd.ones(3))
    (p * 2).sum().backward()
    opt = Halving([p])
    opt.step()
    assert seen == [False] and retrograd.is_grad_enabled()
    assert opt.state[p]["last"].grad_fn is None
    np.testing.assert_allclose(p.detach().numpy(), 0.0)
    assert not retrograd.optim.Optimizer._updates_arrays and retrograd.optim.SGD._updates_arrays


def test_a_subclass_of_sgd_with_its_own_update_keeps_no_grad():
    seen = []

    class Tracing(retrograd.optim.SGD):
        @staticmethod
        def _update(p, grad, state, group):
            seen.append(retrograd.is_grad_enabled())
            retrograd.optim.SGD._update(p, grad, state, group)

    p = retrograd.nn.Parameter(retrograd.ones(3))
    (p * 2).sum().backward()
    Tracing([p], lr=0.5).step()
    assert seen == [False] and not Tracing._updates_arrays
    np.testing.assert_allclose(p.detach().numpy(), 0.0)
