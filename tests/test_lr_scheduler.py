"""retrograd.optim.lr_scheduler next to torch's: the learning rates must agree to rounding.

Ours are closed forms of the epoch (stepped as ratios so that schedulers compose); PyTorch's
are recursive, so the two may differ in the last bits.
"""

import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import retrograd
import retrograd.optim as optim

STEPS = 30


def _flat(x):
    if isinstance(x, (list, tuple)):
        return [v for item in x for v in _flat(item)]
    return [float(x)]


def assert_close(ours, theirs):
    """Equal structure, values equal to float64 rounding (relative 1e-12)."""
    assert len(_flat(ours)) == len(_flat(theirs))
    assert _flat(ours) == pytest.approx(_flat(theirs), rel=1e-12, abs=1e-15)


def _schedulers(lib, opt, name):
    S = lib.optim.lr_scheduler
    if name == "StepLR":
        return S.StepLR(opt, step_size=4, gamma=0.5)
    if name == "MultiStepLR":
        return S.MultiStepLR(opt, milestones=[3, 7, 7, 15], gamma=0.3)
    if name == "ExponentialLR":
        return S.ExponentialLR(opt, gamma=0.93)
    if name == "CosineAnnealingLR":
        return S.CosineAnnealingLR(opt, T_max=7, eta_min=0.001)
    if name == "CosineAnnealingWarmRestarts":
        return S.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2, eta_min=0.01)
    if name == "LinearLR":
        return S.LinearLR(opt, start_factor=0.2, end_factor=0.9, total_iters=9)
    if name == "ConstantLR":
        return S.ConstantLR(opt, factor=0.4, total_iters=6)
    if name == "LambdaLR":
        return S.LambdaLR(opt, lr_lambda=lambda e: 0.95**e + 0.01 * e)
    if name == "MultiplicativeLR":
        return S.MultiplicativeLR(opt, lr_lambda=[lambda e: 0.9, lambda e: 0.99])
    if name == "PolynomialLR":
        return S.PolynomialLR(opt, total_iters=20, power=2.0)
    if name == "OneCycleLR":
        return S.OneCycleLR(opt, max_lr=[0.5, 0.2], total_steps=STEPS + 1)
    if name == "OneCycleLR3":
        return S.OneCycleLR(opt, max_lr=0.3, epochs=4, steps_per_epoch=8, three_phase=True,
                            anneal_strategy="linear")
    if name == "CyclicLR":
        return S.CyclicLR(opt, base_lr=0.01, max_lr=[0.1, 0.05], step_size_up=4,
                          step_size_down=6, mode="triangular2")
    if name == "CyclicLRexp":
        return S.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=5, mode="exp_range",
                          gamma=0.97)
    if name == "SequentialLR":
        a = S.ConstantLR(opt, factor=0.1, total_iters=2)
        b = S.ExponentialLR(opt, gamma=0.9)
        c = S.CosineAnnealingLR(opt, T_max=5)
        return S.SequentialLR(opt, schedulers=[a, b, c], milestones=[4, 12])
    if name == "ChainedScheduler":
        return S.ChainedScheduler([S.ConstantLR(opt, factor=0.5, total_iters=4),
                                   S.ExponentialLR(opt, gamma=0.9)])
    raise AssertionError(name)


NAMES = ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
         "CosineAnnealingWarmRestarts", "LinearLR", "ConstantLR", "LambdaLR",
         "MultiplicativeLR", "PolynomialLR", "OneCycleLR", "OneCycleLR3", "CyclicLR",
         "CyclicLRexp", "SequentialLR", "ChainedScheduler"]


def _trace(lib, name, opt_name="SGD"):
    a = lib.zeros(2, requires_grad=True)
    b = lib.zeros(3, requires_grad=True)
    kw = dict(momentum=0.9) if opt_name == "SGD" else {}
    opt = getattr(lib.optim, opt_name)([{"params": [a]}, {"params": [b], "lr": 0.05}],
                                       lr=0.1, **kw)
    sched = _schedulers(lib, opt, name)
    lrs = [sched.get_last_lr()]
    momenta = [[g.get("momentum", g.get("betas")) for g in opt.param_groups]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(STEPS):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr())
            momenta.append([g.get("momentum", g.get("betas")) for g in opt.param_groups])
    return lrs, momenta, sched


