"""Convolution array kernels: im2col through strided views, its adjoint col2im, and the
input gradient of a convolution (col2im of w^T g), which is also conv-transpose's forward.

They work on raw arrays; the differentiable primitives that use them are in ``conv.py``.
With all strides 1 the input gradient works on "wide rows" (each image flattened, the output
gradient padded with zero columns to the input's width) so that every kernel offset's add
is one long contiguous run instead of many short rows. Columns, accumulators and outputs
come from the workspace cache (``_workspace``), so a training step reuses the previous
step's memory.
"""

from __future__ import annotations

import math

import numpy as np

from ..backend import xp
from . import _workspace as ws

__all__ = ["col2im", "im2col"]


def _pad_array(x, pads):
    """Zero-pad the spatial dims of x by ``pads`` = ((lo, hi), ...)."""
    if not any(lo or hi for lo, hi in pads):
        return x
    m = xp(x)
    shape = x.shape[:2] + tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pads))
    out = ws.zeros(shape, x.dtype, m)
    out[(slice(None), slice(None)) + tuple(slice(lo, lo + s) for s, (lo, _)
                                           in zip(x.shape[2:], pads))] = x
    return out


def _out_size(size, k, s, d, lo, hi) -> int:
    return (size + lo + hi - d * (k - 1) - 1) // s + 1


def _windows(xpad, k, s, d, out):
    """View of xpad (N, C, *S) as (N, C, *K, *O): xpad[n, c, o*s + k*d]."""
    st = xpad.strides
    nd = len(k)
    shape = xpad.shape[:2] + tuple(k) + tuple(out)
    strides = st[:2] + tuple(st[2 + i] * d[i] for i in range(nd)) + \
        tuple(st[2 + i] * s[i] for i in range(nd))
    return xp(xpad).lib.stride_tricks.as_strided(xpad, shape, strides, writeable=False)


def im2col(x, k, s, d, pads, groups=1, out=None):
    """Columns (N, G, Cg*prod(k), prod(out)) of x (N, C, *S); a copy, contiguous. ``out``
    may ask for fewer windows than fit (a transposed conv's output padding)."""
    if out is None:
        out = tuple(_out_size(x.shape[2 + i], k[i], s[i], d[i], *pads[i])
                    for i in range(len(k)))
    win = _windows(_pad_array(x, pads), k, s, d, out)
    n, c = x.shape[:2]
    cols = ws.empty(win.shape, x.dtype, xp(x))
    cols[...] = win
    return cols.reshape(n, groups, (c // groups) * math.prod(k), math.prod(out)), out


def col2im(cols, shape, k, s, d, pads, out):
    """Adjoint of ``im2col``: add the columns (N, C*prod(k), prod(out)) back into an array
    of ``shape`` (N, C, *S)."""
    m = xp(cols)
    nd = len(k)
    n, c = shape[:2]
    cols = cols.reshape((n, c) + tuple(k) + tuple(out))
    full = tuple(max(shape[2 + i] + pads[i][0] + pads[i][1],
                     pads[i][0] + (out[i] - 1) * s[i] + (k[i] - 1) * d[i] + 1)
                 for i in range(nd))
    buf = ws.zeros((n, c) + full, cols.dtype, m)
    for kidx in np.ndindex(*k):
        dst = tuple(slice(kidx[i] * d[i], kidx[i] * d[i] + (out[i] - 1) * s[i] + 1, s[i])
                    for i in range(nd))
        buf[(slice(None), slice(None)) + dst] += cols[(slice(None), slice(None)) + kidx]
    crop = tuple(slice(pads[i][0], pads[i][0] + shape[2 + i]) for i in range(nd))
    return buf[(slice(None), slice(None)) + crop]


def _input_grad(g, w, size, stride, pads, dilation, groups):
    """col2im(w^T g): the transposed convolution of g (N, Cout, *O) by w into (N, Cin, *size)."""
    m = xp(g)
    n, cout = g.shape[:2]
    k, out, nd = tuple(w.shape[2:]), tuple(g.shape[2:]), len(size)
    cin = w.shape[1] * groups
    full = tuple(max(size[i] + pads[i][0] + pads[i][1],
                     pads[i][0] + (out[i] - 1) * stride[i] + (k[i] - 1) * dilation[i] + 1)
                 for i in range(nd))
    wm = w.reshape(groups, cout // groups, -1).transpose(0, 2, 1)  # (G, Cg*K, Cog)
    # Wide rows need finite weights: their zero padding columns must stay exact zeros.
    if all(e == 1 for e in stride) and m is np and m.isfinite(w).all():
        buf = _input_grad_rows(g, wm, n, cin, k, out, full, dilation, groups)
    else:
        cols = ws.empty((n, groups, wm.shape[1], math.prod(out)), g.dtype, m)
        m.matmul(wm, g.reshape(n, groups, cout // groups, -1), out=cols)  # (N, G, Cg*K, P)
        return col2im(cols, (n, cin) + size, k, stride, dilation, pads, out)
    crop = tuple(slice(pads[i][0], pads[i][0] + size[i]) for i in range(nd))
    return buf[(slice(None), slice(None)) + crop]


def _input_grad_rows(g, wm, n, cin, k, out, full, d, groups):
    """Stride-1 col2im on wide rows. Each image of the result is a flat run of F = prod(full)
    values; g is zero-padded past its first spatial dim to ``full``, so its columns sit at the
    flat positions they reach for kernel offset 0, and kernel offset j shifts them all by one
    constant. Every offset is then one add of a contiguous (N, Cin, P) block; the padding
    columns add zeros, some of them into the next image's first values."""
    m = np
    nd = len(k)
    wide = (out[0],) + full[1:]
    cout = g.shape[1]
    gw = ws.zeros((n, cout) + wide, g.dtype)
    gw[(slice(None), slice(None)) + tuple(slice(0, e) for e in out)] = g
    p = math.prod(wide)
    cols = ws.empty((n, groups, wm.shape[1], p), g.dtype)
    m.matmul(wm, gw.reshape(n, groups, cout // groups, p), out=cols)
    cols = cols.reshape((n, cin, math.prod(k), p))
    fstr = [math.prod(full[i + 1:]) for i in range(nd)]
    offs = [sum(kidx[i] * d[i] * fstr[i] for i in range(nd)) for kidx in np.ndindex(*k)]
    f = math.prod(full)
    slack = max(0, offs[-1] + p - f)  # the last image's padding columns run past its end
    flat = ws.empty((n * cin * f + slack,), g.dtype)
    isz = flat.itemsize
    rows = flat[:n * cin * f].reshape(n, cin, f)
    rows[:, :, :p] = cols[:, :, 0]
    rows[:, :, p:] = 0
    flat[n * cin * f:] = 0
    for j in range(1, len(offs)):
        dst = m.lib.stride_tricks.as_strided(flat[offs[j]:], (n, cin, p),
                                             (cin * f * isz, f * isz, isz))
        dst += cols[:, :, j]
    return rows.reshape((n, cin) + full)
