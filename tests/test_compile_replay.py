"""``compile(mode="reduce-overhead")``: capture once, check against eager, replay.

Every op-table row runs inside a small step (forward, backward into the inputs' .grad)
captured and replayed on new inputs, and must give eager's outputs and gradients bit for
bit. Whole training loops (MLP with SGD + momentum and a scheduler, Adam, the digits conv
net, an LSTM, dropout and BatchNorm) give identical curves compiled and eager. Every guard
and every fallback has a test.
"""

from __future__ import annotations

import logging
import threading
import warnings

import numpy as np
import pytest
from optable import make_inputs, to_tensors
from test_optable import tables

import retrograd as torch
from retrograd import nn
from retrograd.compiler import config, explain
from retrograd.utils._nest import tensors_in


def _bits(t):
    a = np.asarray(t._data)
    return (a.shape, a.dtype.str, a.tobytes())


def _same(a, b) -> bool:
    ta, tb = tensors_in(a), tensors_in(b)
    return len(ta) == len(tb) and all(_bits(x) == _bits(y) for x, y in zip(ta, tb))


def _capture(fn):
    return fn._retrograd_capture


def _status(fn) -> list:
    return [e.status for e in _capture(fn).entries.values()]


# ---------------------------------------------------------------------- every row

def _step_for(case):
    def step(*ts):
        outs = tensors_in(case.fn(torch, *ts))
        loss = None
        for o in outs:
            if o.requires_grad:
                part = o.real.sum() if o.is_complex() else o.sum()
                loss = part if loss is None else loss + part
        if loss is not None:
            loss.backward()
        return outs, [t.grad for t in ts if isinstance(t, torch.Tensor) and t.requires_grad]
    return step


#: Rows whose step stays eager, and why (each still matches eager: the check refuses it).
EAGER = {
    "ops_pointwise::floor_divide": "no derivative (the step itself raises in backward)",
    "special_more::zeta_number_other": "no derivative (the step itself raises in backward)",
    "linalg_more::geqrf": "no derivative (the step itself raises in backward)",
}


def _rows():
    out = []
    for family, cases in tables().items():
        for case in cases:
            out.append(pytest.param(case, id=f"{family}::{case.name}"))
    return out


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("case", _rows())
def test_row_replays_bit_for_bit(case, request):
    name = request.node.callspec.id
    eager, compiled = _step_for(case), torch.compile(_step_for(case), mode="reduce-overhead")
    for seed in range(4):  # capture, check, then two replays; new values every call
        arrays = make_inputs(case, case.shapes[0], seed)
        torch.manual_seed(seed)
        try:
            want = eager(*to_tensors(torch, arrays, case))
        except (RuntimeError, NotImplementedError):
            assert name in EAGER
            return
        torch.manual_seed(seed)
        got = compiled(*to_tensors(torch, arrays, case))
        assert _same(got, want), f"call {seed}"
    if name in EAGER:
        assert _capture(compiled).eager_reason is not None
    else:
        assert _status(compiled) == ["replay"], explain(compiled)
        assert next(iter(_capture(compiled).entries.values())).replays == 2


# ---------------------------------------------------------------------- training loops

def _train_step(model, opt, loss_fn):
    """One training step: zero_grad, forward, backward, optimizer step; returns the loss."""

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def _curves(make, steps=6, compile_step=True, schedule=False):
    """Losses and final parameters of ``steps`` training steps."""
    torch.manual_seed(0)
    model, opt, batches, loss_fn = make()
    sched = torch.optim.lr_scheduler.StepLR(opt, 2, 0.5) if schedule else None
    step = _train_step(model, opt, loss_fn)
    run = torch.compile(step, mode="reduce-overhead") if compile_step else step
    losses = []
    for k in range(steps):
        x, y = batches[k % len(batches)]
        losses.append(run(x, y).item())
        if sched is not None:
            sched.step()
    return losses, [p.detach().clone() for p in model.parameters()], run