@pytest.mark.parametrize("name", NAMES)
def test_lr_values_equal_torch(name):
    ours, our_m, _ = _trace(retrograd, name)
    theirs, their_m, _ = _trace(torch, name)
    assert_close(ours, theirs)
    assert_close(our_m, their_m)


@pytest.mark.parametrize("name", ["OneCycleLR", "CyclicLR"])
def test_beta1_cycling_equal_torch(name):
    ours, our_m, _ = _trace(retrograd, name, "Adam")
    theirs, their_m, _ = _trace(torch, name, "Adam")
    assert_close(ours, theirs)
    assert_close(our_m, their_m)


def test_reduce_lr_on_plateau_equal_torch():
    metrics = [1.0, 0.9, 0.95, 0.95, 0.96, 0.97, 0.8, 0.81, 0.82, 0.83, 0.84, 0.85, 0.5,
               0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
    traces = []
    for lib in (retrograd, torch):
        a = lib.zeros(2, requires_grad=True)
        opt = lib.optim.SGD([a], lr=1.0)
        s = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=2, factor=0.5, cooldown=1,
                                                     min_lr=0.05, threshold=0.01)
        out = []
        for m in metrics:
            s.step(m)
            out.append(s.get_last_lr())
        traces.append(out)
    assert_close(traces[0], traces[1])
    with pytest.raises(ValueError, match=r"Factor should be < 1\.0"):
        optim.lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "LinearLR",
                                  "ConstantLR", "PolynomialLR", "CosineAnnealingLR"])
def test_closed_form_with_epoch_equal_torch(name):
    out = []
    for lib in (retrograd, torch):
        a = lib.zeros(2, requires_grad=True)
        opt = lib.optim.SGD([a], lr=0.1)
        sched = _schedulers(lib, opt, name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lrs = []
            for epoch in [3, 5, 11, 2, 20]:
                sched.step(epoch)
                lrs.append(sched.get_last_lr())
        out.append(lrs)
    assert_close(out[0], out[1])


@pytest.mark.parametrize("name", ["StepLR", "CosineAnnealingWarmRestarts", "OneCycleLR",
                                  "CyclicLR", "SequentialLR", "LambdaLR"])
def test_state_dict_round_trip(name):
    lrs, _, sched = _trace(retrograd, name)
    sd = sched.state_dict()
    assert "optimizer" not in sd
    a = retrograd.zeros(2, requires_grad=True)
    b = retrograd.zeros(3, requires_grad=True)
    opt2 = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.05}], lr=0.1, momentum=0.9)
    sched2 = _schedulers(retrograd, opt2, name)
    sched2.load_state_dict(sd)
    assert sched2.last_epoch == sched.last_epoch
    assert sched2.get_last_lr() == lrs[-1]


def test_warnings_and_errors():
    a = retrograd.zeros(2, requires_grad=True)
    opt = optim.SGD([a], lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        sched.get_lr()
    with pytest.raises(TypeError, match="is not an Optimizer"):
        optim.lr_scheduler.StepLR(object(), step_size=2)
    with pytest.raises(KeyError, match="initial_lr"):
        optim.lr_scheduler.StepLR(optim.SGD([retrograd.zeros(1, requires_grad=True)], lr=1),
                                  step_size=2, last_epoch=3)
    s = optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=2)
    opt.step()
    s.step()
    s.step()
    with pytest.raises(ValueError, match="Tried to step 3 times"):
        s.step()


