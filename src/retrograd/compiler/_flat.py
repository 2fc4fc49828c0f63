"""Primitives written out flat in a replay, with no context object (issue 19, tier 2).

The elementwise rows of the op table are written out from their own ``f`` and ``d``
(``_program``). The hot primitives of a training step that are not rows get the same
treatment here: the replay makes the NumPy calls their ``forward`` and ``backward`` make,
in the same order, on the same arrays, without creating a context, saving values or asking
``needs_input_grad``. Each lowering states when it applies (the cases its lines cover);
any other call keeps the primitive's own methods.

- ``Linear`` / ``LinearNoBias`` on 2-d input: ``x @ w.T (+= b)``; backward ``grad @ w``,
  ``grad.T @ x``, ``grad.sum(0)`` for the inputs that take part.
- ``Relu``: the kernel ``relu`` forward and ``relu_grad(grad, out)`` backward.
- ``CrossEntropyMean`` on 2-d float32/float64 logits with plain targets (the training
  loss): the functions its forward and backward call for that case (``ops.loss.ce_rows``,
  ``ce_rows_grad``), the softmax kept in a local instead of the context.
"""

from __future__ import annotations

import numpy as np

from ..ops import _kernels
from ..ops.fused import Linear, LinearNoBias
from ..ops.loss import CrossEntropyMean, ce_rows, ce_rows_grad
from ..ops.unary import Relu

_ndarray = np.ndarray


def _float_arrays(arrays) -> bool:
    return all(a is None or (type(a) is _ndarray and a.dtype.kind == "f") for a in arrays)


class _Linear:
    @staticmethod
    def applies(arrays, attrs) -> bool:
        return (not attrs and len(arrays) == 3 and _float_arrays(arrays)
                and arrays[0].ndim == 2 and arrays[1].ndim == 2)

    @staticmethod
    def forward(w, parts, out, ctx, attrs) -> list[str]:
        x, weight, b = parts
        lines = [f"{out} = {x} @ {weight}.T"]
        if b != "None":
            lines.append(f"{out} += {b}")
        return lines

    @staticmethod
    def terms(w, grad, parts, out, needs, ctx, attrs, dtype) -> list:
        x, weight, _b = parts
        nx, nw, nb = needs
        return [f"{grad} @ {weight}" if nx else None,
                f"{grad}.T @ {x}" if nw else None,
                f"{grad}.sum(0)" if nb else None]


class _Relu:
    @staticmethod
    def applies(arrays, attrs) -> bool:
        return not attrs and len(arrays) == 1 and _float_arrays(arrays)

    @staticmethod
    def forward(w, parts, out, ctx, attrs) -> list[str]:
        return [f"{out} = {w.const(_kernels.relu)}({parts[0]})"]

    @staticmethod
    def terms(w, grad, parts, out, needs, ctx, attrs, dtype) -> list:
        return [f"{w.const(_kernels.relu_grad)}({grad}, {out})" if needs[0] else None]


def _ce_forward(x, index, w):
    """``CrossEntropyMean.forward`` for (N, C) float32/64 logits along dim 1 and a number
    ``w`` (``ce_rows``, as eager runs it): the loss as an array, and the softmax for the
    backward."""
    loss, probs = ce_rows(x, index, w)
    return np.asarray(loss), probs


class _CrossEntropy:
    keeps = True  # the softmax, in the local named like a context

    @staticmethod
    def applies(arrays, attrs) -> bool:
        x, index, w = arrays[0], attrs.get("index"), attrs.get("w")
        return (len(arrays) == 1 and type(x) is _ndarray and x.ndim == 2
                and x.dtype in (np.float32, np.float64) and attrs.get("dim") == 1
                and type(index) is _ndarray and index.ndim == 2 and index.shape[1] == 1
                and type(w) is float)

    @staticmethod
    def forward(w, parts, out, ctx, attrs) -> list[str]:
        return [f"{out}, {ctx} = {w.const(_ce_forward)}({parts[0]}, {attrs['index']}, "
                f"{attrs['w']})"]

    @staticmethod
    def terms(w, grad, parts, out, needs, ctx, attrs, dtype) -> list:
        call = (f"{w.const(ce_rows_grad)}({grad}, {ctx}, {attrs['index']}, {attrs['w']}, "
                f"{w.const(dtype)})")
        return [call if needs[0] else None]


#: Primitive class -> its flat lowering.
FLAT = {Linear: _Linear, LinearNoBias: _Linear, Relu: _Relu, CrossEntropyMean: _CrossEntropy}


def flat_lowering(node, args, attrs, arrays):
    """The lowering of this call, or None: the class has one, it applies, and no input
    needs a cast."""
    low = FLAT.get(type(node))
    if low is None or any(isinstance(a, tuple) and a[0] == "cast" for a in args):
        return None
    return low if low.applies(arrays, attrs) else None


__all__ = ["FLAT", "flat_lowering"]
