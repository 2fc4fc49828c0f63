"""Loss functions of ``retrograd.nn.functional`` (PyTorch's names, arguments and defaults).

All are composites of primitives (log_softmax, softplus, gather, ...), so they differentiate
to any order. Distance/margin losses live in ``margin_loss.py`` and CTC in ``ctc.py``; this
module re-exports them. ``cross_entropy`` with class indices is the training hot path: it
runs one fused primitive (``CrossEntropyIndex``) whose backward is itself written with
differentiable ops.
"""

from __future__ import annotations

import builtins
import math
import warnings

import numpy as np

from .._tensor import Tensor
from ..backend import xp
from ._core import Primitive, checked, replayable, result_dtype
from ._loss_common import (
    _broadcast_pair,
    _check_reduction,
    _const,
    _into,
    _legacy,
    _reduce,
    _size_warning,
    _weighted,
    _zero_dim_cross_entropy,
)
from ._out import dtype_name
from .activation import Softplus
from .ctc import ctc_loss
from .margin_loss import (
    cosine_embedding_loss,
    cosine_similarity,
    hinge_embedding_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    pairwise_distance,
    pdist,
    soft_margin_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from .regression_loss import HuberLoss, MseLoss, SmoothL1Loss
from .scatter import TakeAlong, scatter_into_zeros
from .shape import expand, reshape, unsqueeze
from .softmax import LogSoftmax, log_softmax
from .unary import exp, log, where

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cosine_embedding_loss",
           "cosine_similarity", "cross_entropy", "ctc_loss", "gaussian_nll_loss",
           "hinge_embedding_loss", "huber_loss", "kl_div", "l1_loss", "margin_ranking_loss",
           "mse_loss", "multi_margin_loss", "multilabel_margin_loss",
           "multilabel_soft_margin_loss", "nll_loss", "pairwise_distance", "pdist",
           "poisson_nll_loss", "smooth_l1_loss", "soft_margin_loss", "triplet_margin_loss",
           "triplet_margin_with_distance_loss"]


# ---------------------------------------------------------------------- regression losses

def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _size_warning(input, target)
    reduction = _legacy(size_average, reduce, reduction)
    x, y = _broadcast_pair("mse_loss", input, target, reduction)
    dtype = result_dtype((x, y))
    if not dtype.is_floating_point and not dtype.is_complex:
        raise NotImplementedError(f'"mse_cpu" not implemented for \'{dtype_name(dtype._np)}\'')
    # bool operands join the float result (PyTorch's kernel subtracts in that dtype)
    x, y = (v.to(dtype) if v._data.dtype == np.bool_ else v for v in (x, y))
    if weight is None:
        return MseLoss.generic(x, y, reduction=reduction)
    diff = x - y
    return _weighted(diff * diff, weight, input, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _size_warning(input, target)
    reduction = _legacy(size_average, reduce, reduction)
    x, y = _broadcast_pair("l1_loss", input, target, reduction)
    return _weighted((x - y).abs(), weight, input, reduction)


def _huber(diff, delta):
    a = diff.abs()
    return where(a < delta, diff * diff * 0.5, (a - 0.5 * delta) * delta)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    _size_warning(input, target)
    reduction = _legacy(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0:
        return _reduce((input - target).abs(), reduction)
    _check_reduction(reduction)
    return SmoothL1Loss.generic(input, target, reduction=reduction, param=beta)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    _size_warning(input, target)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    target = _into(target, input)  # PyTorch writes the loss in input's dtype
    if weight is None:
        _check_reduction(reduction)
        return HuberLoss.generic(input, target, reduction=reduction, param=delta)
    loss = _huber(input - target, delta)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    return _reduce(loss * weight, reduction)


# ---------------------------------------------------------------------- classification

def _check_nll(input, target, weight):
    """PyTorch's checks, in its order (dims, batch sizes, then the target's dtype); returns
    the class dimension and the class count."""
    nd = input.dim()
    if nd < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {nd})")
    if nd == 1:
        if target.dim() > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        cdim = 0
    else:
        if target.dim() == 0 and input.shape[0] == 0:  # a batch of 0 against a batch of 0
            if nd > 2:
                raise RuntimeError("nll_loss(): a 0-d target cannot index a batch of 0")
            if target._data.dtype.kind not in "iu":
                raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                                   f"{dtype_name(target._data.dtype)}")
            raise IndexError("Dimension specified as 0 but tensor has no dimensions")
        if target.dim() == 0:  # PyTorch counts a 0-d target as a batch of 0
            raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                             f"batch_size (0).")
        if input.shape[0] != target.shape[0]:
            tn = target.shape[0]
            raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                             f"batch_size ({tn}).")
        if nd == 2 and target.dim() != 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        want = (input.shape[0], *input.shape[2:])
        if tuple(target.shape) != want:
            if nd == 3:
                raise RuntimeError(f"Expected target size {list(want)}, got "
                                   f"{list(target.shape)}")
            raise RuntimeError(f"size mismatch (got input: {list(input.shape)} , target: "
                               f"{list(target.shape)})")
        if nd == 3 and input.shape[1] == 0:  # PyTorch's 3-d path cannot fold zero classes
            raise RuntimeError(f"size mismatch (got input: {list(input.shape)} , target: "
                               f"{list(target.shape)}): no classes")
        cdim = 1
    if target._data.dtype.kind not in "iu":
        name = "Float" if target._data.dtype.kind == "f" else dtype_name(target._data.dtype)
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {name}")
    c = input.shape[cdim]
    if weight is not None and weight._data.dtype != input._data.dtype:
        raise RuntimeError(f"expected scalar type {dtype_name(input._data.dtype)} but found "
                           f"{dtype_name(weight._data.dtype)}")
    if weight is not None and weight.numel() != c:
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no "
                           f"classes but got weight tensor of shape: {list(weight.shape)}")
    return cdim, c


