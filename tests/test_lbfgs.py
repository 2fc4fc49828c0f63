"""LBFGS against torch on a chained Rosenbrock problem split over two parameters."""

import numpy as np
import pytest
import torch

import retrograd


def _run(lib, line_search_fn, steps, **kw):
    a = lib.tensor([-1.2, 1.0, -0.5], dtype=lib.float64, requires_grad=True)
    b = lib.tensor([[0.3, -0.8], [1.1, 0.2]], dtype=lib.float64, requires_grad=True)
    opt = lib.optim.LBFGS([a, b], line_search_fn=line_search_fn, **kw)

    def closure():
        opt.zero_grad()
        x = lib.cat([a, b.reshape(-1)])
        loss = ((1 - x[:-1]) ** 2 + 10 * (x[1:] - x[:-1] ** 2) ** 2).sum()
        loss.backward()
        return loss

    losses = [float(opt.step(closure).detach()) for _ in range(steps)]
    return opt, a, b, losses


@pytest.mark.parametrize(("line_search_fn", "kw"), [
    (None, dict(lr=0.05, max_iter=10, history_size=5)),
    ("strong_wolfe", dict(max_iter=10, history_size=4)),
    ("strong_wolfe", dict(max_iter=6, max_eval=7)),  # the line search runs out of evaluations
])
def test_lbfgs_chained_rosenbrock_matches_torch(line_search_fn, kw):
    ours = _run(retrograd, line_search_fn, 4, **kw)
    theirs = _run(torch, line_search_fn, 4, **kw)
    np.testing.assert_allclose(ours[3], theirs[3], rtol=1e-9)
    for p, q in zip(ours[1:3], theirs[1:3]):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-7, atol=1e-9)
    s, t = ours[0].state[ours[1]], theirs[0].state[theirs[1]]
    assert sorted(s) == sorted(t)
    assert (s["n_iter"], s["func_evals"]) == (t["n_iter"], t["func_evals"])
    assert len(s["old_dirs"]) == len(t["old_dirs"])
    np.testing.assert_allclose(s["d"].numpy(), t["d"].numpy(), rtol=1e-6, atol=1e-9)


def test_lbfgs_state_dict_resumes_like_an_uninterrupted_run():
    opt, a, b, _ = _run(retrograd, "strong_wolfe", 2, max_iter=5)
    sd = opt.state_dict()
    opt2, a2, b2, _ = _run(retrograd, "strong_wolfe", 0, max_iter=5)
    with retrograd.no_grad():
        a2.copy_(a)
        b2.copy_(b)
    opt2.load_state_dict(sd)

    def closure_for(opt, a, b):
        def closure():
            opt.zero_grad()
            x = retrograd.cat([a, b.reshape(-1)])
            loss = ((1 - x[:-1]) ** 2 + 10 * (x[1:] - x[:-1] ** 2) ** 2).sum()
            loss.backward()
            return loss
        return closure

    opt.step(closure_for(opt, a, b))
    opt2.step(closure_for(opt2, a2, b2))
    assert a2.detach().numpy().tolist() == a.detach().numpy().tolist()
    assert opt2.state[a2]["n_iter"] == opt.state[a]["n_iter"]
