"""retrograd.save/load in torch.save's own format, checked against torch as the oracle."""

import io
import os
import pickle
import zipfile
from collections import Counter, OrderedDict

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import retrograd
import retrograd.nn as nn
from retrograd.serialization import (
    InvalidFileError,
    add_safe_globals,
    clear_safe_globals,
    get_safe_globals,
    safe_globals,
)

# (retrograd dtype, torch dtype, values); bfloat16 is float32 in retrograd (NumPy has none).
DTYPES = [
    ("float16", "float16", [1.5, -2.0, 65504.0]),
    ("float32", "float32", [1.5, -2.25, 3e38]),
    ("float64", "float64", [1.5, -2.25, 1e300]),
    ("int8", "int8", [-128, 0, 127]),
    ("int16", "int16", [-32768, 1, 32767]),
    ("int32", "int32", [-(2**31), 1, 2**31 - 1]),
    ("int64", "int64", [-(2**63), 1, 2**63 - 1]),
    ("uint8", "uint8", [0, 1, 255]),
    ("uint16", "uint16", [0, 1, 65535]),
    ("uint32", "uint32", [0, 1, 2**32 - 1]),
    ("uint64", "uint64", [0, 1, 2**63 + 5]),
    ("bool", "bool", [True, False, True]),
    ("complex64", "complex64", [1 + 2j, -3j, 0.5]),
    ("complex128", "complex128", [1 + 2j, -3j, 1e300]),
]
LEGACY_OK = [d for d in DTYPES if not d[0].startswith("uint") or d[0] == "uint8"]


def _saved_by_torch(obj, legacy=False):
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=not legacy)
    return io.BytesIO(buf.getvalue())


def _saved_by_us(obj, legacy=False):
    buf = io.BytesIO()
    retrograd.save(obj, buf, _use_new_zipfile_serialization=not legacy)
    return io.BytesIO(buf.getvalue())


@pytest.mark.parametrize("legacy", [False, True])
def test_every_dtype_round_trips_both_ways(legacy):
    cases = LEGACY_OK if legacy else DTYPES
    ours = {name: retrograd.tensor(vals, dtype=getattr(retrograd, name)).reshape(1, 3)
            for name, _, vals in cases}
    theirs = torch.load(_saved_by_us(ours, legacy))
    for name, tname, _ in cases:
        assert theirs[name].dtype == getattr(torch, tname), name
        assert theirs[name].shape == (1, 3)
        np.testing.assert_array_equal(theirs[name].numpy(), ours[name].numpy())
    back = retrograd.load(_saved_by_torch(theirs, legacy))
    for name, _, _ in cases:
        assert back[name].dtype == getattr(retrograd, name), name
        np.testing.assert_array_equal(back[name].numpy(), ours[name].numpy())


def test_torch_bfloat16_loads_as_float32_values():
    t = torch.tensor([1.5, -2.25, 3.0e38, 1e-3], dtype=torch.bfloat16)
    for legacy in (False, True):
        out = retrograd.load(_saved_by_torch({"b": t, "view": t[1:]}, legacy))
        assert out["b"].dtype == retrograd.float32 == retrograd.bfloat16
        np.testing.assert_array_equal(out["b"].numpy(), t.float().numpy())
        np.testing.assert_array_equal(out["view"].numpy(), t[1:].float().numpy())
        assert np.shares_memory(out["b"]._data, out["view"]._data)


@pytest.mark.parametrize("legacy", [False, True])
def test_views_of_torch_storage_load_as_views_of_one_array(legacy):
    base = torch.arange(12.0).reshape(3, 4)
    obj = {"base": base, "row": base[1], "col": base[:, 2], "t": base.t(),
           "tail": base.view(-1)[5:], "other": torch.ones(2)}
    out = retrograd.load(_saved_by_torch(obj, legacy))
    for k, v in obj.items():
        np.testing.assert_array_equal(out[k].numpy(), v.numpy())
        assert tuple(out[k].stride()) == v.stride(), k
    for k in ("row", "col", "t", "tail"):
        assert np.shares_memory(out["base"]._data, out[k]._data), k
    assert not np.shares_memory(out["base"]._data, out["other"]._data)
    out["row"].numpy()[0] = -1.0  # one storage: a write shows through every view
    assert out["base"][1, 0].item() == -1.0 and out["t"][0, 1].item() == -1.0


