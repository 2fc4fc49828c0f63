"""Mutated files (seeded): load either succeeds or raises the documented error, never another
exception, never a hang, never a large allocation.

Documented errors: InvalidFileError (a ValueError) for a damaged file, and, for torch.save
pickles only, pickle.UnpicklingError when a mutation makes the pickle name a global outside
the allowlist.
"""

import io
import json
import pickle
import random
import signal
import struct
import tracemalloc
import zipfile

import pytest
import torch

import retrograd
from retrograd.serialization import InvalidFileError, load_safetensors, save_safetensors

# A mutation may claim gigabytes; loading must refuse it before allocating.
MEMORY_LIMIT = 32 * 2**20


@pytest.fixture(autouse=True)
def no_hang():
    """A hang fails the test instead of blocking the suite (SIGALRM, main thread)."""
    def alarm(signum, frame):
        raise AssertionError("load hung on a mutated file")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(120)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _obj():
    base = retrograd.arange(12.0).reshape(3, 4)
    return {"w": base, "row": base[1], "n": retrograd.tensor([1, 2], dtype=retrograd.int64),
            "meta": {"epoch": 3, "names": ["a", "b"], "lr": 0.5}, "flag": True}


def _check(blobs, loader, errors):
    """Load every blob; return how many loaded (the rest must raise one of ``errors``)."""
    loaded = 0
    tracemalloc.start()
    try:
        for blob in blobs:
            tracemalloc.reset_peak()
            try:
                loader(io.BytesIO(blob))
                loaded += 1
            except errors:
                pass
            peak = tracemalloc.get_traced_memory()[1]
            assert peak < MEMORY_LIMIT, f"{peak} bytes allocated for a {len(blob)}-byte file"
    finally:
        tracemalloc.stop()
    return loaded


def _flips(blob, rng, count, region=None):
    lo, hi = region or (0, len(blob))
    for _ in range(count):
        out = bytearray(blob)
        for _ in range(rng.randint(1, 3)):
            out[rng.randrange(lo, hi)] ^= 1 << rng.randrange(8)
        yield bytes(out)


def _safetensors_blob():
    buf = io.BytesIO()
    save_safetensors(_obj(), buf)
    return buf.getvalue()


def _header_edits(blob, rng, count):
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    names = [k for k in header if k != "__metadata__"]
    values = [-1, 0, 1, 2**31, 2**32, 2**63 - 1, 2**63, 2**64, 10**30, 1.5, None, "x", [], {}]
    for _ in range(count):
        h = json.loads(json.dumps(header))
        entry = h[rng.choice(names)]
        field = rng.choice(["dtype", "shape", "data_offsets", "extra", "new"])
        if field == "dtype":
            entry["dtype"] = rng.choice(["F8_E4M3", "U64", "BF16", "C64", "F128", 3, None])
        elif field == "shape":
            entry["shape"] = rng.choice([[rng.choice(values)], [0, 2**63], [2**32, 2**32, 0],
                                         [1] * 65 + entry["shape"],
                                         entry["shape"] + [rng.choice(values)]])
        elif field == "new":  # a consistent extra entry: only its shape is wrong
            end = len(blob) - 8 - n
            h["zz"] = {"dtype": rng.choice(["F32", "U16", "BF16"]), "data_offsets": [end, end],
                       "shape": rng.choice([[0, 2**63], [2**32, 2**32, 0], [0] + [1] * 64,
                                            [0, 2**62, 2**62], [0, rng.choice(values)]])}
        elif field == "data_offsets":
            entry["data_offsets"][rng.randrange(2)] = rng.choice(values)
        else:
            h["__metadata__"] = rng.choice([0, [], {"k": 1}, None])
        text = json.dumps(h).encode()
        yield struct.pack("<Q", len(text)) + text + blob[8 + n:]
    for length in (0, 1, n - 1, n + 1, len(blob), 2**31, 2**63, 2**64 - 1):
        yield struct.pack("<Q", length) + blob[8:]


def test_safetensors_mutations():
    rng = random.Random(0)
    blob = _safetensors_blob()
    blobs = [blob[:cut] for cut in range(len(blob))]
    blobs += list(_flips(blob, rng, 400))
    blobs += list(_header_edits(blob, rng, 300))
    blobs += [struct.pack("<Q", 2 * d) + b"[" * d + b"]" * d for d in (10, 3000, 100_000)]
    loaded = _check(blobs, load_safetensors, InvalidFileError)
    assert _check([blob], load_safetensors, InvalidFileError) == 1
    assert loaded < len(blobs) // 2  # most mutations are caught, not silently accepted


def _zip_with_pickle(blob, body):
    """The same archive with data.pkl replaced (valid CRCs: the unpickler sees the bytes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blob)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, body if info.filename.endswith("data.pkl")
                         else src.read(info))
    return out.getvalue()


def _pickle_of(blob):
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        return z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))


def _torch_blobs():
    ours = io.BytesIO()
    retrograd.save(_obj(), ours)
    theirs = io.BytesIO()
    torch.save({"w": torch.arange(6.0).reshape(2, 3), "b": torch.ones(2, dtype=torch.bfloat16),
                "p": torch.nn.Parameter(torch.zeros(1))}, theirs)
    return [ours.getvalue(), theirs.getvalue()]


def _pickle_edits(body, rng, count):
    """Mutations of the pickle itself: flips, truncation, huge lengths, sizes and memo slots."""
    yield from _flips(body, rng, count)
    for cut in range(0, len(body), 7):
        yield body[:cut]
    huge = [body.replace(b"K\x0ct", b"J\xff\xff\xff\x7ft"),  # storage numel 2**31 - 1
            body[:40] + b"X\xff\xff\xff\xff" + body[40:],  # a 4 GB string
            b"\x80\x02r\xff\xff\xff\x7f" + body[2:],  # memo slot 2**31 - 1
            b"\x80\x02B\xff\xff\xff\x7fab.",  # BINBYTES claiming 2 GB
            b"\x80\x02(" * 10_000 + b"."]
    yield from huge


def test_torch_format_mutations():
    rng = random.Random(1)
    errors = (InvalidFileError, pickle.UnpicklingError)
    blobs = []
    for blob in _torch_blobs():
        blobs += [blob[:cut] for cut in range(0, len(blob), 3)]
        blobs += list(_flips(blob, rng, 200))
        body = _pickle_of(blob)
        blobs += [_zip_with_pickle(blob, b) for b in _pickle_edits(body, rng, 300)]
    loaded = _check(blobs, retrograd.load, errors)
    assert _check(_torch_blobs(), retrograd.load, errors) == 2
    assert loaded < len(blobs) // 2
    # Listing a file's globals reads the same bytes without loading: same guarantees.
    _check(blobs[::3], retrograd.serialization.get_unsafe_globals_in_checkpoint,
           InvalidFileError)


def test_legacy_format_mutations():
    rng = random.Random(2)
    buf = io.BytesIO()
    retrograd.save(_obj(), buf, _use_new_zipfile_serialization=False)
    blob = buf.getvalue()
    blobs = [blob[:cut] for cut in range(len(blob))]
    blobs += list(_flips(blob, rng, 400))
    blobs += [blob[:-8] + struct.pack("<q", 2**62)]
    loaded = _check(blobs, retrograd.load, (InvalidFileError, pickle.UnpicklingError))
    assert _check([blob], retrograd.load, InvalidFileError) == 1
    assert loaded < len(blobs) // 2
