"""Samplers PyTorch users reach for: ``bernoulli``, ``multinomial`` and the in-place
``Tensor.normal_``, ``uniform_``, ``bernoulli_``, ``random_``, ``exponential_``, ``cauchy_``,
``geometric_``, ``log_normal_``. All draw from retrograd's generators (``retrograd.random``),
take no gradient (a sample is a constant of its parameters, as in PyTorch) and write in
place through ``copy_``, so version counters and the leaf rules hold.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, wrap
from ..random import rng
from ._core import register_method

__all__ = ["bernoulli", "multinomial"]


def _fill(self, arr):
    """Write samples into self (cast to its dtype) and return self."""
    return self.copy_(wrap(np.asarray(arr).astype(self._data.dtype, copy=False)))


def _float_only(self, name):
    if self._data.dtype.kind not in "fc":
        raise RuntimeError(f"{name} expects floating point tensors, got {self.dtype}")


def _parts(self, draw):
    """A draw for each element; a complex tensor gets one for its real and its imaginary
    part (as PyTorch's samplers fill complex tensors)."""
    if self._data.dtype.kind != "c":
        return draw(self.shape)
    pair = draw((*self.shape, 2))
    return pair[..., 0] + 1j * pair[..., 1]


def bernoulli(input, p=None, *, generator=None, out=None):
    """1 with probability input (or ``p``) else 0, in input's dtype."""
    if out is not None and (np.shares_memory(out._data, input._data) or
                            (0 in out._data.strides and out._data.size > 1)):
        raise RuntimeError("unsupported operation: some elements of the input tensor and the "
                           "written-to tensor refer to a single memory location.")
    prob = input._data if p is None else np.broadcast_to(
        p._data if isinstance(p, Tensor) else np.asarray(p), input.shape)
    if prob.size and (np.nanmin(prob) < 0 or np.nanmax(prob) > 1):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    draw = rng(generator).random(prob.shape) < prob
    result = wrap(draw.astype(input._data.dtype))
    if out is not None:
        out.copy_(result)
        return out
    return result


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Indices drawn from the categorical distribution(s) in the last dim of input."""
    w = input._data
    if w.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if w.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, "
                           f"got: {input.dtype}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if out is not None and out.dtype != _long():
        raise RuntimeError(f"multinomial expects Long tensor out, got: {out.dtype}")
    rows = w.reshape(-1, w.shape[-1]).astype(np.float64)
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    if (rows < 0).any() or not np.isfinite(rows).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    totals = rows.sum(1)
    if (totals <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    gen = rng(generator)
    picks = []
    for row, total in zip(rows, totals):
        p = row / total
        if replacement:
            picks.append(gen.choice(p.size, num_samples, replace=True, p=p))
        else:
            # Without replacement only categories of nonzero weight can be drawn.
            if num_samples > int((p > 0).sum()):
                raise RuntimeError("invalid multinomial distribution (with replacement=False,"
                                   " not enough non-negative category to sample)")
            picks.append(gen.choice(p.size, num_samples, replace=False, p=p))
    result = wrap(np.stack(picks).reshape(*w.shape[:-1], num_samples).astype(np.int64))
    if out is not None:
        out.copy_(result)
        return out
    return result


def _long():
    from .._dtype import int64

    return int64


# ---------------------------------------------------------------------- in-place samplers

def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with samples of N(mean, std**2)."""
    _float_only(self, "normal_")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    if self._data.dtype.kind == "c":  # PyTorch: each part N(mean, std**2 / 2)
        std = std / np.sqrt(2)
    return _fill(self, _parts(self, lambda n: rng(generator).normal(mean, std, n)))


def uniform_(self, from_=0.0, to=1.0, *, generator=None, **kwargs):
    """Fill with samples of U[from, to)."""
    from_ = kwargs.pop("from", from_)
    _float_only(self, "uniform_")
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={from_} > to={to}")
    return _fill(self, _parts(self, lambda n: rng(generator).uniform(from_, to, n)))


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 1 with probability p (a number or a tensor) else 0."""
    prob = p._data if isinstance(p, Tensor) else p
    if np.any(np.asarray(prob) < 0) or np.any(np.asarray(prob) > 1):
        raise RuntimeError("bernoulli_ expects p to be in [0, 1]")
    return _fill(self, rng(generator).random(self.shape) < prob)


def random_(self, from_=None, to=None, *, generator=None, **kwargs):
    """Fill with integers from [from, to) (default [0, 2**mantissa] for floats, the dtype's
    range for integers)."""
    from_ = kwargs.pop("from", from_)
    if to is None and from_ is not None:
        from_, to = 0, from_
    low = 0 if from_ is None else int(from_)
    if to is None:
        dt = self._data.dtype
        to = 2 ** (np.finfo(dt).nmant + 1) + 1 if dt.kind == "f" else (
            2 if dt == np.bool_ else int(np.iinfo(dt).max) + 1)
    if low >= to:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                           f"from={low} >= to={to}")
    return _fill(self, rng(generator).integers(low, to, self.shape))


def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with samples of Exp(lambd) (mean 1 / lambd)."""
    _float_only(self, "exponential_")
    if lambd <= 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    return _fill(self, rng(generator).exponential(1.0 / lambd, self.shape))


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with samples of the Cauchy distribution."""
    _float_only(self, "cauchy_")
    if sigma <= 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    return _fill(self, median + sigma * rng(generator).standard_cauchy(self.shape))


def geometric_(self, p, *, generator=None):
    """Fill with the number of Bernoulli(p) trials up to the first success (>= 1)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    return _fill(self, rng(generator).geometric(p, self.shape))


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with exp of samples of N(mean, std**2)."""
    _float_only(self, "log_normal_")
    if std <= 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    return _fill(self, rng(generator).lognormal(mean, std, self.shape))


register_method("bernoulli")(bernoulli)
register_method("multinomial")(multinomial)
for _fn in (normal_, uniform_, bernoulli_, random_, exponential_, cauchy_, geometric_,
            log_normal_):
    register_method(_fn.__name__)(_fn)
del _fn
