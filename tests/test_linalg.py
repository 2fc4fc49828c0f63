"""Linear algebra (issue: the full differentiable op library): one table row per op, checked
against NumPy, finite differences (first and second order), PyTorch and forward mode; misuse
raises PyTorch's errors. Decompositions are tested through sign-invariant functions (the
sign of an eigen/singular vector is arbitrary) and on symmetrized or SPD inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from optable import (
    OpCase,
)

import retrograd


def _well(rng, shapes):
    """Well-conditioned square matrices (diagonally dominated) and any other operands."""
    out = []
    for s in shapes:
        a = rng.uniform(-1, 1, size=s)
        if len(s) >= 2 and s[-1] == s[-2]:
            a = a + 3 * np.eye(s[-1])
        out.append(a)
    return out


def _spd(L, a):
    """A symmetric positive-definite matrix built from any square ``a``."""
    n = a.shape[-1]
    return a @ a.mT + n * L.eye(n, dtype=a.dtype)


def _np_spd(a):
    return a @ np.swapaxes(a, -1, -2) + a.shape[-1] * np.eye(a.shape[-1])


def _col_fixed(v):
    """Each column times its first entry: invariant to the column's sign."""
    return v * v[..., :1, :]


def _eigh(L, a):
    w, v = L.linalg.eigh(a + a.mT)
    return w, _col_fixed(v)


def _np_eigh(a):
    w, v = np.linalg.eigh(a + np.swapaxes(a, -1, -2))
    return w, _col_fixed(v)


def _svd(L, a):
    u, s, vh = L.linalg.svd(a, full_matrices=False)
    return _col_fixed(u), s, vh * vh[..., :, :1]


