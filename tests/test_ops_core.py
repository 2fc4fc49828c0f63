"""Table-driven tests of the core ops (issue: Tensor and the autograd engine)."""

from __future__ import annotations

import numpy as np
from optable import (
    OpCase,
)

BCAST = [((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1), (1, 5)), ((), (3,)), ((2, 1, 3), ())]
UNARY = [((2, 3),), ((),), ((4,),), ((2, 3, 2),)]


def _sig(x):
    return 1 / (1 + np.exp(-x))


CASES = [
    OpCase("add", lambda L, a, b: a + b, np.add, BCAST),
    OpCase("add_alpha", lambda L, a, b: L.add(a, b, alpha=2.5), lambda a, b: a + 2.5 * b, BCAST),
    OpCase("sub", lambda L, a, b: a - b, np.subtract, BCAST),
    OpCase("rsub_scalar", lambda L, a: 3 - a, lambda a: 3 - a, UNARY),
    OpCase("mul", lambda L, a, b: a * b, np.multiply, BCAST),
    OpCase("mul_scalar", lambda L, a: a * 3, lambda a: a * 3, UNARY),
    OpCase("div", lambda L, a, b: a / b, np.divide, BCAST, domain=(0.5, 2.0)),
    OpCase("rdiv_scalar", lambda L, a: 2 / a, lambda a: 2 / a, UNARY, domain=(0.5, 2)),
    OpCase("neg", lambda L, a: -a, np.negative, UNARY),
    OpCase("pow_scalar", lambda L, a: a ** 3, lambda a: a ** 3, UNARY),
    OpCase("pow_frac", lambda L, a: a ** 2.5, lambda a: a ** 2.5, UNARY, domain=(0.5, 2)),
    OpCase("pow_tensor", lambda L, a, b: a ** b, np.power, BCAST, domain=(0.5, 2)),
    OpCase("rpow", lambda L, a: 2 ** a, lambda a: 2 ** a, UNARY),
    OpCase("matmul_mm", lambda L, a, b: a @ b, np.matmul, [((3, 4), (4, 2))]),
    OpCase("matmul_mv", lambda L, a, b: a @ b, np.matmul, [((3, 4), (4,))]),
    OpCase("matmul_vm", lambda L, a, b: a @ b, np.matmul, [((4,), (4, 2))]),
    OpCase("matmul_dot", lambda L, a, b: a @ b, np.matmul, [((4,), (4,))]),
    OpCase("matmul_batch", lambda L, a, b: a @ b, np.matmul,
           [((2, 3, 4), (4, 2)), ((2, 1, 3, 4), (3, 4, 2)), ((4,), (2, 4, 3))]),
    OpCase("mm", lambda L, a, b: L.mm(a, b), np.matmul, [((3, 4), (4, 2))]),
    OpCase("abs", lambda L, a: a.abs(), np.abs, UNARY),
    OpCase("exp", lambda L, a: a.exp(), np.exp, UNARY),
    OpCase("log", lambda L, a: a.log(), np.log, UNARY, domain=(0.5, 3)),
    OpCase("sqrt", lambda L, a: a.sqrt(), np.sqrt, UNARY, domain=(0.5, 3)),
    OpCase("sin", lambda L, a: a.sin(), np.sin, UNARY),
    OpCase("cos", lambda L, a: L.cos(a), np.cos, UNARY),
    OpCase("tanh", lambda L, a: a.tanh(), np.tanh, UNARY),
    OpCase("sigmoid", lambda L, a: a.sigmoid(), _sig, UNARY, domain=(-5, 5)),
    OpCase("relu", lambda L, a: a.relu(), lambda a: np.maximum(a, 0), UNARY),
    OpCase("clamp", lambda L, a: a.clamp(-0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7), UNARY),
    OpCase("clamp_min", lambda L, a: L.clamp(a, min=0.1), lambda a: np.maximum(a, 0.1), UNARY),
    OpCase("sum", lambda L, a: a.sum(), np.sum, UNARY),
    OpCase("sum_dim", lambda L, a: a.sum(-1), lambda a: a.sum(-1), [((2, 3),), ((4,),)]),
    OpCase("sum_keepdim", lambda L, a: a.sum((0, 1), keepdim=True),
           lambda a: a.sum((0, 1), keepdims=True), [((2, 3, 2),)]),
    OpCase("mean", lambda L, a: a.mean(), np.mean, UNARY),
    OpCase("mean_dim", lambda L, a: a.mean(0), lambda a: a.mean(0), [((2, 3),)]),
    OpCase("max_all", lambda L, a: a.max(), np.max, UNARY),
    OpCase("min_all", lambda L, a: a.min(), np.min, UNARY),
    OpCase("max_dim", lambda L, a: a.max(1), lambda a: (a.max(1), a.argmax(1)), [((3, 4),)]),
    OpCase("min_dim_keep", lambda L, a: a.min(0, keepdim=True),
           lambda a: (a.min(0, keepdims=True), a.argmin(0)[None]), [((3, 4),)]),
    OpCase("norm", lambda L, a: a.norm(), np.linalg.norm, [((2, 3),), ((5,),)]),
    OpCase("norm_dim", lambda L, a: a.norm(dim=1), lambda a: np.linalg.norm(a, axis=1),
           [((2, 3),)]),
    OpCase("view", lambda L, a: a.view(3, 2), lambda a: a.reshape(3, 2), [((2, 3),)]),
    OpCase("reshape", lambda L, a: a.reshape(-1), lambda a: a.reshape(-1), [((2, 3),)]),
    OpCase("t", lambda L, a: a.t(), np.transpose, [((2, 3),)]),
    OpCase("T", lambda L, a: a.T, np.transpose, [((2, 3),)]),
    OpCase("transpose", lambda L, a: a.transpose(0, 2), lambda a: a.swapaxes(0, 2),
           [((2, 3, 4),)]),
    OpCase("permute", lambda L, a: a.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1),
           [((2, 3, 4),)]),
    OpCase("expand", lambda L, a: a.expand(3, 2, 4), lambda a: np.broadcast_to(a, (3, 2, 4)),
           [((2, 1),)]),
    OpCase("squeeze", lambda L, a: a.squeeze(), np.squeeze, [((2, 1, 3),)]),
    OpCase("unsqueeze", lambda L, a: a.unsqueeze(1), lambda a: a[:, None], [((2, 3),)]),
    OpCase("flatten", lambda L, a: a.flatten(1), lambda a: a.reshape(2, -1), [((2, 3, 4),)]),
    OpCase("index_int", lambda L, a: a[1], lambda a: a[1], [((3, 4),)]),
    OpCase("index_slice", lambda L, a: a[::2, 1:], lambda a: a[::2, 1:], [((3, 4),)]),
    OpCase("index_list", lambda L, a: a[[0, 2, 0]], lambda a: a[[0, 2, 0]], [((3, 4),)]),
    OpCase("index_none_ellipsis", lambda L, a: a[None, ..., 1], lambda a: a[None, ..., 1],
           [((3, 4),)]),
    OpCase("index_mask", lambda L, a: a[a > 0], lambda a: a[a > 0], [((3, 4),)]),
    OpCase("where", lambda L, a, b: L.where(a > 0, a, b), lambda a, b: np.where(a > 0, a, b),
           [((3, 4), (3, 4)), ((3, 4), (4,))]),
    OpCase("to_copy", lambda L, a: a.to("cpu", copy=True), lambda a: a, [((3,),)]),
    OpCase("fill_tensor", lambda L, a, v: (a * 1).fill_(v), lambda a, v: np.full_like(a, v),
           [((2, 3), ())]),
    OpCase("to_double", lambda L, a: a.to(L.float64).double() * 2, lambda a: a * 2,
           [((3,),)], atol=1e-6),
]