def _class_weights(target, weight, ignore_index, c, like):
    """(safe target indices, per-element weight array with ignored entries zeroed)."""
    t = target._data.astype(np.int64, copy=False)
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= c))
    if bad.any():
        raise IndexError(f"Target {int(t[bad].flat[0])} is out of bounds.")
    safe = np.where(valid, t, 0)
    dt = like._data.dtype
    w = weight._data.astype(dt)[safe] if weight is not None else np.ones(t.shape, dt)
    return safe, np.where(valid, w, 0).astype(dt), valid


_ARANGE: dict = {}


def _rows(m, n: int):
    """``arange(n)``, the row index of (N, C) gathers; NumPy's kept per n (read-only)."""
    if m is not np:
        return m.arange(n)
    r = _ARANGE.get(n)
    if r is None:
        if len(_ARANGE) >= 64:
            _ARANGE.clear()
        r = _ARANGE[n] = np.arange(n)
        r.flags.writeable = False
    return r


def _take(m, a, index, dim):
    """``take_along_axis(a, index, dim)``; for (N, C) logits along dim 1 by plain indexing
    (the same elements, without NumPy's index-building helper)."""
    if a.ndim == 2 and dim == 1:
        return a[_rows(m, a.shape[0]), index[:, 0]][:, None]
    return m.take_along_axis(a, index, dim)


