"""RNN, LSTM, GRU, their cells and packed sequences, against torch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from helpers import make_randn
from nn_common import close, compare_grads, copy_weights, pair, to_np

import retrograd as R

randn = make_randn(0)
warnings.filterwarnings("ignore", message="LSTM with projections")


CONFIGS = [
    ("RNN", (3, 4), {}),
    ("RNN", (3, 4, 2), {"nonlinearity": "relu", "bidirectional": True}),
    ("LSTM", (3, 4, 2), {}),
    ("LSTM", (3, 4), {"batch_first": True, "bidirectional": True}),
    ("LSTM", (3, 5), {"proj_size": 2, "num_layers": 2, "bidirectional": True}),
    ("LSTM", (3, 4), {"bias": False}),
    ("GRU", (3, 4), {"batch_first": True, "bidirectional": True}),
    ("GRU", (3, 4, 3), {"dropout": 0.5}),
]


def _id(c):
    return c[0] + "-" + "-".join(f"{k}={v}" for k, v in c[2].items())


def _flatten(out):
    if isinstance(out, tuple):
        return [t for o in out for t in _flatten(o)]
    return [out]


@pytest.mark.parametrize("config", CONFIGS, ids=[_id(c) for c in CONFIGS])
@pytest.mark.parametrize("with_hx", [False, True])
def test_recurrent_layer_matches_torch(config, with_hx):
    name, args, kwargs = config
    ours, theirs = pair(name, *args, **kwargs)
    ours.eval()
    theirs.eval()
    assert repr(ours) == repr(theirs)
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    x = randn(2, 5, 3)
    rx, tx = R.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    rargs, targs = [rx], [tx]
    if with_hx:
        layers = theirs.num_layers * (2 if theirs.bidirectional else 1)
        hsize = theirs.proj_size or theirs.hidden_size
        h0 = randn(layers, 2 if kwargs.get("batch_first") else 5, hsize)
        if name == "LSTM":
            c0 = randn(layers, h0.shape[1], theirs.hidden_size)
            rargs.append((R.tensor(h0, requires_grad=True), R.tensor(c0)))
            targs.append((torch.tensor(h0, requires_grad=True), torch.tensor(c0)))
        else:
            rargs.append(R.tensor(h0, requires_grad=True))
            targs.append(torch.tensor(h0, requires_grad=True))
    ro, to = ours(*rargs), theirs(*targs)
    rflat, tflat = _flatten(ro), _flatten(to)
    assert [tuple(t.shape) for t in rflat] == [tuple(t.shape) for t in tflat]
    loss_r = sum((a * R.tensor(np.cos(np.arange(a.numel())).reshape(tuple(a.shape))
                               .astype(np.float32))).sum() for a in rflat)
    loss_t = sum((a * torch.tensor(np.cos(np.arange(a.numel())).reshape(tuple(a.shape))
                                   .astype(np.float32))).sum() for a in tflat)
    for a, b in zip(rflat, tflat):
        close(a, b)
    loss_r.backward()
    loss_t.backward()
    close(rx.grad, tx.grad)
    if with_hx:
        h_r = rargs[1][0] if name == "LSTM" else rargs[1]
        h_t = targs[1][0] if name == "LSTM" else targs[1]
        close(h_r.grad, h_t.grad)
    compare_grads(ours, theirs)


def test_unbatched_input():
    ours, theirs = pair("GRU", 3, 4, 2)
    x = randn(5, 3)
    ro, rh = ours(R.tensor(x))
    to, th = theirs(torch.tensor(x))
    assert ro.shape == to.shape and rh.shape == th.shape == (2, 4)
    close(ro, to)
    close(rh, th)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_match_torch(name):
    ours, theirs = pair(name, 3, 4)
    assert repr(ours) == repr(theirs)
    x, h = randn(2, 3), randn(2, 4)
    rx, tx = R.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    if name == "LSTMCell":
        c = randn(2, 4)
        ro = ours(rx, (R.tensor(h), R.tensor(c)))
        to = theirs(tx, (torch.tensor(h), torch.tensor(c)))
        (ro[0].sum() + (ro[1] * 2).sum()).backward()
        (to[0].sum() + (to[1] * 2).sum()).backward()
        close(ro[1], to[1])
        ro, to = ro[0], to[0]
    else:
        ro, to = ours(rx, R.tensor(h)), theirs(tx, torch.tensor(h))
        ro.sum().backward()
        to.sum().backward()
    close(ro, to)
    close(rx.grad, tx.grad)
    compare_grads(ours, theirs)
    # unbatched and default hidden state
    close(ours(R.tensor(x[0]))[0] if name == "LSTMCell" else ours(R.tensor(x[0])),
          theirs(torch.tensor(x[0]))[0] if name == "LSTMCell" else theirs(torch.tensor(x[0])))


def test_rnn_cell_relu_repr():
    assert repr(R.nn.RNNCell(2, 3, bias=False, nonlinearity="relu")) == \
        repr(torch.nn.RNNCell(2, 3, bias=False, nonlinearity="relu"))


@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_packed_sequence_through_rnn(name, enforce_sorted):
    ours, theirs = pair(name, 3, 4, bidirectional=True, batch_first=True)
    lengths = [5, 3, 2] if enforce_sorted else [2, 5, 3]
    x = randn(3, 5, 3)
    rx, tx = R.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    rp = R.nn.utils.rnn.pack_padded_sequence(rx, lengths, batch_first=True,
                                             enforce_sorted=enforce_sorted)
    tp = torch.nn.utils.rnn.pack_padded_sequence(tx, lengths, batch_first=True,
                                                 enforce_sorted=enforce_sorted)
    close(rp.data, tp.data)
    assert rp.batch_sizes.tolist() == tp.batch_sizes.tolist()
    ro, rh = ours(rp)
    to, th = theirs(tp)
    assert isinstance(ro, R.nn.utils.rnn.PackedSequence)
    close(ro.data, to.data)
    rh = rh[0] if name == "LSTM" else rh
    th = th[0] if name == "LSTM" else th
    close(rh, th)
    rpad, rlen = R.nn.utils.rnn.pad_packed_sequence(ro, batch_first=True, total_length=6)
    tpad, tlen = torch.nn.utils.rnn.pad_packed_sequence(to, batch_first=True, total_length=6)
    close(rpad, tpad)
    assert rlen.tolist() == tlen.tolist()
    ((rpad * rpad).sum() + rh.sum()).backward()
    ((tpad * tpad).sum() + th.sum()).backward()
    close(rx.grad, tx.grad)
    compare_grads(ours, theirs)


def test_pad_and_pack_sequence_helpers():
    seqs = [randn(4, 2), randn(1, 2), randn(3, 2)]
    for kwargs in ({}, {"batch_first": True, "padding_value": -1.0},
                   {"batch_first": True, "padding_side": "left"}):
        close(R.nn.utils.rnn.pad_sequence([R.tensor(s) for s in seqs], **kwargs),
              torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs], **kwargs))
    rp = R.nn.utils.rnn.pack_sequence([R.tensor(s) for s in seqs], enforce_sorted=False)
    tp = torch.nn.utils.rnn.pack_sequence([torch.tensor(s) for s in seqs],
                                          enforce_sorted=False)
    close(rp.data, tp.data)
    assert rp.sorted_indices.tolist() == tp.sorted_indices.tolist()
    assert rp.unsorted_indices.tolist() == tp.unsorted_indices.tolist()
    back = R.nn.utils.rnn.unpack_sequence(rp)
    for a, b in zip(back, seqs):
        close(a, b)
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        R.nn.utils.rnn.pack_sequence([R.tensor(s) for s in seqs])


def test_rnn_errors_match_torch():
    ours, theirs = pair("LSTM", 3, 4)
    with pytest.raises(RuntimeError) as a:
        ours(R.zeros(5, 2, 2))
    with pytest.raises(RuntimeError) as b:
        theirs(torch.zeros(5, 2, 2))
    assert str(a.value) == str(b.value)
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sigmoid'"):
        R.nn.RNN(2, 3, nonlinearity="sigmoid")
    with pytest.warns(UserWarning, match="dropout option adds dropout"):
        R.nn.GRU(2, 3, dropout=0.2)


def test_lstm_training_curve_matches_torch():
    """20 steps of plain SGD on a small sequence task, from the same weights."""

    def build(lib):
        class Model(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = lib.nn.LSTM(2, 8, batch_first=True)
                self.head = lib.nn.Linear(8, 1)

            def forward(self, x):
                out, _ = self.lstm(x)
                return self.head(out[:, -1])

        return Model()

    ours, theirs = build(R), build(torch)
    copy_weights(ours, theirs)
    data = np.random.default_rng(3).uniform(-1, 1, (16, 6, 2)).astype(np.float32)
    target = (data[:, :, 0] * data[:, :, 1]).sum(1, keepdims=True).astype(np.float32)

    def train(lib, model):
        x, y = lib.tensor(data), lib.tensor(target)
        losses = []
        for _ in range(20):
            model.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            with lib.no_grad():
                for p in model.parameters():
                    p -= 0.5 * p.grad
            losses.append(loss.item())
        return losses

    ours_curve, theirs_curve = train(R, ours), train(torch, theirs)
    np.testing.assert_allclose(ours_curve, theirs_curve, rtol=1e-5, atol=1e-6)
    assert ours_curve[-1] < ours_curve[0]
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(to_np(p), to_np(q), atol=1e-5)


def test_packed_unsorted_with_initial_state():
    ours, theirs = pair("LSTM", 2, 3, num_layers=2)
    lengths = [2, 4, 3]
    x = randn(4, 3, 2)
    h0, c0 = randn(2, 3, 3), randn(2, 3, 3)
    rp = R.nn.utils.rnn.pack_padded_sequence(R.tensor(x), lengths, enforce_sorted=False)
    tp = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), lengths, enforce_sorted=False)
    rh0 = R.tensor(h0, requires_grad=True)
    th0 = torch.tensor(h0, requires_grad=True)
    ro, (rh, rc) = ours(rp, (rh0, R.tensor(c0)))
    to, (th, tc) = theirs(tp, (th0, torch.tensor(c0)))
    close(ro.data, to.data)
    close(rh, th)
    close(rc, tc)
    (rh.sum() + rc.sum()).backward()
    (th.sum() + tc.sum()).backward()
    close(rh0.grad, th0.grad)


def test_dropout_between_layers_only_in_training():
    m = R.nn.GRU(3, 4, 2, dropout=0.5)
    x = R.tensor(randn(5, 2, 3))
    m.eval()
    a, b = m(x)[0], m(x)[0]
    np.testing.assert_array_equal(to_np(a), to_np(b))
    m.train()
    outs = [to_np(m(x)[0]) for _ in range(3)]
    assert not np.allclose(outs[0], outs[1])


@pytest.mark.parametrize("name,args,kwargs", [
    ("LSTM", (3, 6, 2), {"proj_size": 4, "batch_first": True, "dropout": 0.0}),
    ("GRU", (3, 4, 2), {"bidirectional": True, "batch_first": True, "bias": False}),
    ("RNN", (3, 4, 2, "relu", True, True), {}),
])
def test_stacked_layers_in_training_mode_match_torch(name, args, kwargs):
    ours, theirs = pair(name, *args, **kwargs)
    assert ours.training and repr(ours) == repr(theirs)
    x = randn(2, 4, 3)
    r_out, r_h = ours(R.tensor(x))
    t_out, t_h = theirs(torch.tensor(x))
    close(r_out, t_out)
    for a, b in zip(_flatten(r_h), _flatten(t_h)):
        close(a, b)
    r_out.sum().backward()
    t_out.sum().backward()
    compare_grads(ours, theirs)


@pytest.mark.parametrize("build", [
    lambda nn: nn.RNN(2, 4, nonlinearity="x"), lambda nn: nn.GRU(2, 4, proj_size=1),
    lambda nn: nn.RNN(2, 4, proj_size=1), lambda nn: nn.LSTM(2, 4.0),
    lambda nn: nn.LSTM(2, 4, dropout=2), lambda nn: nn.LSTM(2, 4, dropout=True),
    lambda nn: nn.LSTM(2, 4, proj_size=4), lambda nn: nn.LSTM(2, 4, proj_size=-1),
    lambda nn: nn.LSTM(2, 0), lambda nn: nn.LSTM(2, 3, num_layers=0),
    lambda nn: nn.RNNBase("X", 2, 3),
])
def test_construction_errors_match_torch(build):
    with pytest.raises(Exception) as ours:
        build(R.nn)
    with pytest.raises(Exception) as theirs:
        build(torch.nn)
    assert (type(ours.value), str(ours.value)) == (type(theirs.value), str(theirs.value))


def test_layer_and_cell_reprs_match_torch():
    builds = [
        lambda nn: nn.LSTM(2, 4, proj_size=3, num_layers=2, bias=False, batch_first=True,
                           dropout=0.5, bidirectional=True),
        lambda nn: nn.RNN(2, 4, 2, "relu"), lambda nn: nn.GRU(2, 4, 2, dropout=1),
        lambda nn: nn.RNNCell(2, 3, False, "relu"), lambda nn: nn.GRUCell(2, 3, False),
        lambda nn: nn.LSTMCell(2, 3),
    ]
    for build in builds:
        ours, theirs = build(R.nn), build(torch.nn)
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert [tuple(p.shape) for p in ours.parameters()] == [
            tuple(p.shape) for p in theirs.parameters()]
