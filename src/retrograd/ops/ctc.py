"""``ctc_loss``: the CTC forward (alpha) recursion in log space, written with differentiable
ops, so it has a double backward (PyTorch's has none)."""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor, wrap
from ._core import checked, replayable
from ._loss_common import _check_reduction, _const
from .unary import exp, log, where

__all__ = ["ctc_loss"]


_NEG = -1e30  # "log 0" that stays finite, so no inf - inf reaches a gradient


def _lse(terms):
    """log(sum(exp(t))) over a list of same-shape tensors, shifted by their (constant) max."""
    m = wrap(replayable(_max, *[t._data for t in terms]))
    total = exp(terms[0] - m)
    for t in terms[1:]:
        total = total + exp(t - m)
    return log(total) + m


def _max(*arrays):
    """The elementwise max of the terms (through ``replayable``: made again in a replay)."""
    m = arrays[0]
    for a in arrays[1:]:
        m = np.maximum(m, a)
    return m


def _softmax_term(log_probs, il):
    """Zero per sample, with gradient exp(log_probs) at the sample's valid times.

    PyTorch's ctc_loss gradient with respect to log_probs is exp(log_probs) - posterior:
    the derivative of -log p(target) taken with respect to the logits of a log_softmax
    whose output is log_probs. (Through a log_softmax both conventions give the same
    logits gradient: its backward removes any grad proportional to exp(log_probs) per
    row.) The term x - const(x) adds that part to our exact derivative, -posterior."""
    e = exp(log_probs)
    valid = replayable(_valid_times, log_probs.shape[0], il)
    return where(valid, e - _const(e._data, e), 0.0).sum((0, 2))


def _running(t_max, il):
    """Per time t, an (N, 1) column: whether t is inside each sample's input."""
    return tuple((t < il)[:, None] for t in range(t_max))


def _valid_times(t_max, il):
    """(T, N, 1): whether time t is inside sample n's input."""
    return (np.arange(t_max)[:, None] < il[None, :])[:, :, None]


def _lengths(lengths):
    """Input or target lengths as a flat int64 array."""
    return np.asarray(lengths, dtype=np.int64).reshape(-1)


def _alignment(tg, tl, n, unbatched, blank):
    """The targets interleaved with blanks (``ext``, (N, 2L + 1)), where a path may skip
    from s - 2 (``allow2``: a label differing from s - 2's), the two end states of each
    sample (``last``) and which of them exist (``ends``)."""
    tg = tg.astype(np.int64)
    if unbatched and tg.ndim == 1 and tl.size == 1:
        tg = tg[None]
    starts = np.concatenate([[0], np.cumsum(tl)[:-1]])
    seqs = [tg[i, :tl[i]] if tg.ndim == 2 else tg[starts[i]:starts[i] + tl[i]] for i in range(n)]
    width = 2 * int(tl.max(initial=0)) + 1
    ext = np.full((n, width), blank, np.int64)
    allow2 = np.zeros((n, width), bool)
    for i, seq in enumerate(seqs):
        ext[i, 1:2 * len(seq):2] = seq
        for s in range(3, 2 * len(seq), 2):
            allow2[i, s] = ext[i, s] != ext[i, s - 2]
    last = np.stack([2 * tl, np.maximum(2 * tl - 1, 0)], 1)
    ends = np.stack([np.ones(n, bool), tl > 0], 1)
    return ext, allow2, last, ends


def _width(tl) -> int:
    return 2 * int(tl.max(initial=0)) + 1


def _impossible(loss):
    return loss > -_NEG / 10


def _any(mask) -> bool:
    return bool(mask.any())


def _divisor(tl, shape, dtype):
    return np.maximum(tl, 1).reshape(shape).astype(dtype)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """Connectionist Temporal Classification loss: -log p(target | input), by the forward
    (alpha) recursion over time in log space, written with differentiable ops.

    d/dlog_probs = exp(log_probs) - posterior of each (time, class), at valid times (as
    PyTorch's, which takes log_probs to be log_softmax outputs; see _softmax_term)."""
    unbatched = log_probs.dim() == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
    t_max, n, _ = log_probs.shape
    # The lengths and targets are data: everything made from them is made again in a
    # captured step's replay, and the alignment's width (a shape) is a guard.
    il = replayable(_lengths, input_lengths._data if isinstance(input_lengths, Tensor)
                    else input_lengths)
    tl = replayable(_lengths, target_lengths._data if isinstance(target_lengths, Tensor)
                    else target_lengths)
    width = checked(_width, tl)
    ext, allow2, last, has_end = replayable(_alignment, targets._data, tl, n, unbatched, blank)
    # emissions[t, i, s] = log_probs[t, i, ext[i, s]]
    # (advanced indexing accumulates repeated indices in backward; blanks repeat)
    emit = log_probs[:, np.arange(n)[:, None], ext]
    pos = np.arange(width)
    prev1 = np.maximum(pos - 1, 0)
    prev2 = np.maximum(pos - 2, 0)
    start = np.where(pos < 2, 0.0, _NEG)
    alpha = emit[0] + _const(start, log_probs)
    neg = _const(_NEG, log_probs)
    has1 = pos >= 1
    running = replayable(_running, t_max, il)
    for t in range(1, t_max):
        a1 = where(has1, alpha[:, prev1], neg)
        a2 = where(allow2, alpha[:, prev2], neg)
        new = _lse([alpha, a1, a2]) + emit[t]
        alpha = where(running[t], new, alpha)
    ends = alpha[np.arange(n)[:, None], last]
    ends = where(has_end, ends, neg)
    loss = -_lse([ends[:, 0], ends[:, 1]]) + _softmax_term(log_probs, il)
    impossible = replayable(_impossible, loss._data)
    if checked(_any, impossible):
        loss = where(impossible, 0.0 if zero_infinity else math.inf, loss)
    if unbatched:
        loss = loss.squeeze(0)
    _check_reduction(reduction)
    if reduction == "mean":
        return (loss / replayable(_divisor, tl, loss.shape, loss._data.dtype)).mean()
    return loss.sum() if reduction == "sum" else loss
