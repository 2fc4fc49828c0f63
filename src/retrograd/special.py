"""``torch.special``: special functions under PyTorch's names (most are the ops of the same
math elsewhere in retrograd; SciPy computes the ones NumPy lacks, see ops/extra_special)."""

from __future__ import annotations

from .ops.activation import log_softmax, softmax
from .ops.extra_special import entr, erfcx, i0, i0e, i1, i1e, log_ndtr, ndtr, ndtri, xlog1py
from .ops.norms import logsumexp
from .ops.pointwise import digamma, erf, erfc, erfinv, exp2, expm1, lgamma, log1p, xlogy
from .ops.rounding import round
from .ops.special import logit, polygamma
from .ops.transcendental import sinc
from .ops.unary import sigmoid

__all__ = ["digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1",
           "gammaln", "i0", "i0e", "i1", "i1e", "log1p", "log_ndtr", "log_softmax", "logit",
           "logsumexp", "ndtr", "ndtri", "polygamma", "psi", "round", "sinc", "softmax",
           "xlog1py", "xlogy"]

expit = sigmoid
gammaln = lgamma
psi = digamma