class CrossEntropyIndex(Primitive):
    """Per-element -w[t] * log_softmax(x)[t] along dim 1 (fused log_softmax + gather).

    d/dx = grad * w[t] * (softmax(x) - onehot(t)).  A plain backward reuses the forward's
    softmax; under create_graph the same formula is built from differentiable ops.
    """

    __slots__ = ("dim", "index", "probs", "w")
    formula = "grad * w[t] * (softmax(x) - onehot(t))"

    def forward(ctx, x, dim=1, index=None, w=None):
        ctx.dim, ctx.index, ctx.w = dim, index, w
        m = xp(x)
        work = x.astype(np.float32) if x.dtype == np.float16 else x
        shift = work - work.max(axis=dim, keepdims=True)
        picked = _take(m, shift, index, dim)
        e = m.exp(shift, out=shift)  # in place: this is the hot path of training
        total = e.sum(axis=dim, keepdims=True)
        e /= total
        ctx.probs = e
        picked = picked - m.log(total)
        ctx.save(x)
        return (-picked.squeeze(dim) * w).astype(x.dtype, copy=False)

    def backward(ctx, grad):
        (x,) = ctx.saved
        if not isinstance(x, Tensor):
            g = xp(grad).expand_dims(grad * ctx.w, ctx.dim)
            out = ctx.probs * g
            m = xp(out)
            sub = _take(m, out, ctx.index, ctx.dim) - g
            if out.ndim == 2 and ctx.dim == 1:  # the common case, without NumPy's helpers
                out[_rows(m, out.shape[0]), ctx.index[:, 0]] = sub[:, 0]
            else:
                m.put_along_axis(out, ctx.index, sub, ctx.dim)
            return out.astype(x.dtype, copy=False)
        g = unsqueeze(grad * ctx.w, ctx.dim)
        p = exp(LogSoftmax.generic(x, dim=ctx.dim))
        return p * g - scatter_into_zeros(g, tuple(x.shape), ctx.dim, ctx.index)

    def jvp(ctx, tx):
        (x,) = ctx.saved
        p = exp(LogSoftmax.generic(x, dim=ctx.dim))
        dot = (p * tx).sum(ctx.dim)
        picked = TakeAlong.generic(tx, dim=ctx.dim, index=ctx.index).squeeze(ctx.dim)
        return (dot - picked) * ctx.w


class CrossEntropyMean(CrossEntropyIndex):
    """mean over the batch of -log_softmax(x)[t] (no weights, nothing ignored): the common
    training loss as one node.  d/dx = grad * (softmax(x) - onehot(t)) / N."""

    __slots__ = ()
    _name = "NllLossBackward0"
    formula = "grad * (softmax(x) - onehot(t)) / N"

    def forward(ctx, x, dim=1, index=None, w=None):
        if x.ndim != 2 or dim != 1 or x.dtype == np.float16:
            per = CrossEntropyIndex.forward(ctx, x, dim=dim, index=index, w=w)
            return per.sum(dtype=per.dtype)
        ctx.dim, ctx.index, ctx.w = dim, index, w
        loss, ctx.probs = ce_rows(x, index, w)
        ctx.save(x)
        return loss

    def backward(ctx, grad):
        if ctx.probs.ndim == 2 and ctx.dim == 1 and not isinstance(grad, Tensor):
            (x,) = ctx.saved
            if not isinstance(x, Tensor):
                return ce_rows_grad(grad, ctx.probs, ctx.index, ctx.w, x.dtype)
        n = ctx.index.size
        if isinstance(grad, Tensor):
            per = expand(reshape(grad, (1,)), (n,))
        else:
            per = xp(ctx.index).full(n, grad, dtype=ctx.probs.dtype)
        return CrossEntropyIndex.backward(ctx, per)

    def jvp(ctx, tx):
        return CrossEntropyIndex.jvp(ctx, tx).sum()


def ce_rows(x, index, w):
    """``CrossEntropyMean`` on (N, C) logits (float32/64) along dim 1, the training step's
    loss, in few NumPy calls: ``w * sum(logsumexp(x) - x[t])`` and the softmax, which the
    backward reuses. A replay (compiler/_flat.py) makes the very same calls.

    On NumPy arrays the calls skip NumPy's Python wrappers (``ndarray.max`` and ``sum`` go
    through ``numpy._core._methods``), sum the rows with a matmul (half the cost of a sum
    along the short axis), and gather the targets by flat index."""
    m = xp(x)
    if m is not np:
        shift = x - x.max(axis=1, keepdims=True)
        picked = shift[_rows(m, x.shape[0]), index[:, 0]]
        e = m.exp(shift, out=shift)
        total = e.sum(axis=1, keepdims=True)
        e /= total
        return (m.log(total).sum() - picked.sum()) * w, e
    n, c = x.shape
    shift = x - _max_reduce(x, 1, None, None, True)
    picked = shift.ravel()[_flat_targets(index, n, c)]
    e = np.exp(shift, out=shift)  # in place: the softmax, once divided by the row sums
    total = e @ _ones_column(c, e.dtype)
    e /= total
    return _add_reduce(np.log(total)[:, 0] - picked) * w, e


