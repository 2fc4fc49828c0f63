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
"""

from __future__ import annotations

import numpy as np

from ..ops import _kernels
from ..ops.fused import Linear, LinearNoBias
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
    def forward(w, parts, out) -> list[str]:
        x, weight, b = parts
        lines = [f"{out} = {x} @ {weight}.T"]
        if b != "None":
            lines.append(f"{out} += {b}")
        return lines

    @staticmethod
    def terms(w, grad, parts, out, needs) -> list:
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
    def forward(w, parts, out) -> list[str]:
        return [f"{out} = {w.const(_kernels.relu)}({parts[0]})"]

    @staticmethod
    def terms(w, grad, parts, out, needs) -> list:
        return [f"{w.const(_kernels.relu_grad)}({grad}, {out})" if needs[0] else None]


#: Primitive class -> its flat lowering.
FLAT = {Linear: _Linear, LinearNoBias: _Linear, Relu: _Relu}


def flat_lowering(node, args, attrs, arrays):
    """The lowering of this call, or None: the class has one, it applies, and no input
    needs a cast."""
    low = FLAT.get(type(node))
    if low is None or any(isinstance(a, tuple) and a[0] == "cast" for a in args):
        return None
    return low if low.applies(arrays, attrs) else None


__all__ = ["FLAT", "flat_lowering"]
