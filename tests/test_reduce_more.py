"""The reductions of issue 13: the torch.masked namespace, quantile and nanquantile,
histogram and histogramdd, index_reduce.

CASES rows are checked by test_optable.py (forward against NumPy, gradients and double
gradients against finite differences, forward mode, everything against PyTorch). The tests
below add op_db samples from all over each op's list, and for torch.masked: masked-out and
fully masked slices, integer and complex inputs, forward mode against PyTorch and error
classes. quantile, histogram and index_reduce behaviour: test_quantile_histogram.py.
"""

import warnings

import numpy as np
import pytest
import torch
from helpers import assert_same, both, both_raise
from optable import OpCase

import retrograd
import retrograd.autograd.forward_ad as fwAD

# ---------------------------------------------------------------------- NumPy references

MASK = np.array([[True, False, True, True], [False, True, True, False],
                 [True, True, False, True]])
ROW = [((3, 4),)]


def _m(L):
    return L.tensor(MASK)


def _masked(x, fill):
    return np.where(MASK, x, fill)


def _count():
    return MASK.sum(1)


def _mvar(x, correction=1):
    mean = _masked(x, 0).sum(1, keepdims=True) / _count()[:, None]
    return (_masked(x - mean, 0) ** 2).sum(1) / (_count() - correction)