def test_scheduler_lr_drives_the_optimizer():
    # The scheduled lr is what the next update uses: compare parameters with torch.
    params = []
    for lib in (retrograd, torch):
        w = lib.ones(3, dtype=lib.float64, requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.5, momentum=0.5)
        sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
        for _ in range(20):
            w.grad = w.detach() * 2
            opt.step()
            sched.step()
        params.append(w.detach().numpy())
    assert params[0].tolist() == pytest.approx(params[1].tolist(), rel=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_survives_retrograd_save(name):
    import io

    lrs, _, sched = _trace(retrograd, name)
    buf = io.BytesIO()
    retrograd.save(sched.state_dict(), buf)
    sd = retrograd.load(io.BytesIO(buf.getvalue()))
    a = retrograd.zeros(2, requires_grad=True)
    b = retrograd.zeros(3, requires_grad=True)
    opt2 = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.05}], lr=0.1, momentum=0.9)
    sched2 = _schedulers(retrograd, opt2, name)
    sched2.load_state_dict(sd)
    assert getattr(sched2, "last_epoch", None) == getattr(sched, "last_epoch", None)
    assert sched2.get_last_lr() == lrs[-1]
    if name == "MultiStepLR":
        assert sched2.milestones == sched.milestones
        assert type(sched2.milestones).__name__ == "Counter"


def _cyclic_cases(S, opt):
    return {
        "triangular": lambda: S.CyclicLR(opt, base_lr=0.01, max_lr=0.2, step_size_up=3),
        "triangular2": lambda: S.CyclicLR(opt, base_lr=[0.01, 0.02], max_lr=0.2,
                                          step_size_up=2, step_size_down=5,
                                          mode="triangular2"),
        "exp_range": lambda: S.CyclicLR(opt, base_lr=0.01, max_lr=0.3, step_size_up=4,
                                        mode="exp_range", gamma=0.9,
                                        base_momentum=0.7, max_momentum=0.95),
        "scale_fn_cycle": lambda: S.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=3,
                                             scale_fn=lambda c: 1 / c, scale_mode="cycle"),
        "scale_fn_iter": lambda: S.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=3,
                                            scale_fn=lambda t: 0.97**t,
                                            scale_mode="iterations", cycle_momentum=False),
        "onecycle_cos": lambda: S.OneCycleLR(opt, max_lr=0.4, total_steps=25, pct_start=0.4),
        "onecycle_linear": lambda: S.OneCycleLR(opt, max_lr=[0.4, 0.1], total_steps=25,
                                                anneal_strategy="linear", div_factor=10.0,
                                                final_div_factor=100.0),
        "onecycle_three": lambda: S.OneCycleLR(opt, max_lr=0.4, epochs=5, steps_per_epoch=5,
                                               three_phase=True, base_momentum=0.8,
                                               max_momentum=0.9),
        "onecycle_no_momentum": lambda: S.OneCycleLR(opt, max_lr=0.4, total_steps=25,
                                                     cycle_momentum=False),
    }


CYCLIC = list(_cyclic_cases(optim.lr_scheduler, None))


@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
@pytest.mark.parametrize("case", CYCLIC)
def test_cyclic_step_by_step_equal_torch(case, opt_name):
    traces = []
    for lib in (retrograd, torch):
        a = lib.zeros(2, requires_grad=True)
        b = lib.zeros(1, requires_grad=True)
        kw = dict(momentum=0.9) if opt_name == "SGD" else {}
        opt = getattr(lib.optim, opt_name)([{"params": [a]}, {"params": [b], "lr": 0.3}],
                                           lr=0.1, **kw)
        sched = _cyclic_cases(lib.optim.lr_scheduler, opt)[case]()
        trace = []
        for _ in range(25 if case.startswith("onecycle") else 24):
            trace.append((sched.get_last_lr(),
                          [g.get("momentum", g.get("betas")) for g in opt.param_groups]))
            opt.step()
            sched.step()
        traces.append(trace)
    assert_close(traces[0], traces[1])