def ce_rows_grad(grad, probs, index, w, dtype):
    """``ce_rows``'s backward on arrays: ``grad * w * (softmax(x) - onehot(t))``."""
    s = grad * w
    if type(probs) is not np.ndarray:
        out = probs * s
        out[_rows(xp(out), index.shape[0]), index[:, 0]] -= s
        return out.astype(dtype, copy=False)
    out = np.multiply(probs, s, order="C")  # C order: its ravel() is a view, written below
    n, c = out.shape
    flat = out.ravel()
    flat[_flat_targets(index, n, c)] -= s
    return out.astype(dtype, copy=False)


_max_reduce = np.maximum.reduce
_add_reduce = np.add.reduce
_ONES: dict = {}
_STARTS: dict = {}


def _ones_column(c: int, dtype):
    """A (c, 1) column of ones (read-only, kept per size and dtype): ``e @ ones`` sums rows."""
    key = (c, dtype)
    col = _ONES.get(key)
    if col is None:
        if len(_ONES) >= 64:
            _ONES.clear()
        col = _ONES[key] = np.ones((c, 1), dtype)
        col.flags.writeable = False
    return col


def _flat_targets(index, n: int, c: int):
    """The flat positions ``row * c + index[row, 0]`` of the targets in a C-ordered (n, c)."""
    key = (n, c)
    starts = _STARTS.get(key)
    if starts is None:
        if len(_STARTS) >= 64:
            _STARTS.clear()
        starts = _STARTS[key] = np.arange(0, n * c, c)
        starts.flags.writeable = False
    return index[:, 0] + starts


def _fast_cross_entropy(input, target, ignore_index):
    """The hot path: (N, C) float logits, N integer targets, mean, no weights or smoothing;
    None where another path must answer (the caller checked nothing else)."""
    x, t = input._data, target._data
    if x.ndim != 2 or t.ndim != 1 or x.dtype.kind != "f" or t.dtype.kind not in "iu":
        return None
    n, c = x.shape
    if n == 0 or t.shape[0] != n or not checked(_plain_targets, t, c, ignore_index):
        return None  # ignored entries or errors: the general path handles them
    index = replayable(_column, t)
    return CrossEntropyMean.apply(input, dim=1, index=index, w=1.0 / n)


def _plain_targets(t, c, ignore_index) -> bool:
    """Every target a class in range, none of them ignored."""
    if t.dtype.kind == "i":  # seen unsigned, a negative target is above every class
        t = t.view(_UNSIGNED[t.dtype.itemsize])
    return bool(t.max() < c and not (0 <= ignore_index < c and (t == ignore_index).any()))


_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _column(t):
    return t.astype(np.int64, copy=False)[:, None]


