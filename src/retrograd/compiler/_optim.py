"""Optimizer updates written out flat in a replay (issue 19, tier 2).

A captured step records each parameter's update as a call (``Optimizer._update_again``):
the update's own Python, with its dictionary lookups, state checks and temporaries, runs at
every replay. For the common algorithms (SGD with or without momentum, Adam and AdamW) the
replay instead runs the same NumPy operations in the same order as flat calls, writing the
temporaries into buffers planned once (``out=``), so the results are eager's bit for bit.

Hyper-parameters are read live from the parameter group once per replay, as Python numbers,
and the Python arithmetic on them (Adam's bias corrections from the step count, held in its
0-d state buffer) is eager's own expression: an LR scheduler or Adam's step count changes
nothing in the capture. What the update's *form* depends on (momentum or none, Nesterov,
dampening, weight decay or none, AMSGrad, ``maximize``, a tensor ``lr``) is a guard checked
before the replay changes anything, as is the identity of each parameter's state buffers.
Anything else keeps the call.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..optim.adam import Adam
from ..optim.optimizer import Optimizer
from ..optim.sgd import SGD


def _plain(v) -> bool:
    return type(v) in (float, int)


class _Plan:
    """What one lowered update needs: the writer, the optimizer, the group's names."""

    def __init__(self, w, opt, group, p_ref: str, p: Tensor) -> None:
        self.w, self.opt, self.group, self.p_ref, self.p = w, opt, group, p_ref, p
        self.x = f"{p_ref}._data"
        self.g = f"{p_ref}._grad._data"

    def hyper(self, key: str, guard: str) -> str:
        """A local holding ``group[key]`` read at the top of the replay; ``guard`` (on it,
        written ``@``) must hold or the replay does not start."""
        names = self.w.lowered_groups.setdefault(id(self.group), {})
        name = names.get(key)
        if name is None:
            name = names[key] = f"hp{len(self.w.head)}"
            gname = self.w.const(self.group)
            self.w.head.append(f"{name} = {gname}[{key!r}]")
            cond = guard.replace("@", name)
            self.w.head.append(f"if not ({cond}): raise GF({self.w.const(_CHANGED)})")
        return name

    def same(self, key: str) -> None:
        """``group[key]`` must keep its value at capture."""
        self.hyper(key, f"@ == {self.w.const(self.group[key])}")

    def state_is(self, items: dict) -> None:
        """The parameter's state must be the same dict holding the same buffers."""
        st = self.opt.state.get(self.p)
        states, sname, pname = (self.w.const(self.opt.state), self.w.const(st),
                                self.p_ref)
        conds = [f"{states}.get({pname}) is not {sname}"]
        conds += [f"{sname}.get({k!r}) is not {self.w.const(v)}" for k, v in items.items()]
        self.w.head.append(f"if {' or '.join(conds)}: raise GF({self.w.const(_STATE)})")

    def buffer(self, slot: int) -> str:
        d = self.p._data
        return self.w.buffer((d.shape, d.dtype.str, slot), lambda: np.empty_like(d))


_CHANGED = "an optimizer setting that shapes the update changed"
_STATE = "an optimizer's state was replaced"


def _sgd(plan: _Plan) -> list[str] | None:
    group = plan.group
    if group["maximize"] or not all(_plain(group[k]) for k in
                                    ("lr", "momentum", "dampening", "weight_decay")):
        return None
    lr = plan.hyper("lr", "type(@) in (float, int)")
    for key in ("maximize", "nesterov", "dampening"):
        plan.same(key)
    m = "np"
    lines = []
    g = plan.g
    if group["weight_decay"] != 0:
        wd = plan.hyper("weight_decay", "type(@) in (float, int) and @ != 0")
        t = plan.buffer(0)
        lines += [f"{m}.multiply({plan.x}, {wd}, out={t})", f"{m}.add({g}, {t}, out={t})"]
        g = t
    else:
        plan.same("weight_decay")
    if group["momentum"] != 0:
        buf = plan.opt.state[plan.p].get("momentum_buffer")
        if buf is None:
            return None
        plan.state_is({"momentum_buffer": buf})
        mom = plan.hyper("momentum", "type(@) in (float, int) and @ != 0")
        b = f"{plan.w.const(buf)}._data"
        lines.append(f"{b} *= {mom}")
        if group["dampening"] == 0:  # (1 - 0) * grad is grad, bit for bit
            lines.append(f"{b} += {g}")
        else:
            t = plan.buffer(1)
            lines += [f"{m}.multiply({g}, 1 - {plan.w.const(group['dampening'])}, out={t})",
                      f"{b} += {t}"]
        if group["nesterov"]:
            t = plan.buffer(1)
            lines += [f"{m}.multiply({b}, {mom}, out={t})", f"{m}.add({g}, {t}, out={t})"]
            g = t
        else:
            g = b
    else:
        plan.same("momentum")
    t = plan.buffer(2)
    lines += [f"{m}.multiply({g}, -{lr}, out={t})", f"{plan.x} += {t}"]
    return lines