def _batches(shape, classes, n=3, seed=1):
    g = np.random.default_rng(seed)
    return [(torch.tensor(g.standard_normal(shape).astype(np.float32)),
             torch.tensor(g.integers(0, classes, shape[0]))) for _ in range(n)]


def _mlp_sgd():
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    return (model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
            _batches((5, 8), 4), nn.CrossEntropyLoss())


def _mlp_adam():
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Dropout(0.2), nn.Linear(16, 4))
    return (model, torch.optim.Adam(model.parameters(), lr=1e-2), _batches((5, 8), 4),
            nn.CrossEntropyLoss())


def _bn_adamw():
    model = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 4))
    return (model, torch.optim.AdamW(model.parameters(), lr=1e-2), _batches((6, 8), 4),
            nn.CrossEntropyLoss())


def _digits_conv():
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(4 * 4 * 4, 10))
    return (model, torch.optim.SGD(model.parameters(), lr=0.05), _batches((4, 1, 8, 8), 10),
            nn.CrossEntropyLoss())


class _LSTMHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 6, batch_first=True)
        self.head = nn.Linear(6, 2)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def _lstm():
    model = _LSTMHead()
    g = np.random.default_rng(2)
    batches = [(torch.tensor(g.standard_normal((4, 5, 3)).astype(np.float32)),
                torch.tensor(g.standard_normal((4, 2)).astype(np.float32))) for _ in range(2)]
    return model, torch.optim.RMSprop(model.parameters(), lr=1e-2), batches, nn.MSELoss()


@pytest.mark.parametrize("make,schedule", [(_mlp_sgd, True), (_mlp_adam, False),
                                           (_bn_adamw, True), (_digits_conv, False),
                                           (_lstm, False)],
                         ids=["mlp-sgd-steplr", "mlp-adam-dropout", "batchnorm-adamw",
                              "digits-conv", "lstm-rmsprop"])
def test_training_curves_are_identical(make, schedule):
    want_losses, want_params, _ = _curves(make, compile_step=False, schedule=schedule)
    got_losses, got_params, run = _curves(make, schedule=schedule)
    assert got_losses == want_losses
    assert all(_bits(a) == _bits(b) for a, b in zip(got_params, want_params))
    assert _status(run) == ["replay"], explain(run)
    assert next(iter(_capture(run).entries.values())).replays == 4


def _sgd_nesterov_wd():
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    return (model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True,
                                   weight_decay=1e-2), _batches((5, 8), 4),
            nn.CrossEntropyLoss())


def _adam_l2():
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 4))
    return (model, torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-2),
            _batches((5, 8), 4), nn.CrossEntropyLoss())


def _sgd_dampened():
    model = nn.Sequential(nn.Linear(8, 4))
    return (model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.5, dampening=0.25),
            _batches((5, 8), 4), nn.CrossEntropyLoss())


@pytest.mark.parametrize("make", [_mlp_sgd, _sgd_nesterov_wd, _sgd_dampened, _mlp_adam,
                                  _adam_l2, _bn_adamw],
                         ids=["sgd-momentum", "sgd-nesterov-wd", "sgd-dampening", "adam",
                              "adam-l2", "adamw"])
def test_optimizer_updates_are_flat_and_follow_the_scheduler(make):
    """SGD and Adam updates replay as flat NumPy calls reading lr (changed by a scheduler
    every two steps) and Adam's step count live: same curves as eager, bit for bit, with
    no new capture."""
    want_losses, want_params, _ = _curves(make, steps=8, compile_step=False, schedule=True)
    got_losses, got_params, run = _curves(make, steps=8, schedule=True)
    assert got_losses == want_losses
    assert all(_bits(a) == _bits(b) for a, b in zip(got_params, want_params))
    entry = next(iter(_capture(run).entries.values()))
    assert _status(run) == ["replay"] and entry.replays == 6, explain(run)
    assert "_update_again" not in str(entry.replay.__globals__.values())
    assert "np.multiply" in entry.source