def _nll_reduce(loss, w, reduction):
    _check_reduction(reduction)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    total = w.sum()
    if total == 0:  # everything ignored: NaN, as PyTorch, with a zero (not NaN) gradient
        return loss.sum() * 0 + float("nan")
    return loss.sum() / _const(total, loss)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """-w[t] * input[t] along the class dimension (1, or 0 for unbatched input)."""
    reduction = _legacy(size_average, reduce, reduction)
    cdim, c = _check_nll(input, target, weight)
    safe, w, _ = _class_weights(target, weight, ignore_index, c, input)
    index = np.expand_dims(safe, cdim)
    picked = TakeAlong.generic(input, dim=cdim, index=index).squeeze(cdim)
    return _nll_reduce(-picked * w, w, reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """log_softmax over the class dimension, then nll (class indices) or the soft-label
    cross entropy (class probabilities), with optional label smoothing."""
    if weight is None and reduction == "mean" and label_smoothing == 0 and size_average is None \
            and reduce is None and isinstance(input, Tensor) and isinstance(target, Tensor):
        # The training step's loss, before the checks below, none of which it could fail.
        fast = _fast_cross_entropy(input, target, ignore_index)
        if fast is not None:
            return fast
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if tuple(target.shape) == tuple(input.shape) and target._data.dtype.kind not in "fc":
        # a target of the input's shape holds class probabilities (PyTorch checks first)
        raise RuntimeError(f"Expected floating point type for target with class "
                           f"probabilities, got {dtype_name(target._data.dtype)}")
    if input.dim() == 0:
        _zero_dim_cross_entropy(target)
    cdim = 0 if input.dim() == 1 else 1
    if input._data.dtype.kind != "f" and input._data.size:  # log_softmax comes first
        # in PyTorch, and skips its dtype check for an empty input
        kernel = "lastdim_kernel_impl" if cdim == input.dim() - 1 else "kernel_impl"
        raise NotImplementedError(f'"log_softmax_{kernel}" not implemented for '
                                  f"'{dtype_name(input._data.dtype)}'")
    if target._data.dtype.kind == "f" and tuple(target.shape) == tuple(input.shape):
        # class probabilities; a float target of another shape reads as class indices
        # (and is refused for its dtype there, as PyTorch does)
        return _cross_entropy_probs(input, target, weight, cdim, reduction, label_smoothing)
    cdim, c = _check_nll(input, target, weight)
    safe, w, valid = _class_weights(target, weight, ignore_index, c, input)
    loss = CrossEntropyIndex.generic(input, dim=cdim, index=np.expand_dims(safe, cdim), w=w)
    nll = _nll_reduce(loss, w, reduction)
    if label_smoothing == 0:
        return nll
    logp = log_softmax(input, cdim)
    if weight is not None:
        shape = [1] * input.dim()
        shape[cdim] = c
        smooth = -(logp * weight.reshape(shape)).sum(cdim)
    else:
        smooth = -logp.sum(cdim)
    smooth = where(valid, smooth, 0.0)
    if reduction == "mean":
        denom = w.sum() if weight is not None else valid.sum()
        with np.errstate(invalid="ignore", divide="ignore"):
            smooth = smooth.sum() / _const(denom, smooth)
    elif reduction == "sum":
        smooth = smooth.sum()
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / c)


