"""RNN, LSTM and GRU layers as ONNX's own RNN/LSTM/GRU ops (see ``_modules``).

Traced as primitives, a recurrent layer unrolls into one copy of its cell per time step
with the batch size baked into the row slices; one ONNX op per layer lets sequence length
and batch size vary. PyTorch stacks gate weights as (i, f, g, o) for LSTM and (r, z, n) for
GRU; ONNX wants (i, o, f, c) and (z, r, h): Split and Concat nodes reorder them, so the
parameters stay initializers under their own names. Packed sequences, unbatched input and
projections (``proj_size``) keep the unrolled trace.
"""

from __future__ import annotations

from .._tensor import Tensor

# mode -> (ONNX op, gates, PyTorch gate index for each ONNX gate slot)
LAYOUT = {"LSTM": ("LSTM", 4, (0, 3, 1, 2)), "GRU": ("GRU", 3, (1, 0, 2)),
          "RNN_TANH": ("RNN", 1, (0,)), "RNN_RELU": ("RNN", 1, (0,))}


def _reorder(b, name: str, gates: int, order, hidden: int) -> str:
    """Gate blocks (rows) of a stacked weight or bias in ONNX's order."""
    if gates == 1:
        return name
    parts = b.emit("Split", [name, b.ints([hidden] * gates)], gates, axis=0)
    return b.emit("Concat", [parts[i] for i in order], axis=0)


def _stack(b, names: list[str]) -> str:
    """[D, ...] from one name per direction."""
    axes = b.ints([0])
    parts = [b.emit("Unsqueeze", [n, axes]) for n in names]
    return parts[0] if len(parts) == 1 else b.emit("Concat", parts, axis=0)


def emit(b, module, input, hx, out, h) -> None:
    """One ONNX op per layer for ``module(input, hx)`` that gave ``out, h``."""
    op, gates, order = LAYOUT[module.mode]
    dirs = 2 if module.bidirectional else 1
    hidden = module.hidden_size
    x = b.value(input)
    if module.batch_first:
        x = b.emit("Transpose", [x], perm=[1, 0, 2])
    h0, c0 = (hx if isinstance(hx, (tuple, list)) else (hx, None)) if hx is not None \
        else (None, None)
    finals_h, finals_c = [], []
    for layer in range(module.num_layers):
        ws, rs, bs = [], [], []
        for d in range(dirs):
            w_ih, w_hh, b_ih, b_hh, _ = module._layer_weights(layer, d)
            ws.append(_reorder(b, b.value(w_ih), gates, order, hidden))
            rs.append(_reorder(b, b.value(w_hh), gates, order, hidden))
            if module.bias:
                bs.append(b.emit("Concat", [_reorder(b, b.value(b_ih), gates, order, hidden),
                                            _reorder(b, b.value(b_hh), gates, order, hidden)],
                                 axis=0))
        inputs = [x, _stack(b, ws), _stack(b, rs), _stack(b, bs) if bs else "", ""]
        for state0 in (h0, c0) if op == "LSTM" else (h0,):
            inputs.append(b.emit("Slice", [b.value(state0), b.ints([layer * dirs]),
                                           b.ints([(layer + 1) * dirs]), b.ints([0])])
                          if state0 is not None else "")
        while inputs[-1] == "":
            inputs.pop()
        extra = {"linear_before_reset": 1} if op == "GRU" else {}
        if op == "RNN":
            extra["activations"] = ["Tanh" if module.mode == "RNN_TANH" else "Relu"] * dirs
        outs = b.emit(op, inputs, 3 if op == "LSTM" else 2, hidden_size=hidden,
                      direction="bidirectional" if dirs == 2 else "forward", **extra)
        # Y is [seq, dirs, batch, hidden]; PyTorch's output is [seq, batch, dirs * hidden].
        y = b.emit("Transpose", [outs[0]], perm=[0, 2, 1, 3])
        x = b.emit("Reshape", [y, b.ints([0, 0, -1])])
        finals_h.append(outs[1])
        if op == "LSTM":
            finals_c.append(outs[2])
    if module.batch_first:
        x = b.emit("Transpose", [x], perm=[1, 0, 2])
    _bind(b, out, x)
    states = h if isinstance(h, (tuple, list)) else (h,)
    for t, finals in zip(states, (finals_h, finals_c)):
        _bind(b, t, finals[0] if len(finals) == 1 else b.emit("Concat", finals, axis=0))


def _bind(b, tensor: Tensor, name: str) -> None:
    b.bind(tensor, b.emit("Identity", [name]))
