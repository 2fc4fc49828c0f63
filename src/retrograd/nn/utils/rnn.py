"""Variable-length sequences: ``PackedSequence``, ``pack_padded_sequence``,
``pad_packed_sequence``, ``pad_sequence``, ``pack_sequence``, ``unpack_sequence``."""

from __future__ import annotations

import itertools
from typing import Any, NamedTuple

import numpy as np

from ..._tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pack_sequence",
           "pad_packed_sequence", "pad_sequence", "unpack_sequence", "unpad_sequence"]


def _lib():
    import retrograd

    return retrograd


class PackedSequence(NamedTuple):
    """Time-major packed batch: ``data`` rows are the batch's steps, longest sequence first.

    ``batch_sizes[t]`` is how many sequences are still running at step t.
    """

    data: Tensor
    batch_sizes: Tensor | None = None
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return self._replace(data=data)

    def cuda(self, *args: Any, **kwargs: Any) -> PackedSequence:
        return self._replace(data=self.data.cuda(*args, **kwargs))

    def cpu(self, *args: Any, **kwargs: Any) -> PackedSequence:
        return self._replace(data=self.data.cpu(*args, **kwargs))

    def double(self) -> PackedSequence:
        return self._replace(data=self.data.double())

    def float(self) -> PackedSequence:
        return self._replace(data=self.data.float())

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    if permutation is None:
        return None
    lib = _lib()
    perm = np.asarray(permutation.tolist(), dtype=np.int64)
    out = np.empty_like(perm)
    out[perm] = np.arange(perm.size)
    return lib.tensor(out, dtype=lib.long)


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T x B x * or B x T x *) given each sequence's length."""
    lib = _lib()
    if isinstance(lengths, Tensor):
        lengths_list = [int(v) for v in lengths.reshape(-1).tolist()]
    else:
        lengths_list = [int(v) for v in lengths]
    if enforce_sorted:
        if any(a < b for a, b in itertools.pairwise(lengths_list)):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability."
            )
        sorted_indices = None
        order = list(range(len(lengths_list)))
    else:
        order = sorted(range(len(lengths_list)), key=lambda k: -lengths_list[k])
        sorted_indices = lib.tensor(order, dtype=lib.long)
    if batch_first:
        input = input.transpose(0, 1)
    if sorted_indices is not None:
        input = input[:, sorted_indices]
    lengths_sorted = [lengths_list[k] for k in order]
    if lengths_sorted and lengths_sorted[-1] <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in "
            "'lengths' that is <= 0"
        )
    max_len = lengths_sorted[0] if lengths_sorted else 0
    if max_len > input.shape[0]:
        raise RuntimeError(
            f"Expected sequence length to be smaller than or equal to {input.shape[0]}, "
            f"but got {max_len}"
        )
    batch_sizes = [sum(1 for n in lengths_sorted if n > t) for t in range(max_len)]
    steps = [input[t, :bs] for t, bs in enumerate(batch_sizes)]
    data = lib.cat(steps, 0)
    return PackedSequence(data, lib.tensor(batch_sizes, dtype=lib.long), sorted_indices,
                          invert_permutation(sorted_indices))


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """The inverse of ``pack_padded_sequence``: (padded batch, lengths)."""
    lib = _lib()
    data, batch_sizes = sequence.data, [int(b) for b in sequence.batch_sizes.tolist()]
    max_len = len(batch_sizes)
    if total_length is not None:
        if total_length < max_len:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{max_len}"
            )
    else:
        total_length = max_len
    batch = batch_sizes[0] if batch_sizes else 0
    feat = tuple(data.shape[1:])
    rows = []
    offset = 0
    for bs in batch_sizes:
        step = data[offset:offset + bs]
        if bs < batch:
            pad = lib.full((batch - bs, *feat), padding_value, dtype=data.dtype)
            step = lib.cat([step, pad], 0)
        rows.append(step)
        offset += bs
    for _ in range(total_length - max_len):
        rows.append(lib.full((batch, *feat), padding_value, dtype=data.dtype))
    padded = lib.stack(rows, 0)
    lengths = [sum(1 for b in batch_sizes if b > k) for k in range(batch)]
    lengths_t = lib.tensor(lengths, dtype=lib.long)
    if sequence.unsorted_indices is not None:
        padded = padded[:, sequence.unsorted_indices]
        lengths_t = lengths_t[sequence.unsorted_indices]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, lengths_t


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack variable-length tensors (L_i x *) into (max L x B x *) or (B x max L x *)."""
    lib = _lib()
    if padding_side not in ("left", "right"):
        raise ValueError(
            f"Expected padding_side to be one of left or right, but got {padding_side}."
        )
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    sequences = list(sequences)
    max_len = max(s.shape[0] for s in sequences)
    out = []
    for s in sequences:
        n = s.shape[0]
        if n < max_len:
            pad = lib.full((max_len - n, *s.shape[1:]), padding_value, dtype=s.dtype)
            s = lib.cat([s, pad] if padding_side == "right" else [pad, s], 0)
        out.append(s)
    return lib.stack(out, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor,
                   batch_first: bool = False) -> list[Tensor]:
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[:int(n)] for seq, n in zip(padded_sequences.unbind(0), lengths.tolist())]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