def test_optimizer_setting_that_shapes_the_update_is_a_guard():
    """Turning Nesterov on changes the update's form: the replay is refused before it
    changes anything, the step runs eagerly and is captured again."""
    def run(compiled):
        torch.manual_seed(0)
        model, opt, batches, loss_fn = _mlp_sgd()
        step = _train_step(model, opt, loss_fn)
        fn = torch.compile(step, mode="reduce-overhead") if compiled else step
        losses = []
        for k in range(7):
            if k == 4:
                opt.param_groups[0]["nesterov"] = True
            losses.append(fn(*batches[k % 3]).item())
        return losses, [p.detach().clone() for p in model.parameters()], fn

    want, want_params, _ = run(False)
    got, got_params, fn = run(True)
    assert got == want
    assert all(_bits(a) == _bits(b) for a, b in zip(got_params, want_params))
    assert any("optimizer setting" in e for e in _capture(fn).events), explain(fn)
    assert _capture(fn).captures == 2


def test_manual_sgd_on_data_replays():
    """The tutorial's loop: in-place updates of ``.data`` under no_grad, grads zeroed."""
    def make():
        torch.manual_seed(0)
        return torch.randn(3, 2, requires_grad=True)

    def train(w, compiled):
        def step(x, y):
            loss = ((x @ w - y) ** 2).mean()
            loss.backward()
            w.data -= 0.1 * w.grad.data  # the tutorial's update
            w.grad.data.zero_()
            return loss
        run = torch.compile(step, mode="reduce-overhead") if compiled else step
        g = np.random.default_rng(0)
        out = []
        for _ in range(5):
            x = torch.tensor(g.standard_normal((4, 3)).astype(np.float32))
            y = torch.tensor(g.standard_normal((4, 2)).astype(np.float32))
            out.append(run(x, y).item())
        return out, run

    w1, w2 = make(), make()
    want, _ = train(w1, False)
    got, run = train(w2, True)
    assert got == want and _bits(w1) == _bits(w2)
    assert _status(run) == ["replay"], explain(run)


def test_chain_step_with_grad_reset_replays():
    x = torch.ones(2, 2, requires_grad=True)

    def step():
        y = x
        for _ in range(20):
            y = (y * 1.0001 + 0.5).tanh() - 0.25
        loss = y.sum()
        loss.backward()
        g = x.grad
        x.grad = None
        return loss, g

    run = torch.compile(step, mode="reduce-overhead")
    want = step()
    for _ in range(4):
        assert _same(run(), want)
    assert x.grad is None
    assert _status(run) == ["replay"]


# ---------------------------------------------------------------------- guards

def _linear_step():
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        loss.backward()
        opt.step()
        return loss

    return model, step


def test_new_shapes_capture_again():
    _, step = _linear_step()
    run = torch.compile(step, mode="reduce-overhead")
    for n in (4, 4, 4, 5, 5, 5, 4):
        run(torch.ones(n, 3))
    assert _status(run) == ["replay", "replay"]
    assert _capture(run).captures == 2


def test_training_flag_is_a_guard():
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    run = torch.compile(lambda x: model(x).sum(), mode="reduce-overhead")
    x = torch.ones(2, 3)
    with torch.no_grad():
        for _ in range(3):
            run(x)
        model.eval()
        torch.manual_seed(0)
        got = run(x)
    assert _bits(got) == _bits(model(x).sum())
    assert any("training" in e for e in _capture(run).events)


def test_replaced_parameter_is_a_guard():
    model, step = _linear_step()
    run = torch.compile(step, mode="reduce-overhead")
    for _ in range(3):
        run(torch.ones(4, 3))
    model.weight = nn.Parameter(torch.zeros(2, 3))
    run(torch.ones(4, 3))
    assert model.weight.grad is not None  # the new parameter took part
    assert any("replaced" in e for e in _capture(run).events)