@pytest.mark.parametrize("legacy", [False, True])
def test_our_views_load_in_torch_over_one_storage(legacy):
    base = retrograd.arange(12.0).reshape(3, 4)
    obj = {"base": base, "row": base[1], "col": base[:, 2], "t": base.t(), "same": [base, base]}
    out = torch.load(_saved_by_us(obj, legacy))
    ptr = out["base"].untyped_storage().data_ptr()
    for k in ("row", "col", "t"):
        np.testing.assert_array_equal(out[k].numpy(), obj[k].numpy())
        assert out[k].untyped_storage().data_ptr() == ptr, k
        assert out[k].stride() == tuple(obj[k].stride())
    assert out["same"][0] is out["same"][1]
    assert out["base"].untyped_storage().nbytes() == 48  # the storage saved once
    out["row"][0] = -1.0
    assert out["base"][1, 0].item() == -1.0
    ours = retrograd.load(_saved_by_us(obj, legacy))
    assert np.shares_memory(ours["base"]._data, ours["col"]._data)
    assert ours["same"][0] is ours["same"][1]


def test_parameters_and_requires_grad_both_ways():
    obj = {"p": nn.Parameter(retrograd.ones(2)), "frozen": nn.Parameter(retrograd.ones(1),
                                                                       requires_grad=False),
           "leaf": retrograd.zeros(3, requires_grad=True), "plain": retrograd.zeros(1)}
    theirs = torch.load(_saved_by_us(obj))
    assert isinstance(theirs["p"], torch.nn.Parameter) and theirs["p"].requires_grad
    assert isinstance(theirs["frozen"], torch.nn.Parameter) and not theirs["frozen"].requires_grad
    assert theirs["leaf"].requires_grad and not theirs["plain"].requires_grad
    back = retrograd.load(_saved_by_torch(theirs))
    assert type(back["p"]) is nn.Parameter and back["p"].requires_grad
    assert type(back["frozen"]) is nn.Parameter and not back["frozen"].requires_grad
    assert type(back["leaf"]) is retrograd.Tensor and back["leaf"].requires_grad
    assert back["leaf"].is_leaf and not back["plain"].requires_grad


def test_values_around_tensors_round_trip_both_ways():
    obj = {"od": OrderedDict(b=1, a=2), "counter": Counter("aab"), "set": {1, 2}, "t": (1, "x"),
           "nested": [{"deep": [None, True, 2.5, float("inf")]}], "c": 1 + 2j, "bytes": b"\x00\xff",
           "big": 2**70, "dtype": "placeholder", "size": (2, 3), 7: "int key", (1, 2): "tuple key"}
    ours = dict(obj, dtype=retrograd.float16, device=retrograd.device("cpu"),
                size=retrograd.Size([2, 3]))
    theirs = torch.load(_saved_by_us(ours))
    assert theirs["dtype"] is torch.float16 and theirs["device"] == torch.device("cpu")
    assert theirs["size"] == torch.Size([2, 3]) and isinstance(theirs["size"], torch.Size)
    back = retrograd.load(_saved_by_torch(theirs))
    for k, v in obj.items():
        if k not in ("dtype", "size"):
            assert back[k] == v and type(back[k]) is type(v), k
    assert list(back["od"]) == ["b", "a"]
    assert back["dtype"] is retrograd.float16 and back["device"] == retrograd.device("cpu")
    assert isinstance(back["size"], retrograd.Size) and back["size"] == (2, 3)


def _torch_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))


def _our_model():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))


