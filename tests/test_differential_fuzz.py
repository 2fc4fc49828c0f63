"""Differential fuzzing against PyTorch: random ops on random inputs, same answers.

Each op of ``OPS`` (about a hundred of the most used) runs on ``CASES`` seeded random
inputs: 0-d, empty, broadcast and non-contiguous (transposed or strided) tensors of every
dtype the op takes, with random dims (sometimes out of range) and keepdim. Under retrograd
and under torch the call must either both raise (retrograd with torch's exception class or
a subclass) or both return the same dtypes, shapes and values, and for float inputs the same
gradients of a random weighted sum of the outputs.

The generator is a NumPy ``default_rng`` seeded by the op's name, so a failure reproduces
with ``pytest tests/test_differential_fuzz.py -k NAME``; the message prints the case.
Deliberate, documented differences are the entries of ``KNOWN`` (one place, one reason each).
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Callable

import numpy as np
import pytest
import torch

import retrograd

CASES = 24
FLOATS = ("float32", "float64")
INTS = ("int64", "int32", "uint8")
ALL = (*FLOATS, *INTS, "bool")
NUM = (*FLOATS, *INTS)


@dataclasses.dataclass
class Op:
    """An op under test: ``fn(lib, *tensors, **params)`` runs under either library.

    ``arity`` tensors are drawn with shapes of ``shape`` kind ("ew": broadcast-compatible,
    "same", "mm": matrix product, "one": a single tensor); ``params(rng, shapes)`` draws
    the non-tensor arguments (dims, sizes, indices).
    """

    name: str
    fn: Callable
    arity: int = 1
    dtypes: tuple = ALL
    shape: str = "ew"
    params: Callable | None = None
    grad: bool = True
    nonneg: bool = False


def _dim(rng, shapes, extra=0):
    n = max(len(shapes[0]), 1) + extra
    # One case in ten is out of range: both libraries must raise IndexError.
    return int(rng.integers(-n - 1, n + 1)) if rng.random() < 0.1 else int(rng.integers(-n, n))


def p_dim(rng, shapes):
    return {"dim": _dim(rng, shapes)}


def p_dim_keep(rng, shapes):
    return {"dim": _dim(rng, shapes), "keepdim": bool(rng.integers(2))}


def p_dims2(rng, shapes):
    return {"d0": _dim(rng, shapes), "d1": _dim(rng, shapes)}


def p_perm(rng, shapes):
    return {"perm": [int(i) for i in rng.permutation(len(shapes[0]))]}


def p_reshape(rng, shapes):
    n = int(np.prod(shapes[0]))
    opts = [(-1,), (n,), (1, n), (n, 1), (-1, 1)]
    if n % 2 == 0 and n:
        opts.append((2, -1))
    if rng.random() < 0.15:
        return {"shape": (n + 1,)}  # does not fit: RuntimeError in both
    return {"shape": opts[int(rng.integers(len(opts)))]}


def p_index(rng, shapes):
    s = shapes[0]
    kind = int(rng.integers(5))
    if not s:
        return {"idx": (None, Ellipsis, ())[kind % 3]}
    n = s[0]
    if kind == 0:
        return {"idx": int(rng.integers(-n - 1, n + 1)) if n else 0}
    if kind == 1:
        return {"idx": slice(int(rng.integers(-3, 3)), None, int(rng.integers(1, 3)))}
    if kind == 2:
        return {"idx": [int(i) for i in rng.integers(-n, max(n, 1), size=3)] if n else []}
    if kind == 3:
        return {"idx": (Ellipsis, None, slice(None, None, 2))}
    return {"idx": "mask"}


def _index(L, x, idx):
    if isinstance(idx, str):  # a boolean mask of x's own shape
        return x[x > 0] if x.dtype != L.bool else x[x]
    if isinstance(idx, list):
        return x[L.tensor(idx, dtype=L.int64)]
    return x[idx]


def p_gather(rng, shapes):
    s = shapes[0]
    d = _dim(rng, shapes)
    n = s[d] if s and -len(s) <= d < len(s) else 1
    k = int(rng.integers(0, 3))
    ishape = list(s) if s else []
    if ishape and -len(s) <= d < len(s):
        ishape[d] = k
    return {"dim": d, "index": rng.integers(0, max(n, 1), size=ishape)}


def p_narrow(rng, shapes):
    d = _dim(rng, shapes)
    s = shapes[0]
    n = s[d] if s and -len(s) <= d < len(s) else 1
    start = int(rng.integers(-1, n + 1))
    return {"dim": d, "start": start, "length": int(rng.integers(0, max(n - max(start, 0), 0) + 2))}


def p_clamp(rng, shapes):
    lo = float(rng.integers(-2, 1))
    hi = float(rng.integers(0, 3)) if rng.random() < 0.8 else None
    return {"lo": lo, "hi": hi}


def p_topk(rng, shapes):
    d = _dim(rng, shapes)
    s = shapes[0]
    n = s[d] if s and -len(s) <= d < len(s) else 1
    return {"dim": d, "k": int(rng.integers(0, n + 2)), "largest": bool(rng.integers(2))}


def p_chunks(rng, shapes):
    return {"dim": _dim(rng, shapes), "n": int(rng.integers(1, 4))}


def p_repeat(rng, shapes):
    n = len(shapes[0])
    return {"reps": [int(i) for i in rng.integers(1, 3, size=n + int(rng.integers(0, 2)))]}


def p_roll(rng, shapes):
    return {"shifts": int(rng.integers(-3, 4)), "dim": _dim(rng, shapes)}


def p_diag(rng, shapes):
    return {"k": int(rng.integers(-2, 3))}


def p_norm(rng, shapes):
    return {"p": [1, 2, float("inf"), 3][int(rng.integers(4))], "dim": _dim(rng, shapes),
            "keepdim": bool(rng.integers(2))}


def p_target(rng, shapes):
    s = shapes[0]
    c = s[1] if len(s) > 1 else (s[0] if s else 1)
    tshape = (s[0],) + tuple(s[2:]) if len(s) > 1 else ()
    return {"target": rng.integers(0, max(c, 1), size=tshape)}


def _t(L, v):
    return L.tensor(np.asarray(v), dtype=L.int64)


F = "torch.nn.functional"


def _f(L):
    return L.nn.functional


OPS = [
    # arithmetic and comparisons (broadcasting, promotion)
    Op("add", lambda L, a, b: a + b, 2),
    Op("add_alpha", lambda L, a, b: L.add(a, b, alpha=2), 2),
    Op("sub", lambda L, a, b: a - b, 2, NUM),
    Op("mul", lambda L, a, b: a * b, 2),
    Op("div", lambda L, a, b: a / b, 2, NUM),
    Op("div_floor", lambda L, a, b: L.div(a, b, rounding_mode="floor"), 2, FLOATS),
    Op("div_trunc", lambda L, a, b: L.div(a, b, rounding_mode="trunc"), 2, FLOATS),
    Op("floor_divide", lambda L, a, b: a // b, 2, FLOATS, grad=False),
    Op("remainder", lambda L, a, b: a % b, 2, FLOATS),
    Op("fmod", lambda L, a, b: L.fmod(a, b), 2, FLOATS),
    Op("pow", lambda L, a, b: L.pow(a.abs() + 0.5, b), 2, FLOATS),
    Op("pow_scalar", lambda L, a: a ** 2, 1, NUM),
    Op("rpow", lambda L, a: 2.0 ** a, 1, FLOATS),
    Op("maximum", lambda L, a, b: L.maximum(a, b), 2, NUM),
    Op("minimum", lambda L, a, b: L.minimum(a, b), 2, NUM),
    Op("atan2", lambda L, a, b: L.atan2(a, b), 2, FLOATS),
    Op("scalar_add", lambda L, a: a + 1.5, 1, ALL),
    Op("scalar_mul_int", lambda L, a: 3 * a, 1, ALL),
    Op("rsub", lambda L, a: 1 - a, 1, NUM),
    Op("eq", lambda L, a, b: a == b, 2),
    Op("ne", lambda L, a, b: a != b, 2),
    Op("lt", lambda L, a, b: a < b, 2, NUM),
    Op("le", lambda L, a, b: a <= b, 2, NUM),
    Op("gt", lambda L, a, b: a > b, 2, NUM),
    Op("ge", lambda L, a, b: L.ge(a, b), 2, NUM),
    Op("logical_and", lambda L, a, b: L.logical_and(a, b), 2),
    Op("logical_or", lambda L, a, b: L.logical_or(a, b), 2),
    Op("logical_not", lambda L, a: L.logical_not(a), 1),
    Op("bitwise_and", lambda L, a, b: a & b, 2, ("int64", "int32", "uint8", "bool")),
    # unary math
    Op("neg", lambda L, a: -a, 1, (*FLOATS, "int64", "int32")),
    Op("abs", lambda L, a: a.abs(), 1, NUM),
    Op("exp", lambda L, a: a.exp(), 1, NUM),
    Op("log", lambda L, a: a.log(), 1, NUM, nonneg=True),
    Op("log1p", lambda L, a: L.log1p(a), 1, FLOATS, nonneg=True),
    Op("expm1", lambda L, a: a.expm1(), 1, FLOATS),
    Op("sqrt", lambda L, a: a.sqrt(), 1, NUM, nonneg=True),
    Op("rsqrt", lambda L, a: (a + 0.5).rsqrt(), 1, FLOATS, nonneg=True),
    Op("sin", lambda L, a: L.sin(a), 1, NUM),
    Op("cos", lambda L, a: a.cos(), 1, FLOATS),
    Op("tan", lambda L, a: a.tan(), 1, FLOATS),
    Op("tanh", lambda L, a: a.tanh(), 1, NUM),
    Op("sigmoid", lambda L, a: a.sigmoid(), 1, NUM),
    Op("asin", lambda L, a: (a * 0.4).asin(), 1, FLOATS),
    Op("atan", lambda L, a: a.atan(), 1, FLOATS),
    Op("sinh", lambda L, a: a.sinh(), 1, FLOATS),
    Op("erf", lambda L, a: L.erf(a), 1, FLOATS),
    Op("sign", lambda L, a: a.sign(), 1, NUM),
    Op("floor", lambda L, a: a.floor(), 1, NUM),
    Op("ceil", lambda L, a: a.ceil(), 1, FLOATS),
    Op("round", lambda L, a: (a * 3).round(), 1, FLOATS),
    Op("trunc", lambda L, a: a.trunc(), 1, FLOATS),
    Op("frac", lambda L, a: a.frac(), 1, FLOATS),
    Op("reciprocal", lambda L, a: (a.abs() + 0.5).reciprocal(), 1, FLOATS),
    Op("square", lambda L, a: a.square(), 1, NUM),
    Op("isnan", lambda L, a: L.isnan(a.log()), 1, FLOATS),
    Op("isfinite", lambda L, a: L.isfinite(1 / a), 1, FLOATS),
    Op("nan_to_num", lambda L, a: L.nan_to_num(a.log(), neginf=-9.0), 1, FLOATS),
    Op("clamp", lambda L, a, lo, hi: a.clamp(lo, hi), 1, NUM, params=p_clamp),
    Op("clamp_min", lambda L, a: a.clamp(min=0.1), 1, FLOATS),
    Op("where", lambda L, a, b: L.where(a > 0, a, b), 2, NUM),
    Op("where_scalar", lambda L, a: L.where(a > 0, a, 0.0), 1, FLOATS),
    Op("lerp", lambda L, a, b: L.lerp(a, b, 0.3), 2, FLOATS),
    # activations
    Op("relu", lambda L, a: L.relu(a), 1, NUM),
    Op("gelu", lambda L, a: _f(L).gelu(a), 1, FLOATS),
    Op("gelu_tanh", lambda L, a: _f(L).gelu(a, approximate="tanh"), 1, FLOATS),
    Op("silu", lambda L, a: _f(L).silu(a), 1, FLOATS),
    Op("elu", lambda L, a: _f(L).elu(a), 1, FLOATS),
    Op("leaky_relu", lambda L, a: _f(L).leaky_relu(a, 0.1), 1, FLOATS),
    Op("softplus", lambda L, a: _f(L).softplus(a, beta=2.0), 1, FLOATS),
    Op("hardtanh", lambda L, a: _f(L).hardtanh(a), 1, FLOATS),
    Op("logsigmoid", lambda L, a: _f(L).logsigmoid(a), 1, FLOATS),
    Op("mish", lambda L, a: _f(L).mish(a), 1, FLOATS),
    Op("softmax", lambda L, a, dim: L.softmax(a, dim), 1, FLOATS, params=p_dim),
    Op("log_softmax", lambda L, a, dim: _f(L).log_softmax(a, dim=dim), 1, FLOATS,
       params=p_dim),
    # reductions
    Op("sum", lambda L, a: a.sum(), 1, ALL),
    Op("sum_dim", lambda L, a, dim, keepdim: a.sum(dim, keepdim=keepdim), 1, ALL,
       params=p_dim_keep),
    Op("mean_dim", lambda L, a, dim, keepdim: a.mean(dim, keepdim), 1, FLOATS,
       params=p_dim_keep),
    Op("mean", lambda L, a: a.mean(), 1, FLOATS),
    Op("prod_dim", lambda L, a, dim, keepdim: a.prod(dim, keepdim=keepdim), 1, NUM,
       params=p_dim_keep),
    Op("amax", lambda L, a, dim, keepdim: a.amax(dim, keepdim), 1, NUM, params=p_dim_keep),
    Op("max_dim", lambda L, a, dim, keepdim: a.max(dim, keepdim), 1, NUM, params=p_dim_keep),
    Op("min_dim", lambda L, a, dim, keepdim: L.min(a, dim, keepdim=keepdim), 1, NUM,
       params=p_dim_keep),
    Op("max", lambda L, a: a.max(), 1, NUM),
    Op("argmax", lambda L, a, dim, keepdim: a.argmax(dim, keepdim), 1, NUM, params=p_dim_keep),
    Op("std", lambda L, a, dim, keepdim: a.std(dim, keepdim=keepdim), 1, FLOATS,
       params=p_dim_keep),
    Op("var", lambda L, a, dim, keepdim: a.var(dim, unbiased=False, keepdim=keepdim), 1,
       FLOATS, params=p_dim_keep),
    Op("logsumexp", lambda L, a, dim, keepdim: L.logsumexp(a, dim, keepdim), 1, FLOATS,
       params=p_dim_keep),
    Op("norm", lambda L, a, p, dim, keepdim: a.norm(p, dim, keepdim), 1, FLOATS,
       params=p_norm),
    Op("all_dim", lambda L, a, dim, keepdim: a.all(dim, keepdim), 1, ALL, params=p_dim_keep),
    Op("any", lambda L, a: a.any(), 1, ALL),
    Op("cumsum", lambda L, a, dim: a.cumsum(dim), 1, ALL, params=p_dim),
    Op("cumprod", lambda L, a, dim: L.cumprod(a, dim), 1, FLOATS, params=p_dim),
    Op("sort", lambda L, a, dim: a.sort(dim, descending=True)[0], 1, NUM, params=p_dim),
    Op("topk", lambda L, a, dim, k, largest: a.topk(k, dim, largest), 1, NUM,
       params=p_topk),
    # shape ops
    Op("reshape", lambda L, a, shape: a.reshape(shape), 1, ALL, params=p_reshape),
    Op("view_flat", lambda L, a: a.view(-1), 1, ALL),
    Op("transpose", lambda L, a, d0, d1: a.transpose(d0, d1), 1, ALL, params=p_dims2),
    Op("permute", lambda L, a, perm: a.permute(*perm), 1, ALL, params=p_perm),
    Op("flatten", lambda L, a: L.flatten(a), 1, ALL),
    Op("squeeze", lambda L, a, dim: a.squeeze(dim), 1, ALL, params=p_dim),
    Op("unsqueeze", lambda L, a, dim: a.unsqueeze(dim), 1, ALL, params=p_dim),
    Op("expand", lambda L, a: a.unsqueeze(0).expand(2, *a.shape), 1, ALL),
    Op("repeat", lambda L, a, reps: a.repeat(*reps), 1, ALL, params=p_repeat),
    Op("flip", lambda L, a, dim: a.flip(dim), 1, ALL, params=p_dim),
    Op("roll", lambda L, a, shifts, dim: a.roll(shifts, dim), 1, ALL, params=p_roll),
    Op("narrow", lambda L, a, dim, start, length: a.narrow(dim, start, length), 1, ALL,
       params=p_narrow),
    Op("chunk", lambda L, a, dim, n: a.chunk(n, dim), 1, ALL, params=p_chunks),
    Op("split", lambda L, a, dim, n: a.split(n, dim), 1, ALL, params=p_chunks),
    Op("unbind", lambda L, a, dim: a.unbind(dim), 1, ALL, params=p_dim),
    Op("tril", lambda L, a, k: a.tril(k), 1, ALL, params=p_diag),
    Op("triu", lambda L, a, k: L.triu(a, k), 1, ALL, params=p_diag),
    Op("diagonal", lambda L, a, k: a.diagonal(k), 1, ALL, params=p_diag),
    Op("movedim", lambda L, a, d0, d1: a.movedim(d0, d1), 1, ALL, params=p_dims2),
    Op("contiguous", lambda L, a: a.contiguous(), 1, ALL),
    Op("cat", lambda L, a, b, dim: L.cat([a, b], dim), 2, ALL, "same", params=p_dim),
    Op("stack", lambda L, a, b, dim: L.stack([a, b], dim), 2, ALL, "same", params=p_dim),
    # indexing
    Op("getitem", lambda L, a, idx: _index(L, a, idx), 1, ALL, params=p_index),
    Op("index_select", lambda L, a, dim, index: a.index_select(dim, _t(L, index).reshape(-1)),
       1, ALL, params=p_gather),
    Op("gather", lambda L, a, dim, index: a.gather(dim, _t(L, index)), 1, ALL,
       params=p_gather),
    Op("masked_fill", lambda L, a: a.masked_fill(a > 0, 0.5), 1, NUM),
    Op("select", lambda L, a, k: a.select(0, k), 1, ALL, params=p_diag),
    # matmul family
    Op("matmul", lambda L, a, b: a @ b, 2, NUM, "mm"),
    Op("mm", lambda L, a, b: L.mm(a, b), 2, NUM, "mm2"),
    Op("bmm", lambda L, a, b: L.bmm(a, b), 2, FLOATS, "bmm"),
    Op("mv", lambda L, a, b: L.mv(a, b), 2, FLOATS, "mv"),
    Op("dot", lambda L, a, b: L.dot(a, b), 2, NUM, "dot"),
    Op("outer", lambda L, a, b: L.outer(a, b), 2, NUM, "dot"),
    Op("linear", lambda L, a, b: _f(L).linear(a, b), 2, FLOATS, "lin"),
    Op("einsum", lambda L, a, b: L.einsum("ij,jk->ik", a, b), 2, FLOATS, "mm2"),
    # losses
    Op("mse_loss", lambda L, a, b: _f(L).mse_loss(a, b), 2, FLOATS, "same"),
    Op("l1_loss", lambda L, a, b: _f(L).l1_loss(a, b, reduction="sum"), 2, FLOATS, "same"),
    Op("smooth_l1", lambda L, a, b: _f(L).smooth_l1_loss(a, b, beta=0.5), 2, FLOATS, "same"),
    Op("huber", lambda L, a, b: _f(L).huber_loss(a, b, reduction="none"), 2, FLOATS, "same"),
    Op("bce_logits", lambda L, a, b: _f(L).binary_cross_entropy_with_logits(a, b.sigmoid()),
       2, FLOATS, "same"),
    Op("cross_entropy", lambda L, a, target: _f(L).cross_entropy(a, _t(L, target)), 1,
       FLOATS, params=p_target),
    Op("nll_loss", lambda L, a, target: _f(L).nll_loss(a, _t(L, target)), 1, FLOATS,
       params=p_target),
]

# Deliberate or not-yet-fixed differences: (op name, reason). One list, a reason each;
# a listed op's discrepancy is tolerated only where ``ok(case)`` says so.
def _mixed(case):
    return len(set(case["dtypes"])) > 1


def _empty(case):
    return any(0 in s for s in case["shapes"])


KNOWN: dict[str, tuple[str, Callable]] = {
    "roll": ("deliberate: torch skips the dim check on an empty input; we raise IndexError "
             "for an out-of-range dim whatever the size", _empty),
    "huber": ("deliberate: with mixed input/target dtypes torch's backward raises 'Found "
              "dtype Double but expected Float' after a forward that works; we give the "
              "gradient (the loss is in input's dtype in both)", _mixed),
}


def _shape(rng, ndim=None):
    ndim = int(rng.integers(0, 4)) if ndim is None else ndim
    # One size in twelve is 0: empty tensors go through every op.
    return tuple(int(0 if rng.random() < 1 / 12 else rng.integers(1, 4)) for _ in range(ndim))


def _shapes(rng, op):
    kind = op.shape
    if kind in ("ew", "same") and op.arity == 1:
        return [_shape(rng)]
    if kind == "ew":
        a = _shape(rng)
        if rng.random() < 0.1:
            return [a, _shape(rng)]  # usually not broadcastable
        b = list(a[int(rng.integers(0, len(a) + 1)):])
        b = [1 if rng.random() < 0.3 else s for s in b]
        pair = [a, tuple(b)]
        return pair if rng.random() < 0.5 else pair[::-1]
    if kind == "same":
        a = _shape(rng)
        return [a, a if rng.random() < 0.9 else _shape(rng)]
    m, k, n = (int(rng.integers(0 if rng.random() < 0.1 else 1, 4)) for _ in range(3))
    bad = rng.random() < 0.1
    k2 = k + 1 if bad else k
    if kind == "mm2":
        return [(m, k), (k2, n)]
    if kind == "bmm":
        b = int(rng.integers(1, 3))
        return [(b, m, k), (b, k2, n)]
    if kind == "mv":
        return [(m, k), (k2,)]
    if kind == "dot":
        return [(k,), (k2,)]
    if kind == "lin":
        return [_shape(rng, int(rng.integers(1, 3))) + (k,), (n, k2)]
    lead = _shape(rng, int(rng.integers(0, 2)))  # "mm": matmul with batch dims and vectors
    a = lead + (m, k) if rng.random() < 0.8 else (k,)
    b = (k2, n) if rng.random() < 0.8 else (k2,)
    return [a, b]


def _values(rng, shape, dtype, nonneg):
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype in FLOATS:
        v = rng.standard_normal(shape) * 2
        return (np.abs(v) if nonneg and rng.random() < 0.8 else v).astype(dtype)
    lo = 0 if dtype == "uint8" or nonneg else -4
    return rng.integers(lo, 6, size=shape).astype(dtype)


def _layout(rng, shape):
    """How to build the tensor: 'plain', 'T' (a transposed copy) or 'step' (every other)."""
    r = rng.random()
    if r < 0.2 and len(shape) >= 2:
        return "T"
    if r < 0.35 and shape:
        return "step"
    return "plain"


def _make(L, arr, layout, dtype, grad):
    """The same tensor in either library, non-contiguous as ``layout`` says; the leaf."""
    if layout == "T":
        base = np.ascontiguousarray(np.swapaxes(arr, -1, -2))
    elif layout == "step":
        base = np.repeat(arr, 2, axis=0)
    else:
        base = arr
    leaf = L.tensor(base, dtype=getattr(L, dtype), requires_grad=grad)
    if layout == "T":
        return leaf, leaf.transpose(-1, -2)
    if layout == "step":
        return leaf, leaf[::2]
    return leaf, leaf


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def _tol(dtype: str):
    return (2e-4, 2e-5) if dtype in ("float32",) else (1e-7, 1e-9)


def _run(L, op, arrays, layouts, dtypes, params, grad, weights_seed):
    leaves, xs = [], []
    for a, lay, dt in zip(arrays, layouts, dtypes, strict=True):
        leaf, x = _make(L, a, lay, dt, grad and dt in FLOATS)
        leaves.append(leaf)
        xs.append(x)
    try:
        out = op.fn(L, *xs, **params)
    except Exception as e:  # the comparison is on the class, done by the caller
        return e, None, None
    outs = _flat(out)
    grads = None
    if grad and outs and isinstance(outs[0], L.Tensor) and outs[0].requires_grad:
        wrng = np.random.default_rng(weights_seed)
        y = outs[0]
        w = L.tensor(wrng.standard_normal(tuple(y.shape)), dtype=y.dtype)
        try:
            (y * w).sum().backward()
        except Exception as e:
            return e, outs, None
        grads = [leaf.grad for leaf in leaves]
    return None, outs, grads


def _same_class(r: BaseException, t: BaseException) -> bool:
    return isinstance(r, type(t)) or (type(t).__module__.startswith("torch")
                                       and isinstance(r, type(t).__mro__[1]))


def _compare_values(r, t, dtype, what):
    if not isinstance(t, torch.Tensor):
        assert not isinstance(r, retrograd.Tensor) and r == t, (what, r, t)
        return
    assert isinstance(r, retrograd.Tensor), (what, type(r))
    assert str(r.dtype) == str(t.dtype), (what, r.dtype, t.dtype)
    assert tuple(r.shape) == tuple(t.shape), (what, tuple(r.shape), tuple(t.shape))
    rv, tv = np.asarray(r.detach().numpy()), t.detach().numpy()
    if tv.dtype.kind in "fc":
        rtol, atol = _tol(str(t.dtype).removeprefix("torch.") if dtype is None else dtype)
        np.testing.assert_allclose(rv, tv, rtol=rtol, atol=atol, equal_nan=True,
                                   err_msg=str(what))
    else:
        np.testing.assert_array_equal(rv, tv, err_msg=str(what))


def _case(rng, op):
    shapes = _shapes(rng, op)
    dt = op.dtypes[int(rng.integers(len(op.dtypes)))]
    # One binary case in four mixes dtypes, to exercise promotion.
    dtypes = [dt if i == 0 or rng.random() < 0.75 else op.dtypes[int(rng.integers(
        len(op.dtypes)))] for i in range(op.arity)]
    arrays = [_values(rng, s, d, op.nonneg) for s, d in zip(shapes, dtypes, strict=True)]
    layouts = [_layout(rng, s) for s in shapes]
    params = op.params(rng, shapes) if op.params else {}
    return dict(shapes=shapes, dtypes=dtypes, layouts=layouts, params=params,
                arrays=arrays, seed=int(rng.integers(1 << 30)))


def check(op: Op, case: dict) -> None:
    grad = op.grad and any(d in FLOATS for d in case["dtypes"])
    args = (op, case["arrays"], case["layouts"], case["dtypes"], case["params"], grad,
            case["seed"])
    te, touts, tgrads = _run(torch, *args)
    re_, routs, rgrads = _run(retrograd, *args)
    what = {k: v for k, v in case.items() if k != "arrays"} | {"op": op.name}
    if te is not None and touts is None:
        assert re_ is not None, f"torch raised {te!r}, retrograd did not: {what}"
        assert _same_class(re_, te), (what, re_, te)
        return
    if re_ is not None and routs is None:
        raise AssertionError(f"retrograd raised {re_!r}, torch did not: {what}")
    assert len(routs) == len(touts), what
    low = "float32" if "float32" in case["dtypes"] else None
    for r, t in zip(routs, touts, strict=True):
        _compare_values(r, t, low, what)
    if te is not None or re_ is not None:  # backward raised in one of them
        assert re_ is not None and te is not None and _same_class(re_, te), (what, re_, te)
        return
    if tgrads is None:
        return
    assert rgrads is not None, what
    for i, (rg, tg) in enumerate(zip(rgrads, tgrads, strict=True)):
        if tg is None or rg is None:
            # torch leaves .grad None for leaves the output does not depend on; we may
            # write zeros there, which is what the gradient is.
            other = tg if rg is None else rg
            assert other is None or not np.asarray(other.detach().numpy()).any(), what
            continue
        _compare_values(rg, tg, low, {**what, "grad of input": i})


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_differential(op: Op) -> None:
    rng = np.random.default_rng(zlib.crc32(op.name.encode()))
    known = KNOWN.get(op.name)
    for _ in range(CASES):
        case = _case(rng, op)
        if known is not None and known[1](case):
            continue
        check(op, case)


def test_op_list_is_broad_and_unique() -> None:
    names = [op.name for op in OPS]
    assert len(names) == len(set(names))
    assert len(names) >= 100
    assert set(KNOWN) <= set(names)