def test_value_read_into_python_is_a_guard():
    w = torch.ones(2, requires_grad=True)

    def step(x):
        loss = (w * x).sum()
        if loss.item() > 0:  # data-dependent control flow
            loss = loss * 2
        loss.backward()
        return loss

    run = torch.compile(step, mode="reduce-overhead")
    pos, neg = torch.ones(2), -torch.ones(2)
    for _ in range(3):
        w.grad = None
        assert run(pos).item() == 4.0
    assert _status(run) == ["replay"]
    w.grad = None
    assert run(neg).item() == -2.0  # the guard fails: eager, then captured again
    assert w.grad.tolist() == [-1.0, -1.0]
    assert any("item()" in e for e in _capture(run).events)


def test_recompile_limit_then_eager(monkeypatch):
    monkeypatch.setattr(config, "recompile_limit", 2)
    w = torch.ones(1, requires_grad=True)

    def step(x):
        loss = (w * x).sum()
        loss.backward()
        return loss.item()  # a new value every call: the guard always fails

    run = torch.compile(step, mode="reduce-overhead")
    for k in range(6):
        w.grad = None
        assert run(torch.full((1,), float(k))) == float(k)
    assert "recompile_limit" in _capture(run).eager_reason


def test_tensors_made_in_the_step_are_fresh_each_replay():
    w = torch.ones(3, requires_grad=True)

    def step(x):
        acc = torch.zeros(3)
        acc += x  # written in place: the replay must start from zeros again
        loss = (w * acc).sum()
        loss.backward()
        return acc

    run = torch.compile(step, mode="reduce-overhead")
    for k in range(4):
        w.grad = None
        assert run(torch.full((3,), float(k))).tolist() == [float(k)] * 3
    assert _status(run) == ["replay"]


def test_random_draws_follow_the_generator():
    def step(x):
        return (x * torch.rand(3)).sum() + torch.randn(()) + torch.randint(0, 5, (2,)).sum()

    run = torch.compile(step, mode="reduce-overhead")
    x = torch.ones(3)
    torch.manual_seed(3)
    want = [step(x).item() for _ in range(5)]
    torch.manual_seed(3)
    got = [run(x).item() for _ in range(5)]
    assert got == want
    assert _status(run) == ["replay"]


# ---------------------------------------------------------------------- fallbacks

def _falls_back(step, args, words):
    run = torch.compile(step, mode="reduce-overhead")
    results = [run(*args) for _ in range(3)]
    reason = _capture(run).eager_reason or ""
    assert words in reason, explain(run)
    return results


def test_create_graph_stays_eager():
    x = torch.ones(2, requires_grad=True)

    def step():
        (g,) = torch.autograd.grad((x ** 3).sum(), x, create_graph=True)
        return g.sum()

    for r in _falls_back(step, (), "create_graph"):
        assert r.item() == 6.0


def test_autograd_grad_stays_eager():
    x = torch.ones(2, requires_grad=True)
    _falls_back(lambda: torch.autograd.grad((x * 2).sum(), x)[0], (), "autograd.grad")


def test_custom_function_stays_eager():
    class Double(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = torch.ones(2, requires_grad=True)

    def step():
        x.grad = None
        Double.apply(x).sum().backward()
        return x.grad

    for r in _falls_back(step, (), "during backward"):
        assert r.tolist() == [2.0, 2.0]


def test_node_hook_stays_eager():
    x = torch.ones(2, requires_grad=True)

    def step():
        y = x * 3
        y.register_hook(lambda g: g * 10)
        x.grad = None
        y.sum().backward()
        return x.grad

    for r in _falls_back(step, (), "hook"):
        assert r.tolist() == [30.0, 30.0]


def test_op_outside_the_recorded_ops_stays_eager():
    def step(x):
        return torch.nonzero(x > 0).float().sum()

    results = _falls_back(step, (torch.tensor([1.0, -1.0, 2.0]),), "outside retrograd's")
    assert [r.item() for r in results] == [2.0, 2.0, 2.0]


def test_module_forward_needing_a_graph_stays_eager():
    model = nn.Linear(2, 2)
    compiled = torch.compile(model, mode="reduce-overhead")
    for _ in range(3):
        out = compiled(torch.ones(1, 2))
        out.sum().backward()  # the graph is there: eager
    assert "graph" in explain(compiled)


def test_module_inference_replays():
    model = nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 2)).eval()
    compiled = torch.compile(model, mode="reduce-overhead")
    g = np.random.default_rng(0)
    with torch.no_grad():
        for _ in range(4):
            x = torch.tensor(g.standard_normal((3, 4)).astype(np.float32))
            assert _bits(compiled(x)) == _bits(model(x))
    assert "replay" in explain(compiled)