def test_cyclic_needs_momentum_and_valid_mode():
    a = retrograd.zeros(2, requires_grad=True)
    S = optim.lr_scheduler
    with pytest.raises(ValueError, match="must support momentum"):
        S.CyclicLR(optim.Adagrad([a]), base_lr=0.1, max_lr=1.0)
    with pytest.raises(ValueError, match="mode is invalid"):
        S.CyclicLR(optim.SGD([a], momentum=0.9), base_lr=0.1, max_lr=1.0, mode="saw")
    with pytest.raises(ValueError, match="total_steps OR"):
        S.OneCycleLR(optim.SGD([a], momentum=0.9), max_lr=1.0)
    with pytest.raises(ValueError, match="anneal_strategy"):
        S.OneCycleLR(optim.SGD([a], momentum=0.9), max_lr=1.0, total_steps=4,
                     anneal_strategy="step")


def test_warm_restarts_fractional_epochs_equal_torch():
    traces = []
    for lib in (retrograd, torch):
        a = lib.zeros(2, requires_grad=True)
        opt = lib.optim.SGD([a], lr=0.5)
        s = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=3,
                                                               eta_min=0.01)
        out = []
        for epoch in [0.5, 1.25, 2.0, 7.9, 8.0, 8.5, 30.0, 3.0]:
            s.step(epoch)
            out.append((s.get_last_lr(), s.T_cur, s.T_i, s.last_epoch))
        s.step()
        out.append((s.get_last_lr(), s.T_cur, s.T_i, s.last_epoch))
        traces.append(out)
    assert_close(traces[0], traces[1])


ALL_SCHEDULERS = NAMES + ["CyclicLRcustom", "ReduceLROnPlateau"]


class _Halving:
    """A callable object: its attributes travel in the state dict, as in PyTorch."""

    def __init__(self, base):
        self.base = base

    def __call__(self, x):
        return self.base / x


def _make(lib, opt, name):
    S = lib.optim.lr_scheduler
    if name == "CyclicLRcustom":
        return S.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=3, scale_fn=_Halving(1.0))
    if name == "ReduceLROnPlateau":
        return S.ReduceLROnPlateau(opt, patience=1, factor=0.5)
    return _schedulers(lib, opt, name)


def _drive(lib, name, steps):
    a = lib.zeros(2, requires_grad=True)
    b = lib.zeros(3, requires_grad=True)
    opt = lib.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.05}], lr=0.1, momentum=0.9)
    sched = _make(lib, opt, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(steps):
            opt.step()
            if name == "ReduceLROnPlateau":
                sched.step(1.0 + 0.1 * (i % 3))
            else:
                sched.step()
    return opt, sched


@pytest.mark.parametrize("name", ALL_SCHEDULERS)
def test_every_state_dict_round_trip_continues_like_torch(name):
    # Save after 7 steps, load into a fresh scheduler, take 8 more: the lrs must follow
    # the uninterrupted torch run.
    opt, sched = _drive(retrograd, name, 7)
    sd = sched.state_dict()
    assert "optimizer" not in sd
    if name == "CyclicLRcustom":
        assert sd["_scale_fn_custom"] == {"base": 1.0}
    opt2, sched2 = _drive(retrograd, name, 0)
    opt2.load_state_dict(opt.state_dict())
    sched2.load_state_dict(sd)
    if name == "CyclicLRcustom":
        assert sched2._scale_fn_custom is not sched._scale_fn_custom
    topt, tsched = _drive(torch, name, 7)
    ours, theirs = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(8):
            for o, s, out in ((opt2, sched2, ours), (topt, tsched, theirs)):
                o.step()
                s.step(2.0 - i) if name == "ReduceLROnPlateau" else s.step()
                out.append(s.get_last_lr())
    assert_close(ours, theirs)


def test_chained_schedulers_compose_like_torch():
    # Two schedulers on one optimizer, and ChainedScheduler / SequentialLR over a mix:
    # each applies its change to the lr the others left (PyTorch's "chainable" contract).
    traces = []
    for lib in (retrograd, torch):
        S = lib.optim.lr_scheduler
        a = lib.zeros(2, requires_grad=True)
        opt = lib.optim.SGD([a], lr=1.0)
        s1 = S.CosineAnnealingLR(opt, T_max=6, eta_min=0.05)
        s2 = S.MultiStepLR(opt, milestones=[3, 8], gamma=0.5)
        inner = S.ChainedScheduler([S.LinearLR(opt, start_factor=0.5, total_iters=4),
                                    S.PolynomialLR(opt, total_iters=10, power=1.5)])
        opt2 = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=1.0)
        seq = S.SequentialLR(opt2, [S.ExponentialLR(opt2, gamma=0.8),
                                    S.StepLR(opt2, step_size=2, gamma=0.3),
                                    S.ConstantLR(opt2, factor=0.25, total_iters=3)],
                             milestones=[4, 9])
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(16):
                opt.step()
                opt2.step()
                s1.step()
                s2.step()
                inner.step()
                seq.step()
                out.append((opt.param_groups[0]["lr"], inner.get_last_lr(),
                            seq.get_last_lr()))
        traces.append(out)
    assert_close(traces[0], traces[1])


