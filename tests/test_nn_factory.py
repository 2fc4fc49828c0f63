"""``device=`` and ``dtype=`` in every layer constructor that takes them, against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from nn_common import close, copy_weights, to_np

import retrograd as R

rng = np.random.default_rng(0)


def _x(*shape):
    return rng.standard_normal(shape)


def _idx(*shape):
    return rng.integers(0, 5, shape)


# (layer, constructor args, kwargs, inputs as numpy arrays)
LAYERS = [
    ("Linear", (3, 4), {}, [_x(2, 3)]),
    ("Bilinear", (3, 2, 4), {}, [_x(5, 3), _x(5, 2)]),
    ("Conv1d", (2, 3, 3), {"padding": "same"}, [_x(2, 2, 7)]),
    ("Conv2d", (2, 4, 3), {"groups": 2, "padding_mode": "reflect", "padding": 1},
     [_x(1, 2, 5, 6)]),
    ("Conv3d", (2, 3, 2), {"stride": 2}, [_x(1, 2, 4, 4, 4)]),
    ("ConvTranspose1d", (2, 3, 3), {"stride": 2}, [_x(2, 2, 5)]),
    ("ConvTranspose2d", (2, 4, 3), {"output_padding": 1, "stride": 2}, [_x(1, 2, 4, 3)]),
    ("ConvTranspose3d", (2, 2, 2), {}, [_x(1, 2, 3, 3, 3)]),
    ("Embedding", (5, 3), {"padding_idx": 1}, [_idx(2, 4)]),
    ("EmbeddingBag", (5, 3), {"mode": "sum"}, [_idx(2, 4)]),
    ("BatchNorm1d", (3,), {}, [_x(4, 3)]),
    ("BatchNorm2d", (3,), {"momentum": None}, [_x(2, 3, 2, 2)]),
    ("BatchNorm3d", (2,), {"affine": False}, [_x(2, 2, 2, 2, 2)]),
    ("InstanceNorm1d", (3,), {"affine": True, "track_running_stats": True}, [_x(2, 3, 5)]),
    ("InstanceNorm2d", (3,), {"affine": True, "bias": False}, [_x(2, 3, 4, 4)]),
    ("InstanceNorm3d", (2,), {}, [_x(2, 2, 3, 3, 3)]),
    ("LayerNorm", ((2, 3),), {"bias": False}, [_x(4, 2, 3)]),
    ("GroupNorm", (2, 4), {}, [_x(3, 4, 5)]),
    ("RMSNorm", (3,), {"eps": 1e-6}, [_x(2, 3)]),
    ("PReLU", (3,), {}, [_x(2, 3, 4)]),
    ("RNN", (3, 4), {"nonlinearity": "relu"}, [_x(5, 2, 3)]),
    ("LSTM", (3, 5), {"proj_size": 2, "num_layers": 2}, [_x(5, 2, 3)]),
    ("GRU", (3, 4), {"bidirectional": True}, [_x(5, 2, 3)]),
    ("RNNCell", (3, 4), {}, [_x(2, 3)]),
    ("LSTMCell", (3, 4), {}, [_x(2, 3)]),
    ("GRUCell", (3, 4), {"bias": False}, [_x(2, 3)]),
    ("MultiheadAttention", (4, 2), {"kdim": 3, "vdim": 5, "add_bias_kv": True},
     [_x(3, 2, 4), _x(6, 2, 3), _x(6, 2, 5)]),
    ("TransformerEncoderLayer", (4, 2, 8), {"dropout": 0.0}, [_x(3, 2, 4)]),
    ("TransformerDecoderLayer", (4, 2, 8), {"dropout": 0.0, "norm_first": True},
     [_x(3, 2, 4), _x(5, 2, 4)]),
    ("Transformer", (4, 2, 1, 1, 8), {"dropout": 0.0}, [_x(3, 2, 4), _x(5, 2, 4)]),
]


def _first(out):
    return out[0] if isinstance(out, tuple) else out


def _wrap(lib, arrays):
    return [lib.tensor(a) for a in arrays]


@pytest.mark.parametrize("name,args,kwargs,inputs", LAYERS, ids=[c[0] for c in LAYERS])
def test_float64_layers_match_torch(name, args, kwargs, inputs):
    ours = getattr(R.nn, name)(*args, **kwargs, device="cpu", dtype=R.float64)
    theirs = getattr(torch.nn, name)(*args, **kwargs, device="cpu", dtype=torch.float64)
    assert repr(ours) == repr(theirs)
    for (key, mine), (_, ref) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert str(mine.dtype) == str(ref.dtype), key
        assert mine.device.type == "cpu", key
    copy_weights(ours, theirs)
    r_out, t_out = _first(ours(*_wrap(R, inputs))), _first(theirs(*_wrap(torch, inputs)))
    assert r_out.dtype == R.float64
    close(r_out, t_out, atol=1e-9, rtol=1e-9)


LAZY = {  # layer: (constructor args, first input shape)
    "LazyLinear": ((4,), (2, 5)), "LazyConv1d": ((4, 3), (2, 5, 6)),
    "LazyConvTranspose2d": ((4, 3), (5, 3, 3)), "LazyBatchNorm1d": ((), (4, 3)),
    "LazyBatchNorm2d": ((), (2, 3, 2, 2)), "LazyInstanceNorm3d": ((), (2, 3, 2, 2, 2)),
}


@pytest.mark.parametrize("name", list(LAZY))
def test_lazy_layers_keep_dtype_until_first_input(name):
    args, shape = LAZY[name]
    ours = getattr(R.nn, name)(*args, dtype=R.float64)
    theirs = getattr(torch.nn, name)(*args, dtype=torch.float64)
    assert repr(ours) == repr(theirs) and ours.has_uninitialized_params()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = _x(*shape)
    out = ours(R.tensor(x))
    theirs(torch.tensor(x))
    assert type(ours).__name__ == type(theirs).__name__ == name[4:]
    assert repr(ours) == repr(theirs)
    assert ours.weight.dtype == R.float64 and out.dtype == R.float64
    for (key, mine), (_, ref) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert tuple(mine.shape) == tuple(ref.shape) and str(mine.dtype) == str(ref.dtype), key
    copy_weights(ours, theirs)
    close(ours(R.tensor(x)), theirs(torch.tensor(x)), atol=1e-9)


@pytest.mark.parametrize("device", ["cuda", "meta"])
def test_other_devices_behave_like_the_creation_functions(device):
    """Layers make their tensors with retrograd's creation functions, so a device those
    functions refuse is refused with the same error, and one they accept is used."""
    try:
        expected = R.empty(2, device=device).device
    except Exception as e:
        expected_error = (type(e), str(e))
        for build in (lambda: R.nn.Linear(2, 3, device=device),
                      lambda: R.nn.BatchNorm1d(3, device=device),
                      lambda: R.nn.LSTM(2, 3, device=device)):
            with pytest.raises(Exception) as info:
                build()
            assert (type(info.value), str(info.value)) == expected_error
        return
    for layer in (R.nn.Linear(2, 3, device=device), R.nn.BatchNorm1d(3, device=device),
                  R.nn.Embedding(4, 2, device=device)):
        assert all(t.device == expected for t in layer.state_dict().values())


def test_encoder_layer_with_module_activation():
    def build(lib):
        lib.manual_seed(0)
        return lib.nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, activation=lib.nn.GELU(),
                                              dtype=lib.float64)

    ours, theirs = build(R), build(torch)
    assert repr(ours) == repr(theirs)
    copy_weights(ours, theirs)
    x = _x(3, 2, 4)
    close(ours(R.tensor(x)), theirs(torch.tensor(x)), atol=1e-9)


def test_state_dict_positional_form_and_prefix():
    def build(lib):
        model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2))
        dest = {}
        model.state_dict(dest, "net.")
        return list(dest), list(model.state_dict(prefix="p.", keep_vars=True))

    assert build(R) == build(torch)
    net = R.nn.Linear(2, 2)
    kept = net.state_dict(keep_vars=True)
    assert kept["weight"] is net.weight
    assert to_np(net.state_dict()["weight"]).tolist() == to_np(net.weight).tolist()


@pytest.mark.parametrize("path", [
    "activation", "batchnorm", "channelshuffle", "container", "conv", "distance", "dropout",
    "flatten", "fold", "instancenorm", "lazy", "linear", "loss", "module", "normalization",
    "padding", "pixelshuffle", "pooling", "rnn", "sparse", "transformer", "upsampling",
])
def test_layers_importable_from_pytorch_module_paths(path):
    """Every layer retrograd has is found under the torch.nn.modules.<path> PyTorch uses."""
    import importlib

    theirs = importlib.import_module(f"torch.nn.modules.{path}")
    ours = importlib.import_module(f"retrograd.nn.modules.{path}")
    have = [n for n in getattr(theirs, "__all__", []) if hasattr(R.nn, n) or hasattr(ours, n)]
    assert have
    for name in have:
        assert getattr(ours, name) is getattr(R.nn, name, getattr(ours, name)), name


@pytest.mark.parametrize("lazy,eager,shape", [
    ("LazyLinear", ("Linear", 5, 3), (2, 5)), ("LazyBatchNorm1d", ("BatchNorm1d", 4), (3, 4)),
])
def test_lazy_layers_load_a_state_dict_like_torch(lazy, eager, shape):
    donor = getattr(R.nn, eager[0])(*eager[1:])
    with R.no_grad():
        for t in donor.state_dict().values():
            if t.is_floating_point():
                t.add_(0.5)
    args = (eager[2],) if lazy == "LazyLinear" else ()
    ours, theirs = getattr(R.nn, lazy)(*args), getattr(torch.nn, lazy)(*args)
    ours.load_state_dict(donor.state_dict())
    theirs.load_state_dict({k: torch.tensor(to_np(v)) for k, v in donor.state_dict().items()})
    assert not ours.has_uninitialized_params()
    x = _x(*shape).astype(np.float32)
    close(ours(R.tensor(x)), theirs(torch.tensor(x)))
    # PyTorch leaves BatchNorm's num_features at 0 on this path; ours records the size.
    assert repr(ours) == repr(theirs).replace("(0,", f"({shape[1]},")
    for mine, ref in zip(ours.state_dict().values(), theirs.state_dict().values()):
        close(mine, ref)