def _cross_entropy_probs(input, target, weight, cdim, reduction, ls):
    if tuple(target.shape) != tuple(input.shape):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    c = input.shape[cdim]
    logp = log_softmax(input, cdim)
    if ls > 0:
        target = target * (1 - ls) + ls / c
    prod = logp * target
    if weight is not None:
        shape = [1] * input.dim()
        shape[cdim] = c
        prod = prod * weight.reshape(shape)
    if reduction == "mean":
        return -prod.sum() / (input.numel() // c if c else 0)
    if reduction == "sum":
        return -prod.sum()
    return -prod.sum(cdim)


def _target_size(input, target, word):
    if tuple(target.shape) != tuple(input.shape):
        if word == "logits":
            raise ValueError(f"Target size ({target.size()}) must be the same as input size "
                             f"({input.size()})")
        raise ValueError(f"Using a target size ({target.size()}) that is different to the "
                         f"input size ({input.size()}) is deprecated. Please ensure they have "
                         "the same size.")


_BCE_EPS = 1e-12


class BinaryCrossEntropy(Primitive):
    """reduce(-w (t log x + (1 - t) log(1 - x))), each log clamped at -100 as PyTorch; one
    node with the reduction, as PyTorch's BinaryCrossEntropyBackward0 (w: a constant).

    d/dx = r(grad) w (x - t) / max(x (1 - x), 1e-12): PyTorch's floor keeps the gradient
    finite where x saturates to 0 or 1 (bce(sigmoid(z), t) for large |z| in float32);
    d/dt = r(grad) w (log(1 - x) - log(x)); r spreads grad over the elements (/ n: mean).
    """

    __slots__ = ("numel", "reduction", "w")
    promote = True
    formula = "r(grad) * w * (x - t) / max(x * (1 - x), 1e-12), r(grad) * w * (log(1 - x) - log(x))"

    def forward(ctx, x, t, w=None, reduction="none"):
        m = xp(x)
        with np.errstate(divide="ignore"):
            log_x = m.maximum(m.log(x), -100)
            log_1mx = m.maximum(m.log(1 - x), -100)
        ctx.save(x, t)
        ctx.w, ctx.reduction = w, reduction
        loss = -(t * log_x + (1 - t) * log_1mx)
        if w is not None:
            loss = loss * w
        ctx.numel = loss.size
        if reduction == "mean":
            return loss.mean()
        return loss.sum() if reduction == "sum" else loss

    def _slopes(ctx):
        x, t = ctx.saved
        var = x * (1 - x)
        dx = (x - t) / where(var < _BCE_EPS, _BCE_EPS, var)
        with np.errstate(divide="ignore"):
            dt = log(1 - x) - log(x)
        return dx, dt

    def _scale(ctx, g):
        if ctx.reduction == "mean":
            g = g / ctx.numel
        return g if ctx.w is None else g * ctx.w

    def backward(ctx, grad):
        nx, nt = ctx.needs_input_grad
        dx, dt = ctx._slopes()
        g = ctx._scale(grad)
        return (g * dx if nx else None), (g * dt if nt else None)

    def jvp(ctx, tx, tt):
        dx, dt = ctx._slopes()
        out = None if tx is None else tx * dx
        if tt is not None:
            out = tt * dt if out is None else out + tt * dt
        if ctx.w is not None:
            out = out * ctx.w
        if ctx.reduction == "mean":
            return out.mean()
        return out.sum() if ctx.reduction == "sum" else out


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """-w (t log x + (1 - t) log(1 - x)), each log clamped at -100 as PyTorch."""
    reduction = _legacy(size_average, reduce, reduction)
    _target_size(input, target, "probs")
    data = input._data
    if target._data.dtype != data.dtype:  # no promotion: target in input's dtype
        raise RuntimeError(f"Found dtype {dtype_name(target._data.dtype)} but expected "
                           f"{dtype_name(data.dtype)}")
    if data.dtype.kind not in "fc":
        raise NotImplementedError(f'"binary_cross_entropy" not implemented for '
                                  f"'{dtype_name(data.dtype)}'")
    if ((data < 0) | (data > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    _check_reduction(reduction)
    w = None
    if weight is not None:
        if weight.requires_grad:
            raise RuntimeError("The function 'binary_cross_entropy' is not differentiable with "
                               "respect to argument 'weight'. This input cannot have "
                               "requires_grad True.")
        w = weight._data.astype(input._data.dtype, copy=False)
    return BinaryCrossEntropy.generic(input, target, w=w, reduction=reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """(1 - t) x + (1 + (pw - 1) t) softplus(-x), stable for any logit."""
    reduction = _legacy(size_average, reduce, reduction)
    _target_size(input, target, "logits")
    if input._data.dtype.kind not in "fc":
        raise NotImplementedError(f'"log_sigmoid_cpu" not implemented for '
                                  f"'{dtype_name(input._data.dtype)}'")
    input = _into(input, target)  # PyTorch writes the loss in target's dtype
    sp = Softplus.generic(-input, threshold=math.inf)
    if pos_weight is not None:
        sp = sp * ((pos_weight - 1) * target + 1)
    loss = (1 - target) * input + sp
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """target * (log target - input) pointwise (``input`` holds log-probabilities)."""
    if size_average is not None or reduce is not None:
        reduction = _legacy(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.", UserWarning, stacklevel=2)
    if log_target:
        loss = exp(target) * (target - input)
    else:
        zero = target == 0
        loss = where(zero, 0.0, target * log(where(zero, 1.0, target))) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.dim() else 1)
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    reduction = _legacy(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not a valid value for reduction")
    loss = exp(input) - target * input if log_input else input - target * log(input + eps)
    if full:
        t = target.detach() if isinstance(target, Tensor) else target
        big = t > 1
        ts = where(big, target, 2.0)
        stirling = ts * log(ts) - ts + log(ts * (2 * math.pi)) * 0.5
        loss = loss + where(big, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log var + (input - target)^2 / var); var is clamped at eps without blocking grad."""
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = input.detach() * 0 + float(var)
    elif bool((var._data < 0).any()):
        raise ValueError("var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (input.dim() == var.dim() and builtins.sum(
                y for x, y in zip(input.shape, var.shape) if x != y) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = var + _const(np.maximum(var._data, eps) - var._data, var)
    diff = input - target
    loss = (log(var) + diff * diff / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)



#: What PyTorch also has at the top level with the same signature (its top-level losses take
#: an integer reduction enum, so they are left out).
TORCH_NAMES = {"cosine_similarity": cosine_similarity, "pairwise_distance": pairwise_distance}