def _np_svd(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return _col_fixed(u), s, vh * vh[..., :, :1]


def _qr(L, a, mode="reduced"):
    q, r = L.linalg.qr(a, mode)
    d = r.diagonal(0, -2, -1)
    return q * d[..., None, :], r * d[..., :, None]


def _np_qr(a, mode="reduced"):
    q, r = np.linalg.qr(a, mode)
    d = np.diagonal(r, 0, -2, -1)
    return q * d[..., None, :], r * d[..., :, None]


def _np_cross(a, b, axis=-1):
    return np.cross(a, b, axis=axis)


MM = [((3, 4), (4, 2))]
SQ = [((3, 3),), ((2, 2, 2),)]

CASES = [
    OpCase("bmm", lambda L, a, b: L.bmm(a, b), np.matmul, [((2, 3, 4), (2, 4, 2))]),
    OpCase("mv", lambda L, a, b: L.mv(a, b), np.matmul, [((3, 4), (4,))]),
    OpCase("dot", lambda L, a, b: L.dot(a, b), np.dot, [((4,), (4,))]),
    OpCase("vdot", lambda L, a, b: a.vdot(b), np.vdot, [((3,), (3,))]),
    OpCase("outer", lambda L, a, b: L.outer(a, b), np.outer, [((3,), (4,))]),
    OpCase("ger", lambda L, a, b: a.ger(b), np.outer, [((2,), (3,))]),
    OpCase("inner", lambda L, a, b: L.inner(a, b), np.inner,
           [((2, 3), (4, 3)), ((), (3,)), ((3,), (3,))]),
    OpCase("addmm", lambda L, c, a, b: L.addmm(c, a, b, beta=0.5, alpha=2),
           lambda c, a, b: 0.5 * c + 2 * a @ b, [((3, 2), (3, 4), (4, 2)), ((2,), (3, 4), (4, 2))]),
    OpCase("addmm_beta0", lambda L, c, a, b: c.addmm(a, b, beta=0),
           lambda c, a, b: a @ b, [((3, 2), (3, 4), (4, 2))]),
    OpCase("addmv", lambda L, c, a, b: L.addmv(c, a, b, alpha=3), lambda c, a, b: c + 3 * a @ b,
           [((3,), (3, 4), (4,))]),
    OpCase("addbmm", lambda L, c, a, b: L.addbmm(c, a, b),
           lambda c, a, b: c + (a @ b).sum(0), [((3, 2), (2, 3, 4), (2, 4, 2))]),
    OpCase("baddbmm", lambda L, c, a, b: L.baddbmm(c, a, b, beta=2, alpha=0.5),
           lambda c, a, b: 2 * c + 0.5 * a @ b, [((2, 3, 2), (2, 3, 4), (2, 4, 2))]),
    OpCase("einsum_mm", lambda L, a, b: L.einsum("ij,jk->ik", a, b),
           lambda a, b: np.einsum("ij,jk->ik", a, b), MM),
    OpCase("einsum_implicit", lambda L, a, b: L.einsum("bij,bjk", a, b),
           lambda a, b: np.einsum("bij,bjk", a, b), [((2, 3, 4), (2, 4, 2))]),
    OpCase("einsum_diag", lambda L, a: L.einsum("ii->i", a), lambda a: np.einsum("ii->i", a),
           [((3, 3),)]),
    OpCase("einsum_trace", lambda L, a: L.einsum("ii", a), lambda a: np.einsum("ii", a),
           [((3, 3),)]),
    OpCase("einsum_rowsum", lambda L, a: L.einsum("ij->i", a), lambda a: a.sum(1), [((2, 3),)]),
    OpCase("einsum_ellipsis", lambda L, a, b: L.einsum("...ij,...jk->...ki", a, b),
           lambda a, b: np.einsum("...ij,...jk->...ki", a, b), [((2, 3, 4), (2, 4, 2))]),
    OpCase("einsum_three", lambda L, a, b, c: L.einsum("i,ij,j->", a, b, c),
           lambda a, b, c: np.einsum("i,ij,j->", a, b, c), [((3,), (3, 4), (4,))]),
    OpCase("einsum_repeat_mixed", lambda L, a, b: L.einsum("iij,jk->ik", a, b),
           lambda a, b: np.einsum("iij,jk->ik", a, b), [((2, 2, 3), (3, 2))]),
    OpCase("tensordot", lambda L, a, b: L.tensordot(a, b, 2),
           lambda a, b: np.tensordot(a, b, 2), [((2, 3, 4), (3, 4, 2))]),
    OpCase("tensordot_pairs", lambda L, a, b: L.tensordot(a, b, ([0, 2], [1, 0])),
           lambda a, b: np.tensordot(a, b, ([0, 2], [1, 0])), [((2, 3, 4), (4, 2, 3))]),
    OpCase("kron", lambda L, a, b: L.kron(a, b), np.kron, [((2, 3), (2, 2)), ((3,), (2,)),
                                                          ((2, 2), (3,))]),
    OpCase("trace", lambda L, a: L.trace(a), np.trace, [((3, 3),), ((3, 4),)]),
    OpCase("diag_vec", lambda L, a: L.diag(a, 1), lambda a: np.diag(a, 1), [((3,),)]),
    OpCase("diag_mat", lambda L, a: a.diag(-1), lambda a: np.diag(a, -1), [((3, 4),)]),
    OpCase("diagonal", lambda L, a: L.diagonal(a, 1, 0, 2),
           lambda a: np.diagonal(a, 1, 0, 2), [((3, 2, 4),)]),
    OpCase("diagonal_neg", lambda L, a: a.diagonal(-1, -1, -2),
           lambda a: np.diagonal(a, -1, -1, -2), [((2, 3, 3),)]),
    OpCase("diag_embed", lambda L, a: L.diag_embed(a, -1, 0, 2), None, [((2, 3),)]),
    OpCase("diag_embed_default", lambda L, a: a.diag_embed(),
           lambda a: a[..., None] * np.eye(a.shape[-1]), [((2, 3),)]),
    OpCase("tril", lambda L, a: L.tril(a, 1), lambda a: np.tril(a, 1), [((3, 4),), ((2, 3, 3),)]),
    OpCase("triu", lambda L, a: a.triu(-1), lambda a: np.triu(a, -1), [((3, 4),), ((2, 3, 3),)]),
    OpCase("cross", lambda L, a, b: L.cross(a, b, dim=1), lambda a, b: _np_cross(a, b, 1),
           [((4, 3), (4, 3)), ((2, 3, 2), (2, 3, 2))]),
    OpCase("linalg_cross_bcast", lambda L, a, b: L.linalg.cross(a, b),
           _np_cross, [((1, 3), (2, 3))]),
    OpCase("det", lambda L, a: L.linalg.det(a), np.linalg.det, SQ + [((1, 1),)], make=_well),
    OpCase("det_method", lambda L, a: a.det(), np.linalg.det, [((3, 3),)]),
    OpCase("slogdet", lambda L, a: L.linalg.slogdet(a), lambda a: np.linalg.slogdet(a), SQ),
    OpCase("logdet", lambda L, a: L.logdet(_spd(L, a)), lambda a: np.linalg.slogdet(
        _np_spd(a))[1], [((3, 3),)]),
    OpCase("inv", lambda L, a: L.linalg.inv(a), np.linalg.inv, SQ, make=_well),
    OpCase("inverse", lambda L, a: a.inverse(), np.linalg.inv, [((3, 3),)], make=_well),
    OpCase("solve", lambda L, a, b: L.linalg.solve(a, b), np.linalg.solve,
           [((3, 3), (3, 2)), ((2, 3, 3), (2, 3, 1))], make=_well),
    OpCase("solve_vector", lambda L, a, b: L.linalg.solve(a, b),
           lambda a, b: np.linalg.solve(a, b[..., None])[..., 0],
           [((3, 3), (3,)), ((2, 3, 3), (2, 3))], make=_well),
    OpCase("solve_bcast", lambda L, a, b: L.linalg.solve(a, b),
           lambda a, b: np.linalg.solve(a, b), [((3, 3), (2, 3, 2))], make=_well),
    OpCase("solve_right", lambda L, a, b: L.linalg.solve(a, b, left=False),
           lambda a, b: np.linalg.solve(a.T, b.T).T, [((3, 3), (2, 3))], make=_well),
    OpCase("cholesky", lambda L, a: L.linalg.cholesky(_spd(L, a)),
           lambda a: np.linalg.cholesky(_np_spd(a)), SQ),
    OpCase("cholesky_upper", lambda L, a: L.cholesky(_spd(L, a), upper=True),
           lambda a: np.linalg.cholesky(_np_spd(a)).T, [((3, 3),)]),
    OpCase("qr", lambda L, a: _qr(L, a), _np_qr, [((3, 3),), ((4, 3),), ((2, 3, 2),)]),
    OpCase("qr_complete_square", lambda L, a: _qr(L, a, "complete"),
           lambda a: _np_qr(a, "complete"), [((3, 3),)]),
    OpCase("eigh", _eigh, _np_eigh, [((3, 3),), ((2, 2, 2),)]),
    OpCase("eigvalsh", lambda L, a: L.linalg.eigvalsh(a + a.mT),
           lambda a: np.linalg.eigvalsh(a + a.T), [((3, 3),)]),
    OpCase("svd", _svd, _np_svd, [((3, 3),), ((4, 2),), ((2, 3),), ((2, 3, 2),)]),
    OpCase("svdvals", lambda L, a: L.linalg.svdvals(a),
           lambda a: np.linalg.svd(a, compute_uv=False), [((3, 2),)]),
    OpCase("svd_legacy", lambda L, a: (L.svd(a)[1], L.svd(a)[2] * L.svd(a)[2][:1]),
           lambda a: (np.linalg.svd(a)[1], np.linalg.svd(a)[2].T * np.linalg.svd(a)[2].T[:1]),
           [((3, 3),)]),
    OpCase("pinv", lambda L, a: L.linalg.pinv(a), np.linalg.pinv, [((4, 3),), ((2, 3),)]),
    OpCase("matrix_power", lambda L, a: L.linalg.matrix_power(a, 3),
           lambda a: np.linalg.matrix_power(a, 3), [((3, 3),)]),
    OpCase("matrix_power_neg", lambda L, a: a.matrix_power(-2),
           lambda a: np.linalg.matrix_power(a, -2), [((3, 3),)], make=_well),
    OpCase("matrix_power_zero", lambda L, a: L.linalg.matrix_power(a, 0),
           lambda a: np.eye(3), [((3, 3),)]),
    OpCase("lstsq", lambda L, a, b: L.linalg.lstsq(a, b).solution,
           lambda a, b: np.linalg.lstsq(a, b, rcond=None)[0], [((4, 3), (4, 2))]),
    OpCase("linalg_norm_vec", lambda L, a: L.linalg.norm(a), np.linalg.norm, [((5,),), ((2, 3),)]),
    OpCase("linalg_norm_ord", lambda L, a: L.linalg.norm(a, 3, -1),
           lambda a: np.linalg.norm(a, 3, -1), [((2, 4),)]),
    OpCase("vector_norm", lambda L, a: L.linalg.vector_norm(a, 1, (0, 2), keepdim=True),
           lambda a: np.abs(a).sum((0, 2), keepdims=True), [((2, 3, 4),)]),
    *[OpCase(f"matrix_norm_{o}", lambda L, a, o=o: L.linalg.matrix_norm(a, o),
             lambda a, o=o: np.linalg.norm(a, o, (-2, -1)), [((3, 4),), ((2, 3, 2),)])
      for o in ("fro", "nuc", 2, -2, 1, -1, float("inf"), -float("inf"))],
    OpCase("matrix_norm_dims", lambda L, a: L.linalg.norm(a, "nuc", (2, 0), keepdim=True),
           lambda a: np.linalg.norm(a, "nuc", (2, 0), keepdims=True), [((3, 2, 4),)]),
]



# ----------------------------------------------------------------------------- misc

def test_linalg_module_names():
    for name in ("det", "slogdet", "inv", "solve", "cholesky", "qr", "eigh", "svd", "svdvals",
                 "pinv", "matrix_power", "lstsq", "cross", "norm", "vector_norm",
                 "matrix_norm", "eigvalsh", "matmul", "diagonal", "LinAlgError"):
        assert hasattr(retrograd.linalg, name), name
    assert issubclass(retrograd.linalg.LinAlgError, RuntimeError)


def test_grad_fn_names_follow_pytorch():
    a = retrograd.tensor(np.eye(3) * 2 + 0.1, requires_grad=True)
    names = {
        "LinalgDetBackward0": retrograd.linalg.det(a),
        "LinalgInvExBackward0": retrograd.linalg.inv(a),
        "LinalgSolveExBackward0": retrograd.linalg.solve(a, a),
        "LinalgEighBackward0": retrograd.linalg.eigh(a)[0],
        "LinalgSvdBackward0": retrograd.linalg.svd(a)[1],
        "LinalgQrBackward0": retrograd.linalg.qr(a)[0],
        "LinalgCholeskyExBackward0": retrograd.linalg.cholesky(a),
        "DiagonalBackward0": a.diagonal(),
    }
    for name, t in names.items():
        assert t.grad_fn.name() == name


def test_svd_full_matrices_gradient_matches_pytorch():
    arr = np.random.default_rng(0).standard_normal((4, 3))
    grads = []
    for lib in (retrograd, torch):
        a = lib.tensor(arr, requires_grad=True)
        u, s, _ = lib.linalg.svd(a)
        assert tuple(u.shape) == (4, 4)
        (g,) = lib.autograd.grad(s.sum() + (_col_fixed(u[:, :3])).sum(), a)
        grads.append(g.detach().numpy())
    np.testing.assert_allclose(grads[0], grads[1], atol=1e-10)


def test_lstsq_result_fields():
    a = retrograd.tensor(np.random.default_rng(0).standard_normal((4, 2)))
    b = retrograd.tensor(np.random.default_rng(1).standard_normal((4, 3)))
    r = retrograd.linalg.lstsq(a, b)
    assert tuple(r.solution.shape) == (2, 3) and r.rank.item() == 2
    assert r.residuals.numel() == 0


# --------------------------------------------------------------------------- misuse

def test_non_square_raises_naming_shapes():
    a = retrograd.ones(2, 3)
    for fn, name in ((retrograd.linalg.det, "linalg.det"), (retrograd.linalg.inv, "linalg.inv"),
                     (retrograd.linalg.slogdet, "linalg.slogdet"),
                     (retrograd.linalg.cholesky, "linalg.cholesky")):
        with pytest.raises(RuntimeError, match=f"{name}: A must be batches of square matrices, "
                                               "but they are 2 by 3 matrices"):
            fn(a)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        retrograd.linalg.det(retrograd.ones(3))


def test_singular_inverse_matches_pytorch_message():
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    with pytest.raises(torch.linalg.LinAlgError) as theirs:
        torch.linalg.inv(torch.tensor(a))
    with pytest.raises(retrograd.linalg.LinAlgError) as mine:
        retrograd.linalg.inv(retrograd.tensor(a))
    assert str(mine.value) == str(theirs.value)
    with pytest.raises(RuntimeError, match=r"\(Batch element 0\): The diagonal element 1 is zero"):
        retrograd.linalg.inv(retrograd.zeros(2, 3, 3))


def test_singular_solve_and_not_positive_definite():
    with pytest.raises(RuntimeError, match=r"torch\.linalg\.solve: The solver failed because the "
                                           r"input matrix is singular\."):
        retrograd.linalg.solve(retrograd.zeros(3, 3), retrograd.ones(3))
    with pytest.raises(RuntimeError, match="the leading minor of order 2 is not "
                                           "positive-definite"):
        retrograd.linalg.cholesky(retrograd.tensor([[1.0, 2.0], [2.0, 1.0]]))


@pytest.mark.parametrize(("call", "match"), [
    (lambda L: L.mm(L.ones(2, 2), L.ones(3, 3)), r"mat1 and mat2 shapes cannot be multiplied"),
    (lambda L: L.dot(L.ones(2), L.ones(3)), "inconsistent tensor size"),
    (lambda L: L.bmm(L.ones(2, 2, 3), L.ones(2, 2, 3)), "Expected size for first two dimensions"),
    (lambda L: L.linalg.cross(L.ones(2, 2), L.ones(2, 2)), "must have length 3"),
    (lambda L: L.linalg.inv(L.ones(2, 2, dtype=L.long)), "Expected a floating point"),
    (lambda L: L.tensordot(L.ones(2, 3), L.ones(2, 3), 1), "contracted dimensions need to match"),
])
def test_shape_errors_match_pytorch(call, match):
    with pytest.raises(RuntimeError, match=match):
        call(retrograd)
    with pytest.raises(RuntimeError, match=match):
        call(torch)


def test_bad_dims_raise_index_error():
    with pytest.raises(IndexError, match="Dimension out of range"):
        retrograd.ones(2, 3).diagonal(0, 0, 2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        retrograd.linalg.matrix_norm(retrograd.ones(2, 3), dim=(0, 3))


def test_det_gradient_at_a_singular_matrix_is_the_cofactor_matrix():
    # rank 2: the cofactor matrix is nonzero; finite differences agree (PyTorch 2.13 gives 0)
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    x = retrograd.tensor(a, requires_grad=True)
    (g,) = retrograd.autograd.grad(retrograd.linalg.det(x), x)
    np.testing.assert_allclose(g.numpy(), [[4, 4, -4], [-2, -2, 2], [0, 0, 0]], atol=1e-9)
    assert retrograd.autograd.gradcheck(retrograd.linalg.det, (x,))


def test_inplace_triangles_and_result_names_match_pytorch():
    arr = np.random.default_rng(0).standard_normal((3, 3))
    grads = []
    for lib in (retrograd, torch):
        x = lib.tensor(arr, requires_grad=True)
        y = x * 2
        y.tril_(-1)
        y.triu_(-1)
        (g,) = lib.autograd.grad((y * y).sum(), x)
        grads.append(g.detach().numpy())
    np.testing.assert_allclose(grads[0], grads[1])
    eye = [[2.0, 0.0], [0.0, 3.0]]
    assert repr(retrograd.linalg.slogdet(retrograd.tensor(eye))) == \
        repr(torch.linalg.slogdet(torch.tensor(eye)))
    assert type(retrograd.linalg.eigh(retrograd.tensor(eye))).__name__ == "linalg_eigh"
