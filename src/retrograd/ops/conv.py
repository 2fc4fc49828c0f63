"""Convolutions: ``conv1d/2d/3d``, ``conv_transpose1d/2d/3d``, ``unfold`` and ``fold``.

Three primitives share one trilinear form ``T(x, w, g) = <g, conv(x, w)>``:

* ``Conv(x, w, b)``          = conv(x, w) + b                     (the forward)
* ``ConvInputGrad(g, w)``    = dT/dx, a transposed convolution     (col2im of w^T g)
* ``ConvWeightGrad(x, g)``   = dT/dw, a convolution of x by g      (g @ im2col(x)^T)

so each one's derivative is another of the three, and every order of derivative works.
The array kernels (``_im2col``) are im2col through a strided view and one batched BLAS
matmul; col2im loops over the kernel offsets (a few), never over pixels, on "wide rows" when
all strides are 1. Columns, accumulators and outputs come from the workspace cache
(``_workspace``), so a training step reuses the previous step's memory.
"""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from ..backend import xp
from . import _workspace as ws
from ._core import Primitive
from ._im2col import _input_grad, _out_size, col2im, im2col
from .reduction import sum as _sum
from .shape import reshape, squeeze, unsqueeze

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "fold", "unfold"]


# ---------------------------------------------------------------------- helpers

def _ntuple(v, n: int, name: str = "") -> tuple:
    if isinstance(v, (list, tuple)):
        if len(v) == 1:
            return tuple(int(v[0]) for _ in range(n))
        if len(v) != n:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of "
                               f"{n} values to match the convolution dimensions, but got "
                               f"{name}={list(v)}")
        return tuple(int(e) for e in v)
    return (int(v),) * n


# ---------------------------------------------------------------------- primitives

class Conv(Primitive):
    """conv(x, w) + b.  d/dx = conv_transpose(grad, w), d/dw = conv(x, grad),
    d/db = grad summed over batch and space."""

    __slots__ = ("cols", "dilation", "groups", "out", "pads", "stride")
    _name = "ConvolutionBackward0"
    formula = "conv_transpose(grad, w), conv(x, grad) (weight grad), grad.sum(0, 2, ...)"

    def forward(ctx, x, w, b=None, stride=(), pads=(), dilation=(), groups=1, out=None):
        ctx.stride, ctx.pads, ctx.dilation, ctx.groups = stride, pads, dilation, groups
        ctx.out = out
        ctx.save(x, w)
        out = _conv(ctx, x, w, stride, pads, dilation, groups, out)
        if b is not None:
            out += b.reshape((1, -1) + (1,) * (out.ndim - 2))
        return out

    def backward(ctx, grad):
        x, w = ctx.saved
        nx, nw, nb = ctx.needs_input_grad
        # The forward's columns serve one backward; a second one (retain_graph) redoes them,
        # so that they go back to the workspace cache as soon as the graph is used.
        cols, ctx.cols = ctx.cols, None
        if _is_complex(x) or _is_complex(w):
            x, w, cols = _conj(x), _conj(w), None  # columns of conj(x) are made anew
        kw = dict(stride=ctx.stride, pads=ctx.pads, dilation=ctx.dilation, groups=ctx.groups)
        gw = ConvWeightGrad.generic(x, grad, ksize=tuple(w.shape[2:]), cols=cols,
                                    **kw) if nw else None
        del cols  # free for the input gradient's columns to reuse
        gx = ConvInputGrad.generic(grad, w, size=tuple(x.shape[2:]), **kw) if nx else None
        gb = _bias_grad(grad) if nb else None
        return gx, gw, gb

    def jvp(ctx, tx, tw, tb):
        x, w = ctx.saved
        kw = dict(stride=ctx.stride, pads=ctx.pads, dilation=ctx.dilation, groups=ctx.groups,
                  out=ctx.out)
        return _add_terms(Conv.generic(tx, w, tb, **kw) if tx is not None else None,
                          Conv.generic(x, tw, None, **kw) if tw is not None else None)


