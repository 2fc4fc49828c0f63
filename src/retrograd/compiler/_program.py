"""A recorded step as one straight-line Python function of NumPy calls.

``build(recorder, outputs)`` writes the source of ``replay(i0, i1, ...)`` from the record:

- each primitive: a fresh context object and the primitive's own ``forward`` on arrays
  (so random ops draw from retrograd's generator in eager's order);
- each backward pass: the nodes' own ``backward`` formulas in the order the engine ran them,
  gradients summed to each input's shape and cast to its dtype exactly as the engine does,
  buffers summed in the engine's order, leaves accumulated by the engine's ``_accumulate``;
- the recorded Python calls (optimizer updates, ``zero_grad``, running statistics) as calls;
- a guard for every value the step read into Python, placed right after the value is made;
- ``del`` after each name's last use, so intermediates are freed as early as in eager.

Nothing of Tensor, Node or the engine's bookkeeping runs, which is where eager spends its
time on small tensors; the NumPy calls are the same ones, in the same order, hence results
identical to eager's bit for bit.
"""

from __future__ import annotations

import math
import re

import numpy as np

from .._tensor import wrap
from ..autograd._engine_hooks import _accumulate, _materialize
from ..autograd._record import bump_version
from ..autograd.engine import _sum_to_array
from ..autograd.graph import Node
from ..ops._core import _as_array
from ..ops._table import _params
from ._capture import Recorder, Refused
from ._optim import lower

_ndarray = np.ndarray
_NAME = re.compile(r"\b[vbcri]\d+\b")


class GuardFailed(Exception):
    """A replay's assumption does not hold for this call; run eagerly instead."""


#: Stands for "this input takes part in backward" in a replayed node's edges.
_LIVE = object()


def _one(ctx, out):
    if type(out) is tuple:
        out = out[0]
    return out if type(out) is _ndarray else _as_array(ctx, out)


def _many(ctx, outs):
    return tuple(o if type(o) is _ndarray else _as_array(ctx, o) for o in outs)


def _value(arr, how: str):
    arr = np.asarray(arr)
    return arr.reshape(()).item() if how == "item" else arr.tolist()


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


class _Writer:
    """Source lines grouped in units, each with the names it defines and uses."""

    def __init__(self) -> None:
        self.units: list[tuple[list[str], set, set]] = []
        self.consts: dict[str, object] = {}
        self._const_ids: dict[int, str] = {}
        self.head: list[str] = []  # read and checked before the replay changes anything
        self.lowered_groups: dict[int, dict] = {}  # id(param group) -> {key: local name}
        self._buffers: dict[tuple, str] = {}

    def buffer(self, key: tuple, make) -> str:
        """A scratch array planned once for this replay function (``out=`` target), shared
        by every use with the same ``key``."""
        name = self._buffers.get(key)
        if name is None:
            name = self._buffers[key] = self.const(make())
        return name

    def const(self, value) -> str:
        if value is None or isinstance(value, bool):
            return repr(value)
        if type(value) is int or (type(value) is float and math.isfinite(value)):
            return repr(value)
        name = self._const_ids.get(id(value))
        if name is None:
            name = f"k{len(self.consts)}"
            self.consts[name] = value
            self._const_ids[id(value)] = name
        return name

    def unit(self, lines: list[str], defs=(), uses=()) -> None:
        self.units.append((lines, set(defs), set(uses)))


def _local(name: str) -> bool:
    return name[0] in "vbcri"


def build(rec: Recorder, outputs: list) -> tuple[str, dict]:
    """The replay function's source and its globals."""
    if rec.refusal is not None:
        raise Refused(rec.refusal)
    w = _Writer()
    backward_nodes = {ev[1] for ins in rec.tape if ins[0] == "bwd" for ev in ins[2]
                      if ev[0] == "run"}
    reads_at: dict[int, list] = {}
    for ins in rec.tape:
        if ins[0] in ("read", "check"):
            reads_at.setdefault(ins[-1], []).append(ins)
    for ins in reads_at.get(-1, ()):
        _guard(w, ins)
    for pos, ins in enumerate(rec.tape):
        kind = ins[0]
        if kind == "fwd":
            _forward(w, rec, ins, backward_nodes)
        elif kind == "bwd":
            _backward(w, rec, ins)
        elif kind == "call":
            _call(w, rec, ins)
        elif kind == "make":
            _make(w, ins)
        for r in reads_at.get(pos, ()):
            _guard(w, r)
    out_names = [rec.array_expr(t) for t in outputs]
    if rec.refusal is not None:  # an output no recorded op made
        raise Refused(rec.refusal)
    ret = ", ".join(out_names)
    w.unit([f"return ({ret}{',' if len(out_names) == 1 else ''})"],
           uses=[n for n in out_names if not n.startswith("e")])
    head = [_guard_lines(w, rec), *w.head]
    source = _assemble(w, head, len(rec.inputs))
    env = {"new": Node.__new__, "nd": _ndarray, "one": _one, "many": _many,
           "sumto": _sum_to_array, "mat": _materialize, "acc": _accumulate, "wrap": wrap,
           "value": _value, "same": _same, "GF": GuardFailed, "LIVE": _LIVE,
           "asarray": np.asarray, "mulv": _mulv, "np": np, "bump": bump_version}
    env.update(w.consts)
    for k, t in enumerate(rec.tensors):
        env[f"e{k}"] = t
    return source, env