def _msoftmax(x, sign=1.0):
    e = np.exp(_masked(sign * x, -np.inf) - _masked(sign * x, -np.inf).max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def _mmedian(x):
    return np.array([np.sort(r[m])[(m.sum() - 1) // 2] for r, m in zip(x, MASK)])


def _mnorm(x, p):
    return (np.abs(_masked(x, 0)) ** p).sum(1) ** (1 / p)


def _mcum(x, fill, fn):
    return fn(_masked(x, fill), axis=1)


INDEX = [0, 2, 0, 1, 2]  # five source rows reduced into three rows


def _index_reduce(reduce, include_self):
    ufunc = {"prod": np.multiply, "amax": np.maximum, "amin": np.minimum, "mean": np.add}[reduce]

    def ref(x, src):
        out = x.copy()
        touched = np.zeros(len(x), bool)
        touched[INDEX] = True
        if not include_self:
            out[touched] = {"prod": 1.0, "amax": -np.inf, "amin": np.inf, "mean": 0.0}[reduce]
        for i, j in enumerate(INDEX):
            out[j] = ufunc(out[j], src[i])
        if reduce == "mean":
            n = np.bincount(INDEX, minlength=len(x))[:, None] + (1 if include_self else 0)
            out = out / np.maximum(n, 1)
        return out

    return ref


def _quantile_make(rng, shapes):
    x = rng.uniform(-2, 2, size=shapes[0])
    q = np.sort(rng.uniform(0.05, 0.95, size=shapes[1]))
    return [x, q]


def _positive(rng, shapes):
    return [rng.uniform(0.5, 2.0, size=s) for s in shapes]


def _ir(reduce, include_self):
    return lambda L, x, s: L.index_reduce(x, 0, L.tensor(INDEX), s, reduce,
                                          include_self=include_self)


def _hist(L, x):
    return L.histogram(x, 5, range=(-1.0, 1.5))


def _hist_dd(L, x):
    hist, edges = L.histogramdd(x, [3, 2], range=[-1.0, 1.0, -2.0, 2.0])
    return (hist, *edges)


def _flat(result):
    hist, edges = result
    return (hist, *edges)


def _np_hist(x):
    return np.histogram(x, 5, range=(-1.0, 1.5))


QSHAPES = [((3, 5), (3,)), ((7,), (2,))]

CASES = [
    OpCase("masked.sum", lambda L, x: L.masked.sum(x, 1, mask=_m(L)),
           lambda x: _masked(x, 0).sum(1), ROW),
    OpCase("masked.sum.all", lambda L, x: L.masked.sum(x, mask=_m(L)),
           lambda x: _masked(x, 0).sum(), ROW),
    OpCase("masked.prod", lambda L, x: L.masked.prod(x, 1, mask=_m(L)),
           lambda x: _masked(x, 1).prod(1), ROW),
    OpCase("masked.amax", lambda L, x: L.masked.amax(x, 1, mask=_m(L)),
           lambda x: _masked(x, -np.inf).max(1), ROW),
    OpCase("masked.amin", lambda L, x: L.masked.amin(x, (0, 1), keepdim=True, mask=_m(L)),
           lambda x: _masked(x, np.inf).min((0, 1), keepdims=True), ROW),
    OpCase("masked.argmax", lambda L, x: L.masked.argmax(x, 1, mask=_m(L)),
           lambda x: _masked(x, -np.inf).argmax(1).astype(np.float64), ROW, grad=False),
    OpCase("masked.argmin", lambda L, x: L.masked.argmin(x, 0, mask=_m(L)),
           lambda x: _masked(x, np.inf).argmin(0).astype(np.float64), ROW, grad=False),
    OpCase("masked.mean", lambda L, x: L.masked.mean(x, 1, mask=_m(L)),
           lambda x: _masked(x, 0).sum(1) / _count(), ROW),
    OpCase("masked.median", lambda L, x: L.masked.median(x, 1, mask=_m(L)), _mmedian, ROW),
    OpCase("masked.logsumexp", lambda L, x: L.masked.logsumexp(x, 1, mask=_m(L)),
           lambda x: np.log(np.exp(_masked(x, -np.inf)).sum(1)), ROW),
    OpCase("masked.norm", lambda L, x: L.masked.norm(x, 3.0, 1, mask=_m(L)),
           lambda x: _mnorm(x, 3.0), ROW),
    OpCase("masked.var", lambda L, x: L.masked.var(x, 1, mask=_m(L)), _mvar, ROW),
    OpCase("masked.std", lambda L, x: L.masked.std(x, 1, correction=0, mask=_m(L)),
           lambda x: np.sqrt(_mvar(x, 0)), ROW),
    OpCase("masked.softmax", lambda L, x: L.masked.softmax(x, 1, mask=_m(L)), _msoftmax, ROW),
    # -inf where masked out: compared there as 0 (finite differences need finite outputs)
    OpCase("masked.log_softmax",
           lambda L, x: L.where(_m(L), L.masked.log_softmax(x, 1, mask=_m(L)), 0.0),
           lambda x: np.where(MASK, np.log(np.where(MASK, _msoftmax(x), 1)), 0), ROW),
    OpCase("masked.softmin", lambda L, x: L.masked.softmin(x, 1, mask=_m(L)),
           lambda x: _msoftmax(x, -1.0), ROW),
    OpCase("masked.normalize", lambda L, x: L.masked.normalize(x, 2.0, 1, mask=_m(L)),
           lambda x: _masked(x, 0) / _mnorm(x, 2.0)[:, None], ROW),
    OpCase("masked.cumsum", lambda L, x: L.masked.cumsum(x, 1, mask=_m(L)),
           lambda x: _mcum(x, 0, np.cumsum), ROW),
    OpCase("masked.cumprod", lambda L, x: L.masked.cumprod(x, 1, mask=_m(L)),
           lambda x: _mcum(x, 1, np.cumprod), ROW),
    OpCase("masked.logaddexp",
           lambda L, x, y: L.masked.logaddexp(x, y, input_mask=_m(L), other_mask=~_m(L)),
           lambda x, y: np.logaddexp(_masked(x, -np.inf), np.where(~MASK, y, -np.inf)),
           # the second derivative at a -inf operand is NaN (inf * 0), PyTorch's alike
           [((3, 4), (3, 4))], gradgrad=False, torch={"gradgrad": True}),
    OpCase("quantile.linear", lambda L, x, q: L.quantile(x, q, dim=-1),
           lambda x, q: np.quantile(x, q, axis=-1), QSHAPES, make=_quantile_make),
    OpCase("quantile.midpoint", lambda L, x, q: L.quantile(x, q, 0, True,
                                                           interpolation="midpoint"),
           lambda x, q: np.quantile(x, q, axis=0, keepdims=True, method="midpoint"),
           QSHAPES, make=_quantile_make),
    OpCase("quantile.nearest", lambda L, x, q: L.quantile(x, q, interpolation="nearest"),
           lambda x, q: np.quantile(x, q, method="nearest"), QSHAPES, make=_quantile_make),
    OpCase("quantile.lower", lambda L, x, q: L.quantile(x, q, 0, interpolation="lower"),
           lambda x, q: np.quantile(x, q, axis=0, method="lower"), QSHAPES,
           make=_quantile_make),
    OpCase("quantile.higher", lambda L, x, q: L.quantile(x, q, 0, interpolation="higher"),
           lambda x, q: np.quantile(x, q, axis=0, method="higher"), QSHAPES,
           make=_quantile_make),
    OpCase("nanquantile", lambda L, x, q: L.nanquantile(x, q, dim=-1),
           lambda x, q: np.nanquantile(x, q, axis=-1), QSHAPES, make=_quantile_make),
    OpCase("histogram", _hist, _np_hist, [((20,),)], grad=False),
    OpCase("histogramdd", _hist_dd, lambda x: _flat(np.histogramdd(x, [3, 2],
                                                               range=[(-1, 1), (-2, 2)])),
           [((10, 2),)], grad=False),
]
for _red in ("prod", "mean", "amax", "amin"):
    for _inc in (True, False):
        # PyTorch records a (zero) second derivative for self's gradient where ours is a
        # constant; optable pairs the two libraries' differentiable gradients by position.
        CASES.append(OpCase(f"index_reduce.{_red}.{_inc}", _ir(_red, _inc),
                            _index_reduce(_red, _inc), [((3, 2), (5, 2))], make=_positive,
                            torch=None if _inc or _red != "prod" else {"gradgrad": False}))


# ---------------------------------------------------------------------- op_db samples

OPS = sorted(["histogram", "histogramdd", "index_reduce.amax", "index_reduce.amin",
              "index_reduce.mean", "index_reduce.prod", "nanquantile", "quantile"] +
             [f"masked.{n}" for n in retrograd.masked.__all__])
PER_OP = 8  # samples checked per op, spread over all of op_db's (test_opdb checks the first)

# Samples known to fail, with the first failure's class; the test fails when one passes.
KNOWN: dict = {}


@pytest.fixture(scope="module")
def opdb():
    import expecttest  # noqa: F401  (torch.testing._internal needs it)
    import opdb_harness

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return opdb_harness, opdb_harness.ops()


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name", OPS)
def test_opdb_samples_match(opdb, name):
    """Forward, gradients and double gradients of op_db samples from all over its list."""
    harness, ops = opdb
    op = ops[name]
    fn = harness.resolve(op)
    dtype = harness.sample_dtype(op)
    torch.manual_seed(0)
    samples = list(op.sample_inputs("cpu", dtype, requires_grad=op.supports_autograd))
    stride = max(1, len(samples) // PER_OP)
    with np.errstate(all="ignore"):
        for i in range(0, len(samples), stride):
            known = KNOWN.get((name, i))
            if known is None:
                harness.check_sample(op, fn, samples[i], False)
                continue
            with pytest.raises(harness.Differs, match=known):
                harness.check_sample(op, fn, samples[i], False)


# ---------------------------------------------------------------------- torch.masked

def _pair(a, requires_grad=True):
    return (retrograd.tensor(a, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


FULL = np.array([[True, False, True, False], [False] * 4, [True, True, False, True]])
X = np.random.default_rng(5).standard_normal((3, 4))

REDUCTIONS = [("sum", {}), ("prod", {}), ("amax", {}), ("amin", {}), ("mean", {}),
              ("logsumexp", {}), ("var", {}), ("std", {"correction": 0}), ("norm", {}),
              ("median", {})]


@pytest.mark.parametrize(("name", "kw"), REDUCTIONS)
def test_masked_reductions_on_fully_masked_rows(name, kw):
    """A row with nothing unmasked gives the identity (0, 1, -inf, inf) or NaN, as PyTorch's,
    and masked-out elements get no gradient."""
    outs = []
    for L, x in zip((retrograd, torch), _pair(X)):
        out = getattr(L.masked, name)(x, dim=1, mask=L.tensor(FULL), **kw)
        g = np.arange(3.0)
        (grad,) = L.autograd.grad(out, x, L.tensor(g))
        outs.append((out, grad))
    (ro, rg), (to, tg) = outs
    assert_same(ro, to)
    np.testing.assert_allclose(rg.numpy(), np.nan_to_num(tg.numpy()), atol=1e-12)
    assert (rg.numpy()[~FULL] == 0).all()


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin", "cumsum", "cumprod"])
def test_masked_normalizations_on_fully_masked_rows(name):
    r, t = both(lambda L: getattr(L.masked, name)(L.tensor(X), 1, mask=L.tensor(FULL)))
    assert_same(r, t)


def test_masked_without_mask_is_the_plain_op():
    x = retrograd.tensor(X)
    assert_same(retrograd.masked.sum(x, 1), torch.tensor(X).sum(1))
    np.testing.assert_allclose(retrograd.masked.var(x).numpy(), X.var(ddof=1))
    assert retrograd.masked.softmax(x, 0).numpy() == pytest.approx(
        torch.softmax(torch.tensor(X), 0).numpy())


def test_masked_mask_broadcasts_and_converts():
    """A mask of fewer dims broadcasts; an int mask counts as bool; dim=() means all."""
    mask = np.array([True, False, True, True])
    r, t = both(lambda L: L.masked.mean(L.tensor(X), 0, keepdim=True, mask=L.tensor(mask)))
    assert_same(r, t)
    r, t = both(lambda L: L.masked.sum(L.tensor(X), (), mask=L.tensor(MASK.astype(np.int64))))
    assert_same(r, t)


@pytest.mark.parametrize("dtype", ["int64", "uint8", "int32"])
def test_masked_integer_inputs(dtype):
    x = np.arange(12).reshape(3, 4) % 7
    for name in ("sum", "prod", "amax", "amin", "argmax", "argmin", "median", "logsumexp"):
        r, t = both(lambda L, name=name: getattr(L.masked, name)(
            L.tensor(x, dtype=getattr(L, dtype)), 1, mask=L.tensor(MASK)))
        assert_same(r, t)


def test_masked_argmax_is_in_the_input_dtype():
    r, t = both(lambda L: L.masked.argmax(L.tensor(X), mask=L.tensor(MASK), keepdim=True))
    assert_same(r, t)
    assert r.dtype == retrograd.float64


def test_masked_var_corrections():
    for kw in ({"unbiased": False}, {"correction": 2}, {"correction": 0.5}, {}):
        r, t = both(lambda L, kw=kw: L.masked.var(L.tensor(X), 1, mask=L.tensor(MASK), **kw))
        assert_same(r, t)


def test_masked_dtype_argument():
    r, t = both(lambda L: L.masked.sum(L.tensor([1, 2, 3]), dtype=L.float32,
                                       mask=L.tensor([True, False, True])))
    assert_same(r, t)
    r, t = both(lambda L: L.masked.softmax(L.tensor(X), 1, dtype=L.float32,
                                           mask=L.tensor(MASK)))
    assert_same(r, t)


def test_masked_errors():
    x = np.zeros((2, 3))
    both_raise(lambda L: L.masked.sum(L.tensor(x), mask=L.ones(1, 2, 3, dtype=L.bool)))
    both_raise(lambda L: L.masked.sum(L.tensor(x), 1, mask=L.ones(2, dtype=L.bool)))
    both_raise(lambda L: L.masked.mean(L.tensor([1, 2])))
    both_raise(lambda L: L.masked.amax(L.tensor([True, False]), mask=L.tensor([True, False])))
    r, t = both(lambda L: L.masked.amax(L.tensor([True, False])))  # no mask: no identity
    assert_same(r, t)
    both_raise(lambda L: L.masked.var(L.tensor(x), 1, True, correction=1))
    both_raise(lambda L: L.masked.norm(L.tensor(x), 2.0, 1, dtype=L.float32))
    both_raise(lambda L: L.masked.median(L.tensor([[1, 2], [3, 4]]), 1,
                                         mask=L.tensor([[False, False], [True, True]])))
    both_raise(lambda L: L.masked.sum(L.tensor(x), 2))


@pytest.mark.parametrize(("name", "args"), [
    ("sum", (1,)), ("prod", (1,)), ("mean", (1,)), ("var", (1,)),
    ("std", (1,)), ("cumprod", (1,)), ("norm", (2.0, 1)),
    ("norm", (1.0, 1)), ("normalize", (2.0, 1))])
def test_masked_complex_inputs(name, args):
    """Complex values and gradients (the norm of |z|; var and std stay complex, as PyTorch's)."""
    z = X + 1j * np.random.default_rng(7).standard_normal(X.shape)
    res = []
    for L in (retrograd, torch):
        x = L.tensor(z, requires_grad=True)
        out = getattr(L.masked, name)(x, *args, mask=L.tensor(MASK))
        res.append((out, L.autograd.grad(out.abs().sum(), x)[0]))
    assert_same(res[0][0], res[1][0])
    assert_same(res[0][1], res[1][1])


@pytest.mark.parametrize("name", ["sum", "amax", "mean", "var", "logsumexp", "norm", "softmax",
                                  "log_softmax", "cumprod", "median"])
def test_masked_forward_mode_matches_pytorch(name):
    """The jvp of each composite (through where and the plain op's rule) is PyTorch's."""
    tangent = np.random.default_rng(6).standard_normal(X.shape)
    results = []
    for L, ad in ((retrograd, fwAD), (torch, torch.autograd.forward_ad)):
        with ad.dual_level():
            x = ad.make_dual(L.tensor(X), L.tensor(tangent))
            out = getattr(L.masked, name)(x, 1, mask=L.tensor(MASK))
            results.append(ad.unpack_dual(out).tangent)
    assert_same(results[0], results[1])
