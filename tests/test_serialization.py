"""safetensors through retrograd.save/load (``*.safetensors`` paths) and
retrograd.serialization.save_safetensors/load_safetensors: no pickle, strict checking."""

import io
import json
import math
import struct
from collections import OrderedDict, namedtuple

import numpy as np
import pytest
import torch
from safetensors.numpy import load as st_load_bytes
from safetensors.torch import load_file, save_file

import retrograd
import retrograd.nn as nn
from retrograd.serialization import InvalidFileError, load_safetensors, save_safetensors


def _model():
    retrograd.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))


def test_state_dict_loads_into_torch_through_safetensors(tmp_path):
    model = _model()
    path = tmp_path / "model.safetensors"
    retrograd.save(model.state_dict(), path)
    loaded = load_file(str(path))
    assert set(loaded) == set(model.state_dict())
    tmodel = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                                 torch.nn.Linear(4 * 6 * 6, 3))
    tmodel.load_state_dict(loaded)
    x = np.random.default_rng(0).standard_normal((2, 1, 8, 8)).astype(np.float32)
    ours = model(retrograd.tensor(x)).detach().numpy()
    theirs = tmodel(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_torch_state_dict_written_by_safetensors_loads(tmp_path):
    torch.manual_seed(0)
    tmodel = torch.nn.Linear(5, 3)
    sd = tmodel.state_dict()
    sd["steps"] = torch.tensor([1, 2, 3], dtype=torch.int64)
    sd["mask"] = torch.tensor([True, False])
    sd["half"] = torch.ones(2, dtype=torch.float16)
    sd["bf16"] = torch.tensor([1.5, -2.25], dtype=torch.bfloat16)
    path = tmp_path / "torch.safetensors"
    save_file(sd, str(path))
    loaded = retrograd.load(path)
    assert set(loaded) == set(sd)
    for k, v in sd.items():
        assert isinstance(loaded[k], retrograd.Tensor)
        np.testing.assert_array_equal(loaded[k].numpy(), v.float().numpy() if k == "bf16"
                                      else v.numpy())
    assert loaded["steps"].dtype == retrograd.int64
    assert loaded["mask"].dtype == retrograd.bool
    assert loaded["half"].dtype == retrograd.float16
    model = nn.Linear(5, 3)
    model.load_state_dict({k: loaded[k] for k in ("weight", "bias")})
    np.testing.assert_array_equal(model.weight.detach().numpy(), sd["weight"].numpy())


def test_nested_round_trip_file_object():
    Point = namedtuple("Point", "x y")
    t = retrograd.arange(6.0).reshape(2, 3)
    obj = {
        "model": OrderedDict([("w", t), ("b", retrograd.zeros(3, dtype=retrograd.float64))]),
        "epoch": 7, "lr": 0.125, "name": "run-1", "flags": [True, False, None],
        "pair": (1, "two", 3.0), 0: "int key", (1, 2): "tuple key", "nan": math.nan,
        "inf": -math.inf, "dtype": retrograd.float16, "shared": [t, t],
        "grad": retrograd.ones(2, requires_grad=True), "empty": retrograd.zeros(0, 4),
        "scalar": retrograd.tensor(3.5), "int8": retrograd.tensor([1, -2], dtype=retrograd.int8),
        "complex": retrograd.tensor([1 + 2j, 3 - 1j], dtype=retrograd.complex128),
        "c64": retrograd.tensor([1 + 2j], dtype=retrograd.complex64),
        "array": np.arange(3, dtype=np.int32), "noncontig": t.t(),
        "point": Point(1, 2),
    }
    buf = io.BytesIO()
    save_safetensors(obj, buf)
    out = load_safetensors(io.BytesIO(buf.getvalue()))
    assert isinstance(out["model"], OrderedDict) and list(out["model"]) == ["w", "b"]
    np.testing.assert_array_equal(out["model"]["w"].numpy(), t.numpy())
    assert out["model"]["b"].dtype == retrograd.float64
    assert out["epoch"] == 7 and isinstance(out["epoch"], int)
    assert out["lr"] == 0.125 and out["name"] == "run-1"
    assert out["flags"] == [True, False, None]
    assert out["pair"] == (1, "two", 3.0)
    assert out[0] == "int key" and out[(1, 2)] == "tuple key"
    assert math.isnan(out["nan"]) and out["inf"] == -math.inf
    assert out["dtype"] is retrograd.float16
    assert out["shared"][0] is out["shared"][1]
    assert out["grad"].requires_grad and not out["model"]["w"].requires_grad
    assert tuple(out["empty"].shape) == (0, 4)
    assert out["scalar"].shape == () and out["scalar"].item() == 3.5
    assert out["int8"].dtype == retrograd.int8
    assert out["complex"].dtype == retrograd.complex128
    np.testing.assert_array_equal(out["complex"].numpy(), [1 + 2j, 3 - 1j])
    assert out["c64"].dtype == retrograd.complex64
    assert isinstance(out["array"], np.ndarray) and out["array"].dtype == np.int32
    np.testing.assert_array_equal(out["noncontig"].numpy(), t.numpy().T)
    assert out["point"] == (1, 2)  # namedtuples come back as tuples
    # Loaded tensors own writable memory.
    out["model"]["w"].numpy()[0, 0] = 100.0
    assert t[0, 0].item() == 0.0


def test_optimizer_state_dict_round_trip(tmp_path):
    w = retrograd.tensor([1.0, -2.0, 3.0], requires_grad=True)
    opt = retrograd.optim.Adam([w], lr=0.1, betas=(0.8, 0.9), amsgrad=True)
    for _ in range(3):
        w.grad = w.detach() * 2
        opt.step()
    path = tmp_path / "opt.safetensors"
    retrograd.save({"optimizer": opt.state_dict(), "step": 3}, path)
    saved = retrograd.load(path)
    w2 = retrograd.tensor(w.detach().numpy().copy(), requires_grad=True)
    opt2 = retrograd.optim.Adam([w2], lr=1.0)
    opt2.load_state_dict(saved["optimizer"])
    assert opt2.param_groups[0]["betas"] == (0.8, 0.9)
    for o, p in ((opt, w), (opt2, w2)):
        p.grad = p.detach() * 2
        o.step()
    np.testing.assert_array_equal(w.detach().numpy(), w2.detach().numpy())
    # The file's tensors are readable by safetensors too (flattened names).
    names = set(st_load_bytes(path.read_bytes()))
    assert "optimizer.state.0.exp_avg" in names


def test_unsupported_objects_are_refused(tmp_path):
    with pytest.raises(TypeError, match="can't save an object of type Sequential"):
        save_safetensors(_model(), io.BytesIO())
    with pytest.raises(TypeError, match="of type function"):
        retrograd.save({"f": lambda: 0}, tmp_path / "f.safetensors")


def _saved_bytes():
    buf = io.BytesIO()
    save_safetensors({"a": retrograd.arange(10.0), "b": [retrograd.ones(3, dtype=retrograd.int64)],
                      "c": 1}, buf)
    return buf.getvalue()


def _with_header(blob, edit):
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    edit(header)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + blob[8 + n:]


def test_truncated_files_raise_clear_errors():
    blob = _saved_bytes()
    (n,) = struct.unpack("<Q", blob[:8])
    for cut in [0, 3, 8, 8 + n // 2, 8 + n, 8 + n + 5, len(blob) - 1]:
        with pytest.raises(InvalidFileError, match="invalid file") as info:
            load_safetensors(io.BytesIO(blob[:cut]))
        assert any(word in str(info.value) for word in ("short", "truncated", "JSON", "past"))
    # Trailing garbage is also refused (the data would not match the header).
    with pytest.raises(InvalidFileError, match="data bytes but the file has"):
        load_safetensors(io.BytesIO(blob + b"xx"))


def test_malformed_headers_raise_clear_errors():
    blob = _saved_bytes()
    huge = struct.pack("<Q", 2**62) + blob[8:]
    with pytest.raises(InvalidFileError, match="larger than the limit"):
        load_safetensors(io.BytesIO(huge))
    bad_json = blob[:8] + b"{not json" + blob[8 + len(b"{not json"):]
    with pytest.raises(InvalidFileError, match="not valid JSON"):
        load_safetensors(io.BytesIO(bad_json))

    def shift(h):
        h["a"]["data_offsets"] = [h["a"]["data_offsets"][0] + 8, h["a"]["data_offsets"][1] + 8]

    def wrong_size(h):
        h["a"]["data_offsets"][1] -= 8

    def bad_dtype(h):
        h["a"]["dtype"] = "F128"

    def bad_shape(h):
        h["a"]["shape"] = [-10]

    def missing_ref(h):
        meta = json.loads(h["__metadata__"]["retrograd"])
        meta["object"]["__dict__"][0][1]["__tensor__"] = "nope"
        h["__metadata__"]["retrograd"] = json.dumps(meta)

    def bad_structure(h):
        h["__metadata__"]["retrograd"] = '{"version": 1, "object": {"__pickle__": "x"}}'

    def bad_meta_json(h):
        h["__metadata__"]["retrograd"] = "{oops"

    def not_object(h):
        h.clear()
        h["x"] = [1, 2]

    cases = [(shift, "starts at byte|data_offsets"), (wrong_size, "span"),
             (bad_dtype, "unsupported dtype"), (bad_shape, "bad shape"),
             (missing_ref, "missing tensor"), (bad_structure, "unknown structure tag"),
             (bad_meta_json, "structure entry is not valid JSON"), (not_object, "not an object")]
    for edit, message in cases:
        with pytest.raises(InvalidFileError, match=message):
            load_safetensors(io.BytesIO(_with_header(blob, edit)))


def test_save_to_path_is_atomic_and_load_accepts_torch_kwargs(tmp_path):
    path = tmp_path / "x.safetensors"
    retrograd.save({"a": retrograd.ones(2)}, str(path))
    with pytest.raises(TypeError):
        retrograd.save({"a": object()}, str(path))
    # The failed save left the previous file intact and no temporary behind.
    out = retrograd.load(path, map_location="cpu", weights_only=True)
    np.testing.assert_array_equal(out["a"].numpy(), [1, 1])
    assert [p.name for p in tmp_path.iterdir()] == ["x.safetensors"]


def test_load_tells_formats_apart_by_content(tmp_path):
    # The suffix picks the format on save; on load the first bytes do (zip, legacy pickle
    # stream, else safetensors), so a file object of either kind loads.
    obj = {"w": retrograd.arange(3.0)}
    for name in ("a.pt", "a.safetensors"):
        retrograd.save(obj, tmp_path / name)
        with open(tmp_path / name, "rb") as fh:
            np.testing.assert_array_equal(retrograd.load(fh)["w"].numpy(), [0, 1, 2])
    assert (tmp_path / "a.pt").read_bytes()[:4] == b"PK\x03\x04"
    assert load_file(str(tmp_path / "a.safetensors"))["w"].tolist() == [0, 1, 2]


def test_header_length_starting_with_pickle_byte_still_loads():
    # A header of 384 bytes starts the file with 0x80, like a pickle: it must still load.
    for pad in range(200):
        buf = io.BytesIO()
        save_safetensors({"k" * pad: retrograd.ones(1)}, buf)
        if buf.getvalue()[:1] == b"\x80":
            assert retrograd.load(io.BytesIO(buf.getvalue()))["k" * pad].item() == 1.0
            break
    else:
        raise AssertionError("no header length starting with 0x80 was produced")