def _arg(w: _Writer, spec) -> tuple[str, list]:
    if isinstance(spec, str):
        return spec, [spec.split(".")[0]]
    kind = spec[0]
    if kind == "seq":
        parts = [_arg(w, p) for p in spec[2]]
        text = ", ".join(p[0] for p in parts)
        text = f"({text},)" if spec[1] is tuple else f"[{text}]"
        return text, [u for p in parts for u in p[1]]
    if kind == "map":
        parts = {k: _arg(w, p) for k, p in spec[1].items()}
        text = ", ".join(f"{w.const(k)}: {p[0]}" for k, p in parts.items())
        return "{" + text + "}", [u for p in parts.values() for u in p[1]]
    if kind == "attrs":
        expr, used = _arg(w, spec[1])
        return "**" + expr, used
    if kind == "cast":
        return f"{spec[1]}.astype({w.const(spec[2])})", [spec[1].split(".")[0]]
    if kind == "wrap":
        return f"wrap({spec[1]})", [spec[1]]
    if kind == "ref":
        return spec[1], []
    if kind == "ctx":
        return spec[1], [spec[1]]
    return w.const(spec[1]), []


def _args(w: _Writer, specs) -> tuple[list, list]:
    """The expressions of ``specs`` and the local names they use."""
    parts, uses = [], []
    for spec in specs:
        expr, used = _arg(w, spec)
        parts.append(expr)
        uses += [u for u in used if _local(u)]
    return parts, uses


def _forward(w: _Writer, rec: Recorder, ins, backward_nodes) -> None:
    _, ctx, node, args, attrs, outs = ins
    cls = type(node)
    lowered = rec.lowered.get(id(node))
    if lowered is not None:
        _forward_flat(w, ins, lowered)
        return
    flat = rec.flat.get(id(node))
    if flat is not None:
        parts, named, uses = _flat_args(w, ins)
        defs = [*outs, ctx] if getattr(flat, "keeps", False) else outs
        w.unit(flat.forward(w, parts, outs[0], ctx, named), defs=defs, uses=uses)
        return
    parts, uses = _args(w, args)
    if attrs:
        parts.append("**" + w.const(dict(attrs)))
    fwd = w.const(cls.forward)
    lines = [f"{ctx} = new({w.const(cls)}); {ctx}.saved = ()",
             f"o = {fwd}({ctx}, {', '.join(parts)})"]
    if len(outs) == 1:
        lines.append(f"{outs[0]} = o if type(o) is nd else one({ctx}, o)")
    else:
        lines.append(f"{', '.join(outs)}, = many({ctx}, o)")
    defs = [ctx, *outs]
    for o in outs:
        if o in rec.shape_guards:
            shape = w.const(rec.shape_guards[o])
            lines.append(f"if {o}.shape != {shape}: raise GF('a masked result changed shape')")
    if id(node) in backward_nodes:
        edges = tuple(_LIVE if i % 4 == 0 and e is not None else e
                      for i, e in enumerate(node._edges))
        lines.append(f"{ctx}._edges = {w.const(edges)}")
        out_meta = getattr(node, "_out_meta", None)
        if out_meta is not None:
            lines.append(f"{ctx}._out_meta = {w.const(out_meta)}")
    w.unit(lines, defs=defs, uses=uses)


