"""The constructor preamble shared by every optimizer: defaults, checks, old pickles."""

import pickle

import pytest
import torch

import retrograd
import retrograd.optim as optim

NAMES = ["SGD", "Adam", "AdamW", "Adamax", "RAdam", "NAdam", "Adagrad", "Adadelta", "RMSprop",
         "LBFGS"]


@pytest.mark.parametrize("name", NAMES)
def test_defaults_have_torchs_keys_and_values(name):
    ours = getattr(optim, name)([retrograd.zeros(2, requires_grad=True)]).defaults
    theirs = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)]).defaults
    assert set(ours) <= set(theirs)
    # what torch has beyond ours is only its device-specific switches
    assert set(theirs) - set(ours) <= {"foreach", "fused", "capturable", "differentiable"}
    for key in ours:
        assert ours[key] == theirs[key], key


@pytest.mark.parametrize(("name", "kw", "message"), [
    ("SGD", dict(lr=-1.0), "Invalid learning rate: -1.0"),
    ("SGD", dict(momentum=-0.5), "Invalid momentum value: -0.5"),
    ("Adam", dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
    ("Adam", dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    ("RMSprop", dict(alpha=-0.1), "Invalid alpha value: -0.1"),
    ("Adagrad", dict(lr_decay=-1), "Invalid lr_decay value: -1"),
    ("NAdam", dict(momentum_decay=-1), "Invalid momentum_decay value: -1"),
    ("Adadelta", dict(rho=1.5), "Invalid rho value: 1.5"),
    ("AdamW", dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
])
def test_constructor_checks_match_torch(name, kw, message):
    for lib in (retrograd, torch):
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
            getattr(lib.optim, name)([lib.zeros(2, requires_grad=True)], **kw)


@pytest.mark.parametrize("name", NAMES)
def test_unpickling_fills_options_an_old_pickle_lacks(name):
    opt = getattr(optim, name)([retrograd.zeros(2, requires_grad=True)], lr=0.5)
    state = opt.__getstate__()
    dropped = [k for k in ("maximize", "nesterov", "amsgrad", "history_size") if k in opt.defaults]
    assert dropped
    for k in dropped:
        del state["defaults"][k]
        del state["param_groups"][0][k]
    old = pickle.loads(pickle.dumps(opt))
    old.__setstate__(state)
    for k in dropped:
        assert old.param_groups[0][k] == opt.param_groups[0][k]
        assert old.defaults[k] == opt.defaults[k]
    assert old.param_groups[0]["lr"] == 0.5
