"""retrograd.optim.lr_scheduler next to torch's: the learning rates must be equal exactly."""

import warnings

import pytest
import torch

import retrograd
import retrograd.optim as optim

STEPS = 30


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
    assert ours == theirs  # exact: same formulas, same float operations
    assert our_m == their_m


@pytest.mark.parametrize("name", ["OneCycleLR", "CyclicLR"])
def test_beta1_cycling_equal_torch(name):
    ours, our_m, _ = _trace(retrograd, name, "Adam")
    theirs, their_m, _ = _trace(torch, name, "Adam")
    assert ours == theirs
    assert our_m == their_m


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
    assert traces[0] == traces[1]
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
    assert out[0] == out[1]


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