def _flat_args(w: _Writer, ins) -> tuple[list, dict, list]:
    """A flat primitive's input expressions, its attributes' expressions by name, and the
    local names they use."""
    _, _ctx, _node, args, attrs, _outs = ins
    args = list(args)
    named = {k: w.const(v) for k, v in attrs.items()}
    if args and isinstance(args[-1], tuple) and args[-1][0] == "attrs":
        parts, uses = _args(w, list(args.pop()[1][1].values()))
        named.update(zip(ins[3][-1][1][1], parts))
    else:
        uses = []
    parts, more = _args(w, args)
    return parts, named, uses + more


def _forward_flat(w: _Writer, ins, row) -> None:
    """``out = f(x, y)``: the row's own forward on arrays, with no context object."""
    _, _ctx, _node, args, attrs, outs = ins
    f = row.f if callable(row.f) else getattr(np, row.f)
    parts, uses = _args(w, args)
    if attrs:
        parts.append("**" + w.const(dict(attrs)))
    out = outs[0]
    lines = [f"{out} = {w.const(f)}({', '.join(parts)})"]
    lines.append(f"if type({out}) is not nd: {out} = asarray({out})")
    w.unit(lines, defs=[out], uses=uses)


def _terms_flat(w: _Writer, rec: Recorder, node, grad: str, ins) -> list:
    """The row's backward written out: per input ``grad * d(saved...)``, or None."""
    row = type(node).row
    _, _ctx, _node, args, attrs, outs = ins
    exprs = {name: _arg(w, a)[0] for name, a in zip(row.inputs, args)}
    exprs["out"] = outs[0]
    for name, default in row.attrs.items():
        exprs[name] = w.const(attrs.get(name, default))
    terms = []
    for (fn, _), dk in zip(node.next_functions, row.d):
        if fn is None or dk is None:
            terms.append(None)
        elif not callable(dk):
            terms.append(grad if dk == 1 else f"{grad} * {w.const(dk)}")
        else:
            call = f"{w.const(dk)}({', '.join(exprs[p] for p in _params(dk))})"
            simple = len(_params(dk)) == 1 and _params(dk)[0] not in row.attrs
            terms.append(f"{grad} * {call}" if simple else f"mulv({grad}, {call})")
    return terms


def _mulv(grad, value):
    """``grad * value``, passing grad through for an integer 1 (as ``_table``'s terms do)."""
    if type(value) is int and value == 1:
        return grad
    return grad * value


def _backward(w: _Writer, rec: Recorder, ins) -> None:
    _, roots, events = ins
    buffers: dict[tuple, str] = {}
    counter = [0]

    def add(key, expr, uses, lines, defs):
        name = buffers.get(key)
        if name is None:
            counter[0] += 1
            name = buffers[key] = f"b{len(w.units)}_{counter[0]}"
            lines.append(f"{name} = {expr}")
            defs.append(name)
        else:
            lines.append(f"{name} = {name} + {expr}")
            uses.append(name)

    lines, defs, uses = [], [], []
    handed = []
    for node, nr, gexpr, _t in roots:
        expr, used = _arg(w, gexpr)
        uses += [u for u in used if _local(u)]
        add((id(node), nr), expr, uses, lines, defs)
        handed.append(buffers[(id(node), nr)])
    hname = f"h{len(w.units)}"
    lines.append(f"{hname} = {{{', '.join(f'id({h})' for h in handed)}{',' if handed else ''}}}"
                 if handed else f"{hname} = set()")
    w.unit(lines, defs=[*defs, hname], uses=uses)
    for ev in events:
        lines, defs, uses = [], [], []
        if ev[0] == "acc":
            _, acc_id, ref, grad_name = ev
            b = buffers[(acc_id, 0)]
            lines.append(f"acc({ref}, {b}, False, {hname})")
            lines.append(f"{grad_name} = {ref}._grad._data")
            w.unit(lines, defs=[grad_name], uses=[b, hname])
            continue
        _, nid, present, shapes = ev
        ctx, node = rec.nodes[nid]
        grads = [buffers.get((nid, k)) if p else None for k, p in enumerate(present)]
        uses += [g for g in grads if g is not None]
        if nid in rec.lowered:
            fwd = rec.forwards[nid]
            terms = _terms_flat(w, rec, node, grads[0], fwd)
            uses += [u for u in _names_in(terms) if _local(u)]
        elif nid in rec.flat:
            if grads[0] is None:
                raise Refused(f"{node.name()} ran without a gradient")
            fwd = rec.forwards[nid]
            parts, named, _ = _flat_args(w, fwd)
            needs = [fn is not None for fn, _ in node.next_functions]
            terms = rec.flat[nid].terms(w, grads[0], parts, fwd[5][0], needs, ctx, named,
                                        node._edges[3])
            uses += [u for u in _names_in(terms) if _local(u)]
        else:
            uses.append(ctx)
            if len(grads) == 1 and grads[0] is not None:
                lines.append(f"r = {ctx}.backward({grads[0]})")
            else:
                glist = ", ".join(g if g is not None else "None" for g in grads)
                lines.append(f"r = {ctx}.backward(*mat({ctx}, [{glist}], False))")
            lines.append("if type(r) is not tuple: r = (r,)")
            terms = [f"r[{i}]" for i in range(len(node.next_functions))]
        for i, (nxt, nr) in enumerate(node.next_functions):
            if nxt is None or i >= len(shapes) or shapes[i] is None:
                continue
            shape, dt = node._input_meta(i)
            got_shape, got_dt = shapes[i]
            expr = terms[i]
            if expr is None:
                continue
            if expr[0] != "r":  # a written-out term: compute it once
                lines.append(f"t = {expr}")
                expr = "t"
            if tuple(got_shape) != tuple(shape):
                expr = f"sumto({expr}, {w.const(tuple(shape))})"
            if got_dt != dt:
                if got_dt.kind == "c" and dt.kind != "c":
                    expr = f"{expr}.real"
                expr = f"{expr}.astype({w.const(dt)})"
            add((id(nxt), nr), expr, uses, lines, defs)
        w.unit(lines, defs=defs, uses=uses)