def test_model_and_optimizer_state_dicts_from_torch_resume_training():
    tmodel = _torch_model()
    topt = torch.optim.Adam(tmodel.parameters(), lr=0.01)
    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(1))
    for _ in range(3):
        topt.zero_grad()
        tmodel(x).pow(2).sum().backward()
        topt.step()
    ckpt = _saved_by_torch({"model": tmodel.state_dict(), "opt": topt.state_dict(), "epoch": 3})
    loaded = retrograd.load(ckpt)
    model = _our_model()
    model.load_state_dict(loaded["model"])
    opt = retrograd.optim.Adam(model.parameters(), lr=0.01)
    opt.load_state_dict(loaded["opt"])
    xr = retrograd.tensor(x.numpy())
    for _ in range(2):
        topt.zero_grad()
        tmodel(x).pow(2).sum().backward()
        topt.step()
        opt.zero_grad()
        model(xr).pow(2).sum().backward()
        opt.step()
    np.testing.assert_allclose(model(xr).detach().numpy(), tmodel(x).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    assert loaded["epoch"] == 3


def test_our_state_dict_loads_into_torch_model(tmp_path):
    retrograd.manual_seed(0)
    model = _our_model()
    opt = retrograd.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(retrograd.ones(2, 4)).sum().backward()
    opt.step()
    path = tmp_path / "ckpt.pt"
    retrograd.save({"model": model.state_dict(), "opt": opt.state_dict()}, path)
    ckpt = torch.load(path)  # weights_only=True: nothing but tensors and containers
    tmodel = _torch_model()
    tmodel.load_state_dict(ckpt["model"])
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.1, momentum=0.9)
    topt.load_state_dict(ckpt["opt"])
    x = np.arange(8.0, dtype=np.float32).reshape(2, 4)
    np.testing.assert_allclose(tmodel(torch.tensor(x)).detach().numpy(),
                               model(retrograd.tensor(x)).detach().numpy(), rtol=1e-6)
    assert zipfile.ZipFile(path).namelist()[0] == "ckpt/data.pkl"


def test_whole_module_needs_weights_only_false(tmp_path):
    model = _our_model()
    path = tmp_path / "model.pt"
    retrograd.save(model, path)
    with pytest.raises(pickle.UnpicklingError, match=r"Weights only load failed") as info:
        retrograd.load(path)
    assert "GLOBAL retrograd.nn.modules.container.Sequential was not an allowed global" \
        in str(info.value)
    assert "add_safe_globals" in str(info.value)
    again = retrograd.load(path, weights_only=False)
    assert type(again) is nn.Sequential
    x = retrograd.ones(3, 4)
    np.testing.assert_array_equal(again(x).detach().numpy(), model(x).detach().numpy())


class Config:
    def __init__(self, lr):
        self.lr = lr


def test_safe_globals_allowlist():
    blob = _saved_by_us({"cfg": Config(0.5)}).getvalue()
    clear_safe_globals()
    with pytest.raises(pickle.UnpicklingError, match=r"GLOBAL test_serialization_torch\.Config"):
        retrograd.load(io.BytesIO(blob))
    with safe_globals([Config]):
        assert get_safe_globals() == [Config]
        assert retrograd.load(io.BytesIO(blob))["cfg"].lr == 0.5
    assert get_safe_globals() == []
    add_safe_globals([(Config, "test_serialization_torch.Config")])
    try:
        assert retrograd.load(io.BytesIO(blob))["cfg"].lr == 0.5
    finally:
        clear_safe_globals()
    with pytest.raises(pickle.UnpicklingError):
        retrograd.load(io.BytesIO(blob))