def _adam(plan: _Plan) -> list[str] | None:
    group = plan.group
    st = plan.opt.state.get(plan.p)
    if group["maximize"] or group["amsgrad"] or st is None or not _plain(group["lr"]) or \
            not all(_plain(b) for b in group["betas"]) or set(st) != {"step", "exp_avg",
                                                                        "exp_avg_sq"}:
        return None
    plan.state_is({k: st[k] for k in ("step", "exp_avg", "exp_avg_sq")})
    for key in ("maximize", "amsgrad", "decoupled_weight_decay"):
        plan.same(key)
    lr = plan.hyper("lr", "type(@) in (float, int)")
    betas = plan.hyper("betas", "type(@[0]) in (float, int) and type(@[1]) in (float, int)")
    eps = plan.hyper("eps", "True")
    wd_cond = "@ != 0" if group["weight_decay"] != 0 else "@ == 0"
    wd = plan.hyper("weight_decay", f"type(@) in (float, int) and {wd_cond}")
    c = plan.w.const
    step, a, v = (f"{c(st[k])}._data" for k in ("step", "exp_avg", "exp_avg_sq"))
    t0, t1, t2 = plan.buffer(0), plan.buffer(1), plan.buffer(2)
    x, g, m = plan.x, plan.g, "np"
    lines = [f"{step} += 1", f"b1, b2 = {betas}"]
    if group["weight_decay"] != 0:
        if group["decoupled_weight_decay"]:
            lines.append(f"{x} *= 1 - {lr} * {wd}")
        else:
            lines += [f"{m}.multiply({x}, {wd}, out={t0})", f"{m}.add({g}, {t0}, out={t0})"]
            g = t0
    # lerp_(exp_avg, grad, 1 - beta1), on the side of its formula eager picks
    lines += ["w = 1 - b1", f"{m}.subtract({g}, {a}, out={t1})",
              "if w < 0.5:",
              f"    {m}.multiply({t1}, w, out={t1}); {m}.add({a}, {t1}, out={a})",
              "else:",
              f"    {m}.multiply({t1}, 1 - w, out={t1}); {m}.subtract({g}, {t1}, out={a})",
              f"{v} *= b2",
              f"{m}.multiply({g}, 1 - b2, out={t1}); {m}.multiply({t1}, {g}, out={t1})",
              f"{v} += {t1}",
              f"s = float({step})",
              "bc1 = 1 - b1**s",
              "bc2 = (1 - b2**s) ** 0.5",
              f"{m}.sqrt({v}, out={t1}); {m}.divide({t1}, bc2, out={t1})",
              f"{m}.add({t1}, {eps}, out={t1})",
              f"{m}.multiply({a}, -({lr} / bc1), out={t2}); {m}.divide({t2}, {t1}, out={t2})",
              f"{x} += {t2}"]
    return lines


#: The update functions written out flat, by the optimizer's ``_update``.
LOWERINGS = {SGD._update: _sgd, Adam._update: _adam}


def lower(w, rec, fn, spec) -> list[str] | None:
    """The flat lines of a recorded optimizer update, or None to keep the call."""
    if getattr(fn, "__func__", None) is not Optimizer._update_again or len(spec) != 3:
        return None
    (k1, update), (k2, p_ref), (k3, group) = spec
    if k1 != "const" or k2 != "ref" or k3 != "const" or not p_ref.startswith("e"):
        return None
    how = LOWERINGS.get(update)
    p = rec.tensors[int(p_ref[1:])]
    if how is None or p._data.dtype.kind != "f" or type(p._data) is not np.ndarray:
        return None
    mark, names = len(w.head), {k: dict(v) for k, v in w.lowered_groups.items()}
    lines = how(_Plan(w, fn.__self__, group, p_ref, p))
    if lines is None:  # forget the reads and guards this update began to write
        del w.head[mark:]
        w.lowered_groups = names
        return None
    return [*lines, f"bump({p_ref})"]


__all__ = ["LOWERINGS", "lower"]