def _names_in(terms) -> list:
    found = []
    for t in terms:
        if t is not None:
            found += [n for n in _NAME.findall(t)]
    return found


def _call(w: _Writer, rec: Recorder, ins) -> None:
    _, fn, spec = ins
    lines = lower(w, rec, fn, spec)
    if lines is not None:  # an optimizer update written out flat
        w.unit(lines)
        return
    parts, uses = _args(w, spec)
    w.unit([f"{w.const(fn)}({', '.join(parts)})"], uses=uses)


def _make(w: _Writer, ins) -> None:
    _, fn, spec, outs, many = ins
    parts, uses = _args(w, spec)
    names = [o if o is not None else "_" for o in outs]
    target = f"{', '.join(names)}," if many else names[0]
    w.unit([f"{target} = {w.const(fn)}({', '.join(parts)})"],
           defs=[o for o in outs if o is not None], uses=uses)


def _guard(w: _Writer, ins) -> None:
    (_check if ins[0] == "check" else _read)(w, ins)


def _check(w: _Writer, ins) -> None:
    _, test, spec, value, _at = ins
    parts, uses = _args(w, spec)
    msg = w.const(f"{getattr(test, '__name__', 'a check')} gave another answer than at capture")
    w.unit([f"if {w.const(test)}({', '.join(parts)}) != {w.const(value)}: raise GF({msg})"],
           uses=uses)


def _read(w: _Writer, ins) -> None:
    _, name, how, value, _at = ins
    msg = w.const(f"{how}() gave {value!r} when captured")
    w.unit([f"if not same(value({name}, {how!r}), {w.const(value)}): raise GF({msg})"],
           uses=[name.split(".")[0]] if _local(name) else [])


def _guard_lines(w: _Writer, rec: Recorder) -> str:
    checks = []
    for k, t in enumerate(rec.tensors):
        arr = t._data
        checks.append(f"e{k}._data.shape != {w.const(arr.shape)} or "
                      f"e{k}._data.dtype != {w.const(arr.dtype)}")
    if not checks:
        return ""
    return "if " + " or ".join(f"({c})" for c in checks) + \
        ": raise GF('a tensor the step reads changed shape or dtype')"


def _assemble(w: _Writer, head: list[str], n_inputs: int) -> str:
    """The function's text, with ``del`` after each local's last use."""
    last: dict[str, int] = {}
    for k, (_, defs, uses) in enumerate(w.units):
        for n in defs | uses:
            last[n] = k
    params = ", ".join(f"t{k}" for k in range(n_inputs))
    body = [f"i{k} = t{k}._data" for k in range(n_inputs)] + [line for line in head if line]
    for k, (lines, defs, uses) in enumerate(w.units):
        body += lines
        dead = sorted(n for n in defs | uses if last.get(n) == k and not n.startswith("i"))
        if dead and k != len(w.units) - 1:
            body.append("del " + ", ".join(dead))
    return f"def replay({params}):\n" + "\n".join("    " + line for line in body) + "\n"


__all__ = ["GuardFailed", "build"]