def _conv(ctx, x, w, stride, pads, dilation, groups, out=None):
    k = w.shape[2:]
    cols, out = im2col(x, k, stride, dilation, pads, groups, out)
    ctx.cols = cols
    g = groups
    wm = w.reshape(g, w.shape[0] // g, -1)
    m = xp(x)
    res = ws.empty((x.shape[0], g, w.shape[0] // g, cols.shape[3]), cols.dtype, m)
    m.matmul(wm, cols, out=res)  # (N, G, Cog, P)
    return res.reshape((x.shape[0], w.shape[0]) + out)


def _bias_grad(grad):
    """grad summed over batch and space. On arrays: the batch first (whole contiguous rows),
    then each channel's run, 2-3x faster than one reduction over the axes (0, 2, ...)."""
    if type(grad) is np.ndarray and grad.ndim > 2 and grad.flags.c_contiguous:
        return grad.sum(0).reshape(grad.shape[1], -1).sum(1)
    return _sum(grad, (0, *range(2, grad.ndim)))


def _is_complex(v) -> bool:
    return getattr(v, "_data", v).dtype.kind == "c"


def _conj(v):
    return v.conj() if _is_complex(v) else v


def _conj_pair(a, b):
    """The saved operands of a bilinear primitive, conjugated when complex: each gradient
    is the adjoint map with the other operand conjugated (docs/derivatives.md)."""
    if _is_complex(a) or _is_complex(b):
        return _conj(a), _conj(b)
    return a, b


def _add_terms(a, b):
    """Sum of the jvp terms that exist (a constant operand has no tangent)."""
    if a is None:
        return b
    return a if b is None else a + b


def _bilinear_jvp(ctx, ta, tb, size_arg: str):
    """The jvp of ConvInputGrad or ConvWeightGrad, each linear in both its inputs a and b:
    op(ta, b) + op(a, tb) at ctx's geometry (``size_arg`` names its size argument)."""
    a, b = ctx.saved
    op = type(ctx)
    kw = dict(stride=ctx.stride, pads=ctx.pads, dilation=ctx.dilation, groups=ctx.groups)
    kw[size_arg] = getattr(ctx, size_arg)
    return _add_terms(op.generic(ta, b, **kw) if ta is not None else None,
                      op.generic(a, tb, **kw) if tb is not None else None)


class ConvInputGrad(Primitive):
    """dT/dx = col2im(w^T g): the transposed convolution of g by w.
    d/dg = conv(grad, w), d/dw = conv_weight(grad, g)."""

    __slots__ = ("dilation", "groups", "pads", "size", "stride")
    _name = "ConvolutionBackwardBackward0"
    formula = "conv(grad, w), conv_weight(grad, g)"

    def forward(ctx, g, w, size=(), stride=(), pads=(), dilation=(), groups=1):
        ctx.size, ctx.stride, ctx.pads, ctx.dilation, ctx.groups = \
            size, stride, pads, dilation, groups
        ctx.save(g, w)
        return _input_grad(g, w, tuple(size), stride, pads, dilation, groups)

    def backward(ctx, grad):
        g, w = _conj_pair(*ctx.saved)
        ng, nw = ctx.needs_input_grad
        kw = dict(stride=ctx.stride, pads=ctx.pads, dilation=ctx.dilation, groups=ctx.groups)
        gg = Conv.generic(grad, w, None, out=tuple(g.shape[2:]), **kw) if ng else None
        gw = ConvWeightGrad.generic(grad, g, ksize=tuple(w.shape[2:]), **kw) if nw else None
        return gg, gw

    def jvp(ctx, tg, tw):
        return _bilinear_jvp(ctx, tg, tw, "size")


class ConvWeightGrad(Primitive):
    """dT/dw = sum over batch of g @ im2col(x)^T.
    d/dx = conv_transpose(g, grad), d/dg = conv(x, grad)."""

    __slots__ = ("dilation", "groups", "ksize", "pads", "stride")
    _name = "ConvolutionBackwardBackward0"
    formula = "conv_transpose(g, grad), conv(x, grad)"

    def forward(ctx, x, g, ksize=(), stride=(), pads=(), dilation=(), groups=1, cols=None):
        ctx.ksize, ctx.stride, ctx.pads, ctx.dilation, ctx.groups = \
            ksize, stride, pads, dilation, groups
        ctx.save(x, g)
        if cols is None or cols.dtype != x.dtype:
            cols, _ = im2col(x, ksize, stride, dilation, pads, groups, tuple(g.shape[2:]))
        n, cout = g.shape[:2]
        m = xp(x)
        gm = g.reshape(n, groups, cout // groups, math.prod(g.shape[2:]))
        per = ws.empty((n, groups, cout // groups, cols.shape[2]), cols.dtype, m)
        m.matmul(gm, cols.transpose(0, 1, 3, 2), out=per)  # one (Cog, Cg*K) block a sample
        return per.sum(0).reshape((cout, x.shape[1] // groups) + tuple(ksize))

    def backward(ctx, grad):
        x, g = _conj_pair(*ctx.saved)
        nx, ng = ctx.needs_input_grad
        kw = dict(stride=ctx.stride, pads=ctx.pads, dilation=ctx.dilation, groups=ctx.groups)
        gx = ConvInputGrad.generic(g, grad, size=tuple(x.shape[2:]), **kw) if nx else None
        gg = Conv.generic(x, grad, None, out=tuple(g.shape[2:]), **kw) if ng else None
        return gx, gg

    def jvp(ctx, tx, tg):
        return _bilinear_jvp(ctx, tx, tg, "ksize")


class Im2Col(Primitive):
    """unfold: sliding blocks as columns.  d/dx = fold(grad)."""

    __slots__ = ("args", "size")
    formula = "fold(grad)"

    def forward(ctx, x, k=(), stride=(), pads=(), dilation=()):
        ctx.args = (k, stride, pads, dilation)
        ctx.size = x.shape[2:]
        cols, _ = im2col(x, k, stride, dilation, pads)
        return cols.reshape(x.shape[0], cols.shape[2], cols.shape[3])

    def backward(ctx, grad):
        k, s, p, d = ctx.args
        return Col2Im.generic(grad, size=tuple(ctx.size), k=k, stride=s, pads=p, dilation=d)

    def jvp(ctx, tx):
        k, s, p, d = ctx.args
        return Im2Col.generic(tx, k=k, stride=s, pads=p, dilation=d)


class Col2Im(Primitive):
    """fold: sum sliding-block columns into an image.  d/dcols = unfold(grad)."""

    __slots__ = ("args", "size")
    formula = "unfold(grad)"

    def forward(ctx, cols, size=(), k=(), stride=(), pads=(), dilation=()):
        ctx.args = (k, stride, pads, dilation)
        ctx.size = size
        kk = 1
        for e in k:
            kk *= e
        n, ck, _ = cols.shape
        out = tuple(_out_size(size[i], k[i], stride[i], dilation[i], *pads[i])
                    for i in range(len(k)))
        return col2im(cols, (n, ck // kk) + tuple(size), k, stride, dilation, pads, out)

    def backward(ctx, grad):
        k, s, p, d = ctx.args
        return Im2Col.generic(grad, k=k, stride=s, pads=p, dilation=d)

    def jvp(ctx, tc):
        k, s, p, d = ctx.args
        return Col2Im.generic(tc, size=ctx.size, k=k, stride=s, pads=p, dilation=d)


# ---------------------------------------------------------------------- public functions

def _batched(input, nd: int, name: str, transposed: bool = False):
    dim = input.dim()
    if dim == nd + 1:
        return unsqueeze(input, 0), True
    if dim != nd + 2:
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"{name}, but got input of size: {list(input.shape)}")
    return input, False


def _check_dtypes(input, weight, bias) -> None:
    if input.dtype != weight.dtype:
        raise RuntimeError(f"expected scalar type {_tname(input)} but found {_tname(weight)}")
    if bias is not None and bias.dtype != input.dtype:
        raise RuntimeError(f"expected scalar type {_tname(input)} but found {_tname(bias)}")


def _tname(t) -> str:
    return {"float32": "Float", "float64": "Double", "float16": "Half",
            "bfloat16": "BFloat16"}.get(str(t.dtype).split(".")[-1], str(t.dtype))


def _sizes_str(sizes) -> str:
    return " x ".join(str(s) for s in sizes)


def _convnd(nd, input, weight, bias, stride, padding, dilation, groups):
    name = f"conv{nd}d"
    x, unbatched = _batched(input, nd, name)
    s = _ntuple(stride, nd, "stride")
    d = _ntuple(dilation, nd, "dilation")
    k = tuple(weight.shape[2:])
    if weight.dim() != nd + 2:
        raise RuntimeError(f"weight should have at least three dimensions; expected "
                           f"{nd + 2}-dimensional weight for {nd + 2}-dimensional input "
                           f"{list(x.shape)}, but got {weight.dim()}-dimensional weight of "
                           f"size {list(weight.shape)} instead")
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * nd
        elif padding == "same":
            if any(e != 1 for e in s):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            tot = [d[i] * (k[i] - 1) for i in range(nd)]
            pads = tuple((t // 2, t - t // 2) for t in tot)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        pads = tuple((p, p) for p in _ntuple(padding, nd, "padding"))
    if any(p < 0 for pad in pads for p in pad):
        raise RuntimeError("negative padding is not supported")
    if any(e <= 0 for e in s):
        raise RuntimeError("non-positive stride is not supported")
    c = x.shape[1]
    cout = weight.shape[0]
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if weight.shape[1] * groups != c:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, "
                           f"expected input{list(x.shape)} to have {weight.shape[1] * groups} "
                           f"channels, but got {c} channels instead")
    if cout % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size "
                           f"{list(weight.shape)} instead")
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != cout):
        raise RuntimeError(f"Given weight of size {list(weight.shape)}, expected bias to be "
                           f"1-dimensional with {cout} elements, but got bias of size "
                           f"{list(bias.shape)} instead")
    padded = [x.shape[2 + i] + pads[i][0] + pads[i][1] for i in range(nd)]
    eff = [d[i] * (k[i] - 1) + 1 for i in range(nd)]
    if any(padded[i] < eff[i] for i in range(nd)):
        raise RuntimeError(f"Calculated padded input size per channel: ({_sizes_str(padded)})."
                           f" Kernel size: ({_sizes_str(eff)}). Kernel size can't be greater "
                           "than actual input size")
    _check_dtypes(x, weight, bias)
    out = Conv.generic(x, weight, bias, stride=s, pads=pads, dilation=d, groups=groups)
    return squeeze(out, 0) if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d convolution (cross-correlation) of (N, C, L) by weight (Cout, C/groups, k).
    ``padding`` may be an int, a tuple, 'valid' or 'same'."""
    return _convnd(1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution of (N, C, H, W) by weight (Cout, C/groups, kh, kw).

    >>> import retrograd as torch
    >>> torch.conv2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 2, 2)).shape
    torch.Size([1, 1, 2, 2])
    """
    return _convnd(2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-d convolution of (N, C, D, H, W) by weight (Cout, C/groups, kd, kh, kw)."""
    return _convnd(3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transposend(nd, input, weight, bias, stride, padding, output_padding, groups,
                      dilation):
    name = f"conv_transpose{nd}d"
    x, unbatched = _batched(input, nd, name)
    s = _ntuple(stride, nd, "stride")
    d = _ntuple(dilation, nd, "dilation")
    p = _ntuple(padding, nd, "padding")
    op = _ntuple(output_padding, nd, "output_padding")
    k = tuple(weight.shape[2:])
    c = x.shape[1]
    if weight.dim() != nd + 2 or weight.shape[0] != c or c % groups:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                           f"input{list(x.shape)} to have {weight.shape[0]} channels, but got "
                           f"{c} channels instead")
    if any(op[i] >= s[i] and op[i] >= d[i] for i in range(nd)):
        raise RuntimeError("output padding must be smaller than either stride or dilation, "
                           f"but got output_padding={list(op)} stride={list(s)} "
                           f"dilation={list(d)}")
    cout = weight.shape[1] * groups
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != cout):
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                           f"bias to be 1-dimensional with {cout} elements, but got bias of "
                           f"size {list(bias.shape)} instead")
    size = tuple((x.shape[2 + i] - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + op[i] + 1
                 for i in range(nd))
    if any(e <= 0 for e in size):
        raise RuntimeError(f"Given input size per channel: ({_sizes_str(x.shape[2:])}). "
                           f"Calculated output size per channel: ({_sizes_str(size)}). "
                           "Output size is too small")
    _check_dtypes(x, weight, bias)
    out = ConvInputGrad.generic(x, weight, size=size, stride=s, pads=tuple((e, e) for e in p),
                                dilation=d, groups=groups)
    if bias is not None:
        out = out + reshape(bias, (1, -1) + (1,) * nd)
    return squeeze(out, 0) if unbatched else out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """1-d transposed convolution; weight is (Cin, Cout/groups, k)."""
    return _conv_transposend(1, input, weight, bias, stride, padding, output_padding, groups,
                             dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """2-d transposed convolution ("deconvolution"); weight is (Cin, Cout/groups, kh, kw)."""
    return _conv_transposend(2, input, weight, bias, stride, padding, output_padding, groups,
                             dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """3-d transposed convolution; weight is (Cin, Cout/groups, kd, kh, kw)."""
    return _conv_transposend(3, input, weight, bias, stride, padding, output_padding, groups,
                             dilation)


def _fold_args(kernel_size, dilation, padding, stride):
    k = _ntuple(kernel_size, 2, "kernel_size")
    d = _ntuple(dilation, 2, "dilation")
    p = _ntuple(padding, 2, "padding")
    s = _ntuple(stride, 2, "stride")
    return k, d, tuple((e, e) for e in p), s


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sliding local blocks of a (N, C, H, W) batch as columns (N, C*kh*kw, L)."""
    x, unbatched = _batched(input, 2, "unfold")
    k, d, p, s = _fold_args(kernel_size, dilation, padding, stride)
    out = [_out_size(x.shape[2 + i], k[i], s[i], d[i], *p[i]) for i in range(2)]
    if any(e < 1 for e in out):
        raise RuntimeError(f"Given input with spatial size {tuple(x.shape[2:])}, "
                           f"kernel_size={k}, dilation={d}, padding={tuple(e for e, _ in p)}, "
                           f"calculated shape of the array of sliding blocks as {tuple(out)}, "
                           "but its components must be at least one.")
    res = Im2Col.generic(x, k=k, stride=s, pads=p, dilation=d)
    return squeeze(res, 0) if unbatched else res


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sum columns (N, C*kh*kw, L) of sliding blocks into a (N, C, H, W) batch."""
    unbatched = input.dim() == 2
    if input.dim() not in (2, 3):
        raise RuntimeError(f"Expected 2D or 3D (batch mode) tensor for input with possibly 0 "
                           f"batch size and non-zero dimensions for input, but got: "
                           f"{list(input.shape)}")
    x = unsqueeze(input, 0) if unbatched else input
    size = _ntuple(output_size, 2, "output_size")
    k, d, p, s = _fold_args(kernel_size, dilation, padding, stride)
    kk = k[0] * k[1]
    if x.shape[1] % kk:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the "
                           f"product of kernel_size, but got input.size(1)={x.shape[1]} and "
                           f"kernel_size={k}")
    blocks = [_out_size(size[i], k[i], s[i], d[i], *p[i]) for i in range(2)]
    if blocks[0] * blocks[1] != x.shape[2]:
        raise RuntimeError(f"Given output_size={size}, kernel_size={k}, dilation={d}, "
                           f"padding={tuple(e for e, _ in p)}, stride={s}, expected size of "
                           f"input's dimension 2 to match the calculated number of sliding "
                           f"blocks {blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, but "
                           f"got input.size(2)={x.shape[2]}.")
    res = Col2Im.generic(x, size=size, k=k, stride=s, pads=p, dilation=d)
    return squeeze(res, 0) if unbatched else res
