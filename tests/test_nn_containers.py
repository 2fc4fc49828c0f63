"""Containers edited the same way in retrograd and torch: same children, keys, reprs, errors."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import retrograd as R


def _outcome(fn):
    """What ``fn`` returns (as a repr) or raises (class name and message)."""
    try:
        return "ok", repr(fn())
    except Exception as e:  # the class and text are what we compare
        return type(e).__name__, str(e).replace("retrograd", "torch")


def _same(lib_fn):
    """Run ``lib_fn(lib)`` with each library; the outcomes must agree."""
    ours, theirs = _outcome(lambda: lib_fn(R)), _outcome(lambda: lib_fn(torch))
    assert ours[0] == theirs[0], (ours, theirs)
    if ours[0] != "AssertionError":  # PyTorch's text names its own Module class path
        assert ours == theirs


def _layers(lib):
    nn = lib.nn
    return [nn.ReLU(), nn.Tanh(), nn.Sigmoid(), nn.GELU(), nn.Identity()]


EDITS = {
    "insert_mid": lambda s, lib: s.insert(1, lib.nn.Softsign()),
    "insert_end": lambda s, lib: s.insert(len(s), lib.nn.Softsign()),
    "insert_neg": lambda s, lib: s.insert(-len(s), lib.nn.Softsign()),
    "insert_bad": lambda s, lib: s.insert(99, lib.nn.Softsign()),
    "append": lambda s, lib: s.append(lib.nn.ELU()),
    "extend": lambda s, lib: s.extend([lib.nn.ELU(), lib.nn.SELU()]),
    "pop": lambda s, lib: s.pop(2),
    "pop_neg": lambda s, lib: s.pop(-1),
    "del": lambda s, lib: s.__delitem__(1),
    "del_slice": lambda s, lib: s.__delitem__(slice(1, None, 2)),
    "setitem": lambda s, lib: s.__setitem__(-2, lib.nn.ELU()),
    "setitem_bad": lambda s, lib: s.__setitem__(7, lib.nn.ELU()),
    "getitem_bad": lambda s, lib: s[-9],
    "getitem_str": lambda s, lib: s["a"],
    "slice": lambda s, lib: s[1:4],
    "slice_step": lambda s, lib: s[::-2],
}


# torch's ModuleList.insert breaks on negative or too-large indices (KeyError, sparse keys);
# ours follows Sequential.insert there, tested in test_module_list_insert_like_list.
CASES = [(k, e) for k in ("Sequential", "ModuleList") for e in EDITS
         if not (k == "ModuleList" and e in ("insert_neg", "insert_bad"))]


@pytest.mark.parametrize(("kind", "edit"), CASES)
def test_sequence_edits_match_torch(kind, edit):
    def run(lib):
        cls = getattr(lib.nn, kind)
        seq = cls(*_layers(lib)) if kind == "Sequential" else cls(_layers(lib))
        result = EDITS[edit](seq, lib)
        return result if result is not seq else None, list(seq._modules), repr(seq)

    _same(run)


def test_module_list_insert_like_list():
    ml = R.nn.ModuleList([R.nn.ReLU(), R.nn.Tanh()])
    ml.insert(-1, R.nn.Sigmoid())
    assert [type(m).__name__ for m in ml] == ["ReLU", "Sigmoid", "Tanh"]
    assert list(ml._modules) == ["0", "1", "2"]
    with pytest.raises(IndexError, match="Index out of range: 5"):
        ml.insert(5, R.nn.ReLU())
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        ml.insert(0, 3)


@pytest.mark.parametrize("op", ["add", "iadd", "mul", "rmul", "imul", "mul0", "mulf", "addbad"])
def test_sequential_operators_match_torch(op):
    def run(lib):
        nn = lib.nn
        a, b = nn.Sequential(nn.ReLU(), nn.Tanh()), nn.Sequential(nn.Sigmoid())
        out = {
            "add": lambda: a + b, "iadd": lambda: a.__iadd__(b), "mul": lambda: a * 3,
            "rmul": lambda: 2 * a, "imul": lambda: a.__imul__(2), "mul0": lambda: a * 0,
            "mulf": lambda: a * 1.5, "addbad": lambda: a + 3,
        }[op]()
        return repr(out), list(out._modules), repr(a)

    _same(run)


def test_sequential_named_children_slice_and_delete():
    def run(lib):
        nn = lib.nn
        seq = nn.Sequential(OrderedDict(a=nn.ReLU(), b=nn.Tanh(), c=nn.ReLU()))
        sliced = seq[1:]
        seq.append(nn.Sigmoid())
        before = list(seq._modules)
        del seq[0]
        return list(sliced._modules), before, list(seq._modules), repr(seq)

    _same(run)


def test_module_list_repr_folds_repeated_blocks():
    def run(lib):
        nn = lib.nn
        lib.manual_seed(0)
        inner = nn.Sequential(nn.Linear(1, 1), nn.Linear(1, 1))
        parts = [nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU()] * 2 + [inner] * 2
        parts += [nn.Tanh(), nn.Linear(2, 2)]
        model = nn.Module()
        model.blocks = nn.ModuleList(parts)
        return repr(nn.ModuleList(parts)), repr(model), repr(nn.ModuleList())

    _same(run)


def test_module_list_operators_and_errors():
    def run(lib):
        nn = lib.nn
        ml = nn.ModuleList([nn.ReLU()])
        ml += [nn.Tanh()]
        joined = ml + [nn.Sigmoid()]
        errors = [_outcome(lambda: ml.extend(3)), _outcome(lambda: ml.append(3))]
        return list(joined._modules), repr(joined), repr(ml), errors, dir(ml)[:0]

    _same(run)


def test_module_dict_edits_match_torch():
    def run(lib):
        nn = lib.nn
        md = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Tanh()})
        md.update([("c", nn.Sigmoid())])
        md.update(nn.ModuleDict({"d": nn.GELU()}))
        md["e"] = nn.ELU()
        popped = md.pop("a")
        del md["b"]
        errors = [_outcome(lambda: md.update(3)), _outcome(lambda: md.update([3])),
                  _outcome(lambda: md.update([(1, 2, 3)])), _outcome(lambda: md["zz"])]
        state = (list(md), list(md.keys()), "c" in md, len(md), repr(md), repr(popped), errors)
        md.clear()
        return state, repr(md)

    _same(run)


def test_parameter_list_edits_match_torch():
    def run(lib):
        nn = lib.nn
        pl = nn.ParameterList([lib.zeros(2), nn.Parameter(lib.ones(3, 2, dtype=lib.float64)),
                               "x", 3])
        pl[0] = lib.ones(1)
        pl += [lib.ones(4)]
        pl.append(None)
        head = pl[1:3]
        errors = [_outcome(lambda: pl.extend(lib.ones(2))), _outcome(lambda: pl.extend(3)),
                  _outcome(lambda: pl[9]), _outcome(lambda: pl(1))]
        return (repr(pl), len(pl), type(pl[0]).__name__, list(dict(pl.named_parameters())),
                repr(head), len(head), errors, repr(nn.ParameterList()))

    _same(run)


def test_parameter_dict_edits_match_torch():
    def run(lib):
        nn = lib.nn
        pd = nn.ParameterDict({"b": lib.zeros(2), "a": nn.Parameter(lib.ones(1, 2)), "c": "s"})
        ordered = nn.ParameterDict(OrderedDict(b=lib.zeros(2), a=lib.ones(1)))
        out = [list(pd), repr(pd), list(ordered), type(pd["a"]).__name__]
        out.append(pd.get("zz", 5))
        out.append(tuple(pd.setdefault("q", lib.ones(1)).shape))
        out.append(pd.popitem()[0])
        out.append(list(pd.fromkeys(["x", "y"])))
        out.append(list(pd | ordered))
        out.append(list({"z": lib.ones(1)} | pd))
        out.append(list(reversed(pd)))
        pd |= {"w": lib.ones(1)}
        out.append(list(pd.keys()))
        out.append(("a" in pd, len(pd), type(pd.copy()).__name__))
        for bad in (lambda: pd.update(3), lambda: pd.update([(1, 2, 3)]),
                    lambda: pd.update([3]), lambda: pd(1), lambda: pd["zz"]):
            out.append(_outcome(bad))
        del pd["a"]
        out.append(list(pd))
        pd.clear()
        out.append((repr(pd), len(pd)))
        return out

    _same(run)


_NAMES = ["ReLU", "Tanh", "Sigmoid", "GELU", "ELU"]


@settings(max_examples=30, deadline=None)
@given(kind=st.sampled_from(["Sequential", "ModuleList"]),
       ops=st.lists(st.tuples(st.sampled_from(["append", "insert", "pop", "del", "set",
                                               "del_slice"]),
                              st.integers(-6, 6), st.sampled_from(_NAMES)), max_size=8))
def test_random_edit_sequences_match_torch(kind, ops):
    """Any sequence of in-range edits leaves both libraries with the same children."""

    def run(lib):
        seq = getattr(lib.nn, kind)([lib.nn.Identity()]) if kind == "ModuleList" else \
            getattr(lib.nn, kind)(lib.nn.Identity())
        for op, i, name in ops:
            n, layer = len(seq), getattr(lib.nn, name)()
            if op == "append":
                seq.append(layer)
            elif op == "insert" and 0 <= i <= n:  # torch's ModuleList breaks on i < 0
                seq.insert(i, layer)
            elif op == "del_slice":
                del seq[i:]
            elif n and -n <= i < n:
                if op == "pop":
                    seq.pop(i)
                elif op == "del":
                    del seq[i]
                elif op == "set":
                    seq[i] = layer
        return list(seq._modules), repr(seq)

    assert run(R) == run(torch)
