"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their single-step cells.

A layer runs over a 2-D "packed" view of its input: rows are time steps laid end to end,
``batch_sizes[t]`` of them for step t (all equal to the batch for a padded input). The input
projection of every step is one matmul; the loop over time only does the recurrent part.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

from ..._tensor import Tensor
from ...ops.creation import empty, zeros
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .dropout import dropout
from .module import Module

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNBase", "RNNCell", "RNNCellBase"]


def _lib():
    import retrograd

    return retrograd


def _gates(gi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    gh = h @ w_hh.t()
    return gi + gh if b_hh is None else gi + gh + b_hh


def _rnn_step(mode: str, gi: Tensor, state, w_hh, b_hh, w_hr=None):
    """One step of a cell given the input projection ``gi = x W_ih^T + b_ih``."""
    if mode == "LSTM":
        h, c = state
        gates = _gates(gi, h, w_hh, b_hh)
        n = gates.shape[-1] // 4
        i = gates[..., :n].sigmoid()
        f = gates[..., n:2 * n].sigmoid()
        g = gates[..., 2 * n:3 * n].tanh()
        o = gates[..., 3 * n:].sigmoid()
        c = f * c + i * g
        h = o * c.tanh()
        if w_hr is not None:
            h = h @ w_hr.t()
        return h, c
    if mode == "GRU":
        h = state
        gh = h @ w_hh.t()
        if b_hh is not None:
            gh = gh + b_hh
        n = gh.shape[-1] // 3
        r = (gi[..., :n] + gh[..., :n]).sigmoid()
        z = (gi[..., n:2 * n] + gh[..., n:2 * n]).sigmoid()
        cand = (gi[..., 2 * n:] + r * gh[..., 2 * n:]).tanh()
        return (1 - z) * cand + z * h
    pre = _gates(gi, state, w_hh, b_hh)
    return pre.tanh() if mode == "RNN_TANH" else pre.relu()


def _select(state, stop: int):
    if isinstance(state, tuple):
        return tuple(s[:stop] for s in state)
    return state[:stop]


def _merge(new, old, stop: int):
    lib = _lib()
    if isinstance(new, tuple):
        return tuple(_merge(n, o, stop) for n, o in zip(new, old))
    if stop == old.shape[0]:
        return new
    return lib.cat([new, old[stop:]], 0)


def _run_direction(mode, data, batch_sizes, state, w_ih, w_hh, b_ih, b_hh, w_hr, reverse):
    """Run one layer in one direction over packed rows; returns (outputs rows, final state)."""
    lib = _lib()
    gi_all = data @ w_ih.t()
    if b_ih is not None:
        gi_all = gi_all + b_ih
    offsets = [0]
    for bs in batch_sizes:
        offsets.append(offsets[-1] + bs)
    steps = range(len(batch_sizes) - 1, -1, -1) if reverse else range(len(batch_sizes))
    outs: list[Any] = [None] * len(batch_sizes)
    for t in steps:
        bs = batch_sizes[t]
        new = _rnn_step(mode, gi_all[offsets[t]:offsets[t + 1]], _select(state, bs),
                        w_hh, b_hh, w_hr)
        outs[t] = new[0] if isinstance(new, tuple) else new
        state = _merge(new, state, bs)
    return lib.cat(outs, 0), state


class RNNBase(Module):
    """The shared machinery of RNN, LSTM and GRU (parameters, shapes, the layer loop)."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        if (not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1
                or isinstance(dropout, bool)):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of "
                "an element being zeroed"
            )
        if not isinstance(hidden_size, int):
            raise TypeError(
                f"hidden_size should be of type int, got: {type(hidden_size).__name__}"
            )
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError(
                "proj_size should be a positive integer or zero to disable projections"
            )
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                "dropout expects num_layers greater than 1, but got "
                f"dropout={dropout} and num_layers={num_layers}",
                stacklevel=2,
            )
        gate_size = {"LSTM": 4, "GRU": 3}.get(mode, 1) * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input = input_size if layer == 0 else real_hidden * num_directions
                suffix = "_reverse" if direction == 1 else ""
                shapes = [("weight_ih_l{}{}", (gate_size, layer_input)),
                          ("weight_hh_l{}{}", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih_l{}{}", (gate_size,)), ("bias_hh_l{}{}", (gate_size,))]
                if proj_size > 0:
                    shapes += [("weight_hr_l{}{}", (proj_size, hidden_size))]
                names = []
                for fmt, shape in shapes:
                    name = fmt.format(layer, suffix)
                    setattr(self, name, Parameter(empty(shape, dtype=dtype)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self) -> None:
        """A no-op (there is no cuDNN weight buffer to compact)."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    def _layer_weights(self, layer: int, direction: int):
        suffix = "_reverse" if direction == 1 else ""
        get = lambda fmt: getattr(self, fmt.format(layer, suffix), None)  # noqa: E731
        return (get("weight_ih_l{}{}"), get("weight_hh_l{}{}"), get("bias_ih_l{}{}"),
                get("bias_hh_l{}{}"), get("weight_hr_l{}{}"))

    def _check_hidden(self, hx: Tensor, expected: tuple,
                      msg: str = "Expected hidden size {}, got {}") -> None:
        if tuple(hx.shape) != expected:
            raise RuntimeError(msg.format(list(expected), list(hx.shape)))

    def forward(self, input, hx=None):
        lib = _lib()
        is_lstm = self.mode == "LSTM"
        num_directions = 2 if self.bidirectional else 1
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        packed = isinstance(input, PackedSequence)
        if packed:
            data, batch_sizes_t, sorted_indices, unsorted_indices = input
            batch_sizes = [int(b) for b in batch_sizes_t.tolist()]
            batch = batch_sizes[0]
            unbatched = False
        else:
            sorted_indices = unsorted_indices = None
            if input.dim() not in (2, 3):
                raise ValueError(
                    f"{self.mode if self.mode in ('LSTM', 'GRU') else 'RNN'}: Expected input "
                    f"to be 2D or 3D, got {input.dim()}D tensor instead"
                )
            unbatched = input.dim() == 2
            x = input.unsqueeze(1) if unbatched else input
            if self.batch_first and not unbatched:
                x = x.transpose(0, 1)
            steps, batch = x.shape[0], x.shape[1]
            batch_sizes = [batch] * steps
            data = x.reshape(steps * batch, x.shape[2])
        if data.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                f"got {data.shape[-1]}"
            )
        n_states = self.num_layers * num_directions
        if hx is None:
            h0 = zeros(n_states, batch, real_hidden, dtype=data.dtype)
            c0 = zeros(n_states, batch, self.hidden_size, dtype=data.dtype) if is_lstm else None
        else:
            h0, c0 = hx if is_lstm else (hx, None)
            if unbatched:
                if h0.dim() != 2:
                    raise RuntimeError(
                        f"For unbatched 2-D input, hx should also be 2-D but got {h0.dim()}-D "
                        "tensor"
                    )
                h0 = h0.unsqueeze(1)
                c0 = c0.unsqueeze(1) if c0 is not None else None
            elif h0.dim() != 3:
                raise RuntimeError(
                    f"For batched 3-D input, hx should also be 3-D but got {h0.dim()}-D tensor"
                )
            if sorted_indices is not None:
                h0 = h0[:, sorted_indices]
                c0 = c0[:, sorted_indices] if c0 is not None else None
            self._check_hidden(h0, (n_states, batch, real_hidden))
            if c0 is not None:
                self._check_hidden(c0, (n_states, batch, self.hidden_size),
                                   "Expected hidden[1] size {}, got {}")
        h_n, c_n = [], []
        layer_input = data
        for layer in range(self.num_layers):
            dir_outs = []
            for direction in range(num_directions):
                k = layer * num_directions + direction
                state = (h0[k], c0[k]) if is_lstm else h0[k]
                w_ih, w_hh, b_ih, b_hh, w_hr = self._layer_weights(layer, direction)
                out, state = _run_direction(self.mode, layer_input, batch_sizes, state, w_ih,
                                            w_hh, b_ih, b_hh, w_hr, direction == 1)
                dir_outs.append(out)
                if is_lstm:
                    h_n.append(state[0])
                    c_n.append(state[1])
                else:
                    h_n.append(state)
            layer_input = dir_outs[0] if num_directions == 1 else lib.cat(dir_outs, 1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = dropout(layer_input, self.dropout, True)
        h_n_t = lib.stack(h_n, 0)
        c_n_t = lib.stack(c_n, 0) if is_lstm else None
        if unsorted_indices is not None:
            h_n_t = h_n_t[:, unsorted_indices]
            c_n_t = c_n_t[:, unsorted_indices] if c_n_t is not None else None
        if packed:
            output = PackedSequence(layer_input, batch_sizes_t, sorted_indices,
                                    unsorted_indices)
        else:
            output = layer_input.reshape(len(batch_sizes), batch, layer_input.shape[-1])
            if unbatched:
                output = output.squeeze(1)
                h_n_t = h_n_t.squeeze(1)
                c_n_t = c_n_t.squeeze(1) if c_n_t is not None else None
            elif self.batch_first:
                output = output.transpose(0, 1)
        return output, ((h_n_t, c_n_t) if is_lstm else h_n_t)


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError(
                "proj_size argument is only supported for LSTM, not RNN or GRU"
            )
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(
                f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        super().__init__(mode, *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory; returns ``output, (h_n, c_n)``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit; returns ``output, h_n``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError(
                "proj_size argument is only supported for LSTM, not RNN or GRU"
            )
        super().__init__("GRU", *args, **kwargs)


class RNNCellBase(Module):
    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty((num_chunks * hidden_size, input_size), dtype=dtype))
        self.weight_hh = Parameter(empty((num_chunks * hidden_size, hidden_size), dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _prepare(self, input: Tensor, hx, n_states: int):
        if input.dim() not in (1, 2):
            raise ValueError(
                f"{type(self).__name__}: Expected input to be 1D or 2D, got {input.dim()}D "
                "instead"
            )
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input has inconsistent input_size: got {input.shape[-1]} expected "
                f"{self.input_size}"
            )
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)
        if hx is None:
            states = tuple(zeros(x.shape[0], self.hidden_size, dtype=x.dtype)
                           for _ in range(n_states))
        else:
            states = hx if isinstance(hx, tuple) else (hx,)
            states = tuple(s if batched else s.unsqueeze(0) for s in states)
        gi = x @ self.weight_ih.t()
        if self.bias_ih is not None:
            gi = gi + self.bias_ih
        return batched, gi, states


class RNNCell(RNNCellBase):
    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device,
                         dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        batched, gi, (h,) = self._prepare(input, hx, 1)
        mode = "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"
        out = _rnn_step(mode, gi, h, self.weight_hh, self.bias_hh)
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device,
                         dtype=dtype)

    def forward(self, input: Tensor, hx=None) -> tuple[Tensor, Tensor]:
        batched, gi, states = self._prepare(input, hx, 2)
        h, c = _rnn_step("LSTM", gi, states, self.weight_hh, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device,
                         dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        batched, gi, (h,) = self._prepare(input, hx, 1)
        out = _rnn_step("GRU", gi, h, self.weight_hh, self.bias_hh)
        return out if batched else out.squeeze(0)