class _Payload:
    """Pickles as ``func(*args)``: what a hostile checkpoint would run on load."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _hostile(tmp_path, payload, protocol=2, legacy=False):
    """A checkpoint whose data.pkl is a plain pickle of ``payload`` (any protocol)."""
    good = _saved_by_us({"w": retrograd.ones(1)}, legacy).getvalue()
    body = pickle.dumps({"w": payload}, protocol=protocol)
    if legacy:
        return io.BytesIO(pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
                          + pickle.dumps(1001, protocol=2)
                          + pickle.dumps({"little_endian": True}, protocol=2) + body
                          + pickle.dumps([], protocol=2))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, body if info.filename.endswith("data.pkl")
                         else src.read(info))
    return io.BytesIO(out.getvalue())


@pytest.mark.parametrize("legacy", [False, True])
@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_code_in_a_checkpoint_never_runs(tmp_path, protocol, legacy):
    marker = tmp_path / "pwned"
    payloads = [
        (_Payload(os.system, f"touch {marker}"), r"GLOBAL (posix|os)\.system"),
        (_Payload(eval, f"open({str(marker)!r}, 'w')"), r"GLOBAL builtins\.eval"),
        (_Payload(exec, f"open({str(marker)!r}, 'w')"), r"GLOBAL builtins\.exec"),
        (_Payload(open, str(marker), "w"), r"GLOBAL (io|builtins)\.open"),
        (_Payload(getattr, "text", "upper"), r"GLOBAL builtins\.getattr"),
    ]
    for payload, message in payloads:
        f = _hostile(tmp_path, payload, protocol, legacy)
        with pytest.raises((pickle.UnpicklingError, InvalidFileError)) as info:
            retrograd.load(f)
        if protocol > 0:  # protocol 0 pickles objects with opcodes refused outright
            assert info.type is pickle.UnpicklingError
            assert info.match(message), str(info.value)
        assert not marker.exists()
    # Sanity: the same file does run code when the caller says it is trusted.
    retrograd.load(_hostile(tmp_path, _Payload(open, str(marker), "w"), 2, legacy),
                   weights_only=False)
    assert marker.exists()


def test_torch_refuses_the_same_payload_with_the_same_error_class(tmp_path):
    f = _hostile(tmp_path, _Payload(os.system, "true"))
    with pytest.raises(pickle.UnpicklingError) as theirs:
        torch.load(io.BytesIO(f.getvalue()))
    with pytest.raises(pickle.UnpicklingError) as ours:
        retrograd.load(f)
    assert "system" in str(theirs.value) and "system" in str(ours.value)
    assert "Weights only load failed" in str(ours.value)


def test_unsupported_torch_features_are_named():
    f = _saved_by_torch({"q": torch.ones(2, dtype=torch.float8_e4m3fn)})
    with pytest.raises(InvalidFileError, match=r"unsupported dtype torch\.float8_e4m3fn"):
        retrograd.load(f)
    f = _saved_by_torch({"s": torch.eye(2).to_sparse()})
    with pytest.raises(InvalidFileError, match="sparse tensors are not supported"):
        retrograd.load(f)


@pytest.mark.parametrize("legacy", [False, True])
def test_whole_torch_module_loads_as_ours_when_trusted(legacy):
    tmodel = _torch_model()
    f = _saved_by_torch(tmodel, legacy)
    with pytest.raises(pickle.UnpicklingError, match=r"torch\.nn\.modules\.container\.Sequential"):
        retrograd.load(f)
    f.seek(0)
    model = retrograd.load(f, weights_only=False)
    assert type(model) is nn.Sequential and type(model[0]) is nn.Linear
    x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)
    np.testing.assert_allclose(model(retrograd.tensor(x)).detach().numpy(),
                               tmodel(torch.tensor(x)).detach().numpy(), rtol=1e-6)


_slices = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 6), st.integers(1, 3)),
                   min_size=3, max_size=3)


@settings(max_examples=40, deadline=None)
@given(_slices, st.booleans(), st.booleans())
def test_random_views_round_trip_both_ways(bounds, transpose, legacy):
    index = tuple(slice(a, b, step) for a, b, step in bounds)
    base = torch.arange(4 * 5 * 6, dtype=torch.float64).reshape(4, 5, 6)
    view = base[index]
    view = view.transpose(0, 2) if transpose else view
    out = retrograd.load(_saved_by_torch({"base": base, "view": view}, legacy))
    np.testing.assert_array_equal(out["view"].numpy(), view.numpy())
    assert tuple(out["view"].stride()) == view.stride()
    if view.numel():
        assert np.shares_memory(out["view"]._data, out["base"]._data)
    ours = retrograd.arange(4 * 5 * 6, dtype=retrograd.float64).reshape(4, 5, 6)
    mine = ours[index]
    mine = mine.transpose(0, 2) if transpose else mine
    back = torch.load(_saved_by_us({"base": ours, "view": mine}, legacy))
    np.testing.assert_array_equal(back["view"].numpy(), mine.numpy())
    if mine.numel():
        assert back["view"].untyped_storage().data_ptr() == \
            back["base"].untyped_storage().data_ptr()


@pytest.mark.parametrize("legacy", [False, True])
def test_unsafe_globals_are_listed_without_loading(tmp_path, legacy):
    obj = {"cfg": Config(1.0), "w": torch.ones(1), "od": OrderedDict(a=1),
           "run": _Payload(os.system, f"touch {tmp_path / 'pwned'}")}
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=not legacy)
    buf.seek(0)
    found = retrograd.serialization.get_unsafe_globals_in_checkpoint(buf)
    assert found[0] == "test_serialization_torch.Config"
    assert found[1] in ("posix.system", "os.system") and len(found) == 2
    assert not (tmp_path / "pwned").exists()
    protocol4 = _hostile(tmp_path, Config(2.0), protocol=4, legacy=legacy)  # STACK_GLOBAL
    assert retrograd.serialization.get_unsafe_globals_in_checkpoint(protocol4) == \
        ["test_serialization_torch.Config"]
    if not legacy:  # torch's function reads zip checkpoints only
        buf.seek(0)
        assert sorted(torch.serialization.get_unsafe_globals_in_checkpoint(buf)) == sorted(found)
