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
from ...ops.creation import zeros
from .. import init
from ..functional import dropout
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from ._params import optional_param, param
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


_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
_ACTIVATION_MODES = {"tanh": "RNN_TANH", "relu": "RNN_RELU"}


def _check_sizes(hidden_size: Any, num_layers: int, dropout: Any, proj_size: int) -> None:
    """PyTorch's constructor checks, in its order (the first failing one is reported)."""
    dropout_ok = (isinstance(dropout, numbers.Number) and not isinstance(dropout, bool)
                  and 0 <= dropout <= 1)
    if not dropout_ok:
        raise ValueError("dropout should be a number in range [0, 1] representing the "
                         "probability of an element being zeroed")
    if not isinstance(hidden_size, int):
        raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
    problems = [
        (hidden_size <= 0, "hidden_size must be greater than zero"),
        (num_layers <= 0, "num_layers must be greater than zero"),
        (proj_size < 0, "proj_size should be a positive integer or zero to disable projections"),
        (proj_size >= hidden_size, "proj_size has to be smaller than hidden_size"),
    ]
    for failed, message in problems:
        if failed:
            raise ValueError(message)
    if dropout > 0 and num_layers == 1:
        warnings.warn(
            "dropout option adds dropout after all but last recurrent layer, so non-zero "
            f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
            f"num_layers={num_layers}", stacklevel=3)


def _shown_options(module: Module, defaults: dict[str, Any]) -> str:
    """", name=value" for each listed attribute whose value is not its default."""
    return "".join(f", {name}={getattr(module, name)}" for name, default in defaults.items()
                   if getattr(module, name) != default)


class RNNBase(Module):
    """The shared machinery of RNN, LSTM and GRU (parameters, shapes, the layer loop).

    Parameters are named as PyTorch names them (``weight_ih_l{k}{_reverse}``, ...) because
    state dicts depend on it; ``_flat_weights_names`` lists them layer by layer.
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__()
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        _check_sizes(hidden_size, num_layers, dropout, proj_size)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            for suffix in ("", "_reverse")[: 2 if bidirectional else 1]:
                names = []
                for kind, shape in self._layer_shapes(layer).items():
                    name = f"{kind}_l{layer}{suffix}"
                    setattr(self, name, param(shape, device, dtype))
                    names.append(name)
                self._all_weights.append(names)
        self._flat_weights_names = [name for names in self._all_weights for name in names]
        self.reset_parameters()

    def _layer_shapes(self, layer: int) -> dict[str, tuple[int, ...]]:
        """Parameter shapes of one direction of ``layer``, in PyTorch's order."""
        gates = _GATES[self.mode] * self.hidden_size
        out = self.proj_size or self.hidden_size
        width = self.input_size if layer == 0 else out * (2 if self.bidirectional else 1)
        shapes = {"weight_ih": (gates, width), "weight_hh": (gates, out)}
        if self.bias:
            shapes.update(bias_ih=(gates,), bias_hh=(gates,))
        if self.proj_size:
            shapes["weight_hr"] = (self.proj_size, self.hidden_size)
        return shapes

    def reset_parameters(self) -> None:
        _uniform_by_hidden(self)

    def flatten_parameters(self) -> None:
        """A no-op (there is no cuDNN weight buffer to compact)."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + _shown_options(self, {
            "proj_size": 0, "num_layers": 1, "bias": True, "batch_first": False,
            "dropout": 0, "bidirectional": False})

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
            h0 = zeros(n_states, batch, real_hidden, dtype=data.dtype, device=data.device)
            c0 = (zeros(n_states, batch, self.hidden_size, dtype=data.dtype, device=data.device)
                  if is_lstm else None)
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


def _no_projection(kwargs: dict) -> None:
    if "proj_size" in kwargs:
        raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu).

    Positional arguments follow PyTorch: ``RNN(input_size, hidden_size, num_layers,
    nonlinearity, bias, batch_first, dropout, bidirectional)``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _no_projection(kwargs)
        # nonlinearity is RNN's own argument, 4th positionally; the rest go to RNNBase.
        rest = list(args)
        self.nonlinearity = rest.pop(3) if len(rest) > 3 else kwargs.pop("nonlinearity", "tanh")
        mode = _ACTIVATION_MODES.get(self.nonlinearity)
        if mode is None:
            raise ValueError(
                f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *rest, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory; returns ``output, (h_n, c_n)``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit; returns ``output, h_n``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _no_projection(kwargs)
        super().__init__("GRU", *args, **kwargs)


def _uniform_by_hidden(module: Module) -> None:
    """Every parameter ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) (PyTorch's RNN init)."""
    limit = 1.0 / math.sqrt(module.hidden_size) if module.hidden_size > 0 else 0.0
    for p in module.parameters():
        init.uniform_(p, -limit, limit)


class RNNCellBase(Module):
    """One time step of a recurrent layer; ``num_chunks`` gates share each weight matrix."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        rows = num_chunks * hidden_size
        self.weight_ih = param((rows, input_size), device, dtype)
        self.weight_hh = param((rows, hidden_size), device, dtype)
        for name in ("bias_ih", "bias_hh"):
            optional_param(self, name, bias, (rows,), device, dtype)
        self.reset_parameters()

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            text += f", nonlinearity={self.nonlinearity}"
        return text

    def reset_parameters(self) -> None:
        _uniform_by_hidden(self)

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
            states = tuple(zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)
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