@pytest.mark.parametrize("mode", ["anomaly", "forward_ad", "saved_hooks"])
def test_special_modes_run_eagerly(mode):
    x = torch.ones(2, requires_grad=True)
    run = torch.compile(lambda: (x * 2).sum(), mode="reduce-overhead")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if mode == "anomaly":
            ctx = torch.autograd.detect_anomaly()
        elif mode == "forward_ad":
            ctx = torch.autograd.forward_ad.dual_level()
        else:
            ctx = torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t)
        with ctx:
            for _ in range(3):
                assert run().item() == 4.0
    assert _capture(run).entries == {}


def test_reset_forgets_captures():
    _, step = _linear_step()
    run = torch.compile(step, mode="reduce-overhead")
    for _ in range(3):
        run(torch.ones(2, 3))
    torch.compiler.reset()
    assert _capture(run).entries == {}
    run(torch.ones(2, 3))
    assert _status(run) == ["unchecked"]


def test_explain_and_log(caplog):
    _, step = _linear_step()
    run = torch.compile(step, mode="reduce-overhead")
    with caplog.at_level(logging.INFO, logger="retrograd.compiler"):
        for _ in range(3):
            run(torch.ones(2, 3))
    assert "captured" in caplog.text and "bit for bit" in caplog.text
    text = explain(run)
    assert "replay" in text and "replayed 1 times" in text
    assert "not compiled" in explain(step)


def test_other_threads_are_not_recorded():
    """A capture records the calling thread only: work in another thread stays its own."""
    w = torch.ones(2, requires_grad=True)
    other = []

    def step(x):
        t = threading.Thread(target=lambda: other.append((torch.ones(2) * 5).sum().item()))
        t.start()
        t.join()
        loss = (w * x).sum()
        loss.backward()
        return loss

    run = torch.compile(step, mode="reduce-overhead")
    for k in range(3):
        w.grad = None
        assert run(torch.full((2,), float(k))).item() == 2.0 * k
    # The capture and the check run the step's Python; a replay runs its NumPy calls only.
    assert other == [10.0] * 2
    assert _status(run) == ["replay"]


def test_replay_returns_tensors_without_graph():
    _, step = _linear_step()
    run = torch.compile(step, mode="reduce-overhead")
    outs = [run(torch.ones(2, 3)) for _ in range(3)]
    assert outs[0].grad_fn is not None  # the capture ran eagerly
    assert outs[2].grad_fn is None and not outs[2].requires_grad


def test_replay_peak_memory_within_eager():
    """The liveness pass frees intermediates after their last use: a replayed step's peak
    traced memory stays within 1.2x of eager's (issue 19)."""
    import gc
    import tracemalloc

    def make():
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                              nn.Linear(512, 10))
        opt = torch.optim.Adam(model.parameters())
        x, y = torch.randn(128, 256), torch.randint(0, 10, (128,))

        def step():
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        return step

    peaks = {}
    for mode in ("eager", "compiled"):
        step = make()
        if mode == "compiled":
            step = torch.compile(step, mode="reduce-overhead")
        for _ in range(3):
            step()
        gc.collect()
        torch.cpu.empty_cache()
        tracemalloc.start()
        step()
        peaks[mode] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peaks["compiled"] <= 1.2 * peaks["eager"], peaks
