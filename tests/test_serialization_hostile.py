"""retrograd.load on hostile or broken files: one clear error class, nothing allocated first.

Every case here was found by mutating valid files; each used to escape as RecursionError,
TypeError, RuntimeError, a bare NumPy ValueError, or to load something impossible.
"""

import io
import json
import struct

import numpy as np
import pytest
import torch
from safetensors.torch import save as st_save

import retrograd
from retrograd.serialization import InvalidFileError, load_safetensors, save_safetensors


def _file(header: dict, data: bytes = b"") -> io.BytesIO:
    text = json.dumps(header).encode()
    return io.BytesIO(struct.pack("<Q", len(text)) + text + data)


def _structured(structure_json: str, header_extra=None) -> io.BytesIO:
    header = {"__metadata__": {"format": "pt", "retrograd": structure_json}}
    header.update(header_extra or {})
    return _file(header)


def _entry(dtype="F32", shape=(1,), nbytes=4):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": [0, nbytes]}


@pytest.mark.parametrize("depth", [3_000, 100_000])
def test_deeply_nested_header_and_structure(depth):
    with pytest.raises(InvalidFileError, match="nested deeper than"):
        load_safetensors(io.BytesIO(struct.pack("<Q", 2 * depth) + b"[" * depth + b"]" * depth))
    header = {"__metadata__": {"x": "y"}, "a": _entry()}
    text = json.dumps(header).encode()[:-1] + b', "deep": ' + b"[" * depth + b"]" * depth + b"}"
    with pytest.raises(InvalidFileError, match="nested deeper than"):
        load_safetensors(io.BytesIO(struct.pack("<Q", len(text)) + text + bytes(4)))
    deep = '{"version": 1, "object": ' + '{"__list__": [' * depth + "1" + "]}" * depth + "}"
    with pytest.raises(InvalidFileError, match="structure entry is nested deeper"):
        load_safetensors(_structured(deep))


def test_structure_values_are_checked():
    cases = [
        ('{"__complex__": [null, 1]}', r"bad structure entry \{'__complex__'"),
        ('{"__complex__": ["1", 2]}', r"bad structure entry \{'__complex__'"),
        ('{"__device__": "cuda:-5"}', r"bad structure entry \{'__device__': 'cuda:-5'\}"),
        ('{"__device__": "tpu"}', "bad structure entry"),
        ('{"__dtype__": "__class__"}', "bad structure entry"),
        ('{"__float__": "1e400"}', "bad structure entry"),
        ('{"__pickle__": "x"}', "unknown structure tag '__pickle__'"),
        ('{"__dict__": [[{"__list__": []}, 1]]}', "unhashable dict key"),
    ]
    for node, message in cases:
        with pytest.raises(InvalidFileError, match=message):
            load_safetensors(_structured(f'{{"version": 1, "object": {node}}}'))
    good = '{"version": 1, "object": {"__device__": "cuda:1"}}'
    assert str(load_safetensors(_structured(good))) == "cuda:1"


def test_requires_grad_on_an_integer_entry():
    structure = ('{"version": 1, "object": {"__dict__": [["n", {"__tensor__": "n", '
                 '"requires_grad": true}]]}}')
    header = {"__metadata__": {"retrograd": structure}, "n": _entry("I64", (1,), 8)}
    text = json.dumps(header).encode()
    blob = struct.pack("<Q", len(text)) + text + bytes(8)
    with pytest.raises(InvalidFileError, match="int64 is marked requires_grad"):
        load_safetensors(io.BytesIO(blob))


@pytest.mark.parametrize("shape,message", [
    ([0, 2**63], "impossible shape"), ([2**32, 2**32, 0], "impossible shape"),
    ([1] * 65, "65 dimensions"), ([2**62, 0], "impossible shape"), ([-1], "bad shape"),
    ([1.5], "bad shape"), ([True], "bad shape"), ("3", "bad shape"),
])
def test_impossible_shapes(shape, message):
    f = _file({"a": {"dtype": "F32", "shape": shape, "data_offsets": [0, 0]}})
    with pytest.raises(InvalidFileError, match=message) as info:
        load_safetensors(f)
    assert "<BytesIO>" in str(info.value)  # names the file


def test_metadata_must_be_an_object(tmp_path):
    path = tmp_path / "bad.safetensors"
    for meta in (0, [], "x", {"k": 1}):
        path.write_bytes(_file({"__metadata__": meta, "a": _entry()}, bytes(4)).getvalue())
        with pytest.raises(InvalidFileError, match="__metadata__ must map strings to strings") \
                as info:
            retrograd.load(path)
        assert str(path) in str(info.value)


def test_unsigned_and_float8_dtypes_written_by_pytorch():
    data = {"u16": torch.tensor([0, 65535], dtype=torch.uint16),
            "u32": torch.tensor([[1, 2**32 - 1]], dtype=torch.uint32),
            "u64": torch.tensor([2**64 - 1], dtype=torch.uint64)}
    out = retrograd.load(io.BytesIO(st_save(data)))
    for k, v in data.items():
        assert str(out[k].dtype) == str(v.dtype)
        assert repr(out[k]) == repr(v)  # prints as PyTorch prints it
        np.testing.assert_array_equal(out[k].numpy(), v.numpy())
    buf = io.BytesIO()
    save_safetensors(out, buf)  # and back
    assert retrograd.load(io.BytesIO(buf.getvalue()))["u64"].tolist() == [2**64 - 1]
    f8 = st_save({"f": torch.zeros(2, dtype=torch.float8_e4m3fn)})
    with pytest.raises(InvalidFileError, match="unsupported dtype F8_E4M3"):
        retrograd.load(io.BytesIO(f8))


def test_limited_unsigned_dtypes_behave_like_pytorch():
    for name in ("uint16", "uint32", "uint64"):
        ours, theirs = getattr(retrograd, name), getattr(torch, name)
        assert not ours.is_signed and ours.itemsize == theirs.itemsize
        assert ours.is_floating_point is False
        t = retrograd.tensor([1, 2, 3], dtype=ours)
        assert repr(t) == repr(torch.tensor([1, 2, 3], dtype=theirs))
        assert (t == t).all().item()
        with pytest.raises(RuntimeError, match="Promotion for uint16, uint32, uint64 types is "
                                               "not supported, attempted to promote UInt"):
            retrograd.promote_types(ours, retrograd.int64)
        with pytest.raises(RuntimeError) as theirs_err:
            torch.promote_types(theirs, torch.int64)
        with pytest.raises(RuntimeError) as ours_err:
            retrograd.promote_types(ours, retrograd.int64)
        assert str(ours_err.value) == str(theirs_err.value)