RESUMABLE = {
    "ExponentialLR": dict(gamma=0.5),
    "StepLR": dict(step_size=2, gamma=0.5),
    "MultiStepLR": dict(milestones=[2, 4], gamma=0.5),
    "CosineAnnealingLR": dict(T_max=10),
    "LinearLR": dict(start_factor=0.5, end_factor=1.0, total_iters=4),
    "ConstantLR": dict(factor=0.5, total_iters=4),
    "PolynomialLR": dict(total_iters=4, power=2.0),
    "MultiplicativeLR": dict(lr_lambda=lambda e: 0.5),
    "CosineAnnealingWarmRestarts": dict(T_0=3, T_mult=2),
}


@pytest.mark.parametrize("last_epoch", [0, 1, 3])
@pytest.mark.parametrize("name", list(RESUMABLE))
def test_resuming_with_last_epoch_equal_torch(name, last_epoch):
    traces = []
    for lib in (retrograd, torch):
        a = lib.zeros(2, requires_grad=True)
        opt = lib.optim.SGD([a], lr=1.0)
        opt.param_groups[0]["initial_lr"] = 1.0
        sched = getattr(lib.optim.lr_scheduler, name)(opt, last_epoch=last_epoch,
                                                      **RESUMABLE[name])
        out = [sched.get_last_lr()]
        for _ in range(4):
            opt.step()
            sched.step()
            out.append(sched.get_last_lr())
        traces.append(out)
    assert_close(traces[0], traces[1])


def _cycle_trace(lib, kind, kw, steps):
    a = lib.zeros(1, requires_grad=True)
    opt = lib.optim.SGD([a], lr=0.1, momentum=0.9)
    sched = getattr(lib.optim.lr_scheduler, kind)(opt, **kw)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(steps):
            out.append((sched.get_last_lr(), opt.param_groups[0]["momentum"]))
            opt.step()
            sched.step()
    return out


@settings(max_examples=12, deadline=None)
@given(up=st.integers(1, 7), down=st.integers(1, 7),
       mode=st.sampled_from(["triangular", "triangular2", "exp_range"]),
       gamma=st.floats(0.5, 1.0), base=st.floats(1e-4, 0.1), span=st.floats(0.0, 1.0))
def test_cyclic_lr_any_config_equal_torch(up, down, mode, gamma, base, span):
    kw = dict(base_lr=base, max_lr=base + span, step_size_up=up, step_size_down=down,
              mode=mode, gamma=gamma)
    assert_close(_cycle_trace(retrograd, "CyclicLR", kw, 30),
                 _cycle_trace(torch, "CyclicLR", kw, 30))


@settings(max_examples=12, deadline=None)
@given(total=st.integers(8, 40), pct=st.floats(0.15, 0.45), three=st.booleans(),
       anneal=st.sampled_from(["cos", "linear"]), div=st.floats(2.0, 50.0))
def test_one_cycle_any_config_equal_torch(total, pct, three, anneal, div):
    kw = dict(max_lr=0.5, total_steps=total, pct_start=pct, three_phase=three,
              anneal_strategy=anneal, div_factor=div)
    assert_close(_cycle_trace(retrograd, "OneCycleLR", kw, total),
                 _cycle_trace(torch, "OneCycleLR", kw, total))
